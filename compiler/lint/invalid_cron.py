"""MLP309 invalid-cron: a schedule that is not a valid cron expression.

## What it finds
A `triggers.schedule` or a stage's `schedule` (also in an environment's stage patch) that is
not five cron fields (minute, hour, day of month, month, day of week, with ranges, steps,
lists and names such as `MON` or `JAN`) or one of `@hourly`, `@daily`, `@weekly`, `@monthly`,
`@yearly`.

## Why it matters
Each engine reads cron a little differently, and most reject a bad expression only when the
workflow or DAG is loaded, far from the spec. Checked here, the mistake is found in the file
you edit, with the field that is wrong.

## Failing example
```yaml
version: 1
name: churn
defaults:
  image: ghcr.io/acme/churn:1.4.2
triggers:
  schedule: "0 25 * * *"
stages:
  train:
    run: python train.py
```

## Fixed example
```yaml
version: 1
name: churn
defaults:
  image: ghcr.io/acme/churn:1.4.2
triggers:
  schedule: "0 23 * * *"
stages:
  train:
    run: python train.py
```
"""

from __future__ import annotations

from collections.abc import Iterator

from compiler.diagnostics import Diagnostic
from compiler.lint.base import LintContext, Path, Rule, finding
from compiler.lint.walk import stage_entries
from compiler.spec.values import cron_fields


def _schedules(data: object) -> Iterator[tuple[Path, object]]:
    triggers = data.get("triggers") if isinstance(data, dict) else None
    if isinstance(triggers, dict) and "schedule" in triggers:
        yield ("triggers", "schedule"), triggers["schedule"]
    for entry in stage_entries(data):
        if "schedule" in entry.fields:
            yield (*entry.path, "schedule"), entry.fields["schedule"]


def check(context: LintContext) -> Iterator[Diagnostic]:
    for path, text in _schedules(context.data):
        if not isinstance(text, str):
            continue  # null: no schedule (an overlay removing one is MLP315's business)
        try:
            cron_fields(text)
        except ValueError as error:
            yield finding(str(error), context.locator.position(path),
                       hint="write five fields like '0 3 * * 1' (03:00 UTC on Mondays), "
                            "or @hourly, @daily, @weekly, @monthly, @yearly")


RULE = Rule("MLP309", check, __doc__ or "")
