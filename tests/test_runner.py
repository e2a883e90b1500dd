"""The stage runner (compiler/render/runner.py), run for real by dash and bash: retries, a
timeout per attempt (with `timeout`, and with only python3 to enforce it), outputs cleared
before each attempt, a writable HOME, and a gate that is checked once and never retried."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest

from compiler.render.runner import GATE_FAILED, RUNNER, TIMED_OUT

SHELLS = [s for s in ("dash", "bash") if shutil.which(s)]
GATE = '[["auc", ">=", "0.5"]]'


@pytest.fixture(params=["path", "no-timeout-binary"])
def path(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """PATH as it is, or with only the basics (no `timeout`, as on macOS)."""
    if request.param == "path":
        return os.environ["PATH"]
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    for tool in ("sh", "sleep", "rm", "mkdir", "printf", "echo", "cat", "touch"):
        found = shutil.which(tool)
        assert found, tool
        (bin_dir / tool).symlink_to(found)
    # The interpreter itself, not PATH's python3: that may be a shim script (pyenv) that needs
    # tools this stripped PATH leaves out.
    (bin_dir / "python3").symlink_to(os.path.realpath(sys.executable))
    return str(bin_dir)


def run(shell: str, path: str, cwd: Path, **env: str) -> tuple[int, float, str, str]:
    start = time.monotonic()
    proc = subprocess.run([shutil.which(shell) or shell, "-c", RUNNER], cwd=cwd,
                          env={"PATH": path, "HOME": "/nonexistent", **env},
                          capture_output=True, text=True, timeout=60)
    return proc.returncode, time.monotonic() - start, proc.stdout, proc.stderr


@pytest.mark.parametrize("shell", SHELLS)
def test_runs_the_command_with_a_writable_home(shell: str, path: str, tmp_path: Path) -> None:
    code, _, out, _ = run(shell, path, tmp_path,
                          MLOPS_RUN='touch "$HOME/x" && printf "%s" "$HOME"')
    assert code == 0 and Path(out, "x").is_file()
    assert run(shell, path, tmp_path, MLOPS_RUN="exit 3")[0] == 3


@pytest.mark.parametrize("shell", SHELLS)
def test_retries_until_an_attempt_succeeds(shell: str, path: str, tmp_path: Path) -> None:
    flaky = 'n=$(cat n 2>/dev/null || echo 0); echo $((n+1)) > n; [ "$n" -ge 2 ]'
    code, _, _, err = run(shell, path, tmp_path, MLOPS_RUN=flaky, MLOPS_RETRIES="3",
                          MLOPS_RETRY_DELAY="0")
    assert code == 0 and (tmp_path / "n").read_text() == "3\n"
    assert err.count("retrying") == 2
    (tmp_path / "n").unlink()
    assert run(shell, path, tmp_path, MLOPS_RUN=flaky, MLOPS_RETRIES="1",
               MLOPS_RETRY_DELAY="0")[0] == 1


@pytest.mark.parametrize("shell", SHELLS)
def test_the_timeout_bounds_each_attempt(shell: str, path: str, tmp_path: Path) -> None:
    code, seconds, out, err = run(shell, path, tmp_path, MLOPS_RUN="sleep 30; echo late",
                                  MLOPS_TIMEOUT="1", MLOPS_RETRIES="1", MLOPS_RETRY_DELAY="0")
    assert code == TIMED_OUT and "late" not in out
    assert err.count("ran out of time") == 2 and 1.5 < seconds < 10  # two attempts of 1 s
    code, seconds, out, _ = run(shell, path, tmp_path, MLOPS_RUN="echo quick; exit 4",
                                MLOPS_TIMEOUT="20")
    assert (code, out) == (4, "quick\n") and seconds < 5


@pytest.mark.parametrize("shell", SHELLS)
def test_a_previous_runs_metrics_cannot_satisfy_the_gate(shell: str, path: str,
                                                        tmp_path: Path) -> None:
    (tmp_path / "m.json").write_text('{"auc": 0.9}')
    (tmp_path / "out").mkdir()
    (tmp_path / "out" / "old").write_text("x")
    code, _, _, err = run(shell, path, tmp_path, MLOPS_RUN="true", MLOPS_CLEAN="out\nm.json",
                          MLOPS_GATES=GATE, MLOPS_METRICS="m.json")
    assert code == GATE_FAILED and not (tmp_path / "out").exists()
    assert "cannot read metrics" in err


@pytest.mark.parametrize("shell", SHELLS)
def test_the_gate_is_checked_once_and_never_retried(shell: str, path: str,
                                                    tmp_path: Path) -> None:
    write = "echo run >> runs; printf '{\"auc\": %s}' \"$AUC\" > m.json"
    code, _, out, _ = run(shell, path, tmp_path, MLOPS_RUN=write, AUC="0.9", MLOPS_GATES=GATE,
                          MLOPS_METRICS="m.json", MLOPS_RETRIES="2", MLOPS_RETRY_DELAY="0")
    assert code == 0 and "pass auc" in out
    (tmp_path / "runs").unlink()
    code, _, out, _ = run(shell, path, tmp_path, MLOPS_RUN=write, AUC="0.1", MLOPS_GATES=GATE,
                          MLOPS_METRICS="m.json", MLOPS_RETRIES="2", MLOPS_RETRY_DELAY="0")
    assert code == GATE_FAILED and "FAIL auc" in out
    assert (tmp_path / "runs").read_text() == "run\n"


@pytest.mark.parametrize("shell", SHELLS)
def test_a_command_exiting_with_the_gate_code_is_not_taken_for_a_failed_gate(
        shell: str, path: str, tmp_path: Path) -> None:
    code, _, _, err = run(shell, path, tmp_path, MLOPS_RUN=f"exit {GATE_FAILED}",
                          MLOPS_GATES=GATE, MLOPS_METRICS="m.json")
    assert code == 1 and "the code of a failed gate" in err


@pytest.mark.parametrize("shell", SHELLS)
def test_the_command_text_reaches_the_shell_unchanged(shell: str, path: str,
                                                      tmp_path: Path) -> None:
    text = "printf '%s|' '$(id)' '`id`' \"{{ x }}\" '${HOME}'"
    code, _, out, _ = run(shell, path, tmp_path, MLOPS_RUN=text)
    assert code == 0 and out == "$(id)|`id`|{{ x }}|${HOME}|"
    (tmp_path / "cmd.sh").write_text(text)
    assert run(shell, path, tmp_path, MLOPS_RUN_FILE="cmd.sh")[2] == out


@pytest.mark.parametrize("shell", SHELLS)
def test_tracking_runs_are_tagged_with_the_pipeline_run(shell: str, tmp_path: Path) -> None:
    import json

    show = 'printf "%s\\n%s\\n%s" "$MLFLOW_RUN_CONTEXT" "$WANDB_RUN_GROUP" "$WANDB_GIT_COMMIT"'
    code, _, out, _ = run(shell, os.environ["PATH"], tmp_path, MLOPS_RUN=show,
                          MLFLOW_TRACKING_URI="sqlite:///m.db", WANDB_PROJECT="p",
                          MLOPS_PIPELINE="churn", MLOPS_STAGE="train", MLOPS_STAGE_TYPE="train",
                          MLOPS_RUN_ID="manual__2026-12-02T00:00:00+00:00",
                          MLOPS_GIT_SHA="ab12", MLOPS_ENVIRONMENT='odd"name')
    context, group, commit = out.split("\n")
    assert code == 0 and json.loads(context) == {  # a value JSON would need escaped is left out
        "mlops.pipeline": "churn", "mlops.stage": "train", "mlops.stage_type": "train",
        "mlops.run_id": "manual__2026-12-02T00:00:00+00:00", "mlflow.source.git.commit": "ab12"}
    assert (group, commit) == ("churn-manual__2026-12-02T00:00:00+00:00", "ab12")
    # without tracking configured, nothing is added
    assert run(shell, os.environ["PATH"], tmp_path, MLOPS_RUN=show)[2] == "\n\n"


def test_control_env_clears_outputs_and_metrics_but_never_an_input() -> None:
    from compiler import pipeline
    from compiler.analysis import analyze
    from compiler.render.runner import control_env

    spec = b"""\
version: 1
name: p
stages:
  train: {run: 'true', outputs: [model/], retries: 2, timeout: 1m}
  evaluate: {run: 'true', inputs: [model/], metrics: model/metrics.json, gate: ["a >= 1"]}
  report: {run: 'true', needs: [evaluate], metrics: report.json, outputs: [r/]}
targets: {github: {}}
"""
    (plan,) = pipeline.plans(analyze(spec, "mlops.yaml"), spec_path="mlops.yaml")
    env = {s.name: dict(control_env(s, retries=True, timeout=True)) for s in plan.stages}
    assert env["train"] == {"MLOPS_RETRIES": "2", "MLOPS_RETRY_DELAY": "0",
                            "MLOPS_TIMEOUT": "60", "MLOPS_CLEAN": "model"}
    # evaluate reads a metrics file that train wrote into its output: not evaluate's to clear
    assert env["evaluate"] == {}
    assert env["report"] == {"MLOPS_CLEAN": "r\nreport.json"}
