"""The front end: source, validate, graph and lint, run in order on one spec file.

Each phase runs only on the previous phase's success, but lint rules run even when the graph has
errors, so one run reports as much as it can.
"""

from __future__ import annotations

import contextlib
import gc
import os
import stat
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from compiler import lint, salvage, source, validate
from compiler.diagnostics import Diagnostic, finalize, has_errors
from compiler.errors import UsageError
from compiler.graph import StageGraph, build
from compiler.lint.base import LintContext
from compiler.lint.limits_common import lowered
from compiler.positions import Locator
from compiler.validate import Validated

if TYPE_CHECKING:  # pragma: no cover - the planner imports networkx; `mlops explain` must not
    from compiler.plan import Plan

DEFAULT_SPECS = ("mlops.yaml", "mlops.yml")


@dataclass
class Analysis:
    """A spec file after the front end. `validated` and `graph` are None on errors."""

    source: source.Source
    validated: Validated | None = None
    graph: StageGraph | None = None
    diagnostics: list[Diagnostic] = field(default_factory=list)
    # The plans lint lowered for its engine-limit rules (headers naming `mlops.yaml`, no
    # commit), when it did: a build places them (`compiler.plan.place`) instead of lowering
    # a large spec a second time.
    lint_plans: tuple[Plan, ...] | None = None

    def ok(self, *, strict: bool = False) -> bool:
        return (self.validated is not None and self.graph is not None
                and not has_errors(self.diagnostics, strict=strict))


def analyze(raw: bytes, display_path: str, *, max_size: int = source.DEFAULT_MAX_SIZE,
            run_lint: bool = True, size: int | None = None, renders: bool = True) -> Analysis:
    """Run the front end on a spec's bytes. `display_path` is how diagnostics name the file.

    `size` is the file's full size when `raw` holds only its start (see `read_spec`).
    `renders=False`: lint does not render files to measure them (the caller will)."""
    with paused_gc():
        return _analyze(raw, display_path, max_size, run_lint, size, renders)


@contextlib.contextmanager
def paused_gc() -> Iterator[None]:
    """No cyclic garbage collection inside.

    The phases build large trees of objects that are not garbage (YAML nodes, data, models):
    every collection would traverse them all again, doubling the time of a 10,000-stage
    spec. Reference counting still frees everything acyclic as usual.
    """
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def _analyze(raw: bytes, display_path: str, max_size: int, run_lint: bool,
             size: int | None, renders: bool) -> Analysis:
    src = source.load(raw, display_path, max_size=max_size, size=size)
    result = Analysis(src)
    found = list(src.diagnostics)
    if src.data is not None:
        result.validated, problems = validate.validate(src.data, src.locator)
        found += problems
        # Where the spec wanted text, MLP122 already asks to quote the number.
        as_text = {(d.line, d.column) for d in problems if d.code == "MLP122"}
        found += [d for d in src.yaml11_numbers if (d.line, d.column) not in as_text]
    if result.validated is not None:
        result.graph, problems = build(result.validated.spec, src.locator)
        found += problems
        if run_lint:
            context = LintContext(result.validated.spec, result.validated.environments,
                                  result.graph, src.data, src.locator, renders=renders)
            found += lint.run(context)
            result.lint_plans = lowered(context)
    elif run_lint and isinstance(src.data, dict):
        found += _the_rest(src.data, src.locator, found)
    result.diagnostics = finalize(found, display_path)
    return result


def _the_rest(data: dict[str, object], locator: Locator, found: list[Diagnostic]
              ) -> list[Diagnostic]:
    """Graph and rule findings on the stages that passed the schema (`compiler.salvage`)."""
    broken = salvage.broken_stages(data)
    if not broken:
        return []
    rest = salvage.without(data, broken)
    validated, problems = validate.validate(rest, locator)
    if validated is None:
        return []
    graph, more = build(validated.spec, locator)
    more += lint.run(LintContext(validated.spec, validated.environments, graph, rest, locator))
    seen = {(d.code, d.line, d.column) for d in found}
    return [d for d in salvage.kept(more, broken, locator)
            if (d.code, d.line, d.column) not in seen]


def find_spec(given: str | None) -> Path:
    """The spec file to read: the one given, or mlops.yaml / mlops.yml here."""
    if given is not None:
        path = Path(given)
        if path.is_dir():
            for name in DEFAULT_SPECS:
                if (path / name).is_file():
                    return path / name
            raise UsageError(f"no mlops.yaml or mlops.yml in {given}")
        if not path.is_file():
            raise UsageError(f"{given}: no such file")
        return path
    for name in DEFAULT_SPECS:
        if Path(name).is_file():
            return Path(name)
    raise UsageError("no mlops.yaml or mlops.yml in this directory; name a spec file, "
                     "or run 'mlops init' to write one")


@dataclass(frozen=True)
class SpecBytes:
    """A spec file as read: all of it, or only its first bytes when it is over the limit.

    `size` is the file's size (`source.UNKNOWN_SIZE` for a pipe or a device that gave more than
    the limit), so an oversized file is refused by its size without being read: a 2 GiB file
    costs one fstat, not 2 GiB of memory."""

    raw: bytes
    size: int


def read_spec(path: Path, max_size: int = source.DEFAULT_MAX_SIZE) -> SpecBytes:
    """The spec's bytes, never more than `max_size + 1` of them.

    The size comes from fstat of the open file, not from a stat before opening (a rename in
    between would outdate it). Whatever fstat says, the read stays bounded: a file may grow
    while it is read, and a pipe or device (`/dev/zero`) has no size at all."""
    try:
        with path.open("rb") as f:
            info = os.fstat(f.fileno())
            regular = stat.S_ISREG(info.st_mode)
            if regular and info.st_size > max_size:
                return SpecBytes(b"", info.st_size)
            raw = f.read(max_size + 1)
    except OSError as error:
        raise UsageError(f"{path}: cannot read: {error.strerror or error}") from None
    if len(raw) > max_size:
        return SpecBytes(raw, max(len(raw), info.st_size) if regular else source.UNKNOWN_SIZE)
    return SpecBytes(raw, len(raw))


def display(path: Path) -> str:
    """A path as diagnostics and headers show it: relative when below here, '/'-separated."""
    try:
        return path.resolve().relative_to(Path.cwd().resolve()).as_posix()
    except ValueError:
        return path.as_posix()
