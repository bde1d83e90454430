"""Write layers into PostgreSQL/PostGIS: a table per layer, loaded with ``COPY``.

:func:`write_table` writes one GeoDataFrame as it is (columns and values as the source file
holds them; geometry as EWKB with the frame's SRID, into a ``geometry(Geometry, srid)`` column
with a GiST index). :func:`load_catalog_layers` copies every vector layer of a catalog into a
schema and returns the catalog that reads them from there (``zlgis db load-layers``): the same
rows as the files, so a weekly run on either gives the same findings.
"""

from __future__ import annotations

import datetime as _dt
import time
from collections.abc import Sequence
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from ..catalog import Catalog
from ..errors import UnreadableInputError
from .postgis import connect, database_error

__all__ = ["write_table", "load_catalog_layers", "GEOMETRY_COLUMN"]

#: Name of the geometry column of written tables.
GEOMETRY_COLUMN = "geom"


def _pg_type(s: pd.Series) -> str:
    if pd.api.types.is_bool_dtype(s):
        return "boolean"
    if pd.api.types.is_integer_dtype(s):
        return "bigint"
    if pd.api.types.is_float_dtype(s):
        return "double precision"
    if isinstance(s.dtype, pd.DatetimeTZDtype):
        return "timestamptz"
    if pd.api.types.is_datetime64_any_dtype(s):
        return "timestamp"
    kinds = {type(v) for v in s.dropna().tolist()[:10_000]}
    if kinds and kinds <= {_dt.date}:
        return "date"
    if kinds and kinds <= {bool, np.bool_}:
        return "boolean"
    return "text"


def _values(s: pd.Series, pg_type: str) -> list[Any]:
    """The column as Python values for COPY (missing as None, text as str)."""
    if pg_type in ("timestamp", "timestamptz"):
        return [None if pd.isna(v) else v.to_pydatetime() for v in s]
    if pg_type == "double precision":
        a = s.to_numpy(dtype=float)
        return [None if v != v else v for v in a.tolist()]
    if pg_type == "bigint":
        return s.astype(object).where(s.notna(), None).tolist()
    out = s.astype(object).where(s.notna(), None).tolist()
    if pg_type == "text":
        return [v if v is None or isinstance(v, str) else str(v) for v in out]
    return out


def write_table(gdf: gpd.GeoDataFrame, url: str, table: str, *,
                geometry_type: str = "Geometry") -> int:
    """Write ``gdf`` into ``table`` (``schema.table``, replaced) and index its geometry.

    Parameters
    ----------
    gdf : GeoDataFrame
        Rows to write; the geometry's CRS gives the SRID (0 when it has none).
    url : str
        ``postgresql://host:port/db`` (credentials from the environment or a pgpass file).
    table : str
        Target ``schema.table`` (the schema is created when missing).
    geometry_type : str
        Declared type of the geometry column (``Geometry`` accepts Multi* and mixed rows).

    Returns
    -------
    int
        Rows written.
    """
    import psycopg
    from psycopg import sql

    srid = int(gdf.crs.to_epsg() or 0) if gdf.crs is not None else 0
    schema, _, name = table.rpartition(".")
    ident = sql.Identifier(schema, name) if schema else sql.Identifier(name)
    attrs = [c for c in gdf.columns if c != gdf.geometry.name]
    types = {c: _pg_type(gdf[c]) for c in attrs}
    geom_col = GEOMETRY_COLUMN if GEOMETRY_COLUMN not in attrs else "zlgis_geom"
    ddl = sql.SQL(", ").join(
        [sql.SQL("{} {}").format(sql.Identifier(str(c)), sql.SQL(types[c])) for c in attrs]
        + [sql.SQL("{} geometry({}, {})").format(sql.Identifier(geom_col),
                                                sql.SQL(geometry_type), sql.Literal(srid))])
    geoms = np.asarray(gdf.geometry.array, dtype=object)
    ewkb = shapely.to_wkb(shapely.set_srid(geoms, srid) if srid else geoms, hex=True,
                         include_srid=bool(srid))
    columns = [_values(gdf[c], types[c]) for c in attrs] + [ewkb.tolist()]
    with connect(url, label=f"{url}（{table}）") as conn:
        conn.read_only = False
        try:
            with conn.transaction():
                if schema:
                    conn.execute(sql.SQL("CREATE SCHEMA IF NOT EXISTS {}").format(
                        sql.Identifier(schema)))
                conn.execute(sql.SQL("DROP TABLE IF EXISTS {}").format(ident))
                conn.execute(sql.SQL("CREATE TABLE {} ({})").format(ident, ddl))
                cols = sql.SQL(", ").join(sql.Identifier(str(c)) for c in [*attrs, geom_col])
                with conn.cursor().copy(sql.SQL("COPY {} ({}) FROM STDIN").format(
                        ident, cols)) as cp:
                    for row in zip(*columns):
                        cp.write_row(row)
                conn.execute(sql.SQL("CREATE INDEX ON {} USING gist ({})").format(
                    ident, sql.Identifier(geom_col)))
            conn.autocommit = True
            conn.execute(sql.SQL("ANALYZE {}").format(ident))
        except psycopg.Error as exc:
            raise database_error(exc, url, label=f"{url}（{table}）") from None
    return len(gdf)


def load_catalog_layers(catalog: Catalog, url: str, *, schema: str = "public",
                        ids: Sequence[str] | None = None,
                        timings: dict[str, float] | None = None) -> dict[str, Any]:
    """Copy the catalog's vector layers (as their files hold them) into ``schema``.

    Every layer read from a file (not raster, not derived, not already in a database) becomes
    table ``schema.<layer id>`` with the file's columns and rows unchanged; the catalog's
    schemas, filters and value maps still apply when it is read back.

    Returns
    -------
    dict
        The raw catalog (YAML-ready) whose sources point at the tables, ``data_dir``
        absolute so it can be written anywhere; raster layers keep their files.
    """
    from .readers import read_source

    raw = dict(catalog.raw)
    raw["data_dir"] = str(catalog.data_dir)
    raw["layers"] = {k: dict(v) for k, v in catalog.raw["layers"].items()}
    for lid, spec in catalog.layers.items():
        if ids is not None and lid not in ids:
            continue
        if spec.kind == "raster" or spec.derived or spec.database or spec.path is None:
            continue
        t0 = time.perf_counter()
        opts = spec.options
        try:
            src = read_source(spec.path, spec.layer, x=opts.get("x"), y=opts.get("y"),
                              encoding=opts.get("encoding"), sheet=opts.get("sheet"))
        except UnreadableInputError as exc:
            raise UnreadableInputError(exc.message, path=exc.path, layer=lid) from exc
        gdf = src.gdf
        if spec.crs and str(spec.crs).upper().startswith("EPSG"):  # the catalog's CRS wins
            gdf = gdf.set_crs(spec.crs, allow_override=True)
        write_table(gdf, url, f"{schema}.{lid}")
        old = raw["layers"][lid].get("source")
        new: dict[str, Any] = {"url": url, "table": f"{schema}.{lid}"}
        if isinstance(old, dict):
            new.update({k: v for k, v in old.items()
                        if k not in ("path", "layer", "x", "y", "encoding", "sheet")})
        raw["layers"][lid]["source"] = new
        if timings is not None:
            timings[lid] = round(time.perf_counter() - t0, 3)
    return raw
