"""Run a repository's GitHub workflow for real with `act`, on this host, offline.

    result = run_workflow(repo, ".github/workflows/mlops-hello.yml", inputs={"lr": "0.5"})
    result.jobs["train"]        # [JobRun(matrix={}, result="success")], one per matrix shard
    result.artifacts            # {artifact name: directory holding its files}

Jobs run on the host (`-P <label>=-self-hosted`: no Docker, so a job with `container:` cannot
run), the two pinned artifact actions come from `../shared/github-actions/`
(`--local-repository`), act serves artifacts itself (`--artifact-server-path`), and `HOME` is
a fresh temporary directory, where act keeps its caches and each job's workspace. On the host,
act runs JavaScript actions with the machine's `node` (Node.js 20 here, as the actions ask). The workflow
sees a clean environment: only PATH, LANG and that HOME, never the caller's variables (act
hands its own environment to every step on the host, so anything else would leak in).

A job that never started (its `needs` failed) has no entry in ``jobs``. act itself exits
non-zero whenever a job fails; that is a result, not an error: only a run whose log names no
job at all, or a missing act, fails the caller.
"""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import tempfile
import zipfile
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from tests import tooling

SHARED_ACTIONS = Path(os.environ.get("MLOPS_GITHUB_ACTIONS_DIR",
                                     tooling.REPO.parent / "shared" / "github-actions"))


@dataclass(frozen=True)
class JobRun:
    """One run of a job: a matrix shard has its combination in ``matrix``."""

    matrix: dict[str, Any]
    result: str                      # act's jobResult: success, failure, cancelled, skipped


@dataclass
class ActResult:
    returncode: int
    jobs: dict[str, list[JobRun]]    # job id -> its runs (one per matrix combination)
    artifacts: dict[str, Path]       # artifact name -> directory of its extracted files
    log: str                         # act's output, for failure messages
    steps: dict[str, list[tuple[str, str]]] = field(default_factory=dict)  # job -> (step, result)


def _free_port() -> int:
    # act's artifact server listens on a fixed port by default: parallel runs would collide.
    with socket.socket() as sock:
        sock.bind(("", 0))
        port: int = sock.getsockname()[1]
        return port


def _local_actions(workflow: Path) -> list[str]:
    """`--local-repository` for every pinned action the workflow uses that shared/ holds."""
    args: list[str] = []
    text = workflow.read_text()
    for folder in sorted(SHARED_ACTIONS.glob("actions-*@*")):
        name, sha = folder.name.split("@", 1)
        ref = f"actions/{name.removeprefix('actions-')}@{sha}"
        if ref in text:
            args += ["--local-repository", f"{ref}={folder}"]
    return args


def _runner_labels(workflow: Path) -> list[str]:
    """Every `runs-on` label of the workflow, each mapped to the host (`-self-hosted`)."""
    data = yaml.safe_load(workflow.read_text())
    labels: set[str] = {"ubuntu-latest"}
    for job in (data.get("jobs") or {}).values():
        runs_on = job.get("runs-on")
        labels.update([runs_on] if isinstance(runs_on, str) else list(runs_on or []))
    args: list[str] = []
    for label in sorted(labels):
        args += ["-P", f"{label}=-self-hosted"]
    return args


def _parse_log(text: str) -> tuple[dict[str, list[JobRun]], dict[str, list[tuple[str, str]]]]:
    jobs: dict[str, list[JobRun]] = {}
    steps: dict[str, list[tuple[str, str]]] = {}
    for line in text.splitlines():
        if not line.startswith("{"):
            continue
        try:
            entry = json.loads(line)
        except json.JSONDecodeError:
            continue
        job = entry.get("jobID")
        if not job:
            continue
        if "jobResult" in entry:
            jobs.setdefault(job, []).append(JobRun(entry.get("matrix") or {}, entry["jobResult"]))
        elif "stepResult" in entry and entry.get("stage") == "Main":
            steps.setdefault(job, []).append((str(entry.get("step")), entry["stepResult"]))
    return jobs, steps


def _extract(server: Path, into: Path) -> dict[str, Path]:
    """act stores each artifact as `<server>/<run id>/<name>/<name>.zip`."""
    found: dict[str, Path] = {}
    for archive in sorted(server.glob("*/*/*.zip")):
        name = archive.parent.name
        target = into / name
        target.mkdir(parents=True, exist_ok=True)
        with zipfile.ZipFile(archive) as zipped:
            zipped.extractall(target)
        found[name] = target
    return found


def run_workflow(
    repo: str | os.PathLike[str],
    workflow: str,
    *,
    event: str = "workflow_dispatch",
    inputs: Mapping[str, str] | None = None,
    secrets: Mapping[str, str] | None = None,
    event_payload: Mapping[str, Any] | None = None,
    artifacts_dir: str | os.PathLike[str] | None = None,
    extra_args: Sequence[str] = (),
    timeout: float = 600,
) -> ActResult:
    """Run ``workflow`` (a path relative to the committed git repository ``repo``) under act.

    ``inputs`` are `workflow_dispatch` inputs (`--input`), ``secrets`` repository secrets
    (`--secret`), ``event_payload`` the event JSON (`-e`, e.g. a pull_request). Artifacts are
    extracted into ``artifacts_dir``; by default into a new temporary directory, which the
    caller removes.
    """
    repo = Path(repo)
    path = repo / workflow
    if not path.is_file():
        raise AssertionError(f"no workflow {workflow} in {repo}")
    if not SHARED_ACTIONS.is_dir():
        raise AssertionError(f"no pinned actions at {SHARED_ACTIONS}: shared/ must sit beside the "
                             "repository (or set MLOPS_GITHUB_ACTIONS_DIR)")
    act = tooling.act_binary()
    if shutil.which("node") is None:
        raise AssertionError("act runs the artifact actions with the host's node: none on PATH")
    out = Path(artifacts_dir) if artifacts_dir is not None else Path(tempfile.mkdtemp(prefix="act-artifacts-"))
    with tempfile.TemporaryDirectory(prefix="act-home-") as tmp:
        home = Path(tmp)
        server = home / "artifact-server"
        cmd: list[str] = [
            str(act), event, "-W", workflow, "--json",
            *_runner_labels(path), *_local_actions(path),
            "--artifact-server-path", str(server),
            "--artifact-server-port", str(_free_port()),
            "--no-cache-server", "--action-offline-mode",
            "--action-cache-path", str(home / "act-cache"),
        ]
        for name, value in (inputs or {}).items():
            cmd += ["--input", f"{name}={value}"]
        for name, value in (secrets or {}).items():
            cmd += ["--secret", f"{name}={value}"]
        if event_payload is not None:
            event_file = home / "event.json"
            event_file.write_text(json.dumps(event_payload))
            cmd += ["-e", str(event_file)]
        cmd += list(extra_args)
        env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "HOME": str(home), "LANG": "C.UTF-8"}
        try:
            proc = subprocess.run(cmd, cwd=repo, env=env, capture_output=True, text=True,
                                  errors="replace", timeout=timeout, check=False)
        except subprocess.TimeoutExpired as exc:
            raise AssertionError(f"act did not finish within {timeout}s: {' '.join(cmd)}") from exc
        log = proc.stdout + proc.stderr
        jobs, steps = _parse_log(log)
        if not jobs:
            raise AssertionError(f"act ran no job (exit {proc.returncode}):\n$ {' '.join(cmd)}\n{log[-8000:]}")
        artifacts = _extract(server, out) if server.is_dir() else {}
    return ActResult(proc.returncode, jobs, artifacts, log, steps)

