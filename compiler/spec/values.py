"""Parsers for the small languages inside spec strings: durations, cron, gates, interpolation.

Each raises `ValueError` with a message for a person; lint rules turn that into a diagnostic and
the planner relies on lint having run first.
"""

from __future__ import annotations

import re
from functools import lru_cache
from dataclasses import dataclass
from typing import Literal, Union

from compiler.diagnostics import quote

_DURATION = re.compile(r"([0-9]+)([smhd])")
_UNIT_SECONDS = {"s": 1, "m": 60, "h": 3600, "d": 86400}
# The largest number of seconds every engine's field holds (32-bit integers are the smallest
# of them; Airflow's timedelta overflows far above): about 68 years.
MAX_SECONDS = 2**31 - 1


@lru_cache(maxsize=1024)  # a spec has a few distinct durations, each in many stages
def duration_seconds(text: str) -> int:
    """`1h30m` -> 5400. One or more `<integer><unit>`, units s m h d."""
    if not re.fullmatch(r"([0-9]+[smhd])+", text):
        raise ValueError(f"invalid duration {quote(text)}: write an integer and a unit "
                         "(s, m, h or d), like 30s, 5m, 2h or 1h30m")
    seconds = sum(int(n) * _UNIT_SECONDS[u] for n, u in _DURATION.findall(text))
    if seconds > MAX_SECONDS:
        raise ValueError(f"duration {quote(text)} is longer than any engine can hold "
                         f"({MAX_SECONDS:,} seconds, about 68 years)")
    return seconds


_CRON_ALIASES = {
    "@hourly": "0 * * * *", "@daily": "0 0 * * *", "@midnight": "0 0 * * *",
    "@weekly": "0 0 * * 0", "@monthly": "0 0 1 * *", "@yearly": "0 0 1 1 *",
    "@annually": "0 0 1 1 *",
}
_MONTHS = {m: i + 1 for i, m in enumerate(
    "JAN FEB MAR APR MAY JUN JUL AUG SEP OCT NOV DEC".split())}
_DAYS = {d: i for i, d in enumerate("SUN MON TUE WED THU FRI SAT".split())}
# (name, low, high, names) for minute, hour, day of month, month, day of week
_FIELDS: tuple[tuple[str, int, int, dict[str, int]], ...] = (("minute", 0, 59, {}), ("hour", 0, 23, {}), ("day of month", 1, 31, {}),
           ("month", 1, 12, _MONTHS), ("day of week", 0, 7, _DAYS))


def cron_fields(text: str) -> str:
    """Validate a cron expression; return five numeric fields (names and @aliases resolved),
    the one form every engine reads alike."""
    expression = _CRON_ALIASES.get(text.strip().lower(), text.strip())
    parts = expression.split()
    if len(parts) != 5:
        raise ValueError(f"invalid cron {quote(text)}: expected 5 fields (minute hour day-of-month "
                         f"month day-of-week), found {len(parts)}")
    return " ".join(_cron_field(part, *spec) for part, spec in zip(parts, _FIELDS))


def _cron_field(part: str, name: str, low: int, high: int, names: dict[str, int]) -> str:
    items = []
    for item in part.split(","):
        base, _, step = item.partition("/")
        if step and (not step.isdigit() or int(step) == 0):
            raise ValueError(f"invalid cron {name} {quote(part)}: the step after '/' must be a "
                             "positive integer")
        if base == "*":
            items.append(item)
            continue
        bounds = [_cron_value(v, name, low, high, names) for v in base.split("-", 1)]
        if len(bounds) == 2 and bounds[0] > bounds[1]:
            raise ValueError(f"invalid cron {name} {quote(part)}: range {base} runs backwards")
        items.append("-".join(map(str, bounds)) + (f"/{step}" if step else ""))
    return ",".join(items)


def _cron_value(value: str, name: str, low: int, high: int, names: dict[str, int]) -> int:
    if value.upper() in names:
        return names[value.upper()]
    if not value.isdigit() or not low <= int(value) <= high:
        raise ValueError(f"invalid cron {name} {quote(value)}: expected {low}-{high}"
                         + (" or a name such as " + next(iter(names)) if names else ""))
    return int(value)


Op = Literal[">=", ">", "<=", "<", "==", "!="]
_GATE = re.compile(r"\s*([A-Za-z_][A-Za-z0-9_.-]*)\s*(>=|<=|==|!=|>|<)\s*"
                   r"(-?(?:[0-9]+\.?[0-9]*|\.[0-9]+)(?:[eE][-+]?[0-9]+)?)\s*")


@dataclass(frozen=True)
class Gate:
    """`auc >= 0.82`: metric, operator and the number as written."""

    metric: str
    op: Op
    number: str

    def __str__(self) -> str:
        return f"{self.metric} {self.op} {self.number}"


def parse_gate(text: str) -> Gate:
    match = _GATE.fullmatch(text)
    if match is None:
        raise ValueError(f"invalid gate {quote(text)}: write '<metric> <op> <number>' with op one of "
                         ">= > <= < == !=, like 'auc >= 0.8'")
    metric, op, number = match.groups()
    return Gate(metric, op, number)  # type: ignore[arg-type]


@dataclass(frozen=True)
class Ref:
    """A `${params.NAME}` or `${matrix.AXIS}` reference, compiled to an environment variable."""

    kind: Literal["params", "matrix"]
    name: str

    @property
    def var(self) -> str:
        prefix = "MLOPS_PARAM_" if self.kind == "params" else "MLOPS_MATRIX_"
        return prefix + self.name.upper().replace("-", "_")


Part = Union[str, Ref]
_INTERPOLATION = re.compile(r"\$\$\{|\$\{(params|matrix)\.([^}]*)\}")


@lru_cache(maxsize=65536)  # the same env values recur in every stage, rule and environment
def interpolation_parts(text: str) -> tuple[Part, ...]:
    """Split text into literal strings and references; `$${` is a literal `${`."""
    parts: list[Part] = []
    literal = ""
    position = 0
    for match in _INTERPOLATION.finditer(text):
        literal += text[position:match.start()]
        position = match.end()
        if match.group(0) == "$${":
            literal += "${"
            continue
        if literal:
            parts.append(literal)
            literal = ""
        parts.append(Ref(match.group(1), match.group(2)))  # type: ignore[arg-type]
    literal += text[position:]
    if literal:
        parts.append(literal)
    return tuple(parts)


def references(text: str) -> list[Ref]:
    return [p for p in interpolation_parts(text) if isinstance(p, Ref)]


def shell_text(parts: tuple[Part, ...]) -> str:
    """A `run` command with references as shell variable expansions: the value is read from
    the environment at run time, never spliced into the command."""
    return "".join(p if isinstance(p, str) else "${" + p.var + "}" for p in parts)
