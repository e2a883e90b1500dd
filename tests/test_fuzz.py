"""Fuzzing the front end: whatever the bytes, `analyze()` reports diagnostics and never raises.

Deterministic (`derandomize=True`): the same examples run everywhere, so a failure here is
reproducible and CI never flakes. The budget keeps the whole file well under a minute.
Crashes found are pinned as plain regression tests at the end; `MLOPS_FUZZ_EXAMPLES=N` hunts
longer with fresh random examples.
"""

from __future__ import annotations

import copy
import json
import os
from pathlib import Path
from typing import Any

import yaml
import jsonschema
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from compiler.analysis import Analysis, analyze
from compiler.diagnostics import Severity
from compiler.plan import lower
from compiler.source import load

REPO = Path(__file__).resolve().parent.parent
EXAMPLES = [p.read_bytes() for p in sorted(REPO.glob("examples/*/mlops.yaml"))]
EXAMPLE_DATA = [load(raw, "x").data for raw in EXAMPLES]
PATH = "fuzz/mlops.yaml"

# MLOPS_FUZZ_EXAMPLES=5000 hunts longer, with fresh random examples each run.
_HUNT = int(os.environ.get("MLOPS_FUZZ_EXAMPLES", "0"))
FUZZ = settings(derandomize=not _HUNT, deadline=None, max_examples=_HUNT or 800, database=None,
                suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])


def check(raw: bytes) -> Analysis:
    """Run the front end and assert what must hold for any input."""
    result = analyze(raw, PATH)
    errors = [d for d in result.diagnostics if d.severity is Severity.ERROR]
    for d in result.diagnostics:
        assert d.path == PATH
        assert d.line >= 1 and d.column >= 1, d
        assert d.code.startswith("MLP") and len(d.code) == 6, d
        assert d.message and "\n" not in d.message, d  # one diagnostic, one line
    if result.validated is None:
        assert errors, "refused without an error"
    else:
        # Parse and schema errors always refuse the spec; lint findings never do.
        assert not [d for d in errors if d.code.startswith("MLP1")], errors
    if result.validated is not None and result.graph is None:
        assert [d for d in errors if d.code.startswith("MLP2")], "graph refused without MLP2xx"
    if result.ok(strict=False):
        lower(result.validated, result.graph, spec_path=PATH,  # type: ignore[arg-type]
              spec_sha256=result.source.sha256)
    return result


@FUZZ
@given(st.binary(max_size=4096))
def test_random_bytes(raw: bytes) -> None:
    check(raw)


YAML_ALPHABET = st.sampled_from(list("abc01:-_ {}[],'\"#&*!|>%@`?\n\t\\$.=<~") + ["\u202e", "\x00", "é"])


@FUZZ
@given(st.one_of(st.text(max_size=2048), st.text(YAML_ALPHABET, max_size=2048)))
def test_random_text(text: str) -> None:
    check(text.encode("utf-8", "surrogatepass"))


PUNCTUATION = [": ", "- ", "{", "}", "[", "]", ",", "&a ", "*a", "!!str ", "!x ", "<<: ", "? ",
               "---\n", "...\n", "|", ">", "'", '"', "#", "\t", "%YAML 1.1\n", "${", "${{", "~",
               "\ufeff", "\r", "  ", "\n"]


@st.composite
def mutated_lines(draw: st.DrawFn) -> bytes:
    lines = draw(st.sampled_from(EXAMPLES)).decode().splitlines(keepends=True)
    for _ in range(draw(st.integers(1, 6))):
        if not lines:
            break
        i = draw(st.integers(0, len(lines) - 1))
        op = draw(st.sampled_from(["delete", "duplicate", "swap", "insert", "truncate", "move"]))
        if op == "delete":
            del lines[i]
        elif op == "duplicate":
            lines.insert(i, lines[i])
        elif op == "swap" and len(lines[i]) > 1:
            j = draw(st.integers(0, len(lines[i]) - 2))
            s = lines[i]
            lines[i] = s[:j] + s[j + 1] + s[j] + s[j + 2:]
        elif op == "insert":
            s = lines[i]
            j = draw(st.integers(0, len(s)))
            lines[i] = s[:j] + draw(st.sampled_from(PUNCTUATION)) + s[j:]
        elif op == "truncate":
            lines[i] = lines[i][:draw(st.integers(0, len(lines[i])))]
        else:
            lines.insert(draw(st.integers(0, len(lines) - 1)), lines.pop(i))
    return "".join(lines).encode()


@FUZZ
@given(mutated_lines())
def test_mutated_text(raw: bytes) -> None:
    check(raw)


SCALARS = st.one_of(st.none(), st.booleans(), st.integers(-10**20, 10**20),
                    st.floats(allow_nan=True, allow_infinity=True), st.text(max_size=30),
                    st.sampled_from(["", "..", "/abs", "a/../..", "MLOPS_X", "${params.x}",
                                     "${{ x }}", "$${", "0 3 * * 1", "@daily", "1h30m", "0s",
                                     "auc >= 0.9", "500m", "16Gi", "deploy", "train", "ingest",
                                     "model/", "data/raw.parquet", "-1", "1e400"]))
VALUES = st.recursive(SCALARS, lambda inner: st.one_of(
    st.lists(inner, max_size=4), st.dictionaries(st.text(max_size=12), inner, max_size=4)),
    max_leaves=12)


def _paths(node: Any, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    found = [prefix]
    if isinstance(node, dict):
        for key, value in node.items():
            found += _paths(value, (*prefix, key))
    elif isinstance(node, list):
        for i, value in enumerate(node):
            found += _paths(value, (*prefix, i))
    return found


@st.composite
def mutated_data(draw: st.DrawFn) -> bytes:
    data = copy.deepcopy(draw(st.sampled_from(EXAMPLE_DATA)))
    for _ in range(draw(st.integers(1, 4))):
        paths = [p for p in _paths(data) if p]
        if not paths:
            break
        path = draw(st.sampled_from(paths))
        parent = data
        for part in path[:-1]:
            parent = parent[part]
        key = path[-1]
        op = draw(st.sampled_from(["replace", "delete", "add", "rename", "copy"]))
        if op == "replace":
            parent[key] = draw(VALUES)
        elif op == "delete":
            del parent[key]
        elif op == "add" and isinstance(parent, dict):
            parent[draw(st.sampled_from(["needs", "inputs", "outputs", "schedule", "serve",
                                         "matrix", "gate", "env", "stages", "params",
                                         draw(st.text(max_size=8))]))] = draw(VALUES)
        elif op == "rename" and isinstance(parent, dict):
            parent[draw(st.text(max_size=12))] = parent.pop(key)
        elif op == "copy":  # a value from elsewhere in the spec: plausible but misplaced
            other = draw(st.sampled_from(paths))
            source = data
            try:
                for part in other:
                    source = source[part]
            except (KeyError, IndexError, TypeError):
                continue
            parent[key] = copy.deepcopy(source)
    return yaml.safe_dump(data, sort_keys=False, allow_unicode=True).encode()


SCHEMA = jsonschema.Draft202012Validator(
    json.loads((REPO / "schemas" / "mlops.schema.json").read_text(encoding="utf-8")))


@FUZZ
@given(mutated_data())
def test_mutated_data(raw: bytes) -> None:
    result = check(raw)
    if result.ok():  # what the compiler accepts, the editor must not flag
        errors = [f"{list(e.absolute_path)}: {e.message}" for e in SCHEMA.iter_errors(
            result.source.data)]
        assert not errors


def test_examples_pass_the_invariants() -> None:
    for raw in EXAMPLES:
        result = check(raw)
        assert result.ok(), [d.format() for d in result.diagnostics]


# Inputs that once broke an invariant, kept as plain tests (fixed in compiler/source.py).
REGRESSIONS = [
    b"~",            # a null document was refused without any diagnostic (lint exited 0)
    b"---\n",        # the same, written as an empty document
    b"\x01",         # libyaml's reader error leaked a multi-line message with no position
    b"a: \x7f\n",
    # a key holding a newline was echoed raw, splitting the diagnostic over two lines
    # a path with a line break passed the compiler (and would split upload-artifact's `path:`)
    b'version: 1\nname: x\nstages: {t: {run: x, outputs: ["a\\nb"]}}\n',
    b'version: 1\nname: x\nparams:\n  ? "\\n"\n  : {}\nstages: {t: {run: x}}\n',
    # aliases whose expansion ends on scalars: the budget was spent but nothing was reported
    b"a0: &a0 [x, x, x, x, x, x, x, x, x, x]\n" + b"".join(
        b"a%d: &a%d [%s]\n" % (i, i, b", ".join([b"*a%d" % (i - 1)] * 10)) for i in range(1, 5)),
]


@pytest.mark.parametrize("raw", REGRESSIONS)
def test_regressions(raw: bytes) -> None:
    result = check(raw)
    assert result.validated is None
