"""The user's environment, not our bug: huge files, full disks, read-only and unwritable
directories, an output root that is a file or a system directory (SPEC.md section 4: exit 2,
a message naming the path, never exit 3; old files intact, nothing half-written)."""

from __future__ import annotations

import os
import resource
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest

from compiler import filesystem, writer
from compiler.analysis import analyze, read_spec
from compiler.cli import main
from tests.conftest import REPO, run_cli

SPEC = """\
version: 1
name: faults
stages:
  train:
    run: echo hi
targets: {github: {}}
"""


# ------------------------------------------------------------------------- size before reading


def test_a_2_gib_spec_is_refused_by_its_size_without_reading_it(tmp_path: Path) -> None:
    big = tmp_path / "mlops.yaml"
    with big.open("wb") as f:  # sparse: 2 GiB that cost no disk
        f.truncate(2 * 1024 ** 3)
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    started = time.monotonic()
    spec = read_spec(big)
    analysis = analyze(spec.raw, "mlops.yaml", size=spec.size)
    elapsed = time.monotonic() - started
    assert [d.message for d in analysis.diagnostics] == [
        "the file is 2,147,483,648 bytes, over the limit of 10,485,760 bytes"]
    assert elapsed < 0.05, elapsed  # reading it whole took ~10 s
    result = run_cli("lint", big)
    assert result.code == 1 and "MLP109" in result.out, result.err
    grown_kib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before
    assert grown_kib < 64 * 1024, grown_kib  # not 2 GiB of memory


def test_build_refuses_an_oversized_spec_before_reading_it(tmp_path: Path) -> None:
    spec = tmp_path / "mlops.yaml"
    spec.write_text(SPEC + "#" * 200 + "\n")
    result = run_cli("build", spec, "--max-size", "100")
    assert result.code == 1
    assert "MLP109 the file is 281 bytes, over the limit of 100 bytes" in result.err
    assert not (tmp_path / ".github").exists()


# ------------------------------------------------------------------ faults of the output tree
#
# Real faults, not mocks: a tmpfs of 64 KiB that fills up, a tmpfs remounted read-only, and a
# directory without write permission (as root, with the capabilities that bypass permissions
# dropped). Each ends in exit 2 with the path named, old files byte for byte as they were, and
# no temp file left.

INSIDE_NAMESPACE = "MLOPS_TEST_IN_NAMESPACE"


def mount_tmpfs(request: pytest.FixtureRequest, directory: Path, size: str) -> bool:
    """Mount a tmpfs of `size` on `directory` for this test and return True; or, where this
    process may not mount, run this very test inside a user+mount namespace (`unshare -rm`)
    and return False once it has passed there: the caller then returns at once. Fails, never
    skips, when neither works: these faults must be tested for real."""
    directory.mkdir(parents=True, exist_ok=True)
    mounted = subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={size}", "tmpfs",
                              str(directory)], capture_output=True, text=True)
    if mounted.returncode == 0:
        request.addfinalizer(lambda: subprocess.run(["umount", "-l", str(directory)],
                                                    check=False))
        return True
    if os.environ.get(INSIDE_NAMESPACE):
        pytest.fail(f"cannot mount a tmpfs even in a user+mount namespace: {mounted.stderr}")
    try:
        rerun = subprocess.run(
            ["unshare", "-rm", sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider",
             request.node.nodeid], cwd=REPO, env={**os.environ, INSIDE_NAMESPACE: "1"},
            capture_output=True, text=True, timeout=300)
    except FileNotFoundError:
        pytest.fail(f"cannot mount a tmpfs ({mounted.stderr.strip()}) and there is no unshare "
                    "to try a user+mount namespace")
    if rerun.returncode != 0:
        pytest.fail(f"cannot mount a tmpfs here ({mounted.stderr.strip()}); in a user+mount "
                    f"namespace the test failed or could not run:\n{rerun.stdout[-4000:]}"
                    f"{rerun.stderr[-2000:]}")
    return False


def build(spec: Path, out: Path, *prefix: str) -> subprocess.CompletedProcess[str]:
    """`mlops build` in a process of its own, as a user runs it."""
    return subprocess.run([*prefix, sys.executable, "-m", "compiler", "build", str(spec),
                           "--out", str(out)], env={**os.environ, "PYTHONPATH": str(REPO)},
                          capture_output=True, text=True, timeout=120)


def snapshot(root: Path) -> dict[str, bytes]:
    return {p.relative_to(root).as_posix(): p.read_bytes()
            for p in sorted(root.rglob("*")) if p.is_file()}


def assert_environment_fault(result: subprocess.CompletedProcess[str], *words: str) -> None:
    assert result.returncode == 2, (result.returncode, result.stderr)
    assert result.stderr.startswith("mlops: error: cannot "), result.stderr
    assert len(result.stderr.splitlines()) == 1, result.stderr  # one line, no traceback
    for word in words:
        assert word in result.stderr, (word, result.stderr)


def _spec_in(directory: Path, run: str = "echo hi") -> Path:
    spec = directory / "mlops.yaml"
    spec.write_text(SPEC.replace("echo hi", run))
    return spec


def test_a_full_disk_is_exit_2_and_changes_no_old_file(request: pytest.FixtureRequest,
                                                       tmp_path: Path) -> None:
    out = tmp_path / "disk"
    if not mount_tmpfs(request, out, "64k"):
        return
    spec = _spec_in(tmp_path)
    assert build(spec, out).returncode == 0
    before = snapshot(out)
    _spec_in(tmp_path, run="echo " + "x" * 200_000)  # a 200 kB command: 64 KiB cannot hold it
    result = build(spec, out)
    assert_environment_fault(result, "no space left on the device", str(out / ".github"),
                             "free some space")
    assert snapshot(out) == before
    assert [p.name for p in out.rglob("*.tmp")] == []


def test_a_read_only_output_directory_is_exit_2(request: pytest.FixtureRequest,
                                                tmp_path: Path) -> None:
    out = tmp_path / "ro"
    if not mount_tmpfs(request, out, "1m"):
        return
    spec = _spec_in(tmp_path)
    assert build(spec, out).returncode == 0
    before = snapshot(out)
    subprocess.run(["mount", "-o", "remount,ro", str(out)], check=True)
    _spec_in(tmp_path, run="echo changed")
    assert_environment_fault(build(spec, out), "the file system is read-only", str(out))
    assert snapshot(out) == before
    check = subprocess.run([sys.executable, "-m", "compiler", "build", str(spec), "--out",
                            str(out), "--check"], env={**os.environ, "PYTHONPATH": str(REPO)},
                           capture_output=True, text=True)
    assert check.returncode == 1 and "echo changed" in check.stdout  # --check only reads


def _unprivileged() -> tuple[str, ...]:
    """A prefix that makes a process subject to file permissions: root bypasses them through
    CAP_DAC_OVERRIDE, so drop it (and its read-only sibling) from the bounding set."""
    if os.geteuid() != 0:
        return ()
    assert shutil.which("setpriv"), "setpriv (util-linux) is needed to drop root's capabilities"
    return ("setpriv", "--bounding-set=-dac_override,-dac_read_search", "--")


def test_a_directory_without_write_permission_is_exit_2(tmp_path: Path) -> None:
    out = tmp_path / "out"
    spec = _spec_in(tmp_path)
    assert build(spec, out).returncode == 0
    before = snapshot(out)
    workflows = out / ".github" / "workflows"
    workflows.chmod(0o555)
    try:
        _spec_in(tmp_path, run="echo changed")
        assert_environment_fault(build(spec, out, *_unprivileged()), "permission denied",
                                 str(workflows), "check who owns the directory")
    finally:
        workflows.chmod(0o755)
    assert snapshot(out) == before


def test_an_unreadable_generated_file_is_exit_2_not_a_foreign_file(tmp_path: Path) -> None:
    out = tmp_path / "out"
    spec = _spec_in(tmp_path)
    assert build(spec, out).returncode == 0
    locked = out / ".github" / "workflows" / "mlops-faults.yml"
    locked.chmod(0)
    try:
        result = build(spec, out, *_unprivileged())
    finally:
        locked.chmod(0o644)
    assert_environment_fault(result, f"cannot read {locked}: permission denied")


def test_out_naming_a_file_is_exit_2(tmp_path: Path) -> None:
    spec = _spec_in(tmp_path)
    target = tmp_path / "a-file"
    target.write_text("mine\n")
    result = build(spec, target)
    assert result.returncode == 2, result.stderr
    assert result.stderr == (f"mlops: error: the output directory {target} is a file, not a "
                             "directory; name a directory with --out\n")
    assert target.read_text() == "mine\n"
    (tmp_path / "out").mkdir()
    (tmp_path / "out" / ".github").write_text("in the way\n")
    assert_environment_fault(build(spec, tmp_path / "out"),
                             f"{tmp_path / 'out' / '.github'} is a file, not a directory")


# ------------------------------------------------------------------ system directories


@pytest.mark.parametrize("root", ["/", "/usr", "/usr/../", "/etc", "/tmp", "/usr/lib/x",
                                  "/proc/self", "/home"])
def test_an_output_root_that_is_a_system_directory_is_refused(
        root: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    def must_not_write(*args: object) -> None:
        raise AssertionError(f"build wrote into {root}")

    monkeypatch.setattr(writer, "write", must_not_write)
    spec = _spec_in(tmp_path)
    result = run_cli("build", spec, "--out", root)
    assert result.code == 2, result.err
    assert "refusing to write generated files into" in result.err
    assert "pass --allow-system-dir if you mean it" in result.err
    if Path(root).resolve() == Path("/"):
        assert "into /: it is a filesystem root" in result.err


def test_a_symlink_to_the_filesystem_root_is_refused_too(tmp_path: Path,
                                                          monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(writer, "write", lambda *a: pytest.fail("wrote into /"))
    (tmp_path / "root").symlink_to("/")
    result = run_cli("build", _spec_in(tmp_path), "--out", tmp_path / "root")
    assert result.code == 2 and "into /: it is a filesystem root" in result.err


def test_allow_system_dir_lets_it_through_and_check_needs_no_flag(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    roots: list[Path] = []

    def record(root: Path, files: object, scope: object) -> writer.Changes:
        roots.append(root)
        return writer.Changes((), (), ())

    monkeypatch.setattr(writer, "write", record)
    spec = _spec_in(tmp_path)
    assert run_cli("build", spec, "--out", "/", "--allow-system-dir").code == 0
    assert roots == [Path("/")]
    assert run_cli("build", spec, "--out", "/", "--check").code == 1  # reads, writes nothing


def test_the_flag_is_documented_in_help(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        main(["build", "--help"])
    help_text = " ".join(capsys.readouterr().out.split())
    assert "--allow-system-dir let the output root be a filesystem root or a system directory" \
        in help_text
    assert "a filesystem root or a system directory (/, /usr, /etc, /tmp, ...) is refused " \
           "without --allow-system-dir" in help_text


def test_system_directories() -> None:
    assert filesystem.system_directory(Path("/")) == "a filesystem root"
    for path in ("/usr", "/etc/mlops", "/var/lib", "/tmp", "/usr/local/bin"):
        assert filesystem.system_directory(Path(path)) == "a system directory", path
    for path in ("/tmp/release", "/home/ada/churn", "/srv/ml/churn", "/opt/acme/churn",
                 "/var/lib/ci/workspace", "/usr/local/src/churn"):
        assert filesystem.system_directory(Path(path)) is None, path
