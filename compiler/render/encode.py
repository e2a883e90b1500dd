"""Encoders: the only way a value reaches a generated file.

Each returns an `Encoded` string, and the template environment refuses anything else
(`templating.py`), so a raw spec string can never be pasted into an output as code.
"""

from __future__ import annotations

import json
import re
import shlex
from functools import lru_cache
from typing import Any


class Encoded(str):
    """Text already encoded for the place it is written to."""

    __slots__ = ()


# Plain YAML scalars that every YAML 1.1 and 1.2 reader takes as the same string.
_PLAIN_SAFE = re.compile(r"[A-Za-z_/][A-Za-z0-9_./-]*")
_YAML_SPECIAL = re.compile(
    r"(?i:y|n|yes|no|true|false|on|off|null|~|\.nan|\.inf|[-+]?\.inf)")


def _double_quoted(text: str) -> str:
    """A YAML double-quoted scalar: JSON's escapes, ASCII only. JSON spells a character beyond
    U+FFFF as a surrogate pair, which YAML reads as two invalid characters; use `\\U` there."""
    if not text or max(text) <= "\uffff":  # max() runs in C: the common case stays fast
        return json.dumps(text, ensure_ascii=True)
    return '"' + "".join(f"\\U{ord(c):08x}" if ord(c) > 0xFFFF else json.dumps(c)[1:-1]
                         for c in text) + '"'


@lru_cache(maxsize=65536)
def _yaml_text(text: str) -> Encoded:
    # Outputs repeat the same strings (images, names, variables) across stages and
    # environments: caching the encoding is a large part of a 10,000-stage build.
    if _PLAIN_SAFE.fullmatch(text) and not _YAML_SPECIAL.fullmatch(text):
        return Encoded(text)
    return Encoded(_double_quoted(text))


def yaml_scalar(value: Any) -> Encoded:
    """A YAML flow scalar for a string, number, boolean or null.

    Strings are written plain when that is unambiguous, otherwise double-quoted with JSON's
    escapes (a subset of YAML's), ASCII only, so no character can end the scalar early.
    """
    if isinstance(value, str):
        return _yaml_text(value)
    if value is None:
        return Encoded("null")
    if isinstance(value, bool):
        return Encoded("true" if value else "false")
    if isinstance(value, (int, float)):
        return Encoded(json.dumps(value))
    raise _unencodable(value, "a YAML scalar")


def yaml_string(value: Any) -> Encoded:
    """Like `yaml_scalar`, but always a string in YAML: numbers and booleans are quoted."""
    return _yaml_text(value if isinstance(value, str) else json.dumps(value))


def _unencodable(value: Any, what: str) -> Exception:
    # A template's missing variable arrives here as Jinja's StrictUndefined: let it report
    # itself as missing (checked only on this error path, so encoding stays fast).
    fail = getattr(value, "_fail_with_undefined_error", None)
    if fail is not None:
        fail()
    return TypeError(f"cannot encode {type(value).__name__} as {what}")


@lru_cache(maxsize=65536)
def _python_text(text: str) -> Encoded:
    return Encoded(repr(text))  # cached as _yaml_text is: DAG files repeat names and values


def python_literal(value: Any) -> Encoded:
    """A Python literal (str, int, float, bool, None, and lists/tuples/dicts of them)."""
    if isinstance(value, str):
        return _python_text(value)
    if value is None or isinstance(value, (bool, int)):
        return Encoded(repr(value))
    if isinstance(value, float):
        if value != value or value in (float("inf"), float("-inf")):
            return Encoded(f"float({str(value)!r})")
        return Encoded(repr(value))
    if isinstance(value, (list, tuple)):
        items = ", ".join(python_literal(v) for v in value)
        return Encoded(f"[{items}]" if isinstance(value, list) else f"({items}{',' if len(value) == 1 else ''})")
    if isinstance(value, dict):
        items = ", ".join(f"{python_literal(k)}: {python_literal(v)}" for k, v in value.items())
        return Encoded("{" + items + "}")
    raise _unencodable(value, "a Python literal")


def shell_word(value: str) -> Encoded:
    """One POSIX shell word that the shell reads back as exactly `value`."""
    return Encoded(shlex.quote(value))


def json_text(value: Any) -> Encoded:
    """Compact, key-sorted JSON: data for a script, never code."""
    return Encoded(json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=True))


def trusted(text: str) -> Encoded:
    """Text the compiler itself produced (never spec data): an explicit, greppable opt-out."""
    return Encoded(text)
