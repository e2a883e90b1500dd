"""The suite: every case, and running a set of (case, engine) pairs, each engine's in one batch.

Each engine gets all of its cases in one `Engine.run` call (Airflow batches them in one
process, act runs them in threads). `Batches` runs an engine's batch the first time one of its
results is asked for, so a test process only runs the engines whose tests it was given.
"""

from __future__ import annotations

import functools
import time
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

from tests.conformance import case as case_model
from tests.conformance.case import Case
from tests.conformance.engine import Outcome
from tests.conformance.engines import ENGINES
from tests.conformance.hostile import hostile_cases
from tests.conformance.materialize import Prepared, prepare


@functools.cache
def cases() -> dict[str, Case]:
    """Every case by name: the directories under cases/, then the generated hostile ones."""
    found = [case_model.load(d) for d in sorted(case_model.CASES_DIR.iterdir()) if d.is_dir()]
    found += hostile_cases()
    by_name: dict[str, Case] = {}
    for item in found:
        if item.name in by_name:
            raise case_model.CaseError(f"two cases are named {item.name!r}")
        by_name[item.name] = item
    return by_name


@dataclass(frozen=True)
class Run:
    prepared: Prepared
    outcome: Outcome


@dataclass
class Results:
    runs: dict[tuple[str, str], Run | BaseException]
    seconds: dict[str, float]        # wall time of each engine's batch

    def get(self, case: str, engine: str) -> Run:
        """The run of ``case`` on ``engine``; re-raises what went wrong preparing or running it."""
        found = self.runs[(case, engine)]
        if isinstance(found, BaseException):
            raise found
        return found


def run_pairs(pairs: Sequence[tuple[str, str]], root: Path) -> Results:
    """Prepare every pair's repository, then run each engine's batch, all engines at once."""
    runs: dict[tuple[str, str], Run | BaseException] = {}
    batches: dict[str, list[Prepared]] = {}
    for case_name, engine_name in pairs:
        engine = ENGINES[engine_name]
        try:  # sequential: building runs the CLI in this process, which swaps sys.stdout
            prepared = prepare(cases()[case_name], engine_name, engine.targets(), root,
                               engine.defaults())
        except Exception as exc:  # noqa: BLE001 - reported by that pair's test
            runs[(case_name, engine_name)] = exc
            continue
        batches.setdefault(engine_name, []).append(prepared)
    seconds: dict[str, float] = {}

    def run_engine(engine_name: str) -> None:
        batch = batches[engine_name]
        started = time.monotonic()
        try:
            outcomes: Sequence[Outcome | BaseException] = ENGINES[engine_name].run(batch)
        except Exception as exc:  # noqa: BLE001 - every pair of that engine fails with it
            outcomes = [exc] * len(batch)
        seconds[engine_name] = time.monotonic() - started
        for prepared, outcome in zip(batch, outcomes):
            key = (prepared.case.name, engine_name)
            runs[key] = outcome if isinstance(outcome, BaseException) else Run(prepared, outcome)

    with ThreadPoolExecutor(max_workers=max(1, len(batches))) as pool:
        list(pool.map(run_engine, batches))
    return Results(runs, seconds)


class Batches:
    """Each engine's batch of pairs (``pairs_of(engine)``), run on the first ``get`` for it.
    ``pairs_of`` may give other engines' pairs too: they run at the same time, once."""

    def __init__(self, pairs_of: Callable[[str], Sequence[tuple[str, str]]], root: Path,
                 ran: Callable[[Results], object]) -> None:
        self._pairs_of, self._root, self._ran = pairs_of, root, ran
        self._by_engine: dict[str, Results] = {}

    def get(self, case: str, engine: str) -> Run:
        if engine not in self._by_engine:
            pairs = self._pairs_of(engine)   # that engine's, or (one process) every engine's
            results = run_pairs(pairs, self._root)
            for _, name in pairs:
                self._by_engine[name] = results
            self._by_engine.setdefault(engine, results)
            self._ran(results)
        return self._by_engine[engine].get(case, engine)
