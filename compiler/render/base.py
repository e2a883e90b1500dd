"""What a target renderer is: a plan in, files out."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from compiler.plan import Plan


@dataclass(frozen=True)
class OutputFile:
    """One generated file: its '/'-separated path below the output root, and its text without
    the header (the writer adds it, the same for every target)."""

    path: str
    content: str


class Target(Protocol):
    """A target: `name` as in `targets:` and `--target`; `render` is a pure function of the
    plan (no clock, no environment, no file system), and never fails on a linted spec."""

    name: str

    def render(self, plan: Plan) -> list[OutputFile]: ...

    def repository_files(self, plans: tuple[Plan, ...]) -> list[OutputFile]:
        """Files rendered once per spec rather than per environment (may be empty)."""
        ...
