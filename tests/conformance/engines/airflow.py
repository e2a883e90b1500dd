"""Airflow 2 and 3 with `operator: bash`: `dag.test()` in a real Airflow, many cases per process.

Airflow's start-up is most of a small run's time (about 10 s on Airflow 3, then well under a
second per DAG), so all cases of a session go to one harness process
(`tests/airflow_harness.py test-batch`). Trigger-time params become the run's conf, secrets
the worker's environment for that run only. Tasks run in the case repository, the DAG's
default working directory (`targets.airflow.workdir` unset: the repository root found from
the DAG file), so the run's files are read back from there.
"""

from __future__ import annotations

from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

from tests import tooling
from tests.conformance.case import Status
from tests.conformance.engine import Outcome, aggregate
from tests.conformance.materialize import Prepared

# dag.test() task states -> what a case can expect; anything else means the task never started
_STATES: dict[str, Status] = {"success": "success", "failed": "failed"}


def dag_location(prepared: Prepared) -> tuple[str, str]:
    """(DAG file relative to the repository, dag_id) of the triggered workflow (README:
    `airflow/dags/mlops_<pipeline>[_<env>].py`, scheduled stages as `<dag_id>__<stage>`)."""
    trigger = prepared.case.trigger
    env = f"_{trigger.environment}" if trigger.environment else ""
    stem = f"mlops_{prepared.spec['name']}{env}".replace("-", "_")
    dag_id = stem if trigger.workflow is None else f"{stem}__{trigger.workflow.replace('-', '_')}"
    return f"airflow/dags/{stem}.py", dag_id


def _stage_of(task_id: str, stages: Sequence[str]) -> str | None:
    # a matrix stage's tasks are `<stage>__<axis>-<value>...`; cases avoid `__` in stage names
    for stage in stages:
        if task_id == stage or task_id.startswith(stage + "__"):
            return stage
    return None


def statuses(states: dict[str, str | None], stages: Sequence[str]) -> dict[str, Status]:
    per_stage: dict[str, list[Status]] = {stage: [] for stage in stages}
    for task_id, state in states.items():
        stage = _stage_of(task_id, stages)
        if stage is not None:
            per_stage[stage].append(_STATES.get(str(state), "not_run"))
    return {stage: aggregate(found) for stage, found in per_stage.items()}


@dataclass(frozen=True)
class AirflowEngine:
    major: int
    processes: int = 1   # harness processes sharing the cases (each pays Airflow's start-up)

    @property
    def name(self) -> str:
        return f"airflow{self.major}"

    target = "airflow"
    knows_commit = False  # a DAG run knows no commit (only a `build --ref` stamps one)

    def targets(self) -> dict[str, Any]:
        return {"airflow": {"version": self.major, "operator": "bash"}}

    def defaults(self) -> dict[str, Any]:
        return {}

    def run(self, prepared: Sequence[Prepared]) -> list[Outcome]:
        from tests.conformance.case import workflow_stages

        runs = []
        for item in prepared:
            dag_file, dag_id = dag_location(item)
            runs.append({"dag_file": str(item.repo / dag_file), "dag_id": dag_id,
                         "conf": dict(item.case.trigger.params) or None,
                         "env": dict(item.case.trigger.secrets)})
        # round robin, so the slow cases (timeouts, retries) spread over the processes
        shares = [runs[i::self.processes] for i in range(self.processes)]
        with ThreadPoolExecutor(max_workers=self.processes) as pool:
            done = list(pool.map(lambda share: tooling.airflow_test_batch(self.major, share, timeout=900)
                                 if share else [], shares))
        results: list[dict[str, Any]] = [{}] * len(runs)
        for i, share_results in enumerate(done):
            results[i::self.processes] = share_results
        outcomes = []
        for item, result in zip(prepared, results):
            if result.get("import_errors"):
                raise AssertionError(f"{item.case.name}: the DAG file does not import on "
                                     f"Airflow {self.major}: {result['import_errors']}")
            outcomes.append(Outcome(
                refused=result.get("refused"),
                statuses=statuses(result.get("states") or {}, workflow_stages(item.case)),
                files=item.repo,
                log=f"Airflow {result.get('airflow_version')}: dag run {result.get('dag_run_state')}, "
                    f"task states {result.get('states')}"))
        return outcomes
