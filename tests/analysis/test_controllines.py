"""Zone (green/blue/purple/yellow line), unpermitted-construction and whole-check tests on
hand-built layers, each with a known answer. Red-line tests: test_setbacks.py."""

from __future__ import annotations

import copy
import json

import geopandas as gpd
import numpy as np
import pytest
import shapely
from _line_fixtures import CRS, STREET, X0, Y0, B, buildings, by_key, measures, red_lines, zone
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from shapely.geometry import Polygon

from zlgis.analysis import CHECKS, get_check
from zlgis.analysis import controllines as cl

# ---- zones --------------------------------------------------------------------------------
PARK = Polygon([(X0, Y0), (X0 + 100, Y0), (X0 + 100, Y0 + 100), (X0, Y0 + 100)],
               [[(X0 + 40, Y0 + 40), (X0 + 60, Y0 + 40), (X0 + 60, Y0 + 60), (X0 + 40, Y0 + 60)]])


def test_zone_holes_touching_partial_and_exemption():
    bl = buildings([
        ("IN", B(10, 10, 20, 20), 6.0),
        ("HOLE", B(45, 45, 55, 55), 6.0),                    # inside the hole: not inside
        ("HOLEEDGE", B(40, 45, 50, 55), 6.0),                # touches the hole's edge from inside
        ("TOUCH", B(100, 10, 110, 20), 6.0),                 # touches the outer edge
        ("HALF", B(95, 30, 105, 40), 6.0),
        ("SERVICE", B(10, 70, 20, 80), 6.0, {"line_permit": "绿线内配套服务"}),
        ("OTHERPERMIT", B(30, 70, 40, 80), 6.0, {"line_permit": "黄线内批准设施"}),
    ])
    f = cl.zone_findings(bl, zone([("G1", PARK)]), "green_line")
    keys = by_key(f)
    assert set(f["feature_id"]) == {"IN", "HALF", "OTHERPERMIT"}
    assert measures(keys[("green_line", "HALF", "G1")])["overlap_m2"] == pytest.approx(50.0)
    assert keys[("green_line", "HALF", "G1")].measure == pytest.approx(0.5)
    assert keys[("green_line", "IN", "G1")].geometry.equals(B(10, 10, 20, 20))
    assert keys[("green_line", "IN", "G1")].severity == "high"
    assert measures(keys[("green_line", "IN", "G1")])["status"] == "疑似，待核查"
    row = keys[("green_line", "IN", "G1")]
    assert row.task_id == "1.2.2" and "112" in row.rule_source and row.title.startswith("疑似")


@pytest.mark.parametrize("rule,order,permit", [
    ("blue_line", "145", "蓝线内批准设施"), ("purple_line", "119", "紫线内修缮批准"),
    ("yellow_line", "144", "黄线内批准设施")])
def test_each_zone_cites_its_regulation_and_honours_its_exemption(rule, order, permit):
    bl = buildings([("X", B(10, 10, 20, 20), 6.0), ("OK", B(30, 10, 40, 20), 6.0, {"line_permit": permit})])
    f = cl.zone_findings(bl, zone([("Z1", PARK)]), rule)
    assert f["feature_id"].tolist() == ["X"]
    assert f.loc[0, "rule"] == rule and order in f.loc[0, "rule_source"]


def test_exemptions_are_data():
    cfg = copy.deepcopy(cl.load_rules())
    cfg["zones"]["lines"]["green_line"]["exempt"] = [{"field": "use", "values": ["公园服务"]}]
    bl = buildings([("S", B(10, 10, 20, 20), 6.0)]).assign(use="公园服务")
    assert len(cl.zone_findings(bl, zone([("G1", PARK)]), "green_line")) == 1
    assert len(cl.zone_findings(bl, zone([("G1", PARK)]), "green_line", cfg)) == 0


def test_construction_sites_in_zones_have_their_own_ids():
    bl = buildings([("X1", B(10, 10, 20, 20), 6.0)])
    sites = gpd.GeoDataFrame({"site_id": ["X1"], "permit_status": ["已批"], "line_permit": [None]},
                             geometry=[B(10, 10, 20, 20)], crs=CRS)
    fb = cl.zone_findings(bl, zone([("G1", PARK)]), "green_line")
    fs = cl.zone_findings(sites, zone([("G1", PARK)]), "green_line", layer="construction_sites",
                          feature_id="site_id")
    assert fs.loc[0, "layer"] == "construction_sites"
    assert fb.loc[0, "finding_id"] != fs.loc[0, "finding_id"]


# ---- unpermitted ----------------------------------------------------------------------------
def test_unpermitted_inventory_nearest_line_and_distance():
    bl = buildings([
        ("U1", B(10, 20, 20, 30), 6.0, {"permit_status": "未批"}),     # 4 m from the red line
        ("U2", B(10, 10, 20, 20), 6.0, {"permit_status": "未批"}),     # over the red line: 0
        ("P", B(50, 50, 60, 60), 6.0, {"permit_status": "已批"}),
        ("T", B(70, 50, 80, 60), 6.0, {"permit_status": "临时"}),
    ])
    sites = gpd.GeoDataFrame({"site_id": ["S1"], "permit_status": ["未批"]},
                             geometry=[B(200, 130, 240, 160)], crs=CRS)
    lines = {"red_lines": red_lines([STREET]),
             "green_lines": zone([("G9", B(200, 100, 260, 120))])}
    inv = cl.unpermitted_construction(bl, sites, lines)
    rows = {r.feature_id: r for r in inv.itertuples()}
    assert set(rows) == {"U1", "U2", "S1"}
    assert (rows["U1"].nearest_line_id, rows["U1"].nearest_line_m) == ("R1", pytest.approx(4.0))
    assert rows["U2"].nearest_line_m == 0.0
    assert (rows["S1"].nearest_line_layer, rows["S1"].nearest_line_m) == ("green_lines", pytest.approx(10.0))
    f = cl.unpermitted_findings(inv)
    assert set(f["task_id"]) == {"1.3.1"}
    fs = f[f["layer"] == "construction_sites"].iloc[0]
    assert fs["event_code_new"] == "08016"
    assert f[f["feature_id"] == "U2"].iloc[0]["severity"] == "high"


def test_unpermitted_skips_layers_without_permit_field():
    bl = buildings([("U1", B(10, 20, 20, 30), 6.0)]).drop(columns="permit_status")
    assert len(cl.unpermitted_construction(bl, None, {"red_lines": red_lines([STREET])})) == 0


# ---- ids, errors, the whole check -----------------------------------------------------------
def _small_city():
    bl = buildings([
        ("E", B(10, 13, 20, 23), 6.0),
        ("S", B(30, 17, 40, 27), 6.0),
        ("G", B(10, 110, 20, 120), 6.0, {"permit_status": "未批"}),
        ("FAR", B(300, 300, 310, 310), 6.0),
    ])
    layers = {"buildings": bl, "red_lines": red_lines([STREET]),
              "green_lines": zone([("G1", B(0, 100, 100, 200))]),
              "blue_lines": zone([("L1", B(500, 500, 600, 600))]),
              "purple_lines": zone([("P1", B(700, 700, 800, 800))]),
              "yellow_lines": zone([("Y1", B(900, 900, 950, 950))])}
    return layers


def test_ids_stable_across_runs_row_order_and_unrelated_edits():
    layers = _small_city()
    a = cl.check_control_lines(layers)
    assert set(a["rule"]) == {"red_line_encroachment", "red_line_setback", "green_line",
                              "unpermitted_construction"}
    b = cl.check_control_lines(layers)
    assert a["finding_id"].tolist() == b["finding_id"].tolist()
    moved = {**layers, "buildings": layers["buildings"].iloc[::-1].reset_index(drop=True)}
    geoms = moved["buildings"].geometry.copy()
    i = int(np.flatnonzero(moved["buildings"]["building_id"] == "FAR")[0])
    geoms.iloc[i] = shapely.affinity.translate(geoms.iloc[i], 37.0, -12.0)
    moved["buildings"] = moved["buildings"].set_geometry(geoms)
    c = cl.check_control_lines(moved)
    assert sorted(a["finding_id"]) == sorted(c["finding_id"])
    assert a["finding_id"].is_unique


def test_run_check_is_registered_and_assigns_grids():
    assert CHECKS["controllines"] == "zlgis.analysis.controllines:run_check"
    layers = _small_city()
    layers["grids"] = gpd.GeoDataFrame({"grid_id": ["150783001001001"], "road_chief": ["张三"]},
                                       geometry=[B(-50, -50, 150, 150)], crs=CRS)

    class Cat:  # the catalog is only asked for id fields
        def __getitem__(self, key):
            raise KeyError(key)

    f = get_check("controllines")(Cat(), layers, as_of=__import__("datetime").date(2022, 8, 7))
    inside = f[f["feature_id"].isin(["E", "S"])]
    assert set(inside["grid_id"]) == {"150783001001001"}
    assert set(f["observed_at"]) == {"2022-08-07"}


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.tuples(st.floats(-20, 110), st.floats(-20, 110), st.floats(1, 30),
                          st.floats(1, 30)), min_size=1, max_size=25))
def test_zone_overlaps_match_brute_force(rows):
    bl = buildings([(f"B{i}", B(x, y, x + w, y + h), 6.0) for i, (x, y, w, h) in enumerate(rows)])
    f = cl.zone_findings(bl, zone([("G1", PARK)]), "green_line")
    got = {r.feature_id: json.loads(r.measures)["overlap_m2"] for r in f.itertuples()}
    want = {b: g.intersection(PARK).area for b, g in zip(bl["building_id"], bl.geometry)}
    want = {b: a for b, a in want.items() if a > 0.01}
    assert set(got) == set(want)
    for b, a in want.items():
        assert got[b] == pytest.approx(a, abs=1e-3)   # measures are rounded to 1e-3


@pytest.mark.parametrize("edit,key", [
    (lambda c: c["setbacks"].pop("table_m"), "setbacks.table_m"),
    (lambda c: c["setbacks"]["table_m"]["支路"].pop("high"), "支路.high"),
    (lambda c: c["tolerance"].update(distance_m="一厘米"), "tolerance.distance_m"),
    (lambda c: c["zones"]["lines"]["green_line"].pop("layer"), "green_line"),
])
def test_broken_config_is_a_chinese_config_error(edit, key):
    from zlgis.errors import ConfigError

    cfg = copy.deepcopy(cl.load_rules())
    edit(cfg)
    with pytest.raises(ConfigError) as err:
        cl.load_rules(cfg)
    assert key in str(err.value) and "controllines.yaml" in str(err.value)
