"""The largest benchmark spec (`generate.py`, blocks of five stages) each target holds: the
most stages whose every generated file stays within the engine's documented limits
(`compiler/limits.py`, each target's `LIMITS`), found by bisection on the rendered bytes, and
the bytes per stage of each target's largest file at that size.

    python benchmarks/largest.py            # every target
    python benchmarks/largest.py github     # one

A target without a file limit (Airflow, DVC, KFP) reports the ceiling it was tried at
(`CEILING` stages, the compiler's own limit is 10,000). `tests/test_limits.py` builds, for each
target with limits, the spec at the boundary (clean) and one block over (refused).
"""

from __future__ import annotations

import argparse
import re
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

if __package__ in (None, ""):  # run as a script: make `benchmarks` and `compiler` importable
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks import generate  # noqa: E402
from compiler import pipeline  # noqa: E402
from compiler.targets import TARGETS  # noqa: E402

CEILING = 10_000
STEP = 5  # one block of the generated pipeline


@dataclass(frozen=True)
class Fit:
    target: str
    stages: int            # the most stages that fit (CEILING: no limit was reached)
    limited: bool          # whether a limit stopped it below CEILING
    largest_file: int      # bytes of the largest file at that size
    per_stage: float       # ... divided by the stages


def spec_bytes(target: str, n: int, settings: dict[str, Any] | None = None) -> bytes:
    """The benchmark spec of `n` stages, building only `target` (without the approval
    environment where the target refuses approval)."""
    data = generate.spec(n)
    data["targets"] = {target: dict(settings or {})}
    if target in ("kubeflow", "dvc"):
        data["environments"].pop("production")
    if target == "dvc":
        data["targets"] = {target: {"environment": "staging"}}
    return generate.dump(data).encode()


def outcome(target: str, n: int, settings: dict[str, Any] | None = None) -> tuple[bool, int]:
    """(fits, bytes of the largest file) of the `n`-stage spec on `target`."""
    analysis = pipeline.check(spec_bytes(target, n, settings), "mlops.yaml", lint=False)
    assert analysis.ok(), [d.format() for d in analysis.diagnostics][:5]
    output = pipeline.build(analysis, spec_path="mlops.yaml")
    largest = max((len(content.encode()) for part in output.parts
                   for content in part.files.values()), default=0)
    return not output.excesses, largest


# The files that hold a pipeline's stages, where a target writes others beside them (GitHub's
# scheduled-stage workflows and check workflow; Kubernetes' ConfigMap, CronJobs, Deployment):
# bytes per stage are measured on these, in the staging environment.
PIPELINE_FILE = {"github": r"/mlops-bench-staging\.yml$",
                 "kubernetes": r"(^|/)staging/workflowtemplate[^/]*\.yaml$"}


def pipeline_bytes_per_stage(target: str, n: int) -> float:
    """Bytes the `n`-stage spec's pipeline file(s) on `target` take per stage (for a target
    not in PIPELINE_FILE, its largest file)."""
    analysis = pipeline.check(spec_bytes(target, n), "mlops.yaml", lint=False)
    assert analysis.ok(), [d.format() for d in analysis.diagnostics][:5]
    files = pipeline.build(analysis, spec_path="mlops.yaml").files
    pattern = PIPELINE_FILE.get(target)
    sizes = [len(text.encode()) for path, text in files.items()
             if pattern is None or re.search(pattern, path)]
    assert sizes, (target, sorted(files))
    return (sum(sizes) if pattern is not None else max(sizes)) / n


def largest(target: str, ceiling: int = CEILING, settings: dict[str, Any] | None = None) -> Fit:
    """Bisection over whole blocks: the most stages (a multiple of STEP) that fit."""
    fits, size = outcome(target, ceiling, settings)
    if fits:
        return Fit(target, ceiling, False, size, size / ceiling)
    # blocks: `low` fits (checked below), `high` does not; generate.py makes 7 stages or more
    low, high = 2, ceiling // STEP
    ok, low_size = outcome(target, low * STEP, settings)
    if not ok:
        return Fit(target, 0, True, 0, 0.0)
    while high - low > 1:
        mid = (low + high) // 2
        ok, mid_size = outcome(target, mid * STEP, settings)
        if ok:
            low, low_size = mid, mid_size
        else:
            high = mid
    return Fit(target, low * STEP, True, low_size, low_size / (low * STEP))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("targets", nargs="*", default=list(TARGETS), choices=list(TARGETS))
    args = parser.parse_args(argv)
    print("| target | largest spec that fits | bytes of its largest file | bytes per stage |")
    print("|---|---|---|---|")
    for name in args.targets:
        fit = largest(name)
        held = f"{fit.stages:,}" if fit.limited else f"{fit.stages:,} (no limit reached)"
        print(f"| {name} | {held} | {fit.largest_file:,} | {fit.per_stage:,.0f} |", flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
