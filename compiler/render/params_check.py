"""The check of a run's param values against their schemas, for engines that do not check.

Airflow validates a run's conf against each `Param`'s JSON Schema before the run starts; GitHub
checks only an input's type and choices, Argo only `enum`, KFP only types, DVC nothing. SPEC.md
says the schema reaches the engines and no target downgrades a safety control, so those
targets run this fixed script before any stage (a first job, step or task, or the DVC
launcher): a value outside its schema fails the run there, and nothing downstream starts.

The script is the same bytes for every spec. The schemas arrive as data in `MLOPS_PARAMS` (a
JSON object: name -> [variable, schema]) and each value as text in its `MLOPS_PARAM_<NAME>`
variable, as every stage gets it. It needs python3 and its standard library only, and checks
what `compiler.spec.models.ParamSchema` allows: `type`, `enum`, `minimum`, `maximum` and
`pattern` (searched, as JSON Schema does; Python's `re` reads the patterns that lint accepts).
"""

from __future__ import annotations

import json
from collections.abc import Iterable

from compiler.plan import PlanParam

SCHEMAS_VAR = "MLOPS_PARAMS"
PARAMS_FAILED = 87  # exit code of a refused run: like a failed gate, never worth a retry

PARAMS_CHECK = f"""\
import json, math, os, re, sys
def number(text, integer):
    value = float(text) if not integer else int(text, 10)
    if isinstance(value, float) and not math.isfinite(value):
        raise ValueError(text)
    return value
problems = []
for name, (var, schema) in sorted(json.loads(os.environ["{SCHEMAS_VAR}"]).items()):
    text = os.environ.get(var)
    if text is None:
        problems.append(f"{{name}}: no value ({{var}} is not set)")
        continue
    kind = schema.get("type")
    value = text
    try:
        if kind in ("integer", "number"):
            value = number(text.strip(), kind == "integer")
        elif kind == "boolean" and text not in ("true", "false"):
            raise ValueError(text)
    except ValueError:
        problems.append(f"{{name}}: {{text!r}} is not {{'an' if kind == 'integer' else 'a'}} {{kind}}")
        continue
    if "enum" in schema and text not in schema["enum"]:
        problems.append(f"{{name}}: {{text!r}} is not one of {{', '.join(map(repr, schema['enum']))}}")
    if "minimum" in schema and value < schema["minimum"]:
        problems.append(f"{{name}}: {{text}} is less than the minimum {{schema['minimum']}}")
    if "maximum" in schema and value > schema["maximum"]:
        problems.append(f"{{name}}: {{text}} is more than the maximum {{schema['maximum']}}")
    if "pattern" in schema and re.search(schema["pattern"], text) is None:
        problems.append(f"{{name}}: {{text!r}} does not match the pattern {{schema['pattern']!r}}")
for problem in problems:
    print(f"mlops params: {{problem}}", file=sys.stderr)
sys.exit({PARAMS_FAILED} if problems else 0)
"""


def schemas_json(params: Iterable[PlanParam]) -> str:
    """`MLOPS_PARAMS`: each param's variable and schema, choices as the text a run passes."""
    from compiler.spec.params import env_text

    data = {}
    for param in params:
        schema = {k: v for k, v in param.schema.items() if k != "description"}
        if "enum" in schema:
            schema["enum"] = [env_text(v) for v in schema["enum"]]
        data[param.name] = [param.var, schema]
    return json.dumps(data, sort_keys=True, separators=(",", ":"), ensure_ascii=True)


def needs_check(params: Iterable[PlanParam], checked: Iterable[str] = ("type", "enum"),
                *, as_text: bool = False) -> bool:
    """Whether any param's schema says more than what the engine checks (`checked`).
    `as_text`: the engine passes every value as text (GitHub's dispatch inputs, Argo's
    parameters), so `type: string` holds by itself and only other types need checking."""
    keys = {"type", "enum", "minimum", "maximum", "pattern"} - set(checked)
    return any(keys & set(p.schema) - ({"type"} if as_text and p.schema.get("type") == "string"
                                       else set())
               for p in params)
