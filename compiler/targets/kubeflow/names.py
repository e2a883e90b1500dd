"""The names the Kubeflow target derives: its file and the pipeline's name (no renderer
imported, so lint can check them for collisions)."""

from __future__ import annotations

from collections.abc import Iterator, Sequence

from compiler.diagnostics import quote
from compiler.graph import dns_name
from compiler.plan import Plan
from compiler.targets.base import Identifier
from compiler.targets.kubeflow import NAME, KubeflowSettings


def settings(plan: Plan) -> KubeflowSettings:
    found = plan.settings(NAME)
    assert isinstance(found, KubeflowSettings)
    return found


def file_path(plan: Plan) -> str:
    return f"{settings(plan).path.rstrip('/')}/{plan.pipeline}{plan.suffix}.yaml"


def pipeline_name(plan: Plan) -> str:
    return plan.dns + (f"-{dns_name(plan.environment)}" if plan.environment else "")


def identifiers(plans: Sequence[Plan]) -> Iterator[Identifier]:
    for plan in plans:
        where: tuple[str | int, ...] = ("environments", plan.environment) \
            if plan.environment else ("name",)
        label = f"environment {quote(plan.environment)}" if plan.environment else "the pipeline"
        yield Identifier("file", file_path(plan), where, label)
        yield Identifier("pipeline name", pipeline_name(plan), where, label)
