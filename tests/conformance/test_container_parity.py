"""Static: a GitHub job of a stage with an image differs from the same stage's job without one
only by `container:`.

act runs jobs on the host (`-P <label>=-self-hosted`, no Docker), where a job with
`container:` cannot run, so every conformance case is imageless. This test is what lets those
runs speak for container jobs too: nothing else in the job depends on the image.
"""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.conftest import EXAMPLES
from tests.hostile_support import analyze_spec, errors, outputs


def _without_images(spec: dict[str, Any]) -> dict[str, Any]:
    stripped = copy.deepcopy(spec)
    for layer in [stripped.get("defaults") or {}, *stripped["stages"].values()]:
        layer.pop("image", None)
    # with no image left, container targets would refuse the spec: keep GitHub only
    stripped["targets"] = {"github": (spec.get("targets") or {}).get("github") or {}}
    for overlay in (stripped.get("environments") or {}).values():
        for key in ("kubernetes", "targets"):
            overlay.pop(key, None)
        for stage in (overlay.get("stages") or {}).values():
            stage.pop("image", None)
        (overlay.get("defaults") or {}).pop("image", None)
    return stripped


def _workflows(spec: dict[str, Any]) -> dict[str, dict[str, Any]]:
    analysis = analyze_spec(spec)
    assert not errors(analysis), [d.format() for d in errors(analysis)]
    # the pipeline and scheduled-stage workflows (the check workflow runs no stage)
    return {path: yaml.safe_load(text) for path, text in outputs(analysis).items()
            if path.startswith(".github/workflows/mlops-")
            and not path.startswith(".github/workflows/mlops-check.")}


def _builds_github(example: Path) -> bool:
    targets = yaml.safe_load(example.read_text()).get("targets")
    return targets is None or "github" in targets


# The examples that build GitHub workflows (examples/vertex builds only Kubeflow).
GITHUB_EXAMPLES = [p for p in EXAMPLES if _builds_github(p)]


@pytest.mark.parametrize("example", GITHUB_EXAMPLES, ids=[p.parent.name for p in GITHUB_EXAMPLES])
def test_container_jobs_differ_only_by_container(example: Path) -> None:
    spec = yaml.safe_load(example.read_text())
    with_images = _workflows({**spec, "targets": {"github": (spec.get("targets") or {}).get("github") or {}}})
    without = _workflows(_without_images(spec))
    assert set(with_images) == set(without)
    containers = 0
    for path, workflow in with_images.items():
        for job_id, job in workflow["jobs"].items():
            containers += "container" in job
            job = {k: v for k, v in job.items() if k != "container"}
            assert job == without[path]["jobs"][job_id], (path, job_id)
        # the workflow's env differs only by the image the jobs name by alias (`*image`)
        assert {k: v for k, v in workflow.items() if k not in ("jobs", "env")} == \
            {k: v for k, v in without[path].items() if k not in ("jobs", "env")}, path
        assert {k: v for k, v in workflow["env"].items() if k != "MLOPS_IMAGE"} == \
            without[path]["env"], path
    if any("image" in (layer or {}) for layer in [spec.get("defaults"), *spec["stages"].values()]):
        assert containers, "the example has images, so some job must have a container"
