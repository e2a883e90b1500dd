"""Positions are where a person looks: an alias where it is used, lines as editors count them
(LF, CRLF or a lone CR), and an unclosed flow collection where it opens, however long it is.
The corpus (`tests/lint/`) holds one case of each; these tests vary them."""

from __future__ import annotations

import pytest

from compiler.analysis import analyze
from compiler.positions import line_column

HEAD = "version: 1\nname: demo\ntargets: {github: {}}\nstages:\n"


def found(text: str | bytes) -> list[tuple[int, int, str]]:
    raw = text.encode() if isinstance(text, str) else text
    return [(d.line, d.column, d.code) for d in analyze(raw, "mlops.yaml").diagnostics]


# ------------------------------------------------------------------------------ aliases


def test_a_scalar_alias_is_reported_where_it_is_used() -> None:
    text = HEAD + ("  a:\n    run: x\n    retries: &r \"2\"\n"
                   "  b:\n    run: y\n    retries: *r\n")
    assert found(text) == [(7, 14, "MLP122"), (10, 14, "MLP122")]


def test_an_error_inside_an_aliased_mapping_is_reported_at_the_alias() -> None:
    text = HEAD + ("  a:\n    run: x\n    resources: &res\n      gpu: \"1\"\n"
                   "  b:\n    run: y\n    resources: *res\n")
    # In `a` the value itself; in `b` the alias that brings it there.
    assert found(text) == [(8, 12, "MLP122"), (11, 16, "MLP122")]


def test_an_alias_inside_a_list_and_an_unknown_key_behind_an_alias() -> None:
    text = HEAD + ("  a:\n    run: x\n    secrets: [&s bad-name]\n"
                   "  b:\n    run: y\n    secrets: [OK, *s]\n"
                   "    resources: &r {cpux: 1}\n"
                   "  c:\n    run: z\n    resources: *r\n")
    assert found(text) == [(7, 15, "MLP125"), (10, 19, "MLP125"), (11, 20, "MLP120"),
                           (14, 16, "MLP120")]


def test_a_comment_with_an_ampersand_costs_no_alias_lookup_and_changes_nothing() -> None:
    text = HEAD + "  a:\n    run: make && make test  # a && b\n    retries: \"2\"\n"
    assert found(text) == [(7, 14, "MLP122")]


def test_the_alias_budget_is_reported_at_the_alias_that_spends_it() -> None:
    lines = ["a0: &a0 [x, x, x, x, x, x, x, x, x, x]"]
    lines += [f"a{i}: &a{i} [" + ", ".join([f"*a{i - 1}"] * 10) + "]" for i in range(1, 6)]
    # Each alias on line 2 costs 11 nodes, on line 3 111, on line 4 1,111: 110 + 1,110 and then
    # the eighth alias on line 4 take the total past 10,000.
    assert found("\n".join(lines) + "\n" + HEAD + "  a:\n    run: x\n") == [(4, 45, "MLP105")]


# ------------------------------------------------------------------ line endings


BROKEN = [  # one defect per kind of position: schema, graph, raw text, YAML syntax, bytes
    ("stages:\n  a:\n    run: x\n    retries: many\n", (7, 14)),
    ("stages:\n  a:\n    run: x\n    needs: [nope]\n", (7, 13)),
    ("stages:\n  a:\n    run: x\n    env: {A: \"\u202e\"}\n", (7, 15)),
    ("stages:\n  a:\n    run: x\n    env: {A: \"\x07\"}\n", (7, 15)),
    ("stages:\n  a:\n    run: x\n    env: {A: b: c}\n", (7, 15)),
]


@pytest.mark.parametrize("ending", ["\n", "\r\n", "\r"], ids=["lf", "crlf", "cr"])
@pytest.mark.parametrize("body,where", BROKEN, ids=["schema", "graph", "bidi", "control",
                                                     "syntax"])
def test_lines_are_counted_as_editors_count_them(ending: str, body: str,
                                                 where: tuple[int, int]) -> None:
    text = ("version: 1\nname: demo\ntargets: {github: {}}\n" + body).replace("\n", ending)
    assert [p[:2] for p in found(text)] == [where]


@pytest.mark.parametrize("ending", [b"\n", b"\r\n", b"\r"], ids=["lf", "crlf", "cr"])
def test_an_invalid_utf8_byte_has_its_line_on_any_line_ending(ending: bytes) -> None:
    raw = ending.join([b"version: 1", b"name: demo", b"description: caf\xe9", b""])
    assert found(raw) == [(3, 17, "MLP106")]


@pytest.mark.parametrize("char", ["\x85", "\u2028", "\u2029"])
@pytest.mark.parametrize("ending", ["\n", "\r\n", "\r"], ids=["lf", "crlf", "cr"])
def test_yaml_only_line_breaks_are_refused_at_the_line_an_editor_shows(char: str,
                                                                       ending: str) -> None:
    text = (HEAD + f"  a:\n    run: x  # note{char}    image: other\n").replace("\n", ending)
    assert found(text) == [(6, 19, "MLP132")]


def test_line_column_counts_cr_crlf_and_lf_alike() -> None:
    text = "a\rb\r\nc\nd"
    assert [line_column(text, text.index(c)) for c in "abcd"] == [(1, 1), (2, 1), (3, 1),
                                                                   (4, 1)]


# ------------------------------------------------------------------ unclosed flow collections


def test_a_long_unclosed_flow_list_is_reported_where_it_opens() -> None:
    text = HEAD + "  a:\n    run: x\n    needs: [" + "".join(
        f"\n      s{i}," for i in range(30_000)) + "\n"
    analysis = analyze(text.encode(), "mlops.yaml")
    (d,) = analysis.diagnostics
    assert (d.line, d.column, d.code) == (7, 12, "MLP101")
    assert "line 30008" in (d.hint or "")  # where YAML gave up, in the hint


def test_a_closed_flow_collection_with_a_bad_value_is_reported_at_the_value() -> None:
    text = HEAD + "  a:\n    run: x\n    env: {A: 'it''s ]', B: \"[\", C: d: e}  # ]\n"
    (d,) = analyze(text.encode(), "mlops.yaml").diagnostics
    assert (d.line, d.column, d.code) == (7, 37, "MLP101")  # the ": " after d
    assert d.hint == ("in the flow collection opened at line 7, column 10: quote a value that "
                      "holds ': ', ',', '[' or '{'")


def test_unclosed_flow_collections_nested_past_the_limit_are_not_reported_at_1_1() -> None:
    """Each line opens a collection it never closes: deeper than 64 levels, and too large
    for the cheap nesting bound, so the event stream finds the first level too deep."""
    text = HEAD + "  a:\n    run: x\n    env: {" + "".join(
        f"\n      K{i}: {{a: 1," for i in range(20_000)) + "\n"
    assert found(text) == [(68, 12, "MLP110")]  # the 65th level: K60
