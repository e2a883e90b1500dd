"""MLP412 derived-name-collision: two names a target derives from the spec that coincide.

## What it finds
Targets turn spec names into their own: Airflow writes `mlops_<pipeline>_<environment>` with
`-` turned into `_`, a matrix stage's tasks are `<stage>__<axis>-<value>`, a scheduled stage's
DAG is `<file>__<stage>`, Kubernetes objects are named after the pipeline in their namespace.
Different spec names can come out the same: environments `a_b` and `a-b` make one Airflow
file, a stage `train__v-1` beside a matrix stage `train` with axis `v` makes one task id
twice, two environments in one namespace write the same objects. Each target lists the names
it derives (`Target.identifiers`); this rule reports the ones that collide, at the second one.

## Why it matters
The engine would keep one and silently drop the other, or refuse the whole file: two DAGs with
one `dag_id`, two objects overwriting each other on every sync. The spec itself looked fine.

## Failing example
```yaml
version: 1
name: churn
stages:
  train:
    run: python train.py
environments:
  pre_prod: {}
  pre-prod: {}
targets:
  airflow: {}
```

## Fixed example
```yaml
version: 1
name: churn
stages:
  train:
    run: python train.py
environments:
  preprod: {}
  prod: {}
targets:
  airflow: {}
```
"""

from __future__ import annotations

from collections.abc import Iterator

from compiler.diagnostics import Diagnostic, quote
from compiler.lint.base import LintContext, Rule, finding
from compiler.lint.limits_common import plans_of
from compiler.targets.base import Identifier


def check(context: LintContext) -> Iterator[Diagnostic]:
    plans = plans_of(context)
    if not plans:
        return
    from compiler.targets import TARGETS

    reported: set[tuple[str, frozenset[str]]] = set()
    for name in plans[0].targets:
        first: dict[tuple[str, str], Identifier] = {}
        for ident in TARGETS[name].identifiers(plans):
            key = (ident.scope, ident.name)
            earlier = first.setdefault(key, ident)
            if earlier is ident or earlier.what == ident.what:
                continue  # the same spec name, seen again
            pair = (name, frozenset((earlier.what, ident.what)))
            if pair in reported:  # the same two names again (in another environment's DAG)
                continue
            reported.add(pair)
            yield finding(f"{ident.what} and {earlier.what} both become {ident.scope} "
                          f"{quote(ident.name, limit=80)} on {name}",
                          context.locator.key_position(ident.path),
                          hint="rename one of them; '-' and '_' are often the same in "
                               "generated names")


RULE = Rule("MLP412", check, __doc__ or "", lowers=True)
