"""MLP307 github-expression: `${{` in the spec.

## What it finds
The text `${{` in any string of the file, keys included.

## Why it matters
`${{ ... }}` is a GitHub Actions expression. Spec strings reach the engines exactly as written,
and a generated workflow must never let GitHub evaluate one: an expression can read secrets and
the event payload, and a string that changes meaning on one target is a bug waiting to happen.
The compiler refuses it instead of guessing. Use `${params.NAME}` for run-time values, and
`secrets:` for secrets.

## Failing example
```yaml
version: 1
name: churn
defaults:
  image: ghcr.io/acme/churn:1.4.2
stages:
  train:
    run: python train.py --branch ${{ github.ref_name }}
```

## Fixed example
```yaml
version: 1
name: churn
defaults:
  image: ghcr.io/acme/churn:1.4.2
params:
  branch: main
stages:
  train:
    run: python train.py --branch ${params.branch}
```
"""

from __future__ import annotations

from collections.abc import Iterator

from compiler.diagnostics import Diagnostic
from compiler.lint.base import LintContext, Rule, finding
from compiler.lint.walk import all_strings, describe


def check(context: LintContext) -> Iterator[Diagnostic]:
    for path, text, is_key in all_strings(context.data):
        if "${{" not in text:
            continue
        if is_key:
            position = context.locator.key_position(path)
            where = f"the key {describe(path)}"
        else:
            position = context.locator.position(path)
            where = describe(path)
        yield finding(f"{where} contains '${{{{', a GitHub Actions expression",
                   position,
                   hint="use ${params.NAME} for run-time values and 'secrets:' for secrets; "
                        "GitHub expressions are not allowed in a spec")


RULE = Rule("MLP307", check, __doc__ or "")
