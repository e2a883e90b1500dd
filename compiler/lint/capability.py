"""MLP401 unsupported-on-target: a feature the spec uses that a built target cannot carry.

## What it finds
A spec feature that none of the targets you build can carry (see `mlops targets`). Today that
is `serve` without the `kubernetes` target: GitHub and Airflow run the deploy stage's command,
but only Kubernetes starts the model server. Differences that SPEC.md accepts (an approval
noted in the Airflow DAG's documentation, a push trigger that only GitHub acts on) are shown by
`mlops targets` and not reported.

## Why it matters
The spec promises the same pipeline on every target. Where a target cannot keep a promise, you
should know before production does, and decide: drop the target, or accept the difference.

## Failing example
```yaml
version: 1
name: churn
defaults: {image: "ghcr.io/acme/churn:1.4.2"}
stages:
  evaluate:
    type: evaluate
    run: python evaluate.py
    metrics: metrics.json
    gate: ["auc >= 0.8"]
  deploy:
    type: deploy
    needs: [evaluate]
    run: ./register.sh
    serve: {image: "ghcr.io/acme/churn-serve:1.4.2", port: 8080}
targets:
  github: {}
```

## Fixed example
```yaml
version: 1
name: churn
defaults: {image: "ghcr.io/acme/churn:1.4.2"}
stages:
  evaluate:
    type: evaluate
    run: python evaluate.py
    metrics: metrics.json
    gate: ["auc >= 0.8"]
  deploy:
    type: deploy
    needs: [evaluate]
    run: ./register.sh
    serve: {image: "ghcr.io/acme/churn-serve:1.4.2", port: 8080}
targets:
  github: {}
  kubernetes: {}
```
"""

from __future__ import annotations

from collections.abc import Iterator

from compiler.capabilities import CAPABILITIES
from compiler.diagnostics import Diagnostic, Severity, diag
from compiler.lint.base import LintContext, Path, Rule


def _built(context: LintContext) -> list[str]:
    targets = context.spec.targets
    if targets is None:
        return ["github", "airflow", "kubernetes"]
    return [t for t in ("github", "airflow", "kubernetes") if getattr(targets, t) is not None]


def _uses(context: LintContext) -> Iterator[tuple[str, Path]]:
    spec = context.spec
    for name, stage in spec.stages.items():
        if stage.serve is not None:
            yield "serve", ("stages", name, "serve")


def check(context: LintContext) -> Iterator[Diagnostic]:
    built = _built(context)
    for feature, path in _uses(context):
        if any(CAPABILITIES[feature][t].level != "unsupported" for t in built):
            continue
        hows = "; ".join(f"{t}: {CAPABILITIES[feature][t].how}" for t in built)
        yield diag("MLP401", f"no target you build supports {feature!r} ({hows})",
                   context.locator.key_position(path),
                   hint="add 'kubernetes: {}' under 'targets' to run the server; "
                        "'mlops targets' shows what each target supports")


RULE = Rule("MLP401", "unsupported-on-target", Severity.WARNING,
            "a spec feature that a built target cannot carry", check, __doc__ or "")
