"""MLP304 bad-gate: a gate condition that cannot be read.

## What it finds
An item of a stage's `gate` (or of an environment's stage patch) that is not of the form
`<metric> <op> <number>`, with op one of `>=`, `>`, `<=`, `<`, `==`, `!=` and a decimal number.

## Why it matters
The gate is checked after the stage runs, by a fixed script. A condition it cannot read would
only fail at run time, after hours of training; here it fails while you type.

## Failing example
```yaml
version: 1
name: churn
defaults:
  image: ghcr.io/acme/churn:1.4.2
stages:
  evaluate:
    type: evaluate
    run: python evaluate.py --out metrics.json
    metrics: metrics.json
    gate: ["auc at least 0.8"]
```

## Fixed example
```yaml
version: 1
name: churn
defaults:
  image: ghcr.io/acme/churn:1.4.2
stages:
  evaluate:
    type: evaluate
    run: python evaluate.py --out metrics.json
    metrics: metrics.json
    gate: ["auc >= 0.8"]
```
"""

from __future__ import annotations

from collections.abc import Iterator

from compiler.diagnostics import Diagnostic, quote
from compiler.lint.base import LintContext, Rule, finding
from compiler.lint.walk import stage_entries
from compiler.spec.values import parse_gate


def check(context: LintContext) -> Iterator[Diagnostic]:
    for entry in stage_entries(context.data):
        gates = entry.fields.get("gate")
        for i, item in enumerate(gates if isinstance(gates, list) else ()):
            if not isinstance(item, str):
                continue
            try:
                parse_gate(item)
            except ValueError as error:
                where = f" in environment {quote(entry.environment)}" if entry.environment else ""
                yield finding(f"stage {quote(entry.name)}{where}: {error}",
                           context.locator.position((*entry.path, "gate", i)),
                           hint="metric names use letters, digits, '_', '.' and '-'; numbers are "
                                "decimal, like 0.8, -1 or 1e-3")


RULE = Rule("MLP304", check, __doc__ or "")
