"""Reusable annotated types of the spec: each carries its constraint and its JSON Schema."""

from __future__ import annotations

import math
import posixpath
import re
from typing import Annotated, Union

from pydantic import AfterValidator, Field, StringConstraints, WithJsonSchema

NAME_PATTERN = r"^[a-z][a-z0-9_-]{0,39}$"
ENV_NAME_PATTERN = r"^(?!MLOPS_)[A-Za-z_][A-Za-z0-9_]*$"
SECRET_NAME_PATTERN = r"^(?!MLOPS_)[A-Za-z_][A-Za-z0-9_]*$"
# Kubernetes resource quantity (k8s.io/apimachinery resource.Quantity), as its OpenAPI states.
QUANTITY_PATTERN = r"^\+?(([0-9]+(\.[0-9]*)?)|(\.[0-9]+))(([KMGTPE]i)|[numkMGTPE]|([eE](\+|-)?(([0-9]+(\.[0-9]*)?)|(\.[0-9]+))))?$"
DURATION_PATTERN = r"^([0-9]+[smhd])+$"
GATE_PATTERN = r"^\s*[A-Za-z_][A-Za-z0-9_.-]*\s*(>=|<=|==|!=|>|<)\s*-?([0-9]+\.?[0-9]*|\.[0-9]+)([eE][-+]?[0-9]+)?\s*$"

NAMESPACE_PATTERN = r"^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$"

Name = Annotated[str, StringConstraints(pattern=NAME_PATTERN)]
EnvName = Annotated[str, StringConstraints(pattern=ENV_NAME_PATTERN)]
SecretName = Annotated[str, StringConstraints(pattern=SECRET_NAME_PATTERN)]
Scalar = Union[bool, int, float, str]

# Durations and cron expressions are checked by lint rules (MLP310, MLP309), which explain what
# is wrong; the schema still carries the pattern so that editors flag them while typing.
Duration = Annotated[str, WithJsonSchema({"type": "string", "pattern": DURATION_PATTERN,
                                          "description": "e.g. 30s, 5m, 2h, 1h30m"})]


def _positive_duration(text: str) -> str:
    from compiler.spec.values import duration_seconds

    if duration_seconds(text) == 0:  # raises ValueError for what is no duration
        raise ValueError("an approval timeout must be positive: with none, a deploy would "
                         "wait forever")
    return text


# How long an approval waits (targets.airflow and targets.kubernetes): checked by the target's
# settings model (MLP123), since lint rules outside a target's package name no target.
ApprovalTimeout = Annotated[Duration, AfterValidator(_positive_duration)]
Cron = Annotated[str, WithJsonSchema({"type": "string", "description":
                                      "5-field cron (UTC), or @hourly, @daily, @weekly, "
                                      "@monthly, @yearly"})]
Gate = Annotated[str, WithJsonSchema({"type": "string", "pattern": GATE_PATTERN,
                                      "description": "'<metric> <op> <number>', e.g. 'auc >= 0.8'"})]


def _quantity(value: Union[str, int, float]) -> str:
    # `cpu: 1` and `cpu: 0.5` are how Kubernetes users write cpu; keep them, as text.
    if isinstance(value, float) and not math.isfinite(value):  # `.inf`, `.nan`, 1e400
        raise ValueError("must be a finite number")
    return value if isinstance(value, str) else repr(value)


Quantity = Annotated[
    Union[Annotated[str, StringConstraints(pattern=QUANTITY_PATTERN)],
          Annotated[int, Field(ge=0)], Annotated[float, Field(ge=0)]],
    AfterValidator(_quantity),
    WithJsonSchema({"anyOf": [{"type": "string", "pattern": QUANTITY_PATTERN},
                              {"type": "number", "minimum": 0}],
                    "description": "Kubernetes quantity, e.g. \"500m\", \"2\", 2Gi"}),
]


_CONTROL = re.compile(r"[\x00-\x1f\x7f]")
_PATTERN_CHARS = re.compile(r"[*?\[\]]|^!")


def _relative_path(value: str) -> str:
    if not value or value.startswith("/") or value.startswith("\\"):
        raise ValueError("must be a relative path inside the repository")
    # A line break would split one path into several where targets list paths one per line
    # (GitHub's upload-artifact `path:`).
    if _CONTROL.search(value):
        raise ValueError("must not contain line breaks, tabs or other control characters")
    # GitHub's artifact actions read '*', '?', '[...]' and a leading '!' as patterns.
    if _PATTERN_CHARS.search(value):
        raise ValueError("must be a plain path: no '*', '?', '[', ']' and no leading '!'")
    trailing = value.endswith("/")
    normal = posixpath.normpath(value)
    if normal == ".." or normal.startswith("../") or "\\" in value:
        raise ValueError("must stay inside the repository: no '..' and no backslashes")
    if normal == ".":
        raise ValueError("must name a file or directory, not the repository root")
    return normal + "/" if trailing else normal


RelPath = Annotated[
    str,
    AfterValidator(_relative_path),
    WithJsonSchema({"type": "string", "minLength": 1,
                    "pattern": r"^(?![/\\!])(?!.*\\)(?!(.*/)?\.\.(/|$))[^\x00-\x1f\x7f*?\[\]]+$",
                    "description": "relative path, plain (no patterns); a directory ends with "
                                   "'/'"}),
]
PositiveInt = Annotated[int, Field(ge=0, le=1000)]
AxisValues = Annotated[list[Scalar], Field(min_length=1)]


class KubeName:
    """Marks a settings field whose value becomes a Kubernetes name of this kind; lint rule
    MLP402 checks every such field of every built target (with a message that does not echo
    the value), so no target needs a rule of its own for it."""

    __slots__ = ("kind",)

    def __init__(self, kind: str) -> None:
        self.kind = kind  # "label", "subdomain", "label key" or "label value"

    def __repr__(self) -> str:
        return f"KubeName({self.kind!r})"


KubeLabel = Annotated[str, KubeName("label")]
KubeSubdomain = Annotated[str, KubeName("subdomain")]
KubeLabelKey = Annotated[str, KubeName("label key")]
KubeLabelValue = Annotated[str, KubeName("label value")]
