"""Drinking-water source protection zones (zlgis/analysis/watersource.py)."""

from __future__ import annotations

import geopandas as gpd
import pytest
from shapely.geometry import Point, box

from zlgis.analysis.watersource import run_check, zone_buildings, zone_levels, zone_reports
from zlgis.errors import InputError

ZONES = gpd.GeoDataFrame({"zone_id": ["Z1", "Z2", "Z3"], "level": ["一级", "二级", "准保护区"]},
                         geometry=[box(0, 0, 100, 100), box(100, 0, 300, 100),
                                   box(300, 0, 500, 100)], crs="EPSG:4550")


def test_levels_and_what_each_forbids():
    b = gpd.GeoDataFrame({"building_id": ["home1", "works", "edge", "factory2", "home2", "factory3"],
                          "use": ["住宅", "市政设施", "住宅", "仓储", "住宅", "工业"]},
                         geometry=[box(10, 10, 20, 20), box(40, 40, 50, 50), box(-10, 0, 0, 10),
                                   box(150, 10, 160, 20), box(200, 10, 210, 20),
                                   box(350, 10, 360, 20)], crs="EPSG:4550")
    t = zone_buildings(ZONES, b).set_index("building_id")
    assert t["rule"].to_dict() == {"factory2": "water_zone2_polluting",
                                   "home1": "water_zone1_building"}


def test_building_across_two_levels_is_reported_once_by_the_strictest():
    b = gpd.GeoDataFrame({"building_id": ["x"], "use": ["工业"]}, geometry=[box(95, 10, 105, 20)],
                         crs="EPSG:4550")
    t = zone_buildings(ZONES, b)
    assert t["rule"].tolist() == ["water_zone1_building"] and t["zone_id"].tolist() == ["Z1"]


def test_reports_by_category_or_keyword():
    cases = gpd.GeoDataFrame({"case_id": ["a", "b", "c", "d"],
                              "category": ["倾倒垃圾", "其他", "供热", "倾倒垃圾"],
                              "text": ["", "河边有人散养牛羊", "暖气不热", ""]},
                             geometry=[Point(50, 50), Point(150, 50), Point(60, 60), Point(600, 50)],
                             crs="EPSG:4550")
    t = zone_reports(ZONES, cases).set_index("case_id")
    assert t["kind"].to_dict() == {"a": "dumping", "b": "livestock"}


def test_unknown_level_is_refused():
    z = ZONES.copy()
    z.loc[1, "level"] = "三级"
    with pytest.raises(InputError) as e:
        zone_levels(z)
    assert (e.value.row, e.value.field) == (2, "level")


def test_run_check_without_reports_layer_skips_those_rules():
    b = gpd.GeoDataFrame({"building_id": ["h"], "use": ["住宅"]}, geometry=[box(10, 10, 20, 20)],
                         crs="EPSG:4550")
    f = run_check(None, {"water_source_zones": ZONES, "buildings": b})
    assert f["rule"].tolist() == ["water_zone1_building"]
    assert any("hotline_cases" in n for n in f.attrs["notes"])
