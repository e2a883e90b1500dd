"""Phase 4, lint: the MLOps rules. `RULES` maps each stable code to its rule."""

from __future__ import annotations

from dataclasses import replace

from compiler.diagnostics import Diagnostic
from compiler.lint.base import LintContext, Rule
from compiler.lint import unpinned_image

RULES: dict[str, Rule] = {rule.code: rule for rule in (
    unpinned_image.RULE,
)}


def run(context: LintContext) -> list[Diagnostic]:
    """Every rule over the context; each finding gets its rule's severity."""
    found: list[Diagnostic] = []
    for rule in RULES.values():
        found += [replace(d, code=rule.code, severity=rule.severity) for d in rule.check(context)]
    return found
