"""How long a GitHub job may run: the budget of a stage's attempts, and GitHub's own cap.

The stage runner bounds each attempt (GitHub cannot); the job's `timeout-minutes` is a backstop
over every attempt, the runner's grace before it kills one, the delays between them, and
fixed overhead for checkout, artifacts and the gate. Shared by the renderer and by lint
(MLP414), so both count the same minutes; no Jinja here, the lint path stays light.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # pragma: no cover - the planner imports networkx; `mlops explain` must not
    from compiler.plan import PlanStage

# Minutes a job gets on top of its command's budget, for checkout, artifacts and the gate.
JOB_OVERHEAD_MINUTES = 10
# docs.github.com, "Usage limits": each job in a workflow can run for up to 6 hours of execution
# time on GitHub-hosted runners; a job that reaches it is terminated. (Self-hosted: 5 days.)
HOSTED_JOB_MINUTES = 360
# Label prefixes of GitHub-hosted runner images (ubuntu-24.04, windows-2025, macos-15, ...).
HOSTED_PREFIXES = ("ubuntu-", "windows-", "macos-")


def budget_minutes(stage: PlanStage) -> int | None:
    """The minutes of all attempts of a command, or None without a timeout."""
    seconds = stage.policy.longest_seconds(stage.policy.retries + 1)
    if seconds is None:
        return None
    return math.ceil(seconds / 60)


def is_hosted(labels: str | Sequence[str]) -> bool:
    """Runner labels that pick a GitHub-hosted runner (one image label, no `self-hosted`)."""
    labels = [labels] if isinstance(labels, str) else list(labels)
    return "self-hosted" not in labels and any(label.startswith(HOSTED_PREFIXES)
                                               for label in labels)
