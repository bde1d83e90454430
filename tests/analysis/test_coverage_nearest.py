"""Straight-line nearest facility by k-d tree equals the STRtree search it replaced."""

from __future__ import annotations

import numpy as np
import shapely

from zlgis.analysis.coverage_areas import nearest_straight


def _strtree(pts, fac):
    """The former facility_distances search: STRtree.query_nearest over all points."""
    (pi, fi), d = shapely.STRtree(fac).query_nearest(pts, return_distance=True,
                                                     all_matches=False)
    dist = np.full(len(pts), np.inf)
    pos = np.full(len(pts), -1, np.int64)
    dist[pi] = d
    pos[pi] = fi
    return dist, pos


def _case(seed: int, n: int, k: int, lattice: bool):
    rng = np.random.default_rng(seed)
    if lattice:  # whole metres: many ties and points lying on a facility
        p = rng.integers(0, 60, (n, 2)) + [512_000, 5_310_000]
        f = rng.integers(0, 60, (k, 2)) + [512_000, 5_310_000]
    else:
        p = rng.uniform(0, 5_000, (n, 2)) + [512_000.123, 5_310_000.456]
        f = rng.uniform(0, 5_000, (k, 2)) + [512_000.123, 5_310_000.456]
    pts = shapely.points(p.astype(float))
    fac = shapely.points(f.astype(float))
    pts[::97] = None                        # missing and empty demand points: no facility
    pts[5::101] = shapely.Point()
    return pts, fac


def test_kdtree_distances_equal_strtree_bit_for_bit():
    for seed, lattice in ((1, True), (2, False), (3, True)):
        pts, fac = _case(seed, 20_000, 700, lattice)
        tree = shapely.STRtree(fac)
        dist, pos = nearest_straight(pts, fac, tree, touching_only=True)
        rd, rp = _strtree(pts, fac)
        assert np.array_equal(dist.view(np.int64), rd.view(np.int64))
        zero = rd == 0
        assert zero.sum() > 100 if lattice else zero.sum() == 0
        assert np.array_equal(pos[zero], rp[zero])     # the STRtree's pick among equals
        assert (pos[~zero] == -1).all()
        assert np.isinf(dist[::97]).all() and np.isinf(dist[5::101]).all()
        full = nearest_straight(pts, fac, tree)          # every point's pick: the STRtree's
        assert np.array_equal(full[0], rd) and np.array_equal(full[1], rp)


def test_polygon_facilities_take_the_strtree():
    pts, fac = _case(4, 2_000, 50, False)
    fac = shapely.buffer(fac, 30.0)
    dist, pos = nearest_straight(pts, fac, shapely.STRtree(fac), touching_only=True)
    rd, rp = _strtree(pts, fac)
    assert np.array_equal(dist, rd)
    assert (rd == 0).sum() > 0 and np.array_equal(pos[rd == 0], rp[rd == 0])
