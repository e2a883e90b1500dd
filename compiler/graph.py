"""Phase 3, graph: the stage DAG from explicit `needs` and from inputs matched to outputs.

Errors are specific and positioned: an unknown stage at the reference itself, a cycle as an
ordered chain from the earliest-defined stage, a clashing output at the second writer.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Iterable
from dataclasses import dataclass, field

import networkx as nx

from compiler import outputs
from compiler.diagnostics import Diagnostic, diag, did_you_mean, quote
from compiler.source import Locator
from compiler.spec.models import Spec


@dataclass(frozen=True)
class StageGraph:
    """The DAG of stages. `order` is topological, ties broken by name; scheduled stages are
    nodes without edges (they run on their own schedule, outside the pipeline)."""

    graph: nx.DiGraph[str]
    order: tuple[str, ...]
    _rank: dict[str, int] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "_rank", {n: i for i, n in enumerate(self.order)})

    def upstream(self, stage: str) -> tuple[str, ...]:
        """Direct predecessors, in topological order."""
        return tuple(sorted(self.graph.predecessors(stage), key=self._rank.__getitem__))

    def ancestors(self, stage: str) -> set[str]:
        """Every stage that must finish before `stage`, directly or not."""
        return set(nx.ancestors(self.graph, stage))

    def downstream_closure(self, stages: Iterable[str]) -> set[str]:
        """The given stages and everything that depends on them."""
        result = set(stages)
        for stage in list(result):
            result |= nx.descendants(self.graph, stage)
        return result

    def edges(self) -> set[tuple[str, str]]:
        return set(self.graph.edges)


def dns_name(name: str) -> str:
    """The form of a name where a target needs DNS-1123 (`_` is not allowed there)."""
    return name.replace("_", "-")


def env_suffix(name: str) -> str:
    """The form of a param or matrix axis name inside an environment variable name."""
    return name.upper().replace("-", "_")


def build(spec: Spec, locator: Locator) -> tuple[StageGraph | None, list[Diagnostic]]:
    """Build the graph; None when it has errors (unknown stages, cycles, clashing outputs)."""
    problems: list[Diagnostic] = []
    names = list(spec.stages)
    g: nx.DiGraph[str] = nx.DiGraph()
    g.add_nodes_from(names)
    scheduled = {n for n, s in spec.stages.items() if s.schedule is not None}

    for name, stage in spec.stages.items():
        for i, need in enumerate(stage.needs):
            where = locator.position(("stages", name, "needs", i))
            if need == name:
                problems.append(diag("MLP202", f"stage {quote(name)} needs itself", where,
                                     hint="remove it from its own 'needs'"))
            elif need not in spec.stages:
                problems.append(diag("MLP201", f"stage {quote(name)} needs unknown stage {quote(need)}",
                                     where, hint=did_you_mean(need, (n for n in names if n != name))))
            elif name in scheduled:
                problems.append(diag(
                    "MLP205", f"scheduled stage {quote(name)} cannot need other stages: it runs on "
                    "its own schedule, outside the pipeline", where,
                    hint="remove 'needs', or remove 'schedule' to run it inside the pipeline"))
            elif need in scheduled:
                problems.append(diag(
                    "MLP205", f"stage {quote(name)} needs scheduled stage {quote(need)}, which runs on its "
                    "own schedule, outside the pipeline", where,
                    hint=f"remove {quote(need)} from 'needs', or remove its 'schedule'"))
            else:
                g.add_edge(need, name, via="needs")

    problems += _data_edges(spec, g, scheduled, locator)
    problems += outputs.check(spec, locator)
    problems += _name_collisions(spec, locator)
    if problems:
        return None, problems
    try:
        order = tuple(nx.lexicographical_topological_sort(g))
    except nx.NetworkXUnfeasible:
        return None, _cycles(g, names, spec, locator)
    return StageGraph(g, order), []


def _data_edges(spec: Spec, g: nx.DiGraph[str], scheduled: set[str],
                locator: Locator) -> list[Diagnostic]:
    problems = []
    writers: dict[str, tuple[str, int]] = {}
    for name, stage in spec.stages.items():
        for i, output in enumerate(stage.outputs):
            key = output.rstrip("/")
            if key in writers and writers[key][0] != name:
                first, j = writers[key]
                line = locator.position(("stages", first, "outputs", j))[0]
                problems.append(diag(
                    "MLP204", f"stages {quote(first)} and {quote(name)} both write {quote(output)}",
                    locator.position(("stages", name, "outputs", i)),
                    hint=f"{quote(first)} declares it at line {line}; give each output one writer"))
            writers.setdefault(key, (name, i))
    # A scheduled stage's outputs are not inputs to the DAG; dirs ("model/") cover what is below.
    dirs = {o.rstrip("/"): n for n, s in spec.stages.items() if n not in scheduled
            for o in s.outputs if o.endswith("/")}
    files = {o: n for n, s in spec.stages.items() if n not in scheduled for o in s.outputs}
    for name, stage in spec.stages.items():
        if name in scheduled:
            continue
        for path in stage.inputs:
            writer = files.get(path) or dirs.get(path.rstrip("/")) or _covering_dir(path, dirs)
            if writer is not None and writer != name:
                g.add_edge(writer, name, via=path)
    return problems


def _covering_dir(path: str, dirs: dict[str, str]) -> str | None:
    parts = path.rstrip("/").split("/")
    for end in range(len(parts) - 1, 0, -1):
        writer = dirs.get("/".join(parts[:end]))
        if writer is not None:
            return writer
    return None


def _name_collisions(spec: Spec, locator: Locator) -> list[Diagnostic]:
    problems = []
    groups: list[tuple[str, Iterable[str], tuple[str | int, ...], object]] = [
        ("stage", spec.stages, ("stages",), dns_name),
        ("param", spec.params, ("params",), env_suffix),
    ]
    for name, stage in spec.stages.items():
        groups.append(("matrix axis", stage.matrix, ("stages", name, "matrix"), env_suffix))
    for kind, items, prefix, convert in groups:
        seen: dict[str, str] = {}
        for item in items:
            converted = convert(item)  # type: ignore[operator]
            if converted in seen:
                problems.append(diag(
                    "MLP206", f"{kind} names {quote(seen[converted])} and {quote(item)} become the same "
                    f"name {quote(converted)} in generated files", locator.key_position((*prefix, item)),
                    hint="rename one of them; '_' and '-' are treated alike"))
            seen.setdefault(converted, item)
    return problems


def _cycles(g: nx.DiGraph[str], names: list[str], spec: Spec, locator: Locator) -> list[Diagnostic]:
    rank = {n: i for i, n in enumerate(names)}
    problems = []
    for component in sorted((c for c in nx.strongly_connected_components(g) if len(c) > 1),
                            key=lambda c: min(rank[n] for n in c)):
        start = min(component, key=rank.__getitem__)
        chain = _shortest_cycle(g, start, component, rank)
        text = " -> ".join(f'"{n}"' for n in chain)
        # Point at the edge that closes the cycle: `start` naming `closer` in its needs, or
        # (when that edge comes from inputs and outputs) at the closing stage itself.
        closer = chain[-2]
        where = locator.key_position(("stages", closer))
        if closer in spec.stages[start].needs:
            where = locator.position(("stages", start, "needs",
                                      spec.stages[start].needs.index(closer)))
        problems.append(diag("MLP203", f"the stages form a cycle: {text}", where,
                             hint="a pipeline is a DAG: remove one of these dependencies"))
    return problems


def _shortest_cycle(g: nx.DiGraph[str], start: str, component: set[str],
                    rank: dict[str, int]) -> list[str]:
    """Breadth-first from `start` back to itself, successors in definition order: stable."""
    parent: dict[str, str] = {}
    queue = deque([start])
    while queue:
        node = queue.popleft()
        for nxt in sorted(g.successors(node), key=rank.__getitem__):
            if nxt not in component:
                continue
            if nxt == start:
                chain = [node]
                while chain[-1] != start:
                    chain.append(parent[chain[-1]])
                return [start, *reversed(chain[:-1]), start] if node != start else [start, start]
            if nxt not in parent:
                parent[nxt] = node
                queue.append(nxt)
    return [start, start]  # pragma: no cover - a strongly connected component always closes
