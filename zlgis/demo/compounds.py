"""Demo layers for issue 17: compounds, heating, water source and gas, with planted cases.

Adds to a generated city (without changing any existing feature or value):

* fields on ``residential_compounds`` (subdistrict, property management committee, service mode,
  fee disclosure, charging points, planned households) and on ``heat_stations`` (capacity,
  units, hazards, overhaul date);
* new layers ``compound_facilities``, ``heating_companies``, ``heating_works``,
  ``road_works_permits``, ``water_source_zones``, ``gas_pipelines`` and ``gas_facilities``;
* a few 12345 reports (dumping, livestock) appended after the existing cases.

Everything is drawn from its own random stream (seed, crc32("compounds")), so every other layer,
finding and finding id of the city stays as it was. Planted cases and near-misses go into
``truth.csv`` with checks ``compounds``, ``heating``, ``water`` and ``gas``.
"""

from __future__ import annotations

import zlib
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from shapely.geometry import LineString, Point, box

from ._common import Truth

__all__ = ["add_layers", "append_truth", "LIFE_CATEGORIES"]

#: Life-circle facility categories (GB 50180-2018 Appendix B), as in ``compounds.yaml``.
LIFE_CATEGORIES = {
    "min15": (1000.0, ["初中", "社区卫生服务中心", "养老院", "文化活动中心", "大型多功能运动场地",
                       "街道服务中心"]),
    "min10": (500.0, ["小学", "菜市场", "中型多功能运动场地"]),
    "min5": (300.0, ["社区服务站", "幼儿园", "文化活动站", "老年人日间照料中心", "室外综合健身场地"]),
    "block": (150.0, ["便利店", "快递送达设施", "儿童老年人活动场地"]),
}
_COMPANIES = ["扎兰屯市热电有限责任公司", "扎兰屯市城市供热有限公司", "扎兰屯市河西新区供热公司"]


def _rng(seed: int) -> np.random.Generator:
    return np.random.default_rng([int(seed), zlib.crc32(b"compounds")])


def add_layers(layers: dict[str, gpd.GeoDataFrame], *, seed: int, truth: Truth) -> None:
    """Add the issue-17 fields and layers to ``layers`` in place, recording truth rows."""
    rng = _rng(seed)
    _compounds(layers, rng, truth)
    _facilities(layers, rng, truth)
    _heating(layers, rng, truth)
    _water(layers, rng, truth)
    _gas(layers, rng, truth)


def append_truth(truth: Truth, extra: Truth) -> None:
    """Append ``extra``'s rows to ``truth`` (numbered after the existing ones)."""
    for r in extra.rows:
        truth.add(r["check"], r["rule"], r["layer"], r["feature_id"], related_id=r["related_id"],
                  expect=r["expect"], value=float(r["value"]) if r["value"] != "" else None,
                  x=float(r["x"]) if r["x"] != "" else None,
                  y=float(r["y"]) if r["y"] != "" else None, note=r["note"])


# ------------------------------------------------------------------------------------ compounds

def _compounds(L: dict[str, gpd.GeoDataFrame], rng: np.random.Generator, truth: Truth) -> None:
    c = L["residential_compounds"].copy()
    n = len(c)
    grids = L["grids"]
    pts = shapely.point_on_surface(np.asarray(c.geometry.values))
    i, j = shapely.STRtree(np.asarray(grids.geometry.values)).query(pts, predicate="within")
    sub = pd.Series(grids["subdistrict"].to_numpy()[j], index=i).groupby(level=0).first()
    c["subdistrict"] = pd.Series(sub).reindex(range(n)).fillna("").to_numpy()
    owners = c["owners_committee"].astype(bool).to_numpy()
    uc = c["under_construction"].astype(bool).to_numpy()
    c["management_committee"] = ~owners & (rng.random(n) < 0.85)
    mode = rng.choice(np.array(["物业企业", "街道托管", "无"], dtype=object), n, p=[0.9, 0.07, 0.03])
    c["service_mode"] = np.where(uc, "无", mode)
    c["fee_disclosed"] = (c["service_mode"] != "无").to_numpy() & (rng.random(n) < 0.92)
    hh = c["households"].to_numpy(int)
    c["charging_points"] = np.where(rng.random(n) < 0.08, 0,
                                    np.maximum(1, np.round(hh * rng.uniform(0.02, 0.15, n)))).astype(int)
    c["planned_households"] = np.where(uc, rng.integers(24, 60, n) * 10, hh)
    # one planted case and one near-miss per ledger rule, on completed compounds
    done = np.flatnonzero(~uc)
    pick = rng.choice(done, 8, replace=False)
    a, b, d, e, f, g, h, k = (int(x) for x in pick)
    c.loc[a, ["owners_committee", "management_committee"]] = [False, False]
    c.loc[b, ["owners_committee", "management_committee"]] = [False, True]
    c.loc[d, "service_mode"] = "无"
    c.loc[e, "service_mode"] = "街道托管"
    c.loc[f, ["service_mode", "fee_disclosed"]] = ["物业企业", False]
    c.loc[g, ["service_mode", "fee_disclosed"]] = ["无", False]   # reported as no service instead
    c.loc[h, "charging_points"] = 0
    c.loc[k, "charging_points"] = 1
    L["residential_compounds"] = c
    ids = c["compound_id"].to_numpy()
    for row, rule, expect, note in (
            (a, "compound_no_governance", "flag", "neither owners' assembly nor management committee"),
            (b, "compound_no_governance", "no_flag", "management committee only: governed"),
            (d, "compound_no_property_service", "flag", "service mode 无"),
            (e, "compound_no_property_service", "no_flag", "served by the subdistrict (街道托管)"),
            (f, "compound_fee_not_disclosed", "flag", "firm-served, fees not disclosed"),
            (g, "compound_fee_not_disclosed", "no_flag", "no service at all: no fees to disclose"),
            (h, "compound_no_charging", "flag", "no charging point"),
            (k, "compound_no_charging", "no_flag", "one charging point")):
        truth.add("compounds", rule, "residential_compounds", str(ids[row]), expect=expect,
                  note=note)


def _rect_in(geom: Any, w: float, h: float, where: str) -> Any:
    x0, y0, x1, y1 = geom.bounds
    if where == "sw":
        return box(x0 + 3, y0 + 3, x0 + 3 + w, y0 + 3 + h)
    if where == "ne":
        return box(x1 - 3 - w, y1 - 3 - h, x1 - 3, y1 - 3)
    if where == "se":
        return box(x1 - 3 - w, y0 + 3, x1 - 3, y0 + 3 + h)
    return box(x0 + 3, y1 - 3 - h, x0 + 3 + w, y1 - 3)


def _facilities(L: dict[str, gpd.GeoDataFrame], rng: np.random.Generator, truth: Truth) -> None:
    c = L["residential_compounds"]
    rows: list[dict[str, Any]] = []

    def add(geom: Any, cid: str, cat: str, area: float | None = None, status: str = "已建",
            name: str = "") -> str:
        fid = f"PT{len(rows) + 1:05d}"
        rows.append({"facility_id": fid, "compound_id": cid, "category": cat, "name": name or cat,
                     "floor_area_m2": area, "status": status, "geometry": geom})
        return fid

    uc = c["under_construction"].astype(bool).to_numpy()
    cids = c["compound_id"].astype(str).to_numpy()
    cgeom = np.asarray(c.geometry.values)
    done = np.flatnonzero(~uc)
    # premises in completed compounds
    for k in done[rng.random(len(done)) < 0.6]:
        add(_rect_in(cgeom[k], 10, 10, "sw"), cids[k], "物业管理用房", float(rng.integers(100, 300)))
    # fire lanes: a 4.5 m strip across the middle of 60 compounds; greens in 60
    lanes = rng.choice(done, 60, replace=False)
    lane_geo = {}
    for k in lanes:
        x0, y0, x1, y1 = cgeom[k].bounds
        ym = float(np.floor((y0 + y1) / 2))
        lane_geo[k] = (x0, ym, x1, ym + 4.5)
        add(box(x0, ym, x1, ym + 4.5), cids[k], "消防车道")
    greens = rng.choice(np.setdiff1d(done, lanes), 60, replace=False)
    green_geo = {}
    for k in greens:
        x0, y0, x1, y1 = cgeom[k].bounds
        gx, gy = float(np.floor(x1 - 30)), float(np.floor(y0 + 5))
        green_geo[k] = (gx, gy, gx + 20, gy + 15)
        add(box(gx, gy, gx + 20, gy + 15), cids[k], "小区绿地")
    # planted structures: 2 lanes blocked (clear 3.0 m and 2.5 m), 1 near-miss at exactly 4.0 m
    for n_, (k, depth) in enumerate(zip(lanes[:3], (1.5, 2.0, 0.5))):
        x0, ym, x1, ym2 = lane_geo[k]
        sx = float(np.floor(x0 + 20))
        sid = add(box(sx, ym2 - depth, sx + 3, ym2 - depth + 2.5), cids[k], "搭建物",
                  name="彩钢棚")
        truth.add("compounds", "compound_fire_lane_blocked", "residential_compounds", cids[k],
                  related_id=sid, expect="flag" if depth > 0.5 else "no_flag",
                  value=4.5 - depth, note=f"shed {depth} m into a 4.5 m fire lane")
    for k, (kind, dx) in zip(greens[:2], (("flag", 2.0), ("no_flag", -3.0))):
        gx, gy, gx1, gy1 = green_geo[k]
        # flag: 3 x 2 m overlapping the green by 2 x 2 m; near-miss: touching its west edge
        sid = add(box(gx - 3 + dx if dx > 0 else gx - 3, gy + 2, gx + dx if dx > 0 else gx, gy + 4),
                  cids[k], "搭建物", name="储物间")
        truth.add("compounds", "compound_green_encroached", "residential_compounds", cids[k],
                  related_id=sid, expect=kind,
                  note="shed on compound green" if kind == "flag" else "shed touching the green's edge")
    _life_circle_facilities(L, rng, truth, add)
    L["compound_facilities"] = gpd.GeoDataFrame(pd.DataFrame(rows).drop(columns="geometry"),
                                                geometry=[r["geometry"] for r in rows],
                                                crs=c.crs)


def _life_circle_facilities(L: dict[str, gpd.GeoDataFrame], rng: np.random.Generator,
                            truth: Truth, add: Any) -> None:
    """Life-circle facilities city-wide and the planned ones of the 13 compounds, with gaps."""
    c = L["residential_compounds"]
    b = L["buildings"]
    uc = c["under_construction"].astype(bool).to_numpy()
    cids = c["compound_id"].astype(str).to_numpy()
    cgeom = np.asarray(c.geometry.values)
    # life-circle facilities in public-service (and shop) buildings, away from planted gaps
    target = np.flatnonzero(uc)
    cats = [(lv, lim, cat) for lv, (lim, cl) in LIFE_CATEGORIES.items() for cat in cl]
    short: dict[int, list[tuple[str, float]]] = {}
    cpts = shapely.point_on_surface(cgeom)
    for k in target:
        # a gap only where no other compound under construction (with its own planned
        # facilities) lies within the walking distance: the gap is then certain
        others = [j for j in target if j != k]
        dmin = float(shapely.distance(cgeom[others], cpts[k]).min()) if others else np.inf
        allowed = [c for c in range(len(cats)) if cats[c][1] + 60 < dmin]
        pick = rng.choice(allowed, min(2, len(allowed)), replace=False) if allowed else []
        short[k] = [(cats[p][2], cats[p][1]) for p in pick]
    ps = b[b["use"].isin(["公共服务", "商业"]) & ~b["under_construction"].astype(bool)]
    pg = np.asarray(ps.geometry.values)
    pc = shapely.point_on_surface(pg)
    allcats = [cat for _, _, cat in cats]
    assigned = rng.choice(np.array(allcats, dtype=object), len(pg))
    keep = rng.random(len(pg)) < 0.35
    for k, gaps in short.items():
        for cat, lim in gaps:
            near = shapely.distance(pc, cpts[k]) <= lim + 60
            keep &= ~(near & (assigned == cat))
    for g, cat in zip(pg[keep], assigned[keep]):
        add(g, "", str(cat), round(float(g.area), 1))
    # the 13 compounds: every non-gap category planned inside the compound; gaps planted
    for k in target:
        gaps = {cat for cat, _ in short[k]}
        x0, y0, x1, y1 = cgeom[k].bounds
        for m, cat in enumerate(allcats):
            if cat in gaps:
                continue
            gx = x0 + 4 + (m % 6) * 8
            gy = y0 + 4 + (m // 6) * 8
            add(box(gx, gy, gx + 6, gy + 6), cids[k], cat, status="规划")
        for cat, lim in short[k]:
            truth.add("compounds", "lifecircle_shortfall", "residential_compounds", cids[k],
                      related_id=cat, value=lim,
                      note=f"no {cat} within {lim:.0f} m straight line (planted gap)")
    # premises of the 13: property management short in 4, exactly at the minimum in 2
    fl = pd.to_numeric(b["floors"]).to_numpy() * b.geometry.area.to_numpy()
    floor = pd.Series(fl).groupby(b["compound_id"].fillna("").astype(str).to_numpy()).sum()
    hh = c["planned_households"].to_numpy(float)
    for n_, k in enumerate(target):
        need_pm = round(max(100.0, 0.002 * float(floor.get(cids[k], 0.0))), 1)
        need_cs = round(30.0 * hh[k] / 100.0, 1)
        pm = need_pm * 0.6 if n_ < 4 else need_pm if n_ < 6 else need_pm + 40
        cs = need_cs * 0.5 if n_ in (6, 7, 8) else need_cs if n_ == 9 else need_cs + 30
        add(_rect_in(cgeom[k], 8, 8, "ne"), cids[k], "物业管理用房", round(pm, 1), status="在建")
        add(_rect_in(cgeom[k], 8, 8, "se"), cids[k], "便民服务用房", round(cs, 1), status="在建")
        truth.add("compounds", "property_premises_short", "residential_compounds", cids[k],
                  expect="flag" if n_ < 4 else "no_flag", value=need_pm,
                  note="property premises 60 % of the minimum" if n_ < 4 else
                  "property premises exactly at the minimum" if n_ < 6 else "enough premises")
        if n_ in (6, 7, 8, 9):
            truth.add("compounds", "convenience_premises_short", "residential_compounds", cids[k],
                      expect="flag" if n_ < 9 else "no_flag", value=need_cs,
                      note="convenience premises half the minimum" if n_ < 9 else
                      "convenience premises exactly at the minimum")


# -------------------------------------------------------------------------------------- heating

def _heating(L: dict[str, gpd.GeoDataFrame], rng: np.random.Generator, truth: Truth) -> None:
    from ..analysis.heating import heated_buildings, supply_areas
    from ..analysis.network import StreetGraph

    st = L["heat_stations"].copy()
    n = len(st)
    graph = StreetGraph.from_roads(L["roads"])
    sup = supply_areas(heated_buildings(L["buildings"]), st, graph=graph)
    load = st["station_id"].map(sup.groupby("station_id")["heated_m2"].sum()).fillna(0.0).to_numpy()
    cap = np.round(load * rng.uniform(1.1, 1.6, n) / 100) * 100 + 1000
    order = rng.permutation(n)
    over, tight = order[:4], order[4:6]
    cap[over] = np.floor(load[over] * 0.8)
    cap[tight] = np.ceil(load[tight] * 100) / 100 + 0.0  # margin >= 0 (< 0.01 m2)
    st["capacity_m2"] = cap
    units = np.ones(n, int)
    units[rng.choice(n, 40, replace=False)] = 2            # 136 stations, 176 units (plan 6.2.2)
    st["units"] = units
    ids = st["station_id"].to_numpy()
    for k in over:
        truth.add("heating", "heat_station_overload", "heat_stations", str(ids[k]),
                  value=float(load[k] - cap[k]), note="capacity 80 % of the supply area's load")
    for k in tight:
        truth.add("heating", "heat_station_overload", "heat_stations", str(ids[k]),
                  expect="no_flag", note="capacity just covers the load")
    hz_pool = ["板式换热器结垢", "循环泵异响", "阀门内漏", "集水器锈蚀", "配电柜接地不良", "补水箱渗漏"]
    hazards = np.full(n, None, dtype=object)
    hopen = np.zeros(n, int)
    hz_rows = order[6:20]
    for m, k in enumerate(hz_rows):
        items = list(rng.choice(hz_pool, int(rng.integers(1, 3)), replace=False))
        hazards[k] = "；".join(items)
        hopen[k] = len(items) if m < 10 else 0
        truth.add("heating", "heat_station_hazard", "heat_stations", str(ids[k]),
                  expect="flag" if m < 10 else "no_flag",
                  note="open hazards" if m < 10 else "hazards listed but all rectified")
    st["hazards"] = hazards
    st["hazards_open"] = hopen
    done = list(pd.Timestamp("2022-07-01") + pd.to_timedelta(rng.integers(0, 62, n), unit="D"))
    late = order[20:25]
    for k in late:
        done[k] = None
        truth.add("heating", "heat_station_overhaul_overdue", "heat_stations", str(ids[k]),
                  note="valves and manifolds not replaced by 2022-08-31")
    k = order[25]
    done[k] = pd.Timestamp("2022-08-31")
    truth.add("heating", "heat_station_overhaul_overdue", "heat_stations", str(ids[k]),
              expect="no_flag", note="overhaul finished on the due date")
    st["overhaul_done"] = [d.date() if d is not None else None for d in done]
    L["heat_stations"] = st
    # companies: heat sources at the district heating plant (yellow line) and two boiler houses
    yl = L["yellow_lines"]
    plant = yl[yl["category"] == "供热"].geometry
    p0 = plant.iloc[0].centroid if len(plant) else Point(st.geometry.x.mean(), st.geometry.y.mean())
    xs, ys = st.geometry.x.to_numpy(), st.geometry.y.to_numpy()
    p1 = Point(float(np.percentile(xs, 80)), float(np.percentile(ys, 85)))
    p2 = Point(float(np.percentile(xs, 10)), float(np.percentile(ys, 40)))
    total = float(load.sum())
    L["heating_companies"] = gpd.GeoDataFrame({
        "company_id": ["RL01", "RL02", "RL03"], "name": _COMPANIES,
        "source_name": ["集中供热热源厂", "城北锅炉房", "河西新区锅炉房"],
        "capacity_m2": np.round(np.array([0.45, 0.35, 0.35]) * total * 1.1, -3),
    }, geometry=[p0, p1, p2], crs=st.crs)
    _works(L, st, rng, truth)


def _works(L: dict[str, gpd.GeoDataFrame], st: gpd.GeoDataFrame, rng: np.random.Generator,
           truth: Truth) -> None:
    roads = L["roads"]
    branch = roads[(roads["road_class"] == "支路") & ~roads["bridge"].astype(bool)]
    sg = np.asarray(st.geometry.values)
    rg = np.asarray(branch.geometry.values)
    ri, si = shapely.STRtree(sg).query(rg, predicate="dwithin", distance=150)
    first = pd.Series(ri, index=si).groupby(level=0).first()
    picks = rng.choice(first.index.to_numpy(), 12, replace=False)
    works, permits = [], []
    d0 = pd.Timestamp("2022-08-01")
    for m, s in enumerate(picks):
        r = int(first[s])
        line = rg[r]
        start = d0 + pd.Timedelta(days=int(rng.integers(0, 20)))
        end = start + pd.Timedelta(days=int(rng.integers(10, 30)))
        wid = f"GR{m + 1:03d}"
        works.append({"work_id": wid, "station_id": st["station_id"].iloc[s],
                      "company": st["company"].iloc[s], "network_level": "二级管网" if m % 2 else "三级管网",
                      "start_date": start.date(), "end_date": end.date(),
                      "permit_no": "" if m in (0, 1) else f"WJ2022-{m + 1:03d}", "geometry": line})
        if m in (0, 1):
            truth.add("heating", "heating_works_unpermitted", "heating_works", wid,
                      note="renewal works on a road without any permit")
            continue
        p_end = end - pd.Timedelta(days=5) if m == 2 else end
        poly = line.buffer(3.0, cap_style="flat")
        if m == 4:   # the permit covers 96 % of the work's length
            poly = _substring(line, 0.96).buffer(3.0, cap_style="flat")
        permits.append({"permit_id": f"WJ2022-{m + 1:03d}", "road_id": branch["road_id"].iloc[r],
                        "purpose": "供热管网更新改造", "applicant": st["company"].iloc[s],
                        "start_date": start.date(), "end_date": p_end.date(), "geometry": poly})
        if m == 2:
            truth.add("heating", "heating_works_unpermitted", "heating_works", wid,
                      note="permit ends five days before the works do")
        elif m == 3:
            truth.add("heating", "heating_works_unpermitted", "heating_works", wid,
                      expect="no_flag", note="permit dates exactly those of the works")
        elif m == 4:
            truth.add("heating", "heating_works_unpermitted", "heating_works", wid,
                      expect="no_flag", note="permit covers 96 % of the length (>= 95 %)")
    L["heating_works"] = gpd.GeoDataFrame(pd.DataFrame(works).drop(columns="geometry"),
                                          geometry=[w["geometry"] for w in works], crs=st.crs)
    L["road_works_permits"] = gpd.GeoDataFrame(pd.DataFrame(permits).drop(columns="geometry"),
                                               geometry=[p["geometry"] for p in permits],
                                               crs=st.crs)


def _substring(line: LineString, share: float) -> LineString:
    pts = [line.interpolate(t, normalized=True) for t in np.linspace(0.0, share, 20)]
    return LineString(pts)


# ---------------------------------------------------------------------------------------- water

def _water(L: dict[str, gpd.GeoDataFrame], rng: np.random.Generator, truth: Truth) -> None:
    b = L["buildings"]
    blue = L["blue_lines"]
    river = blue.geometry.iloc[0]
    sites = L["construction_sites"]
    # the 河西新区 source: an intake on the river's west bank next to a site under construction
    dist_r = shapely.distance(np.asarray(sites.geometry.values), river)
    s = int(np.argmin(dist_r))
    sc = sites.geometry.iloc[s].centroid
    bank = shapely.get_coordinates(shapely.shortest_line(river, sc))[0]
    intake = Point(*bank)
    bg = np.asarray(b.geometry.values)
    d = shapely.distance(bg, intake)
    order = np.argsort(d, kind="stable")
    # level 1: exactly the buildings nearer than the midpoint of a gap of at least 4 m
    k = 2
    while d[order[k]] - d[order[k - 1]] < 4.0 or d[order[k - 1]] < 40:
        k += 1
    r1 = float((d[order[k - 1]] + d[order[k]]) / 2)
    z1 = intake.buffer(r1, 64)
    r2 = float(max(300.0, intake.distance(sites.geometry.iloc[s]) + 60))
    z2 = intake.buffer(r2, 64).difference(z1)
    z3 = intake.buffer(r2 + 800, 64).difference(intake.buffer(r2, 64))
    L["water_source_zones"] = gpd.GeoDataFrame({
        "zone_id": ["SY01-1", "SY01-2", "SY01-3"],
        "name": ["河西新区集中式饮用水水源地"] * 3, "level": ["一级", "二级", "准保护区"],
        "source_type": ["河流型"] * 3, "approval": ["（示例）内政字〔2020〕号"] * 3},
        geometry=[z1, z2, z3], crs=b.crs)
    ids = b["building_id"].to_numpy()
    use = b["use"].to_numpy()
    for j in order[:k]:
        if use[j] == "市政设施":
            continue
        truth.add("water", "water_zone1_building", "buildings", str(ids[j]), related_id="SY01-1",
                  note="building inside the level-1 zone")
    truth.add("water", "water_zone1_building", "buildings", str(ids[order[k]]), expect="no_flag",
              note=f"{d[order[k]] - r1:.1f} m outside the level-1 zone")
    in2 = order[(d[order] > r1) & (d[order] < r2 - 2)]
    in2 = in2[shapely.area(shapely.intersection(bg[in2], z1)) == 0]
    for j in in2:
        if use[j] in ("工业", "仓储"):
            truth.add("water", "water_zone2_polluting", "buildings", str(ids[j]), related_id="SY01-2",
                      note=f"{use[j]} building inside the level-2 zone")
    homes = [j for j in in2 if use[j] == "住宅"][:2]
    for j in homes:
        truth.add("water", "water_zone2_polluting", "buildings", str(ids[j]), expect="no_flag",
                  note="homes are allowed in the level-2 zone")
    truth.add("water", "water_zone_site", "construction_sites", str(sites["site_id"].iloc[s]),
              related_id="SY01-2", note="construction site inside the level-2 zone")
    # reports appended to the 12345 cases
    h = L["hotline_cases"]
    n0 = len(h)
    ang = rng.uniform(0, 2 * np.pi, 4)
    spots = [(r1 * 0.5, "倾倒垃圾", "{p}河边有人倾倒生活垃圾和建筑垃圾。", "water_zone_dumping", "flag"),
             ((r1 + r2) / 2, "畜禽养殖", "{p}附近有人散养牛羊，粪便直排河道。", "water_zone_livestock", "flag"),
             (r2 + 800 + 5, "倾倒垃圾", "{p}路边有人倾倒垃圾。", "water_zone_dumping", "no_flag"),
             ((r1 + r2) / 2, "供热", "{p}暖气不热。", "water_zone_dumping", "no_flag")]
    new = []
    for m, ((rad, cat, text, rule, expect), a) in enumerate(zip(spots, ang)):
        p = Point(intake.x + rad * np.cos(a), intake.y + rad * np.sin(a))
        cid = f"12345-2022-{n0 + m + 1:06d}"
        new.append({"case_id": cid, "received_at": pd.Timestamp("2022-08-20 09:00") + pd.Timedelta(hours=m),
                    "category": cat, "request_type": "举报", "text": text.format(p="水源地"),
                    "address": "河西新区水源地附近", "requester_name": "赵某", "requester_phone": "13900000000",
                    "status": "待办", "department": "住建局", "geometry": p})
        truth.add("water", rule, "hotline_cases", cid, expect=expect,
                  related_id="" if expect == "no_flag" else ("SY01-1" if m == 0 else "SY01-2"),
                  note={0: "dumping inside level 1", 1: "livestock inside level 2",
                        2: "dumping 5 m outside the outer zone", 3: "heating complaint in the zone"}[m])
    add = gpd.GeoDataFrame(pd.DataFrame(new).drop(columns="geometry"),
                           geometry=[r["geometry"] for r in new], crs=h.crs)
    L["hotline_cases"] = pd.concat([h, add], ignore_index=True)


# ------------------------------------------------------------------------------------------ gas

class _Pipes(list):
    """Gas pipelines drawn so far (one dict each)."""

    def __call__(self, geom: Any, pc: str, dia: float, status: str = "在役",
                 phase: str = "一期") -> str:
        pid = f"RQ{len(self) + 1:04d}"
        self.append({"pipe_id": pid, "pressure_class": pc, "diameter_mm": dia, "status": status,
                     "phase": phase, "material": "PE" if pc.startswith(("低", "中")) else "钢",
                     "geometry": geom})
        return pid


def _gas_clearance_plants(pipe: _Pipes, b: gpd.GeoDataFrame, rng: np.random.Generator,
                          truth: Truth) -> None:
    """Service lines beside buildings: at the clearance (near-miss) and 1 mm..0.5 m inside."""
    bg = np.asarray(b.geometry.values)
    tree = shapely.STRtree(bg)
    rect = np.flatnonzero((shapely.get_num_coordinates(bg) == 5) & (b["use"] == "住宅").to_numpy())
    cand = rng.permutation(rect)
    plants = [("低压", 100.0, 0.0, "no_flag"), ("低压", 100.0, 0.001, "flag"),
              ("中压B", 200.0, 0.0, "no_flag"), ("中压B", 200.0, 0.3, "flag"),
              ("中压A", 200.0, 0.5, "flag"), ("次高压B", 300.0, 0.0, "no_flag")]
    clearance = {"低压": 0.7, "中压B": 1.0, "中压A": 1.5, "次高压B": 4.5}
    used = 0
    for pc, dia, inside, expect in plants:
        while True:
            j = int(cand[used])
            used += 1
            x0, y0, x1, y1 = bg[j].bounds
            off = clearance[pc] + dia / 2000.0 - inside
            line = LineString([(x0 - 2, y0 - off), (x1 + 2, y0 - off)])
            near = tree.query(line, predicate="dwithin", distance=clearance[pc] + 1.0)
            if list(near) == [j]:
                break
        pid = pipe(line, pc, dia)
        truth.add("gas", "gas_clearance", "buildings", str(b["building_id"].iloc[j]),
                  related_id=pid, expect=expect, value=clearance[pc] - inside,
                  note=f"{pc} pipe {clearance[pc] - inside:.3f} m from the wall (clearance {clearance[pc]} m)")


def _gas_phase2_routes(pipe: _Pipes, L: dict[str, gpd.GeoDataFrame], main: gpd.GeoDataFrame,
                       truth: Truth) -> None:
    """Phase II medium-pressure routes: along an arterial, a shortcut across a block, and one
    inside the gas gate station's yellow line."""
    rl = L["red_lines"][L["red_lines"]["road_class"] == "主干路"]
    rname = rl["road_name"].iloc[0]
    axis = shapely.line_merge(shapely.union_all(np.asarray(
        main[main["name"] == rname].geometry.values)))
    if axis.geom_type != "LineString":
        axis = max(axis.geoms, key=lambda g: g.length)
    seg = _substring(axis, 0.3)
    p_ok = pipe(seg, "中压A", 300.0, status="在建", phase="二期")
    truth.add("gas", "gas_route_outside_reserve", "gas_pipelines", p_ok, expect="no_flag",
              note="phase-II route on the road's centre line")
    e = shapely.get_coordinates(seg)[-1]
    detour = LineString([tuple(e), (e[0] + 60, e[1] + 60), (e[0] + 120, e[1] + 60)])
    p_bad = pipe(detour, "中压A", 300.0, status="规划", phase="二期")
    truth.add("gas", "gas_route_outside_reserve", "gas_pipelines", p_bad,
              note="phase-II route cuts across a block outside the red lines")
    yl = L["yellow_lines"]
    gate = yl[yl["category"] == "燃气"].geometry
    if len(gate):
        gx0, gy0, gx1, gy1 = gate.iloc[0].bounds
        p_gate = pipe(LineString([(gx0 + 5, (gy0 + gy1) / 2), (gx1 - 5, (gy0 + gy1) / 2)]),
                      "中压A", 300.0, status="规划", phase="二期")
        truth.add("gas", "gas_route_outside_reserve", "gas_pipelines", p_gate, expect="no_flag",
                  note="phase-II route inside the gas gate station's yellow line")


def _gas_facilities(gp: gpd.GeoDataFrame, truth: Truth) -> gpd.GeoDataFrame:
    """Facilities along the mains (four without a sign) and a meter box (needs none)."""
    facs = []
    kinds = np.array(["调压箱", "阀门井", "标志桩", "凝水缸"], dtype=object)
    for m, (pid, g) in enumerate(zip(gp["pipe_id"], gp.geometry)):
        if m % 3:
            continue
        fid = f"RS{len(facs) + 1:04d}"
        facs.append({"facility_id": fid, "kind": str(kinds[m % 4]), "pipe_id": pid,
                     "has_sign": True, "geometry": g.interpolate(0.5, normalized=True)})
    for m in range(4):
        facs[m * 3]["has_sign"] = False
        truth.add("gas", "gas_facility_no_sign", "gas_facilities", facs[m * 3]["facility_id"],
                  note=f"{facs[m * 3]['kind']} without a sign")
    facs.append({"facility_id": f"RS{len(facs) + 1:04d}", "kind": "燃气表箱", "pipe_id": "",
                 "has_sign": False, "geometry": gp.geometry.iloc[0].interpolate(10)})
    truth.add("gas", "gas_facility_no_sign", "gas_facilities", facs[-1]["facility_id"],
              expect="no_flag", note="a meter box needs no pipeline sign")
    return gpd.GeoDataFrame(pd.DataFrame(facs).drop(columns="geometry"),
                            geometry=[f["geometry"] for f in facs], crs=gp.crs)


def _gas(L: dict[str, gpd.GeoDataFrame], rng: np.random.Generator, truth: Truth) -> None:
    b = L["buildings"]
    roads = L["roads"]
    pipe = _Pipes()
    # medium-pressure mains along the arterial roads' centre lines
    main = roads[roads["road_class"] == "主干路"]
    for g in main.geometry.values[rng.random(len(main)) < 0.5]:
        pipe(g, "中压A" if rng.random() < 0.3 else "中压B", 200.0)
    _gas_clearance_plants(pipe, b, rng, truth)
    _gas_phase2_routes(pipe, L, main, truth)
    gp = gpd.GeoDataFrame(pd.DataFrame(pipe).drop(columns="geometry"),
                          geometry=[p["geometry"] for p in pipe], crs=b.crs)
    L["gas_pipelines"] = gp
    L["gas_facilities"] = _gas_facilities(gp, truth)
