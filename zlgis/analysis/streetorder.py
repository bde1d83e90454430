"""Street order (plan tasks 1.4.1-1.4.3, 4.3.2-4.3.11): structures, stalls, markets, bus stops,
street furniture and piles.

* :func:`structures_in_red_lines` — steps, ramps, kiosks, stalls, shelters, outdoor stairs and
  lifts inside a road red line without approval (1.4.1-1.4.3);
* :func:`stalls_outside_zones` — stalls outside the designated market, night-market and car-boot
  zones (4.3.2, 4.3.8);
* :func:`zones_blocking_roads` — designated zones overlapping a carriageway (traffic and fire
  access, 4.3.8);
* :func:`bus_stop_coverage` — walking distance from each compound to its nearest bus stop
  against 500 m (GB 50220-95 §3.3.2; 4.3.9);
* :func:`furniture_defects` and :func:`furniture_ledger` — the street-furniture condition ledger
  (4.3.4, 4.3.10);
* :func:`reports_in_red_lines` — soil and stone piles reported inside the road reserve (4.3.11).

Examples
--------
>>> import geopandas as gpd
>>> from shapely.geometry import box
>>> red = gpd.GeoDataFrame({"line_id": ["HX1"]}, geometry=[box(0, 0, 100, 20)], crs="EPSG:4550")
>>> s = gpd.GeoDataFrame({"structure_id": ["S1", "S2", "S3"], "type": ["台阶", "商亭", "坡道"],
...     "permit": ["未批", "已批", "未批"]},
...     geometry=[box(10, 18, 14, 22), box(40, 5, 43, 8), box(60, 20.5, 63, 23)], crs="EPSG:4550")
>>> structures_in_red_lines(s, red)[["structure_id", "rule", "area_m2"]].values.tolist()
[['S1', 'steps_ramps_in_red_line', 8.0]]
"""

from __future__ import annotations

import datetime as _dt
from collections.abc import Mapping
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from .frontage import carriageway_half_widths, carriageways
from .run_cache import shared_tree
from .sweeping import cfg_value, sanitation_config

__all__ = [
    "bus_stop_coverage",
    "furniture_defects",
    "furniture_ledger",
    "reports_in_red_lines",
    "stalls_outside_zones",
    "structures_in_red_lines",
    "zones_blocking_roads",
]

#: structure type -> rule (plan tasks 1.4.1 steps and ramps, 1.4.2 kiosks, shelters and stalls,
#: 1.4.3 outdoor stairs and lifts)
STRUCTURE_RULES = {"台阶": "steps_ramps_in_red_line", "坡道": "steps_ramps_in_red_line",
                   "商亭": "kiosk_stall_in_red_line", "摊点": "kiosk_stall_in_red_line",
                   "候车站棚": "kiosk_stall_in_red_line", "户外楼梯": "stairs_in_red_line",
                   "户外电梯": "stairs_in_red_line"}


def _ids(gdf: gpd.GeoDataFrame, col: str) -> np.ndarray:
    return gdf[col].astype(str).to_numpy() if col in gdf else gdf.index.astype(str).to_numpy()


def structures_in_red_lines(structures: gpd.GeoDataFrame, red_lines: gpd.GeoDataFrame, *,
                            zones: gpd.GeoDataFrame | None = None) -> gpd.GeoDataFrame:
    """Unapproved structures (``permit`` not 已批) inside a road red line.

    Stalls (摊点) inside a designated market zone (``zones``) are sanctioned by the zone and
    not listed.

    Returns
    -------
    GeoDataFrame
        ``structure_id``, ``type``, ``rule``, ``line_id`` (the red line), ``area_m2`` inside it
        (0 for points), geometry the part inside.
    """
    s = structures.reset_index(drop=True)
    rule = s["type"].map(STRUCTURE_RULES) if "type" in s else pd.Series(None, index=s.index)
    approved = s["permit"].fillna("").eq("已批") if "permit" in s else \
        pd.Series(False, index=s.index)
    geoms = np.asarray(s.geometry.values)
    in_zone = np.zeros(len(s), bool)
    if zones is not None and len(zones) and "type" in s:
        si, _ = shapely.STRtree(np.asarray(zones.geometry.values)).query(geoms,
                                                                         predicate="within")
        in_zone[si] = True
        in_zone &= (s["type"] == "摊点").to_numpy()
    cand = np.flatnonzero(rule.notna().to_numpy() & ~approved.to_numpy() & ~in_zone)
    red = np.asarray(red_lines.geometry.values)
    si, ri = shapely.STRtree(red).query(geoms[cand], predicate="intersects")
    si = cand[si]
    part = shapely.intersection(geoms[si], red[ri])
    area = shapely.area(part)
    is_pt = shapely.get_type_id(geoms[si]) == 0
    keep = is_pt | (area > 0.01)
    df = pd.DataFrame({"structure_id": _ids(s, "structure_id")[si[keep]],
                       "type": s["type"].to_numpy()[si[keep]], "rule": rule.to_numpy()[si[keep]],
                       "line_id": _ids(red_lines, "line_id")[ri[keep]],
                       "area_m2": np.round(area[keep], 2)})
    out = gpd.GeoDataFrame(df, geometry=part[keep], crs=structures.crs)
    return out.drop_duplicates("structure_id").reset_index(drop=True)


def stalls_outside_zones(structures: gpd.GeoDataFrame, zones: gpd.GeoDataFrame | None, *,
                         config: Mapping[str, Any] | None = None) -> gpd.GeoDataFrame:
    """Stalls (``street_order.stall_types``) not inside any designated market zone.

    Adds ``nearest_zone`` and ``distance_m`` (to it; NaN when there are no zones).
    """
    cfg = config or sanitation_config()
    kinds = list(cfg_value(cfg, "street_order", "stall_types"))
    st = structures[structures["type"].isin(kinds)].reset_index(drop=True) if "type" in \
        structures else structures.iloc[:0]
    pts = np.asarray(st.geometry.values)
    inside = np.zeros(len(st), bool)
    out = st.copy()
    out["nearest_zone"] = None
    out["distance_m"] = np.nan
    if zones is not None and len(zones) and len(st):
        zg = np.asarray(zones.geometry.values)
        tree = shapely.STRtree(zg)
        si, _ = tree.query(pts, predicate="within")
        inside[si] = True
        si, zi = tree.query_nearest(pts, all_matches=False)
        out.loc[si, "nearest_zone"] = _ids(zones, "zone_id")[zi]
        out.loc[si, "distance_m"] = shapely.distance(pts[si], zg[zi]).round(1)
    return out[~inside].reset_index(drop=True)


def zones_blocking_roads(zones: gpd.GeoDataFrame, roads: gpd.GeoDataFrame, *,
                         config: Mapping[str, Any] | None = None) -> gpd.GeoDataFrame:
    """Designated zones overlapping a carriageway (traffic lanes are fire access too).

    Returns
    -------
    GeoDataFrame
        ``zone_id``, ``roads`` (";"-joined names), ``overlap_m2``, geometry the overlap.
    """
    cfg = config or sanitation_config()
    clearance = float(cfg_value(cfg, "street_order", "zone_clearance_m"))
    zg = np.asarray(zones.geometry.values)
    # only the roads whose carriageway can reach a zone are buffered (a few of the city's
    # roads, not all of them): half width plus clearance, with a margin for the buffer's chords
    share = float(cfg_value(cfg, "frontage", "carriageway_share"))
    r = roads[roads.geometry.notna()].reset_index(drop=True)
    reach = float(carriageway_half_widths(r, share).max(initial=0.0)) + max(clearance, 0.0) + 1.0
    cand = np.unique(shapely.STRtree(np.asarray(r.geometry.values)).query(
        zg, predicate="dwithin", distance=reach)[1])
    cw = carriageways(r.iloc[cand], config=cfg)
    if clearance > 0:
        cw["geometry"] = cw.geometry.buffer(clearance)
    zi, ci = shapely.STRtree(np.asarray(cw.geometry.values)).query(zg, predicate="intersects")
    if not len(zi):
        return gpd.GeoDataFrame({"zone_id": [], "roads": [], "overlap_m2": []}, geometry=[],
                                crs=zones.crs)
    pair = np.lexsort((ci, zi))   # zone, then road order: parts united in the same order
    zi, ci = zi[pair], ci[pair]
    part = shapely.intersection(zg[zi], np.asarray(cw.geometry.values)[ci])
    names = cw["label"].to_numpy()[ci]
    df = pd.DataFrame({"z": zi, "name": names, "g": part, "a": shapely.area(part)})
    df = df[df["a"] > 0.01]
    rows = []
    zid = _ids(zones, "zone_id")
    for z, g in df.groupby("z"):
        rows.append({"zone_id": zid[z], "roads": ";".join(sorted(set(g["name"]))),
                     "overlap_m2": round(float(g["a"].sum()), 1),
                     "geometry": shapely.union_all(g["g"].to_numpy())})
    if not rows:
        return gpd.GeoDataFrame({"zone_id": [], "roads": [], "overlap_m2": []}, geometry=[],
                                crs=zones.crs)
    return gpd.GeoDataFrame(rows, geometry="geometry", crs=zones.crs)


def bus_stop_coverage(compounds: gpd.GeoDataFrame, stops: gpd.GeoDataFrame,
                      roads: gpd.GeoDataFrame | None = None, *, method: str | None = None,
                      graph: Any = None, config: Mapping[str, Any] | None = None
                      ) -> gpd.GeoDataFrame:
    """Walking (or straight) distance from each compound to its nearest bus stop.

    A compound stands by its representative point. Adds ``nearest_stop``, ``distance_m`` and
    ``covered`` (within ``street_order.bus_stop_radius_m``).
    """
    from .network import StreetGraph, nearest_facility

    cfg = config or sanitation_config()
    radius = float(cfg_value(cfg, "street_order", "bus_stop_radius_m"))
    method = method or str(cfg_value(cfg, "street_order", "bus_stop_method"))
    c = compounds.reset_index(drop=True)
    if "under_construction" in c:
        c = c[~c["under_construction"].fillna(False).astype(bool)].reset_index(drop=True)
    pts = gpd.GeoSeries(c.geometry.representative_point(), crs=c.crs)
    sid = _ids(stops, "stop_id")
    out = c.copy()
    if method == "network" and roads is not None and len(stops):
        g = graph or StreetGraph.from_roads(roads, walk=True)
        res = nearest_facility(g, pts, stops.reset_index(drop=True), limit=radius * 3)
        out["distance_m"] = res["distance_network"].to_numpy().round(1)
        fac = res["facility"].to_numpy()
        out["nearest_stop"] = [sid[int(f)] if f is not None and not pd.isna(f) else None
                               for f in fac]
    elif len(stops):
        sg = np.asarray(stops.geometry.values)
        pi, si = shapely.STRtree(sg).query_nearest(np.asarray(pts.values), all_matches=False)
        out["distance_m"] = np.inf
        out.loc[pi, "distance_m"] = shapely.distance(np.asarray(pts.values)[pi], sg[si]).round(1)
        out["nearest_stop"] = None
        out.loc[pi, "nearest_stop"] = sid[si]
    else:
        out["distance_m"] = np.inf
        out["nearest_stop"] = None
    out["covered"] = out["distance_m"].to_numpy(float) <= radius
    return out


def furniture_defects(furniture: gpd.GeoDataFrame, *, as_of: _dt.date,
                      config: Mapping[str, Any] | None = None) -> gpd.GeoDataFrame:
    """Street furniture in a bad condition or not cleaned within ``furniture_clean_days``.

    Adds ``problems`` (Chinese, ";"-joined) and ``days_since_cleaned``.
    """
    cfg = config or sanitation_config()
    bad = set(cfg_value(cfg, "street_order", "furniture_bad_conditions"))
    days = int(cfg_value(cfg, "street_order", "furniture_clean_days"))
    f = furniture.reset_index(drop=True).copy()
    cond = f["condition"].fillna("").astype(str) if "condition" in f else pd.Series("", index=f.index)
    since = pd.Series(np.nan, index=f.index)
    if "last_cleaned" in f:
        last = pd.to_datetime(f["last_cleaned"], errors="coerce")
        since = (pd.Timestamp(as_of) - last).dt.days
    probs = []
    for c, d in zip(cond, since):
        p = []
        if c in bad:
            p.append(f"状况：{c}")
        if pd.notna(d) and d > days:
            p.append(f"{int(d)} 天未擦洗（规定 {days} 天）")
        probs.append("；".join(p))
    f["problems"] = probs
    f["days_since_cleaned"] = since
    return f[f["problems"] != ""].reset_index(drop=True)


def furniture_ledger(furniture: gpd.GeoDataFrame, roads: gpd.GeoDataFrame | None
                     ) -> pd.DataFrame:
    """Counts of street furniture by street, type and condition (the condition ledger)."""
    f = furniture.reset_index(drop=True)
    street = np.full(len(f), "", dtype=object)
    if roads is not None and len(roads) and len(f):
        rl = np.asarray(roads.geometry.values)
        fi, ri = shared_tree(rl).query_nearest(np.asarray(f.geometry.values),
                                                   all_matches=False)
        names = (roads["name"].iloc[ri].fillna("").astype(str).to_numpy() if "name" in roads
                 else _ids(roads, "road_id")[ri])   # the nearest roads only, as objects
        street[fi] = names
    df = pd.DataFrame({"street": street,
                       "type": f["type"].fillna("").to_numpy() if "type" in f else "",
                       "condition": f["condition"].fillna("").to_numpy() if "condition" in f
                       else ""})
    table = df.groupby(["street", "type", "condition"]).size().rename("count").reset_index()
    return table.sort_values(["street", "type", "condition"]).reset_index(drop=True)


def reports_in_red_lines(reports: gpd.GeoDataFrame, red_lines: gpd.GeoDataFrame
                         ) -> gpd.GeoDataFrame:
    """Reports lying inside a road red line, with ``line_id`` and ``road_name``."""
    if not len(reports):
        return reports.assign(line_id=[], road_name=[])
    ri, li = shapely.STRtree(np.asarray(red_lines.geometry.values)).query(
        np.asarray(reports.geometry.values), predicate="within")
    out = reports.iloc[ri].copy()
    out["line_id"] = _ids(red_lines, "line_id")[li]
    out["road_name"] = (red_lines["road_name"].fillna("").to_numpy()[li]
                        if "road_name" in red_lines else "")
    return out[~out.index.duplicated()].reset_index(drop=True)
