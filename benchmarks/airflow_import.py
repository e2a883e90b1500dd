"""Time a DAG file's import the way a DagBag does it, after Airflow itself is imported.

Run with an Airflow venv's python: `python airflow_import.py DAG_FILE REPEAT`. Prints one JSON
line: {"median": seconds, "runs": [...], "dags": {dag_id: task count}}.

Airflow, the SDK and the Bash operator are imported (and one warm-up import done) before the
clock starts, so both sides pay only for their own work: our generated module, or dag-factory
reading its YAML and building the same DAG.
"""

from __future__ import annotations

import gc
import importlib.util
import json
import statistics
import sys
import time
import warnings

warnings.simplefilter("ignore")

import airflow  # noqa: E402,F401  - outside the clock, as in a DagBag process
import airflow.sdk  # noqa: E402,F401
from airflow.providers.standard.operators.bash import BashOperator  # noqa: E402,F401


def _load(path: str, index: int) -> dict[str, int]:
    spec = importlib.util.spec_from_file_location(f"bench_dag_{index}", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    dags = {}
    for value in vars(module).values():
        if type(value).__name__ == "DAG":
            dags[value.dag_id] = len(value.tasks)
    return dags


def main() -> None:
    path, repeat = sys.argv[1], int(sys.argv[2])
    if len(sys.argv) > 3:  # dag-factory: import it before the clock too (the peer's "Airflow")
        import dagfactory  # noqa: F401
    dags = _load(path, 0)  # warm-up: lazy imports inside Airflow happen once per process
    runs = []
    for index in range(1, repeat + 1):
        # Each import starts from the same heap: the previous runs' DAGs are garbage with
        # reference cycles, which would otherwise make later runs pay for their collection.
        gc.collect()
        start = time.perf_counter()
        _load(path, index)
        runs.append(time.perf_counter() - start)
    print("@@BENCH@@ " + json.dumps({"median": statistics.median(runs), "runs": runs,
                                     "dags": dags}))


if __name__ == "__main__":
    main()
