"""The writer's dealings with the file system: faults in the user's terms, a lock on the output
root, and files staged as temp files before any of them replaces an old one.

A full disk, a read-only mount or a permission error is the user's environment, not our bug
(SPEC.md section 4): each becomes an `EnvironmentProblem` (exit 2) that names the path and what
to do, never an internal error.
"""

from __future__ import annotations

import contextlib
import errno
import os
import tempfile
from collections.abc import Iterator
from pathlib import Path

from compiler.errors import EnvironmentProblem

TEMP_SUFFIX = ".tmp"

_WHY = {
    errno.ENOSPC: "no space left on the device",
    errno.EDQUOT: "the disk quota is exhausted",
    errno.EROFS: "the file system is read-only",
    errno.EACCES: "permission denied",
    errno.EPERM: "the operation is not permitted",
    errno.ENAMETOOLONG: "the name is too long for the file system",
}
_FIX = {
    errno.ENOSPC: "free some space and build again",
    errno.EDQUOT: "free some space and build again",
    errno.EROFS: "build into a writable directory (--out DIR)",
    errno.EACCES: "check who owns the directory and its permissions, or build elsewhere "
                  "(--out DIR)",
    errno.EPERM: "check the file's flags, owner and permissions, or build elsewhere (--out DIR)",
}


def fault(action: str, path: Path, error: OSError) -> EnvironmentProblem:
    """`cannot <action> <path>: <why>; <what to do>`, from an OSError on `path`."""
    code = error.errno or 0
    if code in (errno.ENOTDIR, errno.EEXIST) and not path.is_dir():
        blocker = next((p for p in (path, *path.parents) if p.exists() and not p.is_dir()), None)
        if blocker is not None:
            return EnvironmentProblem(
                f"cannot {action} {path}: {blocker} is a file, not a directory; move it away "
                "or build elsewhere (--out DIR)")
    why = _WHY.get(code) or (error.strerror or str(error)).lower()
    fix = _FIX.get(code)
    return EnvironmentProblem(f"cannot {action} {path}: {why}" + (f"; {fix}" if fix else ""))


def make_root(root: Path) -> None:
    """The output root as a directory: created when missing, refused when it is a file."""
    if root.exists() and not root.is_dir():
        raise EnvironmentProblem(f"the output directory {root} is a file, not a directory; "
                                 "name a directory with --out")
    try:
        root.mkdir(parents=True, exist_ok=True)
    except OSError as error:
        raise fault("create the output directory", root, error) from None


@contextlib.contextmanager
def locked(root: Path, *, exclusive: bool) -> Iterator[None]:
    """Hold an advisory lock on the output root: builds of one tree take turns, and `--check`
    never sees one half-way. Without `flock` (Windows) or where the file system refuses locks,
    builds proceed unlocked, as they did before locking existed."""
    try:
        import fcntl
    except ImportError:  # pragma: no cover - Windows
        yield
        return
    try:
        fd = os.open(root, os.O_RDONLY | getattr(os, "O_DIRECTORY", 0))
    except OSError as error:
        raise fault("open the output directory", root, error) from None
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX if exclusive else fcntl.LOCK_SH)
        except OSError as error:
            if error.errno not in (errno.ENOLCK, errno.EOPNOTSUPP, errno.EINVAL):
                raise fault("lock the output directory", root, error) from None
        yield
    finally:
        os.close(fd)  # closing the last descriptor releases the lock


def make_parents(path: Path, root: Path) -> list[Path]:
    """Create the directories above `path` that are missing; returns them, outermost first, so a
    failed build can remove what it created."""
    missing = [p for p in reversed(path.parents) if p != root and root in p.parents
               and not p.is_dir()]
    for directory in missing:
        try:
            directory.mkdir()
        except FileExistsError:
            if not directory.is_dir():
                raise fault("create the directory", directory,
                            OSError(errno.ENOTDIR, "not a directory")) from None
        except OSError as error:
            raise fault("create the directory", directory, error) from None
    return missing


def stage(path: Path, content: str) -> Path:
    """Write `content` to a temp file beside `path`, flushed to disk; the caller renames it."""
    try:
        fd, temp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=TEMP_SUFFIX, dir=path.parent)
    except OSError as error:
        raise fault("write", path, error) from None
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="\n") as f:
            f.write(content)
            f.flush()
            os.fsync(f.fileno())
        os.chmod(temp, 0o644)
    except BaseException as error:
        Path(temp).unlink(missing_ok=True)
        if isinstance(error, OSError):
            raise fault("write", path, error) from None
        raise
    return Path(temp)


def replace(temp: Path, path: Path) -> None:
    try:
        os.replace(temp, path)
    except OSError as error:
        raise fault("replace", path, error) from None


def remove(path: Path) -> None:
    try:
        path.unlink()
    except FileNotFoundError:
        pass  # already gone: the state asked for
    except OSError as error:
        raise fault("remove", path, error) from None


def prune(directory: Path, root: Path) -> None:
    """Remove `directory` and its parents below `root` while they are empty: the directories
    that held only generated files that are gone now. A directory with anything in it stays."""
    while directory != root and root in directory.parents:
        try:
            directory.rmdir()
        except OSError:
            return  # not empty (or not ours to remove): stop here
        directory = directory.parent


# Directories that hold the system, not projects: a build writes `.github/`, `airflow/` and
# `k8s/` into its output root, which there would be system-wide (as root) or everybody's
# (`/tmp`). Exact paths; below them only the trees no project lives in.
_SYSTEM_EXACT = frozenset({
    "/bin", "/boot", "/dev", "/etc", "/home", "/lib", "/lib32", "/lib64", "/libx32", "/media",
    "/mnt", "/opt", "/proc", "/root", "/run", "/sbin", "/snap", "/srv", "/sys", "/tmp", "/usr",
    "/usr/bin", "/usr/include", "/usr/lib", "/usr/lib64", "/usr/libexec", "/usr/local",
    "/usr/local/bin", "/usr/local/lib", "/usr/local/sbin", "/usr/local/share", "/usr/sbin",
    "/usr/share", "/usr/src", "/var", "/var/lib", "/var/log", "/var/tmp", "/var/cache",
    "/Applications", "/Library", "/System", "/Users", "/Volumes", "/private", "/private/tmp",
    "/private/var",
})
_SYSTEM_TREES = ("/bin", "/boot", "/dev", "/etc", "/lib", "/lib32", "/lib64", "/libx32",
                 "/proc", "/sbin", "/sys", "/usr/bin", "/usr/lib", "/usr/lib64", "/usr/sbin",
                 "/System")


def system_directory(root: Path) -> str | None:
    """What makes `root` (resolved: `/usr/..` and symlinks count as where they lead) no place
    for generated files: "a filesystem root", "a system directory", or None."""
    resolved = root.resolve()
    if resolved.parent == resolved:  # `/`, or a drive root on Windows (`C:\`)
        return "a filesystem root"
    text = resolved.as_posix()
    windows = os.environ.get("SYSTEMROOT") or os.environ.get("WINDIR")
    if text in _SYSTEM_EXACT or any(text.startswith(t + "/") for t in _SYSTEM_TREES) or (
            windows and resolved == Path(windows).resolve()):
        return "a system directory"
    return None
