"""Trucks of the demo city: zones, restricted roads, muck routes, a week of GPS pings, patrols.

The week is Monday 29 August to Sunday 4 September 2022 (2022-W35, inside the campaign's remediation phase) (local time, Asia/Shanghai). Ordinary trucks
drive between logistics points and designated parking by day, avoiding restricted roads, and
stop only at their depots; muck trucks (渣土车) shuttle between construction sites and dump sites
on their approved routes. Planted on top: stops in no-parking zones inside and outside their
hours (one zone's window crosses midnight), a heavy truck on a restricted road in its hours, a
muck truck off its route, a muck-truck stop away from every site (possible illegal dumping), and
a zombie vehicle standing for two weeks on the south entrance corridor (南入口大街, from the south
entrance to the 交通局 crossing). Truth rows name the plate; checks compare its salted digest.
"""

from __future__ import annotations

from dataclasses import dataclass

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from pyproj import Transformer
from scipy.sparse import csr_matrix
from scipy.sparse.csgraph import dijkstra
from shapely.geometry import LineString, Point, box

from ._common import WEEK_START, Frame, Truth
from .places import Places, block_land
from .roads import Lattice

__all__ = ["TruckData", "make_trucks"]

_TO_WGS = Transformer.from_crs("EPSG:4550", "EPSG:4326", always_xy=True)
#: Half extents (m) of the central town where trucks drive, logistics points and parking lie.
CENTRAL_HALF = (4300.0, 5300.0)


@dataclass
class TruckData:
    zones: gpd.GeoDataFrame
    restricted: gpd.GeoDataFrame
    parking: gpd.GeoDataFrame
    logistics: gpd.GeoDataFrame
    muck_routes: gpd.GeoDataFrame
    dump_sites: gpd.GeoDataFrame
    pings: pd.DataFrame
    patrols: pd.DataFrame


class _Net:
    """The truck road graph (no footways) with shortest paths by scipy."""

    def __init__(self, lat: Lattice, roads: gpd.GeoDataFrame) -> None:
        f = lat.frame
        b = roads.geometry.bounds
        # trucks drive in the central town (the same window at every city size)
        central = ((b["minx"] > f.cx - CENTRAL_HALF[0]) & (b["maxx"] < f.cx + CENTRAL_HALF[0]) &
                   (b["miny"] > f.cy - CENTRAL_HALF[1]) & (b["maxy"] < f.cy + CENTRAL_HALF[1]))
        r = roads[(roads["road_class"] != "人行道") & central]
        self.lat = lat
        nx = len(lat.xs)
        nodes = np.unique(np.r_[r["node_u"], r["node_v"]])
        self.nodes = nodes
        self.index = {int(n): k for k, n in enumerate(nodes)}
        self.x = lat.xs[nodes % nx]
        self.y = lat.ys[nodes // nx]
        u = np.searchsorted(nodes, r["node_u"].to_numpy())
        v = np.searchsorted(nodes, r["node_v"].to_numpy())
        self.u, self.v = u, v
        self.length = r.geometry.length.to_numpy()
        self.road_id = r["road_id"].to_numpy()
        self.name = r["name"].to_numpy()

    def matrix(self, banned: np.ndarray | None = None) -> csr_matrix:
        keep = np.ones(len(self.u), dtype=bool) if banned is None else ~banned
        n = len(self.nodes)
        return csr_matrix((np.r_[self.length[keep], self.length[keep]],
                           (np.r_[self.u[keep], self.v[keep]], np.r_[self.v[keep], self.u[keep]])),
                          shape=(n, n))

    def nearest(self, x: float, y: float) -> int:
        return int(np.argmin((self.x - x) ** 2 + (self.y - y) ** 2))

    def path(self, m: csr_matrix, a: int, b: int) -> np.ndarray:
        _, pred = dijkstra(m, indices=a, return_predecessors=True)
        if a != b and pred[b] < 0:
            raise RuntimeError("no truck path")
        out = [b]
        while out[-1] != a:
            out.append(int(pred[out[-1]]))
        return np.array(out[::-1])

    def coords(self, path: np.ndarray) -> np.ndarray:
        return np.column_stack([self.x[path], self.y[path]])


def _t(day: int, hh: float) -> np.datetime64:
    return WEEK_START + np.timedelta64(int(round((day * 24 + hh) * 3600)), "s")


class _Log:
    def __init__(self, rng: np.random.Generator) -> None:
        self.rows: list[pd.DataFrame] = []
        self.rng = rng

    def drive(self, plate: str, vtype: str, xy: np.ndarray, t0: np.datetime64,
              interval_s: float = 60.0, kmh: float = 32.0) -> np.datetime64:
        seg = np.hypot(*np.diff(xy, axis=0).T)
        cum = np.r_[0.0, np.cumsum(seg)]
        total = float(cum[-1])
        v = kmh / 3.6
        n = max(2, int(total / (v * interval_s)) + 1)
        d = np.linspace(0.0, total, n)
        x = np.interp(d, cum, xy[:, 0])
        y = np.interp(d, cum, xy[:, 1])
        dt = d / v
        speed = np.clip(kmh + self.rng.normal(0, 4, n), 12, 60)
        t = t0 + (dt * 1000).astype("timedelta64[ms]")
        self.rows.append(pd.DataFrame({"plate": plate, "vehicle_type": vtype, "t": t, "x": x,
                                       "y": y, "speed": speed.round(1)}))
        return t[-1] + np.timedelta64(60, "s")

    def stop(self, plate: str, vtype: str, x: float, y: float, t0: np.datetime64,
             minutes: float, interval_min: float = 2.0) -> np.datetime64:
        n = max(2, int(minutes / interval_min) + 1)
        t = t0 + (np.linspace(0, minutes * 60, n)).astype("timedelta64[s]")
        self.rows.append(pd.DataFrame({
            "plate": plate, "vehicle_type": vtype, "t": t,
            "x": x + self.rng.normal(0, 3, n), "y": y + self.rng.normal(0, 3, n), "speed": 0.0}))
        return t[-1] + np.timedelta64(60, "s")


def _plates(rng: np.random.Generator, n: int) -> list[str]:
    letters = list("ABCDEFGHJKLMNPQRSTUVWXYZ")
    out: list[str] = []
    while len(out) < n:
        p = "蒙E" + letters[rng.integers(len(letters))] + f"{rng.integers(0, 10000):04d}"
        if p not in out:
            out.append(p)
    return out


def _zones(lat: Lattice, places: Places) -> gpd.GeoDataFrame:
    """The five no-parking zones (one with a window across midnight)."""
    f = lat.frame
    lm = places.landmark_blocks
    cx, cy = f.cx, f.cy
    xh = block_land(lat, *lm["兴华小学"]).buffer(60, join_style="mitre")
    ky = block_land(lat, *lm["河西新区新客运站"]).buffer(80, join_style="mitre")
    yfb = lat.ys[lat.foot_row]  # type: ignore[attr-defined]
    rx = float(f.river_x(yfb) + f.river_half_width(yfb))
    return gpd.GeoDataFrame([
        {"zone_id": "JT001", "name": "中央街商业区货车禁停区", "weekday_hours": "07:00-19:00",
         "weekend_hours": "08:00-20:00", "vehicle_classes": "货车",
         "geometry": box(cx - 80, cy - 380, cx + 260, cy + 240)},
        {"zone_id": "JT002", "name": "兴华小学周边货车禁停区",
         "weekday_hours": "07:00-08:30;11:00-13:30;16:00-18:00", "weekend_hours": "",
         "vehicle_classes": "货车", "geometry": xh},
        {"zone_id": "JT003", "name": "老城区步行街货车禁停区", "weekday_hours": "06:00-22:00",
         "weekend_hours": "06:00-22:00", "vehicle_classes": "大货车",
         "geometry": box(cx + 900, cy - 1200, cx + 1350, cy - 950)},
        {"zone_id": "JT004", "name": "河西新区客运站夜间货车禁停区", "weekday_hours": "22:00-06:00",
         "weekend_hours": "22:00-06:00", "vehicle_classes": "大货车", "geometry": ky},
        {"zone_id": "JT005", "name": "吊桥公园周边货车禁停区", "weekday_hours": "07:00-21:00",
         "weekend_hours": "07:00-21:00", "vehicle_classes": "货车",
         "geometry": box(rx + 10, yfb - 250, rx + 380, yfb + 250)},
    ], crs="EPSG:4550")


def _restricted_roads(lat: Lattice, net: _Net) -> tuple[gpd.GeoDataFrame, np.ndarray]:
    """Restricted roads (edges of whole streets) and the mask of the graph's edges on them."""
    f = lat.frame
    cx, cy = f.cx, f.cy
    c0 = lat.col_near(0.0)
    r0 = lat.row_near(0.0)
    nx = len(lat.xs)
    e_u, e_v = net.nodes[net.u], net.nodes[net.v]
    ei, ej = e_u % nx, e_u // nx
    fi, fj = e_v % nx, e_v // nx
    ys_e, xs_e = lat.ys[ej], lat.xs[ei]
    r1 = (ei == c0) & (fi == c0) & (np.abs(ys_e - cy) <= 1500) & (np.abs(lat.ys[fj] - cy) <= 1500)
    r2 = (ej == r0) & (fj == r0) & (xs_e > f.river_x(cy) + 100) & (lat.xs[fi] <= cx + 2000)
    r3 = (ej == r0) & (fj == r0) & (lat.xs[fi] < f.river_x(cy) - 100) & (xs_e >= cx - 3000)
    restricted_rows = []
    for k, (mask, name, hours, classes) in enumerate([
            (r1, "中央街（布特哈大街至北段）", "07:00-09:00;17:00-19:00", "重型货车;中型货车"),
            (r2, "布特哈大街", "07:00-20:00", "大货车"),
            (r3, "民族西街", "07:00-09:00;17:00-19:00", "重型货车")]):
        idx = np.flatnonzero(mask)
        lines = [LineString(net.coords(np.array([net.u[e], net.v[e]]))) for e in idx]
        merged = shapely.line_merge(shapely.union_all(lines))
        if merged.geom_type != "LineString":
            merged = max(merged.geoms, key=lambda g: g.length)
        restricted_rows.append({"segment_id": f"XX{k + 1:03d}", "name": name, "hours": hours,
                                "vehicle_classes": classes, "geometry": merged})
    return gpd.GeoDataFrame(restricted_rows, crs="EPSG:4550"), r1 | r2 | r3


def _near_node_xy(net: _Net, f: Frame, u: float, v: float) -> tuple[int, float, float]:
    n = net.nearest(*f.xy(u, v))
    return n, float(net.x[n]), float(net.y[n])


_PARKING_UV = [("城南货车停放场", (1500, -4300), 120), ("河西物流园停车场", (-3000, -3500), 80),
               ("城北货车停放场", (1500, 4500), 60), ("东郊货车停放点", (3500, -1000), 40),
               ("城区南部大货车停放点", (1500, -1800), 30), ("城区北部大货车停放点", (1800, 2000), 30),
               ("河西南部大货车停放点", (-2600, -1800), 40)]
_LOGISTICS_NAMES = ["顺丰速运扎兰屯分拨点", "中国邮政扎兰屯揽投部", "中通快递扎兰屯转运中心",
                    "圆通速递扎兰屯网点", "韵达快递扎兰屯网点", "京东物流扎兰屯营业部",
                    "德邦物流扎兰屯营业部", "兴安冷链物流中心", "雅鲁河商贸物流园",
                    "扎兰屯农资配送中心", "绿色食品配送站", "建材批发市场配送点"]


def _parking(net: _Net, f: Frame) -> tuple[gpd.GeoDataFrame, list[int]]:
    """Designated truck parking and the graph node of each."""
    parking_rows, parking_nodes = [], []
    for k, (name, (u, v), cap) in enumerate(_PARKING_UV):
        n, x, y = _near_node_xy(net, f, u, v)
        parking_nodes.append(n)
        parking_rows.append({"parking_id": f"TC{k + 1:03d}", "name": name, "capacity": cap,
                             "geometry": Point(x + 25, y + 25)})
    return gpd.GeoDataFrame(parking_rows, crs="EPSG:4550"), parking_nodes


def _logistics(net: _Net, f: Frame, zones: gpd.GeoDataFrame,
               rng: np.random.Generator) -> tuple[gpd.GeoDataFrame, list[int]]:
    """Logistics points on a ring around the centre (outside the zones) and their nodes."""
    log_rows, log_nodes = [], []
    zone_union = zones.union_all().buffer(150)
    ang = np.linspace(0, 2 * np.pi, len(_LOGISTICS_NAMES), endpoint=False) + 0.3
    for k, name in enumerate(_LOGISTICS_NAMES):
        rad = 0.55 + 0.25 * rng.random()
        u, v = rad * 4130 * np.cos(ang[k]) * 0.9, rad * 5160 * np.sin(ang[k]) * 0.9
        n, x, y = _near_node_xy(net, f, u, v)
        if zone_union.contains(Point(x, y)):
            n, x, y = _near_node_xy(net, f, u * 1.3, v * 1.3)
        log_nodes.append(n)
        log_rows.append({"point_id": f"WL{k + 1:03d}", "name": name,
                         "company": name.replace("扎兰屯", "").split("点")[0] + "（示例）",
                         "geometry": Point(x - 20, y + 20)})
    return gpd.GeoDataFrame(log_rows, crs="EPSG:4550"), log_nodes


def _dump_sites(places: Places) -> gpd.GeoDataFrame:
    dumps = []
    for k, geom in enumerate(places.dump_sites):
        dumps.append({"site_id": f"XN{k + 1:03d}", "name": ["城西建筑垃圾消纳场", "城东建筑垃圾消纳场"][k],
                      "geometry": geom})
    return gpd.GeoDataFrame(dumps, crs="EPSG:4550")


@dataclass
class _Week:
    """What the trips of the week drive on and between (shared by the trip and case steps)."""

    net: _Net
    log: _Log
    m_ok: csr_matrix
    banned: np.ndarray
    depots: list[int]
    depot_xy: list[tuple[float, float]]
    n_logistics: int
    truth: Truth

    def trip_to(self, plate: str, vt: str, x: float, y: float,
                t: np.datetime64) -> np.datetime64:
        """Drive from the first parking to (x, y) avoiding restricted roads."""
        a = self.depots[self.n_logistics]
        b = self.net.nearest(x, y)
        xy = np.r_[self.net.coords(self.net.path(self.m_ok, a, b)), [(x, y)]]
        return self.log.drive(plate, vt, xy, t)


def _ordinary_trips(wk: _Week, plates: list[str], vtypes: list[str], n_parking: int,
                    rng: np.random.Generator) -> None:
    """Ordinary trucks: depot to logistics points by day, back home at night."""
    net, log = wk.net, wk.log
    for k, vt in enumerate(vtypes):
        plate = plates[k]
        home = k % n_parking + wk.n_logistics
        for day in range(7):
            if rng.random() < 0.15:
                continue
            t = _t(day, 9.5 + rng.random())
            here = home
            for _trip in range(int(rng.integers(2, 4))):
                dest = int(rng.integers(0, wk.n_logistics))
                if dest == here:
                    continue
                path = net.path(wk.m_ok, wk.depots[here], wk.depots[dest])
                xy = np.r_[[wk.depot_xy[here]], net.coords(path), [wk.depot_xy[dest]]]
                t = log.drive(plate, vt, xy, t, kmh=float(rng.uniform(28, 40)))
                t = log.stop(plate, vt, *wk.depot_xy[dest], t, float(rng.uniform(20, 50)), 5.0)
                here = dest
            path = net.path(wk.m_ok, wk.depots[here], wk.depots[home])
            xy = np.r_[[wk.depot_xy[here]], net.coords(path), [wk.depot_xy[home]]]
            t = log.drive(plate, vt, xy, t, kmh=float(rng.uniform(28, 40)))
            log.stop(plate, vt, *wk.depot_xy[home], t, 10.0, 5.0)


def _muck_routes(wk: _Week, sites: gpd.GeoDataFrame,
                 dump_sites: gpd.GeoDataFrame) -> tuple[gpd.GeoDataFrame, list[tuple]]:
    """Approved muck routes from four approved sites to the dump sites (and their paths)."""
    net = wk.net
    approved = sites[sites["permit_status"] == "已批"].reset_index(drop=True)
    route_rows = []
    routes_xy = []
    for k in range(4):
        s = approved.iloc[k]
        sc = s.geometry.centroid
        dc = dump_sites.geometry.iloc[k % 2].centroid
        a, b = net.nearest(sc.x, sc.y), net.nearest(dc.x, dc.y)
        path = net.path(wk.m_ok, a, b)
        xy = net.coords(path)
        routes_xy.append((path, xy, (sc.x, sc.y), (dc.x, dc.y)))
        route_rows.append({"route_id": f"LX{k + 1:03d}", "site_id": s["site_id"],
                           "hours": "08:00-18:00", "plate_hash": "",
                           "geometry": LineString(xy)})
    return gpd.GeoDataFrame(route_rows, crs="EPSG:4550"), routes_xy


def _muck_trips(wk: _Week, muck_plates: list[str], routes_xy: list[tuple],
                rng: np.random.Generator) -> None:
    """Muck trucks shuttle twice a day on their approved routes, Monday to Saturday."""
    log = wk.log
    for k, plate in enumerate(muck_plates):
        path, xy, sxy, dxy = routes_xy[k]
        full = np.r_[[sxy], xy, [dxy]]
        for day in range(6):
            t = _t(day, 8.5 + rng.random())
            for _trip in range(2):
                t = log.stop(plate, "渣土车", *sxy, t, 20.0, 4.0)
                t = log.drive(plate, "渣土车", full, t, kmh=30.0)
                t = log.stop(plate, "渣土车", *dxy, t, 15.0, 4.0)
                t = log.drive(plate, "渣土车", full[::-1], t, kmh=35.0)


def _plant_zone_stops(wk: _Week, zones: gpd.GeoDataFrame, p_z1: str, p_mid: str,
                      p_out: str) -> None:
    """Stops in no-parking zones: in hours, across midnight, and a near-miss after hours."""
    log, truth = wk.log, wk.truth
    z1 = zones.geometry.iloc[0].centroid
    # P1: heavy truck parked 40 min in zone JT001 on Tuesday morning (07:00-19:00)
    wk.trip_to(p_z1, "重型货车", z1.x, z1.y, _t(1, 9.9))
    log.stop(p_z1, "重型货车", z1.x, z1.y, _t(1, 10.35), 40.0, 2.0)
    truth.add("trucks", "no_parking_zone", "truck_pings", p_z1, related_id="JT001", value=40.0,
              x=z1.x, y=z1.y, note="heavy truck stopped 40 min in zone JT001 on Tue 10:21 "
                                   "(weekday window 07:00-19:00); value = minutes")
    # P2: stop across midnight in the night zone JT004 (22:00-06:00), Wednesday 23:30-00:20
    z4 = zones.geometry.iloc[3]
    z4p = z4.exterior.interpolate(0.1, normalized=True)
    z4c = z4.centroid
    zx, zy = (z4p.x * 0.3 + z4c.x * 0.7), (z4p.y * 0.3 + z4c.y * 0.7)
    wk.trip_to(p_mid, "重型货车", zx, zy, _t(2, 22.9))
    log.stop(p_mid, "重型货车", zx, zy, _t(2, 23.5), 50.0, 2.0)
    truth.add("trucks", "no_parking_zone", "truck_pings", p_mid, related_id="JT004", value=50.0,
              x=zx, y=zy, note="heavy truck stopped Wed 23:30 to Thu 00:20 in zone JT004 whose "
                               "window 22:00-06:00 crosses midnight")
    # P3: near-miss, stop in JT001 on Thursday 19:30-20:30 (after its 07:00-19:00 window)
    wk.trip_to(p_out, "重型货车", z1.x + 40, z1.y - 30, _t(3, 19.2))
    log.stop(p_out, "重型货车", z1.x + 40, z1.y - 30, _t(3, 19.5), 60.0, 2.0)
    truth.add("trucks", "no_parking_zone", "truck_pings", p_out, related_id="JT001",
              expect="no_flag", x=z1.x + 40, y=z1.y - 30,
              note="near-miss: truck stopped in zone JT001 on Thu 19:30-20:30, outside 07:00-19:00")


def _plant_restricted_drive(wk: _Week, restricted: gpd.GeoDataFrame, p_road: str) -> None:
    """P4: a heavy truck drives 中央街 (restricted 07:00-09:00) on Monday 07:40."""
    net = wk.net
    line = restricted.geometry.iloc[0]
    a0 = net.nearest(*line.coords[0])
    b0 = net.nearest(*line.coords[-1])
    xy = net.coords(net.path(net.matrix(), a0, b0))
    wk.log.drive(p_road, "重型货车", xy, _t(0, 7.66), interval_s=30.0, kmh=30.0)
    mid = line.interpolate(0.5, normalized=True)
    wk.truth.add("trucks", "restricted_road", "truck_pings", p_road, related_id="XX001",
                 x=mid.x, y=mid.y, note="heavy truck drove 中央街 on Mon 07:40 "
                                        "(restricted 07:00-09:00 for 重型货车)")


def _plant_off_route(wk: _Week, routes_xy: list[tuple], muck_routes: gpd.GeoDataFrame,
                     p_off: str) -> None:
    """P5: a muck truck off its route (route LX001's edges banned), Tuesday 14:00."""
    net = wk.net
    path0 = routes_xy[0][0]
    on_route = np.isin(net.u, path0) & np.isin(net.v, path0)
    m_off = net.matrix(wk.banned | on_route)
    sxy, dxy = routes_xy[0][2], routes_xy[0][3]
    p = net.path(m_off, net.nearest(*sxy), net.nearest(*dxy))
    t = wk.log.stop(p_off, "渣土车", *sxy, _t(1, 13.6), 20.0, 4.0)
    wk.log.drive(p_off, "渣土车", np.r_[[sxy], net.coords(p), [dxy]], t, kmh=30.0)
    far = net.coords(p)
    dist = shapely.distance(shapely.points(far), muck_routes.union_all())
    kx = int(np.argmax(dist))
    wk.truth.add("trucks", "muck_off_route", "truck_pings", p_off, related_id="",
                 x=float(far[kx, 0]), y=float(far[kx, 1]),
                 note=f"muck truck left every approved route on Tue 14:00 (up to "
                      f"{dist.max():.0f} m away)")


def _plant_illegal_dump(wk: _Week, routes_xy: list[tuple], avoid: shapely.Geometry,
                        p_dump: str) -> None:
    """P6: a muck truck stops 25 min on its route, away from every site (illegal dump)."""
    log = wk.log
    path1, xy1, sxy1, dxy1 = routes_xy[1]
    order_k = np.argsort(np.abs(np.arange(len(xy1)) - len(xy1) / 2), kind="stable")
    ok_k = [int(k) for k in order_k if 0 < k < len(xy1) - 1
            and not avoid.intersects(Point(*xy1[k]))]
    if not ok_k:
        raise RuntimeError("no place for the illegal-dump stop")
    mid_k = ok_k[0]
    mx, my = float(xy1[mid_k, 0]), float(xy1[mid_k, 1])
    t = log.stop(p_dump, "渣土车", *sxy1, _t(2, 15.0), 20.0, 4.0)
    t = log.drive(p_dump, "渣土车", np.r_[[sxy1], xy1[:mid_k + 1]], t, kmh=30.0)
    t = log.stop(p_dump, "渣土车", mx, my, t, 25.0, 2.0)
    log.drive(p_dump, "渣土车", np.r_[xy1[mid_k:], [dxy1]], t, kmh=30.0)
    wk.truth.add("trucks", "muck_illegal_dump", "truck_pings", p_dump, x=mx, y=my,
                 note="muck truck stopped 25 min on Wed 15:20 away from dump sites, "
                      "construction sites and truck parking")


def _plant_zombie(wk: _Week, roads: gpd.GeoDataFrame, p_zombie: str,
                  rng: np.random.Generator) -> tuple[float, float]:
    """P7: a zombie vehicle on 南入口大街, pinging every 3 h all week; its position."""
    south = roads[roads["name"] == "南入口大街"]
    zg = south.geometry.iloc[len(south) // 2]
    zp = zg.interpolate(0.4, normalized=True)
    zx, zy = zp.x + 7.0, zp.y
    tz = _t(0, 0.5)
    n = 7 * 8
    wk.log.rows.append(pd.DataFrame({"plate": p_zombie, "vehicle_type": "中型货车",
                                     "t": tz + (np.arange(n) * 3 * 3600).astype("timedelta64[s]"),
                                     "x": zx + rng.normal(0, 2, n), "y": zy + rng.normal(0, 2, n),
                                     "speed": 0.0}))
    wk.truth.add("trucks", "zombie_vehicle", "truck_pings", p_zombie, x=zx, y=zy,
                 note="truck standing on 南入口大街 (south entrance to 交通局 crossing) since "
                      "2022-08-22: patrol sightings and GPS pings every 3 h all week")
    return zx, zy


def _patrols(zones: gpd.GeoDataFrame, parking: gpd.GeoDataFrame, plates: list[str],
             vtypes: list[str], zombie: tuple[str, float, float], p_patrol: str, truth: Truth,
             rng: np.random.Generator) -> pd.DataFrame:
    """Patrol observations: the zombie vehicle, a truck without GPS in a zone, lawful ones."""
    p_zombie, zx, zy = zombie
    inspectors = ["城管执法一中队", "城管执法二中队", "交警大队一中队", "交警大队二中队"]
    obs = []
    for d in ["2022-08-22 09:40", "2022-08-25 15:10", "2022-08-29 10:05", "2022-09-01 14:30",
              "2022-09-04 09:20"]:
        obs.append({"time": d, "plate": p_zombie, "vehicle_type": "中型货车", "x": zx + 3, "y": zy,
                    "inspector": inspectors[2], "note": "南入口大街路边长期停放，车身积灰"})
    # a truck without GPS seen parked in zone JT003 on Friday morning
    z3 = zones.geometry.iloc[2].centroid
    obs.append({"time": "2022-09-02 10:15", "plate": p_patrol, "vehicle_type": "重型货车",
                "x": z3.x, "y": z3.y, "inspector": inspectors[0], "note": "步行街路口停放大货车"})
    truth.add("trucks", "no_parking_zone", "patrol_observations", p_patrol, related_id="JT003",
              x=z3.x, y=z3.y, note="patrol saw a heavy truck parked in zone JT003 on Fri 10:15 "
                                   "(06:00-22:00)")
    # lawful sightings at parking and depots
    for k in range(20):
        pk = parking.geometry.iloc[k % len(parking)]
        day = (pd.Timestamp(str(WEEK_START)) + pd.Timedelta(days=k % 7)).strftime("%Y-%m-%d")
        obs.append({"time": f"{day} {8 + k % 9:02d}:{(k * 7) % 60:02d}",
                    "plate": plates[k % 24], "vehicle_type": vtypes[k % 24],
                    "x": pk.x + rng.normal(0, 5), "y": pk.y + rng.normal(0, 5),
                    "inspector": inspectors[k % 4], "note": "停放点内规范停放"})
    patrols = pd.DataFrame(obs)
    patrols["obs_id"] = [f"XC{k + 1:05d}" for k in range(len(patrols))]
    return patrols


def make_trucks(lat: Lattice, roads: gpd.GeoDataFrame, places: Places, sites: gpd.GeoDataFrame,
                rng: np.random.Generator, truth: Truth) -> TruckData:
    """Zones, restricted roads, parking, logistics, muck routes, a week of pings, patrols."""
    f: Frame = lat.frame
    net = _Net(lat, roads)
    zones = _zones(lat, places)
    restricted, banned = _restricted_roads(lat, net)
    parking, parking_nodes = _parking(net, f)
    logistics, log_nodes = _logistics(net, f, zones, rng)
    dump_sites = _dump_sites(places)

    log = _Log(rng)
    plates = _plates(rng, 40)
    depot_xy = [(float(g.x), float(g.y)) for g in logistics.geometry] + \
               [(float(g.x), float(g.y)) for g in parking.geometry]
    wk = _Week(net, log, net.matrix(banned), banned, log_nodes + parking_nodes, depot_xy,
               len(log_nodes), truth)
    vtypes = ["重型货车"] * 8 + ["中型货车"] * 8 + ["轻型货车"] * 8
    _ordinary_trips(wk, plates, vtypes, len(parking_nodes), rng)
    muck_routes, routes_xy = _muck_routes(wk, sites, dump_sites)
    _muck_trips(wk, plates[24:28], routes_xy, rng)

    p_z1, p_mid, p_out, p_road, p_off, p_dump, p_zombie, p_patrol = plates[30:38]
    _plant_zone_stops(wk, zones, p_z1, p_mid, p_out)
    _plant_restricted_drive(wk, restricted, p_road)
    _plant_off_route(wk, routes_xy, muck_routes, p_off)
    avoid = shapely.union_all([zones.union_all().buffer(100),
                               sites.union_all().buffer(100), dump_sites.union_all().buffer(100),
                               parking.union_all().buffer(100)])
    _plant_illegal_dump(wk, routes_xy, avoid, p_dump)
    zx, zy = _plant_zombie(wk, roads, p_zombie, rng)
    _parking_truth(net, logistics, log_nodes, parking, parking_nodes, zones, truth)

    pings = pd.concat(log.rows, ignore_index=True).sort_values(["t", "plate"], kind="stable")
    pings = pings.reset_index(drop=True)
    patrols = _patrols(zones, parking, plates, vtypes, (p_zombie, zx, zy), p_patrol, truth, rng)
    return TruckData(zones, restricted, parking, logistics, muck_routes, dump_sites, pings, patrols)


def _parking_truth(net: _Net, logistics: gpd.GeoDataFrame, log_nodes: list[int],
                   parking: gpd.GeoDataFrame, parking_nodes: list[int], zones: gpd.GeoDataFrame,
                   truth: Truth) -> None:
    """Truth rows for parking supply, measured here with clear margins around the thresholds.

    Logistics points: network distance to the nearest designated parking against 3,000 m
    (flag above 3,300 m, no_flag below 2,700 m); zones: straight-line distance from the zone's
    edge to the nearest parking against 2,000 m (flag above 2,300 m, no_flag below 1,700 m).
    Cases inside the margins are not listed.
    """
    d = dijkstra(net.matrix(), indices=np.unique(parking_nodes), min_only=True)
    lx = logistics.geometry.x.to_numpy()
    ly = logistics.geometry.y.to_numpy()
    off_l = np.hypot(lx - net.x[log_nodes], ly - net.y[log_nodes])
    dist = d[log_nodes] + off_l + 35.0
    for pid, dd, x, y in zip(logistics["point_id"], dist, lx, ly):
        if dd > 3300:
            truth.add("trucks", "parking_supply", "logistics_points", pid, value=float(dd), x=x,
                      y=y, note=f"logistics point about {dd:.0f} m by road from the nearest "
                                "designated truck parking (limit 3000 m)")
        elif dd < 2700:
            truth.add("trucks", "parking_supply", "logistics_points", pid, expect="no_flag",
                      value=float(dd), x=x, y=y,
                      note=f"designated truck parking about {dd:.0f} m by road (limit 3000 m)")
    pk = parking.union_all()
    for zid, geom in zip(zones["zone_id"], zones.geometry):
        dd = float(geom.distance(pk))
        c = geom.centroid
        if dd > 2300:
            truth.add("trucks", "parking_supply", "truck_no_parking_zones", zid, value=dd,
                      x=c.x, y=c.y, note=f"no designated truck parking within {dd:.0f} m of the "
                                         "zone (limit 2000 m)")
        elif dd < 1700:
            truth.add("trucks", "parking_supply", "truck_no_parking_zones", zid, expect="no_flag",
                      value=dd, x=c.x, y=c.y,
                      note=f"designated truck parking {dd:.0f} m from the zone (limit 2000 m)")


def to_lonlat(x: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """EPSG:4550 -> WGS84 lon/lat."""
    return _TO_WGS.transform(np.asarray(x), np.asarray(y))
