"""MLP410 file-over-engine-limit: a generated file larger than its engine accepts.

## What it finds
A file the spec compiles to that is over a documented limit of the engine that reads it, on
the rendered bytes: GitHub does not start a workflow file over 512,000 bytes, `kubectl apply`
(and Argo CD's default sync) keep every object in a 262,144-byte annotation, a ConfigMap holds
at most 1 MiB, a Kubeflow Pipelines server takes pipeline files up to 32 MiB. `mlops targets`
lists each target's limits; `mlops build` writes nothing while one is exceeded. The message
names the file, its size, the limit and by how much it is over.

Lint only renders a target's files when a generous upper bound on their size cannot rule its
limits out, so a small spec is checked without rendering anything.

## Why it matters
An engine that refuses a file does not always say so: GitHub silently never starts a workflow
over its size limit. Found here, the fix is a choice you make (split the pipeline, fewer
matrix combinations, another target); found in production, it is a pipeline that stopped.

## Failing example
```yaml
version: 1
name: grid
defaults: {image: "ghcr.io/acme/grid:1.0.0"}
stages:
  search:
    run: python search.py
    matrix:
      a: [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20]
      b: [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20]
      c: [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20]
targets:
  kubernetes: {workspace: {access_mode: ReadWriteOnce}}
```
Every matrix combination is a line of the stage's environment in the Kubernetes ConfigMap:
8,000 combinations make it larger than `kubectl apply` can store.

## Fixed example
```yaml
version: 1
name: grid
defaults: {image: "ghcr.io/acme/grid:1.0.0"}
stages:
  search:
    run: python search.py
    matrix:
      a: [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20]
      b: [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20]
targets:
  kubernetes: {workspace: {access_mode: ReadWriteOnce}}
```
"""

from __future__ import annotations

from collections.abc import Iterator

from compiler.diagnostics import Diagnostic
from compiler.lint.base import LintContext, Rule
from compiler.lint.limits_common import plans_of
from compiler.limits import FileLimit, diagnostics, upper_bound


def check(context: LintContext) -> Iterator[Diagnostic]:
    if not context.renders:
        return  # the caller renders and checks the files itself (`mlops build`)
    plans = plans_of(context)
    if not plans:
        return
    from compiler.targets import TARGETS

    # Only the targets with a file limit the bound cannot rule out are rendered: no other
    # target's file can exceed one (a small spec renders nothing).
    bound = max(upper_bound(plan) for plan in plans)
    limited = tuple(name for name in plans[0].targets
                    if any(isinstance(limit, FileLimit) and limit.maximum < bound
                           for limit in TARGETS[name].limits))
    if not limited:
        return
    from compiler.pipeline import render

    output = render(plans, limited, "mlops.yaml", all_environments=True)
    for found in diagnostics(output.excesses, context.locator):
        yield found


RULE = Rule("MLP410", check, __doc__ or "", lowers=True)
