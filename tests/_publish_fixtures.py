"""Small hand-made layers around central Zhalantun for the publishing tests.

Every text field of every layer can be filled with one payload (the XSS corpus) so that the
tests can check that no data value reaches the page as HTML.
"""

from __future__ import annotations

from collections.abc import Sequence

import geopandas as gpd
import numpy as np
from shapely.geometry import LineString, Point, box

from zlgis.catalog import Catalog
from zlgis.findings import concat_findings, make_findings

X0, Y0 = 480600.0, 5319570.0   # central Zhalantun in EPSG:4550
CRS = "EPSG:4550"

#: Values of personal (non-public) fields: must never reach the public map.
SECRETS = {
    "owner_name": "张秘密", "owner_phone": "13912345678", "keeper_name": "李保洁",
    "keeper_phone": "13700001111", "requester_name": "王诉求", "requester_phone": "13655556666",
    "road_chief": "赵路长", "road_chief_phone": "13544443333", "grid_worker": "钱网格",
    "text": "楼下噪音扰民诉求内容", "address": "秘密小区3号楼", "plate": "蒙E12345",
    "builder": "某建设单位", "company": "某物流公司",
}

XSS_CORPUS = (
    '<script>window.__xss=1</script>',
    '<img src=x onerror="window.__xss=1">',
    "\"><svg onload=window.__xss=1>",
    "javascript:window.__xss=1",
    "' onmouseover='window.__xss=1' x='",
    '</script><script>window.__xss=1</script>',
    '<a href="javascript:window.__xss=1">点我</a>',
    '{{7*7}}<iframe src="javascript:window.__xss=1"></iframe>',
)


def fill_text_fields(gdf: gpd.GeoDataFrame, spec, payload: str | Sequence[str] | None,
                     offset: int = 0) -> gpd.GeoDataFrame:
    """Put ``payload`` (or the payloads in turn, row by row) into every text field of ``gdf``."""
    if payload is None:
        return gdf
    corpus = [payload] if isinstance(payload, str) else list(payload)
    for j, (name, f) in enumerate(spec.fields.items()):
        if f.type == "str" and name in gdf.columns:
            gdf[name] = [corpus[(i + j + offset) % len(corpus)] for i in range(len(gdf))]
    return gdf


def small_layers(catalog: Catalog, payload: str | Sequence[str] | None = None
                 ) -> dict[str, gpd.GeoDataFrame]:
    """A small city; with ``payload``, every text field holds it (or the payloads in turn)."""
    x, y = X0, Y0
    L: dict[str, gpd.GeoDataFrame] = {}
    L["red_lines"] = gpd.GeoDataFrame(
        {"line_id": ["HX1", "HX2"], "road_id": ["D1", "D2"], "road_name": ["布特哈大街", "中央路"],
         "road_class": ["主干路", "次干路"], "width": [40.0, 24.0]},
        geometry=[box(x - 1500, y - 20, x + 1500, y + 20), box(x - 12, y - 1500, x + 12, y + 1500)],
        crs=CRS)
    for lid, name, cat in (("green_lines", "雅鲁河滨河绿地", "公园绿地"),
                           ("blue_lines", "雅鲁河", "河流"), ("purple_lines", "老火车站", "历史建筑"),
                           ("yellow_lines", "第一水厂", "供水")):
        off = {"green_lines": 300, "blue_lines": 600, "purple_lines": -400,
               "yellow_lines": -800}[lid]
        L[lid] = gpd.GeoDataFrame({"line_id": [lid[:2].upper() + "1"], "name": [name],
                                   "category": [cat]},
                                  geometry=[box(x + off, y + 200, x + off + 150, y + 400)], crs=CRS)
    L["roads"] = gpd.GeoDataFrame(
        {"road_id": ["D1", "D2"], "name": ["布特哈大街", "中央路"], "road_class": ["主干路", "次干路"],
         "width": [40.0, 24.0], "bridge": [False, True], "district": ["河西", "河东"]},
        geometry=[LineString([(x - 1500, y), (x + 1500, y)]),
                  LineString([(x, y - 1500), (x, y + 1500)])], crs=CRS)
    L["buildings"] = gpd.GeoDataFrame(
        {"building_id": [f"B{i}" for i in range(3)], "name": ["住宅楼", "商场", "办公楼"],
         "use": ["住宅", "商业", "办公"], "floors": [6, 3, 12], "height": [18.0, 12.0, 40.0],
         "permit_status": ["已批", "未批", "已批"], "owner_name": [SECRETS["owner_name"]] * 3,
         "owner_phone": [SECRETS["owner_phone"]] * 3},
        geometry=[box(x + 30 + 40 * i, y + 30, x + 60 + 40 * i, y + 60) for i in range(3)], crs=CRS)
    L["parks"] = gpd.GeoDataFrame(
        {"park_id": ["P1", "P2"], "name": ["吊桥公园", "河西口袋公园"],
         "category": ["综合公园", "口袋公园"], "area_m2": [90000.0, 2500.0],
         "district": ["河东", "河西"]},
        geometry=[box(x + 200, y - 600, x + 500, y - 300), box(x - 300, y - 300, x - 250, y - 250)],
        crs=CRS)
    L["green_islands"] = gpd.GeoDataFrame(
        {"island_id": ["G1"], "road_id": ["D1"], "area_m2": [300.0]},
        geometry=[box(x - 900, y - 3, x - 800, y + 3)], crs=CRS)
    L["toilets"] = gpd.GeoDataFrame(
        {"toilet_id": ["T1", "T2", "T3"], "name": ["吊桥公园公厕", "中央路公厕", "火车站公厕"],
         "category": ["独立式", "附属式", "独立式"], "open_hours": ["06:00-22:00"] * 3,
         "accessible": [True, False, True], "keeper_name": [SECRETS["keeper_name"]] * 3,
         "keeper_phone": [SECRETS["keeper_phone"]] * 3},
        geometry=[Point(x + 350, y - 450), Point(x + 30, y + 700), Point(x - 700, y - 100)], crs=CRS)
    L["transfer_stations"] = gpd.GeoDataFrame(
        {"station_id": ["Z1"], "name": ["河西转运站"], "capacity_tpd": [60.0], "status": ["运行"],
         "collection_mode": ["人力"]}, geometry=[Point(x - 1000, y + 500)], crs=CRS)
    L["waterlogging_points"] = gpd.GeoDataFrame(
        {"point_id": ["W1", "W2"], "name": ["铁路桥下积水点", "中央路低洼处"],
         "max_depth_cm": [45.0, 12.0], "duration_min": [90.0, 30.0],
         "status": ["未整改", "整改中"]},
        geometry=[Point(x + 800, y + 10), Point(x + 5, y - 800)], crs=CRS)
    L["truck_no_parking_zones"] = gpd.GeoDataFrame(
        {"zone_id": ["J1"], "name": ["中心城区禁停区"], "weekday_hours": ["07:00-09:00;17:00-19:00"],
         "weekend_hours": ["22:00-06:00"], "vehicle_classes": ["重型货车"]},
        geometry=[box(x - 400, y - 400, x + 400, y + 400)], crs=CRS)
    L["truck_restricted_roads"] = gpd.GeoDataFrame(
        {"segment_id": ["S1"], "name": ["布特哈大街限行段"], "hours": ["07:00-20:00"],
         "vehicle_classes": ["货车"]},
        geometry=[LineString([(x - 1000, y), (x + 1000, y)])], crs=CRS)
    L["truck_parking"] = gpd.GeoDataFrame(
        {"parking_id": ["K1"], "name": ["城北货车停车场"], "capacity": [40]},
        geometry=[Point(x + 1200, y + 1200)], crs=CRS)
    L["grids"] = gpd.GeoDataFrame(
        {"grid_id": ["150783001001001", "150783001001002"], "grid_name": ["一号网格", "二号网格"],
         "subdistrict": ["兴华街道", "兴华街道"], "community": ["河西社区", "河东社区"],
         "district": ["河西", "河东"], "road_chief": [SECRETS["road_chief"]] * 2,
         "road_chief_phone": [SECRETS["road_chief_phone"]] * 2,
         "grid_worker": [SECRETS["grid_worker"]] * 2},
        geometry=[box(x - 1500, y - 1500, x, y + 1500), box(x, y - 1500, x + 1500, y + 1500)],
        crs=CRS)
    rng = np.random.default_rng(1)
    n = 12
    L["hotline_cases"] = gpd.GeoDataFrame(
        {"case_id": [f"H{i}" for i in range(n)], "category": ["噪音"] * n,
         "request_type": ["投诉"] * n, "text": [SECRETS["text"]] * n,
         "address": [SECRETS["address"]] * n, "requester_name": [SECRETS["requester_name"]] * n,
         "requester_phone": [SECRETS["requester_phone"]] * n, "status": ["待办"] * n},
        geometry=[Point(x - 700 + rng.uniform(-50, 50), y + rng.uniform(-50, 50))
                  for _ in range(10)] + [Point(x + 700, y + 300), Point(x + 720, y + 310)],
        crs=CRS)
    for k, (lid, gdf) in enumerate(L.items()):
        fill_text_fields(gdf, catalog[lid], payload, offset=k)
    return L


def small_findings(payload: str | None = None) -> gpd.GeoDataFrame:
    x, y = X0, Y0
    a = make_findings(
        check="controllines", rule="red_line_encroachment", rule_source="GB 50352-2019 §2.0.6",
        title=payload or "建筑压占道路红线", task_id="1.3.3",
        feature_ids=[["B1", "HX1"], ["B2", "HX1"]],
        layer="buildings", geometry=[box(x + 70, y + 15, x + 90, y + 20), Point(x + 120, y + 18)],
        measures=[{"area_m2": 100.0}, {"area_m2": 4.0}], measure_key="area_m2",
        measure_unit="m2", severity=["high", "low"], public=[False, False])
    b = make_findings(
        check="waterlogging", rule="road_ponding", rule_source="GB 51222-2017 §3.2",
        title=payload or "道路积水超过15厘米", task_id="1.3.3", feature_ids=[["W1"]],
        layer="waterlogging_points", geometry=[Point(x + 800, y + 10)],
        measures=[{"depth_cm": 45.0}], measure_key="depth_cm", measure_unit="cm",
        severity="medium", public=True)
    f = concat_findings([a, b])
    f["road_chief"] = SECRETS["road_chief"]
    return f


def far_pair(points: gpd.GeoDataFrame) -> tuple[gpd.GeoDataFrame, float]:
    """Two points of the northern half of ``points``, as far apart east-west as possible, and
    their distance on the WGS84 ellipsoid in metres (independent of any projection)."""
    import pyproj

    y = points.geometry.y
    north = points[y > y.median()]
    pair = north.iloc[[int(north.geometry.x.argmin()), int(north.geometry.x.argmax())]]
    ll = pair.to_crs("EPSG:4326").geometry
    _, _, d = pyproj.Geod(ellps="WGS84").inv(ll.x.iloc[0], ll.y.iloc[0], ll.x.iloc[1],
                                             ll.y.iloc[1])
    return pair, float(d)
