"""MLP413 airflow-approval: an environment that asks for approval, built for Airflow 2.

## What it finds
An environment with `approval: true` in a spec that builds the `airflow` target with
`version: 2` in that environment.

## Why it matters
Approval is a safety control (SPEC.md): a human says yes before a deploy stage runs. On
Airflow 3.1 and later each deploy task waits for an `ApprovalOperator`, but Airflow 2 has no
task that waits for a person, so its DAG would run the deploy stage unattended. A target that
cannot enforce approval is an error for an environment that asks for it, never a silent note.

## Failing example
```yaml
version: 1
name: churn
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
  airflow: {version: 2}
```

## Fixed example
```yaml
version: 1
name: churn
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
  airflow: {version: 3}
```
"""

from __future__ import annotations

from collections.abc import Iterator

from compiler.diagnostics import Diagnostic, quote
from compiler.lint.base import LintContext, Rule, finding
from compiler.targets import built
from compiler.targets.airflow import NAME


def check(context: LintContext) -> Iterator[Diagnostic]:
    for env, spec in sorted(context.environments.items()):
        overlay = context.spec.environments.get(env)
        settings = built(spec.targets).get(NAME)
        if overlay is None or not overlay.approval or settings is None or settings.version != 2:
            continue
        yield finding(f"environment {quote(env)} asks for approval before deploy stages, which "
                      "the airflow target cannot enforce on Airflow 2: only Airflow 3.1+ has "
                      "an approval task (ApprovalOperator)",
                      context.locator.key_position(("environments", env, "approval")),
                      hint="build this environment for Airflow 3.1 or later: 'version: 3' under "
                           "targets.airflow, or under this environment's targets.airflow")


RULE = Rule("MLP413", check, __doc__ or "")
