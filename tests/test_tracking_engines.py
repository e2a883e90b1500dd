"""Experiment tracking on real engines: one `tracking:` block, unchanged MLflow and W&B client
code in every stage, and the runs land grouped by pipeline run and tagged with the pipeline,
stage, stage type, environment and (where the engine knows it) the commit.

MLflow is real `mlflow-skinny` against a sqlite store, queried with `mlflow.search_runs` by the
tags the stage runner sets; W&B is real `wandb` in offline mode (no connection), and each stage
reports what its `wandb.init()` run holds (group, tags, job type, name, commit). The client
libraries live in a cached venv (`tests/tooling.py`) whose python the stages call by path: the
spec's `env` names it, as a user's image would hold the libraries.

Engines: DVC (`dvc repro`), Kubeflow Pipelines (kfp.local), Airflow 3 (`dag.test()`, bash
operator) and GitHub Actions (act). DVC has no run id, so its runs carry no `mlops.run_id`
and no W&B group; every other engine gives one id to all the stages of a run.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests import act, tooling

TRACKING_REQUIREMENTS = ("mlflow-skinny==3.17.2", "wandb==0.31.0", "sqlalchemy==2.1.9",
                         "alembic==1.20.1")

TRACK_PY = """\
import json, os
import mlflow, wandb

with mlflow.start_run() as run:
    mlflow.log_metric("auc", 0.9)
r = wandb.init()
r.log({"auc": 0.9})
info = {"group": r.group or None, "tags": sorted(r.tags), "job_type": r.job_type,
        "name": r.name, "project": r.project, "commit": r.settings.git_commit or None}
r.finish()
with open(os.path.join(os.environ["TRACK_OUT"], os.environ["MLOPS_STAGE"] + ".json"), "w") as f:
    json.dump(info, f)
"""


def _tracking_python() -> Path:
    return tooling.tool_venv("tracking", TRACKING_REQUIREMENTS) / "bin" / "python"


def _spec(python: Path, out: Path, targets: dict[str, Any], image: bool) -> dict[str, Any]:
    run = f'"$TRACK_PY" {json.dumps(str(out / "track.py"))}'
    spec: dict[str, Any] = {
        "version": 1, "name": "tracked",
        "env": {"TRACK_PY": str(python), "TRACK_OUT": str(out), "WANDB_MODE": "offline",
                "WANDB_DIR": str(out), "WANDB_SILENT": "true"},
        "tracking": {"mlflow": {"tracking_uri": f"sqlite:///{out}/mlflow.db",
                                "experiment": "tracked"},
                     "wandb": {"project": "tracked"}},
        "stages": {"prep": {"type": "data", "run": run},
                   "train": {"type": "train", "needs": ["prep"], "run": run}},
        "environments": {"staging": {}},
        "targets": targets,
    }
    if image:
        spec["defaults"] = {"image": "python:3.12-slim"}  # ignored where the engine runs locally
    return spec


def _git(cwd: Path, *args: str) -> str:
    return subprocess.run(["git", "-c", "user.name=t", "-c", "user.email=t@example.com",
                           "-c", "commit.gpgsign=false", *args], cwd=cwd, check=True,
                          capture_output=True, text=True).stdout.strip()


def _repo(tmp_path: Path, targets: dict[str, Any], image: bool = False) -> tuple[Path, Path]:
    repo, out = tmp_path / "repo", tmp_path / "tracking"
    repo.mkdir()
    out.mkdir()
    (out / "track.py").write_text(TRACK_PY)
    (repo / "mlops.yaml").write_text(yaml.safe_dump(_spec(_tracking_python(), out, targets,
                                                          image), sort_keys=False))
    _git(repo, "init", "-q")
    build = subprocess.run([sys.executable, "-m", "compiler", "build", "--quiet"], cwd=repo,
                           capture_output=True, text=True)
    assert build.returncode == 0, build.stderr
    _git(repo, "add", "-A")
    _git(repo, "commit", "-qm", "tracked")
    return repo, out


def _mlflow_runs(out: Path) -> list[dict[str, str]]:
    query = ("import json, mlflow, sys\n"
             "mlflow.set_tracking_uri(sys.argv[1])\n"
             "runs = mlflow.search_runs(experiment_names=['tracked'], output_format='list',\n"
             "                          filter_string=\"tags.`mlops.pipeline` = 'tracked'\")\n"
             "print(json.dumps([r.data.tags for r in runs]))\n")
    proc = subprocess.run([str(_tracking_python()), "-c", query, f"sqlite:///{out}/mlflow.db"],
                          capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr
    runs: list[dict[str, str]] = json.loads(proc.stdout)
    return runs


def _check(out: Path, log: str, *, commit: str | None, run_id: bool,
           head: str | None = None) -> None:
    """`commit`: what the engine knows and passes (MLOPS_GIT_SHA); where it knows none, the
    clients may still find `head` themselves, from the repository the stage runs in."""
    allowed = {commit} if commit is not None else {None, head}
    runs = {tags["mlops.stage"]: tags for tags in _mlflow_runs(out)}
    assert sorted(runs) == ["prep", "train"], log[-4000:]
    for stage, kind in (("prep", "data"), ("train", "train")):
        tags = runs[stage]
        assert tags["mlops.pipeline"] == "tracked" and tags["mlops.stage_type"] == kind
        assert tags["mlops.environment"] == "staging"
        assert tags.get("mlflow.source.git.commit") in allowed, tags
        wandb = json.loads((out / f"{stage}.json").read_text())
        assert wandb["project"] == "tracked" and wandb["job_type"] == kind
        assert wandb["name"] == stage
        assert wandb["tags"] == ["environment:staging", "pipeline:tracked", f"stage:{stage}"]
        assert wandb["commit"] in allowed, wandb
    if run_id:  # one pipeline run: one id on both stages, in MLflow's tags and W&B's group
        ids = {runs[s].get("mlops.run_id") for s in runs}
        groups = {json.loads((out / f"{s}.json").read_text())["group"] for s in runs}
        assert len(ids) == 1 and None not in ids, ids
        assert groups == {f"tracked-{ids.pop()}"}
    else:
        assert all("mlops.run_id" not in tags for tags in runs.values())


@pytest.mark.slow
def test_dvc(tmp_path: Path) -> None:
    repo, out = _repo(tmp_path, {"dvc": {"environment": "staging"}})
    tooling.dvc(repo, "init", "-q")
    proc = tooling.dvc(repo, "repro", "mlops-dvc/tracked-staging/dvc.yaml", check=False,
                       timeout=600)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    _check(out, proc.stdout + proc.stderr, commit=None, run_id=False,
           head=_git(repo, "rev-parse", "HEAD"))


@pytest.mark.slow
def test_kubeflow_local_runner(tmp_path: Path) -> None:
    repo, out = _repo(tmp_path, {"kubeflow": {}}, image=True)
    workspace = tmp_path / "workspace"  # kfp.local deletes its workspace after the run
    shutil.copytree(repo, workspace)
    result = tooling.kfp_run(repo / "kfp/tracked-staging.yaml", workspace)
    assert result["error"] is None, result["stderr"][-4000:]
    _check(out, result["stderr"], commit=None, run_id=True, head=_git(repo, "rev-parse", "HEAD"))


@pytest.mark.slow
def test_airflow3(tmp_path: Path) -> None:
    repo, out = _repo(tmp_path, {"airflow": {"version": 3, "operator": "bash",
                                             "workdir": str(tmp_path / "repo")}})
    result = tooling.airflow_test(3, repo / "airflow/dags/mlops_tracked_staging.py",
                                  "mlops_tracked_staging")
    assert result.get("dag_run_state") == "success", json.dumps(result)[-4000:]
    _check(out, json.dumps(result), commit=None, run_id=True,
           head=_git(repo, "rev-parse", "HEAD"))


@pytest.mark.slow
def test_github_actions(tmp_path: Path) -> None:
    repo, out = _repo(tmp_path, {"github": {"runs_on": "ubuntu-24.04"}})
    run = act.run_workflow(repo, ".github/workflows/mlops-tracked-staging.yml")
    assert all(job.result == "success" for jobs in run.jobs.values() for job in jobs), run.log[-4000:]
    _check(out, run.log, commit=_git(repo, "rev-parse", "HEAD"), run_id=True)
