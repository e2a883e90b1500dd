"""MLP404 kfp-placeholder: a param default, choice or description that KFP would change.

## What it finds
A param whose default, one of whose `enum` values, or whose `description` contains `{{`, `$(`,
`$$` or `/kfp-workspace`, in a spec that builds the `kubeflow` target. Checked in the base spec
and in every environment (an environment may change a param's default).

## Why it matters
A param is a pipeline input: KFP hands its value to each task by substituting it into the
task's arguments, and on the way KFP resolves its placeholders (`{{$.pipeline_job_name}}`,
`{{$.inputs.parameters['x']}}`, ...), its local runner rewrites `/kfp-workspace`, Argo (which
runs Kubeflow Pipelines) substitutes `{{...}}` in the stored pipeline, including defaults and
descriptions, and the kubelet expands `$(VAR)` and turns `$$` into `$` in a pod's arguments.
None of them has an escape, so the value your stages would see is not the one you wrote. The
compiler keeps every other spec string out of their reach (task.py); a param's default has to
be written as it is, so it is refused instead. Values typed when a run starts are not checked:
they pass through KFP as any KFP input does.

## Failing example
```yaml
version: 1
name: churn
defaults:
  image: ghcr.io/acme/churn:1.4.2
params:
  run_name: "churn-{{$.pipeline_job_name}}"
stages:
  train:
    run: echo "$MLOPS_PARAM_RUN_NAME"
targets:
  kubeflow: {}
```

## Fixed example
```yaml
version: 1
name: churn
defaults:
  image: ghcr.io/acme/churn:1.4.2
params:
  run_name: churn
stages:
  train:
    run: echo "$MLOPS_PARAM_RUN_NAME-$MLOPS_RUN_ID"
targets:
  kubeflow: {}
```
"""

from __future__ import annotations

from collections.abc import Iterator

from compiler.diagnostics import Diagnostic, quote
from compiler.lint.base import LintContext, Rule
from compiler.lint.walk import Finding, per_spec
from compiler.spec.models import ParamSchema, Spec
from compiler.targets import built
from compiler.targets.kubeflow import NAME

# What each engine on the way would act on, and who.
SEQUENCES: tuple[tuple[str, str], ...] = (
    ("{{", "KFP resolves '{{$...}}' placeholders and Argo substitutes '{{...}}'"),
    ("$(", "the kubelet expands '$(VAR)' in a task's arguments"),
    ("$$", "the kubelet turns '$$' into '$' in a task's arguments"),
    ("/kfp-workspace", "KFP's local runner rewrites '/kfp-workspace'"),
)
_HINT = ("KFP has no escape for it; write the value without it (a stage can add text to a "
         "param's value in its command), or build without the kubeflow target")


def _problem(text: str) -> tuple[str, str] | None:
    for sequence, who in SEQUENCES:
        if sequence in text:
            return sequence, who
    return None


def _find(spec: Spec) -> Iterator[Finding]:
    if NAME not in built(spec.targets):
        return
    for name, param in spec.params.items():
        schema = param if isinstance(param, ParamSchema) else None
        default = schema.default if schema is not None else param
        places: list[tuple[str, object, tuple[str | int, ...]]] = [
            (f"the default of param {quote(name)}", default,
             ("params", name, "default") if schema is not None else ("params", name))]
        if schema is not None:
            places += [(f"choice {i + 1} of param {quote(name)}", value, ("params", name, "enum", i))
                       for i, value in enumerate(schema.enum or ())]
            places.append((f"the description of param {quote(name)}", schema.description,
                           ("params", name, "description")))
        for what, value, path in places:
            found = _problem(value) if isinstance(value, str) else None
            if found is not None:
                sequence, who = found
                yield Finding((path, value), path,
                              f"{what} contains {quote(sequence)}, which Kubeflow Pipelines would "
                              f"not pass on as written ({who})", hint=_HINT)


def check(context: LintContext) -> Iterator[Diagnostic]:
    yield from per_spec(context, _find)


RULE = Rule("MLP404", check, __doc__ or "")
