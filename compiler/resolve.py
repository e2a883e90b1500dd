"""What a stage's fields are once `defaults` and the top-level values are merged in.

The one place that applies SPEC.md's precedence rules ("a stage's own value wins; `env` and
`resources` merge key by key; `secrets` unite"). The planner builds its stages from this, and
the semantic diff compares it, so what `mlops diff` reports is what the engines get.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from compiler.spec.models import Serve, Spec, Stage


@dataclass(frozen=True)
class ResolvedStage:
    """A stage's values as written, defaults applied; no graph, no target, no derived names."""

    name: str
    type: str
    run: str | None
    image: str | None
    needs: tuple[str, ...]                 # as written
    inputs: tuple[str, ...]
    outputs: tuple[str, ...]
    metrics: str | None
    gate: tuple[str, ...]                  # conditions as written
    env: dict[str, str]                    # top level < defaults < stage
    secrets: tuple[str, ...]               # sorted union
    resources: dict[str, Any]              # cpu, memory, gpu: only those set anywhere
    retries: int
    retry_delay: str | None                # durations as written
    timeout: str | None
    schedule: str | None                   # cron as written
    matrix: dict[str, list[Any]]           # axes in written order
    serve: Serve | None
    cache: bool


def resolve_defaults(spec: Spec) -> ResolvedStage:
    """What a stage that sets none of its own fields gets: the spec's `defaults` and top-level
    values. Targets that write shared values once (Airflow's `_task()` defaults) take them
    from here, so a change to one stage changes only that stage's lines."""
    return _resolve(spec, "", Stage.model_construct())


def resolve_stage(spec: Spec, name: str) -> ResolvedStage:
    return _resolve(spec, name, spec.stages[name])


def _resolve(spec: Spec, name: str, stage: Stage) -> ResolvedStage:
    defaults = spec.defaults
    resources: dict[str, Any] = {}
    for layer in (defaults.resources, stage.resources):
        if layer is not None:
            resources.update({k: v for k, v in layer.model_dump().items() if v is not None})
    return ResolvedStage(
        name=name,
        type=stage.type,
        run=stage.run,
        image=stage.image or defaults.image,
        needs=tuple(stage.needs),
        inputs=tuple(stage.inputs),
        outputs=tuple(stage.outputs),
        metrics=stage.metrics,
        gate=tuple(stage.gate),
        env={**spec.env, **defaults.env, **stage.env},
        secrets=tuple(sorted({*spec.secrets, *defaults.secrets, *stage.secrets})),
        resources=resources,
        retries=stage.retries if stage.retries is not None else (defaults.retries or 0),
        retry_delay=stage.retry_delay or defaults.retry_delay,
        timeout=stage.timeout or defaults.timeout,
        schedule=stage.schedule,
        matrix={axis: list(values) for axis, values in stage.matrix.items()},
        serve=stage.serve,
        cache=bool(stage.cache if stage.cache is not None else defaults.cache),
    )
