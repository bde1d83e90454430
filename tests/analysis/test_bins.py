"""Litter bins past their replacement deadline (zlgis/analysis/bins.py: bins_to_replace)."""

from __future__ import annotations

import datetime as dt

import geopandas as gpd
import pytest
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


@pytest.mark.parametrize("block", [250_000, 97])  # one search tree, or segments in 31 trees
def test_locating_bins_on_nearby_segments_equals_geos_bit_for_bit(block, monkeypatch):
    import numpy as np
    import shapely

    from zlgis.analysis import bins
    from zlgis.analysis.bins import _bins_on_lines, _locate

    monkeypatch.setattr(bins, "_SEGMENT_BLOCK", block)
    monkeypatch.setattr(bins, "_BOX_BLOCK", block)  # (and the points' boxes in 42 blocks)

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


@pytest.mark.parametrize("block", [250_000, 97])
def test_segments_found_by_box_give_the_dwithin_pairs(block, monkeypatch):
    import numpy as np
    import shapely

    from zlgis.analysis import bins
    from zlgis.analysis.bins import _on_lines

    monkeypatch.setattr(bins, "_SEGMENT_BLOCK", block)
    rng = np.random.default_rng(3)
    walk = np.cumsum(rng.normal(0, 10, (40, 30, 2)), axis=1).round(1)
    lines = shapely.linestrings(walk)
    # points on a 0.1 m grid, many exactly reach + 1 m (or a hair more) from a vertex
    xy = np.r_[rng.uniform(-80, 80, (3000, 2)).round(1), walk[:, 5] + [6.0, 0.0],
               walk[:, 7] + [0.0, 6.0000001], walk[:, 9] + [3.6, 4.8]]
    pts = shapely.points(xy)
    pad = 6.0
    boxes = shapely.box(xy[:, 0] - pad, xy[:, 1] - pad, xy[:, 0] + pad, xy[:, 1] + pad)
    pi, li = shapely.STRtree(lines).query(boxes)
    assert len(pi) > 3_000
    d0, p0 = _on_lines(lines, pts, pi, li, 5.0)
    d1, p1 = _on_lines(lines, pts, pi, li, 5.0, by_box=True)
    assert np.isinf(d0).any() and np.isfinite(d0).sum() > 1_000
    assert np.array_equal(d0.view(np.int64), d1.view(np.int64))
    assert np.array_equal(p0.view(np.int64), p1.view(np.int64))   # NaN where inf


def test_street_lines_equal_the_groupby_merge():
    import numpy as np
    import pandas as pd
    import shapely

    from zlgis.analysis.bins import street_lines

    rng = np.random.default_rng(4)
    # 300 segments of 12 named streets (some crossing themselves, some in two pieces) and
    # unnamed ones, in random order
    names = rng.choice(["兴华路", "中央街", "A街", "a街", "Z路", "", "站前路", "东1道街",
                        "东10道街", "东2道街", "铁东路", "光明路"], 300)
    start = rng.uniform(0, 500, (300, 2)).round(1)
    geoms = shapely.linestrings(np.stack([start, start + rng.normal(0, 40, (300, 2))], 1))
    roads = gpd.GeoDataFrame({"road_id": [f"R{i}" for i in range(300)], "name": names,
                              "road_class": rng.choice(["主干路", "次干路", "支路"], 300)},
                             geometry=geoms, crs="EPSG:4550")
    got = street_lines(roads)
    # the former implementation: a Series per group, exploded with its part numbers
    key = np.where(roads["name"] != "", roads["name"], roads["road_id"])
    merged = gpd.GeoSeries(roads.geometry.values, crs=roads.crs).groupby(key).agg(
        lambda s: shapely.line_merge(shapely.union_all(s.values)))
    parts = gpd.GeoSeries(merged.values, index=merged.index, crs=roads.crs).explode(
        index_parts=True)
    parts = parts[parts.geom_type == "LineString"]
    assert len(parts) > len(merged)
    pd.testing.assert_series_equal(got["street"], pd.Series(
        parts.index.get_level_values(0), name="street"))
    assert got["part"].tolist() == parts.index.get_level_values(1).tolist()
    assert (shapely.to_wkb(got.geometry.values) == shapely.to_wkb(parts.values)).all()


def test_merged_streets_read_back_from_the_cache_are_the_same(tmp_path, monkeypatch):
    """street_lines' merged streets kept on disk: a second run reads them (GEOS is not asked
    again) and gets the same frame, geometry WKB included; a damaged file is recomputed;
    other roads are other files."""
    import numpy as np
    import pandas as pd
    import shapely

    from zlgis.analysis import bins

    monkeypatch.setenv("ZLGIS_CACHE_DIR", str(tmp_path))
    rng = np.random.default_rng(8)
    names = rng.choice(["兴华路", "中央街", "", "站前路", "铁东路"], 200)
    start = rng.uniform(0, 400, (200, 2)).round(1)
    geoms = shapely.linestrings(np.stack([start, start + rng.normal(0, 40, (200, 2))], 1))
    geoms[5] = shapely.multilinestrings([[(0, 0), (50, 0)], [(50, 0), (50, 60)]])
    roads = gpd.GeoDataFrame({"road_id": [f"R{i}" for i in range(200)], "name": names,
                              "road_class": "支路"}, geometry=geoms, crs="EPSG:4550")
    first = bins.street_lines(roads)
    files = list((tmp_path / "streets").glob("*.npz"))
    assert len(files) == 1

    def no_geos(*a, **k):
        raise AssertionError("merged again")

    with monkeypatch.context() as m:
        m.setattr(bins.shapely, "union_all", no_geos)
        again = bins.street_lines(roads)
    pd.testing.assert_frame_equal(pd.DataFrame(again.drop(columns="geometry")),
                                  pd.DataFrame(first.drop(columns="geometry")), check_exact=True)
    assert (shapely.to_wkb(again.geometry.values) == shapely.to_wkb(first.geometry.values)).all()
    good = files[0].read_bytes()
    flipped = bytearray(good)
    flipped[len(good) // 2] ^= 0xFF
    # not an archive, cut short, a byte changed (CRC): recomputed
    for damaged in (b"not a cache file", good[:len(good) // 2], bytes(flipped)):
        files[0].write_bytes(damaged)
        redone = bins.street_lines(roads)
        assert (shapely.to_wkb(redone.geometry.values)
                == shapely.to_wkb(first.geometry.values)).all()
    moved = roads.copy()
    moved.geometry = shapely.transform(moved.geometry.values, lambda xy: xy + 1.0)
    bins.street_lines(moved)
    assert len(list((tmp_path / "streets").glob("*.npz"))) == 2
