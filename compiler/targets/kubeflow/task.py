"""What a KFP task runs: one fixed wrapper, a stage script of `export` lines, and the run-time
values KFP gives the task as `NAME=value` arguments.

Why not env: the IR's `env` holds constants only, and on a cluster every text in a task's
container spec passes through three interpreters that have no escape:

| who | what it does | where |
|---|---|---|
| KFP (driver, launcher, local runner) | resolves `{{$...}}` placeholders; the local runner also rewrites `/kfp-workspace` | command, args, constant inputs |
| Argo Workflows (Kubeflow's engine) | substitutes `{{...}}`: KFP stores every container spec in the workflow's arguments | everything in the IR |
| the kubelet | expands `$(VAR)` and reduces `$$` to `$` | command, args, env values |

So the spec's text (command, env values, matrix values, gate data, paths to clear) travels as
shell words of the stage script, written so that none of those sequences occur in it:
a word is single-quoted, and `''` (an empty quoted string, which the shell drops) is put between
the two characters of every `{{`, `$(` and `$$` and after the `/` of `/kfp-workspace`. The shell
reads back exactly the text of the spec; no engine finds anything to resolve. The wrapper then
exports the run-time arguments (params, run id, matrix combination, workspace), changes into the
workspace, evaluates the stage script and runs the stage runner (`compiler.render.runner`).

Where the script sits: in the task, as the constant of its `MLOPS_SCRIPT` input, which the
executor passes as `args[0]`. So the wrapper and the runner (about 5 kB) are written once per
shape of stage (`render.py`), not once per stage: KFP's backend stores each distinct executor
once in the Argo Workflow of a run, and every task's own text in it, so both the file and that
Workflow grow by a task's few lines per stage.

Run-time values (a run's param values) are not ours to write: KFP substitutes them into the
arguments, so they pass through its placeholders and the kubelet like any KFP input.
"""

from __future__ import annotations

from compiler.diagnostics import quote

import re
import shlex
from collections.abc import Iterator

from compiler.envvars import Engine, EnvVar, Piece, Secret
from compiler.plan import Plan, PlanStage
from compiler.render.params_check import PARAMS_CHECK, SCHEMAS_VAR, schemas_json
from compiler.render.runner import RUNNER, control_env
from compiler.spec.values import Ref

WORKSPACE_VAR = "MLOPS_WORKSPACE"      # run-time argument: the run's workspace directory
RUN_ID_VAR = "MLOPS_RUN_ID"            # run-time argument: KFP's run id
COMBINATION_VAR = "MLOPS_COMBINATION"  # run-time argument: the matrix combination's index
# Component inputs the compiler adds; upper case, so that no param (lower case) can take them.
WORKSPACE_INPUT = WORKSPACE_VAR
RUN_ID_INPUT = RUN_ID_VAR
COMBINATION_INPUT = COMBINATION_VAR
SCRIPT_INPUT = "MLOPS_SCRIPT"         # constant: the stage script, the executor's first argument
WORKSPACE_PLACEHOLDER = "{{$.workspace_path}}"
RUN_ID_PLACEHOLDER = "{{$.pipeline_job_uuid}}"

# `$1` is the stage script; the other arguments are NAME=value (names made by the compiler).
# No `{{`, no `$$`, and no `$(` but the runner's `$((`, which the kubelet leaves alone (it
# names no variable). `mktemp -d` gives a stage without a workspace a directory of its own.
PROLOGUE = f"""\
mlops_script=$1
shift
for mlops_arg do
  export "${{mlops_arg%%=*}}=${{mlops_arg#*=}}"
done
if [ -n "${{{WORKSPACE_VAR}:-}}" ]; then
  cd "${WORKSPACE_VAR}" || exit 1
else
  cd "`mktemp -d`" || exit 1
fi
unset {WORKSPACE_VAR} mlops_arg
eval "$mlops_script"
unset mlops_script
"""
WRAPPER = PROLOGUE + RUNNER
COMMAND = ("sh", "-c", WRAPPER, "mlops")

# Two characters that an engine reads as the start of its syntax: `{{` (KFP, Argo), `$(` and
# `$$` (the kubelet); `/kfp-workspace` (KFP's workspace path, rewritten by its local runner).
_BREAK = re.compile(r"\{(?=\{)|\$(?=[($])|/(?=kfp-workspace)")


def word(text: str) -> str:
    """One shell word that reads back as `text`, with no sequence an engine would resolve."""
    return _BREAK.sub(lambda m: m.group() + "''", shlex.quote(text))


def _value(pieces: tuple[Piece, ...]) -> str:
    if not pieces:
        return "''"
    parts = []
    for piece in pieces:
        if isinstance(piece, str):
            parts.append(word(piece))
        elif isinstance(piece, Ref):
            parts.append(f'"${{{piece.var}}}"')
        else:  # pragma: no cover - secrets and engine values never mix with text in the plan
            raise AssertionError(f"cannot write {quote(piece)} into a stage script")
    return "".join(parts)


def exported(var: EnvVar) -> bool:
    """Whether the stage script exports this variable (the rest come from elsewhere)."""
    if var.origin in ("param", "matrix"):
        return False                      # run-time arguments, and the combination's case
    return not any(isinstance(p, (Secret, Engine)) for p in var.pieces)


def secret_env(stage: PlanStage) -> Iterator[tuple[str, str]]:
    """(variable, key in the pipeline's Secret) of every secret the stage reads."""
    for var in stage.env:
        if len(var.pieces) == 1 and isinstance(var.pieces[0], Secret):
            yield var.name, var.pieces[0].name


def script(plan: Plan, stage: PlanStage, *, native_retries: bool) -> str:
    """The stage script: the matrix combination's values, the stage's environment, the runner's
    settings and the command, as `export` lines of the stage's text in shell words."""
    lines: list[str] = []
    if stage.combinations:
        lines.append(f'case "${COMBINATION_VAR}" in')
        for combo in stage.combinations:
            exports = " ".join(f"{var}={word(text)}" for var, text in combo.variables)
            lines.append(f"  {combo.index}) export {exports} ;;")
        lines.append(f'  *) echo "mlops: no matrix combination ${COMBINATION_VAR}" >&2; exit 2 ;;')
        lines.append("esac")
    lines += [f"export {var.name}={_value(var.pieces)}" for var in stage.env if exported(var)]
    lines += [f"export {name}={word(value)}" for name, value in
              control_env(stage, retries=not native_retries, timeout=True)]
    lines.append(f"export MLOPS_RUN={word(stage.run if stage.run is not None else 'true')}")
    text = "".join(line + "\n" for line in lines)
    assert _BREAK.search(text) is None, f"stage script of {quote(stage.name)} is not inert"
    return text


def check_script(plan: Plan) -> str:
    """The script of the task that checks a run's params before any stage: the schemas as
    data, and the fixed check (`compiler.render.params_check`) as the runner's command."""
    command = "python3 -c " + shlex.quote(PARAMS_CHECK)
    text = (f"export {SCHEMAS_VAR}={word(schemas_json(plan.params))}\n"
            f"export MLOPS_RUN={word(command)}\n")
    assert _BREAK.search(text) is None, "the params check script is not inert"
    return text


def check_arguments(plan: Plan) -> list[tuple[str, str]]:
    """(variable, component input) of the params check task: the params only."""
    return [(p.var, p.name) for p in plan.params]


def runs_in_workspace(plan: Plan, stage: PlanStage, workspace: bool) -> bool:
    """Stages share the run's workspace, except a cached stage that declares no files: KFP puts
    the workspace's claim (one per run) in the cache key, so a task that mounts it never
    matches another run's, and such a stage needs no files from elsewhere."""
    if not workspace:
        return False
    return not (stage.cache and not stage.inputs and not stage.outputs)


def arguments(plan: Plan, stage: PlanStage, *, workspace: bool) -> list[tuple[str, str]]:
    """(variable, component input) of each run-time argument, in the order passed."""
    found = []
    if workspace:
        found.append((WORKSPACE_VAR, WORKSPACE_INPUT))
    if not stage.cache:  # a run id in a cached task's inputs would make every key unique
        found.append((RUN_ID_VAR, RUN_ID_INPUT))
    if stage.combinations:
        found.append((COMBINATION_VAR, COMBINATION_INPUT))
    found += [(p.var, p.name) for p in plan.params]
    return found


def placeholder(name: str) -> str:
    """The KFP placeholder of a component input (names are the compiler's or a param's)."""
    assert re.fullmatch(r"[A-Za-z][A-Za-z0-9_-]*", name), name
    return f"{{{{$.inputs.parameters['{name}']}}}}"
