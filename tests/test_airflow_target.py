"""The Airflow target against real Airflow: every example loads in a DagBag of Airflow 3 and 2
with the spec's graph and settings, a bash pipeline runs end to end with `dag.test()`, and the
KubernetesPodOperator pods pass `kubernetes-validate --strict`; plus determinism and the
literal-only promise of SPEC.md section 5, checked on the rendered text."""

from __future__ import annotations

import ast
import json
import math
import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from compiler import pipeline
from compiler.analysis import Analysis
from compiler.plan import Plan
from compiler.envvars import gates_json
from compiler.render.runner import RUNNER
from compiler.targets import TARGETS
from compiler.targets.airflow.names import dag_path, file_stem, task_ids
from tests import tooling

REPO = Path(__file__).resolve().parent.parent
EXAMPLES = sorted(REPO.glob("examples/*/mlops.yaml"))
TARGET = TARGETS["airflow"]
MAJORS = (3, 2)

# What the shell must see byte for byte, whatever Jinja, sh or Python would make of it.
WEIRD_LINES = ["{{ 7*7 }}", "$(echo x)", "it's \"q\" \\ back", "{% raw %}", "{% endraw %}", "`id`"]
WEIRD_TEXT = "".join(line + "\n" for line in WEIRD_LINES)


def _analyze(text: str, name: str = "mlops.yaml") -> Analysis:
    analysis = pipeline.check(text.encode(), name)
    errors = [d for d in analysis.diagnostics if d.severity.value == "error"]
    assert not errors, errors
    return analysis


def _plans(analysis: Analysis, git_sha: str | None = None) -> tuple[Plan, ...]:
    return pipeline.plans(analysis, spec_path="mlops.yaml", git_sha=git_sha)


# Corners the examples miss: a serve-only deploy stage, a scheduled matrix stage, `-` in
# names, a deeper DAG path, a build with --ref (git sha tag), bash with secrets.
EDGE_SPEC = """\
version: 1
name: edge-case
params: {flag: true, ratio: {default: 0.5, type: number, maximum: 1}}
secrets: [API_TOKEN]
stages:
  prep-data: {run: "echo ${params.flag} ${params.ratio}", outputs: [d/]}
  ship:
    type: deploy
    needs: [prep-data]
    serve: {image: "ghcr.io/acme/s:1", port: 80, replicas: 1, health: /h}
  watch-it:
    type: monitor
    schedule: "@daily"
    matrix: {region: [eu, us-east]}
    run: "echo $MLOPS_MATRIX_REGION"
environments: {pre-prod: {approval: true}, prod: {params: {flag: false}}}
targets:
  airflow: {operator: bash, path: orchestration/airflow/dags}
"""

# Kubernetes would expand `$(VAR)` in args and env values, Airflow would render Jinja.
HOSTILE_POD_SPEC = """\
version: 1
name: hostile
stages:
  a:
    run: "printf '%s' '$(HOME)' \\"{{ 7*7 }}\\" '$$(x)' {% raw %}"
    env: {WEIRD: "$(HOME) {{ x }} $$ ${HOME} `id`"}
    image: "x:1"
targets: {airflow: {operator: kubernetes}}
"""


def _example_plans() -> list[tuple[Analysis, Plan]]:
    pairs = []
    for path in EXAMPLES:
        analysis = _analyze(path.read_text(), str(path))
        pairs += [(analysis, plan) for plan in _plans(analysis) if "airflow" in plan.targets]
    edge = _analyze(EDGE_SPEC)
    pairs += [(edge, plan) for plan in _plans(edge, git_sha="a" * 40)]
    hostile = _analyze(HOSTILE_POD_SPEC)
    pairs += [(hostile, plan) for plan in _plans(hostile)]
    # Plans with approval add approval tasks and need Airflow 3.1+: tests/test_airflow_approval.py.
    return [(analysis, plan) for analysis, plan in pairs if not plan.approval]


def _write(plans: tuple[Plan, ...] | list[Plan], root: Path) -> list[Path]:
    written = []
    for plan in plans:
        for output in TARGET.render(plan):
            path = root / output.path
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(output.content)
            written.append(path)
    return written


# ------------------------------------------------------------------------------ fast checks


def test_examples_render_deterministically_as_valid_python() -> None:
    for _, plan in _example_plans():
        first, second = TARGET.render(plan), TARGET.render(plan)
        assert first == second
        for output in first:
            compile(output.content, output.path, "exec")  # a syntax error is our bug
            assert output.path == dag_path(plan)
            assert output.path.endswith(f"airflow/dags/{file_stem(plan)}.py")


def test_dag_files_keep_the_work_per_task_small() -> None:
    """What keeps a large DAG file as fast to parse as bare operators (benchmarks/README.md):
    no operator class of ours adds an __init__ layer, no task is made inside `with DAG(...)`
    (Airflow would copy the DAG's params into it), and the shared environment is written once."""
    for _, plan in _example_plans():
        content = TARGET.render(plan)[0].content
        tree = ast.parse(content)
        classes = [node for node in ast.walk(tree) if isinstance(node, ast.ClassDef)]
        assert classes and all(
            not (isinstance(item, ast.FunctionDef) and item.name == "__init__")
            for cls in classes for item in cls.body)
        assert not any(isinstance(node, ast.With) for node in ast.walk(tree))
        module_code = [node for node in tree.body
                       if not isinstance(node, (ast.FunctionDef, ast.ClassDef))]
        # edges are plain lists: a comprehension per task is one more code object to compile
        assert not any(isinstance(expr, ast.ListComp)
                       for node in module_code for expr in ast.walk(node))
        assert "BASE_ENV: dict[str, Any] = {" in content


def test_file_names_are_module_names() -> None:
    spec = """\
version: 1
name: my-pipe
stages: {a: {run: "true"}}
environments: {pre-prod: {}}
targets: {airflow: {path: deploy/airflow/dags}}
"""
    (plan,) = _plans(_analyze(spec))
    assert file_stem(plan) == "mlops_my_pipe_pre_prod"
    assert dag_path(plan) == "deploy/airflow/dags/mlops_my_pipe_pre_prod.py"
    # the repository root is found three directories above the DAG file
    assert "REPOSITORY = _HERE.parents[3]" in TARGET.render(plan)[0].content
    assert TARGET.repository_files((plan,)) == []


def test_matrix_task_ids_are_valid_unique_and_deterministic() -> None:
    spec = """\
version: 1
name: m
stages:
  train:
    run: "true"
    matrix: {lr: [0.1, 0.01], opt: [adam, "a b", "a/b", "a_b"]}
  twice:
    run: "true"
    matrix: {n: [1, 1, "1"]}
targets: {airflow: {}}
"""
    (plan,) = _plans(_analyze(spec))
    ids = task_ids(plan.stage("train"))
    assert len(ids) == len(set(ids)) == 8
    assert ids[0] == "train__lr-0.1__opt-adam"
    assert all(set(i) <= set("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_.-")
               for i in ids)
    assert ids == task_ids(plan.stage("train"))
    twice = task_ids(plan.stage("twice"))
    assert len(set(twice)) == 3


def _operator_calls(content: str) -> list[dict[str, Any]]:
    """Keyword arguments (as Python values) of every stage operator in a DAG file."""
    calls = []
    for node in ast.walk(ast.parse(content)):
        if isinstance(node, ast.Call) and getattr(node.func, "id", "") == "_task":
            calls.append({k.arg: ast.literal_eval(k.value) for k in node.keywords
                          if k.arg in ("task_id", "run", "image", "secrets")})
    return calls


def _code_shape(content: str) -> str:
    """The file's syntax tree with every string constant blanked: its code, not its data."""
    tree = ast.parse(content)
    for node in ast.walk(tree):
        if isinstance(node, ast.Constant) and isinstance(node.value, str):
            node.value = ""
    return ast.dump(tree)


@pytest.mark.parametrize("operator", ["bash", "kubernetes"])
def test_spec_strings_are_python_literals_only(operator: str) -> None:
    def render(text: str) -> tuple[Plan, str]:
        spec = f"""\
version: 1
name: lit
description: {json.dumps(text)}
params:
  p: {{default: {json.dumps(text)}, type: string, description: {json.dumps(text)}}}
env: {{X: {json.dumps(text)}, Y: "<${{params.p}}>"}}
stages:
  a: {{run: {json.dumps(text)}, image: "x:1"}}
  b: {{run: {json.dumps(text + "${params.p}")}, needs: [a], image: "x:1", env: {{Z: {json.dumps(text)}}}}}
targets: {{airflow: {{operator: {operator}}}}}
"""
        (plan,) = _plans(_analyze(spec))
        return plan, TARGET.render(plan)[0].content

    nasty = "'''\"\"\"\\n\\x00 {{ 7*7 }} {% raw %} ${HOME} `id` $(date) \\\\ ');import os#\n\")#"
    plan, content = render(nasty)
    calls = {c["task_id"]: c for c in _operator_calls(content)}
    assert calls["a"]["run"] == plan.stage("a").run == nasty
    assert calls["b"]["run"] == plan.stage("b").run
    # the same code as for a harmless text: the nasty one stayed inside string literals
    assert _code_shape(content) == _code_shape(render("plain text")[1])


def test_tasks_run_the_stage_runner_with_their_own_secrets_only() -> None:
    spec = """\
version: 1
name: scoped
tracking: {mlflow: {tracking_uri: "http://mlflow:5000", token_secret: ML_TOKEN}}
stages:
  train: {run: "true", secrets: [TRAIN_KEY], retries: 2}
  report: {run: "true", needs: [train]}
targets: {airflow: {operator: bash}}
"""
    (plan,) = _plans(_analyze(spec))
    content = TARGET.render(plan)[0].content
    secrets = {}
    for node in ast.walk(ast.parse(content)):
        if isinstance(node, ast.Call) and getattr(node.func, "id", "") == "_task":
            args = {k.arg: k.value for k in node.keywords}
            secrets[ast.literal_eval(args["task_id"])] = (
                ast.literal_eval(args["secrets"]) if "secrets" in args else None)
    # the tracking token every stage reads is the default; the stage's own key only on it
    assert secrets == {"train": (("MLFLOW_TRACKING_TOKEN", "ML_TOKEN"), ("TRAIN_KEY", "TRAIN_KEY")),
                       "report": None}
    assert "secrets: tuple[tuple[str, str], ...] = (('MLFLOW_TRACKING_TOKEN', 'ML_TOKEN'),)" in content
    assert "append_env=False," in content and "append_env=True" not in content
    assert "'MLOPS_RUN_ID': (RUN_ID,)," in content  # the run's id, read when a task runs
    assert "'MLOPS_RETRIES'" not in content  # Airflow retries; a failed gate is final
    assert "RUNNER = (\n" in content and "bash_command=BASH_COMMAND," in content


# ------------------------------------------------------------------------ real Airflow: load


@pytest.fixture(scope="module")
def examples_dir() -> Iterator[Path]:
    with tempfile.TemporaryDirectory(prefix="airflow-examples-") as tmp:
        _write([plan for _, plan in _example_plans()], Path(tmp))
        yield Path(tmp)  # a DagBag reads every DAG file below


def _expected_dags(analysis: Analysis, plan: Plan) -> dict[str, dict[str, set[str]]]:
    """dag_id -> task_id -> upstream task ids, from the spec's graph (matrix expanded)."""
    assert analysis.graph is not None
    graph = analysis.graph.graph
    stem = file_stem(plan)

    def tasks(stages: list[str]) -> dict[str, set[str]]:
        out: dict[str, set[str]] = {}
        for name in stages:
            stage = plan.stage(name)
            ids = task_ids(stage)
            assert len(ids) == math.prod(len(values) for _, values in stage.matrix)
            upstream = {u for need in graph.predecessors(name) for u in task_ids(plan.stage(need))}
            out.update({task_id: upstream for task_id in ids})
        return out

    dags = {stem: tasks([s.name for s in plan.pipeline_stages])}
    for stage in plan.scheduled_stages:
        dags[f"{stem}__{stage.name.replace('-', '_')}"] = tasks([stage.name])
    return dags


@pytest.mark.slow
@pytest.mark.parametrize("major", MAJORS)
def test_examples_load_with_the_spec_graph_and_settings(major: int, examples_dir: Path) -> None:
    loaded = tooling.airflow_load(major, examples_dir)
    assert loaded["airflow_version"].startswith(f"{major}.")
    assert loaded["import_errors"] == {}
    expected_ids: set[str] = set()
    for analysis, plan in _example_plans():
        for dag_id, expected_tasks in _expected_dags(analysis, plan).items():
            expected_ids.add(dag_id)
            dag = loaded["dags"][dag_id]
            assert {t: set(v["upstream"]) for t, v in dag["tasks"].items()} == expected_tasks
            scheduled = [s for s in plan.scheduled_stages
                         if dag_id.endswith("__" + s.name.replace("-", "_"))]
            assert dag["schedule"] == (scheduled[0].schedule if scheduled else plan.schedule)
            assert dag["catchup"] is False and dag["max_active_runs"] == 1
            assert {"mlops", plan.pipeline} <= set(dag["tags"])
            assert (f"git:{plan.git_sha}" in dag["tags"]) == bool(plan.git_sha)
            assert (plan.environment in dag["tags"]) if plan.environment else True
            assert ("approval" in dag["doc_md"].lower()) == plan.approval
            params = {p.name: p for p in plan.params}
            assert set(dag["params"]) == set(params)
            for name, param in dag["params"].items():
                assert param["default"] == params[name].default
                schema = {k: v for k, v in params[name].schema.items() if k != "description"}
                assert {k: v for k, v in param["schema"].items() if k != "description"} == schema
            for task_id, task in dag["tasks"].items():
                stage = plan.stage(next(s for s in expected_tasks_stage(plan, task_id)))
                assert task["retries"] == stage.policy.retries
                assert task["execution_timeout"] == stage.policy.timeout
                if stage.policy.retry_delay is not None:
                    assert task["retry_delay"] == stage.policy.retry_delay
                assert task["template_fields"] == {}  # Airflow renders no Jinja in them
    assert set(loaded["dags"]) == expected_ids


def expected_tasks_stage(plan: Plan, task_id: str) -> Iterator[str]:
    return (s.name for s in plan.stages if task_id in task_ids(s))


# ----------------------------------------------------------------- real Airflow: dag.test()

E2E_SPEC = """\
version: 1
name: e2e-pipe
description: "End to end: {{{{ 7*7 }}}} stays text."
params:
  greeting: {{default: "hi {{{{ name }}}} $(echo x)", type: string}}
  count: 3
env:
  GREETING: "<${{params.greeting}}>"
  RAW: "{{% raw %}}{{{{ x }}}}{{% endraw %}} $HOME"
secrets: [E2E_TOKEN]
stages:
  make:
    run: {make}
    outputs: [out/]
  fan:
    matrix: {{n: [1, "a b"]}}
    run: printf '%s' "$MLOPS_MATRIX_N" > "out/fan-${{matrix.n}}.txt"
    inputs: [out/weird.txt]
  evaluate:
    type: evaluate
    needs: [fan]
    run: {evaluate}
    metrics: metrics.json
    gate: ["score >= 0.5"]
  deploy:
    type: deploy
    needs: [evaluate]
    run: cat out/weird.txt > deployed.txt
targets:
  airflow: {{operator: bash, workdir: {workdir}}}
"""
MAKE = ("mkdir -p out\n"
        "printf '%s\\n' " + " ".join("'" + line.replace("'", "'\\''") + "'" for line in WEIRD_LINES)
        + " > out/weird.txt\n"
        'printf \'%s|%s|%s|%s|%s\' "$GREETING" "$MLOPS_PARAM_COUNT" "$RAW" "$E2E_TOKEN" '
        '"$MLOPS_STAGE" > out/env.txt\n')


def _e2e(tmp_path: Path, major: int, score: float,
         conf: dict[str, Any] | None = None) -> tuple[dict[str, Any], Path]:
    workdir = tmp_path / "work"
    workdir.mkdir()
    evaluate = f"printf '{{\"score\": {score}}}' > metrics.json"
    spec = E2E_SPEC.format(make=json.dumps(MAKE), evaluate=json.dumps(evaluate),
                           workdir=json.dumps(str(workdir)))
    (plan,) = _plans(_analyze(spec))
    (dag_file,) = _write([plan], tmp_path / "repo")
    return tooling.airflow_test(major, dag_file, "mlops_e2e_pipe", conf), workdir


@pytest.mark.slow
@pytest.mark.parametrize("major", MAJORS)
def test_bash_pipeline_runs_end_to_end(major: int, tmp_path: Path,
                                       monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("E2E_TOKEN", "t0k'en")
    result, work = _e2e(tmp_path, major, 0.9)
    assert result["import_errors"] == {}
    assert result["states"] == {t: "success" for t in (
        "make", "fan__n-1", "fan__n-a_b__9caa058a", "evaluate", "deploy")}, result
    assert (work / "out" / "weird.txt").read_bytes() == WEIRD_TEXT.encode()
    assert (work / "deployed.txt").read_bytes() == WEIRD_TEXT.encode()
    assert (work / "out" / "env.txt").read_text() == (
        "<hi {{ name }} $(echo x)>|3|{% raw %}{{ x }}{% endraw %} $HOME|t0k'en|make")
    assert (work / "out" / "fan-1.txt").read_text() == "1"
    assert (work / "out" / "fan-a b.txt").read_text() == "a b"


@pytest.mark.slow
@pytest.mark.parametrize("major", MAJORS)
def test_run_params_reach_the_environment_unevaluated(major: int, tmp_path: Path,
                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("E2E_TOKEN", "x")
    conf = {"greeting": "{{ dag_run }} {% raw %} $(id) 'q'", "count": 7}
    result, work = _e2e(tmp_path, major, 0.9, conf)
    assert set(result["states"].values()) == {"success"}, result
    assert (work / "out" / "env.txt").read_text() == (
        "<{{ dag_run }} {% raw %} $(id) 'q'>|7|{% raw %}{{ x }}{% endraw %} $HOME|x|make")


@pytest.mark.slow
def test_failing_gate_stops_downstream(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("E2E_TOKEN", "x")
    result, work = _e2e(tmp_path, 3, 0.1)
    assert result["states"]["make"] == "success"
    assert result["states"]["evaluate"] == "failed"
    assert result["states"]["deploy"] == "upstream_failed"
    assert not (work / "deployed.txt").exists()


# --------------------------------------------------------- real Airflow: KubernetesPodOperator

POD_SCRIPT = """\
import json, sys
try:
    from airflow.dag_processing.dagbag import DagBag
except ImportError:
    from airflow.models.dagbag import DagBag
from kubernetes.client import ApiClient
bag = DagBag(dag_folder=sys.argv[1])
pods = {}
for dag_id, dag in sorted(bag.dags.items()):
    for task in dag.tasks:
        if hasattr(task, "build_pod_request_obj"):
            pod = task.build_pod_request_obj(None, dry_run=True)
            pods[dag_id + "/" + task.task_id] = ApiClient().sanitize_for_serialization(pod)
result = {"import_errors": {str(k): str(v) for k, v in bag.import_errors.items()}, "pods": pods}
print("@@PODS@@ " + json.dumps(result, sort_keys=True))
"""


def _pods(major: int, dag_dir: Path) -> dict[str, Any]:
    """Pods the operators would create, built by the real provider inside the Airflow venv."""
    python = tooling.airflow_python(major)
    with tempfile.TemporaryDirectory() as tmp:
        home = Path(tmp)
        shutil.copyfile(python.parent.parent / "airflow-home" / "airflow.db", home / "airflow.db")
        (home / "pods.py").write_text(POD_SCRIPT)
        proc = subprocess.run([str(python), str(home / "pods.py"), str(dag_dir)], cwd=tmp,
                              capture_output=True, text=True, timeout=600,
                              env=tooling._airflow_env(home))
    lines = [line for line in proc.stdout.splitlines() if line.startswith("@@PODS@@ ")]
    assert proc.returncode == 0 and lines, proc.stderr[-6000:]
    result: dict[str, Any] = json.loads(lines[-1][len("@@PODS@@ "):])
    assert result["import_errors"] == {}
    return result["pods"]  # type: ignore[no-any-return]


@pytest.mark.slow
@pytest.mark.parametrize("major", MAJORS)
def test_pods_are_hardened_and_valid(major: int, examples_dir: Path, tmp_path: Path) -> None:
    pods = _pods(major, examples_dir)
    plans = {file_stem(p): p for _, p in _example_plans() if "airflow" in p.targets
             and p.targets["airflow"].operator == "kubernetes"}
    assert pods and {key.split("/")[0].split("__")[0] for key in pods} == set(plans)
    for key, pod in pods.items():
        plan = plans[key.split("/")[0].split("__")[0]]
        stage = plan.stage(next(expected_tasks_stage(plan, key.split("/")[1])))
        spec = pod["spec"]
        (container,) = spec["containers"]
        assert pod["metadata"]["namespace"] == (plan.targets["airflow"].namespace
                                                or plan.pod.namespace)
        assert spec["securityContext"]["runAsNonRoot"] is True
        assert spec["securityContext"]["seccompProfile"] == {"type": "RuntimeDefault"}
        assert spec.get("imagePullSecrets", []) == [
            {"name": name} for name in plan.pod.image_pull_secrets]
        security = container["securityContext"]
        assert security["readOnlyRootFilesystem"] is True
        assert security["allowPrivilegeEscalation"] is False
        assert security["capabilities"] == {"drop": ["ALL"]}
        resources = container["resources"]
        assert resources["requests"] == resources["limits"]
        assert {"cpu", "memory"} <= set(resources["limits"])
        assert resources["limits"].get("nvidia.com/gpu") == (str(stage.resources.gpu) if stage.resources.gpu else None)
        assert resources["limits"]["cpu"] == stage.resources.cpu
        mounts = {m["mountPath"]: m["name"] for m in container["volumeMounts"]}
        assert mounts == {"/workspace": "workspace", "/tmp": "tmp"}
        assert container["workingDir"] == "/workspace"
        volumes = {v["name"]: v for v in spec["volumes"]}
        assert volumes["workspace"]["persistentVolumeClaim"]["claimName"] == \
            f"mlops-{plan.dns}-workspace"
        assert volumes["tmp"]["emptyDir"] == {}
        assert container["command"] == ["sh", "-c"]
        assert container["image"] == stage.image
        env = {e["name"]: e for e in container["env"]}
        assert env["MLOPS_STAGE"]["value"] == stage.name
        for param in plan.params:  # the defaults; a run replaces them with its own values
            assert env[param.var]["value"] == param.default_text.replace("$", "$$")
        for var in stage.env:
            if var.origin == "spec" and var.text is not None:
                assert env[var.name]["value"].replace("$$", "$") == var.text
        for var in stage.env:
            if var.origin == "secret":
                assert env[var.name]["valueFrom"]["secretKeyRef"]["key"] == var.name
                assert "value" not in env[var.name]
        # Kubernetes reduces `$$` to `$`: the shell gets the runner and the command as written
        assert container["args"] == [RUNNER.replace("$", "$$")]
        assert env["MLOPS_RUN"]["value"].replace("$$", "$") == stage.run
        assert "MLOPS_RUN_ID" not in env  # the run's id, set when a run builds its pod
        assert (env["MLOPS_GATES"]["value"].replace("$$", "$") == gates_json(stage.gate)
                if stage.gate else "MLOPS_GATES" not in env)
    for index, pod in enumerate(pods.values()):
        (tmp_path / f"pod-{index}.yaml").write_text(yaml.safe_dump(pod))
    tooling.kubernetes_validate(sorted(tmp_path.glob("pod-*.yaml")))


# A pod task's run without a cluster: the provider's execute() reports the runner's exit 86
# as a skip (skip_on_exit_code), which our operator must turn into a failure, without retries
# when the stage has a gate; a run's pod carries the run's id and params.
POD_RUN_SCRIPT = """\
import json, sys, types
try:
    from airflow.dag_processing.dagbag import DagBag
except ImportError:
    from airflow.models.dagbag import DagBag
try:
    from airflow.sdk.exceptions import AirflowSkipException
except ImportError:
    from airflow.exceptions import AirflowSkipException
from airflow.providers.cncf.kubernetes.operators.pod import KubernetesPodOperator
from kubernetes.client import ApiClient
bag = DagBag(dag_folder=sys.argv[1])
task = bag.dags["mlops_podrun"].get_task("evaluate")
def exit_86(self, context):
    raise AirflowSkipException("Pod p returned exit code 86. Skipping.")
KubernetesPodOperator.execute = exit_86
raised = {}
for name in ("evaluate", "report"):
    try:
        bag.dags["mlops_podrun"].get_task(name).execute({})
    except Exception as exc:
        raised[name] = type(exc).__name__
ti = types.SimpleNamespace(dag_id=task.dag_id, task_id=task.task_id, map_index=-1, try_number=1)
context = {"params": {"lr": "{{ run_id }} $(id)"}, "run_id": "manual__2024-01-01T00:00:00+00:00",
           "ti": ti, "dag": task.dag}
pod = ApiClient().sanitize_for_serialization(task.build_pod_request_obj(context, dry_run=True))
env = {e["name"]: e.get("value") for e in pod["spec"]["containers"][0]["env"]}
print("@@RUN@@ " + json.dumps({"raised": raised, "retries": task.retries, "env": env,
                              "errors": {str(k): str(v) for k, v in bag.import_errors.items()}}))
"""
POD_RUN_SPEC = """\
version: 1
name: podrun
params: {lr: {default: "0.1", type: string}}
stages:
  evaluate:
    run: "echo ${params.lr} > m.json"
    image: "x:1"
    retries: 2
    metrics: m.json
    gate: ["auc >= 0.5"]
  report: {run: "exit 86", image: "x:1", needs: [evaluate], retries: 1}
targets: {airflow: {operator: kubernetes}}
"""


@pytest.mark.slow
@pytest.mark.parametrize("major", MAJORS)
def test_pod_gate_failure_is_final_and_runs_carry_their_id(major: int, tmp_path: Path) -> None:
    (plan,) = _plans(_analyze(POD_RUN_SPEC))
    _write([plan], tmp_path / "dags")
    python = tooling.airflow_python(major)
    shutil.copyfile(python.parent.parent / "airflow-home" / "airflow.db", tmp_path / "airflow.db")
    (tmp_path / "run.py").write_text(POD_RUN_SCRIPT)
    proc = subprocess.run([str(python), str(tmp_path / "run.py"), str(tmp_path / "dags")],
                          cwd=tmp_path, capture_output=True, text=True, timeout=600,
                          env=tooling._airflow_env(tmp_path))
    lines = [line for line in proc.stdout.splitlines() if line.startswith("@@RUN@@ ")]
    assert proc.returncode == 0 and lines, proc.stderr[-6000:]
    result = json.loads(lines[-1][len("@@RUN@@ "):])
    assert result["errors"] == {}
    # exit 86 is the gate's verdict only where there is a gate: elsewhere a retried failure
    assert result["retries"] == 2
    assert result["raised"] == {"evaluate": "AirflowFailException", "report": "RuntimeError"}
    env = result["env"]  # values as Kubernetes reads them: `$$` is one `$`
    assert env["MLOPS_RUN_ID"] == "manual__2024-01-01T00:00:00+00:00"
    assert env["MLOPS_PARAM_LR"] == "{{ run_id }} $$(id)"
    assert env["MLOPS_RUN"] == "echo ${MLOPS_PARAM_LR} > m.json".replace("$", "$$")
    assert env["MLOPS_CLEAN"] == "m.json" and "MLOPS_RETRIES" not in env
