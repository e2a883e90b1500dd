"""Phase 4, lint: the MLOps rules. `RULES` maps each stable code to its rule: the rules of
this package, then those each target brings (`Target.rules`, for what only matters when the
target is built)."""

from __future__ import annotations

from dataclasses import replace
from functools import partial

from compiler import fanout
from compiler.diagnostics import Diagnostic
from compiler.lint import walk
from compiler.lint import (
    bad_gate,
    capability,
    credential_literal,
    deploy_without_gate,
    derived_names,
    file_limits,
    gate_without_metrics,
    github_expression,
    interpolation_outside_run,
    invalid_cron,
    invalid_duration,
    kubernetes_names,
    missing_image,
    monitor_without_schedule,
    overlay_changes_graph,
    secret_shadows_env,
    stage_limits,
    unknown_matrix_axis,
    unknown_overlay_stage,
    unknown_param,
    unpinned_image,
)
from compiler.lint.base import LintContext, Rule
from compiler.targets import TARGETS

RULES: dict[str, Rule] = {rule.code: rule for rule in sorted((
    unpinned_image.RULE,
    deploy_without_gate.RULE,
    gate_without_metrics.RULE,
    bad_gate.RULE,
    unknown_param.RULE,
    unknown_matrix_axis.RULE,
    github_expression.RULE,
    credential_literal.RULE,
    invalid_cron.RULE,
    invalid_duration.RULE,
    monitor_without_schedule.RULE,
    unknown_overlay_stage.RULE,
    interpolation_outside_run.RULE,
    overlay_changes_graph.RULE,
    missing_image.RULE,
    secret_shadows_env.RULE,
    capability.RULE,
    kubernetes_names.RULE,
    file_limits.RULE,
    stage_limits.RULE,
    derived_names.RULE,
    *(rule for target in TARGETS.values() for rule in target.rules()),
), key=lambda rule: rule.code)}


def run(context: LintContext) -> list[Diagnostic]:
    """Every rule over the context; each finding gets its rule's code and severity.

    On a large spec the rules that lower the plans run here (the plans stay in this process
    for the build) while the others run beside them in a forked child (`compiler.fanout`):
    the same findings, in the same order, in about the time of the slower half."""
    rules = tuple(RULES.values())
    units = len(context.spec.stages) * (1 + len(context.environments))
    try:
        theirs, mine = fanout.beside(
            partial(_check, tuple(r for r in rules if not r.lowers), context),
            partial(_check, tuple(r for r in rules if r.lowers), context),
            parallel=units >= fanout.LARGE)
    finally:
        walk.forget()  # the shared string walk lives for one run only
    found = {**theirs, **mine}
    return [d for rule in rules for d in found[rule.code]]


def _check(rules: tuple[Rule, ...], context: LintContext) -> dict[str, list[Diagnostic]]:
    """Each rule's findings, by code."""
    return {rule.code: [replace(d, code=rule.code, severity=rule.severity)
                        for d in rule.check(context)] for rule in rules}
