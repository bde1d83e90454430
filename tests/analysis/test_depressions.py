"""Depression measures (zlgis/analysis/depressions.py) against the per-label scipy reductions."""

from __future__ import annotations

import numpy as np
from scipy import ndimage

from zlgis.analysis.depressions import (
    _label_stats,
    _positive_depth,
    label_depressions,
    ponding_depth,
)
from zlgis.analysis.fill import fill_depressions


def test_one_pass_label_stats_equal_ndimage_reductions():
    rng = np.random.default_rng(4)
    z = ndimage.gaussian_filter(rng.random((300, 400)), 2) * 20
    z = np.round(z, 1)  # plateaus: several equally deep cells in a depression
    filled = fill_depressions(z)
    depth = ponding_depth(z, filled)
    lab, n = label_depressions(depth)
    assert n > 50
    # the labels the analysis makes without the depth grid are the same
    np.testing.assert_array_equal(ndimage.label(_positive_depth(z, filled, rows=7),
                                                structure=np.ones((3, 3), bool))[0], lab)
    counts, vol, maxd, deepest = _label_stats(lab, z, filled, n)
    idx = np.arange(1, n + 1)
    np.testing.assert_array_equal(counts[1:], np.bincount(lab.ravel(), minlength=n + 1)[1:])
    np.testing.assert_array_equal(
        vol[1:], np.bincount(lab.ravel(), weights=depth.ravel(), minlength=n + 1)[1:])
    np.testing.assert_array_equal(maxd[1:], ndimage.maximum(depth, lab, index=idx))
    # the deepest cell, first in raster order among ties (as the previous lexsort chose it)
    flat = lab.ravel()
    sel = np.flatnonzero(flat)
    order = np.lexsort((-depth.ravel()[sel], flat[sel]))
    first = np.unique(flat[sel][order], return_index=True)[1]
    np.testing.assert_array_equal(deepest[1:], sel[order][first])
    ties = np.bincount(flat[sel][depth.ravel()[sel] == maxd[flat[sel]]], minlength=n + 1)
    assert (ties > 1).any()  # the tie rule was exercised


# --------------------------------------------------------------------------------------------
# The compiled drainage kernels (depressions._catchments, _pour_points) against the library path
# --------------------------------------------------------------------------------------------

_OFFSETS = [(-1, -1), (-1, 0), (-1, 1), (0, -1), (0, 1), (1, -1), (1, 0), (1, 1)]


def _library_catchments(z: np.ndarray, labels: np.ndarray, cw: float, ch: float) -> np.ndarray:
    """D8 steepest descent in numpy (first of equally steep neighbours, the kernel's order) and
    each cell's sink from the connected components of the receiver forest (scipy.sparse.csgraph):
    every component holds one cell without a receiver, and takes its label when it is a
    depression cell (0 when it drains out or stops in an unreported pit)."""
    from scipy.sparse import coo_matrix
    from scipy.sparse.csgraph import connected_components

    h, w = z.shape
    zp = np.pad(z, 1, constant_values=np.nan)
    slopes = np.stack([(z - zp[1 + dr:1 + dr + h, 1 + dc:1 + dc + w]) / np.hypot(dr * ch, dc * cw)
                       for dr, dc in _OFFSETS])
    best = np.argmax(np.nan_to_num(slopes, nan=-np.inf), axis=0)
    steep = np.take_along_axis(slopes, best[None], 0)[0] > 0
    rows, cols = np.mgrid[0:h, 0:w]
    dr = np.array([o[0] for o in _OFFSETS])[best]
    dc = np.array([o[1] for o in _OFFSETS])[best]
    drains = steep & (labels == 0)
    src = (rows * w + cols)[drains]
    dst = ((rows + dr) * w + cols + dc)[drains]
    graph = coo_matrix((np.ones(len(src)), (src, dst)), shape=(h * w, h * w))
    _, comp = connected_components(graph, directed=True, connection="weak")
    roots = np.flatnonzero(~drains.ravel())
    root_label = np.zeros(comp.max() + 1, np.int32)
    root_label[comp[roots]] = labels.ravel()[roots]
    assert np.bincount(comp[roots], minlength=comp.max() + 1).max() == 1   # a forest
    return root_label[comp].reshape(h, w)


def _library_pour_points(z: np.ndarray, filled: np.ndarray, labels: np.ndarray, k: int
                         ) -> list[tuple[int, int]]:
    """Per label the lowest rim cell, one that leads to lower ground outside preferred, by
    ``ndimage`` dilation and a plain minimum."""
    pour = []
    h, w = z.shape
    for lab in range(1, k + 1):
        inside = labels == lab
        rim = ndimage.binary_dilation(inside, structure=np.ones((3, 3), bool)) & ~inside
        best, cell = np.inf, None
        for r, c in zip(*np.nonzero(rim)):
            around = [(r + a, c + b) for a, b in _OFFSETS if 0 <= r + a < h and 0 <= c + b < w]
            leaves = any(labels[q] != lab and filled[q] < z[r, c] for q in around)
            score = z[r, c] if leaves else z[r, c] + 1e-9 * (abs(z[r, c]) + 1.0)
            if score < best:
                best, cell = score, (r, c)
        pour.append(cell)
    return pour


def test_drainage_kernels_equal_the_library_path():
    """Catchment of every cell and the pour point of every depression, kernel vs numpy + scipy,
    on rough surfaces with many depressions (some below the size limit: unreported pits)."""
    from rasterio.crs import CRS
    from rasterio.transform import from_origin

    from zlgis.analysis.dem_read import DEM
    from zlgis.analysis.depressions import analyse_depressions

    rng = np.random.default_rng(11)
    for shape, cell in (((90, 120), (10.0, 10.0)), ((70, 50), (5.0, 2.0))):
        z = ndimage.gaussian_filter(rng.random(shape), 2.5) * 30 + rng.random(shape) * 1e-3
        dem = DEM(z, from_origin(1000.0, 2000.0, cell[0], cell[1]), CRS.from_epsg(4550))
        a = analyse_depressions(dem, min_depth_m=0.05, min_area_m2=8 * cell[0] * cell[1])
        k = len(a.depressions)
        assert k >= 5 and (a.catchment > 0).mean() > 0.2
        # unreported pits exist (cells stopping at label 0 inside the raster)
        assert ((a.depth > 0) & (a.labels == 0)).any()
        np.testing.assert_array_equal(a.catchment, _library_catchments(z, a.labels, *cell))
        d = a.depressions.sort_values("label")
        rows, cols = dem.rowcol(d["pour_x"].to_numpy(), d["pour_y"].to_numpy())
        assert list(zip(rows.tolist(), cols.tolist())) == _library_pour_points(
            z, a.filled, a.labels, k)


def test_cell_polygons_equal_the_polygons_of_the_label_grid():
    """The polygons made from the cells alone are those of the full label grid holding them."""
    from rasterio.transform import from_origin

    from zlgis.analysis.depressions import cell_polygons, region_polygons

    rng = np.random.default_rng(7)
    labels, n = ndimage.label(ndimage.gaussian_filter(rng.random((120, 150)), 3) > 0.5,
                              structure=np.ones((3, 3)))
    mask = rng.random(labels.shape) < 0.4
    wanted = np.arange(1, n + 1)[::2]
    transform = from_origin(500.0, 900.0, 2.0, 2.0)
    grid = np.where(mask & np.isin(labels, wanted), labels, 0)
    rows, cols = np.nonzero(grid)
    got = cell_polygons(rows, cols, grid[rows, cols], transform)
    want = region_polygons(grid, transform, n)
    assert n > 10 and sorted(got) == sorted(k for k in wanted if want[k - 1].area > 0)
    for k, poly in got.items():
        assert poly.equals_exact(want[k - 1], 0)
