"""DVC: `dvc repro` of the case's generated `mlops-dvc/<pipeline>[-<env>]/dvc.yaml`, in the case
repository, as a user runs it locally.

Per case: `dvc init` in the repository (DVC's own directory, left uncommitted), trigger-time
params written into the pipeline's `params.yaml` (what a user edits before `dvc repro`; the
stages read it when they run), trigger-time secrets in the environment of `dvc repro` (the only
place a DVC run takes them from), then `dvc repro FILE`. Statuses come from DVC's own report:
a stage it started ("Running stage") succeeded unless DVC names it in "failed to reproduce";
DVC stops at the first failure, so every other stage did not run. A matrix stage is one DVC
stage (its shards run in turn inside it), so its status is already the aggregate. DVC starts in
about two seconds and cases mostly wait (sleeps, timeouts), so cases run a few at a time in
threads, each repository on its own.

DVC checks no param schema and has no step before the first stage, so the generated launcher
checks the run's params (`params_check.py`, exit 87) before it starts a stage's command: a
refused run stops in the first stage DVC starts, and that stage's command never ran, so every
stage is `not_run`.
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from tests import tooling
from tests.conformance.case import Status, workflow_stages
from tests.conformance.engine import Outcome
from tests.conformance.materialize import Prepared

_RAN = re.compile(r"^Running stage '[^']*:([A-Za-z0-9_-]+)':", re.M)
_FAILED = re.compile(r"failed to reproduce '[^']*:([A-Za-z0-9_-]+)'")
THREADS = 4


def pipeline_file(prepared: Prepared) -> str:
    """`mlops-dvc/<pipeline>[-<env>]/dvc.yaml` of the triggered environment (README)."""
    environment = prepared.case.trigger.environment
    return f"mlops-dvc/{prepared.spec['name']}{'-' + environment if environment else ''}/dvc.yaml"


def _yaml_text(value: Any) -> str:
    """A trigger-time value as the params file holds text: a YAML double-quoted scalar."""
    text = value if isinstance(value, str) else json.dumps(value)
    return json.dumps(text, ensure_ascii=True) if max(text, default="\0") <= "\uffff" else \
        '"' + "".join(f"\\U{ord(c):08x}" if ord(c) > 0xFFFF else json.dumps(c)[1:-1]
                      for c in text) + '"'


def _set_params(prepared: Prepared) -> None:
    params = prepared.case.trigger.params
    if not params:
        return
    path = prepared.repo / pipeline_file(prepared).replace("dvc.yaml", "params.yaml")
    lines = path.read_text(encoding="utf-8").splitlines()
    for name, value in params.items():
        found = [i for i, line in enumerate(lines)
                 if re.fullmatch(rf"(\"?){re.escape(name)}\1:.*", line)]
        if len(found) != 1:
            raise AssertionError(f"{prepared.case.name}: param {name!r} is not in {path}")
        lines[found[0]] = f"{_yaml_text(name)}: {_yaml_text(value)}"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")


def statuses(log: str, stages: Sequence[str]) -> dict[str, Status]:
    failed = set(_FAILED.findall(log))
    ran = set(_RAN.findall(log))
    return {stage: "failed" if stage in failed else "success" if stage in ran else "not_run"
            for stage in stages}


class DvcEngine:
    name = "dvc"
    target = "dvc"
    knows_commit = False  # `dvc repro` gives a stage no commit (only `build --ref` stamps one)

    def targets(self) -> dict[str, Any]:
        return {"dvc": {}}

    def defaults(self) -> dict[str, Any]:
        return {}

    def _run_one(self, prepared: Prepared) -> Outcome:
        repo = prepared.repo
        tooling.dvc(repo, "init", "-q")
        _set_params(prepared)
        proc = tooling.dvc(repo, "repro", pipeline_file(prepared), check=False, timeout=600,
                           extra_env=dict(prepared.case.trigger.secrets))
        log = f"$ dvc repro {pipeline_file(prepared)}\nexit {proc.returncode}\n" \
              f"--- stdout\n{proc.stdout}\n--- stderr\n{proc.stderr}"
        ran = _RAN.findall(proc.stdout)
        if proc.returncode != 0 and not ran:
            raise AssertionError(f"{prepared.case.name}: dvc repro started no stage:\n{log}")
        # The launcher checks the run's params before a stage's command (exit 87): a run
        # whose values are outside their schemas stops at its first stage, running nothing.
        refused = next((line for line in (proc.stdout + proc.stderr).splitlines()
                        if line.startswith("mlops params:")), None)
        stages = workflow_stages(prepared.case)
        return Outcome(refused=refused,
                       statuses={stage: "not_run" for stage in stages} if refused else
                       statuses(proc.stdout + proc.stderr, stages),
                       files=repo, log=log)

    def run(self, prepared: Sequence[Prepared]) -> list[Outcome]:
        tooling.dvc_bin()  # build the cached venv once, before the threads need it
        with ThreadPoolExecutor(max_workers=THREADS) as pool:
            return list(pool.map(self._run_one, prepared))
