"""MLP315 overlay-changes-graph: an environment that changes a stage's matrix axes or schedule.

## What it finds
An environment's stage patch that changes the names of the stage's `matrix` axes (adding an
axis, or a matrix where the stage has none), or that adds a `schedule` to a stage without one
or removes (`schedule: null`) a stage's schedule. Changing the values of an axis, or the cron
of an existing schedule, is fine.

## Why it matters
Every environment runs the same pipeline graph: only values differ. Matrix axes decide how a
stage fans out and which `${matrix.AXIS}` exist; a schedule takes a stage out of the DAG.
Changing either per environment would make staging test a different pipeline from the one
production runs.

## Failing example
```yaml
version: 1
name: sweep
defaults:
  image: ghcr.io/acme/sweep:1.4.2
stages:
  train:
    matrix: {lr: [0.01, 0.1]}
    run: python train.py --lr ${matrix.lr}
environments:
  staging:
    stages:
      train: {matrix: {depth: [4]}}
targets:
  github: {}
```

## Fixed example
```yaml
version: 1
name: sweep
defaults:
  image: ghcr.io/acme/sweep:1.4.2
stages:
  train:
    matrix: {lr: [0.01, 0.1]}
    run: python train.py --lr ${matrix.lr}
environments:
  staging:
    stages:
      train: {matrix: {lr: [0.01]}}
targets:
  github: {}
```
"""

from __future__ import annotations

from collections.abc import Iterator

from compiler.diagnostics import Diagnostic, quote
from compiler.lint.base import LintContext, Rule, finding
from compiler.lint.walk import stage_entries


def _axes(names: list[str]) -> str:
    listed = ", ".join(repr(n) for n in names) if names else ""
    return f"[{listed}]" if listed else "none"


def check(context: LintContext) -> Iterator[Diagnostic]:
    for entry in stage_entries(context.data):
        if entry.environment is None or entry.name not in context.spec.stages:
            continue  # unknown stages are MLP312's
        merged = context.environments.get(entry.environment)
        if merged is None:
            continue
        base, patched = context.spec.stages[entry.name], merged.stages[entry.name]
        prefix = f"environment {quote(entry.environment)} "
        if "matrix" in entry.fields and set(base.matrix) != set(patched.matrix):
            yield finding(prefix + f"changes the matrix axes of stage {quote(entry.name)} "
                       f"from {_axes(list(base.matrix))} to {_axes(list(patched.matrix))}",
                       context.locator.key_position((*entry.path, "matrix")),
                       hint="an environment may change the values of existing axes only; "
                            "change the axes in the stage itself")
        if "schedule" in entry.fields and (base.schedule is None) != (patched.schedule is None):
            change = "adds a schedule to" if base.schedule is None else "removes the schedule of"
            yield finding(prefix + f"{change} stage {quote(entry.name)}: a schedule takes a "
                       "stage out of the pipeline graph",
                       context.locator.key_position((*entry.path, "schedule")),
                       hint="an environment may change the cron of an existing schedule only; "
                            "change it in the stage itself")


RULE = Rule("MLP315", check, __doc__ or "")
