"""MLP316 missing-image: a stage without an image while a container target is built.

## What it finds
A stage with neither its own `image` nor `defaults.image` while a container target is built:
`kubernetes`, or `airflow` with `operator: kubernetes` (`targets` absent builds Kubernetes). For
a `deploy` stage's `serve`, the server image is `serve.image`, falling back to the stage's
image. Checked in the base spec and in every environment.

## Why it matters
Container targets run every step in a pod, and a pod needs an image. GitHub (and Airflow with
`operator: bash`) can run a command directly on the machine, so this is only a problem for the
targets named in the message.

## Failing example
```yaml
version: 1
name: churn
stages:
  train:
    run: python train.py
targets:
  kubernetes: {}
```

## Fixed example
```yaml
version: 1
name: churn
defaults:
  image: ghcr.io/acme/churn:1.4.2
stages:
  train:
    run: python train.py
targets:
  kubernetes: {}
```
"""

from __future__ import annotations

from collections.abc import Iterator

from compiler.diagnostics import Diagnostic, quote
from compiler.lint.base import LintContext, Rule
from compiler.lint.walk import Finding, per_spec
from compiler.spec.models import Spec
from compiler.targets import container_targets


def _find(spec: Spec) -> Iterator[Finding]:
    targets = list(container_targets(spec.targets))
    if not targets:
        return
    named = " and ".join(targets) + (" targets" if len(targets) > 1 else " target")
    hint = "set 'image' on the stage, or 'defaults.image' for every stage"
    for name, stage in spec.stages.items():
        image = stage.image or spec.defaults.image
        if stage.run is not None and image is None:
            yield Finding((name, "run"), ("stages", name),
                          f"stage {quote(name)} has no image, which the {named} need"
                          f"{'s' if len(targets) == 1 else ''} to run it in a container",
                          hint=hint, key_position=True)
        if stage.serve is not None and stage.serve.image is None and image is None:
            yield Finding((name, "serve"), ("stages", name, "serve"),
                          f"the server of stage {quote(name)} has no image, which the {named} "
                          f"need{'s' if len(targets) == 1 else ''} to run it",
                          hint="set 'serve.image', or an image for the stage", key_position=True)


def check(context: LintContext) -> Iterator[Diagnostic]:
    yield from per_spec(context, _find)


RULE = Rule("MLP316", check, __doc__ or "")
