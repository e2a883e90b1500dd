"""The names the DVC target derives: its pipeline directory (no renderer imported, so lint can
check them for collisions)."""

from __future__ import annotations

import posixpath
from collections.abc import Iterator, Sequence

from compiler.diagnostics import quote
from compiler.plan import Plan
from compiler.targets.base import Identifier
from compiler.targets.dvc import NAME, DvcSettings


def settings(plan: Plan) -> DvcSettings:
    found = plan.settings(NAME)
    assert isinstance(found, DvcSettings)
    return found


def builds(plan: Plan) -> bool:
    """Whether DVC builds this plan: every one, or `targets.dvc.environment`'s (lint refuses
    several environments without a choice when their stages declare outputs: MLP407)."""
    chosen = settings(plan).environment
    return chosen is None or chosen == plan.environment


def directory(plan: Plan) -> str:
    """The pipeline directory, relative to the output root."""
    base = posixpath.normpath(settings(plan).path)
    name = f"{plan.pipeline}{plan.suffix}"
    return name if base == "." else f"{base}/{name}"


def identifiers(plans: Sequence[Plan]) -> Iterator[Identifier]:
    for plan in plans:
        if not builds(plan):
            continue
        where: tuple[str | int, ...] = ("environments", plan.environment) \
            if plan.environment else ("name",)
        label = f"environment {quote(plan.environment)}" if plan.environment else "the pipeline"
        yield Identifier("directory", directory(plan), where, label)
