"""Per-environment triggers (SPEC.md: an overlay's `triggers` replaces the spec's): the churn
example runs staging on push, weekly and on demand, production on demand only, on GitHub,
Airflow and Argo alike. Read from the golden files, which are what `mlops build` writes."""

from __future__ import annotations

import re
from pathlib import Path

import yaml

GOLDEN = Path(__file__).resolve().parent / "golden" / "churn"


def _on(path: str) -> dict[str, object]:
    workflow = yaml.safe_load((GOLDEN / path).read_text())
    on: dict[str, object] = workflow[True]  # YAML 1.1 reads `on:` as true
    return on


def test_github_staging_on_push_schedule_and_demand_production_on_demand_only() -> None:
    assert set(_on(".github/workflows/mlops-churn-staging.yml")) == {
        "push", "schedule", "workflow_dispatch"}
    assert set(_on(".github/workflows/mlops-churn-production.yml")) == {"workflow_dispatch"}


def _pipeline_schedule(path: str) -> str:
    text = (GOLDEN / path).read_text()
    # the pipeline's DAG is the first; a scheduled stage's own DAG keeps its own cron
    found = re.findall(r"^    schedule=(.*),$", text, re.M)
    return found[0]


def test_airflow_production_dag_has_no_schedule() -> None:
    assert _pipeline_schedule("airflow/dags/mlops_churn_staging.py") == "'0 3 * * 1'"
    assert _pipeline_schedule("airflow/dags/mlops_churn_production.py") == "None"


def test_argo_only_staging_has_a_cron_workflow() -> None:
    staging = yaml.safe_load((GOLDEN / "k8s/staging/cronworkflow.yaml").read_text())
    assert staging["kind"] == "CronWorkflow"
    assert not (GOLDEN / "k8s/production/cronworkflow.yaml").exists()
    kustomization = yaml.safe_load((GOLDEN / "k8s/production/kustomization.yaml").read_text())
    assert "cronworkflow.yaml" not in kustomization["resources"]
