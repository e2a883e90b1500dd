"""Which heavy modules each command imports (not timed: import sets are stable, timings are not).

Importing networkx, jinja2, jsonschema and gitpython costs ~0.3 s together, more than a whole
lint of a small spec; each command imports only what its work needs (benchmarks/README.md).
The stage graph is networkx's, so the commands that build it (lint, graph, build) import it.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import REPO

EXAMPLES = REPO / "examples"

HEAVY = ("jinja2", "git", "jsonschema", "networkx", "compiler.render", "pydantic",
         "compiler.versioning")

# Run one command in a fresh interpreter and report which of HEAVY ended up in sys.modules.
_PROBE = """
import contextlib, io, json, sys
from compiler.cli import main
with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()):
    try:
        code = main(sys.argv[1:])
    except SystemExit as exit:  # --help
        code = exit.code
print(json.dumps({"code": code, "modules": [m for m in %r if m in sys.modules]}))
""" % (HEAVY,)

# A spec whose params are bare defaults or plainly satisfied schemas (no `pattern`).
PLAIN = EXAMPLES / "churn" / "mlops.yaml"
# A spec with a `pattern` param: jsonschema checks it, so lint may import jsonschema.
PATTERN = EXAMPLES / "sweep" / "mlops.yaml"

# (arguments, modules that must NOT be imported)
CASES: list[tuple[list[str], set[str]]] = [
    (["lint", str(PLAIN)], {"jinja2", "git", "jsonschema", "compiler.render",
                            "compiler.versioning"}),
    (["lint", str(PATTERN)], {"jinja2", "git", "compiler.render", "compiler.versioning"}),
    (["graph", str(PLAIN)], {"jinja2", "git", "jsonschema", "compiler.render",
                             "compiler.versioning"}),
    (["graph", "--format", "mermaid", str(PATTERN)], {"jinja2", "git", "compiler.render"}),
    (["schema"], {"jinja2", "git", "jsonschema", "networkx", "compiler.render", "pydantic"}),
    # The capability table comes from the target registry, which declares each target's
    # settings model (pydantic); no renderer is imported.
    (["targets"], {"jinja2", "git", "jsonschema", "networkx", "compiler.render"}),
    (["explain", "MLP302"], {"jinja2", "git", "jsonschema", "networkx", "compiler.render"}),
    (["explain", "--list"], {"jinja2", "git", "jsonschema", "networkx", "compiler.render"}),
    (["--help"], set(HEAVY)),
]


def _imported(args: list[str], cwd: Path) -> tuple[int, set[str]]:
    proc = subprocess.run([sys.executable, "-c", _PROBE, *args], cwd=cwd, capture_output=True,
                          text=True, timeout=120)
    lines = [line for line in proc.stdout.splitlines() if line.startswith("{")]
    assert lines, f"probe failed for {args}:\n{proc.stdout}\n{proc.stderr}"
    result = json.loads(lines[-1])
    return result["code"], set(result["modules"])


@pytest.mark.parametrize(("args", "forbidden"), CASES, ids=[" ".join(c[0][:2]).replace(str(EXAMPLES), "") for c in CASES])
def test_command_imports_only_what_it_uses(args: list[str], forbidden: set[str],
                                           tmp_path: Path) -> None:
    code, modules = _imported(args, tmp_path)
    assert code in (0, None), f"{args} exited {code}"
    assert not modules & forbidden, f"'mlops {' '.join(args)}' imported {sorted(modules & forbidden)}"


def test_build_imports_no_git_without_ref(tmp_path: Path) -> None:
    code, modules = _imported(["build", str(PLAIN), "--out", str(tmp_path / "out"), "-q"], tmp_path)
    assert code == 0
    assert "jinja2" in modules and "compiler.render" in modules  # the probe does see imports
    assert not modules & {"git", "compiler.versioning"}, sorted(modules)


def test_probe_sees_the_repo() -> None:
    assert (REPO / "compiler" / "cli.py").is_file()
