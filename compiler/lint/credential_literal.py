"""MLP308 credential-literal: a value that looks like a password, key or token.

## What it finds
A string in the file that looks like a credential: an AWS access key id (`AKIA...`/`ASIA...`),
a private key block (`-----BEGIN ... PRIVATE KEY-----`), a GitHub token (`ghp_`, `gho_`,
`ghu_`, `ghs_`, `ghr_`, `github_pat_`), a Slack token (`xoxb-`...), a Google API key
(`AIza...`), a JSON Web Token, an assignment such as `password=...` or `token=...` of a long
literal, or a long literal as the value of an env variable or the default of a param named
like `..._PASSWORD`, `..._TOKEN`, `..._SECRET` or `..._API_KEY`. The finding names the kind and the place, never the value.

## Why it matters
The spec is committed to git, and the compiler copies its strings into generated files that are
committed too. A credential written here is leaked to everyone who can read the repository,
forever (git history keeps it). Revoke it, and pass it as a secret instead: list its name in
`secrets:` and let the engine's secret store provide the value.

## Failing example
```yaml
version: 1
name: churn
defaults:
  image: ghcr.io/acme/churn:1.4.2
stages:
  ingest:
    run: python ingest.py
    env:
      AWS_ACCESS_KEY_ID: AKIAIOSFODNN7EXAMPLE
```

## Fixed example
```yaml
version: 1
name: churn
defaults:
  image: ghcr.io/acme/churn:1.4.2
stages:
  ingest:
    run: python ingest.py
    secrets: [AWS_ACCESS_KEY_ID]
```
"""

from __future__ import annotations

import re
from collections.abc import Iterator

from compiler.credentials import credential_kind
from compiler.diagnostics import Diagnostic
from compiler.lint.base import LintContext, Path, Rule, finding
from compiler.lint.walk import all_strings, describe

# An env variable whose name says it holds a secret, set to a long literal.
_SECRET_NAME = re.compile(r"(?i)(?:^|_)(?:password|passwd|token|secret|api_?key|access_key"
                          r"|secret_key|private_key)$")
_LITERAL = re.compile(r"[^\s$]{8,}")


def _safe_describe(path: Path) -> str:
    """The path, with any part that itself looks like a credential left out."""
    return describe(tuple("<redacted>" if isinstance(p, str) and credential_kind(p) else p
                          for p in path))


def _named(path: Path) -> str | None:
    """The name of the env variable or param whose value is at `path`, if it is one."""
    if len(path) >= 2 and path[-2] in ("env", "params") and isinstance(path[-1], str):
        return path[-1]
    if len(path) >= 3 and path[-1] == "default" and path[-3] == "params":
        return str(path[-2])
    return None


def _named_secret(path: Path, text: str) -> bool:
    name = _named(path)
    return (name is not None and bool(_SECRET_NAME.search(name))
            and _LITERAL.fullmatch(text) is not None)


def check(context: LintContext) -> Iterator[Diagnostic]:
    # Keys and many values repeat in every stage: search each distinct text once.
    kinds: dict[str, str | None] = {}
    for path, text, is_key in all_strings(context.data):
        kind = kinds[text] if text in kinds else kinds.setdefault(text, credential_kind(text))
        if kind is None and not is_key and _named_secret(path, text):
            kind = "a secret (by its name)"
        if kind is None:
            continue
        # Never the value, not even a part of it: the message ends up in CI logs.
        if is_key:
            where = f"a key in {_safe_describe(path[:-1])}"
            position = context.locator.key_position(path)
        else:
            where = _safe_describe(path)
            position = context.locator.position(path)
        yield finding(f"{where} looks like {kind} written into the spec", position,
                   hint="never commit credentials: revoke this one, list its name under "
                        "'secrets:' and store the value in the engine's secret store")


RULE = Rule("MLP308", check, __doc__ or "")
