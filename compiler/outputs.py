"""Graph-phase checks of what stages write and list, beyond "one writer per path" (MLP204):

- MLP207 nested-output: an output inside an output directory that is declared already
  (`model/w.pt` beside `model/`). Whoever reads `model/` would miss or race the other file: on
  GitHub the two are separate artifacts, on a shared workspace nothing orders the writers, and
  DVC refuses overlapping outputs outright.
- MLP208 duplicate-entry: one entry twice in `needs`, `inputs`, `outputs` or `secrets`: a
  typo for another entry, most of the time; GitHub refuses a job listed twice in `needs`.
- MLP209 shared-metrics-file: two stages naming one metrics file that no stage declares as an
  output. Each writes it, so on a shared workspace (Argo, Airflow) one stage's gate can read
  the other's numbers and pass. Sharing is fine when one stage outputs the file and the others
  read it (`examples/minimal` gates on a file its train stage outputs).

Every finding is at the later of the two places, with the earlier one named in the hint.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator

from compiler.diagnostics import Diagnostic, describe_path, diag, quote
from compiler.positions import Locator
from compiler.spec.models import Spec

Loc = tuple[str | int, ...]


def check(spec: Spec, locator: Locator) -> list[Diagnostic]:
    return [*_duplicates(spec, locator), *_nested(spec, locator), *_shared_metrics(spec, locator)]


def _lists(spec: Spec) -> Iterator[tuple[Loc, list[str]]]:
    yield ("secrets",), spec.secrets
    yield ("defaults", "secrets"), spec.defaults.secrets
    for name, stage in spec.stages.items():
        for field in ("needs", "inputs", "outputs", "secrets"):
            yield ("stages", name, field), getattr(stage, field)


def _duplicates(spec: Spec, locator: Locator) -> Iterator[Diagnostic]:
    for where, items in _lists(spec):
        first: dict[str, int] = {}
        for i, item in enumerate(items):
            # Paths are normalised by validation (`./x` is `x`); `model` and `model/` are one.
            key = item.rstrip("/") if where[-1] in ("inputs", "outputs") else item
            if key not in first:
                first[key] = i
                continue
            line = locator.position((*where, first[key]))[0]
            yield diag("MLP208", f"{quote(item)} is listed twice in {_field(where)}",
                       locator.position((*where, i)),
                       hint=f"remove this one (the first is at line {line}), or name the entry "
                            "you meant")


def _field(where: Loc) -> str:
    return describe_path(where)


def _nested(spec: Spec, locator: Locator) -> Iterator[Diagnostic]:
    directories: dict[str, tuple[str, int]] = {}  # "model" -> (stage, index) of "model/"
    for name, stage in spec.stages.items():
        for i, output in enumerate(stage.outputs):
            if output.endswith("/"):
                directories.setdefault(output.rstrip("/"), (name, i))
    if not directories:
        return
    for name, stage in spec.stages.items():
        for i, output in enumerate(stage.outputs):
            covering = _covering(output, directories)
            if covering is None:
                continue
            owner, j = covering
            outer = spec.stages[owner].outputs[j]
            line = locator.position(("stages", owner, "outputs", j))[0]
            where = locator.position(("stages", name, "outputs", i))
            if owner == name:
                yield diag("MLP207", f"stage {quote(name)} lists {quote(output)} inside its own "
                           f"output {quote(outer)}", where,
                           hint=f"remove it: {quote(outer)} (line {line}) already covers it")
            else:
                yield diag("MLP207", f"{quote(output)} of stage {quote(name)} is inside "
                           f"{quote(outer)}, which stage {quote(owner)} writes", where,
                           hint=f"{quote(owner)} declares {quote(outer)} at line {line}: give "
                                "each stage a directory of its own, or let one stage write both")


def _covering(path: str, directories: dict[str, tuple[str, int]]) -> tuple[str, int] | None:
    """The declared output directory strictly above `path`, the outermost one."""
    parts = path.rstrip("/").split("/")
    for end in range(1, len(parts)):
        found = directories.get("/".join(parts[:end]))
        if found is not None:
            return found
    return None


def _written(spec: Spec) -> tuple[set[str], dict[str, tuple[str, int]]]:
    files = {o for s in spec.stages.values() for o in s.outputs if not o.endswith("/")}
    directories = {o.rstrip("/"): (n, i) for n, s in spec.stages.items()
                   for i, o in enumerate(s.outputs) if o.endswith("/")}
    return files, directories


def _shared_metrics(spec: Spec, locator: Locator) -> Iterable[Diagnostic]:
    users: dict[str, list[str]] = {}
    for name, stage in spec.stages.items():
        if stage.metrics is not None:
            users.setdefault(stage.metrics, []).append(name)
    shared = {path: names for path, names in users.items() if len(names) > 1}
    if not shared:
        return []
    files, directories = _written(spec)
    problems = []
    for path, names in shared.items():
        if path in files or _covering(path, directories) is not None:
            continue  # one stage outputs it, the others read it: one writer, declared
        first = names[0]
        line = locator.position(("stages", first, "metrics"))[0]
        for name in names[1:]:
            problems.append(diag(
                "MLP209", f"stages {quote(first)} and {quote(name)} both write metrics file "
                f"{quote(path)}: on a shared workspace one stage's gate can read the other's "
                "numbers", locator.position(("stages", name, "metrics")),
                hint=f"give each stage its own metrics file ({quote(first)} names it at line "
                     f"{line}); to gate both on the same numbers, list it in the 'outputs' of "
                     "the stage that writes it"))
    return problems
