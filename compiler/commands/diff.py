"""`mlops diff`: the semantic difference of the spec between two git revisions."""

from __future__ import annotations

import argparse
import json
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from compiler.commands import nonempty
from compiler.errors import EXIT_FINDINGS, EXIT_OK, UsageError

if TYPE_CHECKING:  # pragma: no cover - typing only
    from compiler.semdiff import Comparison, FieldChange, Side, SpecDiff
    from compiler.versioning import Repository

HELP = "semantic diff of the spec between git revisions (stages, params, impacted stages)"
DESCRIPTION = """\
Compare the spec at two git revisions, as the engines see it: stages added,
removed and changed (which fields, old -> new), params, env, triggers and
targets, per environment after overlays, and the impacted stages (added and
changed ones and everything downstream of them).

With no revision: HEAD against the working tree. With one: that revision
against the working tree. With two: the first against the second.

Exit 0 whether or not the specs differ (1 with --exit-code when they do), 1 when
a side is not a valid spec, 2 for an unknown revision or outside a git clone.

examples:
  mlops diff                             # what my uncommitted edits change
  mlops diff HEAD~1 HEAD
  mlops diff origin/main --format markdown >> "$GITHUB_STEP_SUMMARY"
"""

MAX_VALUE = 80  # text and markdown cut long values (a multi-line `run`); json keeps them whole


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("revisions", nargs="*", metavar="REV",
                        help="zero, one or two git revisions (default: HEAD and the working tree)")
    parser.add_argument("--spec", metavar="PATH", type=nonempty("--spec"),
                        help="spec file, relative to here (default: mlops.yaml or mlops.yml)")
    parser.add_argument("--format", choices=("text", "json", "markdown"), default="text",
                        help="text for people, json for tools, markdown for a PR comment or "
                             "step summary (default: text)")
    parser.add_argument("--exit-code", action="store_true",
                        help="exit 1 when the specs differ, like 'git diff --exit-code'")


@dataclass(frozen=True)
class Version:
    """One side of the comparison: a commit, or the working tree (`sha` None)."""

    path: str                 # the spec as shown here: mlops.yaml
    revision: str | None
    sha: str | None

    @property
    def label(self) -> str:
        """How diagnostics name this version: mlops.yaml@1a2b3c4, or mlops.yaml."""
        return self.path if self.sha is None else f"{self.path}@{self.sha[:7]}"

    def describe(self) -> str:
        if self.sha is None:
            return f"{self.label} (working tree)"
        if self.revision and not self.sha.startswith(self.revision):
            return f"{self.label} ({self.revision})"
        return self.label

    def to_json(self, path: str) -> dict[str, Any]:
        return {"path": path, "revision": self.revision, "commit": self.sha}


def run(args: argparse.Namespace) -> int:
    from compiler.analysis import analyze, display, read_spec
    from compiler.report import text
    from compiler.semdiff import compare, side_of
    from compiler.versioning import Repository

    if len(args.revisions) > 2:
        raise UsageError(f"diff compares two versions: got {len(args.revisions)} revisions "
                         f"({' '.join(args.revisions)}); name the spec with --spec")
    revisions: list[str | None] = list(args.revisions) or ["HEAD"]
    if len(revisions) == 1:
        revisions.append(None)  # the working tree
    path = _spec_path(args.spec, working_tree=None in revisions)
    shown = display(path)
    repo = Repository(path.absolute().parent)
    relpath = repo.relpath(path)
    sides: list[Side] = []
    versions: list[Version] = []
    failed = False
    for revision in revisions:
        if revision is None:
            version, spec = Version(shown, None, None), read_spec(path)
        else:
            sha = repo.resolve(revision)
            version = Version(shown, revision, sha)
            spec = repo.read(sha, relpath, rev=revision,
                             rename_hint="name the spec by its path then with --spec PATH")
        analysis = analyze(spec.raw, version.label, size=spec.size)
        side = side_of(analysis)
        if side is None:
            sys.stderr.write(text(analysis.diagnostics))
            failed = True
        else:
            sides.append(side)
        versions.append(version)
    if failed:
        return EXIT_FINDINGS
    comparison = compare(sides[0], sides[1])
    if args.format == "json":
        data = {"from": versions[0].to_json(relpath), "to": versions[1].to_json(relpath),
                **comparison.to_json()}
        out = json.dumps(data, indent=2, sort_keys=True) + "\n"
    elif args.format == "markdown":
        out = markdown(comparison, versions, sides[1])
    else:
        out = text_report(comparison, versions)
    from compiler.credentials import redact

    # A credential committed by mistake must not travel on into CI logs and PR comments.
    sys.stdout.write(redact(out))
    return EXIT_FINDINGS if args.exit_code and comparison.differs else EXIT_OK


def _spec_path(given: str | None, *, working_tree: bool) -> Path:
    """The spec: as given, else mlops.yaml or mlops.yml here. When both sides are revisions the
    file need not exist in the working tree (it may have been renamed or deleted since)."""
    from compiler.analysis import DEFAULT_SPECS, find_spec

    if given is not None:
        path = Path(given)
        if path.is_dir():
            return find_spec(given)
        if working_tree and not path.is_file():
            raise UsageError(f"{given}: no such file")
        return path
    if working_tree:
        return find_spec(None)
    return next((Path(n) for n in DEFAULT_SPECS if Path(n).is_file()), Path(DEFAULT_SPECS[0]))


# -- text -------------------------------------------------------------------------------------

def value_text(value: Any, limit: int | None = MAX_VALUE) -> str:
    text = json.dumps(value, sort_keys=True, ensure_ascii=False)
    if limit is not None and len(text) > limit:
        text = text[: limit - 3] + "..."
    return text


def change_text(change: FieldChange) -> str:
    old = "(none)" if change.kind == "added" else value_text(change.old)
    new = "(none)" if change.kind == "removed" else value_text(change.new)
    return f"{change.path}: {old} -> {new}"


def _diff_lines(d: SpecDiff, indent: str) -> list[str]:
    if not d.differs:
        return [f"{indent}no semantic differences"]
    lines = []
    if d.added:
        lines.append(f"{indent}stages added: {', '.join(d.added)}")
    if d.removed:
        lines.append(f"{indent}stages removed: {', '.join(d.removed)}")
    for stage in d.changed:
        lines.append(f"{indent}stage {stage.name} changed:")
        lines += [f"{indent}  {change_text(f)}" for f in stage.fields]
    for label, items in (("params", d.params), ("env", d.env), ("triggers", d.triggers),
                         ("targets", d.targets), ("pipeline", d.pipeline)):
        if items:
            lines.append(f"{indent}{label}:")
            lines += [f"{indent}  {change_text(f)}" for f in items]
    lines.append(f"{indent}impacted stages: {', '.join(d.impacted) or '(none)'}")
    return lines


def text_report(comparison: Comparison, versions: list[Version]) -> str:
    lines = [f"{versions[0].describe()} -> {versions[1].describe()}"]
    if comparison.environments_added:
        lines.append(f"environments added: {', '.join(comparison.environments_added)}")
    if comparison.environments_removed:
        lines.append(f"environments removed: {', '.join(comparison.environments_removed)}")
    for d in comparison.diffs:
        if d.environment is None:
            lines += _diff_lines(d, "")
        else:
            lines.append(f"environment {d.environment}:")
            lines += _diff_lines(d, "  ")
    return "\n".join(lines) + "\n"


# -- markdown ---------------------------------------------------------------------------------

def code(text: str) -> str:
    """`text` as a Markdown code span that nothing in it can end, safe in a table cell."""
    fence = "`"
    while fence in text:
        fence += "`"
    pad = " " if text.startswith("`") or text.endswith("`") else ""
    return f"{fence}{pad}{text}{pad}{fence}".replace("|", "\\|")


def _md_change(change: FieldChange) -> str:
    old = "_none_" if change.kind == "added" else code(value_text(change.old))
    new = "_none_" if change.kind == "removed" else code(value_text(change.new))
    return f"{code(change.path)}: {old} → {new}"


def _md_diff(d: SpecDiff, side: Side, heading: str) -> list[str]:
    lines = [f"{heading} {'environment ' + code(d.environment) if d.environment else 'pipeline'}",
             ""]
    if not d.differs:
        return [*lines, "No semantic differences.", ""]
    impacted = ", ".join(code(s) for s in d.impacted) or "_none_"
    lines += [f"**Impacted stages:** {impacted}", ""]
    rows = [(s, "added", "") for s in d.added] + [(s, "removed", "") for s in d.removed] + [
        (c.name, "changed", "<br>".join(_md_change(f) for f in c.fields)) for c in d.changed]
    if rows:
        lines += ["| stage | change | details |", "|---|---|---|"]
        lines += [f"| {code(name)} | {kind} | {details} |" for name, kind, details in rows]
        lines.append("")
    for label, items in (("params", d.params), ("env", d.env), ("triggers", d.triggers),
                         ("targets", d.targets), ("pipeline", d.pipeline)):
        if items:
            lines.append(f"**{label}:** " + "; ".join(_md_change(f) for f in items))
            lines.append("")
    lines += ["```mermaid", *mermaid(side, set(d.impacted)), "```", ""]
    return lines


def mermaid(side: Side, impacted: set[str]) -> list[str]:
    """The stage DAG, impacted stages marked. Node ids are positional (`s0`): a stage named
    like a Mermaid keyword (`end`) cannot break the chart."""
    order = side.graph.order
    ids = {s: f"s{i}" for i, s in enumerate(order)}
    lines = ["graph TD"]
    lines += [f"  {ids[s]}[{json.dumps(s)}]" for s in order]
    rank = {s: i for i, s in enumerate(order)}  # order.index() per edge is quadratic
    edges = sorted(side.graph.edges(), key=lambda e: (rank[e[0]], rank[e[1]]))
    lines += [f"  {ids[a]} --> {ids[b]}" for a, b in edges]
    lines.append("  classDef impacted fill:#fde68a,stroke:#b45309,color:#000")
    marked = [ids[s] for s in order if s in impacted]
    if marked:
        lines.append(f"  class {','.join(marked)} impacted")
    return lines


def markdown(comparison: Comparison, versions: list[Version], new: Side) -> str:
    old_v, new_v = versions

    def name(v: Version) -> str:
        if v.sha is None:
            return "working tree"
        return (f"{code(v.revision)} ({code(v.sha[:7])})"
                if v.revision and not v.sha.startswith(v.revision) else code(v.sha[:7]))

    lines = [f"### mlops diff of {code(old_v.path)}: {name(old_v)} → {name(new_v)}",
             ""]
    if not comparison.differs:
        lines += ["No semantic differences.", ""]
        return "\n".join(lines)
    for label, names in (("added", comparison.environments_added),
                         ("removed", comparison.environments_removed)):
        if names:
            lines += [f"Environments {label}: {', '.join(code(n) for n in names)}", ""]
    for d in comparison.diffs:
        lines += _md_diff(d, new, "####")
    return "\n".join(lines)
