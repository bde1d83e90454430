"""The weekly violations run: load and validate every layer, run every check, update the ledger,
publish the week's Excel ledger, maps, charts, summary and findings.

This is zlgis's main job (``zlgis weekly`` and ``scripts/weekly_violation_maps.py``). It is safe
to run from cron:

* a lock file (``fcntl``) refuses a second run on the same ledger while one is running
  (:class:`~zlgis.errors.LockedError`, exit code 3);
* a missing or corrupt input layer, or a failing check, stops the run **before** the ledger is
  touched, naming the layer and why;
* the ledger is updated in one SQLite transaction; the week's outputs are written into a
  temporary folder renamed into place at the end (:func:`zlgis.io.atomic.atomic_dir`), so a run
  killed at any point leaves the ledger and the previous outputs intact;
* rerunning a week recomputes it from the week before and gives byte-identical outputs (stable
  ordering, no timestamps inside files).

Outputs, in ``OUT/<week>/`` (week as ``2022-W35``), with the ledger itself at
``OUT/ledger.sqlite``; what may be published lives apart, in ``OUT/public/<week>/`` (the public
map and its assets), so that publishing ``OUT/public/`` can never leak an internal file:

============================== ==================================================================
``ledger_<week>.xlsx``         the Excel ledger: a sheet per lead department, for staff to fill in
``map_internal.html``          internal map of every open finding (staff only)
``public/<week>/map_public.html`` public map: public findings and public fields only (citizens)
``chart_status_department.png`` counts by status and department
``chart_trend.png``            counts by status over the weeks
``summary.html``               one-page summary against last week
``findings_<week>.gpkg``       the week's ledger (layer ``ledger``) and findings (``findings``)
``validation_<week>.csv``      rows of the input layers that validation rejected or repaired
============================== ==================================================================

Examples
--------
>>> resolve_week(week="2022-W35")
('2022-W35', datetime.date(2022, 9, 4))
>>> resolve_week(as_of="2022-09-01")
('2022-W35', datetime.date(2022, 9, 1))
"""

from __future__ import annotations

import contextlib
import datetime as dt
import fcntl
import gc
import importlib
import os
import shutil
import signal
import time
from collections.abc import Callable, Collection, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import geopandas as gpd
import pandas as pd

from ._progress import Progress
from .analysis.run_cache import run_cache
from .catalog import Catalog
from .config import department_name
from .errors import InputError, LayerError, LockedError, StorageError, ZlgisError, os_reason
from .findings import FINDING_COLUMNS, assign_grids, concat_findings, use_crs
from .io.atomic import atomic_dir
from .ledger.store import (
    STATUSES,
    Ledger,
    MergeResult,
    parse_week,
    status_labels,
    week_end,
    week_of,
)
from .rules import find_rule
from .workers import (
    Done,
    allocator_kept,
    forked,
    frozen,
    not_inherited,
    release_memory,
    resolve_jobs,
)

__all__ = [
    "WeeklyResult",
    "OUTPUT_FILES",
    "PUBLIC_DIR",
    "KILL_ENV",
    "resolve_week",
    "run_lock",
    "load_inputs",
    "run_checks",
    "points_by_coordinates",
    "publish_week",
    "MapContext",
    "map_context",
    "map_findings",
    "run_weekly",
]

#: Environment variable naming a stage at which the run kills itself (SIGKILL), for the kill test.
KILL_ENV = "ZLGIS_TEST_KILL_AT"
#: Stages, in order, at which :data:`KILL_ENV` can stop the run.
STAGES = ("locked", "loaded", "checked", "ledger", "commit", "merged", "publishing", "published")

#: Output file names in the week folder (``{week}`` is replaced).
OUTPUT_FILES: dict[str, str] = {
    "excel": "ledger_{week}.xlsx",
    "map_internal": "map_internal.html",
    "map_public": "map_public.html",
    "portal_data": "portal_data.json",
    "chart_status": "chart_status_department.png",
    "chart_trend": "chart_trend.png",
    "summary": "summary.html",
    "gpkg": "findings_{week}.gpkg",
    "validation": "validation_{week}.csv",
}

#: Folder (under the output folder) of everything that may be published, one sub-folder per
#: week: the public map and its assets only. Internal files are never written there, so a bureau
#: can publish ``OUT/public/`` as it is.
PUBLIC_DIR = "public"
#: Outputs written into ``OUT/public/<week>/`` instead of ``OUT/<week>/``.
PUBLIC_OUTPUTS = ("map_public", "portal_data")

LEDGER_NAME = "ledger.sqlite"
ACTIVE = ("new", "open", "reopened", "overdue")


def _kill_point(stage: str) -> None:
    """Kill this process (SIGKILL) when ``$ZLGIS_TEST_KILL_AT`` names ``stage`` (tests only)."""
    if os.environ.get(KILL_ENV) == stage:
        os.kill(os.getpid(), signal.SIGKILL)


@dataclass
class WeeklyResult:
    """What a weekly run produced."""

    week: str
    as_of: dt.date
    folder: Path
    #: The ledger file, or the URL of a PostgreSQL ledger (never with a password).
    ledger_path: Path | str
    merge: MergeResult
    files: dict[str, Path] = field(default_factory=dict)
    #: Wall time in seconds of each stage (loaded, checked, merged, published) and of each check
    #: (``check:<name>``).
    timings: dict[str, float] = field(default_factory=dict)
    #: One Chinese line per rule that was not checked, and why (missing layers or fields).
    skipped: list[str] = field(default_factory=list)
    #: One Chinese line per big layer drawn from vector tiles instead of embedded in the maps
    #: (``publish.yaml`` ``tiles.min_features``), naming its archives.
    tiled: list[str] = field(default_factory=list)


# ------------------------------------------------------------------------------------ the week
def resolve_week(week: str | None = None, as_of: str | dt.date | None = None,
                 today: dt.date | None = None) -> tuple[str, dt.date]:
    """The week label and ``as_of`` date of a run.

    ``week`` gives that ISO week, checked as of its Sunday; ``as_of`` gives the week holding that
    date, checked as of that date; neither gives the last completed week (on a Sunday, the
    current one), which is what a Monday-morning cron job wants.
    """
    if week and as_of:
        raise InputError("--week 与 --as-of 只能指定一个")
    if week:
        w = parse_week(week)
        return w, week_end(w)
    if as_of:
        if isinstance(as_of, dt.date):
            day = as_of
        else:
            try:
                day = dt.date.fromisoformat(str(as_of).strip())
            except ValueError:
                raise InputError(f"日期 {as_of!r} 格式不对，应写成 2022-09-04") from None
        return week_of(day), day
    today = today or dt.date.today()
    last_sunday = today - dt.timedelta(days=(today.isoweekday() % 7))
    return week_of(last_sunday), last_sunday


# -------------------------------------------------------------------------------------- lock
def ledger_target(ledger: str | os.PathLike[str] | None, out: Path) -> Path | str:
    """The ledger a run uses: ``out/ledger.sqlite`` by default, a file path, or a PostgreSQL URL
    (checked: no password in it)."""
    from .io.pgconn import check_url, is_pg_url

    if ledger is None or str(ledger) == "":
        return out / LEDGER_NAME
    if is_pg_url(ledger):
        return check_url(str(ledger), what="台账地址")
    return Path(ledger)


@contextlib.contextmanager
def run_lock(ledger_path: str | os.PathLike[str]) -> Iterator[Path]:
    """Hold an exclusive lock for a ledger (``<ledger>.lock``); refuse when another run holds it.

    The lock is an ``fcntl`` lock, released by the kernel when the process dies, so a killed
    run never leaves a stale lock behind (its worker processes close the lock file as they
    start, :func:`zlgis.workers.not_inherited`).
    """
    lock_path = Path(f"{ledger_path}.lock")
    lock_path.parent.mkdir(parents=True, exist_ok=True)
    fh = open(lock_path, "a+")
    try:
        try:
            fcntl.flock(fh, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            fh.seek(0)
            holder = fh.read().strip()
            raise LockedError("另一个每周检查或台账导入正在运行，本次已取消，请稍后再试"
                              + (f"（运行中的进程：{holder}）" if holder else ""),
                              path=str(lock_path)) from None
        fh.seek(0)
        fh.truncate()
        fh.write(f"pid {os.getpid()}\n")
        fh.flush()
        with not_inherited(fh.fileno()):  # worker processes never keep the lock
            yield lock_path
    finally:
        fh.close()


# ------------------------------------------------------------------------------------ inputs
def load_inputs(catalog: Catalog, ids: Sequence[str] | None = None, *,
                progress: Progress | None = None, last: Collection[str] = (),
                before_last: Callable[[dict[str, gpd.GeoDataFrame], set[str]], None] | None = None
                ) -> tuple[dict[str, gpd.GeoDataFrame], pd.DataFrame]:
    """Load and validate every layer of the catalog; stop at the first unusable one.

    Vector layers are read and validated with :func:`zlgis.validate.read_layer` (the reader behind
    :func:`zlgis.validate.load_layers`): rows validation rejects are left out and listed in the
    returned issues table. Raster layers (the DEM) are opened to check they are readable.
    Derived layers (road red lines from roads) are computed from the loaded ones. (Layers are
    read in this process: in worker processes, sending a 1M-building layer back pickled cost
    more CPU than reading it, BENCHMARKS.md.)

    The layers of ``last`` are read after the others; in between, ``before_last`` (if given) is
    called with the layers loaded so far and the ids still to come (with the derived ones): the
    weekly run starts the checks that need none of them there (:class:`EarlyChecks`). The result
    does not depend on the order: layers and issues come in catalog order.

    A layer is unusable when it cannot be read, or when validation rejects more than
    ``safety.max_rejected_share`` of its rows (``ledger.yaml``): running the checks on what is
    left would mark every breach in the missing rows as rectified.

    Raises
    ------
    LayerError
        Naming the layer and why it could not be used; the ledger has not been touched.
    """
    from .config import load_config
    from .validate import city_boundary
    from .validate.cache import cache_enabled
    from .validate.report import concat_issues

    progress = progress or Progress(quiet=True)
    city_boundary(catalog)  # a working CRS that does not cover the city stops here (CRSError)
    share = float(load_config("ledger")["safety"]["max_rejected_share"])
    cache = cache_enabled()
    order = list(ids or catalog.layers)
    later = [lid for lid in order if lid in set(last)]
    layers: dict[str, gpd.GeoDataFrame] = {}
    issues: dict[str, pd.DataFrame] = {}
    with frozen():  # each loaded layer is frozen: the next layers' collections skip it
        for lid in [lid for lid in order if lid not in later] + later:
            if later and lid == later[0] and before_last is not None:
                before_last(dict(layers), set(later) | {x for x in order if catalog[x].derived})
            got = _load_layer(catalog, lid, share, progress, cache=cache)
            if got is not None:
                layers[lid], issues[lid] = got
                gc.freeze()
    from .analysis.derived import derive_layers

    layers = {lid: layers[lid] for lid in order if lid in layers}
    return (derive_layers(catalog, layers, ids),
            concat_issues([issues[lid] for lid in order if lid in issues]))


def _load_layer(catalog: Catalog, lid: str, share: float, progress: Progress, *,
                cache: bool = False) -> tuple[gpd.GeoDataFrame, pd.DataFrame] | None:
    """Layer ``lid`` read and validated (or taken from the cache of validated layers), with its
    issues; None for a raster (checked to be readable) or a derived layer. Raises
    :class:`LayerError` when it cannot be used."""
    from .validate import read_layer

    spec = catalog[lid]
    path = str(spec.path) if spec.path else None
    progress.step(f"读取图层 {spec.title}（{lid}）")
    if spec.kind == "raster":
        _check_raster(spec)
        return None
    if spec.derived:
        return None
    try:
        loaded = read_layer(catalog, lid, cache=cache)
    except ZlgisError as exc:
        raise LayerError(f"图层无法使用，本周检查已停止，台账未修改：{exc.message}", layer=lid,
                         path=exc.path or path, row=exc.row, field=exc.field) from exc
    except Exception as exc:  # noqa: BLE001 - GDAL/pyogrio raise many kinds for bad files
        raise LayerError(f"图层无法读取（{type(exc).__name__}: {exc}），本周检查已停止，台账"
                         "未修改", layer=lid, path=path) from exc
    rejected = loaded.rows_in - len(loaded.gdf)
    if loaded.rows_in and rejected > share * loaded.rows_in:
        reasons = loaded.issues.loc[loaded.issues["action"] == "rejected", "message"]
        top = reasons.value_counts().index[0] if len(reasons) else "校验未通过"
        raise LayerError(f"{loaded.rows_in} 行中有 {rejected} 行未通过校验（主要原因：{top}），"
                         f"超过允许的 {share:.0%}，本周检查已停止，台账未修改", layer=lid,
                         path=path)
    return loaded.gdf, loaded.issues


def _check_raster(spec: Any) -> None:
    path = spec.path
    if path is None or not Path(path).exists():
        raise LayerError("栅格文件不存在，本周检查已停止，台账未修改", layer=spec.id,
                         path=str(path))
    try:
        import rasterio

        with rasterio.open(path) as src:
            src.read(1, window=((0, min(1, src.height)), (0, min(1, src.width))))
    except Exception as exc:  # noqa: BLE001
        raise LayerError(f"栅格文件无法读取（{type(exc).__name__}），本周检查已停止，台账未修改",
                         layer=spec.id, path=str(path)) from exc


# ------------------------------------------------------------------------------------ checks
CheckFunc = Callable[..., gpd.GeoDataFrame]


class _NotLoaded(BaseException):
    """A check started early read a layer still loading. (Not an ``Exception``: a check's own
    ``except Exception`` must not take it for a missing or broken layer.)"""


class _Pending:
    """Stands in for a layer still loading, in the layers a check started early sees: there (as
    it will be), but any use of it (attributes, ``isinstance``, ``len``, truth, iteration,
    comparison) raises :class:`_NotLoaded`. A check that returns never used a missing layer."""

    __slots__ = ("_id",)

    def __init__(self, lid: str) -> None:
        object.__setattr__(self, "_id", lid)

    def _stop(self, *args: Any, **kwargs: Any) -> Any:
        raise _NotLoaded(object.__getattribute__(self, "_id"))

    __getattribute__ = __setattr__ = __getitem__ = __contains__ = __len__ = __bool__ = _stop
    __iter__ = __eq__ = __ne__ = __lt__ = __hash__ = __repr__ = __str__ = _stop  # type: ignore


class EarlyChecks(contextlib.ExitStack):
    """The checks a weekly run starts while its last layers load.

    The largest layer file (the buildings, in a city) takes the longest to load; the checks whose
    rules need or use (:attr:`zlgis.rules.Rule.uses`) neither it nor the layers only its users
    read (waterlogging, trucks, cases ...) need not wait for it. :func:`load_inputs` reads those
    :attr:`late` layers last and calls :meth:`start` just before: the early checks then run in
    one worker beside the loading (with ``jobs`` 1: in this process, before the last layers
    load, so the peaks of the two do not add up); :meth:`stop_waiting` hands those not started
    by the end of the loading back. :func:`run_checks` takes their results (:attr:`futures`)
    and runs the others. An early check that reads a layer still loading (one its rules do not
    declare) stops, and runs again with the others: the findings are those of the one-stage
    run.
    """

    def __init__(self, catalog: Catalog, checks: Mapping[str, CheckFunc] | Sequence[str] | None,
                 *, as_of: dt.date, jobs: int) -> None:
        from .analysis import CHECKS
        from .config import load_config
        from .rules import layers_read

        super().__init__()
        self.catalog, self.as_of, self.jobs = catalog, as_of, jobs
        names = list(CHECKS if checks is None else checks)
        self._fns = dict(checks) if isinstance(checks, Mapping) else {}
        serial = load_config("ledger")["run"].get("serial_checks") or []
        names.sort(key=lambda n: serial.index(n) if n in serial else len(serial))
        self._serial = set(_memory_plan(catalog)[0])  # (first on any city, apart on a large one)
        #: check name -> the layers its registered rules need or use (none: never early)
        self.needs = {n: layers_read(n) for n in names}
        #: ids of the layers loaded last
        self.late = self._late_layers(catalog, self.needs)
        #: check name -> future of its (findings, timings), or of None when it must run again
        self.futures: dict[str, Any] = {}
        #: the early checks handed back to the main stage (:meth:`stop_waiting`)
        self.handed_back: list[str] = []
        self._claims: Any = None
        self._names: list[str] = []

    @staticmethod
    def _late_layers(catalog: Catalog, needs: Mapping[str, set[str]]) -> set[str]:
        """The largest layer file, and the layers needed only by checks that need it too.
        (A layer no rule declares is loaded first: a check may read it without declaring it.)"""
        sizes = {}
        for lid, spec in catalog.layers.items():
            if spec.kind != "raster" and not spec.derived and spec.path is not None:
                with contextlib.suppress(OSError):
                    sizes[lid] = os.path.getsize(spec.path)
        if not sizes or not needs:
            return set()
        big = max(sizes, key=sizes.__getitem__)
        users = {lid: [n for n in needs.values() if lid in n] for lid in sizes}
        return {lid for lid, of in users.items() if of and all(big in n for n in of)}

    def start(self, layers: dict[str, gpd.GeoDataFrame], pending: set[str]) -> None:
        """Start the checks that need none of ``pending`` on ``layers`` (the hook of
        :func:`load_inputs`)."""
        import multiprocessing

        names = [n for n, need in self.needs.items() if need and not need & pending]
        ids = [lid for lid in self.catalog.layers if lid in layers or lid in pending]
        ids.sort(key=lambda lid: bool(self.catalog[lid].derived))  # last, as derive_layers adds
        seen = {lid: layers[lid] if lid in layers else _Pending(lid) for lid in ids}
        # shared with the worker: [handed back, started 1, started 2, ...]
        self._claims = multiprocessing.get_context("fork").Array("b", len(names) + 1)
        self._names = names
        tasks = [_early(_check_task(n, self._fns.get(n), self.catalog, seen, self.as_of),
                        self._claims, i + 1) for i, n in enumerate(names)]
        serial = [i for i, n in enumerate(names) if n in self._serial]
        futures = self.enter_context(forked(tasks, jobs=1, background=self.jobs > 1,
                                            serial=serial))
        self.futures.update(zip(names, futures))
        if self.jobs == 1:
            for f in futures:
                f.result()

    def stop_waiting(self) -> None:
        """Once every layer is loaded: the early checks not started yet run with the others
        (the main stage's workers), not after the running one in the early worker, which is
        let go once that one ends. One of ``run.serial_checks`` still running holds the serial
        lock of :func:`~zlgis.workers.forked`: the main stage's serial checks wait for it in
        their worker, the others start at once.

        A task already handed to the worker (the pool's call queue takes one more than it
        runs) cannot be cancelled: the worker claims each task as it starts it, and one not
        claimed when the checks are handed back returns at once."""
        if self._claims is None:
            return
        with self._claims.get_lock():
            self._claims[0] = 1
            started = {n for i, n in enumerate(self._names) if self._claims[i + 1]}
        for name, future in list(self.futures.items()):
            if name not in started:
                future.cancel()
                del self.futures[name]
                self.handed_back.append(name)


def _early(task: Callable[[], Any], claims: Any, i: int) -> Callable[[], Any]:
    """``task`` run early: None when it failed, to run again once every layer is loaded (an
    error of its own then stops the run as it would have); nothing when the early checks were
    handed back before it started (``claims[0]``; it marks ``claims[i]`` when it starts)."""
    def run() -> Any:
        with claims.get_lock():
            if claims[0]:
                return None
            claims[i] = 1
        try:
            return task()
        except (_NotLoaded, Exception):  # noqa: BLE001
            return None
    return run


@run_cache()  # one run cache per process: street graphs, snapped points built once
def run_checks(catalog: Catalog, layers: Mapping[str, gpd.GeoDataFrame], *, as_of: dt.date,
               checks: Mapping[str, CheckFunc] | Sequence[str] | None = None,
               progress: Progress | None = None, timings: dict[str, float] | None = None,
               skipped: list[str] | None = None, skipped_ids: list[str] | None = None,
               jobs: int | None = None, early: Mapping[str, Any] | None = None,
               last: Sequence[str] = (), meanwhile: Callable[[], Any] | None = None
               ) -> tuple[gpd.GeoDataFrame, list[str]]:
    """Run the checks (default: every check of :data:`zlgis.analysis.CHECKS`).

    Returns all findings (sorted by id, grid cell and road chief assigned) and the names of the
    checks that ran. A failing check stops the run: a partial set of findings would wrongly
    mark the missing ones as rectified. ``timings``, when given, receives the wall time of each
    check (key ``check:<name>``) and the parts a check reports in ``findings.attrs["timings"]``
    (``controllines:red_lines_sql`` ...). Rules whose needs (layers, fields) are missing are not run;
    ``skipped``, when given, receives one Chinese line per such rule
    (:func:`zlgis.rules.skip_message`) and ``skipped_ids`` their rule ids. A check none of whose
    rules can run is left out of the returned names, and a skipped rule's earlier findings are
    passed to the ledger as not checked, so the ledger keeps them as they were.

    The checks run in ``jobs`` worker processes (:func:`zlgis.workers.resolve_jobs`; default
    ``run.jobs`` of ``ledger.yaml``); the findings are the same for any number. With workers, the
    street graphs the checks declare (``graphs:`` of their rule files) are built here first and
    shared by every worker (:func:`_shared_graphs`). Each check's freed memory is handed back to
    the system before the next (:func:`zlgis.workers.release_memory`). On a large city
    (:func:`_memory_plan`) the checks of ``run.serial_checks`` (the largest working memory)
    never run at the same time and start first: one worker runs them one after the other (in
    one process: before the others, while the run cache is empty); and those of
    ``run.own_process`` (names; ``all``: every check) run in a process of their own, forked
    from their worker, and what they leave dies with it.
    ``early`` maps checks already started (while the layers loaded, :class:`EarlyChecks`) to
    their futures; one that gave None runs here.
    On a large city the checks ``last`` are handed to the workers after the others (the early
    checks handed back: small ones, which would otherwise shift the large checks' peaks onto
    each other).
    ``meanwhile``, when given, is called in this process once the checks are handed to the
    workers, before their results are read (with one process: before the checks run).
    """
    progress = progress or Progress(quiet=True)
    plan = _plan_checks(catalog, layers, checks, skipped=skipped, skipped_ids=skipped_ids)
    early = early or {}
    late = set(last) if _large_city(catalog) else set()
    rest = sorted(((name, fn) for name, fn, _ in plan if name not in early),
                  key=lambda r: r[0] in late)
    tasks = [_check_task(name, fn, catalog, layers, as_of) for name, fn in rest]
    frames = []
    names = [name for name, _ in rest]
    serial_names, own_names = _memory_plan(catalog)
    serial = [names.index(c) for c in serial_names if c in names]  # never two of them at once
    own = (list(range(len(names))) if "all" in own_names
           else [names.index(c) for c in own_names if c in names])
    jobs = resolve_jobs(jobs)
    if jobs > 1:
        _shared_graphs(layers, names)
    with forked(tasks, jobs=jobs, serial=serial, fresh=own) as results:
        if meanwhile is not None:
            meanwhile()
        for i in serial:  # in one process: run first, before the run cache holds anything
            _check_result(names[i], results[i])
        futures = dict(zip(names, results))
        for name, fn, cannot in plan:
            progress.step(f"运行检查 {name}")
            got = _check_result(name, futures.get(name) or early[name])
            result, parts = got or _check_task(name, fn, catalog, layers, as_of)()
            if timings is not None:
                timings.update(parts)
            if cannot and len(result):  # an adapter may measure more than its layers allow
                result = result[~result["rule"].isin({r.id for r, _ in cannot})]
            missing = [c for c in FINDING_COLUMNS if c not in result.columns]
            if missing:
                raise ZlgisError(f"检查 {name} 的结果缺少字段 {missing}，本周检查已停止，台账未修改")
            frames.append(result)
    findings = concat_findings(frames, crs=catalog.working_crs)
    if len(findings):
        if findings.crs is not None and str(findings.crs) != catalog.working_crs:
            findings = findings.to_crs(catalog.working_crs)
        findings = assign_grids(findings, layers.get("grids"))
    # every check that ran, the early ones too: the ledger marks a finding rectified only when
    # its check ran (those left out kept last week's findings open for ever)
    return findings, [name for name, _, _ in plan]


def _large_city(catalog: Catalog) -> bool:
    """Whether the catalog's layer files hold at least ``run.memory_min_mb`` (``ledger.yaml``;
    layers read from a database count as large): only there are the checks kept apart for
    memory (:func:`_memory_plan`, :func:`run_checks`' ``last``); a small city's waits and forks
    would cost it time for nothing (the demo city: 0.3 s of a worker idle behind the early
    waterlogging check, 2 % of the run in forks, 0.15 s behind a handed-back check left last)."""
    from .config import load_config

    size = _catalog_bytes(catalog)  # None: read from a database
    return size is None or size >= float(load_config("ledger")["run"]["memory_min_mb"]) * 2 ** 20


def _allocator(catalog: Catalog) -> contextlib.AbstractContextManager[Any]:
    """A small city's run reuses the memory it frees (fewer page faults:
    :func:`zlgis.workers.allocator_kept`); a large city's peak would grow with it."""
    return allocator_kept() if not _large_city(catalog) else contextlib.nullcontext()


def _memory_plan(catalog: Catalog) -> tuple[list[str], list[str]]:
    """``run.serial_checks`` and ``run.own_process`` of ``ledger.yaml`` on a large city
    (:func:`_large_city`), else both empty."""
    from .config import load_config

    if not _large_city(catalog):
        return [], []
    cfg = load_config("ledger")["run"]
    return list(cfg.get("serial_checks") or []), list(cfg.get("own_process") or [])


def _shared_graphs(layers: Mapping[str, gpd.GeoDataFrame], names: Sequence[str]) -> None:
    """Build the street graphs the checks ``names`` declare (``graphs:`` in their rule files)
    into the open run cache, before the workers fork: every worker reads them there instead of
    building its own (on the 1M-building city the workers built six graphs, over 1 s each). A
    graph that cannot be built is left to the check, which reports why."""
    from .analysis.run_cache import active_cache
    from .analysis.street_graph import StreetGraph
    from .rules import checks as registered

    declared = {c.name: c.graphs for c in registered()}
    modes = {m for n in names for m in declared.get(n, ())}
    cache, roads = active_cache(), layers.get("roads")
    if cache is None or roads is None or not modes:
        return
    with cache.holding():
        for mode in sorted(modes, reverse=True):       # walk, then drive
            try:
                StreetGraph.from_roads(roads, walk=mode == "walk")
            except Exception:  # noqa: BLE001 - the check meets the same error and reports it
                return


def _plan_checks(catalog: Catalog, layers: Mapping[str, gpd.GeoDataFrame],
                 checks: Mapping[str, CheckFunc] | Sequence[str] | None, *,
                 skipped: list[str] | None, skipped_ids: list[str] | None
                 ) -> list[tuple[str, CheckFunc | None, list[Any]]]:
    """The checks to run (name, function or None for the registered one, rules that cannot
    run), in order; the rules that cannot run are reported into ``skipped`` / ``skipped_ids``."""
    from .analysis import CHECKS
    from .rules import rules as registered
    from .rules import skip_message
    from .skips import skipped_rules

    available: dict[str, Any] = dict(layers)
    available.update({lid: None for lid, spec in catalog.layers.items()
                      if spec.kind == "raster" and spec.path is not None
                      and Path(spec.path).exists()})
    funcs: dict[str, CheckFunc | None] = (dict(checks) if isinstance(checks, Mapping)
                                          else dict.fromkeys(CHECKS if checks is None else checks))
    plan = []
    for name, fn in funcs.items():
        own = registered(name)
        cannot = skipped_rules(available, rules=own)
        if skipped is not None:
            skipped.extend(skip_message(r, miss) for r, miss in cannot)
        if skipped_ids is not None:
            skipped_ids.extend(r.id for r, _ in cannot)
        if own and len(cannot) == len(own):
            continue
        if fn is None and name not in CHECKS:
            raise InputError(f"未知的检查 {name}，可用：{'、'.join(CHECKS)}")
        plan.append((name, fn, cannot))
    return plan


def _check_task(name: str, fn: CheckFunc | None, catalog: Catalog,
                layers: Mapping[str, gpd.GeoDataFrame], as_of: dt.date
                ) -> Callable[[], tuple[gpd.GeoDataFrame, dict[str, float]]]:
    """Check ``name`` as a task: its findings and timings; any error becomes a
    :class:`~zlgis.errors.ZlgisError` saying the run stopped (it travels back from a worker).
    The check's module is imported by the task (in the worker, when there are workers)."""
    def task() -> tuple[gpd.GeoDataFrame, dict[str, float]]:
        from .analysis import get_check

        t0 = time.perf_counter()
        try:
            with use_crs(catalog.working_crs):
                result = (fn or get_check(name))(catalog, layers, as_of=as_of)
        except ZlgisError as exc:
            raise type(exc)(f"检查 {name} 无法完成，本周检查已停止，台账未修改：{exc.message}",
                            path=exc.path, layer=exc.layer, row=exc.row, field=exc.field
                            ) from exc
        except Exception as exc:  # noqa: BLE001 - a bug in a check must not touch the ledger
            raise ZlgisError(f"检查 {name} 运行出错（{type(exc).__name__}: {exc}），本周检查已停止，"
                             "台账未修改") from exc
        release_memory()  # the check's working arrays, before the next check's
        parts = {f"check:{name}": round(time.perf_counter() - t0, 3)}
        parts.update(result.attrs.get("timings") or {})  # a check's own parts
        return result, parts
    return task


def _check_result(name: str, future: Any) -> tuple[gpd.GeoDataFrame, dict[str, float]]:
    """The result of a check task; a worker process that died stops the run, saying so."""
    from concurrent.futures.process import BrokenProcessPool

    try:
        return future.result()
    except BrokenProcessPool:
        raise ZlgisError(f"检查 {name} 的工作进程意外退出（可能内存不足；可用 --jobs 1 在一个进程中"
                         "运行以减少内存占用），本周检查已停止，台账未修改") from None


# ----------------------------------------------------------------------------------- publish
def _metrics(ledger: Ledger, week: str | None) -> dict[str, int] | None:
    if week is None:
        return None
    events = ledger.event_counts(week)
    counts = ledger.status_counts(until=week)
    row = counts.loc[week] if week in counts.index else pd.Series(0, index=list(STATUSES))
    return {"new": events.get("new", 0),
            "rectified": events.get("rectified", 0) + events.get("staff_rectified", 0),
            "reopened": events.get("reopened", 0),
            "overdue": int(row.get("overdue", 0)),
            "active": int(sum(int(row.get(s, 0)) for s in ACTIVE))}


def _department_table(view: pd.DataFrame) -> list[tuple[str, dict[str, int], int]]:
    df = pd.DataFrame({"dept": view["lead_department"].fillna("").astype(str).str.split(";"),
                       "status": view["status"].astype(str)}).explode("dept")
    from .ledger.excel import department_order

    out = []
    groups = dict(list(df.groupby(df["dept"].fillna(""), sort=True)))
    for code in sorted(groups, key=department_order):
        part = groups[code]
        name = department_name(code) if code else "未分派"
        counts = part["status"].value_counts().to_dict()
        out.append((name, {k: int(v) for k, v in counts.items()}, int(len(part))))
    return out


def _type_table(view: pd.DataFrame) -> list[tuple[str, dict[str, int], int]]:
    """Counts by status per problem type (check and rule, titled by the rule registry)."""
    out = []
    for (_check, _rule), part in view.groupby(["check", "rule"], sort=True):
        spec = find_rule(str(_rule))
        title = spec.title if spec is not None else str(_rule)
        counts = part["status"].value_counts().to_dict()
        out.append((f"{title}（{_rule}）", {k: int(v) for k, v in counts.items()}, int(len(part))))
    return out


def _map_frame(view: gpd.GeoDataFrame, labels: Mapping[str, str]) -> gpd.GeoDataFrame:
    """Findings to map: those found this week, with their status label."""
    shown = view[view["present"]].copy()
    shown["status_label"] = shown["status"].map(labels)
    return shown


class MapContext(dict):
    """Context layers of one weekly map (layer id -> frame drawn feature by feature), with
    ``aggregates`` (map title -> hexagon counts of point layers over the size limit) and
    ``notes`` (one Chinese line per layer aggregated or left off, shown in the legend)."""

    aggregates: dict[str, gpd.GeoDataFrame]
    notes: list[str]
    #: Name and geometry of the searchable layers (``publish.yaml`` ``search``) left off the map
    #: for their size: the portal's street and place search still covers them.
    search: dict[str, gpd.GeoDataFrame]


def map_context(layers: Mapping[str, gpd.GeoDataFrame], catalog: Catalog
                ) -> dict[str, MapContext]:
    """Context layers of the internal and public weekly maps.

    The default layers of each map profile (:func:`zlgis.publish.styles.map_layer_ids`). A layer
    with more than ``maps.max_context_features`` features (``ledger.yaml``) is not drawn one by
    one: a point layer becomes counts per hexagon of ``maps.hexagon_m``, other layers are left
    off; each carries a note on the map (:func:`zlgis.publish.aggregate.fit_layers`). A
    citywide road network drawn feature by feature makes a page too heavy for a phone. Layers
    written as vector tiles (:func:`zlgis.publish.tiles.tile_layer_ids`) are left to them.
    """
    from .config import load_config
    from .publish.aggregate import fit_layers
    from .publish.styles import map_layer_ids
    from .publish.tiles import tile_layer_ids

    cfg = load_config("ledger")["maps"]
    tiled = set(tile_layer_ids(layers))      # drawn from vector tiles (publish_week)
    out: dict[str, MapContext] = {}
    ids = {p: [k for k in map_layer_ids(p, catalog) if k in layers and k not in tiled]
           for p in ("internal", "public")}
    # each layer fitted once, shared by both profiles (hexagon counts of a big layer included)
    fitted = {lid: fit_layers({lid: layers[lid]}, catalog, limit=int(cfg["max_context_features"]),
                              hexagon_m=float(cfg["hexagon_m"]))
              for lid in dict.fromkeys(ids["internal"] + ids["public"])}
    for profile in ("internal", "public"):
        kept: dict[str, gpd.GeoDataFrame] = {}
        aggregates: dict[str, gpd.GeoDataFrame] = {}
        notes: list[str] = []
        for lid in ids[profile]:
            k_, a_, n_ = fitted[lid]
            kept.update(k_)
            aggregates.update(a_)
            notes += n_
        ctx = MapContext(kept)
        ctx.aggregates, ctx.notes = aggregates, notes
        ctx.search = {lid: layers[lid][[field, layers[lid].geometry.name]]
                      for lid, field in (load_config("publish").get("search") or {}).items()
                      if lid in layers and lid not in kept and field in layers[lid].columns}
        out[profile] = ctx
    return out


def points_by_coordinates(layers: dict[str, Any], catalog: Catalog,
                          checks: Collection[str] | Mapping[str, Any] | None = None) -> list[str]:
    """Replace the point layers that the ``checks`` (default: all) read by their coordinates only
    with plain frames of their fields and ``x``, ``y`` columns; returns the ids replaced.

    ``checks`` as in :func:`run_weekly`; checks given as functions of their own (a mapping)
    may read any layer's points, so then nothing is replaced. Otherwise a layer is replaced
    when every one of the ``checks`` whose rules need or use it lists it in
    ``coordinates:`` of its rule file (:attr:`zlgis.rules.Check.coordinates`), no weekly map
    draws, tiles or searches it (``publish.yaml``), it has no ``x`` or ``y`` field, and its
    geometries are all points (or missing: NaN). The findings do not change. On the
    1M-building city the sweeper tracks' 1.14M GEOS points held about 240 MB, shared by every
    worker of the run to its end; their coordinates hold 18 MB.

    Examples
    --------
    >>> import geopandas as gpd
    >>> from shapely.geometry import Point
    >>> layers = {"sweeper_tracks": gpd.GeoDataFrame(
    ...     {"vehicle_id": ["SX01", "SX01"]}, geometry=[Point(1, 2), None], crs="EPSG:4550")}
    >>> points_by_coordinates(layers, Catalog.load(), ["sanitation"])
    ['sweeper_tracks']
    >>> layers["sweeper_tracks"].values.tolist()
    [['SX01', 1.0, 2.0], ['SX01', nan, nan]]
    """
    import numpy as np
    import shapely

    from .analysis import CHECKS
    from .analysis.network import xy_of_points
    from .config import load_config
    from .publish.styles import map_layer_ids
    from .publish.tiles import tile_layer_ids
    from .rules import checks as registered
    from .rules import layers_read

    if isinstance(checks, Mapping):
        return []
    names = list(CHECKS if checks is None else checks)
    declared = {c.name: set(c.coordinates) for c in registered() if c.name in names}
    shown = {*map_layer_ids("internal", catalog), *map_layer_ids("public", catalog),
             *tile_layer_ids(layers), *(load_config("publish").get("search") or {})}
    done = []
    for lid in sorted(set().union(*declared.values()) - shown):
        users = {n for n in names if lid in layers_read(n)}
        gdf = layers.get(lid)
        if (not users or any(lid not in declared.get(n, ()) for n in users)
                or not isinstance(gdf, gpd.GeoDataFrame) or {"x", "y"} & set(gdf.columns)):
            continue
        geom = np.asarray(gdf.geometry.values)
        if not np.isin(shapely.get_type_id(geom), (-1, 0)).all():
            continue
        frame = pd.DataFrame({c: gdf[c] for c in gdf.columns if c != gdf.geometry.name},
                             index=gdf.index)
        frame["x"], frame["y"] = xy_of_points(geom)
        layers[lid] = frame
        done.append(lid)
    return done


def _tile_frames(layers: Mapping[str, gpd.GeoDataFrame], catalog: Catalog
                 ) -> dict[str, gpd.GeoDataFrame]:
    """The layers written as vector tiles (``publish.yaml`` ``tiles``), cut to the columns the
    tiles carry (the rest of a 1M-building layer is freed with the other layers)."""
    from .publish.tiles import tile_config, tile_layer_ids

    cfg = tile_config()["layers"]
    out = {}
    for k in tile_layer_ids(layers):
        spec = catalog.layers.get(k)
        keep = [c for c in dict.fromkeys([*(cfg[k]["fields"]),
                                          spec.id_field if spec is not None else ""])
                if c in layers[k].columns]
        out[k] = layers[k][[*keep, layers[k].geometry.name]]
    return out


_SEVERITY_ORDER = {"high": 0, "medium": 1, "low": 2}


def map_findings(findings: gpd.GeoDataFrame, limit: int | None = None
                 ) -> tuple[gpd.GeoDataFrame, int]:
    """The findings a weekly map draws (at most ``limit``, default ``maps.max_findings_features``
    of ``ledger.yaml``: the most severe first, then by id) and how many are left to the
    GeoPackage.

    Examples
    --------
    >>> import geopandas as gpd
    >>> f = gpd.GeoDataFrame({"finding_id": list("abcd"),
    ...                       "severity": ["low", "high", "medium", "high"]}, geometry=[None] * 4)
    >>> part, left = map_findings(f, limit=2)
    >>> part["finding_id"].tolist(), left
    (['b', 'd'], 2)
    """
    from .config import load_config

    if limit is None:
        limit = int(load_config("ledger")["maps"]["max_findings_features"])
    if len(findings) <= limit:
        return findings, 0
    rank = findings["severity"].map(_SEVERITY_ORDER).fillna(3)
    order = pd.DataFrame({"r": rank.to_numpy(), "id": findings["finding_id"].astype(str).to_numpy()}
                         ).sort_values(["r", "id"], kind="stable").index[:limit]
    return findings.iloc[sorted(order)], len(findings) - limit


def _findings_overflow(everything: gpd.GeoDataFrame, part: gpd.GeoDataFrame, left: int
                      ) -> tuple[dict[str, gpd.GeoDataFrame], list[str]]:
    """Hexagon counts of the findings a map does not draw one by one, and the note saying so."""
    from .config import load_config
    from .publish.aggregate import hexagon_counts

    hexagon_m = float(load_config("ledger")["maps"]["hexagon_m"])
    rest = everything[~everything.index.isin(part.index)]
    title = f"其余 {left:,} 个问题（按六边形汇总）"
    note = (f"本周问题共 {len(everything):,} 个，超过逐个显示的上限 {len(part):,} 个：图上逐个显示"
            f"最严重的 {len(part):,} 个，其余 {left:,} 个按边长 {hexagon_m:g} 米的六边形汇总个数；"
            "明细见问题数据 GeoPackage 和 Excel 台账")
    return {title: hexagon_counts(rest.geometry, hexagon_m)}, [note]


def _write_maps(folder: Path, public_folder: Path, context: Mapping[str, MapContext],
                data: gpd.GeoDataFrame, catalog: Catalog, week: str,
                files: dict[str, Path], tiles: Any = None,
                names: Mapping[str, Mapping[str, gpd.GeoDataFrame]] | None = None,
                on_built: Callable[[], None] | None = None) -> None:
    """The internal and public maps (:mod:`zlgis.publish.maps`) with their context layers and
    vector-tile layers (``tiles``: a future of the layers per profile written by
    :func:`zlgis.publish.tile_maps.write_week_tiles`, waited for once both pages are built; the
    names of the tiled layers, ``names`` per profile, stay searchable and labelled on the page)
    of the findings ``data`` (:func:`_titled`). What is too big to draw one by one is
    drawn from vector tiles, or aggregated or left off with a note in the legend
    (:func:`map_context`). ``on_built``, if given, is called once both pages are built, before
    waiting for the tiles."""
    from .publish.html import FOCUS_JS
    from .publish.maps import build_map, save_map
    from .publish.tile_maps import add_tile_layers

    built = {}
    for profile, key, title in (("internal", "map_internal",
                                 f"{catalog.city} {week} 城市管理问题（内部）"),
                                ("public", "map_public", f"{catalog.city} {week} 城市管理问题公示")):
        every = data if profile == "internal" else data[data["public"].fillna(False).astype(bool)]
        part, left = map_findings(every)
        ctx = context[profile]
        aggregates = dict(getattr(ctx, "aggregates", {}))
        notes = list(getattr(ctx, "notes", []))
        if left:
            title += f"（图上显示最严重的 {len(part)} 个，另有 {left} 个见问题数据 GeoPackage 和台账）"
            more, note = _findings_overflow(every, part, left)
            aggregates.update(more)
            notes += note
        built[profile, key] = build_map(ctx, part, catalog=catalog, profile=profile,
                                        title=title, aggregates=aggregates, notes=notes,
                                        names=(names or {}).get(profile))
    if on_built is not None:
        on_built()
    tiled = tiles.result() if tiles is not None else {}
    for (profile, key), m in built.items():
        path = (public_folder if key in PUBLIC_OUTPUTS else folder) / OUTPUT_FILES[key]
        add_tile_layers(m, tiled.get(profile, []))
        # offline-safe: local assets wherever installed
        save_map(m, path, scripts=[FOCUS_JS] if profile == "internal" else [])
        files[key] = path
    del built
    release_memory()  # the pages' HTML strings


def _titled(shown: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """The findings the maps and the portal show, each title led by its status."""
    data = shown.reset_index(drop=True)
    data["title"] = "【" + data["status_label"].astype(str) + "】" + data["title"].astype(str)
    return data


def _write_portal_data(public_folder: Path, data: gpd.GeoDataFrame, public: MapContext,
                       catalog: Catalog, week: str) -> Path:
    """The portal's data of the week, of the findings ``data`` (:func:`_titled`;
    :func:`zlgis.publish.portal.write_portal_data`; a publishing task)."""
    from .publish.portal import write_portal_data

    return write_portal_data(public_folder / OUTPUT_FILES["portal_data"], data,
                             {**getattr(public, "search", {}), **public}, catalog=catalog,
                             week=week)


def _write_gpkg(path: Path, view: gpd.GeoDataFrame, shown: gpd.GeoDataFrame) -> None:
    import pyogrio

    pyogrio.set_gdal_config_options({"OGR_CURRENT_DATE": "2022-01-01T00:00:00.000Z"})
    try:
        for name, frame in (("ledger", view), ("findings", shown)):
            out = frame.copy()
            for c in out.columns:
                if c != "geometry" and out[c].dtype == object:
                    out[c] = out[c].fillna("").astype(str)
            pyogrio.write_dataframe(out, path, layer=name, driver="GPKG",
                                    geometry_type="Unknown", append=name != "ledger",
                                    layer_options={"SPATIAL_INDEX": "NO"})
    finally:
        pyogrio.set_gdal_config_options({"OGR_CURRENT_DATE": None})


def _write_documents(ledger: Ledger, week: str, as_of: str, folder: Path,
                     name: Mapping[str, str], view: gpd.GeoDataFrame, shown: gpd.GeoDataFrame,
                     labels: Mapping[str, str], issues: pd.DataFrame) -> dict[str, Path]:
    """The week's Excel ledger (of ``view``, the ledger's view of the week), charts, GeoPackage
    and validation CSV (a publishing task)."""
    from .ledger.excel import write_workbook
    from .publish.charts import status_department_chart, trend_chart
    from .validate.report import write_issues

    files = {"excel": write_workbook(view, folder / name["excel"], week=week, as_of=as_of,
                                     map_href=name["map_internal"])}
    files["chart_status"] = status_department_chart(
        view, folder / name["chart_status"], labels=labels, title=f"{week} 各部门问题数（按状态）")
    files["chart_trend"] = trend_chart(ledger.status_counts(until=week),
                                       folder / name["chart_trend"],
                                       labels=labels, title="各周问题数变化")
    _write_gpkg(folder / name["gpkg"], view, shown)
    files["gpkg"] = folder / name["gpkg"]
    files["validation"] = write_issues(issues, folder / name["validation"])
    return files


def _released(task: Callable[[], Any]) -> Callable[[], Any]:
    """``task`` followed by :func:`~zlgis.workers.release_memory` (its buffers freed before the
    next step's, when it runs in this process)."""
    def run() -> Any:
        out = task()
        release_memory()
        return out
    return run


def publish_week(ledger: Ledger, week: str, folder: str | os.PathLike[str], *,
                 catalog: Catalog, layers: Mapping[str, gpd.GeoDataFrame],
                 public_folder: str | os.PathLike[str] | None = None,
                 issues: pd.DataFrame | None = None,
                 skipped: Sequence[str] = (),
                 context: Mapping[str, MapContext] | None = None,
                 tiled: list[str] | None = None, jobs: int | None = None,
                 keep_layers: bool = True) -> dict[str, Path]:
    """Write the week's outputs into ``folder`` (normally the temporary folder of the run).

    What may be published (the public map, :data:`PUBLIC_OUTPUTS`) goes into ``public_folder``
    (``folder/public`` when not given), never beside the internal files. ``issues`` is the
    validation report of the layers (:func:`load_inputs`), written as CSV; ``skipped`` the lines
    naming the rules not checked (shown on the summary page); ``context`` the maps' context
    (:func:`map_context`, computed from ``layers`` when not given). The layers written as vector
    tiles are listed on the summary page and, one Chinese line each, appended to ``tiled``; their
    archives are in the returned files as ``tiles:<layer>`` and ``tiles_public:<layer>``.
    The vector tiles, the documents (Excel ledger, charts, GeoPackage, validation CSV) and the
    portal's data are written by worker processes (``jobs``,
    :func:`zlgis.workers.resolve_jobs`) while this process builds the maps; the files do not
    depend on the number of processes. With ``keep_layers`` false, ``layers`` (a dict) is
    emptied once the maps are built: what only it holds (the layers drawn as vector tiles) is
    freed while the workers finish instead of after the run (the frees copy the pages the
    tiles' worker still shares, +290 MB on the 1M-building city, below the checks' peak, for
    0.4 s less at the end).
    """
    from .publish.summary import write_summary
    from .publish.tile_maps import tiled_layer_ids, write_week_tiles
    from .validate.report import empty_issues

    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    public_folder = Path(public_folder) if public_folder is not None else folder / PUBLIC_DIR
    public_folder.mkdir(parents=True, exist_ok=True)
    labels = status_labels()
    info = ledger.run_info(week)
    as_of = info["as_of"].isoformat() if info else ""
    view = ledger.view(week)
    shown = _map_frame(view, labels)
    name = {k: v.format(week=week) for k, v in OUTPUT_FILES.items()}
    issues = issues if issues is not None else empty_issues()
    context = context if context is not None else map_context(layers, catalog)
    titled = _titled(shown)  # what the maps and the portal show
    tasks: list[Callable[[], Any]] = [
        _released(lambda: _write_documents(ledger, week, as_of, folder, name, view, shown,
                                           labels, issues)),
        _released(lambda: write_week_tiles(folder, public_folder, layers, catalog=catalog,
                                           ledger_view=view)),
        lambda: _write_portal_data(public_folder, titled, context["public"], catalog, week)]
    maps: dict[str, Path] = {}
    names = {p: {k: layers[k] for k in ids}
             for p, ids in tiled_layer_ids(layers, catalog=catalog).items()}

    with forked(tasks, jobs=resolve_jobs(jobs)) as (documents, tiles_future, portal):
        _kill_point("publishing")

        def built() -> None:  # a worker writes the tiles from its own copy of the layers
            if not (keep_layers or isinstance(tiles_future, Done)) and isinstance(layers, dict):
                layers.clear()
                names.clear()
                release_memory()

        _write_maps(folder, public_folder, context, titled, catalog, week, maps,
                    tiles=tiles_future, names=names, on_built=built)
        files = documents.result()
        tiles = tiles_future.result()
        files["portal_data"] = portal.result()
    files.update(maps)
    lines = _tile_lines(tiles, week, files)
    if tiled is not None:
        tiled += lines
    weeks = [w for w in ledger.weeks() if w < week]
    overdue = view[view["status"] == "overdue"].sort_values(["deadline", "finding_id"])
    write_summary(
        folder / name["summary"], week=week, as_of=as_of, metrics=_metrics(ledger, week) or {},
        previous=_metrics(ledger, weeks[-1] if weeks else None),
        departments=_department_table(view), by_type=_type_table(view), status_labels=labels,
        city=catalog.city, skipped=skipped, tiled=lines,
        overdue=[{"finding_id": r.finding_id, "title": r.title, "grid_id": r.grid_id,
                  "deadline": r.deadline,
                  "lead": "、".join(department_name(c) for c in str(r.lead_department).split(";")
                                   if c)} for r in overdue.itertuples()],
        charts=[(name["chart_status"], "各部门问题数（按状态）"),
                (name["chart_trend"], "各周问题数变化")],
        links=[(name["excel"], "Excel 台账（各部门一个工作表，可填写整改情况后导入）"),
               (name["map_internal"], "内部地图（工作人员使用）"),
               (f"../{PUBLIC_DIR}/{week}/{name['map_public']}",
                f"公众地图（可公开发布，在 {PUBLIC_DIR}/{week}/ 中）"),
               (name["gpkg"], "问题数据（GeoPackage，可在 GIS 软件中打开）"),
               (name["validation"], f"图层校验报告（{len(issues)} 条：已剔除或修复的数据行）")])
    files["summary"] = folder / name["summary"]
    return files


def _cut_maps(early: EarlyChecks, layers: Mapping[str, gpd.GeoDataFrame], catalog: Catalog,
              out: dict[str, Any]) -> None:
    """What the weekly run does while the workers run the checks (:func:`run_checks`
    ``meanwhile``): the early worker is let go once its checks end (its memory back before the
    main stage's peak), and the maps' layers are cut into ``out`` (``context``,
    :func:`map_context`; ``big``, the layers the maps draw as vector tiles). folium and the
    map modules are imported here, beside the checks, not on the loading's path (0.1 s)."""
    importlib.import_module(".publish.tile_maps", __package__)
    early.close()
    out["context"] = map_context(layers, catalog)
    out["big"] = _tile_frames(layers, catalog)


def _tile_lines(tiles: Mapping[str, Sequence[Any]], week: str, files: dict[str, Path]
                ) -> list[str]:
    """One Chinese line per layer written as vector tiles (its size, the threshold and its
    archives, relative to the output folder); the archives go into ``files``."""
    from .publish.tiles import tile_config

    limit = int(tile_config()["min_features"])
    where: dict[str, list[str]] = {}
    first: dict[str, Any] = {}
    for profile, prefix, label in (("internal", f"{week}/", "内部地图"),
                                   ("public", f"{PUBLIC_DIR}/{week}/", "公众地图")):
        for t in tiles.get(profile, []):
            first.setdefault(t.key, t)
            files[f"tiles{'' if profile == 'internal' else '_public'}:{t.key}"] = t.tileset.path
            where.setdefault(t.key, []).append(f"{label} {prefix}{t.href}")
    return [f"{t.title}（{t.features:,} 个要素，超过 {limit:,} 个）未嵌入地图页面，以矢量瓦片显示："
            f"{'；'.join(where[k])}" for k, t in first.items()]


def _catalog_bytes(catalog: Catalog) -> int | None:
    """Size of the catalog's layer files (None when a layer is read from a database)."""
    total = 0
    for spec in catalog.layers.values():
        if spec.database:
            return None
        if spec.path is not None and spec.path.is_file():
            total += spec.path.stat().st_size
    return total


def _recover_outputs(out: Path) -> None:
    """Tidy the output folder and its public folder after a killed run: restore a week folder
    caught mid-rename, drop temporary folders."""
    for folder in (out, out / PUBLIC_DIR):
        for old in folder.glob(".*.old"):
            target = folder / old.name[1:-4]
            if old.is_dir() and not target.exists():
                os.replace(old, target)
            elif old.is_dir():
                shutil.rmtree(old, ignore_errors=True)
        for tmp in folder.glob(".*.tmp"):
            if tmp.is_dir():
                shutil.rmtree(tmp, ignore_errors=True)


# -------------------------------------------------------------------------------------- run
def run_weekly(catalog: Catalog | str | os.PathLike[str] | None, out: str | os.PathLike[str], *,
               week: str | None = None, as_of: str | dt.date | None = None,
               ledger_path: str | os.PathLike[str] | None = None,
               checks: Mapping[str, CheckFunc] | Sequence[str] | None = None,
               quiet: bool = True, jobs: int | None = None) -> WeeklyResult:
    """Run the weekly job: load, check, merge into the ledger, publish ``out/<week>/``.

    Parameters
    ----------
    catalog : Catalog or path
        The layer catalog (default: ``$ZLGIS_CATALOG`` or ``layers/catalog.yaml``).
    out : path-like
        Output folder; the ledger is ``out/ledger.sqlite`` unless ``ledger_path`` is given.
    week, as_of : optional
        The week to run (see :func:`resolve_week`).
    checks : mapping or sequence, optional
        Checks to run (names of :data:`zlgis.analysis.CHECKS`, or name -> function); default all.
    jobs : int, optional
        Processes for the checks and the publishing steps
        (:func:`zlgis.workers.resolve_jobs`; default ``run.jobs`` of ``ledger.yaml``, 0 = one
        per CPU, one for a small city). Outputs do not depend on it.

    Raises
    ------
    LockedError
        Another run or import holds the ledger's lock.
    LayerError
        A layer is missing or unreadable (the ledger is not touched).
    """
    progress = Progress(quiet=quiet)
    week, as_of_date = resolve_week(week, as_of)
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    ledger_path = ledger_target(ledger_path, out)
    if not isinstance(catalog, Catalog):
        catalog = Catalog.load(catalog)
    timings: dict[str, float] = {}
    clock = time.perf_counter()
    jobs = resolve_jobs(jobs, data_bytes=_catalog_bytes(catalog))

    def lap(stage: str) -> None:
        nonlocal clock
        clock, before = time.perf_counter(), clock
        timings[stage] = round(clock - before, 3)
        _kill_point(stage)

    # a PostgreSQL ledger serialises its writers itself; the lock then guards the output folder
    tiled: list[str] = []
    with run_lock(out / "weekly" if isinstance(ledger_path, str) else ledger_path), \
            _allocator(catalog):
        _kill_point("locked")
        _recover_outputs(out)
        check_times: dict[str, float] = {}
        skipped: list[str] = []
        skipped_ids: list[str] = []
        maps: dict[str, Any] = {}
        with EarlyChecks(catalog, checks, as_of=as_of_date, jobs=jobs) as early:
            loaded, issues = load_inputs(catalog, progress=progress, last=early.late,
                                         before_last=early.start)
            points_by_coordinates(loaded, catalog, checks)
            release_memory()  # what reading and validating freed: the checks' peaks come on top
            lap("loaded")  # (the early checks ran or started meanwhile)
            early.stop_waiting()
            findings, ran = run_checks(catalog, loaded, as_of=as_of_date, checks=checks,
                                       progress=progress, timings=check_times, skipped=skipped,
                                       skipped_ids=skipped_ids, jobs=jobs, early=early.futures,
                                       last=early.handed_back,
                                       meanwhile=lambda: _cut_maps(early, loaded, catalog, maps))
        # keep only what the maps draw: the large layers (buildings ...) are freed here
        context = maps.pop("context")
        layers = {k: v for part in context.values() for k, v in part.items()}
        layers.update(maps.pop("big"))  # freed by publish_week once the maps are built
        # emptied, not just dropped: a frame of a check that a library keeps alive (an
        # exception's traceback kept at import) would keep every layer through publishing
        loaded.clear()
        release_memory(collect=True)
        lap("checked")
        timings.update(check_times)
        progress.step(f"更新台账 {ledger_path}（{week}，发现问题 {len(findings)} 个）")
        ledger = Ledger(ledger_path)
        merge = ledger.merge(findings, week=week, as_of=as_of_date, checks_run=ran,
                             rules_skipped=skipped_ids, hook=_kill_point)
        lap("merged")
        progress.step(f"输出 {out / week}")
        public = out / PUBLIC_DIR
        try:
            # the public tree is renamed into place after the internal one: each is whole
            with atomic_dir(public / week) as pub_tmp, atomic_dir(out / week) as tmp:
                for d in (pub_tmp, tmp):
                    os.chmod(d, 0o755)  # mkdtemp makes it private; the week folder is shared
                files = publish_week(ledger, week, tmp, catalog=catalog, layers=layers,
                                     public_folder=pub_tmp, issues=issues, skipped=skipped,
                                     context=context, tiled=tiled, jobs=jobs, keep_layers=False)
        except OSError as exc:
            raise StorageError(
                f"本周输出写入失败：{os_reason(exc)}；台账已记录 {week} 的结果，以前各周的输出"
                f"未改变；处理后重新运行 {week} 即可得到完整输出", path=str(out / week)) from None
        moved = ((Path(pub_tmp), public / week), (Path(tmp), out / week))
        files = {k: next(dst / p.relative_to(src) for src, dst in moved
                         if p.is_relative_to(src)) for k, p in files.items()}
        lap("published")
    return WeeklyResult(week=week, as_of=as_of_date, folder=out / week, ledger_path=ledger_path,
                        merge=merge, files=files, timings=timings, skipped=skipped,
                        tiled=tiled)
