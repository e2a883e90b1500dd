"""A pipeline past one Workflow's size runs as a parent Workflow of parts (kubernetes/parts.py).

No Argo runs here, so the tests check what Argo would do with the files: every document is
valid for Argo 3.6 and 4.x (strict schemas); the child Workflow each part step creates, after
Argo's substitution (emulated: `{{workflow.name}}`, `{{=toJson(...)}}`), is a valid Workflow of
an existing part template with every parameter it requires; every stage runs once, after all
of its upstream stages, in one DAG or through the parent's order of parts; and an approval's
answer reaches every stage that waits for it.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest
import yaml

from benchmarks import generate
from compiler.targets.kubernetes import parts
from tests import tooling
from tests.conftest import run_cli

STAGES = 2_100  # three parts of stages, and in production the deploy's own part


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> tuple[dict[str, Any], Path]:
    """The benchmark spec of STAGES stages built for Kubernetes: (environment -> file -> doc)."""
    data = generate.spec(STAGES)
    data["targets"] = {"kubernetes": data["targets"]["kubernetes"]}
    root = tmp_path_factory.mktemp("parts")
    (root / "mlops.yaml").write_text(generate.dump(data))
    result = run_cli("build", root / "mlops.yaml", "--out", root / "out", "--quiet")
    assert result.code == 0, result.err[-2000:]
    docs = {env.name: {f.name: yaml.safe_load(f.read_text()) for f in env.glob("*.yaml")}
            for env in (root / "out" / "k8s").iterdir()}
    return docs, root / "out" / "k8s"


def _argo_substitute(manifest: str, run: str, values: dict[str, str]) -> str:
    """What Argo makes of a part step's manifest: `{{workflow.name}}` is the run's name, and
    `{{=toJson(scope['name'])}}` the JSON text of that parameter's value (Go's encoding/json,
    which also escapes <, > and &)."""
    def substitute(match: re.Match[str]) -> str:
        if match.group(1) is None:
            return run
        text = json.dumps(values[match.group(1)], ensure_ascii=False)
        return text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")

    # One pass, as Argo's: a substituted value is never read for tags again.
    tag = (r"\{\{workflow\.name\}\}"
           r"|\{\{=toJson\((?:workflow|inputs)\.parameters\['([A-Za-z0-9_-]+)'\]\)\}\}")
    done = re.sub(tag, substitute, manifest)
    assert "{{=" not in re.sub(tag, "", manifest)
    return done


def _pipeline(doc: dict[str, Any]) -> dict[str, Any]:
    (dag,) = [t for t in doc["spec"]["templates"] if t["name"] == "pipeline"]
    return {task["name"]: task for task in dag["dag"]["tasks"]}


def _ancestors(tasks: dict[str, Any], name: str) -> set[str]:
    seen: set[str] = set()
    todo = list(tasks[name].get("dependencies", []))
    while todo:
        task = todo.pop()
        if task not in seen:
            seen.add(task)
            todo += tasks[task].get("dependencies", [])
    return seen


@pytest.mark.parametrize("env", ["staging", "production"])
def test_every_stage_runs_once_after_its_upstream(built: tuple[dict[str, Any], Path],
                                                   env: str) -> None:
    docs, _ = built
    files = docs[env]
    data = generate.spec(STAGES)
    stages = {name: s for name, s in data["stages"].items() if "schedule" not in s}
    parent = files["workflowtemplate.yaml"]
    parent_tasks = _pipeline(parent)
    part_files = sorted((f for f in files if f.startswith("workflowtemplate-part-")),
                        key=lambda f: int(re.findall(r"\d+", f)[0]))
    assert len(part_files) == (3 if env == "staging" else 5)   # + the deploy's part, + the rest
    assert set(files["kustomization.yaml"]["resources"]) == set(files) - {"kustomization.yaml"}
    where: dict[str, int] = {}
    part_tasks: dict[int, dict[str, Any]] = {}
    for file in part_files:
        index = int(re.findall(r"\d+", file)[0])
        doc = files[file]
        assert doc["metadata"]["name"] == f"bench-part-{index}"
        part_tasks[index] = _pipeline(doc)
        for task in part_tasks[index]:
            assert task not in where, f"{task} is in two parts"
            where[task] = index
    assert set(where) == set(stages)
    producer = {out: name for name, stage in stages.items() for out in stage.get("outputs", [])}
    for name, stage in stages.items():
        # generate.py's edges: explicit needs, and inputs read from another stage's outputs
        # (a file, or a directory that holds it)
        ups = set(stage.get("needs", []))
        for path in stage.get("inputs", []):
            prefixes = [path] + ["/".join(path.split("/")[:i]) + "/"
                                 for i in range(1, path.count("/") + 1)]
            ups |= {producer[p] for p in prefixes if p in producer and producer[p] != name}
        assert ups or name.startswith("ingest-00000"), name
        for up in ups:
            if where[up] == where[name]:
                assert up in _ancestors(part_tasks[where[name]], name), (up, name)
            else:
                part = parts.part_name(where[name])
                assert parts.part_name(where[up]) in _ancestors(parent_tasks, part), (up, name)


def test_the_approval_waits_for_the_deploys_upstream_and_its_answer_reaches_the_deploy(
        built: tuple[dict[str, Any], Path]) -> None:
    docs, _ = built
    files = docs["production"]
    parent_tasks = _pipeline(files["workflowtemplate.yaml"])
    (deploy_part,) = [i for i in range(5)
                      if "deploy" in _pipeline(files[f"workflowtemplate-part-{i}.yaml"])]
    assert list(_pipeline(files[f"workflowtemplate-part-{deploy_part}.yaml"])) == ["deploy"]
    approve = parent_tasks["approve-deploy"]
    # asked once the deploy's upstream (the last evaluate stage) has run
    assert approve["dependencies"] == [parts.part_name(deploy_part - 1)]
    task = parent_tasks[parts.part_name(deploy_part)]
    assert "approve-deploy" in task["dependencies"]
    (answer,) = task["arguments"]["parameters"]
    assert answer == {"name": "ANSWER-approve-deploy",
                      "value": "{{tasks.approve-deploy.outputs.parameters.approve}}"}
    deploy = _pipeline(files[f"workflowtemplate-part-{deploy_part}.yaml"])["deploy"]
    assert deploy["when"] == "{{workflow.parameters.ANSWER-approve-deploy}} == approve"
    # no other part waits for the answer: no stage is downstream of the deploy
    for name, other in parent_tasks.items():
        if name.startswith("part-") and name != parts.part_name(deploy_part):
            assert "approve-deploy" not in other.get("dependencies", [])


@pytest.mark.slow
@pytest.mark.parametrize("env", ["staging", "production"])
def test_the_parts_and_the_workflows_they_create_are_valid_for_argo(
        built: tuple[dict[str, Any], Path], env: str) -> None:
    docs, root = built
    files = docs[env]
    hostile = 'a"b\n  serviceAccountName: admin\n{{workflow.name}} <&> ' + "'"
    for name, doc in files.items():
        if doc["apiVersion"].startswith("argoproj.io/"):
            assert tooling.argo_validate(doc) == [], name
    tooling.kubernetes_validate(sorted(p for p in (root / env).glob("*.yaml")
                                       if p.name != "kustomization.yaml"))
    parent = files["workflowtemplate.yaml"]
    params = [p["name"] for p in parent["spec"]["arguments"]["parameters"]]
    for template in parent["spec"]["templates"]:
        if "resource" not in template:
            continue
        values = {p: hostile for p in params}
        values.update({p["name"]: "approve" for p in template.get("inputs", {}).get("parameters", [])})
        child = yaml.safe_load(_argo_substitute(template["resource"]["manifest"],
                                                "bench-x7k2p", values))
        assert tooling.argo_validate(child) == [], template["name"]
        ref = child["spec"]["workflowTemplateRef"]["name"]
        (part,) = [d for d in files.values() if d.get("metadata", {}).get("name") == ref]
        given = {p["name"]: p["value"] for p in child["spec"]["arguments"]["parameters"]}
        required = {p["name"] for p in part["spec"]["arguments"]["parameters"] if "value" not in p}
        assert required <= set(given)
        # a hostile value stays one value: no key of the manifest came from it
        assert all(given[p] == hostile for p in params)
        assert set(child["spec"]) == {"workflowTemplateRef", "arguments"}
        assert given[parts.RUN_ID_PARAMETER] == "bench-x7k2p"
        assert given[parts.WORKSPACE_PARAMETER] == "bench-x7k2p-workspace"
        assert part["spec"]["volumes"][0] == {
            "name": "workspace",
            "persistentVolumeClaim": {"claimName": "{{workflow.parameters.MLOPS_WORKSPACE}}"}}
        assert "volumeClaimTemplates" not in part["spec"]
    assert parent["spec"]["volumeClaimTemplates"][0]["metadata"]["name"] == "workspace"


def test_a_pipeline_within_the_limit_is_one_workflow(tmp_path: Path) -> None:
    data = generate.spec(parts.STAGES_PER_WORKFLOW + 1)   # + the scheduled monitor
    data["targets"] = {"kubernetes": data["targets"]["kubernetes"]}
    (tmp_path / "mlops.yaml").write_text(generate.dump(data))
    assert run_cli("build", tmp_path / "mlops.yaml", "--out", tmp_path / "out", "--quiet").code == 0
    assert not list((tmp_path / "out").rglob("workflowtemplate-part-*.yaml"))
