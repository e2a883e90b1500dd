"""The user's environment, not our bug: huge files, full disks, read-only and unwritable
directories, an output root that is a file or a system directory (SPEC.md section 4: exit 2,
a message naming the path, never exit 3; old files intact, nothing half-written)."""

from __future__ import annotations

import resource
import time
from pathlib import Path

from compiler.analysis import analyze, read_spec
from tests.conftest import run_cli

SPEC = """\
version: 1
name: faults
stages:
  train:
    run: echo hi
targets: {github: {}}
"""


# ------------------------------------------------------------------------- size before reading


def test_a_2_gib_spec_is_refused_by_its_size_without_reading_it(tmp_path: Path) -> None:
    big = tmp_path / "mlops.yaml"
    with big.open("wb") as f:  # sparse: 2 GiB that cost no disk
        f.truncate(2 * 1024 ** 3)
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    started = time.monotonic()
    spec = read_spec(big)
    analysis = analyze(spec.raw, "mlops.yaml", size=spec.size)
    elapsed = time.monotonic() - started
    assert [d.message for d in analysis.diagnostics] == [
        "the file is 2,147,483,648 bytes, over the limit of 10,485,760 bytes"]
    assert elapsed < 0.05, elapsed  # reading it whole took ~10 s
    result = run_cli("lint", big)
    assert result.code == 1 and "MLP109" in result.out, result.err
    grown_kib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before
    assert grown_kib < 64 * 1024, grown_kib  # not 2 GiB of memory


def test_build_refuses_an_oversized_spec_before_reading_it(tmp_path: Path) -> None:
    spec = tmp_path / "mlops.yaml"
    spec.write_text(SPEC + "#" * 200 + "\n")
    result = run_cli("build", spec, "--max-size", "100")
    assert result.code == 1
    assert "MLP109 the file is 281 bytes, over the limit of 100 bytes" in result.err
    assert not (tmp_path / ".github").exists()
