"""MLP409 dvc-output-overlap: outputs that DVC refuses to declare.

## What it finds
In a spec that builds the `dvc` target, among the pipeline stages (scheduled ones are not in
`dvc.yaml`):
- an output that lies inside another stage's output (`data/` and `data/raw.parquet`);
- a stage whose input is its own output, or lies inside it, or holds it.

## Why it matters
DVC tracks each output as a whole and stores it in its cache, so it refuses two outputs where
one is inside the other ("overlap and are thus in the same tracked directory"), and a stage
whose dependency is also its output: every `dvc repro` of the file fails. Other targets have no
such rule, so the compiler cannot write a `dvc.yaml` for this layout.

## Failing example
```yaml
version: 1
name: churn
stages:
  ingest:
    run: python ingest.py
    outputs: [data/]
  split:
    needs: [ingest]
    run: python split.py
    outputs: [data/train.parquet]
targets:
  dvc: {}
```

## Fixed example
```yaml
version: 1
name: churn
stages:
  ingest:
    run: python ingest.py
    outputs: [data/raw/]
  split:
    inputs: [data/raw/]
    run: python split.py
    outputs: [data/train.parquet]
targets:
  dvc: {}
```
"""

from __future__ import annotations

from collections.abc import Iterator

from compiler.diagnostics import Diagnostic
from compiler.lint.base import LintContext, Rule, finding
from compiler.targets import built
from compiler.targets.dvc import NAME
from compiler.targets.dvc.paths import PathIndex


def _inside(path: str, outer: str) -> bool:
    return path.rstrip("/").startswith(outer.rstrip("/") + "/")


def check(context: LintContext) -> Iterator[Diagnostic]:
    spec = context.spec
    if NAME not in built(spec.targets):
        return
    stages = {n: s for n, s in spec.stages.items() if s.schedule is None}
    index = PathIndex((n, p) for n, s in stages.items() for p in s.outputs)
    for name, stage in stages.items():
        for position, path in enumerate(stage.outputs):
            outer = next(((n, p) for n, p in index.containing(path) if n != name), None)
            if outer is None:
                continue
            yield finding(f"output {path!r} of stage {name!r} lies inside output {outer[1]!r} "
                          f"of stage {outer[0]!r}, and DVC refuses outputs inside another",
                          context.locator.position(("stages", name, "outputs", position)),
                          hint=f"write it outside {outer[1]!r}, or make it an input of "
                               f"{name!r} that {outer[0]!r} writes")
    for name, stage in stages.items():
        for position, path in enumerate(stage.inputs):
            own = next((o for o in stage.outputs if path.rstrip("/") == o.rstrip("/")
                        or _inside(path, o) or _inside(o, path)), None)
            if own is not None:
                yield finding(f"input {path!r} of stage {name!r} overlaps its own output "
                              f"{own!r}, which DVC refuses", context.locator.position(
                                  ("stages", name, "inputs", position)),
                              hint="write the result to a new path instead of updating the "
                                   "input in place")


RULE = Rule("MLP409", check, __doc__ or "")
