"""The bad-input corpus: each `tests/lint/<case>.yaml` beside the diagnostics it must produce.

`<case>.out` holds the diagnostics exactly as `mlops lint` prints them (hints included), the
file named as `tests/lint/<case>.yaml`. Add a case by adding a .yaml file, then write its .out
with `MLOPS_UPDATE_GOLDEN=1 python3 -m pytest tests/test_corpus.py` and review the diff.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from compiler.analysis import analyze
from compiler.diagnostics import Severity
from compiler.source import DEFAULT_MAX_SIZE

REPO = Path(__file__).resolve().parent.parent
LINT_DIR = REPO / "tests" / "lint"
CASES = sorted(p.stem for p in LINT_DIR.glob("*.yaml"))
UPDATE = os.environ.get("MLOPS_UPDATE_GOLDEN") == "1"


def _display(case: str) -> str:
    return f"tests/lint/{case}.yaml"


def _report(case: str) -> str:
    raw = (LINT_DIR / f"{case}.yaml").read_bytes()
    analysis = analyze(raw, _display(case))
    return "".join(d.format() + "\n" for d in analysis.diagnostics)


def test_corpus_is_large_enough() -> None:
    assert len(CASES) >= 45


@pytest.mark.parametrize("case", CASES)
def test_case(case: str) -> None:
    actual = _report(case)
    expected_path = LINT_DIR / f"{case}.out"
    if UPDATE:
        expected_path.write_text(actual, encoding="utf-8")
    assert actual, f"{case}.yaml is in the corpus of bad specs but produces no diagnostic"
    assert expected_path.exists(), f"no {case}.out: write it with MLOPS_UPDATE_GOLDEN=1"
    assert actual == expected_path.read_text(encoding="utf-8")


def test_every_out_file_has_its_case() -> None:
    orphans = sorted(p.name for p in LINT_DIR.glob("*.out") if p.stem not in CASES)
    assert not orphans


def test_file_over_the_size_limit() -> None:
    """10 MiB and one byte: generated here rather than committed."""
    raw = b"version: 1\nname: big\n" + b"#" * (DEFAULT_MAX_SIZE - 21) + b"\n"
    assert len(raw) == DEFAULT_MAX_SIZE + 1
    analysis = analyze(raw, "big.yaml")
    assert [d.format() for d in analysis.diagnostics] == [
        "big.yaml:1:1: error MLP109 the file is 10,485,761 bytes, over the limit of "
        "10,485,760 bytes\n  hint: split the spec, or raise the limit with --max-size BYTES"]
    assert analysis.validated is None


def test_max_size_is_configurable() -> None:
    raw = (REPO / "examples" / "minimal" / "mlops.yaml").read_bytes()
    assert analyze(raw, "m.yaml").validated is not None
    small = analyze(raw, "m.yaml", max_size=100)
    assert [d.code for d in small.diagnostics] == ["MLP109"]
    assert analyze(raw, "m.yaml", max_size=len(raw)).validated is not None


@pytest.mark.parametrize("case", CASES)
def test_errors_block_validation(case: str) -> None:
    analysis = analyze((LINT_DIR / f"{case}.yaml").read_bytes(), _display(case))
    errors = [d for d in analysis.diagnostics if d.severity is Severity.ERROR]
    assert not analysis.ok(strict=True)
    assert all(d.line >= 1 and d.column >= 1 for d in analysis.diagnostics)
    if analysis.validated is None:
        assert errors, "the spec was refused without an error diagnostic"


# A few cases through the real command line: exit 1, the same text, never a traceback.
CLI_CASES = ["yaml_unclosed_flow", "invalid_utf8", "nul_byte", "billion_laughs",
             "top_level_list", "unknown_stage_key", "cycle_three_stages",
             "environment_override_violates_schema", "nesting_too_deep", "empty_file"]


@pytest.mark.parametrize("case", CLI_CASES)
def test_cli_lint(case: str) -> None:
    result = subprocess.run([sys.executable, "-m", "compiler", "lint", _display(case)],
                            cwd=REPO, capture_output=True, text=True, timeout=60)
    assert result.returncode == 1, result.stdout + result.stderr
    assert "Traceback" not in result.stdout + result.stderr
    expected = (LINT_DIR / f"{case}.out").read_text(encoding="utf-8")
    assert result.stdout.startswith(expected)  # then the summary line
