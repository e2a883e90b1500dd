"""Where a spec sits in its repository, found from the file system alone (no git process, no
gitpython: `mlops build` stays fast and works on an exported tree too).

- the repository root: the nearest directory above the spec holding `.git` (a directory, or a
  file in a worktree or submodule);
- where GitHub's workflows go (SPEC.md section 1: at that root, whatever the spec's depth);
- the compiler revision the repository pins in its `.pre-commit-config.yaml`, which the
  generated check workflow installs (SPEC.md section 6).
"""

from __future__ import annotations

import posixpath
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from compiler.pipeline import Layout
from compiler.plan import CompilerPin

PRE_COMMIT_CONFIG = ".pre-commit-config.yaml"
OUR_HOOKS = frozenset({"mlops-lint", "mlops-check"})


def repository_root(start: Path) -> Path | None:
    """The nearest directory at or above `start` that holds `.git`, or None."""
    here = start.resolve()
    for directory in (here, *here.parents):
        if (directory / ".git").exists():
            return directory
    return None


@dataclass(frozen=True)
class Placement:
    """Where one build writes: the root of each anchor, and the layout the files name."""

    roots: dict[str, Path]     # anchor -> directory
    layout: Layout
    repository: Path | None


def place(spec: Path, out: Path | None) -> Placement:
    """SPEC.md section 1: files under `--out` (by default the spec's directory), except GitHub's
    workflows, which go to the repository root when `--out` is not given. Paths inside files run
    from the repository root start at the spec's directory, `spec_dir`, either way."""
    repository = repository_root(spec.parent)
    output_root = out if out is not None else spec.parent
    spec_dir = ""
    if repository is not None:
        spec_dir = spec.parent.resolve().relative_to(repository).as_posix()
        spec_dir = "" if spec_dir == "." else spec_dir
    repository_anchor = out if out is not None else (repository or spec.parent)
    return Placement(
        roots={"output": output_root, "repository": repository_anchor},
        layout=Layout({"output": _relative(spec, output_root),
                       "repository": posixpath.join(spec_dir, spec.name)}, spec_dir),
        repository=repository,
    )


def _relative(spec: Path, root: Path) -> str:
    """How headers name the spec: relative to the root, else by its file name, so the same
    build gives the same bytes on every machine."""
    try:
        return spec.resolve().relative_to(root.resolve()).as_posix()
    except ValueError:
        return spec.name


def compiler_pin(repository: Path | None) -> CompilerPin | None:
    """The `repo` and `rev` of the repository's pre-commit entry for our hooks, if any.

    A file that cannot be read or parsed pins nothing: pre-commit itself reports it."""
    if repository is None:
        return None
    path = repository / PRE_COMMIT_CONFIG
    try:
        data: Any = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, yaml.YAMLError):
        return None
    for entry in (data or {}).get("repos") or [] if isinstance(data, dict) else []:
        if not isinstance(entry, dict):
            continue
        hooks = {h.get("id") for h in entry.get("hooks") or [] if isinstance(h, dict)}
        if hooks & OUR_HOOKS and isinstance(entry.get("repo"), str) \
                and isinstance(entry.get("rev"), str):
            return CompilerPin(entry["repo"], entry["rev"])
    return None


SPEC_NAMES = ("mlops.yaml", "mlops.yml")


def spec_of(changed: Path) -> Path | None:
    """The spec a changed file belongs to: the file itself when it is a spec, else the spec
    its header names (relative to its anchor's root, so looked for in each directory above
    it, up to the repository root); None for a file that is neither."""
    from compiler.writer import read_origin

    if changed.name in SPEC_NAMES:
        return changed
    origin = read_origin(changed)
    if origin is None:
        return None
    top = repository_root(changed.parent)
    for directory in (changed.parent.resolve(), *changed.parent.resolve().parents):
        candidate = directory / origin.spec
        if candidate.is_file():
            return candidate
        if directory == top:
            break
    return None
