"""Reading the spec from git: the one module that imports gitpython.

gitpython's exceptions are translated here, once, into `EnvironmentProblem` (exit 2) with a
message a user can act on: not a repository, an empty repository, an unknown revision, a spec
absent at a revision, a shallow clone that lacks the history asked for. The compiler only reads
git (SPEC.md section 1): nothing here changes a repository.

`import git` stays inside functions so that `mlops lint` never pays for (or depends on) it.
"""

from __future__ import annotations

import contextlib
import posixpath
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import TYPE_CHECKING, Any

from compiler.diagnostics import quote
from compiler.errors import EnvironmentProblem, UsageError

if TYPE_CHECKING:  # pragma: no cover - typing only
    import git

    from compiler.analysis import SpecBytes

RENAME_HINT = "name the spec by its path at that revision"
SHORT = 7  # fixed length, so outputs do not depend on how many objects a repository holds
UNSHALLOW = "this clone is shallow: run git fetch --unshallow"


@dataclass(frozen=True)
class Commit:
    """What `history` shows of a commit. `date` is the author date, ISO 8601 in UTC."""

    sha: str
    parents: tuple[str, ...]
    author: str
    date: str
    subject: str

    @property
    def short(self) -> str:
        return self.sha[:SHORT]


@dataclass(frozen=True)
class Change:
    """One commit that touched the spec (`git log --follow`): the spec's path at that commit and,
    for a rename, its path before."""

    sha: str
    status: str            # A added, M modified, R renamed, D deleted (git's letters)
    path: str
    old_path: str | None   # the path in the parent, for renames


def _git() -> Any:
    try:
        import git
    except ImportError as error:  # gitpython raises ImportError when no git executable is found
        raise EnvironmentProblem(f"cannot use git: {error}; install git (and gitpython) to use "
                                 "revisions") from None
    return git


def _first_line(error: Any) -> str:
    """git's own first line of complaint. gitpython wraps stderr as `stderr: '<text>'`: only
    that pair of quotes goes, not a quote of git's own (`repository at '/repo'`)."""
    stderr = str(getattr(error, "stderr", "") or "").strip()
    if stderr.startswith("stderr:"):
        stderr = stderr[len("stderr:"):].strip()
        if len(stderr) >= 2 and stderr[0] == stderr[-1] == "'":
            stderr = stderr[1:-1]
    for line in stderr.splitlines():
        if line.strip():
            return line.strip()
    return str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__


class Repository:
    """A git repository opened read-only, found from a directory at or below its root."""

    def __init__(self, start: Path) -> None:
        gitlib = _git()
        where = start if start.is_dir() else Path.cwd()
        try:
            self._repo: git.Repo = gitlib.Repo(where, search_parent_directories=True)
        except (gitlib.InvalidGitRepositoryError, gitlib.NoSuchPathError):
            raise EnvironmentProblem(
                f"{where}: not a git repository (nor any parent directory); diff, history and "
                "--ref read the spec from git: run them inside a clone") from None
        except gitlib.GitError as error:
            raise EnvironmentProblem(f"cannot open the git repository at {where}: "
                                     f"{_first_line(error)}") from None
        if self._repo.bare or self._repo.working_tree_dir is None:
            raise EnvironmentProblem(f"{where}: a bare git repository has no working tree; run "
                                     "this inside a clone")
        self.root = Path(self._repo.working_tree_dir).resolve()

    # -- paths and revisions ------------------------------------------------------------------

    def relpath(self, spec: Path) -> str:
        """The spec's path relative to the repository root, '/'-separated, as git stores it.
        Only the directory is resolved: a spec that is itself a symlink is read as git holds it."""
        absolute = spec.absolute()
        parent = absolute.parent.resolve()
        try:
            relative = (parent / absolute.name).relative_to(self.root)
        except ValueError:
            raise EnvironmentProblem(f"{spec}: outside the git repository at {self.root}") from None
        return posixpath.normpath(relative.as_posix())

    @property
    def shallow_commits(self) -> frozenset[str]:
        """The boundary commits of a shallow clone (whose parents were not fetched)."""
        marker = Path(self._repo.common_dir) / "shallow"
        try:
            return frozenset(marker.read_text(encoding="ascii").split())
        except OSError:
            return frozenset()

    def has_commits(self) -> bool:
        with self._translated("list the references"):
            return bool(self._repo.head.is_valid() or self._repo.refs)

    def resolve(self, rev: str) -> str:
        """The full 40-hex sha of the commit that `rev` names (any git revision syntax)."""
        if not rev or rev.startswith("-"):
            raise UsageError(f"invalid revision {quote(rev)}: a revision names a commit, like HEAD~1, "
                             "main or a sha")
        if not self.has_commits():
            raise EnvironmentProblem("the git repository has no commits yet: commit the spec "
                                     "first, or compare against the working tree later")
        gitlib = _git()
        try:
            sha = str(self._repo.git.rev_parse("--verify", "--quiet", f"{rev}^{{commit}}"))
        except gitlib.GitCommandError as error:
            if str(getattr(error, "stderr", "") or "").strip():
                # `--quiet` keeps an unknown revision silent: anything git says is another
                # problem (a repository owned by another user, a corrupt object store).
                raise self._problem(f"look up revision {quote(rev)}", error) from None
            message = f"unknown revision {quote(rev)}: no commit by that name in {self.root}"
            if self.shallow_commits:
                raise EnvironmentProblem(f"{message}; {UNSHALLOW}") from None
            raise EnvironmentProblem(message + " (see 'git log --oneline')") from None
        return sha.strip()

    def read(self, sha: str, relpath: str, *, rev: str | None = None,
             rename_hint: str = RENAME_HINT, max_size: int | None = None) -> SpecBytes:
        """The bytes of `relpath` as stored in commit `sha` (from git objects, not the tree).

        `rename_hint` tells how to name the spec's older path with the calling command. A blob
        over `max_size` is refused by its size, unread, as `analysis.read_spec` does."""
        from compiler.analysis import SpecBytes
        from compiler.source import DEFAULT_MAX_SIZE

        gitlib = _git()
        with self._translated(f"read {relpath} at {sha[:SHORT]}"):
            commit = self._repo.commit(sha)
            try:
                blob = commit.tree / relpath
            except KeyError:
                blob = None
            if blob is None or blob.type != "blob":
                named = f"{rev} ({sha[:SHORT]})" if rev and rev != sha else sha[:SHORT]
                raise EnvironmentProblem(
                    f"{relpath} does not exist at revision {named}; {rename_hint}, or pick a "
                    "later revision")
            limit = DEFAULT_MAX_SIZE if max_size is None else max_size
            if blob.size > limit:
                return SpecBytes(b"", int(blob.size))
            try:
                raw = bytes(blob.data_stream.read())
                return SpecBytes(raw, len(raw))
            except gitlib.GitError as error:
                raise EnvironmentProblem(f"cannot read {relpath} at {sha[:SHORT]}: "
                                         f"{_first_line(error)}") from None

    def exists_at(self, sha: str, relpath: str) -> bool:
        with self._translated(f"look up {relpath} at {sha[:SHORT]}"):
            try:
                return bool((self._repo.commit(sha).tree / relpath).type == "blob")
            except KeyError:
                return False

    # -- history ------------------------------------------------------------------------------

    def changes(self, relpath: str, max_count: int | None = None) -> list[Change]:
        """Commits that changed `relpath`, newest first, following renames (`git log --follow`).

        `--follow` alone never lists merges; with `-m` git lists a merge once per parent it
        differs from. A merge is kept when it differs from every parent (it combined changes or
        resolved a conflict), as plain `git log -- PATH` would show it; a merge that only brings
        in one side's commits is left out, like those commits' own entries are not."""
        if not self.has_commits():
            raise EnvironmentProblem("the git repository has no commits yet: commit the spec "
                                     "first, then its history has something to show")
        args = ["--follow", "-m", "--format=%x1e%H %P", "--name-status", "--find-renames"]
        with self._translated(f"read the history of {relpath}"):
            out = str(self._repo.git.log(*args, "--", relpath))
        seen: dict[str, int] = {}
        ordered: list[Change] = []
        parents: dict[str, int] = {}
        current = relpath
        for record in out.split("\x1e")[1:]:
            lines = [line for line in record.splitlines() if line.strip()]
            sha, *parent_shas = lines[0].split()
            parents[sha] = len(parent_shas)
            seen[sha] = seen.get(sha, 0) + 1
            if seen[sha] > 1:
                continue  # the same merge against its next parent: the first one counts
            status, path, old = "M", current, None
            for line in lines[1:]:
                fields = line.split("\t")
                if fields[0][:1] == "R" and len(fields) == 3:
                    status, old, path = "R", fields[1], fields[2]
                elif fields[0][:1] in "ADMCT" and len(fields) >= 2:
                    status, path = fields[0][:1], fields[-1]
            ordered.append(Change(sha, status, path, old))
            current = old or path  # older commits hold the spec under its earlier name
        kept = [c for c in ordered if parents[c.sha] < 2 or seen[c.sha] == parents[c.sha]]
        return kept[:max_count] if max_count is not None else kept

    def commit(self, sha: str) -> Commit:
        with self._translated(f"read commit {sha[:SHORT]}"):
            c = self._repo.commit(sha)
            stamp = datetime.fromtimestamp(c.authored_date, tz=timezone.utc)
            return Commit(
                sha=c.hexsha,
                parents=tuple(p.hexsha for p in c.parents),
                author=c.author.name or "",
                date=stamp.strftime("%Y-%m-%dT%H:%M:%SZ"),
                subject=c.summary if isinstance(c.summary, str) else c.summary.decode(
                    "utf-8", "replace"),
            )

    @contextlib.contextmanager
    def _translated(self, action: str) -> Iterator[None]:
        gitlib = _git()
        try:
            yield
        except (gitlib.GitError, ValueError) as error:
            raise self._problem(action, error) from None

    def _problem(self, action: str, error: Exception) -> EnvironmentProblem:
        detail = _first_line(error)
        if "dubious ownership" in detail:
            detail += (" (git refuses a repository owned by another user: see "
                       f"'git config --global --add safe.directory {self.root}')")
        return EnvironmentProblem(f"cannot {action}: {detail}")


def read_at(spec: Path, rev: str, *, max_size: int | None = None) -> tuple[SpecBytes, str]:
    """The spec's bytes as stored in git at `rev`, and that commit's full 40-hex sha.
    `spec` may be relative to the current directory; the repository root may be above it."""
    from compiler.analysis import DEFAULT_SPECS

    repo = Repository(spec.absolute().parent if not spec.is_dir() else spec.absolute())
    sha = repo.resolve(rev)
    relpath = repo.relpath(spec)
    if spec.is_dir():  # a directory: its mlops.yaml or mlops.yml, as `lint` looks for them
        candidates = [posixpath.normpath(posixpath.join(relpath, n)) for n in DEFAULT_SPECS]
        relpath = next((c for c in candidates if repo.exists_at(sha, c)), candidates[0])
    hint = "name the spec by its path at that revision (mlops build PATH --ref REV)"
    return repo.read(sha, relpath, rev=rev, rename_hint=hint, max_size=max_size), sha
