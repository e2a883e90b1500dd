"""`mlops targets`: the capability table."""

from __future__ import annotations

import argparse
import sys

from compiler.errors import EXIT_OK

HELP = "show how each target carries each spec feature"
DESCRIPTION = """\
For each spec feature and each target: native,
emulated (and how), or unsupported. 'mlops lint' warns (MLP401) when a target
you build cannot carry a feature your spec uses.
"""


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--format", choices=("text", "markdown"), default="text")


def run(args: argparse.Namespace) -> int:
    from compiler.capabilities import table_markdown, table_text

    sys.stdout.write(table_markdown() if args.format == "markdown" else table_text())
    return EXIT_OK
