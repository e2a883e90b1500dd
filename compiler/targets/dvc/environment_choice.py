"""MLP407 dvc-environment: the environment DVC builds asks for approval, or there is no one
environment for DVC to build.

## What it finds
In a spec that builds the `dvc` target:
- the environment DVC builds has `approval: true`;
- the spec has several environments, its stages declare outputs or metrics files, and
  `targets.dvc.environment` does not choose one environment;
- `targets.dvc.environment` names an environment the spec does not have.

## Why it matters
A DVC run has no approval step: whoever runs `dvc repro` runs the deploy stages. SPEC.md makes
approval a safety control, so a target that cannot enforce it is an error, never a silent note.

DVC also refuses an output that two `dvc.yaml` files of one repository declare, and the
environments of a spec share their stages' outputs (an overlay cannot change them): with one
`dvc.yaml` per environment, every DVC command in the repository would fail. So when stages
declare outputs, DVC builds one environment: the spec's only one, or the one
`targets.dvc.environment` names. Choose the one you iterate on locally; the others still build
for every other target.

## Failing example
```yaml
version: 1
name: churn
stages:
  train:
    run: python train.py
    outputs: [model/]
environments:
  staging: {}
  production: {approval: true}
targets:
  dvc: {environment: production}
```

## Fixed example
```yaml
version: 1
name: churn
stages:
  train:
    run: python train.py
    outputs: [model/]
environments:
  staging: {}
  production: {approval: true}
targets:
  dvc: {environment: staging}
```
"""

from __future__ import annotations

from collections.abc import Iterator

from compiler.diagnostics import Diagnostic, did_you_mean, quote
from compiler.lint.base import LintContext, Rule, finding
from compiler.targets import built
from compiler.targets.dvc import NAME

_CHOOSE = "set targets.dvc.environment to the environment you run with DVC"


def _declares_outputs(context: LintContext) -> bool:
    """Whether each environment's dvc.yaml would declare outputs (outputs or metrics files of
    pipeline stages): the same ones in every environment, which DVC refuses."""
    return any(stage.schedule is None and (stage.outputs or stage.metrics is not None)
               for stage in context.spec.stages.values())


def check(context: LintContext) -> Iterator[Diagnostic]:
    settings = built(context.spec.targets).get(NAME)
    if settings is None:
        return
    locator = context.locator
    names = sorted(context.environments)
    chosen = settings.environment
    if chosen is not None and chosen not in names:
        have = f"the spec has {', '.join(map(quote, names))}" if names else \
            "the spec has no environments"
        hint = did_you_mean(chosen, names) if names else "remove targets.dvc.environment"
        yield finding(f"targets.dvc.environment names {quote(chosen)}, which is not an environment "
                      f"({have})", locator.position(("targets", NAME, "environment")),
                      hint=hint or _CHOOSE)
        return
    if chosen is None and len(names) > 1 and _declares_outputs(context):
        example = next((n for n in names if not context.spec.environments[n].approval), names[0])
        yield finding(f"DVC would build {len(names)} environments ({', '.join(names)}), whose "
                      "dvc.yaml files declare the same outputs, which DVC refuses in one "
                      "repository", locator.key_position(("targets", NAME)),
                      hint=f"{_CHOOSE}, e.g. 'dvc: {{environment: {example}}}'")
        return
    environment = chosen or (names[0] if names else None)
    if environment is not None and context.spec.environments[environment].approval:
        yield finding(f"environment {quote(environment)} asks for approval, which a DVC run cannot "
                      "enforce: whoever runs 'dvc repro' runs its deploy stages",
                      locator.position(("environments", environment, "approval")),
                      hint="build DVC for an environment without approval "
                           "(targets.dvc.environment), or drop 'dvc' from targets")


RULE = Rule("MLP407", check, __doc__ or "")
