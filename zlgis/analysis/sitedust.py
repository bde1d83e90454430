"""Construction dust, dumping, livestock and water bodies (plan tasks 4.2.9, 4.5.1, 4.6.1,
4.6.2, 4.7.5).

* :func:`sites_near_receptors` — construction sites within ``dust.receptor_distance_m`` of
  dust-sensitive receptors: residential compounds, schools and hospitals (by building name);
* :func:`six_measures_ledger` — the latest six-100 % inspection of every site (hoarding, covered
  materials, washed vehicles, hardened ground, wet work, sealed muck transport) and the sites
  not inspected within ``dust.inspection_max_age_days``;
* :func:`dumping_reports` — dumping reports near blue lines (flood ditches, riverbeds), back
  lanes (巷道), farmland;
* :func:`livestock_reports` — livestock reports inside the built-up area (within
  ``livestock.built_up_buffer_m`` of a building, or inside a ``built_up`` polygon layer);
* :func:`water_reports` — water-body problems tied to the blue line they concern.

Examples
--------
>>> import geopandas as gpd
>>> from shapely.geometry import Point, box
>>> sites = gpd.GeoDataFrame({"site_id": ["G1", "G2"]},
...     geometry=[box(0, 0, 50, 50), box(1000, 0, 1050, 50)], crs="EPSG:4550")
>>> homes = gpd.GeoDataFrame({"compound_id": ["XQ1"], "name": ["河畔小区"]},
...     geometry=[box(150, 0, 250, 80)], crs="EPSG:4550")
>>> near = sites_near_receptors(sites, compounds=homes)
>>> near[["site_id", "receptors", "distance_m"]].values.tolist()
[['G1', 'XQ1', 100.0]]
"""

from __future__ import annotations

import datetime as _dt
from collections.abc import Mapping
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from .run_cache import shared_tree
from .sweeping import cfg_value, sanitation_config

__all__ = [
    "SIX_MEASURES",
    "dumping_reports",
    "livestock_reports",
    "receptors",
    "sites_near_receptors",
    "six_measures_ledger",
    "water_reports",
]

#: the six measures (field -> Chinese), plan task 4.6.1 “六个百分百”
SIX_MEASURES = {"hoarding": "工地周边围挡", "covered": "物料堆放覆盖", "washing": "出入车辆清洗",
                "hardened": "施工现场地面硬化", "wet_work": "拆迁工地湿法作业",
                "sealed_transport": "渣土车辆密闭运输"}


def _ids(gdf: gpd.GeoDataFrame, col: str, prefix: str = "") -> np.ndarray:
    return (gdf[col].astype(str).to_numpy() if col in gdf
            else np.char.add(prefix, gdf.index.astype(str).to_numpy().astype(str)))


def receptors(compounds: gpd.GeoDataFrame | None, buildings: gpd.GeoDataFrame | None, *,
              config: Mapping[str, Any] | None = None) -> gpd.GeoDataFrame:
    """Dust-sensitive receptors: compounds not under construction, and buildings whose name
    holds a word of ``dust.receptor_names`` (学校, 医院 ...). Columns ``receptor_id``, ``kind``,
    ``name``."""
    cfg = config or sanitation_config()
    words = list(cfg_value(cfg, "dust", "receptor_names"))
    frames = []
    if compounds is not None and len(compounds):
        c = compounds
        if "under_construction" in c:
            c = c[~c["under_construction"].fillna(False).astype(bool)]
        frames.append(gpd.GeoDataFrame({"receptor_id": _ids(c, "compound_id", "XQ"),
                                        "kind": "住宅小区",
                                        "name": c["name"].to_numpy() if "name" in c else ""},
                                       geometry=c.geometry.values, crs=c.crs))
    if buildings is not None and len(buildings) and "name" in buildings and words:
        nm = buildings["name"].fillna("").astype(str)
        hit = nm.str.contains("|".join(words), regex=True)
        b = buildings[hit]
        frames.append(gpd.GeoDataFrame({"receptor_id": _ids(b, "building_id", "B"),
                                        "kind": "学校医院等", "name": nm[hit].to_numpy()},
                                       geometry=b.geometry.values, crs=b.crs))
    if not frames:
        crs = getattr(compounds, "crs", None) or getattr(buildings, "crs", None)
        return gpd.GeoDataFrame({"receptor_id": [], "kind": [], "name": []}, geometry=[],
                                crs=crs)
    return gpd.GeoDataFrame(pd.concat(frames, ignore_index=True), geometry="geometry",
                            crs=frames[0].crs)


def sites_near_receptors(sites: gpd.GeoDataFrame, *, compounds: gpd.GeoDataFrame | None = None,
                         buildings: gpd.GeoDataFrame | None = None,
                         config: Mapping[str, Any] | None = None) -> gpd.GeoDataFrame:
    """Sites within ``dust.receptor_distance_m`` of a receptor (a receptor the site lies in,
    e.g. its own compound under construction, is not counted).

    Adds ``receptors`` (ids, ";"-joined, nearest first), ``receptor_names`` and ``distance_m``
    (to the nearest).
    """
    cfg = config or sanitation_config()
    dist = float(cfg_value(cfg, "dust", "receptor_distance_m"))
    rec = receptors(compounds, buildings, config=cfg)
    s = sites.reset_index(drop=True)
    if not len(rec) or not len(s):
        return s.iloc[:0].assign(receptors=[], receptor_names=[], distance_m=[])
    sg, rg = np.asarray(s.geometry.values), np.asarray(rec.geometry.values)
    si, ri = shapely.STRtree(rg).query(sg, predicate="dwithin", distance=dist)
    d = shapely.distance(sg[si], rg[ri])
    inside = shapely.within(sg[si], rg[ri]) | shapely.within(rg[ri], sg[si])
    df = pd.DataFrame({"s": si, "r": ri, "d": d})[~inside].sort_values(["s", "d", "r"])
    rid, rname = rec["receptor_id"].to_numpy(), rec["name"].astype(str).to_numpy()
    agg = df.groupby("s").agg(r=("r", list), d=("d", "min"))
    out = s.loc[agg.index].copy()
    out["receptors"] = [";".join(dict.fromkeys(rid[r])) for r in agg["r"]]
    out["receptor_names"] = [";".join(dict.fromkeys(rname[r])) for r in agg["r"]]
    out["distance_m"] = agg["d"].round(1).to_numpy()
    return out.reset_index(drop=True)


def six_measures_ledger(sites: gpd.GeoDataFrame, inspections: pd.DataFrame | None, *,
                        as_of: _dt.date, config: Mapping[str, Any] | None = None
                        ) -> gpd.GeoDataFrame:
    """Per site: its latest inspection on or before ``as_of`` and the measures failed.

    Returns
    -------
    GeoDataFrame
        One row per site (geometry the site): ``site_id``, ``inspection_id``, ``inspected_on``,
        one column per measure (True / False / None), ``failed`` (Chinese, ";"-joined),
        ``days_since`` and ``status`` (合格 / 不合格 / 未检查).
    """
    cfg = config or sanitation_config()
    max_age = int(cfg_value(cfg, "dust", "inspection_max_age_days"))
    s = sites.reset_index(drop=True)
    sid = _ids(s, "site_id", "G")
    out = gpd.GeoDataFrame({"site_id": sid,
                            "name": s["name"].to_numpy() if "name" in s else ""},
                           geometry=s.geometry.values, crs=s.crs)
    latest = pd.DataFrame()
    if inspections is not None and len(inspections):
        ins = pd.DataFrame(inspections).copy()
        ins["_d"] = pd.to_datetime(ins["date"], errors="coerce")
        ins = ins[ins["_d"].notna() & (ins["_d"] <= pd.Timestamp(as_of))]
        latest = (ins.sort_values(["site_id", "_d", "inspection_id"])
                  .groupby("site_id").tail(1).set_index("site_id"))
    has = np.isin(sid, latest.index) if len(latest) else np.zeros(len(sid), bool)
    out["inspection_id"] = [latest.at[k, "inspection_id"] if h else None for k, h in zip(sid, has)]
    out["inspected_on"] = [latest.at[k, "_d"].date().isoformat() if h else None
                           for k, h in zip(sid, has)]
    failed = [[] for _ in sid]
    for col, label in SIX_MEASURES.items():
        vals = []
        for i, (k, h) in enumerate(zip(sid, has)):
            v = latest.at[k, col] if h and col in latest.columns else None
            v = None if v is None or pd.isna(v) else bool(v)
            if v is False:
                failed[i].append(label)
            vals.append(v)
        out[col] = vals
    out["failed"] = [";".join(f) for f in failed]
    days = [(as_of - latest.at[k, "_d"].date()).days if h else None for k, h in zip(sid, has)]
    out["days_since"] = days
    out["status"] = ["未检查" if (d is None or d > max_age) else ("不合格" if f else "合格")
                     for d, f in zip(days, failed)]
    return out


def dumping_reports(reports: gpd.GeoDataFrame, *, blue_lines: gpd.GeoDataFrame | None = None,
                    roads: gpd.GeoDataFrame | None = None,
                    farmland: gpd.GeoDataFrame | None = None,
                    config: Mapping[str, Any] | None = None) -> gpd.GeoDataFrame:
    """Dumping reports near a blue line, a back lane (巷道) or farmland.

    Adds ``near`` (排洪沟河床 / 背街小巷 / 农田, ";"-joined), ``related`` (ids) and
    ``distance_m`` (to the nearest of them).
    """
    cfg = config or sanitation_config()
    near = dict(cfg_value(cfg, "dumping", "near_m"))
    r = reports.reset_index(drop=True)
    pts = np.asarray(r.geometry.values)
    hits: list[pd.DataFrame] = []
    lanes = (roads[roads["road_class"] == "巷道"] if roads is not None and "road_class" in roads
             else None)
    for kind, layer, key, idcol in (("排洪沟河床", blue_lines, "blue_line", "line_id"),
                                    ("背街小巷", lanes, "back_lane", "road_id"),
                                    ("农田", farmland, "farmland", "field_id")):
        if layer is None or not len(layer) or not len(r):
            continue
        g = np.asarray(layer.geometry.values)
        d = float(near.get(key, 30))
        pi, gi = shapely.STRtree(g).query(pts, predicate="dwithin", distance=d)
        hits.append(pd.DataFrame({"p": pi, "kind": kind, "id": _ids(layer, idcol)[gi],
                                  "d": shapely.distance(pts[pi], g[gi])}))
    if not hits or not sum(len(h) for h in hits):
        return r.iloc[:0].assign(near=[], related=[], distance_m=[])
    h = pd.concat(hits).sort_values(["p", "d"])
    agg = h.groupby("p").agg(kind=("kind", lambda k: ";".join(dict.fromkeys(k))),
                             ids=("id", lambda k: ";".join(dict.fromkeys(k))), d=("d", "min"))
    out = r.loc[agg.index].copy()
    out["near"] = agg["kind"].to_numpy()
    out["related"] = agg["ids"].to_numpy()
    out["distance_m"] = agg["d"].round(1).to_numpy()
    return out.reset_index(drop=True)


def livestock_reports(reports: gpd.GeoDataFrame, *, buildings: gpd.GeoDataFrame | None = None,
                      built_up: gpd.GeoDataFrame | None = None,
                      config: Mapping[str, Any] | None = None) -> gpd.GeoDataFrame:
    """Reports inside the built-up area: a ``built_up`` polygon, or within
    ``livestock.built_up_buffer_m`` of a building. Adds ``nearest_building_m``."""
    cfg = config or sanitation_config()
    buf = float(cfg_value(cfg, "livestock", "built_up_buffer_m"))
    r = reports.reset_index(drop=True)
    pts = np.asarray(r.geometry.values)
    inside = np.zeros(len(r), bool)
    dist = np.full(len(r), np.nan)
    if built_up is not None and len(built_up):
        pi, _ = shapely.STRtree(np.asarray(built_up.geometry.values)).query(pts,
                                                                            predicate="within")
        inside[pi] = True
    if buildings is not None and len(buildings) and len(r):
        bg = np.asarray(buildings.geometry.values)
        pi, bi = shared_tree(bg).query_nearest(pts, max_distance=buf, all_matches=False)
        dist[pi] = shapely.distance(pts[pi], bg[bi])
        if built_up is None:
            inside[pi] = True
    out = r[inside].copy()
    out["nearest_building_m"] = np.round(dist[inside], 1)
    return out.reset_index(drop=True)


def water_reports(reports: gpd.GeoDataFrame, blue_lines: gpd.GeoDataFrame, *,
                  config: Mapping[str, Any] | None = None) -> gpd.GeoDataFrame:
    """Water-body reports within ``water.near_m`` of a blue line, with that line's
    ``line_id`` and ``name``, and ``distance_m`` (0 inside)."""
    cfg = config or sanitation_config()
    d = float(cfg_value(cfg, "water", "near_m"))
    r = reports.reset_index(drop=True)
    if not len(r) or not len(blue_lines):
        return r.iloc[:0].assign(line_id=[], line_name=[], distance_m=[])
    g = np.asarray(blue_lines.geometry.values)
    pts = np.asarray(r.geometry.values)
    pi, gi = shapely.STRtree(g).query_nearest(pts, max_distance=d, all_matches=False)
    out = r.iloc[pi].copy()
    out["line_id"] = _ids(blue_lines, "line_id")[gi]
    out["line_name"] = (blue_lines["name"].fillna("").to_numpy()[gi] if "name" in blue_lines
                        else "")
    out["distance_m"] = shapely.distance(pts[pi], g[gi]).round(1)
    return out.reset_index(drop=True)
