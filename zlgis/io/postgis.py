"""Layers read from PostgreSQL/PostGIS: a table, a view or a query, as raw source rows.

A catalog layer whose source is ``{url: postgresql://host:port/db, table: schema.table}`` (or
``query: SELECT ...``) is read here and then validated like any file
(:func:`zlgis.validate.load.read_layer`). The reader returns a :class:`~zlgis.io.readers.SourceRead`
(attributes as the database holds them, geometry from ``ST_AsEWKB`` parsed by
:func:`shapely.from_wkb` in one vectorised call, rows fetched from a server-side cursor in
chunks), after checking what a file reader cannot get wrong:

- the relation exists and can be read, and has a geometry column (``geometry_column`` picks one
  when it has several); a layer declared without geometry may be a plain table;
- the column's declared geometry type fits the catalog's (``MultiPolygon`` fits ``Polygon``);
- its SRID (the column's, else the rows') is the catalog's declared ``crs``: a database states
  its coordinate system, so a different one is an error, not a guess;
- the user and password come from libpq: ``PGUSER``/``PGPASSWORD`` or a pgpass file
  (``PGPASSFILE``); the catalog's URL never holds a password (:mod:`zlgis.catalog` refuses it).

Every failure is an :class:`~zlgis.errors.UnreadableInputError` (or
:class:`~zlgis.errors.CRSError`) with one Chinese message naming the source and layer, never
a password: wrong password, unknown database, server not reachable, missing table, no
geometry column, wrong SRID, connection lost during the read.
"""

from __future__ import annotations

import getpass
import os
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from ..crs import OBFUSCATED, crs_label, recognise_crs
from ..errors import CRSError, UnreadableInputError
from .readers import SourceRead

__all__ = ["connect", "read_postgis", "count_postgis", "relation_sql", "source_label",
           "database_error", "describe_source", "SourceColumns", "CHUNK_ROWS"]

#: Rows fetched per round trip from the server-side cursor.
CHUNK_ROWS = 50_000
_GEOM_COLUMN = "__zlgis_geom"
#: Geometry types a catalog geometry accepts from a column's declared type.
_FITS = {"Point": ("point", "multipoint"), "LineString": ("linestring", "multilinestring"),
         "Polygon": ("polygon", "multipolygon")}
_GENERIC = ("geometry", "geometrycollection", "")
_GEOM_WORDS = {"Point": "点", "LineString": "线", "Polygon": "面"}


def source_label(source: Mapping[str, Any]) -> str:
    """``postgresql://host:port/db（schema.table）`` (or ``（查询）``), for messages."""
    return f"{source['url']}（{source.get('table') or '查询'}）"


def _scrub(text: str) -> str:
    """Remove the password of the environment from a server or driver message."""
    pw = os.environ.get("PGPASSWORD")
    return text.replace(pw, "***") if pw else text


def _user(url: str) -> str:
    from psycopg.conninfo import conninfo_to_dict

    try:
        user = conninfo_to_dict(url).get("user")
    except Exception:  # noqa: BLE001 - an unparsable URL: the driver says so on connect
        user = None
    return str(user or os.environ.get("PGUSER") or getpass.getuser())


def database_error(exc: BaseException, url: str, *, layer: str | None = None,
                   label: str | None = None, during: str = "connect") -> UnreadableInputError:
    """One Chinese :class:`UnreadableInputError` for a psycopg error (never the password).

    The message is :func:`zlgis.io.pgconn.pg_error`'s (wrong password, unreachable server,
    missing database ...), but for a connection lost while rows were fetched (``during="read"``).
    """
    import psycopg

    from .pgconn import pg_error

    state = getattr(exc, "sqlstate", None) or ""
    if during == "read" and (isinstance(exc, psycopg.OperationalError)
                             or state.startswith(("57P", "08"))):
        msg = ("读取过程中与数据库的连接中断（服务器关闭、重启或网络断开），图层未载入，"
               "请在服务器恢复后重新运行")
    else:
        msg = pg_error(exc, url).message
    return UnreadableInputError(_scrub(msg), path=label or url, layer=layer)


def _primary(exc: BaseException) -> str:
    diag = getattr(exc, "diag", None)
    primary = getattr(diag, "message_primary", None) if diag is not None else None
    return _scrub(str(primary or exc).strip().splitlines()[0] if str(primary or exc).strip()
                  else type(exc).__name__)


@contextmanager
def connect(url: str, *, layer: str | None = None, label: str | None = None
            ) -> Iterator[Any]:
    """A read-only psycopg connection to ``url`` (credentials from libpq's environment).

    Raises
    ------
    UnreadableInputError
        Wrong password, unknown database, server not reachable (Chinese message, no password).
    """
    from ..errors import DatabaseError
    from .pgconn import connect as pg_connect

    try:
        conn = pg_connect(url, timeout=int(os.environ.get("PGCONNECT_TIMEOUT") or 10))
    except DatabaseError as exc:
        raise UnreadableInputError(_scrub(exc.message), path=label or url,
                                   layer=layer) from None
    try:
        conn.read_only = True
        yield conn
    finally:
        conn.close()


def relation_sql(source: Mapping[str, Any]) -> Any:
    """The ``FROM`` item of a source: the quoted table (``schema.table``) or ``(query) AS q``."""
    from psycopg import sql

    if source.get("table"):
        return sql.Identifier(*str(source["table"]).split(".", 1))
    return sql.SQL("({}) AS q").format(sql.SQL(str(source["query"])))


def _check_relation(conn: Any, source: Mapping[str, Any], layer: str | None,
                    label: str) -> None:
    table = source.get("table")
    if not table:
        return
    name = relation_sql(source).as_string(conn)
    oid, can = conn.execute(
        "SELECT c.oid, has_table_privilege(c.oid, 'SELECT') FROM pg_class c "
        "WHERE c.oid = to_regclass(%s)", (name,)).fetchone() or (None, None)
    if oid is None:
        raise UnreadableInputError(f"数据库中没有表或视图 {table}", path=label, layer=layer)
    if not can:
        raise UnreadableInputError(f"用户 {_user(source['url'])} 没有读取表 {table} 的权限",
                                   path=label, layer=layer)


def _describe(conn: Any, source: Mapping[str, Any], layer: str | None, label: str
              ) -> tuple[list[str], list[int], list[int]]:
    """Column names, type OIDs and type modifiers of the relation."""
    import psycopg
    from psycopg import sql

    try:
        cur = conn.execute(sql.SQL("SELECT * FROM {} LIMIT 0").format(relation_sql(source)))
    except psycopg.errors.UndefinedTable as exc:
        raise UnreadableInputError(f"查询引用的表不存在：{_primary(exc)}", path=label,
                                   layer=layer) from None
    except psycopg.errors.SyntaxError as exc:
        raise UnreadableInputError(f"查询语句有语法错误：{_primary(exc)}", path=label,
                                   layer=layer) from None
    res = cur.pgresult
    names = [c.name for c in cur.description]
    return names, [c.type_code for c in cur.description], [res.fmod(i) for i in range(len(names))]


def _geometry_column(conn: Any, source: Mapping[str, Any], names: list[str], types: list[int],
                     expected: str | None, layer: str | None, label: str) -> int | None:
    rows = conn.execute("SELECT oid FROM pg_type WHERE typname IN ('geometry', 'geography')"
                        ).fetchall()
    oids = {r[0] for r in rows}
    geo = [i for i, t in enumerate(types) if t in oids]
    what = f"表 {source['table']}" if source.get("table") else "查询结果"
    want = source.get("geometry_column")
    if want:
        if want not in names:
            raise UnreadableInputError(f"{what}中没有几何字段 {want}（有：{'、'.join(names)}）",
                                       path=label, layer=layer, field=str(want))
        i = names.index(want)
        if i not in geo:
            raise UnreadableInputError(f"{what}的字段 {want} 不是几何类型（geometry）",
                                       path=label, layer=layer, field=str(want))
        return i
    if not geo:
        if expected is None:
            return None
        extra = "" if oids else "（数据库未安装 PostGIS）"
        raise UnreadableInputError(
            f"{what}没有几何字段（geometry）{extra}，图层目录要求{_GEOM_WORDS.get(expected, '')}"
            "几何", path=label, layer=layer)
    if len(geo) > 1:
        cols = "、".join(names[i] for i in geo)
        raise UnreadableInputError(f"{what}有多个几何字段（{cols}），请在图层目录的 source 中用 "
                                   "geometry_column 指定一个", path=label, layer=layer)
    return geo[0]


@dataclass(frozen=True)
class SourceColumns:
    """Columns of a table, view or query: names, the geometry column, its SRID (0: none)."""

    names: list[str]
    geometry: str | None
    srid: int


def describe_source(conn: Any, source: Mapping[str, Any], *, geometry: str | None = "Polygon",
                    layer: str | None = None) -> SourceColumns:
    """The columns of a source, checked as :func:`read_postgis` checks them (relation exists,
    one geometry column, its declared type); the SRID is the column's declared one."""
    label = source_label(source)
    _check_relation(conn, source, layer, label)
    names, types, fmods = _describe(conn, source, layer, label)
    gi = _geometry_column(conn, source, names, types, geometry, layer, label)
    if gi is None:
        return SourceColumns(names, None, 0)
    srid, gtype = _declared(conn, fmods[gi])
    _check_type(gtype, geometry, layer, label, names[gi])
    return SourceColumns(names, names[gi], srid)


def _declared(conn: Any, fmod: int) -> tuple[int, str]:
    """SRID and geometry type of a column's type modifier (0, '' when unconstrained)."""
    if fmod is None or fmod < 0:
        return 0, ""
    srid, gtype = conn.execute("SELECT postgis_typmod_srid(%s), postgis_typmod_type(%s)",
                               (fmod, fmod)).fetchone()
    return int(srid or 0), str(gtype or "")


def _expected_srid(crs: str | None, layer: str | None, label: str) -> int | None:
    if not crs:
        return None
    rec = recognise_crs(crs)
    if rec in OBFUSCATED:
        return 4326
    if rec is None or not rec.startswith("EPSG:"):
        raise CRSError(f"无法识别图层目录的 crs：{crs}", path=label, layer=layer)
    return int(rec.split(":", 1)[1])


def _check_srid(srid: int, want: int | None, crs: str | None, layer: str | None, label: str,
                column: str) -> None:
    if want is not None and srid and srid != want:
        raise CRSError(f"几何字段 {column} 的坐标系为 {crs_label(f'EPSG:{srid}')}（SRID {srid}），"
                       f"与图层目录声明的 {crs_label(recognise_crs(crs) or crs)} 不符；请在数据库中"
                       "转换（ST_Transform）或改正图层目录的 crs", path=label, layer=layer,
                       field=column)


def _check_type(gtype: str, expected: str | None, layer: str | None, label: str,
                column: str) -> None:
    low = gtype.lower().rstrip("zm") if gtype.lower() not in _GENERIC else gtype.lower()
    if expected in _FITS and low not in _GENERIC and low not in _FITS[expected]:
        raise UnreadableInputError(
            f"几何字段 {column} 的类型为 {gtype}，图层目录要求{_GEOM_WORDS[expected]}"
            f"（{expected}）", path=label, layer=layer, field=column)


_TEXT_TYPES = ("text", "varchar", "bpchar", "name", "char")
_FLOAT_TYPES = ("float4", "float8", "numeric")
_INT_TYPES = ("int2", "int4", "int8")


def _type_names(names: Mapping[int, str], oid: int) -> str:
    return names.get(oid, "")


def _column(values: list[Any], pg_type: str) -> pd.Series:
    """One attribute column as a file reader gives it: text as ``str`` objects, numbers as
    int64 (float64 with NaN where NULL), dates and timestamps as pandas infers them."""
    if pg_type in _TEXT_TYPES:
        return pd.Series(values, dtype=object)
    if pg_type in _FLOAT_TYPES:
        return pd.Series([np.nan if v is None else float(v) for v in values], dtype=float)
    if pg_type in _INT_TYPES:
        if any(v is None for v in values):
            return pd.Series([np.nan if v is None else float(v) for v in values], dtype=float)
        return pd.Series(values, dtype=np.int64)
    if pg_type in ("date", "timestamp", "timestamptz", "bool"):
        return pd.Series(values)
    return pd.Series([v if v is None or isinstance(v, str) else str(v) for v in values],
                     dtype=object)


def read_postgis(source: Mapping[str, Any], *, layer: str | None = None,
                 geometry: str | None = None, crs: str | None = None,
                 chunk_rows: int = CHUNK_ROWS) -> SourceRead:
    """Read a table, view or query from PostgreSQL as raw source rows.

    Parameters
    ----------
    source : mapping
        ``url`` (no password) and ``table`` (``schema.table``) or ``query``; optionally
        ``geometry_column``.
    layer : str, optional
        Catalog layer id (named in messages).
    geometry : {"Point", "LineString", "Polygon", None}
        The catalog's geometry type; ``None`` allows a table without geometry.
    crs : str, optional
        The catalog's declared coordinate system; the column's (or rows') SRID must match it.
    chunk_rows : int
        Rows per fetch from the server-side cursor.

    Returns
    -------
    SourceRead
        ``gdf`` with the columns as in the database and ``geometry`` (CRS from the SRID, or
        none for SRID 0), ``rows`` 1..n in the order the server returned them, ``driver``
        ``PostgreSQL``, ``path`` the source label.

    Raises
    ------
    UnreadableInputError, CRSError
        See the module docstring.
    """
    import psycopg
    from psycopg import sql

    label = source_label(source)
    url = str(source["url"])
    with connect(url, layer=layer, label=label) as conn:
        try:
            _check_relation(conn, source, layer, label)
            names, types, fmods = _describe(conn, source, layer, label)
            gi = _geometry_column(conn, source, names, types, geometry, layer, label)
            conn_types = dict(conn.execute(
                "SELECT oid::int, typname::text FROM pg_type WHERE oid = ANY(%s)",
                ([int(t) for t in types],)).fetchall())
            want = _expected_srid(crs, layer, label)
            srid = 0
            attrs = [n for i, n in enumerate(names) if i != gi]
            cols = [sql.Identifier(n) for n in attrs]
            if gi is not None:
                gname = names[gi]
                srid, gtype = _declared(conn, fmods[gi])
                _check_type(gtype, geometry, layer, label, gname)
                _check_srid(srid, want, crs, layer, label, gname)
                cols.append(sql.SQL("ST_AsEWKB({}::geometry) AS {}").format(
                    sql.Identifier(gname), sql.Identifier(_GEOM_COLUMN)))
            query = sql.SQL("SELECT {} FROM {}").format(
                sql.SQL(", ").join(cols) if cols else sql.SQL("1"), relation_sql(source))
            data: list[list[Any]] = [[] for _ in cols]
            with conn.transaction(), conn.cursor(name="zlgis_read", binary=True) as cur:
                cur.itersize = chunk_rows
                cur.execute(query)
                while True:
                    rows = cur.fetchmany(chunk_rows)
                    if not rows:
                        break
                    for j, col in enumerate(zip(*rows)):
                        data[j].extend(col)
        except (UnreadableInputError, CRSError):
            raise
        except psycopg.errors.InsufficientPrivilege as exc:
            raise database_error(exc, url, layer=layer, label=label) from None
        except (psycopg.OperationalError, psycopg.errors.AdminShutdown) as exc:
            raise database_error(exc, url, layer=layer, label=label, during="read") from None
        except psycopg.Error as exc:
            raise UnreadableInputError(f"读取失败：{_primary(exc)}", path=label,
                                       layer=layer) from None
    n = len(data[0]) if data else 0
    kinds = [t for i, t in enumerate(types) if i != gi]
    df = pd.DataFrame({a: _column(data[j], _type_names(conn_types, kinds[j]))
                       for j, a in enumerate(attrs)}, index=range(n))
    if gi is None:
        geoms = np.full(n, None, dtype=object)
    else:
        geoms = shapely.from_wkb(np.asarray(data[-1], dtype=object))
        srid = _row_srid(geoms, srid, want, crs, layer, label, names[gi])
    gdf = gpd.GeoDataFrame(df, geometry=gpd.GeoSeries(geoms, crs=f"EPSG:{srid}" if srid
                                                      else None, index=df.index), copy=False)
    rows = np.arange(1, n + 1, dtype=np.int64)
    return SourceRead(gdf, label, layer, "PostgreSQL", rows)  # type: ignore[arg-type]


def _row_srid(geoms: np.ndarray, srid: int, want: int | None, crs: str | None,
              layer: str | None, label: str, column: str) -> int:
    """The SRID of the rows when the column does not constrain it (all rows must agree)."""
    if srid or not len(geoms):
        return srid
    found = np.unique(shapely.get_srid(geoms[~shapely.is_missing(geoms)]))
    if len(found) > 1:
        raise CRSError(f"几何字段 {column} 中的要素坐标系不一致（SRID {'、'.join(map(str, found))}）",
                       path=label, layer=layer, field=column)
    srid = int(found[0]) if len(found) else 0
    _check_srid(srid, want, crs, layer, label, column)
    return srid


def count_postgis(source: Mapping[str, Any], *, layer: str | None = None) -> int:
    """Number of rows of a table, view or query (for ``zlgis layers``)."""
    import psycopg
    from psycopg import sql

    label = source_label(source)
    with connect(str(source["url"]), layer=layer, label=label) as conn:
        _check_relation(conn, source, layer, label)
        try:
            return int(conn.execute(sql.SQL("SELECT count(*) FROM {}").format(
                relation_sql(source))).fetchone()[0])
        except psycopg.Error as exc:
            raise UnreadableInputError(f"读取失败：{_primary(exc)}", path=label,
                                       layer=layer) from None
