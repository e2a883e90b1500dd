"""Turn a case into a committed git repository that one engine can run.

The repository holds what a user's would: the spec (with the engine's `targets`), the files
`mlops build` wrote from it, and the case's setup files, all committed on `main`. Two things
are added to the spec so that stages can be observed without the engine's help:

- env `CONFORMANCE_JOURNAL` and `CONFORMANCE_PROBE`: where the probe writes, and the probe;
- before each stage's `run`, two lines that call the probe at the start and, from an EXIT
  trap, at the end of the command (`probe.py`). They contain no `${`, so they interpolate
  nothing, and they leave the command's own text and exit status as they were.
"""

from __future__ import annotations

import copy
import io
import os
import subprocess
from contextlib import redirect_stderr, redirect_stdout
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from tests.conformance.case import Case

PROBE = Path(__file__).resolve().parent / "probe.py"
PROBE_PREFIX = ("trap 'python3 \"$CONFORMANCE_PROBE\" end \"$?\"' EXIT\n"
                "python3 \"$CONFORMANCE_PROBE\" start\n")


@dataclass(frozen=True)
class Prepared:
    """A case made ready for one engine: the repository to run and the journal to read."""

    case: Case
    engine: str
    repo: Path
    journal: Path
    head: str                        # the commit the repository is at
    spec: dict[str, Any]             # the spec as written into the repository


def spec_for(case: Case, targets: dict[str, Any], journal: Path,
             defaults: dict[str, Any] | None = None) -> dict[str, Any]:
    """The case's spec with the engine's targets (and defaults) and the probe wired in."""
    spec = copy.deepcopy(dict(case.spec))
    if defaults:
        spec["defaults"] = {**(spec.get("defaults") or {}), **defaults}
    spec["env"] = {**(spec.get("env") or {}), "CONFORMANCE_JOURNAL": str(journal),
                   "CONFORMANCE_PROBE": str(PROBE)}
    for stage in spec["stages"].values():
        if stage.get("run") is not None:
            stage["run"] = PROBE_PREFIX + stage["run"]
    spec["targets"] = targets
    return spec


def spec_bytes(spec: dict[str, Any]) -> bytes:
    # ASCII only, as tests/hostile_support.py writes specs: every character arrives as written
    # (a raw U+2028 would be a line break to YAML 1.1).
    return yaml.safe_dump(spec, allow_unicode=False, sort_keys=False, width=1 << 20).encode()


def _git(repo: Path, *args: str) -> str:
    env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "HOME": str(repo.parent),
           "GIT_CONFIG_NOSYSTEM": "1", "GIT_AUTHOR_NAME": "conformance",
           "GIT_AUTHOR_EMAIL": "conformance@example.invalid", "GIT_COMMITTER_NAME": "conformance",
           "GIT_COMMITTER_EMAIL": "conformance@example.invalid",
           "GIT_AUTHOR_DATE": "2024-01-01T00:00:00Z", "GIT_COMMITTER_DATE": "2024-01-01T00:00:00Z"}
    proc = subprocess.run(["git", *args], cwd=repo, env=env, capture_output=True, text=True,
                          check=False, timeout=60)
    if proc.returncode != 0:
        raise AssertionError(f"git {' '.join(args)} failed in {repo}:\n{proc.stderr}")
    return proc.stdout.strip()


def _build(spec_path: Path, out: Path) -> None:
    from compiler.cli import main

    stdout, stderr = io.StringIO(), io.StringIO()
    with redirect_stdout(stdout), redirect_stderr(stderr):
        code = main(["build", str(spec_path), "--out", str(out)])
    if code != 0:
        raise AssertionError(f"mlops build of {spec_path} exited {code}:\n"
                             f"{stdout.getvalue()}{stderr.getvalue()}")


def prepare(case: Case, engine: str, targets: dict[str, Any], root: Path,
            defaults: dict[str, Any] | None = None) -> Prepared:
    """Write, build and commit the case's repository under ``root/<engine>/<case>/``."""
    base = root / engine / case.name
    repo, journal = base / "repo", base / "journal"
    repo.mkdir(parents=True)
    journal.mkdir()
    _git(repo, "init", "-q", "-b", "main")
    spec = spec_for(case, targets, journal, defaults)
    (repo / "mlops.yaml").write_bytes(spec_bytes(spec))
    _build(repo / "mlops.yaml", repo)
    for path, text in case.setup_files.items():
        target = repo / path
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(text.encode())
    _git(repo, "add", "-A")
    _git(repo, "commit", "-q", "-m", f"conformance case {case.name}")
    return Prepared(case, engine, repo, journal, _git(repo, "rev-parse", "HEAD"), spec)
