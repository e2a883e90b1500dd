"""Messages a person can read: quoted spec text is capped and escaped in every message and hint,
a diagnostic is always one line (and its hint one more), and hints fit the case.

Hostile text goes into every place whose text a diagnostic may quote: keys and values, names
and references, long (100,000 characters), with line breaks, quotes, or look-alike letters.
"""

from __future__ import annotations

import ast
import json
from collections.abc import Callable
from pathlib import Path

import pytest

from compiler.analysis import analyze
from compiler.report import as_json
from tests.conftest import REPO

LONG = "k" * 100_000
TEXTS = {
    "long": LONG,
    "newline": "a\nb",
    "carriage-return": "a\rb",
    "line-separator": "a\u2028b",
    "next-line": "a\x85b",
    "vertical-tab": "a\x0bb",
    "quotes": "it's \"quoted\"",
    "cyrillic": "tr\u0430in",
    "long-newlines": "x\n" * 20_000,
}
MAX_LINE = 700  # path, position, code, a capped message: well under a terminal's scrollback


def _q(text: str) -> str:
    return json.dumps(text)  # a YAML double-quoted scalar: every text above fits in one


BASE = """\
version: 1
name: demo
defaults: {{image: "ghcr.io/acme/x:1.0"}}
params: {{lr: 0.1}}
stages:
  train:
    run: {run}
    needs: {needs}
    env: {env}
    secrets: {secrets}
    outputs: {outputs}
    image: {image}
    timeout: {timeout}
    schedule: {schedule}
    gate: {gate}
    metrics: m.json
    matrix: {matrix}
  {stage}: {{run: echo}}
environments:
  {environment}: {{stages: {{{overlay}: {{retries: 1}}}}}}
targets:
  kubernetes:
    gpu_node_selector: {{{selector}: {selector_value}}}
    service_account: {account}
{top}: ok
"""
DEFAULTS = dict(run=_q("echo"), needs="[]", env="{}", secrets="[]", outputs="[]",
                image=_q("ghcr.io/acme/x:1.0"), timeout="1m", schedule="null", gate="[]",
                matrix="{}", stage="other", environment="prod", overlay="train",
                selector="gpu", selector_value="a100", account="runner", top="owner")


def _place(name: str, render: Callable[[str], str]) -> tuple[str, Callable[[str], str]]:
    return name, render


PLACES = [
    _place("stage name", lambda t: BASE.format(**{**DEFAULTS, "stage": _q(t)})),
    _place("needs", lambda t: BASE.format(**{**DEFAULTS, "needs": f"[{_q(t)}]"})),
    _place("env key", lambda t: BASE.format(**{**DEFAULTS, "env": f"{{{_q(t)}: 1}}"})),
    _place("env value", lambda t: BASE.format(**{**DEFAULTS, "env": f"{{A: {_q(t)}, B: 2}}"})),
    _place("secret", lambda t: BASE.format(**{**DEFAULTS, "secrets": f"[{_q(t)}]"})),
    _place("output", lambda t: BASE.format(**{**DEFAULTS, "outputs": f"[{_q(t)}]"})),
    _place("image", lambda t: BASE.format(**{**DEFAULTS, "image": _q(t)})),
    _place("timeout", lambda t: BASE.format(**{**DEFAULTS, "timeout": _q(t)})),
    _place("schedule", lambda t: BASE.format(**{**DEFAULTS, "schedule": _q(t)})),
    _place("gate", lambda t: BASE.format(**{**DEFAULTS, "gate": f"[{_q(t)}]"})),
    _place("param reference", lambda t: BASE.format(**{**DEFAULTS,
                                                        "run": _q("${params." + t + "}")})),
    _place("matrix axis", lambda t: BASE.format(**{**DEFAULTS, "matrix": f"{{{_q(t)}: [1]}}"})),
    _place("environment", lambda t: BASE.format(**{**DEFAULTS, "environment": _q(t)})),
    _place("overlay stage", lambda t: BASE.format(**{**DEFAULTS, "overlay": _q(t)})),
    _place("label key", lambda t: BASE.format(**{**DEFAULTS, "selector": _q(t)})),
    _place("label value", lambda t: BASE.format(**{**DEFAULTS, "selector_value": _q(t)})),
    _place("service account", lambda t: BASE.format(**{**DEFAULTS, "account": _q(t)})),
    _place("top-level key", lambda t: BASE.format(**{**DEFAULTS, "top": _q(t)})),
]


def test_the_spec_without_hostile_text_is_clean() -> None:
    analysis = analyze(BASE.format(**DEFAULTS).encode(), "mlops.yaml")
    assert [d.format() for d in analysis.diagnostics if d.severity.value == "error"] == []


@pytest.mark.parametrize("text_id", sorted(TEXTS))
@pytest.mark.parametrize("place,render", PLACES, ids=[p for p, _ in PLACES])
def test_every_diagnostic_is_one_short_line(place: str, render: Callable[[str], str],
                                            text_id: str) -> None:
    analysis = analyze(render(TEXTS[text_id]).encode(), "mlops.yaml")
    for d in analysis.diagnostics:
        printed = d.format()
        assert len(printed.split("\n")) == (2 if d.hint else 1), printed[:300]
        assert printed.count("\n") == len(printed.splitlines()) - 1, printed[:300]
        for line in printed.split("\n"):
            assert len(line) <= MAX_LINE, (len(line), line[:300])
            assert "\u0430" not in line, line  # look-alikes are shown escaped
    items = json.loads(as_json(analysis.diagnostics))
    assert all(len(i["message"]) <= MAX_LINE and "\n" not in i["message"] for i in items)


def test_a_look_alike_letter_is_shown_escaped_and_named() -> None:
    text = BASE.format(**{**DEFAULTS, "needs": '["tr\\u0430in"]', "stage": "train2"})
    (d,) = [d for d in analyze(text.encode(), "mlops.yaml").diagnostics if d.code == "MLP201"]
    assert d.message == "stage 'train' needs unknown stage 'tr\\u0430in'"
    assert d.hint == ("did you mean 'train2'? 'tr\\u0430in' has U+0430 (CYRILLIC SMALL LETTER "
                      "A), which may look like ASCII but is not")


@pytest.mark.parametrize("yaml_text,message,hint", [
    ("version: ~\nname: x\n", "'version' must be the integer 1, not empty",
     "write 'version: 1', without quotes"),
    ("version: 1\nname: ~\nstages: {a: {run: x}}\n", "'name' must be text, not empty",
     "write a value: YAML reads ~, null and nothing at all as no value"),
    ("version: 1\nname: x\nstages: {a: {run: x}, b: {run: y, needs: [a, no]}}\n",
     "'stages.b.needs[1]' must be text, not a boolean 'no'",
     "quote the list item: \"no\" (unquoted, YAML reads no as a boolean)"),
    ("version: 1\nname: x\nstages: {a: {run: x, timeout: 90}}\n",
     "'stages.a.timeout' must be text, not an integer '90'",
     "write a duration with its unit: timeout: 90s (or 90m, 90h)"),
    ("version: 1\nname: x\nstages: {a: {run: x}}\nowner: 1.10\n",
     "'owner' must be text, not a number '1.10'",
     "quote it: owner: \"1.10\" (unquoted, YAML reads 1.10 as a number)"),
])
def test_hints_fit_the_case(yaml_text: str, message: str, hint: str) -> None:
    (d,) = [d for d in analyze(yaml_text.encode(), "mlops.yaml").diagnostics
            if d.code == "MLP122"]
    assert (d.message, d.hint) == (message, hint)


# ------------------------------------------------------------------ every path quotes the same way

# f-strings that may use !r: they build no message of a diagnostic or an error.
_REPR_ALLOWED = {
    "compiler/spec/types.py",          # a __repr__
    "compiler/commands/graph.py",      # graph output, not a message
    "compiler/render/templating.py",   # an internal error: our bug, not the user's text
    "compiler/render/gate.py",         # the gate script, run by the engine
    "compiler/render/encode.py",       # generated code
    "compiler/targets/kubernetes/pod.py",   # an assertion: our bug (lint checks images)
}


def test_messages_quote_spec_text_only_through_diagnostics_quote() -> None:
    """`{x!r}` in a message would print the value whole and unescaped: 2 MB of a key, or a key
    holding a newline across two lines. Every message quotes through `diagnostics.quote`."""
    offenders = []
    for path in sorted((REPO / "compiler").rglob("*.py")):
        relative = path.relative_to(REPO).as_posix()
        if relative in _REPR_ALLOWED or relative.endswith("/render.py"):
            continue
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.FormattedValue) and node.conversion == ord("r"):
                offenders.append(f"{relative}:{node.lineno}")
            if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) \
                    and node.func.id == "map" and node.args \
                    and isinstance(node.args[0], ast.Name) and node.args[0].id == "repr":
                offenders.append(f"{relative}:{node.lineno} (map(repr, ...))")
    assert offenders == []


def test_the_corpus_never_prints_a_line_break_inside_a_diagnostic() -> None:
    for case in sorted((REPO / "tests" / "lint").glob("*.yaml")):
        for d in analyze(case.read_bytes(), case.name).diagnostics:
            assert "\n" not in d.message and "\n" not in (d.hint or ""), (case.name, d)


def test_path_helper_is_shared() -> None:
    from compiler.diagnostics import describe_path

    assert describe_path(("stages", "train", "gate", 1)) == "'stages.train.gate[1]'"
    assert describe_path(("env", "a\nb")) == "'env.a\\nb'"
    assert len(describe_path(("env", LONG))) < 100
    assert Path  # (imported for type checkers of the module)
