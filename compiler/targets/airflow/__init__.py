"""The Airflow target: one DAG file per environment, for Airflow 2.10+ and 3.x.

See `render.py` for the layout of the file and how each task runs the shared stage runner.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import TYPE_CHECKING, Any, Literal, Optional

from pydantic import Field

from compiler.limits import SUPPORTED_STAGES
from compiler.spec.base import Model
from compiler.spec.types import ApprovalTimeout, KubeLabel, RelPath
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

NAME = "airflow"


class AirflowSettings(Model):
    """`targets.airflow`: Airflow DAG files."""

    path: RelPath = "airflow/dags"
    version: Literal[2, 3] = 3
    operator: Literal["bash", "kubernetes"] = "bash"
    workdir: Optional[str] = Field(
        None, description="working directory of bash tasks; default: the repository root, "
                          "found relative to the DAG file")
    namespace: Optional[KubeLabel] = Field(
        None, description="pod namespace for operator: kubernetes; default: the namespace "
                          "of targets.kubernetes")
    approval_timeout: ApprovalTimeout = Field(
        "24h", description="how long a deploy task waits for a human's approval (version 3); "
                           "no answer in time rejects the deploy")


CAPABILITIES: dict[str, Support] = {
    "needs": native("task dependencies"),
    "inputs/outputs": emulated("one shared working directory (bash) or workspace volume"),
    "retries": native("task retries and retry_delay; never after a failed gate "
                      "(AirflowFailException)"),
    "timeout": native("execution_timeout"),
    "image": native("KubernetesPodOperator image (operator: kubernetes); ignored by bash"),
    "resources": native("pod requests and limits (operator: kubernetes)"),
    "gpu": native("nvidia.com/gpu limit (operator: kubernetes)"),
    "matrix": emulated("one task per combination"),
    "params": native("DAG params (Param)"),
    "secrets": emulated("a task gets only its stage's, from the worker environment (bash) "
                        "or a Kubernetes Secret (pods)"),
    "gate": emulated("the stage runner checks it after the command; a failed gate fails "
                     "the task without retries"),
    "schedule": native("DAG schedule"),
    "stage schedule": native("a DAG of its own"),
    "approval": native("ApprovalOperator before deploy tasks on Airflow 3.1+ (a rejection or "
                       "no answer within approval_timeout fails them); an error on version 2 "
                       "(MLP413)"),
    "serve": unsupported("the deploy task runs its command; no server is started"),
    "push trigger": unsupported("Airflow has no push trigger"),
    "tracking": emulated("the stage runner tags each run; run id the Airflow run id, "
                         "commit with --ref; tokens like other secrets"),
}


class AirflowTarget:
    name = NAME
    title = "Apache Airflow"
    settings = AirflowSettings
    shortcut = None
    default = True
    anchor: Anchor = "output"
    capabilities = CAPABILITIES
    limits: Sequence[Any] = ()
    holds = SUPPORTED_STAGES  # stages of the benchmark spec (`Target.holds`)
    file_pattern = r"(^|/)mlops_[^/]*\.py$"

    def roots(self, settings: Any) -> tuple[str, ...]:
        return (str(settings.path).rstrip("/"),)

    def containers(self, settings: Any) -> str | None:
        return f"{NAME} (operator: kubernetes)" if settings.operator == "kubernetes" else None

    def pod_settings(self, settings: Any, pipeline: str) -> PodSettings | None:
        return None

    def rules(self) -> Sequence[Rule]:
        from compiler.targets.airflow import approval

        return (approval.RULE,)

    def render(self, plan: Plan) -> list[OutputFile]:
        from compiler.targets.airflow import render

        return render.render(plan)

    def repository_files(self, plans: Sequence[Plan]) -> list[OutputFile]:
        return []  # each DAG file is self-contained

    def identifiers(self, plans: Sequence[Plan]) -> Iterator[Identifier]:
        from compiler.targets.airflow import names

        return names.identifiers(plans)


TARGET = AirflowTarget()
