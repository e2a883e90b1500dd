"""Kubeflow Pipelines in kfp's local orchestrator (`kfp.local`, SubprocessRunner).

Each case's KFP file (`kfp/<pipeline>[-<env>].yaml`) runs in its own harness process
(`tests/kfp_harness.py run`, kfp pinned in `tests/tooling.py`), two at a time. The runner
ignores images and runs each task's command on this host; its workspace (what a cluster mounts
as the run's volume) starts as a copy of the case repository, as a task's image would hold the
repository's code, and is copied back out before kfp deletes it, so the run's files are read
from there. Trigger-time params are the run's arguments; secrets go into the runner's
environment (kfp.local ignores kfp-kubernetes' `secretAsEnv`, so every task sees every secret:
a scoped secret is a local-runner gap, not the file's). A run the runner refuses before any
task starts (KFP checks the arguments' types) is `refused`.

The spec of a KFP case needs an image on every stage (the kubeflow target runs containers):
`IMAGE` is what `materialize.spec_for` must set as `defaults.image` for this engine; the
protocol has no such hook yet (`Engine.targets()` only gives `targets`).

Run against the conformance branch (merged into a scratch clone, with that hook and
`capability.py` reading the target registry): 28 of 36 pairs pass, 2 are skipped by the
capability table (push trigger, stage schedule). The 8 others, for `known_gaps.py`:
- param-above-maximum, param-below-minimum, param-pattern-mismatch: KFP checks a run's
  values against their types only, so the file's first task (`mlops-check-params`) checks
  the rest; when it fails, the run is `refused` and no stage starts;
- secret-scoped-to-stage: kfp.local ignores `secretAsEnv` and gives every task the runner's
  environment; on a cluster each task gets only its own secrets (a local-runner gap);
- timeout-each-attempt: the stage keeps its "first attempt" marker in a declared output, and
  the stage runner (`compiler/render/runner.py`) clears declared outputs before every attempt,
  so every attempt is the slow one; any target that adopts the runner fails this case;
- hostile-default-0, -1, -4: their param defaults hold `{{`, which MLP404 refuses for this
  target (KFP and Argo would resolve it), so `mlops build` writes nothing: a lint refusal, not
  a wrong run.
"""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

from compiler.targets.kubeflow.render import CHECK_TASK
from tests import tooling
from tests.conformance.case import Status, workflow_stages
from tests.conformance.engine import Outcome, aggregate
from tests.conformance.materialize import Prepared

IMAGE = "python:3.12-slim"  # ignored by kfp.local; a container target needs one
_STATUS: dict[str, Status] = {"SUCCESS": "success", "FAILURE": "failed"}


def pipeline_file(prepared: Prepared) -> Path:
    env = prepared.case.trigger.environment
    return prepared.repo / "kfp" / f"{prepared.spec['name']}{'-' + env if env else ''}.yaml"


def _dns(name: str) -> str:
    return name.replace("_", "-")


def statuses(tasks: list[list[str]], stages: Sequence[str]) -> dict[str, Status]:
    found: dict[str, list[Status]] = {stage: [] for stage in stages}
    by_task = {_dns(stage): stage for stage in stages}
    for task, status in tasks:
        if task in by_task:
            found[by_task[task]].append(_STATUS.get(status, "not_run"))
    return {stage: aggregate(shards) if shards else "not_run" for stage, shards in found.items()}


class KfpEngine:
    name = "kfp"
    target = "kubeflow"
    knows_commit = False  # a KFP run knows no commit (only a `build --ref` stamps one)
    image = IMAGE

    def targets(self) -> dict[str, Any]:
        return {"kubeflow": {}}

    def defaults(self) -> dict[str, Any]:
        return {"image": IMAGE}

    def _run_one(self, item: Prepared) -> Outcome:
        trigger = item.case.trigger
        with tempfile.TemporaryDirectory(prefix="kfp-case-") as tmp:
            workspace, files = Path(tmp) / "workspace", Path(tmp) / "files"
            shutil.copytree(item.repo, workspace, ignore=shutil.ignore_patterns(".git"))
            result = tooling.kfp_run(pipeline_file(item), workspace, dict(trigger.params),
                                     env=dict(trigger.secrets), keep=files)
            kept = item.repo.parent / "kfp-files"
            shutil.rmtree(kept, ignore_errors=True)
            if files.exists():
                shutil.copytree(files, kept, symlinks=True)
            else:
                kept.mkdir()
        refused = result["error"] if result["error"] and not result["attempts"] else None
        if any(task.startswith(CHECK_TASK) and status == "FAILURE"
               for task, status in result["tasks"]):
            # the params check task (before every stage) refused the run's values
            refused = next((line.strip() for line in result["stderr"].splitlines()
                            if "mlops params:" in line), "the params check failed")
        return Outcome(refused=refused,
                       statuses=statuses(result["tasks"], workflow_stages(item.case)),
                       files=kept,
                       log=f"kfp.local: error {result['error']}, tasks {result['tasks']}\n"
                           f"{result['stderr'][-6000:]}")

    def run(self, prepared: Sequence[Prepared]) -> list[Outcome]:
        with ThreadPoolExecutor(max_workers=2) as pool:
            return list(pool.map(self._run_one, prepared))
