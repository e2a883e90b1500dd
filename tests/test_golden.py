"""Golden files: every example built with every target, compared byte for byte.

Golden files are the review surface for generated output: when one changes, read the diff as a
user would. Rewrite them with `MLOPS_UPDATE_GOLDEN=1 python -m pytest tests/test_golden.py`.
"""

from __future__ import annotations

import os
import random
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from tests.conftest import EXAMPLES, REPO, run_cli

GOLDEN = REPO / "tests" / "golden"
UPDATE = os.environ.get("MLOPS_UPDATE_GOLDEN") == "1"


def tree(root: Path) -> dict[str, bytes]:
    return {p.relative_to(root).as_posix(): p.read_bytes()
            for p in sorted(root.rglob("*")) if p.is_file()}


def build(spec: Path, out: Path, *extra: str) -> None:
    result = run_cli("build", spec, "--out", out, "--quiet", *extra)
    assert result.code == 0, result.err


@pytest.mark.parametrize("spec", EXAMPLES, ids=[p.parent.name for p in EXAMPLES])
def test_golden(spec: Path, tmp_path: Path) -> None:
    build(spec, tmp_path)
    expected_dir = GOLDEN / spec.parent.name
    if UPDATE:
        shutil.rmtree(expected_dir, ignore_errors=True)
        shutil.copytree(tmp_path, expected_dir)
    actual, expected = tree(tmp_path), tree(expected_dir)
    assert sorted(actual) == sorted(expected), "files differ: rerun with MLOPS_UPDATE_GOLDEN=1"
    for name in actual:
        assert actual[name].decode() == expected[name].decode(), name


@pytest.mark.parametrize("spec", EXAMPLES, ids=[p.parent.name for p in EXAMPLES])
def test_second_build_changes_nothing_and_check_passes(spec: Path, tmp_path: Path) -> None:
    build(spec, tmp_path)
    before = tree(tmp_path)
    result = run_cli("build", spec, "--out", tmp_path)
    assert result.code == 0 and "0 written" in result.out
    assert tree(tmp_path) == before
    assert run_cli("build", spec, "--out", tmp_path, "--check").code == 0


def test_check_fails_with_a_readable_diff_after_an_edit(tmp_path: Path) -> None:
    spec = tmp_path / "mlops.yaml"
    shutil.copy(REPO / "examples/minimal/mlops.yaml", spec)
    build(spec, tmp_path)
    spec.write_text(spec.read_text().replace("accuracy >= 0.9", "accuracy >= 0.95"))
    result = run_cli("build", spec, "--check")
    assert result.code == 1
    assert "0.95" in result.out and result.out.startswith("--- a/")
    assert "run 'mlops build'" in result.err


def test_nothing_is_written_when_the_spec_has_errors(tmp_path: Path) -> None:
    spec = tmp_path / "mlops.yaml"
    spec.write_text("version: 1\nname: x\nstages: {a: {run: x, needs: [nope]}}\n")
    assert run_cli("build", spec).code == 1
    assert [p.name for p in tmp_path.iterdir()] == ["mlops.yaml"]


def test_target_and_env_flags_touch_only_their_files(tmp_path: Path) -> None:
    spec = REPO / "examples/sweep/mlops.yaml"
    build(spec, tmp_path, "--target", "github", "--env", "staging")
    names = sorted(tree(tmp_path))
    assert names and all(n.startswith(".github/") and "staging" in n for n in names)
    build(spec, tmp_path)
    everything = tree(tmp_path)
    build(spec, tmp_path, "--target", "kubernetes", "--env", "production")
    assert tree(tmp_path) == everything  # nothing of the other targets or envs was removed
    assert run_cli("build", spec, "--env", "prod").code == 2
    assert "did you mean 'production'" in run_cli("build", spec, "--env", "prod").err


def _shuffled(data: object, rng: random.Random) -> object:
    if isinstance(data, dict):
        items = list(data.items())
        rng.shuffle(items)
        return {k: (v if k == "matrix" else _shuffled(v, rng)) for k, v in items}
    return data


def test_deterministic_across_processes_hash_seeds_and_key_order(tmp_path: Path) -> None:
    spec = tmp_path / "original" / "mlops.yaml"  # outside a repository, like the shuffled one
    spec.parent.mkdir()
    shutil.copy(REPO / "examples/sweep/mlops.yaml", spec)
    outs = []
    for seed in ("0", "1", "12345"):
        out = tmp_path / f"out{seed}"
        subprocess.run([sys.executable, "-m", "compiler", "build", str(spec), "--out", str(out),
                        "--quiet"], check=True, env={**os.environ, "PYTHONHASHSEED": seed})
        outs.append(tree(out))
    assert outs[0] == outs[1] == outs[2]
    # Key order carries no meaning (except matrix axes): only the spec's sha256 may differ.
    data = yaml.safe_load(spec.read_text())
    shuffled = tmp_path / "shuffled" / "mlops.yaml"
    shuffled.parent.mkdir()
    shuffled.write_text(yaml.safe_dump(_shuffled(data, random.Random(7)), sort_keys=False))
    build(shuffled, tmp_path / "out-shuffled")

    def strip(files: dict[str, bytes]) -> dict[str, list[bytes]]:
        return {k: [line for line in v.splitlines() if b"sha256" not in line]
                for k, v in files.items()}

    assert strip(tree(tmp_path / "out-shuffled")) == strip(outs[0])
