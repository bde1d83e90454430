"""Depressions of a filled DEM: ponding depth, labels, measures, pour points, catchments.

Ponding depth is ``filled - original``. Depressions are the 8-connected regions of positive depth;
each gets its maximum depth, area, volume, spill level, pour point and contributing area (the cells
whose steepest-descent path on the original DEM ends in it).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from numpy.typing import NDArray
from rasterio.crs import CRS  # noqa: F401  (doctest namespace)
from rasterio.transform import Affine
from scipy import ndimage

from .._numba import njit
from ..config import load_config
from .dem_read import DEM
from .fill import fill_depressions

__all__ = ["DepressionAnalysis", "ponding_depth", "label_depressions", "analyse_depressions",
           "region_polygons", "cell_polygons"]


def ponding_depth(elevation: NDArray[Any], filled: NDArray[np.float64]) -> NDArray[np.float64]:
    """Depth of standing water when every depression is full: ``filled - elevation`` (>= 0).

    >>> ponding_depth(np.array([[1.0, 2.0]]), np.array([[1.5, 2.0]])).tolist()
    [[0.5, 0.0]]
    """
    d = np.subtract(filled, elevation, dtype=np.float64)  # float32 inputs: no float64 copies
    d[~np.isfinite(d)] = 0.0
    np.maximum(d, 0.0, out=d)
    return d


def label_depressions(depth: NDArray[np.float64]) -> tuple[NDArray[np.int32], int]:
    """8-connected regions of positive depth, labelled 1..n (0 = no ponding).

    >>> lab, n = label_depressions(np.array([[0.1, 0, 0], [0, 0, 0.2]]))
    >>> n
    2
    """
    lab, n = ndimage.label(depth > 0, structure=np.ones((3, 3), bool), output=np.int32)
    return lab, int(n)


# --------------------------------------------------------------------------------------------
# Contributing areas and pour points
# --------------------------------------------------------------------------------------------

@njit(cache=True, nogil=True)
def _d8_receivers(z, lab, offs, dist, rec):  # pragma: no cover - compiled
    """Each cell's steepest lower neighbour into ``rec``: >= 0 receiver; -1 stuck; -2 outlet;
    -3 invalid; -4 sink (a depression cell)."""
    n = z.size
    rec[:] = -1
    for c in range(n):
        zc = np.float64(z[c])  # slopes in float64 for a float32 grid too
        if not (zc == zc):
            rec[c] = -3
            continue
        if lab[c] > 0:
            rec[c] = -4
            continue
        best = 0.0
        nxt = -1
        edge = False
        for k in range(8):
            m = c + offs[k]
            zm = np.float64(z[m])
            if not (zm == zm):
                edge = True
                continue
            s = (zc - zm) / dist[k]
            if s > best:
                best = s
                nxt = m
        if nxt >= 0:
            rec[c] = nxt
        elif edge:
            rec[c] = -2
    return rec


@njit(cache=True, nogil=True)
def _drain_flats(z, rec, offs):  # pragma: no cover - compiled
    """Stuck cells of a flat drain, breadth-first, towards cells of equal height with a way
    out (``rec`` is updated in place)."""
    n = z.size
    queue = np.empty_like(rec)    # cell indexes, as wide as the receivers
    qh = 0
    qt = 0
    for c in range(n):
        if rec[c] == -1 or rec[c] == -3:
            continue
        zc = z[c]
        for d in offs:
            m = c + d
            if rec[m] == -1 and z[m] == zc:
                queue[qt] = c
                qt += 1
                break
    while qh < qt:
        c = queue[qh]
        qh += 1
        zc = z[c]
        for d in offs:
            m = c + d
            if rec[m] == -1 and z[m] == zc:
                rec[m] = c
                queue[qt] = m
                qt += 1


@njit(cache=True, nogil=True)
def _follow_receivers(rec, lab):  # pragma: no cover - compiled
    """The label of the sink each cell's receiver path ends in (0: drains out or stuck),
    written over ``rec`` (returned): a cell's receiver is read only before the cell is done,
    so the labels take its place instead of a third grid the size of the DEM."""
    n = rec.size
    out = rec
    done = np.zeros(n, np.uint8)
    path = np.empty(64, np.int64)
    for c0 in range(n):
        if done[c0]:
            continue
        pn = 0
        c = c0
        res = 0
        while True:
            if done[c]:
                res = out[c]
                break
            r = rec[c]
            if r == -4:
                res = lab[c]
                out[c] = res
                done[c] = 1
                break
            if pn == path.size:
                path = np.concatenate((path, np.empty(path.size, np.int64)))
            path[pn] = c
            pn += 1
            if r < 0 or pn > n:
                res = 0
                break
            c = r
        for i in range(pn):
            out[path[i]] = res
            done[path[i]] = 1
    return out


@njit(cache=True, nogil=True)
def _catchments(z, lab, w, cw, ch, rec):  # pragma: no cover - compiled
    """Label every cell with the depression its D8 steepest-descent path on ``z`` ends in.

    ``z`` and ``lab`` are padded flat arrays (frame: NaN / 0). Depression cells keep their label.
    Other cells drain to their steepest lower neighbour; cells on a flat drain, breadth-first,
    towards the flat's edge where it has a way down (so flats are not dead ends); a cell with no
    lower neighbour next to the edge or nodata drains out (label 0), as does a pit too small to
    be a reported depression. ``rec`` is working space (one integer per cell, int32 when the
    cell indexes fit: half the memory of int64 on a large DEM), overwritten with the labels
    and returned.
    """
    dr = np.array([-1, -1, -1, 0, 0, 1, 1, 1], dtype=np.int64)
    dc = np.array([-1, 0, 1, -1, 1, -1, 0, 1], dtype=np.int64)
    offs = dr * w + dc
    dist = np.empty(8)
    for k in range(8):
        dist[k] = math.sqrt((dr[k] * ch) ** 2 + (dc[k] * cw) ** 2)
    _d8_receivers(z, lab, offs, dist, rec)
    _drain_flats(z, rec, offs)
    return _follow_receivers(rec, lab)


@njit(cache=True, nogil=True)
def _pour_points(z, filled, lab, w, nlab):  # pragma: no cover - compiled
    """Per label: the lowest rim cell (just outside the depression), preferring one that has a
    lower filled neighbour outside (the way the water leaves)."""
    best = np.full(nlab + 1, np.inf)
    bestcell = np.full(nlab + 1, -1, np.int64)
    offs = np.array([-w - 1, -w, -w + 1, -1, 1, w - 1, w, w + 1], dtype=np.int64)
    for c in range(z.size):
        L = lab[c]
        if L <= 0:
            continue
        for d in offs:
            m = c + d
            if lab[m] == L:
                continue
            zm = np.float64(z[m])
            if not (zm == zm):  # nodata/edge rim: cannot happen for a depression; skip
                continue
            score = zm
            out = False
            for d2 in offs:
                q = m + d2
                fq = filled[q]
                if lab[q] != L and fq == fq and fq < zm:
                    out = True
                    break
            if not out:
                score = zm + 1e-9 * (abs(zm) + 1.0)
            if score < best[L]:
                best[L] = score
                bestcell[L] = m
    return bestcell


# --------------------------------------------------------------------------------------------
# Depression analysis
# --------------------------------------------------------------------------------------------

@dataclass
class DepressionAnalysis:
    """The result of :func:`analyse_depressions`.

    Attributes
    ----------
    dem : DEM
    filled : ndarray
        Filled surface (of the DEM's type: float32 heights stay float32).
    depth : ndarray of float64
        Ponding depth (m), ``filled - elevation``, made when asked (not kept: on a large DEM it
        is the size of the DEM in float64).
    labels : ndarray of int32
        Depression label of each cell (0 = none or below the size/depth limits); label ``k``
        is row ``labels_to_row[k]`` of ``depressions``.
    catchment : ndarray of int32
        Label of the depression each cell drains to (0 = none).
    depressions : GeoDataFrame
        One row per depression, ranked by volume (rank 1 = largest).
    """

    dem: DEM
    filled: NDArray[np.floating]
    labels: NDArray[np.int32]
    catchment: NDArray[np.int32]
    depressions: gpd.GeoDataFrame

    @property
    def depth(self) -> NDArray[np.float64]:
        return ponding_depth(self.dem.elevation, self.filled)


def _pad(a: np.ndarray, value: Any) -> np.ndarray:
    return np.pad(a, 1, mode="constant", constant_values=value)


def _label_stats(lab: np.ndarray, z: np.ndarray, filled: np.ndarray, n: int
                 ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Per label 0..n, in one pass over the labelled cells: cell count, summed depth, maximum
    depth and the deepest cell (flat index; the first in raster order among equally deep ones).
    The depth (:func:`ponding_depth`) is taken at the labelled cells only.

    >>> lab = np.array([[1, 1, 0], [0, 2, 2]], dtype=np.int32)
    >>> z = np.array([[9.8, 9.5, 10.0], [10.0, 9.5, 9.5]])
    >>> filled = np.array([[10.0, 10.0, 10.0], [10.0, 9.8, 9.8]])
    >>> [np.round(a, 6).tolist() for a in _label_stats(lab, z, filled, 2)]
    [[0, 2, 2], [0.0, 0.7, 0.6], [0.0, 0.5, 0.3], [-1, 1, 4]]
    """
    sel = np.flatnonzero(lab.ravel())
    ls = lab.ravel()[sel]
    ds = ponding_depth(z.ravel()[sel], filled.ravel()[sel])
    counts = np.bincount(ls, minlength=n + 1)
    counts[0] = 0
    vol = np.bincount(ls, weights=ds, minlength=n + 1)
    maxd = np.zeros(n + 1)
    np.maximum.at(maxd, ls, ds)
    top = ds == maxd[ls]
    deepest = np.full(n + 1, -1, np.int64)
    first = np.unique(ls[top], return_index=True)[1]
    deepest[ls[top][first]] = sel[top][first]
    return counts, vol, maxd, deepest


def _drainage(z: np.ndarray, filled: np.ndarray, lp: np.ndarray, k: int,
              cell_size: tuple[float, float]) -> tuple[np.ndarray, np.ndarray]:
    """Catchment label of every cell and the pour point (padded flat index) of every label.

    ``lp`` holds the depression labels with a frame of zeros (one cell wide) around them."""
    h, w = z.shape
    if not k:
        return np.zeros((h, w), dtype=np.int32), np.full(1, -1, np.int64)
    zp = _pad(z, np.nan)
    cw, ch = cell_size
    # the pour points first: their padded filled surface is freed before the catchments'
    # working arrays are made (the two never coexist at the memory peak)
    pour = _pour_points(zp.ravel(), _pad(filled, np.nan).ravel(), lp.ravel(), w + 2, k)
    rec = np.empty(zp.size, np.int32 if zp.size < 2 ** 31 - 1 else np.int64)
    catch = _catchments(zp.ravel(), lp.ravel(), w + 2, cw, ch, rec)   # in ``rec``
    del zp
    return _unframed(catch, h, w).astype(np.int32, copy=False), pour


def _unframed(flat: np.ndarray, h: int, w: int) -> np.ndarray:
    """The ``h`` x ``w`` interior of the (``h`` + 2) x (``w`` + 2) grid held by the contiguous
    ``flat``, moved row by row to the front of the same buffer (a row's place there ends
    before the next row starts): no second grid.

    >>> a = np.arange(20)
    >>> _unframed(a, 2, 3).tolist()
    [[6, 7, 8], [11, 12, 13]]
    """
    g = flat.reshape(h + 2, w + 2)
    for i in range(h):
        flat[i * w:(i + 1) * w] = g[i + 1, 1:w + 1]
    return flat[:h * w].reshape(h, w)


#: rows of a grid made at a time where a whole-grid temporary would double a large DEM's memory
_BLOCK_ROWS = 512


def _positive_depth(z: np.ndarray, filled: np.ndarray, rows: int = _BLOCK_ROWS) -> np.ndarray:
    """``ponding_depth(z, filled) > 0``, made ``rows`` rows at a time (no float64 grid)."""
    out = np.empty(z.shape, bool)
    for r0 in range(0, z.shape[0], rows):
        np.greater(ponding_depth(z[r0:r0 + rows], filled[r0:r0 + rows]), 0,
                   out=out[r0:r0 + rows])
    return out


def analyse_depressions(dem: DEM, *, min_depth_m: float | None = None,
                        min_area_m2: float | None = None, filled: NDArray | None = None
                        ) -> DepressionAnalysis:
    """Fill, measure and rank the depressions of a DEM.

    Parameters
    ----------
    dem : DEM
    min_depth_m, min_area_m2 : float, optional
        Depressions shallower or smaller are dropped (DEM noise). Defaults from
        ``waterlogging.yaml`` (``depressions.min_depth_m`` and ``depressions.min_area_m2``).
    filled : ndarray, optional
        A filled surface computed earlier.

    Returns
    -------
    DepressionAnalysis
        ``depressions`` columns: ``depression_id`` (stable, from the deepest cell's position),
        ``rank``, ``max_depth_m``, ``mean_depth_m``, ``area_m2``, ``volume_m3``,
        ``spill_elev_m``, ``bottom_elev_m``, ``deepest_x``, ``deepest_y``, ``pour_x``, ``pour_y``,
        ``contributing_area_m2``, ``n_cells``, ``label``, geometry (polygon in the DEM's CRS).

    Examples
    --------
    >>> import numpy as np
    >>> from rasterio.transform import from_origin
    >>> z = np.full((6, 6), 10.0); z[2:4, 2:4] = 9.0; z[0, 3] = 9.5
    >>> dem = DEM(z, from_origin(0, 60, 10, 10), CRS.from_epsg(4550))
    >>> a = analyse_depressions(dem, min_depth_m=0.1, min_area_m2=100)
    >>> a.depressions[["max_depth_m", "area_m2", "volume_m3", "spill_elev_m"]].values.tolist()
    [[1.0, 400.0, 400.0, 10.0]]
    """
    cfg = load_config("waterlogging")["depressions"]
    min_depth_m = float(cfg["min_depth_m"] if min_depth_m is None else min_depth_m)
    min_area_m2 = float(cfg["min_area_m2"] if min_area_m2 is None else min_area_m2)
    z = np.asarray(dem.elevation)
    if z.dtype not in (np.float32, np.float64):
        z = z.astype(np.float64)
    if filled is None:
        filled = fill_depressions(z)
    # the depth is needed at the wet cells only: no float64 grid of it (the DEM's size
    # twice), made again when asked (DepressionAnalysis.depth)
    lab, n = ndimage.label(_positive_depth(z, filled), structure=np.ones((3, 3), bool),
                           output=np.int32)
    cell_area = dem.cell_area
    counts, vol, maxd, deepest_all = _label_stats(lab, z, filled, n)
    keep = (maxd >= min_depth_m) & (counts * cell_area >= min_area_m2)
    keep[0] = False
    kept = np.flatnonzero(keep)
    remap = np.zeros(n + 1, np.int32)
    remap[kept] = np.arange(1, len(kept) + 1, dtype=np.int32)
    h, w = z.shape
    # the labels in the frame the catchments' kernels read (no padded copy beside them)
    lp = np.zeros((h + 2, w + 2), np.int32)
    for r0 in range(0, h, _BLOCK_ROWS):   # a block of rows at a time: no temporary grid
        r1 = min(r0 + _BLOCK_ROWS, h)
        lp[1 + r0:1 + r1, 1:-1] = remap[lab[r0:r1]]
    del lab
    k = len(kept)
    catch, pour = _drainage(z, filled, lp, k, dem.cell_size)
    labels = _unframed(lp.ravel(), h, w)
    del lp
    # counted in blocks: bincount makes an int64 copy of what it counts
    flat, step = catch.ravel(), 1 << 22
    contrib = sum((np.bincount(flat[i:i + step], minlength=k + 1)
                   for i in range(0, flat.size, step)), np.zeros(k + 1, np.int64)) * cell_area
    deepest = deepest_all[kept]
    drow, dcol = np.divmod(deepest, w)
    dx, dy = dem.xy(drow, dcol)
    prow, pcol = np.divmod(pour[1:], w + 2) if k else (np.array([]), np.array([]))
    px, py = dem.xy(prow - 1, pcol - 1) if k else (np.array([]), np.array([]))
    polys = region_polygons(labels, dem.transform, k)
    table = pd.DataFrame({
        "depression_id": [f"WD-{int(round(x))}-{int(round(y))}" for x, y in zip(dx, dy)],
        "max_depth_m": maxd[kept],
        "mean_depth_m": vol[kept] / counts[kept],
        "area_m2": counts[kept] * cell_area,
        "volume_m3": vol[kept] * cell_area,
        "spill_elev_m": filled.ravel()[deepest].astype(np.float64),
        "bottom_elev_m": z.ravel()[deepest].astype(np.float64),
        "deepest_x": dx, "deepest_y": dy, "pour_x": px, "pour_y": py,
        "contributing_area_m2": contrib[1:],
        "n_cells": counts[kept].astype(np.int64),
        "label": np.arange(1, k + 1, dtype=np.int32),
    })
    table["rank"] = table["volume_m3"].rank(ascending=False, method="first").astype(int)
    gdf = gpd.GeoDataFrame(table, geometry=polys, crs=dem.crs)
    gdf = gdf.sort_values("rank").reset_index(drop=True)
    cols = ["depression_id", "rank"] + [c for c in table.columns
                                        if c not in ("depression_id", "rank")] + ["geometry"]
    return DepressionAnalysis(dem=dem, filled=filled, labels=labels, catchment=catch,
                              depressions=gdf[cols])


def _region_polygon(mask: np.ndarray, r0: int, c0: int, transform: Affine) -> Any:
    """The (multi)polygon of the true cells of ``mask`` (cell edges), whose top-left cell is
    (``r0``, ``c0``) of the grid of ``transform``; empty if none."""
    from rasterio.features import shapes

    t = transform @ Affine.translation(c0, r0)
    parts = [shapely.geometry.shape(geom) for geom, _ in
             shapes(mask.astype(np.uint8), mask=mask, transform=t, connectivity=8)]
    if not parts:
        return shapely.Polygon()
    g = parts[0] if len(parts) == 1 else shapely.union_all(parts)
    return g if g.is_valid else shapely.make_valid(g)


def region_polygons(labels: NDArray[np.integer], transform: Affine, n: int) -> list[Any]:
    """One (multi)polygon per label 1..n of a label raster (cell edges; empty if absent).

    >>> from rasterio.transform import from_origin
    >>> [p.area for p in region_polygons(np.array([[1, 0], [0, 2]]), from_origin(0, 2, 1, 1), 2)]
    [1.0, 1.0]
    """
    if n == 0:
        return []
    lab = np.ascontiguousarray(labels, dtype=np.int32)
    objs = ndimage.find_objects(lab, max_label=n)
    return [shapely.Polygon() if sl is None else
            _region_polygon(lab[sl] == k, sl[0].start, sl[1].start, transform)
            for k, sl in enumerate(objs, start=1)]


def cell_polygons(rows: NDArray[np.integer], cols: NDArray[np.integer],
                  keys: NDArray[np.integer], transform: Affine) -> dict[int, Any]:
    """The (multi)polygon of the grid cells (``rows``, ``cols``) of each key (cell edges).

    The same polygons as :func:`region_polygons` of a label grid holding ``keys`` at those
    cells and 0 elsewhere, made from the cells alone (no grid the size of the DEM: a few wet
    cells of a large DEM cost a few cells' work and memory).

    >>> from rasterio.transform import from_origin
    >>> got = cell_polygons(np.array([0, 1, 1]), np.array([0, 1, 2]), np.array([1, 2, 2]),
    ...                     from_origin(0, 2, 1, 1))
    >>> {k: p.area for k, p in got.items()}
    {1: 1.0, 2: 2.0}
    """
    order = np.argsort(keys, kind="stable")
    uniq, starts = np.unique(keys[order], return_index=True)
    out = {}
    for k, idx in zip(uniq.tolist(), np.split(order, starts[1:])):
        r, c = rows[idx], cols[idx]
        r0, c0 = int(r.min()), int(c.min())
        sub = np.zeros((int(r.max()) - r0 + 1, int(c.max()) - c0 + 1), bool)
        sub[r - r0, c - c0] = True
        out[k] = _region_polygon(sub, r0, c0, transform)
    return out
