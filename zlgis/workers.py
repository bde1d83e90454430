"""Worker processes for the independent parts of a run: the weekly checks, the publishing steps.

Most of a weekly run is spent in parts that do not depend on each other: the checks (each reads
the loaded layers and returns its findings) and, once the ledger is merged, the vector tiles,
the Excel ledger and charts, and the maps. :func:`forked` runs such parts in worker processes
forked from the run: they read the loaded layers where they are (copy-on-write, nothing is
copied or pickled on the way in) and only their results (findings tables, file paths) travel
back; a ``fresh`` task runs in a process forked for it from its worker, so that what it leaves
in memory goes with it. Results never depend on the number of processes: each task is the same
function call it would be in the calling process, and the caller reads the results in its own
order.

The number of processes is ``run.jobs`` in ``ledger.yaml`` (0: the CPUs this process may use,
at most ``run.max_auto_jobs``, or one for a small city), overridden by the ``jobs`` argument of
:func:`zlgis.weekly.run_weekly` (``zlgis weekly --jobs N``); with 1, everything runs in the
calling process. Workers die with the run (``PR_SET_PDEATHSIG``): a run killed at any point
leaves no worker writing into its temporary folder or holding its lock.

Examples
--------
>>> with forked([lambda: 1 + 1, lambda: "b"], jobs=2) as results:
...     [r.result() for r in results]
[2, 'b']
"""

from __future__ import annotations

import contextlib
import gc
import os
import signal
import sys
from collections.abc import Callable, Collection, Iterator, Sequence
from typing import TYPE_CHECKING, Any, Generic, TypeVar

if TYPE_CHECKING:
    from concurrent.futures import Future

__all__ = ["resolve_jobs", "forked", "Done", "not_inherited", "release_memory", "frozen",
           "in_own_process", "allocator_kept"]

T = TypeVar("T")

#: The tasks of the open pools, by pool number: a pool's workers are forked with its tasks in
#: memory, so a task is sent to a worker as (pool, index), never pickled.
_TASKS: dict[int, list[Callable[[], Any]]] = {}
_PR_SET_PDEATHSIG = 1
#: File descriptors the workers close first thing (:func:`not_inherited`).
_CLOSE_IN_WORKERS: set[int] = set()
#: An open temporary file whose POSIX record lock a worker holds while it runs a ``serial`` task
#: (:func:`forked`): the serial tasks of pools open at the same time never run at once either.
#: Made before the first pool with serial tasks forks, so every later worker inherits it; the
#: kernel drops a lock whose worker dies.
_SERIAL_LOCK: Any = None


def resolve_jobs(jobs: int | None = None, *, data_bytes: int | None = None) -> int:
    """The number of processes a run uses: ``jobs``, else ``run.jobs`` in ``ledger.yaml``.

    0 is the number of CPUs this process may use (``os.sched_getaffinity``), at most
    ``run.max_auto_jobs``; or 1 when the run's layer files (``data_bytes``) are under
    ``run.auto_min_mb``, where starting workers would cost more than they save.

    >>> resolve_jobs(3), resolve_jobs(0) >= 1, resolve_jobs(0, data_bytes=1000)
    (3, True, 1)
    """
    from .config import load_config
    from .errors import ConfigError

    cfg = load_config("ledger")["run"]
    value = cfg["jobs"] if jobs is None else jobs
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise ConfigError(f"进程数 {value!r} 无效：应为正整数，0 表示按处理器数自动确定"
                          "（ledger.yaml run.jobs 或 --jobs）")
    if value:
        return value
    if data_bytes is not None and data_bytes < float(cfg["auto_min_mb"]) * 2 ** 20:
        return 1
    cpus = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    return max(1, min(int(cpus or 1), int(cfg["max_auto_jobs"])))


class Done(Generic[T]):
    """A task run in the calling process when its result is first read (the part of the
    :class:`~concurrent.futures.Future` interface :func:`forked` callers use)."""

    def __init__(self, fn: Callable[[], T]) -> None:
        self._fn: Callable[[], T] | None = fn
        self._value: T | None = None

    def cancel(self) -> bool:
        """Never run it, unless it ran already (then False)."""
        if self._fn is None:
            return False
        self._fn = None
        return True

    def result(self) -> T:
        if self._fn is not None:
            fn, self._fn = self._fn, None
            self._value = fn()
        return self._value  # type: ignore[return-value]


@contextlib.contextmanager
def not_inherited(fd: int) -> Iterator[None]:
    """Within the block, workers started by :func:`forked` close ``fd`` as they start.

    For the run's lock file: an ``flock`` lock lasts while any process holds the file open,
    so a worker keeping the descriptor would keep the lock after the run ended.
    """
    _CLOSE_IN_WORKERS.add(fd)
    try:
        yield
    finally:
        _CLOSE_IN_WORKERS.discard(fd)


def _die_with(parent: int) -> None:
    """This process is killed (SIGKILL) when its parent, ``parent``, dies."""
    import ctypes

    with contextlib.suppress(OSError, AttributeError):
        ctypes.CDLL(None, use_errno=True).prctl(_PR_SET_PDEATHSIG, signal.SIGKILL)
    if os.getppid() != parent:  # the parent died before the line above
        os._exit(1)


def _worker_init(parent: int) -> None:
    """In each worker: die with the run (SIGKILL when the parent dies), drop the descriptors of
    :func:`not_inherited`, ignore Ctrl-C (the run handles it and stops the workers)."""
    _die_with(parent)
    for fd in _CLOSE_IN_WORKERS:
        with contextlib.suppress(OSError):
            os.close(fd)
    signal.signal(signal.SIGINT, signal.SIG_IGN)


@contextlib.contextmanager
def frozen() -> Iterator[None]:
    """Within the block, the objects alive on entry, and those frozen inside it by
    ``gc.freeze()``, are left out of the garbage collector's passes; they are put back on leaving,
    unless an outer block (or the command line, which freezes its imported modules) froze first.

    A run's loaded layers are millions of GC-tracked shapely geometries (3.5M on the 1M-building
    city) that live as long as the run and form no reference cycles. Every full collection walks
    them all (0.5 s each there; 25 of them, 6.8 s, in a one-process 1M run), and in a forked
    worker walking them writes to their pages, which copies them. Frozen objects are still freed
    when their last reference goes; only cyclic garbage among them waits for the block's end.

    >>> with frozen():
    ...     gc.get_freeze_count() > 0
    True
    """
    outer = gc.get_freeze_count() > 0
    gc.freeze()
    try:
        yield
    finally:
        if not outer:
            gc.unfreeze()


def release_memory(*, collect: bool = False) -> int:
    """Hand the memory freed so far back to the system; returns this process's resident size
    (bytes, from ``/proc/self/statm``; 0 where there is none).

    A process keeps what it frees for its next allocations: glibc's ``malloc`` keeps freed
    pages inside its heap (millions of small GEOS geometries and Python objects freed in the
    middle of it are never at its top), Arrow's memory pool its freed blocks. After a stage
    frees a large part (a check's working arrays, the layers the maps do not draw) the resident
    size then stays at the stage's peak, and the next stage's peak adds to it.
    ``malloc_trim(0)`` returns the free pages anywhere in the heap (``madvise``), Arrow's
    ``release_unused`` its pool's; neither moves a live object, so results do not change.
    ``collect`` first runs the garbage collector (frames freed only through reference cycles).
    Takes some milliseconds; does nothing on a platform without glibc.
    """
    import ctypes

    if collect:
        gc.collect()
    with contextlib.suppress(OSError, AttributeError):
        ctypes.CDLL("libc.so.6").malloc_trim(0)
    with contextlib.suppress(ImportError):
        import pyarrow

        pyarrow.default_memory_pool().release_unused()
    try:
        with open("/proc/self/statm") as fh:
            return int(fh.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")
    except (OSError, ValueError, IndexError):
        return 0


#: glibc ``mallopt`` parameters (``malloc.h``) and the thresholds' default (128 KiB)
_M_TRIM_THRESHOLD, _M_MMAP_THRESHOLD, _GLIBC_THRESHOLD = -1, -3, 128 * 1024


@contextlib.contextmanager
def allocator_kept(*, mmap_mb: int = 64, trim_mb: int = 256) -> Iterator[bool]:
    """Within the block, glibc's ``malloc`` keeps freed memory for the next allocations:
    blocks under ``mmap_mb`` come from the heap instead of a mapping of their own, and free
    memory at the heap's top is kept up to ``trim_mb``. Yields whether glibc took the settings
    (False elsewhere: nothing changes); the processes forked in the block inherit them.

    A block of its own (above glibc's moving threshold, at most 32 MiB) is a fresh mapping
    each time: every page of it is a page fault, and a map page's text (a few MB of Chinese:
    two bytes a character) is copied several times over. Kept memory is reused without one;
    :func:`release_memory` still hands it back. On the demo city the weekly run's page faults
    fall from 305k to 256k and its publishing takes 0.08 s less CPU; on the 1M-building city
    the peak grew 127 MB, so the weekly run keeps glibc's behaviour there. On leaving, both
    thresholds are set back to glibc's starting value and the kept memory handed back.

    Examples
    --------
    >>> with allocator_kept() as kept:
    ...     isinstance(kept, bool)
    True
    """
    import ctypes

    try:
        libc = ctypes.CDLL("libc.so.6")
        kept = bool(libc.mallopt(_M_MMAP_THRESHOLD, mmap_mb << 20)
                    and libc.mallopt(_M_TRIM_THRESHOLD, trim_mb << 20))
    except (OSError, AttributeError):
        kept = False
    try:
        yield kept
    finally:
        if kept:
            libc.mallopt(_M_MMAP_THRESHOLD, _GLIBC_THRESHOLD)
            libc.mallopt(_M_TRIM_THRESHOLD, _GLIBC_THRESHOLD)
            release_memory()


def in_own_process(task: Callable[[], T]) -> T:
    """``task()`` run in a process forked for it from this one, which waits for its result
    (pickled back; a ``fresh`` task of :func:`forked`, a large layer validated by
    :func:`zlgis.validate.cache.cached_layer`). Where there is no ``fork``, run here.

    What the task leaves behind dies with its process: the caches it filled, the pages of the
    run it copied (copy-on-write), and the freed pages that :func:`release_memory` cannot hand
    back (pages still holding live objects). The task's process dies with this one; one that
    dies without a result (killed for lack of memory) raises
    :class:`~concurrent.futures.process.BrokenProcessPool`, as a worker that dies does. An
    error of ``task`` is raised again here.

    Examples
    --------
    >>> import os
    >>> in_own_process(os.getpid) != os.getpid()
    True
    """
    if not hasattr(os, "fork"):
        return task()
    import pickle
    from concurrent.futures.process import BrokenProcessPool

    parent = os.getpid()
    rfd, wfd = os.pipe()
    pid = os.fork()
    if pid == 0:  # the task's process: its result (or error) down the pipe, then exit
        try:
            os.close(rfd)
            _die_with(parent)
            try:
                out: tuple[bool, Any] = (True, task())
            except BaseException as exc:  # noqa: BLE001 - raised again by the parent
                out = (False, exc)
            try:
                data = pickle.dumps(out, pickle.HIGHEST_PROTOCOL)
            except Exception as exc:  # noqa: BLE001 - a result that does not pickle
                data = pickle.dumps((False, TypeError(f"{type(exc).__name__}: {exc}")))
            with open(wfd, "wb") as fh:
                fh.write(data)
        finally:
            for stream in (sys.stdout, sys.stderr):  # what it printed (os._exit does not flush)
                with contextlib.suppress(Exception):
                    stream.flush()
            os._exit(0)
    os.close(wfd)
    with open(rfd, "rb") as fh:
        data = fh.read()
    _, status = os.waitpid(pid, 0)
    if not data:
        raise BrokenProcessPool(f"a task's process exited without a result (status {status})")
    ok, value = pickle.loads(data)
    if not ok:
        raise value
    return value


def _run_task(key: int, index: int, fresh: bool) -> Any:
    return in_own_process(_TASKS[key][index]) if fresh else _TASKS[key][index]()


def _run_serial(key: int, indexes: tuple[int, ...], fresh: frozenset[int]
                ) -> list[tuple[bool, Any]]:
    """The tasks ``indexes`` one after the other, each holding the serial lock (the serial
    tasks of another pool wait meanwhile): (True, result) or (False, exception) each."""
    import fcntl

    out: list[tuple[bool, Any]] = []
    for i in indexes:
        fcntl.lockf(_SERIAL_LOCK, fcntl.LOCK_EX)
        try:
            out.append((True, _run_task(key, i, i in fresh)))
        except Exception as exc:  # noqa: BLE001 - handed to that task's future
            out.append((False, exc))
        finally:
            fcntl.lockf(_SERIAL_LOCK, fcntl.LOCK_UN)
    return out


def _submit(pool: Any, key: int, n_tasks: int, serial: Sequence[int], fresh: frozenset[int]
            ) -> list[Future[Any]]:
    """Submit the tasks to ``pool``: the ``serial`` ones first, as one job of one worker whose
    outcome settles their own futures; then the others, in order."""
    from concurrent.futures import Future

    futures: dict[int, Future[Any]] = {}
    if serial:
        own = {i: Future() for i in serial}
        for f in own.values():  # they run with the job: cancelling one alone cannot stop it
            f.set_running_or_notify_cancel()
        futures.update(own)

        def settle(job: Future[list[tuple[bool, Any]]]) -> None:
            try:
                outcomes = job.result()
            except BaseException as exc:  # noqa: BLE001 - cancelled, or the worker died
                for f in own.values():
                    f.set_exception(exc)
                return
            for (ok, value), f in zip(outcomes, own.values()):
                f.set_result(value) if ok else f.set_exception(value)

        pool.submit(_run_serial, key, tuple(own), fresh).add_done_callback(settle)
    for i in range(n_tasks):
        if i not in futures:
            futures[i] = pool.submit(_run_task, key, i, i in fresh)
    return [futures[i] for i in range(n_tasks)]


@contextlib.contextmanager
def forked(tasks: Sequence[Callable[[], T]], *, jobs: int, serial: Sequence[int] = (),
           fresh: Collection[int] = (), background: bool = False
           ) -> Iterator[list[Future[T] | Done[T]]]:
    """Run ``tasks`` (functions without arguments) in up to ``jobs`` forked worker processes.

    Yields one future per task, in the order of ``tasks``; the caller may do its own work
    before reading them. Results travel back pickled; an exception raised by a task is raised
    again by its ``result()`` (a worker that died, e.g. killed for lack of memory, raises
    :class:`~concurrent.futures.process.BrokenProcessPool`). With ``jobs`` 1 or a single task
    (unless ``background``: one worker then runs them beside the caller's own work), or no
    ``fork`` on this platform, each task runs in the calling process when its result is read.
    On leaving, tasks not started are cancelled and the workers are stopped. Pools may be open
    at the same time (a worker sees the memory of the moment its pool started).

    ``serial`` names tasks (indexes into ``tasks``) that must not run at the same time as each
    other, such as the checks with the largest working memory: one worker runs them one after
    the other, in that order, starting first, while the other workers take the other tasks;
    their results are ready once the last of them is done. Nor do they run beside a serial task
    of another pool: one still running in an open pool is waited for by the worker (a lock),
    while this pool's other workers start on the other tasks.

    ``fresh`` names tasks that each run in a process of their own, forked for them from their
    worker (some milliseconds): what they leave in memory does not stay under the worker's later
    tasks, which however rebuild what these built for them (caches, imports). In the calling
    process (one job) they run as the others.
    """
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor

    n = min(jobs, len(tasks))
    if not tasks or (n <= 1 and not background) or (
            "fork" not in multiprocessing.get_all_start_methods()):
        yield [Done(t) for t in tasks]
        return
    global _SERIAL_LOCK
    if serial and _SERIAL_LOCK is None:
        import tempfile

        _SERIAL_LOCK = tempfile.TemporaryFile()
    key = max(_TASKS, default=0) + 1
    _TASKS[key] = list(tasks)
    # the workers' garbage collector leaves the run's objects (and their pages) alone
    with frozen():
        pool = ProcessPoolExecutor(max_workers=n, mp_context=multiprocessing.get_context("fork"),
                                   initializer=_worker_init, initargs=(os.getpid(),))
        try:
            yield _submit(pool, key, len(tasks), list(dict.fromkeys(serial)), frozenset(fresh))
        except BaseException:
            # the run stops: stop the workers now rather than let running tasks finish
            for proc in list(getattr(pool, "_processes", {}).values()):
                proc.kill()
            raise
        finally:
            pool.shutdown(wait=True, cancel_futures=True)
            del _TASKS[key]
