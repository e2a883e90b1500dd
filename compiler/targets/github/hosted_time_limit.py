"""MLP414 github-hosted-time-limit: a stage whose attempts may take longer than GitHub lets a
hosted job run.

## What it finds
A stage built for GitHub whose job runs on a GitHub-hosted runner (`runs_on`, or `gpu_runs_on`
for a GPU stage, names an image such as `ubuntu-24.04` and not `self-hosted`) while its
attempts may take longer than 6 hours together: every attempt (`retries` + 1) up to its
`timeout`, the delays between them, and the runner's 10 seconds of grace per attempt.

## Why it matters
GitHub terminates a job on a hosted runner after 6 hours of execution time, whatever its
`timeout-minutes` says. The timeout and the retries you wrote would silently not hold: a long
training is killed at 6 hours and never retried.

## Failing example
```yaml
version: 1
name: churn
stages:
  train:
    run: python train.py
    timeout: 4h
    retries: 1
targets:
  github: {}
```

## Fixed example
```yaml
version: 1
name: churn
stages:
  train:
    run: python train.py
    timeout: 4h
    retries: 1
targets:
  github: {runs_on: [self-hosted, linux]}
```
"""

from __future__ import annotations

from collections.abc import Iterator

from compiler.diagnostics import Diagnostic, quote
from compiler.lint.base import LintContext, Rule, finding
from compiler.lint.limits_common import plans_of
from compiler.targets.github import NAME
from compiler.targets.github.budget import HOSTED_JOB_MINUTES, budget_minutes, is_hosted


def check(context: LintContext) -> Iterator[Diagnostic]:
    reported: set[str] = set()
    for plan in plans_of(context):
        settings = plan.targets.get(NAME)
        if settings is None:
            continue
        for stage in plan.stages:
            gpu = stage.resources.gpu > 0 and settings.gpu_runs_on is not None
            labels = settings.gpu_runs_on if gpu else settings.runs_on
            minutes, timeout = budget_minutes(stage), stage.policy.timeout
            if stage.name in reported or minutes is None or timeout is None \
                    or minutes <= HOSTED_JOB_MINUTES or not is_hosted(labels):
                continue
            reported.add(stage.name)  # once, not once per environment
            own = context.spec.stages.get(stage.name)
            path = ("stages", stage.name, "timeout") if own is not None and own.timeout \
                else ("defaults", "timeout") if context.spec.defaults.timeout \
                else ("stages", stage.name)
            where = f" in environment {quote(plan.environment)}" if plan.environment else ""
            yield finding(f"stage {quote(stage.name)}{where} may run {minutes} minutes on GitHub "
                          f"({stage.policy.retries + 1} attempt(s) of up to "
                          f"{timeout / 60:g} minutes), over the "
                          f"{HOSTED_JOB_MINUTES} minutes "
                          "GitHub lets a job run on a hosted runner, where it is killed",
                          context.locator.position(path),
                          hint="lower 'timeout' or 'retries', or run it on a self-hosted runner "
                               "(targets.github.runs_on: [self-hosted, ...])")


RULE = Rule("MLP414", check, __doc__ or "", lowers=True)
