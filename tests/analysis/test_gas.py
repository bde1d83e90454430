"""Gas pipeline clearances, the phase-II route and signs (zlgis/analysis/gas.py)."""

from __future__ import annotations

import geopandas as gpd
import pytest
from shapely.geometry import LineString, Point, box

from zlgis.analysis._ruled import value
from zlgis.analysis.gas import (
    check_pipelines,
    facilities_without_sign,
    gas_config,
    pipeline_clearances,
    route_outside_reserve,
    run_check,
)
from zlgis.errors import InputError

CLASSES = list(gas_config()["clearance_m"])


def _pipe(pc, dia=0.0):
    return gpd.GeoDataFrame({"pipe_id": ["G1"], "pressure_class": [pc], "diameter_mm": [dia]},
                            geometry=[LineString([(0, 0), (100, 0)])], crs="EPSG:4550")


@pytest.mark.parametrize("pc", CLASSES)
@pytest.mark.parametrize("dia", [0.0, 160.0, 315.0])
def test_clear_at_the_threshold_breached_below(pc, dia):
    need = float(value(gas_config()["clearance_m"][pc]))
    wall = dia / 2000.0
    b = gpd.GeoDataFrame({"building_id": ["at", "below", "beyond"]}, geometry=[
        box(10, wall + need, 20, 30), box(30, wall + need - 0.001, 40, 30),
        box(50, wall + need + 0.001, 60, 30)], crs="EPSG:4550")
    t = pipeline_clearances(_pipe(pc, dia), b).set_index("building_id")
    assert not t.loc["at", "breach"] and t.loc["at", "clear_m"] == pytest.approx(need)
    assert t.loc["below", "breach"] and t.loc["below", "clear_m"] == pytest.approx(need - 0.001)
    assert "beyond" not in t.index


def test_pipeline_without_pressure_class_names_row_and_field():
    pipes = gpd.GeoDataFrame({"pipe_id": ["G1", "G2"], "pressure_class": ["中压B", None]},
                             geometry=[LineString([(0, 0), (1, 0)])] * 2, crs="EPSG:4550")
    with pytest.raises(InputError) as e:
        check_pipelines(pipes)
    assert (e.value.layer, e.value.row, e.value.field) == ("gas_pipelines", 2, "pressure_class")
    assert "G2" in str(e.value) and "缺少压力级制" in str(e.value)


def test_route_outside_red_lines_and_yellow_lines():
    red = gpd.GeoDataFrame({"line_id": ["R"]}, geometry=[box(-1, -10, 200, 10)], crs="EPSG:4550")
    yl = gpd.GeoDataFrame({"category": ["燃气"]}, geometry=[box(200, -10, 250, 10)], crs="EPSG:4550")
    pipes = gpd.GeoDataFrame({"pipe_id": ["in", "gate", "out", "old"],
                              "phase": ["二期", "二期", "二期", "一期"]}, geometry=[
        LineString([(0, 0), (200, 0)]), LineString([(150, 0), (240, 0)]),
        LineString([(100, 0), (100, 50)]), LineString([(0, 50), (100, 50)])], crs="EPSG:4550")
    r = route_outside_reserve(pipes, red, yl)
    assert r["pipe_id"].tolist() == ["out"]
    assert r["outside_m"].iloc[0] == pytest.approx(40.0)   # 10 m of 50 lie inside the red line


def test_route_against_nearby_reserve_same_as_against_the_whole_union():
    """Each pipe is cut by the union of the reserve polygons near it: the same parts, to the
    coordinate, as cutting by the union of the whole city's reserve (the path it replaced)."""
    import numpy as np
    import shapely

    rng = np.random.default_rng(5)
    cells = [box(x, y, x + 60 + rng.uniform(0, 40), y + 8 + rng.uniform(0, 6))
             for x in range(0, 1000, 90) for y in range(0, 1000, 70)]
    red = gpd.GeoDataFrame({"line_id": [f"R{i}" for i in range(len(cells))]},
                           geometry=cells, crs="EPSG:4550")
    lines = [LineString(rng.uniform(0, 1000, (4, 2))) for _ in range(40)]
    pipes = gpd.GeoDataFrame({"pipe_id": [f"P{i}" for i in range(40)], "phase": ["二期"] * 40},
                             geometry=lines, crs="EPSG:4550")
    r = route_outside_reserve(pipes, red, None, config={"route": {
        "tolerance_m": 0.0, "phase": "二期", "yellow_line_categories": []}})
    whole = shapely.union_all(np.asarray(red.geometry.values))
    want = shapely.difference(np.asarray(pipes.geometry.values), whole)
    assert len(r) == 40
    assert shapely.equals_exact(np.asarray(r.geometry.values), want, tolerance=0).all()
    assert r["outside_m"].tolist() == [round(float(x), 1) for x in shapely.length(want)]


def test_signs_only_for_kinds_that_need_them():
    f = gpd.GeoDataFrame({"facility_id": ["a", "b", "c"], "kind": ["调压箱", "燃气表箱", "阀门井"],
                          "has_sign": [False, False, True]},
                         geometry=[Point(0, 0)] * 3, crs="EPSG:4550")
    assert facilities_without_sign(f)["facility_id"].tolist() == ["a"]


def test_run_check_skips_rules_without_their_layers():
    f = run_check(None, {"gas_pipelines": _pipe("中压B"), "buildings": gpd.GeoDataFrame(
        {"building_id": ["b"]}, geometry=[box(10, 0.5, 20, 9)], crs="EPSG:4550")})
    assert f["rule"].tolist() == ["gas_clearance"]
    assert f["rule_source"].iloc[0].startswith("GB 50028")
    notes = " ".join(f.attrs["notes"])
    assert "燃气设施无标识" in notes and "gas_facilities" in notes
