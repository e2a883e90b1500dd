"""MLP401 unsupported-on-target: a feature the spec uses that a built target cannot carry.

## What it finds
A spec feature that none of the targets you build can carry (see `mlops targets`): `serve`
without the `kubernetes` target (GitHub and Airflow run the deploy stage's command, but only
Kubernetes starts the model server), and an image, a GPU, a pipeline schedule or a stage
schedule when only targets that cannot carry it are built (a KFP file holds no
schedule; `dvc` runs locally). Differences that SPEC.md accepts (a push trigger that only
GitHub acts on) are shown by `mlops targets` and not reported; approval a target cannot enforce
is an error of its own (MLP405, MLP407, MLP413).

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

from compiler.diagnostics import Diagnostic, quote
from compiler.lint.base import LintContext, Path, Rule, finding
from compiler.targets import TARGETS, built


def _uses(context: LintContext) -> Iterator[tuple[str, Path]]:
    spec = context.spec
    for name, stage in spec.stages.items():
        if stage.serve is not None:
            yield "serve", ("stages", name, "serve")
    # Features most targets carry: reported once, where first used.
    first: dict[str, Path] = {}
    if spec.triggers.schedule is not None:
        first["schedule"] = ("triggers", "schedule")
    if spec.defaults.image is not None:
        first["image"] = ("defaults", "image")
    if spec.defaults.resources is not None and spec.defaults.resources.gpu:
        first["gpu"] = ("defaults", "resources", "gpu")
    for name, stage in spec.stages.items():
        if stage.image is not None:
            first.setdefault("image", ("stages", name, "image"))
        if stage.resources is not None and stage.resources.gpu:
            first.setdefault("gpu", ("stages", name, "resources", "gpu"))
        if stage.schedule is not None:
            first.setdefault("stage schedule", ("stages", name, "schedule"))
    yield from first.items()


def check(context: LintContext) -> Iterator[Diagnostic]:
    names = list(built(context.spec.targets))
    for feature, path in _uses(context):
        if any(TARGETS[t].capabilities[feature].level != "unsupported" for t in names):
            continue
        hows = "; ".join(f"{t}: {TARGETS[t].capabilities[feature].how}" for t in names)
        able = [t for t, target in TARGETS.items()
                if target.capabilities[feature].level != "unsupported"]
        yield finding(f"no target you build supports {quote(feature)} ({hows})",
                      context.locator.key_position(path),
                      hint=f"add {' or '.join(repr(t + ': {}') for t in able)} under 'targets' "
                           "to run it; 'mlops targets' shows what each target supports")


RULE = Rule("MLP401", check, __doc__ or "")
