"""The published JSON Schema: current with the models, valid, and in agreement with the compiler.

`MLOPS_UPDATE_SCHEMA=1 python3 -m pytest tests/test_schema.py` rewrites schemas/mlops.schema.json.
"""

from __future__ import annotations

import difflib
import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import jsonschema
import pytest

from compiler import schema
from compiler.resources import schema_path
from compiler.source import load

REPO = Path(__file__).resolve().parent.parent
COMMITTED = REPO / "schemas" / "mlops.schema.json"
EXAMPLES = sorted(REPO.glob("examples/*/mlops.yaml"))
LINT_DIR = REPO / "tests" / "lint"


def _validator() -> jsonschema.Draft202012Validator:
    document = json.loads(COMMITTED.read_text(encoding="utf-8"))
    return jsonschema.Draft202012Validator(
        document, format_checker=jsonschema.Draft202012Validator.FORMAT_CHECKER)


def test_committed_schema_is_current() -> None:
    expected = schema.generate()
    if os.environ.get("MLOPS_UPDATE_SCHEMA") == "1":
        COMMITTED.parent.mkdir(exist_ok=True)
        COMMITTED.write_text(expected, encoding="utf-8")
    actual = COMMITTED.read_text(encoding="utf-8") if COMMITTED.exists() else ""
    if actual != expected:
        diff = "".join(difflib.unified_diff(
            actual.splitlines(keepends=True), expected.splitlines(keepends=True),
            "schemas/mlops.schema.json (committed)", "schemas/mlops.schema.json (generated)"))
        pytest.fail("the committed schema is stale; rewrite it with "
                    f"MLOPS_UPDATE_SCHEMA=1 python3 -m pytest tests/test_schema.py\n{diff}")


def test_generate_is_deterministic() -> None:
    assert schema.generate() == schema.generate()
    assert schema.generate().endswith("}\n")


def test_schema_is_a_valid_draft_2020_12_schema() -> None:
    document = json.loads(COMMITTED.read_text(encoding="utf-8"))
    jsonschema.Draft202012Validator.check_schema(document)
    assert document["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    assert document["$id"] and document["title"] and document["description"]


def test_resources_find_the_committed_schema() -> None:
    assert schema_path().resolve() == COMMITTED.resolve()


def test_schema_command_prints_the_committed_file() -> None:
    result = subprocess.run([sys.executable, "-m", "compiler", "schema"], cwd=REPO,
                            capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    assert result.stdout == COMMITTED.read_text(encoding="utf-8")


def _walk(node: Any) -> list[dict[str, Any]]:
    found = []
    if isinstance(node, dict):
        found.append(node)
        for value in node.values():
            found += _walk(value)
    elif isinstance(node, list):
        for value in node:
            found += _walk(value)
    return found


def test_what_editors_need() -> None:
    document = json.loads(COMMITTED.read_text(encoding="utf-8"))
    nodes = _walk(document)
    # Every model forbids unknown keys, so editors flag a typo as you type it.
    for name, definition in [("Spec", document), *document["$defs"].items()]:
        assert definition.get("additionalProperties") is False, name
    # Mappings keyed by names reject a bad key (patternProperties alone would let it through).
    assert not [n for n in nodes if "patternProperties" in n]
    stages = document["properties"]["stages"]
    assert stages["propertyNames"] == {"pattern": "^[a-z][a-z0-9_-]{0,39}$"}
    env = document["properties"]["env"]
    assert env["propertyNames"]["pattern"].startswith("^(?!MLOPS_)")
    # The annotated types of compiler/spec/types.py keep their own schemas and descriptions.
    stage = document["$defs"]["Stage"]["properties"]
    assert stage["gate"]["items"]["pattern"].startswith("^")
    assert "description" in stage["inputs"]["items"]
    assert {"type": "string", "pattern": "^([0-9]+[smhd])+$",
            "description": "e.g. 30s, 5m, 2h, 1h30m"} in stage["timeout"]["anyOf"]
    cpu = document["$defs"]["Resources"]["properties"]["cpu"]
    assert "Kubernetes quantity" in json.dumps(cpu)
    # Hover text: the fields people type most carry a description.
    assert stage["run"]["description"]
    assert document["properties"]["version"]["description"]


def _data(path: Path) -> Any:
    src = load(path.read_bytes(), str(path))
    assert src.data is not None, [d.format() for d in src.diagnostics]
    return src.data


@pytest.mark.parametrize("path", EXAMPLES, ids=[p.parent.name for p in EXAMPLES])
def test_examples_are_valid(path: Path) -> None:
    errors = [f"{list(e.absolute_path)}: {e.message}" for e in _validator().iter_errors(_data(path))]
    assert not errors


def _corpus() -> list[tuple[str, str]]:
    """(case, tag) for each corpus file, from its `# schema: reject|n/a` header line."""
    cases = []
    for path in sorted(LINT_DIR.glob("*.yaml")):
        head = path.read_bytes()[:400].decode("utf-8", "replace")
        tag = next((line.split(":", 1)[1].strip() for line in head.splitlines()
                    if line.startswith("# schema:")), "")
        cases.append((path.stem, tag))
    return cases


CORPUS = _corpus()


def test_every_corpus_case_is_tagged() -> None:
    assert len(CORPUS) >= 45
    untagged = [case for case, tag in CORPUS if tag not in ("reject", "n/a")]
    assert not untagged, "add a '# schema: reject' or '# schema: n/a' line to " + ", ".join(untagged)


@pytest.mark.parametrize("case", [c for c, t in CORPUS if t == "reject"])
def test_schema_rejects_what_the_compiler_rejects(case: str) -> None:
    """Structure, type and pattern errors: the editor flags them before the compiler does."""
    data = _data(LINT_DIR / f"{case}.yaml")
    assert list(_validator().iter_errors(data)), f"the schema accepts {case}.yaml"


@pytest.mark.parametrize("case", [c for c, t in CORPUS if t == "n/a"])
def test_na_cases_are_beyond_the_schema(case: str) -> None:
    """Keeps the tags honest: a case the schema can reject must be tagged `reject`."""
    src = load((LINT_DIR / f"{case}.yaml").read_bytes(), case)
    if src.data is None:
        return  # a YAML-level problem: no data for the schema to look at
    errors = [f"{list(e.absolute_path)}: {e.message}" for e in _validator().iter_errors(src.data)]
    assert not errors, f"the schema rejects {case}.yaml: tag it '# schema: reject'"
