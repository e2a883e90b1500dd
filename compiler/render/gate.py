"""The metric gate check that every target runs right after a gated stage's command.

The script is fixed code (the same bytes for every spec); the metrics path and the conditions
reach it only as data, in environment variables (`MLOPS_METRICS`, `MLOPS_GATES`: see
`compiler.envvars`), so no spec text is ever evaluated as code. It needs python3 and its
standard library only.
"""

from __future__ import annotations

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
