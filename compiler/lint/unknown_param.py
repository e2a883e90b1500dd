"""MLP305 unknown-param: `${params.NAME}` naming a param the spec does not declare.

## What it finds
A `${params.NAME}` reference in a `run` or `env` value (top-level `env`, `defaults.env`, a
stage's `env` and `run`, and the same places in environment overlays) where `NAME` is not a key
of the top-level `params`.

## Why it matters
A reference compiles to the environment variable `MLOPS_PARAM_NAME`, which targets set only for
declared params. An undeclared one would expand to an empty string at run time: the command
runs, with an argument silently missing.

## Failing example
```yaml
version: 1
name: churn
defaults:
  image: ghcr.io/acme/churn:1.4.2
params:
  learning_rate: 0.05
stages:
  train:
    run: python train.py --lr ${params.learning_rat}
```

## Fixed example
```yaml
version: 1
name: churn
defaults:
  image: ghcr.io/acme/churn:1.4.2
params:
  learning_rate: 0.05
stages:
  train:
    run: python train.py --lr ${params.learning_rate}
```
"""

from __future__ import annotations

from collections.abc import Iterator

from compiler.diagnostics import Diagnostic, did_you_mean, quote
from compiler.lint.base import LintContext, Rule, finding
from compiler.lint.walk import describe, interpolated_values
from compiler.spec.values import references


def check(context: LintContext) -> Iterator[Diagnostic]:
    declared = list(context.spec.params)  # an environment can override params, never add one
    for value in interpolated_values(context.data):
        if "${" not in value.text:  # most values have no reference: skip the parser
            continue
        for ref in references(value.text):
            if ref.kind == "params" and ref.name not in declared:
                hint = did_you_mean(ref.name, declared) or (
                    f"declare it under 'params' (e.g. {quote(ref.name + ': <default>')}), or write "
                    "'$${' for a literal '${'")
                yield finding(f"{describe(value.path)} refers to unknown param "
                           f"{quote(ref.name)}", context.locator.position(value.path), hint=hint)


RULE = Rule("MLP305", check, __doc__ or "")
