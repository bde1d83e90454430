"""The ledger's SQLite backend: one file, one ``BEGIN IMMEDIATE`` transaction per write.

The default for one machine (``OUT/ledger.sqlite``). :class:`zlgis.ledger.store.Ledger` talks to
it (and to :mod:`zlgis.ledger.db_postgres`) through the same small interface: ``connect()`` and
``transaction()`` yield a :class:`Conn` whose ``q`` / ``run`` / ``many`` take SQL with ``?``
placeholders; ``write_findings`` and ``write_history`` load a week's rows in bulk.
"""

from __future__ import annotations

import contextlib
import os
import sqlite3
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from ..errors import LedgerError, StorageError, ZlgisError
from ..findings import FINDING_COLUMNS

__all__ = ["SqliteDB", "Conn", "SCHEMA_VERSION", "HISTORY_COLUMNS", "finding_rows", "plain_values"]

SCHEMA_VERSION = "1"
_FIELD_SQL = {"measure": "REAL", "public": "INTEGER"}

_SCHEMA = [
    "CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL)",
    "CREATE TABLE IF NOT EXISTS findings (" + ", ".join(
        [f'"{c}" {_FIELD_SQL.get(c, "TEXT")}' + (" PRIMARY KEY" if c == "finding_id" else "")
         for c in FINDING_COLUMNS] + ['"geometry" BLOB']) + ")",
    """CREATE TABLE IF NOT EXISTS history (
        week TEXT NOT NULL, finding_id TEXT NOT NULL, status TEXT NOT NULL,
        computed_status TEXT NOT NULL, event TEXT NOT NULL, computed_event TEXT NOT NULL,
        present INTEGER NOT NULL, deadline TEXT, PRIMARY KEY (week, finding_id))""",
    "CREATE INDEX IF NOT EXISTS history_id ON history (finding_id)",
    """CREATE TABLE IF NOT EXISTS runs (
        week TEXT PRIMARY KEY, as_of TEXT NOT NULL, checks TEXT NOT NULL, n_found INTEGER)""",
    """CREATE TABLE IF NOT EXISTS staff (
        finding_id TEXT PRIMARY KEY, staff_status TEXT, note TEXT, photo TEXT,
        edited_week TEXT)""",
    """CREATE TABLE IF NOT EXISTS imports (
        seq INTEGER PRIMARY KEY AUTOINCREMENT, week TEXT, file TEXT, sha1 TEXT,
        n_changed INTEGER)""",
]

#: The history table's columns, in the order ``write_history`` takes them.
HISTORY_COLUMNS = ("week", "finding_id", "status", "computed_status", "event", "computed_event",
                   "present", "deadline")


class Conn:
    """A connection with three verbs, SQL with ``?`` placeholders."""

    def __init__(self, con: Any) -> None:
        self.con = con

    def q(self, sql: str, params: Sequence[Any] = ()) -> list[tuple]:
        """Rows of a query."""
        return self.con.execute(sql, tuple(params)).fetchall()

    def one(self, sql: str, params: Sequence[Any] = ()) -> Any:
        """First column of the first row (None when no row)."""
        rows = self.q(sql, params)
        return rows[0][0] if rows else None

    def run(self, sql: str, params: Sequence[Any] = ()) -> None:
        """Execute a statement."""
        self.con.execute(sql, tuple(params))

    def many(self, sql: str, rows: Sequence[Sequence[Any]]) -> None:
        """Execute a statement for each row."""
        self.con.executemany(sql, rows)


def finding_rows(findings: Any) -> pd.DataFrame:
    """The findings columns as stored: text ('' for missing), measure float, public 0/1."""
    cols = list(FINDING_COLUMNS)
    df = pd.DataFrame(findings[cols]).copy()
    df["measure"] = pd.to_numeric(df["measure"], errors="coerce").astype(float)
    df.loc[~np.isfinite(df["measure"].to_numpy()), "measure"] = np.nan
    df["public"] = df["public"].fillna(False).astype(bool).astype(int)
    for c in cols:
        if c not in ("measure", "public"):
            df[c] = df[c].fillna("").astype(str)
    return df


def plain_values(column: pd.Series) -> list[Any]:
    """A column as a list of Python values, None for missing (NaN, None, NA)."""
    values = column.to_numpy(dtype=object)
    missing = pd.isna(values)
    if missing.any():
        values = values.copy()
        values[missing] = None
    return values.tolist()


class SqliteDB:
    """The ledger file (SQLite)."""

    kind = "sqlite"
    geom_select = "f.geometry"

    def __init__(self, path: str | os.PathLike[str], *, create: bool = True) -> None:
        self.path = Path(path)
        self.target = str(self.path)
        if not self.path.exists():
            if not create:
                raise LedgerError("台账文件不存在", path=str(self.path))
            self.path.parent.mkdir(parents=True, exist_ok=True)
        with self.transaction() as con:
            for sql in _SCHEMA:
                con.run(sql)
            version = con.one("SELECT value FROM meta WHERE key='schema_version'")
            if version is None:
                con.run("INSERT INTO meta VALUES ('schema_version', ?)", (SCHEMA_VERSION,))
                con.run("INSERT INTO meta VALUES ('kind', 'zlgis-ledger')")
            elif version != SCHEMA_VERSION:
                raise LedgerError(f"台账版本 {version} 与程序版本 {SCHEMA_VERSION} 不符",
                                  path=str(self.path))

    @contextlib.contextmanager
    def connect(self) -> Iterator[Conn]:
        """A connection (autocommit reads)."""
        try:
            con = sqlite3.connect(self.path, isolation_level=None, timeout=30)
        except sqlite3.Error as exc:
            raise self.error(exc) from None
        try:
            con.execute("PRAGMA journal_mode=DELETE")
            con.execute("PRAGMA synchronous=FULL")
            yield Conn(con)
        except sqlite3.Error as exc:
            raise self.error(exc) from None
        finally:
            con.close()

    @contextlib.contextmanager
    def transaction(self) -> Iterator[Conn]:
        """One write transaction (``BEGIN IMMEDIATE``: one writer at a time)."""
        with self.connect() as conn:
            con = conn.con
            con.execute("BEGIN IMMEDIATE")
            try:
                yield conn
            except BaseException:
                if con.in_transaction:  # SQLite rolls back by itself on a full disk
                    con.execute("ROLLBACK")
                raise
            con.execute("COMMIT")

    def error(self, exc: sqlite3.Error) -> ZlgisError:
        """The user's message for an SQLite error: a full or read-only disk is not corruption."""
        name = getattr(exc, "sqlite_errorname", "") or ""
        reasons = {"SQLITE_FULL": "磁盘空间不足", "SQLITE_IOERR": "磁盘读写错误",
                   "SQLITE_READONLY": "台账文件或其文件夹为只读", "SQLITE_PERM": "没有写入权限",
                   "SQLITE_CANTOPEN": "无法打开（文件夹不存在、只读或没有权限）",
                   "SQLITE_BUSY": "台账正被其他程序占用"}
        for prefix, reason in reasons.items():
            if name.startswith(prefix):
                return StorageError(f"台账写入失败：{reason}（台账未改变）", path=str(self.path))
        if name.startswith(("SQLITE_CORRUPT", "SQLITE_NOTADB")):
            return LedgerError(f"台账文件损坏或不是 zlgis 台账：{exc}", path=str(self.path))
        return LedgerError(f"台账操作失败：{exc}", path=str(self.path))

    # -------------------------------------------------------------------------- bulk writes
    def write_findings(self, conn: Conn, findings: Any, crs: str | None) -> None:
        """Insert or replace the week's findings (one ``executemany``)."""
        if not len(findings):
            return
        import shapely

        df = finding_rows(findings)
        columns = [plain_values(df[c]) for c in df.columns]
        columns.append(shapely.to_wkb(np.asarray(findings.geometry.values), hex=False))
        names = ",".join(f'"{c}"' for c in [*df.columns, "geometry"])
        conn.many(f"INSERT OR REPLACE INTO findings ({names}) VALUES "
                  f"({','.join('?' * len(columns))})", list(zip(*columns)))

    def write_history(self, conn: Conn, rows: pd.DataFrame) -> None:
        """Insert a week's history rows (columns :data:`HISTORY_COLUMNS`)."""
        conn.many(f"INSERT INTO history ({', '.join(HISTORY_COLUMNS)}) VALUES "
                  f"({','.join('?' * len(HISTORY_COLUMNS))})",
                  list(zip(*(plain_values(rows[c]) for c in HISTORY_COLUMNS))))

    def upsert_staff(self, conn: Conn, rows: list[tuple]) -> None:
        """Insert or replace staff edits ``(finding_id, staff_status, note, photo, week)``."""
        conn.many("INSERT OR REPLACE INTO staff VALUES (?,?,?,?,?)", rows)
