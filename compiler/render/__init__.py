"""Phase 6, render: `TARGETS` maps each target name to its renderer (see `base.Target`)."""

from __future__ import annotations

from compiler.render.airflow import AirflowTarget
from compiler.render.base import OutputFile, Target
from compiler.render.github import GithubTarget
from compiler.render.kubernetes import KubernetesTarget

TARGETS: dict[str, Target] = {
    "github": GithubTarget(),
    "airflow": AirflowTarget(),
    "kubernetes": KubernetesTarget(),
}

__all__ = ["TARGETS", "OutputFile", "Target"]
