"""The generated check workflow (`mlops-check.<pipeline>.yml`), run for real under act on a
pull request of a monorepo: it installs the compiler from the revision the repository's
`.pre-commit-config.yaml` pins (a commit of a git repository, never a package name), lints the
spec and passes on a current repository, fails on a stale one, and refuses to guess a version
when nothing is pinned."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from tests import act
from tests.conftest import REPO

SPEC = """\
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
PULL_REQUEST = {"pull_request": {"head": {"ref": "feature"}, "base": {"ref": "main"}}}


def _git(cwd: Path, *args: str) -> str:
    return subprocess.run(["git", "-c", "user.name=t", "-c", "user.email=t@example.com",
                           "-c", "commit.gpgsign=false", *args],
                          cwd=cwd, check=True, capture_output=True, text=True).stdout.strip()


def _compiler_source(tmp: Path) -> tuple[str, str]:
    """This checkout's files (tracked and new, as pre-commit's try-repo takes them) committed
    in a repository of their own: (its URL, the commit), what a user's pin names."""
    source = tmp / "mlops-compiler"
    listed = _git(REPO, "ls-files", "-z", "--cached", "--others", "--exclude-standard")
    for name in filter(None, listed.split("\0")):
        if (REPO / name).is_file():
            (source / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(REPO / name, source / name)
    _git(source, "init", "-q")
    _git(source, "add", "-A")
    _git(source, "commit", "-qm", "the compiler under test")
    return source.as_uri(), _git(source, "rev-parse", "HEAD")


def _build(repo: Path, *specs: str) -> None:
    result = subprocess.run([sys.executable, "-m", "compiler", "build", *specs, "--quiet"],
                            cwd=repo, capture_output=True, text=True)
    assert result.returncode == 0, result.stderr


@pytest.fixture(scope="module")
def monorepo(tmp_path_factory: pytest.TempPathFactory) -> Path:
    tmp = tmp_path_factory.mktemp("check-workflow")
    url, commit = _compiler_source(tmp)
    repo = tmp / "repo"
    for name in ("fraud", "churn"):
        spec = repo / "pipelines" / name / "mlops.yaml"
        spec.parent.mkdir(parents=True)
        spec.write_text(SPEC.format(name=name))
    (repo / ".pre-commit-config.yaml").write_text(yaml.safe_dump({"repos": [
        {"repo": url, "rev": commit, "hooks": [{"id": "mlops-lint"}, {"id": "mlops-check"}]}]}))
    _git(repo, "init", "-q")
    _build(repo, "pipelines/fraud/mlops.yaml", "pipelines/churn/mlops.yaml")
    _git(repo, "add", "-A")
    _git(repo, "commit", "-qm", "two pipelines")
    return repo


def _check(repo: Path, pipeline: str) -> act.ActResult:
    return act.run_workflow(repo, f".github/workflows/mlops-check.{pipeline}.yml",
                            event="pull_request", event_payload=PULL_REQUEST, timeout=900)


def _result(run: act.ActResult) -> str:
    (job,) = run.jobs["check"]
    return job.result


def test_the_workflow_installs_the_pinned_commit_and_nothing_else(monorepo: Path) -> None:
    workflow = yaml.safe_load((monorepo / ".github/workflows/mlops-check.fraud.yml").read_text())
    job = workflow["jobs"]["check"]
    pin = yaml.safe_load((monorepo / ".pre-commit-config.yaml").read_text())["repos"][0]
    assert job["env"]["MLOPS_COMPILER_REPO"] == pin["repo"]
    assert job["env"]["MLOPS_COMPILER_REV"] == pin["rev"]
    assert job["env"]["MLOPS_SPEC"] == "pipelines/fraud/mlops.yaml"
    installs = [s["run"] for s in job["steps"] if "pip" in s.get("run", "")]
    assert installs and all("git+$MLOPS_COMPILER_REPO@$MLOPS_COMPILER_REV" in r for r in installs)
    assert "mlops-compiler==" not in yaml.safe_dump(workflow)
    paths = workflow[True]["pull_request"]["paths"]  # YAML 1.1 reads `on:` as true
    assert "pipelines/fraud/mlops.yaml" in paths and "pipelines/fraud/airflow/dags/**" in paths


@pytest.mark.slow
def test_green_on_a_current_repository_and_red_on_a_stale_one(monorepo: Path) -> None:
    current = _check(monorepo, "fraud")
    assert _result(current) == "success", current.log[-6000:]

    spec = monorepo / "pipelines/churn/mlops.yaml"
    spec.write_text(spec.read_text().replace("echo churn", "echo churn2"))
    _git(monorepo, "commit", "-qam", "edit the spec, forget to rebuild")
    stale = _check(monorepo, "churn")
    assert _result(stale) == "failure"
    assert "stale" in stale.log or "out of date" in stale.log or "differs" in stale.log, \
        stale.log[-6000:]
    # the other pipeline's check is not affected by churn's stale files
    assert _result(_check(monorepo, "fraud")) == "success"


def test_without_a_pinned_commit_the_workflow_says_how_to_pin(tmp_path: Path) -> None:
    repo = tmp_path / "repo"
    spec = repo / "mlops.yaml"
    spec.parent.mkdir()
    spec.write_text(SPEC.format(name="solo"))
    (repo / ".pre-commit-config.yaml").write_text(yaml.safe_dump({"repos": [
        {"repo": "https://github.com/acme/mlops-compiler", "rev": "v1.0.0",
         "hooks": [{"id": "mlops-check"}]}]}))     # a tag can move: not a pin
    _git(repo, "init", "-q")
    _build(repo, "mlops.yaml")
    job = yaml.safe_load((repo / ".github/workflows/mlops-check.solo.yml").read_text())["jobs"]["check"]
    assert "MLOPS_COMPILER_REPO" not in job["env"]
    install = next(s for s in job["steps"] if s["name"].startswith("Install"))
    assert "full commit SHA" in install["run"] and "exit 1" in install["run"]


ACTION_WORKFLOW = """\
name: our own check
on: pull_request
permissions: {{}}
jobs:
  check:
    runs-on: ubuntu-24.04
    permissions: {{contents: read}}
    steps:
      - uses: actions/checkout@11bd71901bbe5b1630ceea73d27597364c9af683 # v4.2.2
        with: {{persist-credentials: false}}
      - uses: acme/mlops-compiler@{commit}
        with:
          specs: pipelines/fraud/mlops.yaml pipelines/churn/mlops.yaml
"""


@pytest.mark.slow
def test_the_action_at_the_repository_root_checks_several_specs(
        tmp_path_factory: pytest.TempPathFactory) -> None:
    tmp = tmp_path_factory.mktemp("action")
    url, commit = _compiler_source(tmp)
    repo = tmp / "repo"
    for name in ("fraud", "churn"):
        spec = repo / "pipelines" / name / "mlops.yaml"
        spec.parent.mkdir(parents=True)
        spec.write_text(SPEC.format(name=name))
    _git(repo, "init", "-q")
    _build(repo, "pipelines/fraud/mlops.yaml", "pipelines/churn/mlops.yaml")
    (repo / ".github/workflows/check.yml").write_text(ACTION_WORKFLOW.format(commit=commit))
    _git(repo, "add", "-A")
    _git(repo, "commit", "-qm", "two pipelines, our own check workflow")
    source = url.removeprefix("file://")
    local = ["--local-repository", f"acme/mlops-compiler@{commit}={source}"]

    def check() -> act.ActResult:
        return act.run_workflow(repo, ".github/workflows/check.yml", event="pull_request",
                                event_payload=PULL_REQUEST, extra_args=local, timeout=900)

    current = check()
    assert _result(current) == "success", current.log[-6000:]
    dag = repo / "pipelines/fraud/airflow/dags/mlops_fraud.py"
    dag.write_text(dag.read_text().replace("echo fraud", "echo edited"))
    _git(repo, "commit", "-qam", "a hand edit of a generated file")
    assert _result(check()) == "failure"
