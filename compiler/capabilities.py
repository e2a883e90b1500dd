"""How each target carries each spec feature: native, emulated (and how), or unsupported.

One table, read by renderers' authors, by lint (MLP401 warns where a built target cannot carry a
feature the spec uses) and by `mlops targets`, and printed in the README.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

Level = Literal["native", "emulated", "unsupported"]


@dataclass(frozen=True)
class Support:
    level: Level
    how: str


def _n(how: str) -> Support:
    return Support("native", how)


def _e(how: str) -> Support:
    return Support("emulated", how)


def _u(how: str) -> Support:
    return Support("unsupported", how)


TARGET_ORDER = ("github", "airflow", "kubernetes")

# feature -> target -> support. Keys of the first column are what lint names in MLP401.
CAPABILITIES: dict[str, dict[str, Support]] = {
    "needs": {"github": _n("job needs"), "airflow": _n("task dependencies"),
              "kubernetes": _n("Argo DAG dependencies")},
    "inputs/outputs": {"github": _e("upload-artifact / download-artifact between jobs"),
                       "airflow": _e("one shared working directory (bash) or workspace volume"),
                       "kubernetes": _n("one workspace volume claim for the whole workflow")},
    "retries": {"github": _e("a retry loop in the step's fixed wrapper script"),
                "airflow": _n("task retries and retry_delay"),
                "kubernetes": _n("Argo retryStrategy with backoff")},
    "timeout": {"github": _n("timeout-minutes (rounded up to a minute)"),
                "airflow": _n("execution_timeout"),
                "kubernetes": _n("activeDeadlineSeconds")},
    "image": {"github": _n("job container"), "airflow": _n("KubernetesPodOperator image "
                                                            "(operator: kubernetes); ignored by bash"),
              "kubernetes": _n("container image")},
    "resources": {"github": _u("runner size is chosen by runs_on"),
                  "airflow": _n("pod requests and limits (operator: kubernetes)"),
                  "kubernetes": _n("requests equal to limits")},
    "gpu": {"github": _n("gpu_runs_on runner labels"),
            "airflow": _n("nvidia.com/gpu limit (operator: kubernetes)"),
            "kubernetes": _n("nvidia.com/gpu limit, GPU node selector and tolerations")},
    "matrix": {"github": _n("strategy.matrix"), "airflow": _e("one task per combination"),
               "kubernetes": _n("withItems")},
    "params": {"github": _n("workflow_dispatch inputs"), "airflow": _n("DAG params (Param)"),
               "kubernetes": _n("workflow parameters with enum")},
    "secrets": {"github": _n("secrets context in step env"),
                "airflow": _e("worker environment (bash) or a Kubernetes Secret (pods)"),
                "kubernetes": _n("secretKeyRef to one Secret")},
    "gate": {"github": _e("gate script after the command"),
             "airflow": _e("gate script after the command"),
             "kubernetes": _e("gate script after the command")},
    "schedule": {"github": _n("on.schedule"), "airflow": _n("DAG schedule"),
                 "kubernetes": _n("CronWorkflow schedules")},
    "stage schedule": {"github": _n("a workflow of its own"), "airflow": _n("a DAG of its own"),
                       "kubernetes": _n("CronJob")},
    "approval": {"github": _n("GitHub environment protection on deploy jobs"),
                 "airflow": _u("noted in the DAG documentation only"),
                 "kubernetes": _n("Argo suspend step before deploy")},
    "serve": {"github": _u("the deploy job runs its command; no server is started"),
              "airflow": _u("the deploy task runs its command; no server is started"),
              "kubernetes": _n("Deployment, Service and HorizontalPodAutoscaler")},
    "push trigger": {"github": _n("on.push"), "airflow": _u("Airflow has no push trigger"),
                     "kubernetes": _u("Argo has no push trigger (use Argo Events)")},
}


def table_markdown() -> str:
    """The capability table as Markdown, for `mlops targets --format markdown` and the README."""
    lines = ["| feature | " + " | ".join(TARGET_ORDER) + " |",
             "|---|" + "---|" * len(TARGET_ORDER)]
    for feature, row in CAPABILITIES.items():
        cells = [f"{row[t].level}: {row[t].how}" for t in TARGET_ORDER]
        lines.append(f"| {feature} | " + " | ".join(cells) + " |")
    return "\n".join(lines) + "\n"


def table_text() -> str:
    lines = []
    for feature, row in CAPABILITIES.items():
        lines.append(feature)
        lines += [f"  {t:11} {row[t].level:12} {row[t].how}" for t in TARGET_ORDER]
    return "\n".join(lines) + "\n"
