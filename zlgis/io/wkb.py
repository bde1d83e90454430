"""Fast decoding of the WKB geometry column GDAL returns through Arrow.

Most rows of a building, parcel or zone layer are 2-D polygons with one closed ring (or, in
layers declared MultiPolygon, multi-polygons of one such part). For those,
:func:`decode_simple_polygons` reads the coordinates straight from the Arrow buffer with numpy
(grouped by record length) and builds the shapely polygons with one
:func:`shapely.from_ragged_array` call per group, which is about twice as fast as parsing the
same WKB with :func:`shapely.from_wkb`. The same pass yields each row's bounds and proves the
strictly convex rings valid (see :func:`zlgis.validate.geometry.wkb_convex_valid`), so the
validation neither recomputes the bounds nor runs GEOS ``is_valid`` on them; for the other
decoded rows it skips the emptiness, Z/M and type tests (known from the header), never the
validity test.

Every other row (points, lines, holes, several parts, Z/M, big-endian, unclosed rings or a NaN
first point, fewer than four points) is left undecoded: the reader parses it with
:func:`shapely.from_wkb` exactly as before, so unclosed rings and unparseable records are still
reported the same way.

Examples
--------
>>> import pyarrow as pa, shapely
>>> g = shapely.from_wkt(["POLYGON((0 0,1 0,1 1,0 1,0 0))", "POINT(1 1)",
...                       "POLYGON((0 0,4 0,4 4,2 1,0 4,0 0))"])
>>> res = decode_simple_polygons(pa.array(shapely.to_wkb(g)))
>>> res.decoded.tolist(), res.convex.tolist(), res.bounds[0].tolist()
([True, False, True], [True, False, False], [0.0, 0.0, 1.0, 1.0])
>>> bool(shapely.equals_exact(res.geoms[2], g[2], tolerance=0))
True
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import shapely
from numpy.lib.stride_tricks import as_strided

__all__ = ["SimplePolygons", "decode_simple_polygons"]

_HEAD = 13  # Polygon: byte order (1) + type (4) + number of rings (4) + number of points (4)
_MHEAD = 22  # MultiPolygon of one part: byte order + type + number of parts, then a Polygon's


@dataclass
class SimplePolygons:
    """Result of :func:`decode_simple_polygons` (arrays of the length of the input).

    Attributes
    ----------
    geoms : ndarray of object
        The decoded polygons; ``None`` where ``decoded`` is False.
    decoded : ndarray of bool
        Rows decoded here: 2-D little-endian polygons of one closed ring of at least 4 points,
        and multi-polygons of one such polygon.
    convex : ndarray of bool
        Decoded rows whose ring is strictly convex: OGC-valid by construction.
    bounds : ndarray (n, 4)
        ``minx, miny, maxx, maxy`` of the decoded rows (NaN elsewhere).
    """

    geoms: np.ndarray
    decoded: np.ndarray
    convex: np.ndarray
    bounds: np.ndarray


def _u32(cols: np.ndarray) -> np.ndarray:
    return np.ascontiguousarray(cols).view("<u4")[:, 0]


_MAX_CONVEX = 16  # rings of more distinct vertices are left to GEOS ``is_valid`` (as fast)


def _convex(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """Strictly convex closed rings; ``x``, ``y`` are (vertices, rings), last vertex = first.

    Rings of more than ``_MAX_CONVEX`` distinct vertices are not examined (False).
    """
    m = len(x) - 1  # distinct vertices and edges
    if m > _MAX_CONVEX:
        return np.zeros(x.shape[1], dtype=bool)
    with np.errstate(invalid="ignore", over="ignore"):
        # one contiguous vector per vertex: no 2-D temporaries
        ex = [x[i + 1] - x[i] for i in range(m)]
        ey = [y[i + 1] - y[i] for i in range(m)]
        c = [ex[i] * ey[(i + 1) % m] - ey[i] * ex[(i + 1) % m] for i in range(m)]
        pos, neg = c[0] > 0, c[0] < 0
        for ci in c[1:]:
            pos &= ci > 0
            neg &= ci < 0
        good = pos | neg  # NaN/inf give False on both
        gi = np.flatnonzero(good) if m > 4 else None
        if gi is not None and len(gi):
            # more than four turns, each strictly between 0 and pi: the ring could wind twice
            # (a pentagram), so require a total of exactly one turn
            turn = np.zeros(len(gi))
            for i in range(m):
                j = (i + 1) % m
                turn += np.arctan2(c[i][gi], ex[i][gi] * ex[j][gi] + ey[i][gi] * ey[j][gi])
            good[gi] = np.abs(np.abs(turn) - 2 * np.pi) < 1e-6
    return good


_MIN_GROUP = 16  # rows of one record length worth decoding apart (when there are many lengths)


def _group_rows(lengths: np.ndarray, counts: np.ndarray) -> dict[int, np.ndarray]:
    """Row positions (ascending) of each candidate record length.

    With many distinct lengths, lengths shared by fewer than ``_MIN_GROUP`` rows are left to
    GEOS: each group costs a few dozen numpy calls, more than parsing a handful of records.
    """
    n = len(lengths)
    cand = [int(L) for L in np.flatnonzero(counts)
            if any(L >= h + 4 * 16 and (L - h) % 16 == 0 for h in (_HEAD, _MHEAD))]
    if len(cand) > _MIN_GROUP:
        cand = [L for L in cand if counts[L] >= _MIN_GROUP]
    if not cand:
        return {}
    if len(cand) == 1 and counts[cand[0]] == n:
        return {cand[0]: np.arange(n)}
    if len(cand) <= 8:
        return {L: np.flatnonzero(lengths == L) for L in cand}
    order = np.argsort(lengths, kind="stable")
    ends = np.cumsum(counts)
    return {L: order[ends[L] - counts[L]: ends[L]] for L in cand}


def decode_simple_polygons(wkb: Any) -> SimplePolygons:
    """Decode the 2-D single-ring (multi-)polygons of a WKB Arrow array with numpy.

    Parameters
    ----------
    wkb : pyarrow BinaryArray or LargeBinaryArray
        ISO WKB, one geometry per row (nulls allowed). Anything else decodes nothing.

    Returns
    -------
    SimplePolygons
        Geometries identical to :func:`shapely.from_wkb` of the same rows, for the rows marked
        ``decoded``; the caller parses the others.
    """
    import pyarrow as pa

    n = 0 if wkb is None else len(wkb)
    out = SimplePolygons(np.full(n, None, dtype=object), np.zeros(n, bool), np.zeros(n, bool),
                         np.full((n, 4), np.nan))
    if n == 0 or not isinstance(wkb, pa.Array) or not (
            pa.types.is_binary(wkb.type) or pa.types.is_large_binary(wkb.type)):
        return out
    bufs = wkb.buffers()
    if bufs[2] is None:
        return out
    odt = np.int64 if pa.types.is_large_binary(wkb.type) else np.int32
    offsets = np.frombuffer(bufs[1], dtype=odt)[wkb.offset: wkb.offset + n + 1].astype(np.int64)
    data = np.frombuffer(bufs[2], dtype=np.uint8)
    lengths = np.diff(offsets)
    if wkb.null_count:
        lengths = np.where(np.asarray(wkb.is_valid()), lengths, 0)
    counts = np.bincount(lengths)
    for L, idx in _group_rows(lengths, counts).items():
        multi = (L - _HEAD) % 16 != 0  # a length fits one of the two layouts, never both
        head = _MHEAD if multi else _HEAD
        k = (L - head) // 16
        starts = offsets[idx]
        if len(idx) == 1 or bool(np.all(np.diff(starts) == L)):
            base = int(starts[0])  # one contiguous run: a view on the buffer, no copy
            rec = data[base: base + len(idx) * L].reshape(len(idx), L)
        else:  # rows scattered between records of other lengths: gather them (a copy)
            rec = as_strided(data, shape=(len(data) - L + 1, L), strides=(1, 1))[starts]
        if multi:
            ok = ((rec[:, 0] == 1) & (_u32(rec[:, 1:5]) == 6) & (_u32(rec[:, 5:9]) == 1)
                  & (rec[:, 9] == 1) & (_u32(rec[:, 10:14]) == 3) & (_u32(rec[:, 14:18]) == 1)
                  & (_u32(rec[:, 18:22]) == k))
        else:
            ok = ((rec[:, 0] == 1) & (_u32(rec[:, 1:5]) == 3) & (_u32(rec[:, 5:9]) == 1)
                  & (_u32(rec[:, 9:13]) == k))
        xy = rec[:, head:].view("<f8").reshape(len(idx), k, 2)  # unaligned view
        with np.errstate(invalid="ignore"):
            ok &= (xy[:, 0, 0] == xy[:, k - 1, 0]) & (xy[:, 0, 1] == xy[:, k - 1, 1])
        if not ok.any():
            continue
        if ok.all():
            sel, rows = xy, idx
        else:
            sel, rows = xy[ok], idx[ok]  # boolean indexing copies
        m = len(rows)
        whole = m == n  # every row of the layer: plain assignment instead of scattering
        coords = np.ascontiguousarray(sel)
        parts = [np.arange(0, m * k + 1, k, dtype=np.int64), np.arange(m + 1, dtype=np.int64)]
        if multi:
            parts.append(parts[1])
        geoms = shapely.from_ragged_array(
            shapely.GeometryType.MULTIPOLYGON if multi else shapely.GeometryType.POLYGON,
            coords.reshape(m * k, 2), tuple(parts))
        del coords
        # vertex-major copy (k, 2, m): every column below is contiguous
        t = np.ascontiguousarray(sel.transpose(1, 2, 0))
        conv = _convex(t[:, 0], t[:, 1])
        b = np.empty((m, 4))
        b[:, 0] = t[: k - 1, 0].min(axis=0)
        b[:, 1] = t[: k - 1, 1].min(axis=0)
        b[:, 2] = t[: k - 1, 0].max(axis=0)
        b[:, 3] = t[: k - 1, 1].max(axis=0)
        # rows with NaN/inf coordinates: bounds left to shapely (NaN here)
        with np.errstate(invalid="ignore"):
            finite = np.isfinite(b[:, 0] + b[:, 1] + b[:, 2] + b[:, 3])
        if not finite.all():
            b[~finite] = np.nan
        if whole:
            out = SimplePolygons(geoms, np.ones(n, bool), conv, b)
        else:
            out.geoms[rows] = geoms
            out.decoded[rows] = True
            out.convex[rows] = conv
            out.bounds[rows] = b
    return out
