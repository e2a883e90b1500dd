"""A stage's environment as the plan states it: ordered, typed entries.

Every target gives a stage the same variables (SPEC.md section 2): the built-ins, one per param,
one per matrix axis, the spec's `env` (top level < defaults < stage), the secrets, and the
gate's data. Each value is a sequence of pieces: literal text, a param or matrix reference
(resolved by the engine at run time), a secret reference, or a value only the engine knows.
A renderer encodes the pieces for its engine; none assembles an environment of its own.
"""

from __future__ import annotations

import functools
import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from functools import lru_cache
from typing import TYPE_CHECKING, Literal, Union

from compiler.spec.values import Ref, interpolation_parts

if TYPE_CHECKING:  # pragma: no cover
    from compiler.plan import GateCheck, PlanParam
    from compiler.spec.models import Tracking

Origin = Literal["builtin", "param", "matrix", "tracking", "spec", "secret", "gate"]

METRICS_VAR = "MLOPS_METRICS"
GATES_VAR = "MLOPS_GATES"


@dataclass(frozen=True)
class Secret:
    """The value of a secret from the engine's secret store (never its text)."""

    name: str


@dataclass(frozen=True)
class Engine:
    """A value only the engine knows when the stage runs (its run id, the commit it checked
    out). Targets whose engine does not know it leave the variable out."""

    what: Literal["git_sha", "run_id"]


# Literal text (str), a `${params.X}` / `${matrix.Y}` reference, a secret, an engine value.
Piece = Union[str, Ref, Secret, Engine]


@dataclass(frozen=True)
class EnvVar:
    name: str
    origin: Origin
    pieces: tuple[Piece, ...]

    @functools.cached_property  # (read for every variable of every stage by each target)
    def text(self) -> str | None:
        """The value when it is literal text only, else None."""
        if all(isinstance(p, str) for p in self.pieces):
            return "".join(self.pieces)  # type: ignore[arg-type]
        return None


def gates_json(check: GateCheck) -> str:
    """The conditions as data: a JSON list of [metric, op, number-as-written]."""
    return json.dumps([[g.metric, g.op, g.number] for g in check.conditions], sort_keys=True,
                      separators=(",", ":"), ensure_ascii=True)


def stage_env(pipeline: str, stage: str, stage_type: str, environment: str | None,
              git_sha: str | None, params: Iterable[PlanParam],
              matrix: Iterable[tuple[str, object]], tracking: Tracking,
              env: Mapping[str, str], secrets: Iterable[str],
              gate: GateCheck | None) -> tuple[EnvVar, ...]:
    """The stage's variables in their one order: built-ins (by name), params (by name), matrix
    axes (as written), tracking, the spec's env (by name), secrets (by name), the gate's data.
    Names are unique: a secret named like an env variable replaces it, and the spec's env
    replaces a tracking variable of the same name (lint keeps the built-ins apart)."""
    secret_names = set(secrets)
    result = sorted((*_pipeline_builtins(pipeline, environment, git_sha),
                     EnvVar("MLOPS_STAGE", "builtin", (stage,))), key=_name)
    result += _param_vars(tuple(p.name for p in params))
    result += [EnvVar(Ref("matrix", axis).var, "matrix", (Ref("matrix", axis),))
               for axis, _ in matrix]
    result += [var for var in tracking_env(tracking, pipeline, stage, stage_type, environment)
               if var.name not in env and var.name not in secret_names]
    result += [_spec_var(name, value) for name, value in sorted(env.items())
               if name not in secret_names]
    result += [_secret_var(name) for name in sorted(secret_names)]
    if gate is not None:
        result += [EnvVar(GATES_VAR, "gate", (gates_json(gate),)),
                   EnvVar(METRICS_VAR, "gate", (gate.metrics,))]
    return tuple(result)


def _name(var: EnvVar) -> str:
    return var.name


# The built-ins and params are the same in every stage of a plan: made once, not per stage.
@lru_cache(maxsize=64)
def _pipeline_builtins(pipeline: str, environment: str | None, git_sha: str | None
                       ) -> tuple[EnvVar, ...]:
    """The built-ins that do not name the stage."""
    found: list[tuple[str, Piece]] = [
        ("MLOPS_PIPELINE", pipeline),
        ("MLOPS_GIT_SHA", git_sha or Engine("git_sha")), ("MLOPS_RUN_ID", Engine("run_id"))]
    if environment:
        found.append(("MLOPS_ENVIRONMENT", environment))
    return tuple(EnvVar(name, "builtin", (value,)) for name, value in found)


# Most stages share their env values and secrets (the spec's top-level `env` and `secrets`):
# each distinct one is parsed and made once, and stages hold the same objects.
@lru_cache(maxsize=65536)
def _spec_var(name: str, value: str) -> EnvVar:
    return EnvVar(name, "spec", interpolation_parts(value))


@lru_cache(maxsize=4096)
def _secret_var(name: str) -> EnvVar:
    return EnvVar(name, "secret", (Secret(name),))


@lru_cache(maxsize=64)
def _param_vars(names: tuple[str, ...]) -> tuple[EnvVar, ...]:
    return tuple(EnvVar(Ref("params", name).var, "param", (Ref("params", name),))
                 for name in names)


def tracking_env(tracking: Tracking, pipeline: str, stage: str, stage_type: str,
                 environment: str | None) -> list[EnvVar]:
    """The standard variables of MLflow and W&B. What only the engine knows (the run id, the
    commit) the stage runner adds at run time from MLOPS_RUN_ID and MLOPS_GIT_SHA
    (`compiler.render.runner`): MLFLOW_RUN_CONTEXT, WANDB_RUN_GROUP, WANDB_GIT_COMMIT."""
    found: list[tuple[str, Piece]] = []
    if tracking.mlflow is not None:
        found.append(("MLFLOW_TRACKING_URI", tracking.mlflow.tracking_uri))
        if tracking.mlflow.experiment is not None:
            found.append(("MLFLOW_EXPERIMENT_NAME", tracking.mlflow.experiment))
        if tracking.mlflow.token_secret is not None:
            found.append(("MLFLOW_TRACKING_TOKEN", Secret(tracking.mlflow.token_secret)))
    if tracking.mlflow is not None or tracking.wandb is not None:
        found.append(("MLOPS_STAGE_TYPE", stage_type))  # read by the runner for run tags
    if tracking.wandb is not None:
        found.append(("WANDB_PROJECT", tracking.wandb.project))
        if tracking.wandb.entity is not None:
            found.append(("WANDB_ENTITY", tracking.wandb.entity))
        if tracking.wandb.api_key_secret is not None:
            found.append(("WANDB_API_KEY", Secret(tracking.wandb.api_key_secret)))
        found.append(("WANDB_JOB_TYPE", stage_type))
        found.append(("WANDB_NAME", stage))
        tags = [f"pipeline:{pipeline}", f"stage:{stage}"]
        if environment:
            tags.append(f"environment:{environment}")
        found.append(("WANDB_TAGS", ",".join(tags)))
    return [EnvVar(name, "tracking", (value,)) for name, value in found]
