"""Runs every selected (case, engine) pair once per session, all engines in parallel.

The tests of test_conformance.py only read the results: collecting them here first lets each
engine batch its cases (one Airflow process for all of them, act in threads), which is what
keeps the whole suite within minutes.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.conformance.capability import skip_reason
from tests.conformance.engines import ENGINES
from tests.conformance.suite import Results, cases, run_pairs

RUN_TEST = "test_case_on_engine"
_RESULTS: list[Results] = []


def selected_pairs(items: list[pytest.Item]) -> list[tuple[str, str]]:
    """The (case, engine) pairs the session will run: selected and not capability-skipped."""
    pairs = []
    for item in items:
        callspec = getattr(item, "callspec", None)
        if getattr(item, "originalname", None) != RUN_TEST or callspec is None:
            continue
        case_name, engine_name = callspec.params["case_name"], callspec.params["engine_name"]
        if skip_reason(cases()[case_name], ENGINES[engine_name]) is None:
            pairs.append((case_name, engine_name))
    return pairs


@pytest.fixture(scope="session")
def conformance_results(request: pytest.FixtureRequest,
                        tmp_path_factory: pytest.TempPathFactory) -> Results:
    root: Path = tmp_path_factory.mktemp("conformance")
    results = run_pairs(selected_pairs(request.session.items), root)
    _RESULTS.append(results)
    return results


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    for results in _RESULTS:
        timing = ", ".join(f"{name} {seconds:.0f}s" for name, seconds in sorted(results.seconds.items()))
        terminalreporter.write_line(f"conformance: engine batches ran in parallel: {timing}")
