"""The README's generated tables match the registries (rewrite: MLOPS_UPDATE_GOLDEN=1)."""

from __future__ import annotations

import difflib
import os

from compiler.docs import SECTIONS, refresh
from tests.conftest import REPO


def test_readme_tables_are_current() -> None:
    path = REPO / "README.md"
    text = path.read_text()
    for name in SECTIONS:
        assert f"<!-- {name}:start -->" in text and f"<!-- {name}:end -->" in text
    fresh = refresh(text)
    if os.environ.get("MLOPS_UPDATE_GOLDEN") == "1":
        path.write_text(fresh)
        return
    assert fresh == text, "".join(difflib.unified_diff(
        text.splitlines(True), fresh.splitlines(True), "README.md", "README.md (fresh)"))


def test_readme_starts_with_the_two_setup_commands() -> None:
    head = (REPO / "README.md").read_text().split("\n## ", 1)[0]
    assert "mlops build examples/" in head
    ci = (REPO / ".ci/run").read_text()
    test_command = next(line for line in head.splitlines() if "pytest" in line).strip()
    assert test_command in ci
