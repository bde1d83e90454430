"""Nodes and edges from road centrelines: explode, node at junctions and crossings, cluster ends."""

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
from .noding import crossings

__all__ = ["build_graph"]


def build_graph(df: gpd.GeoDataFrame, keep: list[str], *, crossable: np.ndarray, noding: str,
           tolerance: float, crs: Any, layer: str) -> tuple[gpd.GeoDataFrame, gpd.GeoDataFrame]:
    """Nodes and edges from lines; see :meth:`StreetGraph.from_roads`."""
    geoms = np.asarray(df.geometry.values, dtype=object)
    if len(geoms) == 0:
        raise InputError("道路图层为空，无法构建路网", layer=layer)
    missing = shapely.is_missing(geoms) | shapely.is_empty(geoms)
    kind = shapely.get_type_id(geoms)
    bad = ~missing & ~np.isin(kind, [1, 5])
    if bad.any():
        row = int(df["source_row"].to_numpy()[np.flatnonzero(bad)[0]])
        raise InputError("道路几何应为线（LineString）", layer=layer, row=row + 1,
                         field="geometry")
    # explode multilines, remember the parent row
    parts, parent = shapely.get_parts(geoms[~missing], return_index=True)
    parent = np.flatnonzero(~missing)[parent]
    cross = crossable[parent]
    coords, line = shapely.get_coordinates(parts, return_index=True)
    # drop repeated consecutive vertices
    dup = np.zeros(len(coords), bool)
    dup[1:] = (line[1:] == line[:-1]) & np.all(coords[1:] == coords[:-1], axis=1)
    coords, line = coords[~dup], line[~dup]
    n_lines = len(parts)
    counts = np.bincount(line, minlength=n_lines)
    good_line = counts >= 2
    seg = np.zeros(len(coords))
    same = np.zeros(len(coords), bool)
    same[1:] = line[1:] == line[:-1]
    seg[1:] = np.where(same[1:], np.hypot(*(coords[1:] - coords[:-1]).T), 0.0)
    cum = np.cumsum(seg)
    starts = np.r_[0, np.cumsum(counts)[:-1]]
    pos = cum - cum[starts[line]]
    junction = np.zeros(len(coords), bool)
    junction[starts[counts > 0]] = True
    ends = starts + counts - 1
    junction[ends[counts > 0]] = True

    if noding == "shared":
        _, inv, cnt = np.unique(coords, axis=0, return_inverse=True, return_counts=True)
        junction |= cnt[inv.ravel()] > 1
        ins_line = np.zeros(0, np.int64)
        ins_pos = np.zeros(0)
        ins_xy = np.zeros((0, 2))
    else:
        ins_line, ins_pos, ins_xy = crossings(parts, cross & good_line)

    # merge inserted crossing points into the vertex sequence
    all_line = np.r_[line, ins_line]
    all_pos = np.r_[pos, ins_pos]
    all_xy = np.r_[coords, ins_xy]
    all_j = np.r_[junction, np.ones(len(ins_line), bool)]
    order = np.lexsort((~all_j, all_pos, all_line))  # junction first among equal positions
    all_line, all_pos, all_xy, all_j = all_line[order], all_pos[order], all_xy[order], all_j[order]
    same_pos = np.zeros(len(all_line), bool)
    same_pos[1:] = (all_line[1:] == all_line[:-1]) & (np.abs(all_pos[1:] - all_pos[:-1]) < 1e-6)
    # a duplicate of a junction position inherits nothing; drop duplicates (first is junction)
    keepv = ~same_pos
    # if a later duplicate was a junction, mark the kept one
    grp = np.cumsum(keepv) - 1
    jflag = np.zeros(keepv.sum(), bool)
    np.logical_or.at(jflag, grp, all_j)
    all_line, all_pos, all_xy = all_line[keepv], all_pos[keepv], all_xy[keepv]
    all_j = jflag
    valid = good_line[all_line]
    all_line, all_pos, all_xy, all_j = all_line[valid], all_pos[valid], all_xy[valid], all_j[valid]

    # nodes: cluster junction vertices within the tolerance
    jidx = np.flatnonzero(all_j)
    jxy = all_xy[jidx]
    if tolerance > 0 and len(jxy):
        pairs = cKDTree(jxy).query_pairs(tolerance, output_type="ndarray")
        adj = sp.coo_matrix((np.ones(len(pairs)), (pairs[:, 0], pairs[:, 1])),
                            shape=(len(jxy), len(jxy)))
        _, lab = connected_components(adj, directed=False)
    else:
        _, lab = np.unique(jxy, axis=0, return_inverse=True)
        lab = lab.ravel()
    n_nodes = int(lab.max()) + 1 if len(lab) else 0
    cnt = np.bincount(lab, minlength=n_nodes)
    nx_ = np.bincount(lab, weights=jxy[:, 0], minlength=n_nodes) / cnt
    ny_ = np.bincount(lab, weights=jxy[:, 1], minlength=n_nodes) / cnt

    # edges: consecutive junctions along the same line
    a = jidx[:-1]
    b = jidx[1:]
    same_line = all_line[a] == all_line[b]
    a, b = a[same_line], b[same_line]
    ua, vb = lab[:-1][same_line], lab[1:][same_line]
    nv = b - a + 1
    total = int(nv.sum())
    edge_of = np.repeat(np.arange(len(a)), nv)
    vidx = np.repeat(a - np.r_[0, np.cumsum(nv)[:-1]], nv) + np.arange(total)
    exy = all_xy[vidx].copy()
    first = np.r_[0, np.cumsum(nv)[:-1]]
    last = first + nv - 1
    exy[first] = np.c_[nx_[ua], ny_[ua]]
    exy[last] = np.c_[nx_[vb], ny_[vb]]
    egeom = shapely.linestrings(exy, indices=edge_of)
    length = shapely.length(egeom)
    ok = ~((ua == vb) & (length < max(tolerance, 1e-9) * 2))
    src = parent[all_line[a]]
    attrs = pd.DataFrame(df[keep].iloc[src].reset_index(drop=True)) if keep else pd.DataFrame(
        index=range(len(src)))
    attrs.insert(0, "u", ua)
    attrs.insert(1, "v", vb)
    attrs.insert(2, "length", length)
    attrs = attrs[ok].reset_index(drop=True)
    edges = gpd.GeoDataFrame(attrs, geometry=egeom[ok], crs=crs)
    nodes = gpd.GeoDataFrame({"x": nx_, "y": ny_}, geometry=shapely.points(nx_, ny_), crs=crs)
    if len(edges) == 0:
        raise InputError("道路图层中没有可用的线段", layer=layer)
    return nodes, edges
