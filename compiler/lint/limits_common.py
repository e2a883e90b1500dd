"""What the engine-limit rules share: the spec's plans, lowered as `mlops build` would."""

from __future__ import annotations

from typing import TYPE_CHECKING

from compiler.lint.base import LintContext

if TYPE_CHECKING:  # pragma: no cover - the planner imports networkx; `mlops explain` must not
    from compiler.plan import Plan


def plans_of(context: LintContext) -> tuple[Plan, ...]:
    """The plans of the linted spec. Headers name the spec `mlops.yaml`: sizes may differ
    from a build by the length of the real path.

    None while the graph has errors, or while a value cannot be lowered (a cron, a duration
    or a gate that other rules report): the limits are checked once those are fixed.
    Lowered once per lint run: every rule that asks gets the same plans."""
    if "plans" not in context.memo:
        context.memo["plans"] = _lower(context)
    plans: tuple[Plan, ...] = context.memo["plans"]
    return plans


def _lower(context: LintContext) -> tuple[Plan, ...]:
    if context.graph is None:
        return ()
    from compiler.plan import lower
    from compiler.validate import Validated

    try:
        return lower(Validated(context.spec, context.environments), context.graph,
                     spec_path="mlops.yaml", spec_sha256="0" * 64)
    except ValueError:
        return ()


def lowered(context: LintContext) -> tuple[Plan, ...] | None:
    """The plans, if a rule of this lint run lowered them (None otherwise: a small spec, or a
    lint with errors in the graph)."""
    plans: tuple[Plan, ...] | None = context.memo.get("plans") or None
    return plans
