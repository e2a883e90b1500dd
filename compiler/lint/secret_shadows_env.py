"""MLP317 secret-shadows-env: a stage that gets one variable both from `env` and as a secret.

## What it finds
A name listed in a stage's secrets (its own, `defaults.secrets` or the top-level `secrets`)
that is also one of its environment variables (its own `env`, `defaults.env` or the top-level
`env`). Checked in the base spec and in every environment.

## Why it matters
The stage can only see one value under that name. Which one wins differs by engine (a
GitHub step's `env` mapping, an Airflow worker's environment, a pod's `env` list), so the same
spec would run with a plain value on one target and the secret on another. Say which you mean.

## Failing example
```yaml
version: 1
name: churn
env:
  WAREHOUSE_DSN: postgresql://warehouse.internal/analytics
stages:
  ingest:
    run: python ingest.py
    secrets: [WAREHOUSE_DSN]
targets:
  github: {}
```

## Fixed example
```yaml
version: 1
name: churn
env:
  WAREHOUSE_HOST: warehouse.internal
stages:
  ingest:
    run: python ingest.py
    secrets: [WAREHOUSE_DSN]
targets:
  github: {}
```
"""

from __future__ import annotations

from collections.abc import Iterator

from compiler.diagnostics import Diagnostic, quote
from compiler.lint.base import LintContext, Rule
from compiler.lint.walk import Finding, per_spec
from compiler.resolve import resolve_defaults
from compiler.spec.models import Spec


def _find(spec: Spec) -> Iterator[Finding]:
    # A stage's env and secrets are the spec's and the defaults' plus its own (as
    # `resolve_stage` merges them): the shared part once, not once per stage.
    base = resolve_defaults(spec)
    shared_env, shared_secrets = set(base.env), set(base.secrets)
    for name, own in spec.stages.items():
        both = ((shared_secrets | set(own.secrets)) & (shared_env | set(own.env))
                if own.secrets or own.env else shared_secrets & shared_env)
        for secret in sorted(both):
            place = (("stages", name, "secrets", own.secrets.index(secret))
                     if secret in own.secrets else ("stages", name))
            yield Finding((name, secret), place,
                          f"stage {quote(name)} gets {quote(secret)} both from 'env' and as a secret",
                          hint=f"rename the env variable, or drop {quote(secret)} from the secrets",
                          key_position=place == ("stages", name))


def check(context: LintContext) -> Iterator[Diagnostic]:
    yield from per_spec(context, _find)


RULE = Rule("MLP317", check, __doc__ or "")
