"""`mlops graph`: the stage DAG as Mermaid, Graphviz dot, JSON or text."""

from __future__ import annotations

import argparse
import json
import sys

from compiler.commands import nonempty
from compiler.errors import EXIT_FINDINGS, EXIT_OK

HELP = "print the stage graph (mermaid, dot, json or text)"
DESCRIPTION = """\
Print the pipeline's stage graph: explicit 'needs' plus the edges implied when
a stage reads what another writes. Stages with their own 'schedule' stand alone.

examples:
  mlops graph                       # text, in run order
  mlops graph --format mermaid > docs/pipeline.mmd
  mlops graph --format dot | dot -Tsvg > pipeline.svg
"""


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("spec", nargs="?", type=nonempty("spec"), help="spec file (default: mlops.yaml here)")
    parser.add_argument("--format", choices=("text", "mermaid", "dot", "json"), default="text")


def run(args: argparse.Namespace) -> int:
    from compiler.analysis import paused_gc

    with paused_gc():  # one short-lived process (lint.py says why)
        return _graph(args)


def _graph(args: argparse.Namespace) -> int:
    from compiler.analysis import analyze, display, find_spec, read_spec
    from compiler.report import text

    path = find_spec(args.spec)
    read = read_spec(path)
    analysis = analyze(read.raw, display(path), run_lint=False, size=read.size)
    if analysis.graph is None or analysis.validated is None:
        sys.stderr.write(text(analysis.diagnostics))
        return EXIT_FINDINGS
    spec, graph = analysis.validated.spec, analysis.graph
    rank = {s: i for i, s in enumerate(graph.order)}  # order.index() per edge is quadratic
    edges = sorted(graph.graph.edges, key=lambda e: (rank[e[0]], rank[e[1]]))
    if args.format == "json":
        data = {"pipeline": spec.name, "stages": [
            {"name": s, "type": spec.stages[s].type, "needs": list(graph.upstream(s)),
             "schedule": spec.stages[s].schedule} for s in graph.order]}
        out = json.dumps(data, indent=2, sort_keys=True) + "\n"
    elif args.format == "mermaid":
        ids = {s: f"s{i}" for i, s in enumerate(graph.order)}
        lines = ["graph TD"]
        lines += [f"  {ids[s]}[{json.dumps(s)}]" for s in graph.order]
        lines += [f"  {ids[a]} --> {ids[b]}" for a, b in edges]
        out = "\n".join(lines) + "\n"
    elif args.format == "dot":
        lines = [f"digraph {json.dumps(spec.name)} {{", "  rankdir=LR;"]
        lines += [f"  {json.dumps(s)};" for s in graph.order]
        lines += [f"  {json.dumps(a)} -> {json.dumps(b)};" for a, b in edges]
        out = "\n".join(lines) + "\n}\n"
    else:
        lines = []
        for s in graph.order:
            stage = spec.stages[s]
            after = graph.upstream(s)
            note = (f"  (on schedule {stage.schedule!r})" if stage.schedule
                    else f"  <- {', '.join(after)}" if after else "")
            lines.append(f"{s} [{stage.type}]{note}")
        out = "\n".join(lines) + "\n"
    sys.stdout.write(out)
    return EXIT_OK
