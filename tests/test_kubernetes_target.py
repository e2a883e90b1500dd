"""The Kubernetes target against the real validators: kubernetes-validate --strict (oldest and
newest supported Kubernetes), both Argo schemas (3.6 and 4.x, strict), kubectl kustomize and
checkov; plus the promises of SPEC.md section 5 checked on the rendered text."""

from __future__ import annotations

import json
import os
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import networkx as nx
import pytest
import yaml

from benchmarks import generate
from compiler import pipeline
from compiler.plan import Plan
from compiler.render.runner import GATE_FAILED
from compiler.targets import TARGETS
from compiler.targets.kubernetes import names, scripts
from compiler.targets.kubernetes.names import short_name
from tests import tooling

REPO = Path(__file__).resolve().parent.parent
EXAMPLES = sorted(REPO.glob("examples/*/mlops.yaml"))
TARGET = TARGETS["kubernetes"]

# Valid shell that prints its own odd words: what the user wrote is what the shell runs.
HOSTILE_RUN = ("printf '%s\\n' '$(HOME)' '{{workflow.name}}' \"{{inputs.parameters.x}}\" \\\n"
               "  \"it's\" '\"quoted\"' '$$(id)'\n# {{ end }} $(USER)")
HOSTILE_OUTPUT = "$(HOME)\n{{workflow.name}}\n{{inputs.parameters.x}}\nit's\n\"quoted\"\n$$(id)\n"
HOSTILE_ENV = "$(HOME) {{workflow.name}} it's \"q\" `x` \\ $$ ${HOME}\nline two"
HOSTILE_SPEC = f"""\
version: 1
name: hostile
params:
  lr: 0.5
stages:
  prep:
    run: {json.dumps(HOSTILE_RUN)}
    env: {{WEIRD: {json.dumps(HOSTILE_ENV)}, MIXED: "lr=${{params.lr}} {{{{x}}}} $(Y)"}}
    outputs: [data/]
  train:
    run: "python3 -c 'print(1)'"
    inputs: [data/]
    matrix: {{seed: [1, "$(HOME)", "{{{{item}}}}"]}}
  watch:
    type: monitor
    schedule: "@hourly"
    run: {json.dumps(HOSTILE_RUN)}
    env: {{WEIRD: {json.dumps(HOSTILE_ENV)}}}
defaults: {{image: "ghcr.io/acme/x:1.0"}}
targets:
  kubernetes: {{namespace: hostile, service_account: runner}}
"""

# checkov findings we accept, each for a reason (anything else fails the test):
CHECKOV_SKIPS = {
    # Secrets reach stages as environment variables: the spec's contract (SPEC.md section 2)
    # and what the GitHub and Airflow targets do too; a secretKeyRef never writes the value.
    "CKV_K8S_35",
    # Images are the user's choice; tags versus digests is lint rule MLP3xx (unpinned image).
    "CKV_K8S_43",
}


def _plans(raw: bytes, path: str, git_sha: str | None = None) -> tuple[Plan, ...]:
    analysis = pipeline.check(raw, path)
    assert analysis.ok(), path
    return pipeline.plans(analysis, spec_path="mlops.yaml", git_sha=git_sha)


def _k8s_plans() -> list[tuple[str, Plan]]:
    cases = [(f"{spec.parent.name}/{plan.environment or 'default'}", plan)
             for spec in EXAMPLES for plan in _plans(spec.read_bytes(), str(spec))
             if "kubernetes" in plan.targets]
    cases += [(f"hostile/{p.environment or 'default'}", p)
              for p in _plans(HOSTILE_SPEC.encode(), "hostile.yaml", git_sha="a" * 40)]
    cases += [(f"large/{p.environment or 'default'}", p)
              for p in _plans(LARGE_SPEC.encode(), "large.yaml")]
    return cases


# More stages than one ConfigMap part holds, applied server-side: the stages' files split
# across ConfigMaps, mounted as one projected volume (a CronJob's too), every object annotated.
LARGE = generate.spec(names.STAGES_PER_PART + 13)
LARGE["targets"] = {"kubernetes": {"apply": "server-side", "service_account": "runner"}}
LARGE_SPEC = generate.dump(LARGE)


CASES = _k8s_plans()
CASE_IDS = [case for case, _ in CASES]


def test_examples_have_kubernetes_cases() -> None:
    assert {c.split("/")[0] for c in CASE_IDS} >= {"churn", "sweep", "hostile", "large"}


@pytest.fixture(scope="module")
def rendered(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """Every case written to disk: case id -> its directory."""
    root = tmp_path_factory.mktemp("k8s")
    dirs: dict[str, Path] = {}
    for case, plan in CASES:
        files = TARGET.render(plan)
        assert files
        for f in files:
            out = root / case / f.path
            out.parent.mkdir(parents=True, exist_ok=True)
            out.write_text(f.content)
        dirs[case] = (root / case / files[0].path).parent
    return dirs


def _docs(directory: Path) -> dict[str, dict[str, Any]]:
    return {p.name: yaml.safe_load(p.read_text()) for p in sorted(directory.glob("*.yaml"))
            if p.name != "kustomization.yaml"}


def _steps_by_stage(workflow: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """Stage name -> the step template its task runs (one per shape, shared), read as Argo
    resolves it: the task's `template`, with the task's `stage` argument."""
    templates = {t["name"]: t for t in workflow["spec"]["templates"]}
    (dag,) = [t for t in templates.values() if "dag" in t]
    found = {}
    for task in dag["dag"]["tasks"]:
        arguments = {p["name"]: p["value"] for p in task.get("arguments", {}).get("parameters", [])}
        if "stage" in arguments:
            found[arguments["stage"]] = templates[task["template"]]
    return found


def _argo(doc: dict[str, Any]) -> bool:
    return str(doc["apiVersion"]).startswith("argoproj.io/")


# ------------------------------------------------------------------------ real validators


@pytest.mark.slow
def test_core_kinds_pass_kubernetes_validate_strict(rendered: dict[str, Path]) -> None:
    paths = [d / name for d in rendered.values() for name, doc in _docs(d).items()
             if not _argo(doc)]
    tooling.kubernetes_validate(paths, tooling.K8S_VERSIONS)


@pytest.mark.slow
@pytest.mark.parametrize("case", CASE_IDS)
def test_argo_kinds_pass_both_argo_schemas(rendered: dict[str, Path], case: str) -> None:
    argo = {n: d for n, d in _docs(rendered[case]).items() if _argo(d)}
    assert "workflowtemplate.yaml" in argo
    for name, doc in argo.items():
        assert tooling.argo_validate(doc) == [], name


@pytest.mark.slow
@pytest.mark.parametrize("case", CASE_IDS)
def test_kustomize_builds_every_resource_in_the_namespace(rendered: dict[str, Path], case: str) -> None:
    directory = rendered[case]
    kustomization = yaml.safe_load((directory / "kustomization.yaml").read_text())
    files = sorted(p.name for p in directory.glob("*.yaml") if p.name != "kustomization.yaml")
    assert kustomization["resources"] == files
    built = [d for d in yaml.safe_load_all(tooling.kubectl_kustomize(directory)) if d]
    assert len(built) == len(files)
    assert {d["metadata"]["namespace"] for d in built} == {kustomization["namespace"]}


@pytest.mark.slow
def test_checkov_finds_nothing_beyond_the_skip_list(rendered: dict[str, Path]) -> None:
    paths = [p for d in rendered.values() for p in sorted(d.glob("*.yaml"))
             if p.name != "kustomization.yaml"]
    failed = set(tooling.checkov(paths, ("kubernetes", "argo_workflows")))
    assert failed <= CHECKOV_SKIPS, sorted(failed - CHECKOV_SKIPS)


# ------------------------------------------------------------------------ the plan's graph


@pytest.mark.parametrize("case,plan", CASES, ids=CASE_IDS)
def test_dag_read_back_equals_the_plan_graph(rendered: dict[str, Path], case: str, plan: Plan) -> None:
    wt = _docs(rendered[case])["workflowtemplate.yaml"]
    (dag,) = [t for t in wt["spec"]["templates"] if "dag" in t]
    g = nx.DiGraph()
    approvals = set()
    for task in dag["dag"]["tasks"]:
        g.add_node(task["name"])
        g.add_edges_from((dep, task["name"]) for dep in task.get("dependencies", []))
        if task["template"] == "approve":
            approvals.add(task["name"])
    checks = [t["name"] for t in dag["dag"]["tasks"] if t["template"] == "check-params"]
    assert len(checks) <= 1
    for check in checks:  # the params check comes first: every other task waits for it
        assert g.in_degree(check) == 0
        assert all(g.in_degree(n) for n in g.nodes if n != check)
        g.remove_node(check)
    for approval in approvals:  # contract the approval steps: before deploys, not stages
        (deploy,) = g.successors(approval)
        assert {st.dns: st.type for st in plan.stages}[deploy] == "deploy"
        g.add_edges_from((up, deploy) for up in g.predecessors(approval))
        g.remove_node(approval)
    expected = nx.DiGraph()
    expected.add_nodes_from(s.dns for s in plan.pipeline_stages)
    expected.add_edges_from((plan.stage(n).dns, s.dns) for s in plan.pipeline_stages for n in s.needs)
    assert set(g.nodes) == set(expected.nodes)
    assert set(g.edges) == set(expected.edges)
    deploys = {s.dns for s in plan.pipeline_stages if s.type == "deploy"}
    assert len(approvals) == (len(deploys) if plan.approval else 0)


def test_matrix_fans_out_once_per_combination() -> None:
    plan = next(p for c, p in CASES if c == "sweep/production")
    wt = yaml.safe_load(next(f for f in TARGET.render(plan) if f.path.endswith("workflowtemplate.yaml")).content)
    (dag,) = [t for t in wt["spec"]["templates"] if "dag" in t]
    (train,) = [t for t in dag["dag"]["tasks"] if t["name"] == "train"]
    assert train["withItems"] == [str(i) for i in range(6)]
    env = _configmap(plan)["train.env"]
    assert "  5) export MLOPS_MATRIX_LR=0.1 MLOPS_MATRIX_DEPTH=8 ;;" in env.splitlines()


# ---------------------------------------------------------------------- pod security


def _pod_specs(doc: dict[str, Any]) -> Iterator[tuple[dict[str, Any], list[dict[str, Any]], list[dict[str, Any]]]]:
    """(pod-level spec, containers, volumes) of each pod the document makes."""
    kind, spec = doc["kind"], doc.get("spec", {})
    if kind == "Deployment":
        pod = spec["template"]["spec"]
        yield pod, pod["containers"], pod["volumes"]
    elif kind == "CronJob":
        pod = spec["jobTemplate"]["spec"]["template"]["spec"]
        yield pod, pod["containers"], pod["volumes"]
    elif kind == "WorkflowTemplate":
        for template in spec["templates"]:
            if "container" in template:
                yield spec, [template["container"]], spec["volumes"]


POD_SECURITY = {"runAsNonRoot": True, "runAsUser": 65532, "runAsGroup": 65532, "fsGroup": 65532,
                "seccompProfile": {"type": "RuntimeDefault"}}


@pytest.mark.parametrize("case", CASE_IDS)
def test_every_pod_is_locked_down(rendered: dict[str, Path], case: str) -> None:
    pods = 0
    for name, doc in _docs(rendered[case]).items():
        for pod, containers, volumes in _pod_specs(doc):
            pods += 1
            assert pod["securityContext"] == POD_SECURITY, name
            if doc["kind"] != "WorkflowTemplate":  # Argo's executor needs the token
                assert pod["automountServiceAccountToken"] is False, name
            assert {"name": "tmp", "emptyDir": {}} in volumes, name
            for c in containers:
                sc = c["securityContext"]
                assert sc["allowPrivilegeEscalation"] is False and sc["readOnlyRootFilesystem"] is True
                assert sc["capabilities"] == {"drop": ["ALL"]}, name
                assert {"name": "tmp", "mountPath": "/tmp"} in c["volumeMounts"], name
                res = c["resources"]
                for key in ("cpu", "memory"):
                    assert res["requests"][key] == res["limits"][key], name
        if doc["kind"] == "WorkflowTemplate":
            assert doc["spec"].get("serviceAccountName"), name
    assert pods


# ----------------------------------------------------- SPEC.md section 5: strings as written


def _configmap(plan: Plan) -> dict[str, str]:
    cm = next(f for f in TARGET.render(plan) if f.path.endswith("/configmap.yaml"))
    data: dict[str, str] = yaml.safe_load(cm.content)["data"]
    return data


def test_hostile_command_reaches_the_configmap_exactly() -> None:
    (plan,) = [p for c, p in CASES if c.startswith("hostile/")]
    data = _configmap(plan)
    assert data["prep.sh"] == HOSTILE_RUN
    assert data["watch.sh"] == HOSTILE_RUN


def test_no_spec_text_in_any_manifest_but_the_configmap() -> None:
    (plan,) = [p for c, p in CASES if c.startswith("hostile/")]
    for f in TARGET.render(plan):
        if f.path.endswith(("/configmap.yaml", "/kustomization.yaml")):
            continue
        for needle in ("$(HOME)", "$(Y)", "$$(id)", "workflow.name", "{{x}}", "{{ end }}",
                       "it's", "line two", "quoted"):
            assert needle not in f.content, (f.path, needle)
        if f.path.endswith("/workflowtemplate.yaml"):  # matrix values travel as indices
            (dag,) = [t for t in yaml.safe_load(f.content)["spec"]["templates"] if "dag" in t]
            (train,) = [t for t in dag["dag"]["tasks"] if t["name"] == "train"]
            assert train["withItems"] == ["0", "1", "2"]
        # the only Argo expressions are the compiler's own
        text = f.content
        for ours in ("{{workflow.parameters.lr}}", "{{inputs.parameters.combination}}", "{{item}}",
                     "{{inputs.parameters.stage}}"):
            text = text.replace(ours, "")
        assert "{{" not in text and "$(" not in text, f.path


def _run_stage(tmp_path: Path, plan: Plan, stage: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    """Run the wrapper exactly as a pod would, with the ConfigMap as files (only its mount
    point moved into tmp_path)."""
    run_dir = tmp_path / "run"
    run_dir.mkdir(exist_ok=True)
    for key, text in _configmap(plan).items():
        (run_dir / key).write_text(text)
    wrapper = scripts.WRAPPER.replace(scripts.RUN_DIR, str(run_dir))
    base = {"PATH": os.environ["PATH"], "HOME": "/home/nobody", "MLOPS_STAGE": stage}
    return subprocess.run(["sh", "-c", wrapper], cwd=tmp_path, env={**base, **env},
                          capture_output=True, text=True, timeout=60)


def test_hostile_env_and_matrix_values_reach_the_shell_exactly(tmp_path: Path) -> None:
    (plan,) = [p for c, p in CASES if c.startswith("hostile/")]
    data = _configmap(plan)
    data_dir = tmp_path / "probe"
    data_dir.mkdir()
    probe = ('. ./prep.env; printf "%s" "$WEIRD" > weird; printf "%s" "$MIXED" > mixed; '
             'for i in 0 1 2; do MLOPS_COMBINATION=$i; . ./train.env; printf "%s|" "$MLOPS_MATRIX_SEED" >> seeds; done')
    for key in ("prep.env", "train.env"):
        (data_dir / key).write_text(data[key])
    subprocess.run(["sh", "-c", probe], cwd=data_dir, check=True, timeout=60,
                   env={"PATH": os.environ["PATH"], "MLOPS_PARAM_LR": "0.7"})
    assert (data_dir / "weird").read_text() == HOSTILE_ENV
    assert (data_dir / "mixed").read_text() == "lr=0.7 {{x}} $(Y)"
    assert (data_dir / "seeds").read_text() == "1|$(HOME)|{{item}}|"


def _evaluate(tmp_path: Path, command: str) -> subprocess.CompletedProcess[str]:
    """Run churn's gated `evaluate` step as its pod would, with `command` standing in for the
    real one (python -m churn.evaluate ...) and the gate data as generated."""
    plan = next(p for c, p in CASES if c == "churn/staging")
    run_dir = tmp_path / "run"
    run_dir.mkdir(exist_ok=True)
    for key, text in {**_configmap(plan), "evaluate.sh": command}.items():
        (run_dir / key).write_text(text)
    wrapper = scripts.WRAPPER.replace(scripts.RUN_DIR, str(run_dir))
    env = {"PATH": os.environ["PATH"], "MLOPS_STAGE": "evaluate"}
    return subprocess.run(["sh", "-c", wrapper], cwd=tmp_path, env=env, capture_output=True,
                          text=True, timeout=60)


def test_wrapper_runs_the_command_and_fails_on_a_failed_gate(tmp_path: Path) -> None:
    write = "echo evaluated > evaluated.txt\necho '{\"auc\": %s, \"calibration_error\": 0.01}' > metrics.json\n"
    ok = _evaluate(tmp_path, write % "0.9")
    assert ok.returncode == 0, ok.stdout + ok.stderr
    assert (tmp_path / "evaluated.txt").read_text() == "evaluated\n"
    assert "mlops gate: pass auc" in ok.stdout
    bad = _evaluate(tmp_path, write % "0.5")
    assert bad.returncode == GATE_FAILED and "FAIL auc" in bad.stdout


def test_a_stale_metrics_file_never_passes_the_gate(tmp_path: Path) -> None:
    # A retry (or a rerun on the same workspace) finds the last attempt's metrics: the runner
    # clears them first, so a command that writes none fails the gate instead of passing it.
    (tmp_path / "metrics.json").write_text('{"auc": 0.9, "calibration_error": 0.01}')
    stale = _evaluate(tmp_path, "true\n")
    assert stale.returncode == GATE_FAILED and "cannot read metrics" in stale.stderr
    assert not (tmp_path / "metrics.json").exists()


def test_a_failed_gate_is_never_retried_by_the_engine(tmp_path: Path) -> None:
    # Argo: retryStrategy.expression; the Job of a CronJob: podFailurePolicy. Both on exit 86.
    spec = HOSTILE_SPEC.replace("    type: monitor\n", "    type: monitor\n    retries: 2\n"
                                "    metrics: w.json\n    gate: [\"x >= 1\"]\n").replace(
        "    run: \"python3 -c 'print(1)'\"\n",
        "    run: \"python3 -c 'print(1)'\"\n    metrics: m.json\n    gate: [\"x >= 1\"]\n"
        "    retries: 1\n")
    (plan,) = _plans(spec.encode(), "gated.yaml")
    rendered = {f.path.rsplit("/", 1)[-1]: f.content for f in TARGET.render(plan)}
    docs = {name: yaml.safe_load(text) for name, text in rendered.items()}
    steps = _steps_by_stage(docs["workflowtemplate.yaml"])
    assert steps["train"]["retryStrategy"]["expression"] == f'lastRetry.exitCode != "{GATE_FAILED}"'
    assert "expression" not in steps["prep"].get("retryStrategy", {})
    job = docs["cronjob-watch.yaml"]["spec"]["jobTemplate"]["spec"]
    assert job["backoffLimit"] == 2
    assert job["podFailurePolicy"]["rules"] == [{"action": "FailJob", "onExitCodes": {
        "containerName": "stage", "operator": "In", "values": [GATE_FAILED]}}]
    (tmp_path / "cronjob.yaml").write_text(rendered["cronjob-watch.yaml"])
    tooling.kubernetes_validate([tmp_path / "cronjob.yaml"])
    assert tooling.argo_validate(docs["workflowtemplate.yaml"]) == []


TRACKED_SPEC = """\
version: 1
name: tracked
tracking:
  mlflow: {tracking_uri: "https://mlflow.example/$(X)", experiment: "{{workflow.name}}", token_secret: ML_TOKEN}
  wandb: {project: tracked}
stages:
  train:
    run: "printf '%s|%s|%s' \\"$MLFLOW_RUN_CONTEXT\\" \\"$WANDB_RUN_GROUP\\" \\"$MLFLOW_TRACKING_URI\\""
defaults: {image: "ghcr.io/acme/x:1.0"}
targets:
  kubernetes: {}
"""


def test_tracking_runs_are_tied_to_the_workflow_run_and_commit(tmp_path: Path) -> None:
    (plan,) = _plans(TRACKED_SPEC.encode(), "tracked.yaml", git_sha="c" * 40)
    docs = {f.path.rsplit("/", 1)[-1]: yaml.safe_load(f.content) for f in TARGET.render(plan)}
    (step,) = [t for t in docs["workflowtemplate.yaml"]["spec"]["templates"] if "container" in t]
    env = {e["name"]: e.get("valueFrom", e.get("value")) for e in step["container"]["env"]}
    assert env["MLOPS_RUN_ID"] == {"fieldRef": {
        "fieldPath": "metadata.labels['workflows.argoproj.io/workflow']"}}
    assert env["MLFLOW_TRACKING_TOKEN"] == {"secretKeyRef": {"name": "mlops-tracked", "key": "ML_TOKEN"}}
    assert "MLFLOW_TRACKING_URI" not in env  # spec text: in the ConfigMap's env file
    # Run the step as its pod would: what Kubernetes would set from the labels and ConfigMap.
    result = _run_stage(tmp_path, plan, "train", {"MLOPS_RUN_ID": "tracked-x7k2p",
                                                  "MLOPS_GIT_SHA": "c" * 40,
                                                  "MLOPS_PIPELINE": "tracked"})
    assert result.returncode == 0, result.stderr
    context, group, uri = result.stdout.split("|")
    tags = json.loads(context)
    assert tags["mlops.run_id"] == "tracked-x7k2p" and tags["mlflow.source.git.commit"] == "c" * 40
    assert group == "tracked-tracked-x7k2p" and uri == "https://mlflow.example/$(X)"


def test_scheduled_stage_gets_param_defaults_from_the_configmap(tmp_path: Path) -> None:
    (plan,) = [p for c, p in CASES if c.startswith("hostile/")]
    assert "export MLOPS_PARAM_LR=0.5" in _configmap(plan)["watch.env"].splitlines()
    result = _run_stage(tmp_path, plan, "watch", {})
    assert result.returncode == 0, result.stderr
    assert result.stdout == HOSTILE_OUTPUT


# --------------------------------------------------------------- names and determinism


def test_names_are_shortened_deterministically() -> None:
    long = "a" * 40 + "-" + "b" * 40
    assert short_name(long) == short_name(long) and len(short_name(long)) == 63
    assert short_name(long) != short_name(long[:-1] + "c")
    assert short_name("short") == "short"
    spec = HOSTILE_SPEC.replace("name: hostile", f"name: {'p' * 40}").replace(
        "  watch:", f"  {'w' * 40}:")
    (plan,) = _plans(spec.encode(), "long.yaml")
    for f in TARGET.render(plan):
        doc = yaml.safe_load(f.content)
        if doc.get("kind") == "CronJob":
            assert len(doc["metadata"]["name"]) <= 52
        if "metadata" in doc:
            assert len(doc["metadata"]["name"]) <= 63
            assert all(len(v) <= 63 for v in doc["metadata"]["labels"].values())


def test_git_sha_is_an_annotation_and_an_env() -> None:
    (plan,) = [p for c, p in CASES if c.startswith("hostile/")]
    for f in TARGET.render(plan):
        doc = yaml.safe_load(f.content)
        if "metadata" in doc:
            assert doc["metadata"]["annotations"]["mlops.dev/git-sha"] == "a" * 40
    assert "MLOPS_GIT_SHA" in next(f.content for f in TARGET.render(plan) if "cronjob" in f.path)


def test_the_commit_is_in_no_pod_template_and_every_pod_reads_it() -> None:
    # A pod template that changed with the commit would roll the server at every `--ref` build
    # (SPEC.md 5.2): the commit is object metadata and a ConfigMap key, read by configMapKeyRef.
    churn = REPO / "examples/churn/mlops.yaml"
    (plain,) = [p for p in _plans(churn.read_bytes(), "mlops.yaml") if p.environment == "staging"]
    (stamped,) = [p for p in _plans(churn.read_bytes(), "mlops.yaml", git_sha="b" * 40)
                  if p.environment == "staging"]
    templates: dict[str, list[Any]] = {}
    for plan in (plain, stamped):
        for f in TARGET.render(plan):
            doc = yaml.safe_load(f.content)
            pods: list[Any] = []
            if doc.get("kind") == "Deployment":
                pods = [doc["spec"]["template"]]
            elif doc.get("kind") == "CronJob":
                pods = [doc["spec"]["jobTemplate"]]
            elif doc.get("kind") == "WorkflowTemplate":
                pods = [t for t in doc["spec"]["templates"] if "container" in t]
            for pod in pods:
                assert "b" * 40 not in json.dumps(pod) and "spec-sha256" not in json.dumps(pod)
                containers = pod["container"] if "container" in pod else (
                    pod.get("spec", {}).get("template", pod)["spec"]["containers"][0])
                (sha,) = [e for e in containers["env"] if e["name"] == "MLOPS_GIT_SHA"]
                assert sha["valueFrom"]["configMapKeyRef"] == {
                    "name": "churn-run", "key": "commit", "optional": True}
            templates.setdefault(f.path, []).append(pods)
            if f.path.endswith("configmap.yaml"):
                assert doc["data"].get("commit") == (plan.git_sha or None)
    assert all(a == b for a, b in templates.values())


def test_rendering_is_deterministic() -> None:
    first = {c: TARGET.render(p) for c, p in CASES}
    second = {c: TARGET.render(p) for c, p in reversed(CASES)}
    assert first == second
    again = {f"{spec.parent.name}/{p.environment or 'default'}": TARGET.render(p)
             for spec in EXAMPLES for p in _plans(spec.read_bytes(), str(spec)) if "kubernetes" in p.targets}
    assert all(again[c] == first[c] for c in again)
