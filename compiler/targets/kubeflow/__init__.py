"""The Kubeflow Pipelines target: one KFP v2 pipeline IR file per environment, for Kubeflow
Pipelines 2.x and Vertex AI Pipelines.

See `render.py` for the file and `task.py` for how a task runs a stage.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import TYPE_CHECKING, Any, Literal, Optional

from pydantic import Field

from compiler.limits import FileLimit, Limit
from compiler.spec.base import Model
from compiler.spec.types import KubeSubdomain, Quantity, RelPath
from compiler.targets.base import (
    Anchor,
    Identifier,
    OutputFile,
    Support,
    emulated,
    native,
    unsupported,
)

if TYPE_CHECKING:  # pragma: no cover
    from compiler.lint.base import Rule
    from compiler.plan import Plan
    from compiler.pods import PodSettings

NAME = "kubeflow"

# A Kubernetes extended resource name (nvidia.com/gpu, amd.com/gpu), as Kubeflow Pipelines
# takes it, or an accelerator type as Vertex AI names it (NVIDIA_TESLA_T4, NVIDIA_L4, TPU_V3).
ACCELERATOR_PATTERN = (r"^([A-Z][A-Z0-9_]{0,62}"
                       r"|[a-z0-9]([-a-z0-9.]{0,251}[a-z0-9])?/[A-Za-z0-9]([-A-Za-z0-9_.]{0,61}"
                       r"[A-Za-z0-9])?)$")


class KubeflowWorkspace(Model):
    """The run's workspace: a volume claim KFP makes for each run (KFP 2.14 and later)."""

    size: Quantity = "10Gi"
    storage_class: Optional[KubeSubdomain] = None


class KubeflowSettings(Model):
    """`targets.kubeflow`: KFP v2 pipeline files (Kubeflow Pipelines, Vertex AI Pipelines)."""

    path: RelPath = "kfp"
    platform: Literal["kubeflow", "vertex"] = Field(
        "kubeflow", description="where the file runs: a Kubeflow Pipelines cluster, which "
        "runs each run as one Argo Workflow and so bounds the file's size (MLP410), or "
        "Vertex AI Pipelines, which does not")
    accelerator: str = Field(
        "nvidia.com/gpu", pattern=ACCELERATOR_PATTERN,
        description="what a stage's resources.gpu asks for: a Kubernetes resource name on "
                    "Kubeflow (nvidia.com/gpu), or a Vertex AI accelerator type "
                    "(NVIDIA_TESLA_T4, NVIDIA_L4, ...)")
    workspace: Optional[KubeflowWorkspace] = Field(
        KubeflowWorkspace(), description="the volume every stage works in, made per run; null "
        "on Vertex AI, which has none: each stage then works in a directory of its own")


CAPABILITIES: dict[str, Support] = {
    "needs": native("task dependencies"),
    "inputs/outputs": native("the run's workspace volume (KFP 2.14+); none on Vertex AI "
                             "(workspace: null)"),
    "retries": native("task retryPolicy; a gated stage retries inside its task, since KFP "
                      "would retry a failed gate"),
    "timeout": emulated("the stage runner bounds each attempt; activeDeadlineSeconds as a "
                        "backstop on Kubeflow"),
    "image": native("container image"),
    "resources": native("cpu and memory requests equal to limits"),
    "gpu": native("accelerator type (targets.kubeflow.accelerator) and count; GPU node "
                  "selector and tolerations on Kubeflow"),
    "matrix": native("ParallelFor over the combinations"),
    "params": native("typed pipeline inputs with defaults; a first task checks choices, "
                     "bounds and patterns"),
    "secrets": native("secretAsEnv from one Secret (kfp-kubernetes; not on Vertex AI)"),
    "gate": emulated("gate script after the command"),
    "schedule": unsupported("a recurring run or a Vertex AI schedule is made on the server, "
                            "not in the file"),
    "stage schedule": unsupported("a KFP file holds one DAG: the stage is left out"),
    "approval": unsupported("KFP has no approval step: an environment with approval is an "
                            "error (MLP405)"),
    "serve": unsupported("the deploy task runs its command; no server is started"),
    "push trigger": unsupported("KFP has no push trigger"),
    "tracking": emulated("the stage runner tags each run; run id KFP's pipeline job id, "
                         "commit with --ref; tokens from the Secret"),
}


# The engines' documented limits on a pipeline file (`compiler.limits`).
LIMITS: tuple[Limit, ...] = (
    FileLimit("a pipeline file uploaded to Kubeflow Pipelines", 32 * 1024 * 1024, "bytes",
              "the Kubeflow Pipelines API server refuses a larger pipeline file or pipeline "
              "version (MaxFileLength, 32 MiB, in kubeflow/pipelines "
              "backend/src/apiserver/common/const.go)",
              "split the pipeline into several specs", pattern=r"\.yaml$"),
    # A file the server takes is not yet a run that starts: Kubeflow Pipelines compiles each
    # run into one Argo Workflow that holds every task's spec and each distinct component and
    # executor (as JSON, in its arguments: backend/src/v2/compiler/argocompiler), and Argo
    # fails a Workflow over MAX_WORKFLOW_SIZE with its node status, which grows by a driver
    # and an executor pod per task. As for the Kubernetes target's WorkflowTemplate: half of
    # Argo's 1 MiB for what the file puts there (measured on the file, which is larger than
    # that JSON: it is indented YAML), half for the run. Vertex AI runs no Argo Workflow.
    FileLimit("a pipeline that runs on a Kubeflow Pipelines cluster", 524_288, "bytes",
              "Kubeflow Pipelines runs each run as one Argo Workflow holding every task's spec, "
              "and Argo fails a Workflow over MAX_WORKFLOW_SIZE, 1 MiB by default, with its node "
              "status ('workflow is longer than maximum allowed size'); half of it is left to "
              "the run",
              "split the pipeline into several specs; on Vertex AI, which runs no Argo "
              "Workflow, set 'targets.kubeflow.platform: vertex'", pattern=r"\.yaml$",
              enforced=lambda settings: settings.platform == "kubeflow"),
)


class KubeflowTarget:
    name = NAME
    title = "Kubeflow Pipelines and Vertex AI Pipelines"
    settings = KubeflowSettings
    shortcut = None
    default = False
    anchor: Anchor = "output"
    capabilities = CAPABILITIES
    limits = LIMITS
    holds = 375  # stages of the benchmark spec on a Kubeflow cluster (`Target.holds`)
    file_pattern = r"(^|/)kfp/"

    def roots(self, settings: Any) -> tuple[str, ...]:
        return (str(settings.path).rstrip("/"),)

    def containers(self, settings: Any) -> str | None:
        return NAME

    def pod_settings(self, settings: Any, pipeline: str) -> PodSettings | None:
        return None  # the Secret and GPU placement come from targets.kubernetes

    def rules(self) -> Sequence[Rule]:
        from compiler.targets.kubeflow import approval, placeholders

        return (placeholders.RULE, approval.RULE)

    def render(self, plan: Plan) -> list[OutputFile]:
        from compiler.targets.kubeflow import render

        return render.render(plan)

    def repository_files(self, plans: Sequence[Plan]) -> list[OutputFile]:
        return []

    def identifiers(self, plans: Sequence[Plan]) -> Iterator[Identifier]:
        from compiler.targets.kubeflow import names

        return names.identifiers(plans)


TARGET = KubeflowTarget()
