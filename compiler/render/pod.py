"""What every pod the compiler writes shares, whichever target writes it (SPEC.md 5.5).

Kubernetes manifests and Airflow's KubernetesPodOperator tasks must agree: the same requests
and limits where the spec says nothing, the same non-root user (the templates write 65532).
"""

from __future__ import annotations

from compiler.plan import PlanStage

DEFAULT_CPU = "500m"
DEFAULT_MEMORY = "512Mi"
RUN_AS = 65532  # the "nonroot" user of distroless images


def cpu_memory(stage: PlanStage) -> dict[str, str]:
    """`cpu` and `memory` requests, and equal limits: the stage's own or the defaults above."""
    return {"cpu": stage.cpu or DEFAULT_CPU, "memory": stage.memory or DEFAULT_MEMORY}
