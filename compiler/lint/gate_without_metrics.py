"""MLP303 gate-without-metrics: a gate with no metrics file to check.

## What it finds
A stage (in the base spec or in an environment) with a `gate` but no `metrics`.

## Why it matters
A gate compares numbers from the JSON file named by the stage's `metrics`. Without that file
there is nothing to compare, so the gate cannot work: it would fail every run.

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
    gate: ["auc >= 0.8"]
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
from compiler.lint.base import LintContext, Rule
from compiler.lint.walk import Finding, per_spec
from compiler.spec.models import Spec


def _find(spec: Spec) -> Iterator[Finding]:
    for name, stage in spec.stages.items():
        if stage.gate and stage.metrics is None:
            yield Finding((name,), ("stages", name, "gate"),
                          f"stage {quote(name)} has a gate but no 'metrics' file to check it against",
                          hint="add 'metrics: <path of the JSON file of numbers the stage "
                               "writes>'", key_position=True)


def check(context: LintContext) -> Iterator[Diagnostic]:
    yield from per_spec(context, _find)


RULE = Rule("MLP303", check, __doc__ or "")
