"""The wheel: built from the checkout, installed into a fresh virtualenv, run from elsewhere."""

from __future__ import annotations

import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from tests.conftest import REPO


@pytest.mark.slow
def test_wheel_installs_and_runs_outside_the_checkout(tmp_path: Path) -> None:
    dist = tmp_path / "dist"
    subprocess.run([sys.executable, "-m", "build", "--wheel", "--outdir", str(dist), str(REPO)],
                   check=True, capture_output=True)
    wheel = next(dist.glob("mlops_compiler-*.whl"))
    names = zipfile.ZipFile(wheel).namelist()
    assert "compiler/schemas/mlops.schema.json" in names
    assert any(n.startswith("compiler/templates/") for n in names)
    codedocs = {f"compiler/codedocs/{p.name}" for p in (REPO / "compiler/codedocs").glob("*.md")}
    assert codedocs and codedocs <= set(names), sorted(codedocs - set(names))

    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
    pip = venv / "bin" / "pip"
    subprocess.run([str(pip), "install", "--quiet", str(wheel)], check=True)
    mlops = venv / "bin" / "mlops"
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    spec = elsewhere / "mlops.yaml"
    spec.write_bytes((REPO / "examples/churn/mlops.yaml").read_bytes())

    lint = subprocess.run([str(mlops), "lint"], cwd=elsewhere, capture_output=True, text=True)
    assert lint.returncode == 0, lint.stdout + lint.stderr
    schema = subprocess.run([str(mlops), "schema"], cwd=elsewhere, capture_output=True, text=True)
    assert schema.returncode == 0 and schema.stdout == (REPO / "schemas/mlops.schema.json").read_text()
    build = subprocess.run([str(mlops), "build"], cwd=elsewhere, capture_output=True, text=True)
    assert build.returncode == 0, build.stderr
    assert (elsewhere / ".github/workflows").is_dir() and (elsewhere / "k8s").is_dir()
    explain = subprocess.run([str(mlops), "explain", "MLP203"], cwd=elsewhere, capture_output=True,
                             text=True)
    assert explain.returncode == 0 and "## Failing example" in explain.stdout, explain.stdout
    module = subprocess.run([str(venv / "bin" / "python"), "-m", "compiler", "--version"],
                            cwd=elsewhere, capture_output=True, text=True)
    assert module.returncode == 0 and module.stdout.startswith("mlops-compiler ")
