"""Compare what a run showed (engine outcome + probe journal) with what the case expects.

Every engine is judged by this one function, so "passes on every engine" means the same thing
everywhere. A mismatch is a sentence naming the stage, the key and both values.
"""

from __future__ import annotations

import json
import os
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from tests.conformance.case import COMMIT, workflow_stages
from tests.conformance.engine import Outcome
from tests.conformance.materialize import Prepared


class Mismatch(AssertionError):
    """The run did not show what the case expects (what known_gaps.py entries expect)."""


Shard = tuple[tuple[str, str], ...]


@dataclass
class Attempt:
    start: float
    env: dict[str, str]
    end: float | None = None         # None: killed before its EXIT trap ran
    status: int | None = None


@dataclass
class Journal:
    """The probe's records, by stage and shard, attempts in start order."""

    attempts: dict[str, dict[Shard, list[Attempt]]] = field(default_factory=dict)

    def of(self, stage: str) -> dict[Shard, list[Attempt]]:
        return self.attempts.get(stage, {})


def read_journal(directory: Path) -> Journal:
    records = [json.loads(p.read_text()) for p in sorted(directory.glob("*.json"))]
    open_attempts: dict[tuple[str, Shard, int], Attempt] = {}
    by_stage: dict[str, dict[Shard, list[Attempt]]] = defaultdict(lambda: defaultdict(list))
    for record in sorted(records, key=lambda r: (r["time"], r["event"] != "start")):
        shard: Shard = tuple((k, v) for k, v in record["shard"])
        key = (record["stage"], shard, record["attempt_shell"])
        if record["event"] == "start":
            attempt = Attempt(record["time"], record["env"])
            open_attempts[key] = attempt
            by_stage[record["stage"]][shard].append(attempt)
        elif key in open_attempts:
            attempt = open_attempts.pop(key)
            attempt.end, attempt.status = record["time"], record["status"]
    return Journal({stage: dict(shards) for stage, shards in by_stage.items()})


def _expected_env(value: str | None, prepared: Prepared, knows_commit: bool) -> str | None:
    if value == COMMIT:
        return prepared.head if knows_commit else None
    return value


def _project(env: dict[str, str], names: list[str]) -> dict[str, str | None]:
    return {name: env.get(name) for name in names}


def _show(value: Any) -> str:
    return json.dumps(value, ensure_ascii=True)


def mismatches(prepared: Prepared, outcome: Outcome, knows_commit: bool) -> list[str]:
    """Every way the run differs from the case's expectation (empty when it conforms)."""
    case, expect = prepared.case, prepared.case.expect
    journal = read_journal(prepared.journal)
    found: list[str] = []
    refused = outcome.refused is not None
    if refused != (expect.outcome == "refused"):
        found.append(f"the run was {'refused: ' + str(outcome.refused) if refused else 'not refused'}"
                     f"; expected it {'refused' if expect.outcome == 'refused' else 'to start'}")

    # stages outside the triggered workflow (a scheduled stage's own runs alone) must not start
    for stage in dict.fromkeys([*workflow_stages(case), *expect.stages]):
        want = expect.stages.get(stage)
        got = outcome.statuses.get(stage, "not_run")
        if want is not None and got != want:
            found.append(f"stage {stage}: {got}, expected {want}")
        if want == "not_run" and got == "not_run" and journal.of(stage):
            found.append(f"stage {stage}: the engine reports it not run, but it started")

    for stage, count in expect.attempts.items():
        shards = journal.of(stage) or {(): []}
        for shard, attempts in shards.items():
            if len(attempts) != count:
                found.append(f"stage {stage}{dict(shard) or ''}: {len(attempts)} attempt(s), "
                             f"expected {count}")

    for earlier, later in expect.order:
        before = [t for s in journal.of(earlier).values() for a in s for t in (a.start, a.end) if t]
        after = [a.start for s in journal.of(later).values() for a in s]
        if not before or not after:
            found.append(f"order {earlier} -> {later}: {'neither' if not before and not after else earlier if not before else later} never ran")
        elif max(before) > min(after):
            found.append(f"order {earlier} -> {later}: {later} started before {earlier} finished")

    for stage, wanted in expect.env.items():
        firsts = [attempts[0].env for _, attempts in sorted(journal.of(stage).items()) if attempts]
        if not firsts:
            found.append(f"env of {stage}: the stage never started")
            continue
        per_shard = wanted if isinstance(wanted, tuple) else tuple(wanted for _ in firsts)
        names = sorted({name for w in per_shard for name in w})
        expected = sorted(_show({n: _expected_env(w.get(n), prepared, knows_commit) for n in names})
                          for w in per_shard)
        observed = sorted(_show(_project(env, names)) for env in firsts)
        if observed != expected:
            found.append(f"env of {stage}: saw {'; '.join(observed)}; expected {'; '.join(expected)}")

    for path, text in expect.files.items():
        target = outcome.files / path
        if text is None:
            if os.path.lexists(target):
                found.append(f"file {path}: present ({_show(_read(target))}), expected absent")
        elif not target.is_file():
            found.append(f"file {path}: absent, expected {_show(text)}")
        elif target.read_bytes() != text.encode():
            found.append(f"file {path}: {_show(_read(target))}, expected {_show(text)}")
    return found


def _read(path: Path) -> str:
    if path.is_dir():
        return f"<directory: {sorted(p.name for p in path.iterdir())}>"
    return path.read_bytes().decode("utf-8", "surrogateescape")
