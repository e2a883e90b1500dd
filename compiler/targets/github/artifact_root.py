"""MLP417 github-artifact-root: an output under `.mlops-artifact-root`, the name GitHub's uploads keep.

## What it finds
A stage output whose path is `.mlops-artifact-root` or lies under it, while the `github`
target is built (listed in `targets`, or `targets` absent). Checked in the base spec and in
every environment.

## Why it matters
On GitHub each output travels between jobs as an artifact, and `actions/upload-artifact`
roots an artifact at the common ancestor of the paths it uploads. So that every artifact is
rooted at the repository root, and every download lands where the stage wrote it, each upload
also names `.mlops-artifact-root`, a path no stage writes. An output under that path would move
its artifact's root there: the stage that reads it would find its files one directory up,
under another name. Any other name is fine.

## Failing example
```yaml
version: 1
name: churn
stages:
  train:
    run: python train.py
    outputs: [.mlops-artifact-root/model/]
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
    outputs: [model/]
targets:
  github: {}
```
"""

from __future__ import annotations

from collections.abc import Iterator

from compiler.diagnostics import Diagnostic, quote
from compiler.lint.base import LintContext, Rule
from compiler.lint.walk import Finding, per_spec
from compiler.spec.models import Spec
from compiler.targets import built
from compiler.targets.github import ARTIFACT_ROOT, NAME


def _find(spec: Spec) -> Iterator[Finding]:
    if NAME not in built(spec.targets):
        return
    for name, stage in spec.stages.items():
        for index, output in enumerate(stage.outputs):
            if output.split("/", 1)[0] == ARTIFACT_ROOT:
                yield Finding((name, output), ("stages", name, "outputs", index),
                              f"stage {quote(name)} writes {quote(output)}, under "
                              f"{quote(ARTIFACT_ROOT)}, the path every GitHub upload names to "
                              "root its artifact at the repository root",
                              hint="choose another name for this output")


def check(context: LintContext) -> Iterator[Diagnostic]:
    yield from per_spec(context, _find)


RULE = Rule("MLP417", check, __doc__ or "")
