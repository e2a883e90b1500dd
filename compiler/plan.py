"""Phase 5, lower: a validated spec and its graph to one frozen `Plan` per environment.

Renderers see only plans: defaults resolved, overlays merged, names converted, references turned
into environment variables, stages in stable topological order. A plan holds no spec objects
except the (frozen) target settings.
"""

from __future__ import annotations

import functools
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from compiler import __version__
from compiler.graph import StageGraph, dns_name
from compiler.spec import params as param_rules
from compiler.spec.models import AirflowTarget, GithubTarget, KubernetesTarget, Spec
from compiler.spec.values import (
    Gate,
    Part,
    Ref,
    cron_fields,
    duration_seconds,
    interpolation_parts,
    parse_gate,
    shell_text,
)
from compiler.validate import Validated

Scalar = bool | int | float | str


@dataclass(frozen=True)
class PlanParam:
    name: str
    var: str                      # MLOPS_PARAM_<NAME>
    default: Scalar
    default_text: str             # the default as the environment sees it
    schema: Mapping[str, Any]     # JSON Schema: type always set; enum, minimum, ... when given


@dataclass(frozen=True)
class Autoscale:
    min: int
    max: int
    cpu_percent: int


@dataclass(frozen=True)
class PlanServe:
    image: str | None
    port: int
    replicas: int
    health: str
    autoscale: Autoscale | None


@dataclass(frozen=True)
class PlanStage:
    name: str
    dns: str                                  # `_` -> `-`, for DNS-1123 names
    type: str
    run: str | None                           # shell text; references read ${MLOPS_PARAM_X}
    image: str | None
    needs: tuple[str, ...]                    # direct upstream stages, topological order
    inputs: tuple[str, ...]
    outputs: tuple[str, ...]
    metrics: str | None
    gates: tuple[Gate, ...]
    env: tuple[tuple[str, tuple[Part, ...]], ...]  # sorted by name; values as literal/Ref parts
    secrets: tuple[str, ...]                  # sorted
    cpu: str | None
    memory: str | None
    gpu: int
    retries: int
    retry_delay: int | None                   # seconds
    timeout: int | None                       # seconds
    schedule: str | None                      # five numeric cron fields
    matrix: tuple[tuple[str, tuple[Scalar, ...]], ...]  # axes as written
    serve: PlanServe | None

    @property
    def scheduled(self) -> bool:
        return self.schedule is not None


@dataclass(frozen=True)
class Push:
    branches: tuple[str, ...]
    tags: tuple[str, ...]
    paths: tuple[str, ...]


@dataclass(frozen=True)
class Plan:
    pipeline: str
    dns: str
    description: str
    owner: str
    environment: str | None                   # None when the spec has no environments
    approval: bool
    params: tuple[PlanParam, ...]
    stages: tuple[PlanStage, ...]             # every stage, topological order
    schedule: str | None
    push: Push | None
    manual: bool
    github: GithubTarget | None
    airflow: AirflowTarget | None
    kubernetes: KubernetesTarget | None
    spec_path: str                            # as given to the compiler, '/'-separated
    spec_sha256: str
    git_sha: str | None                       # only with `build --ref`
    tool_version: str = __version__

    # Cached: renderers ask once per stage, so recomputing would be quadratic at 10k stages.
    # (cached_property writes the instance __dict__ directly, which a frozen dataclass allows.)
    @functools.cached_property
    def pipeline_stages(self) -> tuple[PlanStage, ...]:
        """Stages of the pipeline DAG (not scheduled on their own)."""
        return tuple(s for s in self.stages if not s.scheduled)

    @functools.cached_property
    def scheduled_stages(self) -> tuple[PlanStage, ...]:
        return tuple(s for s in self.stages if s.scheduled)

    @functools.cached_property
    def _by_name(self) -> dict[str, PlanStage]:
        return {s.name: s for s in self.stages}

    def stage(self, name: str) -> PlanStage:
        try:
            return self._by_name[name]
        except KeyError:
            raise StopIteration from None  # as next() over the stages raised before

    def builtin_env(self, stage: PlanStage) -> tuple[tuple[str, str], ...]:
        """Variables every stage sees (SPEC.md section 2), sorted by name."""
        env = [("MLOPS_PIPELINE", self.pipeline), ("MLOPS_STAGE", stage.name)]
        if self.git_sha:
            env.append(("MLOPS_GIT_SHA", self.git_sha))
        if self.environment:
            env.append(("MLOPS_ENVIRONMENT", self.environment))
        return tuple(sorted(env))

    @property
    def suffix(self) -> str:
        """`-<env>` in file names when the spec has environments."""
        return f"-{self.environment}" if self.environment else ""


def lower(validated: Validated, graph: StageGraph, *, spec_path: str, spec_sha256: str,
          git_sha: str | None = None) -> tuple[Plan, ...]:
    """One plan per environment (or a single plan when there are none), environments by name."""
    base = validated.spec
    if not validated.environments:
        return (_plan(base, graph, None, False, spec_path, spec_sha256, git_sha),)
    return tuple(
        _plan(env_spec, graph, name, base.environments[name].approval, spec_path, spec_sha256,
              git_sha)
        for name, env_spec in sorted(validated.environments.items()))


def _plan(spec: Spec, graph: StageGraph, environment: str | None, approval: bool,
          spec_path: str, spec_sha256: str, git_sha: str | None) -> Plan:
    targets = spec.targets
    all_targets = targets is None
    return Plan(
        pipeline=spec.name,
        dns=dns_name(spec.name),
        description=spec.description,
        owner=spec.owner,
        environment=environment,
        approval=approval,
        params=tuple(_param(name, p) for name, p in sorted(spec.params.items())),
        stages=tuple(_stage(spec, name, graph) for name in graph.order),
        schedule=cron_fields(spec.triggers.schedule) if spec.triggers.schedule else None,
        push=Push(tuple(spec.triggers.push.branches), tuple(spec.triggers.push.tags),
                  tuple(spec.triggers.push.paths)) if spec.triggers.push else None,
        manual=spec.triggers.manual,
        github=GithubTarget() if all_targets else targets.github,  # type: ignore[union-attr]
        airflow=AirflowTarget() if all_targets else targets.airflow,  # type: ignore[union-attr]
        kubernetes=KubernetesTarget() if all_targets else targets.kubernetes,  # type: ignore[union-attr]
        spec_path=spec_path,
        spec_sha256=spec_sha256,
        git_sha=git_sha,
    )


def _param(name: str, param: Any) -> PlanParam:
    default = param_rules.default_of(param)
    return PlanParam(name, Ref("params", name).var, default, param_rules.env_text(default),
                     param_rules.json_schema(param))


def _stage(spec: Spec, name: str, graph: StageGraph) -> PlanStage:
    stage, defaults = spec.stages[name], spec.defaults
    env = {**spec.env, **defaults.env, **stage.env}
    resources: dict[str, Any] = {}
    for layer in (defaults.resources, stage.resources):
        if layer is not None:
            resources.update({k: v for k, v in layer.model_dump().items() if v is not None})
    retry_delay = stage.retry_delay or defaults.retry_delay
    timeout = stage.timeout or defaults.timeout
    serve = stage.serve
    return PlanStage(
        name=name,
        dns=dns_name(name),
        type=stage.type,
        run=shell_text(interpolation_parts(stage.run)) if stage.run is not None else None,
        image=stage.image or defaults.image,
        needs=graph.upstream(name),
        inputs=tuple(stage.inputs),
        outputs=tuple(stage.outputs),
        metrics=stage.metrics,
        gates=tuple(parse_gate(g) for g in stage.gate),
        env=tuple((k, interpolation_parts(v)) for k, v in sorted(env.items())),
        secrets=tuple(sorted({*spec.secrets, *defaults.secrets, *stage.secrets})),
        cpu=resources.get("cpu"),
        memory=resources.get("memory"),
        gpu=resources.get("gpu") or 0,
        retries=stage.retries if stage.retries is not None else (defaults.retries or 0),
        retry_delay=duration_seconds(retry_delay) if retry_delay else None,
        timeout=duration_seconds(timeout) if timeout else None,
        schedule=cron_fields(stage.schedule) if stage.schedule else None,
        matrix=tuple((axis, tuple(values)) for axis, values in stage.matrix.items()),
        serve=PlanServe(
            image=serve.image or stage.image or defaults.image,
            port=serve.port, replicas=serve.replicas, health=serve.health,
            autoscale=Autoscale(serve.autoscale.min, serve.autoscale.max,
                                serve.autoscale.cpu_percent) if serve.autoscale else None,
        ) if serve else None,
    )
