"""Green space on hand-made layers: inventory mismatches, assignment, checklist, wetland zone."""

from __future__ import annotations

import geopandas as gpd
from shapely.geometry import Point, box

from zlgis.analysis import greenspace as gs

CRS = "EPSG:4550"
CFG = {
    "inventory": {"items": {"islands": {"layer": "green_islands", "title": "绿岛", "count": 3,
                                        "area_m2": 300}},
                  "area_tolerance": 0.02, "item_area_tolerance": 0.05},
    "maintenance": {"layers": ["green_islands"]},
    "park_checklist": {"park": "吊桥公园", "near_m": 50, "items": [
        {"key": "seats", "title": "座椅", "layer": "park_facilities", "filter": {"kind": "座椅"},
         "min_count": 2, "source": "x"}]},
    "wetland": {"park_category": "湿地公园", "zone_kind": "科普宣教区", "max_blue_overlap_m2": 1.0},
}


def _islands(areas=(100.0, 100.0, 100.0)):
    return gpd.GeoDataFrame({"island_id": ["A", "B", "C"], "area_m2": list(areas)},
                            geometry=[box(0, 0, 10, 10), box(20, 0, 30, 10), box(40, 0, 50, 10)],
                            crs=CRS)


def test_inventory_count_area_and_item_mismatches():
    inv, items = gs.inventory({"green_islands": _islands()}, config=CFG)
    assert inv[["count", "area_m2", "count_ok", "area_ok"]].values.tolist() == [[3, 300.0, True,
                                                                               True]]
    # one island missing (200 m² of 300: 33 % short) and one with a wrong area field
    isl = _islands((100.0, 130.0, 100.0)).iloc[:2]
    inv, items = gs.inventory({"green_islands": isl}, config=CFG)
    assert inv[["count", "count_ok", "area_ok", "area_diff"]].values.tolist() == [
        [2, False, False, round(-1 / 3, 4)]]
    assert items[["feature_id", "field_m2", "drawn_m2", "diff"]].values.tolist() == [
        ["B", 130.0, 100.0, 0.3]]
    res = gs.analyse({"green_islands": isl}, config=CFG)
    f = gs.findings_from(res, {"green_islands": isl}, crs=CRS, config=CFG)
    assert f["rule"].tolist() == ["green_inventory_mismatch"] * 2
    assert sorted(f["feature_id"]) == ["B", "plan:islands"]


def test_checklist_counts_inside_and_near_the_park():
    parks = gpd.GeoDataFrame({"park_id": ["P"], "name": ["吊桥公园"], "category": ["综合公园"]},
                             geometry=[box(0, 0, 100, 100)], crs=CRS)
    fac = gpd.GeoDataFrame({"facility_id": ["S1", "S2", "S3"], "kind": ["座椅"] * 3},
                           geometry=[Point(50, 50), Point(140, 50), Point(300, 50)], crs=CRS)
    ck = gs.park_checklist({"parks": parks, "park_facilities": fac}, config=CFG)
    # S1 inside, S2 40 m outside (within 50 m), S3 far: 2 seats, the minimum
    assert ck[["key", "count", "ok"]].values.tolist() == [["seats", 2, True]]
    ck = gs.park_checklist({"parks": parks, "park_facilities": fac.iloc[[0, 2]]}, config=CFG)
    assert ck[["count", "ok"]].values.tolist() == [[1, False]]


def test_wetland_zone_missing_or_in_blue_line():
    parks = gpd.GeoDataFrame({"park_id": ["W"], "name": ["湿地公园"], "category": ["湿地公园"]},
                             geometry=[box(0, 0, 200, 200)], crs=CRS)
    blue = gpd.GeoDataFrame({"line_id": ["B"]}, geometry=[box(150, 0, 200, 200)], crs=CRS)
    none = gs.wetland_zone({"parks": parks, "blue_lines": blue}, config=CFG)
    assert none["problem"].tolist() == ["湿地公园尚无科普宣教区"]
    zones = gpd.GeoDataFrame({"zone_id": ["Z"], "kind": ["科普宣教区"]},
                             geometry=[box(120, 50, 170, 100)], crs=CRS)
    wz = gs.wetland_zone({"parks": parks, "blue_lines": blue, "park_zones": zones}, config=CFG)
    assert wz[["in_blue_m2", "outside_park_m2"]].values.tolist() == [[1000.0, 0.0]]
    assert "位于城市蓝线内" in wz["problem"].iloc[0]
