"""Map matching of vehicle GPS tracks to street edges (sweepers, sprinklers, any fleet).

A hidden-Markov matcher in the manner of Newson & Krumm (2009), compiled with numba:

* **candidates** — for every point, the ``k`` nearest street edges within ``radius`` metres,
  found through a uniform grid of edge pieces (the grid stores each vertex pair in every cell
  its box, widened by the radius, touches, so one cell lookup answers a point);
* **emission** — Gaussian GPS error, cost ``0.5 * (d / sigma) ** 2``;
* **transition** — ``|route - step| / beta`` (plus ``turn_cost`` when the street changes) where ``step`` is the straight distance between two
  fixes and ``route`` the distance along the network between the two candidates when they lie on
  the same edge or on two edges sharing a node; other pairs pay a fixed ``jump_cost``. This is
  what keeps a track on its street when a parallel street runs 20 m away and the GPS error is
  15 m: the nearest edge alone is wrong for a quarter of the fixes there;
* **Viterbi** per run; a run ends at a time gap, at a fix without candidates, or at a new vehicle.

The graph is :class:`zlgis.analysis.network.StreetGraph` (lines split at junctions), so the
matched ``edge`` carries the road's attributes through ``edges['source_row']``.

Examples
--------
>>> import geopandas as gpd
>>> from shapely.geometry import LineString
>>> from zlgis.analysis.network import StreetGraph
>>> roads = gpd.GeoDataFrame({"road_id": ["A", "B"], "road_class": ["主干路", "主干路"]},
...     geometry=[LineString([(0, 0), (500, 0)]), LineString([(0, 20), (500, 20)])],
...     crs="EPSG:4550")
>>> index = EdgeIndex.from_graph(StreetGraph.from_roads(roads, walk=False))
>>> x = np.arange(0.0, 500.0, 10.0)
>>> y = np.where(np.arange(len(x)) % 3 == 0, 12.0, 2.0)   # every third fix is nearer to B
>>> m = match(index, x, y, np.arange(len(x)) * 3, np.zeros(len(x), np.int64))
>>> sorted(set(index.edge_row[m.edge].tolist()))         # yet all lie on A
[0]
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
import shapely

from .._numba import njit
from ..config import load_config, unless_given

__all__ = ["EdgeIndex", "MatchResult", "match", "match_config", "swept_intervals",
           "union_length"]


def match_config() -> dict[str, float]:
    """Matcher parameters (``mapmatch`` in ``sanitation.yaml``) as plain numbers."""
    cfg = load_config("sanitation").get("mapmatch", {})
    return {k: float(v["value"] if isinstance(v, dict) else v) for k, v in cfg.items()}


# --------------------------------------------------------------------------------------------
# the edge index
# --------------------------------------------------------------------------------------------

@njit(cache=True)
def _fill_cells(ix0, ix1, iy0, iy1, nx, ncell):  # pragma: no cover - compiled
    counts = np.zeros(ncell + 1, np.int64)
    for p in range(ix0.size):
        for iy in range(iy0[p], iy1[p] + 1):
            for ix in range(ix0[p], ix1[p] + 1):
                counts[iy * nx + ix + 1] += 1
    start = np.cumsum(counts)
    items = np.empty(start[-1], np.int32)
    pos = start[:-1].copy()
    for p in range(ix0.size):
        for iy in range(iy0[p], iy1[p] + 1):
            for ix in range(ix0[p], ix1[p] + 1):
                c = iy * nx + ix
                items[pos[c]] = p
                pos[c] += 1
    return start, items


@dataclass
class EdgeIndex:
    """Street edges cut into vertex pairs ("pieces") and a uniform grid over them.

    Attributes
    ----------
    ax, ay, bx, by : arrays
        Piece end points; ``piece_edge`` its edge, ``piece_off`` its start along the edge (m).
    edge_len, edge_u, edge_v : arrays
        Per edge: length (m) and end nodes. ``edge_row`` is the row of the source road
        (``StreetGraph.edges['source_row']``), ``edge_street`` a code per street (same name, else
        same source road) and ``edges`` the graph's edges frame.
    """

    ax: np.ndarray
    ay: np.ndarray
    bx: np.ndarray
    by: np.ndarray
    piece_edge: np.ndarray
    piece_off: np.ndarray
    edge_len: np.ndarray
    edge_u: np.ndarray
    edge_v: np.ndarray
    edge_row: np.ndarray
    edge_street: np.ndarray
    x0: float
    y0: float
    cell: float
    nx: int
    ny: int
    cell_start: np.ndarray
    cell_items: np.ndarray
    radius: float
    edges: Any = None

    @classmethod
    def from_graph(cls, graph: Any, *, radius: float | None = None,
                   cell: float | None = None) -> EdgeIndex:
        """Index the edges of a :class:`~zlgis.analysis.network.StreetGraph`."""
        cfg = match_config()
        radius = float(cfg["radius_m"] if radius is None else radius)
        edges = graph.edges
        geoms = np.asarray(edges.geometry.values)
        coords, which = shapely.get_coordinates(geoms, return_index=True)
        same = which[1:] == which[:-1]
        a, b = coords[:-1][same], coords[1:][same]
        pe = which[:-1][same].astype(np.int64)
        seg = np.hypot(b[:, 0] - a[:, 0], b[:, 1] - a[:, 1])
        cum = np.cumsum(seg)
        first = np.r_[True, pe[1:] != pe[:-1]]
        base = np.maximum.accumulate(np.where(first, cum - seg, 0.0))
        off = cum - seg - base
        edge_len = np.asarray(edges["length"], dtype=np.float64)
        minx = np.minimum(a[:, 0], b[:, 0]) - radius
        maxx = np.maximum(a[:, 0], b[:, 0]) + radius
        miny = np.minimum(a[:, 1], b[:, 1]) - radius
        maxy = np.maximum(a[:, 1], b[:, 1]) + radius
        cell = float(cell or max(2.0 * radius, 50.0))
        x0, y0 = float(minx.min()), float(miny.min())
        nx = int((maxx.max() - x0) // cell) + 1
        ny = int((maxy.max() - y0) // cell) + 1
        start, items = _fill_cells(((minx - x0) // cell).astype(np.int64),
                                   ((maxx - x0) // cell).astype(np.int64),
                                   ((miny - y0) // cell).astype(np.int64),
                                   ((maxy - y0) // cell).astype(np.int64), nx, nx * ny)
        row = (np.asarray(edges["source_row"], dtype=np.int64) if "source_row" in edges
               else np.arange(len(edges)))
        # a street is a name shared by its segments, else the source road
        if "name" in edges:
            named = edges["name"].notna().to_numpy() & (edges["name"].astype(str) != "").to_numpy()
            key = np.where(named, "n:" + edges["name"].astype(str), "r:" + pd.Series(row).astype(str))
        else:
            key = row
        street = pd.factorize(np.asarray(key))[0].astype(np.int64)
        return cls(ax=a[:, 0].copy(), ay=a[:, 1].copy(), bx=b[:, 0].copy(), by=b[:, 1].copy(),
                   piece_edge=pe, piece_off=off, edge_len=edge_len,
                   edge_u=np.asarray(edges["u"], dtype=np.int64),
                   edge_v=np.asarray(edges["v"], dtype=np.int64), edge_row=row,
                   edge_street=street, x0=x0, y0=y0,
                   cell=cell, nx=nx, ny=ny, cell_start=start, cell_items=items, radius=radius,
                   edges=edges)


# --------------------------------------------------------------------------------------------
# kernels
# --------------------------------------------------------------------------------------------

@njit(cache=True)
def _candidates(px, py, ax, ay, bx, by, pedge, poff, x0, y0, cell, nx, ny, start, items,
                radius, k):  # pragma: no cover - compiled
    n = px.size
    ce = np.full((n, k), -1, np.int64)
    cd = np.full((n, k), np.inf)
    cp = np.zeros((n, k))
    r2 = radius * radius
    for i in range(n):
        fx = (px[i] - x0) / cell
        fy = (py[i] - y0) / cell
        if not (fx >= 0 and fy >= 0 and fx < nx and fy < ny):
            continue
        c = int(fy) * nx + int(fx)
        for j in range(start[c], start[c + 1]):
            p = items[j]
            dx = bx[p] - ax[p]
            dy = by[p] - ay[p]
            l2 = dx * dx + dy * dy
            t = 0.0
            if l2 > 0:
                t = ((px[i] - ax[p]) * dx + (py[i] - ay[p]) * dy) / l2
                t = min(1.0, max(0.0, t))
            qx = ax[p] + t * dx - px[i]
            qy = ay[p] + t * dy - py[i]
            d2 = qx * qx + qy * qy
            if d2 > r2:
                continue
            d = np.sqrt(d2)
            e = pedge[p]
            pos = poff[p] + t * np.sqrt(l2)
            # the same edge already listed: keep its nearer piece
            slot = -1
            for s in range(k):
                if ce[i, s] == e:
                    slot = s
                    break
            if slot >= 0:
                if d >= cd[i, slot]:
                    continue
                cd[i, slot] = d
                cp[i, slot] = pos
            elif d < cd[i, k - 1] or (d == cd[i, k - 1] and e < ce[i, k - 1]):
                slot = k - 1
                ce[i, slot] = e
                cd[i, slot] = d
                cp[i, slot] = pos
            else:
                continue
            # bubble the changed slot into place (by distance, then edge id)
            while slot > 0 and (cd[i, slot] < cd[i, slot - 1]
                                or (cd[i, slot] == cd[i, slot - 1]
                                    and ce[i, slot] < ce[i, slot - 1])):
                ce[i, slot], ce[i, slot - 1] = ce[i, slot - 1], ce[i, slot]
                cd[i, slot], cd[i, slot - 1] = cd[i, slot - 1], cd[i, slot]
                cp[i, slot], cp[i, slot - 1] = cp[i, slot - 1], cp[i, slot]
                slot -= 1
    return ce, cd, cp


@njit(cache=True)
def _route(ea, pa, eb, pb, eu, ev, elen):  # pragma: no cover - compiled
    """Network distance between two positions on the same or on adjacent edges (-1 if not)."""
    if ea == eb:
        return abs(pb - pa)
    best = -1.0
    for na in (eu[ea], ev[ea]):
        da = pa if na == eu[ea] else elen[ea] - pa
        for nb in (eu[eb], ev[eb]):
            if na == nb:
                db = pb if nb == eu[eb] else elen[eb] - pb
                if best < 0 or da + db < best:
                    best = da + db
    return best


@njit(cache=True)
def _viterbi(px, py, brk, ce, cd, cp, eu, ev, elen, street, sigma, beta, jump,
             turn):  # pragma: no cover
    n, k = ce.shape
    out_e = np.full(n, -1, np.int64)
    out_p = np.zeros(n)
    out_d = np.full(n, np.nan)
    run = np.full(n, -1, np.int64)
    back = np.zeros((n, k), np.int8)
    cost = np.empty(k)
    new = np.empty(k)
    i = 0
    rid = 0
    while i < n:
        # start a run at the first point with a candidate
        if ce[i, 0] < 0:
            i += 1
            continue
        s0 = i
        for s in range(k):
            cost[s] = 0.5 * (cd[i, s] / sigma) ** 2 if ce[i, s] >= 0 else np.inf
        j = i + 1
        while j < n and not brk[j] and ce[j, 0] >= 0:
            step = np.hypot(px[j] - px[j - 1], py[j] - py[j - 1])
            for b in range(k):
                new[b] = np.inf
                back[j, b] = 0
                if ce[j, b] < 0:
                    continue
                em = 0.5 * (cd[j, b] / sigma) ** 2
                for a in range(k):
                    if not np.isfinite(cost[a]):
                        continue
                    r = _route(ce[j - 1, a], cp[j - 1, a], ce[j, b], cp[j, b], eu, ev, elen)
                    tr = jump if r < 0 else abs(r - step) / beta
                    if street[ce[j - 1, a]] != street[ce[j, b]]:
                        tr += turn
                    c = cost[a] + tr + em
                    if c < new[b]:
                        new[b] = c
                        back[j, b] = a
            for b in range(k):
                cost[b] = new[b]
            j += 1
        # backtrack s0 .. j-1
        best = 0
        for s in range(1, k):
            if cost[s] < cost[best]:
                best = s
        for t in range(j - 1, s0 - 1, -1):
            out_e[t] = ce[t, best]
            out_p[t] = cp[t, best]
            out_d[t] = cd[t, best]
            run[t] = rid
            best = back[t, best]
        rid += 1
        i = j
    return out_e, out_p, out_d, run


@njit(cache=True)
def _intervals(e, p, run, ok, eu, ev, elen):  # pragma: no cover - compiled
    n = e.size
    ie = np.empty(2 * n, np.int64)
    lo = np.empty(2 * n)
    hi = np.empty(2 * n)
    src = np.empty(2 * n, np.int64)
    m = 0
    # a lone fix on an edge (its neighbours on other edges) is a corner artefact: no coverage
    lone = np.zeros(n, np.bool_)
    for i in range(1, n - 1):
        lone[i] = (run[i] == run[i - 1] and run[i] == run[i + 1] and e[i] != e[i - 1]
                   and e[i] != e[i + 1])
    for i in range(1, n):
        if run[i] < 0 or run[i] != run[i - 1] or not ok[i] or lone[i] or lone[i - 1]:
            continue
        a, b = e[i - 1], e[i]
        if a == b:
            ie[m] = a
            lo[m] = min(p[i - 1], p[i])
            hi[m] = max(p[i - 1], p[i])
            src[m] = i
            m += 1
            continue
        for na in (eu[a], ev[a]):
            if na == eu[b] or na == ev[b]:
                ie[m] = a
                if na == eu[a]:
                    lo[m], hi[m] = 0.0, p[i - 1]
                else:
                    lo[m], hi[m] = p[i - 1], elen[a]
                src[m] = i
                m += 1
                ie[m] = b
                if na == eu[b]:
                    lo[m], hi[m] = 0.0, p[i]
                else:
                    lo[m], hi[m] = p[i], elen[b]
                src[m] = i
                m += 1
                break
    return ie[:m], lo[:m], hi[:m], src[:m]


@njit(cache=True)
def _union(group, lo, hi):  # pragma: no cover - compiled
    """Length of the union of sorted intervals per group (input sorted by group, lo)."""
    n = group.size
    out_g = np.empty(n, np.int64)
    out_l = np.empty(n)
    m = -1
    cur_lo = 0.0
    cur_hi = 0.0
    for i in range(n):
        if m < 0 or group[i] != out_g[m]:
            if m >= 0:
                out_l[m] += cur_hi - cur_lo
            m += 1
            out_g[m] = group[i]
            out_l[m] = 0.0
            cur_lo, cur_hi = lo[i], hi[i]
        elif lo[i] > cur_hi:
            out_l[m] += cur_hi - cur_lo
            cur_lo, cur_hi = lo[i], hi[i]
        elif hi[i] > cur_hi:
            cur_hi = hi[i]
    if m >= 0:
        out_l[m] += cur_hi - cur_lo
    return out_g[:m + 1], out_l[:m + 1]


# --------------------------------------------------------------------------------------------
# public functions
# --------------------------------------------------------------------------------------------

@dataclass
class MatchResult:
    """Per fix: matched ``edge`` (-1 when none), position ``pos`` along it (m), distance ``dist``
    (m) from the fix, ``run`` (matched stretch id, -1 when unmatched) and the nearest edge
    ``nearest`` (the first candidate, what a plain nearest join would give)."""

    edge: np.ndarray
    pos: np.ndarray
    dist: np.ndarray
    run: np.ndarray
    nearest: np.ndarray
    nearest_dist: np.ndarray


def match(index: EdgeIndex, x: np.ndarray, y: np.ndarray, t: np.ndarray,
          vehicle: np.ndarray, *, sigma: float | None = None, beta: float | None = None,
          jump_cost: float | None = None, turn_cost: float | None = None,
          max_gap_s: float | None = None,
          k: int | None = None) -> MatchResult:
    """Match fixes sorted by vehicle and time to the edges of ``index``.

    Parameters
    ----------
    index : EdgeIndex
    x, y : arrays
        Coordinates in the graph's CRS (metres).
    t : array of int
        Epoch seconds, non-decreasing within each vehicle.
    vehicle : array of int
        Vehicle code per fix (a run never spans two vehicles).
    sigma, beta, jump_cost, turn_cost, max_gap_s, k : float, optional
        GPS error (m), transition scale (m), cost of a jump between non-adjacent edges, cost of
        a change of street (name, else source road), the longest silence (s) inside one run and
        the number of candidates; defaults from ``sanitation.yaml`` (``mapmatch``).

    Returns
    -------
    MatchResult
    """
    cfg = match_config()
    sigma, beta, jump, turn, gap = map(float, unless_given(
        cfg, sigma_m=sigma, beta_m=beta, jump_cost=jump_cost, turn_cost=turn_cost,
        max_gap_s=max_gap_s))
    k = int(unless_given(cfg, candidates=k)[0])
    x = np.ascontiguousarray(x, dtype=np.float64)
    y = np.ascontiguousarray(y, dtype=np.float64)
    t = np.asarray(t, dtype=np.int64)
    vehicle = np.asarray(vehicle)
    ce, cd, cp = _candidates(x, y, index.ax, index.ay, index.bx, index.by, index.piece_edge,
                             index.piece_off, index.x0, index.y0, index.cell, index.nx, index.ny,
                             index.cell_start, index.cell_items, index.radius, k)
    brk = np.ones(len(x), dtype=np.bool_)
    if len(x) > 1:
        brk[1:] = (vehicle[1:] != vehicle[:-1]) | (np.diff(t) > gap)
    e, p, d, run = _viterbi(x, y, brk, ce, cd, cp, index.edge_u, index.edge_v, index.edge_len,
                            index.edge_street, sigma, beta, jump, turn)
    return MatchResult(edge=e, pos=p, dist=d, run=run, nearest=ce[:, 0].copy(),
                       nearest_dist=cd[:, 0].copy())


def swept_intervals(index: EdgeIndex, m: MatchResult, ok: np.ndarray | None = None
                    ) -> pd.DataFrame:
    """Stretches of edges driven between consecutive matched fixes of one run.

    ``ok[i]`` (default all) says whether the step from fix ``i-1`` to ``i`` counts (e.g. the
    brush was down and the speed was a sweeping speed). Two fixes on adjacent edges cover both
    edges up to their shared node; fixes on non-adjacent edges (a gap) cover nothing. A lone fix
    on an edge between fixes on other edges (a vehicle turning at a corner, matched for one fix
    to the crossing street) covers nothing either.

    Returns
    -------
    DataFrame
        ``edge``, ``lo``, ``hi`` (m along the edge) and ``fix`` (index of the later fix).
    """
    ok = np.ones(len(m.edge), np.bool_) if ok is None else np.asarray(ok, dtype=np.bool_)
    ie, lo, hi, src = _intervals(m.edge, m.pos, m.run, ok, index.edge_u, index.edge_v,
                                 index.edge_len)
    return pd.DataFrame({"edge": ie, "lo": lo, "hi": hi, "fix": src})


def union_length(group: np.ndarray, lo: np.ndarray, hi: np.ndarray
                 ) -> tuple[np.ndarray, np.ndarray]:
    """Total length of the union of intervals ``[lo, hi]`` per integer ``group``.

    >>> g, L = union_length(np.array([1, 1, 1, 2]), np.array([0., 5., 20., 0.]),
    ...                     np.array([10., 12., 30., 4.]))
    >>> g.tolist(), L.tolist()
    ([1, 2], [22.0, 4.0])
    """
    group = np.asarray(group, dtype=np.int64)
    lo = np.asarray(lo, dtype=np.float64)
    # one integer sort key: group, then lo in centimetres (edges up to 40,000 km)
    order = np.argsort(group * (1 << 32) + np.floor(np.maximum(lo, 0.0) * 100).astype(np.int64))
    return _union(group[order], np.asarray(lo, dtype=np.float64)[order],
                  np.asarray(hi, dtype=np.float64)[order])
