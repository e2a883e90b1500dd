"""Where the templates and the published schema are, installed or in a checkout."""

from __future__ import annotations

from pathlib import Path

_PACKAGE = Path(__file__).resolve().parent


def _find(name: str) -> Path:
    # In a wheel they are inside the package (see pyproject's force-include); in a checkout or
    # an editable install they are at the top of the repository.
    inside = _PACKAGE / name
    return inside if inside.is_dir() else _PACKAGE.parent / name


def templates_dir() -> Path:
    return _find("templates")


def schema_path() -> Path:
    return _find("schemas") / "mlops.schema.json"
