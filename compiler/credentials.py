"""What looks like a credential (cloud keys, private keys, tokens), and its redaction.

Lint rule MLP308 refuses a credential written into a spec without echoing it; but other
diagnostics quote the values they complain about (an unknown key, an invalid cron, an unknown
stage in `needs`), and some of them fire before lint runs. Every diagnostic passes through
`diagnostics.finalize`, which redacts with `redact`, and so does `mlops diff`: no message or
report can print one.
"""

from __future__ import annotations

import re

REDACTED = "<redacted>"

# (kind, pattern). Patterns are anchored on word boundaries so that a credential inside a
# longer word of the same alphabet (a hash, a digest) is not mistaken for one.
_PATTERNS: tuple[tuple[str, re.Pattern[str]], ...] = (
    ("a private key", re.compile(r"-----BEGIN (?:[A-Z0-9]+ )*PRIVATE KEY(?: BLOCK)?-----")),
    ("an AWS access key id", re.compile(r"(?<![A-Z0-9])(?:AKIA|ASIA)[A-Z0-9]{16}(?![A-Z0-9])")),
    ("a GitHub token", re.compile(r"(?<![A-Za-z0-9_])(?:gh[pousr]_[A-Za-z0-9]{36,}"
                                  r"|github_pat_[A-Za-z0-9_]{22,})")),
    ("a Slack token", re.compile(r"(?<![A-Za-z0-9])xox[abprs]-[A-Za-z0-9-]{10,}")),
    ("a Google API key", re.compile(r"(?<![A-Za-z0-9_-])AIza[0-9A-Za-z_-]{35}(?![0-9A-Za-z_-])")),
    ("a JSON Web Token", re.compile(r"(?<![A-Za-z0-9_-])eyJ[A-Za-z0-9_-]{8,}\.eyJ[A-Za-z0-9_-]{8,}"
                                    r"\.[A-Za-z0-9_-]{8,}")),
    # `https://admin:hunter2pass@mlflow.example.com`: a password in a URL's user info (a
    # variable there, `:${PASSWORD}@` or `:$PASSWORD@`, is a reference, not a credential).
    ("a password in a URL", re.compile(
        r"(?<![A-Za-z0-9+.-])[A-Za-z][A-Za-z0-9+.-]*://[^\s/:@]+:(?![$%{<])[^\s/@]{3,}@"
        r"(?=[^\s/@])")),
    # `--password=hunter2hunter2`, `token: abcdef...`, `PGPASSWORD='...'`: a long literal, not
    # a reference to a variable ($X, ${X}) that the engine fills in.
    ("a password or token assignment", re.compile(
        r"(?<![A-Za-z0-9])(?i:password|passwd|token|secret|api[_-]?key|access[_-]?key)"
        r"\s*[=:]\s*['\"]?(?![$%{<])[^\s'\"]{8,}")),
)
# One pass over each string finds whether any pattern matches; most strings match none.
_ANY = re.compile("|".join(f"(?:{pattern.pattern})" for _, pattern in _PATTERNS))

# Text that every match of a pattern contains, pattern by pattern: a string holding none of it
# matches none, and substring tests are several times faster than the patterns' search (lint
# looks at every distinct string of the spec: 34,000 in the 10,000-stage benchmark).
_LITERALS = ("PRIVATE KEY", "AKIA", "ASIA", "gh", "github_pat_", "xox", "AIza", "eyJ", "://")
# ... and for the one case-insensitive pattern, in text folded as `re` folds for IGNORECASE:
# `casefold` maps `ſ` to `s` and the Kelvin sign to `k`, and `re` also takes a dotless `ı`
# for `i`.
_FOLDED = ("passw", "token", "secret", "api", "access")


def _may_hold_one(text: str) -> bool:
    if any(literal in text for literal in _LITERALS):
        return True
    folded = text.casefold().replace("\u0131", "i")
    return any(literal in folded for literal in _FOLDED)


def credential_kind(text: str) -> str | None:
    """The kind of credential `text` contains, or None."""
    if not _may_hold_one(text) or not _ANY.search(text):
        return None
    for kind, pattern in _PATTERNS:
        if pattern.search(text):
            return kind
    return None


def redact(text: str) -> str:
    """`text` with every credential-looking part replaced by <redacted>."""
    return _ANY.sub(REDACTED, text) if _ANY.search(text) else text
