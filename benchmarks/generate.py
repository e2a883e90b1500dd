"""Realistic specs of N stages, and the equivalent inputs of the peers (dvc.yaml, dag-factory).

The pipeline is a chain of blocks of five stages (ingest -> featurize -> train -> evaluate ->
report), each block also reading the previous block's features, so the graph is both wide and
deep. Edges are mostly implied by inputs and outputs, some explicit (`needs`). The first train
stage fans out over a matrix; the last stage deploys a service behind a gate; one stage
monitors on its own schedule. Two environments (staging, production) overlay the base.

    python benchmarks/generate.py 1000 > /tmp/mlops.yaml
"""

from __future__ import annotations

import sys
from dataclasses import dataclass, field
from typing import Any

import yaml

_Dumper = getattr(yaml, "CSafeDumper", yaml.SafeDumper)
IMAGE = "ghcr.io/acme/bench@sha256:" + "4f1c2a9b8e7d6c5b4a39281706f5e4d3c2b1a09f8e7d6c5b4a3928170f6e5d4c"
KINDS = ("ingest", "featurize", "train", "evaluate", "report")
TYPES = {"ingest": "data", "featurize": "features", "train": "train", "evaluate": "evaluate",
         "report": "task"}


@dataclass
class Stage:
    name: str
    type: str
    run: str
    needs: list[str] = field(default_factory=list)
    inputs: list[str] = field(default_factory=list)
    outputs: list[str] = field(default_factory=list)
    metrics: str | None = None
    gate: list[str] = field(default_factory=list)
    matrix: dict[str, list[Any]] | None = None
    schedule: str | None = None
    serve: dict[str, Any] | None = None
    extra: dict[str, Any] = field(default_factory=dict)


def stages(n: int) -> list[Stage]:
    """N stages: blocks of five, then a monitor and a deploy stage (N >= 7)."""
    if n < 7:
        raise ValueError("a benchmark spec has at least 7 stages")
    result: list[Stage] = []
    body = n - 2
    for i in range(body):
        block, kind = divmod(i, len(KINDS))
        name = f"{KINDS[kind]}-{block:05d}"
        d = f"data/b{block:05d}"
        if kind == 0:
            s = Stage(name, "data", f"python -m bench.ingest --block {block} --out {d}/raw.parquet",
                      outputs=[f"{d}/raw.parquet"], extra={"secrets": ["WAREHOUSE_DSN"]})
            if block:  # ingest waits for the previous block's report: an explicit edge
                s.needs = [f"report-{block - 1:05d}"]
        elif kind == 1:
            s = Stage(name, "features", f"python -m bench.features {d}/raw.parquet {d}/features.parquet",
                      inputs=[f"{d}/raw.parquet"], outputs=[f"{d}/features.parquet"])
            if block:
                s.inputs.append(f"data/b{block - 1:05d}/features.parquet")
        elif kind == 2:
            s = Stage(name, "train", "python -m bench.train --lr ${params.learning_rate} "
                      f"--max-depth ${{params.max_depth}} {d}/features.parquet models/b{block:05d}/",
                      inputs=[f"{d}/features.parquet"], outputs=[f"models/b{block:05d}/"],
                      extra={"resources": {"cpu": "4", "memory": "16Gi"}, "timeout": "1h30m",
                             "retries": 2})
            if block == 0:
                s.matrix = {"seed": [1, 2, 3], "depth": [4, 8]}
                s.run = ("python -m bench.train --lr ${params.learning_rate} --seed ${matrix.seed} "
                         f"--max-depth ${{matrix.depth}} {d}/features.parquet models/b00000/")
        elif kind == 3:
            s = Stage(name, "evaluate", f"python -m bench.evaluate models/b{block:05d}/ --out {d}/metrics.json",
                      inputs=[f"models/b{block:05d}/model.pt", f"{d}/features.parquet"],
                      outputs=[f"{d}/metrics.json"], metrics=f"{d}/metrics.json",
                      gate=["auc >= 0.82", "calibration_error <= 0.05"])
        else:
            s = Stage(name, "task", f"python -m bench.report {d}/metrics.json --out reports/b{block:05d}.html",
                      inputs=[f"{d}/metrics.json"], outputs=[f"reports/b{block:05d}.html"],
                      extra={"env": {"REPORT_TITLE": f"Block {block}"}})
        result.append(s)
    last_eval = next(s.name for s in reversed(result) if s.type == "evaluate")
    result.append(Stage("drift", "monitor", "python -m bench.drift --max-psi 0.2",
                        schedule="0 * * * *", extra={"timeout": "10m"}))
    result.append(Stage("deploy", "deploy", "python -m bench.register models/", needs=[last_eval],
                        extra={"secrets": ["MLFLOW_TRACKING_TOKEN"]},
                        serve={"image": IMAGE, "port": 8080, "replicas": 2, "health": "/healthz"}))
    return result


def _stage_data(s: Stage) -> dict[str, Any]:
    data: dict[str, Any] = {"type": s.type, "run": s.run}
    for key in ("needs", "inputs", "outputs", "gate"):
        if getattr(s, key):
            data[key] = getattr(s, key)
    for key in ("metrics", "matrix", "schedule", "serve"):
        if getattr(s, key) is not None:
            data[key] = getattr(s, key)
    data.update(s.extra)
    return data


def spec(n: int, name: str = "bench") -> dict[str, Any]:
    all_stages = stages(n)
    return {
        "version": 1, "name": name,
        "description": f"A generated pipeline of {n} stages for benchmarks.",
        "owner": "ml-platform",
        "params": {"learning_rate": {"default": 0.05, "type": "number", "minimum": 0,
                                     "maximum": 1},
                   "max_depth": 6, "dataset": "clicks-v3"},
        "env": {"LOG_LEVEL": "info", "DATASET": "${params.dataset}"},
        "secrets": ["WAREHOUSE_DSN", "MLFLOW_TRACKING_TOKEN"],
        "defaults": {"image": IMAGE, "retries": 1, "retry_delay": "30s", "timeout": "30m",
                     "resources": {"cpu": "1", "memory": "2Gi"}},
        "triggers": {"schedule": "0 3 * * 1", "push": {"branches": ["main"]}, "manual": True},
        "stages": {s.name: _stage_data(s) for s in all_stages},
        "environments": {
            "staging": {"params": {"learning_rate": 0.1},
                        "stages": {"train-00000": {"matrix": {"seed": [1], "depth": [4]}}},
                        "kubernetes": {"namespace": f"{name}-staging"}},
            "production": {"approval": True, "env": {"LOG_FORMAT": "json"},
                           "stages": {"deploy": {"serve": {"replicas": 6}}},
                           "kubernetes": {"namespace": f"{name}-prod"}},
        },
        "targets": {"github": {"runs_on": "ubuntu-24.04"},
                    "airflow": {"version": 3, "operator": "bash"},
                    "kubernetes": {"namespace": name, "workspace": {"size": "20Gi"}}},
    }


def fanin_spec(n: int, name: str = "fanin") -> dict[str, Any]:
    """N stages in a fan-in shape: N - 1 independent stages each write one file, and a last
    stage reads them all. It is the shape where looking up who produces an input, done
    naively, compares every pair (issue 20, class 9); every target is built from it."""
    if n < 2:
        raise ValueError("a fan-in spec has at least 2 stages")
    stages: dict[str, Any] = {
        f"part-{i:05d}": {"type": "data", "run": f"python -m bench.part {i} --out parts/{i:05d}.csv",
                          "outputs": [f"parts/{i:05d}.csv"]}
        for i in range(n - 1)}
    stages["combine"] = {"type": "features", "run": "python -m bench.combine parts/",
                         "inputs": [f"parts/{i:05d}.csv" for i in range(n - 1)],
                         "outputs": ["combined.parquet"]}
    return {
        "version": 1, "name": name,
        "description": f"A generated fan-in pipeline of {n} stages for benchmarks.",
        "defaults": {"image": IMAGE},
        "stages": stages,
        "environments": {"staging": {"kubernetes": {"namespace": f"{name}-staging"}}},
        "targets": {"github": {"runs_on": "ubuntu-24.04"},
                    "airflow": {"version": 3, "operator": "bash"},
                    "kubernetes": {"namespace": name, "workspace": {"size": "20Gi"}},
                    "kubeflow": {}, "dvc": {"environment": "staging"}},
    }


def fanin_spec_text(n: int) -> str:
    return dump(fanin_spec(n))


def dump(data: Any) -> str:
    return yaml.dump(data, Dumper=_Dumper, sort_keys=False, default_flow_style=False, width=120,
                     allow_unicode=True)


def spec_text(n: int) -> str:
    return "# yaml-language-server: $schema=../schemas/mlops.schema.json\n" + dump(spec(n))


def dvc_text(n: int) -> str:
    """The same graph as a dvc.yaml: explicit `needs` become deps on the upstream's outputs.

    `${matrix.X}` becomes `${X}`, a dvc param, since dvc would need one output per matrix item.
    """
    all_stages = {s.name: s for s in stages(n)}
    out: dict[str, Any] = {}
    for s in all_stages.values():
        deps = list(s.inputs)
        for upstream in s.needs:
            deps += [o for o in all_stages[upstream].outputs if o not in deps]
        entry: dict[str, Any] = {"cmd": s.run.replace("${params.", "${").replace("${matrix.", "${")}
        # A dvc matrix stage needs one output per item; the graph is the same without it.
        if deps:
            entry["deps"] = [d.rstrip("/") for d in deps]
        outs = [o.rstrip("/") for o in s.outputs if o != s.metrics]
        if outs:
            entry["outs"] = outs
        if s.metrics:
            entry["metrics"] = [{s.metrics: {"cache": False}}]
        out[s.name] = entry
    return dump({"stages": out})


def dvc_params_text() -> str:
    return dump({"learning_rate": 0.05, "max_depth": 6, "dataset": "clicks-v3", "seed": 1, "depth": 4})


def dagfactory_text(n: int, dag_id: str = "bench_dagfactory") -> str:
    """The same DAG for dag-factory (BashOperator tasks, as our `operator: bash` renders)."""
    all_stages = stages(n)
    producers = {o: s.name for s in all_stages for o in s.outputs}
    tasks: dict[str, Any] = {}
    for s in all_stages:
        if s.schedule:  # scheduled stages live in their own DAG in both tools
            continue
        upstream = list(s.needs)
        for path in s.inputs:
            owner = producers.get(path) or next(
                (v for k, v in producers.items() if k.endswith("/") and path.startswith(k)), None)
            if owner and owner not in upstream:
                upstream.append(owner)
        task: dict[str, Any] = {
            "operator": "airflow.providers.standard.operators.bash.BashOperator",
            "bash_command": s.run.replace("${params.", "${MLOPS_PARAM_").replace("${matrix.", "${MLOPS_MATRIX_"),
            "retries": s.extra.get("retries", 1),
        }
        if upstream:
            task["dependencies"] = upstream
        tasks[s.name.replace("-", "_")] = task
        if upstream:
            task["dependencies"] = [u.replace("-", "_") for u in upstream]
    return dump({dag_id: {
        "default_args": {"owner": "ml-platform", "start_date": "2024-01-01"},
        "schedule": "0 3 * * 1", "catchup": False,
        "params": {"learning_rate": 0.05, "max_depth": 6, "dataset": "clicks-v3"},
        "description": f"A generated pipeline of {n} stages for benchmarks.",
        "tasks": tasks,
    }})


def airflow_floor_text(n: int, dag_id: str = "bench_floor") -> str:
    """The least DAG file of the same graph: bare BashOperators, edges, nothing else.

    Importing it measures what Airflow itself costs to construct N tasks: no DAG file of
    this graph (ours or dag-factory's) can import faster.
    """
    all_stages = [s for s in stages(n) if not s.schedule]
    producers = {o: s.name for s in all_stages for o in s.outputs}
    lines = ["import datetime",
             "from airflow.sdk import DAG",
             "from airflow.providers.standard.operators.bash import BashOperator",
             f"with DAG({dag_id!r}, schedule=None, start_date=datetime.datetime(2024, 1, 1)) as dag:",
             "    t = {}"]
    for s in all_stages:
        lines.append(f"    t[{s.name!r}] = BashOperator(task_id={s.name!r}, bash_command={s.run!r})")
        upstream = list(s.needs)
        for path in s.inputs:
            owner = producers.get(path) or next(
                (v for k, v in producers.items() if k.endswith("/") and path.startswith(k)), None)
            if owner and owner not in upstream:
                upstream.append(owner)
        if upstream:
            lines.append(f"    t[{s.name!r}].set_upstream([t[u] for u in {tuple(upstream)!r}])")
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    kind = sys.argv[2] if len(sys.argv) > 2 else "spec"
    count = int(sys.argv[1])
    sys.stdout.write({"spec": spec_text, "dvc": dvc_text, "dagfactory": dagfactory_text,
                      "airflow-floor": airflow_floor_text}[kind](count))
