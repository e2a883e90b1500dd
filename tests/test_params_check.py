"""The run-time params check (compiler/render/params_check.py), run for real by python3."""

from __future__ import annotations

import subprocess
import sys

import pytest

from compiler import pipeline
from compiler.render.params_check import PARAMS_CHECK, PARAMS_FAILED, needs_check, schemas_json

SPEC = b"""\
version: 1
name: p
params:
  epochs: {default: 3, type: integer, minimum: 1, maximum: 10}
  rate: {default: 0.5, type: number, maximum: 1}
  dataset: {default: clicks, pattern: "^[a-z]+$"}
  mode: {default: fast, enum: [fast, slow, 1]}
  flag: true
stages:
  a: {run: "true"}
targets: {github: {}}
"""
PLAN = pipeline.plans(pipeline.check(SPEC, "mlops.yaml"), spec_path="mlops.yaml")[0]
DEFAULTS = {p.var: p.default_text for p in PLAN.params}


def check(**values: str) -> tuple[int, str]:
    env = {"MLOPS_PARAMS": schemas_json(PLAN.params), **DEFAULTS, **values}
    proc = subprocess.run([sys.executable, "-c", PARAMS_CHECK], env=env, capture_output=True,
                          text=True, timeout=60)
    return proc.returncode, proc.stderr


def test_the_defaults_pass() -> None:
    assert check() == (0, "")
    assert check(MLOPS_PARAM_MODE="1", MLOPS_PARAM_EPOCHS="10", MLOPS_PARAM_FLAG="false")[0] == 0


@pytest.mark.parametrize(("values", "says"), [
    ({"MLOPS_PARAM_EPOCHS": "50"}, "epochs: 50 is more than the maximum 10"),
    ({"MLOPS_PARAM_EPOCHS": "0"}, "epochs: 0 is less than the minimum 1"),
    ({"MLOPS_PARAM_EPOCHS": "2.5"}, "epochs: '2.5' is not an integer"),
    ({"MLOPS_PARAM_RATE": "nan"}, "rate: 'nan' is not a number"),
    ({"MLOPS_PARAM_DATASET": "Clicks; rm -rf data"}, "does not match the pattern"),
    ({"MLOPS_PARAM_MODE": "medium"}, "mode: 'medium' is not one of 'fast', 'slow', '1'"),
    ({"MLOPS_PARAM_FLAG": "yes"}, "flag: 'yes' is not a boolean"),
])
def test_a_value_outside_its_schema_fails_the_run(values: dict[str, str], says: str) -> None:
    code, err = check(**values)
    assert code == PARAMS_FAILED and says in err, err


def test_the_check_is_needed_only_for_what_the_engine_does_not_check() -> None:
    assert needs_check(PLAN.params)
    bare = pipeline.plans(pipeline.check(b"version: 1\nname: q\nparams: {lr: 0.1}\n"
                                         b"stages: {a: {run: x}}\n", "m.yaml"),
                          spec_path="m.yaml")[0]
    assert not needs_check(bare.params)
