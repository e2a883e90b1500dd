"""Compiled templates kept between runs: Jinja's bytecode, in the user's cache directory.

Compiling the templates is most of what a small spec's rendering costs: about 120 ms for the
three default targets, against some 30 ms to render a 50-stage spec with them. Every `mlops
build` renders, and so does every `mlops lint`, which measures the files against the engines'
limits (MLP410). Jinja can keep a compiled template as bytecode, keyed by the template's path
and checked against a checksum of its source, so an edited template is compiled again.

The cache is only ever an aid. What it holds cannot change an output (the same source compiles
to the same code), and any trouble with it leaves the templates compiled as if it were not
there:

- Where: `$MLOPS_CACHE_DIR`, else `$XDG_CACHE_HOME/mlops-compiler`, else
  `~/.cache/mlops-compiler`. `MLOPS_CACHE_DIR=` (empty) keeps no cache. Deleting the
  directory at any time is safe.
- One subdirectory per Python, Jinja and environment options (`fingerprint`): they change the
  compiled code while Jinja's key and checksum see only the template.
- Only directories that this user owns and nobody else may write to are used: the bytecode is
  executed when it is loaded.
- A file that cannot be read or written, or that does not load, is compiled again.
"""

from __future__ import annotations

import os
import stat
import sys
import types
from pathlib import Path

import jinja2
from jinja2.bccache import Bucket

CACHE_ENV = "MLOPS_CACHE_DIR"


def cache_root() -> Path | None:
    """The tool's cache directory, or None when there is to be none."""
    given = os.environ.get(CACHE_ENV)
    if given is not None:
        return Path(given) if given else None
    xdg = os.environ.get("XDG_CACHE_HOME")
    if xdg and os.path.isabs(xdg):  # the XDG spec: a relative path is to be ignored
        return Path(xdg) / "mlops-compiler"
    try:
        return Path.home() / ".cache" / "mlops-compiler"
    except RuntimeError:  # no home directory to be found
        return None


def bytecode_cache(fingerprint: str) -> jinja2.BytecodeCache | None:
    """The cache for templates compiled with options `fingerprint`, or None (no cache)."""
    root = cache_root()
    if root is None:
        return None
    tag = f"{sys.implementation.cache_tag}-jinja{jinja2.__version__}-{fingerprint}"
    directory = root / f"templates-{tag}"
    try:
        # Both made private (a parent made by `parents=True` would get the umask's mode).
        root.mkdir(mode=0o700, parents=True, exist_ok=True)
        directory.mkdir(mode=0o700, exist_ok=True)
        if not (_private(root) and _private(directory)):
            return None
    except OSError:
        return None
    return _Cache(str(directory), "%s.cache")


def _private(directory: Path) -> bool:
    """A real directory of this user's that no other user may write to."""
    info = directory.lstat()
    mine = not hasattr(os, "getuid") or info.st_uid == os.getuid()
    return stat.S_ISDIR(info.st_mode) and mine and not info.st_mode & (stat.S_IWGRP | stat.S_IWOTH)


class _Cache(jinja2.FileSystemBytecodeCache):
    """Jinja's file cache (atomic writes: a reader never sees half a file), never failing."""

    def load_bytecode(self, bucket: Bucket) -> None:
        try:
            super().load_bytecode(bucket)
        except Exception:  # noqa: BLE001 - an unreadable or corrupt file (Jinja leaves some
            bucket.reset()  # errors unhandled): compile the template instead
        if bucket.code is not None and not isinstance(bucket.code, types.CodeType):
            bucket.reset()  # a file that decodes to something other than code

    def dump_bytecode(self, bucket: Bucket) -> None:
        try:
            super().dump_bytecode(bucket)
        except OSError:  # a full disk, a directory gone or made read-only: no cache this time
            pass
