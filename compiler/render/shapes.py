"""Shapes: what stages that render alike share, named by what they hold.

A target that writes one template (Argo) or one component and executor (Kubeflow) for every
stage of a shape names it `<prefix>-<10 hex digits>`, a sha256 of everything the shared part
holds, never of which stage came first. Stages of one shape share it; an edit that changes a
stage's shape moves that stage to another name and changes no other stage's lines. The prefix
is a word (a stage type for Argo, `stage` for Kubeflow), so no shape's name can be one of the
fixed names the targets use beside them (`check-params`, `mlops-check-params`,
`for-each-<stage>`).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from dataclasses import asdict
from typing import Any

DIGITS = 10


def shape_name(prefix: str, shape: Mapping[str, Any]) -> str:
    """`<prefix>-<hash>` of `shape` (JSON values; dataclasses as their fields)."""
    text = json.dumps(shape, sort_keys=True, default=asdict, separators=(",", ":"))
    return f"{prefix}-{hashlib.sha256(text.encode()).hexdigest()[:DIGITS]}"
