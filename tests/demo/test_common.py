"""The truth table (zlgis/demo/_common.py ``Truth``): schema, rule ids, every plant present."""

from __future__ import annotations


def test_schema_and_rule_ids(demo_truth):
    from zlgis.rules import rules

    registered = {(r.check, r.id) for r in rules()}
    assert list(demo_truth.columns) == ["case_id", "check", "rule", "layer", "feature_id",
                                        "related_id", "expect", "value", "x", "y", "note"]
    assert demo_truth["case_id"].is_unique
    assert set(demo_truth["expect"]) == {"flag", "no_flag"}
    for r in demo_truth.itertuples():
        assert (r.check, r.rule) in registered, r.case_id
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


def test_feature_ids_exist(demo_truth, demo_layers, demo_catalog):
    for r in demo_truth.itertuples():
        if r.layer in ("dem", "truck_pings", "patrol_observations"):
            continue
        if r.rule in ("sweeping_share_low", "road_never_swept", "bin_gap"):
            # street-level findings name the street (or the group of main and secondary roads)
            assert r.feature_id == "主次干道" or r.feature_id in set(
                demo_layers["roads"]["name"]), r.case_id
            continue
        gdf = demo_layers[r.layer]
        idcol = {"buildings": "building_id", "construction_sites": "site_id",
                 "residential_compounds": "compound_id", "waterlogging_points": "point_id",
                 "logistics_points": "point_id", "truck_no_parking_zones": "zone_id"}.get(
                     r.layer) or demo_catalog[r.layer].id_field
        assert r.feature_id in set(gdf[idcol]), r.case_id
    pings = demo_layers["truck_pings"]
    patrol = demo_layers["patrol_observations"]
    for r in demo_truth[demo_truth["layer"] == "truck_pings"].itertuples():
        assert r.feature_id in set(pings["plate"]), r.case_id
    for r in demo_truth[demo_truth["layer"] == "patrol_observations"].itertuples():
        assert r.feature_id in set(patrol["plate"]), r.case_id
