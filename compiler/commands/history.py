"""`mlops history`: the commits that changed the spec, each with its semantic summary."""

from __future__ import annotations

import argparse
import hashlib
import json
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from compiler.commands import nonempty
from compiler.errors import EXIT_OK, UsageError

if TYPE_CHECKING:  # pragma: no cover - typing only
    from compiler.semdiff import Side
    from compiler.versioning import Change, Repository

HELP = "the commits that changed the spec, newest first, with a semantic summary of each"
DESCRIPTION = """\
List the commits that changed the spec, newest first, following renames: short
sha, author, date (UTC), subject, and what the commit changed in the pipeline
compared with its parent ("stages +evaluate, ~train (retries); params
~learning_rate"). A merge is compared with its first parent.

examples:
  mlops history
  mlops history pipelines/churn/mlops.yaml -n 5 --format json
"""

INVALID = "spec invalid at this revision"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("spec", nargs="?", type=nonempty("spec"), help="spec file (default: mlops.yaml here)")
    parser.add_argument("-n", "--max-count", type=int, default=None, metavar="N",
                        help="show at most N commits")
    parser.add_argument("--format", choices=("text", "json"), default="text")


def run(args: argparse.Namespace) -> int:
    from compiler.analysis import DEFAULT_SPECS, display
    from compiler.versioning import UNSHALLOW, Repository

    if args.max_count is not None and args.max_count < 1:
        raise UsageError(f"-n must be at least 1, got {args.max_count}")
    if args.spec is not None:
        path = Path(args.spec)
        if path.is_dir():
            path = next((path / n for n in DEFAULT_SPECS if (path / n).is_file()),
                        path / DEFAULT_SPECS[0])
    else:  # a deleted spec still has a history: fall back to the default name
        path = next((Path(n) for n in DEFAULT_SPECS if Path(n).is_file()), Path(DEFAULT_SPECS[0]))
    repo = Repository(path.absolute().parent)
    relpath = repo.relpath(path)
    summaries = _Summaries(repo)
    entries = []
    shallow = repo.shallow_commits
    for change in repo.changes(relpath, args.max_count):
        commit = repo.commit(change.sha)
        entries.append({
            "commit": commit.sha, "short": commit.short, "author": commit.author,
            "date": commit.date, "subject": commit.subject, "path": change.path,
            "summary": summaries.of(change, commit.parents, commit.sha in shallow),
        })
    truncated = any(e["commit"] in shallow for e in entries)
    if args.format == "json":
        out = json.dumps({"spec": relpath, "shallow": truncated, "commits": entries},
                         indent=2, sort_keys=True) + "\n"
    elif not entries:
        out = f"{display(path)}: no commit changes this file (is it committed?)\n"
    else:
        out = "".join(f"{e['short']}  {e['date']}  {e['author']}  {e['subject']}\n"
                      f"    {e['summary']}\n" for e in entries)
    sys.stdout.write(out)
    if truncated:
        print(f"mlops: note: the history stops early because {UNSHALLOW}", file=sys.stderr)
    return EXIT_OK


class _Summaries:
    """Summaries of commits against their first parent; each spec version analyzed once."""

    def __init__(self, repo: Repository) -> None:
        self.repo = repo
        self.sides: dict[str, Side | None] = {}

    def side(self, sha: str, path: str) -> Side | None:
        from compiler.analysis import analyze
        from compiler.semdiff import side_of

        spec = self.repo.read(sha, path)
        key = f"{spec.size}:{hashlib.sha256(spec.raw).hexdigest()}"  # an oversized blob is unread
        if key not in self.sides:
            # Lint rules evolve; an old version that a newer rule rejects still has a meaning.
            self.sides[key] = side_of(analyze(spec.raw, f"{path}@{sha[:7]}", run_lint=False,
                                              size=spec.size))
        return self.sides[key]

    def of(self, change: Change, parents: tuple[str, ...], boundary: bool) -> str:
        from compiler.semdiff import summary

        if change.status == "D":
            return "spec deleted"
        new = self.side(change.sha, change.path)
        if new is None:
            return INVALID
        prefix = f"renamed from {change.old_path}; " if change.old_path else ""
        old_path = change.old_path or change.path
        if boundary:
            return prefix + "earlier history is not in this shallow clone"
        if not parents or not self.repo.exists_at(parents[0], old_path):
            return prefix + "spec added with stages " + ", ".join(new.graph.order)
        old = self.side(parents[0], old_path)
        if old is None:
            return prefix + "spec valid again (the previous version was invalid)"
        return prefix + summary(old, new)

