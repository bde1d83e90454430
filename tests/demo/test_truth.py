"""The ground-truth table of planted cases (zlgis/demo/buildings.py, facilities.py, trucks.py, dem.py)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import shapely
from shapely.geometry import Point

from zlgis.config import load_config
from zlgis.demo.buildings import setback_required

RULES = {
    "controllines": {"red_line_encroachment", "red_line_setback", "green_line", "blue_line",
                     "purple_line", "yellow_line", "unpermitted_construction"},
    "coverage": {"toilet_uncovered", "park_uncovered", "transfer_uncovered",
                 "transfer_station_distance"},
    "waterlogging": {"depression", "road_ponding", "recorded_point_unexplained",
                     "survey_candidate"},
    "trucks": {"no_parking_zone", "restricted_road", "muck_off_route", "muck_illegal_dump",
               "zombie_vehicle", "parking_supply"},
}


def test_schema_and_rule_ids(demo_truth):
    assert list(demo_truth.columns) == ["case_id", "check", "rule", "layer", "feature_id",
                                        "related_id", "expect", "value", "x", "y", "note"]
    assert demo_truth["case_id"].is_unique
    assert set(demo_truth["expect"]) == {"flag", "no_flag"}
    for r in demo_truth.itertuples():
        assert r.rule in RULES[r.check], r.case_id
        assert r.note


def test_every_required_plant_is_there(demo_truth):
    flags = demo_truth[demo_truth["expect"] == "flag"]
    need = {"red_line_encroachment", "red_line_setback", "green_line", "blue_line", "purple_line",
            "yellow_line", "unpermitted_construction", "toilet_uncovered", "depression",
            "recorded_point_unexplained", "no_parking_zone", "restricted_road", "muck_off_route",
            "muck_illegal_dump", "zombie_vehicle"}
    assert need <= set(flags["rule"])
    assert (flags["rule"] == "red_line_encroachment").sum() >= 3
    near = demo_truth[demo_truth["expect"] == "no_flag"]
    assert {"red_line_setback", "red_line_encroachment", "yellow_line", "green_line",
            "no_parking_zone"} <= set(near["rule"])


def test_feature_ids_exist(demo_truth, demo_layers):
    for r in demo_truth.itertuples():
        if r.layer in ("dem", "truck_pings", "patrol_observations"):
            continue
        gdf = demo_layers[r.layer]
        idcol = {"buildings": "building_id", "construction_sites": "site_id",
                 "residential_compounds": "compound_id", "waterlogging_points": "point_id",
                 "logistics_points": "point_id", "truck_no_parking_zones": "zone_id"}[r.layer]
        assert r.feature_id in set(gdf[idcol]), r.case_id
    pings = demo_layers["truck_pings"]
    patrol = demo_layers["patrol_observations"]
    for r in demo_truth[demo_truth["layer"] == "truck_pings"].itertuples():
        assert r.feature_id in set(pings["plate"]), r.case_id
    for r in demo_truth[demo_truth["layer"] == "patrol_observations"].itertuples():
        assert r.feature_id in set(patrol["plate"]), r.case_id


def _building(layers, bid):
    b = layers["buildings"]
    return b.loc[b["building_id"] == bid].geometry.iloc[0]


def _red(layers, lid):
    r = layers["red_lines"]
    return r.loc[r["line_id"] == lid].geometry.iloc[0]


def test_encroachment_depth_and_setback_distance_are_measurable(demo_truth, demo_layers):
    t = demo_truth[demo_truth["check"] == "controllines"]
    cfg = load_config("controllines")
    for r in t[t["rule"] == "red_line_encroachment"].itertuples():
        g, red = _building(demo_layers, r.feature_id), _red(demo_layers, r.related_id)
        inside = g.intersection(red)
        if r.expect == "flag":
            # depth: how far the building reaches into the road land
            xs = shapely.get_coordinates(inside)
            depth = shapely.distance(shapely.points(xs), red.exterior if red.geom_type ==
                                     "Polygon" else red.boundary).max()
            assert depth == pytest.approx(float(r.value), abs=0.01), r.case_id
        else:
            assert inside.area < 1e-6, r.case_id
    roads = demo_layers["red_lines"].set_index("line_id")
    for r in t[t["rule"] == "red_line_setback"].itertuples():
        g, red = _building(demo_layers, r.feature_id), _red(demo_layers, r.related_id)
        d = g.distance(red)
        assert d == pytest.approx(float(r.value), abs=1e-6), r.case_id
        b = demo_layers["buildings"].set_index("building_id").loc[r.feature_id]
        need = setback_required(cfg, roads.loc[r.related_id, "road_class"], float(b["height"]))
        assert (d < need) == (r.expect == "flag"), r.case_id


def test_zone_cases_sit_in_their_lines(demo_truth, demo_layers):
    t = demo_truth[demo_truth["rule"].isin(["green_line", "blue_line", "purple_line",
                                            "yellow_line"])]
    for r in t.itertuples():
        layer = r.rule.replace("_line", "_lines")
        z = demo_layers[layer]
        zone = z.loc[z["line_id"] == r.related_id].geometry.iloc[0]
        b = demo_layers["buildings"].set_index("building_id").loc[r.feature_id]
        assert b.geometry.intersection(zone).area > 1.0, r.case_id
        exempt = isinstance(b["line_permit"], str) and b["line_permit"] != ""
        assert exempt == (r.expect == "no_flag"), r.case_id


def test_unpermitted_cases(demo_truth, demo_layers):
    t = demo_truth[demo_truth["rule"] == "unpermitted_construction"]
    b = demo_layers["buildings"].set_index("building_id")
    s = demo_layers["construction_sites"].set_index("site_id")
    for r in t.itertuples():
        status = (b if r.layer == "buildings" else s).loc[r.feature_id, "permit_status"]
        assert (status == "未批") == (r.expect == "flag"), r.case_id
    # nothing else is unpermitted
    assert (b["permit_status"] == "未批").sum() + (s["permit_status"] == "未批").sum() == \
        (t["expect"] == "flag").sum()


def test_uncovered_compounds_have_no_toilet_nearby(demo_truth, demo_layers):
    t = demo_truth[demo_truth["rule"] == "toilet_uncovered"]
    comps = demo_layers["residential_compounds"].set_index("compound_id")
    toilets = demo_layers["toilets"]
    for r in t.itertuples():
        g = comps.loc[r.feature_id].geometry
        d = toilets.distance(g)
        if r.related_id:  # the riverside compound: one toilet across the river, under 300 m
            across = toilets.loc[toilets["toilet_id"] == r.related_id].geometry.iloc[0]
            assert across.distance(g) < 300
            river = demo_layers["blue_lines"].iloc[0].geometry
            assert shapely.LineString([g.centroid, across]).intersects(river)
            assert (d.drop(index=toilets.index[toilets["toilet_id"] == r.related_id]) > 600).all()
        else:
            assert d.min() > 600, r.case_id
        b = demo_layers["buildings"]
        assert ((b["compound_id"] == r.feature_id) & (b["use"] == "住宅")).sum() >= 3


def test_truck_cases_are_in_the_pings(demo_truth, demo_layers):
    from zlgis.analysis.timewindows import WeeklySchedule, to_epoch_seconds

    pings = demo_layers["truck_pings"]
    zones = demo_layers["truck_no_parking_zones"].set_index("zone_id")
    t = demo_truth[(demo_truth["rule"] == "no_parking_zone") &
                   (demo_truth["layer"] == "truck_pings")]
    assert len(t) >= 3
    for r in t.itertuples():
        z = zones.loc[r.related_id]
        p = pings[(pings["plate"] == r.feature_id) & (pings["speed_kmh"] == 0)]
        inside = p[p.within(z.geometry)]
        assert len(inside) >= 5, r.case_id
        sched = WeeklySchedule.from_text(z["weekday_hours"], weekend=z["weekend_hours"] or "")
        secs = to_epoch_seconds(inside["time"].astype(str).tolist())
        assert bool(sched.contains(secs).any()) == (r.expect == "flag"), r.case_id
    zombie = demo_truth[demo_truth["rule"] == "zombie_vehicle"].iloc[0]
    z = pings[pings["plate"] == zombie.feature_id]
    assert (z["speed_kmh"] == 0).all()
    assert z.geometry.distance(Point(float(zombie.x), float(zombie.y))).max() < 30
    patrol = demo_layers["patrol_observations"]
    zp = patrol[patrol["plate"] == zombie.feature_id]
    days = (pd.to_datetime(zp["time"]).max() - pd.to_datetime(zp["time"]).min()).days
    assert days > 7
    # GCJ-02 patrol positions land where the truck stands once converted
    assert zp.geometry.distance(Point(float(zombie.x), float(zombie.y))).max() < 15
    roads = demo_layers["roads"]
    corridor = roads[roads["name"] == "南入口大街"].union_all()
    assert corridor.distance(Point(float(zombie.x), float(zombie.y))) < 20


def test_week_of_pings(demo_layers):
    p = demo_layers["truck_pings"]
    t = pd.to_datetime(p["time"])
    assert t.min() >= pd.Timestamp("2022-06-06") and t.max() < pd.Timestamp("2022-06-13")
    assert p["plate"].nunique() >= 30
    assert {"渣土车", "重型货车"} <= set(p["vehicle_type"])
    moving = p[p["speed_kmh"] > 5]
    tree = shapely.STRtree(demo_layers["roads"].geometry.values)
    _, d = tree.query_nearest(moving.geometry.values, return_distance=True, all_matches=False)
    # on the streets, or in the yard of a depot or a site next to one
    assert len(d) == len(moving) and (d < 80.0).all()
    assert (d < 1.0).mean() > 0.75
