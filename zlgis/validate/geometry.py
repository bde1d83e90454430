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
           "closed_lines_to_polygons", "wkb_convex_valid"]

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


def wkb_convex_valid(wkb: Any, *, return_bounds: bool = False) -> Any:
    """Rows whose WKB is a 2-D single-ring strictly convex polygon (valid by construction).

    A closed ring whose turns all go the same way and whose turning angles add up to one full
    turn is simple, so the polygon is OGC-valid; such rows need no GEOS validity test. (With at
    most four turns, each strictly between 0 and pi, the total can only be one full turn.) Works on
    the raw little-endian WKB bytes (an Arrow binary array), grouped by record length, with numpy
    only. Everything else (holes, multi-parts, concave or degenerate rings, Z) returns False
    and goes to :func:`shapely.is_valid`.

    Examples
    --------
    >>> import pyarrow as pa
    >>> arr = pa.array(shapely.to_wkb(shapely.from_wkt(
    ...     ["POLYGON((0 0,1 0,1 1,0 1,0 0))", "POLYGON((0 0,2 2,2 0,0 2,0 0))",
    ...      "POLYGON((0 0,4 0,4 4,2 1,0 4,0 0))", "POLYGON((0 0,4 0,5 2,2 4,-1 2,0 0))",
    ...      "POLYGON((0 0,2 6,4 0,-1 4,5 4,0 0))"])))
    >>> wkb_convex_valid(arr).tolist()
    [True, False, False, True, False]
    """
    import pyarrow as pa

    n = 0 if wkb is None else len(wkb)
    out = np.zeros(n, dtype=bool)
    bnds = np.full((n, 4), np.nan) if return_bounds else None

    def result() -> Any:
        return (out, bnds) if return_bounds else out

    if n == 0 or not isinstance(wkb, pa.Array) or not (
            pa.types.is_binary(wkb.type) or pa.types.is_large_binary(wkb.type)):
        return result()
    bufs = wkb.buffers()
    if bufs[2] is None:
        return result()
    odt = np.int64 if pa.types.is_large_binary(wkb.type) else np.int32
    offsets = np.frombuffer(bufs[1], dtype=odt)[wkb.offset: wkb.offset + n + 1].astype(np.int64)
    data = np.frombuffer(bufs[2], dtype=np.uint8)
    lengths = np.diff(offsets)
    if wkb.null_count:
        valid_bits = np.asarray(wkb.is_valid())
        lengths = np.where(valid_bits, lengths, 0)
    counts = np.bincount(lengths)
    for length in np.flatnonzero(counts):
        k = (int(length) - 13) // 16
        if length < 13 + 4 * 16 or (length - 13) % 16:
            continue
        idx = (np.arange(n) if counts[length] == n else np.flatnonzero(lengths == length))
        starts = offsets[idx]
        L = int(length)
        if len(idx) > 1 and np.all(np.diff(starts) == L) or len(idx) == 1:
            # one contiguous run: strided views on the buffer, no copy
            base = int(starts[0])
            rec = data[base: base + len(idx) * L].reshape(len(idx), L)
            xy = np.ndarray((len(idx), k, 2), dtype="<f8", buffer=data, offset=base + 13,
                            strides=(L, 16, 8))
        else:
            rec = data[starts[:, None] + np.arange(L)]
            xy = np.ascontiguousarray(rec[:, 13:]).view("<f8").reshape(len(idx), k, 2)
        head = rec[:, :13]
        ok = ((head[:, 0] == 1) & (head[:, 1:5].copy().view("<u4")[:, 0] == 3)
              & (head[:, 5:9].copy().view("<u4")[:, 0] == 1)
              & (head[:, 9:13].copy().view("<u4")[:, 0] == k))
        if not ok.any():
            continue
        # column-wise numpy (reductions over a short axis are slow): x[i], y[i] are vertex i
        x = [xy[:, i, 0] for i in range(k)]
        y = [xy[:, i, 1] for i in range(k)]
        m = k - 1  # distinct vertices and edges
        with np.errstate(invalid="ignore", over="ignore"):
            good = ok & (x[0] == x[m]) & (y[0] == y[m])
            ex = [x[i + 1] - x[i] for i in range(m)]
            ey = [y[i + 1] - y[i] for i in range(m)]
            pos = np.ones(len(idx), dtype=bool)
            neg = np.ones(len(idx), dtype=bool)
            turn = np.zeros(len(idx)) if m > 4 else None
            for i in range(m):
                j = (i + 1) % m
                c = ex[i] * ey[j] - ey[i] * ex[j]
                pos &= c > 0
                neg &= c < 0
                if turn is not None:
                    # more than four turns, each strictly between 0 and pi: the ring could wind
                    # twice (a pentagram), so require a total of exactly one turn
                    turn += np.arctan2(c, ex[i] * ex[j] + ey[i] * ey[j])
            good &= pos | neg  # NaN/inf give False on both
            if turn is not None:
                good &= np.abs(np.abs(turn) - 2 * np.pi) < 1e-6
        out[idx[good]] = True
        if bnds is not None and good.any():
            cols = []
            for fn, vs in ((np.minimum, x), (np.minimum, y), (np.maximum, x), (np.maximum, y)):
                c = fn(vs[0], vs[1])
                for v in vs[2:m]:
                    fn(c, v, out=c)
                cols.append(c)
            if good.all() and len(idx) == n:
                for j, c in enumerate(cols):
                    bnds[:, j] = c
            else:
                gi = idx[good]
                for j, c in enumerate(cols):
                    bnds[gi, j] = c[good]
    return result()


def _halves(fn: Any, geoms: np.ndarray) -> np.ndarray:
    """``fn(geoms)``; on large arrays the first half runs in a worker thread (GEOS releases the
    GIL, so on a machine with a free core the two halves run at once)."""
    from ._pool import POOL, THREAD_MIN_ROWS

    if len(geoms) < THREAD_MIN_ROWS:
        return fn(geoms)
    h = len(geoms) // 2
    first = POOL.submit(fn, geoms[:h])
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


def check_geometries(geoms: np.ndarray, expected: str | None = None, *,
                     known_valid: np.ndarray | None = None,
                     known_polygons: np.ndarray | None = None) -> GeometryCheck:
    """Check and repair geometries row by row, vectorised.

    Parameters
    ----------
    geoms : array of shapely geometries (or None)
    expected : {'Point', 'LineString', 'Polygon'} or None
        Expected family (Multi* accepted). ``None``: the most frequent family of the layer; rows
        of another family are rejected as mixed types.
    known_valid : array of bool, optional
        Rows already known to be valid non-empty 2-D polygons (see :func:`wkb_convex_valid`);
        GEOS validity is tested only on the others.
    known_polygons : array of bool, optional
        Rows already known to be non-empty 2-D (multi-)polygons whose validity is not known
        (decoded from their WKB, see :mod:`zlgis.io.wkb`): the emptiness, Z/M and type tests
        skip them, the validity test does not.

    Returns
    -------
    GeometryCheck
    """
    geoms = np.asarray(geoms, dtype=object)
    n = len(geoms)
    rejected = np.zeros(n, dtype=bool)
    problems: list[tuple[np.ndarray, str, list[str] | str, str]] = []
    if expected is not None and expected != "Polygon":
        known_valid = known_polygons = None  # polygons here are of the wrong type: look at all
    # rows known to be non-empty 2-D polygons (valid or not)
    known = known_valid if known_polygons is None else (
        known_polygons if known_valid is None else known_polygons | known_valid)

    missing = shapely.is_missing(geoms)
    if missing.any():
        problems.append((np.flatnonzero(missing), "null_geometry", "几何为空（没有坐标）", "rejected"))
        rejected |= missing
    empty = np.zeros(n, dtype=bool)
    test = ~missing if known is None else ~missing & ~known
    if test.all():
        empty = shapely.is_empty(geoms)
    elif test.any():
        empty[test] = shapely.is_empty(geoms[test])
    if empty.any():
        problems.append((np.flatnonzero(empty), "empty_geometry", "空几何（没有任何顶点）", "rejected"))
        rejected |= empty

    # Z / M values: dropped, recorded
    live = ~rejected
    check = live if known is None else live & ~known
    zm = np.zeros(n, dtype=bool)
    if check.any():
        zm[check] = shapely.has_z(geoms[check])
        if hasattr(shapely, "has_m"):
            zm[check] |= shapely.has_m(geoms[check])
    if zm.any():
        geoms = geoms.copy()
        geoms[zm] = shapely.force_2d(geoms[zm])
        problems.append((np.flatnonzero(zm), "dropped_z", "含 Z/M 值，已去除（按二维处理）",
                         "dropped_z"))

    # geometry type (rows known to be polygons: only the others are looked at)
    other_idx = np.flatnonzero(live if known is None else live & ~known)
    fam_o = geometry_family(geoms[other_idx])
    family = expected
    if family is None:
        vals, counts = np.unique(fam_o[fam_o != None].astype(str),  # noqa: E711
                                 return_counts=True)
        tally = dict(zip(vals.tolist(), counts.tolist()))
        n_known = 0 if known is None else int((live & known).sum())
        if n_known:
            tally["Polygon"] = tally.get("Polygon", 0) + n_known
        tally.pop("GeometryCollection", None)
        if tally:
            family = max(tally, key=lambda k: tally[k])
        if family != "Polygon" and known is not None:
            # the known polygons are of the wrong type after all: look at every row
            known_valid = known = None
            other_idx = np.flatnonzero(live)
            fam_o = geometry_family(geoms[other_idx])
    if family is not None:
        bad = fam_o != family
        if bad.any():
            idx = other_idx[bad]
            msgs = [f"几何类型为{FAMILY_ZH.get(f, f)}（{geoms[i].geom_type}），"
                    f"本图层应为{FAMILY_ZH[family]}" for i, f in zip(idx, fam_o[bad])]
            problems.append((idx, "wrong_geometry_type", msgs, "rejected"))
            rejected[idx] = True

    # validity: one vectorised call; reasons only for the invalid rows
    live = ~rejected
    valid = np.ones(n, dtype=bool)
    test = live if known_valid is None else live & ~known_valid
    if test.all():
        valid = _halves(shapely.is_valid, geoms)
    elif test.any():
        valid[test] = _halves(shapely.is_valid, geoms[test])
    bad = np.flatnonzero(~valid)
    if len(bad):
        reasons = shapely.is_valid_reason(geoms[bad])
        nonfinite = np.array([r.startswith("Invalid Coordinate") for r in reasons], dtype=bool)
        if nonfinite.any():
            idx = bad[nonfinite]
            problems.append((idx, "nonfinite_coordinates",
                             [f"坐标含 NaN 或无穷大（{r.split('[', 1)[-1].rstrip(']')}），无法修复"
                              for r in reasons[nonfinite]], "rejected"))
            rejected[idx] = True
        fix_idx, fix_reasons = bad[~nonfinite], reasons[~nonfinite]
        if len(fix_idx):
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
    return GeometryCheck(geoms, rejected, problems, family)
