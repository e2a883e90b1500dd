"""The base of every spec model: strict, frozen, unknown keys forbidden.

Its own module so that target packages can define their settings models without importing the
whole spec (which itself is built from the target registry).
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict


class Model(BaseModel):
    model_config = ConfigDict(strict=True, frozen=True, extra="forbid", regex_engine="python-re")
