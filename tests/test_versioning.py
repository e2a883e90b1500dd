"""`mlops diff`, `mlops history` and `versioning.read_at` against real git repositories.

Each test builds its repository in a temporary directory with the git CLI, with fixed names and
dates, so commit shas (and so every output) are the same on every machine.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from types import SimpleNamespace
from pathlib import Path

import pytest

from compiler.cli import main
from compiler.errors import EnvironmentProblem
from compiler.versioning import read_at

ROOT = Path(__file__).resolve().parent.parent

V1 = """\
version: 1
name: demo
params:
  lr: 0.05
defaults: {retries: 1}
stages:
  ingest:
    run: python ingest.py
    outputs: [data/raw]
  train:
    type: train
    run: python train.py --lr ${params.lr}
    inputs: [data/raw]
    outputs: [model/]
  report:
    run: echo done
    needs: [train]
targets: {github: {}}
"""
# lr's default, train's retries, a new stage `evaluate` reading train's model.
V2 = V1.replace("lr: 0.05", "lr: 0.1").replace(
    "    outputs: [model/]\n",
    "    outputs: [model/]\n    retries: 3\n"
    "  evaluate:\n    type: evaluate\n    run: python eval.py\n    inputs: [model/]\n")
BROKEN = "version: 1\nname: demo\nstages: [unclosed\n"


def _env(date: str) -> dict[str, str]:
    return {**os.environ, "GIT_AUTHOR_NAME": "Ada Lovelace", "GIT_AUTHOR_EMAIL": "ada@example.com",
            "GIT_COMMITTER_NAME": "Ada Lovelace", "GIT_COMMITTER_EMAIL": "ada@example.com",
            "GIT_AUTHOR_DATE": date, "GIT_COMMITTER_DATE": date,
            "GIT_CONFIG_GLOBAL": os.devnull, "GIT_CONFIG_NOSYSTEM": "1"}


def git(repo: Path, *args: str, date: str = "2024-01-01T00:00:00+00:00") -> str:
    done = subprocess.run(["git", *args], cwd=repo, env=_env(date), check=True,
                          capture_output=True, text=True)
    return done.stdout.strip()


def commit(repo: Path, files: dict[str, str], message: str, day: int) -> str:
    for name, text in files.items():
        (repo / name).parent.mkdir(parents=True, exist_ok=True)
        (repo / name).write_text(text)
        git(repo, "add", name)
    git(repo, "commit", "-q", "-m", message, date=f"2024-01-{day:02d}T12:00:00+00:00")
    return git(repo, "rev-parse", "HEAD")


def new_repo(path: Path) -> Path:
    path.mkdir(parents=True, exist_ok=True)
    git(path, "init", "-q", "-b", "main")
    return path


@pytest.fixture
def linear(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> tuple[Path, str, str]:
    repo = new_repo(tmp_path / "repo")
    first = commit(repo, {"mlops.yaml": V1}, "first pipeline", 1)
    second = commit(repo, {"mlops.yaml": V2}, "tune training", 2)
    monkeypatch.chdir(repo)
    return repo, first, second


def mlops(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    code = main(list(args))
    captured = capsys.readouterr()
    return code, captured.out, captured.err


# -- the "done means" of the issue ---------------------------------------------------------------

DIFF_TEXT = """\
mlops.yaml@{a} (HEAD~1) -> mlops.yaml@{b} (HEAD)
stages added: evaluate
stage train changed:
  params.lr: 0.05 -> 0.1
  retries: 1 -> 3
params:
  lr.default: 0.05 -> 0.1
impacted stages: train, evaluate, report
"""


def test_diff_names_changed_and_impacted_stages(linear, capsys) -> None:
    _, first, second = linear
    code, out, err = mlops(capsys, "diff", "HEAD~1", "HEAD")
    assert (code, err) == (0, "")
    assert out == DIFF_TEXT.format(a=first[:7], b=second[:7])


def test_diff_json_is_exact_and_stable(linear, capsys) -> None:
    _, first, second = linear
    code, out, _ = mlops(capsys, "diff", "HEAD~1", "HEAD", "--format", "json")
    assert code == 0
    expected = {
        "differ": True,
        "environments": {"added": [], "removed": []},
        "from": {"commit": first, "path": "mlops.yaml", "revision": "HEAD~1"},
        "to": {"commit": second, "path": "mlops.yaml", "revision": "HEAD"},
        "diffs": [{
            "environment": None,
            "stages": {
                "added": ["evaluate"], "removed": [],
                "changed": {"train": [
                    {"path": "params.lr", "kind": "changed", "old": 0.05, "new": 0.1},
                    {"path": "retries", "kind": "changed", "old": 1, "new": 3}]},
            },
            "params": [{"path": "lr.default", "kind": "changed", "old": 0.05, "new": 0.1}],
            "env": [], "triggers": [], "targets": [], "pipeline": [],
            "impacted": ["train", "evaluate", "report"],
        }],
    }
    assert json.loads(out) == expected
    assert out == json.dumps(expected, indent=2, sort_keys=True) + "\n"


def test_history_lists_both_commits(linear, capsys) -> None:
    _, first, second = linear
    code, out, err = mlops(capsys, "history")
    assert (code, err) == (0, "")
    assert out == (
        f"{second[:7]}  2024-01-02T12:00:00Z  Ada Lovelace  tune training\n"
        "    stages +evaluate, ~train (params, retries); params ~lr\n"
        f"{first[:7]}  2024-01-01T12:00:00Z  Ada Lovelace  first pipeline\n"
        "    spec added with stages ingest, train, report\n")


def test_history_json(linear, capsys) -> None:
    _, first, second = linear
    code, out, _ = mlops(capsys, "history", "mlops.yaml", "--format", "json", "-n", "1")
    assert code == 0
    assert json.loads(out) == {"spec": "mlops.yaml", "shallow": False, "commits": [{
        "commit": second, "short": second[:7], "author": "Ada Lovelace",
        "date": "2024-01-02T12:00:00Z", "subject": "tune training", "path": "mlops.yaml",
        "summary": "stages +evaluate, ~train (params, retries); params ~lr"}]}


def test_markdown_has_table_and_marked_mermaid(linear, capsys) -> None:
    _, first, second = linear
    code, out, _ = mlops(capsys, "diff", "HEAD~1", "HEAD", "--format", "markdown")
    assert code == 0
    assert out == textwrap.dedent(f"""\
        ### mlops diff of `mlops.yaml`: `HEAD~1` (`{first[:7]}`) → `HEAD` (`{second[:7]}`)

        #### pipeline

        **Impacted stages:** `train`, `evaluate`, `report`

        | stage | change | details |
        |---|---|---|
        | `evaluate` | added |  |
        | `train` | changed | `params.lr`: `0.05` → `0.1`<br>`retries`: `1` → `3` |

        **params:** `lr.default`: `0.05` → `0.1`

        ```mermaid
        graph TD
          s0["ingest"]
          s1["train"]
          s2["evaluate"]
          s3["report"]
          s0 --> s1
          s1 --> s2
          s1 --> s3
          classDef impacted fill:#fde68a,stroke:#b45309,color:#000
          class s1,s2,s3 impacted
        ```
        """)


# -- the working tree, --exit-code ---------------------------------------------------------------

def test_default_is_head_against_the_working_tree(linear, capsys) -> None:
    repo, _, second = linear
    code, out, _ = mlops(capsys, "diff", "--exit-code")
    assert (code, out) == (0, f"mlops.yaml@{second[:7]} (HEAD) -> mlops.yaml (working tree)\n"
                              "no semantic differences\n")
    (repo / "mlops.yaml").write_text(V2.replace("echo done", "echo finished"))
    code, out, _ = mlops(capsys, "diff", "--exit-code")
    assert code == 1
    assert out == (f"mlops.yaml@{second[:7]} (HEAD) -> mlops.yaml (working tree)\n"
                   "stage report changed:\n"
                   '  run: "echo done" -> "echo finished"\n'
                   "impacted stages: report\n")
    code, out, _ = mlops(capsys, "diff", "HEAD~1")  # one revision: against the working tree
    assert code == 0
    assert "stage report changed:" in out and "stages added: evaluate" in out


def test_a_comment_only_change_is_no_difference(linear, capsys) -> None:
    repo, _, _ = linear
    (repo / "mlops.yaml").write_text("# a comment\n" + V2)
    assert mlops(capsys, "diff", "--exit-code")[0] == 0


def test_environments_are_compared_after_overlays(tmp_path, monkeypatch, capsys) -> None:
    repo = new_repo(tmp_path / "repo")
    overlays = ("environments:\n  staging: {}\n"
                "  production: {stages: {report: {retries: 2}}}\n")
    commit(repo, {"mlops.yaml": V1 + overlays}, "environments", 1)
    commit(repo, {"mlops.yaml": V1 + overlays.replace("retries: 2", "retries: 5")}, "more", 2)
    monkeypatch.chdir(repo)
    code, out, _ = mlops(capsys, "diff", "HEAD~1", "HEAD")
    assert code == 0
    assert out.splitlines()[1:] == [
        "environment production:",
        "  stage report changed:",
        "    retries: 2 -> 5",
        "  impacted stages: report",
        "environment staging:",
        "  no semantic differences",
    ]
    code, out, _ = mlops(capsys, "history", "-n", "1")
    assert out.splitlines()[1] == "    environments ~production"


# -- renames, merges, detached HEAD ----------------------------------------------------------------

def test_history_follows_a_rename(linear, capsys) -> None:
    repo, first, second = linear
    git(repo, "mv", "mlops.yaml", "pipeline.yaml")
    (repo / "pipeline.yaml").write_text(V2.replace("retries: 3", "retries: 4"))
    git(repo, "add", "pipeline.yaml")
    git(repo, "commit", "-q", "-m", "rename the spec", date="2024-01-03T12:00:00+00:00")
    third = git(repo, "rev-parse", "HEAD")
    code, out, _ = mlops(capsys, "history", "pipeline.yaml", "--format", "json")
    assert code == 0
    commits = json.loads(out)["commits"]
    assert [(c["commit"], c["path"], c["summary"]) for c in commits] == [
        (third, "pipeline.yaml", "renamed from mlops.yaml; stages ~train (retries)"),
        (second, "mlops.yaml", "stages +evaluate, ~train (params, retries); params ~lr"),
        (first, "mlops.yaml", "spec added with stages ingest, train, report"),
    ]
    # Before the rename the spec had another name: say so, and name the way out.
    code, _, err = mlops(capsys, "diff", "HEAD~1", "HEAD", "--spec", "pipeline.yaml")
    assert code == 2
    assert err == (f"mlops: error: pipeline.yaml does not exist at revision HEAD~1 "
                   f"({second[:7]}); name the spec by its path then with --spec PATH, or pick a "
                   "later revision\n")


def test_history_shows_a_merge_against_its_first_parent(linear, capsys) -> None:
    repo, _, second = linear
    git(repo, "checkout", "-q", "-b", "feature")
    commit(repo, {"mlops.yaml": V2.replace("python ingest.py", "python ingest.py --all")},
           "ingest everything", 3)
    git(repo, "checkout", "-q", "main")
    commit(repo, {"mlops.yaml": V2.replace("echo done", "echo finished")}, "louder report", 4)
    git(repo, "merge", "-q", "--no-ff", "-m", "merge feature", "feature",
        date="2024-01-05T12:00:00+00:00")
    merge = git(repo, "rev-parse", "HEAD")
    code, out, _ = mlops(capsys, "history")
    assert code == 0
    lines = out.splitlines()
    assert lines[:2] == [f"{merge[:7]}  2024-01-05T12:00:00Z  Ada Lovelace  merge feature",
                         "    stages ~ingest (run)"]
    assert [line.split("  ")[3] for line in lines[::2]] == [
        "merge feature", "louder report", "ingest everything", "tune training", "first pipeline"]
    code, out, _ = mlops(capsys, "diff", "HEAD^1", "HEAD")
    assert "stage ingest changed:\n  run: \"python ingest.py\" -> \"python ingest.py --all\"\n" \
           "impacted stages: ingest, train, evaluate, report\n" in out


def test_detached_head(linear, capsys) -> None:
    repo, first, second = linear
    git(repo, "checkout", "-q", "--detach", "HEAD~1")
    code, out, _ = mlops(capsys, "diff")
    assert (code, out) == (0, f"mlops.yaml@{first[:7]} (HEAD) -> mlops.yaml (working tree)\n"
                              "no semantic differences\n")
    code, out, _ = mlops(capsys, "diff", "HEAD", "main")
    assert out == DIFF_TEXT.format(a=first[:7], b=second[:7]).replace(
        "(HEAD~1)", "(HEAD)").replace(f"{second[:7]} (HEAD)", f"{second[:7]} (main)")
    code, out, _ = mlops(capsys, "history")
    assert out == (f"{first[:7]}  2024-01-01T12:00:00Z  Ada Lovelace  first pipeline\n"
                   "    spec added with stages ingest, train, report\n")


# -- what git cannot give --------------------------------------------------------------------------

def test_shallow_clone(linear, tmp_path, monkeypatch, capsys) -> None:
    repo, _, second = linear
    clone = tmp_path / "clone"
    git(tmp_path, "clone", "-q", "--depth", "1", f"file://{repo}", str(clone))
    monkeypatch.chdir(clone)
    code, out, err = mlops(capsys, "diff", "HEAD~1", "HEAD")
    assert (code, out) == (2, "")
    assert err.startswith("mlops: error: unknown revision 'HEAD~1'")
    assert err.endswith("; this clone is shallow: run git fetch --unshallow\n")
    code, out, err = mlops(capsys, "history")
    assert code == 0
    assert out == (f"{second[:7]}  2024-01-02T12:00:00Z  Ada Lovelace  tune training\n"
                   "    earlier history is not in this shallow clone\n")
    assert err == ("mlops: note: the history stops early because this clone is shallow: run "
                   "git fetch --unshallow\n")
    assert mlops(capsys, "diff", "HEAD")[0] == 0  # what the clone holds still works


def test_a_malformed_revision(linear, capsys) -> None:
    repo, _, second = linear
    broken = commit(repo, {"mlops.yaml": BROKEN}, "oops", 3)
    fixed = commit(repo, {"mlops.yaml": V2}, "fix it", 4)
    code, out, _ = mlops(capsys, "history", "-n", "3")
    assert code == 0
    assert out == (f"{fixed[:7]}  2024-01-04T12:00:00Z  Ada Lovelace  fix it\n"
                   "    spec valid again (the previous version was invalid)\n"
                   f"{broken[:7]}  2024-01-03T12:00:00Z  Ada Lovelace  oops\n"
                   "    spec invalid at this revision\n"
                   f"{second[:7]}  2024-01-02T12:00:00Z  Ada Lovelace  tune training\n"
                   "    stages +evaluate, ~train (params, retries); params ~lr\n")
    code, out, err = mlops(capsys, "diff", "HEAD~1", "HEAD")
    assert (code, out) == (1, "")
    assert err == (f"mlops.yaml@{broken[:7]}:3:9: error MLP101 invalid YAML: the flow "
                   "collection '[' opened here is never closed\n  hint: YAML read on to line 4, "
                   "column 1 looking for its ']': close it where it ends\n1 error, 0 warnings\n")


def test_a_repository_without_commits(tmp_path, monkeypatch, capsys) -> None:
    repo = new_repo(tmp_path / "empty")
    (repo / "mlops.yaml").write_text(V1)
    monkeypatch.chdir(repo)
    message = "mlops: error: the git repository has no commits yet: commit the spec first"
    code, out, err = mlops(capsys, "diff")
    assert (code, out) == (2, "") and err.startswith(message)
    code, out, err = mlops(capsys, "history")
    assert (code, out) == (2, "") and err.startswith(message)


def test_not_a_repository(tmp_path, monkeypatch, capsys) -> None:
    plain = tmp_path / "plain"
    plain.mkdir()
    (plain / "mlops.yaml").write_text(V1)
    monkeypatch.chdir(plain)
    monkeypatch.setenv("GIT_CEILING_DIRECTORIES", str(tmp_path))  # never find an outer repo
    for command in ("diff", "history"):
        code, out, err = mlops(capsys, command)
        assert (code, out) == (2, "")
        assert err == (f"mlops: error: {plain.resolve()}: not a git repository (nor any parent "
                       "directory); diff, history and --ref read the spec from git: run them "
                       "inside a clone\n")


def test_a_repository_owned_by_another_user_says_so(linear, capsys, monkeypatch) -> None:
    """git's "dubious ownership", as history already said it, not "unknown revision 'HEAD'"."""
    if os.geteuid() != 0:
        pytest.skip("needs root to give the repository to another user")
    repo, _, _ = linear
    monkeypatch.setenv("GIT_CONFIG_GLOBAL", os.devnull)  # no safe.directory from this machine
    monkeypatch.setenv("GIT_CONFIG_NOSYSTEM", "1")
    for path in [repo, *repo.rglob("*")]:
        os.lchown(path, 12345, 12345)
    expected = (f"fatal: detected dubious ownership in repository at '{repo}' (git refuses a "
                "repository owned by another user: see 'git config --global --add "
                f"safe.directory {repo}')\n")
    for args in (("diff",), ("diff", "HEAD~1", "HEAD"), ("history",),
                 ("build", "--ref", "HEAD", "--out", str(repo.parent / "out"))):
        code, out, err = mlops(capsys, *args)
        assert (code, out) == (2, ""), args
        assert err.startswith("mlops: error: cannot ") and err.endswith(expected), (args, err)
        assert "unknown revision" not in err


def test_a_git_failure_other_than_an_unknown_revision_is_reported_as_git_says(
        linear, monkeypatch) -> None:
    """`rev-parse --quiet` is silent for an unknown revision: whatever git says is another
    problem, and is shown as git said it (here a stand-in for one)."""
    import git as gitlib

    from compiler.versioning import Repository

    def failing(*args: str) -> str:
        raise gitlib.GitCommandError(["git", "rev-parse"], 128,
                                     b"fatal: bad object HEAD\nmore detail\n")

    repo = Repository(linear[0])
    real = repo._repo
    monkeypatch.setattr(repo, "_repo", SimpleNamespace(git=SimpleNamespace(rev_parse=failing),
                                                       head=real.head, refs=real.refs))
    with pytest.raises(EnvironmentProblem, match=r"^cannot look up revision 'HEAD': fatal: bad "
                                                 r"object HEAD$"):
        repo.resolve("HEAD")


def test_empty_revisions_and_paths_are_usage_errors(linear, capsys) -> None:
    """`--ref=` or an unset shell variable must not mean the working tree or this directory."""
    for args in (("build", "--ref="), ("build", "--ref", ""), ("build", "--out="),
                 ("build", ""), ("diff", ""), ("diff", "--spec="), ("history", ""),
                 ("lint", ""), ("graph", ""), ("build", "--env="), ("lint", "--max-size", "0")):
        try:
            code, out, err = mlops(capsys, *args)
        except SystemExit as exit:  # argparse refused it
            code, (out, err) = int(str(exit.code)), capsys.readouterr()
        assert code == 2, (args, out, err)
        assert "must not be empty" in err or "invalid revision ''" in err or \
            "must be at least 1" in err, (args, err)
    assert not (linear[0] / ".github").exists()  # nothing was built


def test_a_spec_missing_at_a_revision_names_the_option_of_the_command(linear, capsys) -> None:
    repo, _, _ = linear
    git(repo, "mv", "mlops.yaml", "pipeline.yaml")
    commit(repo, {}, "rename the spec", 3)
    code, _, err = mlops(capsys, "build", "pipeline.yaml", "--ref", "HEAD~1", "--out", "o")
    assert code == 2
    assert "pipeline.yaml does not exist at revision HEAD~1" in err
    assert "(mlops build PATH --ref REV)" in err and "--spec" not in err
    code, _, err = mlops(capsys, "diff", "HEAD~1", "--spec", "pipeline.yaml")
    assert code == 2 and "with --spec PATH" in err


def test_too_many_revisions_is_a_usage_error(linear, capsys) -> None:
    code, _, err = mlops(capsys, "diff", "HEAD", "HEAD", "mlops.yaml")
    assert code == 2 and "diff compares two versions" in err


# -- read_at: what `build --ref` uses --------------------------------------------------------------

def test_read_at_reads_git_objects_relative_to_the_repository_root(tmp_path, monkeypatch) -> None:
    repo = new_repo(tmp_path / "repo")
    sha = commit(repo, {"pipelines/churn/mlops.yaml": V1}, "add", 1)
    (repo / "pipelines/churn/mlops.yaml").write_text(V2)  # the working tree differs
    monkeypatch.chdir(repo / "pipelines")
    spec, full = read_at(Path("churn/mlops.yaml"), "HEAD")
    assert (spec.raw, spec.size, full) == (V1.encode(), len(V1), sha)
    assert read_at(Path("churn/mlops.yaml"), sha[:10])[0].raw == V1.encode()
    assert read_at(Path("churn"), "main")[0].raw == V1.encode()  # a directory, as lint takes it
    small, _ = read_at(Path("churn/mlops.yaml"), "HEAD", max_size=10)
    assert (small.raw, small.size) == (b"", len(V1))  # over the limit: its size, unread
    with pytest.raises(EnvironmentProblem, match=r"unknown revision 'v9'"):
        read_at(Path("churn/mlops.yaml"), "v9")
    with pytest.raises(EnvironmentProblem, match=r"^pipelines/churn/other.yaml does not exist "
                                                 r"at revision HEAD \("):
        read_at(Path("churn/other.yaml"), "HEAD")


# -- the real command line: exit codes, no tracebacks ----------------------------------------------

def test_exit_codes_through_python_m_compiler(linear, tmp_path) -> None:
    repo, _, _ = linear

    def run(*args: str, cwd: Path = repo) -> subprocess.CompletedProcess[str]:
        env = {**os.environ, "PYTHONPATH": str(ROOT), "GIT_CEILING_DIRECTORIES": str(tmp_path)}
        return subprocess.run([sys.executable, "-m", "compiler", *args], cwd=cwd, env=env,
                              capture_output=True, text=True)

    same = run("diff", "HEAD", "--exit-code")
    assert (same.returncode, same.stderr) == (0, "")
    differ = run("diff", "HEAD~1", "HEAD", "--exit-code")
    assert differ.returncode == 1 and "impacted stages: train, evaluate, report" in differ.stdout
    assert run("diff", "HEAD~1", "HEAD").returncode == 0
    unknown = run("diff", "no-such-branch")
    assert unknown.returncode == 2
    assert unknown.stderr.startswith("mlops: error: unknown revision 'no-such-branch'")
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    (elsewhere / "mlops.yaml").write_text(V1)
    outside = run("history", cwd=elsewhere)
    assert outside.returncode == 2 and "not a git repository" in outside.stderr
    for result in (same, differ, unknown, outside):
        assert "Traceback" not in result.stderr
