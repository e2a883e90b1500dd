"""`mlops lint`: parse, validate, graph and MLOps rules, reported for people and for CI."""

from __future__ import annotations

import argparse
import sys

from compiler.commands import nonempty, positive
from compiler.errors import EXIT_FINDINGS, EXIT_OK

HELP = "check specs: YAML, schema, graph and MLOps rules"
DESCRIPTION = """\
Check one or more mlops.yaml files and report every problem found, as
path:line:col: severity CODE message, with a hint where there is a fix.

Exit 0 when there are no errors (warnings too, with --strict), 1 otherwise,
2 for a missing file. 'mlops explain CODE' documents each rule.

examples:
  mlops lint                      # ./mlops.yaml or ./mlops.yml
  mlops lint --strict --format github pipelines/*/mlops.yaml
"""


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("files", nargs="*", metavar="FILE", type=nonempty("FILE"),
                        help="spec files (default: mlops.yaml or mlops.yml here)")
    parser.add_argument("--format", choices=("text", "json", "github", "sarif"), default="text",
                        help="text for people, json for tools, github for workflow "
                             "annotations, sarif for code scanning (default: text)")
    parser.add_argument("--strict", action="store_true", help="warnings fail too")
    parser.add_argument("--max-size", type=positive("--max-size"), default=None, metavar="BYTES",
                        help="largest spec file accepted (default: 10 MiB)")


def run(args: argparse.Namespace) -> int:
    from compiler.analysis import paused_gc

    # One short-lived process, as a build (build.py says why): with the collector on, the first
    # allocations after each analysis would walk its whole tree once more (0.25 s at 10,000
    # stages). The cyclic garbage an analysis leaves is small (about 2,300 objects at 1,000
    # stages), so a pre-commit run over many specs stays small too.
    with paused_gc():
        return _lint(args)


def _lint(args: argparse.Namespace) -> int:
    from compiler.analysis import analyze, display, find_spec, read_spec
    from compiler.diagnostics import has_errors
    from compiler.report import REPORTERS
    from compiler.source import DEFAULT_MAX_SIZE

    paths = [find_spec(f) for f in args.files] if args.files else [find_spec(None)]
    diagnostics = []
    max_size = args.max_size or DEFAULT_MAX_SIZE
    for path in paths:
        spec = read_spec(path, max_size)
        analysis = analyze(spec.raw, display(path), max_size=max_size, size=spec.size)
        diagnostics += analysis.diagnostics
    sys.stdout.write(REPORTERS[args.format](diagnostics))
    if args.format == "text" and not diagnostics:  # the report counts findings; silence
        sys.stderr.write(f"mlops: {len(paths)} spec{'s' if len(paths) != 1 else ''} checked: "
                         "no problems found\n")  # would look like nothing ran

    return EXIT_FINDINGS if has_errors(diagnostics, strict=args.strict) else EXIT_OK
