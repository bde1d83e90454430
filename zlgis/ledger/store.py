"""The ledger store: one SQLite file holding the history of every finding, week by week.

The ledger is never rebuilt: each weekly run merges that week's findings into it inside a single
SQLite transaction, so a run that dies leaves the ledger exactly as the previous run left it.
A finding keeps its ``finding_id`` across weeks; its status each week is one of

========== ========== ==========================================================
code       label      meaning
========== ========== ==========================================================
new        新发现     found for the first time this week
open       未整改     still found, within its deadline
rectified  已整改     no longer found, or reported fixed by staff (Excel import)
reopened   复发       found again after it had been rectified
overdue    已逾期     still found after its deadline
========== ========== ==========================================================

Deadlines come from the rules of ``zlgis/config/ledger.yaml`` (taken from the 2022 campaign
plan, e.g. illegal buildings over the red line demolished by 2022-10-31, task 1.3.3; street-lamp
faults repaired within 24 hours, task 2.1.5).

Rerunning a week replaces that week's results (it is recomputed from the week before), so a rerun
of the same week on the same data gives the same ledger. Weeks older than the latest one cannot be
rerun (their successors were computed from them).

Examples
--------
>>> import tempfile, pathlib
>>> from shapely.geometry import Point
>>> from zlgis.findings import make_findings
>>> f = make_findings(rule="red_line_encroachment", feature_ids=[["B1", "R1"]],
...                   layer="buildings", geometry=[Point(0, 0)])
>>> led = Ledger(pathlib.Path(tempfile.mkdtemp()) / "ledger.sqlite")
>>> r = led.merge(f, week="2022-W35", checks_run=["controllines"])
>>> led.view()["status"].tolist(), led.view()["deadline"].tolist()
(['new'], ['2022-10-31'])
>>> r = led.merge(f.iloc[:0], week="2022-W36", checks_run=["controllines"])
>>> led.view()["status"].tolist()
['rectified']
"""

from __future__ import annotations

import contextlib
import datetime as dt
import os
import re
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from ..config import load_config
from ..crs import WORKING_CRS
from ..errors import ConfigError, InputError, LedgerError
from ..findings import FINDING_COLUMNS
from ..rules import find_rule
from .db_sqlite import SqliteDB

__all__ = [
    "STATUSES",
    "LEDGER_COLUMNS",
    "Ledger",
    "MergeResult",
    "status_labels",
    "status_code",
    "week_of",
    "week_end",
    "parse_week",
    "deadline_for",
    "deadlines_for",
    "overdue_mask",
    "open_db",
]

#: Status codes, in the order reports list them.
STATUSES: tuple[str, ...] = ("new", "open", "reopened", "overdue", "rectified")

#: Columns the ledger adds to the findings columns in :meth:`Ledger.view`.
LEDGER_COLUMNS: tuple[str, ...] = (
    "week", "status", "event", "present", "first_seen", "last_seen", "deadline",
    "reopen_count", "staff_status", "note", "photo",
)

_WEEK_RE = re.compile(r"^(\d{4})-W(\d{2})$")


# --------------------------------------------------------------------------------------- weeks
def week_of(day: dt.date) -> str:
    """ISO week label of a date.

    >>> week_of(dt.date(2022, 9, 4))
    '2022-W35'
    """
    iso = day.isocalendar()
    return f"{iso[0]:04d}-W{iso[1]:02d}"


def parse_week(text: str) -> str:
    """Check an ISO week label (``2022-W35``) and return it normalised.

    >>> parse_week("2022-w5")
    '2022-W05'
    """
    m = re.match(r"^\s*(\d{4})-?[Ww](\d{1,2})\s*$", str(text))
    if not m:
        raise InputError(f"周次 {text!r} 格式不对，应写成 2022-W35")
    year, week = int(m.group(1)), int(m.group(2))
    try:
        dt.date.fromisocalendar(year, week, 7)
    except ValueError:
        raise InputError(f"周次 {text!r} 不存在（{year} 年没有第 {week} 周）") from None
    return f"{year:04d}-W{week:02d}"


def week_end(week: str) -> dt.date:
    """Last day (Sunday) of an ISO week: the ``as_of`` date of that week's run.

    >>> week_end("2022-W35")
    datetime.date(2022, 9, 4)
    """
    m = _WEEK_RE.match(parse_week(week))
    assert m is not None
    return dt.date.fromisocalendar(int(m.group(1)), int(m.group(2)), 7)


# ------------------------------------------------------------------------------------ statuses
def _config() -> dict[str, Any]:
    cfg = load_config("ledger")
    for key in ("statuses", "deadlines"):
        if key not in cfg:
            raise ConfigError(f"ledger.yaml 缺少 {key} 部分")
    return cfg


def status_labels() -> dict[str, str]:
    """Chinese label of every status code (from ``ledger.yaml``).

    >>> status_labels()["overdue"]
    '已逾期'
    """
    labels = _config()["statuses"]
    missing = [s for s in STATUSES if s not in labels]
    if missing:
        raise ConfigError(f"ledger.yaml 的 statuses 缺少 {missing}")
    return {s: str(labels[s]) for s in STATUSES}


def status_code(text: Any) -> str | None:
    """Status code for a label, alias or code as staff may type it; None when unknown.

    >>> status_code(" 已整改 "), status_code("rectified"), status_code("修好了")
    ('rectified', 'rectified', None)
    """
    value = str(text or "").strip()
    if value in STATUSES:
        return value
    for code, label in status_labels().items():
        if value == label:
            return code
    aliases = _config().get("status_aliases") or {}
    return aliases.get(value)


# ----------------------------------------------------------------------------------- deadlines
def deadline_for(row: dict[str, Any], found_on: dt.date, config: dict[str, Any] | None = None
                 ) -> str:
    """Deadline of a finding first found (or found again) in the week ending ``found_on``.

    The finding's rule gives its deadline in the rule registry (:mod:`zlgis.rules`); rules
    without one take ``ledger.yaml``'s ``deadlines.default``. Returns ISO text: a date
    (``2022-10-31``) or, for hour rules, a time (``2022-09-02T08:30``).

    >>> deadline_for({"rule": "red_line_encroachment"}, dt.date(2022, 9, 4))
    '2022-10-31'
    >>> deadline_for({"rule": "no_parking_zone"}, dt.date(2022, 9, 4))
    '2022-09-11'
    >>> deadline_for({"rule": "depression"}, dt.date(2022, 9, 4))
    '2022-10-04'
    """
    spec = find_rule(str(row.get("rule", "")))
    rule = (spec.deadline if spec is not None else None) or (config or _config())["deadlines"].get("default") or {}
    if "date" in rule:
        return dt.date.fromisoformat(str(rule["date"])).isoformat()
    if "hours" in rule:
        start = (_parse_time(row.get("observed_at"))
                 or dt.datetime.combine(found_on, dt.time(23, 59)))
        return (start + dt.timedelta(hours=float(rule["hours"]))).strftime("%Y-%m-%dT%H:%M")
    return (found_on + dt.timedelta(days=int(rule["days"]))).isoformat()


def _parse_time(value: Any) -> dt.datetime | None:
    text = str(value or "").strip()
    if not text:
        return None
    try:
        t = dt.datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        return None
    return t.replace(tzinfo=None)


def _is_overdue(deadline: str | None, as_of: dt.date) -> bool:
    if not deadline:
        return False
    if "T" in deadline:
        limit = _parse_time(deadline)
        return limit is not None and dt.datetime.combine(as_of, dt.time(23, 59, 59)) > limit
    return as_of > dt.date.fromisoformat(deadline)


# -------------------------------------------------------------------------------------- ledger
@dataclass
class MergeResult:
    """What a weekly merge did: counts of events and statuses for the week."""

    week: str
    as_of: dt.date
    previous_week: str | None
    n_found: int
    events: dict[str, int] = field(default_factory=dict)
    statuses: dict[str, int] = field(default_factory=dict)


def _crs_text(crs: Any) -> str | None:
    if crs is None:
        return None
    import pyproj

    c = pyproj.CRS(crs)
    code = c.to_epsg()
    return f"EPSG:{code}" if code else c.to_wkt()


def open_db(target: str | os.PathLike[str], *, create: bool = True) -> Any:
    """The backend for a ledger target: a ``postgresql://`` URL or an SQLite file path."""
    from ..io.pgconn import is_pg_url

    if is_pg_url(target):
        from .db_postgres import PostgresDB

        return PostgresDB(str(target), create=create)
    return SqliteDB(target, create=create)


class Ledger:
    """The ledger: an SQLite file (default) or a PostgreSQL database, chosen by ``target``.

    Parameters
    ----------
    target : path-like or str
        The ledger file (``DIR/ledger.sqlite`` for the weekly run), or the URL of a PostgreSQL
        database (``postgresql://user@host:5432/dbname``; the password from ``PGPASSWORD`` or
        the pgpass file). The schema is created (migrated) on first use.
    create : bool
        Create the file (or the schema) when absent; otherwise a missing ledger is an error.
    """

    def __init__(self, target: str | os.PathLike[str], *, create: bool = True) -> None:
        self._db = open_db(target, create=create)
        self.kind: str = self._db.kind
        #: What messages and outputs name: the file path, or the URL (never with a password).
        self.path: Any = self._db.path

    @contextlib.contextmanager
    def _connect(self) -> Iterator[Any]:
        with self._db.connect() as con:
            yield con

    @contextlib.contextmanager
    def _transaction(self) -> Iterator[Any]:
        with self._db.transaction() as con:
            yield con

    # ---------------------------------------------------------------------------- queries
    def weeks(self) -> list[str]:
        """Weeks merged into the ledger, oldest first."""
        with self._connect() as con:
            return [r[0] for r in con.q("SELECT week FROM runs ORDER BY week")]

    def latest_week(self) -> str | None:
        """The most recent week merged, or None for an empty ledger."""
        weeks = self.weeks()
        return weeks[-1] if weeks else None

    def run_info(self, week: str) -> dict[str, Any] | None:
        """``as_of``, checks run and number found for a merged week."""
        with self._connect() as con:
            rows = con.q("SELECT as_of, checks, n_found FROM runs WHERE week=?", (week,))
        if not rows:
            return None
        row = rows[0]
        return {"week": week, "as_of": dt.date.fromisoformat(row[0]),
                "checks": [c for c in row[1].split(";") if c], "n_found": row[2]}

    def view(self, week: str | None = None) -> gpd.GeoDataFrame:
        """Every finding in the ledger with its status in ``week`` (default: the latest).

        Columns: :data:`~zlgis.findings.FINDING_COLUMNS`, :data:`LEDGER_COLUMNS`, geometry;
        sorted by ``finding_id``.
        """
        week = week or self.latest_week()
        cols = [f'f."{c}"' for c in FINDING_COLUMNS]
        sql = f"""
            WITH agg AS (
                SELECT finding_id,
                       MIN(CASE WHEN present = 1 THEN week END) AS first_seen,
                       MAX(CASE WHEN present = 1 THEN week END) AS last_seen,
                       SUM(CASE WHEN event = 'reopened' THEN 1 ELSE 0 END) AS reopen_count
                FROM history WHERE week <= ? GROUP BY finding_id)
            SELECT {", ".join(cols)}, h.week, h.status, h.event, h.present, a.first_seen,
                   a.last_seen, h.deadline, a.reopen_count, s.staff_status, s.note, s.photo,
                   {self._db.geom_select}
            FROM history h JOIN findings f ON f.finding_id = h.finding_id
            JOIN agg a ON a.finding_id = h.finding_id
            LEFT JOIN staff s ON s.finding_id = h.finding_id
            WHERE h.week = ? ORDER BY h.finding_id"""
        with self._connect() as con:
            rows = con.q(sql, (week or "", week or ""))
        names = [*FINDING_COLUMNS, *LEDGER_COLUMNS, "geometry"]
        df = pd.DataFrame(rows, columns=names)
        geoms = shapely.from_wkb(df.pop("geometry").to_numpy()) if len(df) else []
        for c in ("present", "public"):
            df[c] = df[c].fillna(0).astype(bool)
        df["reopen_count"] = df["reopen_count"].fillna(0).astype(int)
        df["measure"] = df["measure"].astype(float)
        for c in ("staff_status", "note", "photo"):
            df[c] = df[c].fillna("").astype(str)
        crs = self.crs
        return gpd.GeoDataFrame(df, geometry=gpd.GeoSeries(geoms, crs=crs).values, crs=crs)

    @property
    def crs(self) -> str:
        """The working CRS of the ledger's geometries (set by the first merge; EPSG:4550 for
        ledgers written before it was recorded)."""
        with self._connect() as con:
            value = con.one("SELECT value FROM meta WHERE key='crs'")
        return value if value else WORKING_CRS

    def status_counts(self, until: str | None = None) -> pd.DataFrame:
        """Findings per week and status (rows: weeks up to ``until``; columns: statuses)."""
        with self._connect() as con:
            rows = con.q("SELECT week, status, COUNT(*) FROM history WHERE week <= ? "
                         "GROUP BY week, status", (until or "9999",))
        df = pd.DataFrame(rows, columns=["week", "status", "n"])
        df["n"] = df["n"].astype(int)
        table = df.pivot_table(index="week", columns="status", values="n", aggfunc="sum",
                               fill_value=0)
        return table.reindex(columns=list(STATUSES), fill_value=0).sort_index().astype(int)

    def event_counts(self, week: str) -> dict[str, int]:
        """Events of a week: new, reopened, rectified, staff_rectified, overdue (newly)."""
        with self._connect() as con:
            rows = con.q("SELECT event, COUNT(*) FROM history WHERE week=? AND event != '' "
                         "GROUP BY event", (week,))
        return {e: int(n) for e, n in rows}

    # ------------------------------------------------------------------------------ merge
    def merge(self, findings: gpd.GeoDataFrame, *, week: str, as_of: dt.date | None = None,
              checks_run: Iterable[str] | None = None,
              rules_skipped: Iterable[str] = (),
              hook: Callable[[str], None] | None = None) -> MergeResult:
        """Merge one week's findings into the ledger, in one transaction.

        Parameters
        ----------
        findings : GeoDataFrame
            All findings of the week (columns of :data:`~zlgis.findings.FINDING_COLUMNS`).
        week : str
            ISO week label; must not be older than the latest week in the ledger.
        as_of : datetime.date, optional
            The date the week's findings describe (default: the week's Sunday).
        checks_run : iterable of str, optional
            Checks that ran this week. Only findings of these checks can become rectified; the
            others keep their status (default: the checks present in ``findings``).
        rules_skipped : iterable of str
            Rules of those checks that could not run this week (a layer or field was missing):
            their findings keep their status too, instead of being marked rectified.
        hook : callable, optional
            Called with a stage name inside the transaction (used by the kill test).
        """
        week = parse_week(week)
        as_of = as_of or week_end(week)
        checks = sorted(set(checks_run) if checks_run is not None
                        else set(findings["check"].astype(str)))
        if findings["finding_id"].duplicated().any():
            dup = findings.loc[findings["finding_id"].duplicated(), "finding_id"].iloc[0]
            raise LedgerError(f"本周问题编号重复：{dup}", path=str(self.path))
        cfg = _config()
        crs = _crs_text(findings.crs)
        with self._transaction() as con:
            stored_crs = con.one("SELECT value FROM meta WHERE key='crs'")
            if stored_crs is None and crs:
                con.run("INSERT INTO meta VALUES ('crs', ?)", (crs,))
            elif stored_crs is not None and crs and stored_crs != crs:
                raise LedgerError(f"台账的坐标系为 {stored_crs}，本次检查结果为 {crs}：同一台账须使用"
                                  "同一工作坐标系（请核对图层目录的 working_crs，或另建台账）",
                                  path=str(self.path))
            latest = con.one("SELECT MAX(week) FROM runs")
            if latest is not None and week < latest:
                raise LedgerError(f"周次 {week} 早于台账中最近的周次 {latest}，不能重算已被后续"
                                  f"周次使用的历史；请运行 {latest} 或更晚的周次",
                                  path=str(self.path))
            prev_week = con.one("SELECT MAX(week) FROM runs WHERE week < ?", (week,))
            prev = pd.DataFrame(
                con.q("SELECT h.finding_id, h.status, h.deadline, f.\"check\", f.rule "
                      "FROM history h JOIN findings f ON f.finding_id = h.finding_id "
                      "WHERE h.week = ?", (prev_week or "",)),
                columns=["finding_id", "status", "deadline", "check", "rule"]
            ).set_index("finding_id")
            rows = self._compute(findings, prev, as_of, checks, cfg, set(rules_skipped))
            claimed = [c[0] for c in con.q("SELECT finding_id FROM staff WHERE "
                                           "staff_status='rectified' AND edited_week = ?",
                                           (week,))]
            rows["status"] = rows["computed_status"]
            rows["event"] = rows["computed_event"]
            claimed_set = set(claimed)
            staff = (np.fromiter((f in claimed_set for f in rows.index), dtype=bool,
                                 count=len(rows)) & (rows["computed_status"] != "rectified"))
            rows.loc[staff, "status"] = "rectified"
            rows.loc[staff, "event"] = "staff_rectified"

            con.run("DELETE FROM history WHERE week = ?", (week,))
            self._db.write_findings(con, findings, stored_crs or crs)
            if hook:
                hook("ledger")
            history = rows.reset_index()
            history.insert(0, "week", week)
            history["present"] = history["present"].astype(int)
            self._db.write_history(con, history)
            con.run("DELETE FROM runs WHERE week = ?", (week,))
            con.run("INSERT INTO runs VALUES (?,?,?,?)",
                    (week, as_of.isoformat(), ";".join(checks), int(len(findings))))
            if hook:
                hook("commit")
        events = rows.loc[rows["event"] != "", "event"].value_counts()
        return MergeResult(week=week, as_of=as_of, previous_week=prev_week,
                           n_found=int(len(findings)),
                           events={k: int(v) for k, v in events.sort_index().items()},
                           statuses={s: int((rows["status"] == s).sum()) for s in STATUSES})

    @staticmethod
    def _compute(findings: gpd.GeoDataFrame, prev: pd.DataFrame, as_of: dt.date,
                 checks: list[str], cfg: dict[str, Any],
                 rules_skipped: set[str] = frozenset()) -> pd.DataFrame:  # type: ignore[assignment]
        """Status, event and deadline of every finding this week and of every one in ``prev``
        (the previous week's rows), set-wise (no loop over findings)."""
        # plain object arrays and dicts: pandas' Arrow-backed strings are slow element-wise
        found_ids = findings["finding_id"].to_numpy(dtype=object)
        prev_ids = prev.index.to_numpy(dtype=object)
        ids = np.array(sorted(set(found_ids) | set(prev_ids)), dtype=object)
        n = len(ids)
        at_found = _positions(ids, found_ids)
        at_prev = _positions(ids, prev_ids)
        present = at_found >= 0

        def previous(col: str) -> np.ndarray:
            values = np.full(n, None, dtype=object)
            has = at_prev >= 0
            values[has] = prev[col].to_numpy(dtype=object)[at_prev[has]]
            return values

        ps, deadline = previous("status"), previous("deadline")
        has_prev = np.array([isinstance(v, str) for v in ps], dtype=bool)
        is_new = present & ~has_prev
        is_reopened = present & (ps == "rectified")
        status = np.where(is_new, "new", np.where(is_reopened, "reopened", "open")).astype(object)
        event = np.where(is_new, "new", np.where(is_reopened, "reopened", "")).astype(object)
        no_deadline = np.array([not (isinstance(d, str) and d) for d in deadline], dtype=bool)
        needs = is_new | is_reopened | (present & no_deadline)
        if needs.any():
            rows = at_found[needs]
            observed = (findings["observed_at"].to_numpy(dtype=object)[rows]
                        if "observed_at" in findings else np.full(len(rows), None, dtype=object))
            deadline[needs] = deadlines_for(findings["rule"].to_numpy(dtype=object)[rows],
                                            observed, as_of, cfg)
        overdue = present & overdue_mask(deadline, as_of)
        event[overdue & (event == "") & (ps != "overdue")] = "overdue"
        status[overdue] = "overdue"
        # absent this week: rectified when its check (and rule) ran, else carried over
        absent = ~present
        run = set(checks)
        checked = np.fromiter(((c in run) and (r not in rules_skipped)
                               for c, r in zip(previous("check"), previous("rule"))),
                              dtype=bool, count=n)
        rectified = absent & (ps != "rectified") & checked
        carried = absent & ~rectified
        status[carried] = np.where(np.isin(ps[carried], ["new", "reopened"]), "open", ps[carried])
        status[rectified] = "rectified"
        event[rectified] = "rectified"
        out = pd.DataFrame(index=pd.Index(ids, name="finding_id", dtype=object))
        out["present"] = present
        out["computed_status"] = status
        out["computed_event"] = event
        out["deadline"] = deadline
        return out

    # ------------------------------------------------------------------------- staff edits
    def apply_edits(self, edits: pd.DataFrame, *, export_week: str, source: str = "",
                    sha1: str = "") -> int:
        """Apply staff edits (columns ``finding_id``, ``status``, ``note``, ``photo``).

        ``status`` is the status code staff set, or empty when they left it unchanged; only the
        codes of ``staff_settable`` in ``ledger.yaml`` may be set. ``export_week`` is the week of
        the sheet staff edited: every id must be in it. The edits go to the latest week in one
        transaction; any unknown id or forbidden status refuses them all. Returns the number of
        findings changed. On PostgreSQL a department's role may change only its own findings
        (row-level security): any other refuses the whole import.
        """
        settable = set(_config().get("staff_settable") or ["rectified", "open"])
        labels = status_labels()
        with self._transaction() as con:
            latest = con.one("SELECT MAX(week) FROM runs")
            if latest is None:
                raise LedgerError("台账为空，没有可导入的问题", path=str(self.path))
            exported = dict(con.q("SELECT finding_id, status FROM history WHERE week=?",
                                  (export_week,)))
            if not exported:
                raise LedgerError(f"台账中没有周次 {export_week}", path=str(self.path))
            current = dict(con.q("SELECT finding_id, status FROM history WHERE week=?",
                                 (latest,)))
            staff = {r[0]: r[1:] for r in con.q(
                "SELECT finding_id, staff_status, note, photo FROM staff")}
            unknown = [f for f in edits["finding_id"] if f not in exported]
            if unknown:
                raise LedgerError(f"问题编号 {unknown[0]} 不在 {export_week} 台账中"
                                  f"（共 {len(unknown)} 个未知编号），台账未作任何修改",
                                  path=source or None, field="问题编号")
            upserts: list[tuple] = []
            to_rectify: list[tuple] = []
            to_reopen: list[tuple] = []
            for r in edits.itertuples(index=False):
                fid, status = str(r.finding_id), str(r.status or "")
                note, photo = str(r.note or ""), str(r.photo or "")
                old = staff.get(fid, (None, "", ""))
                claim = old[0]
                if status:
                    if status not in settable:
                        raise LedgerError(
                            f"问题 {fid} 的状态不能人工改为“{labels.get(status, status)}”，"
                            f"只能填写：{'、'.join(labels[s] for s in sorted(settable))}；"
                            "台账未作任何修改", path=source or None, field="状态")
                    claim = status
                if (claim, note, photo) == (old[0], old[1] or "", old[2] or ""):
                    continue
                upserts.append((fid, claim, note, photo, latest))
                if fid not in current:
                    continue
                if claim == "rectified" and current[fid] != "rectified":
                    to_rectify.append((latest, fid))
                elif claim == "open":
                    to_reopen.append((latest, fid))
            if upserts:
                self._db.upsert_staff(con, upserts)
            if to_rectify:
                con.many("UPDATE history SET status='rectified', event='staff_rectified' "
                         "WHERE week=? AND finding_id=?", to_rectify)
            if to_reopen:
                con.many("UPDATE history SET status=computed_status, event=computed_event "
                         "WHERE week=? AND finding_id=?", to_reopen)
            con.run("INSERT INTO imports (week, file, sha1, n_changed) VALUES (?,?,?,?)",
                    (latest, Path(source).name if source else "", sha1, len(upserts)))
        return len(upserts)

    def fingerprint(self) -> str:
        """A hash of the ledger content (history, findings, staff edits): equal ledgers, equal
        fingerprints. Used by tests to check a refused import left the ledger unchanged."""
        import hashlib

        h = hashlib.sha1()
        geom = self._db.geom_select.replace("f.", "")
        cols = {"findings": ", ".join([f'"{c}"' for c in FINDING_COLUMNS] + [geom])}
        with self._connect() as con:
            for table, order in (("runs", "week"), ("history", "week, finding_id"),
                                 ("findings", "finding_id"), ("staff", "finding_id")):
                for row in con.q(f"SELECT {cols.get(table, '*')} FROM {table} ORDER BY {order}"):
                    h.update(repr(tuple(bytes(v) if isinstance(v, memoryview) else v
                                        for v in row)).encode("utf-8"))
        return h.hexdigest()


# ---------------------------------------------------------------------- deadlines, set-wise
def deadlines_for(rules: np.ndarray, observed: np.ndarray, found_on: dt.date,
                  config: dict[str, Any]) -> np.ndarray:
    """:func:`deadline_for` of many findings (their ``rule`` and ``observed_at``): one
    computation per rule, per finding only for hour deadlines."""
    out = np.empty(len(rules), dtype=object)
    rules = np.asarray(rules, dtype=object).astype(str)
    for rule_id in np.unique(rules):
        at = np.flatnonzero(rules == rule_id)
        spec = find_rule(str(rule_id))
        rule = (spec.deadline if spec is not None else None) or config["deadlines"].get("default") \
            or {}
        if "hours" in rule:
            out[at] = [deadline_for({"rule": rule_id, "observed_at": observed[i]}, found_on, config)
                       for i in at]
        else:
            out[at] = deadline_for({"rule": rule_id}, found_on, config)
    return out


def _positions(ids: np.ndarray, among: np.ndarray) -> np.ndarray:
    """Position of each id in ``among`` (-1 when absent)."""
    where = {v: i for i, v in enumerate(among)}
    return np.fromiter((where.get(v, -1) for v in ids), dtype=np.int64, count=len(ids))


def overdue_mask(deadlines: np.ndarray, as_of: dt.date) -> np.ndarray:
    """:func:`_is_overdue` of many deadlines (ISO dates compare as text; times per value)."""
    text = np.array([d if isinstance(d, str) else "" for d in deadlines], dtype=object)
    timed = np.array(["T" in d for d in text], dtype=bool)
    dated = (text != "") & ~timed
    out = np.zeros(len(text), dtype=bool)
    out[dated] = as_of.isoformat() > text[dated]
    if timed.any():
        out[timed] = [_is_overdue(d, as_of) for d in text[timed]]
    return out
