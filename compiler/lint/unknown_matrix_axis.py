"""MLP306 unknown-matrix-axis: `${matrix.AXIS}` where the stage has no such axis.

## What it finds
A `${matrix.AXIS}` reference in a stage's `run` or `env` (or an environment's patch of them)
when that stage's `matrix` has no axis `AXIS`.

The shared env (top-level `env`, `defaults.env`, and the same in environment overlays) reaches
every stage, so a `${matrix.AXIS}` there is accepted only when every stage that receives the
variable has the axis. A stage that sets the same variable in its own `env` (or, for top-level
`env`, in `defaults.env`) does not receive it. Otherwise the finding names a stage without
the axis; move the variable into the `env` of the stages that fan out over it.

## Why it matters
A reference compiles to `MLOPS_MATRIX_AXIS`, set only in the fanned-out copies of a stage with
that axis. Elsewhere it expands to an empty string at run time, so a run would silently use an
empty value.

## Failing example
```yaml
version: 1
name: sweep
defaults:
  image: ghcr.io/acme/sweep:1.4.2
stages:
  train:
    matrix:
      lr: [0.01, 0.1]
    run: python train.py --lr ${matrix.learning_rate}
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
    matrix:
      lr: [0.01, 0.1]
    run: python train.py --lr ${matrix.lr}
targets:
  github: {}
```
"""

from __future__ import annotations

from collections.abc import Iterator

from compiler.diagnostics import Diagnostic, did_you_mean, quote
from compiler.lint.base import LintContext, Rule, finding
from compiler.lint.walk import Value, describe, interpolated_values
from compiler.spec.models import Spec
from compiler.spec.values import references


def _receivers(spec: Spec, value: Value) -> list[str]:
    """The stages that receive a shared env value (the stage's own env wins over it)."""
    key = value.shared_key
    return [name for name, stage in spec.stages.items()
            if key not in stage.env and (value.from_defaults or key not in spec.defaults.env)]


def check(context: LintContext) -> Iterator[Diagnostic]:
    for value in interpolated_values(context.data):
        if "${" not in value.text:  # most values have no reference: skip the parser
            continue
        axes_refs = [r.name for r in references(value.text) if r.kind == "matrix"]
        if not axes_refs:
            continue
        spec = context.spec if value.environment is None else context.environments.get(
            value.environment)
        if spec is None:
            continue
        position = context.locator.position(value.path)
        if value.stage is not None:
            stage = spec.stages.get(value.stage)
            if stage is None:  # a patch of an unknown stage: MLP312 reports it
                continue
            for axis in axes_refs:
                if axis not in stage.matrix:
                    hint = did_you_mean(axis, stage.matrix) or (
                        f"add 'matrix: {{{axis}: [...]}}' to stage {quote(value.stage)}"
                        if not stage.matrix else
                        f"the axes of {quote(value.stage)} are " + ", ".join(map(quote, stage.matrix)))
                    yield finding(f"{describe(value.path)} refers to matrix axis "
                               f"{quote(axis)}, which stage {quote(value.stage)} does not have",
                               position, hint=hint)
            continue
        receivers = _receivers(spec, value)
        for axis in axes_refs:
            lacking = [s for s in receivers if axis not in spec.stages[s].matrix]
            if lacking:
                yield finding(f"{describe(value.path)} refers to matrix axis {quote(axis)}, "
                           f"but stage {quote(lacking[0])}, which receives this shared env, has no "
                           "such axis", position,
                           hint="move the variable into the 'env' of the stages whose matrix "
                                f"has {quote(axis)}")


RULE = Rule("MLP306", check, __doc__ or "")
