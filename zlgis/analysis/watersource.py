"""Drinking-water source protection zones: what lies inside the first and second level.

Task 6.1.4 of the 2022 plan (加大城市水源地保护力度; lead 住建局, with 自然资源局). The zones
are a layer (``water_source_zones``: level 一级 / 二级 / 准保护区) delineated following HJ 338-2018;
this module lists what the law forbids inside them:

* level 1: buildings unrelated to water supply (水污染防治法 第六十五条; waterworks, use
  市政设施, are allowed);
* level 2: buildings of polluting uses, industry and storage (第六十六条; homes are not flagged);
* construction sites inside any level-1 or level-2 zone (for review);
* 12345 reports of dumping or livestock inside a zone (饮用水水源保护区污染防治管理规定
  第十一、十二条), matched by category or keywords from ``water.yaml``.

A feature is inside a zone when it overlaps it with positive area (polygons) or lies in it
(points); a building touching the zone's edge from outside is not inside.

Examples
--------
>>> import geopandas as gpd
>>> from shapely.geometry import Point, box
>>> zones = gpd.GeoDataFrame({"zone_id": ["Z1", "Z2"], "level": ["一级", "二级"]},
...     geometry=[box(0, 0, 100, 100), box(100, 0, 300, 100)], crs="EPSG:4550")
>>> b = gpd.GeoDataFrame({"building_id": ["B1", "B2", "B3", "B4"],
...     "use": ["住宅", "市政设施", "工业", "住宅"]}, geometry=[box(10, 10, 20, 20),
...     box(30, 30, 40, 40), box(150, 10, 160, 20), box(200, 10, 210, 20)], crs="EPSG:4550")
>>> zone_buildings(zones, b)[["building_id", "zone_id", "rule"]].values.tolist()
[['B1', 'Z1', 'water_zone1_building'], ['B3', 'Z2', 'water_zone2_polluting']]
"""

from __future__ import annotations

from datetime import date
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from ..config import load_config
from ..errors import InputError
from ..findings import assign_grids, concat_findings
from ._ruled import prepare, rule_findings, value

__all__ = ["water_config", "river_zones", "zone_levels", "zone_buildings", "zone_sites", "zone_reports",
           "run_check"]

ZONES = "water_source_zones"


def water_config() -> dict[str, Any]:
    """The ``water.yaml`` presets."""
    return load_config("water")


def river_zones(rivers: gpd.GeoDataFrame, *, name: str = "", config: dict[str, Any] | None = None
                ) -> gpd.GeoDataFrame:
    """Land protection zones along river centre lines, for a bureau that has none drawn yet.

    Level 1 is every point within ``river_level1_land_m`` of a river line, level 2 within
    ``river_level2_land_m`` outside level 1 (HJ 338-2018 §6.1; the water area and the lengths
    upstream and downstream of the intake are for the environment bureau to fix). Rivers
    without a geometry are left out and counted in ``attrs["skipped"]``.

    Examples
    --------
    >>> from shapely.geometry import LineString
    >>> r = gpd.GeoDataFrame(geometry=[LineString([(0, 0), (1000, 0)]), None], crs="EPSG:32734")
    >>> z = river_zones(r)
    >>> z["level"].tolist(), z.attrs["skipped"], round(float(z.area.iloc[0]) / 1e4, 1)
    (['一级', '二级'], 1, 10.8)
    """
    d = (config or water_config())["delineation"]
    ok = rivers.geometry.notna() & ~rivers.geometry.is_empty
    lines = shapely.union_all(np.asarray(rivers.geometry[ok].values, dtype=object))
    z1 = shapely.buffer(lines, float(value(d["river_level1_land_m"])))
    z2 = shapely.difference(shapely.buffer(lines, float(value(d["river_level2_land_m"]))), z1)
    out = gpd.GeoDataFrame({"zone_id": ["RZ-1", "RZ-2"], "name": [name, name],
                            "level": ["一级", "二级"], "source_type": ["河流型", "河流型"]},
                           geometry=[z1, z2], crs=rivers.crs)
    out.attrs["skipped"] = int((~ok).sum())
    return out


def zone_levels(zones: gpd.GeoDataFrame, *, config: dict[str, Any] | None = None) -> np.ndarray:
    """Level number (1, 2, 3) of every zone; an unknown level is refused with its row."""
    levels = (config or water_config())["levels"]
    lv = zones["level"].astype(object).map(levels) if "level" in zones else \
        pd.Series(np.nan, index=zones.index)
    bad = np.flatnonzero(lv.isna().to_numpy())
    if len(bad):
        i = int(bad[0])
        raise InputError(f"保护区级别应为{'、'.join(levels)}之一", layer=ZONES, row=i + 1,
                         field="level")
    return lv.to_numpy(int)


def _overlaps(zones: gpd.GeoDataFrame, gdf: gpd.GeoDataFrame) -> tuple[np.ndarray, np.ndarray]:
    """(feature position, zone position) pairs with a positive-area overlap or a point inside."""
    zg = np.asarray(zones.geometry.values, dtype=object)
    fg = np.asarray(gdf.geometry.values, dtype=object)
    fi, zi = shapely.STRtree(zg).query(fg, predicate="intersects")
    if not len(fi):
        return fi, zi
    pts = shapely.get_type_id(fg[fi]) == 0
    area = np.where(pts, 1.0, shapely.area(shapely.intersection(fg[fi], zg[zi])))
    keep = area > 0
    return fi[keep], zi[keep]


def zone_buildings(zones: gpd.GeoDataFrame, buildings: gpd.GeoDataFrame, *,
                   config: dict[str, Any] | None = None) -> pd.DataFrame:
    """Buildings the zone forbids: ``building_id, use, zone_id, level, rule`` (sorted)."""
    cfg = config or water_config()
    lv = zone_levels(zones, config=cfg)
    fi, zi = _overlaps(zones, buildings)
    # the overlapping rows only, as objects (not the whole Arrow column)
    use = buildings["use"].astype(str).iloc[fi].to_numpy() if "use" in buildings else \
        np.full(len(fi), "", dtype=object)
    l1 = (lv[zi] == 1) & ~np.isin(use, list(value(cfg["water_supply_uses"])))
    l2 = (lv[zi] == 2) & np.isin(use, list(value(cfg["polluting_uses"])))
    t = pd.DataFrame({"building_id": buildings["building_id"].astype(str).iloc[fi].to_numpy(),
                      "use": use, "zone_id": zones["zone_id"].astype(str).to_numpy()[zi],
                      "level": lv[zi], "pos": fi,
                      "rule": np.where(l1, "water_zone1_building",
                                       np.where(l2, "water_zone2_polluting", ""))})
    t = t[t["rule"] != ""]
    # a building in both levels is reported once, by its strictest zone
    t = t.sort_values(["building_id", "level"]).drop_duplicates("building_id")
    return t.reset_index(drop=True)


def zone_sites(zones: gpd.GeoDataFrame, sites: gpd.GeoDataFrame, *,
               config: dict[str, Any] | None = None) -> pd.DataFrame:
    """Construction sites inside level-1 or level-2 zones: ``site_id, zone_id, level``."""
    lv = zone_levels(zones, config=config)
    fi, zi = _overlaps(zones, sites)
    t = pd.DataFrame({"site_id": sites["site_id"].astype(str).to_numpy()[fi],
                      "zone_id": zones["zone_id"].astype(str).to_numpy()[zi], "level": lv[zi],
                      "pos": fi})
    t = t[t["level"] <= 2].sort_values(["site_id", "level"]).drop_duplicates("site_id")
    return t.reset_index(drop=True)


def _matches(cases: gpd.GeoDataFrame, spec: dict[str, Any]) -> np.ndarray:
    sel = cases["category"].isin(spec["categories"]).to_numpy() if "category" in cases else \
        np.zeros(len(cases), bool)
    if "text" in cases and spec.get("keywords"):
        sel = sel | cases["text"].fillna("").astype(str).str.contains(
            "|".join(spec["keywords"]), regex=True).to_numpy()
    return sel


def zone_reports(zones: gpd.GeoDataFrame, cases: gpd.GeoDataFrame, *,
                 config: dict[str, Any] | None = None) -> pd.DataFrame:
    """Dumping and livestock reports inside any zone: ``case_id, zone_id, level, kind``.

    Livestock is matched before dumping (a report naming both counts as livestock).
    """
    cfg = config or water_config()
    lv = zone_levels(zones, config=cfg)
    fi, zi = _overlaps(zones, cases)
    live = _matches(cases, cfg["reports"]["livestock"])
    dump = _matches(cases, cfg["reports"]["dumping"])
    kind = np.where(live[fi], "livestock", np.where(dump[fi], "dumping", ""))
    t = pd.DataFrame({"case_id": cases["case_id"].astype(str).to_numpy()[fi],
                      "zone_id": zones["zone_id"].astype(str).to_numpy()[zi], "level": lv[zi],
                      "kind": kind, "pos": fi})
    t = t[t["kind"] != ""].sort_values(["case_id", "level"]).drop_duplicates("case_id")
    return t.reset_index(drop=True)


#: Layers the weekly check reads (those the catalog lacks are skipped).
LAYERS = [ZONES, "buildings", "construction_sites", "hotline_cases", "grids"]


def run_check(catalog: Any, layers: dict[str, gpd.GeoDataFrame] | None, *,
              as_of: date | None = None) -> gpd.GeoDataFrame:
    """Water-source findings for the weekly run (rules in ``config/rules/water.yaml``)."""
    layers, ok, notes = prepare("water", layers)
    frames = []
    zones = layers.get(ZONES)
    if zones is not None and ({"water_zone1_building", "water_zone2_polluting"} & ok):
        b = layers["buildings"]
        t = zone_buildings(zones, b)
        for rid in ("water_zone1_building", "water_zone2_polluting"):
            s = t[t["rule"] == rid]
            if rid in ok:
                frames.append(rule_findings(
                    rid, feature_ids=[[x, z] for x, z in zip(s["building_id"], s["zone_id"])],
                    layer="buildings", geometry=list(b.geometry.values[s["pos"].to_numpy()]),
                    measures=[{"use": u, "level": int(v)} for u, v in zip(s["use"], s["level"])],
                    crs=zones.crs))
    if zones is not None and "water_zone_site" in ok:
        s = zone_sites(zones, layers["construction_sites"])
        frames.append(rule_findings(
            "water_zone_site", feature_ids=[[x, z] for x, z in zip(s["site_id"], s["zone_id"])],
            layer="construction_sites",
            geometry=list(layers["construction_sites"].geometry.values[s["pos"].to_numpy()]),
            measures=[{"level": int(v)} for v in s["level"]], crs=zones.crs))
    if zones is not None and {"water_zone_dumping", "water_zone_livestock"} & ok:
        cases = layers["hotline_cases"]
        t = zone_reports(zones, cases)
        for rid, kind in (("water_zone_dumping", "dumping"), ("water_zone_livestock", "livestock")):
            s = t[t["kind"] == kind]
            if rid in ok:
                frames.append(rule_findings(
                    rid, feature_ids=[[x, z] for x, z in zip(s["case_id"], s["zone_id"])],
                    layer="hotline_cases", geometry=list(cases.geometry.values[s["pos"].to_numpy()]),
                    measures=[{"level": int(v)} for v in s["level"]], crs=zones.crs))
    out = assign_grids(concat_findings(frames), layers.get("grids"))
    out.attrs["notes"] = notes
    return out
