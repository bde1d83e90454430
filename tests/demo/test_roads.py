"""The street lattice (zlgis/demo/roads.py): classes, river cut, bridges, flat-capped red lines."""

from __future__ import annotations

import numpy as np
import pytest
import shapely

from zlgis.demo._common import make_frame, rng_for
from zlgis.demo.roads import ROAD_CLASSES, _cn, block_boxes, build_lattice, road_layers


@pytest.fixture(scope="module")
def lattice():
    lat = build_lattice(make_frame(3, 25_000), rng_for(3, 1))
    roads, red = road_layers(lat)
    return lat, roads, red


def test_chinese_numerals():
    assert [_cn(n) for n in (1, 10, 11, 20, 35, 99)] == ["一", "十", "十一", "二十", "三十五", "九十九"]


def test_lattice_positions_are_whole_metres(lattice):
    lat, roads, _ = lattice
    assert np.all(lat.xs == np.round(lat.xs)) and np.all(lat.ys == np.round(lat.ys))
    assert np.all(np.diff(lat.xs) > 100) and np.all(np.diff(lat.ys) > 80)
    assert set(roads["road_class"]) == set(ROAD_CLASSES)
    w = roads["road_class"].map(lambda c: ROAD_CLASSES[c][0])
    assert (roads["width"] == w).all()


def test_no_street_in_the_river_but_bridges(lattice):
    lat, roads, _ = lattice
    f = lat.frame
    xy = shapely.get_coordinates(roads.geometry.values)
    ends_in_river = f.river_distance(xy[:, 0], xy[:, 1]) < 0
    assert not ends_in_river.any()
    mid = shapely.line_interpolate_point(roads.geometry.values, 0.5, normalized=True)
    wet = f.river_distance(shapely.get_x(mid), shapely.get_y(mid)) < 0
    assert roads.loc[wet, "bridge"].all() and wet.sum() >= 4


def test_red_lines_are_flat_capped_and_dissolved_per_street(lattice):
    lat, roads, red = lattice
    assert red["road_id"].is_unique
    street = roads["road_id"].str.split("-").str[0]
    for code in street.drop_duplicates().sample(40, random_state=1):
        segs = roads[street == code]
        expected = shapely.union_all(shapely.buffer(segs.geometry.values,
                                                    segs["width"].to_numpy() / 2,
                                                    cap_style="flat"))
        got = red.loc[red["road_id"] == code].geometry.iloc[0]
        assert got.symmetric_difference(expected).area < 1e-3, code


def test_blocks_keep_the_setback(lattice):
    lat, _, red = lattice
    b = block_boxes(lat, 12.0)
    boxes = shapely.box(b["bx0"], b["by0"], b["bx1"], b["by1"])
    ok = (b["bx1"] > b["bx0"]) & (b["by1"] > b["by0"])
    tree = shapely.STRtree(red.geometry.values)
    _, d = tree.query_nearest(boxes[ok.to_numpy()], return_distance=True, all_matches=False)
    assert d.min() == pytest.approx(12.0, abs=1e-6)
