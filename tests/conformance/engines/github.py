"""GitHub Actions, run for real by `act` on this host (tests/act.py), several cases at once.

act starts in well under a second, and a case's jobs mostly wait (on artifacts, on sleeps),
so cases run in parallel threads, each act with its own HOME, artifact server and port.
Trigger-time params are `workflow_dispatch` inputs (`--input`), secrets `--secret`. A run whose
params fail the workflow's first job (`_check-params`, bounds, patterns and types that dispatch
inputs cannot say) is `refused`: every stage job needs that job, so none starts.

The run's files are what the run published: every artifact the jobs uploaded, unpacked where
the workflow's own download steps would put it (at the common ancestor of an upload's paths,
the workspace for the compiler's uploads; a lone directory at its path, a lone file in its
parent directory), merged in name order as `merge-multiple` would.
"""

from __future__ import annotations

import json
import os
import re
import shutil
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from compiler.spec.params import env_text
from compiler.targets.github.render import CHECK_JOB
from tests import act
from tests.conformance.case import Status, workflow_stages
from tests.conformance.engine import Outcome, aggregate
from tests.conformance.materialize import Prepared

_RESULTS: dict[str, Status] = {"success": "success", "failure": "failed", "cancelled": "failed"}
_EXPRESSION = re.compile(r"\$\{\{.*?\}\}")


def workflow_path(prepared: Prepared) -> str:
    """The triggered workflow (README: `mlops-<pipeline>[-<env>].yml`, and
    `mlops-<pipeline>-<stage>[-<env>].yml` for a scheduled stage)."""
    trigger = prepared.case.trigger
    name = str(prepared.spec["name"]).replace("_", "-")
    if trigger.workflow is not None:
        name += "-" + trigger.workflow.replace("_", "-")
    if trigger.environment:
        name += "-" + trigger.environment
    return f".github/workflows/mlops-{name}.yml"


def upload_roots(workflow: dict[str, Any]) -> list[tuple[re.Pattern[str], str]]:
    """(artifact name pattern, directory its files belong in) for every upload step; an
    expression in a name (a matrix job's) matches whatever the engine made of it."""
    roots = []
    for job in workflow.get("jobs", {}).values():
        for step in job.get("steps", []):
            if "upload-artifact" not in str(step.get("uses", "")):
                continue
            name, paths = str(step["with"]["name"]), str(step["with"]["path"]).splitlines()
            pattern = ".*".join(re.escape(p) for p in _EXPRESSION.split(name))
            # several paths: the artifact is rooted at their common ancestor (upload-artifact)
            root = os.path.commonpath(paths) or "." if len(paths) > 1 \
                else paths[0].rstrip("/") if paths[0].endswith("/") else str(Path(paths[0]).parent)
            roots.append((re.compile(pattern + r"\Z"), root))
    return roots


def merge_artifacts(artifacts: dict[str, Path], workflow: dict[str, Any], into: Path) -> None:
    roots = upload_roots(workflow)
    for name, directory in sorted(artifacts.items()):
        matches = [root for pattern, root in roots if pattern.match(name)]
        if not matches:
            raise AssertionError(f"artifact {name!r} matches no upload step of the workflow")
        shutil.copytree(directory, into / matches[0], dirs_exist_ok=True)


@dataclass(frozen=True)
class ActEngine:
    parallel: int = 6    # act processes at once: their jobs mostly sleep or wait on artifacts

    name = "github"
    target = "github"
    knows_commit = True  # github.sha: the commit the run checked out

    def targets(self) -> dict[str, Any]:
        return {"github": {"runs_on": "ubuntu-24.04"}}

    def defaults(self) -> dict[str, Any]:
        return {}

    def run(self, prepared: Sequence[Prepared]) -> list[Outcome]:
        with ThreadPoolExecutor(max_workers=self.parallel) as pool:
            return list(pool.map(self._run_one, prepared))

    def _run_one(self, item: Prepared) -> Outcome:
        trigger = item.case.trigger
        path = workflow_path(item)
        dispatch = trigger.event == "manual"
        result = act.run_workflow(
            item.repo, path,
            event="workflow_dispatch" if dispatch else "push",
            inputs={k: env_text(v) for k, v in trigger.params.items()} if dispatch else None,
            secrets=trigger.secrets,
            artifacts_dir=item.repo.parent / "artifacts",
        )
        outputs = item.repo.parent / "outputs"
        outputs.mkdir()
        merge_artifacts(result.artifacts, yaml.safe_load((item.repo / path).read_text()), outputs)
        statuses = {stage: aggregate(_RESULTS.get(run.result, "not_run")
                                     for run in result.jobs.get(stage, []))
                    for stage in workflow_stages(item.case)}
        refused = None
        if any(run.result != "success" for run in result.jobs.get(CHECK_JOB, [])):
            refused = next((line.strip() for line in _log_lines(result.log)
                            if "mlops params:" in line), "the params check failed")
        return Outcome(refused=refused, statuses=statuses, files=outputs, log=_summary(result))


def _summary(result: act.ActResult) -> str:
    lines = [f"act exited {result.returncode}"]
    for job, runs in sorted(result.jobs.items()):
        lines.append(f"  job {job}: " + ", ".join(f"{r.result}{r.matrix or ''}" for r in runs))
        lines += [f"    step {step}: {outcome}" for step, outcome in result.steps.get(job, [])]
    lines.append("  artifacts: " + ", ".join(sorted(result.artifacts)))
    return "\n".join(lines + ["--- act log: command output and errors (tail)", *_log_lines(result.log)[-30:]])


def _log_lines(log: str) -> list[str]:
    """What the stages printed and what act reported as errors, without act's bookkeeping."""
    shown = []
    for line in log.splitlines():
        try:
            entry = json.loads(line)
        except json.JSONDecodeError:
            shown.append(line)
            continue
        if entry.get("raw_output") or entry.get("level") == "error":
            shown.append(f"[{entry.get('jobID', '-')}] {str(entry.get('msg', '')).rstrip()}")
    return shown
