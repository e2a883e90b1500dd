"""MLP314 interpolation-outside-run: `${params.X}` or `${matrix.X}` outside `run` and `env`.

## What it finds
A `${params.NAME}` or `${matrix.AXIS}` reference anywhere other than a `run` value or an `env`
value: in an `image`, `inputs`, `outputs`, `description`, a gate, a target setting, a key...

## Why it matters
References are compiled into environment variables of the running stage, and only `run` and
`env` are read at run time. Anywhere else the text would reach the engine as written, so the
`${...}` you meant as a value would end up literally in an image name or a path.

## Failing example
```yaml
version: 1
name: churn
params:
  tag: "1.4.2"
stages:
  train:
    image: ghcr.io/acme/churn:${params.tag}
    run: python train.py
```

## Fixed example
```yaml
version: 1
name: churn
params:
  tag: "1.4.2"
stages:
  train:
    image: ghcr.io/acme/churn:1.4.2
    run: python train.py --model-tag ${params.tag}
```
"""

from __future__ import annotations

from collections.abc import Iterator

from compiler.diagnostics import Diagnostic, quote
from compiler.lint.base import LintContext, Rule, finding
from compiler.lint.walk import all_strings, describe, is_interpolated_path
from compiler.spec.values import references


def check(context: LintContext) -> Iterator[Diagnostic]:
    for path, text, is_key in all_strings(context.data):
        if "${" not in text or (not is_key and is_interpolated_path(path)):
            continue
        refs = references(text)
        if not refs:
            continue
        shown = quote(f"${{{refs[0].kind}.{refs[0].name}}}")
        where = f"the key {describe(path)}" if is_key else describe(path)
        position = (context.locator.key_position if is_key else context.locator.position)(path)
        yield finding(f"{where} uses {shown}, but references are only replaced in "
                   "'run' and 'env' values", position,
                   hint="write the value itself here, or pass it to the command through 'run' "
                        "or 'env'; write '$${' for a literal '${'")


RULE = Rule("MLP314", check, __doc__ or "")
