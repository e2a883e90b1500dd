"""Reporters: diagnostics printed as text, JSON, GitHub annotations or SARIF 2.1.0."""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence

from compiler import __version__
from compiler.diagnostics import Diagnostic, Severity

Reporter = Callable[[Sequence[Diagnostic]], str]


def text(diagnostics: Sequence[Diagnostic]) -> str:
    """`path:line:col: severity CODE message`, a hint line below when there is one."""
    lines = [d.format() for d in diagnostics]
    errors = sum(d.severity is Severity.ERROR for d in diagnostics)
    warnings = sum(d.severity is Severity.WARNING for d in diagnostics)
    if diagnostics:
        lines.append(f"{errors} error{'s' * (errors != 1)}, "
                     f"{warnings} warning{'s' * (warnings != 1)}")
    return "\n".join(lines) + ("\n" if lines else "")


def as_json(diagnostics: Sequence[Diagnostic]) -> str:
    items = [{"path": d.path, "line": d.line, "column": d.column, "severity": d.severity.value,
              "code": d.code, "message": d.message, "hint": d.hint} for d in diagnostics]
    return json.dumps(items, indent=2, sort_keys=True) + "\n"


def _escape_data(value: str) -> str:
    return value.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def _escape_property(value: str) -> str:
    return _escape_data(value).replace(":", "%3A").replace(",", "%2C")


def github(diagnostics: Sequence[Diagnostic]) -> str:
    """GitHub Actions workflow commands: each finding becomes an annotation on the file."""
    level = {Severity.ERROR: "error", Severity.WARNING: "warning", Severity.INFO: "notice"}
    lines = []
    for d in diagnostics:
        message = d.message + (f" (hint: {d.hint})" if d.hint else "")
        lines.append(f"::{level[d.severity]} file={_escape_property(d.path)},line={d.line},"
                     f"col={d.column},title={_escape_property(d.code)}::{_escape_data(message)}")
    return "\n".join(lines) + ("\n" if lines else "")


def sarif(diagnostics: Sequence[Diagnostic]) -> str:
    """SARIF 2.1.0 with rule metadata, for code scanning."""
    from compiler.codes import CODES, documentation

    level = {Severity.ERROR: "error", Severity.WARNING: "warning", Severity.INFO: "note"}
    codes = sorted({d.code for d in diagnostics} | {c for c, v in CODES.items() if not v.removed})
    rules = []
    for code in codes:
        known = CODES[code]
        doc = documentation(code) or known.summary
        rules.append({"id": code, "name": known.name,
                      "shortDescription": {"text": known.summary},
                      "fullDescription": {"text": doc.split("\n", 1)[0]},
                      "help": {"text": doc, "markdown": doc},
                      "defaultConfiguration": {"level": level[known.severity]}})
    index = {code: i for i, code in enumerate(codes)}
    results = [{
        "ruleId": d.code, "ruleIndex": index[d.code], "level": level[d.severity],
        "message": {"text": d.message + (f"\nhint: {d.hint}" if d.hint else "")},
        "locations": [{"physicalLocation": {
            "artifactLocation": {"uri": d.path},
            "region": {"startLine": d.line, "startColumn": d.column}}}],
    } for d in diagnostics]
    log = {
        "$schema": "https://json.schemastore.org/sarif-2.1.0.json",
        "version": "2.1.0",
        "runs": [{"tool": {"driver": {
            "name": "mlops-compiler", "version": __version__,
            "informationUri": "https://pypi.org/project/mlops-compiler/", "rules": rules}},
            "results": results}],
    }
    return json.dumps(log, indent=2, sort_keys=True) + "\n"


REPORTERS: dict[str, Reporter] = {"text": text, "json": as_json, "github": github, "sarif": sarif}
