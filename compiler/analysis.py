"""The front end: source, validate, graph and lint, run in order on one spec file.

Each phase runs only on the previous phase's success, but lint rules run even when the graph has
errors, so one run reports as much as it can.
"""

from __future__ import annotations

import contextlib
import gc
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

from compiler import lint, source, validate
from compiler.diagnostics import Diagnostic, finalize, has_errors
from compiler.errors import UsageError
from compiler.graph import StageGraph, build
from compiler.lint.base import LintContext
from compiler.validate import Validated

DEFAULT_SPECS = ("mlops.yaml", "mlops.yml")


@dataclass
class Analysis:
    """A spec file after the front end. `validated` and `graph` are None on errors."""

    source: source.Source
    validated: Validated | None = None
    graph: StageGraph | None = None
    diagnostics: list[Diagnostic] = field(default_factory=list)

    def ok(self, *, strict: bool = False) -> bool:
        return (self.validated is not None and self.graph is not None
                and not has_errors(self.diagnostics, strict=strict))


def analyze(raw: bytes, display_path: str, *, max_size: int = source.DEFAULT_MAX_SIZE,
            run_lint: bool = True) -> Analysis:
    """Run the front end on a spec's bytes. `display_path` is how diagnostics name the file."""
    with paused_gc():
        return _analyze(raw, display_path, max_size, run_lint)


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


def _analyze(raw: bytes, display_path: str, max_size: int, run_lint: bool) -> Analysis:
    src = source.load(raw, display_path, max_size=max_size)
    result = Analysis(src)
    found = list(src.diagnostics)
    if src.data is not None:
        result.validated, problems = validate.validate(src.data, src.locator)
        found += problems
    if result.validated is not None:
        result.graph, problems = build(result.validated.spec, src.locator)
        found += problems
        if run_lint:
            found += lint.run(LintContext(result.validated.spec, result.validated.environments,
                                          result.graph, src.data, src.locator))
    result.diagnostics = finalize(found, display_path)
    return result


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


def read_spec(path: Path) -> bytes:
    try:
        return path.read_bytes()
    except OSError as error:
        raise UsageError(f"{path}: cannot read: {error.strerror}") from None


def display(path: Path) -> str:
    """A path as diagnostics and headers show it: relative when below here, '/'-separated."""
    try:
        return path.resolve().relative_to(Path.cwd().resolve()).as_posix()
    except ValueError:
        return path.as_posix()
