"""The checks that can still run when some stages fail the schema.

A spec with four mistakes should get four findings in one run, not two now and two after the
fix. When every schema error lies inside a stage, the other stages are checked as usual: the
spec without the broken stages is validated, graphed and linted, and a finding is kept only if
it cannot be a consequence of leaving those stages out:

- it is not positioned inside a broken stage (that stage was not checked);
- it does not name a broken stage (`needs: [train]` when `train` is broken is not unknown);
- it is not a verdict on the graph as a whole (MLP302: the evaluate stage it looks for may be
  the broken one).

The result is only ever diagnostics: a spec with errors is never built.
"""

from __future__ import annotations

from typing import Any

from pydantic import ValidationError

from compiler.diagnostics import Diagnostic
from compiler.positions import Locator

# Findings about the whole graph, which a missing stage could cause.
WHOLE_GRAPH_CODES = frozenset({"MLP302"})


def broken_stages(data: Any) -> set[str] | None:
    """The stages that hold every schema error, or None when some error lies elsewhere (or
    there are none): then nothing can be checked apart."""
    from compiler.spec.models import Spec

    try:
        Spec.model_validate(data)
    except ValidationError as error:
        found = set()
        for problem in error.errors():
            loc = problem["loc"]
            if len(loc) < 2 or loc[0] != "stages" or not isinstance(loc[1], str):
                return None
            found.add(loc[1])
        return found
    return None


def without(data: dict[str, Any], stages: set[str]) -> dict[str, Any]:
    """The spec's data without `stages` (and without overlays' patches of them)."""
    kept = dict(data)
    kept["stages"] = {k: v for k, v in data["stages"].items() if k not in stages}
    environments = data.get("environments")
    if isinstance(environments, dict):
        kept["environments"] = {
            name: _overlay_without(overlay, stages) for name, overlay in environments.items()}
    return kept


def _overlay_without(overlay: Any, stages: set[str]) -> Any:
    if not isinstance(overlay, dict) or not isinstance(overlay.get("stages"), dict):
        return overlay
    return {**overlay, "stages": {k: v for k, v in overlay["stages"].items() if k not in stages}}


def _span(locator: Locator, stage: str) -> tuple[tuple[int, int], tuple[int, int]] | None:
    key, node = locator.node(("stages", stage))
    if node is None or key is None:
        return None
    start = key.start_mark
    end = node.end_mark
    return (start.line + 1, start.column + 1), (end.line + 1, end.column + 1)


def kept(found: list[Diagnostic], stages: set[str], locator: Locator) -> list[Diagnostic]:
    """The findings on the rest of the spec that leaving `stages` out cannot have caused."""
    spans = [s for s in (_span(locator, name) for name in stages) if s is not None]
    names = [f"'{name}'" for name in stages]
    result = []
    for diagnostic in found:
        where = (diagnostic.line, diagnostic.column)
        if diagnostic.code in WHOLE_GRAPH_CODES:
            continue
        if any(start <= where < end for start, end in spans):
            continue
        if any(name in diagnostic.message for name in names):
            continue
        result.append(diagnostic)
    return result

