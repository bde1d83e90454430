"""Cases: screening, classification, routing, times, repeats and escalation (analysis/cases.py)."""

from __future__ import annotations

import json
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely

from zlgis.analysis.cases import (
    case_settings,
    case_times,
    cases_from_lonlat,
    classify_cases,
    confusion_table,
    escalate,
    find_repeats,
    locate,
    route_cases,
    screen_cases,
)
from zlgis.crs import wgs84_to_bd09, wgs84_to_gcj02

DATA = Path(__file__).resolve().parents[1] / "data"


def test_classification_on_the_labelled_sample(capsys):
    """Hand-labelled texts written apart from the demo generator (tests/data/labelled_cases.csv)."""
    sample = pd.read_csv(DATA / "labelled_cases.csv", dtype=str, keep_default_na=False)
    got = classify_cases(sample)
    conf, scores = confusion_table(sample["label"], got["case_class"])
    assert conf.to_numpy().sum() == len(sample)
    with capsys.disabled():
        print("\nconfusion table (rows: labelled, columns: predicted)\n", conf.to_string())
        print("precision / recall per class\n", scores.round(2).to_string())
        micro = float(np.trace(conf.to_numpy()) / len(sample))
        print(f"accuracy {micro:.3f}; macro precision {scores['precision'].mean():.3f}; "
              f"macro recall {scores['recall'].mean():.3f}")
    # the keyword rules are simple: most texts, not all, are placed right
    assert np.trace(conf.to_numpy()) / len(sample) >= 0.8
    assert scores["recall"].mean() >= 0.75 and scores["precision"].mean() >= 0.75
    # a category field that matches its own keywords is never overridden
    own = sample[(sample["category"] != "")]
    assert (got.loc[own.index, "class_source"] != "none").all()


def test_mistyped_category_is_caught_and_right_one_kept():
    df = pd.DataFrame({"category": ["路灯照明", "占道经营", "路灯照明", "不存在的分类"],
                       "text": ["楼下露天烧烤油烟大", "路灯下摆摊卖菜", "路灯不亮", "有人遛狗不牵绳"]})
    got = classify_cases(df)
    assert got["case_class"].tolist() == ["cooking_fumes", "roadside_vending", "lamp_fault",
                                          "other"]
    assert got["category_mismatch"].tolist() == [True, False, False, False]
    assert got.loc[0, "code_new"] == "" and got.loc[2, "code_new"] == "01037"
    assert got.loc[2, "code_old"] == "0118"


def bad_cases() -> gpd.GeoDataFrame:
    pts = [shapely.Point(480_000, 5_315_000), shapely.Point(480_100, 5_315_000), None,
           shapely.Point(900_000, 5_315_000), shapely.Point(480_200, 5_315_000),
           shapely.Point(480_300, 5_315_000), None]
    return gpd.GeoDataFrame({
        "case_id": ["C1", "C2", "C3", "C4", "C5", "C1", "C7"],
        "received_at": pd.to_datetime(["2022-08-01 08:00"] * 7),
        "closed_at": pd.to_datetime([None, None, None, None, "2022-07-31 08:00", None, None]),
        "category": ["路灯照明", "奇怪的分类", "路灯照明", "路灯照明", "路灯照明", "路灯照明", "供热"],
        "text": ["路灯不亮", "不知道找谁", "路灯不亮", "路灯不亮", "路灯不亮", "路灯不亮", "暖气不热"],
        "address": ["", "", "", "", "", "", "幸福小区3号楼"],
    }, geometry=pts, crs="EPSG:4550")


def test_bad_cases_get_one_message_each_and_nothing_is_lost():
    city = shapely.box(470_000, 5_300_000, 490_000, 5_330_000)
    df = bad_cases()
    ok, report = screen_cases(df, area=city, path="cases.csv")
    reasons = dict(zip(report["row"], report["reason"]))
    assert reasons[3] == "无坐标且无地址，无法定位"
    assert reasons[4] == "坐标不在市域范围内"
    assert reasons[5] == "办结时间早于受理时间"
    assert reasons[6] == "工单编号重复（与第 1 行相同）"
    assert reasons[2].startswith("诉求分类“奇怪的分类”未知")
    assert reasons[7] == "无坐标，仅有地址：不计入网格和热点"
    # every input row is either used or rejected with its reason
    rejected = set(report.loc[report["action"] == "已剔除", "row"])
    assert len(ok) + len(rejected) == len(df)
    assert set(ok["case_id"]) == {"C1", "C2", "C7"}
    assert (report["file"] == "cases.csv").all() and (report["layer"] == "hotline_cases").all()


def test_gcj02_and_bd09_coordinates_land_on_the_same_place():
    lon, lat = 122.7400, 47.9900
    g_lon, g_lat = wgs84_to_gcj02(lon, lat)
    b_lon, b_lat = wgs84_to_bd09(lon, lat)
    df = pd.DataFrame({"lon": [lon, float(g_lon), float(b_lon)],
                       "lat": [lat, float(g_lat), float(b_lat)]})
    wgs = cases_from_lonlat(df.iloc[[0]], system="wgs84")
    gcj = cases_from_lonlat(df.iloc[[1]], system="gcj02")
    bd = cases_from_lonlat(df.iloc[[2]], system="bd09")
    assert gcj.distance(wgs.geometry.iloc[0]).iloc[0] < 0.01
    assert bd.distance(wgs.geometry.iloc[0]).iloc[0] < 0.05
    # unconverted, the GCJ-02 point would sit hundreds of metres away (about 0.5 km here)
    raw = cases_from_lonlat(df.iloc[[1]], system="wgs84")
    assert 300 < raw.distance(wgs.geometry.iloc[0]).iloc[0] < 800


def test_locate_raster_path_equals_exact_test():
    rng = np.random.default_rng(5)
    x, y = np.meshgrid(np.arange(0, 1000, 100.0), np.arange(0, 800, 100.0))
    polys = shapely.box(x.ravel(), y.ravel(), x.ravel() + 100, y.ravel() + 100)
    polys = shapely.intersection(polys, shapely.Point(500, 400).buffer(420))
    pts = shapely.points(rng.uniform(-50, 1050, 60_000), rng.uniform(-50, 850, 60_000))
    # points exactly on shared edges and corners too
    edge = shapely.points(np.repeat(np.arange(100, 1000, 100.0), 20),
                          np.tile(np.linspace(10, 790, 20), 9))
    pts = np.concatenate([pts, edge])
    fast = locate(pts, polys)
    assert len(pts) > 20_000  # the raster path runs
    pi, gi = shapely.STRtree(polys).query(pts, predicate="dwithin", distance=0.05)
    exact = np.full(len(pts), -1)
    first = pd.Series(gi).groupby(pi).min()
    exact[first.index.to_numpy()] = first.to_numpy()
    assert (fast == exact).all()
    # a point on the edge between cells 0 and 1 goes to the first listed
    assert locate(shapely.points([100.0], [50.0]), shapely.box([0, 100], [0, 0], [100, 200],
                                                               [100, 100])).tolist() == [0]


def routed_example() -> gpd.GeoDataFrame:
    grids = gpd.GeoDataFrame({"grid_id": ["150783001001001", "150783001001002"],
                              "subdistrict": ["兴华街道"] * 2, "community": ["阳光社区"] * 2,
                              "road_chief": ["张三", "李四"]},
                             geometry=shapely.box([0, 100], [0, 0], [100, 200], [100, 100]),
                             crs="EPSG:4550")
    cases = gpd.GeoDataFrame({
        "case_id": ["A", "B", "C"], "category": ["路灯照明", "树木倒伏", "油烟"],
        "text": ["路灯不亮", "大风后树倒了", "烧烤油烟"], "address": ["", "", ""],
        "received_at": pd.to_datetime(["2022-09-01 20:00", "2022-09-03 10:00",
                                       "2022-09-03 10:00"]),
        "closed_at": pd.to_datetime([None, "2022-09-03 13:00", None])},
        geometry=shapely.points([100.0, 150, 300], [50.0, 50, 50]), crs="EPSG:4550")
    return route_cases(cases, classify_cases(cases), grids=grids)


def test_route_assigns_grid_chief_department_and_deadline():
    r = routed_example()
    assert r["grid_id"].tolist() == ["150783001001001", "150783001001002", ""]
    assert r["road_chief"].tolist() == ["张三", "李四", ""]
    # lamps: 住建局 within 24 h (plan 2.1.5); fallen trees: 住建局, 4 h; fumes: 城管执法局, 72 h
    assert r["lead_department"].tolist() == ["housing_construction", "housing_construction",
                                             "urban_enforcement"]
    assert r["coop_departments"].iloc[2] == "ecology_environment;market_regulation"
    assert r["deadline"].astype(str).tolist() == ["2022-09-02 20:00:00", "2022-09-03 14:00:00",
                                                  "2022-09-06 10:00:00"]


def test_times_and_overdue_list():
    t = case_times(routed_example(), as_of="2022-09-04")
    assert t["closed"].tolist() == [False, True, False]
    assert t["overdue"].tolist() == [True, False, False]
    # the lamp was due 2022-09-02 20:00; at the end of 2022-09-04 it is 52 h late
    assert t.loc[0, "overdue_h"] == pytest.approx(52.0)
    assert t.loc[1, "closure_h"] == pytest.approx(3.0) and t.loc[1, "closed_on_time"]


def test_repeats_by_radius_address_and_days():
    s = case_settings()["repeat"]
    r, d = float(s["radius_m"]), float(s["days"])
    day0 = pd.Timestamp("2022-08-01")
    g = gpd.GeoDataFrame({
        "case_id": list("abcdefg"),
        "case_class": ["x", "x", "x", "x", "x", "y", "x"],
        "address": ["", "", "", "甲路1号", "甲路 1 号", "", "乙路2号"],
        "received_at": [day0, day0 + pd.Timedelta(days=d), day0 + pd.Timedelta(days=1),
                        day0, day0 + pd.Timedelta(days=d - 1), day0, day0],
    }, geometry=shapely.points([0, r - 1, 2 * r + 10, 5000, 9000, 10, 20_000],
                               [0, 0, 0, 0, 0, 0, 0]), crs="EPSG:4550")
    rep = find_repeats(g)
    # a-b: within the radius, exactly N days apart; c: beyond the radius of both;
    # d-e: same address written differently, 9 km apart; f: another class; g: alone
    assert rep["repeat_group"].tolist() == ["a", "a", "", "d", "d", "", ""]
    assert rep["repeat_rank"].tolist()[:2] == [1, 2]
    g2 = g.assign(received_at=[day0, day0 + pd.Timedelta(days=d + 1), *g["received_at"][2:]])
    assert find_repeats(g2)["repeat_group"].iloc[1] == ""


def test_escalation_chain_is_recorded_step_by_step():
    r = routed_example()
    r = r.join(find_repeats(r))
    e = escalate(r, as_of="2022-09-04")
    chain = json.loads(e.loc[0, "escalation_chain"])
    # overdue lamp, 24 h limit: whistle and lead at the deadline, coop 12 h, centre 24 h later
    assert [c["at"] for c in chain] == ["2022-09-02 20:00", "2022-09-02 20:00",
                                        "2022-09-03 08:00", "2022-09-03 20:00"]
    # task 2.1.5 names no cooperating department: the chain says so
    assert [c["who"] for c in chain] == ["兴华街道", "住建局", "（无配合部门）", "城管执法局"]
    assert e.loc[0, "escalation_level"] == 4 and e.loc[0, "escalation_reason"] == "超期未办结"
    # closed within its deadline: never raised
    assert e.loc[1, "escalation_level"] == 0 and e.loc[1, "escalation_chain"] == ""
