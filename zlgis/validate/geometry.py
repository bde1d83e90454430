"""Per-row geometry checks and repair, vectorised with shapely 2.

:func:`check_geometries` finds null and empty geometries, NaN/inf coordinates, wrong geometry
types (including mixed types in one layer), Z/M values (dropped) and invalid geometries (repaired
with :func:`shapely.make_valid`, the OGC validity reason recorded). Validity is tested with one
vectorised :func:`shapely.is_valid` call; reasons are computed only for the invalid rows.

Examples
--------
>>> import shapely
>>> g = shapely.from_wkt(["POLYGON((0 0,2 2,2 0,0 2,0 0))", "POINT(1 1)", None,
...                       "POLYGON((0 0,1 0,1 1,0 0))"])
>>> res = check_geometries(g, "Polygon")
>>> res.rejected.tolist(), [p[1] for p in res.problems]
([False, True, True, False], ['null_geometry', 'wrong_geometry_type', 'invalid_geometry'])
>>> res.geometries[0].geom_type
'MultiPolygon'
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import shapely

__all__ = ["GeometryCheck", "check_geometries", "geometry_family", "reason_zh", "FAMILY_ZH",
           "closed_lines_to_polygons"]

#: shapely type id -> family name (Multi* and LinearRing count as their simple family).
_FAMILY = np.array(["Point", "LineString", "LineString", "Polygon", "Point", "LineString",
                    "Polygon", "GeometryCollection"], dtype=object)
FAMILY_ZH = {"Point": "点", "LineString": "线", "Polygon": "面", "GeometryCollection": "几何集合",
             None: "无"}
_DIM = {"Point": 0, "LineString": 1, "Polygon": 2}

_REASONS = (
    ("Ring Self-intersection", "环自相交"),
    ("Self-intersection", "自相交"),
    ("Too few points in geometry component", "顶点数太少"),
    ("Hole lies outside shell", "内环在外环之外"),
    ("Holes are nested", "内环互相嵌套"),
    ("Interior is disconnected", "内部不连通"),
    ("Nested shells", "外环互相嵌套"),
    ("Duplicate Rings", "环重复"),
    ("Invalid Coordinate", "坐标无效"),
    ("Ring is not closed", "环未闭合"),
)


@dataclass
class GeometryCheck:
    """Result of :func:`check_geometries`.

    ``geometries`` are repaired and 2-D; ``rejected`` marks rows that cannot be used;
    ``problems`` lists ``(positions, code, messages, action)`` tuples.
    """

    geometries: np.ndarray
    rejected: np.ndarray
    problems: list[tuple[np.ndarray, str, list[str] | str, str]] = field(default_factory=list)
    family: str | None = None


def geometry_family(geoms: np.ndarray) -> np.ndarray:
    """Family of each geometry ('Point', 'LineString', 'Polygon', 'GeometryCollection', None)."""
    tid = shapely.get_type_id(geoms)
    out = np.full(len(tid), None, dtype=object)
    ok = tid >= 0
    out[ok] = _FAMILY[tid[ok]]
    return out


def reason_zh(reason: str) -> str:
    """Chinese text for a GEOS validity reason, keeping the location.

    Examples
    --------
    >>> reason_zh("Self-intersection[1 1]")
    '自相交（位置 1 1）'
    """
    m = re.match(r"([^\[]+)(?:\[(.*)\])?", reason)
    if not m:
        return reason
    head, where = m.group(1).strip(), m.group(2)
    zh = next((z for e, z in _REASONS if head.startswith(e)), head)
    return f"{zh}（位置 {where}）" if where else zh


def closed_lines_to_polygons(geoms: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Turn closed LineStrings (CAD closed polylines) into Polygons; return (geoms, converted).

    Examples
    --------
    >>> g = shapely.from_wkt(["LINESTRING(0 0,1 0,1 1,0 0)", "LINESTRING(0 0,1 1)"])
    >>> out, conv = closed_lines_to_polygons(g)
    >>> out[0].geom_type, conv.tolist()
    ('Polygon', [True, False])
    """
    geoms = np.asarray(geoms, dtype=object).copy()
    tid = shapely.get_type_id(geoms)
    cand = np.flatnonzero((tid == 1) | (tid == 2))
    if len(cand) == 0:
        return geoms, np.zeros(len(geoms), bool)
    closed = shapely.is_closed(geoms[cand]) & (shapely.get_num_coordinates(geoms[cand]) >= 4)
    idx = cand[closed]
    if len(idx):
        coords, owner = shapely.get_coordinates(geoms[idx], return_index=True)
        geoms[idx] = shapely.polygons(shapely.linearrings(coords, indices=owner))
    conv = np.zeros(len(geoms), bool)
    conv[idx] = True
    return geoms, conv


def _halves(fn: Any, geoms: np.ndarray) -> np.ndarray:
    """``fn(geoms)``; on large arrays the first half runs in a worker thread (GEOS releases the
    GIL, so on a machine with a free core the two halves run at once)."""
    from ._pool import THREAD_MIN_ROWS, pool

    if len(geoms) < THREAD_MIN_ROWS:
        return fn(geoms)
    h = len(geoms) // 2
    first = pool().submit(fn, geoms[:h])
    second = fn(geoms[h:])
    return np.concatenate([first.result(), second])


def _keep_family(geoms: np.ndarray, family: str) -> np.ndarray:
    """From make_valid results, keep only the parts of the expected family (drop collapses)."""
    out = geoms.copy()
    tid = shapely.get_type_id(geoms)
    mixed = np.flatnonzero(tid == 7)
    if len(mixed) == 0:
        return out
    parts, owner = shapely.get_parts(geoms[mixed], return_index=True)
    keep = geometry_family(parts) == family
    dim = _DIM[family]
    for k, i in enumerate(mixed):
        mine = parts[(owner == k) & keep]
        if len(mine) == 0:
            out[i] = None
        elif dim == 2:
            out[i] = shapely.multipolygons(mine) if len(mine) > 1 else mine[0]
        elif dim == 1:
            out[i] = shapely.multilinestrings(mine) if len(mine) > 1 else mine[0]
        else:
            out[i] = shapely.multipoints(mine) if len(mine) > 1 else mine[0]
    return out


_Problems = list[tuple[np.ndarray, str, "list[str] | str", str]]


def _check_missing(geoms: np.ndarray, rejected: np.ndarray, problems: _Problems) -> None:
    """Reject null and empty geometries."""
    missing = shapely.is_missing(geoms)
    if missing.any():
        problems.append((np.flatnonzero(missing), "null_geometry", "几何为空（没有坐标）", "rejected"))
        rejected |= missing
    empty = np.zeros(len(geoms), dtype=bool)
    empty[~missing] = shapely.is_empty(geoms[~missing])
    if empty.any():
        problems.append((np.flatnonzero(empty), "empty_geometry", "空几何（没有任何顶点）", "rejected"))
        rejected |= empty


def _drop_zm(geoms: np.ndarray, live: np.ndarray, problems: _Problems) -> np.ndarray:
    """Z / M values: dropped (on a copy), recorded."""
    zm = np.zeros(len(geoms), dtype=bool)
    if live.any():
        zm[live] = shapely.has_z(geoms[live])
        if hasattr(shapely, "has_m"):
            zm[live] |= shapely.has_m(geoms[live])
    if zm.any():
        geoms = geoms.copy()
        geoms[zm] = shapely.force_2d(geoms[zm])
        problems.append((np.flatnonzero(zm), "dropped_z", "含 Z/M 值，已去除（按二维处理）",
                         "dropped_z"))
    return geoms


def _check_family(geoms: np.ndarray, expected: str | None, rejected: np.ndarray,
                  problems: _Problems) -> str | None:
    """Reject rows of another geometry family than ``expected`` (default: the layer's most
    frequent one); the family."""
    other_idx = np.flatnonzero(~rejected)
    fam_o = geometry_family(geoms[other_idx])
    family = expected
    if family is None:
        vals, counts = np.unique(fam_o[fam_o != None].astype(str),  # noqa: E711
                                 return_counts=True)
        tally = dict(zip(vals.tolist(), counts.tolist()))
        tally.pop("GeometryCollection", None)
        if tally:
            family = max(tally, key=lambda k: tally[k])
    if family is not None:
        bad = fam_o != family
        if bad.any():
            idx = other_idx[bad]
            msgs = [f"几何类型为{FAMILY_ZH.get(f, f)}（{geoms[i].geom_type}），"
                    f"本图层应为{FAMILY_ZH[family]}" for i, f in zip(idx, fam_o[bad])]
            problems.append((idx, "wrong_geometry_type", msgs, "rejected"))
            rejected[idx] = True
    return family


def _check_validity(geoms: np.ndarray, family: str | None, rejected: np.ndarray,
                    problems: _Problems) -> np.ndarray:
    """Validity in one vectorised call; reasons only for the invalid rows. Non-finite
    coordinates are rejected, other invalid rows repaired by make_valid (rejected when the
    repair changes their family)."""
    live = ~rejected
    valid = np.ones(len(geoms), dtype=bool)
    if live.all():
        valid = _halves(shapely.is_valid, geoms)
    elif live.any():
        valid[live] = _halves(shapely.is_valid, geoms[live])
    bad = np.flatnonzero(~valid)
    if not len(bad):
        return geoms
    reasons = shapely.is_valid_reason(geoms[bad])
    nonfinite = np.array([r.startswith("Invalid Coordinate") for r in reasons], dtype=bool)
    if nonfinite.any():
        idx = bad[nonfinite]
        problems.append((idx, "nonfinite_coordinates",
                         [f"坐标含 NaN 或无穷大（{r.split('[', 1)[-1].rstrip(']')}），无法修复"
                          for r in reasons[nonfinite]], "rejected"))
        rejected[idx] = True
    fix_idx, fix_reasons = bad[~nonfinite], reasons[~nonfinite]
    if not len(fix_idx):
        return geoms
    geoms = geoms.copy()
    fixed = shapely.make_valid(geoms[fix_idx])
    if family is not None:
        fixed = _keep_family(fixed, family)
    ok = ~shapely.is_missing(fixed) & ~shapely.is_empty(fixed)
    if family is not None:
        ok &= geometry_family(fixed) == family
    geoms[fix_idx[ok]] = fixed[ok]
    if ok.any():
        problems.append((fix_idx[ok], "invalid_geometry",
                         [f"几何无效：{reason_zh(r)}，已用 make_valid 修复"
                          for r in fix_reasons[ok]], "repaired"))
    if (~ok).any():
        problems.append((fix_idx[~ok], "invalid_geometry",
                         [f"几何无效：{reason_zh(r)}，修复后不再是{FAMILY_ZH.get(family)}，已剔除"
                          for r in fix_reasons[~ok]], "rejected"))
        rejected[fix_idx[~ok]] = True
    return geoms

def check_geometries(geoms: np.ndarray, expected: str | None = None) -> GeometryCheck:
    """Check and repair geometries row by row, vectorised.

    Parameters
    ----------
    geoms : array of shapely geometries (or None)
    expected : {'Point', 'LineString', 'Polygon'} or None
        Expected family (Multi* accepted). ``None``: the most frequent family of the layer; rows
        of another family are rejected as mixed types.

    Returns
    -------
    GeometryCheck
    """
    geoms = np.asarray(geoms, dtype=object)
    rejected = np.zeros(len(geoms), dtype=bool)
    problems: list[tuple[np.ndarray, str, list[str] | str, str]] = []
    _check_missing(geoms, rejected, problems)
    geoms = _drop_zm(geoms, ~rejected, problems)
    family = _check_family(geoms, expected, rejected, problems)
    geoms = _check_validity(geoms, family, rejected, problems)
    return GeometryCheck(geoms, rejected, problems, family)
