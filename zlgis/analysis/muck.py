"""Muck trucks (渣土车, task 4.4.5): off the approved route, stops outside lawful sites.

Rules ``muck_off_route`` (建设部令第139号 第十四条) and ``muck_illegal_dump`` (第十五条).
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from numpy.typing import NDArray
from shapely.geometry import LineString, Point

from ..findings import concat_findings, default_crs, empty_findings, make_findings
from .timewindows import WeeklySchedule, local_date, local_iso
from .trucks_overlay import union_buffer
from .trucks_pings import (
    config_value,
    detect_stops,
    hash_plates,
    plate_salt,
    stop_params,
    trucks_config,
)

__all__ = [
    "muck_findings",
]

def _is_muck(vtypes: Sequence[Any], cfg: Mapping[str, Any]) -> NDArray[np.bool_]:
    muck = list(cfg["vehicle_classes"].get("muck", []))
    s = pd.Series(list(vtypes), dtype=object).fillna("").astype(str)
    return s.apply(lambda v: bool(v) and any(m in v for m in muck)).to_numpy(dtype=bool)




_DIGEST = re.compile(r"^[0-9a-f]{16}$")


def _route_keys(values: pd.Series, cfg: Mapping[str, Any]) -> list[str]:
    """Route ``plate_hash`` values as plate digests: digests kept, plates hashed, empty = all."""
    out = []
    salt = None
    for v in values.tolist():
        v = "" if v is None or (isinstance(v, float) and np.isnan(v)) else str(v).strip()
        if v and not _DIGEST.match(v):  # a plate typed into the (internal) route layer
            salt = salt or plate_salt(None, cfg)
            v = str(hash_plates([v], salt)[0])
        out.append(v)
    return out


def muck_findings(pings: pd.DataFrame, *, routes: gpd.GeoDataFrame | None,
                  dump_sites: gpd.GeoDataFrame | None,
                  construction_sites: gpd.GeoDataFrame | None = None,
                  truck_parking: gpd.GeoDataFrame | None = None,
                  window: tuple[int, int] | None = None,
                  config: Mapping[str, Any] | None = None) -> gpd.GeoDataFrame:
    """Muck trucks off their approved corridor, and their stops outside lawful sites (4.4.5).

    Rules: 《城市建筑垃圾管理规定》（建设部令第139号）第十四条 (approved route and time) and
    第十五条 (no dumping), 扎政办字〔2022〕51号 四（四）5.

    * ``muck_off_route``: moving pings (speed above ``stops.stop_speed_kmh``) of a muck truck
      outside dump and construction sites and not on an approved route at an approved time
      (routes buffered by ``muck_off_route.corridor_m``; a route's ``hours`` limit when it may be
      used, empty = any time; routes whose ``plate_hash`` is empty apply to every muck truck), at
      least ``min_pings`` per vehicle and day. A muck truck with no approved route at all is off
      route wherever it drives outside the sites.
    * ``muck_illegal_dump``: stops of a muck truck farther than ``site_tolerance_m`` from every
      dump site, construction site and designated truck parking (possible 私拉乱倒).

    A route's ``plate_hash`` is compared with the salted plate digest: either the digest itself
    (16 hex digits, written with the same salt) or the plate, which is hashed on reading.
    """
    cfg = trucks_config(config)
    if not len(pings):
        return empty_findings()
    is_muck = _is_muck(pings["vehicle_type"].tolist(), cfg).copy()
    route_keys = None
    if routes is not None and len(routes) and "plate_hash" in routes.columns:
        route_keys = _route_keys(routes["plate_hash"], cfg)
        # a vehicle named on an approved route is a muck truck whatever its recorded type
        is_muck = is_muck | pings["plate_hash"].isin(set(route_keys) - {""}).to_numpy()
    p = pings[is_muck].reset_index(drop=True)
    if not len(p):
        return empty_findings()
    pw = p if window is None else p[(p["t"] >= window[0]) & (p["t"] < window[1])]
    moving = pw[pw["speed"] > float(config_value(cfg, "stops", "stop_speed_kmh"))]
    corridors = _corridors(routes, route_keys,
                           float(config_value(cfg["muck_off_route"], "corridor_m")))
    return concat_findings([
        _off_route_findings(moving, corridors, union_buffer([dump_sites, construction_sites], 0.0),
                            int(config_value(cfg["muck_off_route"], "min_pings"))),
        _dump_findings(p, cfg, window, dump_sites=dump_sites,
                       lawful=[dump_sites, construction_sites, truck_parking]),
    ])


#: An approved corridor: (applies to: "" = every muck truck, else a plate digest), polygon, hours
Corridor = tuple[str, Any, WeeklySchedule | None]


def _corridors(routes: gpd.GeoDataFrame | None, route_keys: list[str] | None,
               corridor_m: float) -> list[Corridor]:
    """Approved routes buffered by ``corridor_m``, one per (vehicle, hours)."""
    if routes is None or not len(routes):
        return []
    r = (routes.to_crs(default_crs()) if routes.crs is not None else routes).reset_index(drop=True)
    ph = pd.Series(route_keys) if route_keys is not None else pd.Series([""] * len(r))
    hrs = (r["hours"].fillna("").astype(str).str.strip() if "hours" in r
           else pd.Series([""] * len(r)))
    out: list[Corridor] = []
    for (key, hours), grp in r.groupby([ph, hrs], sort=True):
        sched = (WeeklySchedule.from_text(hours, layer="muck_routes", row=int(grp.index[0]) + 1,
                                          field="hours") if hours else None)
        out.append((str(key), union_buffer([grp], corridor_m), sched))
    return out


def _off_route_pings(moving: pd.DataFrame, corridors: list[Corridor], sites: Any
                     ) -> tuple[pd.DataFrame, dict[str, bool]]:
    """Moving pings outside the sites and not on an applicable corridor at an allowed time
    (``off_hours``: on a corridor, outside its hours), and which vehicles have a route."""
    x, y = moving["x"].to_numpy(float), moving["y"].to_numpy(float)
    off = np.ones(len(moving), dtype=bool)
    if sites is not None:
        off &= ~shapely.intersects_xy(sites, x, y)
    hashes = moving["plate_hash"].to_numpy()
    tm = moving["t"].to_numpy()
    on_route = np.zeros(len(moving), dtype=bool)   # inside an applicable corridor
    in_hours = np.zeros(len(moving), dtype=bool)   # ... at a time its route allows
    has_route: dict[str, bool] = {}
    for h in np.unique(hashes):
        mine = [c for c in corridors if c[0] in ("", str(h))]
        has_route[str(h)] = bool(mine)
        sel = np.flatnonzero((hashes == h) & off)
        for _key, poly, sched in mine:
            if not len(sel):
                break
            inside = shapely.intersects_xy(poly, x[sel], y[sel])
            on_route[sel] |= inside
            in_hours[sel] |= inside & (sched.contains(tm[sel]) if sched is not None else True)
    off &= ~in_hours
    m = moving.assign(off=off, off_hours=off & on_route)
    return m[m["off"]], has_route


def _off_route_title(r: dict[str, Any]) -> str:
    if not r["has_route"]:
        return "渣土车无核准路线在城区行驶"
    if r["off_hours"] == r["n"]:
        return "渣土车在核准时段以外运输"
    return "渣土车未按核准路线行驶"


def _off_route_findings(moving: pd.DataFrame, corridors: list[Corridor], sites: Any,
                        min_pings: int) -> gpd.GeoDataFrame:
    """``muck_off_route``: per vehicle and day, at least ``min_pings`` pings off route."""
    if not len(moving):
        return empty_findings()
    m, has_route = _off_route_pings(moving, corridors, sites)
    rows = []
    if len(m):
        m = m.assign(day=local_date(m["t"].to_numpy()).astype(str))
        for (h, day), g in m.groupby(["plate_hash", "day"], sort=True):
            if len(g) < min_pings:
                continue
            pts = list(zip(g["x"], g["y"]))
            routed = has_route.get(str(h), False)
            d = 0.0
            if routed:
                cor = shapely.union_all([c[1] for c in corridors if c[0] in ("", str(h))])
                d = float(shapely.distance(cor, shapely.points(pts)).max())
            rows.append({"h": h, "day": day, "t0": int(g["t"].min()), "t1": int(g["t"].max()),
                         "n": len(g), "dist": d, "has_route": routed,
                         "geom": LineString(pts) if len(pts) > 1 else Point(pts[0]),
                         "off_hours": int(g["off_hours"].sum())})
    if not rows:
        return empty_findings()
    return make_findings(
        rule="muck_off_route",
        title=[_off_route_title(r) for r in rows], feature_ids=[[r["h"]] for r in rows],
        layer="truck_pings", geometry=[r["geom"] for r in rows],
        measures=[{"n_pings": r["n"], "off_hours_pings": r["off_hours"],
                   "max_off_m": r["dist"], "first": local_iso([r["t0"]])[0],
                   "last": local_iso([r["t1"]])[0], "approved_route": r["has_route"]}
                  for r in rows],
        measure_key="max_off_m", measure_unit="m",
        observed_at=[local_iso([r["t0"]])[0] for r in rows],
        id_extra=[r["day"] for r in rows])


def _dump_findings(p: pd.DataFrame, cfg: Mapping[str, Any], window: tuple[int, int] | None, *,
                   dump_sites: gpd.GeoDataFrame | None,
                   lawful: list[gpd.GeoDataFrame | None]) -> gpd.GeoDataFrame:
    """``muck_illegal_dump``: muck-truck stops farther than the tolerance from lawful sites."""
    tol = float(config_value(cfg["muck_illegal_dump"], "site_tolerance_m"))
    stops = detect_stops(p, **stop_params(cfg))
    if window is not None and len(stops):
        stops = stops[(stops["start"] >= window[0]) & (stops["start"] < window[1])]
    if not len(stops):
        return empty_findings()
    sites = union_buffer(lawful, tol)
    sx, sy = stops["x"].to_numpy(float), stops["y"].to_numpy(float)
    bad = (~shapely.intersects_xy(sites, sx, sy) if sites is not None
           else np.ones(len(stops), dtype=bool))
    st = stops[bad]
    if not len(st):
        return empty_findings()
    dist = np.full(len(st), np.nan)
    dumps = union_buffer([dump_sites], 0.0)
    if dumps is not None:
        dist = shapely.distance(dumps, shapely.points(st["x"], st["y"]))
    return make_findings(
        rule="muck_illegal_dump",
        feature_ids=[[h] for h in st["plate_hash"]], layer="truck_pings",
        geometry=[Point(a, b) for a, b in zip(st["x"], st["y"])],
        measures=[{"dwell_min": float(r.dwell_min), "n_pings": int(r.n),
                   "start": local_iso([r.start])[0], "end": local_iso([r.end])[0],
                   "dist_to_dump_site_m": float(d)}
                  for r, d in zip(st.itertuples(), dist)],
        measure_key="dwell_min", measure_unit="min",
        observed_at=local_iso(st["start"].to_numpy()),
        id_extra=local_iso(st["start"].to_numpy()))
