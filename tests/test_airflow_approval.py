"""Approval on the Airflow target (SPEC.md: a target that cannot enforce approval is an error).

On Airflow 3.1+ each deploy stage of an environment with `approval: true` waits for an
`ApprovalOperator` task (`approve_<stage>`): "Reject" fails it, and with no answer within
`targets.airflow.approval_timeout` it chooses "Reject" itself. On Airflow 2 lint refuses the
environment (MLP413). The approval task's subject and body are Jinja template fields: they must
hold only compiler-made text (SPEC.md section 5).

The examples' approval plans are checked here, not in tests/test_airflow_target.py, whose
checks expect a DAG shaped exactly like the spec's graph and loadable by Airflow 2.
"""

from __future__ import annotations

import ast
import json
import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from compiler import pipeline
from compiler.analysis import Analysis
from compiler.plan import Plan
from compiler.targets.airflow.names import (
    approval_task_ids,
    file_stem,
    stage_dag_id,
    task_ids,
)
from tests import tooling
from tests.test_airflow_target import (
    EDGE_SPEC,
    EXAMPLES,
    TARGET,
    _analyze,
    _plans,
    _write,
)

# Two deploy stages (one a matrix), a stage whose name is the first approval task's id, a
# scheduled deploy stage (a DAG of its own), pods, and an approval timeout of 90 minutes.
APPROVAL_SPEC = """\
version: 1
name: many-deploys
defaults: {image: "ghcr.io/acme/x:1"}
stages:
  train: {run: "echo train"}
  ship:
    type: deploy
    needs: [train]
    matrix: {region: [eu, us]}
    run: "echo ship $MLOPS_MATRIX_REGION"
  approve_ship:
    type: deploy
    needs: [train]
    run: "echo second"
  notify: {needs: [ship, approve_ship], run: "echo done"}
  nightly-push:
    type: deploy
    schedule: "@daily"
    run: "echo nightly"
environments:
  prod: {approval: true}
  dev: {}
targets:
  airflow: {operator: kubernetes, approval_timeout: 90m}
"""

# Jinja and shell in every spec string that could be mistaken for text to show a human.
HOSTILE = "{{ 7*7 }} {% raw %} {# c #} $(id) `id` '\"\\"
_EVALUATE = json.dumps("echo " + HOSTILE + " > /dev/null; printf '{\"auc\": 1}' > m.json")
HOSTILE_SPEC = f"""\
version: 1
name: hostile
description: {json.dumps(HOSTILE)}
owner: {json.dumps(HOSTILE)}
params:
  note: {{default: {json.dumps(HOSTILE)}, type: string, description: {json.dumps(HOSTILE)}}}
env: {{NOTE: {json.dumps(HOSTILE)}}}
stages:
  evaluate:
    type: evaluate
    run: {_EVALUATE}
    metrics: m.json
    gate: ["auc >= 0.5"]
  deploy:
    type: deploy
    needs: [evaluate]
    run: {json.dumps("echo " + HOSTILE)}
    env: {{WHY: {json.dumps(HOSTILE)}}}
environments:
  production: {{approval: true, params: {{note: {json.dumps(HOSTILE)}}}}}
targets:
  airflow: {{operator: bash}}
"""

JINJA = ("{{", "{%", "{#")


def _approval_plans() -> list[tuple[Analysis, Plan]]:
    """Every plan with approval: the examples', the edge spec's, and the two specs above."""
    pairs = []
    for path in EXAMPLES:
        analysis = _analyze(path.read_text(), str(path))
        pairs += [(analysis, p) for p in _plans(analysis) if "airflow" in p.targets]
    for spec in (EDGE_SPEC, APPROVAL_SPEC, HOSTILE_SPEC):
        analysis = _analyze(spec)
        pairs += [(analysis, p) for p in _plans(analysis)]
    return [(analysis, plan) for analysis, plan in pairs if plan.approval]


def _content(plan: Plan) -> str:
    (output,) = TARGET.render(plan)
    return output.content


def _approval_calls(content: str) -> list[dict[str, Any]]:
    """The keyword arguments of every `_approval(...)` call, as Python values (literals only)."""
    calls = []
    for node in ast.walk(ast.parse(content)):
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) \
                and node.func.id == "_approval":
            calls.append({k.arg: ast.literal_eval(k.value) for k in node.keywords})
    return calls


def _lint(text: str) -> list[Any]:
    return list(pipeline.check(text.encode(), "mlops.yaml").diagnostics)


# ------------------------------------------------------------------------------ fast checks


def test_approval_plans_exist_and_render_deterministically() -> None:
    plans = _approval_plans()
    # churn and sweep production, edge pre-prod, many-deploys prod, hostile production
    assert {(p.pipeline, p.environment) for _, p in plans} >= {
        ("churn", "production"), ("ranker_sweep", "production"), ("edge-case", "pre-prod"),
        ("many-deploys", "prod"), ("hostile", "production")}
    for _, plan in plans:
        first, second = _content(plan), _content(plan)
        assert first == second
        compile(first, "dag.py", "exec")
        assert "from airflow.providers.standard.operators.hitl import ApprovalOperator" in first
        ids = approval_task_ids(plan)
        assert set(ids) == {s.name for s in plan.stages if s.type == "deploy"}
        assert [c["task_id"] for c in _approval_calls(first)] == \
            [ids[s.name] for s in plan.pipeline_stages + plan.scheduled_stages if s.name in ids]


def test_no_approval_no_approval_task() -> None:
    analysis = _analyze(APPROVAL_SPEC)
    (dev,) = [p for p in _plans(analysis) if p.environment == "dev"]
    content = _content(dev)
    assert not dev.approval and approval_task_ids(dev) == {}
    assert "ApprovalOperator" not in content and not _approval_calls(content)
    assert "approval" not in content.lower().split('"""', 2)[1]  # nor in the file's docstring


def test_approval_task_ids_are_unique_and_never_a_stage_task_id() -> None:
    (prod,) = [p for p in _plans(_analyze(APPROVAL_SPEC)) if p.approval]
    ids = approval_task_ids(prod)
    assert ids == {"ship": "approve_ship_", "approve_ship": "approve_approve_ship",
                   "nightly-push": "approve_nightly-push"}
    stage_ids = {t for s in prod.stages for t in task_ids(s)}
    assert len(set(ids.values())) == len(ids) and not set(ids.values()) & stage_ids


def test_approval_timeout_reaches_the_file_and_the_text() -> None:
    (prod,) = [p for p in _plans(_analyze(APPROVAL_SPEC)) if p.approval]
    content = _content(prod)
    assert "APPROVAL_TIMEOUT = datetime.timedelta(seconds=5400)" in content
    assert all("no answer within 1h30m" in c["body"] for c in _approval_calls(content))
    default = APPROVAL_SPEC.replace(", approval_timeout: 90m", "")
    (prod,) = [p for p in _plans(_analyze(default)) if p.approval]
    content = _content(prod)
    assert "APPROVAL_TIMEOUT = datetime.timedelta(seconds=86400)" in content
    assert all("no answer within 24h" in c["body"] for c in _approval_calls(content))
    # What a timeout chooses is written once, in _approval(): Reject, never Approve.
    assert "defaults=ApprovalOperator.REJECT," in content and "APPROVE" not in content
    assert "fail_on_reject=True," in content and "retries=0," in content


@pytest.mark.parametrize(("value", "message"), [
    ("0s", "an approval timeout must be positive"), ("0h0m", "must be positive"),
    ("2 days", "invalid duration"), ("1h 30m", "invalid duration")])
def test_approval_timeout_must_be_a_positive_duration(value: str, message: str) -> None:
    found = [d for d in _lint(APPROVAL_SPEC.replace("approval_timeout: 90m",
                                                    f"approval_timeout: {value!r}"))
             if d.severity.value == "error"]
    assert len(found) == 1 and message in found[0].message and found[0].code == "MLP123"
    assert "targets.airflow.approval_timeout" in found[0].message


AIRFLOW2_SPEC = """\
version: 1
name: churn
stages:
  evaluate:
    type: evaluate
    run: python evaluate.py
    metrics: metrics.json
    gate: ["auc >= 0.8"]
  deploy:
    type: deploy
    needs: [evaluate]
    run: ./register.sh
environments:
  staging: {}
  production:
    approval: true
targets:
  airflow: {version: 2}
"""


def test_airflow_2_refuses_an_environment_with_approval() -> None:
    found = [d for d in _lint(AIRFLOW2_SPEC) if d.code == "MLP413"]
    assert len(found) == 1
    (error,) = found
    assert error.severity.value == "error"
    assert (error.line, error.column) == (16, 5)  # the `approval` key of production
    assert "'production'" in error.message and "Airflow 2" in error.message
    assert error.hint is not None and "version: 3" in error.hint
    analysis = pipeline.check(AIRFLOW2_SPEC.encode(), "mlops.yaml")
    assert any(d.severity.value == "error" for d in analysis.diagnostics)  # nothing is built


@pytest.mark.parametrize("spec", [
    AIRFLOW2_SPEC.replace("  airflow: {version: 2}", "  airflow: {version: 3}"),
    AIRFLOW2_SPEC.replace("    approval: true", "    approval: true\n"
                          "    targets: {airflow: {version: 3}}"),
    AIRFLOW2_SPEC.replace("    approval: true", "    approval: false"),
    AIRFLOW2_SPEC.replace("  airflow: {version: 2}", "  github: {}"),
], ids=["version-3", "production-on-3", "no-approval", "no-airflow"])
def test_airflow_approval_is_fine_where_it_is_enforced_or_absent(spec: str) -> None:
    assert not [d for d in _lint(spec) if d.code == "MLP413"]


def test_spec_text_never_reaches_the_approval_subject_or_body() -> None:
    """Airflow renders `subject` and `body` with Jinja: they hold the compiler's words and the
    validated names only, whatever the spec's strings hold (and wherever they come from)."""
    analysis = _analyze(HOSTILE_SPEC)
    (plan,) = [p for p in pipeline.plans(analysis, spec_path="{{ 7*7 }}/mlops.yaml")
               if p.approval]
    content = _content(plan)
    assert HOSTILE.split(" ")[0] in content  # the spec text is in the file, as literals
    (call,) = _approval_calls(content)
    assert call == {
        "task_id": "approve_deploy",
        "subject": "Approve stage deploy of hostile in production?",
        "body": "Deploy stage `deploy` of pipeline `hostile` waits for approval in environment "
                "`production`.\n\n**Approve** to run it. **Reject**, or no answer within 24h, "
                "fails this task: the deploy does not run.",
    }
    for _, other in _approval_plans():
        for call in _approval_calls(_content(other)):
            for text in (call["subject"], call["body"]):
                assert not any(mark in text for mark in JINJA), (other.pipeline, text)
    # The helper passes subject and body straight through: nothing else is templated.
    helper = content[content.index("def _approval("):content.index("\n\n\n", content.index(
        "def _approval("))]
    assert "subject=subject," in helper and "body=body," in helper and "{{" not in helper


# ----------------------------------------------------------------- real Airflow 3: the DAGs

LOAD_SCRIPT = """\
import json, sys
from airflow.dag_processing.dagbag import DagBag
bag = DagBag(dag_folder=sys.argv[1], safe_mode=False)
dags = {}
for dag_id, dag in sorted(bag.dags.items()):
    env = dag.get_template_env()
    tasks = {}
    for task in dag.tasks:
        info = {"operator": type(task).__name__, "upstream": sorted(task.upstream_task_ids),
                "downstream": sorted(task.downstream_task_ids), "retries": task.retries,
                "template_fields": sorted(getattr(task, "template_fields", ()))}
        if info["operator"] == "ApprovalOperator":
            info.update(
                options=task.options, defaults=task.defaults, multiple=task.multiple,
                fail_on_reject=task.fail_on_reject,
                response_timeout=task.response_timeout.total_seconds(),
                execution_timeout=task.execution_timeout, subject=task.subject, body=task.body,
                rendered=[env.from_string(task.subject).render(),
                          env.from_string(task.body).render()],
                pod=hasattr(task, "build_pod_request_obj"))
        tasks[task.task_id] = info
    dags[dag_id] = tasks
errors = {str(k): str(v) for k, v in bag.import_errors.items()}
print("@@LOADED@@ " + json.dumps({"import_errors": errors, "dags": dags}, default=repr))
"""


def _run_script(major: int, script: str, folder: str, *args: str, marker: str,
                timeout: float = 600) -> dict[str, Any]:
    """Run `script FOLDER ARGS...` with the Airflow `major` venv's python, a private copy of its
    DB and FOLDER as the DAG folder (dag.test() runs only DAGs of the folder)."""
    python = tooling.airflow_python(major)
    with tempfile.TemporaryDirectory() as tmp:
        home = Path(tmp)
        shutil.copyfile(python.parent.parent / "airflow-home" / "airflow.db", home / "airflow.db")
        (home / "script.py").write_text(script)
        env = {**tooling._airflow_env(home), "AIRFLOW__CORE__DAGS_FOLDER": folder}
        proc = subprocess.run([str(python), str(home / "script.py"), folder, *args], cwd=tmp,
                              check=False,
                              capture_output=True, text=True, timeout=timeout, env=env)
    lines = [line for line in proc.stdout.splitlines() if line.startswith(marker)]
    assert proc.returncode == 0 and lines, (proc.stdout[-3000:], proc.stderr[-6000:])
    result: dict[str, Any] = json.loads(lines[-1][len(marker):])
    return result


@pytest.fixture(scope="module")
def approval_dir() -> Iterator[Path]:
    with tempfile.TemporaryDirectory(prefix="airflow-approval-") as tmp:
        _write([plan for _, plan in _approval_plans()], Path(tmp))
        yield Path(tmp)


def _expected(analysis: Analysis, plan: Plan) -> dict[str, dict[str, set[str]]]:
    """dag_id -> task_id -> upstream: the spec's graph, each deploy stage's tasks behind their
    approval task, which takes the stage's upstream."""
    assert analysis.graph is not None
    graph = analysis.graph.graph
    approvals = approval_task_ids(plan)

    def tasks(stages: list[str]) -> dict[str, set[str]]:
        out: dict[str, set[str]] = {}
        for name in stages:
            upstream = {u for need in graph.predecessors(name)
                        for u in task_ids(plan.stage(need))}
            if name in approvals:
                out[approvals[name]] = upstream
                upstream = {approvals[name]}
            out.update({task_id: upstream for task_id in task_ids(plan.stage(name))})
        return out

    dags = {file_stem(plan): tasks([s.name for s in plan.pipeline_stages])}
    for stage in plan.scheduled_stages:
        dags[stage_dag_id(plan, stage)] = tasks([stage.name])
    return dags


@pytest.mark.slow
def test_approval_dags_load_in_airflow_3_with_approval_before_exactly_the_deploys(
        approval_dir: Path) -> None:
    loaded = _run_script(3, LOAD_SCRIPT, str(approval_dir), marker="@@LOADED@@ ")
    assert loaded["import_errors"] == {}
    seen = 0
    for analysis, plan in _approval_plans():
        approvals = approval_task_ids(plan)
        timeout = 5400.0 if plan.pipeline == "many-deploys" else 86400.0
        for dag_id, expected in _expected(analysis, plan).items():
            dag = loaded["dags"][dag_id]
            assert {t: set(v["upstream"]) for t, v in dag.items()} == expected, dag_id
            for stage, approval_id in approvals.items():
                if approval_id not in dag:
                    continue
                seen += 1
                task = dag[approval_id]
                assert task["operator"] == "ApprovalOperator"
                # downstream: exactly the deploy stage's tasks, nothing else
                assert set(task["downstream"]) == set(task_ids(plan.stage(stage)))
                assert task["options"] == ["Approve", "Reject"] and task["multiple"] is False
                assert task["defaults"] == ["Reject"]  # what no answer in time chooses
                assert task["fail_on_reject"] is True and task["retries"] == 0
                assert task["response_timeout"] == timeout
                assert task["execution_timeout"] is None
                assert task["pod"] is False  # it runs on the worker, never in a pod
                assert set(task["template_fields"]) == {"subject", "body"}
                assert task["rendered"] == [task["subject"], task["body"]]  # Jinja changes nothing
                assert plan.pipeline in task["subject"] and stage in task["body"]
            for task_id, task in dag.items():
                if task_id not in approvals.values():
                    assert task["operator"] != "ApprovalOperator"
                    assert task["template_fields"] == [] or task["operator"] == "EmptyOperator"
    assert seen == sum(len(approval_task_ids(p)) for _, p in _approval_plans())


@pytest.mark.slow
def test_approval_dags_refuse_to_load_on_airflow_2(approval_dir: Path) -> None:
    """A file built for Airflow 3 and put in an Airflow 2 DAG folder is an import error,
    never a DAG whose deploy runs unapproved."""
    loaded = _run_script(2, LOAD_SCRIPT.replace(
        "from airflow.dag_processing.dagbag import DagBag",
        "from airflow.models.dagbag import DagBag"), str(approval_dir), marker="@@LOADED@@ ")
    assert loaded["dags"] == {}
    assert len(loaded["import_errors"]) == len(_approval_plans())
    for message in loaded["import_errors"].values():
        assert "wait for approval, which needs Airflow 3.1+" in message


# ---------------------------------------------------------- real Airflow 3: dag.test() runs

# dag.test() parks an approval task in AWAITING_INPUT and waits for someone to answer: a
# thread here answers as the Required Actions UI does (or, for "timeout", runs the scheduler's
# sweep of unanswered approvals, which applies the task's default option).
RUN_SCRIPT = """\
import json, logging, sys, threading, time, traceback, types
from airflow.dag_processing.dagbag import DagBag
folder, dag_id, mode = sys.argv[1:4]
bag = DagBag(dag_folder=folder, safe_mode=False)
assert not bag.import_errors, bag.import_errors
dag = bag.dags[dag_id]
stop = threading.Event()
answered = []


def respond():
    from sqlalchemy.orm import joinedload
    from airflow.jobs.scheduler_job_runner import SchedulerJobRunner
    from airflow.models.taskinstance import TaskInstance as TI
    from airflow.models.trigger import handle_event_submit
    from airflow.triggers.base import TriggerEvent
    from airflow.utils import timezone
    from airflow.utils.session import create_session
    from airflow.utils.state import TaskInstanceState
    scheduler = types.SimpleNamespace(log=logging.getLogger("sweep"))
    while not stop.is_set():
        time.sleep(0.5)
        try:
            if mode == "timeout":
                SchedulerJobRunner.check_awaiting_input_timeouts(scheduler)
                continue
            with create_session() as session:
                waiting = session.query(TI).filter(TI.state == TaskInstanceState.AWAITING_INPUT)
                for ti in waiting.options(joinedload(TI.hitl_detail)):
                    detail = ti.hitl_detail
                    detail.chosen_options = [mode]
                    detail.params_input = {}
                    detail.responded_by = {"id": "tester", "name": "tester"}
                    detail.responded_at = timezone.utcnow()
                    session.add(detail)
                    handle_event_submit(TriggerEvent(detail.as_resume_event_payload()),
                                        task_instance=ti, session=session)
                    answered.append(ti.task_id)
        except Exception:  # e.g. before dag.test() set up the ORM: try again
            traceback.print_exc()


threading.Thread(target=respond, daemon=True).start()
dagrun = dag.test()
stop.set()
from airflow.models.taskinstance import TaskInstance
from airflow.utils.session import create_session
with create_session() as session:
    tis = session.query(TaskInstance).filter(TaskInstance.dag_id == dag_id,
                                             TaskInstance.run_id == dagrun.run_id)
    states = {ti.task_id: str(getattr(ti.state, "value", ti.state)) for ti in tis}
    from airflow.models.hitl import HITLDetail
    details = {d.task_instance.task_id: {
        "subject": d.subject, "body": d.body, "chosen": d.chosen_options,
        "by": d.responded_by, "waited": (d.responded_at - d.created_at).total_seconds()}
        for d in session.query(HITLDetail)}
print("@@RUN@@ " + json.dumps({"states": states, "answered": answered, "details": details}))
"""

RUN_SPEC = """\
version: 1
name: gated
stages:
  evaluate:
    type: evaluate
    run: "printf '{{\\"score\\": 0.9}}' > metrics.json"
    metrics: metrics.json
    gate: ["score >= 0.5"]
  deploy:
    type: deploy
    needs: [evaluate]
    run: echo deployed > deployed.txt
environments:
  production: {{approval: true}}
targets:
  airflow: {{operator: bash, workdir: {workdir}, approval_timeout: 2s}}
"""


def _run(tmp_path: Path, mode: str) -> tuple[dict[str, Any], Path]:
    work = tmp_path / "work"
    work.mkdir()
    (plan,) = _plans(_analyze(RUN_SPEC.format(workdir=json.dumps(str(work)))))
    (dag_file,) = _write([plan], tmp_path / "repo")
    result = _run_script(3, RUN_SCRIPT, str(dag_file.parent), file_stem(plan), mode,
                         marker="@@RUN@@ ", timeout=300)
    return result, work


@pytest.mark.slow
def test_unanswered_approval_rejects_and_the_deploy_never_runs(tmp_path: Path) -> None:
    result, work = _run(tmp_path, "timeout")
    assert result["states"] == {"evaluate": "success", "approve_deploy": "failed",
                                "deploy": "upstream_failed"}, result
    assert result["answered"] == []
    detail = result["details"]["approve_deploy"]
    assert detail["chosen"] == ["Reject"] and detail["by"] is None  # the default, nobody's
    assert detail["waited"] >= 2  # approval_timeout: 2s
    assert (work / "metrics.json").exists() and not (work / "deployed.txt").exists()


@pytest.mark.slow
@pytest.mark.parametrize(("answer", "deployed"), [("Approve", True), ("Reject", False)])
def test_the_answer_decides_whether_the_deploy_runs(tmp_path: Path, answer: str,
                                                   deployed: bool) -> None:
    result, work = _run(tmp_path, answer)
    assert result["answered"] == ["approve_deploy"]
    assert result["states"] == {
        "evaluate": "success", "approve_deploy": "success" if deployed else "failed",
        "deploy": "success" if deployed else "upstream_failed"}, result
    assert (work / "deployed.txt").exists() == deployed
    detail = result["details"]["approve_deploy"]
    assert detail["chosen"] == [answer] and detail["by"]["name"] == "tester"
    # What the person was shown, after Airflow rendered the template fields at run time.
    assert detail["subject"] == "Approve stage deploy of gated in production?"
    assert detail["body"].startswith("Deploy stage `deploy` of pipeline `gated` waits for ")
    assert "no answer within 2s" in detail["body"]
