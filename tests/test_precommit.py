"""The pre-commit hooks, run by real pre-commit (`try-repo`) in a temporary git repository."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import REPO


def _git(cwd: Path, *args: str) -> None:
    subprocess.run(["git", *args], cwd=cwd, check=True, capture_output=True)


@pytest.fixture(scope="module")
def hooks_env(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    # One pre-commit cache for the module: the hook environment is built once.
    home = tmp_path_factory.mktemp("pre-commit-home")
    return {**os.environ, "PRE_COMMIT_HOME": str(home), "GIT_AUTHOR_NAME": "t",
            "GIT_AUTHOR_EMAIL": "t@example.com", "GIT_COMMITTER_NAME": "t",
            "GIT_COMMITTER_EMAIL": "t@example.com"}


def _try(repo: Path, hook: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    pre_commit = shutil.which("pre-commit", path=str(Path(sys.executable).parent)) or "pre-commit"
    return subprocess.run([pre_commit, "try-repo", str(REPO), hook, "--all-files"],
                          cwd=repo, capture_output=True, text=True, env=env)


@pytest.mark.slow
def test_hooks_pass_on_a_good_spec_and_fail_on_a_bad_or_stale_one(
        tmp_path: Path, hooks_env: dict[str, str]) -> None:
    repo = tmp_path / "project"
    repo.mkdir()
    _git(repo, "init", "-q")
    spec = repo / "mlops.yaml"
    shutil.copy(REPO / "examples/minimal/mlops.yaml", spec)
    build = subprocess.run([sys.executable, "-m", "compiler", "build"], cwd=repo,
                           capture_output=True, text=True)
    assert build.returncode == 0, build.stderr
    _git(repo, "add", "-A")

    lint = _try(repo, "mlops-lint", hooks_env)
    assert lint.returncode == 0, lint.stdout + lint.stderr
    check = _try(repo, "mlops-check", hooks_env)
    assert check.returncode == 0, check.stdout + check.stderr

    spec.write_text(spec.read_text().replace("accuracy >= 0.9", "accuracy >= 0.95"))
    _git(repo, "add", "-A")
    stale = _try(repo, "mlops-check", hooks_env)
    assert stale.returncode == 1 and "0.95" in stale.stdout

    spec.write_text(spec.read_text().replace("outputs: [model/]", "outputs: [model/]\n    retires: 3"))
    _git(repo, "add", "-A")
    bad = _try(repo, "mlops-lint", hooks_env)
    assert bad.returncode == 1 and "MLP120 unknown key 'retires'" in bad.stdout


MONO_SPEC = """\
version: 1
name: {name}
stages:
  train:
    run: mkdir -p model && echo {name} > model/m.txt
    outputs: [model/]
targets:
  github: {{}}
  airflow: {{}}
"""


@pytest.mark.slow
def test_hooks_in_a_monorepo_check_only_the_pipelines_a_commit_touches(
        tmp_path: Path, hooks_env: dict[str, str]) -> None:
    repo = tmp_path / "mono"
    for name in ("fraud", "churn"):
        spec = repo / "pipelines" / name / "mlops.yaml"
        spec.parent.mkdir(parents=True)
        spec.write_text(MONO_SPEC.format(name=name))
    _git(repo, "init", "-q")
    build = subprocess.run([sys.executable, "-m", "compiler", "build", "--quiet",
                            "pipelines/fraud/mlops.yaml", "pipelines/churn/mlops.yaml"],
                           cwd=repo, capture_output=True, text=True)
    assert build.returncode == 0, build.stderr
    _git(repo, "add", "-A")
    for hook in ("mlops-lint", "mlops-check"):
        result = _try(repo, hook, hooks_env)
        assert result.returncode == 0, hook + result.stdout + result.stderr

    # a hand edit of one pipeline's generated DAG: the check names that pipeline only
    dag = repo / "pipelines/churn/airflow/dags/mlops_churn.py"
    dag.write_text(dag.read_text().replace("echo churn", "echo edited"))
    _git(repo, "add", "-A")
    stale = _try(repo, "mlops-check", hooks_env)
    assert stale.returncode == 1, stale.stdout + stale.stderr
    assert "pipelines/churn" in stale.stdout + stale.stderr
    assert "pipelines/fraud" not in stale.stdout + stale.stderr
