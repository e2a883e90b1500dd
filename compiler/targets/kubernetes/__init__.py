"""The Kubernetes target: Argo Workflows for the pipeline DAG, plain Kubernetes for the rest.

See `render.py` for the files. Its settings are also the cluster settings of every other target
that runs pods (Airflow's `operator: kubernetes`): namespace, service account, Secret, GPU
placement (`pod_settings`).
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import TYPE_CHECKING, Any, Literal, Optional

from pydantic import Field

from compiler.limits import SUPPORTED_STAGES, FileLimit, Limit
from compiler.spec.base import Model
from compiler.spec.types import (
    NAMESPACE_PATTERN,
    ApprovalTimeout,
    KubeLabelKey,
    KubeLabelValue,
    KubeSubdomain,
    Quantity,
    RelPath,
)
from compiler.targets.base import Anchor, Identifier, OutputFile, Support, emulated, native, unsupported

if TYPE_CHECKING:  # pragma: no cover
    from compiler.lint.base import Rule
    from compiler.plan import Plan
    from compiler.pods import PodSettings

NAME = "kubernetes"


class Workspace(Model):
    """The run's working directory, one volume claim that every Argo step mounts."""

    size: Quantity = "10Gi"
    storage_class: Optional[KubeSubdomain] = None
    access_mode: Literal["ReadWriteOnce", "ReadWriteMany"] = Field(
        "ReadWriteOnce",
        description="ReadWriteOnce (the default) attaches to one node: stages that run at the "
                    "same time on other nodes cannot mount it (lint MLP416 warns until this is "
                    "set); ReadWriteMany needs a storage class that offers it (NFS, EFS, "
                    "Filestore, Azure Files)")


class Toleration(Model):
    key: KubeLabelKey
    operator: Literal["Exists", "Equal"] = "Exists"
    value: Optional[KubeLabelValue] = None
    effect: Optional[Literal["NoSchedule", "PreferNoSchedule", "NoExecute"]] = None


class KubernetesSettings(Model):
    """`targets.kubernetes`: Argo Workflows and Kubernetes manifests."""

    path: RelPath = "k8s"
    namespace: str = Field("default", pattern=NAMESPACE_PATTERN)
    service_account: Optional[KubeSubdomain] = None
    secret_name: Optional[KubeSubdomain] = Field(
        None, description="Kubernetes Secret holding the spec's secrets, one key per name; "
                          "default: mlops-<pipeline>")
    workspace: Workspace = Workspace()
    image_pull_secrets: list[KubeSubdomain] = Field(
        default_factory=list,
        description="Secrets (type kubernetes.io/dockerconfigjson) in the namespace for pulling "
                    "private images: every pod's imagePullSecrets (Argo steps, Deployments, "
                    "CronJobs)")
    gpu_node_selector: dict[KubeLabelKey, KubeLabelValue] = Field(default_factory=dict)
    gpu_tolerations: list[Toleration] = Field(default_factory=list)
    apply: Literal["client-side", "server-side"] = Field(
        "client-side",
        description="how the files are applied, which decides the largest object they may hold: "
                    "client-side (kubectl apply, Argo CD's default sync) keeps a copy of each "
                    "object in an annotation of at most 262,144 bytes; server-side (kubectl "
                    "apply --server-side, Flux; Argo CD through the ServerSideApply=true sync "
                    "option that every object then carries) keeps none, so objects may hold up "
                    "to 1 MiB")
    approval_timeout: ApprovalTimeout = Field(
        "24h", description="how long an Argo approval waits for a human; when it passes, the "
                           "deploy is rejected (skipped), never run")


class KubernetesShortcut(Model):
    """`environments.<env>.kubernetes`: a shortcut for `targets.kubernetes` in an overlay."""

    namespace: str = Field(pattern=NAMESPACE_PATTERN)


CAPABILITIES: dict[str, Support] = {
    "needs": native("Argo DAG dependencies"),
    "inputs/outputs": native("one workspace volume claim for the whole workflow "
                             "(ReadWriteOnce unless workspace.access_mode says otherwise)"),
    "retries": native("Argo retryStrategy with backoff; a CronJob's Job backoffLimit"),
    "timeout": native("activeDeadlineSeconds"),
    "image": native("container image"),
    "resources": native("requests equal to limits"),
    "gpu": native("nvidia.com/gpu limit, GPU node selector and tolerations"),
    "matrix": native("withItems"),
    "params": native("workflow parameters with enum; a first task checks types, bounds "
                     "and patterns before any stage"),
    "secrets": native("secretKeyRef to one Secret"),
    "gate": emulated("the stage runner checks it after the command; never retried"),
    "schedule": native("CronWorkflow schedules"),
    "stage schedule": native("CronJob"),
    "approval": native("Argo suspend step before deploy; no answer within approval_timeout "
                       "rejects it"),
    "serve": native("Deployment with the deploy stage's env, secrets and service account; "
                    "Service and HorizontalPodAutoscaler"),
    "push trigger": unsupported("Argo has no push trigger (use Argo Events)"),
    "tracking": emulated("the stage runner tags each run; run id the Workflow's (or "
                         "Job's) name, commit with --ref; tokens from the Secret"),
}


# `apply: server-side` puts this annotation on every object (`pod.meta`): Argo CD then applies
# the object server-side (its per-resource sync option), keeping no last-applied copy.
SERVER_SIDE_ANNOTATION = ("argocd.argoproj.io/sync-options", "ServerSideApply=true")


LIMITS: tuple[Limit, ...] = (
    FileLimit("one object applied with client-side kubectl apply", 262_144, "bytes",
              "client-side kubectl apply (and Argo CD's default sync) stores the object in the "
              "kubectl.kubernetes.io/last-applied-configuration annotation, and annotations "
              "hold at most 262,144 bytes (apimachinery's TotalAnnotationSizeLimitB; "
              "argo-cd.readthedocs.io/en/stable/user-guide/sync-options, Server-Side Apply)",
              "split the pipeline into several specs, or apply server-side: set "
              "'targets.kubernetes.apply: server-side' and use 'kubectl apply --server-side' "
              "(Argo CD and Flux need nothing more)",
              pattern=r"\.yaml$", enforced=lambda settings: settings.apply == "client-side"),
    FileLimit("one Kubernetes object", 1_048_576, "bytes",
              "etcd refuses requests over 1.5 MiB by default (etcd.io/docs/v3.5/dev-guide/"
              "limit); a ConfigMap holds at most 1 MiB (kubernetes.io/docs/concepts/"
              "configuration/configmap); Argo: workflows 'must be under 1MB' "
              "(argo-workflows.readthedocs.io/en/latest/offloading-large-workflows)",
              "split the pipeline into several specs (each its own WorkflowTemplate)",
              pattern=r"\.yaml$"),
    # An object the API server stores is not yet a pipeline that runs: every Workflow keeps a
    # copy of its template's spec in its own status, so a template near 1 MiB would be applied
    # and then fail every run. Half of Argo's budget for the template, half for the run.
    FileLimit("a WorkflowTemplate, which every run copies", 524_288, "bytes",
              "each Workflow stores its WorkflowTemplate's spec (status."
              "storedWorkflowTemplateSpec) beside its node status, and Argo fails a Workflow "
              "over MAX_WORKFLOW_SIZE, 1 MiB by default, once its node status is compressed "
              "('workflow is longer than maximum allowed size'); half of it is left to the run",
              "split the pipeline into several specs; at thousands of tasks, enable Argo's node "
              "status offloading too (argo-workflows.readthedocs.io/en/latest/"
              "offloading-large-workflows)",
              pattern=r"(^|/)workflowtemplate(-part-\d+)?\.yaml$"),
)


class KubernetesTarget:
    name = NAME
    title = "Kubernetes and Argo Workflows"
    settings = KubernetesSettings
    shortcut = KubernetesShortcut
    default = True
    anchor: Anchor = "output"
    capabilities = CAPABILITIES
    limits = LIMITS
    holds = SUPPORTED_STAGES  # stages of the benchmark spec (`Target.holds`): parts.py
    file_pattern = r"(^|/)k8s/"

    def roots(self, settings: Any) -> tuple[str, ...]:
        return (str(settings.path).rstrip("/"),)

    def containers(self, settings: Any) -> str | None:
        return NAME

    def pod_settings(self, settings: Any, pipeline: str) -> PodSettings | None:
        from compiler.pods import PodSettings, Toleration as PodToleration

        return PodSettings(
            namespace=settings.namespace,
            service_account=settings.service_account,
            secret_name=settings.secret_name or f"mlops-{pipeline}",
            gpu_node_selector=tuple(sorted(settings.gpu_node_selector.items())),
            gpu_tolerations=tuple(PodToleration(t.key, t.operator, t.value, t.effect)
                                  for t in settings.gpu_tolerations),
            image_pull_secrets=tuple(dict.fromkeys(settings.image_pull_secrets)),
        )

    def rules(self) -> Sequence[Rule]:
        from compiler.targets.kubernetes import argo_substitution, workspace_access

        return (argo_substitution.RULE, workspace_access.RULE)

    def render(self, plan: Plan) -> list[OutputFile]:
        from compiler.targets.kubernetes import render

        return render.render(plan)

    def repository_files(self, plans: Sequence[Plan]) -> list[OutputFile]:
        return []

    def identifiers(self, plans: Sequence[Plan]) -> Iterator[Identifier]:
        from compiler.targets.kubernetes import names

        return names.identifiers(plans)


TARGET = KubernetesTarget()
