"""The names the Airflow target derives: file, DAG ids, task ids (no renderer imported, so
lint can check them for collisions)."""

from __future__ import annotations

from collections.abc import Iterator, Sequence

from compiler.diagnostics import quote
from compiler.plan import Plan, PlanStage
from compiler.targets.airflow import NAME, AirflowSettings
from compiler.targets.base import Identifier


def settings(plan: Plan) -> AirflowSettings:
    found = plan.settings(NAME)
    assert isinstance(found, AirflowSettings)
    return found


def file_stem(plan: Plan) -> str:
    """`mlops_<pipeline>[_<env>]`, a Python module name and the pipeline's dag_id."""
    env = f"_{plan.environment}" if plan.environment else ""
    return f"mlops_{plan.pipeline}{env}".replace("-", "_")


def dag_path(plan: Plan) -> str:
    directory = settings(plan).path.strip("/")
    return f"{directory}/{file_stem(plan)}.py" if directory not in ("", ".") else \
        f"{file_stem(plan)}.py"


def stage_dag_id(plan: Plan, stage: PlanStage) -> str:
    """The DAG of a stage with its own schedule: `<file stem>__<stage>`."""
    return f"{file_stem(plan)}__{stage.name.replace('-', '_')}"


def task_ids(stage: PlanStage) -> tuple[str, ...]:
    """Task ids of a stage: its name, or one per matrix combination (the plan's keys)."""
    return tuple(c.key for c in stage.combinations) or (stage.name,)


def approval_task_ids(plan: Plan) -> dict[str, str]:
    """Deploy stage -> `approve_<stage>`, the task it waits for in an environment with
    approval (none without); made unique against every other task id (deterministically)."""
    if not plan.approval:
        return {}
    taken = {task_id for s in plan.stages for task_id in task_ids(s)}
    out: dict[str, str] = {}
    for stage in plan.stages:
        if stage.type != "deploy":
            continue
        task_id = f"approve_{stage.name}"
        while task_id in taken:
            task_id += "_"
        taken.add(task_id)
        out[stage.name] = task_id
    return out


def identifiers(plans: Sequence[Plan]) -> Iterator[Identifier]:
    for plan in plans:
        where: tuple[str | int, ...] = ("environments", plan.environment) \
            if plan.environment else ("name",)
        label = f"environment {quote(plan.environment)}" if plan.environment else "the pipeline"
        yield Identifier("file", dag_path(plan), where, label)
        yield Identifier("dag_id", file_stem(plan), where, label)
        for stage in plan.scheduled_stages:
            yield Identifier("dag_id", stage_dag_id(plan, stage), ("stages", stage.name),
                             f"scheduled stage {quote(stage.name)} in {label}")
        for stage in plan.stages:
            dag = stage_dag_id(plan, stage) if stage.scheduled else file_stem(plan)
            for task_id in task_ids(stage):
                yield Identifier(f"task id in DAG {dag}", task_id, ("stages", stage.name),
                                 f"stage {quote(stage.name)}")
