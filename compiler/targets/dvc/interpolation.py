"""MLP408 dvc-interpolation: a path with `${...}`, which DVC would interpolate.

## What it finds
An `inputs`, `outputs` or `metrics` path of a pipeline stage that contains `${` followed later
by `}`, in a spec that builds the `dvc` target.

## Why it matters
DVC reads every string of `dvc.yaml` as a template: `${name}` is replaced by a value from its
params files or `vars`, and a name it cannot find stops every DVC command on the file. The
compiler keeps commands, variables and params out of `dvc.yaml` (they reach the stage as data),
but a stage's paths must be in it: they are its `deps`, `outs` and `metrics`. DVC's escape,
`\\${`, is only undone in a string that also interpolates something, so a path cannot say
`${` to DVC at all. Such a path is refused rather than handed to DVC changed.

## Failing example
```yaml
version: 1
name: churn
stages:
  train:
    run: python train.py
    outputs: ["models/${run}/"]
targets:
  dvc: {}
```

## Fixed example
```yaml
version: 1
name: churn
stages:
  train:
    run: python train.py --out models/current
    outputs: [models/current/]
targets:
  dvc: {}
```
"""

from __future__ import annotations

import re
from collections.abc import Iterator

from compiler.diagnostics import Diagnostic, quote
from compiler.lint.base import LintContext, Rule
from compiler.lint.walk import Finding, per_spec
from compiler.spec.models import Spec
from compiler.targets import built
from compiler.targets.dvc import NAME

# As DVC finds them (dvc/parsing/interpolate.py, KEYCRE); a backslash cannot be in a path.
INTERPOLATION = re.compile(r"\$\{.*?\}")


def _find(spec: Spec) -> Iterator[Finding]:
    if NAME not in built(spec.targets):
        return
    for name, stage in spec.stages.items():
        if stage.schedule is not None:
            continue  # left out of dvc.yaml
        places = [("inputs", i, p) for i, p in enumerate(stage.inputs)]
        places += [("outputs", i, p) for i, p in enumerate(stage.outputs)]
        for field, index, path in places:
            if INTERPOLATION.search(path):
                yield Finding((name, field, path), ("stages", name, field, index),
                              f"{field[:-1]} {quote(path)} of stage {quote(name)} contains '${{...}}', "
                              "which DVC would interpolate", hint=_HINT)
        if stage.metrics is not None and INTERPOLATION.search(stage.metrics):
            yield Finding((name, "metrics", stage.metrics), ("stages", name, "metrics"),
                          f"metrics {quote(stage.metrics)} of stage {quote(name)} contains '${{...}}', "
                          "which DVC would interpolate", hint=_HINT)


_HINT = ("DVC substitutes '${...}' in dvc.yaml and cannot escape it in a path; rename the "
         "path, or build without the dvc target")


def check(context: LintContext) -> Iterator[Diagnostic]:
    yield from per_spec(context, _find)


RULE = Rule("MLP408", check, __doc__ or "")
