"""Validating environments: a stage an overlay leaves alone is the base's model, reused."""

from __future__ import annotations

from compiler import source, validate

SPEC = b"""\
version: 1
name: demo
targets: {github: {}}
stages:
  prepare: {run: python prepare.py}
  train: {run: python train.py, needs: [prepare]}
environments:
  staging:
    stages:
      train: {retries: 2}
  production: {}
"""


def test_untouched_stages_are_the_base_models_and_patched_ones_are_merged() -> None:
    src = source.load(SPEC, "mlops.yaml")
    validated, problems = validate.validate(src.data, src.locator)
    assert not problems and validated is not None
    base, staging = validated.spec, validated.environments["staging"]
    production = validated.environments["production"]
    assert staging.stages["prepare"] is base.stages["prepare"]
    assert production.stages["train"] is base.stages["train"]
    assert staging.stages["train"] is not base.stages["train"]
    assert staging.stages["train"].retries == 2 and base.stages["train"].retries is None
    assert staging.stages["train"].needs == ["prepare"]
    assert src.data["stages"]["train"] == {"run": "python train.py", "needs": ["prepare"]}
