"""`mlops explain CODE`: the documentation of one diagnostic code."""

from __future__ import annotations

import argparse
import sys

from compiler.diagnostics import quote
from compiler.errors import EXIT_OK, UsageError

HELP = "show the documentation of a diagnostic code (MLP101, MLP302, ...)"
DESCRIPTION = """\
Show what a diagnostic code means, why it matters, and a failing and a fixed
example. Every code 'mlops lint' can print is documented: MLP1xx (YAML and
schema), MLP2xx (the stage graph), MLP3xx (MLOps rules), MLP4xx (targets).

examples:
  mlops explain MLP301
  mlops explain unpinned-image    # or by name
  mlops explain --list            # every code, one line each
"""


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("code", nargs="?", help="code, e.g. MLP301 (or its name)")
    parser.add_argument("--list", action="store_true", help="list every code")


def run(args: argparse.Namespace) -> int:
    from compiler.codes import CODES, documentation
    from compiler.diagnostics import did_you_mean

    if args.list or args.code is None:
        for code in CODES.values():
            if not code.removed:
                print(f"{code.code}  {code.name:28} {code.severity.value:8} {code.summary}")
        return EXIT_OK
    wanted = args.code.strip()
    by_name = {code.name: code for code in CODES.values()}
    found = CODES.get(wanted.upper()) or by_name.get(wanted.lower())
    if found is None:
        hint = did_you_mean(wanted.upper(), [*CODES, *by_name])
        raise UsageError(f"no code {quote(wanted)}" + (f"; {hint}" if hint else "")
                         + " ('mlops explain --list' shows them all)")
    doc = documentation(found.code)
    removed = " It is no longer reported." if found.removed else ""
    sys.stdout.write(f"{found.code} {found.name} ({found.severity.value})\n\n"
                     f"{(doc or found.summary + '.' + removed).strip()}\n")
    return EXIT_OK
