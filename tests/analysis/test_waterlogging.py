"""Tests of zlgis.analysis.waterlogging and the ``zlgis waterlogging`` command."""

from __future__ import annotations

import datetime as dt
import json
import shutil

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import rasterio
import yaml
from rasterio.crs import CRS
from rasterio.transform import from_origin
from shapely.geometry import LineString, Point

from zlgis.analysis import get_check
from zlgis.analysis.terrain import DEM, analyse_depressions
from zlgis.analysis.waterlogging import (
    analyse_waterlogging,
    built_up_area_km2,
    match_recorded_points,
    rain_scenario,
    roads_at_risk,
    run_check,
    water_depth,
)
from zlgis.cli import main
from zlgis.config import CONFIG_DIR, _read
from zlgis.findings import FINDING_COLUMNS

CELL = 2.0


def _dem(z: np.ndarray) -> DEM:
    return DEM(z, from_origin(0.0, z.shape[0] * CELL, CELL, CELL), CRS.from_epsg(4550))


def _trough(depth_m: float, n: int = 60) -> DEM:
    """A flat at 10 m with a 10 x 20 m rectangular dip of ``depth_m`` in the middle."""
    z = np.full((n, n), 10.0)
    z[25:30, 20:30] = 10.0 - depth_m    # rows 25-29: y from 60 to 70; cols 20-29: x 40 to 60
    return _dem(z)


def _roads(geometry=None, **cols) -> gpd.GeoDataFrame:
    base = {"road_id": ["R1"], "name": ["民族西街"], "road_class": ["次干路"], "width": [12.0],
            "lanes": [2]}
    base.update(cols)
    return gpd.GeoDataFrame(base, geometry=geometry or [LineString([(0, 65), (120, 65)])],
                            crs="EPSG:4550")


# ---------------------------------------------------------------- roads at risk

@pytest.mark.parametrize("depth_m, expected", [(0.14, False), (0.15, True), (0.16, True)])
def test_lane_rule_threshold_15_cm(depth_m, expected):
    a = analyse_depressions(_trough(depth_m), min_depth_m=0.01, min_area_m2=1)
    wet = roads_at_risk(a, _roads())
    assert (len(wet) == 1) is expected
    if expected:
        row = wet.iloc[0]
        assert row["road_id"] == "R1" and row["max_depth_cm"] == round(depth_m * 100, 1)
        # the wet stretch is the pond's 20 m length plus the carriageway's half width each side
        assert 20 <= row["wet_length_m"] <= 20 + 2 * 3.5 + 2 * CELL


def test_threshold_is_configurable_and_bridges_skipped():
    a = analyse_depressions(_trough(0.12), min_depth_m=0.01, min_area_m2=1)
    assert len(roads_at_risk(a, _roads())) == 0
    assert len(roads_at_risk(a, _roads(), depth_threshold_cm=10)) == 1
    a = analyse_depressions(_trough(0.5), min_depth_m=0.01, min_area_m2=1)
    assert len(roads_at_risk(a, _roads(bridge=[True]))) == 0
    assert len(roads_at_risk(a, _roads(bridge=[False]))) == 1


def test_carriageway_width_from_lanes():
    a = analyse_depressions(_trough(0.5), min_depth_m=0.01, min_area_m2=1)
    # centreline 6 m north of the pond's edge (y = 70): two lanes reach 3.5 m, four lanes 7 m
    line = [LineString([(0, 76), (120, 76)])]
    assert len(roads_at_risk(a, _roads(geometry=line, lanes=[2]))) == 0
    wet = roads_at_risk(a, _roads(geometry=line, lanes=[4]))
    assert len(wet) == 1 and wet.iloc[0]["half_width_m"] == 7.0
    # no lane count: a share of the red-line width (0.6 x 30 m / 2 = 9 m)
    assert len(roads_at_risk(a, _roads(geometry=line, lanes=[None], width=[30.0]))) == 1


# ---------------------------------------------------------------- rain scenario

def test_rain_scenario_fills_spills_and_partial_levels():
    a = analyse_depressions(_trough(0.3), min_depth_m=0.01, min_area_m2=1)
    dep = a.depressions.iloc[0]
    assert dep["volume_m3"] == pytest.approx(50 * 4 * 0.3)
    # the whole flat grid drains into the pond? no: flat cells next to the edge drain out
    contributing = dep["contributing_area_m2"]
    assert 200 <= contributing <= 60 * 60 * 4
    needed_mm = dep["volume_m3"] / contributing * 1000
    small, d_small = rain_scenario(a, rain_mm=needed_mm / 2, runoff_coefficient=1.0)
    big, d_big = rain_scenario(a, rain_mm=needed_mm * 1.01, runoff_coefficient=1.0)
    assert not small["spills"].iloc[0] and big["spills"].iloc[0]
    # flat-bottomed pond: half the volume -> half the depth, exactly
    assert small["scenario_level_m"].iloc[0] == pytest.approx(9.7 + 0.15)
    assert small["scenario_depth_cm"].iloc[0] == pytest.approx(15.0)
    assert d_small.max() == pytest.approx(0.15) and d_big.max() == pytest.approx(0.3)
    assert np.all(d_small <= a.depth + 1e-12)
    # the runoff coefficient scales the runoff
    c, _ = rain_scenario(a, rain_mm=10, runoff_coefficient=0.5)
    assert c["runoff_m3"].iloc[0] == pytest.approx(0.010 * 0.5 * contributing)


def test_scenario_roads_depend_on_rain():
    z = _trough(0.3)
    pts = gpd.GeoDataFrame({"point_id": [], "status": []}, geometry=[], crs="EPSG:4550")
    dry = analyse_waterlogging(z, roads=_roads(), points=pts, rain_mm=0.5,
                               runoff_coefficient=1.0)
    wet = analyse_waterlogging(z, roads=_roads(), points=pts, rain_mm=500,
                               runoff_coefficient=1.0)
    assert len(dry.roads) == len(wet.roads) == 1          # full depressions: always at risk
    assert len(dry.scenario_roads) == 0 and len(wet.scenario_roads) == 1
    assert dry.summary["spilling"] == 0 and wet.summary["spilling"] == 1


# ---------------------------------------------------------------- recorded points

def _points() -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame({
        "point_id": ["P1", "P2", "P3", "P4"],
        "name": ["涵洞", "路口", "北区", "旧点"],
        "status": ["未整改", "整改中", "未整改", "已消除"],
        "max_depth_cm": [40.0, 20.0, 25.0, 30.0],
        "recorded_on": ["2021-07-01", "2021-07-02", "2022-06-02", "2020-07-01"],
    }, geometry=[Point(50, 65), Point(50, 90), Point(10, 110), Point(5, 5)], crs="EPSG:4550")


def test_match_points_hit_rate_unexplained_and_candidates():
    z = np.full((60, 60), 10.0)
    z[25:30, 20:30] = 9.6    # pond A under P1 (and 20 m from P2)
    z[5:10, 45:55] = 9.5     # pond B: no record -> survey candidate
    res = analyse_waterlogging(_dem(z), roads=_roads(), points=_points(),
                               buildings=None, rain_mm=30)
    pts = res.points.set_index("point_id")
    assert pts.loc["P1", "explained"] and pts.loc["P1", "distance_m"] == 0.0
    assert pts.loc["P2", "explained"] and 15 <= pts.loc["P2", "distance_m"] <= 30
    assert not pts.loc["P3", "explained"] and not pts.loc["P4", "explained"]
    assert pts.loc["P4", "eliminated"] and not pts.loc["P3", "eliminated"]
    s = res.summary
    assert s["hit_rate"] == 0.5 and s["unexplained"] == 1 and s["points_eliminated"] == 1
    assert s["survey_candidates"] == 1 and s["depressions_recorded"] == 1
    f = res.findings
    assert f.loc[f["rule"] == "recorded_point_unexplained", "feature_id"].tolist() == ["P3"]
    cand = f[f["rule"] == "survey_candidate"]
    assert len(cand) == 1 and cand.geometry.iloc[0].contains(Point(100, 105))
    # as_of drops points recorded later: P3 (2022-06-02) is not yet known on 2022-01-01
    early = analyse_waterlogging(_dem(z), roads=_roads(), points=_points(),
                                 as_of=dt.date(2022, 1, 1))
    assert "recorded_point_unexplained" not in set(early.findings["rule"])
    # a tighter radius loses P2
    m = match_recorded_points(_points(), res.depressions, radius_m=5)
    assert m.set_index("point_id").loc["P2", "explained"] == False  # noqa: E712
    # points in another CRS are matched in metres all the same
    m84 = match_recorded_points(_points().to_crs(4326), res.depressions)
    assert m84["explained"].tolist() == [True, True, False, False]
    assert m84["distance_m"].iloc[1] == pytest.approx(pts.loc["P2", "distance_m"], abs=0.2)


def test_built_up_area_and_density(tmp_path, monkeypatch):
    from shapely.geometry import box

    b = gpd.GeoDataFrame(geometry=[box(x, y, x + 10, y + 10) for x in range(0, 1000, 50)
                                   for y in (0, 500)], crs="EPSG:4550")
    assert built_up_area_km2(b, cell_m=100) == pytest.approx(20 * 0.01)
    assert built_up_area_km2(b, cell_m=500) == pytest.approx(4 * 0.25)
    res = analyse_waterlogging(_trough(0.3), roads=_roads(), points=_points(), buildings=b)
    assert res.summary["density_per_km2"] == pytest.approx(3 / 0.2)  # 3 points not eliminated
    # the bureau's official built-up area wins when configured
    cfg = yaml.safe_load((CONFIG_DIR / "waterlogging.yaml").read_text(encoding="utf-8"))
    cfg["density"]["built_up_area_km2"] = 12.5
    (tmp_path / "waterlogging.yaml").write_text(yaml.safe_dump(cfg, allow_unicode=True),
                                                encoding="utf-8")
    monkeypatch.setenv("ZLGIS_CONFIG_DIR", str(tmp_path))
    _read.cache_clear()
    try:
        assert built_up_area_km2(b) == 12.5
    finally:
        monkeypatch.delenv("ZLGIS_CONFIG_DIR")
        _read.cache_clear()


# ---------------------------------------------------------------- findings

def test_findings_schema_routing_and_stable_ids():
    a = analyse_waterlogging(_trough(0.4), roads=_roads(), points=_points(), rain_mm=20)
    b = analyse_waterlogging(_trough(0.4), roads=_roads(), points=_points().iloc[::-1],
                             rain_mm=80)
    fa, fb = a.findings, b.findings
    assert list(fa.columns) == list(FINDING_COLUMNS) + ["geometry"]
    assert fa["finding_id"].tolist() == fb["finding_id"].tolist()
    assert set(fa["rule"]) == {"depression", "road_ponding", "recorded_point_unexplained"}
    assert (fa["task_id"] == "2.1.8").all() and (fa["lead_department"] == "housing_construction").all()
    assert (fa["coop_departments"] == "subdistricts").all()
    assert fa["rule_source"].str.contains("GB 51222").sum() >= 2
    road = fa[fa["rule"] == "road_ponding"].iloc[0]
    assert road["feature_id"] == "R1" and road["related_ids"].startswith("WD-")
    assert road["measure"] == 40.0 and road["measure_unit"] == "cm" and bool(road["public"])
    assert json.loads(road["measures"])["wet_length_m"] > 20
    assert 0 <= json.loads(road["measures"])["scenario_depth_cm"] <= 40.0
    assert road.geometry.geom_type in ("LineString", "MultiLineString")
    unexplained = fa[fa["rule"] == "recorded_point_unexplained"]
    assert not unexplained["public"].any()
    assert fa.crs == CRS.from_epsg(4550)


# ---------------------------------------------------------------- demo city

@pytest.fixture(scope="module")
def demo_findings(demo_catalog):
    from zlgis.validate import load_layers

    layers = load_layers(demo_catalog, ["roads", "waterlogging_points", "grids"])
    check = get_check("waterlogging")
    assert check is run_check
    return check(demo_catalog, layers, as_of=dt.date(2022, 7, 31))


def _near(f: gpd.GeoDataFrame, x: float, y: float, tol: float = 15.0) -> gpd.GeoDataFrame:
    return f[f.geometry.distance(Point(x, y)) <= tol]


def test_demo_city_planted_depressions_found(demo_findings, demo_truth):
    truth = demo_truth[demo_truth["check"] == "waterlogging"]
    assert len(truth) >= 10
    f = demo_findings
    for _, t in truth.iterrows():
        rows = f[f["rule"] == t["rule"]]
        if t["rule"] == "recorded_point_unexplained":
            hit = rows[rows["feature_id"] == t["feature_id"]]
        else:
            x, y = float(t["x"]), float(t["y"])
            hit = _near(rows, x, y)
            if t["rule"] in ("depression", "survey_candidate") and len(hit):
                assert hit.geometry.iloc[0].contains(Point(x, y))
                assert hit["measure"].iloc[0] / 100 == pytest.approx(float(t["value"]), abs=0.02)
        if t["expect"] == "flag":
            assert len(hit), f"{t['case_id']} {t['rule']} {t['note']}"
        else:
            assert not len(hit), f"near-miss flagged: {t['case_id']} {t['note']}"
    # the valley has no pit of its own: every depression found is a planted one
    planted = truth[(truth["rule"] == "depression") & (truth["expect"] == "flag")]
    assert (f["rule"] == "depression").sum() == len(planted)
    assert (f["rule"] == "survey_candidate").sum() == (truth["rule"] == "survey_candidate").sum()
    assert (f["grid_id"] != "").any()       # grid cells and road chiefs are assigned


def test_demo_city_recorded_points_matched(demo_catalog, demo_truth):
    from zlgis.analysis.waterlogging import load_catalog_dem
    from zlgis.validate import load_layers

    layers = load_layers(demo_catalog, ["waterlogging_points"])
    res = analyse_waterlogging(load_catalog_dem(demo_catalog),
                               points=layers["waterlogging_points"])
    truth = demo_truth[(demo_truth["rule"] == "depression") & (demo_truth["related_id"] != "")]
    pts = res.points.set_index("point_id")
    dep = res.depressions
    for _, t in truth.iterrows():
        p = pts.loc[t["related_id"]]
        assert p["explained"], t["note"]
        d = dep[dep["depression_id"] == p["depression_id"]].iloc[0]
        assert d.geometry.contains(Point(float(t["x"]), float(t["y"])))
    assert res.summary["hit_rate"] == pytest.approx(len(truth) / len(pts))


# ---------------------------------------------------------------- command line

def test_cli_writes_cog_gpkg_and_csv(demo_city, tmp_path, capsys):
    out = tmp_path / "out"
    code = main(["--quiet", "waterlogging", "--catalog", str(demo_city / "catalog.yaml"),
                 "--rain-mm", "5", "--runoff", "0.5", "--out", str(out)])
    assert code == 1
    printed = capsys.readouterr().out
    assert "城区易涝点分析" in printed and "命中率" in printed
    for name in ("ponding_depth.tif", "scenario_depth.tif"):
        with rasterio.open(out / name) as src:
            assert src.tags(ns="IMAGE_STRUCTURE")["LAYOUT"] == "COG"
            assert src.crs == CRS.from_epsg(4550)
            depth = src.read(1)
    assert 0 < depth.max() < 2
    layers = set(gpd.list_layers(out / "depressions.gpkg")["name"])
    assert layers == {"depressions", "roads_at_risk", "scenario_roads_at_risk"}
    dep = gpd.read_file(out / "depressions.gpkg", layer="depressions")
    assert dep["rank"].tolist() == list(range(1, len(dep) + 1))
    f = gpd.read_file(out / "waterlogging_findings.gpkg")
    csv = pd.read_csv(out / "waterlogging_findings.csv", encoding="utf-8-sig")
    assert len(csv) == len(f) and "问题编号" in csv.columns and "牵头部门" in csv.columns
    assert "道路车道积水深度超过标准（预测）" in set(csv["规则"])
    assert set(csv["牵头部门"]) == {"住建局"} and set(csv["配合部门"]) == {"街道办事处"}
    assert set(csv["严重程度"]) <= {"高", "中", "低"} and "厘米" in set(csv["单位"])
    pts = pd.read_csv(out / "waterlogging_points.csv", encoding="utf-8-sig")
    assert {"积水点编号", "整改状态", "地形可解释"} <= set(pts.columns)
    summary = json.loads((out / "waterlogging_summary.json").read_text(encoding="utf-8"))
    assert summary["rain_mm"] == 5.0 and summary["runoff_coefficient"] == 0.5
    html = (out / "waterlogging_map.html").read_text(encoding="utf-8")
    name = "积水深度（DEM 填洼）"
    assert name in html or json.dumps(name)[1:-1] in html      # the overlay, in the layer list
    assert "image_overlay_" in html and "data:image/png;base64" in html
    assert "JS004" in html or json.dumps("JS004")[1:-1] in html  # the recorded points are drawn
    assert not [p for p in out.iterdir() if p.name.startswith(".")]   # no temporary files left


def test_cli_bad_input_is_one_chinese_line(demo_city, tmp_path, capsys):
    code = main(["waterlogging", "--no-map", "--catalog", str(tmp_path / "none.yaml"),
                 "--out", str(tmp_path / "o")])
    err = capsys.readouterr().err
    assert code == 2 and "图层目录文件不存在" in err and "Traceback" not in err
    raw = yaml.safe_load((demo_city / "catalog.yaml").read_text(encoding="utf-8"))
    raw["data_dir"] = str(demo_city)
    raw["layers"]["dem"]["source"] = {"path": "missing_dem.tif"}
    cat = tmp_path / "catalog.yaml"
    cat.write_text(yaml.safe_dump(raw, allow_unicode=True), encoding="utf-8")
    code = main(["waterlogging", "--catalog", str(cat), "--out", str(tmp_path / "o")])
    err = capsys.readouterr().err
    assert code == 2 and "missing_dem.tif" in err and "图层 dem" in err
    assert len(err.strip().splitlines()) == 1
    # a DEM with a large hole: refused, exit 1, the hole located
    src = demo_city / "dem.tif"
    holed = tmp_path / "holed.tif"
    shutil.copy(src, holed)
    with rasterio.open(holed, "r+") as ds:
        z = ds.read(1)
        z[400:450, 400:450] = ds.nodata
        ds.write(z, 1)
    raw["layers"]["dem"]["source"] = {"path": str(holed)}
    cat.write_text(yaml.safe_dump(raw, allow_unicode=True), encoding="utf-8")
    code = main(["waterlogging", "--catalog", str(cat), "--out", str(tmp_path / "o")])
    err = capsys.readouterr().err
    assert code == 1 and "空洞" in err and "2500" in err and "第 400 行" in err
    assert not (tmp_path / "o").exists()


def test_terrain_without_depressions():
    z = np.add.outer(np.arange(30), np.arange(30)).astype(float)   # a plane: no depression
    res = analyse_waterlogging(_dem(z), roads=_roads(), points=_points())
    assert len(res.depressions) == 0 and len(res.roads) == 0 and res.scenario_depth.max() == 0
    assert res.summary["hit_rate"] == 0.0 and res.summary["unexplained"] == 3
    assert set(res.findings["rule"]) == {"recorded_point_unexplained"}
    empty = analyse_waterlogging(_dem(z))
    assert len(empty.findings) == 0 and list(empty.findings.columns)[-1] == "geometry"


def test_rain_cascade_routes_overflow_downstream():
    # a plane falling east with two dips: the west one overflows into the east one
    rows, cols = np.mgrid[0:30, 0:60]
    z = 100.0 - 0.05 * cols
    z[13:17, 10:14] -= 1.0          # upstream dip (west)
    z[13:17, 40:44] -= 3.0          # downstream dip (east), deeper: it does not fill
    a = analyse_depressions(_dem(z), min_depth_m=0.05, min_area_m2=1)
    d = a.depressions.sort_values("deepest_x").reset_index(drop=True)
    assert len(d) == 2
    from zlgis.analysis.waterlogging import downstream_depressions

    down = downstream_depressions(a, d)
    assert down.tolist() == [d["label"][1], 0]
    mm = 1.2 * d["volume_m3"][0] / d["contributing_area_m2"][0] * 1000   # upstream just spills
    flat, _ = rain_scenario(a, rain_mm=mm, runoff_coefficient=1.0, depressions=d, cascade=False)
    casc, depth = rain_scenario(a, rain_mm=mm, runoff_coefficient=1.0, depressions=d)
    assert casc["spills"][0] and casc["overflow_m3"][0] == pytest.approx(
        casc["runoff_m3"][0] - d["volume_m3"][0], abs=0.01)
    assert casc["downstream"].tolist() == [d["depression_id"][1], ""]
    assert casc["inflow_m3"][1] == pytest.approx(casc["runoff_m3"][1] + casc["overflow_m3"][0],
                                                 abs=0.02)
    assert flat["inflow_m3"][1] == flat["runoff_m3"][1]
    assert not casc["spills"][1]
    assert casc["scenario_level_m"][1] > flat["scenario_level_m"][1]
    assert depth.max() == pytest.approx(casc["scenario_depth_cm"][1] / 100, abs=0.001)


def test_points_on_carriageways_as_against_every_road() -> None:
    """Buffering only the roads with a point within reach finds the pairs a query against every
    road's carriageway finds (points on and near the carriageway edges included)."""
    import shapely

    from zlgis.analysis.waterlogging import _points_on_carriageways

    rng = np.random.default_rng(21)
    starts = rng.uniform(0, 500, (300, 2))
    ends = starts + rng.uniform(-60, 60, (300, 2))
    lines = shapely.linestrings(np.stack([starts, ends], axis=1))
    half = rng.uniform(1.5, 12.0, 300)
    carriage = shapely.buffer(lines, half, cap_style="flat")
    edge = shapely.get_coordinates(shapely.get_exterior_ring(carriage[:60]))
    pts = shapely.points(np.vstack([rng.uniform(0, 500, (4000, 2)), edge, edge + 1e-9]))
    ip, ir = shapely.STRtree(carriage).query(pts, predicate="intersects")
    want = sorted(zip(ip.tolist(), ir.tolist()))
    got_p, got_r = _points_on_carriageways(pts, lines, half)
    assert len(want) > 500
    assert list(zip(got_p.tolist(), got_r.tolist())) == want


def test_analysis_memory_peak_is_little_above_what_it_returns(monkeypatch):
    """Past the fill (whose working set has its own budget, ``dem.memory_budget_mb``), the
    analysis holds little more than the grids it returns (filled surface, labels, catchments:
    2 float64 grids) and the working grids of the catchments' kernels (the padded DEM and the
    receivers, which become the catchments). The ponding and scenario depths are made a block
    of rows at a time where they are needed and made whole only when asked. On a large city's
    DEM (35M cells, 283 MB a float64 grid) the full-size temporaries were the weekly check's
    memory peak: 5.4 grids when the ponding depth was kept and the scenario copied the DEM,
    then 4.25 with both depths made whole and the labels and catchments padded copies."""
    import tracemalloc

    import zlgis.analysis.depressions as depressions
    from zlgis.analysis.fill import fill_depressions

    rng = np.random.default_rng(3)
    yy, xx = np.mgrid[0:400, 0:400]
    z = 10 + 0.01 * xx + 0.005 * yy   # a gentle slope with 30 ponds
    ponds = rng.uniform(20, 380, (30, 2))
    for cy, cx in ponds:
        z -= 0.5 * np.exp(-((yy - cy) ** 2 + (xx - cx) ** 2) / 30.0)
    dem = _dem(z)
    # a road through six ponds' middles (cell centres: x = 2 col + 1, y = 800 - 2 row - 1)
    mid = sorted((2 * cx + 1, 800 - 2 * cy - 1) for cy, cx in np.round(ponds[:6]))
    road = _roads([LineString(mid)])
    filled = fill_depressions(z)
    monkeypatch.setattr(depressions, "fill_depressions", lambda _: filled.copy())
    analyse_waterlogging(dem, roads=road, rain_mm=30)  # imports and caches outside the trace
    tracemalloc.start()
    try:
        res = analyse_waterlogging(dem, roads=road, rain_mm=30)
        kept, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    grid = z.size * 8
    assert len(res.depressions) > 20 and len(res.roads) > 0
    assert kept >= 1.9 * grid   # the returned grids
    assert peak <= 3.6 * grid, peak / grid


def test_depths_made_by_blocks_of_rows_are_the_whole_grids():
    """The roads at risk read the ponding and scenario depths a block of rows at a time: the
    same wet cells and depths as from the whole grids, and the result's scenario depth (made
    when asked) is :func:`rain_scenario`'s."""
    import zlgis.analysis.waterlogging as wl

    rng = np.random.default_rng(5)
    yy, xx = np.mgrid[0:90, 0:70]
    z = 10 + 0.01 * xx + 0.004 * yy
    ponds = rng.uniform(5, 65, (12, 2))
    for cy, cx in ponds:
        z -= 0.6 * np.exp(-((yy - cy) ** 2 + (xx - cx) ** 2) / 12.0)
    z[0, :3] = np.nan    # nodata: depth 0 either way
    dem = _dem(z)
    # a road through four ponds' middles (cell centres: x = 2 col + 1, y = 180 - 2 row - 1)
    road = _roads([LineString(sorted((2 * cx + 1, 179 - 2 * cy)
                                     for cy, cx in np.round(ponds[:4])))])
    res = analyse_waterlogging(dem, roads=road, rain_mm=25)
    a = res.analysis
    table, sdepth = rain_scenario(a, rain_mm=25, depressions=res.depressions)
    assert np.array_equal(res.scenario_depth, sdepth)
    assert res.scenario_depth.max() > 0.1 and len(res.roads) > 0
    allowed = np.ones(len(a.depressions) + 1, bool)
    for level, whole in ((None, a.depth), (res.scenario_level, sdepth)):
        assert np.array_equal(water_depth(a, level=level), whole)
        got = wl._wet_cells(a, 0.05, allowed, depth=None, level=level, block=7)
        want = wl._wet_cells(a, 0.05, allowed, depth=whole, level=None)
        assert len(got[0]) > 20
        for g, w in zip(got, want):
            assert np.array_equal(g, w)
    pd.testing.assert_frame_equal(
        roads_at_risk(a, road, level=res.scenario_level, depth_threshold_cm=5),
        roads_at_risk(a, road, depth=sdepth, depth_threshold_cm=5))


def test_without_detail_the_catchment_grid_is_let_go_and_nothing_else_changes():
    """The weekly check's ``detail=False``: the same depressions (the rain cascade follows the
    catchments first), roads and findings; the result's catchment grid is empty."""
    rows, cols = np.mgrid[0:30, 60:120]
    z = 100.0 - 0.05 * cols
    z[13:17, 10:14] -= 1.0          # a dip that overflows into the next one
    z[13:17, 40:44] -= 3.0
    kw = {"roads": _roads([LineString([(0, 30), (120, 30)])]), "points": _points(),
          "rain_mm": 60.0, "runoff_coefficient": 1.0}   # the road crosses both dips
    full = analyse_waterlogging(_dem(z), **kw)
    lean = analyse_waterlogging(_dem(z), detail=False, **kw)
    assert full.analysis.catchment.shape == z.shape and lean.analysis.catchment.size == 0
    assert full.depressions["downstream"].str.len().gt(0).any()   # the cascade was followed
    pd.testing.assert_frame_equal(lean.depressions, full.depressions)
    pd.testing.assert_frame_equal(lean.roads, full.roads)
    pd.testing.assert_frame_equal(lean.scenario_roads, full.scenario_roads)
    assert len(full.roads) and lean.findings["finding_id"].tolist() == \
        full.findings["finding_id"].tolist()
