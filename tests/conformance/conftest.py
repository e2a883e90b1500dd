"""Runs each engine's selected cases once per test process, the first time one is asked for.

The tests of test_conformance.py only read the results: running an engine's cases together
lets it batch them (one Airflow process for all of them, act in threads). In one process every
engine's batch runs at once; under ``pytest -n N`` each engine's tests go to one worker
(scheduling.py), which runs only that engine's batch, so the workers share the engines
instead of each running every batch.
"""

from __future__ import annotations

import os

import pytest

from tests.conformance.capability import skip_reason
from tests.conformance.engines import ENGINES
from tests.conformance.suite import Batches, Results, cases

RUN_TEST = "test_case_on_engine"  # scheduling.py finds these tests by the same name
_RESULTS: list[Results] = []


def selected_pairs(items: list[pytest.Item], engine_name: str | None) -> list[tuple[str, str]]:
    """``engine_name``'s pairs (None: every engine's) the session will run: selected and not
    capability-skipped."""
    pairs = []
    for item in items:
        callspec = getattr(item, "callspec", None)
        if getattr(item, "originalname", None) != RUN_TEST or callspec is None:
            continue
        case_name, engine = callspec.params["case_name"], callspec.params["engine_name"]
        if engine_name in (None, engine) and skip_reason(cases()[case_name], ENGINES[engine]) is None:
            pairs.append((case_name, engine))
    return pairs


@pytest.fixture(scope="session")
def conformance_results(request: pytest.FixtureRequest,
                        tmp_path_factory: pytest.TempPathFactory) -> Batches:
    items = request.session.items
    # In one process every engine runs at once on the first result asked for; in an xdist
    # worker only the engine asked for, since the others' tests went to other workers.
    worker = os.environ.get("PYTEST_XDIST_WORKER") is not None
    return Batches(lambda engine: selected_pairs(items, engine if worker else None),
                   tmp_path_factory.mktemp("conformance"), _RESULTS.append)


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    # Only printed without xdist: a worker's terminal summary is not shown.
    timing = ", ".join(f"{name} {seconds:.0f}s" for results in _RESULTS
                       for name, seconds in sorted(results.seconds.items()))
    if timing:
        terminalreporter.write_line(f"conformance: engine batches: {timing}")
