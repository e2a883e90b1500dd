"""Phase 2, validate: plain data to a frozen `Spec`, and one merged `Spec` per environment.

Pydantic reports errors by `loc`; we translate each into one diagnostic at the line and column
of the offending key or value, collapse the noise of union branches, and phrase it for a
person ("did you mean", "quote it").
"""

from __future__ import annotations

import copy
import json
import typing
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from pydantic import BaseModel, ValidationError

from compiler.diagnostics import Diagnostic, describe_path, diag, did_you_mean, quote
from compiler.source import Locator
from compiler.spec import params as param_rules
from compiler.spec.models import GRAPH_FIELDS, RUN_PATTERN, ParamSchema, Spec
from compiler.targets import DEFAULT_TARGETS, TARGETS
from compiler.spec.types import (
    ENV_NAME_PATTERN,
    NAME_PATTERN,
    QUANTITY_PATTERN,
    SECRET_NAME_PATTERN,
)

Loc = tuple[str | int, ...]
MAX_STAGES = 50_000  # generous: 10,000-stage specs are a supported size

_TYPE_WORDS = {
    "string_type": "text", "int_type": "an integer", "float_type": "a number",
    "bool_type": "true or false", "dict_type": "a mapping", "list_type": "a list",
    "model_type": "a mapping", "model_attributes_type": "a mapping", "int_from_float": "an integer",
    "literal_error": None, "none_required": "nothing",
}
_PATTERN_WORDS = {
    NAME_PATTERN: "a name: lowercase letters, digits, '-' and '_', starting with a letter, "
                  "at most 40 characters",
    ENV_NAME_PATTERN: "an environment variable name: letters, digits and '_', not starting with "
                      "a digit; names starting with MLOPS_ are reserved for the compiler",
    SECRET_NAME_PATTERN: "a secret name: letters, digits and '_', not starting with a digit; "
                         "names starting with MLOPS_ are reserved for the compiler",
    QUANTITY_PATTERN: "a Kubernetes quantity such as \"2\", 500m, 4Gi or 512Mi",
    r"^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$": "a Kubernetes namespace: lowercase letters, "
                                             "digits and '-', at most 63 characters",
    r"^/[^\s]*$": "an HTTP path starting with '/'",
}
_NAMES = {NAME_PATTERN, ENV_NAME_PATTERN, SECRET_NAME_PATTERN}
_BOUND_WORDS = {"greater_than_equal": "at least", "less_than_equal": "at most",
                "greater_than": "more than", "less_than": "less than"}
# Below this many keys, an unknown key without a close match lists them all.
_LIST_KEYS_UP_TO = 8


@dataclass(frozen=True)
class Validated:
    """The base spec and, per environment, the spec with its overlay merged in."""

    spec: Spec
    environments: Mapping[str, Spec] = field(default_factory=dict)


def validate(data: Any, locator: Locator) -> tuple[Validated | None, list[Diagnostic]]:
    """Validate loaded data; the result is None when the spec has errors."""
    if not isinstance(data, dict):
        return None, [diag("MLP128", "the spec must be a mapping of fields (version, name, "
                           "stages, ...)", locator.position(()),
                           hint="run 'mlops init' for a commented starter spec")]
    version = data.get("version", 1)
    if version != 1 or isinstance(version, (bool, float)):  # True == 1.0 == 1 in Python
        if isinstance(version, int) and not isinstance(version, bool):
            return None, [diag("MLP124", f"unsupported spec version {version}: this "
                               "compiler reads version 1", locator.position(("version",)),
                               hint="write 'version: 1'")]
        got = "empty" if version is None else f"{_yaml_word(version)} {quote(version)}"
        return None, [diag("MLP122", f"'version' must be the integer 1, not {got}",
                           locator.position(("version",)),
                           hint="write 'version: 1', without quotes")]
    stages = data.get("stages")
    if isinstance(stages, dict) and len(stages) > MAX_STAGES:
        return None, [diag("MLP115", f"the spec has {len(stages):,} stages, over the limit of "
                           f"{MAX_STAGES:,}", locator.key_position(("stages",)),
                           hint="split the pipeline into several specs")]
    try:
        spec = Spec.model_validate(data)
    except ValidationError as error:
        return None, translate(error, data, locator, Spec)
    problems = _check_params(spec.params, (), locator)
    if problems:
        return None, problems
    merged: dict[str, Spec] = {}
    diagnostics: list[Diagnostic] = []
    for env_name in spec.environments:
        env_spec, env_problems = _validate_environment(data, env_name, locator, spec)
        diagnostics += env_problems
        if env_spec is not None:
            merged[env_name] = env_spec
    if diagnostics:
        return None, diagnostics
    return Validated(spec, merged), []


def _check_params(params: Mapping[str, Any], prefix: Loc, locator: Locator) -> list[Diagnostic]:
    """`param_rules.check`, skipped when every default plainly satisfies its schema.

    Importing jsonschema costs ~50 ms, as much as the rest of a small lint. The shortcut only
    answers "valid" when it is certain; anything else (a pattern, an enum miss, a bound broken,
    1.0 as an integer) goes to jsonschema, which phrases the diagnostic.
    """
    if all(_plainly_valid(p) for p in params.values()):
        return []
    return param_rules.check(params, prefix, locator)


_PLAIN_TYPES: dict[str, tuple[type, ...]] = {
    "string": (str,), "integer": (int,), "number": (int, float), "boolean": (bool,)}


def _plainly_valid(param: Any) -> bool:
    if not isinstance(param, ParamSchema):
        return True  # a bare default is its own schema's type, by construction
    if param_rules.has_text_duplicates(param):
        return False
    value = param.default
    if param.pattern is not None:
        return False  # regex dialects and format checks: leave them to jsonschema
    if param.type is not None:
        kinds = _PLAIN_TYPES.get(param.type)
        if kinds is None or not isinstance(value, kinds) or (
                isinstance(value, bool) and param.type != "boolean"):
            return False
    if param.enum is not None and not any(type(v) is type(value) and v == value
                                          for v in param.enum):
        return False
    bounds = [b for b in (param.minimum, param.maximum) if b is not None]
    if bounds:
        if not isinstance(value, (int, float)) or isinstance(value, bool):
            return False
        if param.minimum is not None and param.maximum is not None \
                and param.minimum > param.maximum:
            return False
        if (param.minimum is not None and not value >= param.minimum) or \
                (param.maximum is not None and not value <= param.maximum):
            return False
    return True


def merge_environment(data: Mapping[str, Any], env_name: str) -> dict[str, Any]:
    """The base spec with one overlay deep-merged in (mappings merge, lists replace)."""
    # Shallow: at 10,000 stages a deep copy costs more than validating. Nothing below mutates a
    # value shared with `data`: the two containers changed in place are copied, every merge
    # builds new mappings, and pydantic never mutates its input.
    base = {k: v for k, v in data.items() if k != "environments"}
    for key in ("params", "stages"):
        if isinstance(base.get(key), dict):
            base[key] = dict(base[key])
    overlay = data.get("environments", {}).get(env_name) or {}
    if base.get("targets") is None:  # absent means the defaults: keep them when an overlay
        base["targets"] = {name: {} for name in DEFAULT_TARGETS}  # tunes one of them
    base["targets"] = {k: (v if v is not None else {}) for k, v in base["targets"].items()}
    for name, value in (overlay.get("params") or {}).items():
        params = base.setdefault("params", {})
        if name not in params:
            continue  # an override of an unknown param: lint rule MLP312 reports it
        if isinstance(params[name], dict):
            params[name] = {**params[name], "default": value}  # keep the schema, move the default
        else:  # a bare default: the override keeps its JSON type
            params[name] = {"default": value, "type": _json_type(params[name])}
    for key in ("env", "defaults", "tracking"):
        if key in overlay:
            base[key] = _deep_merge(base.get(key) or {}, overlay[key])
    if "triggers" in overlay:  # replaces the base's as a whole (SPEC.md, environments)
        base["triggers"] = overlay["triggers"]
    stages = base.get("stages") or {}
    for name, patch in (overlay.get("stages") or {}).items():
        if name in stages and isinstance(patch, dict):  # unknown stages: lint rule MLP312
            stages[name] = _deep_merge(stages[name] or {}, patch)
    for name, patch in (overlay.get("targets") or {}).items():
        if name in base["targets"] and isinstance(patch, dict):
            base["targets"][name] = _deep_merge(base["targets"][name], patch)
    for name in _shortcuts():  # `environments.<env>.<target>`: merged into `targets.<target>`
        shortcut = overlay.get(name)
        if isinstance(shortcut, dict) and name in base["targets"]:
            base["targets"][name] = _deep_merge(base["targets"][name], shortcut)
    return base


def _holds(data: Any, path: Loc) -> bool:
    """True when `data` has a value at exactly `path`."""
    for part in path:
        if isinstance(data, dict) and part in data:
            data = data[part]
        elif isinstance(data, list) and isinstance(part, int) and 0 <= part < len(data):
            data = data[part]
        else:
            return False
    return True


def _shortcuts() -> tuple[str, ...]:
    return tuple(name for name, target in TARGETS.items() if target.shortcut is not None)


def _json_type(value: Any) -> str:
    return {bool: "boolean", int: "integer", float: "number"}.get(type(value), "string")


def _deep_merge(base: Any, overlay: Any) -> Any:
    if isinstance(base, dict) and isinstance(overlay, dict):
        result = dict(base)
        for key, value in overlay.items():
            result[key] = _deep_merge(base.get(key), value) if key in base else value
        return result
    return copy.deepcopy(overlay)


def _validate_environment(
    data: Mapping[str, Any], env_name: str, locator: Locator, base: Spec
) -> tuple[Spec | None, list[Diagnostic]]:
    overlay = data["environments"][env_name] or {}
    problems = []
    for name in (overlay.get("targets") or {}):
        built = data.get("targets")
        if built is not None and name not in built:
            problems.append(diag(
                "MLP123", f"environment {quote(env_name)} configures target {quote(name)}, which the spec "
                "does not build", locator.key_position(("environments", env_name, "targets", name)),
                hint=f"add {quote(name + ': {}')} to the top-level 'targets', or remove it "
                     "here"))
    merged = merge_environment(data, env_name)
    # A stage the overlay leaves alone is the base's: its model, validated already, is taken
    # as it is (a Stage's validation reads only the stage). At 10,000 stages this halves the
    # time of validating each environment.
    stages = merged.get("stages")
    if isinstance(stages, dict) and isinstance(data.get("stages"), dict):
        for name, stage in data["stages"].items():
            if stages.get(name) is stage and name in base.stages:
                stages[name] = base.stages[name]
    try:
        spec = Spec.model_validate(merged)
    except ValidationError as error:
        return None, problems + _relocate(_translate(error, merged, Locator(None), Spec),
                                          env_name, overlay, locator)
    problems += _check_params(spec.params, ("environments", env_name), locator)
    return (None if problems else spec), problems


def _relocate(translated: list[tuple[Diagnostic, Loc]], env_name: str,
              overlay: Mapping[str, Any], locator: Locator) -> list[Diagnostic]:
    """Point errors found in a merged environment at the overlay value that caused them."""
    result = []
    for d, path in translated:
        overlay_path: Loc = ("environments", env_name, *path)
        if path[:1] == ("targets",) and len(path) > 2 and path[1] in _shortcuts() \
                and _holds(overlay, path[1:]):
            overlay_path = ("environments", env_name, *path[1:])
        line, column = locator.position(overlay_path)
        result.append(Diagnostic(d.path, line, column, d.code, d.severity,
                                 f"in environment {quote(env_name)}: {d.message}", d.hint))
    return result


def translate(error: ValidationError, data: Any, locator: Locator,
              model: type[BaseModel]) -> list[Diagnostic]:
    """Pydantic errors to diagnostics, one per offending place."""
    return [d for d, _ in _translate(error, data, locator, model)]


def _translate(error: ValidationError, data: Any, locator: Locator,
               model: type[BaseModel]) -> list[tuple[Diagnostic, Loc]]:
    return [(_one(e, path, locator, model), path)
            for e, path in _collapse(error.errors(include_url=False), data)]


def _collapse(errors: Sequence[Any], data: Any) -> list[tuple[Any, Loc]]:
    """Drop the noise of union branches: keep the deepest errors, one per place."""
    located = [(e, _data_path(e["loc"], data)) for e in errors]
    paths = {p for _, p in located}
    # An error inside a value explains more than "wrong type" errors on the value itself.
    located = [(e, p) for e, p in located
               if not any(q != p and q[:len(p)] == p for q in paths)]
    by_path: dict[Loc, list[Any]] = {}
    for e, p in located:
        by_path.setdefault(p, []).append(e)
    result = []
    for p, group in by_path.items():
        specific = [e for e in group if e["type"] not in _TYPE_WORDS]
        if specific:
            result.append((specific[0], p))  # union branches: one explanation is enough
        elif len(group) == 1:
            result.append((group[0], p))
        else:
            words = sorted({w for e in group if (w := _TYPE_WORDS.get(e["type"]))})
            merged = dict(group[0], type="union_type", expected=" or ".join(words))
            result.append((merged, p))
    return result


def _data_path(loc: Sequence[Any], data: Any) -> Loc:
    """The part of a pydantic `loc` that names data; union branch tags are left out."""
    path: list[str | int] = []
    node = data
    for part in loc:
        if part == "[key]":
            path.append("[key]")
            break
        if isinstance(node, dict) and isinstance(part, str) and (part in node or not path or
                                                                  _looks_like_key(part)):
            path.append(part)
            node = node.get(part)
        elif isinstance(node, list) and isinstance(part, int):
            path.append(part)
            node = node[part] if 0 <= part < len(node) else None
        # anything else is a union branch tag such as 'str' or 'function-after[...]'
    return tuple(path)


def _looks_like_key(part: str) -> bool:
    return not (part[:1].isupper() or "[" in part or part in {"str", "int", "float", "bool"})


def _one(e: Any, path: Loc, locator: Locator, model: type[BaseModel]) -> Diagnostic:
    kind = e["type"]
    if path and path[-1] == "[key]":
        key_path = path[:-1]
        return diag("MLP125", f"invalid {_container_word(key_path)} {quote(key_path[-1])}: "
                    f"expected {_pattern_words(e)}", locator.key_position(key_path))
    field_name = path[-1] if path else ""
    if kind == "extra_forbidden":
        parent = path[:-1]
        message = f"unknown key {quote(field_name)}"
        allowed = sorted(_allowed_keys(model, parent))
        hint = did_you_mean(str(field_name), allowed)
        if hint is None and 0 < len(allowed) <= _LIST_KEYS_UP_TO:
            hint = "allowed here: " + ", ".join(allowed)
        if len(parent) == 4 and parent[0] == "environments" and field_name in GRAPH_FIELDS:
            message = (f"an environment cannot change {quote(field_name)}: the pipeline's graph is "
                       "the same in every environment")
            hint = "change it in the stage itself"
        return diag("MLP120", message, locator.key_position(path), hint=hint)
    if kind == "missing":
        where = f"in {_describe(path[:-1])}" if path[:-1] else "at the top of the spec"
        return diag("MLP121", f"missing required field {quote(field_name)} {where}",
                    locator.key_position(path[:-1]) if path[:-1] else (1, 1))
    value = e.get("input")
    # A rule about a whole mapping (a stage, an autoscale block) is reported at its key.
    position = locator.key_position(path) if isinstance(value, dict) else locator.position(path)
    if kind in _TYPE_WORDS or kind == "union_type":
        expected = e.get("expected") or _TYPE_WORDS.get(kind) or "another value"
        if kind == "literal_error":
            expected = e["ctx"]["expected"]
        plain = locator.plain_text(path)
        shown = plain if plain is not None else value
        got = "empty" if value is None else _yaml_word(value) + (
            "" if isinstance(value, (dict, list)) else f" {quote(shown)}")
        return diag("MLP122", f"{_describe(path)} must be {expected}, not {got}", position,
                    hint=_type_hint(path, value, plain, expected))
    if kind == "string_pattern_mismatch":
        pattern = (e.get("ctx") or {}).get("pattern", "")
        if pattern == RUN_PATTERN:
            return diag("MLP130", f"{_describe(path)} holds no command", position,
                        hint="write the shell command to run; a deploy stage with 'serve' may "
                             "leave the 'run' key out instead")
        return diag("MLP125" if pattern in _NAMES else "MLP123",
                    f"invalid {_describe(path)} {quote(value)}: expected {_pattern_words(e)}",
                    position)
    if kind in _BOUND_WORDS:
        bound = next(iter((e.get("ctx") or {}).values()), "")
        return diag("MLP123", f"{_describe(path)} must be {_BOUND_WORDS[kind]} {bound}, "
                    f"not {quote(value)}", position)
    if kind == "too_short" and isinstance(value, (dict, list)):
        return diag("MLP123", f"{_describe(path)} needs at least one entry", position)
    message = e["msg"].removeprefix("Value error, ")
    return diag("MLP123", f"{_describe(path)}: {message[:1].lower()}{message[1:]}"
                f"{'' if isinstance(value, (dict, list)) or value is None else ' (got ' + quote(value) + ')'}",
                position)


_DURATION_FIELDS = ("timeout", "retry_delay")


def _type_hint(path: Loc, value: Any, plain: str | None, expected: str) -> str | None:
    """The fix for a value of the wrong type, written as the user would type it."""
    if value is None:  # `key: ~`, `key: null` or `key:` with nothing: quoting `~` is no fix
        if "mapping" in expected:
            return "write its fields below it, indented: a key with nothing after it is empty"
        if "list" in expected:
            return "write its items, or [] for none: a key with nothing after it is empty"
        return "write a value: YAML reads ~, null and nothing at all as no value"
    if plain is None or "text" not in expected or isinstance(value, str):
        return None
    if path and path[-1] in _DURATION_FIELDS and isinstance(value, int):
        return f"write a duration with its unit: {path[-1]}: {plain}s (or {plain}m, {plain}h)"
    reading = f"(unquoted, YAML reads {quote(plain, 40)[1:-1]} as {_yaml_word(value)})"
    typed = json.dumps(plain if len(plain) <= 40 else plain[:37] + "...")
    if path and isinstance(path[-1], int):  # an item of a list: `needs: [train, no]`
        return f"quote the list item: {typed} {reading}"
    key = str(path[-1]) if path else ""
    return f"quote it: {quote(key, 40)[1:-1]}: {typed} {reading}"


def _pattern_words(e: Any) -> str:
    pattern = (e.get("ctx") or {}).get("pattern", "")
    return _PATTERN_WORDS.get(pattern, "a value of the form given in the schema")


def _container_word(path: Loc) -> str:
    words = {"stages": "stage name", "params": "param name", "env": "environment variable name",
             "environments": "environment name", "matrix": "matrix axis name"}
    return words.get(str(path[-2]) if len(path) >= 2 else "", "name")


def _describe(path: Loc) -> str:
    return describe_path(path) if path else "the spec"


def _yaml_word(value: Any) -> str:
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, int):
        return "an integer"
    if isinstance(value, float):
        return "a number"
    if isinstance(value, dict):
        return "a mapping"
    if isinstance(value, list):
        return "a list"
    if value is None:
        return "empty"
    return "text"


def _allowed_keys(model: type[BaseModel], path: Loc) -> Iterable[str]:
    """The field names of the model found at `path`, for 'did you mean'."""
    annotation: Any = model
    for part in path:
        annotation = _step(annotation, part)
        if annotation is None:
            return ()
    models = [a for a in _flatten(annotation) if isinstance(a, type) and issubclass(a, BaseModel)]
    return [name for m in models for name in m.model_fields] if models else ()


def _flatten(annotation: Any) -> list[Any]:
    origin = typing.get_origin(annotation)
    if origin is typing.Annotated:
        return _flatten(typing.get_args(annotation)[0])
    if origin is typing.Union or str(origin) == "<class 'types.UnionType'>":
        return [a for arg in typing.get_args(annotation) for a in _flatten(arg)]
    return [annotation]


def _step(annotation: Any, part: str | int) -> Any:
    for option in _flatten(annotation):
        if isinstance(option, type) and issubclass(option, BaseModel):
            if isinstance(part, str) and part in option.model_fields:
                return option.model_fields[part].annotation
        origin = typing.get_origin(option)
        if origin is dict and isinstance(part, str):
            return typing.get_args(option)[1]
        if origin is list and isinstance(part, int):
            return typing.get_args(option)[0]
    return None


