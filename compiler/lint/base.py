"""What a lint rule is, and what it is given."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from compiler.diagnostics import Diagnostic, Severity, diag
from compiler.source import Locator

if TYPE_CHECKING:  # the graph module imports networkx, which `mlops explain` never needs
    from compiler.graph import StageGraph
    from compiler.spec.models import Spec

Path = tuple[str | int, ...]


@dataclass(frozen=True)
class LintContext:
    """Everything a rule may look at. `graph` is None when the graph phase found errors."""

    spec: Spec
    environments: Mapping[str, Spec]
    graph: StageGraph | None
    data: Any
    locator: Locator
    # What several rules derive alike (the plans: seconds for a large spec), computed once per
    # lint run by the first rule that asks (`compiler.lint.limits_common`).
    memo: dict[str, Any] = field(default_factory=dict, compare=False, repr=False)
    # Whether rules may render the files to measure them (MLP410). `mlops build` says no: it
    # renders them anyway and checks the same limits on the very bytes it would write.
    renders: bool = True

    def specs(self) -> Iterator[tuple[str | None, Spec]]:
        """The base spec (None) and each environment's merged spec."""
        yield None, self.spec
        yield from sorted(self.environments.items())


@dataclass(frozen=True)
class Rule:
    """A lint rule: its stable code (name, severity and summary are in `compiler.codes`) and
    its check, which yields findings without a code (`finding`); the driver stamps the code.

    `doc` is the rule module's docstring: what it finds, why it matters, and a failing and a
    fixed example (```yaml blocks), shown by `mlops explain CODE` and tested."""

    code: str
    check: Callable[[LintContext], Iterable[Diagnostic]]
    doc: str
    # Reads the plans (`limits_common.plans_of`): runs in the process that keeps them, while
    # the other rules of a large spec may run beside it in another (`compiler.lint.run`).
    lowers: bool = False

    @property
    def name(self) -> str:
        from compiler.codes import CODES

        return CODES[self.code].name

    @property
    def severity(self) -> Severity:
        from compiler.codes import CODES

        return CODES[self.code].severity

    @property
    def summary(self) -> str:
        from compiler.codes import CODES

        return CODES[self.code].summary


def finding(message: str, position: tuple[int, int] | None = None, *,
            hint: str | None = None) -> Diagnostic:
    """What a rule reports: the driver gives it the rule's code and severity, then a path."""
    return diag("", message, position, hint=hint)
