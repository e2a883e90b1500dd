"""The compact Argo output (issue 16): one step template per stage shape, the stages' files
split across ConfigMaps when there are many, and `targets.kubernetes.apply` deciding which
object limit applies. What Argo and the kubelet would do is read back from the files."""

from __future__ import annotations

import difflib
import re
from typing import Any

import pytest
import yaml

from benchmarks import generate
from compiler import pipeline
from compiler.plan import Plan
from compiler.targets import TARGETS
from compiler.targets.kubernetes import LIMITS, names, scripts

TARGET = TARGETS["kubernetes"]
SHAPE = re.compile(r"^[a-z]+-[0-9a-f]{10}$")


def _plan(data: dict[str, Any], environment: str | None = "staging") -> Plan:
    analysis = pipeline.check(generate.dump(data).encode(), "mlops.yaml", lint=False)
    assert analysis.ok(), [d.format() for d in analysis.diagnostics][:5]
    (plan,) = [p for p in pipeline.plans(analysis, spec_path="mlops.yaml")
               if p.environment == environment]
    return plan


def _bench(n: int, **settings: Any) -> dict[str, Any]:
    data = generate.spec(n)
    data["targets"] = {"kubernetes": settings}
    return data


def _files(plan: Plan) -> dict[str, str]:
    return {f.path.rsplit("/", 1)[-1]: f.content for f in TARGET.render(plan)}


def _workflow(files: dict[str, str]) -> dict[str, Any]:
    doc: dict[str, Any] = yaml.safe_load(files["workflowtemplate.yaml"])
    return doc


def _tasks(workflow: dict[str, Any]) -> dict[str, dict[str, Any]]:
    (dag,) = [t for t in workflow["spec"]["templates"] if "dag" in t]
    return {task["name"]: task for task in dag["dag"]["tasks"]}


def _stage_argument(task: dict[str, Any]) -> str | None:
    for parameter in task.get("arguments", {}).get("parameters", []):
        if parameter["name"] == "stage":
            value: str = parameter["value"]
            return value
    return None


def _configmaps(files: dict[str, str]) -> dict[str, dict[str, str]]:
    """ConfigMap name -> its data."""
    found = {}
    for name, text in files.items():
        if name.startswith("configmap"):
            doc = yaml.safe_load(text)
            found[doc["metadata"]["name"]] = doc["data"]
    return found


def _mounted(volumes: list[dict[str, Any]]) -> list[str]:
    """The ConfigMaps mounted at the run directory: the `run` volume, plain or projected."""
    (run,) = [v for v in volumes if v["name"] == "run"]
    if "configMap" in run:
        return [run["configMap"]["name"]]
    assert run["projected"]["defaultMode"] == 292
    return [source["configMap"]["name"] for source in run["projected"]["sources"]]


# ------------------------------------------------------------------ one template per shape


@pytest.mark.parametrize("n", [50, names.STAGES_PER_PART + 13])
def test_every_stage_runs_its_own_files_through_a_shared_template(n: int) -> None:
    plan = _plan(_bench(n))
    files = _files(plan)
    workflow = _workflow(files)
    templates = {t["name"]: t for t in workflow["spec"]["templates"]}
    data = {key: text for cm in _configmaps(files).values() for key, text in cm.items()}
    mounted = _mounted(workflow["spec"]["volumes"])
    assert sorted(mounted) == sorted(_configmaps(files))  # a pod can read every stage's files
    tasks = _tasks(workflow)
    shapes = set()
    for stage in plan.pipeline_stages:
        task = tasks[stage.dns]
        assert SHAPE.match(task["template"]) and task["template"].startswith(f"{stage.type}-")
        assert _stage_argument(task) == stage.name
        step = templates[task["template"]]
        assert [p["name"] for p in step["inputs"]["parameters"]] == \
            ["stage"] + (["combination"] if stage.combinations else [])
        env = {e["name"]: e for e in step["container"]["env"]}
        # Argo substitutes the task's argument; the wrapper then reads the stage's own files.
        resolved = env["MLOPS_STAGE"]["value"].replace("{{inputs.parameters.stage}}",
                                                       _stage_argument(task) or "")
        assert resolved == stage.name
        assert data[f"{resolved}.sh"] == stage.run and f"{resolved}.env" in data
        shapes.add(task["template"])
    # a handful of shapes for the whole pipeline, each template once
    assert len(shapes) <= 8 < len(plan.pipeline_stages)
    names = [t["name"] for t in workflow["spec"]["templates"]]
    assert len(names) == len(set(names))
    assert sorted(shapes) == sorted(n for n in names if SHAPE.match(n))


def test_a_stage_keeps_its_retries_deadline_and_resources() -> None:
    plan = _plan(_bench(50))
    workflow = _workflow(_files(plan))
    templates = {t["name"]: t for t in workflow["spec"]["templates"]}
    for stage in plan.pipeline_stages:
        step = templates[_tasks(workflow)[stage.dns]["template"]]
        assert step["activeDeadlineSeconds"] == stage.policy.timeout
        assert step["retryStrategy"]["limit"] == stage.policy.retries
        assert ("expression" in step["retryStrategy"]) == (stage.gate is not None)
        resources = step["container"]["resources"]
        assert resources["requests"] == {"cpu": stage.resources.cpu,
                                         "memory": stage.resources.memory}
        assert resources["limits"]["cpu"] == stage.resources.cpu
        secrets = {e["valueFrom"]["secretKeyRef"]["key"] for e in step["container"]["env"]
                   if "secretKeyRef" in e.get("valueFrom", {})}
        assert secrets == set(stage.secrets)


def _changed(before: str, after: str) -> tuple[list[str], list[str]]:
    diff = list(difflib.unified_diff(before.splitlines(), after.splitlines(), lineterm="", n=0))
    removed = [line[1:] for line in diff if line.startswith("-") and not line.startswith("---")]
    added = [line[1:] for line in diff if line.startswith("+") and not line.startswith("+++")]
    return removed, added


def test_an_edit_to_one_stage_s_shape_changes_only_its_task_and_adds_its_template() -> None:
    data = _bench(50)
    before = _files(_plan(data))["workflowtemplate.yaml"]
    data["stages"]["report-00003"]["resources"] = {"cpu": "3", "memory": "3Gi"}
    after = _files(_plan(data))["workflowtemplate.yaml"]
    removed, added = _changed(before, after)
    old_task = _tasks(yaml.safe_load(before))["report-00003"]["template"]
    new_task = _tasks(yaml.safe_load(after))["report-00003"]["template"]
    assert old_task != new_task
    # the old template stays (other report stages have that shape): only the task's line goes
    assert removed == [f"            template: {old_task}"]
    (new,) = [t for t in yaml.safe_load(after)["spec"]["templates"] if t["name"] == new_task]
    assert added[0] == f"            template: {new_task}"
    assert yaml.safe_load("\n".join(added[1:]))[0] == new  # the rest is the new template


# ----------------------------------------------------------------- the ConfigMap split


def test_few_stages_keep_one_configmap() -> None:
    files = _files(_plan(_bench(names.STAGES_PER_PART)))
    assert [n for n in files if n.startswith("configmap")] == ["configmap.yaml"]
    assert "configMap" in [v for v in _workflow(files)["spec"]["volumes"] if v["name"] == "run"][0]


def test_many_stages_split_their_files_by_a_stable_hash_of_the_name() -> None:
    plan = _plan(_bench(2 * names.STAGES_PER_PART + 1))
    parts = names.part_count(plan)
    assert parts == 4
    files = _files(plan)
    configmaps = _configmaps(files)
    assert len(configmaps) == parts + 1
    main = configmaps["bench-run"]
    assert scripts.RUNNER_KEY in main  # and the shared keys, but no stage's files
    assert not [k for k in main if k.endswith((".sh", ".env")) and not k.startswith("_")]
    for stage in plan.stages:
        part = configmaps[f"bench-run-{names.stage_part(stage, parts)}"]
        assert scripts.command_key(stage) in part and scripts.env_key(stage) in part
    # together, exactly the one ConfigMap's data
    together = sorted(item for cm in configmaps.values() for item in cm.items())
    assert together == scripts.configmap_data(plan)
    (drift,) = plan.scheduled_stages
    cronjob = yaml.safe_load(files[f"cronjob-{drift.dns}.yaml"])
    volumes = cronjob["spec"]["jobTemplate"]["spec"]["template"]["spec"]["volumes"]
    assert _mounted(volumes) == ["bench-run", f"bench-run-{names.stage_part(drift, parts)}"]
    kustomization = yaml.safe_load(files["kustomization.yaml"])
    assert {f"configmap-{i}.yaml" for i in range(parts)} <= set(kustomization["resources"])


def test_an_edit_to_one_stage_changes_one_configmap_part() -> None:
    data = _bench(2 * names.STAGES_PER_PART + 1)
    before = _files(_plan(data))
    data["stages"]["report-00007"]["run"] += " --verbose"
    after = _files(_plan(data))
    changed = sorted(name for name in before if before[name] != after[name])
    assert len(changed) == 1 and changed[0].startswith("configmap-"), changed
    removed, added = _changed(before[changed[0]], after[changed[0]])
    assert len(removed) == len(added) == 1 and "report-00007.sh" in added[0]


# ------------------------------------------------------------ targets.kubernetes.apply


def test_server_side_apply_annotates_every_object_and_lifts_the_annotation_limit() -> None:
    files = _files(_plan(_bench(50, apply="server-side")))
    for name, text in files.items():
        if name == "kustomization.yaml":  # read by kustomize, never applied
            continue
        doc = yaml.safe_load(text)
        assert doc["metadata"]["annotations"]["argocd.argoproj.io/sync-options"] == \
            "ServerSideApply=true", name
    for name, text in _files(_plan(_bench(50))).items():  # client-side, the default
        assert "ServerSideApply" not in text, name


def test_the_annotation_limit_binds_only_client_side_apply() -> None:
    """Decided by the settings the files were built with, never read back from the files."""
    client = LIMITS[0]
    assert client.enforced is not None
    assert client.enforced(_plan(_bench(7)).targets["kubernetes"])
    assert not client.enforced(_plan(_bench(7, apply="server-side")).targets["kubernetes"])
    assert all(limit.enforced is None for limit in LIMITS[1:])


def test_the_client_side_advice_names_the_setting() -> None:
    (client, whole, template) = LIMITS
    assert "targets.kubernetes.apply: server-side" in client.advice
    assert (client.maximum, whole.maximum, template.maximum) == (262_144, 1_048_576, 524_288)
    assert template.applies("k8s/staging/workflowtemplate.yaml")
    assert template.applies("k8s/staging/workflowtemplate-part-3.yaml")
    assert not template.applies("k8s/staging/configmap.yaml")


@pytest.mark.slow  # two 2,000-stage builds
def test_two_thousand_stages_fit_as_parts_either_way() -> None:
    """Past 1,000 stages the pipeline runs in parts (kubernetes/parts.py), each WorkflowTemplate
    within even client-side apply's annotation; server-side apply changes only the
    annotation."""
    def build(settings: dict[str, Any]) -> pipeline.Output:
        analysis = pipeline.check(generate.dump(_bench(2000, **settings)).encode(), "mlops.yaml",
                                  lint=False)
        return pipeline.build(analysis, spec_path="mlops.yaml")

    for settings in ({}, {"apply": "server-side"}):
        built = build(settings)
        assert not built.excesses
        sizes = {p: len(t.encode()) for part in built.parts for p, t in part.files.items()}
        assert max(sizes.values()) <= 262_144
        assert any("workflowtemplate-part-1.yaml" in p for p in sizes)
