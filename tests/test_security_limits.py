"""Limits on hostile input, and credentials never echoed (docs/SECURITY.md).

Limits: file size (MLP109), nesting depth (MLP110), alias expansion (MLP105), the number of
stages (MLP115, 50,000) and the length of one string (MLP116, 1 MiB).
"""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

import pytest

from compiler.analysis import analyze
from compiler.source import ALIAS_BUDGET, DEFAULT_MAX_SIZE, MAX_DEPTH

CREDENTIALS = ("AKIAIOSFODNN7EXAMPLE", "ghp_A1b2C3d4E5f6G7h8I9j0K1l2M3n4O5p6Q7r8")
GITHUB_TOKEN = CREDENTIALS[1]

BASE = """\
version: 1
name: x
defaults: {image: "ghcr.io/acme/x:1.0"}
stages:
  train:
    run: echo hi
"""


def _codes(text: str | bytes) -> list[str]:
    raw = text.encode() if isinstance(text, str) else text
    return [d.code for d in analyze(raw, "mlops.yaml").diagnostics if d.severity.name == "ERROR"]


# ------------------------------------------------------------------------------- limits


def test_the_limits_are_the_documented_ones() -> None:
    docs = (Path(__file__).resolve().parent.parent / "docs" / "SECURITY.md").read_text()
    assert DEFAULT_MAX_SIZE == 10 * 1024 * 1024 and "10 MiB" in docs
    assert MAX_DEPTH == 64 and "64" in docs
    assert ALIAS_BUDGET == 10_000 and "10,000" in docs


def test_a_file_over_the_size_limit_is_refused_before_parsing() -> None:
    raw = BASE.encode() + b"#" * DEFAULT_MAX_SIZE
    started = time.monotonic()
    assert _codes(raw) == ["MLP109"]
    assert time.monotonic() - started < 5


def test_deep_nesting_is_refused() -> None:
    assert "MLP110" in _codes(BASE + "env: {A: " + "[" * 200 + "]" * 200 + "}\n")


def test_an_alias_bomb_is_refused() -> None:
    lines = ["a0: &a0 [x, x, x, x, x, x, x, x, x, x]"]
    lines += [f"a{i}: &a{i} [" + ", ".join([f"*a{i - 1}"] * 10) + "]" for i in range(1, 9)]
    assert "MLP105" in _codes("\n".join(lines) + "\n" + BASE)


def _stages(count: int) -> str:
    return BASE.replace("  train:\n    run: echo hi\n", "".join(
        f"  s{i}:\n    run: echo {i}\n" for i in range(count)))


def test_ten_thousand_stages_lint_clean() -> None:
    # in a child process: a fresh interpreter measures the whole front end, caches cold.
    # Airflow holds 10,000 tasks; GitHub's workflow size limit is reported (tests/test_limits).
    code = ("import sys; from compiler.analysis import analyze; "
            "a = analyze(sys.stdin.buffer.read(), 'mlops.yaml'); "
            "errors = [d.format() for d in a.diagnostics if d.severity.name == 'ERROR']; "
            "print(errors[:3], file=sys.stderr); sys.exit(1 if errors else 0)")
    spec = _stages(10_000) + "targets: {airflow: {}}\n"
    proc = subprocess.run([sys.executable, "-c", code], input=spec.encode(),
                          capture_output=True, timeout=300)
    assert proc.returncode == 0, proc.stderr.decode()[-2000:]


def test_more_than_fifty_thousand_stages_are_refused_with_a_clear_error() -> None:
    diagnostics = analyze(_stages(50_001).encode(), "mlops.yaml").diagnostics
    (error,) = [d for d in diagnostics if d.severity.name == "ERROR"]
    assert "50,000" in error.message and error.line >= 1


def test_a_string_over_one_mebibyte_is_refused_with_a_clear_error() -> None:
    text = BASE.replace("echo hi", "echo " + "x" * (1024 * 1024))
    diagnostics = analyze(text.encode(), "mlops.yaml").diagnostics
    (error,) = [d for d in diagnostics if d.severity.name == "ERROR"]
    assert "1 MiB" in error.message or "1,048,576" in error.message
    assert (error.line, error.column) == (6, 10)


# ------------------------------------------------------------ credentials never echoed

# Specs whose diagnostics used to quote a credential (found by this issue; some fire before
# lint, so MLP308 alone could not help). `diagnostics.finalize` now redacts.
LEAKY = {
    "gate": BASE + f"    metrics: m.json\n    gate: ['{GITHUB_TOKEN} >= 1', 'auc >= {CREDENTIALS[0]}']\n",
    "unknown key": BASE + f"    {GITHUB_TOKEN}: 1\n",
    "unknown top-level key": BASE + f"{CREDENTIALS[0]}: 1\n",
    "needs": BASE + f"    needs: [{GITHUB_TOKEN}]\n",
    "version": BASE.replace("version: 1", f"version: {GITHUB_TOKEN}"),
    "cron": BASE + f"    schedule: '{GITHUB_TOKEN}'\n",
    "duration": BASE + f"    timeout: {GITHUB_TOKEN}\n",
    "stage type": BASE + f"    type: {GITHUB_TOKEN}\n",
    "param reference": BASE.replace("echo hi", "echo ${params." + GITHUB_TOKEN + "}"),
    "matrix reference": BASE.replace("echo hi", "echo ${matrix." + GITHUB_TOKEN.lower() + "}"),
    "env name": BASE + f"    env: {{'{GITHUB_TOKEN}-x': v}}\n",
    "secret name": BASE + f"    secrets: ['{GITHUB_TOKEN}-x']\n",
    "quantity": BASE + f"    resources: {{cpu: '{GITHUB_TOKEN}'}}\n",
    "path": BASE + f"    outputs: ['/{GITHUB_TOKEN}']\n",
    "pipeline name": BASE.replace("name: x", f"name: {GITHUB_TOKEN}"),
    "image": BASE.replace("ghcr.io/acme/x:1.0", f"ghcr.io/acme/x:{GITHUB_TOKEN}"),
    "password assignment": BASE.replace("echo hi", "run.sh --password=hunter2hunter2"),
    "private key": BASE + "    env: {K: \"-----BEGIN RSA PRIVATE KEY-----\\nMIIE\"}\n",
}


@pytest.mark.parametrize("case", sorted(LEAKY))
def test_no_diagnostic_echoes_a_credential(case: str) -> None:
    diagnostics = analyze(LEAKY[case].encode(), "mlops.yaml").diagnostics
    assert diagnostics, case
    printed = "\n".join(d.format() for d in diagnostics)
    for secret in (*CREDENTIALS, GITHUB_TOKEN.lower(), "hunter2hunter2", "BEGIN RSA PRIVATE"):
        assert secret not in printed, printed


@pytest.mark.parametrize("fmt", ["text", "json", "github", "sarif"])
def test_the_lint_command_never_prints_a_credential(tmp_path: Path, fmt: str) -> None:
    spec = tmp_path / "mlops.yaml"
    spec.write_text(LEAKY["unknown key"] + f"    env: {{TOKEN: {GITHUB_TOKEN}}}\n")
    proc = subprocess.run([sys.executable, "-m", "compiler", "lint", "--format", fmt, str(spec)],
                          capture_output=True, text=True, timeout=60)
    assert proc.returncode == 1, proc
    assert GITHUB_TOKEN not in proc.stdout + proc.stderr


def test_mlops_diff_never_prints_a_credential(tmp_path: Path) -> None:
    def git(*args: str) -> None:
        subprocess.run(["git", *args], cwd=tmp_path, check=True, capture_output=True)

    git("init", "-q")
    git("config", "user.email", "t@example.com")
    git("config", "user.name", "t")
    spec = tmp_path / "mlops.yaml"
    spec.write_text(BASE)
    git("add", "mlops.yaml")
    git("commit", "-qm", "one")
    # a credential that lint refuses, but that a diff of the working tree still reads
    spec.write_text(BASE + f"    env: {{KEY: {CREDENTIALS[0]}}}\n")
    for fmt in ("text", "json", "markdown"):
        proc = subprocess.run([sys.executable, "-m", "compiler", "diff", "--format", fmt],
                              cwd=tmp_path, capture_output=True, text=True, timeout=60)
        assert CREDENTIALS[0] not in proc.stdout + proc.stderr, (fmt, proc.stdout)


@pytest.mark.slow
def test_atheris_fuzzing_finds_no_crash(tmp_path: Path) -> None:
    """A short coverage-guided run (fuzz/fuzz_analyze.py), seeded with the bad-spec corpus."""
    repo = Path(__file__).resolve().parent.parent
    proc = subprocess.run([sys.executable, str(repo / "fuzz" / "fuzz_analyze.py"), "-runs=3000",
                           "-seed=1", f"-artifact_prefix={tmp_path}/", str(tmp_path),
                           str(repo / "tests" / "lint")],
                          capture_output=True, text=True, timeout=600, cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr[-4000:]
