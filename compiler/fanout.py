"""Independent work spread over the machine's cores, results in order.

A large spec's work splits into pure functions of what the front end made: each target for
each environment renders from its plan alone (`Target.render`), and most lint rules read only
the spec and its graph. At 10,000 stages that work is most of a build, and on one core it runs
one piece after another. Two ways to spread it:

- `ordered_map(fn, items)`: `fn` on every item, in forked children (the renders);
- `beside(there, here)`: `there()` in a forked child while `here()` runs in this process,
  for work whose result this process keeps (the lint rules that lower the plans run here,
  the others beside them).

A forked child inherits the parent's memory, so the plans and the spec are never copied or
pickled: only the results (text, diagnostics) come back through a pipe.

Everything runs here, one piece after another, when forking is not safe or not worth it: on
other systems than Linux (macOS forks badly once system frameworks are loaded, Windows cannot
fork), in a process that runs other threads (a child would inherit locks those threads hold,
and Python 3.12 warns about it; pytest-xdist workers are such processes), on one usable core,
or for small work (`LARGE`). The results are the same either way: each piece is a pure
function of what it is given, and results come back in the order asked.
"""

from __future__ import annotations

import os
import pickle
import sys
import threading
from collections.abc import Callable, Sequence
from typing import Any, TypeVar

T = TypeVar("T")
R = TypeVar("R")

# Work of this many stage units (a stage in one environment's plan, for one target or for lint)
# is worth spreading: about 0.3 s of rendering, ten times what starting the children costs.
LARGE = 2_000

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
        try:
            pool = ProcessPoolExecutor(workers, mp_context=multiprocessing.get_context("fork"))
        except (ImportError, OSError, NotImplementedError):  # no working semaphores: some
            return [fn(item) for item in items]               # containers lack /dev/shm
        # With "fork", the executor starts all its workers before its own management thread,
        # so no child is forked from a threaded parent. A child that dies (killed, out of
        # memory) fails the map with BrokenProcessPool instead of leaving it waiting.
        with pool:
            return list(pool.map(_run, range(len(items))))
    finally:
        _WORK = None


def _run(index: int) -> Any:
    """One task, in a child: the work was inherited from the parent at the fork."""
    assert _WORK is not None, "a fanout child without its work"
    fn, items = _WORK
    return fn(items[index])


def beside(there: Callable[[], R], here: Callable[[], T], *, parallel: bool = True
           ) -> tuple[R, T]:
    """`(there(), here())`, with `there()` in a forked child while `here()` runs in this
    process (which keeps whatever `here` changes). `there`'s result must pickle; an exception
    in either is raised here, `here`'s first. Without a fork (`can_fork`), both run here."""
    if not (parallel and can_fork() and usable_cores() > 1):
        return there(), here()
    # A bare fork and a pipe, not an executor: an executor's thread would stay in this process
    # while `here` runs, and keep `here` itself from forking (`ordered_map`).
    read, write = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child: run, send the outcome, and leave without any cleanup of ours
        code = 0
        try:
            os.close(read)
            try:
                outcome: tuple[bool, Any] = (True, there())
            except BaseException as error:  # noqa: BLE001 - sent to the parent, raised there
                outcome = (False, error)
            try:
                data = pickle.dumps(outcome, protocol=pickle.HIGHEST_PROTOCOL)
            except Exception as error:  # noqa: BLE001 - e.g. an exception that cannot pickle
                data = pickle.dumps((False, RuntimeError(
                    f"a fanout child could not send its result: {type(error).__name__}: {error}")))
            with os.fdopen(write, "wb") as pipe:
                pipe.write(data)
        except BaseException:  # noqa: BLE001 - nothing may escape a forked child
            code = 1
        finally:
            os._exit(code)
    os.close(write)
    try:
        mine = here()
    finally:
        # Always read and reap the child, even when `here` failed: it blocks writing a result
        # larger than the pipe's buffer until someone reads it.
        with os.fdopen(read, "rb") as pipe:
            data = pipe.read()
        os.waitpid(pid, 0)
    if not data:
        raise RuntimeError("a fanout child ended without a result (killed, or out of memory?)")
    ok, theirs = pickle.loads(data)
    if not ok:
        raise theirs
    return theirs, mine
