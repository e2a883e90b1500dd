"""Under ``pytest -n N``: each conformance engine's tests go to one worker, as one unit.

`Batches` (suite.py) runs an engine's whole batch in the process that first asks for one of
its results. xdist's default ``load`` scheduling spreads an engine's tests over every worker, so
every worker would run every engine's batch. This scheduler makes each engine's tests one work
unit (a worker runs the batch once and reads the rest from it) and leaves every other test a
unit of its own, scheduled as with ``load``.

It reads the engine from the test id rather than using ``xdist_group`` marks: pytest 9.2 made
those marks silently ineffective (pytest-dev/pytest-xdist#1386).
"""

from __future__ import annotations

from xdist.scheduler import LoadScopeScheduling

RUN_TEST = "::test_case_on_engine["


def engine_of(nodeid: str) -> str | None:
    """The engine of a conformance run's test id (``...[<case>-<engine>]``), else None."""
    if RUN_TEST not in nodeid or not nodeid.endswith("]"):
        return None
    return nodeid[nodeid.rindex("-") + 1:-1]  # case names have dashes, engine names none


class EngineScheduling(LoadScopeScheduling):
    """``loadscope`` where the scope of a conformance test is its engine, of any other test itself.

    LoadScopeScheduling hands out the largest units first, so the engines' batches start at
    once and the single tests fill the workers around them.
    """

    def _split_scope(self, nodeid: str) -> str:
        engine = engine_of(nodeid)
        return nodeid if engine is None else f"conformance engine {engine}"
