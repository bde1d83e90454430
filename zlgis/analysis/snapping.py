"""Snap points to the nearest edge of a street graph (edge, offset along it, access distance)."""

from __future__ import annotations

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


def snap_points(graph: StreetGraph, points: Any, *, max_distance: float | None = None
                ) -> pd.DataFrame:
    """Snap points to their nearest edge of ``graph``; see :meth:`StreetGraph.snap`.

    Exact and vectorised: candidate straight segments come from a KD-tree over points sampled
    along every segment (at most ``s`` apart); the exact point-to-segment distance is computed for
    the ``k`` nearest samples' segments. The answer is provably the nearest segment when the
    k-th sample is farther than the best distance + ``s``/2; the few points where that bound
    does not hold are snapped with an STRtree nearest-neighbour query instead.
    """
    if is_snapped(points):
        return points  # already snapped
    arr, crs, index = as_points(points)
    if crs is not None and graph.crs is not None and not same_crs(crs, graph.crs):
        arr = np.asarray(gpd.GeoSeries(arr, crs=crs).to_crs(graph.crs).values, dtype=object)
    n = len(arr)
    edge = np.full(n, -1, np.int64)
    access = np.full(n, INF)
    offset = np.full(n, np.nan)
    sx = np.full(n, np.nan)
    sy = np.full(n, np.nan)
    if n:
        px, py = shapely.get_x(arr), shapely.get_y(arr)
        seg = graph._segments
        tree, sample_seg, spacing = graph._sample_tree
        k = int(min(8, len(sample_seg)))
        unsure = np.zeros(n, bool)
        # in blocks, so that the (block, k) work arrays stay small for millions of points
        for lo in range(0, n, _SNAP_BLOCK):
            hi = min(lo + _SNAP_BLOCK, n)
            bx_, by_ = px[lo:hi], py[lo:hi]
            dk, ik = tree.query(np.c_[bx_, by_], k=k)
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
            edge[lo:hi] = seg["edge"][sid]
            access[lo:hi] = best
            offset[lo:hi] = seg["start"][sid] + t[rows, j] * np.sqrt(ll[rows, j])
            sx[lo:hi], sy[lo:hi] = qx[rows, j], qy[rows, j]
            unsure[lo:hi] = ~(dk[:, -1] > best + spacing / 2) & (k < len(sample_seg))
        if unsure.any():
            u = np.flatnonzero(unsure)
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
        elen = graph.edges["length"].to_numpy(float)
        offset = np.clip(offset, 0.0, elen[edge])
        if max_distance is not None:
            far = access > max_distance
            edge[far] = -1
            access[far] = INF
            offset[far] = sx[far] = sy[far] = np.nan
    ok = edge >= 0
    elen = graph.edges["length"].to_numpy(float)
    glen = np.full(n, np.nan)
    glen[ok] = elen[edge[ok]]
    u_ = np.full(n, -1, np.int64)
    v_ = np.full(n, -1, np.int64)
    u_[ok] = graph.edges["u"].to_numpy()[edge[ok]]
    v_[ok] = graph.edges["v"].to_numpy()[edge[ok]]
    return pd.DataFrame({"edge": edge, "u": u_, "v": v_, "offset": offset, "access": access,
                         "edge_length": glen, "snap_x": sx, "snap_y": sy}, index=index)
