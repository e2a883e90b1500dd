"""The published JSON Schema of mlops.yaml, generated from the pydantic models.

The model is the schema: `generate()` takes `Spec.model_json_schema()` and only reshapes what
pydantic emits in a form editors handle badly. The result is committed as
`schemas/mlops.schema.json`; `tests/test_schema.py` fails with a diff when it is stale and
rewrites it with `MLOPS_UPDATE_SCHEMA=1`.
"""

from __future__ import annotations

import json
from typing import Any

from compiler.spec.models import Spec

SCHEMA_DIALECT = "https://json-schema.org/draft/2020-12/schema"
# A URN, not a URL: the schema is shipped in the package and in the repository, not served.
SCHEMA_ID = "urn:mlops-compiler:schema:mlops.yaml:v1"
TITLE = "mlops.yaml"
DESCRIPTION = (
    "One ML pipeline (stages, params, environments, targets) that mlops-compiler turns into "
    "GitHub Actions workflows, Airflow DAG files and Kubernetes/Argo manifests. "
    "Run 'mlops lint' for the checks a schema cannot express (the stage graph, cron, "
    "credentials in values)."
)

# Model validators that JSON Schema can express, added to the definition they belong to.
# Keep in step with `Stage._run_or_serve` in compiler/spec/models.py.
_EXTRA: dict[str, dict[str, Any]] = {
    "Stage": {
        "allOf": [
            {   # `run` is required, except on a deploy stage that has `serve`.
                "anyOf": [
                    {"required": ["run"], "properties": {"run": {"type": "string"}}},
                    {"required": ["type", "serve"],
                     "properties": {"type": {"const": "deploy"}, "serve": {"type": "object"}}},
                ],
            },
            {   # `serve` only on a deploy stage.
                "if": {"required": ["serve"], "properties": {"serve": {"type": "object"}}},
                "then": {"required": ["type"], "properties": {"type": {"const": "deploy"}}},
            },
        ],
    },
}


def build() -> dict[str, Any]:
    """The schema as data."""
    schema: dict[str, Any] = _reshape(Spec.model_json_schema())
    for name, extra in _EXTRA.items():
        schema["$defs"][name].update(extra)
    schema.update({"$schema": SCHEMA_DIALECT, "$id": SCHEMA_ID, "title": TITLE,
                   "description": DESCRIPTION})
    return schema


def generate() -> str:
    """The schema as the text of `schemas/mlops.schema.json`: sorted keys, stable bytes."""
    return json.dumps(build(), indent=2, sort_keys=True, ensure_ascii=False) + "\n"


def _reshape(node: Any, *, is_property: bool = False) -> Any:
    """Walk pydantic's output and fix what editors and validators read wrongly."""
    if isinstance(node, list):
        return [_reshape(item) for item in node]
    if not isinstance(node, dict):
        return node
    result: dict[str, Any] = {}
    for key, value in node.items():
        if key == "title" and is_property:
            continue  # pydantic titles each property after its name ("Retry Delay"): noise
        if key in ("properties", "$defs", "patternProperties") and isinstance(value, dict):
            # Here the keys are names, not keywords: keep every one.
            result[key] = {name: _reshape(sub, is_property=key == "properties")
                           for name, sub in value.items()}
        else:
            result[key] = _reshape(value)
    patterns = result.get("patternProperties")
    if isinstance(patterns, dict) and len(patterns) == 1 and "additionalProperties" not in result:
        # A mapping with constrained keys (stage names, env names): pydantic writes
        # patternProperties, which lets a key that fails the pattern through unchecked.
        # propertyNames rejects it, and editors flag the key itself.
        (pattern, value), = patterns.items()
        del result["patternProperties"]
        result["propertyNames"] = {"pattern": pattern}
        result["additionalProperties"] = value
    return result


__all__ = ["build", "generate", "SCHEMA_DIALECT", "SCHEMA_ID"]
