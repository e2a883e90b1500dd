"""Exceptions for "cannot continue", each mapped to an exit code by the CLI's one handler."""

from __future__ import annotations

# Exit codes, as SPEC.md section 4 fixes them.
EXIT_OK = 0
EXIT_FINDINGS = 1
EXIT_USAGE = 2
EXIT_INTERNAL = 3


class MlopsError(Exception):
    """Base class: the message is shown to the user as it is, without a traceback."""

    exit_code = EXIT_USAGE


class UsageError(MlopsError):
    """A bad flag, a missing file, an unknown environment or target: exit 2."""


class EnvironmentProblem(MlopsError):
    """The machine or repository is not as needed (not a git repository, unknown revision): exit 2."""


class OutputConflict(MlopsError):
    """`build` would overwrite a file it did not generate, or write through a symlink: exit 1."""

    exit_code = EXIT_FINDINGS
