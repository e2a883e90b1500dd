"""MLP411 stage-over-engine-limit: a stage that needs more than its engine allows.

## What it finds
A stage whose shape is over a documented limit of an engine you build for, counted on the
plan: most often a matrix with more combinations than the engine runs (GitHub starts at most
256 jobs for one matrix). `mlops targets` lists each target's limits. The message names the
stage, what it would need, the limit and by how much it is over.

## Why it matters
GitHub refuses to start such a matrix at all. The spec lints clean today and the pipeline
would never run: lint should tell you before a run does.

## Failing example
```yaml
version: 1
name: sweep
stages:
  train:
    run: python train.py
    matrix: {a: [1, 2, 3, 4], b: [1, 2, 3, 4, 5, 6, 7, 8, 9, 10], c: [1, 2, 3, 4, 5, 6], d: [1, 2, 3, 4, 5]}
targets:
  github: {}
```

## Fixed example
```yaml
version: 1
name: sweep
stages:
  train:
    run: python train.py
    matrix: {a: [1, 2, 3, 4], b: [1, 2, 3, 4, 5, 6, 7, 8, 9, 10], c: [1, 2, 3, 4, 5, 6]}
targets:
  github: {}
```
"""

from __future__ import annotations

from collections.abc import Iterator

from compiler.diagnostics import Diagnostic
from compiler.lint.base import LintContext, Rule
from compiler.lint.limits_common import plans_of
from compiler.limits import diagnostics, stage_excesses


def check(context: LintContext) -> Iterator[Diagnostic]:
    from compiler.targets import TARGETS

    seen: set[tuple[str, str | None, str]] = set()
    for plan in plans_of(context):
        for name in plan.targets:
            for excess in stage_excesses(name, TARGETS[name].limits, plan):
                key = (name, excess.stage, excess.limit.name)
                if key not in seen:  # the same stage in every environment: once
                    seen.add(key)
                    yield from diagnostics([excess], context.locator)


RULE = Rule("MLP411", check, __doc__ or "", lowers=True)
