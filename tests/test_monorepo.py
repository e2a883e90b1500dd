"""Several pipelines in one repository (SPEC.md section 1): GitHub's workflows at the
repository root whatever the spec's depth, paths in them relative to that root, files of
several specs never colliding, and `build`/`--check`/`--changed` taking several specs."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest
import yaml

from tests.conftest import REPO, run_cli

SPEC = """\
version: 1
name: {name}
stages:
  train:
    run: mkdir -p model && echo {name} > model/m.txt
    outputs: [model/]
  report:
    run: cat model/m.txt
    inputs: [model/]
targets:
  github: {{}}
  airflow: {{}}
"""


def _git(cwd: Path, *args: str) -> None:
    subprocess.run(["git", "-c", "user.name=t", "-c", "user.email=t@example.com", *args],
                   cwd=cwd, check=True, capture_output=True)


@pytest.fixture
def monorepo(tmp_path: Path) -> Path:
    root = tmp_path / "repo"
    for name in ("fraud", "churn"):
        spec = root / "pipelines" / name / "mlops.yaml"
        spec.parent.mkdir(parents=True)
        spec.write_text(SPEC.format(name=name))
    _git(root, "init", "-q")
    return root


def _tree(root: Path) -> list[str]:
    return sorted(p.relative_to(root).as_posix() for p in root.rglob("*")
                  if p.is_file() and ".git/" not in p.as_posix() + "/"
                  and not p.relative_to(root).as_posix().startswith(".git/"))


def test_two_pipelines_build_into_their_places(monorepo: Path) -> None:
    specs = sorted(str(p) for p in monorepo.glob("pipelines/*/mlops.yaml"))
    result = run_cli("build", *specs, "--quiet")
    assert result.code == 0, result.err
    assert _tree(monorepo) == [
        ".github/workflows/mlops-check.churn.yml", ".github/workflows/mlops-check.fraud.yml",
        ".github/workflows/mlops-churn.yml", ".github/workflows/mlops-fraud.yml",
        "pipelines/churn/airflow/dags/mlops_churn.py", "pipelines/churn/mlops.yaml",
        "pipelines/fraud/airflow/dags/mlops_fraud.py", "pipelines/fraud/mlops.yaml"]
    workflow = (monorepo / ".github/workflows/mlops-fraud.yml").read_text()
    assert "from pipelines/fraud/mlops.yaml" in workflow.splitlines()[1]
    check = yaml.safe_load((monorepo / ".github/workflows/mlops-check.fraud.yml").read_text())
    for path in check[True]["pull_request"]["paths"]:  # YAML 1.1 reads `on` as true
        assert path.startswith(("pipelines/fraud/", ".github/workflows/")), path
    dag = (monorepo / "pipelines/fraud/airflow/dags/mlops_fraud.py").read_text()
    assert "from mlops.yaml" in dag.splitlines()[0]
    assert run_cli("build", *specs, "--check").code == 0
    # a rebuild of one spec never removes or rewrites the other's files
    before = {p: (monorepo / p).read_bytes() for p in _tree(monorepo)}
    assert run_cli("build", specs[0], "--quiet").code == 0
    assert {p: (monorepo / p).read_bytes() for p in _tree(monorepo)} == before


def test_check_of_changed_files_finds_their_specs(monorepo: Path) -> None:
    specs = sorted(str(p) for p in monorepo.glob("pipelines/*/mlops.yaml"))
    assert run_cli("build", *specs, "--quiet").code == 0
    fraud_dag = monorepo / "pipelines/fraud/airflow/dags/mlops_fraud.py"
    fraud_dag.write_text(fraud_dag.read_text() + "# a hand edit\n")
    unchanged = monorepo / ".github/workflows/mlops-churn.yml"
    # only churn's files changed (none, in fact): its check passes
    assert run_cli("build", "--check", "--changed", unchanged).code == 0
    stale = run_cli("build", "--check", "--changed", fraud_dag, unchanged)
    assert stale.code == 1 and "a hand edit" in stale.out
    # a file that is neither a spec nor generated is ignored
    other = monorepo / "README.md"
    other.write_text("hi\n")
    assert run_cli("build", "--check", "--changed", other).code == 0


def test_out_puts_every_file_under_it_with_paths_from_the_repository_root(
        monorepo: Path, tmp_path: Path) -> None:
    spec = monorepo / "pipelines/fraud/mlops.yaml"
    out = tmp_path / "out"
    assert run_cli("build", spec, "--out", out, "--quiet").code == 0
    assert (out / ".github/workflows/mlops-fraud.yml").is_file()
    assert (out / "airflow/dags/mlops_fraud.py").is_file()
    assert not (monorepo / ".github").exists()


def test_outside_a_repository_the_spec_directory_is_the_root(tmp_path: Path) -> None:
    spec = tmp_path / "alone" / "mlops.yaml"
    spec.parent.mkdir()
    shutil.copy(REPO / "examples/minimal/mlops.yaml", spec)
    assert run_cli("build", spec, "--quiet").code == 0
    assert (spec.parent / ".github/workflows/mlops-hello.yml").is_file()
