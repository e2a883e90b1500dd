"""One module per `mlops` command: HELP, DESCRIPTION, add_arguments(parser), run(args) -> int."""

from __future__ import annotations

import argparse
from collections.abc import Callable

from compiler.diagnostics import quote


def nonempty(option: str) -> Callable[[str], str]:
    """An argparse `type` refusing an empty value: `--ref=` or `--out ""` (an unset shell
    variable) must be a usage error, not a silent default (the working tree, the current
    directory)."""

    def check(value: str) -> str:
        if not value.strip():
            raise argparse.ArgumentTypeError("must not be empty")
        return value

    check.__name__ = option  # argparse names the type in "invalid <name> value" messages
    return check


def positive(option: str) -> Callable[[str], int]:
    """An argparse `type` for a count or size: `--max-size 0` must not mean "the default"."""

    def check(value: str) -> int:
        try:
            number = int(value)
        except ValueError:
            raise argparse.ArgumentTypeError(f"must be a whole number, got {quote(value)}") from None
        if number < 1:
            raise argparse.ArgumentTypeError(f"must be at least 1, got {number}")
        return number

    check.__name__ = option
    return check
