"""Redaction of credential-looking text in what the tool prints.

Lint rule MLP308 refuses a credential written into a spec without echoing it; but other
diagnostics quote the values they complain about (an unknown key, an invalid cron, an unknown
stage in `needs`), and some of them fire before lint runs. Every diagnostic passes through
`diagnostics.finalize`, which redacts with this, so no message or hint can print one.
"""

from __future__ import annotations

from compiler.lint.credential_literal import _ANY

REDACTED = "<redacted>"


def redact(text: str) -> str:
    """`text` with every credential-looking part (MLP308's patterns) replaced by <redacted>."""
    return _ANY.sub(REDACTED, text) if _ANY.search(text) else text
