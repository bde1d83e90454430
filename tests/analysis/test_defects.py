"""Pavement and drain defects: road ties, deadlines, repeats, the re-inspection sample."""

from __future__ import annotations

import datetime as dt

import geopandas as gpd
import numpy as np
import pandas as pd
from _truth import missed_and_flagged
from shapely.geometry import LineString, Point

from zlgis.analysis import defects as dfx

CRS = "EPSG:4550"
AS_OF = dt.date(2022, 9, 4)


def _roads():
    # a main road and a branch road 100 m apart: they share the 500 m sampling cells
    return gpd.GeoDataFrame({"road_id": ["M", "B"], "road_class": ["主干路", "支路"]},
                            geometry=[LineString([(0, 0), (5000, 0)]),
                                      LineString([(0, 100), (5000, 100)])], crs=CRS)


def test_ties_deadlines_and_bad_rows():
    d = gpd.GeoDataFrame({
        "defect_id": ["G", "P", "FAR", "BACK"], "kind": ["井篦缺失", "坑槽", "坑槽", "坑槽"],
        "reported_at": pd.to_datetime(["2022-09-02 09:00", "2022-09-02 09:00",
                                       "2022-09-01 08:00", "2022-09-01 08:00"]),
        "repaired_at": pd.to_datetime([None, None, None, "2022-08-30 08:00"])},
        geometry=[Point(10, 3), Point(20, 3), Point(10, 500), Point(30, 3)], crs=CRS)
    t, bad = dfx.tie_to_roads(d, _roads())
    assert t["defect_id"].tolist() == ["G", "P"] and set(t["road_id"]) == {"M"}
    assert bad[["id", "field"]].values.tolist() == [["FAR", "geometry"], ["BACK", "repaired_at"]]
    od = dfx.overdue(t, as_of=AS_OF)
    # the grate (1 day) is 2.625 days open; the pothole (3 days) still within its limit
    assert od[["defect_id", "days_open"]].values.tolist() == [["G", 2.62]]


def test_reinspection_sample_is_spread_and_weighted():
    rng = np.random.default_rng(1)
    n = 400
    on_main = rng.random(n) < 0.5
    x = rng.uniform(0, 5000, n)
    y = np.where(on_main, 0.0, 100.0) + rng.uniform(0, 3, n)
    d = gpd.GeoDataFrame({
        "defect_id": [f"D{k}" for k in range(n)], "kind": "坑槽",
        "reported_at": pd.Timestamp("2022-08-01"), "repaired_at": pd.Timestamp("2022-08-02")},
        geometry=[Point(a, b) for a, b in zip(x, y)], crs=CRS)
    t, _ = dfx.tie_to_roads(d, _roads())
    s = dfx.reinspection_sample(t, as_of=AS_OF)
    assert len(s) == 80  # 20 % of 400
    # ten 500 m cells along the roads: every cell gets 8 before any gets a 9th (spread)
    assert s["cell"].nunique() == 10 and set(s.groupby("cell").size()) == {8}
    # inside the cells main-road items weigh 3 to 1: far more than half the sample is on
    # the main road although half the repaired items are
    assert (s["road_id"] == "M").mean() > 0.7
    # reproducible
    assert dfx.reinspection_sample(t, as_of=AS_OF)["defect_id"].tolist() == s["defect_id"].tolist()


def test_demo_city_defects(demo_catalog, demo_truth):
    from zlgis.validate import load_layers

    layers = load_layers(demo_catalog, [lid for lid in dfx.LAYERS if lid in demo_catalog.layers])
    f = dfx.run_check(demo_catalog, layers, as_of=AS_OF)
    truth = demo_truth[demo_truth["check"] == "defects"]
    missed, flagged = missed_and_flagged(truth, f)
    assert not missed and not flagged and len(truth) == 4
