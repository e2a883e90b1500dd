"""What an engine adapter is: the protocol every module in `engines/` implements.

An adapter knows how to run prepared case repositories on one engine and report what the
engine says happened. Everything the stages themselves observed (env, attempts, order) is in
the journal the probe wrote, read by `check.py` the same way for every engine, so an adapter
stays small: targets for the spec, a way to run, and a translation of the engine's states.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

from tests.conformance.case import Status
from tests.conformance.materialize import Prepared


@dataclass(frozen=True)
class Outcome:
    """What the engine reports about one run of one case."""

    refused: str | None              # why the engine refused to start the run, else None
    statuses: dict[str, Status]      # per stage of the triggered workflow, shards aggregated
    files: Path                      # where the run's outputs can be read (paths as in the spec)
    log: str                         # the engine's output, shown when a check fails


class Engine(Protocol):
    """An engine adapter (registered in `engines.ENGINES` under its ``name``)."""

    @property
    def name(self) -> str:
        """The registry key, e.g. "airflow3"; what known_gaps.py names."""

    @property
    def target(self) -> str:
        """The column of compiler/capabilities.py whose files this engine runs ("airflow")."""

    @property
    def knows_commit(self) -> bool:
        """Whether a run knows the commit it runs (then MLOPS_GIT_SHA must be that commit)."""

    def targets(self) -> dict[str, Any]:
        """The spec's `targets` section that builds what this engine runs."""

    def defaults(self) -> dict[str, Any]:
        """Entries this engine's target needs in the spec's `defaults` (an image, for a
        target that runs containers; cases carry none), usually empty."""

    def run(self, prepared: Sequence[Prepared]) -> list[Outcome]:
        """Run every prepared case (batched or in parallel as the engine likes), one outcome
        each, in order. Raise AssertionError when the engine itself is missing or broken: that
        fails the tests, it never skips them."""


def aggregate(shards: Iterable[Status]) -> Status:
    """One stage's status from its shards' (a matrix stage has several): it succeeded when
    every shard did, never ran when none did, and failed otherwise."""
    seen = list(shards)
    if all(s == "not_run" for s in seen):
        return "not_run"
    if all(s == "success" for s in seen):
        return "success"
    return "failed"
