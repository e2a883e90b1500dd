"""What the Kubernetes target's workloads do when they run (issue 15), each point a decision
checked here on the manifests, as Kubernetes and Argo document their behaviour:

- the model server gets the deploy stage's configuration (env, secrets, service account), and
  a change to it rolls the server while an edit elsewhere does not;
- private images: `image_pull_secrets` reaches every pod;
- an approval that nobody gives ends, after `approval_timeout`, as a rejection, never a deploy;
- the workspace's access mode is a setting, and lint says when ReadWriteOnce cannot hold;
- a run's param values are checked (bounds, pattern, type) before any stage, not only `enum`.
"""

from __future__ import annotations

import copy
import os
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml

from compiler import pipeline
from compiler.analysis import analyze
from tests import tooling
from tests.hostile_support import kubelet_expand

REPO = Path(__file__).resolve().parent.parent
IMAGE = "ghcr.io/acme/x:1.0"

# Text the kubelet would change if it reached an env `value` unescaped.
KUBELET_HOSTILE = "$(HOME) $$(HOME) $$$(X) $ $$ ${HOME} $(unclosed {{x}} 'q' \"d\"\nline"

BASE: dict[str, Any] = {
    "version": 1,
    "name": "rt",
    "params": {"lr": 0.5, "depth": 3},
    "env": {"TOP": "top"},
    "secrets": ["DSN"],
    "defaults": {"image": IMAGE},
    "triggers": {"schedule": "0 3 * * *"},
    "stages": {
        "ingest": {"run": "echo a > a", "outputs": ["a"]},
        "other": {"run": "echo b > b", "outputs": ["b"]},
        "train": {"run": "true", "inputs": ["a", "b"], "outputs": ["model/"],
                  "env": {"TRAIN_ONLY": "x"}, "matrix": {"seed": [1, 2]}},
        "evaluate": {"type": "evaluate", "run": "true", "inputs": ["model/"],
                     "metrics": "m.json", "gate": ["auc >= 0.5"]},
        "deploy": {"type": "deploy", "needs": ["evaluate"], "run": "true",
                   "secrets": ["MODEL_TOKEN"],
                   "env": {"MODEL_URI": "s3://models/rt", "WEIRD": KUBELET_HOSTILE,
                           "LR_USED": "lr=${params.lr}"},
                   "serve": {"image": IMAGE, "port": 8080, "health": "/healthz"}},
        "smoke": {"run": "true", "needs": ["deploy"]},
        "drift": {"type": "monitor", "schedule": "0 * * * *", "run": "true"},
    },
    "environments": {"production": {"approval": True}},
    "targets": {"kubernetes": {"namespace": "rt", "service_account": "rt-runner"}},
}


def _spec(**changes: Any) -> dict[str, Any]:
    spec = copy.deepcopy(BASE)
    for path, value in changes.items():
        node = spec
        *parents, last = path.split("__")
        for part in parents:
            node = node.setdefault(part, {})
        node[last] = value
    return spec


def _files(spec: dict[str, Any]) -> dict[str, Any]:
    """k8s path -> its document, every environment."""
    analysis = analyze(yaml.safe_dump(spec, sort_keys=False).encode(), "mlops.yaml")
    assert analysis.ok(), [d.format() for d in analysis.diagnostics]
    return {path: yaml.safe_load(text) for path, text in
            pipeline.build(analysis, spec_path="mlops.yaml").files.items()
            if path.startswith("k8s/") and not path.endswith("kustomization.yaml")}


def _diagnostics(spec: dict[str, Any]) -> list[tuple[str, str]]:
    analysis = analyze(yaml.safe_dump(spec, sort_keys=False).encode(), "mlops.yaml")
    return [(d.code, d.message) for d in analysis.diagnostics]


def _pod(doc: dict[str, Any]) -> dict[str, Any]:
    if doc["kind"] == "Deployment":
        pod: dict[str, Any] = doc["spec"]["template"]["spec"]
    elif doc["kind"] == "CronJob":
        pod = doc["spec"]["jobTemplate"]["spec"]["template"]["spec"]
    else:
        pod = doc["spec"]
    return pod


def test_kubelet_expand_follows_the_documented_rules() -> None:
    assert kubelet_expand("$$(X) $(X) $(Y) $$ $a $(", {"X": "v"}) == "$(X) v $(Y) $ $a $("


# ------------------------------------------------------------ point 3: the server's config


def test_the_server_gets_the_deploy_stage_s_env_and_secrets() -> None:
    files = _files(BASE)
    deployment = files["k8s/production/deployment-deploy.yaml"]
    (server,) = _pod(deployment)["containers"]
    env = {e["name"]: e for e in server["env"]}
    values = {name: kubelet_expand(e["value"], {"HOME": "/root", "X": "x"})
              for name, e in env.items() if "value" in e}
    assert values["TOP"] == "top" and values["MODEL_URI"] == "s3://models/rt"
    assert values["WEIRD"] == KUBELET_HOSTILE          # byte for byte after the kubelet
    assert values["LR_USED"] == "lr=0.5"               # a server is no run: the default
    assert "TRAIN_ONLY" not in env                     # another stage's env
    for secret in ("DSN", "MODEL_TOKEN"):
        assert env[secret] == {"name": secret, "valueFrom": {"secretKeyRef": {
            "name": "mlops-rt", "key": secret}}}
    assert not [n for n in env if n.startswith(("MLOPS_PARAM_", "MLOPS_MATRIX_", "MLOPS_RUN"))]
    assert {"MLOPS_PIPELINE", "MLOPS_STAGE", "MLOPS_GIT_SHA"} <= set(env)


def test_the_server_s_home_is_its_writable_tmp_unless_the_spec_sets_one() -> None:
    """Point 5: a read-only root filesystem and a user the image may have no home for."""
    deployment = _files(BASE)["k8s/production/deployment-deploy.yaml"]
    pod = _pod(deployment)
    (server,) = pod["containers"]
    env = {e["name"]: e.get("value") for e in server["env"]}
    assert env["HOME"] == "/tmp"
    assert {"name": "tmp", "mountPath": "/tmp"} in server["volumeMounts"]
    assert {"name": "tmp", "emptyDir": {}} in pod["volumes"]
    spec = _spec()
    spec["env"] = {**spec.get("env", {}), "HOME": "/home/app"}
    (server,) = _pod(_files(spec)["k8s/production/deployment-deploy.yaml"])["containers"]
    assert [e["value"] for e in server["env"] if e["name"] == "HOME"] == ["/home/app"]


def test_a_server_variable_that_reads_a_matrix_axis_is_left_out() -> None:
    spec = _spec()
    spec["stages"]["deploy"]["matrix"] = {"region": ["eu", "us"]}
    spec["stages"]["deploy"]["env"]["REGION"] = "r-${matrix.region}"
    (server,) = _pod(_files(spec)["k8s/production/deployment-deploy.yaml"])["containers"]
    names = {e["name"] for e in server["env"]}
    assert "MODEL_URI" in names and "REGION" not in names  # one Deployment, no single value


def test_server_and_monitor_run_as_the_target_s_service_account() -> None:
    files = _files(BASE)
    for path in ("k8s/production/deployment-deploy.yaml", "k8s/production/cronjob-drift.yaml",
                 "k8s/production/workflowtemplate.yaml"):
        assert _pod(files[path])["serviceAccountName"] == "rt-runner", path
    without = _files(_spec(targets={"kubernetes": {"namespace": "rt"}}))
    assert "serviceAccountName" not in _pod(without["k8s/production/deployment-deploy.yaml"])


def _templates(files: dict[str, Any]) -> dict[str, Any]:
    return {path: doc["spec"]["template"] if doc["kind"] == "Deployment"
            else doc["spec"]["jobTemplate"] for path, doc in files.items()
            if doc["kind"] in ("Deployment", "CronJob")}


def test_a_deploy_env_change_rolls_the_server_and_nothing_else_does() -> None:
    before = _templates(_files(BASE))
    deploy = "k8s/production/deployment-deploy.yaml"
    spec = _spec()
    spec["stages"]["deploy"]["env"]["MODEL_URI"] = "s3://models/rt-v2"
    after = _templates(_files(spec))
    assert after[deploy] != before[deploy]
    assert {p: t for p, t in after.items() if p.split("/")[-1] != deploy.split("/")[-1]} == \
        {p: t for p, t in before.items() if p.split("/")[-1] != deploy.split("/")[-1]}
    # an edit to another stage, or to a param the server does not read, rolls nothing
    for edit in ({"TRAIN_ONLY": "y"}, None):
        spec = _spec()
        if edit:
            spec["stages"]["train"]["env"] = edit
        else:
            spec["params"]["depth"] = 4
        assert _templates(_files(spec)) == before
    # the default of a param the server reads is part of its configuration
    spec = _spec()
    spec["params"]["lr"] = 0.7
    assert _templates(_files(spec))[deploy] != before[deploy]


# ------------------------------------------------------------ point 10: private images


def test_image_pull_secrets_reach_every_pod() -> None:
    spec = _spec()
    spec["targets"]["kubernetes"]["image_pull_secrets"] = ["ghcr-pull", "ecr.pull", "ghcr-pull"]
    files = _files(spec)
    kinds = set()
    for path, doc in files.items():
        if doc["kind"] in ("Deployment", "CronJob", "WorkflowTemplate"):
            kinds.add(doc["kind"])
            assert _pod(doc)["imagePullSecrets"] == [{"name": "ghcr-pull"}, {"name": "ecr.pull"}], path
    assert kinds == {"Deployment", "CronJob", "WorkflowTemplate"}
    assert all("imagePullSecrets" not in _pod(doc) for doc in _files(BASE).values()
               if doc["kind"] in kinds)


@pytest.mark.parametrize("name", ["Ghcr Pull", "$(X)", "{{workflow.name}}", "-x", "a" * 254])
def test_an_image_pull_secret_must_be_a_dns_subdomain(name: str) -> None:
    spec = _spec()
    spec["targets"]["kubernetes"]["image_pull_secrets"] = [name]
    assert "MLP402" in {code for code, _ in _diagnostics(spec)}


# ------------------------------------------------------------ point 4: approval


def _dag(files: dict[str, Any], env: str = "production") -> dict[str, dict[str, Any]]:
    doc = files[f"k8s/{env}/workflowtemplate.yaml"]
    (dag,) = [t for t in doc["spec"]["templates"] if "dag" in t]
    return {task["name"]: task for task in dag["dag"]["tasks"]}


def _approve_template(files: dict[str, Any]) -> dict[str, Any]:
    doc = files["k8s/production/workflowtemplate.yaml"]
    (template,) = [t for t in doc["spec"]["templates"] if "suspend" in t]
    return template


def argo_when(when: str, outputs: dict[str, str]) -> bool:
    """Argo's `when` for our expressions: `{{tasks.T.outputs.parameters.P}}` replaced by the
    node's output, then each `a == b` compared as strings (Argo's shouldExecute turns bare
    words into strings), joined by `&&`."""
    results = []
    for clause in when.split(" && "):
        left, right = clause.split(" == ")
        task = left.removeprefix("{{tasks.").split(".outputs.parameters.")[0]
        results.append(outputs[task] == right)
    return all(results)


def test_approval_times_out_as_a_rejection_never_as_a_deploy() -> None:
    files = _files(BASE)
    approve = _approve_template(files)
    # An Argo suspend with a duration resumes when it passes: the answer decides, not the resume.
    assert approve["suspend"] == {"duration": str(24 * 3600)}
    (given,) = approve["inputs"]["parameters"]
    (answer,) = approve["outputs"]["parameters"]
    assert given["name"] == answer["name"] == "approve"      # Argo: the same name in and out
    assert given["default"] == "reject" and given["enum"] == ["approve", "reject"]
    # Argo fills a `supplied` output from its default when the duration passes or `argo resume`
    # gives none (wfutil.OverrideOutputParametersWithDefault).
    assert answer["valueFrom"] == {"supplied": {}, "default": "reject"}
    tasks = _dag(files)
    assert tasks["deploy"]["dependencies"] == ["approve-deploy"]
    when = tasks["deploy"]["when"]
    assert argo_when(when, {"approve-deploy": "reject"}) is False     # the timeout's answer
    assert argo_when(when, {"approve-deploy": "approve"}) is True     # argo node set ... approve
    # what waits for the deploy is skipped with it; what comes before never waits
    assert tasks["smoke"]["when"] == when
    assert "when" not in tasks["approve-deploy"]
    assert not [n for n in ("ingest", "other", "train", "evaluate") if "when" in tasks[n]]
    # without approval there is nothing to wait for
    staging = _files(_spec(environments={"staging": {}}))
    assert not [t for t in _dag(staging, "staging").values() if "when" in t or
                t["template"] == "approve"]


def test_every_deploy_below_two_approvals_waits_for_both() -> None:
    spec = _spec()
    spec["stages"]["canary"] = {"type": "deploy", "run": "true", "needs": ["deploy"]}
    spec["stages"]["smoke"]["needs"] = ["canary"]
    tasks = _dag(_files(spec))
    assert "when" not in tasks["approve-canary"]   # a skipped approval's output never resolves
    when = tasks["canary"]["when"]
    assert when == tasks["smoke"]["when"] and when.startswith(tasks["deploy"]["when"] + " && ")
    assert argo_when(when, {"approve-deploy": "approve", "approve-canary": "approve"})
    assert not argo_when(when, {"approve-deploy": "reject", "approve-canary": "approve"})


def test_approval_timeout_is_a_positive_duration() -> None:
    spec = _spec()
    spec["targets"]["kubernetes"]["approval_timeout"] = "1h30m"
    assert _approve_template(_files(spec))["suspend"] == {"duration": "5400"}
    for bad in ("0s", "2 hours", "1y"):
        spec["targets"]["kubernetes"]["approval_timeout"] = bad
        assert [c for c, _ in _diagnostics(spec) if c.startswith("MLP1")], bad


# ------------------------------------------------------------ every setting, strictly valid


def _everything() -> dict[str, Any]:
    spec = _spec()
    spec["targets"]["kubernetes"].update({
        "image_pull_secrets": ["ghcr-pull"], "approval_timeout": "2h",
        "workspace": {"size": "5Gi", "storage_class": "nfs", "access_mode": "ReadWriteMany"}})
    spec["stages"]["canary"] = {"type": "deploy", "run": "true", "needs": ["deploy"]}
    spec["environments"]["staging"] = {"kubernetes": {"namespace": "rt-staging"}}
    return spec


@pytest.mark.slow
def test_every_runtime_setting_passes_the_strict_validators(tmp_path: Path) -> None:
    files = _files(_everything())
    paths = []
    for path, doc in files.items():
        if str(doc["apiVersion"]).startswith("argoproj.io/"):
            assert tooling.argo_validate(doc) == [], path
        else:
            out = tmp_path / path
            out.parent.mkdir(parents=True, exist_ok=True)
            out.write_text(yaml.safe_dump(doc))
            paths.append(out)
    assert {files[p]["kind"] for p in files} >= {"WorkflowTemplate", "Deployment", "CronJob"}
    tooling.kubernetes_validate(paths, tooling.K8S_VERSIONS)


# ------------------------------------------------------------ point 1: the workspace


def _claim(files: dict[str, Any], env: str = "production") -> dict[str, Any]:
    (claim,) = files[f"k8s/{env}/workflowtemplate.yaml"]["spec"]["volumeClaimTemplates"]
    spec: dict[str, Any] = claim["spec"]
    return spec


def _rwo_warnings(spec: dict[str, Any]) -> list[str]:
    return [message for code, message in _diagnostics(spec) if code == "MLP416"]


def test_the_workspace_access_mode_is_a_setting_and_rwo_by_default() -> None:
    assert _claim(_files(BASE))["accessModes"] == ["ReadWriteOnce"]
    spec = _spec()
    spec["targets"]["kubernetes"]["workspace"] = {"access_mode": "ReadWriteMany",
                                                  "storage_class": "nfs"}
    assert _claim(_files(spec))["accessModes"] == ["ReadWriteMany"]
    assert _rwo_warnings(spec) == []
    spec["targets"]["kubernetes"]["workspace"]["access_mode"] = "ReadWriteOncePod"
    assert [c for c, _ in _diagnostics(spec) if c.startswith("MLP1")]


def test_lint_warns_when_stages_run_at_once_on_a_read_write_once_workspace() -> None:
    # BASE: ingest and other can run at once, and train fans out to two pods
    found = _rwo_warnings(BASE)
    assert len(found) == 2
    assert any("'train' runs its matrix combinations at the same time" in m for m in found)
    assert any("'ingest' and 'other' can run at the same time" in m for m in found)
    # one chain of single pods: nothing runs at once, so ReadWriteOnce is fine
    chain: dict[str, Any] = {
        "version": 1, "name": "chain", "defaults": {"image": IMAGE},
        "stages": {"a": {"run": "true", "outputs": ["a"]},
                   "b": {"run": "true", "inputs": ["a"], "matrix": {"x": [1]}},
                   "c": {"run": "true", "needs": ["b"]},
                   "watch": {"type": "monitor", "schedule": "@hourly", "run": "true"}},
    }
    assert _rwo_warnings(chain) == []
    # ReadWriteOnce written out is a choice (a one-node cluster): nothing more to say
    spec = _spec()
    spec["targets"]["kubernetes"]["workspace"] = {"access_mode": "ReadWriteOnce"}
    assert _rwo_warnings(spec) == []
    # not built for Kubernetes: nothing to say
    spec = _spec()
    spec["targets"] = {"github": {}}
    assert _rwo_warnings(spec) == []


def test_an_environment_can_choose_its_own_access_mode() -> None:
    spec = _spec()
    spec["targets"]["kubernetes"]["workspace"] = {"access_mode": "ReadWriteMany"}
    spec["environments"]["production"]["targets"] = {
        "kubernetes": {"workspace": {"access_mode": "ReadWriteOnce"}}}
    assert _rwo_warnings(spec) == []
    files = _files(spec)
    assert _claim(files)["accessModes"] == ["ReadWriteOnce"]
    spec["environments"]["staging"] = {"kubernetes": {"namespace": "rt-staging"}}
    assert _claim(_files(spec), "staging")["accessModes"] == ["ReadWriteMany"]


def test_a_long_chain_is_checked_in_one_pass() -> None:
    stages = {f"s{i}": {"run": "true", **({"needs": [f"s{i - 1}"]} if i else {})}
              for i in range(1000)}
    spec = {"version": 1, "name": "long", "defaults": {"image": IMAGE}, "stages": stages}
    assert _rwo_warnings(spec) == []
    stages["extra"] = {"run": "true", "needs": ["s0"]}
    assert len(_rwo_warnings(spec)) == 1


def test_no_spec_text_where_the_kubelet_or_argo_would_evaluate_it() -> None:
    """The hostile checker of test_hostile.py over every new setting and the server's env
    (KUBELET_HOSTILE in a deploy env value, `$(`, `$$` and `{{` included)."""
    from tests.hostile_support import unsafe_places

    analysis = analyze(yaml.safe_dump(_everything(), sort_keys=False).encode(), "mlops.yaml")
    files = {p: t for p, t in pipeline.build(analysis, spec_path="mlops.yaml").files.items()
             if p.startswith("k8s/")}
    assert unsafe_places(files) == []
    # and the checker does see an unescaped value (it would have caught the server's)
    deployment = files["k8s/production/deployment-deploy.yaml"]
    assert unsafe_places({"d.yaml": deployment.replace("$$$$(HOME)", "$$$(HOME)")})


# ------------------------------------------------------------ point 8: params checked first

CHECKED = {"lookback_days": {"type": "integer", "default": 30, "minimum": 1, "maximum": 365},
           "region": {"type": "string", "default": "eu-1", "pattern": "^[a-z]+-[0-9]$"}}


def _with_params(params: dict[str, Any]) -> dict[str, Any]:
    spec = _spec(params=params)
    del spec["stages"]["deploy"]["env"]["LR_USED"]  # it reads BASE's `lr`
    return spec


def _workflow(files: dict[str, Any], env: str = "production") -> dict[str, Any]:
    doc: dict[str, Any] = files[f"k8s/{env}/workflowtemplate.yaml"]
    return doc


def _template(files: dict[str, Any], name: str, env: str = "production") -> dict[str, Any]:
    (template,) = [t for t in _workflow(files, env)["spec"]["templates"] if t["name"] == name]
    return template


def test_the_params_check_runs_first_exactly_when_argo_would_not_check() -> None:
    from compiler.targets.kubernetes import scripts

    # text params with at most choices: Argo's own `enum` check is the whole check
    for params in ({"greeting": "hi"},
                   {"mode": {"type": "string", "default": "a", "enum": ["a", "b"]}}):
        files = _files(_with_params(params))
        assert "mlops-check-params" not in _dag(files)
        assert scripts.PARAMS_CHECK_KEY not in files["k8s/production/configmap.yaml"]["data"]
    # a bound, a pattern or a type other than text: a first task that every root waits for
    for params in (CHECKED, {"lr": 0.5}, {"on": True}):
        files = _files(_with_params(params))
        dag = _dag(files)
        assert "dependencies" not in dag["mlops-check-params"]
        for name, task in dag.items():
            if name in ("ingest", "other"):  # BASE's stages without upstream
                assert task["dependencies"] == ["mlops-check-params"], name
            elif name != "mlops-check-params":
                assert task.get("dependencies"), name
        step = _template(files, "check-params")
        assert "retryStrategy" not in step and step["activeDeadlineSeconds"] == 300
        container = step["container"]
        assert container["image"] == IMAGE  # the first stage's: it has python3, for the gate
        assert container["securityContext"] == \
            _template(files, dag["ingest"]["template"])["container"]["securityContext"]
        data = files["k8s/production/configmap.yaml"]["data"]
        assert data[scripts.PARAMS_CHECK_KEY].startswith("import json")


def test_a_stage_named_like_the_check_keeps_its_name() -> None:
    spec = _with_params(CHECKED)
    spec["stages"]["mlops-check-params"] = {"run": "true", "needs": ["ingest"]}
    dag = _dag(_files(spec))
    assert dag["mlops-check-params"]["arguments"]["parameters"] == [
        {"name": "stage", "value": "mlops-check-params"}]
    assert dag["mlops-check-params"]["template"] != "check-params"
    assert dag["mlops-check-params-x"]["template"] == "check-params"
    assert dag["ingest"]["dependencies"] == ["mlops-check-params-x"]


def _run_check(tmp_path: Path, files: dict[str, Any], values: dict[str, str]) -> subprocess.CompletedProcess[str]:
    """The check step as its pod runs it: the ConfigMap as files (its mount point moved into
    tmp_path), the step's command, and the env the step gets (a param's value as Argo fills in
    its annotation; the schemas from their ConfigMap key)."""
    from compiler.targets.kubernetes import scripts

    run_dir = tmp_path / "run"
    run_dir.mkdir(exist_ok=True)
    data = files["k8s/production/configmap.yaml"]["data"]
    for key, text in data.items():
        (run_dir / key).write_text(text)
    step = _template(files, "check-params")
    annotations = step["metadata"]["annotations"]
    env = {"PATH": os.environ["PATH"]}
    for entry in step["container"]["env"]:
        source = entry["valueFrom"]
        if "configMapKeyRef" in source:  # the schemas, and the commit (absent: no --ref)
            key = source["configMapKeyRef"]["key"]
            assert source["configMapKeyRef"]["optional"] is (key == "commit")
            if key in data:
                env[entry["name"]] = data[key]
        else:
            annotation = source["fieldRef"]["fieldPath"].split("'")[1]
            param = annotations[annotation].removeprefix("{{workflow.parameters.").removesuffix("}}")
            env[entry["name"]] = values[param]
    command = [word.replace(scripts.RUN_DIR, str(run_dir)) for word in step["container"]["command"]]
    return subprocess.run(command, cwd=tmp_path, env=env, capture_output=True, text=True,
                          timeout=60)


def test_the_check_refuses_a_value_argo_would_have_run(tmp_path: Path) -> None:
    from compiler.render.params_check import PARAMS_FAILED

    files = _files(_with_params(CHECKED))
    ok = _run_check(tmp_path, files, {"lookback_days": "90", "region": "us-2"})
    assert ok.returncode == 0, ok.stderr
    refused = _run_check(tmp_path, files, {"lookback_days": "1000", "region": "us-2"})
    assert refused.returncode == PARAMS_FAILED
    assert "lookback_days: 1000 is more than the maximum 365" in refused.stderr
    bad = _run_check(tmp_path, files, {"lookback_days": "2.5", "region": "US"})
    assert bad.returncode == PARAMS_FAILED
    assert "is not an integer" in bad.stderr and "does not match the pattern" in bad.stderr
