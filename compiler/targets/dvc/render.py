"""The DVC target: one pipeline directory per plan, `{targets.dvc.path}/<pipeline>[-<env>]/`.

| file | what |
|---|---|
| `dvc.yaml` | every pipeline stage a DVC stage, `wdir` the output root; DVC writes `dvc.lock` beside it |
| `params.yaml` | the params, declared in the `params` of each stage that mentions them (only with params) |
| `run.sh`, `runner.sh` | the launcher every `cmd` calls, and the stage runner (`scripts.py`, `compiler.render.runner`) |
| `stages/<stage>.sh` | a stage's data: its variables, its command, its retry and timeout settings |
| `.gitignore` | ignores `stamps/`, where stages write the files that order a bare `needs` |

How spec strings stay data (SPEC.md section 5): DVC interpolates `${...}` in every string of
`dvc.yaml` and runs `cmd` with the user's `$SHELL`. So `cmd` holds only compiler-made words, the
command and the variables travel as shell words in the stage's file, and params are read from
the params file when the stage runs; only paths from the spec reach `dvc.yaml`, and lint refuses
a path DVC would interpolate (MLP408), since DVC cannot escape one.

Caching (SPEC.md "Caching"): a stage without `cache: true` is `always_changed` and its outputs
are not stored in DVC's cache. A stage with it reruns when its `cmd` (which carries a digest of
its file), a declared input, a param it mentions (`${params.x}` or `MLOPS_PARAM_X` in its `run`
or `env`) or its outputs changed; else `dvc repro` skips it, or restores its outputs from the
cache. Scheduled stages are left out: DVC has no scheduler.
"""

from __future__ import annotations

import hashlib
import posixpath
import re
from dataclasses import dataclass
from typing import Any

from compiler.envvars import Engine, EnvVar, Secret
from compiler.plan import Plan, PlanStage
from compiler.render.encode import Encoded, shell_word, trusted
from compiler.render.params_check import PARAMS_CHECK, SCHEMAS_VAR, needs_check, schemas_json
from compiler.render.runner import RUNNER, control_env
from compiler.render.templating import render as render_template
from compiler.spec.values import Ref
from compiler.targets.base import OutputFile
from compiler.targets.dvc import scripts
from compiler.targets.dvc.names import builds, directory
from compiler.targets.dvc.names import settings as _settings
from compiler.targets.dvc.paths import PathIndex

GIT_SHA_VAR = "MLOPS_GIT_SHA"


@dataclass(frozen=True)
class _Stage:
    name: str
    cmd: str
    deps: tuple[str, ...]
    params: tuple[str, ...]
    outs: tuple[str, ...]
    stamp: bool                   # writes stamps/<name>, which a bare `needs` depends on
    metrics: str | None           # declared as the stage's metrics output
    cache: bool


def _wdir(directory: str) -> str:
    """From the pipeline directory back to the output root."""
    return "/".join([".."] * len(directory.split("/")))


def render(plan: Plan) -> list[OutputFile]:
    if not builds(plan):
        return []
    where = directory(plan)
    stamped = _stamped(plan)
    secrets = frozenset(name for stage in plan.stages for name in stage.secrets)
    stage_files = {stage.name: stage_file(stage, stage.name in stamped, secrets)
                   for stage in plan.pipeline_stages}
    stages = _stages(plan, where, stage_files, stamped)
    files = [
        OutputFile(f"{where}/dvc.yaml", render_template(
            "dvc/dvc.yaml.j2", stages=stages, wdir=_wdir(where),
            params_file=f"{where}/{scripts.PARAMS_FILE}", stamps=f"{where}/{scripts.STAMPS_DIR}",
            metrics=_shown_metrics(plan, stages, _wdir(where)))),
        OutputFile(f"{where}/{scripts.LAUNCHER_FILE}", scripts.LAUNCHER),
        OutputFile(f"{where}/{scripts.RUNNER_FILE}", RUNNER),
        OutputFile(f"{where}/.gitignore", render_template(
            "dvc/gitignore.j2", stamps=scripts.STAMPS_DIR)),
    ]
    if plan.params:
        files.append(OutputFile(f"{where}/{scripts.PARAMS_FILE}", render_template(
            "dvc/params.yaml.j2", params=plan.params)))
    if needs_check(plan.params, checked=()):  # DVC checks nothing of a params file's values
        files.append(OutputFile(f"{where}/{scripts.PARAMS_SCHEMA_FILE}",
                                f"export {SCHEMAS_VAR}={shell_word(schemas_json(plan.params))}\n"))
        files.append(OutputFile(f"{where}/{scripts.PARAMS_CHECK_FILE}", PARAMS_CHECK))
    files += [OutputFile(f"{where}/{scripts.STAGES_DIR}/{name}.sh", text)
              for name, text in stage_files.items()]
    return sorted(files, key=lambda f: f.path)


# ------------------------------------------------------------------------------ dvc.yaml


def _overlaps(a: str, b: str) -> bool:
    """One path is the other or lies inside it (DVC refuses such a pair of outputs)."""
    a, b = a.rstrip("/"), b.rstrip("/")
    return a == b or a.startswith(b + "/") or b.startswith(a + "/")


def _inputs(plan: Plan) -> dict[str, PathIndex]:
    """Each pipeline stage's declared inputs, indexed: a fan-in stage reading the outputs of
    thousands of stages would otherwise be scanned once per stage it needs."""
    return {s.name: PathIndex((s.name, path) for path in s.inputs) for s in plan.pipeline_stages}


def _linked(producer: PlanStage, consumer_inputs: PathIndex) -> bool:
    """A declared input of the consumer is (in) an output of `producer`: DVC sees that edge."""
    return any(next(consumer_inputs.overlapping(out), None) is not None
               for out in producer.outputs)


def _mentioned_params(plan: Plan, stage: PlanStage) -> tuple[str, ...]:
    """The params a stage depends on: those its `run` or `env` mention, as `${params.x}` (the
    plan's references) or as the variable `MLOPS_PARAM_X` itself."""
    texts = [stage.run or ""]
    refs: set[str] = set()
    for var in stage.env:
        if var.origin in ("spec", "tracking"):
            texts += [p for p in var.pieces if isinstance(p, str)]
            refs |= {p.name for p in var.pieces if isinstance(p, Ref) and p.kind == "params"}
    text = "\n".join(texts)
    return tuple(p.name for p in plan.params
                 if p.name in refs or re.search(rf"(?<![A-Za-z0-9_]){p.var}(?![A-Za-z0-9_])", text))


def _stamped(plan: Plan) -> set[str]:
    """Stages that another one needs with no file between them: DVC orders stages by files
    only, so these write a stamp file that the other depends on."""
    inputs = _inputs(plan)
    return {need for stage in plan.pipeline_stages for need in stage.needs
            if not _linked(plan.stage(need), inputs[stage.name])}


def _stages(plan: Plan, where: str, stage_files: dict[str, str], stamped: set[str]
            ) -> list[_Stage]:
    pipeline = plan.pipeline_stages
    outputs = PathIndex((s.name, out) for s in pipeline for out in s.outputs)
    metrics_files = PathIndex((s.name, s.metrics) for s in pipeline if s.metrics is not None)
    inputs = _inputs(plan)
    result = []
    for stage in pipeline:
        digest = _digest(stage_files[stage.name])
        metrics = stage.metrics
        declared = metrics is not None and next(outputs.overlapping(metrics), None) is None \
            and not any(_overlaps(metrics, path) for path in stage.inputs) \
            and all(owner == stage.name for owner, _ in metrics_files.overlapping(metrics))
        result.append(_Stage(
            name=stage.name,
            cmd=f"sh {where}/{scripts.LAUNCHER_FILE} {stage.name} {digest}",
            deps=tuple(dict.fromkeys(
                [p.rstrip("/") for p in stage.inputs] +
                [f"{where}/{scripts.STAMPS_DIR}/{need}" for need in stage.needs
                 if not _linked(plan.stage(need), inputs[stage.name])])),
            params=_mentioned_params(plan, stage),
            outs=tuple(p.rstrip("/") for p in stage.outputs),
            stamp=stage.name in stamped,
            metrics=metrics if declared else None,
            cache=stage.cache,
        ))
    return result


def _digest(stage_file: str) -> str:
    """What DVC compares to know a stage changed (in its `cmd`): the stage's file, but for
    the commit a `build --ref` stamps, so that a new commit alone reruns no cached stage."""
    kept = [line for line in stage_file.splitlines(True)
            if not line.startswith(f"  export {GIT_SHA_VAR}=")]
    return hashlib.sha256("".join(kept).encode()).hexdigest()[:16]


def _shown_metrics(plan: Plan, stages: list[_Stage], wdir: str) -> list[str]:
    """Metrics files that no stage can declare as its output (they lie in a declared output
    or input, or several stages write them): listed at the top of dvc.yaml, relative to it,
    for `dvc metrics show`."""
    declared = {s.name for s in stages if s.metrics is not None}
    return list(dict.fromkeys(f"{wdir}/{s.metrics}" for s in plan.pipeline_stages
                              if s.metrics is not None and s.name not in declared))


# ------------------------------------------------------------------------- stage files


def _shell_value(pieces: tuple[Any, ...]) -> Encoded:
    if not pieces:
        return trusted("''")
    return trusted("".join(str(shell_word(p)) if isinstance(p, str) else f'"${{{p.var}}}"'
                           if isinstance(p, Ref) else f'"${{{p.name}}}"' for p in pieces))


def _exported(var: EnvVar) -> bool:
    """What the stage file sets: params come from the params file and matrix values per
    combination; a secret is the caller's own variable; what only an engine knows is left out."""
    if var.origin in ("param", "matrix") or any(isinstance(p, Engine) for p in var.pieces):
        return False
    return var.pieces != (Secret(var.name),)


def stage_file(stage: PlanStage, stamp: bool, secrets: frozenset[str]) -> str:
    """The stage's data for run.sh. `secrets`: every secret of the spec. DVC hands every
    stage the whole environment it runs in, so a secret that other stages list and this one
    does not is unset, as every other target leaves it out."""
    others = sorted(secrets - set(stage.secrets))
    env = [(var.name, _shell_value(var.pieces)) for var in stage.env if _exported(var)]
    env.append(("MLOPS_RUN", shell_word(stage.run if stage.run is not None else "true")))
    env += [(name, shell_word(value))
            for name, value in control_env(stage, retries=True, timeout=True)]
    combos = [{"key": c.key, "assign": [(var, shell_word(text)) for var, text in c.variables]}
              for c in stage.combinations]
    return render_template("dvc/stage.sh.j2", stage=stage.name, env=env, combinations=combos,
                           stamp=stamp, unset=others,
                           axes=trusted(" ".join(shell_word(var) for var, _ in
                                                 stage.combinations[0].variables))
                           if stage.combinations else None)
