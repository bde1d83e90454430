"""Network distances: one multi-source shortest-path pass, nearest facility, distance matrices.

Distances between two snapped points account for both access distances and for the positions
along the edges, including two points on the same edge. Nearest-facility distances for any
number of demand points come from one multi-source shortest-path pass over the CSR street graph:
every facility enters the graph as a virtual node joined to both ends of its edge (access +
distance along the edge), and :func:`scipy.sparse.csgraph.dijkstra` (``min_only=True``) runs once
from all of them, so no loop over facilities is ever needed; numpy then maps every demand point
to its distance (both edge ends, offsets, access, facilities on the same edge).

A compiled (numba) bucket-queue search with a fused demand pass used to replace the scipy call:
about 2.4x faster for the search itself, but under 0.5 % of the command a user waits for (graph
building and snapping dominate), so it did not earn its place (BENCHMARKS.md, issue 21).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import scipy.sparse as sp
import shapely
from scipy.sparse.csgraph import dijkstra

from ._network_common import (
    INF,
    as_points,
    check_projected,
    dedupe_min,
    index_of,
    is_snapped,
    is_xy,
    point_xy,
    same_crs,
)
from .snapping import snap_point_sets, snap_points
from .street_graph import StreetGraph

__all__ = ["MultiSourceResult", "multi_source", "nearest_facility", "distance_matrix",
           "network_distance"]

#: demand points given by coordinates snapped and measured at a time (the snapped arrays of
#: the 1M city's 1.36M land samples, 87 MB, are then never held at once)
_DEMAND_BLOCK = 524_288


@dataclass
class MultiSourceResult:
    """Result of one multi-source Dijkstra pass.

    Attributes
    ----------
    dist : ndarray
        Per graph node, network distance to the nearest source (``inf`` beyond the limit).
    source : ndarray
        Per graph node, position (0-based, in the sources given) of the nearest source, -1 if
        none within the limit.
    predecessors : ndarray
        Predecessor of every node on its shortest path (virtual source nodes are numbered
        ``n_nodes + source``), -9999 for sources and unreached nodes.
    n_nodes : int
        Number of real graph nodes.
    """

    dist: np.ndarray
    source: np.ndarray
    predecessors: np.ndarray
    n_nodes: int

    def path_nodes(self, node: int) -> list[int]:
        """Graph nodes of the shortest path from ``node`` back to its source's edge."""
        out = []
        while 0 <= node < self.n_nodes:
            out.append(int(node))
            node = int(self.predecessors[node])
        return out


def _multi_source(graph: StreetGraph, sources: Any, *, limit: float | None = None,
                  cost: np.ndarray | None = None) -> MultiSourceResult:
    """scipy's Dijkstra (``min_only``) on the street CSR augmented with one virtual row per
    source."""
    snapped = snap_points(graph, sources)
    m, pos = _augmented(graph, snapped, cost)
    n = graph.n_nodes
    idx = n + pos
    if len(idx) == 0:
        return MultiSourceResult(np.full(n, INF), np.full(n, -1, np.int64),
                                 np.full(n, -9999, np.int32), n)
    dist, pred, src = dijkstra(m, directed=True, indices=idx, min_only=True,
                               return_predecessors=True,
                               limit=INF if limit is None else float(limit))
    src = np.where(src[:n] >= n, src[:n] - n, -1).astype(np.int64)
    return MultiSourceResult(dist[:n], src, pred[:n], n)


def _virtual_entries(graph: StreetGraph, snapped: pd.DataFrame, cost: np.ndarray | None
                     ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Directed entries virtual source -> both ends of its edge; returns also source positions."""
    k = len(snapped)
    ok = snapped["edge"].to_numpy() >= 0
    pos = np.flatnonzero(ok)
    extra = np.zeros(k) if cost is None else np.asarray(cost, float)
    acc = snapped["access"].to_numpy(float)[ok] + extra[ok]
    off = snapped["offset"].to_numpy(float)[ok]
    L = snapped["edge_length"].to_numpy(float)[ok]
    vid = graph.n_nodes + pos
    r = np.r_[vid, vid]
    c = np.r_[snapped["u"].to_numpy()[ok], snapped["v"].to_numpy()[ok]]
    w = np.r_[acc + off, acc + np.maximum(L - off, 0.0)]
    r, c, w = dedupe_min(r, c, w)
    return r, c, w, pos


def _augmented(graph: StreetGraph, snapped: pd.DataFrame, cost: np.ndarray | None
               ) -> tuple[sp.csr_matrix, np.ndarray]:
    """The street CSR with one extra row per source (virtual nodes have no incoming edges, so
    the street rows are reused as they are and the new rows are simply appended)."""
    base = graph.csr
    r, c, w, pos = _virtual_entries(graph, snapped, cost)
    n0 = graph.n_nodes
    n = n0 + len(snapped)
    counts = np.bincount(r - n0, minlength=len(snapped))  # r is sorted (from dedupe_min)
    indptr = np.r_[base.indptr, base.indptr[-1] + np.cumsum(counts)]
    m = sp.csr_matrix((np.r_[base.data, w], np.r_[base.indices, c], indptr), shape=(n, n))
    return m, pos


def multi_source(graph: StreetGraph, sources: Any, *, limit: float | None = None,
                 cost: np.ndarray | None = None) -> MultiSourceResult:
    """Distance from every node to its nearest source, in one Dijkstra pass.

    Each source is snapped to its edge and enters the graph as a virtual node joined to both
    ends of that edge (weight: access distance + distance along the edge + ``cost``).

    Parameters
    ----------
    sources : GeoDataFrame, GeoSeries, geometries, or the DataFrame returned by ``snap``.
    limit : float, optional
        Stop at this distance (metres); nodes farther away get ``inf``.
    cost : array, optional
        Extra cost per source (e.g. ``max_radius - radius`` to compare facilities with
        different service radii in one pass).
    """
    return _multi_source(graph, sources, limit=limit, cost=cost)


def nearest_facility(graph: StreetGraph, demand: Any, facilities: Any, *,
                     limit: float | None = None, cost: np.ndarray | None = None,
                     max_access: float | None = None, straight: bool = True) -> pd.DataFrame:
    """Nearest facility of every demand point, by network and by straight line.

    One multi-source Dijkstra pass from all facilities; demand and facilities are snapped to
    edges and their access distances added. A demand point and a facility on the same edge
    are joined directly along that edge. Demand given by its coordinates is snapped and
    measured :data:`_DEMAND_BLOCK` points at a time (the blocks are not remembered by the
    graph: the same distances, without a large set's snapped arrays held at once).

    Parameters
    ----------
    graph : StreetGraph
    demand, facilities : GeoDataFrame, GeoSeries, geometries or (n, 2) coordinates
        In the graph's CRS (other CRSs are converted). Polygons stand by a representative
        point. Snapped DataFrames (:meth:`StreetGraph.snap`) are taken as they are.
    limit : float, optional
        Search radius in metres; farther demand gets ``inf`` and no facility.
    cost : array, optional
        Extra cost per facility added to the network distance (see :func:`multi_source`).
    max_access : float, optional
        Demand farther than this from every street is unreachable (``inf``).
    straight : bool, default True
        Also find the nearest facility by straight line (``False``: those two columns are
        NaN / ``None``, which saves a nearest-neighbour search over all demand points).

    Returns
    -------
    DataFrame
        Index of ``demand``; columns ``distance_network`` (m, ``inf`` when unreachable),
        ``facility`` (index label of the serving facility, ``None`` if none), ``distance_straight``
        and ``facility_straight`` (the nearest facility by straight line; NaN / ``None`` when
        pre-snapped frames are passed or ``straight=False``), ``access`` (m from the demand point to its street).

    Examples
    --------
    A home and a toilet on the same street, 40 m apart along it:

    >>> import geopandas as gpd
    >>> from shapely.geometry import LineString, Point
    >>> g = StreetGraph.from_roads(gpd.GeoDataFrame(
    ...     geometry=[LineString([(0, 0), (100, 0)])], crs="EPSG:4550"))
    >>> r = nearest_facility(g, gpd.GeoSeries([Point(30, 3)], crs="EPSG:4550"),
    ...                      gpd.GeoSeries([Point(70, -5)], index=["WC1"], crs="EPSG:4550"))
    >>> float(r.loc[0, "distance_network"]), r.loc[0, "facility"]
    (48.0, 'WC1')
    """
    check_projected(graph.crs, "路网")
    fac_arr, fac_crs, fac_index = (as_points(facilities) if not is_snapped(facilities)
                                   else (None, None, facilities.index))
    # the demand's points only for the straight search (a million polygons' points: 200 MB)
    dem_arr, dem_crs, dem_index = (as_points(demand) if straight and not is_snapped(demand)
                                   else (None, None, index_of(demand)))
    blocks = _demand_blocks(demand)
    if blocks is None:
        fs, ds = snap_point_sets(graph, [facilities, demand], copy=False)  # one pass for both
    else:
        fs = snap_point_sets(graph, [facilities], copy=False)[0]
    k = len(fs)
    extra = np.zeros(k) if cost is None else np.asarray(cost, float)
    res = _multi_source(graph, fs, limit=limit, cost=extra)
    if blocks is None:
        dist, src, access = _from_facilities(res, ds, fs, extra)
    else:  # one Dijkstra pass, the demand snapped and measured a block at a time
        parts = [_from_facilities(res, snap_point_sets(graph, [b], copy=False,
                                                       remember=False)[0], fs, extra)
                 for b in blocks]
        dist, src, access = (np.concatenate(a) for a in zip(*parts))
    if max_access is not None:
        far = access > max_access
        dist[far] = INF
        src[far] = -1
    if limit is not None:
        over = dist > limit
        dist[over] = INF
        src[over] = -1
    labels = np.asarray(fac_index, dtype=object)
    # one gather: position -1 (no facility) picks the trailing None
    fac = np.append(labels, None)[src]
    ds_, fs_ = _straight_nearest(dem_arr if straight else None, dem_crs, dem_index, fac_arr,
                                 fac_crs, labels, len(dist))
    # every column is a fresh array owned by the result: no copy, no consolidation
    return pd.DataFrame({"distance_network": dist, "facility": fac, "access": access,
                         "distance_straight": ds_, "facility_straight": fs_},
                        index=dem_index, copy=False)


def _demand_blocks(demand: Any) -> list[np.ndarray] | None:
    """Coordinates (:func:`is_xy`) of more than :data:`_DEMAND_BLOCK` points in blocks of
    that many (checked to be finite first); ``None`` for any other demand (one block)."""
    if not is_xy(demand) or len(demand) <= _DEMAND_BLOCK:
        return None
    point_xy(demand)
    return [demand[lo:lo + _DEMAND_BLOCK] for lo in range(0, len(demand), _DEMAND_BLOCK)]


def _from_facilities(res: MultiSourceResult, ds: pd.DataFrame, fs: pd.DataFrame,
                     extra: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Network distance and facility (position) of snapped demand points, and their access
    distances (a fresh array)."""
    dist, src = _demand_from_nodes(res.dist, res.source, ds)
    dist, src = _same_edge(ds, fs, extra, dist, src)
    return dist, src, np.array(ds["access"].to_numpy(), dtype=float)


def _straight_nearest(dem_arr: Any, dem_crs: Any, dem_index: pd.Index, fac_arr: Any,
                      fac_crs: Any, labels: np.ndarray, n_dem: int) -> tuple[Any, Any]:
    """Straight-line distance to, and label of, every demand point's nearest facility."""
    if dem_arr is None or fac_arr is None or not len(labels):
        # snapped frames carry no original geometry; all None: say it is object, pandas would
        # otherwise scan 1M values to infer that
        return np.full(n_dem, np.nan), pd.Series(np.full(n_dem, None, dtype=object),
                                                 index=dem_index, dtype=object, copy=False)
    if fac_crs is not None and dem_crs is not None and not same_crs(fac_crs, dem_crs):
        fac_arr = np.asarray(gpd.GeoSeries(fac_arr, crs=fac_crs).to_crs(dem_crs).values,
                             dtype=object)
    (pi, fi), d = shapely.STRtree(fac_arr).query_nearest(dem_arr, return_distance=True,
                                                          all_matches=False)
    ds_ = np.full(n_dem, INF)
    fs_ = np.full(n_dem, None, dtype=object)
    ds_[pi] = d
    fs_[pi] = labels[fi]
    return ds_, fs_


def _demand_from_nodes(node_dist: np.ndarray, node_src: np.ndarray, ds: pd.DataFrame
                       ) -> tuple[np.ndarray, np.ndarray]:
    """Per demand point: the better of leaving its edge by ``u`` or by ``v``."""
    edge = ds["edge"].to_numpy()
    n = len(ds)
    ok = edge >= 0
    allok = bool(ok.all())
    sel = slice(None) if allok else ok
    u = ds["u"].to_numpy()[sel]
    v = ds["v"].to_numpy()[sel]
    off = ds["offset"].to_numpy(float)[sel]
    L = ds["edge_length"].to_numpy(float)[sel]
    acc = ds["access"].to_numpy(float)[sel]
    du = off + node_dist[u]
    dv = np.maximum(L - off, 0.0) + node_dist[v]
    use_v = dv < du
    best = np.minimum(du, dv) + acc
    s_ = np.where(use_v, node_src[v], node_src[u]).astype(np.int64)
    s_[~np.isfinite(best)] = -1
    if allok:
        return best, s_
    dist = np.full(n, INF)
    src = np.full(n, -1, np.int64)
    dist[ok], src[ok] = best, s_
    return dist, src


def _same_edge(ds: pd.DataFrame, fs: pd.DataFrame, extra: np.ndarray, dist: np.ndarray,
               src: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Demand points on the same edge as a facility: the direct way along the edge."""
    fe = fs["edge"].to_numpy()
    okf = fe >= 0
    if not okf.any():
        return dist, src
    de = ds["edge"].to_numpy()
    n_edges = int(max(de.max(initial=-1), fe.max(initial=-1))) + 1
    has = np.zeros(n_edges + 1, bool)
    has[fe[okf]] = True
    hit = has[de]  # de == -1 looks at the spare last slot, always False
    if not hit.any():
        return dist, src
    # pairs (demand on an edge, facility on the same edge), facilities in their order
    di, fj = np.flatnonzero(hit), np.flatnonzero(okf)
    fedge = fe[okf]
    by_edge = np.argsort(fedge, kind="stable")
    lo = np.searchsorted(fedge[by_edge], de[hit], "left")
    cnt = np.searchsorted(fedge[by_edge], de[hit], "right") - lo
    first = np.cumsum(cnt) - cnt
    rep = np.repeat(np.arange(len(di)), cnt)
    fk = by_edge[np.arange(int(cnt.sum())) - np.repeat(first - lo, cnt)]
    t, a = ds["offset"].to_numpy(float)[di], ds["access"].to_numpy(float)[di]
    tf = fs["offset"].to_numpy(float)[fj]
    af = fs["access"].to_numpy(float)[fj] + extra[okf]
    d = a[rep] + np.abs(t[rep] - tf[fk]) + af[fk]
    # each demand's nearest, the first facility among equals (lexsort is stable)
    pick = np.lexsort((d, rep))[first]
    i, best, j = di[rep[pick]], d[pick], fj[fk[pick]]
    better = best < dist[i]
    dist[i[better]] = best[better]
    src[i[better]] = j[better]
    return dist, src


def distance_matrix(graph: StreetGraph, sources: Any, targets: Any, *, limit: float,
                    chunk: int = 256) -> sp.csr_matrix:
    """Network distances from every source to every target within ``limit`` (sparse).

    Runs Dijkstra from the sources in chunks (bounded by ``limit``); both ends are snapped to
    edges with their access distances, and pairs on the same edge are joined along it. Used by
    siting, where each candidate's own catchment matters (not only the nearest one).

    Returns
    -------
    csr_matrix
        Shape (n_sources, n_targets); stored entries are the distances <= ``limit``
        (a distance of exactly 0 is stored as 1e-9 m so that it is not dropped).
    """
    ss, ts = snap_point_sets(graph, [sources, targets])
    m, pos = _augmented(graph, ss, None)
    n = graph.n_nodes
    tok = np.flatnonzero(ts["edge"].to_numpy() >= 0)
    tu = ts["u"].to_numpy()[tok]
    tv = ts["v"].to_numpy()[tok]
    toff = ts["offset"].to_numpy(float)[tok]
    tL = ts["edge_length"].to_numpy(float)[tok]
    tacc = ts["access"].to_numpy(float)[tok]
    rows, cols, vals = [], [], []
    for start in range(0, len(pos), chunk):
        p = pos[start:start + chunk]
        D = dijkstra(m, directed=True, indices=n + p, limit=float(limit))
        d = np.minimum(tacc + toff + D[:, tu], tacc + np.maximum(tL - toff, 0) + D[:, tv])
        r, c = np.nonzero(d <= limit)
        rows.append(p[r])
        cols.append(tok[c])
        vals.append(d[r, c])
    r = np.concatenate(rows) if rows else np.zeros(0, np.int64)
    c = np.concatenate(cols) if cols else np.zeros(0, np.int64)
    w = np.concatenate(vals) if vals else np.zeros(0)
    # same-edge pairs
    se = ss["edge"].to_numpy()
    te = ts["edge"].to_numpy()
    sd = pd.DataFrame({"i": np.arange(len(ss)), "edge": se, "ts": ss["offset"].to_numpy(float),
                       "as": ss["access"].to_numpy(float)})[se >= 0]
    td = pd.DataFrame({"j": np.arange(len(ts)), "edge": te, "tt": ts["offset"].to_numpy(float),
                       "at": ts["access"].to_numpy(float)})[te >= 0]
    mm = sd.merge(td, on="edge")
    if len(mm):
        dd = mm["as"] + mm["at"] + np.abs(mm["ts"] - mm["tt"])
        mm = mm[dd <= limit]
        r = np.r_[r, mm["i"].to_numpy()]
        c = np.r_[c, mm["j"].to_numpy()]
        w = np.r_[w, dd[dd <= limit].to_numpy()]
    r, c, w = dedupe_min(r.astype(np.int64), c.astype(np.int64), w)
    w = np.maximum(w, 1e-9)
    return sp.csr_matrix((w, (r, c)), shape=(len(ss), len(ts)))


def network_distance(graph: StreetGraph, a: Any, b: Any) -> float:
    """Network distance between two single points (snapped to edges, access included).

    >>> import geopandas as gpd
    >>> from shapely.geometry import LineString, Point
    >>> g = StreetGraph.from_roads(gpd.GeoDataFrame(
    ...     geometry=[LineString([(0, 0), (100, 0), (100, 100)])], crs="EPSG:4550"))
    >>> network_distance(g, Point(10, 5), Point(105, 90))
    190.0
    """
    s = gpd.GeoSeries([a], crs=graph.crs)
    t = gpd.GeoSeries([b], crs=graph.crs)
    r = nearest_facility(graph, s, t)
    return float(r["distance_network"].iloc[0])
