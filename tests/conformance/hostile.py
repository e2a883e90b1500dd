"""Cases made from the hostile corpus (tests/hostile_support.py): every payload must reach the
stage byte for byte through `run`, `env` and `${params.X}`, by default and at trigger time.

Payloads go ten to a case, one param each: GitHub has long allowed a workflow_dispatch ten
inputs at most, and a workflow real GitHub would refuse makes no conformance case. A payload
that lint refuses (`${{`: GitHub would evaluate it) can reach no engine; `refused_payloads()`
names them, and a static test checks that lint refuses exactly those.
"""

from __future__ import annotations

import shlex
from typing import Any

from tests.conformance.case import Case, from_data
from tests.hostile_support import FRAGMENTS

PER_CASE = 10


def payloads() -> list[str]:
    """The corpus, plus all of it in one text (interactions between fragments); joined by
    spaces so that no `$${` (the spec's escape for a literal `${`) forms between two."""
    return [*FRAGMENTS, " ".join(FRAGMENTS)]


def refused_payloads() -> list[str]:
    return [p for p in payloads() if "${{" in p]


def _accepted() -> list[str]:
    return [p for p in payloads() if p not in refused_payloads()]


def _chunk_case(index: int, chunk: list[str], at_trigger: bool) -> Case:
    kind = "trigger" if at_trigger else "default"
    params: dict[str, Any] = {f"p{i}": {"default": "benign" if at_trigger else text, "type": "string"}
                              for i, text in enumerate(chunk)}
    env = {f"E{i}": f"<${{params.p{i}}}>" for i in range(len(chunk))}
    lines = ["mkdir -p out/param"]
    lines += [f"printf '%s' \"${{params.p{i}}}\" > out/param/{i}" for i in range(len(chunk))]
    expect_env = {f"E{i}": f"<{text}>" for i, text in enumerate(chunk)}
    expect_env.update({f"MLOPS_PARAM_P{i}": text for i, text in enumerate(chunk)})
    files = {f"out/param/{i}": text for i, text in enumerate(chunk)}
    if not at_trigger:  # the spec's own text: env values and the command
        env.update({f"H{i}": text for i, text in enumerate(chunk)})
        expect_env.update({f"H{i}": text for i, text in enumerate(chunk)})
        lines.append("mkdir -p out/run")
        lines += [f"printf '%s' {shlex.quote(text)} > out/run/{i}" for i, text in enumerate(chunk)]
        files.update({f"out/run/{i}": text for i, text in enumerate(chunk)})
    name = f"hostile-{kind}-{index}"
    spec = {"version": 1, "name": name.replace("-", "_"),
            "description": f"hostile corpus, payloads {index * PER_CASE}..., {kind} values",
            "params": params, "env": env,
            "stages": {"probe": {"run": "\n".join(lines) + "\n", "outputs": ["out/"]}}}
    expect = {
        "about": f"payloads of the hostile corpus arrive byte for byte ({kind} param values"
                 + ("" if at_trigger else ", env values and the command text") + ")",
        "trigger": {"params": dict(zip(params, chunk))} if at_trigger else {},
        "stages": {"probe": "success"},
        "env": {"probe": expect_env},
        "files": files,
    }
    return from_data(name, spec, expect)


def hostile_cases() -> list[Case]:
    accepted = _accepted()
    chunks = [accepted[i:i + PER_CASE] for i in range(0, len(accepted), PER_CASE)]
    return [_chunk_case(i, chunk, at_trigger)
            for at_trigger in (False, True) for i, chunk in enumerate(chunks)]
