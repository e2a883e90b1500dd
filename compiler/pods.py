"""What every pod the compiler writes shares, whichever target writes it (SPEC.md 5.5).

Kubernetes manifests, Airflow's KubernetesPodOperator tasks and Kubeflow tasks must agree: the
same non-root user, the same requests and limits where the spec says nothing, the same secret
and service account. Templates get these values from here (and only from here).
"""

from __future__ import annotations

from dataclasses import dataclass

DEFAULT_CPU = "500m"
DEFAULT_MEMORY = "512Mi"
RUN_AS = 65532  # the "nonroot" user of distroless images
GPU_RESOURCE = "nvidia.com/gpu"


@dataclass(frozen=True)
class Toleration:
    key: str
    operator: str
    value: str | None
    effect: str | None


@dataclass(frozen=True)
class PodSettings:
    """Cluster-wide settings of a pipeline's pods (from `targets.kubernetes`)."""

    namespace: str
    service_account: str | None
    secret_name: str                              # the Secret holding the spec's secrets
    gpu_node_selector: tuple[tuple[str, str], ...]  # sorted by key
    gpu_tolerations: tuple[Toleration, ...]
    image_pull_secrets: tuple[str, ...] = ()     # Secrets the kubelet pulls images with, in order


@dataclass(frozen=True)
class PodResources:
    """A stage's cpu and memory (requests equal limits) and GPU count, defaults applied."""

    cpu: str
    memory: str
    gpu: int
