"""Phase 5, lower: a validated spec and its graph to one frozen `Plan` per environment.

Renderers see only plans. What a stage means is computed here, once, for every target: its
defaults resolved (`compiler.resolve`), its environment as ordered typed entries, its matrix
combinations with stable keys, its gate, its retry and timeout policy, its pod resources and
the derived names; a renderer only encodes these for its engine.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Mapping
from dataclasses import dataclass, replace
from typing import Any

from compiler import __version__
from compiler.envvars import EnvVar, stage_env
from compiler.graph import StageGraph, dns_name
from compiler.matrix import Combination, combinations
from compiler.pods import DEFAULT_CPU, DEFAULT_MEMORY, PodResources, PodSettings
from compiler.resolve import ResolvedStage, resolve_defaults, resolve_stage
from compiler.spec import params as param_rules
from compiler.spec.models import Spec, Tracking
from compiler.spec.values import (
    Gate,
    Ref,
    cron_fields,
    duration_seconds,
    interpolation_parts,
    parse_gate,
    shell_text,
)
from compiler.targets import TARGETS, built
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
class GateCheck:
    """The conditions checked right after a stage's command, on its metrics file."""

    metrics: str
    conditions: tuple[Gate, ...]


# An attempt past its timeout gets this long before the stage runner kills it (`timeout -k`).
KILL_GRACE_SECONDS = 10


@dataclass(frozen=True)
class Policy:
    """How often a stage's command is tried and how long each attempt may take."""

    retries: int                  # attempts after the first
    retry_delay: int | None       # seconds between attempts (None: the engine's default)
    timeout: int | None           # seconds, for each attempt

    def longest_seconds(self, attempts: int) -> int | None:
        """The longest `attempts` attempts can take under the stage runner: each up to its
        timeout plus the runner's kill grace, and the delays between them; None without a
        timeout. What an engine's deadline must allow when it is only a backstop."""
        if self.timeout is None:
            return None
        return attempts * (self.timeout + KILL_GRACE_SECONDS) \
            + (attempts - 1) * (self.retry_delay or 0)


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
    gate: GateCheck | None                    # None: no gate (or no metrics file to check)
    env: tuple[EnvVar, ...]                   # everything the command sees, in a fixed order
    secrets: tuple[str, ...]                  # every secret it reads (tracking too), sorted
    resources: PodResources                   # pod defaults applied
    policy: Policy
    schedule: str | None                      # five numeric cron fields
    matrix: tuple[tuple[str, tuple[Scalar, ...]], ...]  # axes as written
    combinations: tuple[Combination, ...]     # one per matrix combination; () without a matrix
    serve: PlanServe | None
    cache: bool                               # the engine may skip it when nothing changed
    metrics: str | None = None                # the metrics file, gated or not

    @property
    def scheduled(self) -> bool:
        return self.schedule is not None


@dataclass(frozen=True)
class StageDefaults:
    """What a stage that sets none of its own fields gets (`defaults` and top-level values):
    targets that write shared values once take them from here, never from statistics over the
    stages, so a one-stage edit changes only that stage's lines."""

    image: str | None
    secrets: tuple[str, ...]
    resources: PodResources
    policy: Policy
    env: tuple[EnvVar, ...]                   # without the entries naming the stage itself


@dataclass(frozen=True)
class CompilerPin:
    """Where the repository pins this compiler: its `.pre-commit-config.yaml` entry for our
    hooks (`repo` URL and `rev`). The generated check workflow installs exactly that."""

    repo: str
    rev: str

    @property
    def is_commit(self) -> bool:
        """A full commit SHA: the only kind of pin that cannot move under the workflow
        (a tag or branch can be moved to other code after review)."""
        return re.fullmatch(r"[0-9a-f]{40}", self.rev) is not None


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
    defaults: StageDefaults
    schedule: str | None
    push: Push | None
    manual: bool
    tracking: Tracking
    targets: Mapping[str, Any]                # built targets: name -> settings, registry order
    pod: PodSettings                          # for every target that runs pods
    spec_path: str                            # as given to the compiler, '/'-separated
    spec_sha256: str
    # The spec's directory relative to the repository root ('' at the root, or outside a
    # repository): paths in files an engine runs from the repository root start here.
    spec_dir: str
    git_sha: str | None                       # only with `build --ref`
    compiler_pin: CompilerPin | None = None   # None: the repository pins no revision
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
        return self._by_name[name]

    def settings(self, target: str) -> Any:
        """The settings of a built target."""
        return self.targets[target]

    @property
    def suffix(self) -> str:
        """`-<env>` in file names when the spec has environments."""
        return f"-{self.environment}" if self.environment else ""


def lower(validated: Validated, graph: StageGraph, *, spec_path: str, spec_sha256: str,
          git_sha: str | None = None, spec_dir: str = "",
          compiler_pin: CompilerPin | None = None) -> tuple[Plan, ...]:
    """One plan per environment (or a single plan when there are none), environments by name."""
    base = validated.spec
    where = _Where(spec_path, spec_sha256, spec_dir, git_sha, compiler_pin)
    if not validated.environments:
        return (_plan(base, graph, None, False, where),)
    return tuple(_plan(env_spec, graph, name, base.environments[name].approval, where)
                 for name, env_spec in sorted(validated.environments.items()))


def place(plans: tuple[Plan, ...], *, spec_path: str, spec_sha256: str, spec_dir: str = "",
          compiler_pin: CompilerPin | None = None) -> tuple[Plan, ...]:
    """The same plans for a build at another place: what `lower` would give with these
    arguments (and no commit), without lowering every stage again. Only the plan's own fields
    (`_Where`) depend on them; stages depend only on the commit, which lint never has."""
    assert all(p.git_sha is None for p in plans), "plans with a commit are lowered for it"
    return tuple(replace(p, spec_path=spec_path, spec_sha256=spec_sha256, spec_dir=spec_dir,
                         compiler_pin=compiler_pin) for p in plans)


@dataclass(frozen=True)
class _Where:
    """What the plan knows of the build rather than of the spec."""

    spec_path: str
    spec_sha256: str
    spec_dir: str
    git_sha: str | None
    compiler_pin: CompilerPin | None


def _plan(spec: Spec, graph: StageGraph, environment: str | None, approval: bool,
          where: _Where) -> Plan:
    git_sha = where.git_sha
    params = tuple(_param(name, p) for name, p in sorted(spec.params.items()))
    targets = built(spec.targets)
    triggers = spec.triggers
    return Plan(
        pipeline=spec.name,
        dns=dns_name(spec.name),
        description=spec.description,
        owner=spec.owner,
        environment=environment,
        approval=approval,
        params=params,
        stages=tuple(_stage(spec, name, graph, params, environment, git_sha)
                     for name in graph.order),
        defaults=_defaults(spec, params, environment, git_sha),
        schedule=cron_fields(triggers.schedule) if triggers.schedule else None,
        push=Push(tuple(triggers.push.branches), tuple(triggers.push.tags),
                  tuple(triggers.push.paths)) if triggers.push else None,
        manual=triggers.manual,
        tracking=spec.tracking,
        targets=targets,
        pod=_pod_settings(targets, dns_name(spec.name)),
        spec_path=where.spec_path,
        spec_sha256=where.spec_sha256,
        spec_dir=where.spec_dir,
        git_sha=git_sha,
        compiler_pin=where.compiler_pin,
    )


def _pod_settings(targets: Mapping[str, Any], pipeline: str) -> PodSettings:
    """The cluster settings, from the target that defines them (its block, or its defaults
    when it is not built: pods elsewhere still need a namespace and a secret name)."""
    for name, target in TARGETS.items():
        settings = targets.get(name) or target.settings.model_validate({})
        found = target.pod_settings(settings, pipeline)
        if found is not None:
            return found
    raise AssertionError("no registered target defines pod settings")  # pragma: no cover


def _tracking_secrets(tracking: Tracking) -> tuple[str, ...]:
    names = (tracking.mlflow.token_secret if tracking.mlflow else None,
             tracking.wandb.api_key_secret if tracking.wandb else None)
    return tuple(name for name in names if name is not None)


def _param(name: str, param: Any) -> PlanParam:
    default = param_rules.default_of(param)
    return PlanParam(name, Ref("params", name).var, default, param_rules.env_text(default),
                     param_rules.json_schema(param))


def _defaults(spec: Spec, params: tuple[PlanParam, ...], environment: str | None,
              git_sha: str | None) -> StageDefaults:
    stage = resolve_defaults(spec)
    env = stage_env(spec.name, "", stage.type, environment, git_sha, params, (), spec.tracking,
                    stage.env, stage.secrets, None)
    return StageDefaults(
        image=stage.image,
        secrets=_secrets(stage, spec.tracking),
        resources=_resources(stage.resources),
        policy=_policy(stage),
        env=tuple(v for v in env if v.name not in _PER_STAGE),
    )


# Built-in and tracking variables whose value is the stage's own name or type.
_PER_STAGE = frozenset({"MLOPS_STAGE", "MLOPS_STAGE_TYPE", "WANDB_JOB_TYPE", "WANDB_NAME",
                        "WANDB_TAGS"})


def _secrets(stage: ResolvedStage, tracking: Tracking) -> tuple[str, ...]:
    return tuple(sorted({*stage.secrets, *_tracking_secrets(tracking)}))


def _resources(resources: Mapping[str, Any]) -> PodResources:
    return PodResources(resources.get("cpu") or DEFAULT_CPU,
                        resources.get("memory") or DEFAULT_MEMORY,
                        resources.get("gpu") or 0)


def _policy(stage: ResolvedStage) -> Policy:
    return Policy(stage.retries,
                  duration_seconds(stage.retry_delay) if stage.retry_delay else None,
                  duration_seconds(stage.timeout) if stage.timeout else None)


def _stage(spec: Spec, name: str, graph: StageGraph, params: tuple[PlanParam, ...],
           environment: str | None, git_sha: str | None) -> PlanStage:
    stage = resolve_stage(spec, name)
    gates = tuple(parse_gate(g) for g in stage.gate)
    gate = GateCheck(stage.metrics, gates) if gates and stage.metrics is not None else None
    serve = stage.serve
    matrix = tuple((axis, tuple(values)) for axis, values in stage.matrix.items())
    return PlanStage(
        name=name,
        dns=dns_name(name),
        type=stage.type,
        run=shell_text(interpolation_parts(stage.run)) if stage.run is not None else None,
        image=stage.image,
        needs=graph.upstream(name),
        inputs=stage.inputs,
        outputs=stage.outputs,
        metrics=stage.metrics,
        gate=gate,
        env=stage_env(spec.name, name, stage.type, environment, git_sha, params, matrix,
                      spec.tracking, stage.env, stage.secrets, gate),
        secrets=_secrets(stage, spec.tracking),
        resources=_resources(stage.resources),
        policy=_policy(stage),
        schedule=cron_fields(stage.schedule) if stage.schedule else None,
        matrix=matrix,
        combinations=combinations(name, matrix),
        serve=PlanServe(
            image=serve.image or stage.image,
            port=serve.port, replicas=serve.replicas, health=serve.health,
            autoscale=Autoscale(serve.autoscale.min, serve.autoscale.max,
                                serve.autoscale.cpu_percent) if serve.autoscale else None,
        ) if serve else None,
        cache=stage.cache,
    )
