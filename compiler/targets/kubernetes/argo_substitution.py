"""MLP403 argo-substitution: `{{` in a param default, choice or description built for Argo.

## What it finds
A param whose default, one of whose `enum` values, or whose `description` contains `{{`, in a
spec that builds the `kubernetes` target (`targets` absent builds it). Checked in the base spec
and in every environment (an environment may change a param's default).

## Why it matters
The Kubernetes target writes params into the Argo WorkflowTemplate's `spec.arguments`, the only
place Argo takes a workflow's parameters from. Argo substitutes `{{...}}` in that part of the
workflow when it starts a run (`{{workflow.name}}` becomes the run's name, and `{{=...}}` is an
expression Argo evaluates), and offers no way to escape it. The value your stages would see
would not be the one you wrote. The compiler keeps every other spec string out of Argo's reach
(in a ConfigMap); a param's default has to be in the WorkflowTemplate, so it is refused instead.

## Failing example
```yaml
version: 1
name: churn
defaults:
  image: ghcr.io/acme/churn:1.4.2
params:
  greeting: "hello {{workflow.name}}"
stages:
  train:
    run: echo "$MLOPS_PARAM_GREETING"
targets:
  kubernetes: {}
```

## Fixed example
```yaml
version: 1
name: churn
defaults:
  image: ghcr.io/acme/churn:1.4.2
params:
  greeting: hello
stages:
  train:
    run: echo "$MLOPS_PARAM_GREETING run $MLOPS_PIPELINE"
targets:
  kubernetes: {}
```
"""

from __future__ import annotations

from collections.abc import Iterator

from compiler.diagnostics import Diagnostic, quote
from compiler.lint.base import LintContext, Rule
from compiler.lint.walk import Finding, per_spec
from compiler.spec.models import ParamSchema, Spec
from compiler.targets import built
from compiler.targets.kubernetes import NAME

_HINT = ("Argo substitutes '{{...}}' in workflow parameters and has no escape for it; "
         "write the value without '{{', or build without the kubernetes target")


def _builds_kubernetes(spec: Spec) -> bool:
    return NAME in built(spec.targets)


def _find(spec: Spec) -> Iterator[Finding]:
    if not _builds_kubernetes(spec):
        return
    for name, param in spec.params.items():
        if not isinstance(param, ParamSchema):
            if isinstance(param, str) and "{{" in param:
                yield Finding((name, "default", param), ("params", name),
                              f"the default of param {quote(name)} contains '{{{{', which Argo "
                              "would substitute", hint=_HINT)
            continue
        if isinstance(param.default, str) and "{{" in param.default:
            yield Finding((name, "default", param.default), ("params", name, "default"),
                          f"the default of param {quote(name)} contains '{{{{', which Argo would "
                          "substitute", hint=_HINT)
        for index, value in enumerate(param.enum or ()):
            if isinstance(value, str) and "{{" in value:
                yield Finding((name, "enum", index, value), ("params", name, "enum", index),
                              f"choice {index + 1} of param {quote(name)} contains '{{{{', which "
                              "Argo would substitute", hint=_HINT)
        if param.description is not None and "{{" in param.description:
            yield Finding((name, "description", param.description),
                          ("params", name, "description"),
                          f"the description of param {quote(name)} contains '{{{{', which Argo "
                          "would substitute", hint=_HINT)


def check(context: LintContext) -> Iterator[Diagnostic]:
    yield from per_spec(context, _find)


RULE = Rule("MLP403", check, __doc__ or "")
