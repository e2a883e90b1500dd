"""The documentation of the codes the front end reports (`compiler/codedocs/<CODE>.md`): each is
in the table of codes, and its failing example reports the code while its fixed one does not."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from compiler.analysis import analyze
from compiler.codes import CODES, documentation

DOCS = sorted((Path(__file__).resolve().parent.parent / "compiler" / "codedocs").glob("*.md"))


def _example(doc: str, section: str) -> bytes:
    match = re.search(rf"## {section} example\n```yaml\n(.*?)```", doc, re.S)
    assert match is not None, f"no ```yaml block under '## {section} example'"
    return match.group(1).encode()


@pytest.mark.parametrize("path", DOCS, ids=[p.stem for p in DOCS])
def test_the_documented_examples_fail_and_pass(path: Path) -> None:
    code = path.stem
    assert code in CODES and documentation(code) == path.read_text(encoding="utf-8")
    doc = path.read_text(encoding="utf-8")
    assert doc.startswith(f"{code} {CODES[code].name}: ")
    failing = [d.code for d in analyze(_example(doc, "Failing"), "mlops.yaml").diagnostics]
    assert code in failing
    fixed = analyze(_example(doc, "Fixed"), "mlops.yaml")
    assert [d.format() for d in fixed.diagnostics if d.severity.value == "error"] == []
