"""The Kubeflow target: strict parsing with KFP's own protos (PipelineSpec, PipelineDeployment-
Config, PlatformSpec, kfp-kubernetes' KubernetesExecutorConfig), runs in kfp's real local
orchestrator (`kfp.local`, SubprocessRunner: commands on this host, images ignored), and the
promises of SPEC.md section 5 checked on the rendered text and on the shell that runs it."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import textwrap
from pathlib import Path
from typing import Any

import pytest
import yaml

from compiler import pipeline
from compiler.plan import Plan
from compiler.render.encode import yaml_string as q
from compiler.targets import TARGETS
from compiler.targets.kubeflow import render, task
from tests import tooling

REPO = Path(__file__).resolve().parent.parent
EXAMPLES = sorted(REPO.glob("examples/*/mlops.yaml"))
TARGET = TARGETS["kubeflow"]
IMAGE = "ghcr.io/acme/x:1.0"
# Text every engine on KFP's way would act on: KFP's placeholders and workspace path, Argo's
# `{{...}}`, the kubelet's `$(VAR)` and `$$`, and the shell's own quoting.
HOSTILE = ("{{$.pipeline_job_name}} {{$}} {{$.inputs.parameters['lr']}} {{workflow.name}} "
           "{{=sprig.env('X')}} $(HOME) $$(id) $$ /kfp-workspace/x ${HOME} `id` it's \"q\" \\ "
           "%s {{{ }}} $((1+1)) \u2028 \U0001f600\nline two\n")


def plans(text: str, git_sha: str | None = None) -> tuple[Plan, ...]:
    analysis = pipeline.check(textwrap.dedent(text).encode(), "mlops.yaml")
    assert analysis.ok(), [d.format() for d in analysis.diagnostics]
    return pipeline.plans(analysis, spec_path="mlops.yaml", git_sha=git_sha)


def rendered(plan: Plan) -> list[Any]:
    (out,) = TARGET.render(plan)
    return list(yaml.safe_load_all(out.content))


def task_of(docs: list[Any], name: str) -> dict[str, Any]:
    """The DAG task that runs a stage (or the params check): in the root DAG, or in the DAG of
    its loop's component."""
    spec = docs[0]
    for owner in [spec["root"], *spec["components"].values()]:
        found = owner.get("dag", {}).get("tasks", {}).get(name)
        if found is not None and "executorLabel" in spec["components"][
                found["componentRef"]["name"]]:
            return dict(found)
    raise AssertionError(f"no task runs {name}")


def label(docs: list[Any], name: str) -> str:
    """The executor of a stage's task (shared by every stage of its shape)."""
    component = task_of(docs, name)["componentRef"]["name"]
    return str(docs[0]["components"][component]["executorLabel"])


def executor(docs: list[Any], stage: str) -> dict[str, Any]:
    """The container KFP starts for a stage's task, its first argument (the placeholder of the
    task's MLOPS_SCRIPT) given as the driver gives it: the task's stage script."""
    container = dict(docs[0]["deploymentSpec"]["executors"][label(docs, stage)]["container"])
    given = task_of(docs, stage).get("inputs", {}).get("parameters", {}).get(task.SCRIPT_INPUT)
    if given is not None:
        script = given["runtimeValue"]["constant"]
        assert container["args"][0] == task.placeholder(task.SCRIPT_INPUT)
        container["args"] = [script, *container["args"][1:]]
    return container


def platform(docs: list[Any], stage: str) -> dict[str, Any]:
    """The kfp-kubernetes config of a stage's executor."""
    found: dict[str, Any] = docs[1]["platforms"]["kubernetes"]["deploymentSpec"]["executors"][
        label(docs, stage)]
    return found


def run_task(docs: list[Any], stage: str, cwd: Path, values: dict[str, str],
             env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    """A task's container as KFP's driver starts it: its placeholders replaced by `values`
    (component input -> text), command and args run by `sh` here."""
    container = executor(docs, stage)
    argv = []
    for arg in [*container["command"], *container["args"]]:
        for name, value in values.items():
            arg = arg.replace(task.placeholder(name), value)
        argv.append(arg)
    assert "{{$" not in "".join(argv[4:]) or values, argv
    return subprocess.run(argv, cwd=cwd, capture_output=True, text=True, timeout=60,
                          env={"PATH": os.environ["PATH"], "HOME": "/nonexistent", **(env or {})})


# --------------------------------------------------------------- the text of the file


def test_a_word_reads_back_exactly_and_holds_nothing_an_engine_resolves(tmp_path: Path) -> None:
    for text in (HOSTILE, "", "'", "{{", "{{{{", "$$$(", "/kfp-workspace", "a'{{'b", "$'('"):
        word = task.word(text)
        for sequence in ("{{", "$(", "$$", "/kfp-workspace"):
            assert sequence not in word, (text, word)
        out = subprocess.run(["sh", "-c", f"printf '%s' {word}"], capture_output=True,
                             text=True, check=True).stdout
        assert out == text


def test_the_wrapper_is_fixed_text_that_no_engine_changes() -> None:
    assert "{{" not in task.WRAPPER and "$$" not in task.WRAPPER
    assert "kfp-workspace" not in task.WRAPPER
    # The runner's arithmetic is the only `$(`: the kubelet leaves it, as it names no variable.
    assert task.WRAPPER.count("$(") == task.WRAPPER.count("$((") == 2


SPEC = f"""\
version: 1
name: demo
params:
  lr: {{default: 0.05, type: number, description: the rate}}
  depth: 6
  label: "a b"
  flag: true
env: {{LOG_LEVEL: info, MIXED: "lr=${{params.lr}}"}}
secrets: [TOKEN]
defaults: {{image: "{IMAGE}", retries: 2, retry_delay: 5s, timeout: 10m}}
stages:
  prep:
    run: mkdir -p data && echo x > data/x
    outputs: [data/]
  train:
    run: "echo $MLOPS_MATRIX_SEED"
    inputs: [data/]
    matrix: {{seed: [1, "two"]}}
    resources: {{cpu: "2", memory: 4Gi, gpu: 1}}
  evaluate:
    type: evaluate
    needs: [train]
    run: "echo '{{\\"auc\\": 0.9}}' > metrics.json"
    metrics: metrics.json
    gate: ["auc >= 0.8"]
  calendar:
    run: echo holidays
    cache: true
  for-each-train:
    run: "true"
targets:
  kubeflow: {{}}
  kubernetes: {{secret_name: demo-secrets, gpu_node_selector: {{gpu: "t4"}},
               gpu_tolerations: [{{key: nvidia.com/gpu, effect: NoSchedule}}]}}
"""


@pytest.fixture(scope="module")
def demo() -> list[Any]:
    (plan,) = plans(SPEC)
    return rendered(plan)


def test_params_are_typed_inputs_with_their_defaults(demo: list[Any]) -> None:
    params = demo[0]["root"]["inputDefinitions"]["parameters"]
    assert params == {
        "depth": {"parameterType": "NUMBER_INTEGER", "defaultValue": 6, "isOptional": True},
        "flag": {"parameterType": "BOOLEAN", "defaultValue": True, "isOptional": True},
        "label": {"parameterType": "STRING", "defaultValue": "a b", "isOptional": True},
        "lr": {"parameterType": "NUMBER_DOUBLE", "defaultValue": 0.05, "isOptional": True,
               "description": "the rate"},
    }
    args = executor(demo, "prep")["args"]
    assert "MLOPS_PARAM_LR={{$.inputs.parameters['lr']}}" in args


def test_caching_is_on_only_where_the_spec_says(demo: list[Any]) -> None:
    tasks = demo[0]["root"]["dag"]["tasks"]
    inner = demo[0]["components"]["comp-for-each-train-x"]["dag"]["tasks"]["train"]
    assert tasks["calendar"]["cachingOptions"] == {"enableCache": True}
    for t in (tasks["prep"], tasks["evaluate"], tasks["for-each-train"], inner):
        assert t["cachingOptions"] == {"enableCache": False}
    # A cached stage gets no run id and no workspace, either of which would make every run's
    # cache key unique.
    assert set(tasks["calendar"]["inputs"]["parameters"]) == {
        "MLOPS_SCRIPT", "lr", "depth", "label", "flag"}
    assert not any(a.startswith(("MLOPS_RUN_ID=", "MLOPS_WORKSPACE="))
                   for a in executor(demo, "calendar")["args"])


def test_a_gated_stage_retries_in_its_task_so_a_failed_gate_is_never_retried(
        demo: list[Any]) -> None:
    tasks = demo[0]["root"]["dag"]["tasks"]
    assert "retryPolicy" not in tasks["evaluate"]
    assert "export MLOPS_RETRIES=2\nexport MLOPS_RETRY_DELAY=5\n" in executor(demo, "evaluate")["args"][0]
    assert tasks["prep"]["retryPolicy"] == {"maxRetryCount": 2, "backoffDuration": "5s",
                                            "backoffFactor": 1.0, "backoffMaxDuration": "5s"}
    assert "MLOPS_RETRIES" not in executor(demo, "prep")["args"][0]
    assert "export MLOPS_TIMEOUT=600\n" in executor(demo, "prep")["args"][0]


def test_a_matrix_stage_is_a_parallel_for_over_its_combinations(demo: list[Any]) -> None:
    tasks = demo[0]["root"]["dag"]["tasks"]
    # A stage is already called for-each-train: the loop takes another name.
    loop = tasks["for-each-train-x"]
    assert loop["parameterIterator"] == {"itemInput": "MLOPS_COMBINATION",
                                         "items": {"raw": '["0", "1"]'}}
    assert loop["dependentTasks"] == ["prep"]
    assert tasks["evaluate"]["dependentTasks"] == ["for-each-train-x"]
    script = executor(demo, "train")["args"][0]
    assert "  0) export MLOPS_MATRIX_SEED=1 ;;\n  1) export MLOPS_MATRIX_SEED=two ;;\n" in script


def test_resources_requests_equal_limits_and_the_gpu(demo: list[Any]) -> None:
    resources = executor(demo, "train")["resources"]
    assert resources == {
        "cpuLimit": 2.0, "cpuRequest": 2.0, "memoryLimit": 4.294967296,
        "memoryRequest": 4.294967296, "resourceCpuLimit": "2", "resourceCpuRequest": "2",
        "resourceMemoryLimit": "4Gi", "resourceMemoryRequest": "4Gi",
        "accelerator": {"type": "nvidia.com/gpu", "count": "1", "resourceType": "nvidia.com/gpu",
                        "resourceCount": "1"}}
    assert executor(demo, "prep")["resources"]["resourceMemoryLimit"] == "512Mi"
    assert "accelerator" not in executor(demo, "prep")["resources"]


def test_the_platform_document_gives_secrets_user_tmp_deadline_and_gpu_placement(
        demo: list[Any]) -> None:
    train = platform(demo, "train")
    assert train["securityContext"] == {"runAsUser": 65532, "runAsGroup": 65532,
                                        "runAsNonRoot": True}
    assert train["emptyDirMounts"] == [{"volumeName": "mlops-tmp", "mountPath": "/tmp"}]
    assert train["secretAsEnv"] == [{
        "secretName": "demo-secrets",
        "secretNameParameter": {"runtimeValue": {"constant": "demo-secrets"}},
        "optional": False, "keyToEnv": [{"secretKey": "TOKEN", "envVar": "TOKEN"}]}]
    assert train["nodeSelector"] == {"labels": {"gpu": "t4"}}
    assert train["tolerations"] == [{"key": "nvidia.com/gpu", "operator": "Exists",
                                     "effect": "NoSchedule"}]
    assert "nodeSelector" not in platform(demo, "prep")
    # KFP retries prep (one pod per attempt); evaluate's pod holds all three attempts.
    assert platform(demo, "prep")["activeDeadlineSeconds"] == str(600 + 10 + 60)
    assert platform(demo, "evaluate")["activeDeadlineSeconds"] == str(3 * 610 + 2 * 5 + 60)
    workspace = demo[1]["platforms"]["kubernetes"]["pipelineConfig"]["workspace"]
    assert workspace == {"size": "10Gi", "kubernetes": {"pvcSpecPatch": {
        "accessModes": ["ReadWriteOnce"]}}}


def test_a_secret_listed_on_one_stage_reaches_only_that_stage_s_executor() -> None:
    (plan,) = plans(f"""\
        version: 1
        name: scoped
        defaults: {{image: "{IMAGE}"}}
        stages:
          deploy: {{type: deploy, run: "true", secrets: [DEPLOY_KEY]}}
          train: {{run: "true"}}
        targets: {{kubeflow: {{}}}}
        """)
    docs = rendered(plan)
    assert platform(docs, "deploy")["secretAsEnv"][0]["keyToEnv"] == [
        {"secretKey": "DEPLOY_KEY", "envVar": "DEPLOY_KEY"}]
    assert "secretAsEnv" not in platform(docs, "train")


SHAPES = f"""\
version: 1
name: shapes
defaults: {{image: "{IMAGE}"}}
stages:
  a: {{run: "echo a"}}
  b: {{run: "echo b", env: {{ONLY_B: "1"}}}}
  c: {{run: "echo c", image: "ghcr.io/acme/other:2.0"}}
  d: {{run: "echo d", secrets: [D_KEY]}}
targets: {{kubeflow: {{}}}}
"""


def test_stages_of_one_shape_share_a_component_and_an_executor() -> None:
    """The 5 kB wrapper is in the file once per shape (image, resources, secrets, deadline,
    run-time arguments); a stage's own text (command, env) is its task's script."""
    docs = rendered(plans(SHAPES)[0])
    assert label(docs, "a") == label(docs, "b")
    assert len({label(docs, s) for s in "abcd"}) == 3
    assert len(docs[0]["deploymentSpec"]["executors"]) == 3
    assert len(docs[0]["components"]) == 3
    assert all(re.fullmatch(r"exec-stage-[0-9a-f]{10}", label(docs, s)) for s in "abcd")
    assert "export ONLY_B=1\n" in executor(docs, "b")["args"][0]
    assert "ONLY_B" not in executor(docs, "a")["args"][0]
    assert executor(docs, "c")["image"] == "ghcr.io/acme/other:2.0"
    assert "secretAsEnv" in platform(docs, "d") and "secretAsEnv" not in platform(docs, "a")


def test_a_one_stage_edit_changes_only_that_stage_s_lines() -> None:
    (before,) = TARGET.render(plans(SHAPES)[0])
    (after,) = TARGET.render(plans(SHAPES.replace('"echo b"', '"echo bee"'))[0])
    old, new = before.content.splitlines(), after.content.splitlines()
    changed = [(x, y) for x, y in zip(old, new) if x != y]
    assert len(old) == len(new) and len(changed) == 1 and "MLOPS_STAGE=b\\n" in changed[0][1]
    # A new image moves the stage to a shape of its own, and changes no other stage's task.
    (moved,) = TARGET.render(plans(SHAPES.replace('"echo a"}', '"echo a", image: "x/y:1"}'))[0])
    docs, moved_docs = rendered(plans(SHAPES)[0]), list(yaml.safe_load_all(moved.content))
    for stage in "bcd":
        assert task_of(moved_docs, stage) == task_of(docs, stage)
    assert label(moved_docs, "a") not in {label(docs, s) for s in "abcd"}


BOUNDED = f"""\
version: 1
name: bounded
params:
  epochs: {{default: 3, type: integer, minimum: 1, maximum: 10}}
  tag: {{default: v1, type: string, pattern: "^v[0-9]+$"}}
defaults: {{image: "{IMAGE}"}}
stages:
  prep: {{run: "true"}}
  train: {{run: "true", needs: [prep]}}
  other: {{run: "true"}}
targets: {{kubeflow: {{}}}}
"""


def test_a_first_task_checks_what_kfp_does_not_and_every_root_stage_waits_for_it(
        tmp_path: Path) -> None:
    docs = rendered(plans(BOUNDED)[0])
    tasks = docs[0]["root"]["dag"]["tasks"]
    assert tasks["prep"]["dependentTasks"] == tasks["other"]["dependentTasks"] == [
        render.CHECK_TASK]
    assert tasks["train"]["dependentTasks"] == ["prep"]
    assert tasks[render.CHECK_TASK]["cachingOptions"] == {"enableCache": False}
    for values, code, said in [({"epochs": "50", "tag": "v2"}, 87, "more than the maximum 10"),
                               ({"epochs": "0", "tag": "v2"}, 87, "less than the minimum 1"),
                               ({"epochs": "5", "tag": "x"}, 87, "does not match the pattern"),
                               ({"epochs": "5", "tag": "v7"}, 0, "")]:
        result = run_task(docs, render.CHECK_TASK, tmp_path, values)
        assert result.returncode == code, result
        assert said in result.stderr
    # Types only (or no schema at all): KFP checks them itself, so no check task.
    plain = rendered(plans(BOUNDED.replace(", minimum: 1, maximum: 10", "")
                           .replace(', pattern: "^v[0-9]+$"', ""))[0])
    assert render.CHECK_TASK not in plain[0]["root"]["dag"]["tasks"]


def test_vertex_settings_name_the_accelerator_and_drop_the_workspace() -> None:
    (plan,) = plans(SPEC.replace("kubeflow: {}", "kubeflow: {accelerator: NVIDIA_TESLA_T4, "
                                                 "workspace: null}"))
    docs = rendered(plan)
    assert executor(docs, "train")["resources"]["accelerator"]["type"] == "NVIDIA_TESLA_T4"
    assert "pipelineConfig" not in docs[1]["platforms"]["kubernetes"]
    assert not any(a.startswith("MLOPS_WORKSPACE=") for a in executor(docs, "prep")["args"])


def test_an_environment_is_its_own_pipeline_and_file() -> None:
    spec = SPEC + ("environments:\n  staging: {params: {lr: 0.1}, kubernetes: {namespace: st}}"
                   "\n  prod_eu: {kubernetes: {namespace: eu}}\n")
    files = {p.environment: (render.file_path(p), rendered(p)) for p in plans(spec)}
    assert files["staging"][0] == "kfp/demo-staging.yaml"
    assert files["prod_eu"][1][0]["pipelineInfo"]["name"] == "demo-prod-eu"
    assert files["staging"][1][0]["root"]["inputDefinitions"]["parameters"]["lr"][
        "defaultValue"] == 0.1
    assert "export MLOPS_ENVIRONMENT=staging\n" in executor(files["staging"][1], "prep")["args"][0]


def test_the_stage_script_runs_the_command_with_the_spec_env_and_run_time_values(
        demo: list[Any], tmp_path: Path) -> None:
    (tmp_path / "ws").mkdir()
    (plan,) = plans(SPEC.replace("mkdir -p data && echo x > data/x",
                                 'printf "%s|%s|%s|%s|%s" "$MIXED" "$MLOPS_PARAM_LABEL" '
                                 '"$MLOPS_RUN_ID" "$MLOPS_STAGE" "$(pwd)" > out'))
    docs = rendered(plan)
    result = run_task(docs, "prep", tmp_path, {"MLOPS_WORKSPACE": str(tmp_path / "ws"),
                                                "MLOPS_RUN_ID": "run-1", "lr": "0.5",
                                                "label": "x y", "depth": "6", "flag": "true"})
    assert result.returncode == 0, result
    assert (tmp_path / "ws" / "out").read_text() == f"lr=0.5|x y|run-1|prep|{tmp_path / 'ws'}"


def test_hostile_text_reaches_the_shell_byte_for_byte_and_no_engine_sees_it(
        tmp_path: Path) -> None:
    spec = f"""\
    version: 1
    name: hostile
    env: {{TOP: {q(HOSTILE)}}}
    defaults: {{image: "{IMAGE}"}}
    stages:
      probe:
        run: {q("printf '%s' " + task.word(HOSTILE) + ' > run.out; printf "%s" "$TOP" > top.out; printf "%s" "$MLOPS_MATRIX_V" > v.out')}
        matrix: {{v: [{q(HOSTILE)}]}}
    targets: {{kubeflow: {{}}}}
    """
    (plan,) = plans(spec)
    docs = rendered(plan)
    for doc in docs:
        for text in _strings(doc):
            text = text.replace(task.WRAPPER, "")
            for name in ("MLOPS_SCRIPT", "MLOPS_WORKSPACE", "MLOPS_RUN_ID", "MLOPS_COMBINATION"):
                text = text.replace(task.placeholder(name), "")
            for placeholder in (task.WORKSPACE_PLACEHOLDER, task.RUN_ID_PLACEHOLDER):
                text = text.replace(placeholder, "")
            for sequence in ("{{", "$(", "$$", "/kfp-workspace"):
                assert sequence not in text, (sequence, text)
    result = run_task(docs, "probe", tmp_path, {"MLOPS_WORKSPACE": str(tmp_path),
                                                 "MLOPS_RUN_ID": "r", "MLOPS_COMBINATION": "0"})
    assert result.returncode == 0, result
    for name in ("run.out", "top.out", "v.out"):
        assert (tmp_path / name).read_bytes() == HOSTILE.encode(), name


def _strings(value: Any) -> list[str]:
    if isinstance(value, str):
        return [value]
    if isinstance(value, dict):
        return [s for k, v in value.items() for s in (*_strings(k), *_strings(v))]
    if isinstance(value, list):
        return [s for v in value for s in _strings(v)]
    return []


def test_only_pipeline_stages_are_in_the_file() -> None:
    (plan,) = plans(SPEC.replace("targets:\n", "  watch:\n    type: monitor\n    schedule: "
                                                "'@hourly'\n    run: 'true'\ntargets:\n"))
    docs = rendered(plan)
    with pytest.raises(AssertionError, match="no task runs watch"):
        task_of(docs, "watch")
    assert not any("MLOPS_STAGE=watch" in text for text in _strings(docs))


def test_only_scheduled_stages_write_no_file() -> None:
    (plan,) = plans(f"""\
    version: 1
    name: cron
    defaults: {{image: "{IMAGE}"}}
    stages:
      watch: {{type: monitor, schedule: "@hourly", run: "true"}}
    targets: {{kubeflow: {{}}}}
    """)
    assert TARGET.render(plan) == []


# ------------------------------------------------------------------- real validators


def _example_files(tmp_path: Path) -> list[Path]:
    files = []
    for spec in [*EXAMPLES, None]:
        raw = spec.read_bytes() if spec else SPEC.encode()
        analysis = pipeline.check(raw, str(spec or "demo.yaml"))
        for plan in pipeline.plans(analysis, spec_path="mlops.yaml"):
            if "kubeflow" not in plan.targets:
                continue
            for out in TARGET.render(plan):
                path = tmp_path / (spec.parent.name if spec else "demo") / out.path
                path.parent.mkdir(parents=True, exist_ok=True)
                path.write_text(out.content)
                files.append(path)
    return files


@pytest.mark.slow
def test_files_parse_strictly_as_the_pipeline_ir_and_platform_spec(tmp_path: Path) -> None:
    files = _example_files(tmp_path)
    assert len(files) >= 3  # the vertex example's two environments and the demo
    tooling.kfp_validate(files)


@pytest.mark.slow
def test_the_validator_refuses_what_kfp_would_refuse(tmp_path: Path) -> None:
    (good,) = _example_files(tmp_path)[-1:]
    text = good.read_text()
    for broken in (text.replace("cachingOptions:", "cachingOption:", 1),
                   text.replace("parameterType: STRING", "parameterType: TEXT", 1),
                   text.replace("runAsNonRoot:", "runAsNonroot:", 1),
                   text.replace("resourceCpuLimit:", "resourceCpulimit:", 1)):
        assert broken != text
        path = tmp_path / "broken.yaml"
        path.write_text(broken)
        with pytest.raises(AssertionError, match="do not parse strictly"):
            tooling.kfp_validate([path])


# ---------------------------------------------------------------- kfp's local runner


def _local(tmp_path: Path, spec: str, arguments: dict[str, Any] | None = None,
           env: dict[str, str] | None = None) -> dict[str, Any]:
    (plan,) = plans(spec)
    (out,) = TARGET.render(plan)
    path = tmp_path / "pipeline.yaml"
    path.write_text(out.content)
    return tooling.kfp_run(path, tmp_path / "workspace", arguments, env)


def _spec(stages: str, probe: Path, extra: str = "") -> str:
    return f"""\
version: 1
name: run
params:
  lr: {{default: 0.05, type: number}}
  label: "a b"
env: {{PROBE: "{probe}", LOG_LEVEL: info}}
defaults: {{image: "{IMAGE}"}}
stages:
{textwrap.indent(textwrap.dedent(stages), "  ")}
targets:
  kubeflow: {{}}
{extra}"""


def _order(probe: Path) -> list[str]:
    return (probe / "order").read_text().split()


@pytest.mark.slow
def test_local_run_order_params_env_matrix_and_files(tmp_path: Path) -> None:
    probe = tmp_path / "probe"
    probe.mkdir()
    spec = _spec("""\
        prep:
          run: 'echo prep >> "$PROBE/order"; mkdir -p data; printf "%s" "$MLOPS_PARAM_LR" > data/lr'
          outputs: [data/]
        train:
          run: 'echo "train-$MLOPS_MATRIX_SEED" >> "$PROBE/order"; cp data/lr "$PROBE/lr-$MLOPS_MATRIX_SEED"'
          inputs: [data/]
          matrix: {seed: [1, 2]}
        report:
          needs: [train]
          run: 'echo report >> "$PROBE/order"; env > "$PROBE/env"'
          env: {MIXED: "lr=${params.lr} label=${params.label}"}
    """, probe)
    result = _local(tmp_path, spec, {"lr": 0.5})
    assert result["error"] is None, result["stderr"]
    order = _order(probe)
    assert order[0] == "prep" and order[-1] == "report" and sorted(order[1:3]) == ["train-1", "train-2"]
    # The override reached every task, and files passed through the run's workspace.
    assert (probe / "lr-1").read_text() == (probe / "lr-2").read_text() == "0.5"
    env = dict(line.split("=", 1) for line in (probe / "env").read_text().splitlines() if "=" in line)
    assert env["MIXED"] == "lr=0.5 label=a b" and env["LOG_LEVEL"] == "info"
    assert env["MLOPS_PIPELINE"] == "run" and env["MLOPS_STAGE"] == "report"
    assert env["MLOPS_RUN_ID"] and "MLOPS_WORKSPACE" not in env
    assert env["MLOPS_PARAM_LR"] == "0.5" and env["MLOPS_PARAM_LABEL"] == "a b"


@pytest.mark.slow
def test_local_run_a_failing_task_stops_its_dependents_after_its_retries(tmp_path: Path) -> None:
    probe = tmp_path / "probe"
    probe.mkdir()
    spec = _spec("""\
        flaky:
          run: 'n=$(cat "$PROBE/n" 2>/dev/null || echo 0); echo $((n+1)) > "$PROBE/n"; [ "$n" -ge 1 ]'
          retries: 2
        broken:
          needs: [flaky]
          run: 'echo broken >> "$PROBE/order"; exit 3'
          retries: 1
        after:
          needs: [broken]
          run: 'echo after >> "$PROBE/order"'
    """, probe)
    result = _local(tmp_path, spec)
    assert result["error"] is not None
    assert result["attempts"].count("flaky") == 2 and (probe / "n").read_text() == "2\n"
    assert result["attempts"].count("broken") == 2
    assert ["flaky", "SUCCESS"] in result["tasks"] and ["broken", "FAILURE"] in result["tasks"]
    assert _order(probe) == ["broken", "broken"]  # `after` never ran


@pytest.mark.slow
@pytest.mark.parametrize("auc", ["0.9", "0.1"])
def test_local_run_gate_passes_or_fails_once(tmp_path: Path, auc: str) -> None:
    probe = tmp_path / "probe"
    probe.mkdir()
    spec = _spec(f"""\
        evaluate:
          type: evaluate
          run: 'echo evaluate >> "$PROBE/order"; echo "{{\\"auc\\": {auc}}}" > metrics.json'
          metrics: metrics.json
          gate: ["auc >= 0.5"]
          retries: 2
        deploy:
          type: deploy
          needs: [evaluate]
          run: 'echo deploy >> "$PROBE/order"'
    """, probe)
    result = _local(tmp_path, spec)
    if auc == "0.9":
        assert result["error"] is None, result["stderr"]
        assert _order(probe) == ["evaluate", "deploy"]
    else:
        assert result["error"] is not None and "mlops gate: FAIL auc = 0.1" in result["stderr"]
        assert _order(probe) == ["evaluate"]  # checked once, never retried; deploy not run
        assert result["attempts"] == ["evaluate"]


@pytest.mark.slow
def test_local_run_hostile_text_arrives_byte_for_byte(tmp_path: Path) -> None:
    probe = tmp_path / "probe"
    probe.mkdir()
    hostile = HOSTILE.replace("\u2028", "")  # YAML reads a raw U+2028 as a line break
    stages = f"""\
        probe:
          run: {q("printf '%s' " + task.word(hostile) + ' > "$PROBE/run"; printf "%s" "$HOSTILE" > "$PROBE/env"; printf "%s" "$MLOPS_MATRIX_V" > "$PROBE/v"; printf "%s" "$MLOPS_PARAM_LABEL" > "$PROBE/label"')}
          env: {{HOSTILE: {q(hostile)}}}
          matrix: {{v: [{q(hostile)}]}}
    """
    label = "x' \"y\" ${HOME} `id` \\ \n{{ z }} % @"
    result = _local(tmp_path, _spec(stages, probe), {"label": label})
    assert result["error"] is None, result["stderr"]
    for name in ("run", "env", "v"):
        assert (probe / name).read_bytes() == hostile.encode(), name
    assert (probe / "label").read_bytes() == label.encode()


@pytest.mark.slow
def test_local_run_caches_a_cache_true_stage_only(tmp_path: Path) -> None:
    probe = tmp_path / "probe"
    probe.mkdir()
    spec = _spec("""\
        calendar:
          run: 'echo calendar >> "$PROBE/order"'
          cache: true
        always:
          run: 'echo always >> "$PROBE/order"'
    """, probe)
    (plan,) = plans(spec)
    (out,) = TARGET.render(plan)
    path = tmp_path / "pipeline.yaml"
    path.write_text(out.content)
    for _ in range(2):
        result = tooling.kfp_run(path, tmp_path / "workspace", env={"MLOPS_KFP_CACHE": str(tmp_path / "cache")})
        assert result["error"] is None, result["stderr"]
    assert sorted(_order(probe)) == ["always", "always", "calendar"]
    shutil.rmtree(tmp_path / "cache")


# ------------------------------------------------------------------------------- lint


def _lint(text: str) -> list[str]:
    from compiler.analysis import analyze

    analysis = analyze(textwrap.dedent(text).encode(), "mlops.yaml")
    return [d.format() for d in analysis.diagnostics]


@pytest.mark.parametrize(("where", "value"), [
    ("default", "'{{$.pipeline_job_name}}'"), ("default", "'a $(HOME)'"), ("default", "'a$$b'"),
    ("default", "/kfp-workspace/data"), ("enum", "['ok', '{{workflow.name}}']"),
    ("description", "'see {{$}}'"),
])
def test_mlp404_refuses_what_kfp_would_change_in_a_param(where: str, value: str) -> None:
    fields = {"default": "ok", "type": "string", where: value}
    if where == "enum":
        fields["enum"] = value
    elif where == "default":
        fields["default"] = value
    body = ", ".join(f"{k}: {v}" for k, v in fields.items())
    found = _lint(f"""\
    version: 1
    name: p
    params: {{x: {{{body}}}}}
    defaults: {{image: "{IMAGE}"}}
    stages: {{a: {{run: "true"}}}}
    targets: {{kubeflow: {{}}}}
    """)
    assert len(found) == 1 and "error MLP404" in found[0], found


def test_mlp404_checks_an_environment_s_override_and_only_when_kubeflow_is_built() -> None:
    spec = f"""\
    version: 1
    name: p
    params: {{x: ok}}
    defaults: {{image: "{IMAGE}"}}
    stages: {{a: {{run: "true"}}}}
    environments: {{prod: {{params: {{x: "$(id)"}}}}}}
    targets: {{kubeflow: {{}}}}
    """
    (found,) = _lint(spec)
    assert "mlops.yaml:6:" in found and "in environment 'prod'" in found and "MLP404" in found
    assert _lint(spec.replace("kubeflow: {}", "github: {}")) == []


def test_mlp405_approval_is_an_error_and_schedules_warn() -> None:
    found = _lint(f"""\
    version: 1
    name: p
    triggers: {{schedule: "0 3 * * *"}}
    defaults: {{image: "{IMAGE}"}}
    stages:
      a: {{run: "true"}}
      watch: {{type: monitor, schedule: "@hourly", run: "true"}}
    environments: {{staging: {{}}, production: {{approval: true}}}}
    targets: {{kubeflow: {{}}}}
    """)
    assert [f.split(" ", 3)[1:3] for f in found] == [
        ["warning", "MLP401"], ["warning", "MLP401"], ["error", "MLP405"]], found
    assert "mlops.yaml:8:42: error MLP405 environment 'production' asks for approval" in found[2]
    assert "'schedule'" in found[0] and "'stage schedule'" in found[1]


# ----------------------------------------------------------- the shared hostile corpus


def _hostile_spec(field: str, text: str) -> dict[str, Any]:
    from tests.hostile_support import BASE, spec_with

    spec = spec_with(field, text)
    spec["targets"] = {"kubeflow": {}, "kubernetes": spec["targets"]["kubernetes"]}
    return spec


def _inert(docs: list[Any]) -> list[str]:
    """Spec text in a KFP file where KFP, Argo or the kubelet would act on it."""
    found = []
    docs = [dict(docs[0], pipelineInfo={"name": docs[0]["pipelineInfo"]["name"]}), *docs[1:]]
    for doc in docs:  # (the pipeline's description is shown by the UI; nothing resolves it)
        for text in _strings(doc):
            text = text.replace(task.WRAPPER, "")
            text = text.replace(task.WORKSPACE_PLACEHOLDER, "").replace(task.RUN_ID_PLACEHOLDER, "")
            text = re.sub(r"\{\{\$\.inputs\.parameters\['[A-Za-z][A-Za-z0-9_-]*'\]\}\}", "", text)
            found += [f"{s!r} in {text!r}" for s in ("{{", "$(", "$$", "/kfp-workspace") if s in text]
    return found


@pytest.mark.slow  # no engine, but the whole corpus through twelve fields takes ~40 s
@pytest.mark.parametrize("field", ["env", "defaults.env", "stage.env", "run", "param.default",
                                   "param.description", "param.enum", "matrix", "paths",
                                   "metrics", "description", "owner"])
def test_the_hostile_corpus_is_refused_or_reaches_the_task_byte_for_byte(
        field: str, tmp_path: Path) -> None:
    from tests.hostile_support import PROBE, analyze_spec, errors
    from tests.test_hostile import FRAGMENTS

    probed = {"env": "top.out", "defaults.env": "def.out", "stage.env": "stage.out",
              "param.default": "lr.out"}
    # The corpus in groups of four (a group with one refused fragment is refused whole, so
    # every fragment also comes alone in the fields that take any text).
    texts = ["".join(FRAGMENTS[i:i + 4]) for i in range(0, len(FRAGMENTS), 4)] + [HOSTILE]
    if field in ("run", "env"):
        texts += FRAGMENTS
    for i, fragment in enumerate(texts):
        analysis = analyze_spec(_hostile_spec(field, fragment))
        if errors(analysis):
            continue
        (plan,) = pipeline.plans(analysis, spec_path="mlops.yaml")
        docs = rendered(plan)
        assert _inert(docs) == [], (field, fragment)
        lr = plan.params[0].default_text
        cwd = tmp_path / str(i)
        cwd.mkdir()
        prep = plan.stage("prep")
        if field == "run":  # the command as every target runs it (`$${` is a literal `${`)
            script = executor(docs, "prep")["args"][0]
            out = subprocess.run(["sh", "-c", script + 'printf "%s" "$MLOPS_RUN"'],
                                 capture_output=True, check=True).stdout
            assert out == str(prep.run).encode()
            continue
        values = {"MLOPS_WORKSPACE": str(cwd), "MLOPS_RUN_ID": "r", "lr": lr}
        result = run_task(docs, "prep", cwd, values)
        assert result.returncode == 0, (field, fragment, result)
        env = {var.name: var.text for var in prep.env}
        expected = {"top.out": env["TOP"], "def.out": env["DEF"], "stage.out": env["STAGE"],
                    "lr.out": lr}
        if field in probed:
            assert expected[probed[field]] == fragment.replace("$${", "${"), field
        for name, value in expected.items():
            assert (cwd / name).read_bytes() == value.encode(), (field, fragment, name)
        if field == "matrix":
            result = run_task(docs, "train", cwd, {**values, "MLOPS_COMBINATION": "1"})
            assert result.returncode == 0, result
            assert (cwd / "seed.out").read_bytes() == fragment.encode()
    assert PROBE  # the corpus' probe command is what prep runs


def test_a_build_with_ref_stamps_the_commit_into_every_task() -> None:
    (plan,) = plans(SPEC, git_sha="a" * 40)
    docs = rendered(plan)
    for stage in ("prep", "train", "evaluate", "calendar", "for-each-train"):
        assert f"export MLOPS_GIT_SHA={'a' * 40}\n" in executor(docs, stage)["args"][0], stage
    (plain,) = plans(SPEC)
    assert "MLOPS_GIT_SHA" not in executor(rendered(plain), "prep")["args"][0]
