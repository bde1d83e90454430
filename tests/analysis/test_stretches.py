"""Unserved stretches along roads: hand-computed cases and the buffer/overlay answer."""

from __future__ import annotations

import math

import geopandas as gpd
import numpy as np
import pytest
import shapely
from shapely.geometry import LineString, Point

from zlgis.analysis.stretches import road_segments, substrings, unserved_stretches

CRS = "EPSG:4550"


def _roads(*lines, ids=None):
    return gpd.GeoDataFrame({"road_id": ids or [f"R{k + 1}" for k in range(len(lines))]},
                            geometry=list(lines), crs=CRS)


def test_segments_measure_from_each_line_start():
    seg = road_segments([LineString([(0, 0), (10, 0), (10, 5)]), LineString([(0, 0), (0, 7)])])
    assert seg["line"].tolist() == [0, 0, 1]
    assert seg["m0"].tolist() == [0.0, 10.0, 0.0]
    assert seg["length"].tolist() == [10.0, 5.0, 7.0]


def test_lateral_offset_shortens_the_served_chord():
    # lamp 8 m beside the road, reach 30: serves sqrt(30^2 - 8^2) = 28.914 m either side
    s = unserved_stretches(_roads(LineString([(0, 0), (300, 0)])),
                           [Point(100, 8)], reach=30.0)
    half = math.sqrt(30 ** 2 - 8 ** 2)
    assert s["start_m"].tolist() == [0.0, round(100 + half, 3)]
    assert s["end_m"].tolist() == [round(100 - half, 3), 300.0]


def test_l_shaped_road_lamp_inside_the_corner():
    # a bent road (0,0)-(100,0)-(100,100); lamp at (90,10), reach 30: first leg served from
    # 90 - sqrt(900 - 100) = 61.716 to the corner, second leg up to 10 + 28.284 = 38.284 m
    road = LineString([(0, 0), (100, 0), (100, 100)])
    s = unserved_stretches(_roads(road), [Point(90, 10)], reach=30.0)
    assert s["start_m"].tolist() == [0.0, 138.284]
    assert s["end_m"].tolist() == [61.716, 200.0]
    # the second stretch runs along the second leg only
    assert shapely.get_coordinates(s.geometry.iloc[1]).round(3).tolist() == [[100.0, 38.284],
                                                                            [100.0, 100.0]]
    # the first keeps the start vertex and ends on the first leg
    assert shapely.get_coordinates(s.geometry.iloc[0]).round(3).tolist() == [[0.0, 0.0],
                                                                            [61.716, 0.0]]


def test_curved_road_around_a_lamp_at_its_centre():
    # a quarter circle of radius 100 around the lamp: all served at reach 101, none at 99
    arc = LineString([(100 * math.cos(a), 100 * math.sin(a))
                      for a in np.linspace(0, math.pi / 2, 91)])
    assert len(unserved_stretches(_roads(arc), [Point(0, 0)], reach=101.0)) == 0
    s = unserved_stretches(_roads(arc), [Point(0, 0)], reach=99.0)
    assert len(s) == 1 and s["length_m"].iloc[0] == pytest.approx(arc.length, abs=1e-3)
    # a lamp on the middle of the arc, reach 40: points within a 40 m chord either side, an
    # arc of 2 * (2 R asin(40 / 2R)) = 400 asin(0.2) = 80.543 m (the 1-degree polyline is
    # within a few cm of the circle)
    mid = arc.interpolate(0.5, normalized=True)
    s = unserved_stretches(_roads(arc), [mid], reach=40.0)
    assert len(s) == 2
    served = arc.length - s["length_m"].sum()
    assert served == pytest.approx(400 * math.asin(0.2), abs=0.05)


def test_junction_point_serves_both_roads():
    a = LineString([(0, 0), (200, 0)])
    b = LineString([(200, 0), (200, 200)])
    s = unserved_stretches(_roads(a, b), [Point(203, 3)], reach=30.0)
    by = {r: (x, y) for r, x, y in zip(s["road_id"], s["start_m"], s["end_m"])}
    half = math.sqrt(30 ** 2 - 3 ** 2)
    assert by["R1"] == (0.0, round(203 - half, 3))
    assert by["R2"] == (round(3 + half, 3), 200.0)


def test_min_length_drops_short_gaps_and_reach_per_road():
    roads = _roads(LineString([(0, 0), (100, 0)]), LineString([(0, 50), (100, 50)]))
    pts = [Point(0, 0), Point(100, 0), Point(0, 50), Point(100, 50)]
    # road 1 reach 45: gap 10 m (dropped at min 20); road 2 reach 30: gap 40 m
    s = unserved_stretches(roads, pts, reach=np.array([45.0, 30.0]), min_length=20)
    assert s[["road_id", "start_m", "end_m"]].values.tolist() == [["R2", 30.0, 70.0]]


def test_multilinestring_parts_are_measured_separately():
    g = shapely.MultiLineString([[(0, 0), (50, 0)], [(0, 100), (50, 100)]])
    s = unserved_stretches(_roads(g), [Point(0, 0)], reach=20.0)
    assert s[["part", "start_m", "end_m"]].values.tolist() == [[0, 20.0, 50.0], [1, 0.0, 50.0]]


def test_substrings_match_shapely_substring():
    from shapely.ops import substring

    rng = np.random.default_rng(4)
    lines = np.array([LineString(np.cumsum(rng.uniform(-20, 40, (8, 2)), axis=0))
                      for _ in range(30)])
    L = shapely.length(lines)
    which = np.repeat(np.arange(30), 2)
    a = rng.uniform(0, 0.5, 60) * L[which]
    b = a + rng.uniform(0.01, 0.5, 60) * L[which]
    got = substrings(lines, which, a, b)
    for g, w, s0, s1 in zip(got, which, a, b):
        want = substring(lines[w], s0, s1)
        assert shapely.equals_exact(g, want, tolerance=1e-6) or \
            g.hausdorff_distance(want) < 1e-6


def test_same_stretches_as_buffer_overlay():
    # random lamps on a small lattice: the exact chords agree with geopandas buffer/difference
    rng = np.random.default_rng(7)
    lines = [LineString([(x, 0), (x, 600)]) for x in range(0, 601, 120)] + \
            [LineString([(0, y), (600, y)]) for y in range(0, 601, 100)]
    roads = _roads(*lines)
    pts = gpd.GeoSeries(shapely.points(rng.uniform(0, 600, (60, 2))), crs=CRS)
    ours = unserved_stretches(roads, pts, reach=35.0, min_length=5)
    cover = pts.buffer(35.0, quad_segs=256).union_all()
    rest = roads.assign(geometry=roads.geometry.difference(cover)).explode(index_parts=False)
    rest = rest[rest.length > 5]
    assert len(ours) == len(rest)
    assert ours["length_m"].sum() == pytest.approx(rest.length.sum(), abs=0.05 * len(rest))
