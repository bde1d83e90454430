"""Snap points to the nearest edge of a street graph (edge, offset along it, access distance).

Exact and vectorised: candidate straight segments come from a KD-tree over points sampled along
every segment (at most ``s`` apart); the exact point-to-segment distance is computed for the
``k`` nearest samples' segments. The answer is provably the nearest segment when the k-th sample
is farther than the best distance + ``s``/2; the few points where that bound does not hold are
snapped with an STRtree nearest-neighbour query instead.

A graph remembers the last few point sets it snapped (keyed by their coordinates), so the
demand of a weekly run (residential buildings, land samples) is snapped once per graph and
shared by every check and radius that asks again.
"""

from __future__ import annotations

import hashlib
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from ._network_common import INF, as_points, is_snapped, same_crs
from .street_graph import StreetGraph

__all__ = ["snap_points"]


#: points snapped per block (bounds the temporary (block, 8) arrays to a few hundred MB)
_SNAP_BLOCK = 200_000
#: point sets remembered per graph
_MEMO_SIZE = 2


def snap_points(graph: StreetGraph, points: Any, *, max_distance: float | None = None
                ) -> pd.DataFrame:
    """Snap points to their nearest edge of ``graph``; see :meth:`StreetGraph.snap`."""
    if is_snapped(points):
        return points  # already snapped
    arr, crs, index = as_points(points)
    if crs is not None and graph.crs is not None and not same_crs(crs, graph.crs):
        arr = np.asarray(gpd.GeoSeries(arr, crs=crs).to_crs(graph.crs).values, dtype=object)
    px, py = shapely.get_x(arr), shapely.get_y(arr)
    h = hashlib.blake2b(np.ascontiguousarray(px).tobytes(), digest_size=20)
    h.update(np.ascontiguousarray(py).tobytes())
    key = (h.hexdigest(), max_distance)
    memo: dict[Any, dict[str, np.ndarray]] = graph.__dict__.setdefault("_snap_memo", {})
    cols = memo.pop(key, None)
    if cols is None:
        cols = _snap(graph, arr, px, py, max_distance)
    memo[key] = cols  # most recent last
    while len(memo) > _MEMO_SIZE:
        memo.pop(next(iter(memo)))
    # fresh arrays for every caller: a caller may modify its frame
    return pd.DataFrame({k: v.copy() for k, v in cols.items()}, index=index, copy=False)


def _nearest_sampled(graph: StreetGraph, px: np.ndarray, py: np.ndarray
                     ) -> dict[str, np.ndarray]:
    """Nearest segment among the k nearest samples' segments; ``unsure`` where not proven."""
    n = len(px)
    seg = graph._segments
    tree, sample_seg, spacing = graph._sample_tree
    k = int(min(8, len(sample_seg)))
    out = {"edge": np.full(n, -1, np.int64), "access": np.full(n, INF),
           "offset": np.full(n, np.nan), "snap_x": np.full(n, np.nan),
           "snap_y": np.full(n, np.nan), "unsure": np.zeros(n, bool)}
    # in blocks, so that the (block, k) work arrays stay small for millions of points
    for lo in range(0, n, _SNAP_BLOCK):
        hi = min(lo + _SNAP_BLOCK, n)
        bx_, by_ = px[lo:hi], py[lo:hi]
        dk, ik = tree.query(np.c_[bx_, by_], k=k, workers=-1)
        if k == 1:
            dk, ik = dk[:, None], ik[:, None]
        cand = sample_seg[ik]                                  # (block, k) segment ids
        ax, ay = seg["ax"][cand], seg["ay"][cand]
        vx, vy = seg["bx"][cand] - ax, seg["by"][cand] - ay
        ll = vx * vx + vy * vy
        t = np.clip(((bx_[:, None] - ax) * vx + (by_[:, None] - ay) * vy)
                    / np.where(ll > 0, ll, 1.0), 0.0, 1.0)
        qx, qy = ax + t * vx, ay + t * vy
        d = np.hypot(bx_[:, None] - qx, by_[:, None] - qy)
        j = np.argmin(d, axis=1)
        rows = np.arange(hi - lo)
        best = d[rows, j]
        sid = cand[rows, j]
        out["edge"][lo:hi] = seg["edge"][sid]
        out["access"][lo:hi] = best
        out["offset"][lo:hi] = seg["start"][sid] + t[rows, j] * np.sqrt(ll[rows, j])
        out["snap_x"][lo:hi], out["snap_y"][lo:hi] = qx[rows, j], qy[rows, j]
        out["unsure"][lo:hi] = ~(dk[:, -1] > best + spacing / 2) & (k < len(sample_seg))
    return out


def _snap(graph: StreetGraph, arr: np.ndarray, px: np.ndarray, py: np.ndarray,
          max_distance: float | None) -> dict[str, np.ndarray]:
    n = len(arr)
    elen = graph.edges["length"].to_numpy(float)
    if n:
        s = _nearest_sampled(graph, px, py)
        edge, access, offset, sx, sy = (s[c] for c in ("edge", "access", "offset", "snap_x",
                                                        "snap_y"))
        if s["unsure"].any():
            u = np.flatnonzero(s["unsure"])
            (pi, ei), dist = graph._tree.query_nearest(arr[u], return_distance=True,
                                                       all_matches=False)
            u = u[pi]
            better = dist < access[u] - 1e-9
            u, ei, dist = u[better], ei[better], dist[better]
            if len(u):
                eg = graph._edge_geoms[ei]
                edge[u] = ei
                access[u] = dist
                offset[u] = shapely.line_locate_point(eg, arr[u])
                q = shapely.line_interpolate_point(eg, offset[u])
                sx[u], sy[u] = shapely.get_x(q), shapely.get_y(q)
        offset = np.clip(offset, 0.0, elen[edge])
        if max_distance is not None:
            far = access > max_distance
            edge[far] = -1
            access[far] = INF
            offset[far] = sx[far] = sy[far] = np.nan
    else:
        edge, access = np.full(0, -1, np.int64), np.full(0, INF)
        offset, sx, sy = np.full(0, np.nan), np.full(0, np.nan), np.full(0, np.nan)
    ok = edge >= 0
    glen = np.full(n, np.nan)
    glen[ok] = elen[edge[ok]]
    u_ = np.full(n, -1, np.int64)
    v_ = np.full(n, -1, np.int64)
    u_[ok] = graph.edges["u"].to_numpy()[edge[ok]]
    v_[ok] = graph.edges["v"].to_numpy()[edge[ok]]
    return {"edge": edge, "u": u_, "v": v_, "offset": offset, "access": access,
            "edge_length": glen, "snap_x": sx, "snap_y": sy}
