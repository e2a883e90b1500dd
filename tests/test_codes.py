"""The table of diagnostic codes (`compiler.codes.CODES`) against the code that reports them and
the documentation `mlops explain` shows.

Everything here is driven by the table: a code added to `CODES` is checked for its
documentation (a rule's docstring, or `compiler/codedocs/<CODE>.md`), its failing and fixed
examples are linted, and `mlops explain` must show it, without editing this file. Only a doc
whose failing input cannot be written in a ```yaml block (marked `<!-- no-yaml-example: ... -->`)
needs an entry in `UNWRITABLE` below, which builds that input as bytes.
"""

from __future__ import annotations

import ast
import functools
import re
from collections.abc import Callable
from pathlib import Path

import pytest

from compiler.codes import CODES, documentation
from compiler.diagnostics import Diagnostic, Severity
from compiler.lint import RULES
from compiler.pipeline import check
from tests.conftest import REPO, run_cli

PACKAGE = REPO / "compiler"
CODEDOCS = PACKAGE / "codedocs"
SECTIONS = ("## What it finds", "## Why it matters", "## Failing example", "## Fixed example")
NO_YAML = re.compile(r"^<!-- no-yaml-example: (\S.*?) -->$", re.MULTILINE)
LITERAL = re.compile(r"MLP\d{3}")

ALL = sorted(CODES)
LIVE = sorted(code for code, entry in CODES.items() if not entry.removed)


def _doc(code: str) -> str:
    doc = documentation(code)
    assert doc is not None, f"{code} has no documentation: write compiler/codedocs/{code}.md " \
                            "(or the rule module's docstring)"
    return doc


def _section(doc: str, title: str) -> str:
    """The text of one `## <title>` section, up to the next `## ` heading."""
    match = re.search(rf"^## {title}\n(.*?)(?=^## |\Z)", doc, re.MULTILINE | re.DOTALL)
    return match.group(1) if match else ""  # a missing section fails the sections test


def _example(doc: str, kind: str) -> str | None:
    """The ```yaml block of the failing or fixed example, or None when it has none."""
    match = re.search(r"^```yaml\n(.*?)^```$", _section(doc, f"{kind} example"),
                      re.MULTILINE | re.DOTALL)
    return match.group(1) if match else None


def _lint(raw: bytes) -> list[Diagnostic]:
    return check(raw, "mlops.yaml").diagnostics


def _report(diagnostics: list[Diagnostic]) -> list[str]:
    return [d.format() for d in diagnostics]


# --- every code is documented ----------------------------------------------------------------

@pytest.mark.parametrize("code", LIVE)
def test_every_code_is_documented_with_the_four_sections(code: str) -> None:
    doc = _doc(code)
    entry = CODES[code]
    assert doc.startswith(f"{code} {entry.name}:"), \
        f"the doc of {code} must start with '{code} {entry.name}: <what it finds>'"
    positions = [doc.find(f"\n{section}\n") for section in SECTIONS]
    assert -1 not in positions, f"{code}: sections missing: " + ", ".join(
        s for s, p in zip(SECTIONS, positions) if p == -1)
    assert positions == sorted(positions), f"{code}: the sections are out of order"


@pytest.mark.parametrize("code", LIVE)
def test_a_missing_failing_example_says_why(code: str) -> None:
    """A failing example is a ```yaml block, or prose with the no-yaml-example marker; never
    both, never neither. A fixed example may only be left out beside the marker."""
    doc = _doc(code)
    failing = _example(doc, "Failing")
    marked = NO_YAML.search(_section(doc, "Failing example"))
    assert (failing is None) == (marked is not None), (
        f"{code}: the failing example needs a ```yaml block, or (when the defect cannot be "
        "written as YAML text) a line '<!-- no-yaml-example: <reason> -->' instead of one")
    if marked is None:
        assert _example(doc, "Fixed") is not None, f"{code}: the fixed example has no ```yaml block"


def test_every_codedoc_file_belongs_to_a_front_end_code() -> None:
    """A stray file would never be shown: rules document themselves in their docstring."""
    for path in sorted(CODEDOCS.glob("*")):
        assert path.suffix == ".md" and path.stem in CODES, f"{path.name}: not a code in CODES"
        assert path.stem not in RULES, \
            f"{path.name}: {path.stem} is a lint rule, documented by its module docstring"


# --- the documented examples ------------------------------------------------------------------

DOCUMENTED_FAILING = [c for c in LIVE if (d := documentation(c)) and _example(d, "Failing")]
DOCUMENTED_FIXED = [c for c in LIVE if (d := documentation(c)) and _example(d, "Fixed")]


@pytest.mark.parametrize("code", DOCUMENTED_FAILING)
def test_failing_example_reports_exactly_its_code(code: str) -> None:
    raw = (_example(_doc(code), "Failing") or "").encode()
    diagnostics = _lint(raw)
    assert diagnostics and {d.code for d in diagnostics} == {code}, _report(diagnostics)
    assert all(d.severity == CODES[code].severity for d in diagnostics), _report(diagnostics)


@pytest.mark.parametrize("code", DOCUMENTED_FIXED)
def test_fixed_example_is_free_of_its_code_and_of_errors(code: str) -> None:
    diagnostics = _lint((_example(_doc(code), "Fixed") or "").encode())
    assert [d for d in diagnostics if d.code == code] == [], _report(diagnostics)
    assert [d for d in diagnostics if d.severity is Severity.ERROR] == [], _report(diagnostics)


# Failing inputs that a ```yaml block cannot hold, as the docs describe them in prose.
_SPEC = ("version: 1\nname: churn\ndefaults:\n  image: ghcr.io/acme/churn:1.4.2\n"
         "stages:\n  train:\n    run: python train.py{}\n")


def _windows_1252() -> bytes:
    # MLP106.md: its fixed example, saved in Windows-1252 (the 'è' of 'Modèle' is byte 0xe8).
    return (_example(_doc("MLP106"), "Fixed") or "").encode("cp1252")


def _too_large() -> bytes:
    from compiler.source import DEFAULT_MAX_SIZE

    raw = _SPEC.format("").encode()
    return raw + b"#" * (DEFAULT_MAX_SIZE + 1 - len(raw))


def _too_many_stages() -> bytes:
    from compiler.validate import MAX_STAGES

    stages = "".join(f"  s{i}: {{run: x}}\n" for i in range(MAX_STAGES + 1))
    return ("version: 1\nname: churn\ndefaults: {image: ghcr.io/acme/churn:1.4.2}\n"
            f"stages:\n{stages}").encode()


def _too_deep() -> bytes:
    from compiler.source import MAX_DEPTH

    depth = MAX_DEPTH + 1
    return (_SPEC.format("\n    matrix:\n      lr: " + "[" * depth + "0.1" + "]" * depth)
            ).encode()


def _too_long() -> bytes:
    from compiler.source import MAX_STRING

    return _SPEC.format(f'\n    env:\n      TRAIN_CSV: "{"1,34,monthly," * (MAX_STRING // 13 + 1)}"'
                        ).encode()


UNWRITABLE: dict[str, Callable[[], bytes]] = {
    "MLP106": _windows_1252,
    "MLP107": lambda: _SPEC.format("\x1b[0m").encode(),
    "MLP108": lambda: _SPEC.format(" --data \u202etrain.csv\u202c").encode(),
    "MLP109": _too_large,
    "MLP110": _too_deep,
    "MLP115": _too_many_stages,
    "MLP116": _too_long,
}
UNDOCUMENTED_FAILING = [c for c in LIVE if c not in DOCUMENTED_FAILING]


@pytest.mark.parametrize("code", UNDOCUMENTED_FAILING)
def test_failing_input_described_in_prose_reports_exactly_its_code(code: str) -> None:
    assert NO_YAML.search(_section(_doc(code), "Failing example")), \
        f"{code}: the failing example has neither a ```yaml block nor the no-yaml-example marker"
    assert code in UNWRITABLE, (
        f"the doc of {code} describes its failing input in prose: add a function building "
        "those bytes to UNWRITABLE in tests/test_codes.py, so that the doc is tested too")
    diagnostics = _lint(UNWRITABLE[code]())
    assert diagnostics and {d.code for d in diagnostics} == {code}, _report(diagnostics)


def test_unwritable_inputs_are_only_for_docs_without_a_yaml_example() -> None:
    stale = sorted(set(UNWRITABLE) - set(UNDOCUMENTED_FAILING))
    assert stale == [], f"{stale} now have a ```yaml failing example: drop them from UNWRITABLE"


# --- the table against the code ---------------------------------------------------------------

def _source_files() -> list[Path]:
    return sorted(p for p in PACKAGE.rglob("*")
                  if p.is_file() and "__pycache__" not in p.parts and p.suffix != ".pyc")


@functools.cache
def _emitted() -> dict[str, list[str]]:
    """Each code written as a string of its own ("MLP203") in a module other than the table:
    how phases and rules report a code."""
    found: dict[str, list[str]] = {}
    for path in sorted(PACKAGE.rglob("*.py")):
        if path == PACKAGE / "codes.py":
            continue
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Constant) and isinstance(node.value, str) \
                    and LITERAL.fullmatch(node.value):
                found.setdefault(node.value, []).append(
                    f"{path.relative_to(REPO)}:{node.lineno}")
    return found


def test_every_code_named_in_the_package_is_in_the_table() -> None:
    unknown = []
    for path in _source_files():
        try:
            text = path.read_text(encoding="utf-8")
        except UnicodeDecodeError:
            continue  # not a source file
        for number, line in enumerate(text.splitlines(), 1):
            unknown += [f"{path.relative_to(REPO)}:{number}: {code}"
                        for code in LITERAL.findall(line) if code not in CODES]
    assert unknown == [], "codes missing from compiler/codes.py:\n" + "\n".join(unknown)


def test_every_live_code_is_reported_somewhere() -> None:
    emitted = _emitted()
    silent = [code for code in LIVE if code not in emitted]
    assert silent == [], f"nothing in compiler/ reports {silent}: mark them removed=True in " \
                         "compiler/codes.py (never delete or reuse a code)"


def test_no_removed_code_is_reported() -> None:
    emitted = _emitted()
    revived = {code: emitted[code] for code, entry in CODES.items()
               if entry.removed and code in emitted}
    assert revived == {}, f"codes marked removed are still reported: {revived}"


def test_codes_are_well_formed_and_names_unique() -> None:
    for key, entry in CODES.items():
        assert key == entry.code and re.fullmatch(r"MLP[1-4]\d\d", key), key
        assert re.fullmatch(r"[a-z0-9]+(-[a-z0-9]+)*", entry.name), entry.name
        assert entry.summary, key
    names = [entry.name for entry in CODES.values()]
    assert len(names) == len(set(names))


# --- mlops explain ----------------------------------------------------------------------------

@pytest.mark.parametrize("code", ALL)
def test_explain_shows_the_documentation(code: str) -> None:
    entry = CODES[code]
    result = run_cli("explain", code)
    assert result.code == 0, result.err
    assert result.out.startswith(f"{code} {entry.name} ({entry.severity.value})\n"), result.out
    doc = documentation(code)
    assert (doc.strip() if doc else entry.summary) in result.out
    assert run_cli("explain", entry.name).out == result.out


def test_explain_list_lists_every_live_code() -> None:
    result = run_cli("explain", "--list")
    assert result.code == 0, result.err
    listed = [line.split()[0] for line in result.out.splitlines()]
    assert listed == [code for code in CODES if not CODES[code].removed]
    for line in result.out.splitlines():
        entry = CODES[line.split()[0]]
        assert entry.name in line and entry.summary in line
