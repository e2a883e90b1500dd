"""MLP301 unpinned-image: a container image without a fixed version.

## What it finds
An `image` (in `defaults`, a stage, or `serve`) with no tag, or with the tag `latest`.

## Why it matters
The same spec must give the same run tomorrow. `latest`, or no tag at all, changes under your
feet: a retrain months later silently uses other code, and a rollback does not roll back.
Pin a version tag, or better a digest (`@sha256:...`).

## Failing example
```yaml
version: 1
name: churn
stages:
  train:
    image: ghcr.io/acme/churn:latest
    run: python train.py
```

## Fixed example
```yaml
version: 1
name: churn
stages:
  train:
    image: ghcr.io/acme/churn:1.4.2
    run: python train.py
```
"""

from __future__ import annotations

from collections.abc import Iterator

from compiler.diagnostics import Diagnostic, quote
from compiler.lint.base import LintContext, Path, Rule, finding


def unpinned(image: str) -> bool:
    """True when `image` has neither a digest nor a tag other than `latest`."""
    if "@" in image:
        return False
    last = image.rsplit("/", 1)[-1]
    return ":" not in last or last.rsplit(":", 1)[1] in ("", "latest")


def _images(context: LintContext) -> Iterator[tuple[Path, str]]:
    data = context.data
    if isinstance((data.get("defaults") or {}).get("image"), str):
        yield ("defaults", "image"), data["defaults"]["image"]
    for name, stage in (data.get("stages") or {}).items():
        stage = stage or {}
        if isinstance(stage.get("image"), str):
            yield ("stages", name, "image"), stage["image"]
        serve = stage.get("serve") or {}
        if isinstance(serve, dict) and isinstance(serve.get("image"), str):
            yield ("stages", name, "serve", "image"), serve["image"]
    for env, overlay in (data.get("environments") or {}).items():
        for name, stage in ((overlay or {}).get("stages") or {}).items():
            if isinstance((stage or {}).get("image"), str):
                yield ("environments", env, "stages", name, "image"), stage["image"]


def check(context: LintContext) -> Iterator[Diagnostic]:
    for path, image in _images(context):
        if unpinned(image):
            yield finding(f"image {quote(image)} is not pinned to a version",
                       context.locator.position(path),
                       hint="use a version tag (name:1.4.2) or a digest (name@sha256:...)")


RULE = Rule("MLP301", check, __doc__ or "")
