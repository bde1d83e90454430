"""Demo layers for municipal facilities and greening (issue 14), with planted cases.

Lamp fault records, the ancient-tree register, fallen-tree reports, maintenance zones, park
facilities and zones, road permits and works, and pavement and drain defects.

Uses its own random stream (seeded from the city seed and ``b"lamps"``) and only reads the
layers already made, so every other layer, truth row and finding of the city stays identical.
Planted cases and near-misses go to ``truth.csv`` with check ``lamps``.
"""

from __future__ import annotations

import zlib
from collections.abc import Callable
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
import shapely.ops

from ._common import Truth

__all__ = ["rng_lamps", "lamp_faults", "append_truth", "ancient_trees", "tree_incidents",
           "maintenance_zones", "park_facilities", "park_zones", "road_works_and_permits",
           "facility_defects"]

_FAULT_TYPES = np.array(["灯不亮", "灯杆倾斜", "灯具损坏", "线路故障", "白天亮灯"], dtype=object)
_REPAIRERS = np.array(["路灯所一班", "路灯所二班", "路灯所三班"], dtype=object)


def rng_lamps(seed: int, part: int = 0) -> np.random.Generator:
    """Random stream ``part`` of this module (independent of every other stream of the city)."""
    key = [int(seed), zlib.crc32(b"lamps")] + ([int(part)] if part else [])
    return np.random.default_rng(key)


def append_truth(truth: Truth, extra: Truth) -> None:
    """Append ``extra``'s rows to ``truth`` (numbered after the existing ones)."""
    for r in extra.rows:
        truth.add(r["check"], r["rule"], r["layer"], r["feature_id"], related_id=r["related_id"],
                  expect=r["expect"], value=float(r["value"]) if r["value"] else None,
                  x=float(r["x"]) if r["x"] else None, y=float(r["y"]) if r["y"] else None,
                  note=r["note"])


def _quiet_roads(lamps: gpd.GeoDataFrame, roads: gpd.GeoDataFrame, road_class: str,
                 min_lamps: int = 8) -> list[str]:
    """Roads of a class whose lamps are all lit, with at least ``min_lamps`` lamps."""
    bad = set(lamps.loc[lamps["status"] != "正常", "road_id"].astype(str))
    counts = lamps["road_id"].astype(str).value_counts()
    cls = roads.set_index("road_id")["road_class"]
    ok = [r for r, n in counts.items() if n >= min_lamps and r not in bad
          and cls.get(r) == road_class]
    # neighbours of a dark road would share its dark lamps' reach: keep well-lit ones only
    return sorted(ok)


def _station(lamps: gpd.GeoDataFrame, road: gpd.GeoSeries, road_id: str) -> list[list[str]]:
    """The road's lamps grouped in stations (pairs facing each other), ordered along it."""
    on = lamps[lamps["road_id"] == road_id]
    m = shapely.line_locate_point(road.geometry, on.geometry.values)
    key = np.round(m, 0)
    order = np.argsort(m, kind="stable")
    groups: dict[float, list[str]] = {}
    for k in order:
        groups.setdefault(float(key[k]), []).append(str(on["lamp_id"].iloc[k]))
    return [g for _, g in sorted(groups.items())]


def _background_faults(add: Callable[..., str], lamps: gpd.GeoDataFrame,
                       rng: np.random.Generator) -> None:
    """Every dark lamp's open fault, and repaired faults of lit lamps in August."""
    # every dark lamp of the lamp layer: an open fault since its report
    dark = lamps[lamps["reported_at"].notna()].sort_values(["reported_at", "lamp_id"])
    for lid, t in zip(dark["lamp_id"], dark["reported_at"]):
        add(str(lid), str(t), None, channel=str(rng.choice(["巡查", "12345热线"])))
    # history: repaired faults of lit lamps in August (mostly within 24 h)
    lit = lamps[lamps["status"] == "正常"]
    hist = lit.iloc[rng.choice(len(lit), 120, replace=False)]
    start = np.datetime64("2022-08-01T18:00")
    for lid in hist["lamp_id"]:
        t = start + np.timedelta64(int(rng.integers(0, 20 * 24 * 60)), "m")
        h = float(rng.choice([rng.uniform(2, 20), rng.uniform(26, 60)], p=[0.85, 0.15]))
        add(str(lid), str(t), str(t + np.timedelta64(int(h * 60), "m")))


def lamp_faults(lamps: gpd.GeoDataFrame, roads: gpd.GeoDataFrame, rng: np.random.Generator,
                truth: Truth) -> gpd.GeoDataFrame:
    """Fault records: every dark lamp's open fault, a history of repaired ones, planted cases.

    Planted (as of 2022-09-04, the demo weekly run's last day): repaired after exactly 24 h
    (near-miss) and after 24 h 1 min (flag); open for 64 h (flag) and for 18 h (near-miss); a
    record without lamp id next to its lamp (flag, tied by position); a late repair in an earlier
    week (near-miss); two stations of a main road dark on both sides (dark stretch, flag) and
    one station of another main road (near-miss: its neighbours still light the centreline).
    """
    rows: list[dict] = []
    pos = lamps.set_index("lamp_id").geometry

    def add(lamp_id: str | None, reported: str, repaired: str | None, *, xy=None,
            channel: str = "巡查") -> str:
        fid = f"GZ{len(rows) + 1:05d}"
        geom = pos[lamp_id] if lamp_id is not None else shapely.Point(xy)
        rows.append({"fault_id": fid, "lamp_id": lamp_id, "reported_at": pd.Timestamp(reported),
                     "repaired_at": pd.Timestamp(repaired) if repaired else pd.NaT,
                     "channel": channel, "case_id": None,
                     "fault_type": _FAULT_TYPES[rng.integers(len(_FAULT_TYPES))],
                     "repairer": _REPAIRERS[rng.integers(len(_REPAIRERS))], "geometry": geom})
        return fid

    _background_faults(add, lamps, rng)

    main = _quiet_roads(lamps, roads, "主干路")
    used: set[str] = set()

    def pick_lamp(road: str) -> str:
        stations = _station(lamps, roads.set_index("road_id").loc[road], road)
        for st in stations[1:-1]:
            for lid in st:
                if lid not in used:
                    used.add(lid)
                    return lid
        raise RuntimeError("no free lamp")

    # faults repaired at exactly 24 h and one minute later; open 64 h and 18 h
    cases = [
        ("2022-09-01 20:00", "2022-09-02 20:00", "no_flag", "repaired after exactly 24 h"),
        ("2022-09-01 20:00", "2022-09-02 20:01", "flag", "repaired after 24 h 1 min"),
        ("2022-09-02 08:00", None, "flag", "open 64 h at the end of 2022-09-04"),
        ("2022-09-04 06:00", None, "no_flag", "open 18 h at the end of 2022-09-04"),
        ("2022-08-15 21:00", "2022-08-18 09:00", "no_flag",
         "repaired late (60 h) in an earlier week: not this week's finding"),
    ]
    for k, (rep, fix, expect, note) in enumerate(cases):
        lid = pick_lamp(main[k])
        fid = add(lid, rep, fix)
        p = pos[lid]
        truth.add("lamps", "lamp_fault_overdue", "lamp_faults", fid, related_id=lid,
                  expect=expect, x=p.x, y=p.y, note=note)
    # a record phoned in without lamp id, 4 m from the lamp: tied by position
    lid = pick_lamp(main[5])
    p = pos[lid]
    fid = add(None, "2022-09-01 07:30", None, xy=(p.x + 4, p.y), channel="12345热线")
    truth.add("lamps", "lamp_fault_overdue", "lamp_faults", fid, related_id=lid, x=p.x + 4,
              y=p.y, note="record without lamp id, tied to the lamp 4 m away")
    # dark stretches: two neighbouring stations dark on both sides (flag), one station (near-miss)
    for road, n_st, expect in ((main[6], 2, "flag"), (main[7], 1, "no_flag")):
        stations = _station(lamps, roads.set_index("road_id").loc[road], road)
        mid = len(stations) // 2
        for st in stations[mid:mid + n_st]:
            for lid in st:
                used.add(lid)
                add(lid, "2022-09-03 19:00", None)
        c = pos[stations[mid][0]]
        truth.add("lamps", "lamp_dark_stretch", "roads", road, expect=expect, x=c.x, y=c.y,
                  note=f"{n_st} station(s) of lamps dark on both sides of a main road")
    # the plan's dark spots (3.2.1): the roads of the planned new lamps are dark stretches
    planned = lamps[lamps["status"] == "规划新增"]
    for road, part in planned.groupby("road_id", sort=True):
        c = part.geometry.iloc[0]
        truth.add("lamps", "lamp_dark_stretch", "roads", str(road), x=c.x, y=c.y,
                  note="the plan's named dark spot (3.2.1): its lamps are dark, new ones planned")
    out = gpd.GeoDataFrame(rows, geometry="geometry", crs=lamps.crs)
    return out


def _free_spot(buildings: gpd.GeoDataFrame, others: gpd.GeoDataFrame, rng: np.random.Generator,
               radius: float, offset: float, taken: list) -> tuple[str, float, float] | None:
    """A building with open ground east of it: (building id, x, y) of a point ``offset`` m off
    its east side, with no other building or protected tree within ``radius + 10`` m."""
    cand = buildings.iloc[rng.permutation(len(buildings))[:400]]
    for bid, g in zip(cand["building_id"], cand.geometry):
        minx, miny, maxx, maxy = g.bounds
        x, y = maxx + offset, (miny + maxy) / 2
        p = shapely.Point(x, y)
        near = buildings.sindex.query(p, predicate="dwithin", distance=radius + 10)
        if len(near) != 1 or g.distance(p) < offset - 0.01:
            continue
        if len(others) and len(others.sindex.query(p, predicate="dwithin", distance=radius * 3)):
            continue
        if any(np.hypot(x - tx, y - ty) < 200 for tx, ty in taken):
            continue
        taken.append((x, y))
        return str(bid), x, y
    return None


def ancient_trees(trees: gpd.GeoDataFrame, buildings: gpd.GeoDataFrame,
                  rng: np.random.Generator, truth: Truth) -> gpd.GeoDataFrame:
    """The register of graded trees (crown diameters measured), plus two planted trees.

    Planted: a 二级古树 whose protection zone (crown 12 m: radius 6 + 5 = 11 m) overlaps a
    building standing 9 m from its trunk (flag), and a 三级古树 whose zone ends 1 m short of a
    building (near-miss).
    """
    graded = trees[trees["grade"] != "行道树"]
    crown = np.round(rng.uniform(6, 18, len(graded)), 1)
    reg = gpd.GeoDataFrame({
        "tree_id": graded["tree_id"].to_numpy(), "species": graded["species"].to_numpy(),
        "grade": graded["grade"].to_numpy(), "age": graded["age"].to_numpy(),
        "crown_m": crown, "height_m": np.round(crown * rng.uniform(0.9, 1.4, len(graded)), 1),
        "keeper_unit": "扎兰屯市园林绿化服务中心"}, geometry=graded.geometry.values,
        crs=trees.crs)
    taken: list = []
    extra = []
    for k, (grade, offset, expect, note) in enumerate((
            ("二级古树", 9.0, "flag", "crown 12 m + 5 m margin: zone radius 11 m, building 9 m "
                                      "from the trunk (2 m inside)"),
            ("三级古树", 12.0, "no_flag", "crown 12 m + 5 m margin: zone radius 11 m, building "
                                          "12 m from the trunk (1 m outside)"))):
        spot = _free_spot(buildings, reg, rng, 11.0, offset, taken)
        if spot is None:
            continue
        bid, x, y = spot
        tid = f"GS{k + 1:03d}"
        extra.append({"tree_id": tid, "species": "蒙古栎", "grade": grade, "age": 160 + 90 * (k == 0),
                      "crown_m": 12.0, "height_m": 14.0, "keeper_unit": "所在街道办事处",
                      "geometry": shapely.Point(x, y)})
        truth.add("trees", "tree_zone_intrusion", "ancient_trees", tid,
                  related_id=f"buildings:{bid}", expect=expect, value=(11.0 - offset) if
                  expect == "flag" else None, x=x, y=y, note=note)
    if extra:
        reg = pd.concat([reg, gpd.GeoDataFrame(extra, geometry="geometry", crs=trees.crs)],
                        ignore_index=True)
    return gpd.GeoDataFrame(reg, geometry="geometry", crs=trees.crs)


def tree_incidents(trees: gpd.GeoDataFrame, rng: np.random.Generator, truth: Truth
                   ) -> gpd.GeoDataFrame:
    """Fallen-tree and broken-branch reports after the storm of 2022-09-02 (4 h limit).

    Planted (as of 2022-09-04): cleared after 3 h and after exactly 4 h (near-misses), after
    6 h (flag), open since 2022-09-03 10:00 (flag) and since 2022-09-04 21:00 (3 h: near-miss).
    """
    street = trees[trees["grade"] == "行道树"]
    pick = street.iloc[rng.choice(len(street), 5, replace=False)]
    cases = [("2022-09-02 18:00", "2022-09-02 21:00", "no_flag", "cleared after 3 h"),
             ("2022-09-02 18:00", "2022-09-02 22:00", "no_flag", "cleared after exactly 4 h"),
             ("2022-09-02 18:30", "2022-09-03 00:30", "flag", "cleared after 6 h"),
             ("2022-09-03 10:00", None, "flag", "open since 2022-09-03 10:00 (38 h)"),
             ("2022-09-04 21:00", None, "no_flag", "open 3 h at the end of 2022-09-04")]
    rows = []
    for k, ((rep, fix, expect, note), tid, p) in enumerate(zip(cases, pick["tree_id"],
                                                               pick.geometry)):
        iid = f"DS{k + 1:04d}"
        rows.append({"incident_id": iid, "tree_id": str(tid),
                     "kind": ["倒伏", "风折枝"][k % 2], "reported_at": pd.Timestamp(rep),
                     "cleared_at": pd.Timestamp(fix) if fix else pd.NaT,
                     "channel": ["巡查", "12345热线"][k % 2], "geometry": p})
        truth.add("trees", "fallen_tree_overdue", "tree_incidents", iid, expect=expect,
                  x=p.x, y=p.y, note=note)
    return gpd.GeoDataFrame(rows, geometry="geometry", crs=trees.crs)


_CONTRACTORS = np.array(["扎兰屯市园林绿化服务中心", "扎兰屯市绿洲园林工程有限公司",
                         "扎兰屯市雅鲁园林养护有限公司"], dtype=object)


def maintenance_zones(islands: gpd.GeoDataFrame, parks: gpd.GeoDataFrame, truth: Truth
                      ) -> gpd.GeoDataFrame:
    """Six north-south strips covering every island and park, with planted faults.

    Planted: an island cut out of its strip (unassigned, flag), a park claimed by two strips
    (flag), and an island 3 m from a strip boundary inside exactly one strip (near-miss).
    """
    items = pd.concat([islands.geometry, parks.geometry], ignore_index=True)
    minx, miny, maxx, maxy = shapely.total_bounds(items.values)
    minx, miny, maxx, maxy = minx - 50, miny - 50, maxx + 50, maxy + 50
    ipt = shapely.point_on_surface(islands.geometry.values)
    ix = shapely.get_x(ipt)
    cuts = list(np.linspace(minx, maxx, 7)[1:-1])
    # the near-miss island: move the nearest boundary 3 m east of its point
    near = int(np.argmin(np.abs(ix - cuts[2])))
    cuts[2] = float(ix[near]) + 3.0
    edges = [minx, *cuts, maxx]
    polys = [shapely.box(edges[k], miny, edges[k + 1], maxy) for k in range(6)]
    # the unassigned island: a hole around its point
    far = int(np.argmin(np.abs(ix - (edges[0] + edges[1]) / 2)))
    k_far = int(np.searchsorted(edges, ix[far]) - 1)
    polys[k_far] = shapely.difference(polys[k_far], shapely.buffer(ipt[far], 8.0))
    # the park claimed twice: the next strip reaches over it
    ppt = shapely.point_on_surface(parks.geometry.values)
    px = shapely.get_x(ppt)
    cand = np.flatnonzero((parks["category"] == "游园").to_numpy())
    pk = int(cand[np.argmin(np.abs(px[cand] - edges[4]))])
    k_p = int(np.searchsorted(edges, px[pk]) - 1)
    other = k_p + 1 if k_p < 5 else k_p - 1
    polys[other] = shapely.union(polys[other], shapely.buffer(ppt[pk], 15.0))
    g = gpd.GeoDataFrame({
        "zone_id": [f"YH{k + 1:02d}" for k in range(6)],
        "name": [f"第{k + 1}养护责任区" for k in range(6)],
        "contractor": _CONTRACTORS[np.arange(6) % 3],
        "department": "住建局"}, geometry=polys, crs=islands.crs)
    iid = islands["island_id"].astype(str).to_numpy()
    truth.add("greenspace", "green_unassigned", "green_islands", iid[far],
              x=float(ix[far]), y=float(shapely.get_y(ipt[far])),
              note="island cut out of its maintenance zone")
    truth.add("greenspace", "green_multi_assigned", "parks", str(parks["park_id"].iloc[pk]),
              x=float(px[pk]), y=float(shapely.get_y(ppt[pk])),
              note="park claimed by two maintenance zones")
    truth.add("greenspace", "green_multi_assigned", "green_islands", iid[near], expect="no_flag",
              x=float(ix[near]), y=float(shapely.get_y(ipt[near])),
              note="island 3 m from a zone boundary, inside exactly one zone")
    return g


def park_facilities(parks: gpd.GeoDataFrame, rng: np.random.Generator, truth: Truth
                    ) -> gpd.GeoDataFrame:
    """吊桥公园's seats (exactly the checklist's 30: near-miss) and fitness equipment; no
    barrier-free entrance (flag)."""
    park = parks[parks["name"] == "吊桥公园"]
    if not len(park):
        return gpd.GeoDataFrame({"facility_id": [], "park_id": [], "kind": [], "condition": []},
                                geometry=[], crs=parks.crs)
    pg, pid = park.geometry.iloc[0], str(park["park_id"].iloc[0])
    minx, miny, maxx, maxy = pg.bounds
    pts, kinds = [], []
    for kind, n in (("座椅", 30), ("健身器材", 4), ("垃圾桶", 12)):
        got = 0
        while got < n:
            p = shapely.Point(rng.uniform(minx, maxx), rng.uniform(miny, maxy))
            if pg.contains(p):
                pts.append(p)
                kinds.append(kind)
                got += 1
    c = pg.representative_point()
    truth.add("greenspace", "park_facility_missing", "parks", pid, related_id="barrier_free",
              x=c.x, y=c.y, note="吊桥公园 has no barrier-free entrance")
    truth.add("greenspace", "park_facility_missing", "parks", pid, related_id="seats",
              expect="no_flag", x=c.x, y=c.y, note="吊桥公园 has exactly the 30 seats required")
    return gpd.GeoDataFrame({
        "facility_id": [f"SS{k + 1:04d}" for k in range(len(pts))], "park_id": pid,
        "kind": kinds, "condition": rng.choice(np.array(["完好", "破损"], dtype=object),
                                               len(pts), p=[0.9, 0.1])},
        geometry=pts, crs=parks.crs)


def park_zones(parks: gpd.GeoDataFrame, blue: gpd.GeoDataFrame, truth: Truth
               ) -> gpd.GeoDataFrame:
    """The wetland park's planned 科普宣教区, drawn half into the wetland's blue line (flag)."""
    wet = parks[parks["category"] == "湿地公园"]
    if not len(wet) or not len(blue):
        return gpd.GeoDataFrame({"zone_id": [], "park_id": [], "kind": [], "status": []},
                                geometry=[], crs=parks.crs)
    pg = wet.geometry.iloc[0]
    bu = shapely.union_all(blue.geometry.values)
    land = shapely.difference(pg, bu)
    q = shapely.ops.nearest_points(bu.boundary, land.representative_point())[0]
    zone = shapely.box(q.x - 40, q.y - 40, q.x + 40, q.y + 40)
    truth.add("greenspace", "wetland_zone_blue_line", "park_zones", "KP01",
              related_id=str(wet["park_id"].iloc[0]), x=q.x, y=q.y,
              note="education zone drawn partly inside the wetland's blue line")
    return gpd.GeoDataFrame({"zone_id": ["KP01"], "park_id": [str(wet["park_id"].iloc[0])],
                             "kind": ["科普宣教区"], "status": ["规划"]},
                            geometry=[zone], crs=parks.crs)


def _road_piece(road: Any, a: float, b: float, half: float) -> Any:
    return shapely.buffer(shapely.ops.substring(road, a, b), half, cap_style="flat")


def road_works_and_permits(roads: gpd.GeoDataFrame, rng: np.random.Generator, truth: Truth, *,
                           busy: gpd.GeoDataFrame | None = None
                           ) -> tuple[gpd.GeoDataFrame, gpd.GeoDataFrame]:
    """Permits and works on branch roads, as of 2022-09-04.

    Planted: works inside a valid permit (near-miss), works with no permit (flag), works 10 m
    beyond their permit (flag) and 0.2 m beyond (near-miss), works seen after their permit
    ended (flag), a road not restored by its date (flag) and one whose date is still to come
    (near-miss). Roads within 50 m of ``busy`` (other works and permits) are not used.
    """
    branch = roads[(roads["road_class"] == "支路") & (roads.geometry.length > 100)]
    if busy is not None and len(busy):  # keep clear of other works and permits (heating)
        near = shapely.STRtree(busy.geometry.values).query(
            branch.geometry.values, predicate="dwithin", distance=50.0)[0]
        branch = branch.drop(branch.index[np.unique(near)])
    pick = branch.iloc[rng.choice(len(branch), 7, replace=False)]
    permits, works = [], []
    # (permit area, works area, permit dates, seen, status, rule, expect, note)
    cases = [
        ((10, 50), (15, 45), ("2022-08-25", "2022-09-10", "2022-09-15"), "2022-09-02", "施工中",
         "roadworks_no_permit", "no_flag", "works inside their valid permit"),
        (None, (20, 50), None, "2022-09-01", "施工中",
         "roadworks_no_permit", "flag", "works with no permit"),
        ((10, 50), (15, 60), ("2022-08-25", "2022-09-10", "2022-09-15"), "2022-09-02", "施工中",
         "roadworks_outside", "flag", "works 10 m beyond the permitted area (about 80 m2)"),
        ((10, 50), (15, 50.2), ("2022-08-25", "2022-09-10", "2022-09-15"), "2022-09-02",
         "施工中", "roadworks_outside", "no_flag", "works 0.2 m beyond the permit (1.6 m2)"),
        ((10, 50), (15, 45), ("2022-08-10", "2022-08-31", "2022-09-07"), "2022-09-03", "施工中",
         "roadworks_expired", "flag", "works seen three days after the permit ended"),
        ((10, 50), (10, 50), ("2022-08-10", "2022-08-25", "2022-09-01"), "2022-09-03", "已完工",
         "roadworks_not_restored", "flag", "finished, not restored, restore-by date passed"),
        ((10, 50), (10, 50), ("2022-08-20", "2022-09-02", "2022-09-10"), "2022-09-03", "已完工",
         "roadworks_not_restored", "no_flag", "finished, restore-by date still to come"),
    ]
    for k, ((pa, wa, dates, seen, status, rid, expect, note), (road_id, g)) in enumerate(
            zip(cases, zip(pick["road_id"], pick.geometry))):
        wid, pid = f"SG{k + 1:03d}", f"XK2022{k + 1:03d}"
        if pa is not None:
            permits.append({"permit_id": pid, "road_id": road_id, "kind": "挖掘",
                            "purpose": ["给水管线维修", "燃气管道改造", "通信管道敷设"][k % 3],
                            "applicant": "扎兰屯市某施工单位（示例）",
                            "start_date": pd.Timestamp(dates[0]).date(),
                            "end_date": pd.Timestamp(dates[1]).date(),
                            "restore_by": pd.Timestamp(dates[2]).date(),
                            "geometry": _road_piece(g, *pa, 4.0)})
        works.append({"work_id": wid, "permit_no": pid if pa is not None else None,
                      "observed_on": pd.Timestamp(seen).date(), "status": status, "note": None,
                      "geometry": _road_piece(g, *wa, 4.0)})
        c = shapely.ops.substring(g, *wa).centroid
        truth.add("roadworks", rid, "road_works", wid, related_id=pid if pa is not None else "",
                  expect=expect, x=c.x, y=c.y, note=note)
    return (gpd.GeoDataFrame(permits, geometry="geometry", crs=roads.crs),
            gpd.GeoDataFrame(works, geometry="geometry", crs=roads.crs))


_DEFECT_DAYS = {"步道板破损": 7, "坑槽": 3, "井篦缺失": 1, "排水堵塞": 3, "井盖缺失": 1}


def facility_defects(roads: gpd.GeoDataFrame, rng: np.random.Generator, truth: Truth
                     ) -> gpd.GeoDataFrame:
    """About 200 pavement and drain defects from August 2022 (mostly repaired in time).

    Planted (as of 2022-09-04): a missing gully grate open since 2022-09-02 (flag, 1-day limit)
    and a pothole open since 2022-09-03 (near-miss, 3-day limit); a pothole reported again 4 m
    from one repaired earlier (repeat, flag) and a slab defect 15 m from a repaired one
    (near-miss).
    """
    main = roads[roads["road_class"].isin(["主干路", "次干路", "支路"]) & ~roads["bridge"]]
    n = 200
    pick = main.iloc[rng.choice(len(main), n + 6, replace=False)]
    pts = shapely.line_interpolate_point(pick.geometry.values, rng.uniform(0.1, 0.9, n + 6),
                                         normalized=True)
    kinds = np.array(list(_DEFECT_DAYS), dtype=object)
    kind = rng.choice(kinds, n, p=[0.35, 0.3, 0.1, 0.2, 0.05])
    rep = np.datetime64("2022-08-01T08:00") + rng.integers(0, 30 * 24 * 60, n).astype(
        "timedelta64[m]")
    days = np.array([_DEFECT_DAYS[k] for k in kind], dtype=float)
    took = days * rng.uniform(0.1, 0.95, n) * 24 * 60
    fix = rep + took.astype("timedelta64[m]")
    rows = [{"defect_id": f"BH{k + 1:04d}", "kind": kind[k], "channel": "巡查",
             "reported_at": pd.Timestamp(rep[k]), "repaired_at": pd.Timestamp(fix[k]),
             "area_m2": round(float(rng.uniform(0.5, 12)), 1), "case_id": None,
             "geometry": pts[k]} for k in range(n)]
    extra = pts[n:]

    def add(kind_: str, reported: str, repaired: str | None, p: Any) -> str:
        did = f"BH{len(rows) + 1:04d}"
        rows.append({"defect_id": did, "kind": kind_, "channel": "12345热线",
                     "reported_at": pd.Timestamp(reported),
                     "repaired_at": pd.Timestamp(repaired) if repaired else pd.NaT,
                     "area_m2": 1.0, "case_id": None, "geometry": p})
        return did

    for kind_, rep_, expect, note, p in (
            ("井篦缺失", "2022-09-02 09:00", "flag", "missing grate open 2.6 days (limit 1)",
             extra[0]),
            ("坑槽", "2022-09-03 08:00", "no_flag", "pothole open 1.7 days (limit 3)", extra[1])):
        did = add(kind_, rep_, None, p)
        truth.add("defects", "defect_overdue", "facility_defects", did, expect=expect,
                  x=p.x, y=p.y, note=note)
    for kind_, off, expect, note, p in (
            ("坑槽", 4.0, "flag", "pothole again 4 m from one repaired on 2022-08-10", extra[2]),
            ("步道板破损", 15.0, "no_flag", "slab defect 15 m from a repaired one", extra[3])):
        first = add(kind_, "2022-08-08 10:00", "2022-08-10 16:00", p)
        q = shapely.Point(p.x + off, p.y)
        again = add(kind_, "2022-08-28 10:00", "2022-08-29 10:00", q)
        truth.add("defects", "defect_repeat", "facility_defects", again, related_id=first,
                  expect=expect, x=q.x, y=q.y, note=note)
    return gpd.GeoDataFrame(rows, geometry="geometry", crs=roads.crs)
