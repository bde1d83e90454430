"""Nodes and edges from road centrelines: explode, node at junctions and crossings, cluster ends.

Lines are exploded into parts; junctions are the line ends, the crossings with other lines
(:mod:`.noding`, for ``noding="crossings"``) or the vertices shared by several lines
(``noding="shared"``, OSM); junctions closer than the tolerance become one node; an edge runs
between consecutive junctions of a line.
"""

from __future__ import annotations

from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import scipy.sparse as sp
import shapely
from scipy.sparse.csgraph import connected_components
from scipy.spatial import cKDTree

from ..errors import InputError
from .noding import cached_crossings

__all__ = ["build_graph"]


def _checked_parts(df: gpd.GeoDataFrame, include: np.ndarray, layer: str
                   ) -> tuple[np.ndarray, np.ndarray]:
    """Single-part lines of every row and their parent row (rows outside ``include`` are not
    checked: they do not belong to this graph)."""
    geoms = np.asarray(df.geometry.values, dtype=object)
    if not include.any():
        raise InputError("道路图层为空，无法构建路网", layer=layer)
    missing = shapely.is_missing(geoms) | shapely.is_empty(geoms)
    kind = shapely.get_type_id(geoms)
    bad = ~missing & ~np.isin(kind, [1, 5]) & include
    if bad.any():
        row = int(df["source_row"].to_numpy()[np.flatnonzero(bad)[0]])
        raise InputError("道路几何应为线（LineString）", layer=layer, row=row + 1,
                         field="geometry")
    missing |= ~np.isin(kind, [1, 5])
    if not (kind[~missing] == 5).any():  # single lines already: no copies
        return geoms[~missing], np.flatnonzero(~missing)
    parts, parent = shapely.get_parts(geoms[~missing], return_index=True)
    return parts, np.flatnonzero(~missing)[parent]


def _good_lines(parts: np.ndarray) -> np.ndarray:
    """Lines with at least two distinct consecutive vertices."""
    coords, line = shapely.get_coordinates(parts, return_index=True)
    moves = (line[1:] == line[:-1]) & np.any(coords[1:] != coords[:-1], axis=1)
    return np.bincount(line[1:][moves], minlength=len(parts)) > 0


def _vertices(parts: np.ndarray) -> dict[str, np.ndarray]:
    """Vertices (repeats dropped) with their line, position along it and junction flag (ends)."""
    coords, line = shapely.get_coordinates(parts, return_index=True)
    dup = np.zeros(len(coords), bool)
    dup[1:] = (line[1:] == line[:-1]) & np.all(coords[1:] == coords[:-1], axis=1)
    coords, line = coords[~dup], line[~dup]
    counts = np.bincount(line, minlength=len(parts))
    seg = np.zeros(len(coords))
    same = np.zeros(len(coords), bool)
    same[1:] = line[1:] == line[:-1]
    seg[1:] = np.where(same[1:], np.hypot(*(coords[1:] - coords[:-1]).T), 0.0)
    cum = np.cumsum(seg)
    starts = np.r_[0, np.cumsum(counts)[:-1]]
    junction = np.zeros(len(coords), bool)
    junction[starts[counts > 0]] = True
    junction[(starts + counts - 1)[counts > 0]] = True
    return {"line": line, "pos": cum - cum[starts[line]], "xy": coords, "j": junction,
            "good": counts >= 2}


def _merge_inserted(v: dict[str, np.ndarray], ins_line: np.ndarray, ins_pos: np.ndarray,
                    ins_xy: np.ndarray) -> dict[str, np.ndarray]:
    """Insert crossing points into the vertex sequence; one vertex per position of a line."""
    all_line = np.r_[v["line"], ins_line]
    all_pos = np.r_[v["pos"], ins_pos]
    all_xy = np.r_[v["xy"], ins_xy]
    all_j = np.r_[v["j"], np.ones(len(ins_line), bool)]
    order = np.lexsort((~all_j, all_pos, all_line))  # junction first among equal positions
    all_line, all_pos, all_xy, all_j = all_line[order], all_pos[order], all_xy[order], all_j[order]
    same_pos = np.zeros(len(all_line), bool)
    same_pos[1:] = (all_line[1:] == all_line[:-1]) & (np.abs(all_pos[1:] - all_pos[:-1]) < 1e-6)
    # drop duplicates (the first is a junction); if a later duplicate was one, mark the kept one
    keepv = ~same_pos
    grp = np.cumsum(keepv) - 1
    jflag = np.zeros(keepv.sum(), bool)
    np.logical_or.at(jflag, grp, all_j)
    all_line, all_xy = all_line[keepv], all_xy[keepv]
    valid = v["good"][all_line]
    return {"line": all_line[valid], "xy": all_xy[valid], "j": jflag[valid]}


def _nodes(jxy: np.ndarray, tolerance: float) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Cluster junction points within the tolerance: label per point, node x and y.

    Labels number the clusters in the order of their first point (as ``connected_components``
    numbers them). Most junctions are line ends drawn at the same point: the clusters are
    found among the distinct points (a quarter of the 1M city's 916k junctions) and spread
    back, the same clusters and labels as over every point (0.74 -> 0.30 s).
    """
    if tolerance > 0 and len(jxy):
        order = np.lexsort((jxy[:, 1], jxy[:, 0]))
        s = jxy[order]
        fresh = np.r_[True, (s[1:] != s[:-1]).any(axis=1)]
        inv = np.empty(len(jxy), np.int64)
        inv[order] = np.cumsum(fresh) - 1
        u = s[fresh]
        pairs = cKDTree(u).query_pairs(tolerance, output_type="ndarray")
        adj = sp.coo_matrix((np.ones(len(pairs)), (pairs[:, 0], pairs[:, 1])),
                            shape=(len(u), len(u)))
        _, ulab = connected_components(adj, directed=False)
        lab = ulab[inv]
        _, first = np.unique(lab, return_index=True)
        rank = np.empty(len(first), ulab.dtype)  # (connected_components' int32)
        rank[np.argsort(first)] = np.arange(len(first))
        lab = rank[lab]
    else:
        _, lab = np.unique(jxy, axis=0, return_inverse=True)
        lab = lab.ravel()
    n_nodes = int(lab.max()) + 1 if len(lab) else 0
    cnt = np.bincount(lab, minlength=n_nodes)
    nx_ = np.bincount(lab, weights=jxy[:, 0], minlength=n_nodes) / cnt
    ny_ = np.bincount(lab, weights=jxy[:, 1], minlength=n_nodes) / cnt
    return lab, nx_, ny_


def _edges(m: dict[str, np.ndarray], lab: np.ndarray, nx_: np.ndarray, ny_: np.ndarray,
           tolerance: float, parts: np.ndarray
           ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Edges between consecutive junctions of a line: u, v, geometry, length, first vertex."""
    jidx = np.flatnonzero(m["j"])
    a, b = jidx[:-1], jidx[1:]
    same_line = m["line"][a] == m["line"][b]
    a, b = a[same_line], b[same_line]
    ua, vb = lab[:-1][same_line], lab[1:][same_line]
    nv = b - a + 1
    vidx = np.repeat(a - np.r_[0, np.cumsum(nv)[:-1]], nv) + np.arange(int(nv.sum()))
    exy = m["xy"][vidx].copy()
    first = np.r_[0, np.cumsum(nv)[:-1]]
    exy[first] = np.c_[nx_[ua], ny_[ua]]
    exy[first + nv - 1] = np.c_[nx_[vb], ny_[vb]]
    egeom = _edge_lines(exy, nv, parts, m["line"][a])
    length = shapely.length(egeom)
    ok = ~((ua == vb) & (length < max(tolerance, 1e-9) * 2))
    return ua[ok], vb[ok], egeom[ok], length[ok], a[ok]


def _edge_lines(exy: np.ndarray, nv: np.ndarray, parts: np.ndarray, line: np.ndarray
                ) -> np.ndarray:
    """The edges' lines from their vertices ``exy`` (``nv`` each, in edge order); an edge whose
    vertices are its line's own, bit for bit (a street drawn from junction to junction), is
    that line's geometry object instead of a copy: the 1M-building city's 458k edges of each
    street graph held about 100 MB as copies, shared by every worker of the run."""
    pxy, pline = shapely.get_coordinates(parts, return_index=True)
    pn = np.bincount(pline, minlength=len(parts))
    # candidates: the only edge of a line without z, as many vertices as the line (edges go
    # by line: the candidates' vertices and their lines' are the same rows in the same order)
    whole = ((nv == pn[line]) & (np.bincount(line, minlength=len(parts))[line] == 1)
             & (shapely.get_coordinate_dimension(parts) == 2)[line])
    differs = (exy[np.repeat(whole, nv)].view(np.int64)
               != pxy[np.isin(pline, line[whole])].view(np.int64)).any(axis=1)
    whole[whole] = np.bincount(np.repeat(np.arange(whole.sum()), nv[whole]), weights=differs,
                               minlength=int(whole.sum())) == 0
    out = np.empty(len(nv), dtype=object)
    out[whole] = parts[line[whole]]
    rest = np.flatnonzero(~whole)
    if len(rest):
        keep = ~np.repeat(whole, nv)
        out[rest] = shapely.linestrings(exy[keep], indices=np.repeat(np.arange(len(rest)),
                                                                    nv[rest]))
    return out


def build_graph(df: gpd.GeoDataFrame, keep: list[str], *, crossable: np.ndarray, noding: str,
                tolerance: float, crs: Any, layer: str, include: np.ndarray | None = None
                ) -> tuple[pd.DataFrame, gpd.GeoDataFrame]:
    """Nodes (``x``, ``y``) and edges from lines; see :meth:`StreetGraph.from_roads`.

    ``include`` (bool per row, default all) selects the rows of this graph (a travel mode);
    with ``noding="crossings"`` the crossings are computed (and cached) for every row, so the
    walking and driving graphs of one road layer share one noding; the result is the same as
    building from ``df[include]``.
    """
    include = np.ones(len(df), bool) if include is None else np.asarray(include, bool)
    if len(df) == 0:
        raise InputError("道路图层为空，无法构建路网", layer=layer)
    parts, parent = _checked_parts(df, include, layer)
    mine = include[parent]
    if noding == "shared":
        parts, parent = parts[mine], parent[mine]
        v = _vertices(parts)
        _, inv, cnt = np.unique(v["xy"], axis=0, return_inverse=True, return_counts=True)
        v["j"] |= cnt[inv.ravel()] > 1
        ins = (np.zeros(0, np.int64), np.zeros(0), np.zeros((0, 2)))
    else:
        cr = cached_crossings(parts, crossable[parent] & _good_lines(parts)).subset(mine)
        parts, parent = parts[mine], parent[mine]
        v = _vertices(parts)
        ins = (cr.line, cr.pos, cr.xy)
    m = _merge_inserted(v, *ins)
    lab, nx_, ny_ = _nodes(m["xy"][m["j"]], tolerance)
    u, w, geom, length, first = _edges(m, lab, nx_, ny_, tolerance, parts)
    src = parent[m["line"][first]]
    attrs = (pd.DataFrame(df[keep].iloc[src].reset_index(drop=True)) if keep
             else pd.DataFrame(index=range(len(src))))
    attrs.insert(0, "u", u)
    attrs.insert(1, "v", w)
    attrs.insert(2, "length", length)
    edges = gpd.GeoDataFrame(attrs, geometry=geom, crs=crs)
    nodes = pd.DataFrame({"x": nx_, "y": ny_})
    if len(edges) == 0:
        raise InputError("道路图层中没有可用的线段", layer=layer)
    return nodes, edges
