"""Hostile input (SPEC.md section 5): whatever text a spec holds, it is either refused by lint
with a clear diagnostic, or it reaches every engine as data, exactly as written.

A property test puts arbitrary text (quotes, backslashes, newlines, `{{ }}`, `{% %}`, `$(...)`,
backticks, `${{ }}`, YAML markers, look-alike Unicode, control characters) into one free-text
field of a valid spec at a time, then checks every output of every target: it parses, it has the
same structure as the output for a benign value, no spec text sits where GitHub, Argo or the
kubelet would evaluate it, and the shell of a GitHub step and of a Kubernetes pod receives the
exact bytes. Airflow runs a fixed set of hostile commands through a real `dag.test()`.
"""

from __future__ import annotations

import os
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from compiler.targets.kubernetes import scripts
from tests import tooling
from tests.hostile_support import (
    BENIGN,
    FIELDS,
    FRAGMENTS,
    analyze_spec,
    errors,
    kubelet_expand,
    outputs,
    parse,
    spec_bytes,
    spec_with,
    unsafe_places,
)


TEXT = st.lists(
    st.one_of(st.sampled_from(FRAGMENTS),
              st.text(st.characters(blacklist_categories=("Cs",), blacklist_characters="\x00"),
                      max_size=4)),
    min_size=1, max_size=6,
).map("".join).filter(lambda t: t != "")


@pytest.fixture(scope="module")
def benign() -> dict[str, dict[str, Any]]:
    """Per field: the shape of every output when that field holds a benign value."""
    shapes: dict[str, dict[str, Any]] = {}
    for field in FIELDS:
        analysis = analyze_spec(spec_with(field, BENIGN.get(field, "benign")))
        assert not errors(analysis), (field, errors(analysis))
        files = outputs(analysis)
        shapes[field] = {"shapes": {p: parse(p, t) for p, t in files.items()},
                         "runs": _github_runs(files)}
    return shapes


def _github_runs(files: dict[str, str]) -> list[str]:
    """The `run:` scripts of every GitHub step: fixed text, whatever the spec says."""
    return [step.get("run", "") for path, text in sorted(files.items())
            if path.startswith(".github/") for job in yaml.safe_load(text)["jobs"].values()
            for step in job["steps"]]


def _github_run_step(files: dict[str, str], job_id: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    """Run a job's Run step as GitHub would (`sh -e script`, the workflow's `defaults`) with
    the workflow's env under the step's; `${{ }}` values are what GitHub would give (a run
    that was not dispatched: every param its default; matrix: the second combination)."""
    workflow = yaml.safe_load(files[".github/workflows/mlops-hostile.yml"])
    job = workflow["jobs"][job_id]
    (run,) = [s for s in job["steps"] if s.get("name") == "Run"]
    env = {"PATH": os.environ["PATH"]}
    for name, value in {**workflow.get("env", {}), **job.get("env", {}), **run["env"]}.items():
        value = str(value)
        if value.startswith("${{ matrix["):
            axis = value.split("'")[1]
            value = job["strategy"]["matrix"]["include"][1][axis]
        elif value == "${{ github.job }}":
            value = job_id
        elif value.startswith("${{"):
            value = ""  # github.sha, the run id, dispatch inputs: none in a run of defaults
        env[name] = str(value)
    script = cwd / "step.sh"
    script.write_text(run["run"])
    return subprocess.run(["sh", "-e", str(script)], env=env, cwd=cwd, capture_output=True,
                          text=True, timeout=60)


def _k8s_run_stage(files: dict[str, str], stage: str, cwd: Path, extra: dict[str, str]) -> subprocess.CompletedProcess[str]:
    """Run the pod's wrapper with the ConfigMap as files, as in test_kubernetes_target.py, and
    the param value Argo would give (the WorkflowTemplate's default)."""
    (configmap,) = [yaml.safe_load(t) for p, t in files.items() if p.endswith("default/configmap.yaml")]
    (template,) = [yaml.safe_load(t) for p, t in files.items() if p.endswith("workflowtemplate.yaml")]
    params = {p["name"]: p["value"] for p in template["spec"]["arguments"]["parameters"]}
    run_dir = cwd / "run"
    run_dir.mkdir(exist_ok=True)
    for key, text in configmap["data"].items():
        (run_dir / key).write_text(text)
    wrapper = scripts.WRAPPER.replace(scripts.RUN_DIR, str(run_dir))
    env = {"PATH": os.environ["PATH"], "HOME": "/home/nobody", "MLOPS_STAGE": stage,
           "MLOPS_PARAM_LR": params["lr"], **extra}
    return subprocess.run(["sh", "-c", wrapper], cwd=cwd, env=env, capture_output=True,
                          text=True, timeout=60)


# What the probe files must hold, per field: the injected text where the field feeds them.
PROBED = {"env": "top.out", "defaults.env": "def.out", "stage.env": "stage.out",
          "param.default": "lr.out"}


def _check_execution(field: str, text: str, files: dict[str, str], tmp: Path) -> None:
    expected = {"top.out": "benign", "def.out": "benign", "stage.out": "benign", "lr.out": "benign"}
    if field in PROBED:
        expected[PROBED[field]] = text
    if field == "run":  # the command is the text itself: check it arrives intact, don't run it
        workflow = yaml.safe_load(files[".github/workflows/mlops-hostile.yml"])
        (run,) = [s for s in workflow["jobs"]["prep"]["steps"] if s.get("name") == "Run"]
        assert run["env"]["MLOPS_RUN"] == text
        (configmap,) = [yaml.safe_load(t) for p, t in files.items() if p.endswith("configmap.yaml")]
        assert configmap["data"]["prep.sh"] == text
        return
    if field in ("env", "defaults.env"):  # the model server gets them in its pod template
        (deployment,) = [yaml.safe_load(t) for p, t in files.items()
                         if p.endswith("default/deployment-deploy.yaml")]
        (server,) = deployment["spec"]["template"]["spec"]["containers"]
        values = {e["name"]: kubelet_expand(e["value"], {"HOME": "/root", "X": "x", "id": "0"})
                  for e in server["env"] if "value" in e}
        assert values[{"env": "TOP", "defaults.env": "DEF"}[field]] == text
    for engine in ("github", "k8s"):
        cwd = tmp / engine
        cwd.mkdir()
        if engine == "github":
            result = _github_run_step(files, "prep", cwd)
        else:
            result = _k8s_run_stage(files, "prep", cwd, {})
        assert result.returncode == 0, (engine, result)
        for name, value in expected.items():
            # bytes, not text: the shell must receive exactly what was written
            assert (cwd / name).read_bytes() == value.encode(), (engine, name)
    if field == "matrix":
        cwd = tmp / "k8s-matrix"
        cwd.mkdir()
        result = _k8s_run_stage(files, "train", cwd, {scripts.COMBINATION_VAR: "1"})
        assert result.returncode == 0, result
        assert (cwd / "seed.out").read_bytes() == text.encode()
        cwd = tmp / "github-matrix"
        cwd.mkdir()
        assert _github_run_step(files, "train", cwd).returncode == 0
        assert (cwd / "seed.out").read_bytes() == text.encode()


@settings(max_examples=int(os.environ.get("MLOPS_HOSTILE_EXAMPLES", "120")), deadline=None,
          derandomize=True, database=None, suppress_health_check=list(HealthCheck))
@given(field=st.sampled_from(sorted(FIELDS)), text=TEXT)
def test_hostile_text_is_refused_or_stays_data(benign: dict[str, dict[str, Any]], field: str,
                                               text: str, tmp_path_factory: pytest.TempPathFactory) -> None:
    spec = spec_with(field, text)
    analysis = analyze_spec(spec)  # never raises: bad input is a diagnostic
    found = errors(analysis)
    if found:
        for d in found:
            assert d.line >= 1 and d.column >= 1 and d.message and d.code.startswith("MLP"), d
        return
    files = outputs(analysis)
    reference = benign[field]
    for path, content in files.items():
        assert parse(path, content) == reference["shapes"][path], (field, path)
    assert _github_runs(files) == reference["runs"], field
    assert unsafe_places(files) == [], (field, text)
    _check_execution(field, text, files, tmp_path_factory.mktemp("run"))


def test_every_field_has_a_benign_reference(benign: dict[str, dict[str, Any]]) -> None:
    assert set(benign) == set(FIELDS)


@pytest.mark.parametrize(("field", "text", "code"), [
    ("param.default", "x {{workflow.name}}", "MLP403"),
    ("param.description", "{{=sprig.env('HOME')}}", "MLP403"),
    ("param.enum", "{{workflow.uid}}", "MLP403"),
    ("image", "ghcr.io/acme/x:{{workflow.name}}", "MLP402"),
    ("image", "ghcr.io/acme/x:1.0 $(id)", "MLP402"),
    ("serve.image", "evil image", "MLP402"),
    ("k8s.service_account", "Runner $(X)", "MLP402"),
    ("k8s.storage_class", "{{workflow.name}}", "MLP402"),
    ("run", "echo ${{ github.token }}", "MLP307"),
])
def test_known_holes_are_refused_with_a_diagnostic(field: str, text: str, code: str) -> None:
    analysis = analyze_spec(spec_with(field, text))
    codes = {d.code for d in errors(analysis)}
    assert code in codes, [d.format() for d in analysis.diagnostics]


def test_run_time_param_values_reach_the_pod_through_the_downward_api() -> None:
    """A run's param value must not land in an env `value` (the kubelet expands `$(VAR)` there
    and reduces `$$` to `$`): it travels in a pod annotation read back with a fieldRef."""
    files = outputs(analyze_spec(spec_with("env", "benign")))
    (template,) = [yaml.safe_load(t) for p, t in files.items() if p.endswith("workflowtemplate.yaml")]
    for step in template["spec"]["templates"]:
        if "container" not in step:
            continue
        annotations = step["metadata"]["annotations"]
        assert annotations == {"mlops.dev/param-lr": "{{workflow.parameters.lr}}"}
        (lr,) = [e for e in step["container"]["env"] if e["name"] == "MLOPS_PARAM_LR"]
        assert lr == {"name": "MLOPS_PARAM_LR", "valueFrom": {"fieldRef": {
            "fieldPath": "metadata.annotations['mlops.dev/param-lr']"}}}
        # only the compiler's own: a matrix index and a stage's name, from the task's arguments
        assert all("{{" not in e.get("value", "") for e in step["container"]["env"]
                   if e["name"] not in (scripts.COMBINATION_VAR, scripts.STAGE_VAR))


# ---------------------------------------------------------------- Airflow, for real

# Each hostile command prints a quoted word (or an env value) to out.txt: the file shows the
# bytes the shell received, so a Jinja render or a lost quote would change it.
AIRFLOW_CASES: list[tuple[str, str]] = [
    ("printf '%s' '{{ ds }} {% raw %}x{% endraw %} {{ ti.xcom_pull() }}' > out.txt",
     "{{ ds }} {% raw %}x{% endraw %} {{ ti.xcom_pull() }}"),
    ("printf '%s' '$(id) `id` ${HOME} $$ \\' > out.txt", "$(id) `id` ${HOME} $$ \\"),
    ("printf '%s' \"it's \\\"quoted\\\"\" > out.txt", "it's \"quoted\""),
    ("printf '%s' 'line1\n---\n...\n# not a comment: x' > out.txt",
     "line1\n---\n...\n# not a comment: x"),
    ("printf '%s' 'caf\u00e9 \uff04\uff08id\uff09 \u2028 \U0001f600' > out.txt",
     "caf\u00e9 \uff04\uff08id\uff09 \u2028 \U0001f600"),
    ("printf '%s' \"$HOSTILE\" > out.txt", "{{ params.lr }} $(HOME) '\"\\ `id` {% x %}"),
]


@pytest.mark.slow
@pytest.mark.parametrize("index", range(len(AIRFLOW_CASES)))
def test_airflow_bash_receives_exactly_the_bytes_written(tmp_path: Path, index: int) -> None:
    command, expected = AIRFLOW_CASES[index]
    spec: dict[str, Any] = {
        "version": 1, "name": f"hostile{index}",
        "env": {"HOSTILE": expected},
        "stages": {"probe": {"run": command}},
        "targets": {"airflow": {"version": 3, "operator": "bash", "workdir": str(tmp_path)}},
    }
    analysis = analyze_spec(spec)
    assert not errors(analysis), [d.format() for d in analysis.diagnostics]
    files = outputs(analysis)
    (dag_path,) = [p for p in files if p.endswith(".py")]
    dag_file = tmp_path / "dags" / Path(dag_path).name
    dag_file.parent.mkdir()
    dag_file.write_text(files[dag_path])
    result = tooling.airflow_test(3, dag_file, f"mlops_hostile{index}")
    assert result["states"] == {"probe": "success"}, result
    assert (tmp_path / "out.txt").read_bytes() == expected.encode()


def test_spec_bytes_round_trip() -> None:
    # the injected text reaches the compiler unchanged, or the property test proves nothing
    for text in ("a\n---\n'\"\\ {{x}} \u2028 \U0001f600 \x1b \x85 \ufeff", *FRAGMENTS):
        analysis = analyze_spec(spec_with("owner", text))
        assert analysis.validated is not None and analysis.validated.spec.owner == text
