"""The compiler as a library: check a spec, make its plans, build its files.

    analysis = pipeline.check(raw, "mlops.yaml")            # source, validate, graph, lint
    if analysis.ok():
        output = pipeline.build(analysis, spec_path="mlops.yaml")
        output.files                                        # relative path -> text

The CLI commands and the tests go through these functions rather than assembling the phases
themselves. Nothing here writes to disk: `compiler.writer` does, from an `Output`.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from compiler.analysis import Analysis, analyze
from compiler.diagnostics import did_you_mean
from compiler.errors import OutputConflict, UsageError
from compiler.limits import Excess, file_excesses
from compiler.plan import Plan, lower
from compiler.source import DEFAULT_MAX_SIZE
from compiler.writer import ALL_ENVIRONMENTS, Origin, Scope, header


@dataclass(frozen=True)
class Output:
    files: dict[str, str]   # relative path -> full text, header included
    scope: Scope            # what existing generated files this build answers for
    # Engine limits the files would break (SPEC.md 5.4): when any, nothing may be written.
    excesses: tuple[Excess, ...] = ()


def check(raw: bytes, path: str, *, max_size: int = DEFAULT_MAX_SIZE,
          lint: bool = True, size: int | None = None) -> Analysis:
    """The front end on a spec's bytes: YAML, schema, graph and (unless `lint` is False) the
    lint rules. `path` is how diagnostics name the file. Never raises on bad input.
    `size` is the file's size when `raw` is only its start (`analysis.read_spec`)."""
    return analyze(raw, path, max_size=max_size, run_lint=lint, size=size)


def plans(analysis: Analysis, *, spec_path: str, git_sha: str | None = None,
          environment: str | None = None, spec_dir: str = "") -> tuple[Plan, ...]:
    """One plan per environment (only `environment`'s when given), from a spec that checked
    clean. `spec_path` is how generated files name the spec; `git_sha` stamps them (--ref)."""
    assert analysis.validated is not None and analysis.graph is not None, "check() found errors"
    found = lower(analysis.validated, analysis.graph, spec_path=spec_path,
                  spec_sha256=analysis.source.sha256, git_sha=git_sha, spec_dir=spec_dir)
    if environment is None:
        return found
    names = [p.environment for p in found if p.environment]
    if not names:
        raise UsageError(f"--env {environment}: the spec defines no environments")
    if environment not in names:
        hint = did_you_mean(environment, names)
        raise UsageError(f"--env {environment}: no such environment (the spec has "
                         f"{', '.join(names)}){'; ' + hint if hint else ''}")
    return tuple(p for p in found if p.environment == environment)


def targets_of(plans: tuple[Plan, ...], only: str | None = None) -> tuple[str, ...]:
    """The targets the spec builds, or just `only` (which it must build)."""
    from compiler.targets import TARGETS

    names = tuple(plans[0].targets)
    if only is None:
        return names
    if only not in TARGETS:
        hint = did_you_mean(only, TARGETS)
        raise UsageError(f"--target {only}: no such target (there are {', '.join(TARGETS)})"
                         + (f"; {hint}" if hint else ""))
    if only not in names:
        raise UsageError(f"--target {only}: the spec does not build this target (it builds "
                         f"{', '.join(names) or 'none'}); add it under 'targets'")
    return (only,)


def build(analysis: Analysis, *, spec_path: str, git_sha: str | None = None,
          environment: str | None = None, target: str | None = None,
          spec_dir: str = "") -> Output:
    """Every file of the spec's targets (or `target`'s) and environments (or `environment`'s),
    each with its header, keyed by path."""
    selected = plans(analysis, spec_path=spec_path, git_sha=git_sha, environment=environment,
                     spec_dir=spec_dir)
    return render(selected, targets_of(selected, target), spec_path,
                  all_environments=environment is None)


def render(plans: tuple[Plan, ...], targets: tuple[str, ...], spec_rel: str,
           all_environments: bool) -> Output:
    """The files of the given targets and plans, with their headers, keyed by path."""
    from compiler.targets import TARGETS

    files: dict[str, str] = {}
    first = plans[0]

    def add(path: str, content: str, target: str, environment: str) -> None:
        if path in files:  # e.g. environment "b-c" and scheduled stage "b" in environment "c"
            raise OutputConflict(f"two generated files would be written to {path}: rename the "
                                 "stage or environment whose names run together there")
        origin = Origin(spec_rel, target, environment)
        files[path] = header(origin, first.spec_sha256, first.git_sha) + content

    excesses: list[Excess] = []
    for name in targets:
        renderer = TARGETS[name]
        before = set(files)
        for plan in plans:
            for out in renderer.render(plan):
                add(out.path, out.content, name, plan.environment or "default")
        if all_environments:
            for out in renderer.repository_files(plans):
                add(out.path, out.content, name, ALL_ENVIRONMENTS)
        excesses += file_excesses(name, renderer.limits,
                                  ((p, t) for p, t in files.items() if p not in before))
    roots = sorted({root for plan in plans for name in targets
                    for root in TARGETS[name].roots(plan.targets[name])})
    environments = None if all_environments else frozenset(
        p.environment or "default" for p in plans)
    return Output(files, Scope(spec_rel, frozenset(targets), environments, tuple(roots)),
                  tuple(excesses))


def spec_relative(spec: Path, out: Path) -> str:
    """How headers name the spec: relative to the output root, else by its file name, so the
    same build gives the same bytes on every machine."""
    try:
        return spec.resolve().relative_to(out.resolve()).as_posix()
    except ValueError:
        return spec.name
