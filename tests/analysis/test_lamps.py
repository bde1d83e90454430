"""Street lamps on small hand-made streets: on-rates, dark stretches, sites, fault delays."""

from __future__ import annotations

import datetime as dt
import math

import geopandas as gpd
import pandas as pd
from shapely.geometry import LineString, Point

from zlgis.analysis import lamps as lm

CRS = "EPSG:4550"
AS_OF = dt.date(2022, 9, 4)


def _wide_road(dark_stations=(), dark_one_side=()):
    """A 300 m main road, 40 m wide, lamps every 35 m on both sides 18 m off the centreline."""
    roads = gpd.GeoDataFrame({"road_id": ["A"], "name": ["中央街"], "road_class": ["主干路"],
                              "width": [40.0], "district": ["河东"]},
                             geometry=[LineString([(0, 0), (315, 0)])], crs=CRS)
    rows = []
    for k in range(10):
        x = k * 35.0
        for side in (1, -1):
            dark = k in dark_stations or (side == 1 and k in dark_one_side)
            rows.append({"lamp_id": f"L{k}{'N' if side == 1 else 'S'}", "road_id": "A",
                         "status": "不亮" if dark else "正常", "geometry": Point(x, 18 * side)})
    return roads, gpd.GeoDataFrame(rows, geometry="geometry", crs=CRS)


def test_wide_road_one_dark_station_stays_lit():
    # both lamps of station 4 (x=140) dark: the neighbours at 105 and 175 each serve
    # sqrt(40^2 - 18^2) = 35.72 m along the centreline, more than the 35 m to x=140
    roads, lamps = _wide_road(dark_stations=(4,))
    assert len(lm.dark_stretches(roads, lm.lamp_states(lamps))) == 0


def test_wide_road_two_dark_stations_make_one_stretch():
    # stations 4 and 5 (x=140, 175) dark on both sides: lit up to 105 + 35.72 and from
    # 210 - 35.72: a stretch of 105 - 2 * 35.72 = 33.56 m
    roads, lamps = _wide_road(dark_stations=(4, 5))
    s = lm.dark_stretches(roads, lm.lamp_states(lamps))
    half = math.sqrt(40 ** 2 - 18 ** 2)
    assert s["start_m"].tolist() == [round(105 + half, 3)]
    assert s["end_m"].tolist() == [round(210 - half, 3)]
    assert s["dark_lamps"].tolist() == [4]
    # the same stations dark on one side only: the other side lights the centreline
    roads, lamps = _wide_road(dark_one_side=(4, 5))
    assert len(lm.dark_stretches(roads, lm.lamp_states(lamps))) == 0


def test_on_rate_per_road_district_and_city_by_hand():
    roads, lamps = _wide_road(dark_stations=(4,))
    lamps.loc[0, "status"] = "规划新增"  # not in service: out of the on-rate
    states, problems = lm.match_roads(lm.lamp_states(lamps), roads)
    assert problems.empty
    rates = lm.on_rates(states, roads)
    # 19 lamps in service, 2 dark: 17 / 19 = 0.8947
    assert rates["city"][["in_service", "lit", "dark"]].values.tolist() == [[19, 17, 2]]
    assert rates["city"]["on_rate"].iloc[0] == round(17 / 19, 4)
    assert rates["road"][["road", "on_rate"]].values.tolist() == [["中央街", round(17 / 19, 4)]]
    assert rates["district"]["district"].tolist() == ["河东"]
    assert not rates["city"]["meets_target"].iloc[0]


def test_on_rate_target_is_strictly_above_95_percent():
    roads, lamps = _wide_road()
    lamps.loc[0, "status"] = "不亮"  # 19 / 20 = 0.95 exactly: not above the plan's 95 %
    rates = lm.on_rates(lm.lamp_states(lamps), roads)
    assert rates["city"]["on_rate"].iloc[0] == 0.95
    assert not rates["city"]["meets_target"].iloc[0]


def test_junction_lamp_serves_both_roads():
    roads = gpd.GeoDataFrame({"road_id": ["A", "B"], "road_class": ["支路", "支路"]},
                             geometry=[LineString([(0, 0), (200, 0)]),
                                       LineString([(200, 0), (200, 200)])], crs=CRS)
    lamps = gpd.GeoDataFrame({"lamp_id": ["J", "A1", "B1"], "road_id": ["A", "A", "B"],
                              "status": ["正常"] * 3},
                             geometry=[Point(203, 3), Point(10, 3), Point(203, 190)], crs=CRS)
    s = lm.dark_stretches(roads, lm.lamp_states(lamps))
    half = math.sqrt(30 ** 2 - 3 ** 2)  # 支路 reach 30 m, lamps 3 m off the centreline
    got = {r: (a, b) for r, a, b in zip(s["road_id"], s["start_m"], s["end_m"])}
    assert got == {"A": (round(10 + half, 3), round(203 - half, 3)),
                   "B": (round(3 + half, 3), round(190 - half, 3))}
    # the junction lamp dark: both roads are dark up to the junction
    lamps.loc[0, "status"] = "不亮"
    s = lm.dark_stretches(roads, lm.lamp_states(lamps))
    got = {r: (a, b) for r, a, b in zip(s["road_id"], s["start_m"], s["end_m"])}
    assert got == {"A": (round(10 + half, 3), 200.0), "B": (0.0, round(190 - half, 3))}


def test_curved_road_dark_stretch_and_sites():
    # an L-shaped 支路 (two 100 m legs); one lamp inside the bend at (90, 10)
    roads = gpd.GeoDataFrame({"road_id": ["C"], "road_class": ["支路"]},
                             geometry=[LineString([(0, 0), (100, 0), (100, 100)])], crs=CRS)
    lamps = gpd.GeoDataFrame({"lamp_id": ["K"], "road_id": ["C"], "status": ["正常"]},
                             geometry=[Point(90, 10)], crs=CRS)
    s = lm.dark_stretches(roads, lm.lamp_states(lamps))
    # served from 90 - sqrt(900 - 100) = 61.716 to 100 + 10 + 28.284 = 138.284
    assert s[["start_m", "end_m"]].values.tolist() == [[0.0, 61.716], [138.284, 200.0]]
    sites = lm.propose_sites(s)
    # 61.716 m at a 28 m spacing: 3 sites; 61.716 m on the second leg: 3 sites
    assert len(sites) == 6
    assert sites["measure_m"].tolist()[:3] == [round(61.716 * (k + 0.5) / 3, 1) for k in range(3)]
    assert sites.geometry.iloc[3:].x.round(3).tolist() == [100.0] * 3


def test_lamp_far_from_any_road_is_listed_not_lost():
    roads, lamps = _wide_road()
    lamps.loc[len(lamps)] = {"lamp_id": "FAR", "road_id": None, "status": "正常",
                             "geometry": Point(150, 400)}
    states, problems = lm.match_roads(lm.lamp_states(lamps), roads)
    assert problems["lamp_id"].tolist() == ["FAR"]
    assert "无法归属道路" in problems["reason"].iloc[0]
    # still counted in the city on-rate (21 lamps) but not on any road (20)
    rates = lm.on_rates(states, roads)
    assert rates["city"]["in_service"].iloc[0] == 21
    assert rates["road"]["in_service"].sum() == 20


def _faults(*pairs):
    return gpd.GeoDataFrame({
        "fault_id": [f"F{k + 1}" for k in range(len(pairs))],
        "lamp_id": [f"L{k}N" for k in range(len(pairs))],
        "reported_at": pd.to_datetime([a for a, _ in pairs]),
        "repaired_at": pd.to_datetime([b for _, b in pairs])},
        geometry=[Point(0, 0)] * len(pairs), crs=CRS)


def test_fault_repaired_at_exactly_24_hours_is_on_time():
    f = _faults(("2022-09-02 08:00", "2022-09-03 08:00"),    # exactly 24 h
                ("2022-09-02 08:00", "2022-09-03 08:01"),    # 24 h 1 min
                ("2022-09-03 12:00", None),                   # open: 36 h at the end of 9-04
                ("2022-09-04 06:00", None))                   # open: 18 h
    ok, bad = lm.fault_delays(f, as_of=AS_OF)
    assert bad.empty
    assert ok["hours"].tolist() == [24.0, round(24 + 1 / 60, 4), 36.0, 18.0]
    assert ok["overdue"].tolist() == [False, True, True, False]
    assert ok["open"].tolist() == [False, False, True, True]


def test_fault_repaired_before_its_report_is_rejected_with_reason():
    f = _faults(("2022-09-02 08:00", "2022-09-02 07:00"), ("2022-09-02 08:00", None))
    ok, bad = lm.fault_delays(f, as_of=AS_OF)
    assert ok["fault_id"].tolist() == ["F2"]
    assert bad[["row", "id", "field", "reason"]].values.tolist() == [
        [1, "F1", "repaired_at", "修复时间早于报告时间"]]


def test_open_fault_darkens_a_lamp_and_counts_as_overdue_finding():
    roads, lamps = _wide_road()
    f = _faults(("2022-09-02 08:00", None), ("2022-09-03 08:00", "2022-09-03 09:00"))
    layers = {"roads": roads, "street_lamps": lamps, "lamp_faults": f}
    res = lm.analyse(layers, as_of=AS_OF)
    lit = res["lamps"].set_index("lamp_id")["lit"]
    assert not lit["L0N"] and lit["L1N"]
    assert res["rates"]["city"]["lit"].iloc[0] == 19
    out = lm.findings_from(res, as_of=AS_OF, crs=CRS)
    over = out[out["rule"] == "lamp_fault_overdue"]
    assert over["feature_id"].tolist() == ["F1"]
    assert over["measure"].tolist() == [64.0]
    assert over["observed_at"].tolist() == ["2022-09-02T08:00"]
    assert over["rule_source"].iloc[0].startswith("扎政办字〔2022〕51号")
    assert bool(over["public"].iloc[0])
