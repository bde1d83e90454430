"""Network distances: one multi-source shortest-path pass, nearest facility, distance matrices.

Distances between two snapped points account for both access distances and for the positions
along the edges, including two points on the same edge. Nearest-facility distances for any
number of demand points come from one multi-source shortest-path pass over the CSR street graph:
every facility seeds both ends of its edge (access + distance along the edge), so no loop over
facilities is ever needed. The pass is compiled with numba (a bucket queue, see
:func:`_ms_buckets`) and fused with a second compiled pass that maps every demand point to its
distance (both edge ends, offsets, access, facilities on the same edge); it gives the same
distances as :func:`scipy.sparse.csgraph.dijkstra` (``min_only=True``) on the graph with one
virtual node per facility, which is kept as the reference (and the fallback without numba).
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

from .._numba import HAVE_NUMBA, njit
from ._network_common import (INF, as_points, check_projected, dedupe_min, is_snapped,
                              same_crs)
from .snapping import snap_points
from .street_graph import StreetGraph

__all__ = ["MultiSourceResult", "multi_source", "nearest_facility", "distance_matrix",
           "network_distance"]


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


# --------------------------------------------------------------------------------------------
# compiled multi-source Dijkstra (numba) and the fused per-demand pass
# --------------------------------------------------------------------------------------------
#
# The kernels work on the street CSR only: facilities are not added as virtual rows, they seed
# the heap directly (node ``u`` and ``v`` of their edge with access + offset + cost), which is
# the same search as scipy's on the augmented matrix (a virtual node has no incoming edges, so it
# is settled first and relaxes exactly those two entries). scipy's
# ``dijkstra(min_only=True)`` on the augmented matrix stays the reference (``_multi_source_scipy``).

@njit(cache=True, nogil=True)
def _ms_buckets(indptr, indices, data, seed_node, seed_dist, seed_src, order, limit, base,
                delta, n_buckets, n_nodes, want_pred, dist, src, pred, nxt, ent,
                key, free):  # pragma: no cover - compiled
    """Multi-source shortest paths with a circular bucket queue (sequential delta-stepping).

    Bucket ``i`` holds the nodes labelled with a distance in ``[base + i*delta, base +
    (i+1)*delta)``; buckets are emptied in order, so when bucket ``i`` is empty every distance
    below its end is final. Inside a bucket a node may be improved again by an edge shorter than
    ``delta`` and is then scanned again (label correcting), so the answer is exact for any
    ``delta`` > 0; ``n_buckets`` must be a power of two above (longest edge) / ``delta`` + 2.
    Seeds (``order``: seeds sorted by ``seed_dist``) enter when their bucket is reached. Fills
    ``dist`` (inf when farther than ``limit``), ``src`` (serving source, -1) and ``pred``
    (predecessor node; ``n_nodes + source`` for a node entered from its source, -9999 otherwise;
    written only if ``want_pred``). ``nxt``, ``ent``, ``key``, ``free`` are the pool of bucket
    entries; returns False if it was too small (the caller retries with a larger one).

    The pool arrays are passed in and never reassigned here: growing them inside the kernel
    made numba reference-count them in the hot loop (twice as slow). Distances are the same
    floating-point sums as Dijkstra's (the least fixed point of ``d[b] = min(d[a] + w)``).
    """
    n = dist.shape[0]
    for i in range(n):
        dist[i] = np.inf
        src[i] = -1
        pred[i] = -9999
    head = np.full(n_buckets, -1, np.int32)
    cap = nxt.shape[0]
    n_free = 0
    top = 0          # entries [0, top) have been handed out at least once
    live = 0
    inv = 1.0 / delta
    mask = n_buckets - 1  # a power of two: the bucket of a label is a bit mask, not a division
    ns = seed_node.shape[0]
    # label every seed first, as scipy does when it settles the virtual source nodes (so a node
    # reached equally well from its source and through the graph keeps the source as
    # predecessor); a seed enters its bucket later only if its label still stands
    for j in range(ns):
        a = seed_node[j]
        d = seed_dist[j]
        if d <= limit and d < dist[a]:
            dist[a] = d
            src[a] = seed_src[j]
            pred[a] = n_nodes + seed_src[j]
    si = 0
    cur = 0
    while True:
        if live == 0:  # jump to the next seed
            if si >= ns or seed_dist[order[si]] > limit:
                break
            cur = int((seed_dist[order[si]] - base) * inv)
        while si < ns:  # seeds of this bucket
            j = order[si]
            d = seed_dist[j]
            if d > limit:
                si = ns
                break
            if int((d - base) * inv) > cur:
                break
            si += 1
            a = seed_node[j]
            if d == dist[a] and pred[a] == n_nodes + seed_src[j]:  # still its own label
                if n_free > 0:
                    n_free -= 1
                    e = free[n_free]
                else:
                    if top == cap:
                        return False
                    e = top
                    top += 1
                slot = cur & mask
                ent[e] = a
                key[e] = d
                nxt[e] = head[slot]
                head[slot] = e
                live += 1
        slot = cur & mask
        while head[slot] != -1:
            e = head[slot]
            head[slot] = nxt[e]
            live -= 1
            a = ent[e]
            d = key[e]
            free[n_free] = e
            n_free += 1
            if d > dist[a]:
                continue  # stale
            s = src[a]
            for p in range(indptr[a], indptr[a + 1]):
                b = indices[p]
                nd = d + data[p]
                if nd < dist[b] and nd <= limit:
                    dist[b] = nd
                    src[b] = s
                    if want_pred:
                        pred[b] = a
                    if n_free > 0:
                        n_free -= 1
                        e2 = free[n_free]
                    else:
                        if top == cap:
                            return False
                        e2 = top
                        top += 1
                    s2 = int((nd - base) * inv) & mask
                    ent[e2] = b
                    key[e2] = nd
                    nxt[e2] = head[s2]
                    head[s2] = e2
                    live += 1
        cur += 1
    return True


@njit(cache=True, nogil=True)
def _demand_pass(node_dist, node_src, dedge, du, dv, doff, dlen, dacc, node_flag,
                 fac_ptr, fac_pos, fac_off, fac_acc, out_dist, out_src):  # pragma: no cover
    """Per demand point: the better of leaving its edge by ``u`` or ``v``, then any facility
    on the same edge joined directly along it (``fac_ptr``/``fac_pos``: facilities grouped by
    edge; ``fac_acc`` includes the facility's cost; ``node_flag`` marks the end nodes of those
    edges, so the demand's edge id is read only there). Same arithmetic, in the same order, as
    the numpy version (:func:`_demand_from_nodes` and :func:`_same_edge`); written without
    data-dependent branches in the main path (the u/v choice is a coin toss for the CPU)."""
    n_fe = fac_ptr.shape[0] - 1
    for i in range(du.shape[0]):
        u = du[i]
        if u < 0:  # not snapped
            out_dist[i] = np.inf
            out_src[i] = -1
            continue
        v = dv[i]
        t = doff[i]
        a = dacc[i]
        x = t + node_dist[u]
        rest = max(dlen[i] - t, 0.0)
        y = rest + node_dist[v]
        use_v = y < x
        best = (y if use_v else x) + a
        w = v if use_v else u
        s = node_src[w]
        if not np.isfinite(best):
            s = -1
        if node_flag[u]:
            e = dedge[i]
            if e < n_fe:
                for q in range(fac_ptr[e], fac_ptr[e + 1]):
                    j = fac_pos[q]
                    dd = a + abs(t - fac_off[j]) + fac_acc[j]
                    if dd < best:
                        best = dd
                        s = j
        out_dist[i] = best
        out_src[i] = s


def _col(df: pd.DataFrame, name: str, dtype: Any) -> np.ndarray:
    """A column as a contiguous array of ``dtype`` (a view when it already is one)."""
    return np.ascontiguousarray(df[name].to_numpy(), dtype=dtype)


@dataclass
class _Seeds:
    """Facilities as heap seeds (node, start distance, source position) and grouped by edge."""

    node: np.ndarray
    dist: np.ndarray
    src: np.ndarray
    edge_ptr: np.ndarray
    edge_pos: np.ndarray
    off: np.ndarray
    acc: np.ndarray
    node_flag: np.ndarray


def _seeds(graph: StreetGraph, fs: pd.DataFrame, extra: np.ndarray) -> _Seeds:
    k = len(fs)
    fe = _col(fs, "edge", np.int64)
    ok = fe >= 0
    pos = np.flatnonzero(ok).astype(np.int32)
    acc_all = _col(fs, "access", np.float64) + extra          # access + cost, as in scipy
    off_all = np.nan_to_num(_col(fs, "offset", np.float64))
    acc, off = acc_all[ok], off_all[ok]
    L = _col(fs, "edge_length", np.float64)[ok]
    node = np.r_[_col(fs, "u", np.int32)[ok], _col(fs, "v", np.int32)[ok]]
    dist = np.r_[acc + off, acc + np.maximum(L - off, 0.0)]
    src = np.r_[pos, pos]
    if pos.size:
        n_e = int(fe[ok].max()) + 1
        order = pos[np.argsort(fe[ok], kind="stable")].astype(np.int32)
        ptr = np.zeros(n_e + 1, np.int64)
        np.cumsum(np.bincount(fe[ok], minlength=n_e), out=ptr[1:])
    else:
        order = np.zeros(0, np.int32)
        ptr = np.zeros(1, np.int64)
    flag = np.zeros(graph.n_nodes, np.bool_)
    flag[node] = True
    return _Seeds(node, dist, src, ptr, order, np.ascontiguousarray(off_all),
                  np.ascontiguousarray(acc_all if k else np.zeros(0)), flag)


def _csr_arrays(graph: StreetGraph) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """int32 ``indptr``/``indices`` and float64 ``data`` of the street CSR (cached)."""
    arrs = graph.__dict__.get("_csr_arrays")
    if arrs is None:
        m = graph.csr
        arrs = (np.ascontiguousarray(m.indptr, np.int32) if m.nnz < 2**31 else m.indptr,
                np.ascontiguousarray(m.indices, np.int32),
                np.ascontiguousarray(m.data, np.float64))
        graph.__dict__["_csr_arrays"] = arrs
    return arrs


def _bucket_width(graph: StreetGraph) -> tuple[float, int]:
    """Bucket width (the median positive edge length) and number of circular buckets (cached)."""
    bw = graph.__dict__.get("_bucket_width")
    if bw is None:
        w = _csr_arrays(graph)[2]
        pos = w[w > 0]
        maxw = float(w.max()) if len(w) else 0.0
        delta = float(np.median(pos)) if len(pos) else 1.0
        delta = max(delta, maxw / 2**20, 1e-9)
        bw = (delta, 1 << int(maxw / delta + 3).bit_length())
        graph.__dict__["_bucket_width"] = bw
    return bw


def _node_pass(graph: StreetGraph, seeds: _Seeds, limit: float | None, want_pred: bool = True
               ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Compiled multi-source search: per-node distance, source position, predecessor (left
    at -9999 everywhere but at the sources' own edge ends unless ``want_pred``)."""
    n = graph.n_nodes
    indptr, indices, data = _csr_arrays(graph)
    delta, n_buckets = _bucket_width(graph)
    dist = np.empty(n, np.float64)
    src = np.empty(n, np.int32)
    pred = np.empty(n, np.int32)
    if len(seeds.node) == 0:
        dist.fill(INF)
        src.fill(-1)
        pred.fill(-9999)
        return dist, src, pred
    order = np.argsort(seeds.dist, kind="stable").astype(np.int32)
    base = float(seeds.dist[order[0]])
    lim = INF if limit is None else float(limit)
    cap = n + len(seeds.node) + 16
    while True:
        pool = (np.empty(cap, np.int32), np.empty(cap, np.int32), np.empty(cap, np.float64),
                np.empty(cap, np.int32))
        if _ms_buckets(indptr, indices, data, seeds.node, seeds.dist, seeds.src, order, lim,
                       base, delta, n_buckets, n, want_pred, dist, src, pred, *pool):
            return dist, src, pred
        cap *= 4  # pragma: no cover - needs more pending labels than nodes


def _multi_source_scipy(graph: StreetGraph, sources: Any, *, limit: float | None = None,
                        cost: np.ndarray | None = None) -> MultiSourceResult:
    """Reference implementation of :func:`multi_source`: scipy's Dijkstra (``min_only``) on the
    street CSR augmented with one virtual row per source. Kept for tests and as the fallback
    when numba is unavailable."""
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
    if not HAVE_NUMBA:  # pragma: no cover - numba is a dependency
        return _multi_source_scipy(graph, sources, limit=limit, cost=cost)
    snapped = snap_points(graph, sources)
    extra = np.zeros(len(snapped)) if cost is None else np.asarray(cost, float)
    dist, src, pred = _node_pass(graph, _seeds(graph, snapped, extra), limit)
    return MultiSourceResult(dist, src.astype(np.int64), pred, graph.n_nodes)


def nearest_facility(graph: StreetGraph, demand: Any, facilities: Any, *,
                     limit: float | None = None, cost: np.ndarray | None = None,
                     max_access: float | None = None) -> pd.DataFrame:
    """Nearest facility of every demand point, by network and by straight line.

    One multi-source Dijkstra pass from all facilities; demand and facilities are snapped to
    edges and their access distances added. A demand point and a facility on the same edge
    are joined directly along that edge.

    Parameters
    ----------
    graph : StreetGraph
    demand, facilities : GeoDataFrame, GeoSeries or geometries (or snapped DataFrames)
        In the graph's CRS (other CRSs are converted). Polygons stand by a representative point.
    limit : float, optional
        Search radius in metres; farther demand gets ``inf`` and no facility.
    cost : array, optional
        Extra cost per facility added to the network distance (see :func:`multi_source`).
    max_access : float, optional
        Demand farther than this from every street is unreachable (``inf``).

    Returns
    -------
    DataFrame
        Index of ``demand``; columns ``distance_network`` (m, ``inf`` when unreachable),
        ``facility`` (index label of the serving facility, ``None`` if none), ``distance_straight``
        and ``facility_straight`` (the nearest facility by straight line; NaN / ``None`` when
        pre-snapped frames are passed), ``access`` (m from the demand point to its street).

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
    dem_arr, dem_crs, dem_index = (as_points(demand) if not is_snapped(demand)
                                   else (None, None, demand.index))
    fs = snap_points(graph, facilities)
    ds = snap_points(graph, demand)
    k = len(fs)
    extra = np.zeros(k) if cost is None else np.asarray(cost, float)
    if HAVE_NUMBA:
        # one compiled Dijkstra pass from the facilities, then one compiled pass over the demand
        # (both edge ends, offsets, access, and facilities on the demand point's own edge)
        seeds = _seeds(graph, fs, extra)
        node_dist, node_src, _ = _node_pass(graph, seeds, limit, want_pred=False)
        dist = np.empty(len(ds), np.float64)
        src = np.empty(len(ds), np.int64)
        _demand_pass(node_dist, node_src, _col(ds, "edge", np.int64), _col(ds, "u", np.int64),
                     _col(ds, "v", np.int64), _col(ds, "offset", np.float64),
                     _col(ds, "edge_length", np.float64), _col(ds, "access", np.float64),
                     seeds.node_flag, seeds.edge_ptr, seeds.edge_pos, seeds.off, seeds.acc,
                     dist, src)
    else:  # pragma: no cover - numba is a dependency
        res = _multi_source_scipy(graph, fs, limit=limit, cost=extra)
        dist, src = _demand_from_nodes(res.dist, res.source, ds)
        dist, src = _same_edge(ds, fs, extra, dist, src)
    if max_access is not None:
        far = ds["access"].to_numpy() > max_access
        dist[far] = INF
        src[far] = -1
    if limit is not None:
        over = dist > limit
        dist[over] = INF
        src[over] = -1
    labels = np.asarray(fac_index, dtype=object)
    # one gather: position -1 (no facility) picks the trailing None
    fac = np.append(labels, None)[src]
    n_dem = len(dist)
    if dem_arr is not None and fac_arr is not None and k:
        if fac_crs is not None and dem_crs is not None and not same_crs(fac_crs, dem_crs):
            fac_arr = np.asarray(gpd.GeoSeries(fac_arr, crs=fac_crs).to_crs(dem_crs).values,
                                 dtype=object)
        tree = shapely.STRtree(fac_arr)
        (pi, fi), d = tree.query_nearest(dem_arr, return_distance=True, all_matches=False)
        ds_ = np.full(n_dem, INF)
        fs_ = np.full(n_dem, None, dtype=object)
        ds_[pi] = d
        fs_[pi] = labels[fi]
    else:  # snapped frames carry no original geometry
        ds_ = np.full(n_dem, np.nan)
        # all None: say it is object, pandas would otherwise scan 1M values to infer that
        fs_ = pd.Series(np.full(n_dem, None, dtype=object), index=dem_index, dtype=object,
                        copy=False)
    # every column is a fresh array owned by the result: no copy, no consolidation
    return pd.DataFrame({"distance_network": dist, "facility": fac,
                         "access": np.array(ds["access"].to_numpy(), dtype=float),
                         "distance_straight": ds_, "facility_straight": fs_},
                        index=dem_index, copy=False)




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
    d = pd.DataFrame({"i": np.flatnonzero(hit), "edge": de[hit],
                      "t": ds["offset"].to_numpy(float)[hit],
                      "a": ds["access"].to_numpy(float)[hit]})
    f = pd.DataFrame({"j": np.flatnonzero(okf), "edge": fe[okf],
                      "tf": fs["offset"].to_numpy(float)[okf],
                      "af": fs["access"].to_numpy(float)[okf] + extra[okf]})
    m = d.merge(f, on="edge")
    m["d"] = m["a"] + np.abs(m["t"] - m["tf"]) + m["af"]
    best = m.loc[m.groupby("i")["d"].idxmin()]
    i = best["i"].to_numpy()
    better = best["d"].to_numpy() < dist[i]
    dist[i[better]] = best["d"].to_numpy()[better]
    src[i[better]] = best["j"].to_numpy()[better]
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
    ss = snap_points(graph, sources)
    ts = snap_points(graph, targets)
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
