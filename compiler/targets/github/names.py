"""The names the GitHub target derives: workflow files (no renderer imported, so lint can
check them for collisions)."""

from __future__ import annotations

from collections.abc import Iterator, Sequence

from compiler.diagnostics import quote
from compiler.plan import Plan, PlanStage
from compiler.targets.base import Identifier
from compiler.targets.github import NAME, GithubSettings

CHECK_WORKFLOW = "mlops-check.{pipeline}.yml"


def settings(plan: Plan) -> GithubSettings:
    found = plan.settings(NAME)
    assert isinstance(found, GithubSettings)
    return found


def workflow_path(plan: Plan, stage: PlanStage | None = None) -> str:
    """`mlops-<pipeline>[-<stage>][-<env>].yml`: the pipeline's, or a scheduled stage's."""
    directory = settings(plan).path.rstrip("/")
    middle = f"-{stage.dns}" if stage is not None else ""
    return f"{directory}/mlops-{plan.dns}{middle}{plan.suffix}.yml"


def check_path(plan: Plan) -> str:
    # The dot keeps it apart from every name a pipeline, stage or environment can produce.
    return f"{settings(plan).path.rstrip('/')}/{CHECK_WORKFLOW.format(pipeline=plan.dns)}"


def identifiers(plans: Sequence[Plan]) -> Iterator[Identifier]:
    for plan in plans:
        where: tuple[str | int, ...] = ("environments", plan.environment) \
            if plan.environment else ("name",)
        label = f"environment {quote(plan.environment)}" if plan.environment else "the pipeline"
        yield Identifier("file", workflow_path(plan), where, label)
        for stage in plan.scheduled_stages:
            yield Identifier("file", workflow_path(plan, stage), ("stages", stage.name),
                             f"scheduled stage {quote(stage.name)} in {label}")
