"""MLP310 invalid-duration: a `retry_delay` or `timeout` that is not a duration.

## What it finds
A `retry_delay` or `timeout` (in `defaults`, a stage, or the same in an environment overlay)
that is not one or more `<integer><unit>` with units `s`, `m`, `h`, `d` (`90s`, `1h30m`),
and a `timeout` of zero.

## Why it matters
Engines spell durations differently (seconds, `timedelta`, `"1h"`); the compiler converts
yours to each. A value it cannot read would otherwise become a wrong limit or a broken file,
and a zero timeout would kill every run at once.

## Failing example
```yaml
version: 1
name: churn
defaults:
  image: ghcr.io/acme/churn:1.4.2
stages:
  train:
    run: python train.py
    timeout: 2 hours
```

## Fixed example
```yaml
version: 1
name: churn
defaults:
  image: ghcr.io/acme/churn:1.4.2
stages:
  train:
    run: python train.py
    timeout: 2h
```
"""

from __future__ import annotations

from collections.abc import Iterator

from compiler.diagnostics import Diagnostic, quote
from compiler.lint.base import LintContext, Path, Rule, finding
from compiler.lint.walk import defaults_entries, describe, stage_entries
from compiler.spec.values import duration_seconds

_FIELDS = ("retry_delay", "timeout")


def _durations(data: object) -> Iterator[tuple[Path, object]]:
    places = [(path, fields) for _, path, fields in defaults_entries(data)]
    places += [(entry.path, entry.fields) for entry in stage_entries(data)]
    for path, fields in places:
        for name in _FIELDS:
            if name in fields:
                yield (*path, name), fields[name]


def check(context: LintContext) -> Iterator[Diagnostic]:
    for path, text in _durations(context.data):
        if not isinstance(text, str):
            continue
        try:
            seconds = duration_seconds(text)
        except ValueError as error:
            too_long = str(error).startswith("duration ")
            yield finding(f"{describe(path)}: {error}", context.locator.position(path),
                          hint="write the longest an attempt may really take, like 6h or 2d"
                          if too_long else
                          "combine units without spaces: 45s, 10m, 2h, 1d, 1h30m")
            continue
        if path[-1] == "timeout" and seconds == 0:
            yield finding(f"{describe(path)}: a timeout must be positive, not {quote(text)}",
                       context.locator.position(path),
                       hint="give the longest time a run may take, like 30m or 2h")


RULE = Rule("MLP310", check, __doc__ or "")
