"""Shared fixtures: the repository, its examples, and running the CLI in-process."""

from __future__ import annotations

import io
import os
import sys
from collections.abc import Iterator
from contextlib import redirect_stderr, redirect_stdout
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.tooling import cache_dir

REPO = Path(__file__).resolve().parent.parent
EXAMPLES = sorted(REPO.glob("examples/*/mlops.yaml"))

# Compiled templates (compiler/render/template_cache.py) go to the test cache, not the user's
# (the processes the tests start inherit this).
os.environ.setdefault("MLOPS_CACHE_DIR", str(cache_dir() / "mlops-cache"))


@dataclass
class Result:
    code: int
    out: str
    err: str


def run_cli(*args: str | os.PathLike[str]) -> Result:
    """`mlops ARGS` in this process, with its exit code and output."""
    from compiler.cli import main

    out, err = io.StringIO(), io.StringIO()
    with redirect_stdout(out), redirect_stderr(err):
        code = main([str(a) for a in args])
    return Result(code, out.getvalue(), err.getvalue())


@pytest.fixture
def cli() -> object:
    return run_cli


@pytest.fixture(params=EXAMPLES, ids=[p.parent.name for p in EXAMPLES])
def example(request: pytest.FixtureRequest) -> Path:
    return Path(request.param)


@pytest.fixture
def in_tmp(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    monkeypatch.chdir(tmp_path)
    yield tmp_path


def python_bin_dir() -> Path:
    return Path(sys.executable).parent


@pytest.hookimpl(optionalhook=True)
def pytest_xdist_make_scheduler(config: pytest.Config, log: object) -> object | None:
    """``-n N`` with the default ``--dist load``: one worker per conformance engine batch."""
    if config.getvalue("dist") != "load":
        return None  # a --dist the user asked for
    from tests.conformance.scheduling import EngineScheduling

    return EngineScheduling(config, log)  # type: ignore[arg-type]
