"""Run-time parameters: their JSON Schema, and the check that defaults and overrides satisfy it."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from compiler.diagnostics import Diagnostic, diag, quote
from compiler.source import Locator
from compiler.spec.models import Param, ParamSchema

Loc = tuple[str | int, ...]
_JSON_TYPE = {bool: "boolean", int: "integer", float: "number", str: "string"}


def default_of(param: Param) -> bool | int | float | str:
    return param.default if isinstance(param, ParamSchema) else param


def json_schema(param: Param) -> dict[str, Any]:
    """The JSON Schema of a param, with `type` inferred from the default when not given."""
    if not isinstance(param, ParamSchema):
        return {"type": _JSON_TYPE[type(param)]}
    schema: dict[str, Any] = {"type": param.type or _JSON_TYPE[type(param.default)]}
    for key in ("enum", "minimum", "maximum", "pattern", "description"):
        value = getattr(param, key)
        if value is not None:
            schema[key] = value
    return schema


def env_text(value: bool | int | float | str) -> str:
    """A param value as the text of an environment variable (SPEC.md: JSON spelling)."""
    return value if isinstance(value, str) else json.dumps(value)


def _same_text(choices: list[Any]) -> tuple[int, int] | None:
    """The first two choices that differ in YAML but not as text (`1`, `"1"`, `true`)."""
    seen: dict[str, int] = {}
    for index, choice in enumerate(choices):
        text = env_text(choice)
        if text in seen:
            return seen[text], index
        seen[text] = index
    return None


def has_text_duplicates(param: Param) -> bool:
    return isinstance(param, ParamSchema) and bool(param.enum) and \
        _same_text(param.enum or []) is not None


def check(params: Mapping[str, Param], prefix: Loc, locator: Locator) -> list[Diagnostic]:
    """Each schema is a valid JSON Schema and each default satisfies it (jsonschema)."""
    if not any(isinstance(p, ParamSchema) for p in params.values()) and not prefix:
        return []  # a bare default is valid by construction: skip importing jsonschema
    import jsonschema

    problems = []
    for name, param in params.items():
        schema = json_schema(param)
        base_path: Loc = ("params", name)
        try:
            jsonschema.Draft202012Validator.check_schema(schema)
        except jsonschema.SchemaError as error:
            problems.append(diag("MLP129", f"param {quote(name)} has an invalid schema: "
                                 f"{error.message}", locator.position((*prefix, *base_path))))
            continue
        choices = param.enum if isinstance(param, ParamSchema) and param.enum else []
        clash = _same_text(choices)
        if clash is not None:
            first, second = clash
            problems.append(diag(
                "MLP129", f"param {quote(name)}: choices {first + 1} and {second + 1} are the same "
                f"text ({quote(env_text(choices[second]))}), which is how engines pass a "
                "run's value", locator.position((*base_path, "enum", second)),
                hint="keep one of them; quote choices to make them text"))
            continue
        if isinstance(param, ParamSchema) and param.minimum is not None \
                and param.maximum is not None and param.minimum > param.maximum:
            problems.append(diag("MLP129", f"param {quote(name)}: minimum {param.minimum} is greater "
                                 f"than maximum {param.maximum}", locator.position(base_path)))
            continue
        value = default_of(param)
        mismatch = jsonschema.exceptions.best_match(
            jsonschema.Draft202012Validator(schema).iter_errors(value))
        if mismatch is not None:
            where = (*prefix, "params", name) if prefix else (
                (*base_path, "default") if isinstance(param, ParamSchema) else base_path)
            if prefix and locator.node(where)[1] is None:
                where = prefix
            problems.append(diag(
                "MLP126", f"{'override' if prefix else 'default'} {quote(value)} of param "
                f"{quote(name)} does not satisfy its schema: {mismatch.message}", locator.position(where),
                hint=f"the schema is {schema}"))
    return problems
