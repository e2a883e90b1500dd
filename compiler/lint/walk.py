"""Shared ways for rules to walk the raw spec data, so that every rule sees the same places.

Rules run only on specs that passed validation, so the shapes here are the model's shapes; the
`isinstance` checks only keep a rule from crashing if that contract is ever loosened.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from compiler.diagnostics import Diagnostic, describe_path, quote
from compiler.lint.base import LintContext, Path
from compiler.lint.base import finding as report

if TYPE_CHECKING:  # pragma: no cover
    from compiler.spec.models import Spec


def _mapping(value: Any) -> Mapping[str, Any]:
    return value if isinstance(value, dict) else {}


def environments(data: Any) -> Iterator[tuple[str, Mapping[str, Any]]]:
    """Each environment overlay by name, in file order."""
    for env, overlay in _mapping(_mapping(data).get("environments")).items():
        yield env, _mapping(overlay)


@dataclass(frozen=True)
class StageEntry:
    """A stage of the base spec (`environment` None) or an environment's patch of one."""

    environment: str | None
    name: str
    path: Path
    fields: Mapping[str, Any]


def stage_entries(data: Any) -> Iterator[StageEntry]:
    """Every stage, then every environment's stage patches."""
    for name, stage in _mapping(_mapping(data).get("stages")).items():
        yield StageEntry(None, name, ("stages", name), _mapping(stage))
    for env, overlay in environments(data):
        for name, patch in _mapping(overlay.get("stages")).items():
            yield StageEntry(env, name, ("environments", env, "stages", name), _mapping(patch))


def defaults_entries(data: Any) -> Iterator[tuple[str | None, Path, Mapping[str, Any]]]:
    """`defaults` and each environment's `defaults`: (environment, path, mapping)."""
    if "defaults" in _mapping(data):
        yield None, ("defaults",), _mapping(data["defaults"])
    for env, overlay in environments(data):
        if "defaults" in overlay:
            yield env, ("environments", env, "defaults"), _mapping(overlay["defaults"])


@dataclass(frozen=True)
class Value:
    """A `run` or `env` value, with where it is and which stages receive it.

    `stage` is None for the shared env (top-level or `defaults`), which every stage receives
    unless it sets the same variable itself."""

    environment: str | None
    stage: str | None
    path: Path
    text: str
    shared_key: str | None = None  # the variable name, for a shared env value
    from_defaults: bool = False   # shared value from `defaults.env` (stage env still wins)


def interpolated_values(data: Any) -> Iterator[Value]:
    """Every `run` and `env` value: the only places `${params.X}`/`${matrix.X}` are allowed."""
    top = _mapping(data)
    for key, text in _mapping(top.get("env")).items():
        yield Value(None, None, ("env", key), text, key)
    for env, overlay in environments(data):
        for key, text in _mapping(overlay.get("env")).items():
            yield Value(env, None, ("environments", env, "env", key), text, key)
    for where, path, defaults in defaults_entries(data):
        for key, text in _mapping(defaults.get("env")).items():
            yield Value(where, None, (*path, "env", key), text, key, from_defaults=True)
    for entry in stage_entries(data):
        if isinstance(entry.fields.get("run"), str):
            yield Value(entry.environment, entry.name, (*entry.path, "run"), entry.fields["run"])
        for key, text in _mapping(entry.fields.get("env")).items():
            yield Value(entry.environment, entry.name, (*entry.path, "env", key), text)


def is_interpolated_path(path: Path) -> bool:
    """True for the data path of a `run` or `env` value (see `interpolated_values`)."""
    if path[:1] == ("environments",):
        path = path[2:]
    if path[:1] == ("defaults",):
        path = path[1:]
    if len(path) == 2 and path[0] == "env":
        return True
    if len(path) >= 3 and path[0] == "stages":
        rest = path[2:]
        return rest == ("run",) or (len(rest) == 2 and rest[0] == "env")
    return False


# Several rules walk every string of the same file: walk it once. One entry, keyed by the very
# data object (held, so its id cannot be reused), is all a lint run needs.
_walked: tuple[Any, list[tuple[Path, str, bool]]] | None = None


def all_strings(data: Any) -> Iterator[tuple[Path, str, bool]]:
    """Every string in the file as (path, text, is_key); a key's path is the entry's path."""
    global _walked
    if _walked is None or _walked[0] is not data:
        _walked = (data, list(_walk_strings(data)))
    return iter(_walked[1])


def forget() -> None:
    """Drop the shared walk (lint.run calls it when a run ends)."""
    global _walked
    _walked = None


def _walk_strings(data: Any) -> Iterator[tuple[Path, str, bool]]:
    stack: list[tuple[Path, Any]] = [((), data)]
    while stack:
        path, value = stack.pop()
        if isinstance(value, str):
            yield path, value, False
        elif isinstance(value, dict):
            for key, item in value.items():
                yield (*path, key), key, True
                stack.append(((*path, key), item))
        elif isinstance(value, list):
            stack.extend(((*path, i), item) for i, item in enumerate(value))


def describe(path: Iterable[str | int]) -> str:
    """A data path as people write it: `stages.train.env.TOKEN`, `stages.eval.gate[1]`."""
    path = tuple(path)
    return describe_path(path) if path else "the top of the spec"


@dataclass(frozen=True)
class Finding:
    """A problem found in one spec (base or merged environment), before it gets a position.

    `key` identifies the problem across specs: a problem already present in the base spec is
    reported once, at the base, not again for each environment."""

    key: tuple[Any, ...]
    path: Path
    message: str
    hint: str | None = None
    key_position: bool = False


def per_spec(context: LintContext,
             find: Callable[[Spec], Iterable[Finding]]) -> Iterator[Diagnostic]:
    """Run `find` on the base spec and on each environment's merged spec.

    An environment's own problems are placed at the same path inside its overlay, which the
    locator resolves to the nearest part of the overlay that exists."""
    seen: set[tuple[Any, ...]] = set()
    for env, spec in context.specs():
        for found in find(spec):
            if found.key in seen:
                continue
            seen.add(found.key)
            path = found.path if env is None else ("environments", env, *found.path)
            locate = context.locator.key_position if found.key_position else context.locator.position
            message = found.message if env is None else f"in environment {quote(env)}: {found.message}"
            yield report(message, locate(path), hint=found.hint)
