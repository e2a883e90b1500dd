"""Engine limits: what a target's engine refuses or silently ignores, declared per target."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Limit:
    """One documented limit of an engine on the files we write."""

    name: str          # what is limited, for messages: "workflow file size"
    maximum: int
    unit: str          # "bytes", "jobs", ...
    source: str        # where the engine documents it
    advice: str        # what a user can do when a spec does not fit
