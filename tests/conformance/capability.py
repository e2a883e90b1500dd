"""Which capability-table features a case uses, and why an engine may not be asked to run it.

The reason for a skip is always the table's own text (each target's `capabilities`, `mlops
targets`): a case is skipped on an engine only where its target says "unsupported".
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from compiler.targets import TARGETS
from tests.conformance.case import Case
from tests.conformance.engine import Engine

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


def skip_reason(case: Case, engine: Engine) -> str | None:
    """Why the engine's target cannot express the case: the capability table's words, or the
    target's own lint rule refusing the spec (text an engine would read as code and has no
    escape for, SPEC.md 5.5), else None."""
    return _unsupported(case, engine.target) or refusal(case, engine)


_REFUSALS: dict[tuple[str, str], str | None] = {}  # linting each pair once per session


def refusal(case: Case, engine: Engine) -> str | None:
    """The errors of the engine's spec when they all come from its target's own rules."""
    key = (case.name, engine.name)
    if key not in _REFUSALS:
        _REFUSALS[key] = _refusal(case, engine)
    return _REFUSALS[key]


def _refusal(case: Case, engine: Engine) -> str | None:
    from compiler.analysis import analyze
    from tests.conformance.materialize import spec_bytes, spec_for

    spec = spec_for(case, engine.targets(), Path("/nonexistent/journal"), engine.defaults())
    errors = [d for d in analyze(spec_bytes(spec), "mlops.yaml").diagnostics
              if d.severity.name == "ERROR"]
    own = {rule.code for rule in TARGETS[engine.target].rules()}
    if errors and all(d.code in own for d in errors):
        return f"{engine.target} refuses this spec: " + "; ".join(
            f"{d.code} {d.message}" for d in errors)
    return None


def _unsupported(case: Case, target: str) -> str | None:
    reasons = []
    if target not in TARGETS:
        raise AssertionError(f"no target {target!r} in the registry (compiler/targets): "
                             "register the target before its engine")
    for feature in sorted(features(case)):
        support = TARGETS[target].capabilities[feature]
        if support.level == "unsupported":
            reasons.append(f"{feature}: {support.how}")
    return f"{target} cannot express this case ({'; '.join(reasons)})" if reasons else None
