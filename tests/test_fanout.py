"""Rendering on several cores (`compiler.fanout`): the same files as in one process, in order.

The forked path only runs in a process with no other thread, and a pytest-xdist worker has
some: those tests run a fresh interpreter.
"""

from __future__ import annotations

import json
import subprocess
import sys
import threading
from pathlib import Path

import pytest

from compiler import fanout

REPO = Path(__file__).resolve().parent.parent


def _python(code: str) -> str:
    done = subprocess.run([sys.executable, "-c", code], cwd=REPO, capture_output=True,
                          text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    return done.stdout


def test_inline_when_this_process_runs_other_threads() -> None:
    stop = threading.Event()
    other = threading.Thread(target=stop.wait)
    other.start()
    try:
        assert not fanout.can_fork()
        assert fanout.workers_for(8) == 1
        assert fanout.ordered_map(lambda n: n * n, [1, 2, 3]) == [1, 4, 9]
    finally:
        stop.set()
        other.join()


def test_one_task_or_not_parallel_runs_here() -> None:
    assert fanout.workers_for(1) == 1
    seen: list[int] = []
    assert fanout.ordered_map(lambda n: seen.append(n) or n, [5, 6], parallel=False) == [5, 6]
    assert seen == [5, 6]  # it ran in this process


def test_children_return_results_in_order_and_raise_errors_here() -> None:
    out = _python(
        "import json, os\n"
        "from compiler import fanout\n"
        "assert fanout.can_fork()\n"
        "def where(n): return (n, os.getpid())\n"
        "found = fanout.ordered_map(where, list(range(12)))\n"
        "def fails(n):\n"
        "    if n == 3: raise ValueError('task 3')\n"
        "    return n\n"
        "try:\n"
        "    fanout.ordered_map(fails, list(range(6)))\n"
        "    error = None\n"
        "except ValueError as e:\n"
        "    error = str(e)\n"
        "print(json.dumps({'found': found, 'me': os.getpid(), 'error': error,\n"
        "                  'workers': fanout.workers_for(12)}))\n")
    result = json.loads(out)
    assert [n for n, _ in result["found"]] == list(range(12))
    pids = {pid for _, pid in result["found"]}
    assert result["me"] not in pids  # each ran in a child
    assert len(pids) <= result["workers"]
    assert result["error"] == "task 3"


@pytest.mark.skipif(fanout.usable_cores() < 2, reason="needs two cores to render on two")
def test_a_large_build_renders_the_same_files_on_several_cores() -> None:
    # 400 benchmark stages, 3 targets, 2 environments: past fanout.LARGE, and within
    # every target's limits (GitHub holds 550).
    out = _python(
        "import hashlib, json, sys\n"
        "sys.path.insert(0, 'benchmarks')\n"
        "import generate\n"
        "from compiler import fanout, pipeline\n"
        "raw = generate.spec_text(400).encode()\n"
        "analysis = pipeline.check(raw, 'mlops.yaml', renders=False)\n"
        "assert analysis.ok()\n"
        "plans = pipeline.plans(analysis, spec_path='mlops.yaml')\n"
        "targets = pipeline.targets_of(plans)\n"
        "calls = []\n"
        "real = fanout.ordered_map\n"
        "def spy(fn, items, parallel=True):\n"
        "    calls.append((len(items), parallel, fanout.workers_for(len(items))))\n"
        "    return real(fn, items, parallel=parallel)\n"
        "fanout.ordered_map = spy\n"
        "def files(limit):\n"
        "    fanout.LARGE = limit\n"
        "    output = pipeline.render(plans, targets, 'mlops.yaml', all_environments=True)\n"
        "    return [(p, hashlib.sha256(t.encode()).hexdigest()) for p, t in output.files.items()]\n"
        "print(json.dumps({'forked': files(2_000), 'here': files(10**9), 'calls': calls}))\n")
    result = json.loads(out)
    assert result["forked"] == result["here"]  # same paths, same order, same bytes
    (tasks, parallel, workers), (_, inline, _) = result["calls"]
    assert parallel and workers >= 2 and not inline
    assert tasks == 9  # 3 targets x (2 environments + the files they share)


def test_beside_runs_there_in_a_child_and_keeps_here_here() -> None:
    out = _python(
        "import json, os\n"
        "from compiler import fanout\n"
        "kept = []\n"
        "def there(): kept.append('there'); return os.getpid()\n"
        "def here(): kept.append('here'); return os.getpid()\n"
        "theirs, mine = fanout.beside(there, here)\n"
        "def boom(): raise KeyError('there failed')\n"
        "errors = []\n"
        "for a, b in ((boom, here), (there, boom)):\n"
        "    try:\n"
        "        fanout.beside(a, b)\n"
        "    except KeyError as e:\n"
        "        errors.append(str(e))\n"
        "def gone(): os._exit(3)\n"
        "try:\n"
        "    fanout.beside(gone, here)\n"
        "except RuntimeError as e:\n"
        "    errors.append(str(e))\n"
        "big = fanout.beside(lambda: 'x' * 10_000_000, here)[0]\n"
        "print(json.dumps({'theirs': theirs, 'mine': mine, 'me': os.getpid(), 'kept': kept,\n"
        "                  'errors': errors, 'big': len(big)}))\n")
    result = json.loads(out)
    assert result["mine"] == result["me"] != result["theirs"]
    assert result["kept"] == ["here"] * 4  # what `there` changed stayed in its child
    assert result["errors"][0] == "'there failed'"  # raised here, as if inline
    assert result["errors"][1] == "'there failed'"
    assert "without a result" in result["errors"][2]
    assert result["big"] == 10_000_000  # more than a pipe's buffer: read while it writes


def test_lint_of_a_large_spec_finds_the_same_beside_the_plans() -> None:
    # 700 benchmark stages in 3 specs (base, staging, production): past fanout.LARGE.
    out = _python(
        "import json, sys\n"
        "sys.path.insert(0, 'benchmarks')\n"
        "import generate\n"
        "from compiler import fanout, pipeline\n"
        "raw = generate.spec_text(700).encode()\n"
        "calls = []\n"
        "real = fanout.beside\n"
        "def spy(there, here, parallel=True):\n"
        "    calls.append(parallel)\n"
        "    return real(there, here, parallel=parallel)\n"
        "fanout.beside = spy\n"
        "def found(limit):\n"
        "    fanout.LARGE = limit\n"
        "    analysis = pipeline.check(raw, 'mlops.yaml')\n"
        "    assert analysis.lint_plans is not None  # lowered here, kept for the build\n"
        "    return [str(d) for d in analysis.diagnostics]\n"
        "print(json.dumps({'beside': found(2_000), 'inline': found(10**9), 'calls': calls}))\n")
    result = json.loads(out)
    assert result["beside"] == result["inline"]
    assert any("MLP410" in d for d in result["beside"])  # a rule that lowers: GitHub's size
    assert any("MLP416" in d for d in result["beside"])  # and one that ran beside it
    assert result["calls"] == [True, False]


def test_without_working_semaphores_the_tasks_run_here() -> None:
    out = _python(
        "import concurrent.futures, json, os\n"
        "from compiler import fanout\n"
        "class NoSemaphores:\n"
        "    def __init__(self, *args, **kwargs):\n"
        "        raise OSError(38, 'Function not implemented')\n"
        "concurrent.futures.ProcessPoolExecutor = NoSemaphores\n"
        "print(json.dumps([fanout.ordered_map(lambda n: os.getpid(), [1, 2, 3]), os.getpid()]))\n")
    pids, me = json.loads(out)
    assert pids == [me] * 3
