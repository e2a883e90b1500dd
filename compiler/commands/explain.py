"""`mlops explain CODE`: the documentation of one lint rule."""

from __future__ import annotations

import argparse
import sys

from compiler.errors import EXIT_OK, UsageError

HELP = "show the documentation of a lint rule"
DESCRIPTION = """\
Show what a lint rule finds, why it matters, and a failing and a fixed example.

examples:
  mlops explain MLP301
  mlops explain --list            # every rule, one line each
"""


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("code", nargs="?", help="rule code, e.g. MLP301 (or its name)")
    parser.add_argument("--list", action="store_true", help="list every rule")


def run(args: argparse.Namespace) -> int:
    from compiler.diagnostics import did_you_mean
    from compiler.lint import RULES

    if args.list or args.code is None:
        for rule in RULES.values():
            print(f"{rule.code}  {rule.name:28} {rule.severity.value:8} {rule.summary}")
        return EXIT_OK
    wanted = args.code.strip()
    by_name = {rule.name: rule for rule in RULES.values()}
    found = RULES.get(wanted.upper()) or by_name.get(wanted.lower())
    if found is None:
        hint = did_you_mean(wanted.upper(), [*RULES, *by_name])
        raise UsageError(f"no rule {wanted!r}" + (f"; {hint}" if hint else "")
                         + " ('mlops explain --list' shows them all)")
    sys.stdout.write(f"{found.code} {found.name} ({found.severity.value})\n\n"
                     f"{found.doc.strip()}\n")
    return EXIT_OK
