"""`mlops build`: compile the spec into every target's files (or check they are current)."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path

from compiler.commands import nonempty, positive
from compiler.errors import EXIT_FINDINGS, EXIT_OK, UsageError

HELP = "compile the spec into workflow, DAG and manifest files"
DESCRIPTION = """\
Compile mlops.yaml into the files engines run: GitHub Actions workflows, Airflow
DAG files, Kubernetes/Argo manifests, Kubeflow and DVC pipelines. Files are
written under --out (default: the spec's directory; GitHub reads workflows only
at the repository root, so they go there), each with a header naming the spec;
files this tool made that are no longer produced are removed, and files it did
not make are never touched. Nothing is written when the spec has errors.
Several specs may share a repository: name them all, or let the pre-commit
hook pass the changed files (--changed).

examples:
  mlops build                              # ./mlops.yaml, every target and environment
  mlops build --check                      # exit 1 and show a diff if files are stale
  mlops build --target kubernetes --env production
  mlops build --ref v1.2.0 --out /tmp/rel  # the spec as committed at v1.2.0, stamped
  mlops build pipelines/*/mlops.yaml       # every pipeline of a monorepo
"""


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("specs", nargs="*", metavar="SPEC", type=nonempty("spec"),
                        help="spec files (default: mlops.yaml here); with --changed, any "
                             "changed files")
    parser.add_argument("--target", metavar="TARGET",
                        help="build only this target's files ('mlops targets' lists them)")
    parser.add_argument("--env", metavar="ENV", type=nonempty("--env"),
                        help="build only this environment's files")
    parser.add_argument("--out", metavar="DIR", type=nonempty("--out"),
                        help="output root (default: the directory of the spec, and GitHub's "
                             "workflows at the repository root); a filesystem root or a "
                             "system directory (/, /usr, /etc, /tmp, ...) is refused without "
                             "--allow-system-dir")
    parser.add_argument("--allow-system-dir", action="store_true",
                        help="let the output root be a filesystem root or a system directory")
    parser.add_argument("--check", action="store_true",
                        help="write nothing; print a diff and exit 1 if any file is stale")
    parser.add_argument("--changed", action="store_true",
                        help="the arguments are changed files (specs or generated files): "
                             "build or check every spec they belong to (the pre-commit hook)")
    parser.add_argument("--ref", metavar="REV", type=nonempty("--ref"),
                        help="compile the spec as stored in git at REV, stamped with its commit")
    parser.add_argument("--max-size", type=positive("--max-size"), default=None, metavar="BYTES",
                        help="largest spec file accepted (default: 10 MiB)")
    parser.add_argument("--quiet", "-q", action="store_true", help="print only problems")


def run(args: argparse.Namespace) -> int:
    from compiler.analysis import paused_gc

    # A build is one short-lived process whose objects nearly all live until it ends: cyclic
    # garbage collections would only walk them again and again while rendering, and peak
    # memory measured the same without them (479 MiB at 10,000 stages).
    with paused_gc():
        return max((_build(args, spec) for spec in _specs(args)), default=EXIT_OK)


def _specs(args: argparse.Namespace) -> Sequence[str | None]:
    """The specs to build: those given, the specs the changed files belong to (--changed), or
    the one in this directory."""
    if args.changed:
        from compiler.repository import spec_of

        found = {spec_of(Path(f)) for f in args.specs}
        return [str(p) for p in sorted(p for p in found if p is not None)]
    if args.ref is not None and len(args.specs) > 1:
        raise UsageError("--ref builds one spec at a time")
    given: list[str | None] = list(args.specs) or [None]
    return given


def _build(args: argparse.Namespace, given: str | None) -> int:
    from compiler import filesystem, pipeline, repository, writer
    from compiler.analysis import display, find_spec, read_spec
    from compiler.report import text
    from compiler.source import DEFAULT_MAX_SIZE

    git_sha = None
    size = None
    max_size = args.max_size or DEFAULT_MAX_SIZE
    if args.ref is not None:
        from compiler.versioning import read_at

        spec_path = Path(given or ".")
        spec, git_sha = read_at(spec_path, args.ref, max_size=max_size)
        raw, size = spec.raw, spec.size
        if spec_path.is_dir():
            spec_path = next((spec_path / n for n in ("mlops.yaml", "mlops.yml")
                              if (spec_path / n).exists()), spec_path / "mlops.yaml")
        shown = f"{display(spec_path)}@{git_sha[:7]}"
    else:
        spec_path = find_spec(given)
        spec = read_spec(spec_path, max_size)
        raw, size, shown = spec.raw, spec.size, display(spec_path)
    # The files' engine limits (MLP410) are checked below, on the files this build renders.
    analysis = pipeline.check(raw, shown, max_size=max_size, size=size, renders=False)
    if analysis.diagnostics:
        sys.stderr.write(text(analysis.diagnostics))
    if not analysis.ok():
        sys.stderr.write(f"mlops: {shown}: nothing written: fix the errors above first\n")
        return EXIT_FINDINGS
    placement = repository.place(spec_path, Path(args.out) if args.out is not None else None)
    output = pipeline.build(analysis, layout=placement.layout, git_sha=git_sha,
                            environment=args.env, target=args.target,
                            compiler_pin=repository.compiler_pin(placement.repository))
    if output.excesses:
        from compiler.diagnostics import finalize
        from compiler.limits import diagnostics

        found = finalize(diagnostics(output.excesses, analysis.source.locator), shown)
        sys.stderr.write(text(found))
        sys.stderr.write(f"mlops: {shown}: nothing written: the engines would refuse these "
                         "files\n")
        return EXIT_FINDINGS
    parts = [(placement.roots[part.anchor], part) for part in output.parts]
    if not args.check and not args.allow_system_dir:
        for root, _ in parts:
            refused = filesystem.system_directory(root)
            if refused is not None:  # `--check` writes nothing, so it may look anywhere
                raise UsageError(f"refusing to write generated files into {root.resolve()}: "
                                 f"it is {refused}; name a project directory with --out DIR, "
                                 "or pass --allow-system-dir if you mean it")
    if args.check:
        stale = False
        for root, part in parts:
            changes, diff = writer.plan_changes(root, part.files, part.scope)
            sys.stdout.write(_rooted(diff, root, placement.roots["output"]))
            if changes.any:
                stale = True
                print(f"mlops: {shown}: {len(changes.written)} file(s) to write and "
                      f"{len(changes.removed)} to remove under {display(root)}: run "
                      "'mlops build'", file=sys.stderr)
            elif not args.quiet:
                print(f"mlops: {shown}: {len(changes.unchanged)} generated file(s) up to date "
                      f"under {display(root)}", file=sys.stderr)
        return EXIT_FINDINGS if stale else EXIT_OK
    for root, part in parts:
        changes = writer.write(root, part.files, part.scope)
        if not args.quiet:
            for path in changes.written:
                print(f"wrote   {_shown(root, path)}")
            for path in changes.removed:
                print(f"removed {_shown(root, path)}")
            print(f"mlops: {len(changes.written)} written, {len(changes.unchanged)} unchanged, "
                  f"{len(changes.removed)} removed under {display(root)}")
    return EXIT_OK


def _shown(root: Path, path: str) -> str:
    from compiler.analysis import display

    return display(root / path)


def _rooted(diff: str, root: Path, output_root: Path) -> str:
    """A diff names files relative to their root: prefix the ones of another root."""
    if root.resolve() == output_root.resolve() or not diff:
        return diff
    from compiler.analysis import display

    prefix = display(root).rstrip("/") + "/"
    return (diff.replace("--- a/", f"--- a/{prefix}").replace("+++ b/", f"+++ b/{prefix}"))
