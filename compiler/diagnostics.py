"""Diagnostics: the user's mistakes, as data.

A diagnostic is a frozen, ordered value. Phases and rules create them without a path (they do not
know which file they are looking at); the driver fills the path in, then sorts and dedupes.
Exceptions are kept for "cannot continue" (see `compiler.errors`).
"""

from __future__ import annotations

import difflib
import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from enum import Enum

from compiler.credentials import redact


class Severity(str, Enum):
    ERROR = "error"
    WARNING = "warning"
    INFO = "info"


MAX_MESSAGE = 500  # characters of one message or hint; quoted text is capped far below that
_KEY_LIMIT = 40
# Everything a terminal, an editor or Python's splitlines() takes for a line break.
_BREAKS = re.compile("[\n\r\x0b\x0c\x1c-\x1e\x85\u2028\u2029]")

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
    redacted = (replace(d, path=path, severity=CODES[d.code].severity,
                        message=one_line(redact(d.message)),
                        hint=one_line(redact(d.hint)) if d.hint else d.hint) for d in diagnostics)
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
    """A 'did you mean ...?' hint when one candidate is close to `word`; for a word with
    non-ASCII characters, also which they are (a Cyrillic 'а' looks like a Latin 'a')."""
    options = sorted(set(candidates))
    close = difflib.get_close_matches(word, options, n=1, cutoff=0.6)
    if not close and len(word) >= 3:  # an abbreviation: 'prod' for 'production'
        close = [o for o in options if o.startswith(word)][:1]
    notes = [f"did you mean {quote(close[0])}?"] if close else []
    odd = [c for c in dict.fromkeys(word) if not c.isascii()]
    if odd:
        names = ", ".join(f"U+{ord(c):04X} ({unicodedata.name(c, 'unnamed')})" for c in odd[:3])
        notes.append(f"{quote(word)} has {names}{' and more' if len(odd) > 3 else ''}, which "
                     "may look like ASCII but is not")
    return " ".join(notes) or None


def quote(value: object, limit: int = 60) -> str:
    """A value as it appears inside a message: quoted, cut to `limit` characters, and escaped
    so that it stays on one line and every character is visible: a line break as \\n, an
    invisible or non-ASCII character as \\u200b or \\u0430 (a Cyrillic 'а' in 'trаin' shows
    as 'tr\\u0430in'). Numbers, booleans and null are shown as YAML writes them, unquoted.
    Every message and hint quotes spec text through this."""
    if value is None or isinstance(value, (bool, int, float)):  # as YAML writes it, unquoted
        shown = "null" if value is None else str(value).lower() if isinstance(value, bool) \
            else repr(value)
        return shown if len(shown) <= limit else shown[: limit - 3] + "..."
    text = value if isinstance(value, str) else str(value)
    if len(text) > limit:
        text = text[: limit - 3] + "..."
    return ascii(text)


def describe_path(path: Iterable[str | int]) -> str:
    """A data path as people write it, quoted: 'stages.train.env.TOKEN', 'stages.eval.gate[1]'.
    Each key is cut to a readable length (a key may be megabytes long, or hold a newline)."""
    text = ""
    for part in path:
        if isinstance(part, int):
            text += f"[{part}]"
            continue
        shown = part if len(part) <= _KEY_LIMIT else part[:_KEY_LIMIT - 3] + "..."
        text += f".{shown}" if text else shown
    return quote(text, limit=4 * _KEY_LIMIT)


def one_line(text: str, limit: int = MAX_MESSAGE) -> str:
    """`text` as one line of at most `limit` characters: the last guard of the promise that a
    diagnostic prints as one line (and its hint as one more), whatever text reached it."""
    text = _BREAKS.sub(lambda m: ascii(m.group())[1:-1], text)
    return text if len(text) <= limit else text[: limit - 3] + "..."
