"""Names, labels and annotations of the Kubernetes target.

Names that the target derives (`<pipeline>-<stage>`, `<pipeline>-<environment>`) must stay
within Kubernetes' limits; SPEC.md says they are shortened deterministically with a short hash
suffix, never an error. Inputs are already DNS-1123 (`Plan.dns`, `PlanStage.dns`).
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator, Sequence

from compiler.diagnostics import quote
from compiler.plan import Plan, PlanStage
from compiler.targets.base import Identifier

MANAGED_BY = "mlops-compiler"
# DNS-1123 label (Service, container, label values): 63. A CronJob's name is at most 52, because
# the controller appends an 11-character suffix to the Jobs it creates.
LABEL_LIMIT = 63
CRONJOB_LIMIT = 52


def short_name(name: str, limit: int = LABEL_LIMIT) -> str:
    """`name` if it fits, else a prefix plus `-` and 8 hex digits of its sha256 (deterministic,
    and two long names with the same prefix still differ)."""
    if len(name) <= limit:
        return name
    digest = hashlib.sha256(name.encode()).hexdigest()[:8]
    return f"{name[:limit - 9].rstrip('-')}-{digest}"


def instance(plan: Plan) -> str:
    """`app.kubernetes.io/instance`: one per pipeline and environment."""
    return short_name(f"{plan.dns}-{plan.environment or 'default'}".replace("_", "-"))


def resource_name(plan: Plan, part: str, limit: int = LABEL_LIMIT) -> str:
    """`<pipeline>-<part>` within `limit`."""
    return short_name(f"{plan.dns}-{part}", limit)


def labels(plan: Plan, component: str) -> list[tuple[str, str]]:
    """The recommended labels (kubernetes.io/docs/concepts/overview/working-with-objects/
    common-labels), in a fixed order."""
    return [
        ("app.kubernetes.io/name", plan.dns),
        ("app.kubernetes.io/instance", instance(plan)),
        ("app.kubernetes.io/component", short_name(component)),
        ("app.kubernetes.io/part-of", plan.dns),
        ("app.kubernetes.io/managed-by", MANAGED_BY),
    ]


def selector(plan: Plan, component: str) -> list[tuple[str, str]]:
    """Labels that select one component's pods (immutable in a Deployment: no version in it)."""
    return [pair for pair in labels(plan, component)
            if pair[0] in ("app.kubernetes.io/name", "app.kubernetes.io/instance",
                           "app.kubernetes.io/component")]


def trace_annotations(plan: Plan) -> list[tuple[str, str]]:
    """Traceability (SPEC.md section 5.6), on object metadata only: the spec the object was
    generated from (its path relative to the output root, as in the file's header, which
    `kubectl apply` does not keep), and its commit under `--ref`.

    Never the spec's bytes (a hash of the whole spec would change every file on any edit, even
    a comment: section 5.2), and never in a pod template (`pod.py` says how a pod learns the
    commit without one), so a build at another commit rolls no workload."""
    result = [("mlops.dev/spec", plan.spec_path)]
    if plan.git_sha:
        result.append(("mlops.dev/git-sha", plan.git_sha))
    return result


# The ConfigMap split (`scripts.configmap_parts`), here because it decides ConfigMap names. A
# ConfigMap holds at most 1 MiB of data, and one applied client-side at most 262,144 bytes in
# all (`LIMITS`): a spec of more stages than this splits its stages' files across `part_count`
# ConfigMaps. Chosen so that a part of typical stages (a few hundred bytes each: 276 in the
# benchmark spec) stays far below the client-side limit; a part that is over anyway is an
# MLP410 error like any other file, never a file written.
STAGES_PER_PART = 128


def part_count(plan: Plan) -> int:
    """1 up to `STAGES_PER_PART` stages, else the power of two that keeps the parts at most that
    full on average. It depends on the number of stages only, never on their bytes: an edit to
    one stage's command or env never moves another stage to another part (adding stages past
    a power of two does, once)."""
    count = 1
    while len(plan.stages) > count * STAGES_PER_PART:
        count *= 2
    return count


def stage_part(stage: PlanStage, parts: int) -> int:
    """The part that holds a stage's files: a stable hash of its name (never its position), so
    adding or editing one stage changes one part."""
    return int(hashlib.sha256(stage.name.encode()).hexdigest(), 16) % parts


def configmap_name(plan: Plan, part: int | None = None) -> str:
    """`<pipeline>-run`, and `<pipeline>-run-<part>` for a part of a split one
    (`scripts.configmap_parts`). Only ConfigMaps have these names: no stage's object collides."""
    return resource_name(plan, "run" if part is None else f"run-{part}")


def template_name(plan: Plan) -> str:
    return short_name(plan.dns)


def identifiers(plans: Sequence[Plan]) -> Iterator[Identifier]:
    """Objects by kind and name in their namespace: two environments that share a namespace
    would overwrite each other's objects."""
    for plan in plans:
        where: tuple[str | int, ...] = ("environments", plan.environment) \
            if plan.environment else ("name",)
        label = f"environment {quote(plan.environment)}" if plan.environment else "the pipeline"
        scope = f"object in namespace {plan.pod.namespace}"
        yield Identifier(scope, f"ConfigMap {configmap_name(plan)}", where, label)
        for part in range(part_count(plan) if part_count(plan) > 1 else 0):
            yield Identifier(scope, f"ConfigMap {configmap_name(plan, part)}", where, label)
        if plan.pipeline_stages:
            # parts.py names its templates with ours, so it imports this module
            from compiler.targets.kubernetes import parts

            yield Identifier(scope, f"WorkflowTemplate {template_name(plan)}", where, label)
            for index in range(parts.part_count(plan)):
                yield Identifier(scope, f"WorkflowTemplate {parts.template_name(plan, index)}",
                                 where, label)
        for stage in plan.scheduled_stages:
            yield Identifier(scope, f"CronJob {resource_name(plan, stage.dns, CRONJOB_LIMIT)}",
                             where, label)
        for stage in plan.stages:
            if stage.serve is not None:
                yield Identifier(scope, f"Deployment {resource_name(plan, stage.dns)}", where,
                                 label)
