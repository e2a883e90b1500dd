"""The DVC target: `dvc repro` runs the pipeline on one machine, cached.

See `render.py` for the files and how spec strings stay out of DVC's `${...}` interpolation.
Built only when listed under `targets` (`default = False`).
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import TYPE_CHECKING, Annotated, Any, Optional

from pydantic import Field, StringConstraints

from compiler.limits import SUPPORTED_STAGES
from compiler.spec.base import Model
from compiler.spec.types import Name
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

NAME = "dvc"

# The directory is part of every stage's `cmd`, which DVC runs with the user's `$SHELL` (sh,
# bash, zsh or fish) and interpolates: only characters all of them read as themselves.
DvcPath = Annotated[str, StringConstraints(
    pattern=r"^(?!(.*/)?\.\.(/|$))[A-Za-z0-9_.][A-Za-z0-9_./-]*$")]


class DvcSettings(Model):
    """`targets.dvc`: DVC pipeline files (`dvc.yaml`), run with `dvc repro`."""

    path: DvcPath = Field("mlops-dvc", description="where the pipeline directories go, "
                          "relative to the output root; letters, digits, '_', '-', '.', '/'")
    environment: Optional[Name] = Field(
        None, description="the one environment DVC builds, when the spec has several: DVC "
                          "refuses an output declared by two dvc.yaml files of one repository")


CAPABILITIES: dict[str, Support] = {
    "needs": native("stage deps on upstream outs (a stamp file where no file links them)"),
    "inputs/outputs": native("deps and outs in one working directory (wdir: the output root)"),
    "retries": emulated("the stage runner's retry loop"),
    "timeout": emulated("the stage runner's limit on each attempt"),
    "image": unsupported("stages run on this machine"),
    "resources": unsupported("stages run on this machine"),
    "gpu": unsupported("stages run on this machine"),
    "matrix": emulated("one DVC stage runs every combination in turn (DVC refuses outputs "
                       "that shards share)"),
    "params": native("a params file in each stage's params (dvc params diff), read when "
                     "the stage runs; the launcher checks its values against their schemas"),
    "secrets": emulated("the environment dvc repro runs in"),
    "gate": emulated("the stage runner checks it after the command"),
    "schedule": unsupported("DVC runs when you run dvc repro"),
    "stage schedule": unsupported("scheduled stages are left out of dvc.yaml"),
    "approval": unsupported("no approval step: an error for the environment DVC builds"),
    "serve": unsupported("the deploy stage runs its command; no server is started"),
    "push trigger": unsupported("DVC runs when you run dvc repro"),
    "tracking": emulated("the stage runner tags each run; no run id (DVC has none); "
                         "tokens from the environment dvc repro runs in"),
}


class DvcTarget:
    name = NAME
    title = "DVC"
    settings = DvcSettings
    shortcut = None
    default = False
    anchor: Anchor = "output"
    capabilities = CAPABILITIES
    limits: Sequence[Any] = ()
    holds = SUPPORTED_STAGES  # stages of the benchmark spec (`Target.holds`)
    file_pattern = r"(^|/)mlops-dvc/"

    def roots(self, settings: Any) -> tuple[str, ...]:
        return (str(settings.path).rstrip("/"),)

    def containers(self, settings: Any) -> str | None:
        return None  # stages run on the machine that runs `dvc repro`

    def pod_settings(self, settings: Any, pipeline: str) -> PodSettings | None:
        return None

    def rules(self) -> Sequence[Rule]:
        from compiler.targets.dvc import environment_choice, interpolation, output_overlap

        return (environment_choice.RULE, interpolation.RULE, output_overlap.RULE)

    def render(self, plan: Plan) -> list[OutputFile]:
        from compiler.targets.dvc import render

        return render.render(plan)

    def identifiers(self, plans: Sequence[Plan]) -> Iterator[Identifier]:
        from compiler.targets.dvc import names

        return names.identifiers(plans)

    def repository_files(self, plans: Sequence[Plan]) -> list[OutputFile]:
        return []


TARGET = DvcTarget()
