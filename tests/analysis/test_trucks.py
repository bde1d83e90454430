"""Tests for zlgis.analysis.trucks: stops, zones, restricted roads, muck trucks, zombie vehicles,
parking supply, plate privacy, GCJ-02 patrol input and the demo city's planted cases."""

from __future__ import annotations

import copy
import datetime as dt
import json
import textwrap
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely
from shapely.geometry import LineString, Point, box

from zlgis.analysis.timewindows import to_epoch_seconds
from zlgis.analysis.trucks import (
    detect_stops,
    hash_plates,
    muck_findings,
    no_parking_zone_findings,
    parking_access,
    parking_supply_findings,
    plate_salt,
    points_in_polygons,
    points_near_lines,
    prepare_pings,
    restricted_road_findings,
    run_check,
    south_corridor,
    vehicle_class_matches,
    zombie_findings,
)
from zlgis.catalog import Catalog
from zlgis.crs import WORKING_CRS, wgs84_to_gcj02
from zlgis.errors import ConfigError, InputError
from zlgis.findings import FINDING_COLUMNS

SALT = "test-salt-not-secret"
CRS = WORKING_CRS
# a point in Zhalantun in EPSG:4550 (about 122.74E 48.01N)
X0, Y0 = 480_000.0, 5_317_000.0


@pytest.fixture(autouse=True)
def _salt(monkeypatch):
    monkeypatch.setenv("ZLGIS_PLATE_SALT", SALT)


def pings_gdf(rows: list[tuple]) -> gpd.GeoDataFrame:
    """rows: (plate, vehicle_type, time, speed, x, y)."""
    df = pd.DataFrame(rows, columns=["plate", "vehicle_type", "time", "speed_kmh", "x", "y"])
    return gpd.GeoDataFrame(df.drop(columns=["x", "y"]),
                            geometry=gpd.points_from_xy(df["x"], df["y"]), crs=CRS)


def parked(plate: str, start: str, minutes: int, x: float, y: float, step: int = 5,
           vtype: str = "重型货车") -> list[tuple]:
    t0 = pd.Timestamp(start)
    return [(plate, vtype, str(t0 + pd.Timedelta(minutes=m)), 0.0, x + (m % 3), y)
            for m in range(0, minutes + 1, step)]


def drive(plate: str, start: str, pts: list[tuple[float, float]], vtype: str = "重型货车",
          step_s: int = 30, speed: float = 30.0) -> list[tuple]:
    t0 = pd.Timestamp(start)
    return [(plate, vtype, str(t0 + pd.Timedelta(seconds=i * step_s)), speed, x, y)
            for i, (x, y) in enumerate(pts)]


def zones_gdf(**kw) -> gpd.GeoDataFrame:
    data = {"zone_id": ["Z1"], "name": ["中央街禁停区"], "weekday_hours": ["07:00-09:00"],
            "weekend_hours": [""], "vehicle_classes": [""]}
    data.update(kw)
    return gpd.GeoDataFrame(data, geometry=[box(X0, Y0, X0 + 200, Y0 + 200)], crs=CRS)


# ------------------------------------------------------------------ privacy

def test_salt_is_required(monkeypatch) -> None:
    monkeypatch.delenv("ZLGIS_PLATE_SALT")
    rules = {"min_length": 16, "min_distinct_characters": 8, "min_character_classes": 2}
    with pytest.raises(ConfigError) as err:
        plate_salt(config={"plate_salt": None, "plate_salt_rules": rules})
    assert "ZLGIS_PLATE_SALT" in str(err.value) and "至少 16 个字符" in str(err.value)


@pytest.mark.parametrize("salt, problem", [
    (" " * 8, "去掉首尾空白后只有 0 个字符，不同字符只有 0 个，只含 0 类字符"),
    ("12345678", "去掉首尾空白后只有 8 个字符，只含 1 类字符"),
    ("1234567812345678", "只含 1 类字符"),
    ("abababababababab1", "不同字符只有 3 个"),
    ("short-1", "去掉首尾空白后只有 7 个字符，不同字符只有 7 个"),
])
def test_weak_salts_refused(salt, problem) -> None:
    with pytest.raises(ConfigError) as err:
        plate_salt(salt)
    assert str(err.value) == (f"车牌摘要的盐值太弱：{problem}（至少需要 16 个字符、8 个不同字符、"
                              "2 类字符：字母、数字、其他符号）")
    assert err.value.exit_code == 2


def test_hash_is_salted_stable_and_normalised() -> None:
    a = hash_plates(["蒙E12345", "蒙e·12345", "蒙E12346"], SALT)
    assert a[0] == a[1] != a[2]
    assert hash_plates(["蒙E12345"], "another-salt")[0] != a[0]
    assert "12345" not in a[0]


def test_plates_never_reach_findings() -> None:
    p = prepare_pings(pings_gdf(parked("蒙E88888", "2022-08-01 07:00", 30, X0 + 50, Y0 + 50)))
    assert "plate" not in p.columns
    f = no_parking_zone_findings(p, zones_gdf())
    assert len(f) == 1
    text = f.to_json() + f.drop(columns="geometry").to_csv()
    assert "蒙E88888" not in text and "88888" not in text
    assert f.loc[0, "feature_id"] == hash_plates(["蒙E88888"], SALT)[0]


def test_prepare_pings_names_bad_rows() -> None:
    g = pings_gdf([("蒙E1", "货车", "2022-08-01 07:00", 0.0, X0, Y0),
                   ("", "货车", "2022-08-01 07:01", 0.0, X0, Y0)])
    with pytest.raises(InputError) as err:
        prepare_pings(g)
    assert "第 2 行" in str(err.value) and "plate" in str(err.value)
    g = pings_gdf([("蒙E1", "货车", "不是时间", 0.0, X0, Y0)])
    with pytest.raises(InputError, match="time"):
        prepare_pings(g)
    with pytest.raises(InputError, match="plate"):
        prepare_pings(g.drop(columns="plate"))


# ------------------------------------------------------------------ stops

def test_stop_needs_min_dwell() -> None:
    rows = parked("A1", "2022-08-01 10:00", 10, X0, Y0, step=1) + \
        parked("B2", "2022-08-01 10:00", 9, X0, Y0, step=1)
    s = detect_stops(prepare_pings(pings_gdf(rows)), min_dwell_min=10, radius_m=50,
                     stop_speed_kmh=5, max_gap_min=60)
    assert s["plate_hash"].tolist() == [hash_plates(["A1"], SALT)[0]]
    assert s["dwell_min"].tolist() == [10.0]


def test_crawling_in_a_jam_is_not_a_stop() -> None:
    rows = [("JAM", "重型货车", str(pd.Timestamp("2022-08-01 08:00") + pd.Timedelta(seconds=30 * i)),
             3.0, X0 + 20.0 * i, Y0) for i in range(40)]  # 20 m per 30 s for 20 min
    s = detect_stops(prepare_pings(pings_gdf(rows)), min_dwell_min=10, radius_m=50,
                     stop_speed_kmh=5, max_gap_min=60)
    assert s.empty


def test_stop_splits_on_movement_and_gaps() -> None:
    rows = (parked("A1", "2022-08-01 10:00", 20, X0, Y0)
            + drive("A1", "2022-08-01 10:21", [(X0 + 300, Y0), (X0 + 600, Y0)])
            + parked("A1", "2022-08-01 10:30", 20, X0 + 900, Y0)
            # same place after a 3-hour silence: a new stop, not one long one
            + parked("A1", "2022-08-01 14:00", 20, X0 + 900, Y0))
    s = detect_stops(prepare_pings(pings_gdf(rows)), min_dwell_min=10, radius_m=50,
                     stop_speed_kmh=5, max_gap_min=120)
    assert len(s) == 3
    assert np.allclose(s["dwell_min"], 20)


# ------------------------------------------------------------------ fast overlays

def test_points_in_polygons_matches_sjoin() -> None:
    rng = np.random.default_rng(1)
    x, y = rng.uniform(0, 1000, 5000), rng.uniform(0, 1000, 5000)
    polys = [shapely.buffer(Point(rng.uniform(0, 1000), rng.uniform(0, 1000)), 80)
             for _ in range(20)] + [box(100, 100, 300, 300)]
    pi, gi = points_in_polygons(x, y, polys)
    pts = gpd.GeoDataFrame(geometry=gpd.points_from_xy(x, y))
    zs = gpd.GeoDataFrame(geometry=polys)
    ref = gpd.sjoin(pts, zs, predicate="intersects")
    assert sorted(zip(pi.tolist(), gi.tolist())) == sorted(
        zip(ref.index.tolist(), ref["index_right"].tolist()))


def test_points_on_polygon_edges_and_lines() -> None:
    # lattice points fall exactly on polygon edges and vertices
    xx, yy = np.meshgrid(np.arange(0, 101, 5.0), np.arange(0, 101, 5.0))
    x, y = xx.ravel(), yy.ravel()
    polys = [box(10, 10, 50, 50), box(20, 0, 30, 100),
             shapely.Polygon([(0, 0), (100, 0), (0, 100)])]
    pi, gi = points_in_polygons(x, y, polys)
    ref = gpd.sjoin(gpd.GeoDataFrame(geometry=gpd.points_from_xy(x, y)),
                    gpd.GeoDataFrame(geometry=polys), predicate="intersects")
    assert sorted(zip(pi.tolist(), gi.tolist())) == sorted(
        zip(ref.index.tolist(), ref["index_right"].tolist()))
    line = LineString([(0, 0), (100, 100), (100, 0)])
    near, _ = points_near_lines(x, y, [line], 5.0)
    assert sorted(near.tolist()) == np.flatnonzero(
        shapely.dwithin(line, shapely.points(x, y), 5.0)).tolist()


def test_points_near_lines_matches_dwithin() -> None:
    rng = np.random.default_rng(2)
    x, y = rng.uniform(0, 1000, 3000), rng.uniform(0, 1000, 3000)
    lines = [LineString(rng.uniform(0, 1000, (3, 2))) for _ in range(10)]
    pi, li = points_near_lines(x, y, lines, 15.0)
    pts = shapely.points(x, y)
    ref = [(i, j) for j, ln in enumerate(lines) for i in np.flatnonzero(
        shapely.dwithin(ln, pts, 15.0))]
    assert sorted(zip(pi.tolist(), li.tolist())) == sorted(ref)


def test_vehicle_classes() -> None:
    types = ["重型货车", "轻型货车", "渣土车", "小型轿车", ""]
    assert vehicle_class_matches(types, "重型货车;中型货车").tolist() == [
        True, False, True, False, True]
    assert vehicle_class_matches(types, "全部").tolist() == [True, True, True, False, True]
    assert vehicle_class_matches(types, "渣土车").tolist() == [False, False, True, False, True]
    assert vehicle_class_matches(types, "禁止所有货车").tolist() == [True, True, True, False, True]
    assert vehicle_class_matches(types, "重型货车及渣土车").tolist() == [
        True, False, True, False, True]


def test_invalid_zone_polygon_is_repaired() -> None:
    bowtie = shapely.Polygon([(X0, Y0), (X0 + 200, Y0 + 200), (X0 + 200, Y0), (X0, Y0 + 200)])
    zones = zones_gdf()
    zones.geometry = [bowtie]
    rows = parked("IN1", "2022-08-01 07:20", 30, X0 + 150, Y0 + 100)
    f = no_parking_zone_findings(prepare_pings(pings_gdf(rows)), zones)
    assert f["related_ids"].tolist() == ["Z1"]


# ------------------------------------------------------------------ no-parking zones

def test_zone_stop_in_and_out_of_restricted_hours() -> None:
    rows = (parked("IN1", "2022-08-01 07:20", 30, X0 + 50, Y0 + 50)       # inside hours
            + parked("BEFORE", "2022-08-01 06:40", 30, X0 + 80, Y0 + 80)  # begins before
            + parked("OUT1", "2022-08-01 09:00", 40, X0 + 60, Y0 + 60)    # starts at the end
            + parked("EARLY", "2022-08-01 06:00", 60, X0 + 90, Y0 + 90)   # ends at the start
            + parked("SAT", "2022-08-06 07:20", 30, X0 + 50, Y0 + 50)     # weekend: no hours
            + parked("AWAY", "2022-08-01 07:20", 30, X0 + 500, Y0 + 500))  # outside the zone
    f = no_parking_zone_findings(prepare_pings(pings_gdf(rows)), zones_gdf())
    got = dict(zip(f["feature_id"], f["measure"]))
    h = dict(zip(["IN1", "BEFORE"], hash_plates(["IN1", "BEFORE"], SALT)))
    assert set(got) == set(h.values())
    assert got[h["IN1"]] == 30.0 and got[h["BEFORE"]] == 10.0
    assert set(f["related_ids"]) == {"Z1"}
    assert set(f["lead_department"]) == {"public_security;urban_enforcement"}
    assert set(f["event_code_new"]) == {"09009"}
    assert list(f.columns) == list(FINDING_COLUMNS) + ["geometry"]
    assert all(f.geometry.within(zones_gdf().geometry.iloc[0].buffer(1)))


def test_zone_night_window_and_vehicle_class() -> None:
    zones = zones_gdf(weekday_hours=["22:00-06:00"], vehicle_classes=["重型货车"])
    rows = (parked("NIGHT", "2022-08-02 05:30", 40, X0 + 50, Y0 + 50)
            + parked("VAN", "2022-08-02 05:30", 40, X0 + 60, Y0 + 60, vtype="轻型货车"))
    f = no_parking_zone_findings(prepare_pings(pings_gdf(rows)), zones)
    assert f["feature_id"].tolist() == [hash_plates(["NIGHT"], SALT)[0]]
    assert f["measure"].tolist() == [30.0]


def test_finding_ids_stable_and_distinct_per_stop() -> None:
    rows = (parked("IN1", "2022-08-01 07:00", 20, X0 + 50, Y0 + 50)
            + parked("IN1", "2022-08-02 07:00", 20, X0 + 50, Y0 + 50))
    a = no_parking_zone_findings(prepare_pings(pings_gdf(rows)), zones_gdf())
    b = no_parking_zone_findings(prepare_pings(pings_gdf(rows[::-1])), zones_gdf())
    assert len(a) == 2 and a["finding_id"].nunique() == 2
    assert sorted(a["finding_id"]) == sorted(b["finding_id"])


def test_bad_zone_hours_named() -> None:
    p = prepare_pings(pings_gdf(parked("IN1", "2022-08-01 07:20", 30, X0 + 50, Y0 + 50)))
    with pytest.raises(InputError) as err:
        no_parking_zone_findings(p, zones_gdf(weekday_hours=["早七点到九点"]))
    assert "truck_no_parking_zones" in str(err.value) and "第 1 行" in str(err.value)


def _write_catalog(folder: Path, xlsx: Path) -> Path:
    cat = folder / "catalog.yaml"
    cat.write_text(textwrap.dedent(f"""\
        version: 1
        data_dir: .
        working_crs: EPSG:4550
        layers:
          patrol_observations:
            title: 巡查记录
            kind: activity
            source: {{path: {xlsx.name}, x: 经度, y: 纬度}}
            geometry: Point
            crs: gcj02
            id_field: obs_id
            fields:
              obs_id: {{type: str, required: true, aliases: [记录编号]}}
              time: {{type: datetime, required: true, aliases: [巡查时间]}}
              plate: {{type: str, required: true, aliases: [车牌号]}}
              vehicle_type: {{type: str, aliases: [车辆类型]}}
        """), encoding="utf-8")
    return cat


def test_gcj02_patrol_converted_before_overlay(tmp_path: Path) -> None:
    from zlgis.validate import read_layer

    lon, lat = 122.738, 48.008  # WGS84, in Zhalantun
    glon, glat = wgs84_to_gcj02(lon, lat)
    xlsx = tmp_path / "patrol.xlsx"
    pd.DataFrame({"记录编号": ["P1"], "巡查时间": ["2022-08-01T07:30:00+08:00"],
                  "车牌号": ["蒙E77777"], "车辆类型": ["重型货车"],
                  "经度": [float(glon)], "纬度": [float(glat)]}).to_excel(xlsx, index=False)
    cat = Catalog.load(_write_catalog(tmp_path, xlsx))
    patrol_gdf = read_layer(cat, "patrol_observations").gdf
    true_pt = gpd.GeoSeries([Point(lon, lat)], crs="EPSG:4326").to_crs(CRS).iloc[0]
    naive_pt = gpd.GeoSeries([Point(float(glon), float(glat))], crs="EPSG:4326").to_crs(CRS).iloc[0]
    assert true_pt.distance(naive_pt) > 200  # the GCJ-02 shift is hundreds of metres here
    zone = gpd.GeoDataFrame({"zone_id": ["ZG"], "name": ["测试区"], "weekday_hours": ["07:00-09:00"],
                             "weekend_hours": [""], "vehicle_classes": [""]},
                            geometry=[true_pt.buffer(60)], crs=CRS)
    assert not zone.geometry.iloc[0].contains(naive_pt)
    patrol = prepare_pings(patrol_gdf, layer="patrol_observations", source="巡查")
    f = no_parking_zone_findings(prepare_pings(pings_gdf([])), zone, patrol=patrol)
    assert f["related_ids"].tolist() == ["ZG"]
    assert json.loads(f.loc[0, "measures"])["source"] == "巡查"
    assert f.loc[0, "layer"] == "patrol_observations"
    assert f.geometry.iloc[0].distance(true_pt) < 0.5


# ------------------------------------------------------------------ restricted roads

def seg_gdf(hours: str = "07:00-19:00", classes: str = "重型货车") -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame({"segment_id": ["S1"], "name": ["中央街"], "hours": [hours],
                             "vehicle_classes": [classes]},
                            geometry=[LineString([(X0, Y0), (X0 + 1000, Y0)])], crs=CRS)


def test_restricted_road_in_hours_only() -> None:
    path = [(X0 + 100 + 40 * i, Y0 + 5) for i in range(10)]
    rows = (drive("DAY", "2022-08-01 08:00", path)
            + drive("NIGHT", "2022-08-01 20:00", path)
            + drive("CAR", "2022-08-01 08:00", path, vtype="小型轿车")
            + drive("FAR", "2022-08-01 08:00", [(x, Y0 + 60) for x, _ in path])
            + drive("EDGE", "2022-08-01 06:59:00", path[:3]))  # 06:59:00-06:60:00: outside
    f = restricted_road_findings(prepare_pings(pings_gdf(rows)), seg_gdf())
    assert f["feature_id"].tolist() == [hash_plates(["DAY"], SALT)[0]]
    assert f["related_ids"].tolist() == ["S1"]
    assert f.loc[0, "measure"] == 10
    g = f.geometry.iloc[0]
    assert g.geom_type == "LineString" and abs(g.length - 360) < 1e-6


# ------------------------------------------------------------------ muck trucks

def muck_layers():
    routes = gpd.GeoDataFrame({"route_id": ["R1"], "site_id": ["G1"], "hours": ["全天"],
                               "plate_hash": [""]},
                              geometry=[LineString([(X0, Y0), (X0 + 2000, Y0)])], crs=CRS)
    dumps = gpd.GeoDataFrame({"site_id": ["D1"]}, geometry=[box(X0 + 2000, Y0 - 100,
                                                               X0 + 2200, Y0 + 100)], crs=CRS)
    sites = gpd.GeoDataFrame({"site_id": ["G1"]}, geometry=[box(X0 - 200, Y0 - 100, X0, Y0 + 100)],
                             crs=CRS)
    return routes, dumps, sites


def test_muck_off_route_and_illegal_dump() -> None:
    routes, dumps, sites = muck_layers()
    on = [(X0 + 100 * i, Y0 + 10) for i in range(20)]
    off = [(X0 + 100 * i, Y0 + 400) for i in range(20)]
    rows = (drive("ON", "2022-08-01 10:00", on, vtype="渣土车")
            + parked("ON", "2022-08-01 10:20", 30, X0 + 2100, Y0, vtype="渣土车")    # at dump
            + drive("OFF", "2022-08-01 10:00", off, vtype="渣土车")
            + parked("DUMP", "2022-08-01 11:00", 20, X0 + 1000, Y0 + 800, vtype="渣土车")
            + drive("TRUCK", "2022-08-01 10:00", off, vtype="重型货车"))  # not a muck truck
    f = muck_findings(prepare_pings(pings_gdf(rows)), routes=routes, dump_sites=dumps,
                      construction_sites=sites)
    h = dict(zip(["OFF", "DUMP"], hash_plates(["OFF", "DUMP"], SALT)))
    got = sorted(zip(f["rule"], f["feature_id"]))
    assert got == sorted([("muck_off_route", h["OFF"]), ("muck_illegal_dump", h["DUMP"])])
    off_row = f[f["rule"] == "muck_off_route"].iloc[0]
    assert off_row["measure"] == pytest.approx(350, abs=1)
    assert set(f["task_id"]) == {"4.4.5"}


def test_muck_route_hours() -> None:
    routes, dumps, sites = muck_layers()
    routes = routes.assign(hours=["08:00-18:00"])
    on = [(X0 + 100 * i, Y0 + 10) for i in range(20)]
    rows = (drive("DAY", "2022-08-01 10:00", on, vtype="渣土车")
            + drive("NIGHT", "2022-08-01 23:00", on, vtype="渣土车"))
    f = muck_findings(prepare_pings(pings_gdf(rows)), routes=routes, dump_sites=dumps,
                      construction_sites=sites)
    assert f["feature_id"].tolist() == [hash_plates(["NIGHT"], SALT)[0]]
    assert f["title"].tolist() == ["渣土车在核准时段以外运输"]
    # the first ping lies on the edge of the construction site (lawful anyway)
    assert json.loads(f.loc[0, "measures"])["off_hours_pings"] == 19


def test_muck_route_per_plate_hash() -> None:
    routes, dumps, sites = muck_layers()
    routes = pd.concat([routes.assign(plate_hash=hash_plates(["MINE"], SALT)),
                        gpd.GeoDataFrame({"route_id": ["R2"], "plate_hash": [
                            hash_plates(["OTHER"], SALT)[0]]},
                            geometry=[LineString([(X0, Y0 + 400), (X0 + 2000, Y0 + 400)])],
                            crs=CRS)])
    off = [(X0 + 100 * i, Y0 + 400) for i in range(20)]
    rows = drive("MINE", "2022-08-01 10:00", off, vtype="渣土车") + drive(
        "OTHER", "2022-08-01 10:00", off, vtype="渣土车")
    f = muck_findings(prepare_pings(pings_gdf(rows)), routes=gpd.GeoDataFrame(routes, crs=CRS),
                      dump_sites=dumps, construction_sites=sites)
    assert f["feature_id"].tolist() == [hash_plates(["MINE"], SALT)[0]]
    # the route layer may name the plate itself: it is hashed on reading, with the same result
    routes["plate_hash"] = ["MINE", "OTHER"]
    g = muck_findings(prepare_pings(pings_gdf(rows)), routes=gpd.GeoDataFrame(routes, crs=CRS),
                      dump_sites=dumps, construction_sites=sites)
    assert g["feature_id"].tolist() == f["feature_id"].tolist()
    assert "MINE" not in g.to_json()


# ------------------------------------------------------------------ zombie vehicles

def sightings(plate: str, start: str, days: int, x: float, y: float) -> list[tuple]:
    t0 = pd.Timestamp(start)
    return [(plate, "小型轿车", str(t0 + pd.Timedelta(days=d)), np.nan, x + d % 2, y)
            for d in range(days + 1)]


def test_zombie_vehicle_on_corridor() -> None:
    roads = gpd.GeoDataFrame({"road_id": ["DL1", "DL2"], "name": ["南入口大街", "北环路"]},
                             geometry=[LineString([(X0, Y0), (X0, Y0 + 3000)]),
                                       LineString([(X0 + 5000, Y0), (X0 + 5000, Y0 + 3000)])],
                             crs=CRS)
    corridor = south_corridor(roads)
    assert corridor.contains(Point(X0 + 20, Y0 + 100))
    assert not corridor.contains(Point(X0 + 5000, Y0 + 100))
    rows = (sightings("OLD", "2022-07-20 09:00", 12, X0 + 10, Y0 + 500)
            + sightings("NEW", "2022-07-28 09:00", 4, X0 + 10, Y0 + 800)
            + sightings("ELSE", "2022-07-20 09:00", 12, X0 + 5010, Y0 + 500))
    s = prepare_pings(pings_gdf(rows))
    end = int(to_epoch_seconds(["2022-08-01 00:00"])[0])
    f = zombie_findings(s, corridor, as_of_end=end, window=(end - 7 * 86400, end))
    assert f["feature_id"].tolist() == [hash_plates(["OLD"], SALT)[0]]
    assert f["measure"].iloc[0] == pytest.approx(11.0)
    assert f["task_id"].iloc[0] == "4.4.4"


def test_configured_corridor_when_no_road_name_matches() -> None:
    from zlgis.config import load_config

    cfg = copy.deepcopy(load_config("trucks"))  # a private copy
    roads = gpd.GeoDataFrame({"road_id": ["DL1"], "name": ["北环路"]},
                             geometry=[LineString([(X0, Y0), (X0, Y0 + 3000)])], crs=CRS)
    assert south_corridor(roads, cfg) is None
    lonlat = gpd.GeoSeries([Point(X0 + 5000, Y0), Point(X0 + 5000, Y0 + 2000)], crs=CRS).to_crs(
        "EPSG:4326")
    cfg["zombie_vehicle"]["corridor"]["line_wgs84"] = [[p.x, p.y] for p in lonlat]
    corridor = south_corridor(roads, cfg)
    assert corridor.contains(Point(X0 + 5030, Y0 + 1000))
    assert not corridor.contains(Point(X0, Y0 + 1000))


# ------------------------------------------------------------------ parking supply

def test_parking_supply_network_distance() -> None:
    # a U-shaped street: L2 is 2 km from the parking in a straight line but 10.5 km by road
    roads = gpd.GeoDataFrame({"road_id": ["a", "b", "c"], "road_class": ["主干路"] * 3},
                             geometry=[LineString([(X0, Y0), (X0 + 6000, Y0)]),
                                       LineString([(X0 + 6000, Y0), (X0 + 6000, Y0 + 500)]),
                                       LineString([(X0 + 6000, Y0 + 500), (X0 + 2000, Y0 + 500)])],
                             crs=CRS)
    parking = gpd.GeoDataFrame({"parking_id": ["P1"], "name": ["停车场"], "capacity": [50]},
                               geometry=[Point(X0 + 10, Y0 + 10)], crs=CRS)
    logistics = gpd.GeoDataFrame({"point_id": ["L1", "L2", "L3"],
                                  "name": ["近物流点", "绕行物流点", "路网外物流点"]},
                                 geometry=[Point(X0 + 2000, Y0 + 20), Point(X0 + 2010, Y0 + 520),
                                           Point(X0 + 3000, Y0 + 3000)], crs=CRS)
    zones = gpd.GeoDataFrame({"zone_id": ["Z1", "Z2"]},
                             geometry=[box(X0 + 100, Y0 + 100, X0 + 300, Y0 + 300),
                                       box(X0 + 5000, Y0 + 5000, X0 + 5200, Y0 + 5200)], crs=CRS)
    f = parking_supply_findings(logistics, parking, roads, zones=zones)
    got = dict(zip(f["feature_id"], f["measure"]))
    assert set(got) == {"L2", "L3", "Z2"}
    assert got["L2"] == pytest.approx(10 + 5990 + 500 + 3990 + 20, abs=1)
    assert np.isnan(got["L3"])
    assert json.loads(f.set_index("feature_id").loc["L3", "measures"])["reachable"] is False
    assert f.set_index("feature_id").loc["L2", "layer"] == "logistics_points"
    assert f.set_index("feature_id").loc["Z2", "layer"] == "truck_no_parking_zones"
    assert f["public"].all() and set(f["task_id"]) == {"4.4.3"}
    m2 = json.loads(f.set_index("feature_id").loc["L2", "measures"])
    assert (m2["nearest_parking"], m2["capacity"]) == ("P1", 50.0)
    assert m2["straight_m"] == pytest.approx(np.hypot(2000, 510), abs=1)
    acc = parking_access(logistics, parking, roads)
    assert acc["reachable"].tolist() == [True, True, False]
    assert (acc["network_m"] >= acc["straight_m"] - 1e-6)[acc["reachable"]].all()


# ------------------------------------------------------------------ the demo city

def _truth_hash(truth: pd.DataFrame) -> pd.DataFrame:
    t = truth[truth["check"] == "trucks"].copy()
    plate_rules = t["rule"] != "parking_supply"
    t["fid"] = t["feature_id"]
    t.loc[plate_rules, "fid"] = hash_plates(t.loc[plate_rules, "feature_id"], SALT)
    return t


@pytest.fixture(scope="module")
def demo_truck_layers(demo_catalog):
    from zlgis.analysis.trucks import LAYERS
    from zlgis.validate import load_layers

    return load_layers(demo_catalog, [lid for lid in LAYERS if lid in demo_catalog.layers])


@pytest.fixture(scope="module")
def demo_findings(demo_catalog, demo_truck_layers):
    return run_check(demo_catalog, demo_truck_layers, salt=SALT)


def test_demo_city_planted_cases_found(demo_findings, demo_truth) -> None:
    t = _truth_hash(demo_truth)
    flags = t[t["expect"] == "flag"]
    assert len(flags) >= 5 and set(flags["rule"]) >= {"no_parking_zone", "restricted_road"}
    found = set(zip(demo_findings["rule"], demo_findings["feature_id"]))
    layers = set(zip(demo_findings["rule"], demo_findings["feature_id"], demo_findings["layer"]))
    assert all((r.rule, r.fid, r.layer) in layers for r in flags.itertuples())
    missed = [(r.case_id, r.rule) for r in flags.itertuples() if (r.rule, r.fid) not in found]
    assert not missed
    for r in flags.itertuples():
        rows = demo_findings[(demo_findings["rule"] == r.rule)
                             & (demo_findings["feature_id"] == r.fid)]
        if r.value and r.rule == "no_parking_zone":  # minutes parked, all inside the hours
            assert rows["measure"].max() == pytest.approx(float(r.value), abs=1.0), r.case_id
        if r.value and r.rule == "parking_supply":  # network metres (snapping may differ a bit)
            assert rows["measure"].max() == pytest.approx(float(r.value), rel=0.05), r.case_id
        if r.related_id:
            rows = demo_findings[(demo_findings["rule"] == r.rule)
                                 & (demo_findings["feature_id"] == r.fid)]
            assert any(r.related_id in str(x).split(";") for x in rows["related_ids"]), r.case_id


def test_demo_city_near_misses_not_flagged(demo_findings, demo_truth) -> None:
    t = _truth_hash(demo_truth)
    near = t[t["expect"] == "no_flag"]
    assert len(near) >= 1
    for r in near.itertuples():
        rows = demo_findings[(demo_findings["rule"] == r.rule)
                             & (demo_findings["feature_id"] == r.fid)]
        if r.related_id:
            rows = rows[rows["related_ids"].astype(str).str.split(";").apply(
                lambda ids, z=r.related_id: z in ids)]
        assert rows.empty, r.case_id


def test_demo_city_findings_are_private(demo_findings, demo_catalog) -> None:
    pings = pd.read_csv(demo_catalog["truck_pings"].path, dtype=str)
    plate_col = [c for c in pings.columns if c in ("车牌号", "plate")][0]
    plates = set(pings[plate_col].dropna())
    blob = demo_findings.drop(columns="geometry").to_csv()
    assert not any(p in blob for p in plates)
    assert set(demo_findings["check"]) == {"trucks"}
    assert demo_findings["finding_id"].is_unique


def test_run_check_is_stable(demo_findings, demo_catalog, demo_truck_layers) -> None:
    as_of = dt.date.fromisoformat(demo_findings.attrs["as_of"])
    again = run_check(demo_catalog, demo_truck_layers, as_of=as_of, salt=SALT)
    assert sorted(again["finding_id"]) == sorted(demo_findings["finding_id"])


def test_bad_weekend_hours_name_the_weekend_field() -> None:
    p = prepare_pings(pings_gdf(parked("IN1", "2022-08-01 07:20", 30, X0 + 50, Y0 + 50)))
    with pytest.raises(InputError) as err:
        no_parking_zone_findings(p, zones_gdf(weekend_hours=["8点"]))
    assert "weekend_hours" in str(err.value)


def test_crossing_a_restricted_road_is_not_driving_on_it() -> None:
    # drives north across the east-west restricted segment twice in hours (out and back):
    # one ping near the road on each pass, never two in a row
    up = [(X0 + 500, Y0 - 1000 + 250 * i) for i in range(9)]
    rows = drive("CROSS", "2022-08-01 08:00", up) + drive("CROSS", "2022-08-01 09:00", up[::-1])
    f = restricted_road_findings(prepare_pings(pings_gdf(rows)), seg_gdf())
    assert f.empty


# ------------------------------------------------------------------ real data

def test_road_matching_equals_sjoin_on_real_streets(realdata) -> None:
    """Real OSM streets (Helsinki): the fast overlays give exactly geopandas' answers."""
    import pyogrio

    lines = pyogrio.read_dataframe(realdata / "helsinki" / "Helsinki.osm.pbf", layer="lines",
                                   columns=["highway", "name"])
    lines = lines[lines["highway"].notna()].to_crs("EPSG:3067").reset_index(drop=True)
    geoms = np.asarray(lines.geometry.values)
    rng = np.random.default_rng(5)
    n = 40_000
    along = shapely.line_interpolate_point(geoms[rng.integers(0, len(geoms), n // 2)],
                                           rng.uniform(0, 1, n // 2), normalized=True)
    minx, miny, maxx, maxy = lines.total_bounds
    x = np.r_[shapely.get_x(along) + rng.normal(0, 12, n // 2), rng.uniform(minx, maxx, n // 2)]
    y = np.r_[shapely.get_y(along) + rng.normal(0, 12, n // 2), rng.uniform(miny, maxy, n // 2)]
    pi, li = points_near_lines(x, y, list(geoms), 15.0)
    pts = gpd.GeoDataFrame(geometry=gpd.points_from_xy(x, y), crs="EPSG:3067")
    ref = gpd.sjoin(pts, lines[["geometry"]], predicate="dwithin", distance=15.0)
    assert len(pi) > n // 4
    assert sorted(zip(pi.tolist(), li.tolist())) == sorted(
        zip(ref.index.tolist(), ref["index_right"].tolist()))
    # real polygons: the zone overlay against sjoin(intersects)
    zones = pyogrio.read_dataframe(realdata / "swellendam" / "protected_areas.shp").to_crs(
        "EPSG:32734")
    zminx, zminy, zmaxx, zmaxy = zones.total_bounds
    zx, zy = rng.uniform(zminx, zmaxx, n), rng.uniform(zminy, zmaxy, n)
    zp, zi = points_in_polygons(zx, zy, list(zones.geometry.values))
    zref = gpd.sjoin(gpd.GeoDataFrame(geometry=gpd.points_from_xy(zx, zy), crs="EPSG:32734"),
                     zones[["geometry"]], predicate="intersects")
    assert len(zp) > 0
    assert sorted(zip(zp.tolist(), zi.tolist())) == sorted(
        zip(zref.index.tolist(), zref["index_right"].tolist()))


def test_zone_hours_follow_the_holiday_calendar() -> None:
    # 3 June 2022 (Friday) is the Dragon Boat Festival holiday in trucks.yaml: weekend hours
    rows = (parked("HOL", "2022-06-03 07:20", 30, X0 + 50, Y0 + 50)
            + parked("WORK", "2022-06-02 07:20", 30, X0 + 50, Y0 + 50)
            + parked("SAT", "2022-10-08 07:20", 30, X0 + 50, Y0 + 50))  # 调休 Saturday
    f = no_parking_zone_findings(prepare_pings(pings_gdf(rows)), zones_gdf())
    assert sorted(f["feature_id"]) == sorted(hash_plates(["WORK", "SAT"], SALT))
