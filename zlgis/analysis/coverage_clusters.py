"""Clusters of uncovered demand as polygons (coverage's blind areas), vectorised.

Points are linked into clusters (buffered footprints that meet, or neighbouring grid cells for a
city-wide gap), labelled by connected components, and each cluster's polygon is built once:

* exact clusters: the union of the members' buffered footprints (one ``union_all`` per cluster
  of two or more members; single members keep their buffer as it is);
* cell clusters: the cells of a cluster are grid squares that share their edges exactly, so
  their union is a coverage union (linear time) of the bare squares, then grown once by the
  buffer with mitred corners. Growing a union of squares by a mitred buffer is the union of the
  squares grown one by one (a mitred buffer of a rectilinear polygon is its Minkowski sum with
  a square, which distributes over unions), so the polygon is the same region as the union of
  every grown square, without the quadratic overlay of thousands of overlapping squares.
"""

from __future__ import annotations

from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import scipy.sparse as sp
import shapely
from scipy.sparse.csgraph import connected_components

from ._network_common import network_config

__all__ = ["uncovered_areas"]

#: above this many uncovered points, clusters are linked through grid cells (see below)
_EXACT_CLUSTER_MAX = 20_000


def uncovered_areas(points: pd.DataFrame, covered: np.ndarray, *,
                    footprints: np.ndarray | None = None, weight: np.ndarray | None = None,
                    cluster_distance: float | None = None, min_count: int = 1,
                    id_col: str = "building_id", group: np.ndarray | None = None,
                    polygon_buffer: float | None = None) -> gpd.GeoDataFrame:
    """Clusters of uncovered demand as polygons (for maps and findings).

    Uncovered points closer than ``cluster_distance`` to each other (through their footprints
    when given) form one cluster; its polygon is the union of the members buffered by half
    that distance (or by ``polygon_buffer``). Points with the same ``group`` label (e.g. the
    same residential compound) always belong to one cluster. Above 20,000 uncovered points
    or beyond 120 m (a city-wide gap, e.g. transfer stations) points are linked through square
    cells of side ``cluster_distance`` (same or neighbouring cell) and the polygons are made of
    those cells, which keeps memory and time linear. ``points`` may be a plain DataFrame
    (points given by their coordinates) when ``footprints`` are given, as a GeometryArray:
    its CRS is then the result's.

    Returns
    -------
    GeoDataFrame
        ``cluster`` (stable id: smallest member id), ``n``, ``weight``, ``members``
        (";"-joined ids), ``geometry``.

    Examples
    --------
    >>> import geopandas as gpd
    >>> from shapely.geometry import Point
    >>> pts = gpd.GeoDataFrame({"building_id": ["a", "b", "c"]},
    ...     geometry=[Point(0, 0), Point(40, 0), Point(500, 0)], crs="EPSG:4550")
    >>> out = uncovered_areas(pts, [False, False, False], cluster_distance=60)
    >>> out[["cluster", "n", "members"]].values.tolist()
    [['a', 2, 'a;b'], ['c', 1, 'c']]
    """
    cfg = network_config()
    cd = float(cfg["cluster_distance_m"]) if cluster_distance is None else cluster_distance
    sel = ~np.asarray(covered, bool)
    # points without geometry (coordinates in columns) take the CRS of their footprints
    crs = (points.crs if isinstance(points, gpd.GeoDataFrame)
           else getattr(footprints, "crs", None))
    if not sel.any():
        return _empty(crs)
    w = np.ones(sel.sum()) if weight is None else np.asarray(weight, float)[sel]
    # (only the uncovered rows turned into text: a city's million ids take a second)
    ids = (points[id_col][sel] if id_col in points else points.index[sel]).astype(str).to_numpy()
    m = int(sel.sum())
    pb = cd / 2 if polygon_buffer is None else polygon_buffer
    # exact pairs only when they stay few: not too many points, not too long a distance
    if m <= _EXACT_CLUSTER_MAX and cd <= 120:
        geoms = _chosen(points, footprints, sel)
        buf = shapely.buffer(geoms, cd / 2, quad_segs=4)
        i, j = shapely.STRtree(buf).query(buf, predicate="intersects")
        pbuf = buf if pb == cd / 2 else shapely.buffer(geoms, pb, quad_segs=4)
        lab = _labels(m, i, j, group, sel)
        return _clusters(lab, ids, w, min_count, crs, lambda k: pbuf[k],
                         lambda parts: shapely.union_all(parts))
    # many points (a city-wide blind area): link points in the same or a neighbouring square
    # cell of side ``cd`` (within about 1.4 cd of each other) instead of pairs of buffered
    # footprints, whose number grows with the square of the density
    cells, cell_of, ci, cj = _cell_links(_surface_xy(points, footprints, sel), cd)
    first = np.full(len(cells), -1, np.int64)
    first[cell_of[::-1]] = np.arange(m)[::-1]  # first point of each cell
    i = np.r_[np.arange(m), first[ci]]
    j = np.r_[first[cell_of], first[cj]]
    lab = _labels(m, i, j, group, sel)
    # cheap polygons for a huge blind area: its occupied cells, grown by the buffer
    grow = min(pb, cd / 2)
    x0, y0 = cells[:, 0] * cd, cells[:, 1] * cd
    x1, y1 = (cells[:, 0] + 1) * cd, (cells[:, 1] + 1) * cd  # shared exactly by the neighbour
    squares = shapely.box(x0, y0, x1, y1)
    return _clusters(lab, ids, w, min_count, crs, lambda k: _grown(squares[k], grow),
                     lambda parts: _grown(shapely.coverage_union_all(parts), grow),
                     item_lab=lab[first], items=squares)


def _chosen(points: pd.DataFrame, footprints: Any, sel: np.ndarray) -> np.ndarray:
    """The geometries (footprints when given) of the rows ``sel``. ``footprints`` with a
    ``select`` method (:class:`~zlgis.analysis.coverage_inputs.LayerRows`) gives them itself."""
    if footprints is None:
        return np.asarray(points.geometry.values, dtype=object)[sel]
    select = getattr(footprints, "select", None)
    return select(sel) if select is not None else np.asarray(footprints, dtype=object)[sel]


def _surface_xy(points: pd.DataFrame, footprints: Any, sel: np.ndarray) -> np.ndarray:
    """A point on each chosen geometry (``point_on_surface``), (m, 2): the points' own
    ``x``, ``y`` when they are given by their coordinates (those of their footprints': see
    :func:`~zlgis.analysis.coverage_inputs.residential_buildings`), no footprint read."""
    if not isinstance(points, gpd.GeoDataFrame) and {"x", "y"} <= set(points.columns):
        return points[["x", "y"]].to_numpy(float)[sel]
    return shapely.get_coordinates(shapely.point_on_surface(_chosen(points, footprints, sel)))


def _empty(crs: Any) -> gpd.GeoDataFrame:
    cols: dict[str, list[Any]] = {"cluster": [], "n": [], "weight": [], "members": []}
    return gpd.GeoDataFrame(cols, geometry=gpd.GeoSeries([], crs=crs), crs=crs)


def _grown(geom: Any, by: float) -> Any:
    return shapely.buffer(geom, by, join_style="mitre")


def _cell_links(xy: np.ndarray, cd: float
                ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Occupied cells (x, y index, sorted), the cell of every point (``xy``), and neighbouring
    cell pairs (right, up, up-right, down-right)."""
    cx = np.floor(xy[:, 0] / cd).astype(np.int64)
    cy = np.floor(xy[:, 1] / cd).astype(np.int64)
    span = int(cy.max() - cy.min()) + 3
    key = (cx - cx.min() + 1) * span + (cy - cy.min() + 1)
    ukey, first, cell_of = np.unique(key, return_index=True, return_inverse=True)
    cells = np.c_[cx[first], cy[first]]
    ci, cj = [], []
    for dx, dy in ((1, 0), (0, 1), (1, 1), (1, -1)):
        want = ukey + dx * span + dy
        pos = np.minimum(np.searchsorted(ukey, want), len(ukey) - 1)
        hit = ukey[pos] == want
        ci.append(np.flatnonzero(hit))
        cj.append(pos[hit])
    return cells, cell_of.ravel(), np.concatenate(ci), np.concatenate(cj)


def _labels(m: int, i: np.ndarray, j: np.ndarray, group: np.ndarray | None,
            sel: np.ndarray) -> np.ndarray:
    """Connected-component label of every point (links ``i``-``j`` and shared groups)."""
    if group is not None:
        gl = pd.Series(np.asarray(group, dtype=object)[sel])
        has = (gl.notna() & (gl.astype(str) != "")).to_numpy()
        k = np.flatnonzero(has)
        codes = pd.factorize(gl[has].astype(str))[0]
        _, head = np.unique(codes, return_index=True)  # first point of every group
        i = np.r_[i, k]
        j = np.r_[j, k[head[codes]]]
    adj = sp.coo_matrix((np.ones(len(i)), (i, j)), shape=(m, m))
    return connected_components(adj, directed=False)[1]


def _clusters(lab: np.ndarray, ids: np.ndarray, w: np.ndarray, min_count: int, crs: Any,
              single: Any, union: Any, *, item_lab: np.ndarray | None = None,
              items: np.ndarray | None = None) -> gpd.GeoDataFrame:
    """One row per cluster of at least ``min_count`` points, with its polygon.

    The polygon is built from the cluster's items (the points themselves, or their cells):
    ``single(k)`` for clusters of one item (vectorised over the item positions ``k``),
    ``union(items)`` for the others.
    """
    n_lab = int(lab.max()) + 1
    n = np.bincount(lab, minlength=n_lab)
    keep = np.flatnonzero(n >= min_count)
    if not len(keep):
        return _empty(crs)
    # members sorted by label, then id (as Python's sorted on str: by code point)
    sid = ids.astype(str)
    order = np.lexsort((sid, lab))
    bounds = np.r_[0, np.cumsum(n)]
    members = np.array([";".join(sid[order[bounds[k]:bounds[k + 1]]]) for k in keep],
                       dtype=object)
    cluster = sid[order[bounds[keep]]]
    if item_lab is None:
        item_lab = lab
    item_order = np.argsort(item_lab, kind="stable")
    ib = np.r_[0, np.cumsum(np.bincount(item_lab, minlength=n_lab))]
    cnt = ib[keep + 1] - ib[keep]
    polys = np.empty(len(keep), dtype=object)
    one = cnt == 1
    polys[one] = single(item_order[ib[keep[one]]])
    parts = items if items is not None else None
    for pos in np.flatnonzero(~one):
        k = item_order[ib[keep[pos]]:ib[keep[pos] + 1]]
        polys[pos] = union(parts[k] if parts is not None else single(k))
    out = gpd.GeoDataFrame({
        "cluster": cluster.astype(object),
        "n": n[keep],
        # (pandas' group sum, as before: the same rounding)
        "weight": pd.Series(w).groupby(lab).sum().reindex(keep).to_numpy(),
        "members": members,
    }, geometry=polys, crs=crs)
    return out.sort_values("cluster").reset_index(drop=True)
