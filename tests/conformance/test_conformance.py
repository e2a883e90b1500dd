"""Each conformance case on each engine: run for real, then compared with its expectation.

A pair whose target cannot express the case is skipped with the capability table's reason;
a pair in known_gaps.py must fail with a mismatch (strict xfail); everything else must pass.
"""

from __future__ import annotations

import pytest

from tests.conformance.capability import skip_reason
from tests.conformance.check import Mismatch, mismatches
from tests.conformance.engines import ENGINES
from tests.conformance.known_gaps import KNOWN_GAPS
from tests.conformance.suite import Batches, cases


@pytest.mark.slow
@pytest.mark.parametrize("engine_name", sorted(ENGINES))
@pytest.mark.parametrize("case_name", sorted(cases()))
def test_case_on_engine(case_name: str, engine_name: str, request: pytest.FixtureRequest) -> None:
    case, engine = cases()[case_name], ENGINES[engine_name]
    reason = skip_reason(case, engine)
    if reason is not None:
        pytest.skip(reason)
    gap = KNOWN_GAPS.get((case_name, engine_name))
    if gap is not None:
        request.applymarker(pytest.mark.xfail(reason=gap, strict=True, raises=Mismatch))
    batches: Batches = request.getfixturevalue("conformance_results")
    run = batches.get(case_name, engine_name)
    problems = mismatches(run.prepared, run.outcome, engine.knows_commit)
    if problems:
        raise Mismatch(f"{case_name} on {engine_name} ({case.about}):\n  " + "\n  ".join(problems)
                       + f"\nrepository: {run.prepared.repo}\n{run.outcome.log}")
