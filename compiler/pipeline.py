"""The compiler as a library: check a spec, make its plans, build its files.

    analysis = pipeline.check(raw, "mlops.yaml")            # source, validate, graph, lint
    if analysis.ok():
        output = pipeline.build(analysis, spec_path="mlops.yaml")
        output.files                                        # relative path -> text

The CLI commands and the tests go through these functions rather than assembling the phases
themselves. Nothing here writes to disk: `compiler.writer` does, from an `Output`.
"""

from __future__ import annotations

import posixpath
from collections.abc import Mapping
from dataclasses import dataclass
from functools import partial

from compiler import fanout
from compiler.analysis import Analysis, analyze
from compiler.diagnostics import did_you_mean
from compiler.errors import OutputConflict, UsageError
from compiler.limits import Excess, file_excesses
from compiler.plan import CompilerPin, Plan, lower, place
from compiler.source import DEFAULT_MAX_SIZE
from compiler.targets.base import Anchor, OutputFile
from compiler.writer import ALL_ENVIRONMENTS, Origin, Scope, header


@dataclass(frozen=True)
class Part:
    """The files of one anchor (`Target.anchor`): paths relative to that anchor's root."""

    anchor: Anchor
    files: dict[str, str]   # relative path -> full text, header included
    scope: Scope            # what existing generated files this build answers for there


@dataclass(frozen=True)
class Output:
    parts: tuple[Part, ...]
    # Engine limits the files would break (SPEC.md 5.4): when any, nothing may be written.
    excesses: tuple[Excess, ...] = ()

    @property
    def files(self) -> dict[str, str]:
        """Every file, by its path below its anchor's root."""
        return {path: text for part in self.parts for path, text in part.files.items()}


@dataclass(frozen=True)
class Layout:
    """Where a spec's files go. Headers name the spec as each anchor's root sees it, and
    files run from the repository root (GitHub's) find the spec's directory at `spec_dir`."""

    spec: Mapping[Anchor, str]   # the spec's path relative to each anchor's root
    spec_dir: str = ""           # the spec's directory relative to the repository root

    @classmethod
    def flat(cls, spec_path: str) -> Layout:
        """Every anchor at one root, the spec at `spec_path` below it (tests, one-off builds)."""
        return cls({"output": spec_path, "repository": spec_path},
                   posixpath.dirname(spec_path))


def check(raw: bytes, path: str, *, max_size: int = DEFAULT_MAX_SIZE,
          lint: bool = True, size: int | None = None, renders: bool = True) -> Analysis:
    """The front end on a spec's bytes: YAML, schema, graph and (unless `lint` is False) the
    lint rules. `path` is how diagnostics name the file. Never raises on bad input.
    `size` is the file's size when `raw` is only its start (`analysis.read_spec`).
    `renders=False` leaves the engine limits on files (MLP410) to the caller, which must then
    check `build(...).excesses`, as `mlops build` does: lint would render every file only for
    the build to render them again."""
    return analyze(raw, path, max_size=max_size, run_lint=lint, size=size, renders=renders)


def plans(analysis: Analysis, *, spec_path: str, git_sha: str | None = None,
          environment: str | None = None, spec_dir: str = "",
          compiler_pin: CompilerPin | None = None) -> tuple[Plan, ...]:
    """One plan per environment (only `environment`'s when given), from a spec that checked
    clean. `spec_path` is how generated files name the spec; `git_sha` stamps them (--ref)."""
    assert analysis.validated is not None and analysis.graph is not None, "check() found errors"
    if analysis.lint_plans is not None and git_sha is None:  # lint lowered them already
        found = place(analysis.lint_plans, spec_path=spec_path,
                      spec_sha256=analysis.source.sha256, spec_dir=spec_dir,
                      compiler_pin=compiler_pin)
    else:
        found = lower(analysis.validated, analysis.graph, spec_path=spec_path,
                      spec_sha256=analysis.source.sha256, git_sha=git_sha, spec_dir=spec_dir,
                      compiler_pin=compiler_pin)
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


def build(analysis: Analysis, *, spec_path: str | None = None, layout: Layout | None = None,
          git_sha: str | None = None, environment: str | None = None,
          target: str | None = None, compiler_pin: CompilerPin | None = None) -> Output:
    """Every file of the spec's targets (or `target`'s) and environments (or `environment`'s),
    each with its header. Give the `layout` (or just `spec_path`: every anchor at one root)."""
    if layout is None:
        assert spec_path is not None, "build() needs a spec_path or a layout"
        layout = Layout.flat(spec_path)
    selected = plans(analysis, spec_path=layout.spec["output"], git_sha=git_sha,
                     environment=environment, spec_dir=layout.spec_dir,
                     compiler_pin=compiler_pin)
    return render(selected, targets_of(selected, target), layout,
                  all_environments=environment is None)


def _render_task(plans: tuple[Plan, ...], task: tuple[str, Plan | None]
                 ) -> tuple[OutputFile, ...]:
    """One target's files for one plan, or (plan None) those it shares between `plans`."""
    from compiler.targets import TARGETS

    name, plan = task
    renderer = TARGETS[name]
    return tuple(renderer.render(plan) if plan is not None else renderer.repository_files(plans))


def render(plans: tuple[Plan, ...], targets: tuple[str, ...], layout: Layout | str,
           all_environments: bool) -> Output:
    """The files of the given targets and plans, with their headers, by anchor."""
    from compiler.targets import TARGETS

    if isinstance(layout, str):
        layout = Layout.flat(layout)
    files: dict[Anchor, dict[str, str]] = {}
    first = plans[0]

    def add(path: str, content: str, target: str, environment: str) -> None:
        anchor = TARGETS[target].anchor
        place = files.setdefault(anchor, {})
        if path in place:  # e.g. environment "b-c" and scheduled stage "b" in environment "c"
            raise OutputConflict(f"two generated files would be written to {path}: rename the "
                                 "stage or environment whose names run together there")
        origin = Origin(layout.spec[anchor], target, environment)
        place[path] = header(origin, path, first.git_sha) + content

    # Each target for each plan, then the files it shares between environments: pure
    # functions of the plans (`Target.render`), rendered in order, on several cores if large.
    tasks: list[tuple[str, Plan | None]] = [
        (name, plan) for name in targets
        for plan in (*plans, *((None,) if all_environments else ()))]
    units = sum(len(plan.stages) for plan in plans) * len(targets)
    rendered = fanout.ordered_map(partial(_render_task, plans), tasks,
                                  parallel=units >= fanout.LARGE)
    excesses: list[Excess] = []
    for (name, plan), outs in zip(tasks, rendered):
        renderer = TARGETS[name]
        environment = ALL_ENVIRONMENTS if plan is None else plan.environment or "default"
        for out in outs:
            add(out.path, out.content, name, environment)
        # each plan's files against the limits its settings leave in force (the shared
        # files against every limit)
        excesses += file_excesses(name, renderer.limits, (
            (out.path, files[renderer.anchor][out.path]) for out in outs),
            None if plan is None else plan.targets[name])
    environments = None if all_environments else frozenset(
        p.environment or "default" for p in plans)
    parts = []
    for anchor in sorted(files):
        mine = tuple(n for n in targets if TARGETS[n].anchor == anchor)
        roots = sorted({root for plan in plans for name in mine
                        for root in TARGETS[name].roots(plan.targets[name])})
        parts.append(Part(anchor, files[anchor], Scope(layout.spec[anchor], frozenset(mine),
                                                       environments, tuple(roots))))
    return Output(tuple(parts), tuple(excesses))
