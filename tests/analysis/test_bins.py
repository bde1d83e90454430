"""Litter bins past their replacement deadline (zlgis/analysis/bins.py: bins_to_replace)."""

from __future__ import annotations

import datetime as dt

import geopandas as gpd
from shapely.geometry import LineString, Point

from zlgis.analysis.bins import bins_to_replace


def test_bin_on_a_named_street_takes_that_streets_class():
    roads = gpd.GeoDataFrame(
        {"road_id": ["r1", "r2", "r3"], "name": ["兴华路", "", "兴华路"],
         "road_class": ["主干路", "支路", "支路"]},
        geometry=[LineString([(0, 0), (100, 0)]), LineString([(0, 50), (100, 50)]),
                  LineString([(0, 100), (100, 100)])], crs="EPSG:4550")
    bins = gpd.GeoDataFrame(
        {"bin_id": ["named", "nearest", "branch", "new"],
         "status": ["旧桶待更换", "旧桶待更换", "旧桶待更换", "正常"],
         "street": ["兴华路", "", "", "兴华路"]},
        geometry=[Point(50, 49), Point(50, 2), Point(50, 51), Point(50, 1)], crs="EPSG:4550")
    out = bins_to_replace(bins, roads, as_of=dt.date(2022, 8, 15)).set_index("bin_id")
    # "named" lies nearest the unnamed 支路 but names 兴华路, whose first class is 主干路;
    # "nearest" takes the nearest road's name and class; "branch" stays on a 支路 (no deadline)
    assert sorted(out.index) == ["named", "nearest"]
    assert out.loc["named", "road_class"] == "主干路" and out.loc["named", "street"] == "兴华路"
    assert out.loc["nearest", "deadline"] == "2022-07-31"
    assert out.loc["nearest", "days_overdue"] == 15


def test_locating_bins_on_nearby_segments_equals_geos_bit_for_bit():
    import numpy as np
    import shapely

    from zlgis.analysis.bins import _bins_on_lines, _locate

    rng = np.random.default_rng(1)
    # winding lines on a 0.1 m grid: repeated vertices, zero-length segments, points at the
    # same distance from two segments and on vertices, all of which GEOS settles its own way
    walk = np.cumsum(rng.normal(0, 10, (60, 50, 2)), axis=1).round(1)
    walk[:, 10] = walk[:, 9]
    lines = shapely.linestrings(walk)
    xy = np.r_[rng.uniform(-100, 100, (4000, 2)).round(1), walk[:30, 20]]
    pts = shapely.points(xy)
    pi, li = shapely.STRtree(lines).query(pts, predicate="dwithin", distance=5.0)
    want = shapely.line_locate_point(lines[li], pts[pi])
    got = _locate(lines, pts, pi, li, 5.0)
    assert len(pi) > 5_000
    assert np.array_equal(want.view(np.int64), got.view(np.int64))
    assert _locate(lines, pts, pi[:0], li[:0], 5.0).shape == (0,)
    # the pairs themselves: those of the dwithin query, in its order (ties in position keep it)
    for snap in (5.0, 0.0):
        pi, li = shapely.STRtree(lines).query(pts, predicate="dwithin", distance=snap)
        got_pi, got_li, got_pos = _bins_on_lines(lines, pts, snap)
        assert np.array_equal(pi, got_pi) and np.array_equal(li, got_li)
        want = shapely.line_locate_point(lines[li], pts[pi])
        assert np.array_equal(want.view(np.int64), got_pos.view(np.int64))
    assert len(_bins_on_lines(lines, pts[:0], 5.0)[0]) == 0
