"""Sweeping shares from synthetic tracks: noise 5-15 m, parallel streets 20 m apart, U-turns, gaps,
and bad tracks (out of order, duplicates, points 50 km away) listed without losing a row."""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely
from shapely.geometry import LineString

from zlgis.analysis.mapmatch import EdgeIndex, match
from zlgis.analysis.network import StreetGraph
from zlgis.analysis.sweeping import TrackProblems, prepare_tracks, sweeping_coverage
from zlgis.demo.sanitation import simulate_drive
from zlgis.errors import InputError

T0 = int(pd.Timestamp("2022-08-29 04:00").timestamp()) - 8 * 3600  # local 04:00 as epoch


def _town() -> gpd.GeoDataFrame:
    """Four 1.2 km main roads in two pairs 20 m apart, tied by side streets at both ends."""
    ys = {"甲路": 0.0, "乙路": 20.0, "丙路": 300.0, "中央街": 320.0}
    rows = [{"road_id": n, "name": n, "road_class": "主干路", "width": 20.0,
             "geometry": LineString([(0, y), (1200, y)])} for n, y in ys.items()]
    for x in (0.0, 600.0, 1200.0):
        rows.append({"road_id": f"S{x:.0f}", "name": "横街", "road_class": "支路", "width": 12.0,
                     "geometry": LineString([(x, 0), (x, 320)])})
    return gpd.GeoDataFrame(rows, crs="EPSG:4550")


def _fixes(plan: list[dict], rng: np.random.Generator) -> gpd.GeoDataFrame:
    frames = []
    for p in plan:
        x, y, t, _ = simulate_drive(np.asarray(p["path"], float), t0=p["t0"],
                                    speed_ms=p["speed"], interval_s=5, noise_m=p["noise"],
                                    rng=rng)
        keep = np.ones(len(t), bool)
        if "gap" in p:  # silence (tunnel, terminal off) between two times after t0
            keep = ~((t - p["t0"] >= p["gap"][0]) & (t - p["t0"] < p["gap"][1]))
        frames.append(pd.DataFrame({"vehicle_id": p["id"], "vehicle_type": p["type"],
                                    "t": t[keep], "x": x[keep], "y": y[keep]}))
    df = pd.concat(frames, ignore_index=True)
    return gpd.GeoDataFrame(
        {"vehicle_id": df["vehicle_id"], "vehicle_type": df["vehicle_type"],
         "time": pd.to_datetime(df["t"] + 8 * 3600, unit="s")},
        geometry=gpd.points_from_xy(df["x"], df["y"]), crs="EPSG:4550")


def _plan() -> tuple[list[dict], dict[str, float]]:
    sweep = 8 / 3.6
    plan = [
        # down the side street, then 甲路 swept 0 -> 900 m, U-turn, back to 200 m: 900 m swept;
        # noise 15 m, next to 乙路 20 m away
        {"id": "SX1", "type": "扫路车", "t0": T0, "speed": sweep, "noise": 15.0,
         "path": [(0, 160), (0, 0), (900, 0), (200, 0)]},
        # 中央街 swept 1200 -> 100 m with a 3-minute silence: 1200-800 and 600-100 swept
        {"id": "SX2", "type": "洗扫车", "t0": T0 + 60, "speed": sweep, "noise": 10.0,
         "path": [(1200, 320), (100, 320)], "gap": (180, 360)},
        # 乙路 driven at 40 km/h to the depot: transit, not sweeping
        {"id": "SX3", "type": "扫路车", "t0": T0, "speed": 40 / 3.6, "noise": 5.0,
         "path": [(0, 20), (1200, 20)]},
        # a sprinkler waters 丙路 in full: watered, not swept
        {"id": "SS1", "type": "洒水车", "t0": T0, "speed": 15 / 3.6, "noise": 8.0,
         "path": [(0, 300), (1200, 300)]},
    ]
    # gap on 中央街: fixes at t in [180, 360) s are missing -> positions 400..800 m from the
    # start at 8 km/h (2.22 m/s): 1200-400=800 .. 1200-800=400, so swept 1200->800 and 400->100
    truth = {"甲路": 900.0, "中央街": 400.0 + 300.0, "乙路": 0.0, "丙路": 0.0}
    return plan, truth


def test_swept_share_within_two_percent_with_noise_parallel_streets_uturn_and_gap():
    roads = _town()
    plan, truth = _plan()
    res = sweeping_coverage(roads, _fixes(plan, np.random.default_rng(7)))
    got = res.roads.set_index("road_id")["swept_m"]
    for name, want in truth.items():
        # each stretch ends at a fix with up to 15 m of noise (and a U-turn): 3 % of 1.2 km
        assert abs(got[name] - want) <= 0.03 * 1200, (name, got[name], want)
    week = res.week.set_index("group")
    true_share = sum(truth.values()) / 4800.0
    assert abs(week.loc["主次干道", "share_length"] - true_share) <= 0.02
    assert abs(week.loc["中央街", "share_length"] - truth["中央街"] / 1200) <= 0.02
    # the sprinkler watered 丙路 in full, and nothing else
    watered = res.roads.set_index("road_id")["watered_m"]
    assert watered["丙路"] > 1150 and watered["甲路"] == 0
    assert set(res.never_swept["road_id"]) == {"乙路", "丙路"}
    # the daily table has the one working day at the right share
    day = res.daily[(res.daily["day"] == "2022-08-29") & (res.daily["group"] == "主次干道")]
    assert abs(float(day["share_length"].iloc[0]) - true_share) <= 0.02


def test_hmm_keeps_the_parallel_street_where_nearest_edge_fails():
    roads = _town()
    rng = np.random.default_rng(3)
    x, y, t, s = simulate_drive(np.array([(0.0, 0.0), (1200.0, 0.0)]), t0=T0, speed_ms=2.2,
                                interval_s=5, noise_m=15.0, rng=rng)
    index = EdgeIndex.from_graph(StreetGraph.from_roads(roads, walk=False))
    m = match(index, x, y, t, np.zeros(len(x), np.int64))
    assert (m.edge >= 0).all()
    # at the street's ends and at the crossing at 600 m a fix may fairly sit on the side street
    mid = (s > 50) & (s < 1150) & (np.abs(s - 600) > 40)
    ids = roads["road_id"].to_numpy()
    on_road = ids[index.edge_row[m.edge[mid]]]
    nearest = ids[index.edge_row[m.nearest[mid]]]
    # with 15 m noise about a quarter of the fixes lie nearer to 乙路 20 m away ...
    assert (nearest == "乙路").mean() > 0.15
    # ... and the matcher keeps every one of them on 甲路
    assert (on_road == "甲路").all()


def test_bad_tracks_are_listed_and_nothing_is_lost():
    rng = np.random.default_rng(5)
    x, y, t, _ = simulate_drive(np.array([(0.0, 0.0), (1000.0, 0.0)]), t0=T0, speed_ms=2.2,
                                interval_s=5, noise_m=5.0, rng=rng)
    df = pd.DataFrame({"vehicle_id": "SX9", "vehicle_type": "扫路车",
                       "time": pd.to_datetime(t + 8 * 3600, unit="s"), "x": x, "y": y})
    df.loc[40, ["x", "y"]] = [x[40] + 50_000.0, y[40]]              # 50 km away
    n0 = len(df)
    df = pd.concat([df, df.iloc[[10, 11]]], ignore_index=True)       # two exact duplicates
    df.loc[20:29] = df.loc[20:29].iloc[::-1].to_numpy()              # ten rows out of order
    df["time"] = df["time"].astype(object)
    df.loc[len(df)] = ["SX9", "扫路车", "not a time", 5.0, 0.0]       # unreadable time
    df.loc[len(df)] = ["", "扫路车", df.loc[3, "time"], 5.0, 0.0]     # no vehicle
    df.loc[len(df)] = ["SX9", "扫路车", df.loc[5, "time"], 5.0, 0.0]    # no position
    df.loc[len(df)] = ["SX9", "扫路车", df.loc[6, "time"], 5.0, 0.0]    # an empty point
    pts = gpd.points_from_xy(df["x"], df["y"])
    pts[len(df) - 2], pts[len(df) - 1] = None, shapely.Point()
    gdf = gpd.GeoDataFrame(df.drop(columns=["x", "y"]), geometry=pts, crs="EPSG:4550")
    fixes, probs = prepare_tracks(gdf)
    p = probs.frame()
    used = set(fixes["row"])
    dropped = set(p.loc[p["action"].isin(["未使用", "已去除"]), "row"])
    # every input row is either used or listed as set aside, never both
    assert used | dropped == set(range(1, len(df) + 1)) and not used & dropped
    by = p.groupby("problem")["row"].apply(set)
    assert by["定位时间为空或无法识别"] == {len(df) - 3}
    assert by["缺少车辆编号"] == {len(df) - 2}
    assert by["缺少坐标"] == {len(df) - 1, len(df)}
    assert len(by["重复定位点（同一车辆、同一时刻、同一位置）"]) == 2
    assert [k for k in by.index if k.startswith("位置跳变")] == ["位置跳变（距前一点 50.0 km）"]
    # rows 22..30 (the reversed block) and the two duplicates at the end come after later rows
    assert by["定位时间早于前一行（时间倒序）"] == set(range(22, 31)) | {n0 + 1, n0 + 2}
    assert fixes["t"].is_monotonic_increasing
    # the same fixes given by their coordinates (as the weekly run hands them): same result
    xy = df.copy()
    xy.loc[len(df) - 2:, ["x", "y"]] = np.nan  # the missing and the empty point
    fixes2, probs2 = prepare_tracks(xy)
    pd.testing.assert_frame_equal(fixes2, fixes)
    pd.testing.assert_frame_equal(probs2.frame(), p)
    with pytest.raises(InputError, match="缺少坐标"):
        prepare_tracks(xy.drop(columns="y"))


def test_track_problems_frame_equals_one_dict_per_row():
    """The columnar problem list gives the frame the former one-dict-per-row list gave."""
    calls = [("sweeper_tracks", np.array([7, 3]), np.array(["SX1", "SX2"], dtype=object),
              np.array(["2022-08-29 05:00:00", "x"], dtype=object), "time", "重复", "已去除"),
             ("sweeper_tracks", [2], ["SX3"], ["2022-08-29"], "geometry",
              ["位置跳变（距前一点 50.0 km）"], "未使用"),
             ("sweeper_tracks", np.zeros(0, int), [], [], "time", [], "未使用"),
             ("sweeper_tracks", np.array([3, 1]), np.array(["SX2", "SX9"], dtype=object),
              np.array(["a", "b"], dtype=object), "vehicle_id", "缺少车辆编号", "未使用")]
    probs, dicts = TrackProblems(), []
    for layer, rows, veh, time, fld, problem, action in calls:
        probs.add(layer, rows, veh, time, fld, problem, action)
        ps = problem if isinstance(problem, list) else [problem] * len(rows)
        dicts += [{"layer": layer, "row": int(r), "vehicle_id": str(v), "time": str(t),
                   "field": fld, "problem": p, "action": action}
                  for r, v, t, p in zip(rows, veh, time, ps)]
    ref = (pd.DataFrame(dicts, columns=list(TrackProblems.COLUMNS))
           .sort_values(["row", "problem"], kind="stable").reset_index(drop=True))
    pd.testing.assert_frame_equal(probs.frame(), ref)
    assert probs.rows == dicts
    empty = pd.DataFrame([], columns=list(TrackProblems.COLUMNS))
    pd.testing.assert_frame_equal(TrackProblems().frame(), empty)


def test_track_problems_texts_written_when_read():
    """A block given the layer's time column (``_TimeText``) and the vehicles as an Arrow
    array lists the texts the eager block lists."""
    from zlgis.analysis.sweeping import _TimeText

    col = pd.Series(pd.to_datetime(["2022-08-29 05:00:00", "2022-08-29 05:00:01.500", None,
                                    "2022-08-30 00:00:00"], format="ISO8601"))
    veh = pd.Series(["SX1", "SX2", "SX1", "SX3"], dtype="string[pyarrow]")
    rows = np.array([4, 2, 3])
    lazy, eager = TrackProblems(), TrackProblems()
    lazy.add("sweeper_tracks", rows, veh.iloc[rows - 1].array, _TimeText(col), "time", "重复",
             "已去除")
    eager.add("sweeper_tracks", rows, veh.iloc[rows - 1].to_numpy(dtype=object),
              col.astype(str).to_numpy(dtype=object)[rows - 1], "time", "重复", "已去除")
    pd.testing.assert_frame_equal(lazy.frame(), eager.frame())
    got = lazy.frame()
    assert got["row"].tolist() == [2, 3, 4] and got["vehicle_id"].tolist() == ["SX2", "SX1", "SX3"]
    assert got["time"].iloc[0] == "2022-08-29 05:00:01.500"  # the whole column's format


def test_time_text_of_some_rows_is_the_whole_columns_text():
    """Only the listed fixes' times are written, in the format of the whole column."""
    from zlgis.analysis.sweeping import _TimeText

    rng = np.random.default_rng(2)
    base = pd.Timestamp("2022-08-29").value + rng.integers(0, 7, 400) * 86_400 * 10**9
    cols = []
    for unit in ("ns", "us", "ms", "s"):
        for extra in (0, 10**9, 10**6, 10**3, 1):      # midnights, seconds, ms, us, ns
            v = base.copy()
            v[137] += extra * 3 + 2 * extra * (extra > 1)  # one odd value deep inside
            col = pd.Series(pd.to_datetime(v).as_unit(unit))
            col.iloc[[5, 300]] = pd.NaT
            cols.append(col)
    cols += [pd.Series(["2022-08-29 05:00", "not a time", None] * 134, dtype=object),
             pd.Series(pd.to_datetime(base).tz_localize("Asia/Shanghai"))]
    formats = set()
    for col in cols:
        whole = col.astype(str).to_numpy(dtype=object)
        text = _TimeText(col)
        for rows in (np.arange(0, len(col), 7), np.array([3]), np.zeros(0, int),
                     rng.random(len(col)) < 0.3, np.array([300, 5, 2, 5])):
            got = text[rows]
            assert len(got) == len(whole[rows])
            assert all(a == b or (a != a and b != b) for a, b in zip(got, whole[rows]))
        formats.add(len(str(whole[0])))
    assert len(formats) >= 5     # dates only, seconds, ms, us, ns (and the zone) all met


def test_vehicle_text_of_a_text_column_equals_the_object_path():
    from zlgis.analysis.sweeping import _text

    raw = [" SX1", "SX2 ", None, "", "  ", "车1"]
    for col in (pd.Series(raw), pd.Series(raw, dtype="string"), pd.Series(raw, dtype=object),
                pd.Series([1, None, 3.0]), pd.Series(raw, dtype=str)):
        want = col.astype(object).where(col.notna(), "").astype(str).str.strip()
        pd.testing.assert_series_equal(_text(col), want)
    assert _text(pd.Series(raw, dtype="string")).tolist() == ["SX1", "SX2", "", "", "", "车1"]
