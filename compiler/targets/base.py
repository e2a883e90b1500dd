"""What a target is: one package under `compiler/targets/`, one entry in `TARGETS`.

A target declares everything the rest of the compiler needs to know about it: its settings model
(the `targets.<name>` block of a spec), what it does with each spec feature (the rows of
`mlops targets`), where its files go, whether it runs stages in containers, its engine's
limits, its own lint rules, and its renderer. Nothing outside the package names a target:
the spec model, `--target`, capability lint, the check workflow's `paths:`, the pre-commit
hook's `files:` and the README tables are all derived from the registry.

The declaration is light (no Jinja, no renderer imported), so `mlops lint` can read it; the
renderer is imported when `render` is first called.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal, Protocol

if TYPE_CHECKING:  # pragma: no cover - typing only; plan imports the spec, which imports us
    from compiler.lint.base import Rule
    from compiler.plan import Plan
    from compiler.pods import PodSettings
    from compiler.spec.base import Model
    from compiler.limits import Limit

Level = Literal["native", "emulated", "unsupported"]
# Where a target's paths start: the output root (`--out`, by default the spec's directory), or
# the repository root for engines that read a fixed place there (GitHub's .github/workflows).
Anchor = Literal["output", "repository"]


@dataclass(frozen=True)
class Support:
    """How a target carries one spec feature, in a phrase a user can check."""

    level: Level
    how: str


def native(how: str) -> Support:
    return Support("native", how)


def emulated(how: str) -> Support:
    return Support("emulated", how)


def unsupported(how: str) -> Support:
    return Support("unsupported", how)


@dataclass(frozen=True)
class OutputFile:
    """One generated file: its '/'-separated path below the target's anchor, and its text
    without the header (the writer adds it, the same for every target)."""

    path: str
    content: str


@dataclass(frozen=True)
class Identifier:
    """A name a target derives from the spec that must be unique within its scope (a file
    path, a DAG id, a task id in one DAG, an object in one namespace). Lint rule MLP412
    reports two that coincide, at the spec place each comes from."""

    scope: str                    # "file", "dag_id", "task id in mlops_churn", ...
    name: str
    path: tuple[str | int, ...]   # where in the spec it comes from (for the position)
    what: str                     # what it names, for the message: "environment 'a_b'"


class Target(Protocol):
    """A target. `render` is a pure function of the plan (no clock, no environment, no file
    system) and never fails on a linted spec: a failure there is our bug."""

    # Read-only properties, so that a class attribute of a narrower type satisfies them.
    @property
    def name(self) -> str:
        """As in `targets:` and `--target`."""

    @property
    def title(self) -> str:
        """The engine, for people: "GitHub Actions"."""

    @property
    def settings(self) -> type[Model]:
        """The model of the `targets.<name>` block."""

    @property
    def shortcut(self) -> type[Model] | None:
        """`environments.<env>.<name>: {...}`, deep-merged into `targets.<name>` (or None)."""

    @property
    def default(self) -> bool:
        """Built when a spec has no `targets` block."""

    @property
    def anchor(self) -> Anchor:
        """Where its paths start."""

    @property
    def capabilities(self) -> Mapping[str, Support]:
        """Feature (`compiler.capabilities.FEATURES`) -> how this target supports it."""

    @property
    def limits(self) -> Sequence[Limit]:
        """The engine's documented limits on the files this target writes."""

    @property
    def holds(self) -> int:
        """The most stages of the benchmark spec (`benchmarks/generate.py`, default settings)
        whose files stay within `limits`: measured by `benchmarks/largest.py`, shown by
        `mlops targets`, and kept true by tests/test_limits.py (that many build, one block of
        five more is refused). `compiler.limits.SUPPORTED_STAGES` when no limit is reached."""

    @property
    def file_pattern(self) -> str:
        """A regex matching its default output paths (the pre-commit hook's `files:`)."""

    def roots(self, settings: Any) -> tuple[str, ...]:
        """Directories (relative to the anchor) that hold this target's files."""
        ...

    def containers(self, settings: Any) -> str | None:
        """When every stage runs in a container image (so an image is required), how messages
        name this target doing so ("airflow (operator: kubernetes)"); None otherwise."""
        ...

    def pod_settings(self, settings: Any, pipeline: str) -> PodSettings | None:
        """The cluster-wide pod settings this target's block defines, if it defines them
        (namespace, service account, secret, GPU placement); other container targets use them.
        `pipeline` is the pipeline's DNS name, for default names."""
        ...

    def rules(self) -> Sequence[Rule]:
        """Lint rules that only matter when this target is built (imported on call)."""
        ...

    def render(self, plan: Plan) -> list[OutputFile]:
        """The files of one plan (one environment)."""
        ...

    def repository_files(self, plans: Sequence[Plan]) -> list[OutputFile]:
        """Files rendered once per spec rather than per environment (may be empty)."""
        ...

    def identifiers(self, plans: Sequence[Plan]) -> Iterable[Identifier]:
        """Every name it derives that must be unique in its scope (see `Identifier`), for all
        the spec's plans together; computed without rendering."""
        ...
