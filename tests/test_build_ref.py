"""`mlops build --ref REV`: the spec as stored in git at REV, stamped with its commit."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

import pytest

from tests.conftest import REPO, run_cli
from tests.test_versioning import git

SPEC = (REPO / "examples/sweep/mlops.yaml").read_text()


def tree(root: Path) -> dict[str, str]:
    return {p.relative_to(root).as_posix(): p.read_text()
            for p in sorted(root.rglob("*")) if p.is_file()}


@pytest.fixture
def repo(tmp_path: Path) -> tuple[Path, str, str]:
    repo = tmp_path / "repo"
    repo.mkdir()
    git(repo, "init", "-q", "-b", "main")
    (repo / "mlops.yaml").write_text(SPEC)
    git(repo, "add", "mlops.yaml")
    git(repo, "commit", "-q", "-m", "first")
    old = git(repo, "rev-parse", "HEAD").strip()
    (repo / "mlops.yaml").write_text(SPEC.replace("ndcg_at_10 >= 0.41", "ndcg_at_10 >= 0.45"))
    git(repo, "commit", "-q", "-am", "raise the bar", date="2024-02-01T00:00:00+00:00")
    new = git(repo, "rev-parse", "HEAD").strip()
    return repo, old, new


def test_build_ref_is_the_old_pipeline_stamped_with_its_commit(
        repo: tuple[Path, str, str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path, old, _ = repo
    monkeypatch.chdir(path)
    result = run_cli("build", "--ref", "HEAD~1", "--out", tmp_path / "stamped", "--quiet")
    assert result.code == 0, result.err
    stamped = tree(tmp_path / "stamped")

    # The same revision checked out and built plainly: equal but for the stamps.
    git(path, "checkout", "-q", old)
    assert run_cli("build", "--out", tmp_path / "plain", "--quiet").code == 0
    plain = tree(tmp_path / "plain")
    assert sorted(stamped) == sorted(plain)
    for name, text in stamped.items():
        assert old in text, f"{name} does not carry the commit"
        assert _stamps_only(text.splitlines(), plain[name].splitlines(), old), name
    assert "0.41" in stamped["k8s/production/configmap.yaml"]

    workflow = stamped[".github/workflows/mlops-ranker-sweep-production.yml"]
    assert re.search(rf"MLOPS_GIT_SHA: \"?{old}", workflow)
    assert re.search(rf"mlops.dev/git-sha: \"?{old}", stamped["k8s/production/workflowtemplate.yaml"])
    dag = stamped["airflow/dags/mlops_ranker_sweep_production.py"]
    assert f"'git:{old}'" in dag and f"# source-commit: {old}" in dag
    assert f"Built from commit `{old}`." in dag  # in the DAG's doc_md


def _stamps_only(stamped: list[str], plain: list[str], sha: str) -> bool:
    """Every difference is a stamp: a line added with the commit, or a line that carries it."""
    import difflib

    matcher = difflib.SequenceMatcher(a=plain, b=stamped, autojunk=False)
    for op, a1, a2, b1, b2 in matcher.get_opcodes():
        if op == "equal":
            continue
        # An added line with the commit (with an env entry's `- name:` line before it).
        added = stamped[b1:b2]
        if op == "insert" and all(sha in line or line.strip() == "- name: MLOPS_GIT_SHA"
                                  for line in added) and any(sha in line for line in added):
            continue
        unstamp = (f", 'git:{sha}'", f"\\nBuilt from commit `{sha}`.")
        # (or the commit where the engine's own value was: GitHub's `${{ github.sha }}`)
        if op == "replace" and a2 - a1 == b2 - b1 and all(
                sha in new and (_remove(new, unstamp) == before
                                or _unquoted(before.replace("${{ github.sha }}", sha))
                                == _unquoted(new))
                for before, new in zip(plain[a1:a2], stamped[b1:b2])):
            continue
        return False
    return True


def _unquoted(line: str) -> str:
    return line.replace('"', "")


def _remove(text: str, pieces: tuple[str, ...]) -> str:
    for piece in pieces:
        text = text.replace(piece, "")
    return text


def test_build_without_ref_reads_no_git_state(tmp_path: Path) -> None:
    # Outside any repository, a plain build works and stamps nothing.
    spec = tmp_path / "mlops.yaml"
    spec.write_text(SPEC)
    assert run_cli("build", spec, "--quiet").code == 0
    stamped = re.compile(r"source-commit|git-sha|GIT_SHA\W{1,4}[0-9a-f]{40}")
    assert not any(stamped.search(t) for t in tree(tmp_path).values())


def test_build_ref_errors_are_clear(repo: tuple[Path, str, str], tmp_path: Path,
                                    monkeypatch: pytest.MonkeyPatch) -> None:
    path, _, _ = repo
    monkeypatch.chdir(path)
    unknown = run_cli("build", "--ref", "no-such-rev")
    assert unknown.code == 2 and "no-such-rev" in unknown.err
    (path / "mlops.yaml").write_text("version: 1\nname: x\nstages: [\n")
    git(path, "commit", "-q", "-am", "break it", date="2024-03-01T00:00:00+00:00")
    broken = run_cli("build", "--ref", "HEAD", "--out", tmp_path / "o")
    assert broken.code == 1 and "mlops.yaml@" in broken.err and "Traceback" not in broken.err
    assert not (tmp_path / "o").exists()
    outside = tmp_path / "not-a-repo"
    outside.mkdir()
    monkeypatch.chdir(outside)
    (outside / "mlops.yaml").write_text(SPEC)
    assert run_cli("build", "--ref", "HEAD").code == 2


def test_git_is_only_imported_with_ref(tmp_path: Path) -> None:
    spec = tmp_path / "mlops.yaml"
    spec.write_text(SPEC)
    code = ("import sys; from compiler.cli import main; main(['build', %r, '--quiet']); "
            "print('git' in sys.modules)" % str(spec))
    out = subprocess.run(["python3", "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"
