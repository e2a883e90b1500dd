"""A stage's environment as the plan states it: ordered, typed entries.

Every target gives a stage the same variables (SPEC.md section 2): the built-ins, one per param,
one per matrix axis, the spec's `env` (top level < defaults < stage), the secrets, and the
gate's data. Each value is a sequence of pieces: literal text, a param or matrix reference
(resolved by the engine at run time), a secret reference, or a value only the engine knows.
A renderer encodes the pieces for its engine; none assembles an environment of its own.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal, Union

from compiler.spec.values import Ref, interpolation_parts

if TYPE_CHECKING:  # pragma: no cover
    from compiler.plan import GateCheck, PlanParam

Origin = Literal["builtin", "param", "matrix", "spec", "secret", "gate"]

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

    @property
    def text(self) -> str | None:
        """The value when it is literal text only, else None."""
        if all(isinstance(p, str) for p in self.pieces):
            return "".join(self.pieces)  # type: ignore[arg-type]
        return None


def gates_json(check: GateCheck) -> str:
    """The conditions as data: a JSON list of [metric, op, number-as-written]."""
    return json.dumps([[g.metric, g.op, g.number] for g in check.conditions], sort_keys=True,
                      separators=(",", ":"), ensure_ascii=True)


def stage_env(pipeline: str, stage: str, environment: str | None, git_sha: str | None,
              params: Iterable[PlanParam], matrix: Iterable[tuple[str, object]],
              env: Mapping[str, str], secrets: Iterable[str],
              gate: GateCheck | None) -> tuple[EnvVar, ...]:
    """The stage's variables in their one order: built-ins (by name), params (by name), matrix
    axes (as written), the spec's env (by name), secrets (by name), the gate's data. Names are
    unique: a secret named like an env variable replaces it (lint keeps the built-ins apart)."""
    builtins: list[tuple[str, str]] = [("MLOPS_PIPELINE", pipeline), ("MLOPS_STAGE", stage)]
    if git_sha:
        builtins.append(("MLOPS_GIT_SHA", git_sha))
    if environment:
        builtins.append(("MLOPS_ENVIRONMENT", environment))
    secret_names = set(secrets)
    result = [EnvVar(name, "builtin", (value,)) for name, value in sorted(builtins)]
    result += [EnvVar(p.var, "param", (Ref("params", p.name),)) for p in params]
    result += [EnvVar(Ref("matrix", axis).var, "matrix", (Ref("matrix", axis),))
               for axis, _ in matrix]
    result += [EnvVar(name, "spec", interpolation_parts(value))
               for name, value in sorted(env.items()) if name not in secret_names]
    result += [EnvVar(name, "secret", (Secret(name),)) for name in sorted(secret_names)]
    if gate is not None:
        result += [EnvVar(GATES_VAR, "gate", (gates_json(gate),)),
                   EnvVar(METRICS_VAR, "gate", (gate.metrics,))]
    return tuple(result)
