"""MLP313 gpu-without-github-runner: a GPU stage that GitHub would run on a CPU runner.

## What it finds
A stage that asks for `gpu` greater than 0 (its own `resources` merged over `defaults`, in the
base spec or in an environment) while the `github` target is built (listed in `targets`, or
`targets` absent) and `targets.github.gpu_runs_on` is not set.

## Why it matters
GitHub-hosted runners have no GPU. Without `gpu_runs_on` the job lands on `runs_on`, and
training either fails or silently runs on the CPU, hours slower. Name the labels of a runner
with a GPU (often self-hosted).

## Failing example
```yaml
version: 1
name: churn
stages:
  train:
    run: python train.py
    resources: {gpu: 1}
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
    resources: {gpu: 1}
targets:
  github: {gpu_runs_on: [self-hosted, gpu]}
```
"""

from __future__ import annotations

from collections.abc import Iterator

from compiler.diagnostics import Diagnostic, quote
from compiler.lint.base import LintContext, Path, Rule
from compiler.lint.walk import Finding, per_spec
from compiler.spec.models import Spec
from compiler.targets import built
from compiler.targets.github import NAME


def _gpu(spec: Spec, name: str) -> tuple[int, Path]:
    """The stage's gpu count after merging defaults, and where it was written."""
    own = spec.stages[name].resources
    if own is not None and own.gpu is not None:
        return own.gpu, ("stages", name, "resources", "gpu")
    shared = spec.defaults.resources
    if shared is not None and shared.gpu is not None:
        return shared.gpu, ("defaults", "resources", "gpu")
    return 0, ("stages", name)


def _find(spec: Spec) -> Iterator[Finding]:
    github = built(spec.targets).get(NAME)
    if github is None or github.gpu_runs_on is not None:
        return  # GitHub is not built, or has GPU runners
    for name in spec.stages:
        count, path = _gpu(spec, name)
        if count > 0:
            yield Finding((name,), path,
                          f"stage {quote(name)} needs {count} GPU(s), but GitHub would run it on "
                          "'runs_on', which has no GPU",
                          hint="set targets.github.gpu_runs_on to the labels of a GPU runner, "
                               "e.g. [self-hosted, gpu]")


def check(context: LintContext) -> Iterator[Diagnostic]:
    yield from per_spec(context, _find)


RULE = Rule("MLP313", check, __doc__ or "")
