"""Which capability-table features a case uses, and why an engine may not be asked to run it.

The reason for a skip is always the table's own text (each target's `capabilities`, `mlops
targets`): a case is skipped on an engine only where its target says "unsupported".
"""

from __future__ import annotations

from typing import Any

from compiler.targets import TARGETS
from tests.conformance.case import Case

# stage (or defaults) field -> the capability-table feature it needs
_STAGE_FIELDS = {"needs": "needs", "inputs": "inputs/outputs", "outputs": "inputs/outputs",
                 "retries": "retries", "timeout": "timeout", "image": "image",
                 "resources": "resources", "matrix": "matrix", "secrets": "secrets",
                 "gate": "gate", "schedule": "stage schedule", "serve": "serve"}


def features(case: Case) -> set[str]:
    spec: dict[str, Any] = dict(case.spec)
    used: set[str] = set()
    layers = [spec.get("defaults") or {}, *(s or {} for s in spec["stages"].values())]
    for layer in layers:
        used.update(feature for key, feature in _STAGE_FIELDS.items() if layer.get(key))
    if spec.get("params"):
        used.add("params")
    if spec.get("secrets"):
        used.add("secrets")
    if (spec.get("triggers") or {}).get("schedule"):
        used.add("schedule")
    if any((env or {}).get("approval") for env in (spec.get("environments") or {}).values()):
        used.add("approval")
    if case.trigger.event == "push":
        used.add("push trigger")
    return used


def skip_reason(case: Case, target: str) -> str | None:
    """Why ``target`` cannot express the case (the capability table's words), else None."""
    reasons = []
    if target not in TARGETS:
        raise AssertionError(f"no target {target!r} in the registry (compiler/targets): "
                             "register the target before its engine")
    for feature in sorted(features(case)):
        support = TARGETS[target].capabilities[feature]
        if support.level == "unsupported":
            reasons.append(f"{feature}: {support.how}")
    return f"{target} cannot express this case ({'; '.join(reasons)})" if reasons else None
