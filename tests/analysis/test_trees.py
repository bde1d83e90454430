"""Trees on hand-made cases: protection zones, intrusions, street-tree gaps, fallen trees."""

from __future__ import annotations

import datetime as dt

import geopandas as gpd
import pandas as pd
from shapely.geometry import LineString, Point, box

from zlgis.analysis import trees as tr

CRS = "EPSG:4550"


def test_zone_radius_from_crown_or_grade_default():
    t = gpd.GeoDataFrame({"tree_id": ["A", "B", "C", "D"],
                          "grade": ["一级古树", "后备资源", "名木", "行道树"],
                          "crown_m": [20.0, 8.0, None, 6.0]},
                         geometry=[Point(0, 0)] * 4, crs=CRS)
    z = tr.protection_zones(t)
    # A: 10 + 5; B: 4 + 3 (reserve trees 3 m); C: default crown 12 -> 6 + 5; D: street tree
    assert z[["tree_id", "radius_m"]].values.tolist() == [["A", 15.0], ["B", 7.0], ["C", 11.0]]
    assert z["crown_source"].tolist() == ["档案冠幅", "档案冠幅", "默认冠幅（示例值）"]


def test_register_adds_graded_trees_missing_from_it():
    reg = gpd.GeoDataFrame({"tree_id": ["A"], "grade": ["一级古树"], "crown_m": [10.0]},
                           geometry=[Point(0, 0)], crs=CRS)
    trees = gpd.GeoDataFrame({"tree_id": ["A", "B", "S"], "grade": ["一级古树", "三级古树", "行道树"]},
                             geometry=[Point(0, 0), Point(50, 0), Point(90, 0)], crs=CRS)
    both = tr.register_trees({"ancient_trees": reg, "trees": trees})
    assert both["tree_id"].tolist() == ["A", "B"]


def test_building_works_and_site_inside_a_zone():
    z = tr.protection_zones(gpd.GeoDataFrame({"tree_id": ["T"], "grade": ["二级古树"],
                                              "crown_m": [12.0]},
                                             geometry=[Point(0, 0)], crs=CRS))  # radius 11
    b = gpd.GeoDataFrame({"building_id": ["IN", "OUT"]},
                         geometry=[box(9, -5, 20, 5), box(12, 10, 20, 20)], crs=CRS)
    w = gpd.GeoDataFrame({"work_id": ["W1"]}, geometry=[box(-3, -30, 3, -10.5)], crs=CRS)
    it = tr.zone_intrusions(z, {"buildings": (b, "building_id"), "road_works": (w, "work_id")})
    assert it[["layer", "feature_id"]].values.tolist() == [["buildings", "IN"],
                                                           ["road_works", "W1"]]
    assert it["distance_m"].tolist() == [9.0, 10.5]


def test_street_tree_gap_on_a_planted_road():
    road = gpd.GeoDataFrame({"road_id": ["R"], "road_class": ["次干路"]},
                            geometry=[LineString([(0, 0), (200, 0)])], crs=CRS)
    xs = [x for x in range(4, 200, 8) if not 60 < x < 120]  # 8 m spacing, 7 trees missing
    trees = gpd.GeoDataFrame({"tree_id": [f"S{x}" for x in xs], "grade": "行道树"},
                             geometry=[Point(x, 6) for x in xs], crs=CRS)
    g = tr.street_tree_gaps(road, trees)
    # last tree before the gap at x=60, first after at x=124; 6 m off the centreline and a
    # 12 m reach serve sqrt(144 - 36) = 10.392 m along the road
    assert g[["start_m", "end_m"]].values.tolist() == [[70.392, 113.608]]
    # a road with fewer than 3 street trees is not a planted road
    assert len(tr.street_tree_gaps(road, trees.iloc[:2])) == 0


def test_fallen_tree_cleared_at_exactly_the_limit_and_bad_row():
    inc = gpd.GeoDataFrame({"incident_id": ["A", "B", "C"],
                            "reported_at": pd.to_datetime(["2022-09-02 18:00"] * 3),
                            "cleared_at": pd.to_datetime(["2022-09-02 22:00",
                                                          "2022-09-02 22:01",
                                                          "2022-09-02 17:00"])},
                           geometry=[Point(0, 0)] * 3, crs=CRS)
    ok, bad = tr.fallen_delays(inc, as_of=dt.date(2022, 9, 4))
    assert ok[["incident_id", "overdue"]].values.tolist() == [["A", False], ["B", True]]
    assert bad[["id", "field", "reason"]].values.tolist() == [["C", "cleared_at",
                                                               "清理时间早于报告时间"]]
