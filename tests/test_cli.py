"""The `mlops` command line: exit codes, formats, and no traceback for any input."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import EXAMPLES, REPO, run_cli

BAD = "version: 1\nname: x\nstages:\n  a: {run: echo, retires: 2}\n"


def test_version_and_help() -> None:
    from compiler import __version__

    with pytest.raises(SystemExit) as exit_info:
        run_cli("--version")
    assert exit_info.value.code == 0
    for command in ("lint", "build", "graph", "init", "schema", "targets", "explain", "diff",
                    "history"):
        with pytest.raises(SystemExit) as exit_info:
            run_cli(command, "--help")
        assert exit_info.value.code == 0
    assert __version__


def test_no_command_prints_help_and_exits_2() -> None:
    assert run_cli().code == 2


def test_bad_flag_exits_2() -> None:
    with pytest.raises(SystemExit) as exit_info:
        run_cli("lint", "--no-such-flag")
    assert exit_info.value.code == 2


@pytest.mark.parametrize("spec", EXAMPLES, ids=[p.parent.name for p in EXAMPLES])
def test_examples_lint_clean(spec: Path) -> None:
    result = run_cli("lint", "--strict", spec)
    assert (result.code, result.out) == (0, "")


def test_lint_reports_position_and_exit_1(in_tmp: Path) -> None:
    (in_tmp / "mlops.yaml").write_text(BAD)
    result = run_cli("lint")
    assert result.code == 1
    assert "mlops.yaml:4:18: error MLP120 unknown key 'retires'" in result.out
    assert "did you mean 'retries'?" in result.out


def test_missing_file_exits_2(in_tmp: Path) -> None:
    result = run_cli("lint")
    assert result.code == 2 and "no mlops.yaml" in result.err


@pytest.mark.parametrize("fmt", ["json", "github", "sarif"])
def test_lint_formats(in_tmp: Path, fmt: str) -> None:
    (in_tmp / "mlops.yaml").write_text(BAD)
    result = run_cli("lint", "--format", fmt)
    assert result.code == 1
    if fmt == "json":
        assert json.loads(result.out)[0]["code"] == "MLP120"
    elif fmt == "github":
        assert result.out.startswith("::error file=mlops.yaml,line=4,col=18,title=MLP120::")
    else:
        log = json.loads(result.out)
        assert log["version"] == "2.1.0"
        run = log["runs"][0]
        assert run["results"][0]["ruleId"] == "MLP120"
        assert {r["id"] for r in run["tool"]["driver"]["rules"]} >= {"MLP120", "MLP301"}


def test_strict_fails_on_warnings(in_tmp: Path) -> None:
    (in_tmp / "mlops.yaml").write_text(
        "version: 1\nname: x\nstages:\n  a: {run: echo, image: 'python:latest'}\n")
    assert run_cli("lint").code == 0
    assert run_cli("lint", "--strict").code == 1


def test_init_writes_a_spec_that_lints_clean(in_tmp: Path) -> None:
    assert run_cli("init", "proj").code == 0
    assert run_cli("lint", "--strict", "proj/mlops.yaml").code == 0
    assert run_cli("init", "proj").code == 2  # never overwrites


def test_explain_every_rule() -> None:
    from compiler.lint import RULES

    for code in RULES:
        result = run_cli("explain", code)
        assert result.code == 0 and result.out.startswith(code)
    assert run_cli("explain", "MLP999").code == 2


@pytest.mark.parametrize("fmt", ["text", "mermaid", "dot", "json"])
def test_graph_formats(fmt: str) -> None:
    result = run_cli("graph", REPO / "examples/churn/mlops.yaml", "--format", fmt)
    assert result.code == 0
    if fmt == "json":
        stages = {s["name"]: s["needs"] for s in json.loads(result.out)["stages"]}
        assert stages["evaluate"] == ["featurize", "train"]
    else:
        assert "featurize" in result.out


def test_targets_table() -> None:
    result = run_cli("targets")
    assert result.code == 0 and "retries" in result.out and "emulated" in result.out


@pytest.mark.parametrize("payload", [
    b"\xff\xfe\x00garbage", b"version: 1\nname: [\n", b"- a\n- b\n", b"", b"{{{{",
    b"version: 1\nname: x\nstages: {a: {run: x, needs: [b]}, b: {run: y, needs: [a]}}\n",
])
def test_no_traceback_in_a_real_process(tmp_path: Path, payload: bytes) -> None:
    spec = tmp_path / "mlops.yaml"
    spec.write_bytes(payload)
    for command in (["lint", str(spec)], ["build", str(spec)], ["graph", str(spec)]):
        proc = subprocess.run([sys.executable, "-m", "compiler", *command], capture_output=True,
                              text=True, cwd=tmp_path)
        assert proc.returncode == 1, proc.stderr
        assert "Traceback" not in proc.stdout + proc.stderr


def test_lint_imports_no_render_or_git_modules(tmp_path: Path) -> None:
    code = ("import sys; from compiler.cli import main; rc = main(['lint', %r]); "
            "print(rc, sorted(m for m in ('jinja2', 'git', 'compiler.render') if m in sys.modules))"
            % str(REPO / "examples/churn/mlops.yaml"))
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert proc.stdout.strip() == "0 []", proc.stderr


def test_a_clean_lint_says_so_and_a_dirty_one_counts(tmp_path: Path) -> None:
    clean = run_cli("lint", REPO / "examples/minimal/mlops.yaml")
    assert clean.code == 0 and clean.out == ""
    assert clean.err == "mlops: 1 spec checked: no problems found\n"
    spec = tmp_path / "mlops.yaml"
    spec.write_text((REPO / "examples/minimal/mlops.yaml").read_text()
                    .replace("outputs: [model/]", "outputs: [model/]\n    retires: 3"))
    dirty = run_cli("lint", spec, REPO / "examples/minimal/mlops.yaml")
    assert dirty.code == 1 and "MLP120" in dirty.out and dirty.out.endswith("1 error, 0 warnings\n")
    assert dirty.err == ""
    # machine formats stay exactly the findings
    assert run_cli("lint", "--format", "json", REPO / "examples/minimal/mlops.yaml").err == ""


def test_the_command_writes_all_its_output_before_it_leaves(tmp_path: Path) -> None:
    # `python -m compiler` ends without the interpreter's teardown (cli.entry_point): what
    # `main` printed is flushed first, and the files are complete.
    spec = REPO / "examples/churn/mlops.yaml"
    for command in (["explain", "MLP410"], ["graph", str(spec), "--format", "dot"]):
        proc = subprocess.run([sys.executable, "-m", "compiler", *command], capture_output=True,
                              text=True)
        inline = run_cli(*command)
        assert (proc.returncode, proc.stdout, proc.stderr) == (inline.code, inline.out, inline.err)
    proc = subprocess.run([sys.executable, "-m", "compiler", "build", str(spec), "--out",
                           str(tmp_path / "out")], capture_output=True, text=True)
    assert proc.returncode == 0 and proc.stdout.count("wrote ") == 22, proc.stderr
    assert run_cli("build", spec, "--out", tmp_path / "out", "--check").code == 0


@pytest.mark.skipif(not Path("/dev/full").exists(), reason="needs Linux's /dev/full")
@pytest.mark.parametrize("command", [["explain", "MLP410"],  # small: fails when flushed at exit
                                     ["schema"]])            # large: fails while printing
def test_output_that_cannot_be_written_is_an_environment_error(command: list[str]) -> None:
    with open("/dev/full", "w") as full:
        proc = subprocess.run([sys.executable, "-m", "compiler", *command], stdout=full,
                              stderr=subprocess.PIPE, text=True)
    assert proc.returncode == 2, proc.stderr
    assert "No space left on device" in proc.stderr and "Traceback" not in proc.stderr
