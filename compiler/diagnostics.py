"""Diagnostics: the user's mistakes, as data.

A diagnostic is a frozen, ordered value. Phases and rules create them without a path (they do not
know which file they are looking at); the driver fills the path in, then sorts and dedupes.
Exceptions are kept for "cannot continue" (see `compiler.errors`).
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from enum import Enum

from compiler.credentials import redact


class Severity(str, Enum):
    ERROR = "error"
    WARNING = "warning"
    INFO = "info"


# Sorting puts errors before warnings at the same position.
_SEVERITY_RANK = {Severity.ERROR: 0, Severity.WARNING: 1, Severity.INFO: 2}


@dataclass(frozen=True, order=True)
class Diagnostic:
    """One finding at one place in one file. Line and column are 1-based."""

    path: str
    line: int
    column: int
    code: str
    severity: Severity = field(compare=False)
    message: str
    hint: str | None = field(default=None, compare=False)

    def format(self) -> str:
        """`path:line:col: severity CODE message`, the shape editors and CI annotate."""
        text = f"{self.path}:{self.line}:{self.column}: {self.severity.value} {self.code} {self.message}"
        if self.hint:
            text += f"\n  hint: {self.hint}"
        return text


def diag(
    code: str,
    message: str,
    position: tuple[int, int] | None = None,
    *,
    hint: str | None = None,
) -> Diagnostic:
    """Build a diagnostic without a path; `finalize` fills it in, with the code's severity."""
    line, column = position if position else (1, 1)
    return Diagnostic("", line, column, code, Severity.ERROR, message, hint)


def finalize(diagnostics: Iterable[Diagnostic], path: str) -> list[Diagnostic]:
    """Give every diagnostic its file and its code's severity (`compiler.codes`), then sort
    by position and drop exact repeats.

    Messages and hints that quote a credential-looking value have it redacted (see
    `compiler.credentials`): diagnostics end up in CI logs."""
    from compiler.codes import CODES  # the table imports Severity from here

    seen: set[tuple[object, ...]] = set()
    result: list[Diagnostic] = []
    redacted = (replace(d, path=path, severity=CODES[d.code].severity, message=redact(d.message),
                        hint=redact(d.hint) if d.hint else d.hint) for d in diagnostics)
    for d in sorted(redacted, key=_sort_key):
        key = (d.line, d.column, d.code, d.message)
        if key not in seen:
            seen.add(key)
            result.append(d)
    return result


def _sort_key(d: Diagnostic) -> tuple[object, ...]:
    return (d.path, d.line, d.column, _SEVERITY_RANK[d.severity], d.code, d.message)


def has_errors(diagnostics: Iterable[Diagnostic], *, strict: bool = False) -> bool:
    """True when the diagnostics should fail the command (`--strict` counts warnings)."""
    failing = {Severity.ERROR, Severity.WARNING} if strict else {Severity.ERROR}
    return any(d.severity in failing for d in diagnostics)


def did_you_mean(word: str, candidates: Iterable[str]) -> str | None:
    """A 'did you mean ...?' hint when one candidate is close to `word`."""
    options = sorted(set(candidates))
    close = difflib.get_close_matches(word, options, n=1, cutoff=0.6)
    if not close and len(word) >= 3:  # an abbreviation: 'prod' for 'production'
        close = [o for o in options if o.startswith(word)][:1]
    return f"did you mean {close[0]!r}?" if close else None


def quote(value: object, limit: int = 60) -> str:
    """A value as it appears inside a message: repr-quoted and cut to a readable length."""
    text = value if isinstance(value, str) else str(value)
    if len(text) > limit:
        text = text[: limit - 3] + "..."
    return repr(text)
