"""The GitHub Actions target: workflows under `.github/workflows/` at the repository root.

See `render.py` for the files and how spec strings stay data.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import TYPE_CHECKING, Any, Optional, Union

from pydantic import Field

from compiler.limits import FileLimit, Limit, StageLimit
from compiler.spec.base import Model
from compiler.spec.types import RelPath, SecretName
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

NAME = "github"

RunsOn = Union[str, list[str]]


# Named in every upload's `path:` and never written (render.py `_upload`); lint refuses an
# output under it (MLP417, artifact_root.py).
ARTIFACT_ROOT = ".mlops-artifact-root"


class RegistryCredentials(Model):
    """How GitHub logs in to pull a job's container image (a job's `container.credentials`)."""

    username: str = Field(min_length=1, max_length=256, description="the registry user name "
                          "(not a secret; e.g. your GitHub user or organisation)")
    password_secret: SecretName = Field(description="the repository secret holding the "
                                        "password or token (never its value)")


class GithubSettings(Model):
    """`targets.github`: GitHub Actions workflows."""

    path: RelPath = Field(".github/workflows", description="where the workflows go, relative "
                          "to the repository root (GitHub only reads .github/workflows)")
    runs_on: RunsOn = Field("ubuntu-24.04", description="runner labels of every job")
    gpu_runs_on: Optional[RunsOn] = Field(None, description="runner labels of jobs of stages "
                                          "with a GPU")
    registry_credentials: Optional[RegistryCredentials] = Field(
        None, description="credentials for pulling private stage images (every job with a "
        "container); without them GitHub pulls anonymously")


CAPABILITIES: dict[str, Support] = {
    "needs": native("job needs"),
    "inputs/outputs": emulated("upload-artifact / download-artifact between jobs"),
    "retries": emulated("the stage runner's retry loop"),
    "timeout": emulated("the stage runner bounds each attempt; the job's timeout-minutes as a "
                        "backstop over all attempts"),
    "image": native("job container; registry_credentials for private images"),
    "resources": unsupported("runner size is chosen by runs_on"),
    "gpu": native("gpu_runs_on runner labels"),
    "matrix": native("strategy.matrix"),
    "params": native("workflow_dispatch inputs; a first job checks bounds, patterns and "
                     "types"),
    "secrets": native("secrets context in step env"),
    "gate": emulated("the stage runner checks it after the command, never retried"),
    "schedule": native("on.schedule"),
    "stage schedule": native("a workflow of its own"),
    "approval": native("GitHub environment protection on deploy jobs"),
    "serve": unsupported("the deploy job runs its command; no server is started"),
    "push trigger": native("on.push"),
    "tracking": emulated("the stage runner tags each run; run id github.run_id, commit "
                         "github.sha; tokens from repository secrets"),
}


LIMITS: tuple[Limit, ...] = (
    FileLimit("a workflow file", 512_000, "bytes",
              "GitHub does not start runs of a workflow file over 512,000 bytes, silently",
              "split the pipeline into several specs, or use fewer matrix combinations",
              pattern=r"\.ya?ml$"),
    StageLimit("the jobs of one matrix", 256, "jobs",
               "docs.github.com: a job matrix can generate at most 256 jobs per workflow run",
               "use fewer combinations, or split the axes over several stages",
               measure=lambda stage: len(stage.combinations)),
)


class GithubTarget:
    name = NAME
    title = "GitHub Actions"
    settings = GithubSettings
    shortcut = None
    default = True
    anchor: Anchor = "repository"
    capabilities = CAPABILITIES
    limits = LIMITS
    holds = 550  # stages of the benchmark spec (`Target.holds`)
    file_pattern = r"(^|/)mlops-[^/]*\.ya?ml$"

    def roots(self, settings: Any) -> tuple[str, ...]:
        return (str(settings.path).rstrip("/"),)

    def containers(self, settings: Any) -> str | None:
        return None  # a stage without an image runs on the runner itself

    def pod_settings(self, settings: Any, pipeline: str) -> PodSettings | None:
        return None

    def rules(self) -> Sequence[Rule]:
        from compiler.targets.github import artifact_root, gpu_runner, hosted_time_limit

        return (gpu_runner.RULE, hosted_time_limit.RULE, artifact_root.RULE)

    def render(self, plan: Plan) -> list[OutputFile]:
        from compiler.targets.github import render

        return render.render(plan)

    def repository_files(self, plans: Sequence[Plan]) -> list[OutputFile]:
        from compiler.targets.github import render

        return render.repository_files(plans)

    def identifiers(self, plans: Sequence[Plan]) -> Iterator[Identifier]:
        from compiler.targets.github import names

        return names.identifiers(plans)


TARGET = GithubTarget()
