"""The ledger's PostgreSQL backend: a shared ledger on a bureau's database server.

Chosen by giving a ``postgresql://user@host:port/dbname`` URL instead of a file (``--ledger``).
The tables live in the schema ``zlgis`` of that database (PostGIS must be installed there: the
findings keep their geometry as ``geometry`` with the working CRS's SRID). The password comes
from ``PGPASSWORD`` or the pgpass file, never from the URL (:mod:`zlgis.io.pgconn`).

- **Migrations** are versioned SQL files (``zlgis/ledger/migrations/NNNN_name.sql``) applied in
  order, each once, recorded in ``zlgis.schema_version``; by ``zlgis db init`` or on first use.
- **Writers are serialised**: every write transaction (a weekly merge, an Excel import) first
  takes a transaction-level advisory lock, so two departments importing at once both take effect,
  one after the other, and each import sees the other's rows. Readers never wait.
- **One transaction per run**: a killed run or a lost connection leaves nothing (the server rolls
  the transaction back).
- **Bulk writes**: the week's findings are copied (binary ``COPY``) into a temporary table and
  upserted in one statement (rows found again unchanged are left alone); the history rows are
  copied straight into ``history``.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterable, Iterator, Sequence
from importlib import resources
from typing import Any

import numpy as np
import pandas as pd

from ..errors import DatabaseError, LedgerError, ZlgisError
from ..findings import FINDING_COLUMNS
from ..io.pgconn import check_url, connect, pg_error, redact
from .db_sqlite import HISTORY_COLUMNS, finding_rows, plain_values

__all__ = ["PostgresDB", "migrations", "SCHEMA", "LOCK_KEY", "latest_version"]

#: Schema holding the ledger's tables.
SCHEMA = "zlgis"
#: Advisory lock taken by every write transaction (any bigint unique to zlgis).
LOCK_KEY = 0x7A6C676973  # "zlgis"


def migrations() -> list[tuple[int, str, str]]:
    """The migration files in order: ``(version, name, sql)``."""
    out = []
    for entry in resources.files("zlgis.ledger").joinpath("migrations").iterdir():
        name = entry.name
        if name.endswith(".sql") and name[:4].isdigit():
            out.append((int(name[:4]), name[5:-4], entry.read_text(encoding="utf-8")))
    return sorted(out)


def latest_version() -> int:
    """Version of the newest migration shipped."""
    return migrations()[-1][0]


class PgConn:
    """A psycopg connection with the verbs of :class:`zlgis.ledger.db_sqlite.Conn`."""

    def __init__(self, con: Any) -> None:
        self.con = con

    @staticmethod
    def _sql(sql: str) -> str:
        return sql.replace("%", "%%").replace("?", "%s")

    def q(self, sql: str, params: Sequence[Any] = ()) -> list[tuple]:
        """Rows of a query."""
        with self.con.cursor() as cur:
            cur.execute(self._sql(sql), tuple(params))
            return cur.fetchall() if cur.description else []

    def one(self, sql: str, params: Sequence[Any] = ()) -> Any:
        """First column of the first row (None when no row)."""
        rows = self.q(sql, params)
        return rows[0][0] if rows else None

    def run(self, sql: str, params: Sequence[Any] = ()) -> None:
        """Execute a statement."""
        with self.con.cursor() as cur:
            cur.execute(self._sql(sql), tuple(params))

    def many(self, sql: str, rows: Sequence[Sequence[Any]]) -> None:
        """Execute a statement for each row."""
        with self.con.cursor() as cur:
            cur.executemany(self._sql(sql), rows)

    def copy_rows(self, table: str, columns: Sequence[str], types: Sequence[str],
                  rows: Iterable[Sequence[Any]]) -> None:
        """``COPY`` rows into a table in PostgreSQL's binary format (None is NULL, text is
        sent as it is: no quoting or escaping to get wrong)."""
        names = ", ".join(f'"{c}"' for c in columns)
        with self.con.cursor() as cur:
            with cur.copy(f"COPY {table} ({names}) FROM STDIN (FORMAT BINARY)") as cp:
                cp.set_types(list(types))
                for row in rows:
                    cp.write_row(row)


class PostgresDB:
    """The ledger in a PostgreSQL database (schema ``zlgis``)."""

    kind = "postgresql"
    geom_select = "ST_AsBinary(f.geometry)"

    def __init__(self, url: str, *, create: bool = True) -> None:
        self.url = check_url(url, what="台账地址")
        self.target = redact(self.url)
        self.path = self.target  # what messages name
        with self.connect() as conn:
            current = self._version(conn)
        if current is None or current < latest_version():
            if not create and current is None:
                raise LedgerError("数据库中还没有台账（请先运行 zlgis db init 或 zlgis weekly）",
                                  path=self.target)
            self.migrate()
        elif current > latest_version():
            raise LedgerError(f"台账版本 {current} 比程序支持的版本 {latest_version()} 新，"
                              "请升级 zlgis", path=self.target)

    # ----------------------------------------------------------------------------- plumbing
    def error(self, exc: BaseException, doing: str = "") -> ZlgisError:
        """The user's message for a driver error."""
        return pg_error(exc, self.url, doing=doing)

    @contextlib.contextmanager
    def connect(self) -> Iterator[PgConn]:
        """A connection with ``search_path`` = zlgis, public (autocommit reads)."""
        import psycopg

        con = connect(self.url, autocommit=True)
        try:
            con.execute(f"SET search_path TO {SCHEMA}, public")
            yield PgConn(con)
        except psycopg.Error as exc:
            raise self.error(exc, "台账读取") from None
        finally:
            with contextlib.suppress(Exception):
                con.close()

    @contextlib.contextmanager
    def transaction(self, doing: str = "台账更新") -> Iterator[PgConn]:
        """One write transaction, after the writers' advisory lock."""
        import psycopg

        con = connect(self.url, autocommit=False)
        try:
            with con.transaction():
                con.execute(f"SET LOCAL search_path TO {SCHEMA}, public")
                con.execute("SELECT pg_advisory_xact_lock(%s)", (LOCK_KEY,))
                yield PgConn(con)
        except psycopg.Error as exc:
            raise self.error(exc, doing) from None
        finally:
            with contextlib.suppress(Exception):
                con.close()

    def _version(self, conn: PgConn) -> int | None:
        exists = conn.one("SELECT to_regclass(?)", (f"{SCHEMA}.schema_version",))
        if exists is None:
            return None
        return conn.one(f"SELECT max(version) FROM {SCHEMA}.schema_version")

    def migrate(self, *, owner: str | None = None) -> list[int]:
        """Apply the migrations not applied yet (in one transaction). ``owner``: role that owns
        the schema and its tables (``SET ROLE`` while creating them). Returns the versions
        applied."""
        import psycopg
        from psycopg import sql as psql

        done: list[int] = []
        con = connect(self.url, autocommit=False)
        try:
            with con.transaction():
                con.execute("SELECT pg_advisory_xact_lock(%s)", (LOCK_KEY,))
                if not con.execute("SELECT 1 FROM pg_extension WHERE extname='postgis'").fetchone():
                    raise DatabaseError("数据库未安装 PostGIS 扩展（请数据库管理员执行 "
                                        "CREATE EXTENSION postgis）", where=self.target)
                if owner:
                    con.execute(psql.SQL("SET LOCAL ROLE {}").format(psql.Identifier(owner)))
                if not con.execute("SELECT 1 FROM pg_namespace WHERE nspname=%s",
                                   (SCHEMA,)).fetchone():
                    con.execute(f"CREATE SCHEMA {SCHEMA}")
                con.execute(f"SET LOCAL search_path TO {SCHEMA}, public")
                con.execute("CREATE TABLE IF NOT EXISTS schema_version (version integer PRIMARY "
                            "KEY, name text NOT NULL, applied_at timestamptz NOT NULL DEFAULT now())")
                applied = {r[0] for r in con.execute("SELECT version FROM schema_version")}
                for version, name, text in migrations():
                    if version in applied:
                        continue
                    con.execute(text)
                    con.execute("INSERT INTO schema_version (version, name) VALUES (%s, %s)",
                                (version, name))
                    done.append(version)
        except psycopg.Error as exc:
            raise self.error(exc, "台账建表") from None
        finally:
            with contextlib.suppress(Exception):
                con.close()
        return done

    # ---------------------------------------------------------------------------- bulk writes
    def write_findings(self, conn: PgConn, findings: Any, crs: str | None) -> None:
        """Upsert the week's findings: ``COPY`` into a temporary table, one ``INSERT ... ON
        CONFLICT DO UPDATE``."""
        if not len(findings):
            return
        import shapely

        srid = _srid(crs)
        df = finding_rows(findings)
        geoms = shapely.set_srid(np.asarray(findings.geometry.values), srid)
        cols = [*FINDING_COLUMNS, "geometry"]
        types = [_PG_TYPES.get(c, "text") for c in FINDING_COLUMNS]
        conn.run("CREATE TEMP TABLE tmp_findings (" + ", ".join(
            f'"{c}" {t}' for c, t in zip(cols, [*types, "bytea"])) + ") ON COMMIT DROP")
        values = [plain_values(df[c]) for c in FINDING_COLUMNS]
        values.append(shapely.to_wkb(geoms, hex=False, include_srid=True).tolist())
        conn.copy_rows("tmp_findings", cols, [*types, "bytea"], zip(*values))
        names = ", ".join(f'"{c}"' for c in cols)
        source = ", ".join([*(f'"{c}"' for c in FINDING_COLUMNS), "ST_GeomFromEWKB(geometry)"])
        rest = [c for c in cols if c not in ("finding_id", "geometry")]
        updates = ", ".join(f'"{c}" = EXCLUDED."{c}"' for c in [*rest, "geometry"])
        # rows found again unchanged are not rewritten (no new row versions, no index updates)
        changed = (f"({', '.join(f'findings.{chr(34)}{c}{chr(34)}' for c in rest)}) IS DISTINCT "
                   f"FROM ({', '.join(f'EXCLUDED.{chr(34)}{c}{chr(34)}' for c in rest)}) OR "
                   "ST_AsEWKB(findings.geometry) IS DISTINCT FROM ST_AsEWKB(EXCLUDED.geometry)")
        conn.run(f"INSERT INTO findings ({names}) SELECT {source} FROM tmp_findings "
                 f"ON CONFLICT (finding_id) DO UPDATE SET {updates} WHERE {changed}")

    def write_history(self, conn: PgConn, rows: pd.DataFrame) -> None:
        """``COPY`` a week's history rows into ``history``."""
        types = ["integer" if c == "present" else "text" for c in HISTORY_COLUMNS]
        values = [plain_values(rows[c]) for c in HISTORY_COLUMNS]
        values[HISTORY_COLUMNS.index("present")] = [int(v) for v in
                                                    values[HISTORY_COLUMNS.index("present")]]
        conn.copy_rows("history", HISTORY_COLUMNS, types, zip(*values))

    def upsert_staff(self, conn: PgConn, rows: list[tuple]) -> None:
        """Insert or replace staff edits ``(finding_id, staff_status, note, photo, week)``."""
        conn.many("INSERT INTO staff (finding_id, staff_status, note, photo, edited_week) "
                  "VALUES (?,?,?,?,?) ON CONFLICT (finding_id) DO UPDATE SET "
                  "staff_status = EXCLUDED.staff_status, note = EXCLUDED.note, "
                  "photo = EXCLUDED.photo, edited_week = EXCLUDED.edited_week", rows)


_PG_TYPES = {"measure": "double precision", "public": "integer"}


def _srid(crs: str | None) -> int:
    if crs and crs.upper().startswith("EPSG:") and crs[5:].isdigit():
        return int(crs[5:])
    return 0
