"""The compiled-template cache: used when it can be, never needed, never changing an output."""

from __future__ import annotations

import marshal
import os
import pickle
import stat
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import jinja2
import pytest
from jinja2.bccache import bc_magic

from compiler.render import template_cache, templating
from tests.conftest import REPO

CHURN = REPO / "examples" / "churn" / "mlops.yaml"


@pytest.fixture
def fresh(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """`templating.environment()` made anew for the test (and again after it)."""
    templating.environment.cache_clear()
    yield
    monkeypatch.undo()
    templating.environment.cache_clear()


def _environment(cache: jinja2.BytecodeCache | None, templates: Path) -> jinja2.Environment:
    return jinja2.Environment(loader=jinja2.FileSystemLoader(str(templates)),
                              bytecode_cache=cache)


def _compiling_fails(monkeypatch: pytest.MonkeyPatch) -> None:
    def refuse(*args: object, **kwargs: object) -> None:
        raise AssertionError("compiled a template the cache holds")

    monkeypatch.setattr(jinja2.Environment, "compile", refuse)


def test_where_the_cache_is(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("MLOPS_CACHE_DIR", str(tmp_path / "given"))
    assert template_cache.cache_root() == tmp_path / "given"
    monkeypatch.setenv("MLOPS_CACHE_DIR", "")
    assert template_cache.cache_root() is None
    assert template_cache.bytecode_cache("x") is None
    monkeypatch.delenv("MLOPS_CACHE_DIR")
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    assert template_cache.cache_root() == tmp_path / "xdg" / "mlops-compiler"
    monkeypatch.setenv("XDG_CACHE_HOME", "relative/ignored")
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    assert template_cache.cache_root() == tmp_path / "home" / ".cache" / "mlops-compiler"


def test_a_second_process_loads_the_templates_instead_of_compiling_them(
        fresh: None, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("MLOPS_CACHE_DIR", str(tmp_path))
    first = templating.environment().get_template("github/workflow.yml.j2")
    (directory,) = tmp_path.iterdir()
    assert directory.name.startswith(f"templates-{sys.implementation.cache_tag}-jinja")
    assert stat.S_IMODE(directory.stat().st_mode) == 0o700
    assert any(directory.iterdir())
    templating.environment.cache_clear()  # as a new process would start
    _compiling_fails(monkeypatch)
    again = templating.environment().get_template("github/workflow.yml.j2")
    assert again is not first


def test_builds_are_byte_identical_with_and_without_the_cache(tmp_path: Path) -> None:
    trees = {}
    for name, cache in (("none", ""), ("cold", str(tmp_path / "c")), ("warm", str(tmp_path / "c"))):
        out = tmp_path / name
        proc = subprocess.run([sys.executable, "-m", "compiler", "build", str(CHURN), "--out",
                               str(out), "-q"], capture_output=True, text=True, check=False,
                              env={**os.environ, "MLOPS_CACHE_DIR": cache})
        assert proc.returncode == 0, proc.stderr
        trees[name] = {p.relative_to(out): p.read_bytes() for p in out.rglob("*") if p.is_file()}
    assert any((tmp_path / "c").iterdir())
    assert trees["none"] and trees["none"] == trees["cold"] == trees["warm"]


def test_an_edited_template_is_compiled_again(tmp_path: Path) -> None:
    templates = tmp_path / "templates"
    templates.mkdir()
    (templates / "t.j2").write_text("one {{ x }}")
    cache = template_cache.bytecode_cache("test")
    assert cache is not None
    assert _environment(cache, templates).get_template("t.j2").render(x=1) == "one 1"
    (templates / "t.j2").write_text("two {{ x }}")
    assert _environment(cache, templates).get_template("t.j2").render(x=2) == "two 2"


def _not_code(checksum: str) -> bytes:
    """A cache file with the right header and checksum, then a value that is not code."""
    return bc_magic + pickle.dumps(checksum, 2) + marshal.dumps(42)


@pytest.mark.parametrize("content", [b"", b"garbage", bc_magic[:3], bc_magic + b"\xffnot a pickle",
                                     None])
def test_a_corrupt_cache_file_is_compiled_again(content: bytes | None, tmp_path: Path,
                                                monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MLOPS_CACHE_DIR", str(tmp_path / "cache"))
    templates = tmp_path / "templates"
    templates.mkdir()
    (templates / "t.j2").write_text("{{ x }}!")
    cache = template_cache.bytecode_cache("test")
    assert cache is not None
    _environment(cache, templates).get_template("t.j2")
    (stored,) = (tmp_path / "cache").glob("*/*.cache")
    stored.write_bytes(_not_code(cache.get_source_checksum("{{ x }}!")) if content is None
                       else content)
    assert _environment(cache, templates).get_template("t.j2").render(x=3) == "3!"


def test_a_group_writable_umask_still_makes_a_private_cache(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # (umask 002, the default of many Linux distributions for their users)
    monkeypatch.setenv("MLOPS_CACHE_DIR", str(tmp_path / "new" / "cache"))
    old = os.umask(0o002)
    try:
        assert template_cache.bytecode_cache("x") is not None
    finally:
        os.umask(old)
    assert stat.S_IMODE((tmp_path / "new" / "cache").stat().st_mode) == 0o700


def test_a_directory_others_may_write_to_is_not_used(tmp_path: Path,
                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    # The bytecode is executed when loaded: a directory another user can write to could hand
    # this process any code. (Modes, not ownership: the tests may run as root.)
    root = tmp_path / "shared"
    root.mkdir()
    root.chmod(0o777)
    monkeypatch.setenv("MLOPS_CACHE_DIR", str(root))
    assert template_cache.bytecode_cache("x") is None
    root.chmod(0o755)
    cache = template_cache.bytecode_cache("x")
    assert cache is not None
    (subdirectory,) = root.iterdir()
    subdirectory.chmod(0o775)
    assert template_cache.bytecode_cache("x") is None


def test_a_cache_that_cannot_be_made_or_written_is_done_without(
        fresh: None, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    blocker = tmp_path / "a-file"
    blocker.write_text("not a directory")
    monkeypatch.setenv("MLOPS_CACHE_DIR", str(blocker / "cache"))
    assert template_cache.bytecode_cache("x") is None
    assert templating.environment().bytecode_cache is None
    assert templating.environment().get_template("github/workflow.yml.j2")

    monkeypatch.setenv("MLOPS_CACHE_DIR", str(tmp_path / "cache"))
    cache = template_cache.bytecode_cache("x")
    assert cache is not None
    (directory,) = (tmp_path / "cache").iterdir()
    directory.rmdir()  # gone after it was found: writing fails, rendering does not
    templates = tmp_path / "templates"
    templates.mkdir()
    (templates / "t.j2").write_text("{{ x }}")
    assert _environment(cache, templates).get_template("t.j2").render(x=4) == "4"


def test_the_fingerprint_follows_the_options() -> None:
    options = dict(templating._OPTIONS)
    base = templating.fingerprint(options)
    assert base == templating.fingerprint(dict(reversed(options.items())))
    assert templating.fingerprint({**options, "trim_blocks": False}) != base
    assert templating.fingerprint({**options, "finalize": None}) != base
