"""City appearance and sanitation in the demo city (plan section 4).

Layers: a week of sweeper and sprinkler GPS tracks (2022-W35, 扫路车 sweep main roads at night
and early morning, 洒水车 water by day), litter bins along streets, bus stops, street structures
(stalls, kiosks, steps, ramps, outdoor stairs), designated market zones, street furniture,
six-100 % site inspections and city-management reports (市容巡查上报). Planted cases and
near-misses go to ``truth.csv`` with ``check`` = ``sanitation``. Everything is drawn from its own
random stream (``[seed, crc32(b"sanitation")]``), so every other layer of the city stays as it was.
"""

from __future__ import annotations

import zlib
from dataclasses import dataclass
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
import shapely.ops
from shapely.geometry import LineString, Point, box

from ._common import WEEK_START, Truth

__all__ = [
    "SanitationData",
    "make_sanitation",
    "rng_sanitation",
    "simulate_drive",
]

CHECK = "sanitation"


def rng_sanitation(seed: int) -> np.random.Generator:
    """The sanitation layers' own random stream of the city ``seed``."""
    return np.random.default_rng([int(seed), zlib.crc32(b"sanitation")])


def simulate_drive(path: np.ndarray, *, t0: int, speed_ms: float, interval_s: float,
                   noise_m: float, rng: np.random.Generator
                   ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """GPS fixes of a vehicle driving along the polyline ``path`` (may turn back on itself).

    Returns noisy ``x``, ``y``, epoch seconds ``t`` and the true distance driven at each fix.

    >>> x, y, t, s = simulate_drive(np.array([[0, 0], [100, 0], [40, 0]]), t0=0, speed_ms=2,
    ...                             interval_s=10, noise_m=0, rng=np.random.default_rng(1))
    >>> x.tolist(), t.tolist()
    ([0.0, 20.0, 40.0, 60.0, 80.0, 100.0, 80.0, 60.0, 40.0], [0, 10, 20, 30, 40, 50, 60, 70, 80])
    """
    line = LineString(path)
    step = speed_ms * interval_s
    s = np.arange(0.0, line.length + 1e-9, step)
    pts = shapely.line_interpolate_point(line, s)
    xy = shapely.get_coordinates(pts)
    n = len(s)
    x = xy[:, 0] + rng.normal(0, noise_m, n) if noise_m else xy[:, 0].copy()
    y = xy[:, 1] + rng.normal(0, noise_m, n) if noise_m else xy[:, 1].copy()
    t = t0 + np.round(np.arange(n) * interval_s).astype(np.int64)
    return x, y, t, s


@dataclass
class SanitationData:
    """The sanitation layers of the demo city (canonical columns, EPSG:4550)."""

    tracks: pd.DataFrame            # fix table with x, y (EPSG:4550) and canonical fields
    litter_bins: gpd.GeoDataFrame
    bus_stops: gpd.GeoDataFrame
    street_structures: gpd.GeoDataFrame
    market_zones: gpd.GeoDataFrame
    street_furniture: gpd.GeoDataFrame
    site_inspections: gpd.GeoDataFrame
    farmland: gpd.GeoDataFrame
    city_reports: gpd.GeoDataFrame

    def layers(self) -> dict[str, gpd.GeoDataFrame]:
        """The vector layers by catalog id (the tracks are a point table)."""
        return {"litter_bins": self.litter_bins, "bus_stops": self.bus_stops,
                "street_structures": self.street_structures, "market_zones": self.market_zones,
                "street_furniture": self.street_furniture,
                "site_inspections": self.site_inspections, "farmland": self.farmland,
                "city_reports": self.city_reports}


_MAIN = ("主干路", "次干路")
_CRS = "EPSG:4550"
_DAY = 86_400
#: epoch seconds of local midnight, Monday of the demo week (2022-W35)
_T0 = int((WEEK_START - np.datetime64("1970-01-01T00:00")) / np.timedelta64(1, "s")) - 8 * 3600


def _streets(roads: gpd.GeoDataFrame, classes: tuple[str, ...]) -> gpd.GeoDataFrame:
    """Street parts (segments merged by name), non-bridge, of the given classes."""
    r = roads[roads["road_class"].isin(classes) & ~roads["bridge"]]
    merged = r.groupby("name").geometry.agg(lambda s: shapely.line_merge(shapely.union_all(
        s.values)))
    parts = gpd.GeoSeries(merged.values, index=merged.index, crs=_CRS).explode(index_parts=True)
    parts = parts[parts.geom_type == "LineString"]
    cls = r.groupby("name")["road_class"].first()
    width = r.groupby("name")["width"].first()
    out = gpd.GeoDataFrame({"name": parts.index.get_level_values(0),
                            "part": parts.index.get_level_values(1)},
                           geometry=parts.values, crs=_CRS).reset_index(drop=True)
    out["road_class"] = cls.reindex(out["name"]).to_numpy()
    out["width"] = width.reindex(out["name"]).to_numpy()
    out["length"] = out.length
    return out.sort_values(["name", "part"]).reset_index(drop=True)


def _offset_point(line: LineString, s: float, side: float) -> tuple[float, float]:
    """Point at ``s`` along ``line``, ``side`` metres to its left (negative: right)."""
    a = line.interpolate(max(s - 1.0, 0.0))
    b = line.interpolate(min(s + 1.0, line.length))
    dx, dy = b.x - a.x, b.y - a.y
    n = np.hypot(dx, dy) or 1.0
    p = line.interpolate(s)
    return p.x - dy / n * side, p.y + dx / n * side


# ------------------------------------------------------------------------------ tracks

def _tracks(roads: gpd.GeoDataFrame, rng: np.random.Generator, truth: Truth) -> pd.DataFrame:
    """A week of sweeper and sprinkler fixes: a set of main/secondary streets swept Mon-Sat."""
    st = _streets(roads, _MAIN)
    area = st.groupby("name").apply(lambda g: float((g["length"] * g["width"]).sum()),
                                    include_groups=False)
    total = float(area.sum())
    never = "兴华路"          # planted: a main road never swept
    once = "正阳街"           # near-miss: swept on one day only
    focus = "中央街"
    names = [n for n in area.index if n not in (never, once, focus)]
    order = rng.permutation(len(names))
    swept = [focus]
    acc = area[focus]
    for k in order:                     # about 45 % of the area, below the plan's 60 %
        if acc / total >= 0.45:
            break
        swept.append(names[k])
        acc += area[names[k]]
    planned_share = (acc + area[once]) / total
    rows = []
    interval, speed = 15, 8 / 3.6
    vehicles = [f"SX{k:02d}" for k in range(1, 13)]
    for day in range(6):                # Monday .. Saturday; nobody sweeps on Sunday
        todo = list(swept) + ([once] if day == 2 else [])
        for j, name in enumerate(todo):
            veh = vehicles[j % len(vehicles)]
            vtype = "洗扫车" if j % 3 == 0 else "扫路车"
            t = _T0 + day * _DAY + 3 * 3600 + (j // len(vehicles)) * 4 * 3600
            for part in st[st["name"] == name].itertuples():
                path = np.asarray(part.geometry.coords)
                if (day + j) % 2:
                    path = path[::-1]
                x, y, tt, _ = simulate_drive(path, t0=t, speed_ms=speed, interval_s=interval,
                                             noise_m=8.0, rng=rng)
                rows.append(pd.DataFrame({"vehicle_id": veh, "vehicle_type": vtype,
                                          "t": tt, "x": x, "y": y, "working": True}))
                t = int(tt[-1]) + 1800
    # sprinklers water a few streets by day (watered, not swept)
    for day in range(6):
        for j, name in enumerate(swept[:4]):
            t = _T0 + day * _DAY + 13 * 3600 + j * 600
            for part in st[st["name"] == name].itertuples():
                x, y, tt, _ = simulate_drive(np.asarray(part.geometry.coords), t0=t,
                                             speed_ms=15 / 3.6, interval_s=30, noise_m=8.0,
                                             rng=rng)
                rows.append(pd.DataFrame({"vehicle_id": f"SS{j + 1:02d}", "vehicle_type": "洒水车",
                                          "t": tt, "x": x, "y": y, "working": True}))
                t = int(tt[-1]) + 1800
    df = pd.concat(rows, ignore_index=True)
    df = df.sort_values(["vehicle_id", "t"], kind="stable").reset_index(drop=True)
    # planted faults of the terminals: a duplicate, a jump 50 km away, rows out of order
    first = df.index[df["vehicle_id"] == "SX01"][:400]
    dup = df.loc[[first[100]]]
    df.loc[first[200], "x"] -= 50_000.0      # (west: still inside the county boundary)
    blk = first[300:306]
    df.loc[blk] = df.loc[blk[::-1]].to_numpy()
    df = pd.concat([df.iloc[:first[101]], dup, df.iloc[first[101]:]], ignore_index=True)
    df["fix_id"] = [f"SW{k + 1:07d}" for k in range(len(df))]
    df["time"] = pd.to_datetime(df["t"] + 8 * 3600, unit="s")
    truth.add(CHECK, "sweeping_share_low", "roads", "主次干道", value=100 * planned_share,
              note="main and secondary roads swept on about 45 % of their area, target 60 %")
    truth.add(CHECK, "sweeping_share_low", "roads", focus, expect="no_flag",
              note="中央街 swept in full every working day")
    for n in sorted(set(area.index) - set(swept) - {once}):
        truth.add(CHECK, "road_never_swept", "roads", n,
                  note="main/secondary road no sweeper drove" + (" (planted)" if n == never else ""))
    truth.add(CHECK, "road_never_swept", "roads", once, expect="no_flag",
              note="swept on Wednesday only: swept, not never swept")
    return df[["fix_id", "vehicle_id", "vehicle_type", "time", "working", "x", "y"]]


# ------------------------------------------------------------------------------ bins

def _litter_bins(roads: gpd.GeoDataFrame, rng: np.random.Generator, truth: Truth,
                 spacing: dict[str, float], commercial: set[str]) -> gpd.GeoDataFrame:
    """Bins along every street at about half the CJJ 27 spacing; two planted gaps, one near-miss
    gap; old bins left on 中央街 and a main road past the plan's deadlines."""
    st = _streets(roads, ("主干路", "次干路", "支路", "巷道"))
    gap_streets = {"团结路": 1.6, "光明街": 1.5}      # planted gaps, x the maximum spacing
    near_street = "胜利路"                           # near-miss: 0.9 x the maximum
    rows = []
    for part in st.itertuples():
        kind = "商业街" if part.name in commercial else part.road_class
        limit = spacing[kind]
        step = 0.55 * limit
        L = part.length
        if L < 150:
            continue
        s = np.arange(0.3 * step, L - 0.2 * step, step)
        s = np.clip(s + rng.uniform(-0.1, 0.1, len(s)) * step, 0, L)
        planted = None
        if part.part == 0 and (part.name in gap_streets or part.name == near_street):
            factor = gap_streets.get(part.name, 0.9)
            mid = L / 2
            gap = factor * limit
            s = np.sort(np.r_[s[(s < mid - gap / 2) | (s > mid + gap / 2)], mid - gap / 2,
                              mid + gap / 2])
            planted = (mid - gap / 2, factor)
        side = np.where(np.arange(len(s)) % 2 == 0, 6.0, -6.0)
        for k, (v, sd) in enumerate(zip(s, side)):
            x, y = _offset_point(part.geometry, float(v), float(sd))
            rows.append({"street": part.name, "x": x, "y": y, "_s": float(v), "_pi": part.Index,
                         "_side": float(sd),
                         "_planted": planted is not None and abs(v - planted[0]) < 1e-6,
                         "_factor": planted[1] if planted else None, "_cls": part.road_class})
    b = pd.DataFrame(rows)
    # a planted gap holds no bin of a crossing street either (a corner bin serves both): the
    # crossing street's corner bins move 30 m along their own street, away from the gap
    geoms = st.geometry.to_numpy()
    for part in st.itertuples():
        if part.part == 0 and part.name in gap_streets:
            lo = b[(b["street"] == part.name) & b["_planted"]]["_s"].iloc[0]
            gap = gap_streets[part.name] * spacing[part.road_class]
            stretch = shapely.ops.substring(part.geometry, lo + 1.0, lo + gap - 1.0)
            pts = shapely.points(b["x"].to_numpy(), b["y"].to_numpy())
            hit = np.flatnonzero(shapely.dwithin(pts, stretch, 26.0)
                                 & (b["street"] != part.name).to_numpy())
            for i in hit:
                line = geoms[b.at[i, "_pi"]]
                moves = [b.at[i, "_s"] + d for d in (-30.0, 30.0)]
                cands = [_offset_point(line, float(np.clip(v, 0, line.length)), b.at[i, "_side"])
                         for v in moves]
                best = int(np.argmax([stretch.distance(Point(c)) for c in cands]))
                b.loc[i, ["x", "y"]] = cands[best]
    b["bin_id"] = [f"GP{k + 1:05d}" for k in range(len(b))]
    b["status"] = np.where(rng.random(len(b)) < 0.5, "新设", "已更换")
    b.loc[b["street"] == "中央街", "status"] = "已更换"
    b["replaced_on"] = np.where(b["status"] == "已更换", "2022-07-20", None)
    b["sorted"] = rng.random(len(b)) < 0.6
    for _, r in b[b["_planted"]].iterrows():
        before = r["bin_id"]
        ok = r["_factor"] > 1
        truth.add(CHECK, "bin_gap", "litter_bins", r["street"], related_id=before,
                  expect="flag" if ok else "no_flag",
                  value=r["_factor"] * spacing[r["_cls"]] if ok else None,
                  note=f"no bin over {r['_factor']:.1f} x the CJJ 27 spacing for a {r['_cls']}")
    # old bins past the deadline: three on 中央街 (2022-07-26), two on a main road (07-31);
    # near-misses: an old bin on a branch road (no deadline in the plan), one replaced in time
    zy = b.index[b["street"] == "中央街"]
    mainr = b.index[(b["_cls"] == "主干路") & (b["street"] != "中央街")]
    branch = b.index[b["_cls"] == "支路"]
    for i, (idx, expect) in enumerate([(zy[5], "flag"), (zy[15], "flag"), (zy[25], "flag"),
                                       (mainr[10], "flag"), (mainr[40], "flag"),
                                       (branch[7], "no_flag"), (zy[35], "no_flag")]):
        if i < 6:
            b.loc[idx, ["status", "replaced_on"]] = ["旧桶待更换", None]
        else:
            b.loc[idx, ["status", "replaced_on"]] = ["已更换", "2022-07-25"]
        truth.add(CHECK, "bin_not_replaced", "litter_bins", b.at[idx, "bin_id"],
                  related_id=b.at[idx, "street"], expect=expect,
                  note="old bin not replaced by the plan's deadline" if expect == "flag" else
                  "old bin on a branch road / bin replaced before the deadline")
    return gpd.GeoDataFrame(b[["bin_id", "street", "status", "replaced_on", "sorted"]],
                            geometry=shapely.points(b["x"], b["y"]), crs=_CRS)


# ------------------------------------------------------------------------------ bus stops

def _bus_stops(roads: gpd.GeoDataFrame, compounds: gpd.GeoDataFrame,
               rng: np.random.Generator, truth: Truth) -> gpd.GeoDataFrame:
    """Stops every ~400 m along main and secondary roads, none around one planted compound."""
    st = _streets(roads, _MAIN)
    pts = []
    for part in st.itertuples():
        for k, v in enumerate(np.arange(150.0, part.length - 50, 400.0)):
            x, y = _offset_point(part.geometry, float(v), 12.0 if k % 2 else -12.0)
            pts.append((part.name, x, y))
    stops = gpd.GeoDataFrame({"name": [f"{n}站" for n, _, _ in pts]},
                             geometry=shapely.points([p[1] for p in pts], [p[2] for p in pts]),
                             crs=_CRS)
    live = compounds[~compounds["under_construction"].astype(bool)].reset_index(drop=True)
    rep = live.geometry.representative_point()
    c = rep.union_all().centroid
    d = np.hypot(rep.x - c.x, rep.y - c.y).to_numpy()
    target = int(np.argsort(d)[len(d) // 3])          # a compound in the middle ring
    near = int(np.argsort(d)[2 * len(d) // 3])
    tp, npnt = rep.iloc[target], rep.iloc[near]
    far = stops.distance(tp) > 1200
    truth.add(CHECK, "compound_far_from_bus_stop", "residential_compounds",
              str(live.at[target, "compound_id"]), x=tp.x, y=tp.y,
              note="no bus stop within 1.2 km straight")
    # near-miss: stops cleared around it too, then one put back on its nearest street
    far &= stops.distance(npnt) > 1200
    stops = stops[far].reset_index(drop=True)
    r = roads[roads["road_class"] != "人行道"]
    ri = int(np.argmin(r.distance(npnt).to_numpy()))
    line = r.geometry.iloc[ri]
    sx, sy = _offset_point(line, line.project(npnt), 8.0)
    stops = pd.concat([stops, gpd.GeoDataFrame({"name": ["回补站"]},
                                               geometry=[Point(sx, sy)], crs=_CRS)],
                      ignore_index=True)
    truth.add(CHECK, "compound_far_from_bus_stop", "residential_compounds",
              str(live.at[near, "compound_id"]), expect="no_flag", x=npnt.x, y=npnt.y,
              note="only one stop, on its nearest street, within walking distance")
    stops.insert(0, "stop_id", [f"GJ{k + 1:04d}" for k in range(len(stops))])
    stops["shelter"] = rng.random(len(stops)) < 0.5
    return gpd.GeoDataFrame(stops, geometry="geometry", crs=_CRS)


# ------------------------------------------------------------------------------ street order

def _mid_segments(roads: gpd.GeoDataFrame, cls: str, rng: np.random.Generator, n: int
                  ) -> gpd.GeoDataFrame:
    """``n`` straight, non-bridge segments of class ``cls`` near the centre, longest first."""
    r = roads[(roads["road_class"] == cls) & ~roads["bridge"]]
    c = r.geometry.centroid
    cx, cy = np.median(c.x), np.median(c.y)
    d = np.hypot(c.x - cx, c.y - cy).to_numpy()
    pick = r.iloc[np.argsort(d, kind="stable")[:max(4 * n, 20)]]
    pick = pick.iloc[rng.permutation(len(pick))[:n]]
    return pick.reset_index(drop=True)


def _strip(seg: LineString, s0: float, s1: float, l0: float, l1: float) -> shapely.Geometry:
    """Quadrilateral from ``s0`` to ``s1`` along ``seg`` and ``l0`` to ``l1`` to its left."""
    pts = [_offset_point(seg, s, lat) for s, lat in ((s0, l0), (s1, l0), (s1, l1), (s0, l1))]
    return shapely.Polygon(pts)


def _street_order(roads: gpd.GeoDataFrame, red: gpd.GeoDataFrame, parks: gpd.GeoDataFrame,
                  rng: np.random.Generator, truth: Truth
                  ) -> tuple[gpd.GeoDataFrame, gpd.GeoDataFrame]:
    """Structures by the road red lines and designated market zones, planted both ways."""
    line_of = dict(zip(red["road_id"], red["line_id"]))
    segs = _mid_segments(roads, "主干路", rng, 6)
    rows, zones = [], []

    def add(kind: str, permit: str, geom: shapely.Geometry, seg: Any, rule: str | None,
            expect: str, note: str) -> str:
        sid = f"JZ{len(rows) + 1:04d}"
        rows.append({"structure_id": sid, "type": kind, "permit": permit, "geometry": geom,
                     "operator": "示例经营者"})
        if rule:
            truth.add(CHECK, rule, "street_structures", sid,
                      related_id=line_of.get(seg.street, "") if seg is not None else "",
                      expect=expect, note=note)
        return sid

    for k, seg in enumerate(segs.itertuples()):
        g, hw = seg.geometry, seg.width / 2
        m = g.length / 2
        if k == 0:
            add("台阶", "未批", _strip(g, m - 1.5, m + 1.5, hw - 1.5, hw + 1.5), seg,
                "steps_ramps_in_red_line", "flag", "steps 1.5 m into the red line")
            add("坡道", "未批", _strip(g, m + 20, m + 23, hw + 0.5, hw + 2.5), seg,
                "steps_ramps_in_red_line", "no_flag", "ramp ending 0.5 m outside the red line")
        elif k == 1:
            add("商亭", "未批", _strip(g, m - 2, m + 2, hw - 5, hw - 2), seg,
                "kiosk_stall_in_red_line", "flag", "unapproved kiosk on the footway")
            add("商亭", "已批", _strip(g, m + 20, m + 24, hw - 5, hw - 2), seg,
                "kiosk_stall_in_red_line", "no_flag", "approved kiosk on the footway")
        elif k == 2:
            add("户外楼梯", "未批", _strip(g, m - 2, m + 2, hw - 1, hw + 3), seg,
                "stairs_in_red_line", "flag", "outdoor stair 1 m into the red line")
        elif k == 3:
            sid = add("摊点", "未批", _strip(g, m - 1, m + 1, hw - 4, hw - 2), seg,
                      "kiosk_stall_in_red_line", "flag", "stall on a main-road footway")
            truth.add(CHECK, "stall_outside_zone", "street_structures", sid,
                      note="stall outside every designated zone")
    # designated zones on a secondary road: one over the carriageway, one on the footway only
    sec = _mid_segments(roads, "次干路", rng, 2)
    for k, seg in enumerate(sec.itertuples()):
        g, hw = seg.geometry, seg.width / 2
        m = g.length / 2
        if k == 0:
            zone = _strip(g, m - 30, m + 30, -10, 10)
            zid = f"SC{len(zones) + 1:03d}"
            zones.append({"zone_id": zid, "name": "兴华夜市", "type": "夜市",
                          "hours": "18:00-23:00", "geometry": zone})
            truth.add(CHECK, "market_zone_blocks_road", "market_zones", zid,
                      note="night market laid over the carriageway")
        else:
            zone = _strip(g, m - 30, m + 30, hw - 5, hw - 0.5)
            zid = f"SC{len(zones) + 1:03d}"
            zones.append({"zone_id": zid, "name": "站前早市", "type": "早市",
                          "hours": "05:00-08:00", "geometry": zone})
            truth.add(CHECK, "market_zone_blocks_road", "market_zones", zid, expect="no_flag",
                      note="morning market on the footway, clear of the carriageway")
            for j in range(2):
                sid = add("摊点", "未批", _strip(g, m - 20 + 15 * j, m - 18 + 15 * j, hw - 4,
                                                 hw - 2), None, None, "", "")
                truth.add(CHECK, "stall_outside_zone", "street_structures", sid,
                          expect="no_flag", note="stall inside the designated morning market")
                truth.add(CHECK, "kiosk_stall_in_red_line", "street_structures", sid,
                          expect="no_flag", note="stall in a designated zone on the footway")
    park = parks.iloc[int(np.argmax(parks.area.to_numpy()))].geometry
    c = park.representative_point()
    zones.append({"zone_id": f"SC{len(zones) + 1:03d}", "name": "公园后备箱经济区",
                  "type": "后备箱经济区", "hours": "17:00-22:00",
                  "geometry": box(c.x - 15, c.y - 15, c.x + 15, c.y + 15)})
    # a stall in a park, outside every zone
    sid = add("摊点", "未批", box(c.x + 40, c.y, c.x + 42, c.y + 2), None, None, "", "")
    truth.add(CHECK, "stall_outside_zone", "street_structures", sid,
              note="stall in a park away from the car-boot zone")
    s = gpd.GeoDataFrame(rows, geometry="geometry", crs=_CRS)
    s["building_id"] = None
    return s, gpd.GeoDataFrame(zones, geometry="geometry", crs=_CRS)


def _furniture(roads: gpd.GeoDataFrame, rng: np.random.Generator, truth: Truth
               ) -> gpd.GeoDataFrame:
    """Signs, plates, shelters and railings along three central streets; planted defects."""
    as_of = np.datetime64("2022-09-04")
    st = _streets(roads, _MAIN)
    st = st[st["name"].isin(["中央街", "正阳街", "布特哈大街"])]
    kinds = ["路名牌", "交通标志", "公交站牌", "公交候车亭", "护栏", "宣传栏", "指示牌"]
    rows = []
    for part in st.itertuples():
        for k, v in enumerate(np.arange(60.0, part.length, 180.0)):
            x, y = _offset_point(part.geometry, float(v), 14.0 if k % 2 else -14.0)
            rows.append({"type": kinds[len(rows) % len(kinds)], "x": x, "y": y})
    f = pd.DataFrame(rows)
    f["asset_id"] = [f"SS{k + 1:05d}" for k in range(len(f))]
    f["condition"] = "完好"
    f["last_cleaned"] = (as_of - rng.integers(0, 21, len(f)).astype("timedelta64[D]")).astype(str)
    f["owner"] = np.where(f["type"].isin(["公交站牌", "公交候车亭"]), "交通运输局", "城管执法局")
    plants = [(3, "破损", None, "flag", "damaged traffic sign"),
              (10, "缺失", None, "flag", "missing street-name plate"),
              (17, "完好", 40, "flag", "shelter not washed for 40 days"),
              (24, "完好", 25, "no_flag", "washed 25 days ago, within 30"),
              (31, "完好", None, "no_flag", "intact and washed")]
    for idx, cond, days, expect, note in plants:
        f.loc[idx, "condition"] = cond
        if days is not None:
            f.loc[idx, "last_cleaned"] = str(as_of - np.timedelta64(days, "D"))
        truth.add(CHECK, "street_furniture_defect", "street_furniture", f.at[idx, "asset_id"],
                  expect=expect, note=note)
    return gpd.GeoDataFrame(f[["asset_id", "type", "condition", "last_cleaned", "owner"]],
                            geometry=shapely.points(f["x"], f["y"]), crs=_CRS)


def _inspections(sites: gpd.GeoDataFrame, rng: np.random.Generator, truth: Truth
                 ) -> gpd.GeoDataFrame:
    """Six-100 % inspections of every site on 08-22 and 09-01; planted failures and gaps."""
    measures = ["hoarding", "covered", "washing", "hardened", "wet_work", "sealed_transport"]
    rows = []
    sid = sites["site_id"].tolist()
    plan = {0: "fail_latest", 1: "pass", 2: "fail_earlier", 3: "none", 4: "old", 5: "recent"}
    for k, (s, g) in enumerate(zip(sid, sites.geometry)):
        kind = plan.get(k, "pass")
        dates = {"none": [], "old": ["2022-08-10"], "recent": ["2022-08-25"]}.get(
            kind, ["2022-08-22", "2022-09-01"])
        for d in dates:
            ok = {m: True for m in measures}
            if kind == "fail_latest" and d == "2022-09-01":
                ok["covered"] = False
            if kind == "fail_earlier" and d == "2022-08-22":
                ok["washing"] = False
            c = g.centroid
            rows.append({"site_id": s, "date": d, **ok, "inspector": "示例检查员",
                         "geometry": Point(c.x, c.y)})
    notes = {0: ("site_six_measures", "flag", "materials uncovered at the latest inspection"),
             1: ("site_six_measures", "no_flag", "all six measures in place"),
             2: ("site_six_measures", "no_flag", "failed on 08-22, fixed by 09-01"),
             3: ("site_not_inspected", "flag", "never inspected"),
             4: ("site_not_inspected", "flag", "last inspected 25 days before the week's end"),
             5: ("site_not_inspected", "no_flag", "last inspected 10 days before")}
    for k, (rule, expect, note) in notes.items():
        truth.add(CHECK, rule, "construction_sites", sid[k], expect=expect, note=note)
    df = gpd.GeoDataFrame(rows, geometry="geometry", crs=_CRS)
    df.insert(0, "inspection_id", [f"JC{k + 1:04d}" for k in range(len(df))])
    return df


# ------------------------------------------------------------------------------ reports

class _Reports:
    """City-management reports drawn in the demo week (one row each)."""

    def __init__(self, rng: np.random.Generator) -> None:
        self.rows: list[dict[str, Any]] = []
        self.rng = rng

    def __call__(self, cat: str, x: float, y: float, text: str) -> str:
        rng = self.rng
        rid = f"SR{len(self.rows) + 1:05d}"
        day = int(rng.integers(0, 7))
        t = WEEK_START + np.timedelta64(day, "D") + np.timedelta64(int(rng.integers(8 * 60,
                                                                                  17 * 60)), "m")
        self.rows.append({"report_id": rid, "received_at": t, "category": cat, "source": "巡查",
                          "text": text, "reporter": "示例巡查员", "status": "待办",
                          "geometry": Point(x, y)})
        return rid


def _ring(p: Point, r: float, k: int) -> tuple[float, float]:
    a = 2 * np.pi * k / 7 + 0.3
    return p.x + r * np.cos(a), p.y + r * np.sin(a)


def _hygiene_reports(rep: _Reports, points: gpd.GeoDataFrame, stations: gpd.GeoDataFrame,
                     truth: Truth) -> None:
    """Reports around transfer stations and lonely garbage pools (and near-misses)."""
    # hygiene zones: three reports around station ZY001, one around ZY002 (near-miss)
    st = stations.set_index("station_id").geometry
    for k in range(3):
        rep("暴露垃圾", *_ring(st["ZY001"], 25 + 5 * k, k), "转运站周边垃圾散落")
    truth.add(CHECK, "hygiene_zone_reports", "transfer_stations", "ZY001",
              note="three reports within 50 m of the station in the week")
    rep("垃圾满溢", *_ring(st["ZY002"], 30, 1), "转运站门口垃圾满溢")
    truth.add(CHECK, "hygiene_zone_reports", "transfer_stations", "ZY002", expect="no_flag",
              note="one report only")
    pools = points[points["category"].isin(["垃圾房", "收集点"])].reset_index(drop=True)
    pg = np.asarray(pools.geometry.values)
    tree = shapely.STRtree(pg)
    dmin = np.array([np.partition(shapely.distance(pg[tree.query(g, predicate="dwithin",
                                                                  distance=150)], g), 1)[1]
                     if len(tree.query(g, predicate="dwithin", distance=150)) > 1 else 1e9
                     for g in pg])
    far_st = np.min(np.stack([shapely.distance(pg, s) for s in st.values]), axis=0) > 200
    lonely = np.flatnonzero((dmin > 120) & far_st)
    p_flag, p_near = pools.iloc[lonely[0]], pools.iloc[lonely[1]]
    for k in range(2):
        rep("暴露垃圾", *_ring(p_flag.geometry, 8 + 3 * k, k), "垃圾房周边垃圾落地")
        rep("积存垃圾渣土", *_ring(p_near.geometry, 35, k + 2), "附近有积存垃圾")
    truth.add(CHECK, "hygiene_zone_reports", "garbage_points", p_flag["point_id"],
              note="two reports within 20 m of a garbage pool")
    truth.add(CHECK, "hygiene_zone_reports", "garbage_points", p_near["point_id"],
              expect="no_flag", note="two reports 35 m away: outside the 20 m zone")


def _frontage_reports(rep: _Reports, roads: gpd.GeoDataFrame, buildings: gpd.GeoDataFrame,
                      truth: Truth) -> None:
    """A complaint in front of a shop on 中央街, and one in the carriageway (near-miss)."""
    main = roads[(roads["name"] == "中央街") & ~roads["bridge"]]
    shops = buildings[buildings["use"] == "商业"]
    sg = np.asarray(shops.geometry.values)
    mi, si = shapely.STRtree(sg).query(np.asarray(main.geometry.values), predicate="dwithin",
                                       distance=40)
    btree = shapely.STRtree(np.asarray(buildings.geometry.values))
    bids = buildings["building_id"].to_numpy()
    for a, b in zip(mi, si):
        line, shop = main.geometry.iloc[a], sg[b]
        d = shop.distance(line)
        cw = main["width"].iloc[a] * 0.6 / 2
        if not (cw + 4 < d < cw + 28):
            continue
        p0, p1 = shapely.ops.nearest_points(shop, line)
        f = (d - cw) / 2 / d
        x, y = p0.x + (p1.x - p0.x) * f, p0.y + (p1.y - p0.y) * f
        nb = btree.query_nearest(Point(x, y))
        if len(nb) != 1 or bids[nb[0]] != shops["building_id"].iloc[b]:
            continue
        holder = bids[nb[0]]
        r1 = rep("门前脏乱", x, y, "商铺门前堆放杂物")
        truth.add(CHECK, "frontage_complaint", "buildings", holder, related_id=r1,
                  note="complaint on the frontage between the shop and the kerb")
        r2 = rep("门前脏乱", p1.x, p1.y, "路中间有杂物")
        truth.add(CHECK, "frontage_complaint", "buildings", holder, related_id=r2,
                  expect="no_flag", note="in the carriageway: nobody's frontage")
        return
    raise AssertionError("no shop found for the frontage plant")


def _pile_reports(rep: _Reports, roads: gpd.GeoDataFrame, red: gpd.GeoDataFrame,
                  truth: Truth) -> None:
    """Piles: one on a main-road footway, one inside a block."""
    main = roads[(roads["road_class"] == "主干路") & ~roads["bridge"]]
    seg = main.iloc[len(main) // 2]
    hw = seg["width"] / 2
    m = seg.geometry.length / 2
    line_id = red.set_index("road_id")["line_id"].get(seg["street"], "")
    r1 = rep("土堆积石", *_offset_point(seg.geometry, m, hw - 2), "人行道上土堆")
    truth.add(CHECK, "pile_in_road_reserve", "city_reports", r1, related_id=line_id,
              note="soil pile 2 m inside the red line")
    x, y = _offset_point(seg.geometry, m, hw + 30)
    r2 = rep("土堆积石", x, y, "院内堆土")
    inside_red = bool(red.intersects(Point(x, y)).any())
    truth.add(CHECK, "pile_in_road_reserve", "city_reports", r2,
              expect="flag" if inside_red else "no_flag", note="pile inside a block")


def _dumping_reports(rep: _Reports, roads: gpd.GeoDataFrame, blue: gpd.GeoDataFrame,
                     farmland: gpd.GeoDataFrame, cand: gpd.GeoSeries, frame: Any,
                     truth: Truth) -> None:
    """Dumping in the river, by a back lane, by farmland; near-miss inside a compound."""
    river = blue[blue["line_id"] == "LANX001"].geometry.iloc[0]
    yy = frame.cy + 900.0
    r1 = rep("倾倒建筑垃圾", float(frame.river_x(yy)), yy, "河道内倾倒建筑垃圾")
    truth.add(CHECK, "dumping_report", "city_reports", r1, related_id="LANX001",
              note="construction waste dumped in the riverbed")
    lanes = roads[roads["road_class"] == "巷道"]
    lane = lanes.iloc[len(lanes) // 3]
    r2 = rep("倾倒建筑垃圾", *_offset_point(lane.geometry, lane.geometry.length / 2, 8.0),
             "背街小巷倾倒垃圾")
    truth.add(CHECK, "dumping_report", "city_reports", r2, related_id=str(lane["road_id"]),
              note="dumped 8 m from a back lane")
    fb = farmland.geometry.iloc[0].bounds
    r3 = rep("倾倒建筑垃圾", fb[0] - 10.0, (fb[1] + fb[3]) / 2, "农田边倾倒建筑垃圾")
    truth.add(CHECK, "dumping_report", "city_reports", r3, related_id=farmland["field_id"].iloc[0],
              note="dumped 10 m from farmland")
    for p in cand:
        far = (river.distance(p) > 120 and lanes.distance(p).min() > 40
               and farmland.distance(p).min() > 80)
        if far:
            r4 = rep("倾倒建筑垃圾", p.x, p.y, "小区内装修垃圾")
            truth.add(CHECK, "dumping_report", "city_reports", r4, expect="no_flag",
                      note="inside a compound, away from water, lanes and farmland")
            break


def _nature_reports(rep: _Reports, blue: gpd.GeoDataFrame, farmland: gpd.GeoDataFrame,
                    cand: gpd.GeoSeries, frame: Any, truth: Truth) -> None:
    """Livestock in a compound and on farmland; rubbish on the river, 'black water' off it."""
    p = cand.iloc[len(cand) // 2]
    r1 = rep("散养禽畜", p.x + 3, p.y + 3, "小区内散养鸡鸭")
    truth.add(CHECK, "livestock_in_built_up_area", "city_reports", r1,
              note="poultry kept inside a residential compound")
    f2 = farmland.geometry.iloc[1].representative_point()
    r2 = rep("饲养禽畜", f2.x, f2.y, "农田旁养羊")
    truth.add(CHECK, "livestock_in_built_up_area", "city_reports", r2, expect="no_flag",
              note="livestock on farmland outside the built-up area")
    # water: rubbish on the river; a 'black and smelly water' report 100 m off every blue line
    yy = frame.cy - 1500.0
    r1 = rep("水面垃圾", float(frame.river_x(yy)) + 10, yy, "河面漂浮垃圾")
    truth.add(CHECK, "water_body_problem", "city_reports", r1, related_id="LANX001",
              note="floating rubbish on the Yalu river")
    yy = frame.cy + 2500.0
    x = float(frame.river_x(yy) + frame.river_half_width(yy) + 100.0)
    r2 = rep("水体黑臭", x, yy, "路边积水发臭")
    truth.add(CHECK, "water_body_problem", "city_reports", r2,
              expect="flag" if blue.distance(Point(x, yy)).min() <= 30 else "no_flag",
              note="100 m from the river: not a water body")


def _reports(roads: gpd.GeoDataFrame, red: gpd.GeoDataFrame, buildings: gpd.GeoDataFrame,
             blue: gpd.GeoDataFrame, farmland: gpd.GeoDataFrame, points: gpd.GeoDataFrame,
             stations: gpd.GeoDataFrame, compounds: gpd.GeoDataFrame, frame: Any,
             rng: np.random.Generator, truth: Truth) -> gpd.GeoDataFrame:
    """City-management reports of the demo week: planted cases, near-misses, background."""
    rep = _Reports(rng)
    _hygiene_reports(rep, points, stations, truth)
    _frontage_reports(rep, roads, buildings, truth)
    _pile_reports(rep, roads, red, truth)
    cand = compounds.geometry.representative_point()
    _dumping_reports(rep, roads, blue, farmland, cand, frame, truth)
    _nature_reports(rep, blue, farmland, cand, frame, truth)
    # background reports of other kinds
    b = buildings.geometry.iloc[rng.integers(0, len(buildings), 30)].centroid
    for k, q in enumerate(b):
        rep(["噪音扰民", "井盖缺失", "乱张贴"][k % 3], q.x + 15, q.y, "一般问题")
    out = gpd.GeoDataFrame(rep.rows, geometry="geometry", crs=_CRS)
    out["received_at"] = pd.to_datetime(out["received_at"])
    return out


def _farmland(roads: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """Two fields just east of the town."""
    _, y0, x1, y1 = roads.total_bounds
    cy = (y0 + y1) / 2
    fields = [box(x1 + 200, cy - 400, x1 + 700, cy - 50), box(x1 + 200, cy + 50, x1 + 700, cy + 450)]
    return gpd.GeoDataFrame({"field_id": ["NT001", "NT002"]}, geometry=fields, crs=_CRS)


def _site_truth(sites: gpd.GeoDataFrame, compounds: gpd.GeoDataFrame,
                buildings: gpd.GeoDataFrame, truth: Truth, distance: float = 200.0) -> None:
    """Sites clearly near (< 150 m) or clearly away (> 260 m) from homes, schools, hospitals."""
    live = compounds[~compounds["under_construction"].astype(bool)]
    named = buildings[buildings["name"].fillna("").str.contains("学校|小学|中学|医院|幼儿园")]
    rec = np.r_[np.asarray(live.geometry.values), np.asarray(named.geometry.values)]
    for s in sites.itertuples():
        g = s.geometry
        ok = ~(shapely.within(g, rec) | shapely.within(rec, g))
        d = shapely.distance(g, rec[ok]).min() if ok.any() else np.inf
        if d < 0.75 * distance:
            truth.add(CHECK, "site_near_receptor", "construction_sites", s.site_id,
                      value=None, note=f"site {d:.0f} m from a dust-sensitive receptor")
        elif d > 1.3 * distance:
            truth.add(CHECK, "site_near_receptor", "construction_sites", s.site_id,
                      expect="no_flag", note=f"nearest receptor {d:.0f} m away")


def make_sanitation(roads: gpd.GeoDataFrame, red: gpd.GeoDataFrame, places: Any, bs: Any,
                    points: gpd.GeoDataFrame, stations: gpd.GeoDataFrame, frame: Any,
                    seed: int, truth: Truth) -> SanitationData:
    """Every sanitation layer of the demo city, with its planted cases in ``truth``."""
    from ..analysis.sweeping import cfg_value, sanitation_config

    cfg = sanitation_config()
    rng = rng_sanitation(seed)
    spacing = {k: float(v) for k, v in cfg_value(cfg, "bins", "max_spacing_m").items()}
    commercial = set(cfg_value(cfg, "bins", "commercial_streets"))
    tracks = _tracks(roads, rng, truth)
    bins = _litter_bins(roads, rng, truth, spacing, commercial)
    stops = _bus_stops(roads, bs.compounds, rng, truth)
    structures, zones = _street_order(roads, red, places.parks, rng, truth)
    furniture = _furniture(roads, rng, truth)
    inspections = _inspections(bs.sites, rng, truth)
    _site_truth(bs.sites, bs.compounds, bs.buildings, truth)
    farmland = _farmland(roads)
    reports = _reports(roads, red, bs.buildings, places.blue_lines, farmland, points, stations,
                       bs.compounds, frame, rng, truth)
    return SanitationData(tracks=tracks, litter_bins=bins, bus_stops=stops,
                          street_structures=structures, market_zones=zones,
                          street_furniture=furniture, site_inspections=inspections,
                          farmland=farmland, city_reports=reports)
