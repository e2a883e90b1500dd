"""The target registry is the single source of truth: everything that lists targets agrees
with it, and no module outside a target's own package names a target."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest
import yaml

from compiler import pipeline
from compiler.capabilities import FEATURES
from compiler.spec.models import Environment, Spec, Targets
from compiler.targets import DEFAULT_TARGETS, TARGETS, generated_files_pattern
from compiler.targets.base import Target
from tests.conftest import REPO, run_cli

COMPILER = REPO / "compiler"

# Where a target's name may appear outside its package, and why.
ALLOWED: dict[tuple[str, str], str] = {
    ("compiler/targets/__init__.py", "*"): "the registry imports every target package",
    ("compiler/report.py", "github"): "'--format github' is GitHub's annotation format",
    ("compiler/commands/lint.py", "github"): "'--format github' is GitHub's annotation format",
    ("compiler/targets/airflow/__init__.py", "kubernetes"): "Airflow's 'operator: kubernetes' "
                                                            "(KubernetesPodOperator)",
    ("compiler/targets/airflow/render.py", "kubernetes"): "Airflow's 'operator: kubernetes'",
    ("compiler/commands/run.py", "dvc"): "'mlops run' is DVC's local loop",
}


def test_every_target_satisfies_the_protocol_and_declares_every_feature() -> None:
    for name, target in TARGETS.items():
        assert isinstance(name, str) and target.name == name
        assert set(target.capabilities) == set(FEATURES), name
        assert {s.level for s in target.capabilities.values()} <= {
            "native", "emulated", "unsupported"}
        assert target.anchor in ("output", "repository")
        settings = target.settings.model_validate({})  # every setting has a default
        assert target.roots(settings), name
        checked: Target = target  # mypy checks the protocol; this keeps the name used
        assert checked is target


def test_the_spec_model_offers_exactly_the_registered_targets() -> None:
    assert list(Targets.model_fields) == list(TARGETS)
    for name, target in TARGETS.items():
        field = Targets.model_fields[name]
        assert target.settings in getattr(field.annotation, "__args__", ())
        if target.shortcut is not None:
            assert name in Environment.model_fields
    spec = Spec.model_validate({"version": 1, "name": "x", "stages": {"a": {"run": "x"}}})
    assert spec.targets is None
    plan, = pipeline.plans(pipeline.check(b"version: 1\nname: x\nstages: {a: {run: x}}\n",
                                          "mlops.yaml"), spec_path="mlops.yaml")
    assert tuple(plan.targets) == DEFAULT_TARGETS


@pytest.mark.parametrize("name", list(TARGETS))
def test_target_flag_accepts_each_registered_target(name: str, tmp_path: Path) -> None:
    spec = tmp_path / "mlops.yaml"
    spec.write_text(f"version: 1\nname: x\ndefaults: {{image: 'x:1'}}\nstages: {{a: {{run: x}}}}"
                    f"\ntargets: {{{name}: {{}}}}\n")
    result = run_cli("build", spec, "--target", name, "--quiet")
    assert result.code == 0, result.err
    wrong = run_cli("build", spec, "--target", name + "x")
    assert wrong.code == 2 and "no such target" in wrong.err


def test_pre_commit_hooks_react_to_every_target_s_files() -> None:
    hooks = {h["id"]: h for h in yaml.safe_load((REPO / ".pre-commit-hooks.yaml").read_text())}
    assert hooks["mlops-check"]["files"] == generated_files_pattern()


def test_the_check_workflow_watches_every_built_target_s_files() -> None:
    raw = (REPO / "examples/churn/mlops.yaml").read_bytes()
    output = pipeline.build(pipeline.check(raw, "mlops.yaml"), spec_path="mlops.yaml")
    check = next(text for path, text in output.files.items() if "mlops-check." in path)
    triggers = yaml.safe_load(check)[True]  # YAML 1.1 reads the key `on` as true
    paths = triggers["pull_request"]["paths"]
    plan = pipeline.plans(pipeline.check(raw, "mlops.yaml"), spec_path="mlops.yaml")[0]
    for name, settings in plan.targets.items():
        for root in TARGETS[name].roots(settings):
            assert any(p.startswith(root) for p in paths), (name, root, paths)


def _mentions(path: Path) -> list[tuple[int, str]]:
    found = []
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Constant) and isinstance(node.value, str):
            word = node.value
        elif isinstance(node, ast.Attribute):
            word = node.attr
        elif isinstance(node, ast.Name):
            word = node.id
        elif isinstance(node, ast.keyword) and node.arg:
            word = node.arg
        else:
            continue
        if word in TARGETS:
            found.append((getattr(node, "lineno", 0), word))
    return found


def test_no_module_outside_a_target_s_package_names_a_target() -> None:
    offenders = []
    for path in sorted(COMPILER.rglob("*.py")):
        relative = path.relative_to(REPO).as_posix()
        parts = path.relative_to(COMPILER).parts
        own = parts[0] == "targets" and len(parts) > 2 and parts[1]
        for line, word in _mentions(path):
            if word == own or (relative, "*") in ALLOWED or (relative, word) in ALLOWED:
                continue
            offenders.append(f"{relative}:{line}: {word!r}")
    assert not offenders, ("name targets through the registry (compiler.targets), not by "
                           "name:\n" + "\n".join(offenders))
