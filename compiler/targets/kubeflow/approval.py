"""MLP405 kfp-approval: an environment that asks for approval, built for Kubeflow Pipelines.

## What it finds
An environment with `approval: true` in a spec that builds the `kubeflow` target in that
environment.

## Why it matters
Approval is a safety control (SPEC.md): a human says yes before a deploy stage runs. A KFP
pipeline has no step that waits for a person, neither on Kubeflow Pipelines nor on Vertex AI,
so the file would run the deploy stage unattended. A target that cannot enforce approval is
an error for an environment that asks for it, never a silent note.

## Failing example
```yaml
version: 1
name: churn
defaults:
  image: ghcr.io/acme/churn:1.4.2
stages:
  evaluate:
    type: evaluate
    run: python evaluate.py
    metrics: metrics.json
    gate: ["auc >= 0.8"]
  deploy:
    type: deploy
    needs: [evaluate]
    run: ./register.sh
environments:
  production:
    approval: true
targets:
  kubeflow: {}
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
    run: python evaluate.py
    metrics: metrics.json
    gate: ["auc >= 0.8"]
  deploy:
    type: deploy
    needs: [evaluate]
    run: ./register.sh
environments:
  production:
    approval: true
targets:
  kubernetes: {}
```
"""

from __future__ import annotations

from collections.abc import Iterator

from compiler.diagnostics import Diagnostic, quote
from compiler.lint.base import LintContext, Rule, finding
from compiler.targets import built
from compiler.targets.kubeflow import NAME


def check(context: LintContext) -> Iterator[Diagnostic]:
    for env, spec in sorted(context.environments.items()):
        overlay = context.spec.environments.get(env)
        if overlay is None or not overlay.approval or NAME not in built(spec.targets):
            continue
        yield finding(f"environment {quote(env)} asks for approval before deploy stages, which the "
                      "kubeflow target cannot enforce: a KFP pipeline has no approval step",
                      context.locator.key_position(("environments", env, "approval")),
                      hint="leave kubeflow out of 'targets' (github and kubernetes enforce "
                           "approval), or drop 'approval' from this environment")


RULE = Rule("MLP405", check, __doc__ or "")
