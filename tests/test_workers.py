"""Worker processes of a run (zlgis.workers): results, errors, lock and death of the run."""

from __future__ import annotations

import fcntl
import os
import signal
import subprocess
import sys
import textwrap
import time
from concurrent.futures.process import BrokenProcessPool
from pathlib import Path

import pytest

from zlgis.errors import ConfigError, LayerError
from zlgis.workers import forked, not_inherited, release_memory, resolve_jobs


def _pid() -> int:
    return os.getpid()


def test_tasks_run_in_workers_and_results_come_back_in_order():
    big = list(range(200_000))  # shared with the workers by fork, never pickled on the way in
    tasks = [lambda: (os.getpid(), sum(big)), lambda: (os.getpid(), len(big)),
             lambda: (os.getpid(), big[-1])]
    with forked(tasks, jobs=2) as results:
        out = [r.result() for r in results]
    assert [v for _, v in out] == [sum(big), len(big), big[-1]]
    assert os.getpid() not in {p for p, _ in out}
    assert len({p for p, _ in out}) <= 2


_LEFT: list[int] = []


def _leave_behind() -> tuple[int, int, int]:
    """This process, its parent, and what it holds of the module's list; then 1M items added
    to the list and kept."""
    held = len(_LEFT)
    _LEFT.extend(range(1_000_000))
    return os.getpid(), os.getppid(), held


def test_a_fresh_task_leaves_nothing_behind():
    """One worker runs all four tasks (one job, in the background); the fresh ones (0, 2) each
    run in a process forked for them from it, so what they leave dies with them; the others run
    in the worker itself, and what they leave stays (task 2 starts from task 1's list, task 3
    sees that list but not task 2's addition)."""
    tasks = [_leave_behind] * 4
    with forked(tasks, jobs=1, background=True, fresh=[0, 2]) as results:
        out = [r.result() for r in results]
    worker = out[1][0]
    assert [held for *_, held in out] == [0, 0, 1_000_000, 1_000_000]
    assert out[0][1] == out[2][1] == worker != os.getpid()  # forked from the worker
    assert len({pid for pid, *_ in out}) == 3 and out[3][0] == worker
    with forked([_leave_behind] * 2, jobs=2, serial=[0, 1], fresh=[0, 1]) as results:
        assert [r.result()[2] for r in results] == [0, 0]  # serial tasks run fresh too
    assert _LEFT == []


def test_a_fresh_task_that_dies_or_does_not_pickle_is_reported():
    def die():
        os.kill(os.getpid(), signal.SIGKILL)

    with forked([die, lambda: (lambda: 1), _pid], jobs=2, fresh=[0, 1, 2]) as (dead, bad, good):
        with pytest.raises(BrokenProcessPool):
            dead.result()
        with pytest.raises(TypeError, match="pickle"):
            bad.result()
        assert good.result() != os.getpid()


def test_one_job_runs_each_task_here_when_its_result_is_read():
    ran = []
    with forked([lambda: ran.append("a") or 1, lambda: ran.append("b") or 2], jobs=1) as res:
        assert ran == []
        assert res[1].result() == 2 and ran == ["b"]
        assert res[0].result() == 1 and res[0].result() == 1 and ran == ["b", "a"]
    with forked([lambda: ran.append("c"), lambda: ran.append("d")], jobs=1) as (c, d):
        d.result()
        assert c.cancel() and not d.cancel() and ran == ["b", "a", "d"]


def _timed(value: object, pause: float = 0.0):
    def task() -> tuple[int, float, float, object]:
        t0 = time.monotonic()
        time.sleep(pause)
        return os.getpid(), t0, time.monotonic(), value
    return task


def test_serial_tasks_never_overlap_and_the_others_run_beside_them():
    """The tasks named ``serial`` (the heavy checks) run one after the other in one worker,
    in the order given; the other tasks go to the other worker meanwhile."""
    tasks = [_timed("a"), _timed("heavy1", 0.4), _timed("b"), _timed("heavy2", 0.4),
             _timed("c")]
    with forked(tasks, jobs=2, serial=[3, 1]) as results:
        out = [r.result() for r in results]
    assert [v for *_, v in out] == ["a", "heavy1", "b", "heavy2", "c"]
    (p1, s1, _, _), (p2, _, e2, _) = out[1], out[3]
    assert p1 == p2 and e2 <= s1  # same worker, heavy2 first and done before heavy1 starts
    assert {p for p, *_ in (out[0], out[2], out[4])} == {p for p, *_ in out} - {p1}


def test_serial_tasks_of_overlapping_pools_never_overlap():
    """A serial task still running in one pool (the early checks' waterlogging) holds a lock:
    the serial tasks of a pool opened meanwhile wait for it in their worker, that pool's other
    tasks start at once, and the running task cannot be cancelled on its own."""
    with forked([_timed("early", 0.8)], jobs=1, background=True, serial=[0]) as (early,):
        time.sleep(0.3)  # it runs
        assert not early.cancel()
        with forked([_timed("heavy", 0.2), _timed("light")], jobs=2, serial=[0]) as (heavy, light):
            h, li = heavy.result(), light.result()
        e = early.result()
    assert e[-1] == "early" and h[-1] == "heavy" and li[-1] == "light"
    assert h[1] >= e[2]  # heavy started once early had ended
    assert li[2] < e[2]  # light ran while early still ran


def test_a_serial_task_error_is_its_own():
    def bad():
        raise LayerError("图层无法读取", layer="dem")

    with forked([_timed("a"), bad, _timed("b")], jobs=2, serial=[1, 2]) as (a, failed, b):
        with pytest.raises(LayerError, match="图层无法读取"):
            failed.result()
        assert b.result()[-1] == "b" and a.result()[-1] == "a"


def test_release_memory_hands_freed_heap_pages_back():
    """Freed blocks in the middle of glibc's heap stay resident until release_memory: the RSS
    falls only then (without malloc_trim this fails: nothing is at the heap's top to trim)."""
    blocks = [bytes(2000) + i.to_bytes(4, "little") for i in range(100_000)]  # 200 MB
    pinned = [*blocks[::50], blocks[-1]]  # one block in 50 kept, and the heap's top
    del blocks
    before = _rss()
    after = release_memory(collect=True)
    assert len(pinned) > 100
    assert abs(after - _rss()) < 2**20  # (another thread of the test process may allocate)
    assert before - after > 80 * 2**20, (before, after)


_REUSE = """
import resource, sys
from zlgis.workers import allocator_kept

def faults_of_second_block():
    a = b"\\1" * (40 << 20)  # above glibc's moving mmap threshold (32 MiB at most)
    del a
    before = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
    b = b"\\2" * (40 << 20)
    return resource.getrusage(resource.RUSAGE_SELF).ru_minflt - before

with allocator_kept() as kept:
    inside = faults_of_second_block()
print(kept, inside, faults_of_second_block())
"""


def test_allocator_kept_reuses_freed_blocks_and_leaves_glibc_as_it_was():
    """A 40 MB block freed and allocated again: inside the block the second one reuses the
    first's pages (no page faults), outside it is a fresh mapping again (10,240 pages)."""
    out = subprocess.run([sys.executable, "-c", _REUSE], capture_output=True, text=True,
                         check=True).stdout.split()
    assert out[0] == "True"
    inside, outside = int(out[1]), int(out[2])
    assert inside < 1000 and outside > 9000, (inside, outside)


def _rss() -> int:
    with open("/proc/self/statm") as fh:
        return int(fh.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")


def test_an_error_travels_back_with_its_fields():
    def bad():
        raise LayerError("图层无法读取", layer="buildings", path="b.gpkg", row=7, field="floors")

    with forked([bad, _pid], jobs=2) as (failed, fine):
        with pytest.raises(LayerError) as err:
            failed.result()
        assert fine.result() != os.getpid()
    assert (err.value.layer, err.value.path, err.value.row, err.value.field) == (
        "buildings", "b.gpkg", 7, "floors")
    assert err.value.message == "图层无法读取"
    assert str(err.value) == "文件 b.gpkg，图层 buildings，第 7 行，字段 floors：图层无法读取"


def test_a_worker_that_dies_is_reported():
    def die():
        os.kill(os.getpid(), signal.SIGKILL)

    with forked([die, _pid], jobs=2) as (dead, _):
        with pytest.raises(BrokenProcessPool):
            dead.result()


def test_workers_close_the_run_lock(tmp_path):
    lock = tmp_path / "ledger.sqlite.lock"
    with open(lock, "a+") as fh:
        fcntl.flock(fh, fcntl.LOCK_EX | fcntl.LOCK_NB)

        def fd_open() -> bool:
            try:
                os.fstat(fh.fileno())
            except OSError:
                return False
            return True

        with not_inherited(fh.fileno()), forked([fd_open, fd_open], jobs=2) as res:
            assert [r.result() for r in res] == [False, False]
        with forked([fd_open, fd_open], jobs=2) as res:  # outside the block: inherited
            assert [r.result() for r in res] == [True, True]
        assert fd_open()  # the run itself keeps its lock


def test_workers_die_with_the_run(tmp_path):
    """A run killed while its workers are busy leaves no worker behind."""
    pids = tmp_path / "pids"
    script = textwrap.dedent(f"""
        import os, signal, time
        from zlgis.workers import forked

        def busy():
            with open({str(pids)!r}, "a") as f:
                f.write(f"{{os.getpid()}}\\n")
            time.sleep(60)

        with forked([busy, busy], jobs=2) as res:
            while not os.path.exists({str(pids)!r}) or \\
                    len(open({str(pids)!r}).read().split()) < 2:
                time.sleep(0.05)
            os.kill(os.getpid(), signal.SIGKILL)
    """)
    proc = subprocess.run([sys.executable, "-c", script], timeout=60,
                          cwd=Path(__file__).resolve().parents[1])
    assert proc.returncode == -signal.SIGKILL
    workers = [int(p) for p in pids.read_text().split()]
    assert len(workers) == 2
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline and any(_alive(p) for p in workers):
        time.sleep(0.05)
    assert not any(_alive(p) for p in workers)


def _alive(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().split(")")[-1].split()[0] != "Z"
    except FileNotFoundError:
        return False


def test_resolve_jobs():
    cpus = len(os.sched_getaffinity(0))
    assert resolve_jobs(0) == max(1, min(cpus, 4))
    assert resolve_jobs(3) == 3
    assert resolve_jobs() == resolve_jobs(0)  # the shipped run.jobs is 0 (auto)
    # auto on a small city (under run.auto_min_mb of layer files): one process
    assert resolve_jobs(0, data_bytes=3 * 2**20) == 1
    assert resolve_jobs(0, data_bytes=5 * 2**20) == resolve_jobs(0)
    assert resolve_jobs(2, data_bytes=10) == 2
    for bad in (-1, 1.5, "2", True):
        with pytest.raises(ConfigError, match="进程数"):
            resolve_jobs(bad)  # type: ignore[arg-type]


def test_pools_may_overlap_and_a_background_pool_forks_its_one_worker():
    """The weekly run starts its early checks in one worker (``background``) while it loads
    the last layers, then its main pool: each pool's workers see the memory of their start."""
    state = ["early"]
    with forked([lambda: (os.getpid(), state[0])], jobs=1, background=True) as (early,):
        state[0] = "main"
        with forked([lambda: (os.getpid(), state[0])] * 2, jobs=2) as main:
            got = [r.result() for r in main]
        pid, seen = early.result()
    assert pid != os.getpid() and seen == "early"
    assert {s for _, s in got} == {"main"} and os.getpid() not in {p for p, _ in got}
