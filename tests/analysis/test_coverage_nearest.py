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


def test_cluster_member_values_equal_three_maps():
    """cluster_findings' one lookup of the members equals the three Series.map it replaced."""
    import pandas as pd

    from zlgis.analysis.coverage_areas import _member_values

    rng = np.random.default_rng(7)
    n = 5_000
    ids = np.array([f"B{k:05d}" for k in rng.permutation(n)], dtype=object)
    dist = rng.uniform(0, 900, n)
    dist[::13] = np.inf
    comp = np.array([None if k % 5 == 0 else f"C{k % 37}" for k in range(n)], dtype=object)
    demand = pd.DataFrame({"building_id": ids, "distance": dist,
                           "population": rng.integers(0, 90, n).astype(float),
                           "compound_id": comp})
    members = pd.Series(np.r_[rng.choice(ids, 3_000), ["nobody", "B99999"]], dtype=object)
    members.index = np.repeat(np.arange(len(members) // 2 + 1), 2)[:len(members)]
    d, p, c = _member_values(demand, members, id_col="building_id", dist_col="distance",
                             pop_col="population")
    key = demand["building_id"].astype(str)
    s_d = pd.Series(dist, index=key)
    want_d = members.map(s_d.where(np.isfinite(s_d)))
    want_p = members.map(pd.Series(demand["population"].to_numpy(float), index=key))
    want_c = members.map(pd.Series(comp, index=key))
    assert np.array_equal(d, want_d.to_numpy(float), equal_nan=True)
    assert np.array_equal(p, want_p.to_numpy(float), equal_nan=True)
    assert np.isnan(d[-2:]).all() and np.isnan(d).sum() > 100  # unknown members, inf distances
    got_c = pd.Series(c, dtype=object)
    assert got_c.isna().tolist() == want_c.isna().tolist()
    assert got_c.dropna().tolist() == want_c.dropna().tolist()
    assert got_c.isna().sum() > 2
