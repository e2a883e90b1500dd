"""MLP302 deploy-without-gate: a deploy stage that no quality gate protects.

## What it finds
A stage of type `deploy` that is not downstream (through `needs` or inputs, at any distance)
of a stage of type `evaluate` with a `gate`. It is checked in the base spec and in every
environment, since an environment may change a stage's `gate`.

## Why it matters
A gate is what stops a worse model from reaching users: when it fails, the stage fails and
nothing downstream runs. A deploy that does not depend on a gated evaluation ships whatever
training produced, even a broken model.

## Failing example
```yaml
version: 1
name: churn
defaults:
  image: ghcr.io/acme/churn:1.4.2
stages:
  train:
    type: train
    run: python train.py
    outputs: [model/]
  deploy:
    type: deploy
    run: python register.py model/
    inputs: [model/]
```

## Fixed example
```yaml
version: 1
name: churn
defaults:
  image: ghcr.io/acme/churn:1.4.2
stages:
  train:
    type: train
    run: python train.py
    outputs: [model/]
  evaluate:
    type: evaluate
    run: python evaluate.py model/ --out metrics.json
    inputs: [model/]
    metrics: metrics.json
    gate: ["auc >= 0.8"]
  deploy:
    type: deploy
    needs: [evaluate]
    run: python register.py model/
```
"""

from __future__ import annotations

from collections.abc import Iterator

from compiler.diagnostics import Diagnostic, quote
from compiler.lint.base import LintContext, Rule
from compiler.lint.walk import Finding, per_spec
from compiler.spec.models import Spec


def check(context: LintContext) -> Iterator[Diagnostic]:
    if context.graph is None:  # the graph phase reported why; ancestry is unknown
        return
    graph = context.graph

    def find(spec: Spec) -> Iterator[Finding]:
        for name, stage in spec.stages.items():
            if stage.type != "deploy":
                continue
            if not any(spec.stages[a].type == "evaluate" and spec.stages[a].gate
                       for a in graph.ancestors(name)):
                yield Finding((name,), ("stages", name),
                              f"deploy stage {quote(name)} does not depend on a gated evaluation",
                              hint="add an 'evaluate' stage with 'metrics' and 'gate' and list "
                                   f"it in the 'needs' of {quote(name)}", key_position=True)

    yield from per_spec(context, find)


RULE = Rule("MLP302", check, __doc__ or "")
