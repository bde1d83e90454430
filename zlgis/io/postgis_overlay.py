"""Spatial joins run inside PostGIS (GiST indexes), for checks whose layers live there.

:func:`near_pairs` returns the (feature, line) pairs of two database layers that lie within a
distance of each other (``ST_DWithin``, which the planner answers from the GiST index of the
features: an index scan per line, never a scan of a million footprints in Python). The
control-line check (:mod:`zlgis.analysis.controllines`) asks it for the buildings near each red
line (within the largest setback the line's road class can require) and inside or touching each
green / blue / purple / yellow line, then measures only those pairs with the same code as the
file path, so its findings are the same.
"""

from __future__ import annotations

import time
from collections.abc import Mapping

import numpy as np

from ..catalog import LayerSpec
from ..errors import UnreadableInputError
from .postgis import connect, database_error, describe_source, relation_sql, source_label

__all__ = ["near_pairs", "same_database"]


def same_database(*specs: LayerSpec | None) -> bool:
    """True when every spec is read from PostgreSQL, all from the same database URL."""
    urls = {s.database["url"] if s is not None and s.database else None for s in specs}
    return len(urls) == 1 and None not in urls


def _column(spec: LayerSpec, names: list[str], field: str) -> str:
    """The database column holding the catalog field ``field`` (its name or an alias)."""
    for n in names:
        if spec.field_for_alias(str(n)) == field:
            return n
    raise UnreadableInputError(f"没有字段 {field}（或其别名）", path=source_label(spec.database or {}),
                               layer=spec.id, field=field)


def near_pairs(features: LayerSpec, lines: LayerSpec, *, feature_id: str, line_id: str,
               distance: float | Mapping[str, float], class_field: str | None = None,
               timings: dict[str, float] | None = None) -> tuple[np.ndarray, np.ndarray]:
    """(feature id, line id) of the pairs meeting each line grown by ``distance``, in SQL.

    The buffer's chords lie inside the true offset curve (by at most 2 % of the distance with
    8 segments per quarter circle): pass a distance with a margin over what the rule needs.

    Parameters
    ----------
    features, lines : LayerSpec
        Two catalog layers read from the same PostgreSQL database (tables, views or queries),
        with the same SRID.
    feature_id, line_id : str
        Catalog fields holding the ids (the database columns may carry an alias).
    distance : float or mapping
        One distance in the layers' units, or one per value of the line's ``class_field``
        (a class not listed gets the largest).
    timings : dict, optional
        Receives ``sql`` (seconds spent in the database).

    Returns
    -------
    (ndarray, ndarray)
        Feature ids and line ids as text, one entry per pair.
    """
    import psycopg
    from psycopg import sql

    src = features.database or {}
    url = str(src["url"])
    label = source_label(src)
    t0 = time.perf_counter()
    with connect(url, layer=features.id, label=label) as conn:
        try:
            fcols = describe_source(conn, src, geometry=features.geometry, layer=features.id)
            lcols = describe_source(conn, lines.database or {}, geometry=lines.geometry,
                                    layer=lines.id)
            if fcols.geometry is None or lcols.geometry is None:
                return np.empty(0, object), np.empty(0, object)
            fid = _column(features, fcols.names, feature_id)
            lid = _column(lines, lcols.names, line_id)
            if isinstance(distance, Mapping):
                cls = _column(lines, lcols.names, class_field or "")
                table = sql.SQL(", ").join(sql.SQL("({}, {})").format(
                    sql.Literal(str(k)), sql.Literal(float(v))) for k, v in distance.items())
                radius = sql.SQL("COALESCE((SELECT d.r FROM (VALUES {}) AS d(c, r) "
                                 "WHERE d.c = l.{}::text), {})").format(
                    table, sql.Identifier(cls), sql.Literal(max(map(float, distance.values()))))
            else:
                radius = sql.Literal(float(distance))
            # each line grown by its distance (chords inside the true offset: callers add a
            # margin) once (MATERIALIZED: not once per feature), then one prepared ST_Intersects per
            # line against the features' GiST index
            query = sql.SQL(
                "WITH n AS MATERIALIZED (SELECT l.{lid}::text AS lid, "
                "ST_Buffer(l.{lg}, {radius}, 'quad_segs=8') AS g FROM (SELECT * FROM {lrel}) AS l) "
                "SELECT f.{fid}::text, n.lid FROM n "
                "JOIN (SELECT * FROM {frel}) AS f ON ST_Intersects(f.{fg}, n.g)").format(
                fid=sql.Identifier(fid), lid=sql.Identifier(lid), lg=sql.Identifier(lcols.geometry),
                radius=radius, lrel=relation_sql(lines.database or {}),
                frel=relation_sql(src), fg=sql.Identifier(fcols.geometry))
            rows = conn.execute(query).fetchall()
        except UnreadableInputError:
            raise
        except (psycopg.OperationalError, psycopg.errors.AdminShutdown) as exc:
            raise database_error(exc, url, layer=features.id, label=label,
                                 during="read") from None
        except psycopg.Error as exc:
            raise database_error(exc, url, layer=features.id, label=label) from None
    if timings is not None:
        timings["sql"] = timings.get("sql", 0.0) + time.perf_counter() - t0
    if not rows:
        return np.empty(0, object), np.empty(0, object)
    f, ln = zip(*rows)
    return np.asarray(f, dtype=object), np.asarray(ln, dtype=object)
