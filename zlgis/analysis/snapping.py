"""Snap points to the nearest edge of a street graph (edge, offset along it, access distance).

Exact and vectorised against a uniform grid, in passes of growing radius ``R``: every
straight segment of the graph is paired with the points of the grid cells its bounding box
grown by ``R`` meets, the distance of every pair is computed with numpy and the nearest
segment of each point kept (ties go to the lowest segment). A point is settled when its best
distance is at most ``R`` plus its distance to the border of its cell: every segment not
paired with it is farther than that. The others go to the next pass with ``R`` doubled (the
first radius is a third of the median segment length); the few left when the passes get
wide, if any, are settled by an STRtree nearest-edge query. The position along the edge and
the snapped point are then computed once, on the winning segment. The grid lies over the
graph's segments and the segments' cells depend on the graph and ``R`` only: they are made
once per graph and radius and shared by every point set snapped to it.

A graph remembers the last few point sets it snapped (keyed by their coordinates), so the
demand of a weekly run (residential buildings, land samples) is snapped once per graph and
shared by every check and radius that asks again; :func:`snap_point_sets` snaps several sets in
one pass.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from ._network_common import INF, is_snapped, point_xy, same_crs
from .street_graph import StreetGraph

__all__ = ["snap_points", "snap_point_sets"]

#: point-segment pairs computed at a time (bounds the temporary arrays to about 50 MB)
_PAIR_BLOCK = 500_000
#: points snapped at a time (bounds a pass's arrays over the points)
_POINT_BLOCK = 262_144
#: point sets remembered per graph
_MEMO_SIZE = 2
#: grid passes before the remaining points go to the STRtree
_MAX_PASSES = 8
#: cells of the grid at most (the cell grows when the points spread wider)
_MAX_CELLS = 4_000_000
_NONE = np.iinfo(np.int64).max


def snap_points(graph: StreetGraph, points: Any, *, max_distance: float | None = None
                ) -> pd.DataFrame:
    """Snap points to their nearest edge of ``graph``; see :meth:`StreetGraph.snap`."""
    return snap_point_sets(graph, [points], max_distance=max_distance)[0]


def snap_point_sets(graph: StreetGraph, sets: Sequence[Any], *,
                    max_distance: float | None = None, copy: bool = True,
                    remember: bool = True) -> list[pd.DataFrame]:
    """Snap several point sets to ``graph`` in one pass (one frame per set, as ``snap``).

    A set is points (GeoDataFrame, GeoSeries, geometries; others stand by a point on them)
    or an (n, 2) array of coordinates in the graph's CRS.

    Sets already snapped, or remembered by the graph, are not snapped again; the others are
    concatenated and snapped together, so a run's demand sets share one grid pass. With
    ``copy=False`` the frames hold the snapped arrays themselves, read-only (for callers that
    only read them: a city's land samples are 87 MB a copy). With ``remember=False`` the sets
    snapped now are not remembered (for parts of a set too large to keep).
    """
    memo: dict[Any, dict[str, np.ndarray]] = graph.__dict__.setdefault("_snap_memo", {})
    out: list[Any] = list(sets)
    todo = []
    for i, points in enumerate(sets):
        if is_snapped(points):
            continue  # already snapped
        xy, crs, index = point_xy(points)
        if crs is not None and graph.crs is not None and not same_crs(crs, graph.crs):
            xy = shapely.get_coordinates(gpd.GeoSeries(shapely.points(xy), crs=crs)
                                         .to_crs(graph.crs).values)
        px, py = xy[:, 0].copy(), xy[:, 1].copy()
        h = hashlib.blake2b(np.ascontiguousarray(px).tobytes(), digest_size=20)
        h.update(np.ascontiguousarray(py).tobytes())
        key = (h.hexdigest(), max_distance)
        todo.append((i, key, index, px, py))
    fresh = list({t[1]: t for t in todo if t[1] not in memo}.values())
    got: dict[Any, dict[str, np.ndarray]] = {}
    if fresh:
        # (one set: its own coordinates, not a concatenated copy)
        xs, ys = ((fresh[0][3], fresh[0][4]) if len(fresh) == 1 else
                  (np.concatenate([t[3] for t in fresh]), np.concatenate([t[4] for t in fresh])))
        cols = _snap(graph, xs, ys, max_distance)
        lo = 0
        for _, key, _, px, _ in fresh:
            got[key] = {k: _read_only(v[lo:lo + len(px)]) for k, v in cols.items()}
            lo += len(px)
    for i, key, index, _, _ in todo:
        cols = got[key] if key in got else memo.pop(key)
        if remember or key not in got:
            memo[key] = cols  # most recent last
        # fresh arrays for every caller that may modify its frame
        out[i] = pd.DataFrame({k: v.copy() if copy else v for k, v in cols.items()},
                              index=index, copy=False)
    while len(memo) > _MEMO_SIZE:
        memo.pop(next(iter(memo)))
    return out


def _read_only(a: np.ndarray) -> np.ndarray:
    a.flags.writeable = False
    return a


# -------------------------------------------------------------------------------------------
# the nearest segment of every point

def _cells(graph: StreetGraph, r: float) -> dict[str, Any]:
    """The grid of a pass of radius ``r`` and the (segment, cell) registrations of the graph's
    segments: every cell met by a segment's bounding box grown by ``r``.

    The grid is laid over the segments' extent grown by ``r`` (cell side ``2r``, wider when the
    extent would need more than ``_MAX_CELLS`` cells), so it depends on the graph and ``r``
    only: it is made once per graph and radius and every point set snapped to the graph
    reuses it (points outside it meet no segment within ``r``).
    """
    memo: dict[float, dict[str, Any]] = graph.__dict__.setdefault("_snap_cells", {})
    if r in memo:
        return memo[r]
    seg = graph._segments
    lox, hix = np.minimum(seg["ax"], seg["bx"]), np.maximum(seg["ax"], seg["bx"])
    loy, hiy = np.minimum(seg["ay"], seg["by"]), np.maximum(seg["ay"], seg["by"])
    x0, y0 = float(lox.min()) - r, float(loy.min()) - r
    span = max(float(hix.max()) + r - x0, float(hiy.max()) + r - y0, 2.0 * r)
    c = max(2.0 * r, span / np.sqrt(_MAX_CELLS))
    nx_ = int(np.floor((float(hix.max()) + r - x0) / c)) + 1
    ny_ = int(np.floor((float(hiy.max()) + r - y0) / c)) + 1
    ix0 = np.clip(np.floor((lox - r - x0) / c), 0, nx_)
    ix1 = np.clip(np.floor((hix + r - x0) / c), -1, nx_ - 1)
    iy0 = np.clip(np.floor((loy - r - y0) / c), 0, ny_)
    iy1 = np.clip(np.floor((hiy + r - y0) / c), -1, ny_ - 1)
    w = np.maximum(ix1 - ix0 + 1, 0).astype(np.int64)
    h = np.maximum(iy1 - iy0 + 1, 0).astype(np.int64)
    base = iy0.astype(np.int64) * nx_ + ix0.astype(np.int64)
    small = (w <= 3) & (h <= 3)
    sids, keys = [], []
    for dy in range(3):  # the common case, a few cells: one vectorised step per cell offset
        for dx in range(3):
            s = np.flatnonzero(small & (dx < w) & (dy < h))
            sids.append(s)
            keys.append(base[s] + (dy * nx_ + dx))
    big = np.flatnonzero(~small & (w > 0) & (h > 0))
    if len(big):
        cnt = w[big] * h[big]
        s = np.repeat(big, cnt)
        k = np.arange(len(s)) - np.repeat(np.cumsum(cnt) - cnt, cnt)
        sids.append(s)
        keys.append(base[s] + (k // w[s]) * nx_ + k % w[s])
    cell = np.concatenate(keys).astype(np.int32)
    order = np.argsort(cell, kind="stable")  # by cell: a block of them meets a run of points
    memo[r] = {"x0": x0, "y0": y0, "c": c, "nx": nx_, "ny": ny_,
               "seg": np.concatenate(sids).astype(np.int32)[order], "cell": cell[order]}
    return memo[r]


def _grid(px: np.ndarray, py: np.ndarray, cells: dict[str, Any]) -> dict[str, Any]:
    """The points sorted by cell of ``cells``' grid (those outside it in one extra cell, met
    by no segment), with the cells' first point and count and each point's distance to the
    border of its cell."""
    x0, y0, c, nx_, ny_ = cells["x0"], cells["y0"], cells["c"], cells["nx"], cells["ny"]
    fx, fy = (px - x0) / c, (py - y0) / c
    cx, cy = np.floor(fx), np.floor(fy)
    inside = (cx >= 0) & (cx < nx_) & (cy >= 0) & (cy < ny_)
    key = np.where(inside, cy * nx_ + cx, nx_ * ny_).astype(np.int64)
    order = np.argsort(key)
    count = np.bincount(key, minlength=nx_ * ny_ + 1).astype(np.int32)  # up to 4M cells
    margin = np.minimum(np.minimum(fx - cx, cx + 1 - fx), np.minimum(fy - cy, cy + 1 - fy)) * c
    return {"order": order, "x": px[order], "y": py[order], "margin": margin[order],
            "count": count, "first": np.cumsum(count, dtype=np.int32) - count}


def _pass(graph: StreetGraph, px: np.ndarray, py: np.ndarray, r: float
          ) -> tuple[np.ndarray, np.ndarray]:
    """Nearest segment of every point among those within reach of its cell; settled or not."""
    seg = graph._segments
    n = len(px)
    cells = _cells(graph, r)
    g = _grid(px, py, cells)
    busy = g["count"][cells["cell"]] > 0
    rs, key = cells["seg"][busy], cells["cell"][busy]
    best = np.full(n, INF)
    win = np.full(n, _NONE)
    pc = g["count"][key]
    ends = np.cumsum(pc)
    lo = 0
    while lo < len(rs):  # blocks of registrations with at most _PAIR_BLOCK pairs
        hi = max(int(np.searchsorted(ends, ends[lo] - pc[lo] + _PAIR_BLOCK, "right")), lo + 1)
        c_ = pc[lo:hi]
        cs = np.cumsum(c_)
        s = np.repeat(rs[lo:hi].astype(np.int64), c_)
        # the registrations go by cell and the points too: the block's points are one run
        p0 = int(g["first"][key[lo]])
        p = np.repeat(g["first"][key[lo:hi]] - p0 - (cs - c_), c_) + np.arange(cs[-1])
        d2 = _dist2(seg, s, g["x"][p0:][p], g["y"][p0:][p])
        m = int(p.max()) + 1
        b = np.full(m, INF)
        np.minimum.at(b, p, d2)
        top = d2 == b[p]
        w_ = np.full(m, _NONE)
        np.minimum.at(w_, p[top], s[top])
        bb, wb = best[p0:p0 + m], win[p0:p0 + m]  # views: updated in place
        better = (b < bb) | ((b == bb) & (w_ < wb))
        bb[better], wb[better] = b[better], w_[better]
        lo = hi
    # (1e-7 m: the cell borders carry rounding errors)
    settled = best <= np.square(np.maximum(r + g["margin"] - 1e-7, 0.0))
    out_win = np.empty(n, np.int64)
    out_ok = np.empty(n, bool)
    out_win[g["order"]], out_ok[g["order"]] = win, settled
    return out_win, out_ok


def _dist2(seg: dict[str, np.ndarray], s: np.ndarray, x: np.ndarray, y: np.ndarray
           ) -> np.ndarray:
    """Squared distance from points to segments (pairwise; in place, few temporaries)."""
    vx, vy, inv = seg["vx"][s], seg["vy"][s], seg["inv_ll"][s]
    dx = x - seg["ax"][s]
    dy = y - seg["ay"][s]
    t = dx * vx
    t += dy * vy
    t *= inv
    np.clip(t, 0.0, 1.0, out=t)
    vx *= t
    vy *= t
    dx -= vx
    dy -= vy
    dx *= dx
    dy *= dy
    dx += dy
    return dx


def _nearest_segment(graph: StreetGraph, px: np.ndarray, py: np.ndarray,
                     max_distance: float | None) -> np.ndarray:
    """Index (in ``graph._segments``) of every point's nearest segment; -1 beyond reach."""
    seg = graph._segments
    n = len(px)
    sid = np.full(n, -1, np.int64)
    if not len(seg["len"]):
        return sid
    r = max(float(np.median(seg["len"])) / 3.0, 0.5)
    todo = np.arange(n)
    for _ in range(_MAX_PASSES):
        if not len(todo):
            return sid
        win, ok = _pass(graph, px[todo], py[todo], r)
        sid[todo[ok]] = win[ok]
        todo = todo[~ok]
        if max_distance is not None and r >= max_distance:
            return sid  # the rest are farther than max_distance from every street
        r *= 2.0
    if len(todo):
        sid[todo] = _nearest_by_tree(graph, px[todo], py[todo])
    return sid


def _nearest_by_tree(graph: StreetGraph, px: np.ndarray, py: np.ndarray) -> np.ndarray:
    """Nearest segment of far points: the STRtree's nearest edges, then their segments."""
    seg = graph._segments
    (pi, ei) = graph._tree.query_nearest(shapely.points(px, py), all_matches=True)
    # every segment of the candidate edges (segments of an edge are consecutive)
    first = np.searchsorted(seg["edge"], ei, "left")
    cnt = np.searchsorted(seg["edge"], ei, "right") - first
    p = np.repeat(pi, cnt)
    s = np.repeat(first - (np.cumsum(cnt) - cnt), cnt) + np.arange(int(cnt.sum()))
    d2 = _dist2(seg, s, px[p], py[p])
    order = np.lexsort((s, d2, p))
    p, s = p[order], s[order]
    head = np.r_[True, p[1:] != p[:-1]]
    out = np.full(len(px), -1, np.int64)
    out[p[head]] = s[head]
    return out


def _snap(graph: StreetGraph, px: np.ndarray, py: np.ndarray, max_distance: float | None
          ) -> dict[str, np.ndarray]:
    """The snapped columns of every point, made :data:`_POINT_BLOCK` points at a time (a
    point's nearest segment does not depend on the others): the passes' grids and pairs and
    the positions' temporaries are then those of a block (the 1M city's 1.36M land samples
    held about 250 MB of them at once)."""
    n = len(px)
    out = {"edge": np.full(n, -1, np.int64), "u": np.full(n, -1, np.int64),
           "v": np.full(n, -1, np.int64), "offset": np.full(n, np.nan),
           "access": np.full(n, INF), "edge_length": np.full(n, np.nan),
           "snap_x": np.full(n, np.nan), "snap_y": np.full(n, np.nan)}
    for lo in range(0, n, _POINT_BLOCK):
        hi = min(lo + _POINT_BLOCK, n)
        _snap_block(graph, px[lo:hi], py[lo:hi], max_distance,
                    {k: v[lo:hi] for k, v in out.items()})
    return out


def _snap_block(graph: StreetGraph, px: np.ndarray, py: np.ndarray,
                max_distance: float | None, out: dict[str, np.ndarray]) -> None:
    """Snap a block of points into ``out`` (views of the result's columns, which hold the
    values of a point beyond reach)."""
    seg = graph._segments
    sid = _nearest_segment(graph, px, py, max_distance)
    ok = np.flatnonzero(sid >= 0)
    s, x, y = sid[ok], px[ok], py[ok]
    # the position on the winning segment, as the sampled path computed it
    ax, ay = seg["ax"][s], seg["ay"][s]
    vx, vy = seg["bx"][s] - ax, seg["by"][s] - ay
    ll = vx * vx + vy * vy
    t = np.clip(((x - ax) * vx + (y - ay) * vy) / np.where(ll > 0, ll, 1.0), 0.0, 1.0)
    qx, qy = ax + t * vx, ay + t * vy
    access = np.hypot(x - qx, y - qy)
    if max_distance is not None:
        near = access <= max_distance
        ok, s, t, ll, qx, qy, access = (a[near] for a in (ok, s, t, ll, qx, qy, access))
    e = seg["edge"][s]
    elen = graph.edges["length"].to_numpy(float)
    out["edge"][ok] = e
    out["u"][ok] = graph.edges["u"].to_numpy(np.int64)[e]
    out["v"][ok] = graph.edges["v"].to_numpy(np.int64)[e]
    out["offset"][ok] = np.clip(seg["start"][s] + t * np.sqrt(ll), 0.0, elen[e])
    out["access"][ok] = access
    out["edge_length"][ok] = elen[e]
    out["snap_x"][ok], out["snap_y"][ok] = qx, qy
