"""What a lint rule is, and what it is given."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from compiler.diagnostics import Diagnostic, Severity
from compiler.source import Locator
from compiler.spec.models import Spec

if TYPE_CHECKING:  # the graph module imports networkx, which `mlops explain` never needs
    from compiler.graph import StageGraph

Path = tuple[str | int, ...]


@dataclass(frozen=True)
class LintContext:
    """Everything a rule may look at. `graph` is None when the graph phase found errors."""

    spec: Spec
    environments: Mapping[str, Spec]
    graph: StageGraph | None
    data: Any
    locator: Locator

    def specs(self) -> Iterator[tuple[str | None, Spec]]:
        """The base spec (None) and each environment's merged spec."""
        yield None, self.spec
        yield from sorted(self.environments.items())


@dataclass(frozen=True)
class Rule:
    """A lint rule: a stable code (never reused), a short name, a severity and a check.

    `doc` is the rule module's docstring: what it finds, why it matters, and a failing and a
    fixed example (```yaml blocks), shown by `mlops explain CODE` and tested."""

    code: str
    name: str
    severity: Severity
    summary: str
    check: Callable[[LintContext], Iterable[Diagnostic]]
    doc: str
