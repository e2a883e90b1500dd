"""`mlops targets`: the capability table."""

from __future__ import annotations

import argparse
import sys

from compiler.errors import EXIT_OK

HELP = "show how each target carries each spec feature"
DESCRIPTION = """\
For each spec feature and each target: native,
emulated (and how), or unsupported. 'mlops lint' warns (MLP401) when a target
you build cannot carry a feature your spec uses. Then the engine limits each
target's files are checked against: a spec whose files would not fit is an
error (MLP410, MLP411) and nothing is written.
"""


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--format", choices=("text", "markdown"), default="text")


def run(args: argparse.Namespace) -> int:
    from compiler.capabilities import limits_markdown, limits_text, table_markdown, table_text

    if args.format == "markdown":
        sys.stdout.write(table_markdown() + "\n" + limits_markdown())
    else:
        sys.stdout.write(table_text() + "\n" + limits_text())
    return EXIT_OK
