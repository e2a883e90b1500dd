"""MLP311 monitor-without-schedule: a monitor stage that runs only with the pipeline.

## What it finds
A stage of type `monitor` without a `schedule`.

## Why it matters
Monitoring (drift, data quality, live metrics) must run on its own clock, between retrains.
Without a `schedule` the stage is part of the pipeline DAG and runs only when the pipeline
runs, perhaps weekly, so drift goes unseen for days. A stage with a `schedule` is rendered as
a cron job of its own.

## Failing example
```yaml
version: 1
name: churn
defaults:
  image: ghcr.io/acme/churn:1.4.2
stages:
  drift:
    type: monitor
    run: python drift.py
```

## Fixed example
```yaml
version: 1
name: churn
defaults:
  image: ghcr.io/acme/churn:1.4.2
stages:
  drift:
    type: monitor
    schedule: "0 * * * *"
    run: python drift.py
```
"""

from __future__ import annotations

from collections.abc import Iterator

from compiler.diagnostics import Diagnostic, quote
from compiler.lint.base import LintContext, Rule, finding


def check(context: LintContext) -> Iterator[Diagnostic]:
    # Environments cannot add or remove a schedule (MLP315), so the base spec decides.
    for name, stage in context.spec.stages.items():
        if stage.type == "monitor" and stage.schedule is None:
            yield finding(f"monitor stage {quote(name)} has no 'schedule': it runs only when "
                       "the pipeline runs", context.locator.key_position(("stages", name)),
                       hint="add a 'schedule' such as \"0 * * * *\" (hourly), or change its "
                            "type if it is a pipeline step")


RULE = Rule("MLP311", check, __doc__ or "")
