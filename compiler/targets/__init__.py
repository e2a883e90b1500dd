"""The target registry: the one place that lists the targets.

Everything that depends on which targets exist derives from `TARGETS`: the `targets:` block of
the spec model, `--target`, the capability table and its lint rule, the pre-commit hook's
`files:` pattern, the check workflow's `paths:` and the README. Adding a target is a package
under `compiler/targets/`, its templates, and one entry here.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

from compiler.targets import airflow, dvc, github, kubeflow, kubernetes
from compiler.targets.base import Target

# In the order they are documented and built.
TARGETS: dict[str, Target] = {target.name: target for target in (
    github.TARGET,
    airflow.TARGET,
    kubernetes.TARGET,
    kubeflow.TARGET,
    dvc.TARGET,
)}

# Built when a spec has no `targets` block.
DEFAULT_TARGETS: tuple[str, ...] = tuple(name for name, t in TARGETS.items() if t.default)


def built(targets: Any) -> dict[str, Any]:
    """The targets a spec builds, name -> settings, in registry order.

    `targets` is the spec's `targets` model, or None when the spec has no `targets` block: the
    default targets with their default settings then."""
    if targets is None:
        return {name: TARGETS[name].settings.model_validate({}) for name in DEFAULT_TARGETS}
    return {name: getattr(targets, name) for name in TARGETS
            if getattr(targets, name) is not None}


def container_targets(targets: Any) -> Iterator[str]:
    """The built targets that run every stage in a container image, as messages name them."""
    for name, settings in built(targets).items():
        label = TARGETS[name].containers(settings)
        if label is not None:
            yield label


def settings_models() -> Mapping[str, type[Any]]:
    return {name: t.settings for name, t in TARGETS.items()}


# The spec files the pre-commit hooks look at.
SPEC_PATTERN = r"(^|/)mlops\.ya?ml$"


def generated_files_pattern() -> str:
    """A regex matching every file a spec or a target's default layout makes: what the
    pre-commit hooks react to (`.pre-commit-hooks.yaml`, checked by a test)."""
    return "|".join((SPEC_PATTERN, *(t.file_pattern for t in TARGETS.values())))
