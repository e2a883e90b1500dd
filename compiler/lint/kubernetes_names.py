"""MLP402 kubernetes-name: an image or Kubernetes name that Kubernetes would not accept.

## What it finds
Strings the container targets (`kubernetes`, and `airflow` with `operator: kubernetes`) write
into manifests or pod specs as names, checked against the syntax Kubernetes itself enforces:

- every image (`image`, `defaults.image`, `serve.image`): a container image reference,
  `[registry[:port]/]path[:tag][@digest]`, as `docker pull` reads it;
- `targets.kubernetes.service_account`, `secret_name`, `image_pull_secrets`,
  `workspace.storage_class`: DNS-1123 subdomains (lowercase letters, digits, `-` and `.`, at
  most 253 characters);
- `targets.airflow.namespace`: a DNS-1123 label (at most 63 characters);
- `targets.kubernetes.gpu_node_selector` keys and `gpu_tolerations[].key`: label keys
  (`[prefix/]name`); their values: label values (at most 63 characters).

Checked in the base spec and in every environment.

## Why it matters
Each of these lands in a WorkflowTemplate, a pod spec or a DAG file as a name. A value with
spaces, quotes, `$(...)` or `{{...}}` is not a name Kubernetes accepts, and in an Argo
WorkflowTemplate `{{...}}` would be substituted before Kubernetes even sees it. Found here, the
mistake has a line number; found by the cluster, it is a failed deploy.

## Failing example
```yaml
version: 1
name: churn
defaults:
  image: "ghcr.io/acme/churn:{{workflow.name}}"
stages:
  train:
    run: python train.py
targets:
  kubernetes: {service_account: "Churn Runner"}
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
targets:
  kubernetes: {service_account: churn-runner}
```
"""

from __future__ import annotations

import re
import types
import typing
from collections.abc import Callable, Iterator
from typing import Annotated, Any

from pydantic import BaseModel

from compiler.diagnostics import Diagnostic
from compiler.lint.base import LintContext, Rule
from compiler.lint.walk import Finding, describe, per_spec
from compiler.spec.models import Spec
from compiler.spec.types import KubeName
from compiler.targets import built, container_targets

# github.com/distribution/reference's grammar (ASCII only, which `\w` in Python is not).
_COMPONENT = r"[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*"
_HOST_PART = r"(?:[a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9])"
_HOST = rf"(?:{_HOST_PART}(?:\.{_HOST_PART})*|\[[a-fA-F0-9:]+\])(?::[0-9]+)?"
_TAG = r"[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}"
_DIGEST = r"[A-Za-z][A-Za-z0-9]*(?:[-_+.][A-Za-z][A-Za-z0-9]*)*:[0-9a-fA-F]{32,}"
IMAGE = re.compile(rf"(?:{_HOST}/)?{_COMPONENT}(?:/{_COMPONENT})*(?::{_TAG})?(?:@{_DIGEST})?")
_LABEL = r"[a-z0-9](?:[-a-z0-9]*[a-z0-9])?"
DNS_SUBDOMAIN = re.compile(rf"{_LABEL}(?:\.{_LABEL})*")
DNS_LABEL = re.compile(_LABEL)
_NAME = r"[A-Za-z0-9](?:[-A-Za-z0-9_.]*[A-Za-z0-9])?"
LABEL_NAME = re.compile(_NAME)
MAX_IMAGE = 4096  # no registry limit is lower in practice; a bound keeps pod specs sane

Path = tuple[str | int, ...]


def _subdomain(text: str) -> bool:
    return len(text) <= 253 and DNS_SUBDOMAIN.fullmatch(text) is not None


def _label_key(text: str) -> bool:
    prefix, _, name = text.rpartition("/")
    if prefix and not _subdomain(prefix):
        return False
    return len(name) <= 63 and LABEL_NAME.fullmatch(name) is not None


def _label_value(text: str) -> bool:
    return text == "" or (len(text) <= 63 and LABEL_NAME.fullmatch(text) is not None)


def _image(text: str) -> bool:
    return len(text) <= MAX_IMAGE and IMAGE.fullmatch(text) is not None


def _images(spec: Spec) -> Iterator[tuple[Path, str]]:
    if spec.defaults.image is not None:
        yield ("defaults", "image"), spec.defaults.image
    for name, stage in spec.stages.items():
        if stage.image is not None:
            yield ("stages", name, "image"), stage.image
        if stage.serve is not None and stage.serve.image is not None:
            yield ("stages", name, "serve", "image"), stage.serve.image


def _names(spec: Spec) -> Iterator[tuple[Path, str, str]]:
    """(path, value, kind) of every Kubernetes name the built targets' settings hold: the
    fields their models mark with `KubeName`."""
    for name, settings in built(spec.targets).items():
        yield from _marked(settings, ("targets", name))


def _marked(model: BaseModel, path: Path) -> Iterator[tuple[Path, str, str]]:
    for field, info in type(model).model_fields.items():
        yield from _walk(_annotated(info.annotation, info.metadata), getattr(model, field),
                         (*path, field))


def _annotated(annotation: Any, metadata: list[Any]) -> Any:
    return Annotated[(annotation, *metadata)] if metadata else annotation


def _walk(annotation: Any, value: Any, path: Path) -> Iterator[tuple[Path, str, str]]:
    """The marked strings inside `value`, whose declared type is `annotation`."""
    if value is None:
        return
    origin = typing.get_origin(annotation)
    if origin is Annotated:
        inner, *extra = typing.get_args(annotation)
        for mark in extra:
            if isinstance(mark, KubeName) and isinstance(value, str):
                yield path, value, mark.kind
        yield from _walk(inner, value, path)
    elif origin in (typing.Union, types.UnionType):
        for option in typing.get_args(annotation):
            yield from _walk(option, value, path)
    elif origin is dict and isinstance(value, dict):
        key_type, value_type = typing.get_args(annotation)
        for key, item in value.items():
            yield from _walk(key_type, key, (*path, key))
            yield from _walk(value_type, item, (*path, key))
    elif origin is list and isinstance(value, list):
        (item_type,) = typing.get_args(annotation)
        for index, item in enumerate(value):
            yield from _walk(item_type, item, (*path, index))
    elif isinstance(annotation, type) and issubclass(annotation, BaseModel) \
            and isinstance(value, annotation):
        yield from _marked(value, path)


_CHECKS: dict[str, tuple[Callable[[str], object], str]] = {
    "subdomain": (_subdomain, "a DNS-1123 subdomain: lowercase letters, digits, '-' and '.', "
                              "starting and ending with a letter or digit, at most 253 characters"),
    "label": (DNS_LABEL.fullmatch, "a DNS-1123 label: lowercase letters, digits and '-', "
                                   "at most 63 characters"),
    "label key": (_label_key, "a label key: an optional DNS subdomain and '/', then at most 63 "
                              "letters, digits, '-', '_' or '.'"),
    "label value": (_label_value, "a label value: at most 63 letters, digits, '-', '_' or '.', "
                                  "starting and ending with a letter or digit"),
}


def _find(spec: Spec) -> Iterator[Finding]:
    if not any(container_targets(spec.targets)):
        return
    # The value is not echoed: it may be long, and quoting hostile text helps nobody.
    for path, image in _images(spec):
        if "${params." in image or "${matrix." in image:
            continue  # MLP314 says what is wrong with that one
        if not _image(image):
            yield Finding((path, image), path,
                          f"{describe(path)} is not a container image reference",
                          hint="write it as docker pull reads it: "
                               "[registry[:port]/]path[:tag][@sha256:digest], e.g. "
                               "ghcr.io/acme/churn:1.4.2")
    for path, value, kind in _names(spec):
        valid, what = _CHECKS[kind]
        if len(value) > (63 if kind == "label" else 253) or not valid(value):
            yield Finding((path, kind, value), path,
                          f"{describe(path)} is not a valid Kubernetes {kind} name"
                          if kind in ("subdomain", "label") else
                          f"{describe(path)} is not a valid Kubernetes {kind}",
                          hint=f"Kubernetes requires {what}")


def check(context: LintContext) -> Iterator[Diagnostic]:
    yield from per_spec(context, _find)


RULE = Rule("MLP402", check, __doc__ or "")
