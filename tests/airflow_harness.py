"""Inspect or run generated DAG files inside a real Apache Airflow (2.10+/3.x) virtualenv.

Run with the python of an Airflow venv (see ``tests/tooling.py:airflow_python``), never with
the test interpreter: this module imports Airflow.

    python airflow_harness.py load DAG_DIR
    python airflow_harness.py test DAG_FILE DAG_ID [--conf JSON]
    python airflow_harness.py test-batch RUNS_JSON

``test-batch`` runs several ``dag.test()`` in one process (Airflow's start-up, not the tasks,
is most of a small run's time): RUNS_JSON is a file holding a list of ``{"dag_file", "dag_id",
"conf", "env"}``, where ``env`` is set in the worker's environment for that run only.

The result is one JSON object on the last line of stdout, prefixed by ``RESULT_MARKER``.
Everything else Airflow prints (logs, warnings, task output) is sent to stderr, because
Airflow's log handlers and the tasks' subprocesses write to file descriptor 1 directly.
"""

from __future__ import annotations

import argparse
import contextlib
import datetime
import json
import os
import sys
from typing import Any

RESULT_MARKER = "@@AIRFLOW_HARNESS_RESULT@@ "


def _seconds(value: Any) -> float | None:
    """timedelta, number or None -> seconds (Airflow accepts both forms for delays)."""
    if value is None:
        return None
    if isinstance(value, datetime.timedelta):
        return value.total_seconds()
    return float(value)


def _jsonable(value: Any) -> Any:
    """Best-effort JSON form of operator fields (timedeltas, sets, Kubernetes models...)."""
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    if isinstance(value, datetime.timedelta):
        return value.total_seconds()
    if isinstance(value, (datetime.date, datetime.datetime)):
        return value.isoformat()
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple, set, frozenset)):
        items = [_jsonable(v) for v in value]
        return sorted(items, key=repr) if isinstance(value, (set, frozenset)) else items
    to_dict = getattr(value, "to_dict", None)  # kubernetes client models (V1Volume, ...)
    if callable(to_dict):
        with contextlib.suppress(Exception):  # some models can't serialise: repr() below
            return _jsonable(to_dict())
    return repr(value)


def _schedule(dag: Any) -> str | None:
    """The schedule as the DAG author wrote it, on Airflow 2 and 3.

    Airflow 3 keeps the argument in ``dag.schedule``; Airflow 2.10 only in
    ``schedule_interval`` (cron string/None/timedelta) or the timetable.
    """
    raw = getattr(dag, "schedule", None)
    if raw is None:
        raw = getattr(dag, "schedule_interval", None)
    if raw is None:
        timetable = getattr(dag, "timetable", None)
        summary = getattr(timetable, "summary", None)
        return None if summary in (None, "None") else str(summary)
    if isinstance(raw, str):
        return raw
    if isinstance(raw, datetime.timedelta):
        return f"timedelta:{raw.total_seconds()}"
    summary = getattr(getattr(dag, "timetable", None), "summary", None)
    return str(summary) if summary is not None else repr(raw)


def _params(dag: Any) -> dict[str, Any]:
    out: dict[str, Any] = {}
    params = dag.params
    for name in params:
        param = params.get_param(name)
        dumped = param.dump()  # {"value", "schema", "description", ...} on 2.10 and 3.x
        value = dumped.get("value")
        has_default = type(value).__name__ != "ArgNotSet"
        out[name] = {
            "default": _jsonable(value) if has_default else None,
            "has_default": has_default,
            "schema": _jsonable(dumped.get("schema") or {}),
            "description": dumped.get("description"),
        }
    return out


# Non-templated operator attributes worth asserting on (pod security, bash env handling...).
_EXTRA_ATTRS = (
    "security_context", "container_security_context", "service_account_name", "image_pull_policy",
    "on_finish_action", "get_logs", "append_env", "do_xcom_push", "owner",
)


def _task(task: Any) -> dict[str, Any]:
    fields = {name: _jsonable(getattr(task, name, None)) for name in getattr(task, "template_fields", ())}
    extra = {name: _jsonable(getattr(task, name)) for name in _EXTRA_ATTRS if hasattr(task, name)}
    return {
        "operator": type(task).__name__,
        "upstream": sorted(task.upstream_task_ids),
        "downstream": sorted(task.downstream_task_ids),
        "retries": task.retries,
        "retry_delay": _seconds(task.retry_delay),
        "execution_timeout": _seconds(task.execution_timeout),
        "trigger_rule": str(getattr(task.trigger_rule, "value", task.trigger_rule)),
        "pool": task.pool,
        "queue": task.queue,
        "template_fields": fields,
        "attrs": extra,
    }


def _dagbag(path: str) -> Any:
    try:  # Airflow 3.1+ moved DagBag; the old path still works but warns
        from airflow.dag_processing.dagbag import DagBag
    except ImportError:
        from airflow.models.dagbag import DagBag
    import inspect

    kwargs: dict[str, Any] = {"dag_folder": path, "safe_mode": False}
    if "include_examples" in inspect.signature(DagBag.__init__).parameters:  # gone in Airflow 3.2+
        kwargs["include_examples"] = False
    return DagBag(**kwargs)


def _import_errors(bag: Any, path: str) -> dict[str, str]:
    """Import errors keyed by absolute file path (Airflow 3 may key them relative to a bundle)."""
    base = path if os.path.isdir(path) else os.path.dirname(path)
    return {
        (k if os.path.isabs(str(k)) else os.path.join(base, str(k))): str(v)
        for k, v in sorted(bag.import_errors.items())
    }


def load(dag_dir: str) -> dict[str, Any]:
    bag = _dagbag(dag_dir)
    dags: dict[str, Any] = {}
    for dag_id, dag in sorted(bag.dags.items()):
        dags[dag_id] = {
            "fileloc": dag.fileloc,
            "schedule": _schedule(dag),
            "timetable": type(dag.timetable).__name__,
            "tags": sorted(dag.tags or []),
            "params": _params(dag),
            "catchup": dag.catchup,
            "max_active_runs": dag.max_active_runs,
            "max_active_tasks": getattr(dag, "max_active_tasks", None),
            "dagrun_timeout": _seconds(dag.dagrun_timeout),
            "start_date": dag.start_date.isoformat() if dag.start_date else None,
            "description": dag.description,
            "doc_md": dag.doc_md,
            "tasks": {task.task_id: _task(task) for task in sorted(dag.tasks, key=lambda t: t.task_id)},
        }
    return {
        "airflow_version": _airflow_version(),
        "import_errors": _import_errors(bag, dag_dir),
        "dags": dags,
    }


def _survive_task_timeouts() -> None:
    """Let Airflow 2's dag.test() go on after a task times out, as a scheduler would.

    Airflow 2's AirflowTaskTimeout is a BaseException (so task code cannot swallow it), and
    dag.test() catches only Exception around each task: the first timeout ended the whole
    test run. The task instance is already marked failed (or up for retry) when it propagates,
    so turning it into an Exception here leaves dag.test() to log it and carry on with the
    run, which is what a worker and the scheduler do. Airflow 3 runs tasks through the task
    SDK and needs nothing.
    """
    if not _airflow_version().startswith("2."):
        return  # (importing airflow.models.dag on Airflow 3 alone costs seconds)
    from airflow.exceptions import AirflowTaskTimeout
    from airflow.models import dag as dag_module

    run_task = getattr(dag_module, "_run_task", None)
    if run_task is None or getattr(run_task, "survives_timeouts", False):
        return

    def _run_task(**kwargs: Any) -> Any:
        try:
            return run_task(**kwargs)
        except AirflowTaskTimeout as exc:
            raise RuntimeError(f"task timed out: {exc}") from exc

    _run_task.survives_timeouts = True  # type: ignore[attr-defined]
    dag_module._run_task = _run_task


def test(dag_file: str, dag_id: str, conf: dict[str, Any] | None) -> dict[str, Any]:
    _survive_task_timeouts()
    bag = _dagbag(dag_file)
    if bag.import_errors:
        return {"airflow_version": _airflow_version(), "import_errors": _import_errors(bag, dag_file), "states": {}}
    dag = bag.dags[dag_id]
    dagrun = dag.test(run_conf=conf)

    # Read states back from the metadata DB: the DagRun returned by dag.test() may be detached
    # from its session (Airflow 3), so its task instances can't be lazily loaded.
    from airflow.models.taskinstance import TaskInstance
    from airflow.utils.session import create_session

    with create_session() as session:
        tis = session.query(TaskInstance).filter(
            TaskInstance.dag_id == dag_id, TaskInstance.run_id == dagrun.run_id
        )
        states = {ti.task_id: (str(ti.state.value) if hasattr(ti.state, "value") else ti.state) for ti in tis}
    run_state = getattr(dagrun.state, "value", dagrun.state)
    return {
        "airflow_version": _airflow_version(),
        "import_errors": {},
        "run_id": dagrun.run_id,
        "dag_run_state": str(run_state) if run_state is not None else None,
        "states": dict(sorted(states.items())),
    }


def _refusal(exc: BaseException) -> str | None:
    """The message of a run Airflow refused to create (a conf outside its params' schema)."""
    names = {cls.__name__ for cls in type(exc).__mro__}
    return f"{type(exc).__name__}: {exc}" if "ParamValidationError" in names else None


def test_batch(runs: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """``test()`` for each run in turn, its ``env`` set in os.environ (the worker's environment,
    where ``operator: bash`` tasks read secrets) only while it runs."""
    results = []
    for run in runs:
        saved = dict(os.environ)
        os.environ.update(run.get("env") or {})
        try:
            result = test(run["dag_file"], run["dag_id"], run.get("conf"))
            result["refused"] = None
        except Exception as exc:  # noqa: BLE001 - a refusal is a result; anything else is reported
            refused = _refusal(exc)
            if refused is None:
                raise
            result = {"airflow_version": _airflow_version(), "import_errors": {}, "states": {},
                      "dag_run_state": None, "refused": refused}
        finally:
            os.environ.clear()
            os.environ.update(saved)
        results.append(result)
    return results


def _airflow_version() -> str:
    import airflow

    return str(airflow.__version__)


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    sub = parser.add_subparsers(dest="cmd", required=True)
    p_load = sub.add_parser("load")
    p_load.add_argument("dag_dir")
    p_test = sub.add_parser("test")
    p_test.add_argument("dag_file")
    p_test.add_argument("dag_id")
    p_test.add_argument("--conf", default=None, help="JSON object passed as dag_run.conf")
    p_batch = sub.add_parser("test-batch")
    p_batch.add_argument("runs_json")
    args = parser.parse_args(argv)

    # Keep fd 1 for our JSON only: everything else (Airflow logs, task subprocess output) goes
    # to stderr. Done at fd level, since log handlers keep references to the original stream.
    sys.stdout.flush()
    result_fd = os.dup(1)
    os.dup2(2, 1)
    try:
        if args.cmd == "load":
            os.environ["AIRFLOW__CORE__DAGS_FOLDER"] = os.path.abspath(args.dag_dir)
            result = load(args.dag_dir)
        elif args.cmd == "test":
            os.environ["AIRFLOW__CORE__DAGS_FOLDER"] = os.path.dirname(os.path.abspath(args.dag_file))
            conf = json.loads(args.conf) if args.conf else None
            result = test(args.dag_file, args.dag_id, conf)
        else:
            with open(args.runs_json, encoding="utf-8") as handle:
                runs = json.load(handle)
            folders = [os.path.dirname(os.path.abspath(r["dag_file"])) for r in runs]
            os.environ["AIRFLOW__CORE__DAGS_FOLDER"] = os.path.commonpath(folders) if folders else "."
            result = {"runs": test_batch(runs)}
    finally:
        sys.stdout.flush()
        sys.stderr.flush()
    with os.fdopen(result_fd, "w") as out:
        out.write(RESULT_MARKER + json.dumps(result, sort_keys=True, default=repr) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
