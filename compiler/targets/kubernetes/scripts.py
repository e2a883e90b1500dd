"""What a Kubernetes pod runs: one fixed wrapper, the shared stage runner
(`compiler.render.runner`), and per stage a command and an env file, all in a ConfigMap.

Why a ConfigMap (SPEC.md section 5): Kubernetes expands `$(VAR)` in `command`, `args` and `env`
values, and Argo substitutes `{{...}}` anywhere in a workflow. ConfigMap data is neither, so
every spec string (command, env values, matrix values, gate data, paths to clear, param
defaults of a CronJob, tracking settings) goes there, and the manifests that Argo or the kubelet
interpret hold only compiler-made text.

The env file is shell that the wrapper sources: every spec literal in it is one shell word
(`shell_word`), and a `${params.X}` / `${matrix.Y}` reference becomes `"${MLOPS_PARAM_X}"`, read
from the environment at run time. So the file is data, never spec text evaluated as code. The
wrapper then runs the runner with `MLOPS_RUN_FILE` naming the stage's command file: the runner
clears the stage's declared outputs and metrics, gives it a writable `HOME`, adds the tracking
tags (from `MLOPS_RUN_ID` and `MLOPS_GIT_SHA`, set in the manifest) and checks the gate, exiting
`GATE_FAILED` when it fails. Retries and the per-attempt timeout stay with the engine (Argo's
`retryStrategy` and `activeDeadlineSeconds`, the Job's `backoffLimit` and the pod's
`activeDeadlineSeconds`), each told never to retry a failed gate.
"""

from __future__ import annotations


from compiler.envvars import Engine, EnvVar, Piece, Secret
from compiler.plan import Plan, PlanStage
from compiler.render.encode import shell_word
from compiler.render.params_check import PARAMS_CHECK, needs_check, schemas_json
from compiler.render.runner import RUNNER, control_env
from compiler.spec.values import Ref
from compiler.targets.kubernetes.names import part_count, stage_part

RUN_DIR = "/mlops/run"            # the ConfigMap, mounted read-only
WORKSPACE_DIR = "/workspace"      # the working directory of every stage
RUNNER_KEY = "_runner.sh"       # stage keys start with a letter: no stage has this key
# The commit under `build --ref`, read by every pod as MLOPS_GIT_SHA (`pod.py`). No stage
# key can be this one: those end in `.sh` or `.env`.
GIT_SHA_KEY = "commit"
GIT_SHA_VAR = "MLOPS_GIT_SHA"
RUN_ID_VAR = "MLOPS_RUN_ID"
STAGE_VAR = "MLOPS_STAGE"      # the wrapper reads the stage's files by it
COMBINATION_VAR = "MLOPS_COMBINATION"  # not MLOPS_MATRIX_*: an axis may be called anything
# The params check (`compiler.render.params_check`): the fixed script and the schemas it reads
# as `MLOPS_PARAMS`. Like the runner's, these keys start with `_`, which no stage key does.
PARAMS_CHECK_KEY = "_params_check.py"
PARAMS_KEY = "_params.json"

# The same bytes for every stage and every spec: the stage name comes from MLOPS_STAGE, which
# the manifest sets to a validated name. No `$(` and no `{{` in it, so neither Kubernetes nor
# Argo changes it. The runner's exit status is the step's (a failed gate: GATE_FAILED).
WRAPPER = f"""\
set -eu
. "{RUN_DIR}/$MLOPS_STAGE.env"
MLOPS_RUN_FILE="{RUN_DIR}/$MLOPS_STAGE.sh"
export MLOPS_RUN_FILE
exec sh "{RUN_DIR}/{RUNNER_KEY}"
"""

# A deploy stage with only `serve` has nothing to run in the pipeline: its step keeps the DAG's
# shape (and the approval before it); the server itself is the Deployment.
NOTHING_TO_RUN = "true\n"


def command_key(stage: PlanStage) -> str:
    return f"{stage.name}.sh"


def env_key(stage: PlanStage) -> str:
    return f"{stage.name}.env"


def _shell_value(pieces: tuple[Piece, ...]) -> str:
    if not pieces:
        return "''"
    return "".join(str(shell_word(p)) if isinstance(p, str) else f'"${{{p.var}}}"'
                   for p in pieces if isinstance(p, (str, Ref)))


def in_env_file(var: EnvVar) -> bool:
    """Whether the env file sets this variable: spec text (the spec's env, tracking settings,
    gate data); built-ins, params, secrets and engine values come from the manifest."""
    return var.origin in ("spec", "tracking", "gate") \
        and not any(isinstance(p, (Secret, Engine)) for p in var.pieces)


def env_file(plan: Plan, stage: PlanStage, with_param_defaults: bool) -> str:
    """The stage's environment as `export` lines, in dependency order: params (CronJobs only:
    Argo passes them as workflow parameters), the matrix combination, the spec's env (which may
    read both), the gate's data, then the runner's settings (what to clear before the command;
    retries and timeouts are the engine's)."""
    lines: list[str] = []
    if with_param_defaults:
        lines += [f"export {p.var}={shell_word(p.default_text)}" for p in plan.params]
    if stage.combinations:
        lines.append(f'case "${COMBINATION_VAR}" in')
        for combo in stage.combinations:
            exports = " ".join(f"{var}={shell_word(text)}" for var, text in combo.variables)
            lines.append(f"  {combo.index}) export {exports} ;;")
        lines.append(f'  *) echo "mlops: no matrix combination ${COMBINATION_VAR}" >&2; exit 2 ;;')
        lines.append("esac")
    lines += [f"export {var.name}={_shell_value(var.pieces)}" for var in stage.env
              if in_env_file(var)]
    lines += [f"export {name}={shell_word(value)}"
              for name, value in control_env(stage, retries=False, timeout=False)]
    return "".join(line + "\n" for line in lines)


def params_need_check(plan: Plan) -> bool:
    """Whether a run's params need the check before any stage: Argo checks only `enum` (every
    parameter is text to it), so any bound, pattern or type other than text is checked by the
    workflow's first task (the same condition as GitHub's `_check-params` job)."""
    return needs_check(plan.params, checked=("enum",), as_text=True)


def configmap_data(plan: Plan) -> list[tuple[str, str]]:
    """Every ConfigMap key and text, sorted by key (the parts of `configmap_parts` together).
    Commands are kept byte for byte: the runner's `sh FILE` runs the same command as
    `sh -c TEXT`."""
    return sorted(item for _, data in configmap_parts(plan) for item in data)


def configmap_parts(plan: Plan) -> list[tuple[int | None, list[tuple[str, str]]]]:
    """(part, sorted keys and texts) per ConfigMap. Part None is the pipeline's own ConfigMap:
    the runner, the params check, the commit and, unsplit, every stage's files; with more than
    `STAGES_PER_PART` stages each stage's files are in part `stage_part` instead, and every pod
    mounts the parts it reads as one projected volume (`pod.run_sources`)."""
    shared = {RUNNER_KEY: RUNNER}
    if plan.pipeline_stages and params_need_check(plan):
        shared[PARAMS_CHECK_KEY] = PARAMS_CHECK
        shared[PARAMS_KEY] = schemas_json(plan.params)
    if plan.git_sha:
        shared[GIT_SHA_KEY] = plan.git_sha
    count = part_count(plan)
    parts: dict[int | None, dict[str, str]] = {None: shared}
    parts.update((index, {}) for index in range(count) if count > 1)
    for stage in plan.stages:
        data = parts[stage_part(stage, count) if count > 1 else None]
        data[command_key(stage)] = stage.run if stage.run is not None else NOTHING_TO_RUN
        data[env_key(stage)] = env_file(plan, stage, with_param_defaults=stage.scheduled)
    return [(index, sorted(data.items())) for index, data in parts.items()]
