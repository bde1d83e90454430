"""Planted building, compound and site cases (zlgis/demo/buildings.py) measured on the layers."""

from __future__ import annotations

import pytest
import shapely

from zlgis.config import load_config
from zlgis.demo.buildings import setback_required


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
        idcol = "building_id" if r.layer == "buildings" else "site_id"
        b = demo_layers[r.layer].set_index(idcol).loc[r.feature_id]
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
