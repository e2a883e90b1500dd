"""The DVC target: the files it writes, its lint rules, and the pipeline run for real by
`dvc repro` (DVC pinned in tests/tooling.py, in its own cached virtualenv).

The fast tests run the generated launcher directly with `sh` (what DVC's `cmd` does); the slow
ones hand the files to DVC: its own checks, order, params, env, matrix, gates, retries, timeouts,
the cache (what reruns and what is skipped), hostile text byte for byte, and `mlops run`."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import textwrap
from pathlib import Path
from typing import Any

import pytest
import yaml

from compiler import pipeline
from compiler.analysis import analyze
from compiler.capabilities import FEATURES
from compiler.spec.values import interpolation_parts
from compiler.targets import TARGETS
from compiler.targets.dvc import scripts
from tests import tooling
from tests.conftest import REPO, run_cli
from tests.hostile_support import analyze_spec, errors, spec_with

DIRECTORY = "mlops-dvc/feat"
CMD = re.compile(r"sh [A-Za-z0-9_./-]+/run\.sh [a-z][a-z0-9_-]* [0-9a-f]{16}")

# Every feature a local run has: params (one unused), env reading a param, a matrix, a bare
# `needs`, retries, a gated evaluation, a cached stage, a scheduled stage (left out).
FEATURE_SPEC = """\
version: 1
name: feat
params:
  lr: {default: 0.05, type: number}
  greeting: "hello world"
  unused: 3
env: {GREETING_TEXT: "say ${params.greeting}"}
stages:
  prep:
    run: mkdir -p data && printf '%s' "$MLOPS_PARAM_LR" > data/lr.txt && echo prep >> log.txt
    outputs: [data/]
    cache: true
  sweep:
    run: >-
      mkdir -p runs && printf '%s|%s' "${matrix.seed}" "$GREETING_TEXT" > "runs/${matrix.seed}.txt"
      && echo "sweep ${matrix.seed}" >> log.txt
    inputs: [data/]
    outputs: [runs/]
    matrix: {seed: [1, "two words"]}
  order:
    needs: [sweep]
    run: echo order >> log.txt
  flaky:
    needs: [order]
    run: 'n=$(cat tries 2>/dev/null || echo 0); n=$((n+1)); echo $n > tries; [ $n -ge 2 ]'
    retries: 2
  evaluate:
    type: evaluate
    inputs: [runs/]
    needs: [flaky]
    run: "echo '{\\"auc\\": 0.9}' > metrics.json && echo evaluate >> log.txt"
    metrics: metrics.json
    gate: ["auc >= 0.8"]
  report:
    needs: [evaluate]
    run: echo "report $MLOPS_PIPELINE $MLOPS_STAGE" >> log.txt
  watch:
    type: monitor
    schedule: "@hourly"
    run: echo watch >> log.txt
targets:
  dvc: {}
"""


def build(text: str, spec_path: str = "mlops.yaml") -> dict[str, str]:
    analysis = analyze(textwrap.dedent(text).encode(), spec_path)
    assert analysis.ok(), [d.format() for d in analysis.diagnostics]
    return pipeline.build(analysis, spec_path=spec_path, target="dvc").files


def write(root: Path, files: dict[str, str]) -> None:
    for path, text in files.items():
        (root / path).parent.mkdir(parents=True, exist_ok=True)
        (root / path).write_text(text)


def dvc_yaml(files: dict[str, str], directory: str = DIRECTORY) -> dict[str, Any]:
    data: dict[str, Any] = yaml.safe_load(files[f"{directory}/dvc.yaml"])
    return data


def codes(text: str) -> list[str]:
    analysis = analyze(textwrap.dedent(text).encode(), "mlops.yaml")
    return [d.code for d in analysis.diagnostics]


def run_stage(root: Path, files: dict[str, str], stage: str, directory: str = DIRECTORY,
              **env: str) -> subprocess.CompletedProcess[str]:
    """What DVC does for one stage: its `cmd`, split into words, from the wdir."""
    cmd = dvc_yaml(files, directory)["stages"][stage]["cmd"]
    assert CMD.fullmatch(cmd), cmd
    return subprocess.run(cmd.split(), cwd=root, capture_output=True, text=True, timeout=60,
                          env={"PATH": "/usr/bin:/bin", "HOME": str(root), **env})


# ------------------------------------------------------------------------ the declaration


def test_declared_in_the_registry_and_built_only_when_listed() -> None:
    target = TARGETS["dvc"]
    assert target.default is False
    assert set(target.capabilities) == set(FEATURES)
    assert target.capabilities["approval"].level == "unsupported"
    plain = "version: 1\nname: p\nstages: {a: {run: 'true'}}\n"
    analysis = analyze((plain + "targets: {github: {}}\n").encode(), "mlops.yaml")
    assert analysis.ok()
    assert not any(p.startswith("mlops-dvc/")
                   for p in pipeline.build(analysis, spec_path="mlops.yaml").files)
    files = build(plain + "targets: {dvc: {}}\n")
    assert sorted(files) == ["mlops-dvc/p/.gitignore", "mlops-dvc/p/dvc.yaml",
                             "mlops-dvc/p/run.sh", "mlops-dvc/p/runner.sh",
                             "mlops-dvc/p/stages/a.sh"]


def test_path_setting_moves_the_directory_and_wdir() -> None:
    files = build("version: 1\nname: p\nstages: {a: {run: 'true'}}\n"
                  "targets: {dvc: {path: tools/pipelines}}\n")
    stage = dvc_yaml(files, "tools/pipelines/p")["stages"]["a"]
    assert stage["wdir"] == "../../.."
    assert stage["cmd"].startswith("sh tools/pipelines/p/run.sh a ")
    for bad in ("'a b'", "'$(x)'", "../up", "/abs"):
        found = codes("version: 1\nname: p\nstages: {a: {run: 'true'}}\n"
                      f"targets: {{dvc: {{path: {bad}}}}}\n")
        assert found and all(c.startswith("MLP12") for c in found), (bad, found)


# ---------------------------------------------------------------------------- dvc.yaml


def test_stages_deps_outs_params_and_cache() -> None:
    files = build(FEATURE_SPEC)
    stages = dvc_yaml(files)["stages"]
    assert list(stages) == ["prep", "sweep", "order", "flaky", "evaluate", "report"]  # no watch
    stamp = f"{DIRECTORY}/{scripts.STAMPS_DIR}/"
    params = f"{DIRECTORY}/{scripts.PARAMS_FILE}"
    for name, stage in stages.items():
        assert CMD.fullmatch(stage["cmd"]) and stage["cmd"].split()[2] == name
        assert stage["wdir"] == "../.."
    # A file links prep -> sweep -> evaluate; bare needs get a stamp.
    assert stages["prep"]["outs"] == ["data"] and "always_changed" not in stages["prep"]
    assert stages["sweep"]["deps"] == ["data"]
    assert stages["sweep"]["outs"] == [{"runs": {"cache": False}},
                                       {stamp + "sweep": {"cache": False}}]
    assert stages["order"]["deps"] == [stamp + "sweep"]
    assert stages["evaluate"]["deps"] == ["runs", stamp + "flaky"]
    assert stages["evaluate"]["metrics"] == [{"metrics.json": {"cache": False}}]
    assert stages["report"]["deps"] == [stamp + "evaluate"]
    assert "outs" not in stages["report"]
    assert all(stages[n]["always_changed"] is True for n in stages if n != "prep")
    # Params: what each stage mentions; the top-level env mentions greeting for everyone.
    assert stages["prep"]["params"] == [{params: ["greeting", "lr"]}]
    assert all(stages[n]["params"] == [{params: ["greeting"]}] for n in stages if n != "prep")
    assert files[f"{DIRECTORY}/.gitignore"].splitlines()[-1] == "/stamps/"


def test_no_spec_text_reaches_dvc_interpolation_or_the_shell_of_cmd() -> None:
    spec = FEATURE_SPEC.replace("echo order", "echo '${order}' \"${HOME}\" \\${x}")
    files = build(spec)
    text = files[f"{DIRECTORY}/dvc.yaml"]
    assert "${" not in text
    stage_file = files[f"{DIRECTORY}/stages/order.sh"]
    assert "${order}" in stage_file  # it travels in the stage's file, as a shell word


def test_metrics_inside_an_output_or_input_are_listed_at_the_top() -> None:
    files = build(REPO.joinpath("examples/minimal/mlops.yaml").read_text(),
                  "examples/minimal/mlops.yaml")
    data = dvc_yaml(files, "mlops-dvc/hello")
    assert "metrics" not in data["stages"]["evaluate"]
    assert data["metrics"] == ["../../model/metrics.json"]
    shared = build("""\
        version: 1
        name: feat
        stages:
          a: {run: 'true', metrics: m.json, outputs: [m.json]}
          b: {run: 'true', metrics: m.json, needs: [a]}
        targets: {dvc: {}}
        """)
    data = dvc_yaml(shared)
    assert "metrics" not in data["stages"]["a"] and "metrics" not in data["stages"]["b"]
    assert data["metrics"] == ["../../m.json"]


def test_a_change_to_one_stage_changes_only_its_lines() -> None:
    def bodies(files: dict[str, str]) -> dict[str, list[str]]:
        return {p: [line for line in t.splitlines() if not line.startswith("# spec-sha256: ")]
                for p, t in files.items()}

    before = bodies(build(FEATURE_SPEC))
    after = bodies(build(FEATURE_SPEC.replace("echo order", "echo order twice")))
    changed = {p for p in before if before[p] != after[p]}
    assert changed == {f"{DIRECTORY}/dvc.yaml", f"{DIRECTORY}/stages/order.sh"}
    old, new = before[f"{DIRECTORY}/dvc.yaml"], after[f"{DIRECTORY}/dvc.yaml"]
    lines = [line for a, line in zip(old, new) if a != line]
    assert len(old) == len(new) and len(lines) == 1
    assert lines[0].startswith('    cmd: "sh mlops-dvc/feat/run.sh order ')


def test_params_file_holds_each_value_as_yaml_reads_it() -> None:
    files = build("""\
        version: 1
        name: feat
        params: {a: "it's \\"x\\"", "on": true, n: 2.5, s: "007", u: "caf\\u00e9 \\U0001F600"}
        stages: {x: {run: 'true'}}
        targets: {dvc: {}}
        """)
    values = yaml.safe_load(files[f"{DIRECTORY}/{scripts.PARAMS_FILE}"])
    assert values == {"a": "it's \"x\"", "on": True, "n": 2.5, "s": "007",
                      "u": "caf\u00e9 \U0001f600"}


# ----------------------------------------------------------------------------- the launcher


def test_launcher_runs_every_feature_in_order(tmp_path: Path) -> None:
    files = build(FEATURE_SPEC)
    write(tmp_path, files)
    for stage in ("prep", "sweep", "order", "flaky", "evaluate", "report"):
        result = run_stage(tmp_path, files, stage)
        assert result.returncode == 0, (stage, result.stderr)
    assert (tmp_path / "log.txt").read_text().splitlines() == [
        "prep", "sweep 1", "sweep two words", "order", "evaluate", "report feat report"]
    assert (tmp_path / "data/lr.txt").read_text() == "0.05"
    assert (tmp_path / "runs/two words.txt").read_text() == "two words|say hello world"
    assert (tmp_path / "tries").read_text() == "2\n"  # one retry
    assert sorted(p.name for p in (tmp_path / DIRECTORY / "stamps").iterdir()) == [
        "evaluate", "flaky", "order", "sweep"]


def test_launcher_fails_a_gate_with_its_exit_code(tmp_path: Path) -> None:
    files = build(FEATURE_SPEC.replace('"auc >= 0.8"', '"auc >= 0.95"'))
    write(tmp_path, files)
    result = run_stage(tmp_path, files, "evaluate")
    assert result.returncode == 86, result
    assert "mlops gate: FAIL auc = 0.9, required >= 0.95" in result.stdout
    assert not (tmp_path / DIRECTORY / "stamps/evaluate").exists()


@pytest.mark.parametrize(("line", "value"), [
    ("x: plain text", "plain text"),
    ("x: 'it''s'", "it's"),
    ('x: "tab\\there \\"q\\" \\\\ \\u00e9 \\U0001F600 \\x41"', 'tab\there "q" \\ \u00e9 \U0001f600 A'),
    ('"on": true', "true"),
    ("x: 0.1  ", "0.1"),
])
def test_params_reader_reads_what_build_and_dvc_write(tmp_path: Path, line: str,
                                                      value: str) -> None:
    (tmp_path / "p.yaml").write_text(f"# header\n\n{line}\n")
    out = subprocess.run(["python3", "-c", scripts.PARAMS_READER, tmp_path / "p.yaml"],
                         capture_output=True, text=True, check=True).stdout
    name = "MLOPS_PARAM_" + line.split(":")[0].strip('"').upper()
    shown = subprocess.run(["sh", "-c", f'{out}\nprintf %s "${name}"'], capture_output=True,
                           check=True).stdout
    assert shown == value.encode()


@pytest.mark.parametrize("line", ["x: |", "x: [1, 2]", "x: 'open", "x: \"a\"b\"", "no colon"])
def test_params_reader_refuses_what_it_cannot_read(tmp_path: Path, line: str) -> None:
    (tmp_path / "p.yaml").write_text(f"{line}\n")
    result = subprocess.run(["python3", "-c", scripts.PARAMS_READER, tmp_path / "p.yaml"],
                            capture_output=True, text=True)
    assert result.returncode == 1 and "p.yaml line 1:" in result.stderr and not result.stdout


# -------------------------------------------------------------------------- environments


ENVIRONMENTS = """\
version: 1
name: feat
params: {lr: 0.1}
stages:
  train: {run: 'printf %s "$MLOPS_PARAM_LR $MLOPS_ENVIRONMENT" > out.txt', outputs: [out.txt]}
environments:
  staging: {params: {lr: 0.5}}
  production: {approval: true}
"""


def test_one_environment_is_built() -> None:
    files = build(ENVIRONMENTS + "targets: {dvc: {environment: staging}}\n")
    assert {p.split("/")[1] for p in files} == {"feat-staging"}
    assert "lr: 0.5" in files["mlops-dvc/feat-staging/params.yaml"]
    single = ENVIRONMENTS.replace("  production: {approval: true}\n", "")
    assert {p.split("/")[1] for p in build(single + "targets: {dvc: {}}\n")} == {"feat-staging"}


@pytest.mark.parametrize(("targets", "message"), [
    ("{dvc: {}}", "DVC would build 2 environments (production, staging)"),
    ("{dvc: {environment: production}}", "environment 'production' asks for approval"),
    ("{dvc: {environment: stagin}}", "names 'stagin', which is not an environment"),
])
def test_environment_choice_is_checked(targets: str, message: str) -> None:
    analysis = analyze((ENVIRONMENTS + f"targets: {targets}\n").encode(), "mlops.yaml")
    found = [d for d in analysis.diagnostics if d.code == "MLP407"]
    assert len(found) == 1 and message in found[0].message, [d.format() for d in found]
    assert found[0].line > 1


def test_environments_without_outputs_are_all_built() -> None:
    spec = ENVIRONMENTS.replace(", outputs: [out.txt]", "") + "targets: {dvc: {}}\n"
    assert "MLP407" not in codes(spec.replace("  production: {approval: true}\n",
                                              "  production: {}\n"))
    files = build(spec.replace("  production: {approval: true}\n", "  production: {}\n"))
    assert {p.split("/")[1] for p in files} == {"feat-staging", "feat-production"}
    assert codes(spec) == ["MLP407"]  # production asks for approval


def test_a_secret_is_only_where_it_is_listed(tmp_path: Path) -> None:
    files = build("""\
        version: 1
        name: feat
        secrets: [SHARED]
        stages:
          deploy: {run: 'printf %s "${DEPLOY_KEY-unset} $SHARED" > deploy.txt', secrets: [DEPLOY_KEY]}
          train: {run: 'printf %s "${DEPLOY_KEY-unset} $SHARED" > train.txt'}
        targets: {dvc: {}}
        """)
    write(tmp_path, files)
    for stage in ("deploy", "train"):
        assert run_stage(tmp_path, files, stage, DEPLOY_KEY="k", SHARED="s").returncode == 0
    assert (tmp_path / "deploy.txt").read_text() == "k s"
    assert (tmp_path / "train.txt").read_text() == "unset s"


def test_environment_setting_without_environments() -> None:
    assert codes("version: 1\nname: p\nstages: {a: {run: 'true'}}\n"
                 "targets: {dvc: {environment: staging}}\n") == ["MLP407"]


# ---------------------------------------------------------------------------- lint rules


def test_interpolation_in_paths_is_refused_where_dvc_reads_them() -> None:
    spec = """\
        version: 1
        name: p
        stages:
          a: {run: 'true', outputs: ["out/${x}/"], metrics: "m${y}.json"}
          b: {run: 'true', inputs: ["out/${x}/"]}
          w: {run: 'true', schedule: "@daily", outputs: ["w${z}"]}
        targets: {dvc: {}, github: {}}
        """
    assert codes(spec).count("MLP408") == 3  # a's output and metrics, b's input; not w
    assert "MLP408" not in codes(spec.replace("{dvc: {}, github: {}}", "{github: {}}"))
    assert "MLP408" not in codes(spec.replace("${", "$"))


def test_outputs_dvc_refuses_are_reported() -> None:
    spec = """\
        version: 1
        name: p
        stages:
          a: {run: 'true', outputs: [data/]}
          b: {run: 'true', needs: [a], outputs: [data/b.txt]}
          c: {run: 'true', inputs: [c/in.txt], outputs: [c/]}
        targets: {dvc: {}}
        """
    found = [d for d in analyze(textwrap.dedent(spec).encode(), "m.yaml").diagnostics
             if d.code == "MLP409"]
    # b's output inside a's is every target's error (MLP207); c's is DVC's alone
    assert [d.line for d in found] == [6], [d.format() for d in found]
    assert "overlaps its own output 'c/'" in found[0].message


def test_features_dvc_drops_warn_only_when_no_other_target_carries_them() -> None:
    spec = """\
        version: 1
        name: p
        defaults: {image: "ghcr.io/acme/x:1.0"}
        triggers: {schedule: "@daily"}
        stages:
          a: {run: 'true', resources: {gpu: 1}}
          w: {type: monitor, run: 'true', schedule: "@hourly"}
        targets: {dvc: {}}
        """
    messages = [d.message for d in analyze(textwrap.dedent(spec).encode(), "m.yaml").diagnostics
                if d.code == "MLP401"]
    assert [m.split("'")[1] for m in messages] == ["image", "schedule", "gpu", "stage schedule"]
    with_github = spec.replace("{dvc: {}}", "{dvc: {}, github: {gpu_runs_on: [gpu]}}")
    assert "MLP401" not in codes(with_github)


# ----------------------------------------------------------------------------- `mlops run`


def test_run_without_dvc_is_an_environment_error(tmp_path: Path,
                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "mlops.yaml").write_text(textwrap.dedent(FEATURE_SPEC))
    monkeypatch.setenv("PATH", str(tmp_path / "nothing-here"))
    result = run_cli("run", tmp_path / "mlops.yaml")
    assert result.code == 2
    assert "pip install 'dvc>=3,<4'" in result.err
    assert not (tmp_path / "mlops-dvc").exists()


# ------------------------------------------------------------------ hostile text, by sh


FRAGMENTS = ["'", '"', "\\", "\n", "\r\n", "\t", "{{ x }}", "{% if %}", "$(id)", "`id`",
             "${HOME}", "${x}", "\\${y}", "$HOME", "$$", "---", "# c", ": ", "- ", "&a", "*a",
             "!!python/object", "%", "\u2018", "\uff04\uff08id\uff09", "\u00a0", "\u2028",
             "\u0085", "\ufeff", "\x01", "\x1b[31m", "\x7f", "\U0001f600", "'''", '"""',
             "\\x00", "\\n", "; rm -rf /", "&& echo", "~", "null", "true", "0x1", "1e3",
             "[a]", "{a: b}", "\\u00e9", "\\U0001F600", "'' x ''"]
PAYLOADS = ["".join(FRAGMENTS[:17]), "".join(FRAGMENTS[17:34]), "".join(FRAGMENTS[34:]),
            "".join(FRAGMENTS)]
PROBES = {"env": "top.out", "defaults.env": "def.out", "stage.env": "stage.out",
          "param.default": "lr.out", "matrix": "seed.out"}


def hostile_files(field: str, text: str) -> dict[str, str] | None:
    spec = spec_with(field, text)
    spec["targets"] = {"dvc": {}}
    analysis = analyze_spec(spec)
    if errors(analysis):
        return None
    return pipeline.build(analysis, spec_path="mlops.yaml").files


def expected_probes(field: str, text: str) -> dict[str, bytes]:
    expected = dict.fromkeys(PROBES.values(), b"benign")
    if field in PROBES:  # env values read `$${` as a literal `${`; param and matrix values don't
        value = "".join(interpolation_parts(text)) if field.endswith("env") else text  # type: ignore[arg-type]
        expected[PROBES[field]] = value.encode()
    return expected


@pytest.mark.parametrize("field", sorted(PROBES))
@pytest.mark.parametrize("payload", range(len(PAYLOADS)))
def test_hostile_values_reach_the_command_byte_for_byte(tmp_path: Path, field: str,
                                                        payload: int) -> None:
    text = PAYLOADS[payload]
    files = hostile_files(field, text)
    assert files is not None, "lint refused a payload the DVC target can carry"
    assert "${" not in files["mlops-dvc/hostile/dvc.yaml"]
    write(tmp_path, files)
    for stage in ("prep", "train"):
        result = run_stage(tmp_path, files, stage, "mlops-dvc/hostile")
        assert result.returncode == 0, (stage, result.stderr[-3000:])
    for name, value in expected_probes(field, text).items():
        assert (tmp_path / name).read_bytes() == value, name


@pytest.mark.parametrize("payload", range(len(PAYLOADS)))
def test_hostile_command_is_carried_as_written(tmp_path: Path, payload: int) -> None:
    text = PAYLOADS[payload]
    files = hostile_files("run", text)
    assert files is not None
    write(tmp_path, files)
    shown = subprocess.run(
        ["sh", "-c", '. "$1"; mlops_env; printf %s "$MLOPS_RUN"', "sh",
         tmp_path / "mlops-dvc/hostile/stages/prep.sh"], capture_output=True, check=True).stdout
    assert shown == text.encode()


@pytest.mark.parametrize("text", ["data dir/", "d:a#t@a é/", "a'b\"c$(id)`x`/", "{{x}}/"])
def test_hostile_paths_are_declared_as_written(text: str) -> None:
    files = hostile_files("paths", text)
    assert files is not None
    stages = yaml.safe_load(files["mlops-dvc/hostile/dvc.yaml"])["stages"]
    assert stages["prep"]["outs"] == [{text.rstrip("/"): {"cache": False}}]
    assert stages["train"]["deps"] == [text.rstrip("/")]
    assert hostile_files("paths", "data/${x}/") is None  # MLP408: DVC would interpolate it


# ======================================================================= real DVC (slow)


def repository(tmp_path: Path, spec: str) -> Path:
    root = tooling.dvc_repository(tmp_path / "repo")
    (root / "mlops.yaml").write_text(textwrap.dedent(spec))
    assert run_cli("build", root / "mlops.yaml", "--quiet").code == 0
    return root


def repro(root: Path, *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
    return tooling.dvc(root, "repro", f"{DIRECTORY}/dvc.yaml", *args, check=check)


def ran(proc: subprocess.CompletedProcess[str]) -> list[str]:
    """The stages DVC ran, in order (it prints "Running stage '<file>:<stage>':")."""
    return re.findall(r"Running stage '[^']*:([a-z0-9_-]+)'", proc.stdout)


def skipped(proc: subprocess.CompletedProcess[str]) -> list[str]:
    """The stages DVC skipped: unchanged, or restored from its cache ("is cached")."""
    return re.findall(r"Stage '[^']*:([a-z0-9_-]+)' (?:didn't change, skipping|is cached)",
                      proc.stdout)


@pytest.mark.slow
def test_goldens_pass_dvc_checks(tmp_path: Path) -> None:
    goldens = sorted((REPO / "tests/golden").glob("*/mlops-dvc/*/dvc.yaml"))
    assert len(goldens) >= 2  # minimal and sweep
    for index, golden in enumerate(goldens):
        root = tooling.dvc_repository(tmp_path / f"repo{index}")
        shutil.copytree(golden.parent.parent.parent, root, dirs_exist_ok=True)
        relative = golden.relative_to(golden.parent.parent.parent).as_posix()
        listed = tooling.dvc_check(root, relative)
        names = list(yaml.safe_load(golden.read_text())["stages"])
        assert [line.split()[0].split(":")[-1] for line in listed.splitlines()] == names


@pytest.mark.slow
def test_dvc_rejects_what_the_check_must_catch(tmp_path: Path) -> None:
    """The check helper is strict: a misspelled key fails with its line and column."""
    root = tooling.dvc_repository(tmp_path / "repo")
    (root / "bad").mkdir()
    (root / "bad/dvc.yaml").write_text("stages:\n  a:\n    cmd: 'true'\n    out: [x]\n")
    with pytest.raises(AssertionError, match=r"(?s)extra keys not allowed, in stages -> a -> out, line 4"):
        tooling.dvc_check(root, "bad/dvc.yaml")


@pytest.mark.slow
def test_repro_runs_the_pipeline_as_the_spec_says(tmp_path: Path) -> None:
    root = repository(tmp_path, FEATURE_SPEC)
    first = repro(root)
    assert ran(first) == ["prep", "sweep", "order", "flaky", "evaluate", "report"]
    assert (root / "log.txt").read_text().splitlines() == [
        "prep", "sweep 1", "sweep two words", "order", "evaluate", "report feat report"]
    assert (root / "data/lr.txt").read_text() == "0.05"
    assert (root / "runs/two words.txt").read_text() == "two words|say hello world"
    assert "mlops: attempt 1 failed with exit 1; retrying in 0s" in first.stderr + first.stdout
    assert "mlops gate: pass auc = 0.9 >= 0.8" in first.stdout
    metrics = json.loads(tooling.dvc(root, "metrics", "show", "--json").stdout)
    assert metrics[""]["data"]["metrics.json"]["data"] == {"auc": 0.9}
    # The lock file is DVC's: the compiler neither claims nor touches it.
    lock = root / DIRECTORY / "dvc.lock"
    before = lock.read_bytes()
    assert run_cli("build", root / "mlops.yaml", "--check").code == 0
    assert run_cli("build", root / "mlops.yaml").code == 0 and lock.read_bytes() == before


@pytest.mark.slow
def test_a_failed_gate_stops_the_run(tmp_path: Path) -> None:
    root = repository(tmp_path, FEATURE_SPEC.replace('"auc >= 0.8"', '"auc >= 0.95"'))
    result = repro(root, check=False)
    assert result.returncode != 0
    assert ran(result)[-1] == "evaluate" and "report" not in ran(result)
    assert "exited with 86" in result.stderr
    assert "report" not in (root / "log.txt").read_text()


@pytest.mark.slow
def test_a_timeout_bounds_each_attempt(tmp_path: Path) -> None:
    root = repository(tmp_path, """\
        version: 1
        name: feat
        stages:
          slow: {run: 'echo try >> tries; sleep 30', timeout: 1s, retries: 1}
          after: {needs: [slow], run: 'echo after > after.txt'}
        targets: {dvc: {}}
        """)
    result = repro(root, check=False)
    assert result.returncode != 0 and "exited with 124" in result.stderr
    assert (root / "tries").read_text() == "try\ntry\n"
    assert ran(result) == ["slow"] and not (root / "after.txt").exists()


CACHE_SPEC = """\
version: 1
name: feat
params: {p: 1, q: 1}
stages:
  fixed:
    run: mkdir -p out && echo fixed > out/fixed.txt && echo fixed >> log.txt
    outputs: [out/fixed.txt]
    cache: true
  uses-p:
    run: mkdir -p out && echo "p=${params.p}" > out/p.txt && echo uses-p >> log.txt
    outputs: [out/p.txt]
    cache: true
  uses-q:
    run: echo "q=$MLOPS_PARAM_Q" > q.txt && echo uses-q >> log.txt
    outputs: [q.txt]
    cache: true
  after-p:
    inputs: [out/p.txt]
    run: cat out/p.txt > after.txt && echo after-p >> log.txt
    outputs: [after.txt]
    cache: true
  always:
    needs: [fixed]
    run: echo always >> log.txt
targets:
  dvc: {}
"""


@pytest.mark.slow
def test_cache_skips_unchanged_cached_stages_and_reruns_the_rest(tmp_path: Path) -> None:
    root = repository(tmp_path, CACHE_SPEC)
    assert sorted(ran(repro(root))) == ["after-p", "always", "fixed", "uses-p", "uses-q"]
    subprocess.run(["git", "add", "-A"], cwd=root, check=True)
    subprocess.run(["git", "-c", "user.name=t", "-c", "user.email=t@example.invalid", "commit",
                    "-qm", "first run"], cwd=root, check=True)
    second = repro(root)
    assert ran(second) == ["always"]
    assert sorted(skipped(second)) == ["after-p", "fixed", "uses-p", "uses-q"]
    # A param change reruns exactly the cached stages that depend on it (and what reads
    # their changed outputs); `dvc params diff` shows it.
    (root / "mlops.yaml").write_text(textwrap.dedent(CACHE_SPEC).replace("p: 1,", "p: 2,"))
    assert run_cli("build", root / "mlops.yaml", "--quiet").code == 0
    diff = json.loads(tooling.dvc(root, "params", "diff", "--json").stdout)
    assert list(diff) == [f"{DIRECTORY}/params.yaml"] and list(diff[list(diff)[0]]) == ["p"]
    assert diff[f"{DIRECTORY}/params.yaml"]["p"]["old"] == 1
    assert diff[f"{DIRECTORY}/params.yaml"]["p"]["new"] == 2
    third = repro(root)
    assert sorted(ran(third)) == ["after-p", "always", "uses-p"]
    assert ran(third).index("uses-p") < ran(third).index("after-p")
    assert (root / "after.txt").read_text() == "p=2\n"
    # A changed command reruns its stage; a deleted output of a skipped stage comes back from
    # DVC's cache.
    (root / "mlops.yaml").write_text(textwrap.dedent(CACHE_SPEC).replace(
        "echo fixed > out/fixed.txt", "echo fixed2 > out/fixed.txt"))
    assert run_cli("build", root / "mlops.yaml", "--quiet").code == 0
    (root / "q.txt").unlink()
    fourth = repro(root)
    assert ran(fourth) == ["fixed", "always"]
    assert sorted(skipped(fourth)) == ["after-p", "uses-p", "uses-q"]
    assert (root / "q.txt").read_text() == "q=1\n"


@pytest.mark.slow
def test_hostile_values_reach_dvc_stages_byte_for_byte(tmp_path: Path) -> None:
    text = PAYLOADS[-1]
    spec = spec_with("env", text)
    spec["params"]["lr"]["default"] = text
    spec["params"]["lr"]["enum"] = [text, "other"]
    spec["stages"]["train"]["matrix"]["seed"][1] = text
    spec["stages"]["prep"]["env"]["STAGE"] = text
    spec["stages"]["prep"]["outputs"] = ["d:a#t@a é/"]
    spec["stages"]["prep"]["run"] += "; mkdir -p 'd:a#t@a é'"  # DVC checks outputs exist
    spec["stages"]["train"]["inputs"] = ["d:a#t@a é/"]
    spec["stages"]["train"]["run"] += "; mkdir -p model"
    spec["targets"] = {"dvc": {}}
    analysis = analyze_spec(spec)
    assert not errors(analysis), [d.format() for d in errors(analysis)]
    root = tooling.dvc_repository(tmp_path / "repo")
    write(root, pipeline.build(analysis, spec_path="mlops.yaml").files)
    result = tooling.dvc(root, "repro", "mlops-dvc/hostile/dvc.yaml")
    assert ran(result) == ["prep", "train", "deploy"]
    env_text = "".join(interpolation_parts(text))  # type: ignore[arg-type]
    assert (root / "top.out").read_bytes() == env_text.encode()
    assert (root / "stage.out").read_bytes() == env_text.encode()
    assert (root / "lr.out").read_bytes() == text.encode()
    assert (root / "seed.out").read_bytes() == text.encode()
    params = tooling.dvc(root, "params", "diff", "--all", "--json").stdout
    assert json.loads(params)["mlops-dvc/hostile/params.yaml"]["lr"]["new"] == text


def mlops_env(tmp_path: Path) -> dict[str, str]:
    """A shell's environment with `dvc` and `mlops` installed (and nothing else of ours)."""
    mlops = tooling.find_tool("mlops").parent
    return tooling.dvc_env(PATH=f"{tooling.dvc_bin().parent}:{mlops}:/usr/bin:/bin",
                           DVC_SITE_CACHE_DIR=str(tmp_path / "site-cache"))


@pytest.mark.slow
def test_mlops_run_builds_and_runs_with_dvc_repro(tmp_path: Path) -> None:
    root = tooling.dvc_repository(tmp_path / "repo")
    (root / "mlops.yaml").write_text(ENVIRONMENTS + "targets: {dvc: {environment: staging}}\n")

    def mlops_run(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(["mlops", "run", *args], cwd=root, capture_output=True,
                              text=True, timeout=300, env=mlops_env(tmp_path))

    result = mlops_run()
    assert result.returncode == 0, result.stderr
    assert (root / "out.txt").read_text() == "0.5 staging"
    assert (root / "mlops-dvc/feat-staging/dvc.lock").is_file()
    wrong = mlops_run("--env", "production")
    assert wrong.returncode == 2 and "DVC builds another environment" in wrong.stderr
    forced = mlops_run("--", "--force", "--quiet")
    assert forced.returncode == 0, forced.stderr
    assert "mlops: dvc repro mlops-dvc/feat-staging/dvc.yaml --force --quiet" in forced.stderr
    (root / "mlops.yaml").write_text(ENVIRONMENTS.replace("run: '", "run: 'exit 3; ")
                                     + "targets: {dvc: {environment: staging}}\n")
    failed = mlops_run()
    assert failed.returncode == 1 and "dvc repro failed" in failed.stderr
