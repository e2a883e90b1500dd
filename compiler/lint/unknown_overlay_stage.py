"""MLP312 unknown-overlay-stage: an environment patching a stage or param that does not exist.

## What it finds
A name under an environment's `stages` that is not a stage of the spec, or under its `params`
that is not a declared param.

## Why it matters
An environment changes values of the pipeline; it cannot add stages or params. A name that
matches nothing is almost always a typo, and the override it carries would be silently
ignored: production would run with the base values you meant to change.

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
    run: python train.py --lr ${params.learning_rate}
environments:
  production:
    stages:
      trian: {retries: 3}
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
environments:
  production:
    stages:
      train: {retries: 3}
```
"""

from __future__ import annotations

from collections.abc import Iterator

from compiler.diagnostics import Diagnostic, did_you_mean, quote
from compiler.lint.base import LintContext, Rule, finding
from compiler.lint.walk import environments


def check(context: LintContext) -> Iterator[Diagnostic]:
    stages, params = list(context.spec.stages), list(context.spec.params)
    for env, overlay in environments(context.data):
        for kind, known in (("stages", stages), ("params", params)):
            names = overlay.get(kind)
            for name in names if isinstance(names, dict) else ():
                if name in known:
                    continue
                word = "stage" if kind == "stages" else "param"
                hint = did_you_mean(name, known) or (
                    f"an environment can only change existing {kind}; add {quote(name)} to the "
                    f"top-level '{kind}' first")
                yield finding(f"environment {quote(env)} changes unknown {word} {quote(name)}",
                           context.locator.key_position(("environments", env, kind, name)),
                           hint=hint)


RULE = Rule("MLP312", check, __doc__ or "")
