"""Two builds of one spec at once (two editors, pre-commit and an IDE) both succeed, and the tree
they leave is the tree one build leaves.

Real processes, started together, many rounds; each round changes the spec so that both builds
have files to write and stale files to remove, which is where they used to collide: one took
the other's in-flight temp file for a stale generated file and deleted it (issue 20, class 5).
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import REPO, run_cli

ROUNDS = int(os.environ.get("MLOPS_CONCURRENCY_ROUNDS", "24"))


def _spec(round_: int) -> str:
    # Environments come and go between rounds, so each round writes some files and removes
    # others, across all three targets.
    envs = [f"e{(round_ + k) % 5}" for k in range(3)]
    overlays = "".join(f"  {e}: {{env: {{ROUND: \"{round_}\"}}, kubernetes: {{namespace: {e}}}}}\n"
                       for e in envs)
    return f"""\
version: 1
name: race
defaults: {{image: "ghcr.io/acme/race:1.0"}}
stages:
  prep:
    run: echo prep {round_}
    outputs: [data/]
  train:
    run: echo train
    inputs: [data/]
  watch:
    type: monitor
    schedule: "0 * * * *"
    run: echo watch
environments:
{overlays}"""


def _tree(root: Path) -> dict[str, bytes | None]:
    """Every path under `root` but the spec: files with their bytes, directories as None."""
    found: dict[str, bytes | None] = {}
    for path in sorted(root.rglob("*")):
        relative = path.relative_to(root).as_posix()
        if relative != "mlops.yaml":
            found[relative] = None if path.is_dir() else path.read_bytes()
    return found


@pytest.mark.slow
def test_two_concurrent_builds_both_succeed_and_equal_one_build(tmp_path: Path) -> None:
    racing, alone = tmp_path / "racing", tmp_path / "alone"
    racing.mkdir()
    alone.mkdir()
    command = [sys.executable, "-m", "compiler", "build", "mlops.yaml", "--quiet"]
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    failures = []
    for round_ in range(ROUNDS):
        for root in (racing, alone):
            (root / "mlops.yaml").write_text(_spec(round_))
        builds = [subprocess.Popen(command, cwd=racing, env=env, stdout=subprocess.PIPE,
                                   stderr=subprocess.PIPE, text=True) for _ in range(2)]
        outcomes = [(b.wait(timeout=120), b.communicate()[1]) for b in builds]
        failures += [(round_, code, err) for code, err in outcomes if code != 0 or err]
        reference = run_cli("build", alone / "mlops.yaml", "--quiet")
        assert reference.code == 0, reference.err
        assert _tree(racing) == _tree(alone), (f"round {round_}: the trees differ", failures)
    assert not failures, failures
