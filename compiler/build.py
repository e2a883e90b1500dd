"""The back end: plans rendered by every selected target, headers added, ready to write."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from compiler.analysis import Analysis
from compiler.diagnostics import did_you_mean
from compiler.errors import OutputConflict, UsageError
from compiler.plan import Plan, lower
from compiler.writer import ALL_ENVIRONMENTS, Origin, Scope, header

TARGET_NAMES = ("github", "airflow", "kubernetes")


@dataclass(frozen=True)
class Output:
    files: dict[str, str]   # relative path -> full text, header included
    scope: Scope


def select_plans(analysis: Analysis, spec_path: str, git_sha: str | None,
                 environment: str | None) -> tuple[Plan, ...]:
    assert analysis.validated is not None and analysis.graph is not None
    plans = lower(analysis.validated, analysis.graph, spec_path=spec_path,
                  spec_sha256=analysis.source.sha256, git_sha=git_sha)
    if environment is None:
        return plans
    names = [p.environment for p in plans if p.environment]
    if not names:
        raise UsageError(f"--env {environment}: the spec defines no environments")
    if environment not in names:
        hint = did_you_mean(environment, names)
        raise UsageError(f"--env {environment}: no such environment (the spec has "
                         f"{', '.join(names)}){'; ' + hint if hint else ''}")
    return tuple(p for p in plans if p.environment == environment)


def built_targets(plans: tuple[Plan, ...], only: str | None) -> tuple[str, ...]:
    names = tuple(t for t in TARGET_NAMES if getattr(plans[0], t) is not None)
    if only is None:
        return names
    if only not in names:
        raise UsageError(f"--target {only}: the spec does not build this target (it builds "
                         f"{', '.join(names) or 'none'}); add it under 'targets'")
    return (only,)


def render(plans: tuple[Plan, ...], targets: tuple[str, ...], spec_rel: str,
           all_environments: bool) -> Output:
    """Every file of the selected targets and plans, with its header, keyed by path."""
    from compiler.render import TARGETS

    files: dict[str, str] = {}
    first = plans[0]

    def add(path: str, content: str, target: str, environment: str) -> None:
        if path in files:  # e.g. environment "b-c" and scheduled stage "b" in environment "c"
            raise OutputConflict(f"two generated files would be written to {path}: rename the "
                                 "stage or environment whose names run together there")
        origin = Origin(spec_rel, target, environment)
        files[path] = header(origin, first.spec_sha256, first.git_sha) + content

    for target in targets:
        renderer = TARGETS[target]
        for plan in plans:
            for out in renderer.render(plan):
                add(out.path, out.content, target, plan.environment or "default")
        if all_environments:
            for out in renderer.repository_files(plans):
                add(out.path, out.content, target, ALL_ENVIRONMENTS)
    roots = sorted({_root(plan, t) for plan in plans for t in targets})
    environments = None if all_environments else frozenset(
        p.environment or "default" for p in plans)
    return Output(files, Scope(spec_rel, frozenset(targets), environments, tuple(roots)))


def _root(plan: Plan, target: str) -> str:
    settings = getattr(plan, target)
    return str(settings.path)


def spec_relative(spec: Path, out: Path) -> str:
    """How headers name the spec: relative to the output root, else by its file name, so the
    same build gives the same bytes on every machine."""
    try:
        return spec.resolve().relative_to(out.resolve()).as_posix()
    except ValueError:
        return spec.name
