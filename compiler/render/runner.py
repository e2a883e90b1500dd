"""The stage runner: the one fixed script that runs a stage's command on every target.

What a stage run means (SPEC.md section 2) is written here once, in POSIX sh, instead of once
per engine: clear the stage's declared outputs and metrics (so a previous run's files can never
satisfy a gate), run the command with `sh -c`, retry a failed attempt after `retry_delay`,
bound each attempt by `timeout`, then check the gate once. A failed gate is a verdict, not a
flake: it exits with `GATE_FAILED` and is never retried, and targets whose engine retries
natively tell it not to retry that code. So that the code means only that, a command that
itself exits with it is reported as exit 1. It also gives the command a writable `HOME`.

Everything comes from the environment, so the script is the same bytes for every spec:

| variable | meaning |
|---|---|
| `MLOPS_RUN` / `MLOPS_RUN_FILE` | the command text, or a file holding it |
| `MLOPS_RETRIES`, `MLOPS_RETRY_DELAY` | attempts after the first, seconds between them (unset: the engine retries) |
| `MLOPS_TIMEOUT` | seconds each attempt may take (unset: the engine bounds attempts) |
| `MLOPS_CLEAN` | paths to remove before each attempt, one per line |
| `MLOPS_GATES`, `MLOPS_METRICS` | the gate's conditions and metrics file (`compiler.envvars`) |

With tracking (`tracking:` in the spec), it also ties each run to its pipeline run: MLflow's
`MLFLOW_RUN_CONTEXT` (JSON tags, read by `mlflow.start_run()`) and W&B's `WANDB_RUN_GROUP` and
`WANDB_GIT_COMMIT` are made from `MLOPS_RUN_ID` and `MLOPS_GIT_SHA`, which each target sets
where its engine knows them. Tag values are names, run ids and commits; one with a character
outside `[A-Za-z0-9_.~:+-]` is left out rather than escaped, so the JSON is always valid.

The gate needs python3 and its standard library; nothing else does.
"""

from __future__ import annotations

from collections.abc import Iterator

from compiler.plan import KILL_GRACE_SECONDS, PlanStage
from compiler.render.gate import GATE_SCRIPT

GATE_FAILED = 86        # exit code of a failed gate: never retried
TIMED_OUT = 124         # exit code of an attempt that ran out of time (as GNU timeout)
RUNNER_VARS = ("MLOPS_RUN", "MLOPS_RUN_FILE", "MLOPS_RETRIES", "MLOPS_RETRY_DELAY",
               "MLOPS_TIMEOUT", "MLOPS_CLEAN")

# An attempt's time limit, where the engine has none: `timeout` (coreutils, busybox) kills the
# command's whole process group; without it (macOS), python3 does the same. A shell cannot do
# it alone: without a terminal, job control is off and a killed `sh -c` leaves its children.
TIMEOUT_SCRIPT = """\
import os, signal, subprocess, sys
child = subprocess.Popen(sys.argv[2:], start_new_session=True)
try:
    sys.exit(child.wait(timeout=float(sys.argv[1])))
except subprocess.TimeoutExpired:
    os.killpg(child.pid, signal.SIGTERM)
    try:
        child.wait(timeout=10)
    except subprocess.TimeoutExpired:
        os.killpg(child.pid, signal.SIGKILL)
    sys.exit(124)
"""

# The heredoc delimiter cannot occur in the fixed gate script.
RUNNER = f"""\
mlops_attempt() {{
  if [ -n "${{MLOPS_CLEAN:-}}" ]; then
    printf '%s\\n' "$MLOPS_CLEAN" | while IFS= read -r mlops_path; do
      [ -z "$mlops_path" ] || rm -rf -- "$mlops_path"
    done
  fi
  if [ -n "${{MLOPS_RUN_FILE:-}}" ]; then set -- sh "$MLOPS_RUN_FILE"; else set -- sh -c "$MLOPS_RUN"; fi
  if [ -z "${{MLOPS_TIMEOUT:-}}" ]; then
    "$@"
  elif command -v timeout >/dev/null 2>&1; then
    timeout -k {KILL_GRACE_SECONDS} "$MLOPS_TIMEOUT" "$@"
  elif command -v python3 >/dev/null 2>&1; then
    python3 -c "$MLOPS_TIMEOUT_SCRIPT" "$MLOPS_TIMEOUT" "$@"
  else
    echo "mlops: this stage has a timeout, but neither 'timeout' nor 'python3' is here to enforce it" >&2
    return 125
  fi
}}
MLOPS_TIMEOUT_SCRIPT='{TIMEOUT_SCRIPT}'
mlops_tag() {{
  case "$2" in ''|*[!A-Za-z0-9_.~:+-]*) ;; *) mlops_tags="$mlops_tags${{mlops_tags:+,}}\\"$1\\":\\"$2\\"" ;; esac
}}
if [ -n "${{MLFLOW_TRACKING_URI:-}}" ] && [ -z "${{MLFLOW_RUN_CONTEXT:-}}" ]; then
  mlops_tags=""
  mlops_tag mlops.pipeline "${{MLOPS_PIPELINE:-}}"
  mlops_tag mlops.stage "${{MLOPS_STAGE:-}}"
  mlops_tag mlops.stage_type "${{MLOPS_STAGE_TYPE:-}}"
  mlops_tag mlops.environment "${{MLOPS_ENVIRONMENT:-}}"
  mlops_tag mlops.run_id "${{MLOPS_RUN_ID:-}}"
  mlops_tag mlflow.source.git.commit "${{MLOPS_GIT_SHA:-}}"
  MLFLOW_RUN_CONTEXT="{{$mlops_tags}}"
  export MLFLOW_RUN_CONTEXT
fi
if [ -n "${{WANDB_PROJECT:-}}" ]; then
  if [ -z "${{WANDB_RUN_GROUP:-}}" ] && [ -n "${{MLOPS_RUN_ID:-}}" ]; then
    WANDB_RUN_GROUP="${{MLOPS_PIPELINE:-}}-$MLOPS_RUN_ID"
    export WANDB_RUN_GROUP
  fi
  if [ -z "${{WANDB_GIT_COMMIT:-}}" ] && [ -n "${{MLOPS_GIT_SHA:-}}" ]; then
    WANDB_GIT_COMMIT="$MLOPS_GIT_SHA"
    export WANDB_GIT_COMMIT
  fi
fi
if [ ! -w "${{HOME:-/nonexistent}}" ]; then
  HOME="${{TMPDIR:-/tmp}}/mlops-home"
  export HOME
  mkdir -p "$HOME"
fi
mlops_try=0
until mlops_attempt; do
  mlops_status=$?
  if [ "$mlops_status" -eq {TIMED_OUT} ]; then
    echo "mlops: attempt $((mlops_try + 1)) ran out of time (${{MLOPS_TIMEOUT}}s)" >&2
  fi
  if [ "$mlops_try" -ge "${{MLOPS_RETRIES:-0}}" ]; then
    if [ "$mlops_status" -eq {GATE_FAILED} ]; then
      echo "mlops: the command exited {GATE_FAILED}, the code of a failed gate; reported as 1 so that it is not taken for one" >&2
      exit 1
    fi
    exit "$mlops_status"
  fi
  mlops_try=$((mlops_try + 1))
  echo "mlops: attempt $mlops_try failed with exit $mlops_status; retrying in ${{MLOPS_RETRY_DELAY:-0}}s" >&2
  sleep "${{MLOPS_RETRY_DELAY:-0}}"
done
if [ -n "${{MLOPS_GATES:-}}" ]; then
  python3 - <<'MLOPS_GATE_SCRIPT' || exit {GATE_FAILED}
{GATE_SCRIPT}MLOPS_GATE_SCRIPT
fi
"""


def control_env(stage: PlanStage, *, retries: bool, timeout: bool, clean: bool = True
                ) -> Iterator[tuple[str, str]]:
    """The runner's settings for a stage: retries and the per-attempt timeout where the
    engine does not do them itself (`retries`, `timeout` True), and what to clear first.

    A matrix stage's shards share their declared outputs (they write different files into
    them), so only their metrics file is cleared; a stage without a matrix gets every output
    cleared, as DVC does."""
    policy = stage.policy
    if retries and policy.retries:
        yield "MLOPS_RETRIES", str(policy.retries)
        yield "MLOPS_RETRY_DELAY", str(policy.retry_delay or 0)
    if timeout and policy.timeout:
        yield "MLOPS_TIMEOUT", str(policy.timeout)
    paths = [] if stage.combinations else [p.rstrip("/") for p in stage.outputs]
    if stage.metrics is not None and stage.metrics not in paths \
            and not any(_within(stage.metrics, p) for p in stage.inputs):
        # (a metrics file among the stage's inputs was written upstream: it is not ours to clear)
        paths.append(stage.metrics)
    if clean and paths:
        yield "MLOPS_CLEAN", "\n".join(paths)


def _within(path: str, declared: str) -> bool:
    """`path` is `declared`, or lies in it (`model/` holds `model/metrics.json`)."""
    return path.rstrip("/") == declared.rstrip("/") or path.startswith(declared.rstrip("/") + "/")
