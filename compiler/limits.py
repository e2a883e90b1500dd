"""Engine limits: what a target's engine refuses or silently ignores, declared per target and
checked by one mechanism.

Each target lists its engine's documented limits (`Target.limits`): limits on a generated file
(measured on the rendered bytes, never estimated) and limits on a stage (counted on the plan,
like the jobs of a matrix). `mlops build` checks every file it would write and writes nothing
when one is over (MLP410); lint reports the same, and the stage limits (MLP411).

Lint stays cheap: it renders only when a generous upper bound on a file's size
(`upper_bound`) cannot rule the limit out, so a small spec never imports the renderers.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from compiler.diagnostics import quote

if TYPE_CHECKING:  # pragma: no cover
    from compiler.diagnostics import Diagnostic
    from compiler.envvars import EnvVar
    from compiler.plan import Plan, PlanStage
    from compiler.source import Locator


# The largest spec SPEC.md promises to lint and build (section 2): 10,000 stages.
SUPPORTED_STAGES = 10_000


def utf8_bytes(text: str) -> int:
    return len(text.encode("utf-8"))


@dataclass(frozen=True)
class FileLimit:
    """A limit on one generated file, e.g. GitHub's 512,000 bytes per workflow file."""

    name: str                  # what is limited, for messages: "a workflow file"
    maximum: int
    unit: str                  # "bytes", ...
    source: str                # where the engine documents it (a URL or a quote)
    advice: str                # what a user can do when a spec does not fit
    pattern: str               # regex (search) on the file's path; ".*" for every file
    measure: Callable[[str], int] = utf8_bytes  # the rendered text (header included)
    # Whether the engine enforces it with the target's settings (None: always), e.g. the
    # annotation limit of client-side apply does not bind files applied server-side.
    enforced: Callable[[Any], bool] | None = field(default=None, compare=False)

    def applies(self, path: str) -> bool:
        return re.search(self.pattern, path) is not None


@dataclass(frozen=True)
class StageLimit:
    """A limit on what one stage turns into, e.g. at most 256 jobs for a GitHub matrix."""

    name: str
    maximum: int
    unit: str
    source: str
    advice: str
    measure: Callable[[PlanStage], int] = field(compare=False)


Limit = FileLimit | StageLimit


@dataclass(frozen=True)
class Excess:
    """One limit exceeded: by a file (`path`) or by a stage (`stage`)."""

    target: str
    limit: Limit
    size: int
    path: str | None = None
    stage: str | None = None

    def message(self) -> str:
        what = f"{self.path}" if self.path is not None else f"stage {quote(self.stage)}"
        return (f"{what} would be {self.size:,} {self.limit.unit}, over the {self.target} "
                f"limit of {self.limit.maximum:,} {self.limit.unit} for {self.limit.name} "
                f"(by {self.size - self.limit.maximum:,}; {self.limit.source})")


def file_excesses(target: str, limits: Iterable[Limit], files: Iterable[tuple[str, str]],
                  settings: Any = None) -> Iterator[Excess]:
    """The files over a limit the engine enforces with the target's `settings` (None: files
    that belong to no one plan's settings, checked against every limit)."""
    file_limits = [limit for limit in limits if isinstance(limit, FileLimit)
                   and (settings is None or limit.enforced is None or limit.enforced(settings))]
    for path, text in files:
        for limit in file_limits:
            if limit.applies(path):
                size = limit.measure(text)
                if size > limit.maximum:
                    yield Excess(target, limit, size, path=path)


def stage_excesses(target: str, limits: Iterable[Limit], plan: Plan) -> Iterator[Excess]:
    stage_limits = [limit for limit in limits if isinstance(limit, StageLimit)]
    for stage in plan.stages:
        for limit in stage_limits:
            size = limit.measure(stage)
            if size > limit.maximum:
                yield Excess(target, limit, size, stage=stage.name)


# A generous bound on what one stage job adds to any generated file besides spec text (job or
# task scaffolding, pod settings, artifact steps), and on a file's own scaffolding. A test
# checks them against every example and benchmark spec, on every target.
STAGE_OVERHEAD = 4096
FILE_OVERHEAD = 65536
# The most bytes one character of spec text can become in an output (`\U0001f600` in YAML).
ESCAPE_FACTOR = 10


def _text(var: EnvVar) -> int:
    return len(var.name) + sum(len(p) for p in var.pieces if isinstance(p, str))


def upper_bound(plan: Plan) -> int:
    """More bytes than any one file rendered from `plan` can have: fixed scaffolding per file
    and per stage job (a job per matrix combination, as Airflow writes them), plus every piece
    of spec text with the worst escaping, written once per job."""
    text = sum(len(p.name) + len(p.default_text) + len(str(p.schema)) for p in plan.params)
    total = FILE_OVERHEAD + ESCAPE_FACTOR * text
    for stage in plan.stages:
        own = len(stage.run or "") + sum(len(o) for o in (*stage.inputs, *stage.outputs))
        own += sum(_text(var) for var in stage.env)
        total += max(1, len(stage.combinations)) * (STAGE_OVERHEAD + ESCAPE_FACTOR * own)
    return total


def diagnostics(excesses: Iterable[Excess], locator: Locator) -> list[Diagnostic]:
    """MLP410 for a file over a limit (at the target's block, or 1:1 when `targets` is
    absent), MLP411 for a stage over one (at the stage)."""
    from compiler.diagnostics import diag

    found = []
    for excess in excesses:
        if excess.stage is not None:
            found.append(diag("MLP411", excess.message(),
                              locator.key_position(("stages", excess.stage)),
                              hint=excess.limit.advice))
        else:
            found.append(diag("MLP410", excess.message(),
                              locator.key_position(("targets", excess.target)),
                              hint=excess.limit.advice))
    return found
