"""Snapping points to the street graph (zlgis/analysis/snapping.py): the grid passes against the
sampled KD-tree path they replaced, against a brute-force nearest segment and against shapely."""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely
from scipy.spatial import cKDTree

from zlgis.analysis import snapping
from zlgis.analysis.street_graph import StreetGraph
from zlgis.errors import InputError

CRS = "EPSG:4550"


def _city(rng, n=14):
    """Jittered row and column streets with bends, a diagonal and a short cul-de-sac."""
    lines = []
    for j in range(n):
        y = j * 90 + rng.uniform(-20, 20)
        xs = np.linspace(-10, n * 90, 6)
        lines.append(shapely.LineString(np.c_[xs, y + rng.uniform(-6, 6, len(xs))]))
    for i in range(n):
        x = i * 90 + rng.uniform(-20, 20)
        lines.append(shapely.LineString([(x, -10), (x + rng.uniform(-9, 9), n * 90)]))
    lines.append(shapely.LineString([(0, 0), (n * 90, n * 90)]))
    lines.append(shapely.LineString([(400, 400), (405, 430)]))
    return StreetGraph.from_roads(gpd.GeoDataFrame(geometry=lines, crs=CRS))


def _points(rng, g, n):
    """Random points, points far outside, street vertices and points exactly on segments."""
    seg = g._segments
    xmin, ymin, xmax, ymax = g.edges.total_bounds
    x = rng.uniform(xmin - 30, xmax + 30, n)
    y = rng.uniform(ymin - 30, ymax + 30, n)
    far = np.c_[[xmax + 3000, xmin - 700, xmin], [ymax + 10, ymin - 900, ymax + 5000]]
    k = rng.integers(0, len(seg["ax"]), 60)
    t = rng.choice([0.0, 0.5, 1.0, 0.3], 60)
    on = np.c_[seg["ax"][k] + t * (seg["bx"][k] - seg["ax"][k]),
               seg["ay"][k] + t * (seg["by"][k] - seg["ay"][k])]
    xy = np.r_[np.c_[x, y], far, on]
    return gpd.GeoSeries(shapely.points(xy), crs=CRS)


def _sampled_reference(g, px, py):
    """The previous snapping path: the 8 nearest samples' segments (KD-tree over points sampled
    along every segment), an STRtree nearest-edge query where that is not provably exact."""
    seg = g._segments
    ln = seg["len"]
    spacing = float(np.clip(0.5 * np.median(ln), 1.0, 25.0))
    n = np.ceil(ln / spacing).astype(np.int64) + 1
    sid = np.repeat(np.arange(len(ln)), n)
    start = np.r_[0, np.cumsum(n)[:-1]]
    frac = (np.arange(n.sum()) - np.repeat(start, n)) / np.repeat(np.maximum(n - 1, 1), n)
    sx = seg["ax"][sid] + frac * (seg["bx"][sid] - seg["ax"][sid])
    sy = seg["ay"][sid] + frac * (seg["by"][sid] - seg["ay"][sid])
    dk, ik = cKDTree(np.c_[sx, sy]).query(np.c_[px, py], k=8)
    cand = sid[ik]
    ax, ay = seg["ax"][cand], seg["ay"][cand]
    vx, vy = seg["bx"][cand] - ax, seg["by"][cand] - ay
    ll = vx * vx + vy * vy
    t = np.clip(((px[:, None] - ax) * vx + (py[:, None] - ay) * vy) / np.where(ll > 0, ll, 1.0),
                0.0, 1.0)
    d = np.hypot(px[:, None] - (ax + t * vx), py[:, None] - (ay + t * vy))
    j = np.argmin(d, axis=1)
    rows = np.arange(len(px))
    access = d[rows, j]
    edge = seg["edge"][cand[rows, j]]
    unsure = ~(dk[:, -1] > access + spacing / 2)
    if unsure.any():
        u = np.flatnonzero(unsure)
        (pi, ei), dist = g._tree.query_nearest(shapely.points(px[u], py[u]),
                                               return_distance=True, all_matches=False)
        better = dist < access[u[pi]] - 1e-9
        edge[u[pi][better]], access[u[pi][better]] = ei[better], dist[better]
    return edge, access


def _brute_force(g, px, py):
    """Nearest segment of every point over all segments (ties: the lowest segment)."""
    seg = g._segments
    d2 = np.stack([snapping._dist2(seg, np.full(len(px), s), px, py)
                   for s in range(len(seg["ax"]))], axis=1)
    return np.argmin(d2, axis=1)  # first of the minima: the lowest segment


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_same_as_the_sampled_path_and_exact(seed):
    rng = np.random.default_rng(seed)
    g = _city(rng)
    pts = _points(rng, g, 3000)
    px, py = shapely.get_x(pts.values), shapely.get_y(pts.values)
    got = g.snap(pts)
    # the path it replaces: the same access distance everywhere; the same edge unless two
    # edges are equally near (a junction), where the old path's choice was arbitrary
    edge, access = _sampled_reference(g, px, py)
    assert np.allclose(got["access"], access, rtol=0, atol=1e-9)
    other = got["edge"].to_numpy() != edge
    assert other.mean() < 0.05
    d_other = shapely.distance(pts.values[other], g._edge_geoms[edge[other]])
    assert np.allclose(d_other, got["access"].to_numpy()[other], atol=1e-9)
    # exact: the nearest segment over all segments, ties to the lowest
    sid = _brute_force(g, px, py)
    assert (got["edge"].to_numpy() == g._segments["edge"][sid]).all()
    # shapely's own distance and position along the edge
    geoms = g._edge_geoms[got["edge"].to_numpy()]
    assert np.allclose(got["access"], shapely.distance(pts.values, geoms), atol=1e-9)
    assert np.allclose(got["offset"], shapely.line_locate_point(geoms, pts.values), atol=1e-6)
    snapped = shapely.points(got["snap_x"], got["snap_y"])
    assert np.allclose(shapely.distance(snapped, geoms), 0, atol=1e-6)
    assert (got["u"].to_numpy() == g.edges["u"].to_numpy()[got["edge"]]).all()


def test_blocks_passes_and_tree_fallback_same_answer(monkeypatch):
    rng = np.random.default_rng(7)
    g = _city(rng, n=8)
    pts = _points(rng, g, 800)
    whole = snapping._snap(g, shapely.get_x(pts.values), shapely.get_y(pts.values), None)
    # tiny pair blocks; a single grid pass then the STRtree for everything left
    monkeypatch.setattr(snapping, "_PAIR_BLOCK", 37)
    monkeypatch.setattr(snapping, "_MAX_PASSES", 1)
    other = snapping._snap(g, shapely.get_x(pts.values), shapely.get_y(pts.values), None)
    for k in whole:
        assert np.array_equal(whole[k], other[k], equal_nan=True), k
    monkeypatch.setattr(snapping, "_MAX_PASSES", 0)  # the STRtree alone
    tree = snapping._snap(g, shapely.get_x(pts.values), shapely.get_y(pts.values), None)
    assert np.allclose(tree["access"], whole["access"], atol=1e-9)
    # blocks of points (the last one short), with and without a reach: the same columns
    monkeypatch.setattr(snapping, "_MAX_PASSES", 8)
    monkeypatch.setattr(snapping, "_PAIR_BLOCK", 500_000)
    for limit in (None, 12.0):
        monkeypatch.setattr(snapping, "_POINT_BLOCK", 1_000_000)
        one = snapping._snap(g, shapely.get_x(pts.values), shapely.get_y(pts.values), limit)
        monkeypatch.setattr(snapping, "_POINT_BLOCK", 53)
        blocks = snapping._snap(g, shapely.get_x(pts.values), shapely.get_y(pts.values), limit)
        assert (one["edge"] == -1).any() == (limit is not None)
        for k in one:
            assert np.array_equal(one[k], blocks[k], equal_nan=True), (limit, k)


def test_max_distance_and_sets_in_one_pass():
    rng = np.random.default_rng(4)
    g = _city(rng, n=6)
    a, b = _points(rng, g, 300), _points(rng, g, 200)
    b.index = b.index + 1000
    lim = g.snap(a, max_distance=12.0)
    free = g.snap(a)
    far = free["access"].to_numpy() > 12.0
    assert far.any() and (~far).any()
    assert (lim["edge"].to_numpy()[far] == -1).all() and np.isinf(lim["access"][far]).all()
    pd.testing.assert_frame_equal(lim[~far], free[~far])
    g2 = _city(np.random.default_rng(4), n=6)
    sa, sb = snapping.snap_point_sets(g2, [a, b])
    pd.testing.assert_frame_equal(sa, free)
    pd.testing.assert_frame_equal(sb, g.snap(b))
    assert list(sb.index) == list(b.index)
    assert snapping.snap_point_sets(g2, [sa])[0] is sa  # already snapped: as it is


def test_grid_made_once_per_graph_and_radius(monkeypatch):
    """The grid and the segments' cells are laid over the graph, not the points: a second
    point set (other extent, points far outside) reuses them and still gets the exact nearest
    segment, the same as on a fresh graph; a coarser grid (cell cap) gives the same answer."""
    rng = np.random.default_rng(11)
    g = _city(rng, n=9)
    a, b = _points(rng, g, 1500), _points(rng, g, 700)
    b = gpd.GeoSeries(shapely.points(shapely.get_coordinates(b.values) * [0.5, 1.3] + 40), crs=CRS)
    g.snap(a)
    made = {r: cells["seg"] for r, cells in g.__dict__["_snap_cells"].items()}
    got = g.snap(b)
    assert all(g.__dict__["_snap_cells"][r]["seg"] is s for r, s in made.items())
    px, py = shapely.get_x(b.values), shapely.get_y(b.values)
    assert (got["edge"].to_numpy() == g._segments["edge"][_brute_force(g, px, py)]).all()
    fresh = _city(np.random.default_rng(11), n=9)
    pd.testing.assert_frame_equal(got, fresh.snap(b), check_exact=True)
    monkeypatch.setattr(snapping, "_MAX_CELLS", 50)
    coarse = _city(np.random.default_rng(11), n=9)
    pd.testing.assert_frame_equal(got, coarse.snap(b), check_exact=True)
    r0, cells = next(iter(coarse.__dict__["_snap_cells"].items()))
    assert cells["c"] > 2 * r0  # the cap made the cells wider than the radius asks


def test_coordinates_snap_and_search_as_their_points():
    """Points given by coordinates (``point_xy``: a polygon's point on its surface, made a
    block at a time) snap and find their nearest facility exactly as the geometries do."""
    from shapely.geometry import box

    from zlgis.analysis import _network_common as common
    from zlgis.analysis.network import nearest_facility, point_xy

    rng = np.random.default_rng(8)
    g = _city(rng, n=8)
    pts = _points(rng, g, 400)
    xy = np.asarray(point_xy(pts)[0])
    assert np.array_equal(xy, shapely.get_coordinates(pts.geometry.values))
    pd.testing.assert_frame_equal(_city(np.random.default_rng(8), n=8).snap(xy),
                                  g.snap(pts.reset_index(drop=True)))
    polys = np.array([box(x, y, x + 20, y + 9) for x, y in rng.uniform(0, 600, (300, 2))])
    polys[::7] = shapely.buffer(polys[::7], 3.0)
    monkey = common._XY_BLOCK
    common._XY_BLOCK = 64  # several blocks
    try:
        pxy = point_xy(polys)[0]
    finally:
        common._XY_BLOCK = monkey
    assert np.array_equal(pxy, shapely.get_coordinates(shapely.point_on_surface(polys)))
    fac = gpd.GeoSeries(shapely.points(rng.uniform(0, 700, (9, 2))), crs=CRS)
    a = nearest_facility(g, pxy, fac, straight=False)
    b = nearest_facility(g, gpd.GeoSeries(polys, crs=CRS), fac, straight=False)
    pd.testing.assert_frame_equal(a, b)
    assert np.isfinite(a["distance_network"]).sum() > 250
    with pytest.raises(Exception, match="没有坐标"):
        point_xy(np.array([[1.0, 2.0], [np.nan, 0.0]]))


def test_frames_without_copies_are_the_remembered_arrays_read_only():
    """``copy=False`` hands out the graph's remembered arrays, read-only: the same frame as a
    copy, and a caller writing into its copy leaves what the graph remembers unchanged."""
    rng = np.random.default_rng(6)
    g = _city(rng, n=6)
    a = _points(rng, g, 250)
    shared, = snapping.snap_point_sets(g, [a], copy=False)
    own = g.snap(a)
    pd.testing.assert_frame_equal(shared, own)
    for col in shared.columns:
        arr = shared[col].to_numpy()
        assert not arr.flags.writeable
        with pytest.raises(ValueError):
            arr[0] = arr[0]
    own.loc[own.index[0], "access"] = -1.0   # the caller's own copy
    again, = snapping.snap_point_sets(g, [a], copy=False)
    assert again["access"].iloc[0] == shared["access"].iloc[0] >= 0
    assert np.shares_memory(again["access"].to_numpy(), shared["access"].to_numpy())


def test_large_coordinate_demand_measured_in_blocks(monkeypatch):
    """Demand given by coordinates beyond ``_DEMAND_BLOCK`` points: one Dijkstra pass, the
    blocks snapped without being remembered, the same frame as in one block."""
    from zlgis.analysis import shortest_paths
    from zlgis.analysis.network import nearest_facility

    rng = np.random.default_rng(21)
    g = _city(rng, n=8)
    xy = shapely.get_coordinates(_points(rng, g, 700).geometry.values)
    fac = gpd.GeoSeries(shapely.points(rng.uniform(0, 700, (11, 2))), crs=CRS)
    cost = rng.uniform(0, 40, 11)
    whole = nearest_facility(g, xy, fac, cost=cost, max_access=30.0, limit=400.0,
                             straight=False)
    assert len(g.__dict__["_snap_memo"]) == 2  # the facilities and the demand remembered
    g.forget_snapped()
    monkeypatch.setattr(shortest_paths, "_DEMAND_BLOCK", 128)
    calls = []
    orig = shortest_paths._multi_source
    monkeypatch.setattr(shortest_paths, "_multi_source",
                        lambda *a, **k: calls.append(1) or orig(*a, **k))
    blocks = nearest_facility(g, xy, fac, cost=cost, max_access=30.0, limit=400.0,
                              straight=False)
    pd.testing.assert_frame_equal(blocks, whole, check_exact=True)
    assert calls == [1]
    assert len(g.__dict__["_snap_memo"]) == 1  # the facilities only
    assert np.isinf(whole["distance_network"]).any() and np.isfinite(whole["distance_network"]).any()
    bad = xy.copy()
    bad[300] = np.nan
    with pytest.raises(InputError, match="要素 300"):
        nearest_facility(g, bad, fac, straight=False)
