"""Local diffs (SPEC.md section 5.2): no line of a generated file depends on the whole spec's
bytes, so a one-stage edit changes only that stage's lines, an unrelated edit never rolls a
workload, and two pull requests that touch different stages merge without conflict."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from tests.conftest import REPO

CHURN = REPO / "examples/churn/mlops.yaml"
TRAIN = "python -m churn.train --lr"
EVALUATE = "python -m churn.evaluate model/"


def _git(cwd: Path, *args: str) -> str:
    return subprocess.run(["git", "-c", "user.name=t", "-c", "user.email=t@example.com",
                           "-c", "commit.gpgsign=false", *args],
                          cwd=cwd, check=True, capture_output=True, text=True).stdout


def _build(repo: Path, *extra: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "compiler", "build", "--quiet", *extra],
                          cwd=repo, capture_output=True, text=True)


@pytest.fixture
def churn(tmp_path: Path) -> Path:
    repo = tmp_path / "churn"
    repo.mkdir()
    shutil.copy(CHURN, repo / "mlops.yaml")
    _git(repo, "init", "-q", "-b", "main")
    assert _build(repo).returncode == 0
    _git(repo, "add", "-A")
    _git(repo, "commit", "-qm", "churn")
    return repo


def _edit(repo: Path, old: str, new: str) -> None:
    spec = repo / "mlops.yaml"
    text = spec.read_text()
    assert text.count(old) == 1, old
    spec.write_text(text.replace(old, new))


def _changed_lines(repo: Path) -> dict[str, list[str]]:
    """Generated file -> its changed lines (+/-), against the last commit."""
    found: dict[str, list[str]] = {}
    current = None
    for line in _git(repo, "diff", "-U0", "--", ".", ":!mlops.yaml").splitlines():
        if line.startswith("+++ b/"):
            current = line[6:]
        elif line.startswith(("+", "-")) and not line.startswith(("+++", "---")):
            assert current is not None
            found.setdefault(current, []).append(line)
    return found


def test_a_comment_in_the_spec_changes_no_generated_file(churn: Path) -> None:
    spec = churn / "mlops.yaml"
    spec.write_text("# who owns this pipeline: the churn team\n" + spec.read_text())
    assert _build(churn).returncode == 0
    assert _changed_lines(churn) == {}


def test_a_one_stage_edit_changes_only_that_stage_s_lines(churn: Path) -> None:
    _edit(churn, TRAIN, "python -m churn.train --verbose --lr")
    assert _build(churn).returncode == 0
    changed = _changed_lines(churn)
    assert changed, "the edit changed nothing"
    for path, lines in changed.items():
        for line in lines:
            assert "churn.train" in line, f"{path}: a line the train edit should not change: {line}"
    # Nothing that runs all the time restarts: the model server and the monitor's CronJob.
    assert not [p for p in changed if re.search(r"(deployment|service|cronjob|hpa)", p)], changed


def _pod_templates(repo: Path) -> dict[str, object]:
    """Each Deployment's and CronJob's pod template: what Kubernetes rolls out when it changes
    (object metadata, such as a commit stamp, changes nothing that runs)."""
    found: dict[str, object] = {}
    for path in sorted(repo.glob("k8s/**/*.yaml")):
        for doc in yaml.safe_load_all(path.read_text()):
            if isinstance(doc, dict) and doc.get("kind") == "Deployment":
                found[path.relative_to(repo).as_posix()] = doc["spec"]["template"]
            elif isinstance(doc, dict) and doc.get("kind") == "CronJob":
                found[path.relative_to(repo).as_posix()] = doc["spec"]["jobTemplate"]
    return found


def test_a_build_at_another_commit_does_not_roll_the_model_server(churn: Path) -> None:
    first = _build(churn, "--ref", "HEAD")
    assert first.returncode == 0, first.stderr
    before = _pod_templates(churn)
    (churn / "README").write_text("another commit, same spec\n")
    _git(churn, "add", "-A")
    _git(churn, "commit", "-qm", "unrelated")
    assert _build(churn, "--ref", "HEAD").returncode == 0
    assert before and _pod_templates(churn) == before


def test_edits_to_two_stages_on_two_branches_merge_without_conflict(churn: Path) -> None:
    _git(churn, "checkout", "-q", "-b", "train-verbose")
    _edit(churn, TRAIN, "python -m churn.train --verbose --lr")
    assert _build(churn).returncode == 0
    _git(churn, "commit", "-qam", "train verbosely")
    _git(churn, "checkout", "-q", "main")
    _git(churn, "checkout", "-q", "-b", "evaluate-strict")
    _edit(churn, EVALUATE, "python -m churn.evaluate --strict model/")
    assert _build(churn).returncode == 0
    _git(churn, "commit", "-qam", "evaluate strictly")
    _git(churn, "checkout", "-q", "main")
    _git(churn, "merge", "-q", "--no-edit", "train-verbose")
    merge = subprocess.run(["git", "-c", "user.name=t", "-c", "user.email=t@example.com",
                            "merge", "--no-edit", "evaluate-strict"],
                           cwd=churn, capture_output=True, text=True)
    assert merge.returncode == 0, merge.stdout + merge.stderr
    # and what git merged is exactly what the merged spec builds
    check = _build(churn, "--check")
    assert check.returncode == 0, check.stdout + check.stderr
