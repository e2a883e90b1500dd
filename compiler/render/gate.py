"""The metric gate check that every target runs right after a gated stage's command.

The script is fixed code (the same bytes for every spec); the metrics path and the conditions
reach it only as data, in environment variables, so no spec text is ever evaluated as code.
It needs python3 and its standard library only.
"""

from __future__ import annotations

from compiler.plan import PlanStage
from compiler.render.encode import json_text

METRICS_VAR = "MLOPS_METRICS"
GATES_VAR = "MLOPS_GATES"

GATE_SCRIPT = """\
import json, operator, os, sys
ops = {">=": operator.ge, ">": operator.gt, "<=": operator.le, "<": operator.lt,
       "==": operator.eq, "!=": operator.ne}
path = os.environ["MLOPS_METRICS"]
try:
    with open(path, encoding="utf-8") as f:
        metrics = json.load(f)
except (OSError, ValueError) as e:
    sys.exit(f"mlops gate: cannot read metrics {path!r}: {e}")
failed = 0
for metric, op, number in json.loads(os.environ["MLOPS_GATES"]):
    value = metrics.get(metric) if isinstance(metrics, dict) else None
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        print(f"mlops gate: FAIL {metric} {op} {number}: metric missing or not a number")
        failed += 1
    elif ops[op](value, float(number)):
        print(f"mlops gate: pass {metric} = {value} {op} {number}")
    else:
        print(f"mlops gate: FAIL {metric} = {value}, required {op} {number}")
        failed += 1
sys.exit(1 if failed else 0)
"""


def gates_json(stage: PlanStage) -> str:
    """The conditions as data: a JSON list of [metric, op, number-as-written]."""
    return str(json_text([[g.metric, g.op, g.number] for g in stage.gates]))


def gate_env(stage: PlanStage) -> tuple[tuple[str, str], ...]:
    """The variables the gate script reads; empty for a stage without gates."""
    if not stage.gates or stage.metrics is None:
        return ()
    return ((GATES_VAR, gates_json(stage)), (METRICS_VAR, stage.metrics))
