"""MLP409 dvc-output-overlap: outputs that DVC refuses to declare.

## What it finds
In a spec that builds the `dvc` target, a pipeline stage whose input is its own output, lies
inside it, or holds it (`inputs: [data/]` with `outputs: [data/clean.parquet]`). (An output
inside another stage's output is an error for every target: MLP207.)

## Why it matters
DVC tracks each output as a whole and stores it in its cache, so it refuses a stage whose
dependency is also its output: every `dvc repro` of the file fails. Other targets have no such
rule, so the compiler cannot write a `dvc.yaml` for this layout.

## Failing example
```yaml
version: 1
name: churn
stages:
  clean:
    run: python clean.py data/
    inputs: [data/]
    outputs: [data/clean.parquet]
targets:
  dvc: {}
```

## Fixed example
```yaml
version: 1
name: churn
stages:
  clean:
    run: python clean.py data/ clean/
    inputs: [data/]
    outputs: [clean/data.parquet]
targets:
  dvc: {}
```
"""

from __future__ import annotations

from collections.abc import Iterator

from compiler.diagnostics import Diagnostic, quote
from compiler.lint.base import LintContext, Rule, finding
from compiler.targets import built
from compiler.targets.dvc import NAME


def _inside(path: str, outer: str) -> bool:
    return path.rstrip("/").startswith(outer.rstrip("/") + "/")


def check(context: LintContext) -> Iterator[Diagnostic]:
    spec = context.spec
    if NAME not in built(spec.targets):
        return
    for name, stage in spec.stages.items():
        if stage.schedule is not None:
            continue  # not in dvc.yaml
        for position, path in enumerate(stage.inputs):
            own = next((o for o in stage.outputs if path.rstrip("/") == o.rstrip("/")
                        or _inside(path, o) or _inside(o, path)), None)
            if own is not None:
                yield finding(f"input {quote(path)} of stage {quote(name)} overlaps its own "
                              f"output {quote(own)}, which DVC refuses",
                              context.locator.position(("stages", name, "inputs", position)),
                              hint="write the result to a new path instead of updating the "
                                   "input in place")


RULE = Rule("MLP409", check, __doc__ or "")
