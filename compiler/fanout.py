"""Independent work spread over the machine's cores, results in order.

A build renders each target for each environment from its plan, a pure function of it
(`Target.render`): at 10,000 stages that is most of the build's time, and on one core it is
all spent one task after another. `ordered_map` runs such tasks in forked children when the
work is large enough to pay for them. A forked child inherits the parent's memory, so the
plans are never copied or pickled: only the results (text) come back through a pipe.

It runs the tasks here, one after another, when forking is not safe or not worth it: on other
systems than Linux (macOS forks badly once system frameworks are loaded, Windows cannot fork),
in a process that runs other threads (a child would inherit locks those threads hold, and
Python 3.12 warns about it; pytest-xdist workers are such processes), on one usable core, or
for a single task. The results are the same either way: each task is a pure function of what
it is given, and they are returned in the order of `items`.
"""

from __future__ import annotations

import os
import sys
import threading
from collections.abc import Callable, Sequence
from typing import Any, TypeVar

T = TypeVar("T")
R = TypeVar("R")

# The work of the running `ordered_map`, inherited by its forked children (set before they
# exist, cleared after), so that only a task's index crosses the pipe.
_WORK: tuple[Callable[[Any], Any], Sequence[Any]] | None = None


def usable_cores() -> int:
    """The cores this process may run on (its CPU affinity, e.g. a container's cpuset)."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # pragma: no cover - not on Linux
        return os.cpu_count() or 1


def can_fork() -> bool:
    """Whether forking this process is safe: Linux, and no thread besides this one."""
    return sys.platform == "linux" and threading.active_count() == 1


def workers_for(tasks: int) -> int:
    """How many processes `ordered_map` would run `tasks` tasks in (1: here, no child)."""
    if tasks < 2 or not can_fork():
        return 1
    return min(tasks, usable_cores())


def ordered_map(fn: Callable[[T], R], items: Sequence[T], *, parallel: bool = True) -> list[R]:
    """`[fn(item) for item in items]`, in forked children when `parallel` and `workers_for`
    allow. `fn` must not depend on state it changes (a child's changes stay in the child) and
    its results must pickle. An exception in a child is raised here, as it would be inline."""
    workers = workers_for(len(items)) if parallel else 1
    if workers == 1:
        return [fn(item) for item in items]
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor

    global _WORK
    _WORK = (fn, items)
    try:
        # With "fork", the executor starts all its workers before its own management thread,
        # so no child is forked from a threaded parent. A child that dies (killed, out of
        # memory) fails the map with BrokenProcessPool instead of leaving it waiting.
        with ProcessPoolExecutor(workers, mp_context=multiprocessing.get_context("fork")) as pool:
            return list(pool.map(_run, range(len(items))))
    finally:
        _WORK = None


def _run(index: int) -> Any:
    """One task, in a child: the work was inherited from the parent at the fork."""
    assert _WORK is not None, "a fanout child without its work"
    fn, items = _WORK
    return fn(items[index])
