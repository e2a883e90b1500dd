"""Semantic diff of two analyzed specs: what a change means for the pipeline, not its text.

Stages are compared by their effective values (defaults resolved, top-level env and secrets
merged in, the defaults of the params their commands reference), so that a change to
`defaults.retries` or to a param's default shows up on the stages it affects. Impacted stages are
the added and changed ones and everything downstream of them in the new graph.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

from compiler.analysis import Analysis
from compiler.graph import StageGraph
from compiler.spec import params as param_rules
from compiler.resolve import resolve_stage
from compiler.spec.models import Spec
from compiler.targets import built
from compiler.spec.values import references

Kind = Literal["added", "removed", "changed"]
_ABSENT = object()


@dataclass(frozen=True)
class FieldChange:
    """One value that differs, at a dotted path (`resources.cpu`, `learning_rate.default`)."""

    path: str
    kind: Kind
    old: Any = None
    new: Any = None

    def to_json(self) -> dict[str, Any]:
        data: dict[str, Any] = {"path": self.path, "kind": self.kind}
        if self.kind != "added":
            data["old"] = self.old
        if self.kind != "removed":
            data["new"] = self.new
        return data


@dataclass(frozen=True)
class StageChange:
    name: str
    fields: tuple[FieldChange, ...]

    @property
    def field_names(self) -> tuple[str, ...]:
        """The top-level fields that changed (`resources`, not `resources.cpu`), in order."""
        return tuple(dict.fromkeys(f.path.split(".")[0] for f in self.fields))


@dataclass(frozen=True)
class SpecDiff:
    """The difference of two specs as one engine sees them (one environment, or the base)."""

    environment: str | None
    added: tuple[str, ...] = ()
    removed: tuple[str, ...] = ()
    changed: tuple[StageChange, ...] = ()
    params: tuple[FieldChange, ...] = ()
    env: tuple[FieldChange, ...] = ()
    triggers: tuple[FieldChange, ...] = ()
    targets: tuple[FieldChange, ...] = ()
    pipeline: tuple[FieldChange, ...] = ()     # name, description, owner, secrets, approval
    impacted: tuple[str, ...] = ()

    @property
    def differs(self) -> bool:
        return bool(self.added or self.removed or self.changed or self.params or self.env
                    or self.triggers or self.targets or self.pipeline)

    def to_json(self) -> dict[str, Any]:
        return {
            "environment": self.environment,
            "stages": {
                "added": list(self.added),
                "removed": list(self.removed),
                "changed": {c.name: [f.to_json() for f in c.fields] for c in self.changed},
            },
            "params": [f.to_json() for f in self.params],
            "env": [f.to_json() for f in self.env],
            "triggers": [f.to_json() for f in self.triggers],
            "targets": [f.to_json() for f in self.targets],
            "pipeline": [f.to_json() for f in self.pipeline],
            "impacted": list(self.impacted),
        }


@dataclass(frozen=True)
class Side:
    """One analyzed version of a spec: the validated base, its environments and its graph."""

    spec: Spec
    environments: Mapping[str, Spec]
    graph: StageGraph


@dataclass(frozen=True)
class Comparison:
    environments_added: tuple[str, ...] = ()
    environments_removed: tuple[str, ...] = ()
    diffs: tuple[SpecDiff, ...] = field(default_factory=tuple)

    @property
    def differs(self) -> bool:
        return bool(self.environments_added or self.environments_removed
                    or any(d.differs for d in self.diffs))

    def to_json(self) -> dict[str, Any]:
        return {
            "differ": self.differs,
            "environments": {"added": list(self.environments_added),
                             "removed": list(self.environments_removed)},
            "diffs": [d.to_json() for d in self.diffs],
        }


def side_of(analysis: Analysis) -> Side | None:
    """The comparable form of an analyzed spec; None when it has errors."""
    if not analysis.ok() or analysis.validated is None or analysis.graph is None:
        return None
    return Side(analysis.validated.spec, analysis.validated.environments, analysis.graph)


def compare(old: Side, new: Side) -> Comparison:
    """Per environment after overlays (or the base when neither side has environments). An
    environment present on one side only is compared with the other side's base spec."""
    names = sorted(set(old.environments) | set(new.environments))
    if not names:
        return Comparison(diffs=(diff_specs(old.spec, new.spec, old.graph, new.graph, None),))
    diffs = []
    for name in names:
        a = old.environments.get(name, old.spec)
        b = new.environments.get(name, new.spec)
        diffs.append(diff_specs(a, b, old.graph, new.graph, name,
                                approval=(_approval(old.spec, name), _approval(new.spec, name))))
    return Comparison(
        environments_added=tuple(n for n in names if n not in old.environments),
        environments_removed=tuple(n for n in names if n not in new.environments),
        diffs=tuple(diffs))


def _approval(spec: Spec, env: str) -> bool:
    overlay = spec.environments.get(env)
    return bool(overlay and overlay.approval)


def diff_specs(a: Spec, b: Spec, graph_a: StageGraph, graph_b: StageGraph,
               environment: str | None, *,
               approval: tuple[bool, bool] = (False, False)) -> SpecDiff:
    added = tuple(s for s in graph_b.order if s not in a.stages)
    removed = tuple(s for s in graph_a.order if s not in b.stages)
    changed = []
    for name in graph_b.order:
        if name in a.stages:
            fields = changes(effective_stage(a, name), effective_stage(b, name))
            if fields:
                changed.append(StageChange(name, fields))
    impacted = graph_b.downstream_closure([*added, *(c.name for c in changed)])
    pipeline_a = {"name": a.name, "description": a.description, "owner": a.owner,
                  "secrets": sorted(a.secrets), "approval": approval[0],
                  "tracking": _dump(a.tracking)}
    pipeline_b = {"name": b.name, "description": b.description, "owner": b.owner,
                  "secrets": sorted(b.secrets), "approval": approval[1],
                  "tracking": _dump(b.tracking)}
    return SpecDiff(
        environment=environment,
        added=added,
        removed=removed,
        changed=tuple(changed),
        params=changes(_params(a), _params(b)),
        env=changes(dict(a.env), dict(b.env)),
        triggers=changes(_dump(a.triggers), _dump(b.triggers)),
        targets=changes(_targets(a.targets), _targets(b.targets)),
        pipeline=changes(pipeline_a, pipeline_b),
        impacted=tuple(s for s in graph_b.order if s in impacted),
    )


def effective_stage(spec: Spec, name: str) -> dict[str, Any]:
    """A stage's values as it runs (`compiler.resolve`, the planner's own resolution), plus
    the defaults of the params its commands reference. Absent values are left out, so a change
    reads as added or removed."""
    stage = resolve_stage(spec, name)
    used = sorted({ref.name for text in (stage.run or "", *stage.env.values())
                   for ref in references(text) if ref.kind == "params"})
    values: dict[str, Any] = {
        "type": stage.type,
        "run": stage.run,
        "image": stage.image,
        "needs": list(stage.needs),
        "inputs": list(stage.inputs),
        "outputs": list(stage.outputs),
        "metrics": stage.metrics,
        "gate": list(stage.gate),
        "env": stage.env,
        "secrets": list(stage.secrets),
        "resources": stage.resources,
        "retries": stage.retries,
        "retry_delay": stage.retry_delay,
        "timeout": stage.timeout,
        "schedule": stage.schedule,
        "matrix": stage.matrix,
        "serve": _dump(stage.serve) if stage.serve is not None else None,
        "params": {p: param_rules.default_of(spec.params[p]) for p in used if p in spec.params},
        "cache": stage.cache or None,
    }
    return {k: v for k, v in values.items() if v is not None and v != {} and v != []}


def _params(spec: Spec) -> dict[str, Any]:
    # One shape for a bare default and a schema, so `0.05` -> `{default: 0.1, type: number}`
    # (as an environment override writes it) reads as a changed default only.
    return {name: {"default": param_rules.default_of(p), **param_rules.json_schema(p)}
            for name, p in spec.params.items()}


def _targets(targets: Any) -> dict[str, Any]:
    """The built targets with their settings (absent `targets`: the defaults)."""
    return {name: _dump(settings, none=False) for name, settings in built(targets).items()}


def _dump(model: Any, none: bool = True) -> dict[str, Any]:
    data: dict[str, Any] = model.model_dump(mode="json", exclude_none=none)
    return data


def changes(old: Mapping[str, Any], new: Mapping[str, Any], prefix: str = "") -> tuple[
        FieldChange, ...]:
    """Differences of two nested mappings: mappings recurse, anything else (lists included)
    compares whole. Keys in sorted order, so output is stable."""
    found: list[FieldChange] = []
    for key in sorted(set(old) | set(new), key=str):
        path = f"{prefix}{key}"
        a, b = old.get(key, _ABSENT), new.get(key, _ABSENT)
        if a is _ABSENT:
            found.append(FieldChange(path, "added", new=b))
        elif b is _ABSENT:
            found.append(FieldChange(path, "removed", old=a))
        elif isinstance(a, Mapping) and isinstance(b, Mapping):
            found += changes(a, b, prefix=f"{path}.")
        elif not _same(a, b):
            found.append(FieldChange(path, "changed", a, b))
    return tuple(found)


def _same(a: Any, b: Any) -> bool:
    # `True == 1` in Python; in a spec they are different values.
    return type(a) is type(b) and a == b if not isinstance(a, list) else (
        isinstance(b, list) and len(a) == len(b) and all(_same(x, y) for x, y in zip(a, b)))


def summary(old: Side, new: Side) -> str:
    """One line for `history`: 'stages +evaluate, ~train (retries); params ~learning_rate'.
    Computed on the base specs; environment overlays are named when they change."""
    d = diff_specs(old.spec, new.spec, old.graph, new.graph, None)
    parts = []
    stages = [f"+{s}" for s in d.added] + [f"-{s}" for s in d.removed] + [
        f"~{c.name} ({', '.join(c.field_names)})" for c in d.changed]
    if stages:
        parts.append("stages " + ", ".join(stages))
    for label, items in (("params", d.params), ("env", d.env), ("triggers", d.triggers),
                         ("targets", d.targets), ("pipeline", d.pipeline)):
        if items:
            parts.append(f"{label} " + ", ".join(_marks(items)))
    overlays = changes({k: _dump(v) for k, v in old.spec.environments.items()},
                       {k: _dump(v) for k, v in new.spec.environments.items()})
    if overlays:
        parts.append("environments " + ", ".join(_marks(overlays)))
    return "; ".join(parts) if parts else "no semantic change"


def _marks(items: Iterable[FieldChange]) -> list[str]:
    """`+name`, `-name`, `~name` per top-level key, each once."""
    result: dict[str, str] = {}
    for item in items:
        key = item.path.split(".")[0]
        mark = {"added": "+", "removed": "-"}.get(item.kind, "~") if "." not in item.path else "~"
        result[key] = mark if key not in result else "~"
    return [f"{mark}{key}" for key, mark in result.items()]
