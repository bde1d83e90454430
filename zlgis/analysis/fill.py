"""Exact depression filling: Priority-Flood, whole raster or tile by tile.

The depression filling is a Priority-Flood (Barnes, Lehman and Mulla 2014, "Priority-Flood: an
optimal depression-filling and watershed-labeling algorithm for digital elevation models",
Computers & Geosciences 62) with the two accelerations of Zhou, Sun and Fu (2016, "An efficient
variant of the Priority-Flood algorithm for filling depressions in raster digital elevation
models", Computers & Geosciences 90): cells inside a depression go through a plain stack, and
cells climbing a slope are finished by a plain queue without touching the priority queue; a slope
cell waits in the priority queue only when it has a lower open neighbour that no other waiting
cell at or below its level will reach (Zhou's test, widened from "lower than the neighbour" to
"not higher than the slope cell", which keeps the result exact and saves about a quarter of the
heap traffic on noisy DEMs). Rasters above the memory budget are filled tile by tile with the
same result (Barnes 2016, :func:`fill_depressions_tiled`). It is epsilon-free, so the filled
surface is exactly the morphological reconstruction by erosion with the border as seed
(``skimage.morphology.reconstruction``), with 8-connectivity. The raster edge and nodata cells
are outlets: a depression touching them drains out.

Examples
--------
>>> import numpy as np
>>> dem = np.array([[5, 5, 5, 5, 5],
...                 [5, 1, 2, 1, 5],
...                 [5, 2, 4, 2, 3],
...                 [5, 5, 5, 5, 5]], dtype=float)
>>> fill_depressions(dem)[1:3, 1:4]
array([[3., 3., 3.],
       [3., 4., 3.]])
"""

from __future__ import annotations

import contextlib
import math
from typing import Any

import numpy as np
from numpy.typing import NDArray
from scipy import ndimage

from .._numba import njit
from .dem_read import dem_config, empty_array

__all__ = ["fill_depressions", "fill_depressions_tiled"]


@njit(cache=True, nogil=True)
def _heap_push(keys, vals, size, k, v):  # pragma: no cover - compiled
    i = size
    while i > 0:
        p = (i - 1) >> 2
        if keys[p] <= k:
            break
        keys[i] = keys[p]
        vals[i] = vals[p]
        i = p
    keys[i] = k
    vals[i] = v
    return size + 1


@njit(cache=True, nogil=True)
def _heap_pop(keys, vals, size):  # pragma: no cover - compiled
    v0 = vals[0]
    size -= 1
    k = keys[size]
    v = vals[size]
    i = 0
    while True:
        c = 4 * i + 1
        if c >= size:
            break
        e = min(c + 4, size)
        b = c
        kb = keys[c]
        for j in range(c + 1, e):
            if keys[j] < kb:
                kb = keys[j]
                b = j
        if kb >= k:
            break
        keys[i] = kb
        vals[i] = vals[b]
        i = b
    if size > 0:
        keys[i] = k
        vals[i] = v
    return v0, size


@njit(cache=True, nogil=True)
def _seed_frontier(z, closed, offs, keys, vals, track, lab):  # pragma: no cover - compiled
    """Put every open cell next to an outlet on the heap (labelled with itself); heap size."""
    hs = 0
    for c in range(z.size):
        if closed[c]:
            continue
        for d in offs:
            if closed[c + d] == 2:
                closed[c] = 1
                if track:
                    lab[c] = c + 1
                hs = _heap_push(keys, vals, hs, z[c], c)
                break
    return hs


@njit(cache=True, nogil=True)
def _pending_reaches(z, closed, offs, m, zx):  # pragma: no cover - compiled
    """True when a closed cell still waiting at a level <= ``zx`` neighbours cell ``m``."""
    for d3 in offs:
        q = m + d3
        if closed[q] == 1 and z[q] <= zx:
            return True
    return False


@njit(cache=True, nogil=True)
def _climb(z, closed, offs, keys, vals, hs, tr, nb, track, lab):  # pragma: no cover - compiled
    """Finish the cells climbing the slope from ``nb`` (breadth-first); new heap size.

    Their filled value is their own elevation (Zhou 2016); only those with an open lower
    neighbour that nothing else will reach go onto the heap.
    """
    tr[0] = nb  # breadth-first: the slope is climbed as a front, which leaves
    tn = 1      # fewer open lower neighbours behind than a depth-first climb
    th = 0
    while th < tn:
        x = tr[th]
        th += 1
        zx = z[x]
        closed[x] = 3
        low = False
        for d2 in offs:
            m = x + d2
            if closed[m]:
                continue
            zm = z[m]
            if zm >= zx:
                closed[m] = 1
                if track:
                    lab[m] = lab[x]
                tr[tn] = m
                tn += 1
            elif not low:
                # x must wait in the heap for its lower open neighbour m, unless
                # another closed cell, still waiting to be processed at a level
                # <= z[x], will reach m (Zhou 2016 test, extended from cells
                # lower than m to every pending cell no higher than x)
                low = not _pending_reaches(z, closed, offs, m, zx)
        if low:
            closed[x] = 1
            hs = _heap_push(keys, vals, hs, zx, x)
    return hs


@njit(cache=True, nogil=True)
def _priority_flood(z, closed, w, keys, vals, pit, tr, lab):  # pragma: no cover - compiled
    """Fill ``z`` (padded, flat) in place.

    ``closed``: 0 open; 1 closed and waiting (heap, stack or queue); 2 outlet (frame, nodata);
    3 closed and processed.

    A 4-ary heap (``keys``, ``vals``) holds the frontier; the ``pit`` stack holds depression
    cells at the current spill level (Barnes 2014); the ``tr`` queue finishes cells climbing a
    slope, whose filled value is their own elevation (Zhou 2016), and only those with an open
    lower neighbour that nothing else will reach go onto the heap. The work arrays hold one
    entry per cell at most (their pages are touched only as far as used). When ``lab`` has one
    entry per cell, every cell is also labelled with the seed (cell next to an outlet) it was
    flooded from: label = the seed's flat index + 1 (for the tiled fill).
    """
    track = lab.size == z.size
    offs = np.array([-w - 1, -w, -w + 1, -1, 1, w - 1, w, w + 1], dtype=np.int64)
    hs = _seed_frontier(z, closed, offs, keys, vals, track, lab)
    pn = 0
    c = -1
    while hs > 0 or pn > 0:
        if c >= 0:
            closed[c] = 3  # its neighbours are all closed now
        if pn > 0:
            pn -= 1
            c = pit[pn]
        else:
            c, hs = _heap_pop(keys, vals, hs)
        lev = z[c]
        for d in offs:
            nb = c + d
            if closed[nb]:
                continue
            closed[nb] = 1
            if track:
                lab[nb] = lab[c]
            if z[nb] <= lev:
                z[nb] = lev
                pit[pn] = nb
                pn += 1
            else:
                hs = _climb(z, closed, offs, keys, vals, hs, tr, nb, track, lab)
    return z


def _padded(elevation: np.ndarray, nodata: np.ndarray | None, stack: contextlib.ExitStack,
            budget_mb: float, dtype: np.dtype) -> tuple[np.ndarray, np.ndarray]:
    h, w = elevation.shape
    z = empty_array((h + 2, w + 2), dtype, budget_mb, stack)
    z[0] = z[-1] = 0.0
    z[:, 0] = z[:, -1] = 0.0
    closed = np.zeros((h + 2, w + 2), np.uint8)
    closed[0] = closed[-1] = 2
    closed[:, 0] = closed[:, -1] = 2
    strip = max(1, (8 * 1024 * 1024) // max(w, 1))
    for r0 in range(0, h, strip):
        blk = np.asarray(elevation[r0:r0 + strip], dtype=dtype)
        bad = ~np.isfinite(blk)
        if nodata is not None:
            bad |= np.asarray(nodata[r0:r0 + strip], dtype=bool)
        z[1 + r0:1 + r0 + blk.shape[0], 1:-1] = np.where(bad, 0.0, blk)
        closed[1 + r0:1 + r0 + blk.shape[0], 1:-1][bad] = 2
    return z, closed


#: Working memory of the tiled fill, per cell of a tile.
_BYTES_PER_TILE_CELL = 80


def _result_dtype(arr: np.ndarray) -> np.dtype:
    """float32 for float32 heights, else float64. The filled surface holds heights of the input
    only (Priority-Flood raises a cell to a neighbour's value, it never computes one), so a
    float32 DEM is filled exactly in float32, in half the memory."""
    return np.dtype(np.float32 if arr.dtype == np.float32 else np.float64)


def _bytes_per_cell(dtype: np.dtype) -> int:
    """Working memory of the whole-raster fill per cell: padded grid and heap keys (``dtype``),
    flags (1 byte), heap values, pit stack and slope queue (int32 each)."""
    return 2 * dtype.itemsize + 1 + 3 * 4


def fill_depressions(elevation: NDArray[Any], nodata: NDArray[np.bool_] | None = None, *,
                     memory_budget_mb: float | None = None) -> NDArray[np.floating]:
    """Fill every depression of a DEM: the lowest surface >= ``elevation`` that drains out.

    Exact (no epsilon gradient): the result equals ``skimage.morphology.reconstruction`` by
    erosion seeded from the border, with 8-connectivity. The raster edge and nodata cells
    (``NaN`` or ``nodata`` True) are outlets; nodata cells stay ``NaN`` in the result.

    Parameters
    ----------
    elevation : ndarray (rows, cols)
        Heights; float32 heights are filled in float32, any other numeric type in float64.
    nodata : ndarray of bool, optional
        Extra nodata mask.
    memory_budget_mb : float, optional
        When the working memory would exceed it (29 bytes per cell, 21 for float32 heights),
        the raster is filled tile by tile (:func:`fill_depressions_tiled`, same result) into a
        memory-mapped temporary file. Default: ``dem.memory_budget_mb`` in ``waterlogging.yaml``.

    Returns
    -------
    ndarray of float64, or float32 for float32 heights (the same values: a filled cell takes
    the height of a cell of the input, nothing is computed)

    Examples
    --------
    >>> import numpy as np
    >>> z = np.array([[3, 3, 3], [3, 1, 3], [3, 3, 3]], dtype=float)
    >>> fill_depressions(z)[1, 1]
    np.float64(3.0)
    >>> z[0, 1] = np.nan   # a nodata cell next to the pit: it drains out
    >>> fill_depressions(z)[1, 1]
    np.float64(1.0)
    """
    arr = np.asarray(elevation)
    if arr.ndim != 2:
        raise ValueError("elevation must be a 2-D array")
    dtype = _result_dtype(arr)
    if arr.size == 0:
        return arr.astype(dtype)
    budget = float(dem_config()["memory_budget_mb"] if memory_budget_mb is None
                   else memory_budget_mb)
    if (arr.shape[0] + 2) * (arr.shape[1] + 2) * _bytes_per_cell(dtype) > budget * 2 ** 20:
        tile = int(min(max(math.sqrt(budget * 2 ** 20 / (4 * _BYTES_PER_TILE_CELL)), 64), 8192))
        with contextlib.ExitStack() as stack:
            out = empty_array(arr.shape, dtype, budget, stack)
            return fill_depressions_tiled(arr, tile=tile, nodata=nodata, out=out)
    with contextlib.ExitStack() as stack:
        z, closed = _padded(arr, nodata, stack, budget, dtype)
        n = z.size
        idx = np.int32 if n < 2 ** 31 - 16 else np.int64
        keys = empty_array((n,), dtype, budget, stack)
        vals, pit, tr = (empty_array((n,), idx, budget, stack) for _ in range(3))
        _priority_flood(z.reshape(-1), closed.reshape(-1), z.shape[1], keys, vals, pit, tr,
                        np.zeros(1, np.int64))
        del keys, vals, pit, tr
        out = np.array(z[1:-1, 1:-1], dtype=dtype)
        out[closed[1:-1, 1:-1] == 2] = np.nan
    return out


@njit(cache=True, nogil=True)
def _label_pairs(f, lab, w):  # pragma: no cover - compiled
    """Pairs of 8-adjacent cells with different labels: (label a, label b, max filled value)."""
    n = f.size
    fwd = np.array([1, w - 1, w, w + 1], dtype=np.int64)
    cap = 1024
    la = np.empty(cap, np.int64)
    lb = np.empty(cap, np.int64)
    wt = np.empty(cap, np.float64)
    k = 0
    for c in range(n):
        a = lab[c]
        if a == 0:
            continue
        for d in fwd:
            m = c + d
            if m >= n:
                continue
            b = lab[m]
            if b == 0 or b == a:
                continue
            if k == cap:
                la = np.concatenate((la, np.empty(cap, np.int64)))
                lb = np.concatenate((lb, np.empty(cap, np.int64)))
                wt = np.concatenate((wt, np.empty(cap, np.float64)))
                cap *= 2
            la[k] = min(a, b)
            lb[k] = max(a, b)
            wt[k] = max(f[c], f[m])
            k += 1
    return la[:k], lb[:k], wt[:k]


@njit(cache=True, nogil=True)
def _minimax(n_nodes, indptr, nbr, wts, ocean):  # pragma: no cover - compiled
    """Lowest level at which each node's water reaches an ocean node (minimax path)."""
    spill = np.full(n_nodes, np.inf)
    keys = np.empty(max(n_nodes, 1) + wts.size, np.float64)
    vals = np.empty(max(n_nodes, 1) + wts.size, np.int64)
    hs = 0
    for i in range(n_nodes):
        if ocean[i]:
            spill[i] = -np.inf
            hs = _heap_push(keys, vals, hs, -np.inf, i)
    done = np.zeros(n_nodes, np.uint8)
    while hs > 0:
        u, hs = _heap_pop(keys, vals, hs)
        if done[u]:
            continue
        done[u] = 1
        su = spill[u]
        for e in range(indptr[u], indptr[u + 1]):
            v = nbr[e]
            cand = max(su, wts[e])
            if cand < spill[v]:
                spill[v] = cand
                hs = _heap_push(keys, vals, hs, cand, v)
    return spill


def _tile_flood(elevation: Any, nodata: Any, r0: int, r1: int, c0: int, c1: int
                ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Fill one tile with every tile-edge cell as an outlet; label cells by their seed.

    Returns the padded filled tile, padded labels (seed flat index + 1, 0 = frame/nodata) and a
    padded mask of cells next to a true outlet (raster edge or nodata, halo included).
    """
    h, w = elevation.shape
    hr0, hr1, hc0, hc1 = max(r0 - 1, 0), min(r1 + 1, h), max(c0 - 1, 0), min(c1 + 1, w)
    halo = np.full((r1 - r0 + 2, c1 - c0 + 2), np.nan)
    blk = np.asarray(elevation[hr0:hr1, hc0:hc1], dtype=np.float64)
    if nodata is not None:
        blk = np.where(np.asarray(nodata[hr0:hr1, hc0:hc1], dtype=bool), np.nan, blk)
    halo[hr0 - r0 + 1:hr1 - r0 + 1, hc0 - c0 + 1:hc1 - c0 + 1] = blk
    bad = ~np.isfinite(halo)
    outlet_next = ndimage.maximum_filter(bad, size=3, mode="constant", cval=True) & ~bad
    z = np.where(bad, 0.0, halo)
    closed = np.zeros(z.shape, np.uint8)
    closed[bad] = 2
    closed[0], closed[-1], closed[:, 0], closed[:, -1] = 2, 2, 2, 2
    n = z.size
    lab = np.zeros(n, np.int64)
    _priority_flood(z.reshape(-1), closed.reshape(-1), z.shape[1], np.empty(n),
                    np.empty(n, np.int64), np.empty(n, np.int64), np.empty(n, np.int64), lab)
    lab = lab.reshape(z.shape)
    lab[0], lab[-1], lab[:, 0], lab[:, -1] = 0, 0, 0, 0
    return z, lab, outlet_next


def fill_depressions_tiled(elevation: Any, *, tile: int = 1024, nodata: Any = None,
                           out: np.ndarray | None = None) -> np.ndarray:
    """Exact depression filling tile by tile, for rasters larger than memory.

    The method of Barnes (2016, "Parallel Priority-Flood depression filling for trillion cell
    digital elevation models on desktops or clusters", Computers & Geosciences 96): each tile is
    filled with all its edge cells as outlets, its cells labelled by the edge cell they flood
    from; a graph joins the labels that touch (inside a tile, and across tile edges) at the lower
    of their crossing levels; the lowest level at which each label reaches a true outlet (the
    raster edge or nodata) is solved on that graph; a second pass raises every tile to
    ``max(tile fill, level of its label)``. Only one tile (plus its one-cell halo) and the tile
    edges are in memory at a time; ``elevation`` and ``out`` may be memory-mapped arrays.

    The result is identical to :func:`fill_depressions`.

    Examples
    --------
    >>> rng = np.random.default_rng(0)
    >>> z = rng.random((50, 70))
    >>> bool(np.array_equal(fill_depressions_tiled(z, tile=16), fill_depressions(z)))
    True
    """
    h, w = elevation.shape
    tile = max(int(tile), 2)
    seeds, oceans, pairs = _tile_graph(elevation, nodata, tile)
    nodes, spill = _spill_levels(seeds, oceans, pairs)
    if out is None:
        out = np.empty((h, w), _result_dtype(np.asarray(elevation[:1, :1])))
    rows = list(range(0, h, tile))
    cols = list(range(0, w, tile))
    P = (tile + 2) * (tile + 2)
    for ti, r0 in enumerate(rows):
        for tj, c0 in enumerate(cols):
            r1, c1 = min(r0 + tile, h), min(c0 + tile, w)
            z, lab, _ = _tile_flood(elevation, nodata, r0, r1, c0, c1)
            base = (ti * len(cols) + tj) * P
            inner_lab, inner_z = lab[1:-1, 1:-1], z[1:-1, 1:-1]
            valid = inner_lab > 0
            level = np.full(inner_z.shape, -np.inf)
            level[valid] = spill[np.searchsorted(nodes, inner_lab[valid] + base)]
            res = np.maximum(inner_z, level)
            res[~valid] = np.nan
            out[r0:r1, c0:c1] = res
    return out


_Pairs = list[tuple[np.ndarray, np.ndarray, np.ndarray]]


def _cross_pairs(pairs: _Pairs, la: np.ndarray, za: np.ndarray, lb: np.ndarray,
                 zb: np.ndarray) -> None:
    """Label pairs across a tile edge (8-connected) at the higher of the two cells."""
    m = len(la)
    for da, db in ((slice(0, m), slice(0, m)), (slice(0, m - 1), slice(1, m)),
                   (slice(1, m), slice(0, m - 1))):
        a, b = la[da], lb[db]
        ok = (a > 0) & (b > 0)
        pairs.append((np.minimum(a, b)[ok], np.maximum(a, b)[ok],
                      np.maximum(za[da], zb[db])[ok]))


def _tile_graph(elevation: Any, nodata: Any,
                tile: int) -> tuple[list[np.ndarray], list[np.ndarray], _Pairs]:
    """First pass: each tile's seed labels, whether each seed is a true outlet, and the label
    pairs that touch (inside tiles and across tile edges) with their crossing level."""
    h, w = elevation.shape
    rows = list(range(0, h, tile))
    cols = list(range(0, w, tile))
    P = (tile + 2) * (tile + 2)
    pairs: _Pairs = []
    oceans: list[np.ndarray] = []
    seeds: list[np.ndarray] = []
    # tile-edge rows / columns of labels and elevations, for the pairs across tile edges
    hrow_lab = {r: np.zeros(w, np.int64) for r in rows[1:]} | {
        r - 1: np.zeros(w, np.int64) for r in rows[1:]}
    hrow_z = {r: np.full(w, np.nan) for r in hrow_lab}
    vcol_lab = {c: np.zeros(h, np.int64) for c in cols[1:]} | {
        c - 1: np.zeros(h, np.int64) for c in cols[1:]}
    vcol_z = {c: np.full(h, np.nan) for c in vcol_lab}
    for ti, r0 in enumerate(rows):
        for tj, c0 in enumerate(cols):
            r1, c1 = min(r0 + tile, h), min(c0 + tile, w)
            z, lab, outlet_next = _tile_flood(elevation, nodata, r0, r1, c0, c1)
            base = (ti * len(cols) + tj) * P
            glab = np.where(lab > 0, lab + base, 0)
            pw = z.shape[1]
            seed_local = np.unique(lab[lab > 0]) - 1
            sr, sc = np.divmod(seed_local, pw)
            seeds.append(seed_local + 1 + base)
            oceans.append(outlet_next[sr, sc])
            la, lb, wt = _label_pairs(z.reshape(-1), lab.reshape(-1), pw)
            pairs.append((la + base, lb + base, wt))
            inner_lab, inner_z = glab[1:-1, 1:-1], z[1:-1, 1:-1]
            for r in (r0, r1 - 1):
                if r in hrow_lab:
                    hrow_lab[r][c0:c1] = inner_lab[r - r0]
                    hrow_z[r][c0:c1] = inner_z[r - r0]
            for c in (c0, c1 - 1):
                if c in vcol_lab:
                    vcol_lab[c][r0:r1] = inner_lab[:, c - c0]
                    vcol_z[c][r0:r1] = inner_z[:, c - c0]
    for r in rows[1:]:
        _cross_pairs(pairs, hrow_lab[r - 1], hrow_z[r - 1], hrow_lab[r], hrow_z[r])
    for c in cols[1:]:
        _cross_pairs(pairs, vcol_lab[c - 1], vcol_z[c - 1], vcol_lab[c], vcol_z[c])
    return seeds, oceans, pairs


def _spill_levels(seeds: list[np.ndarray], oceans: list[np.ndarray],
                  pairs: _Pairs) -> tuple[np.ndarray, np.ndarray]:
    """Sorted labels and the lowest level at which each reaches a true outlet (minimax)."""
    nodes = np.concatenate(seeds) if seeds else np.zeros(0, np.int64)
    order = np.argsort(nodes)
    nodes, ocean = nodes[order], np.concatenate(oceans)[order] if oceans else np.zeros(0, bool)
    la = np.concatenate([p[0] for p in pairs]) if pairs else np.zeros(0, np.int64)
    lb = np.concatenate([p[1] for p in pairs]) if pairs else np.zeros(0, np.int64)
    wt = np.concatenate([p[2] for p in pairs]) if pairs else np.zeros(0)
    ia, ib = np.searchsorted(nodes, la), np.searchsorted(nodes, lb)
    # keep the lowest crossing per pair of labels, then both directions in CSR form
    if len(ia):
        o = np.lexsort((wt, ib, ia))
        ia, ib, wt = ia[o], ib[o], wt[o]
        first = np.r_[True, (ia[1:] != ia[:-1]) | (ib[1:] != ib[:-1])]
        ia, ib, wt = ia[first], ib[first], wt[first]
    src = np.concatenate([ia, ib])
    dst = np.concatenate([ib, ia])
    ww = np.concatenate([wt, wt])
    o = np.argsort(src, kind="stable")
    indptr = np.zeros(len(nodes) + 1, np.int64)
    np.cumsum(np.bincount(src, minlength=len(nodes)), out=indptr[1:])
    spill = _minimax(len(nodes), indptr, dst[o].astype(np.int64), ww[o], ocean.astype(np.bool_))
    return nodes, spill
