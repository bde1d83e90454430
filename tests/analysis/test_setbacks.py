"""Red-line encroachment and setback checks on hand-built layers, each with a known answer."""

from __future__ import annotations

import copy

import geopandas as gpd
import numpy as np
import pytest
import shapely
from _line_fixtures import CRS, STREET, X0, Y0, B, buildings, by_key, measures, red_lines
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from shapely.geometry import LineString, MultiPolygon, Point, Polygon

from zlgis.analysis import setbacks as sb
from zlgis.analysis.controllines import load_rules
from zlgis.errors import CRSError, InputError
from zlgis.findings import FINDING_COLUMNS


# ---- red-line encroachment ------------------------------------------------------------------
def test_encroachment_area_depth_and_geometry_is_the_breach_part():
    f = sb.red_line_findings(buildings([("B1", B(10, 13, 20, 23), 6.0)]), red_lines([STREET]))
    row = by_key(f)[("red_line_encroachment", "B1", "R1")]
    m = measures(row)
    assert m["area_m2"] == pytest.approx(30.0)
    assert m["depth_m"] == pytest.approx(3.0)
    assert m["share"] == pytest.approx(0.3)
    assert row.geometry.area == pytest.approx(30.0)
    assert row.geometry.equals(B(10, 13, 20, 16))
    assert row.lead_department == "natural_resources"
    assert row.coop_departments == "fire_rescue;subdistricts"
    assert row.task_id == "1.3.3" and "GB 50352-2019" in row.rule_source
    assert row.event_code_new == "06001"
    # encroaching on R1 is not also a setback breach of R1
    assert ("red_line_setback", "B1", "R1") not in by_key(f)
    assert list(f.columns) == list(FINDING_COLUMNS) + ["geometry"]


def test_touching_red_line_is_not_an_encroachment_but_breaches_the_setback():
    f = sb.red_line_findings(buildings([("T", B(30, 16, 40, 26), 6.0)]), red_lines([STREET]))
    keys = by_key(f)
    assert ("red_line_encroachment", "T", "R1") not in keys
    row = keys[("red_line_setback", "T", "R1")]
    assert measures(row)["actual_m"] == pytest.approx(0.0)
    assert measures(row)["required_m"] == pytest.approx(3.0)


def test_overlap_below_area_tolerance_is_not_an_encroachment():
    # 10 m x 0.0005 m = 0.005 m2 < 0.01 m2 tolerance
    f = sb.red_line_breaches(buildings([("S", B(30, 15.9995, 40, 26), 6.0)]), red_lines([STREET]))
    assert len(f) == 0


def test_building_entirely_inside_road_land():
    f = sb.red_line_findings(buildings([("IN", B(50, 4, 56, 10), 3.0)]), red_lines([STREET]))
    row = by_key(f)[("red_line_encroachment", "IN", "R1")]
    m = measures(row)
    assert m["entirely_inside"] is True
    assert m["share"] == pytest.approx(1.0)
    assert m["area_m2"] == pytest.approx(36.0)
    # the footprint spans y 4..10 of a road y 0..16: its outline reaches the middle (y = 8)
    assert m["depth_m"] == pytest.approx(8.0)
    assert row.severity == "high"


def test_multipart_building_reports_only_the_part_over_the_line():
    mp = MultiPolygon([B(100, 14, 110, 24), B(100, 40, 110, 50)])
    f = sb.red_line_findings(buildings([("M", mp, 6.0)]), red_lines([STREET]))
    row = by_key(f)[("red_line_encroachment", "M", "R1")]
    assert measures(row)["area_m2"] == pytest.approx(20.0)
    assert measures(row)["share"] == pytest.approx(0.1)
    assert row.geometry.within(B(100, 14, 110, 16).buffer(1e-6))


def test_multipart_setback_uses_the_nearest_part():
    mp = MultiPolygon([B(100, 17, 110, 24), B(100, 40, 110, 50)])   # near part at 1 m
    f = sb.setback_breaches(buildings([("M", mp, 6.0)]), red_lines([STREET]))
    row = by_key(f)[("red_line_setback", "M", "R1")]
    assert measures(row)["actual_m"] == pytest.approx(1.0)
    # breach geometry = the footprint inside the 3 m band, not the far part
    assert row.geometry.area == pytest.approx(20.0, rel=1e-6)
    assert row.geometry.within(B(99.9, 16.9, 110.1, 19.1))


# ---- setbacks -----------------------------------------------------------------------------
def test_exactly_at_setback_distance_is_not_a_breach_and_tolerance_applies():
    bl = buildings([
        ("AT", B(10, 19, 20, 29), 6.0),           # 3.000 m: not a breach
        ("TOL", B(30, 18.995, 40, 29), 6.0),      # 2.995 m: within the 0.01 m tolerance
        ("IN", B(50, 18.9, 60, 29), 6.0),         # 2.900 m: breach
        ("MULTI", B(70, 19, 80, 29), 15.0),       # multi-storey needs 5 m: breach by 2 m
    ])
    f = sb.setback_breaches(bl, red_lines([STREET]))
    keys = by_key(f)
    assert set(f["feature_id"]) == {"IN", "MULTI"}
    assert measures(keys[("red_line_setback", "IN", "R1")])["shortfall_m"] == pytest.approx(0.1)
    m = measures(keys[("red_line_setback", "MULTI", "R1")])
    assert (m["required_m"], m["actual_m"], m["height_class"]) == (5.0, 3.0, "multi")


def test_tolerance_is_configurable():
    cfg = copy.deepcopy(load_rules())
    cfg["tolerance"]["distance_m"] = 0.2
    bl = buildings([("IN", B(50, 18.9, 60, 29), 6.0)])
    assert len(sb.setback_breaches(bl, red_lines([STREET]))) == 1
    assert len(sb.setback_breaches(bl, red_lines([STREET]), cfg)) == 0


def test_high_rise_factor_and_floors_fallback():
    main = ("A1", B(0, 0, 400, 40), "主干路")     # 主干路: low 8, multi 10, high 10 x Q
    bl = gpd.GeoDataFrame({
        "building_id": ["H60", "H40", "F2"],
        "height": [60.0, 40.0, np.nan], "floors": [20, 13, 2]},
        geometry=[B(10, 51, 30, 71), B(50, 51, 70, 71), B(90, 46, 100, 56)], crs=CRS)
    f = sb.setback_breaches(bl, red_lines([main]))
    keys = by_key(f)
    assert measures(keys[("red_line_setback", "H60", "A1")])["required_m"] == pytest.approx(12.0)
    assert ("red_line_setback", "H40", "A1") not in keys        # 10 m x Q 1.0, stands at 11 m
    m = measures(keys[("red_line_setback", "F2", "A1")])      # 2 floors x 3 m: low-rise, 8 m
    assert (m["required_m"], m["actual_m"]) == (8.0, 6.0)


def test_building_near_two_roads_of_different_classes_stricter_setback_per_road():
    # 主干路 along x in [-40, 0] (8 m for low-rise), 支路 along y in [0, 16] (3 m)
    reds = red_lines([("MAIN", B(-40, -100, 0, 300), "主干路"), ("SIDE", B(0, 0, 400, 16), "支路")])
    bl = buildings([
        ("C4", B(4, 20, 14, 30), 6.0),      # 4 m from both: breaches only the 主干路 (8 m)
        ("C2", B(2, 18, 12, 28), 6.0),      # 2 m from both: breaches both
        ("FAR", B(10, 19, 20, 29), 6.0),    # 3 m from 支路 and 10 m from 主干路: none
    ])
    f = sb.setback_breaches(bl, reds)
    keys = set(by_key(f))
    assert keys == {("red_line_setback", "C4", "MAIN"), ("red_line_setback", "C2", "MAIN"),
                    ("red_line_setback", "C2", "SIDE")}
    m = measures(by_key(f)[("red_line_setback", "C4", "MAIN")])
    assert (m["required_m"], m["actual_m"], m["road_class"]) == (8.0, 4.0, "主干路")


def test_curved_road_distance_and_depth():
    # a ring road: centre circle radius 100, red line 16 m wide (r 92..108)
    c = Point(X0, Y0)
    ring = c.buffer(108, quad_segs=256).difference(c.buffer(92, quad_segs=256))
    reds = red_lines([("RING", ring, "支路")])

    def radial_box(r0, r1, angle, half=3.0):
        # a small footprint between radii r0 and r1 on the ray at ``angle``
        u = np.array([np.cos(angle), np.sin(angle)])
        v = np.array([-u[1], u[0]])
        pts = [c.coords[0] + u * r + v * s for r, s in ((r0, -half), (r1, -half), (r1, half), (r0, half))]
        return Polygon(pts)

    bl = buildings([("OUT1", radial_box(109, 118, 0.3), 6.0),     # 1 m outside the ring
                    ("CROSS", radial_box(106, 116, 1.2), 6.0),    # reaches 2 m into road land
                    ("OK", radial_box(111.5, 120, 2.0), 6.0)])    # 3.5 m: fine
    f = sb.red_line_findings(bl, reds)
    keys = by_key(f)
    assert set(f["feature_id"]) == {"OUT1", "CROSS"}
    # the inner edge's midpoint is the nearest point to the (polygonised) circle: 1 m
    assert measures(keys[("red_line_setback", "OUT1", "RING")])["actual_m"] == pytest.approx(1.0, abs=0.01)
    assert measures(keys[("red_line_encroachment", "CROSS", "RING")])["depth_m"] == pytest.approx(2.0, abs=0.05)


def test_duplicate_and_missing_ids_and_unknown_road_class_are_input_errors():
    bl = buildings([("A", B(10, 20, 20, 30), 6.0), ("A", B(30, 20, 40, 30), 6.0)])
    with pytest.raises(InputError) as err:
        sb.red_line_findings(bl, red_lines([STREET]))
    assert err.value.row == 2 and err.value.field == "building_id" and "重复" in str(err.value)
    with pytest.raises(InputError) as err:
        sb.red_line_findings(buildings([("A", B(10, 20, 20, 30), 6.0)]),
                             red_lines([("R1", B(0, 0, 400, 16), "高速")]))
    assert err.value.layer == "red_lines" and err.value.field == "road_class"


def test_geographic_crs_is_refused():
    bl = buildings([("A", B(10, 20, 20, 30), 6.0)]).to_crs("EPSG:4326")
    with pytest.raises(CRSError):
        sb.red_line_findings(bl, red_lines([STREET]))


def test_invalid_footprint_is_repaired_not_fatal():
    bowtie = Polygon([(X0 + 10, Y0 + 10), (X0 + 20, Y0 + 20), (X0 + 20, Y0 + 10), (X0 + 10, Y0 + 20)])
    f = sb.red_line_breaches(buildings([("BT", bowtie, 6.0)]), red_lines([STREET]))
    assert measures(f.iloc[0])["area_m2"] == pytest.approx(34.0)   # two triangles, 17 m2 each below y=16


# ---- red lines from roads -------------------------------------------------------------------
def test_red_lines_from_roads_widths_classes_and_overrides():
    roads = gpd.GeoDataFrame({
        "osm_id": [1, 2, 3, 4], "highway": ["primary", "residential", "footway", "residential"],
        "name": ["Main", None, "Path", "Wide"], "width": [None, None, None, "22"]},
        geometry=[LineString([(0, 0), (100, 0)]), LineString([(0, 50), (100, 50)]),
                  LineString([(0, 80), (100, 80)]), LineString([(0, 120), (100, 120)])],
        crs="EPSG:32734")
    red = sb.red_lines_from_roads(roads)
    assert red["line_id"].tolist() == ["RL-1", "RL-2", "RL-4"]
    assert red["road_class"].tolist() == ["主干路", "支路", "支路"]
    assert red["width"].tolist() == [40.0, 16.0, 22.0]
    # the polygon is the centreline buffered by half the width
    assert red.geometry.iloc[1].distance(shapely.Point(50, 50 + 8.0)) == pytest.approx(0.0)
    assert red.geometry.iloc[1].distance(shapely.Point(50, 50 + 8.5)) == pytest.approx(0.5)
    red2 = sb.red_lines_from_roads(roads, widths={"footway": {"width_m": 4, "road_class": "人行道"},
                                                  "residential": 10})
    assert red2["width"].tolist() == [40.0, 10.0, 4.0, 22.0]
    with pytest.raises(CRSError):
        sb.red_lines_from_roads(roads.to_crs("EPSG:4326"))


def test_severity_rules_from_config():
    cfg = copy.deepcopy(load_rules())
    cfg["severity"]["red_line_encroachment"] = {"rules": [], "default": "low"}
    f = sb.red_line_breaches(buildings([("B1", B(10, 13, 20, 23), 6.0)]), red_lines([STREET]), cfg)
    assert f.loc[0, "severity"] == "low"
    assert sb.red_line_breaches(buildings([("B1", B(10, 13, 20, 23), 6.0)]),
                                red_lines([STREET])).loc[0, "severity"] == "high"


def test_building_across_a_junction_encroaches_on_both_roads():
    reds = red_lines([("MAIN", B(-40, -100, 0, 300), "主干路"), ("SIDE", B(-40, 0, 400, 16), "支路")])
    f = sb.red_line_breaches(buildings([("J", B(-5, 10, 10, 30), 6.0)]), reds)
    keys = by_key(f)
    assert set(keys) == {("red_line_encroachment", "J", "MAIN"),
                         ("red_line_encroachment", "J", "SIDE")}
    assert measures(keys[("red_line_encroachment", "J", "MAIN")])["area_m2"] == pytest.approx(100.0)
    assert measures(keys[("red_line_encroachment", "J", "SIDE")])["area_m2"] == pytest.approx(90.0)


# ---- property: the vectorised check agrees with a per-building brute force ------------------
_footprint = st.tuples(st.floats(-30, 430), st.floats(-40, 60), st.floats(2, 25), st.floats(2, 25),
                       st.sampled_from([3.0, 9.0, 15.0, 30.0, 80.0]))


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(_footprint, min_size=1, max_size=25), st.sampled_from(["支路", "次干路", "主干路"]))
def test_matches_brute_force(rows, road_class):
    rows = [(f"B{i}", B(x, y, x + w, y + h), ht) for i, (x, y, w, h, ht) in enumerate(rows)]
    red_geom = B(0, 0, 400, 16)
    f = sb.red_line_findings(buildings(rows), red_lines([("R1", red_geom, road_class)]))
    got = {(r.rule, r.feature_id): r.measure for r in f.itertuples()}
    want = {}
    for bid, geom, ht in rows:
        area = geom.intersection(red_geom).area
        if area > 0.01:
            depth = max(shapely.Point(c).distance(red_geom.boundary)
                                 for c in shapely.get_coordinates(shapely.segmentize(
                                     geom.intersection(red_geom), 0.5)))
            want[("red_line_encroachment", bid)] = depth
            continue
        req = float(sb.required_setbacks([road_class], np.array([ht]))[0])
        dist = geom.distance(red_geom)
        if dist < req - 0.01:
            want[("red_line_setback", bid)] = req - dist
    assert set(got) == set(want)
    for key, value in want.items():
        assert got[key] == pytest.approx(value, abs=1e-6)
