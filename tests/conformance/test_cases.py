"""Static checks of the suite itself (no engine runs): cases are well formed and portable,
and known_gaps.py names only pairs that exist and run."""

from __future__ import annotations

import posixpath

import pytest

from compiler.analysis import analyze
from tests.conformance.capability import refusal, skip_reason
from tests.conformance.case import workflow_stages
from tests.conformance.engines import ENGINES
from tests.conformance.hostile import payloads, refused_payloads
from tests.conformance.known_gaps import KNOWN_GAPS
from tests.conformance.materialize import PROBE_PREFIX, spec_bytes, spec_for
from tests.conformance.suite import cases


def _covered(path: str, outputs: list[str]) -> bool:
    return any(path == out or (out.endswith("/") and path.startswith(out)) for out in outputs)


@pytest.mark.parametrize("case_name", sorted(cases()))
def test_case_is_portable(case_name: str, tmp_path_factory: pytest.TempPathFactory) -> None:
    case = cases()[case_name]
    stages = case.spec["stages"]
    outputs = [out for stage in stages.values() for out in (stage or {}).get("outputs", [])]
    for path in case.expect.files:
        # GitHub shows a run's files only through its artifacts: declared outputs
        assert _covered(posixpath.normpath(path), outputs), f"{path} is no stage's declared output"
    named = {*case.expect.stages, *case.expect.attempts, *case.expect.env,
             *(s for pair in case.expect.order for s in pair)}
    assert named <= set(stages), f"unknown stages {sorted(named - set(stages))}"
    assert set(workflow_stages(case)) <= set(case.expect.stages), "say what every stage does"
    for engine in ENGINES.values():
        if refusal(case, engine) is not None:
            continue  # refused by the target's own rule: skipped there, with that reason
        spec = spec_for(case, engine.targets(), tmp_path_factory.getbasetemp(),
                        engine.defaults())
        analysis = analyze(spec_bytes(spec), "mlops.yaml")
        problems = [d.format() for d in analysis.diagnostics if d.severity.name == "ERROR"]
        assert not problems, (engine.name, problems)


def test_pipeline_names_are_unique() -> None:
    # one Airflow process runs every case: dag ids must not collide
    names = [c.spec["name"] for c in cases().values()]
    assert len(names) == len(set(names))


def test_probe_prefix_interpolates_nothing() -> None:
    assert "${" not in PROBE_PREFIX


@pytest.mark.parametrize(("case_name", "engine_name"), sorted(KNOWN_GAPS))
def test_known_gaps_name_pairs_that_run(case_name: str, engine_name: str) -> None:
    assert case_name in cases() and engine_name in ENGINES
    assert skip_reason(cases()[case_name], ENGINES[engine_name]) is None, \
        "a capability skip needs no known-gap entry"


def test_lint_refuses_exactly_the_refused_payloads() -> None:
    """The hostile cases leave out what lint refuses; that must be only the `${{` payloads."""
    for text in payloads():
        spec = {"version": 1, "name": "h", "env": {"H": text}, "stages": {"s": {"run": "true"}},
                "targets": {"github": {}, "airflow": {"operator": "bash"}}}
        codes = {d.code for d in analyze(spec_bytes(spec), "mlops.yaml").diagnostics
                 if d.severity.name == "ERROR"}
        assert (codes == {"MLP307"}) == (text in refused_payloads()), (text, codes)
