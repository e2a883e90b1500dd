"""A conformance case: a spec and what must be observable after a real run of it.

On disk a case is a directory `cases/<name>/` with `mlops.yaml` (the spec, without `targets`:
each engine adds its own) and `expect.yaml` (format in README.md). Cases can also be made in
code (`tests/conformance/hostile.py`) as long as they produce the same `Case` value.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import yaml

CASES_DIR = Path(__file__).resolve().parent / "cases"

Status = Literal["success", "failed", "not_run"]
STATUSES: tuple[str, ...] = ("success", "failed", "not_run")

# An expected env value: the exact text, None for "not set", or COMMIT for "the commit the
# engine knows the run is of, when it knows one; else not set" (MLOPS_GIT_SHA).
COMMIT = "@commit"
EnvValue = str | None
EnvExpectation = dict[str, EnvValue]

_EXPECT_KEYS = {"about", "trigger", "setup", "outcome", "stages", "attempts", "order", "env",
                "files"}
_TRIGGER_KEYS = {"workflow", "environment", "event", "params", "secrets"}


class CaseError(ValueError):
    """A case file that does not follow the format (a bug in the case, not in an engine)."""


@dataclass(frozen=True)
class Trigger:
    workflow: str | None = None           # None: the pipeline; else a scheduled stage's own
    environment: str | None = None        # which environment's files run
    event: Literal["manual", "push"] = "manual"
    params: Mapping[str, Any] = field(default_factory=dict)   # values given at trigger time
    secrets: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class Expectation:
    outcome: Literal["completed", "refused"]
    stages: Mapping[str, Status]
    attempts: Mapping[str, int]
    order: tuple[tuple[str, str], ...]
    # stage -> the env every shard saw, or one mapping per shard (compared as a multiset)
    env: Mapping[str, EnvExpectation | tuple[EnvExpectation, ...]]
    files: Mapping[str, str | None]


@dataclass(frozen=True)
class Case:
    name: str
    about: str
    spec: Mapping[str, Any]
    trigger: Trigger
    setup_files: Mapping[str, str]
    expect: Expectation


def _mapping(value: Any, what: str) -> dict[str, Any]:
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise CaseError(f"{what} must be a mapping, not {type(value).__name__}")
    return value


def _env_map(value: Any, what: str) -> EnvExpectation:
    result: EnvExpectation = {}
    for name, text in _mapping(value, what).items():
        if text is not None and not isinstance(text, str):
            raise CaseError(f"{what}.{name}: env values are text (quote it) or null")
        result[str(name)] = text
    return result


def from_data(name: str, spec: Mapping[str, Any], expect: Mapping[str, Any]) -> Case:
    """A case from its spec and its expectation data (as `expect.yaml` holds them)."""
    unknown = set(expect) - _EXPECT_KEYS
    if unknown:
        raise CaseError(f"{name}: unknown expectation keys {sorted(unknown)}")
    if "targets" in spec:
        raise CaseError(f"{name}: a case spec has no 'targets'; each engine sets its own")
    if any("image" in (layer or {}) for layer in [spec.get("defaults"), *spec["stages"].values()]):
        # act runs jobs on the host, where a `container:` job cannot run (README, testing)
        raise CaseError(f"{name}: conformance stages have no image")
    about = expect.get("about")
    if not isinstance(about, str) or not about:
        raise CaseError(f"{name}: 'about' must say in one line what the case pins down")
    trig = _mapping(expect.get("trigger"), "trigger")
    if set(trig) - _TRIGGER_KEYS:
        raise CaseError(f"{name}: unknown trigger keys {sorted(set(trig) - _TRIGGER_KEYS)}")
    trigger = Trigger(workflow=trig.get("workflow"), environment=trig.get("environment"),
                      event=trig.get("event", "manual"),
                      params=_mapping(trig.get("params"), "trigger.params"),
                      secrets={k: str(v) for k, v in _mapping(trig.get("secrets"), "trigger.secrets").items()})
    if trigger.event not in ("manual", "push"):
        raise CaseError(f"{name}: trigger.event is 'manual' or 'push', not {trigger.event!r}")
    stages = {str(k): v for k, v in _mapping(expect.get("stages"), "stages").items()}
    for stage, status in stages.items():
        if status not in STATUSES:
            raise CaseError(f"{name}: stages.{stage} is one of {STATUSES}, not {status!r}")
    env: dict[str, EnvExpectation | tuple[EnvExpectation, ...]] = {}
    for stage, value in _mapping(expect.get("env"), "env").items():
        env[str(stage)] = (tuple(_env_map(v, f"env.{stage}[]") for v in value)
                           if isinstance(value, list) else _env_map(value, f"env.{stage}"))
    files = _mapping(expect.get("files"), "files")
    for path, text in files.items():
        if text is not None and not isinstance(text, str):
            raise CaseError(f"{name}: files.{path} is the exact text or null (absent)")
    pairs = [tuple(pair) for pair in expect.get("order") or ()]
    if any(len(pair) != 2 for pair in pairs):
        raise CaseError(f"{name}: each order entry is [earlier, later]")
    order = tuple((str(a), str(b)) for a, b in pairs)
    outcome = expect.get("outcome", "completed")
    if outcome not in ("completed", "refused"):
        raise CaseError(f"{name}: outcome is 'completed' or 'refused', not {outcome!r}")
    expectation = Expectation(
        outcome=outcome, stages=stages,
        attempts={str(k): int(v) for k, v in _mapping(expect.get("attempts"), "attempts").items()},
        order=order,
        env=env, files=files)
    setup = _mapping(expect.get("setup"), "setup")
    return Case(name=name, about=about, spec=spec, trigger=trigger,
                setup_files=_mapping(setup.get("files"), "setup.files"), expect=expectation)


def load(directory: Path) -> Case:
    """The case in ``directory`` (`mlops.yaml` and `expect.yaml`)."""
    spec = yaml.safe_load((directory / "mlops.yaml").read_text(encoding="utf-8"))
    expect = yaml.safe_load((directory / "expect.yaml").read_text(encoding="utf-8"))
    return from_data(directory.name, spec, expect or {})


def workflow_stages(case: Case) -> tuple[str, ...]:
    """The stages the triggered workflow or DAG holds (a scheduled stage's own holds only it)."""
    stages: Mapping[str, Any] = case.spec["stages"]
    if case.trigger.workflow is not None:
        return (case.trigger.workflow,)
    return tuple(name for name, stage in stages.items() if "schedule" not in (stage or {}))
