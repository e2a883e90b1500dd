"""The checker and the probe together, without an engine: stages are run by `sh -c` here,
the way every engine runs them, and the checker must see exactly what happened."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

from tests.conformance.case import Case, from_data
from tests.conformance.check import mismatches
from tests.conformance.engine import Outcome
from tests.conformance.materialize import PROBE, PROBE_PREFIX, Prepared

SPEC = {"version": 1, "name": "unit", "stages": {"a": {"run": "true"}, "b": {"needs": ["a"], "run": "true"},
                                                 "c": {"needs": ["b"], "run": "true"}}}
EXPECT = {"about": "unit", "stages": {"a": "success", "b": "success", "c": "not_run"},
          "order": [["a", "b"]], "attempts": {"a": 2},
          "env": {"a": {"X": "x'1\n", "UNSET": None}}, "files": {"out.txt": "ok"}}


def _stage(journal: Path, stage: str, command: str, **env: str) -> int:
    full = {"PATH": os.environ["PATH"], "CONFORMANCE_JOURNAL": str(journal),
            "CONFORMANCE_PROBE": str(PROBE), "MLOPS_STAGE": stage, **env}
    return subprocess.run(["sh", "-c", PROBE_PREFIX + command], env=full, cwd=journal.parent,
                          check=False).returncode


def _prepared(tmp_path: Path, case: Case) -> Prepared:
    journal = tmp_path / "journal"
    journal.mkdir()
    return Prepared(case, "unit", tmp_path, journal, "0" * 40, dict(case.spec))


def test_a_conforming_run_has_no_mismatch(tmp_path: Path) -> None:
    prepared = _prepared(tmp_path, from_data("unit", SPEC, EXPECT))
    assert _stage(prepared.journal, "a", "exit 3", X="x'1\n") == 3  # the probe keeps the status
    assert _stage(prepared.journal, "a", "true", X="x'1\n") == 0
    assert _stage(prepared.journal, "b", "printf ok > out.txt") == 0  # in tmp_path
    outcome = Outcome(None, {"a": "success", "b": "success", "c": "not_run"}, tmp_path, "")
    assert mismatches(prepared, outcome, knows_commit=False) == []


def test_each_difference_is_named(tmp_path: Path) -> None:
    prepared = _prepared(tmp_path, from_data("unit", SPEC, EXPECT))
    _stage(prepared.journal, "b", "true")                     # before a: order broken
    _stage(prepared.journal, "a", "true", X="other", UNSET="set")  # once, with other env
    _stage(prepared.journal, "c", "true")                     # started, though "not run"
    outcome = Outcome(None, {"a": "success", "b": "failed", "c": "not_run"}, tmp_path, "")
    found = mismatches(prepared, outcome, knows_commit=False)
    assert found == [
        "stage b: failed, expected success",
        "stage c: the engine reports it not run, but it started",
        "stage a: 1 attempt(s), expected 2",
        "order a -> b: b started before a finished",
        'env of a: saw {"UNSET": "set", "X": "other"}; expected {"UNSET": null, "X": "x\'1\\n"}',
        'file out.txt: absent, expected "ok"',
    ], found
