"""Green islands and parks: inventory against the plan, maintenance zones, park checklists.

The plan's tasks 3.1.1 (10 pocket parks, 29.2万 m²), 3.1.2 (476 road green islands, 4.1万 m², and
their maintenance), 3.1.4 (吊桥公园: seats, toilets, fitness equipment, barrier-free access) and
3.1.5 (a science-education zone in the wetland park). Numbers in ``zlgis/config/greenspace.yaml``.

============================  =====  =========================================================
rule                          task   what is flagged
============================  =====  =========================================================
``green_inventory_mismatch``  3.1.2  count or total area differing from the plan's figure; an
                                     item whose area field differs from its drawn area
``green_unassigned``          3.1.2  an island or park in no maintenance zone
``green_multi_assigned``      3.1.2  an island or park claimed by two or more zones
``park_facility_missing``     3.1.4  a checklist item of 吊桥公园 below its minimum
``wetland_zone_blue_line``    3.1.5  the wetland park's education zone missing, outside the
                                     park, or inside the blue line
============================  =====  =========================================================

Examples
--------
>>> import geopandas as gpd
>>> from shapely.geometry import box
>>> items = gpd.GeoDataFrame({"island_id": ["A", "B", "C"]},
...     geometry=[box(0, 0, 2, 2), box(10, 0, 12, 2), box(30, 0, 32, 2)], crs="EPSG:4550")
>>> zones = gpd.GeoDataFrame({"zone_id": ["Z1", "Z2"]},
...     geometry=[box(-1, -1, 15, 5), box(9, -1, 20, 5)], crs="EPSG:4550")
>>> maintenance_assignment(items, zones, id_field="island_id")[["item_id", "zones"]].values.tolist()
[['A', 'Z1'], ['B', 'Z1;Z2'], ['C', '']]
"""

from __future__ import annotations

import datetime as _dt
from collections.abc import Mapping
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from ..catalog import Catalog
from ..config import load_config
from ..errors import ConfigError
from ..findings import concat_findings, empty_findings, make_findings
from ..rules import missing_needs, rule, skip_message

__all__ = [
    "LAYERS",
    "load_green_config",
    "inventory",
    "maintenance_assignment",
    "park_checklist",
    "wetland_zone",
    "analyse",
    "findings_from",
    "run_check",
]

LAYERS = ("green_islands", "parks", "maintenance_zones", "park_facilities", "toilets",
          "park_zones", "blue_lines")
_ID = {"green_islands": "island_id", "parks": "park_id"}


def load_green_config(config: Mapping[str, Any] | None = None) -> dict[str, Any]:
    """The green-space configuration: ``config`` itself or ``greenspace.yaml`` (checked).

    >>> load_green_config()["inventory"]["items"]["green_islands"]["count"]
    476
    """
    cfg = dict(config) if config is not None else dict(load_config("greenspace"))
    for key in ("inventory", "maintenance", "park_checklist", "wetland"):
        if not isinstance(cfg.get(key), Mapping):
            raise ConfigError(f"绿地配置 greenspace.yaml：缺少 {key} 部分", path="greenspace.yaml")
    return cfg


def _filtered(frame: gpd.GeoDataFrame, flt: Mapping[str, Any] | None) -> gpd.GeoDataFrame:
    for col, val in (flt or {}).items():
        if col not in frame:
            return frame.iloc[:0]
        frame = frame[frame[col] == val]
    return frame


def inventory(layers: Mapping[str, gpd.GeoDataFrame], *,
              config: Mapping[str, Any] | None = None) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Counts and areas against the plan's figures, and items whose area field is off.

    Returns
    -------
    (DataFrame, DataFrame)
        Per plan item: ``item``, ``title``, ``count``, ``plan_count``, ``area_m2`` (drawn),
        ``plan_area_m2``, ``area_diff`` (share), ``count_ok``, ``area_ok``; and per feature
        whose ``area_m2`` field differs from its drawn area: ``item``, ``layer``, ``feature_id``,
        ``field_m2``, ``drawn_m2``, ``diff``.
    """
    cfg = load_green_config(config)["inventory"]
    tol, item_tol = float(cfg["area_tolerance"]), float(cfg["item_area_tolerance"])
    rows, bad = [], []
    for key, spec in cfg["items"].items():
        frame = layers.get(spec["layer"])
        if frame is None:
            continue
        sel = _filtered(frame, spec.get("filter"))
        drawn = shapely.area(sel.geometry.values)
        area = float(drawn.sum())
        plan_area = float(spec["area_m2"])
        diff = (area - plan_area) / plan_area if plan_area else np.nan
        rows.append({"item": key, "title": spec["title"], "count": int(len(sel)),
                     "plan_count": int(spec["count"]), "area_m2": round(area, 1),
                     "plan_area_m2": plan_area, "area_diff": round(diff, 4),
                     "count_ok": int(len(sel)) == int(spec["count"]),
                     "area_ok": bool(abs(diff) <= tol)})
        if "area_m2" in sel:
            field = pd.to_numeric(sel["area_m2"], errors="coerce").to_numpy(float)
            rel = np.abs(field - drawn) / np.where(drawn > 0, drawn, np.nan)
            off = ~np.isfinite(field) | (rel > item_tol)
            idf = _ID.get(spec["layer"], sel.columns[0])
            for fid, fv, dv in zip(sel[idf].to_numpy()[off], field[off], drawn[off]):
                bad.append({"item": key, "layer": spec["layer"], "feature_id": str(fid),
                            "field_m2": fv, "drawn_m2": round(float(dv), 1),
                            "diff": round(float((fv - dv) / dv), 4) if dv and np.isfinite(fv)
                            else np.nan})
    return (pd.DataFrame(rows), pd.DataFrame(bad, columns=["item", "layer", "feature_id",
                                                           "field_m2", "drawn_m2", "diff"]))


def maintenance_assignment(items: gpd.GeoDataFrame, zones: gpd.GeoDataFrame, *,
                           id_field: str, zone_field: str = "zone_id") -> pd.DataFrame:
    """The maintenance zones holding each item's representative point.

    Returns
    -------
    DataFrame
        ``item_id``, ``zones`` (";"-joined, sorted), ``n_zones`` (0: unassigned, 2+: claimed
        twice).
    """
    pts = shapely.point_on_surface(items.geometry.values)
    pi, zi = zones.sindex.query(pts, predicate="within")
    zid = zones[zone_field].astype(str).to_numpy()
    claimed = pd.Series(zid[zi], index=pi).groupby(level=0).agg(
        lambda s: ";".join(sorted(set(s))))
    out = pd.DataFrame({"item_id": items[id_field].astype(str).to_numpy()})
    out["zones"] = pd.Series(claimed).reindex(range(len(items))).fillna("").to_numpy()
    out["n_zones"] = [len(z.split(";")) if z else 0 for z in out["zones"]]
    return out


def park_checklist(layers: Mapping[str, gpd.GeoDataFrame], *,
                   config: Mapping[str, Any] | None = None) -> pd.DataFrame:
    """吊桥公园 (or the configured park) against its facility checklist.

    Returns
    -------
    DataFrame
        Per item: ``key``, ``title``, ``count`` (inside the park or within ``near_m``),
        ``min_count``, ``ok``, ``source``; empty when the park is not found.
    """
    cfg = load_green_config(config)["park_checklist"]
    parks = layers.get("parks")
    if parks is None:
        return pd.DataFrame()
    park = parks[parks["name"] == cfg["park"]]
    if not len(park):
        return pd.DataFrame()
    area = shapely.buffer(shapely.union_all(park.geometry.values), float(cfg["near_m"]))
    rows = []
    for item in cfg["items"]:
        frame = layers.get(item["layer"])
        count = None
        if frame is not None:
            sel = _filtered(frame, item.get("filter"))
            count = int(shapely.intersects(sel.geometry.values, area).sum())
        rows.append({"key": item["key"], "title": item["title"], "count": count,
                     "min_count": int(item["min_count"]),
                     "ok": count is not None and count >= int(item["min_count"]),
                     "source": item["source"], "layer": item["layer"]})
    out = pd.DataFrame(rows)
    out.attrs["park_id"] = str(park["park_id"].iloc[0])
    out.attrs["geometry"] = shapely.union_all(park.geometry.values)
    return out


def wetland_zone(layers: Mapping[str, gpd.GeoDataFrame], *,
                 config: Mapping[str, Any] | None = None) -> pd.DataFrame:
    """The wetland park's education zone against the park and the blue lines.

    Returns
    -------
    DataFrame
        Per wetland park: ``park_id``, ``zone_id`` (empty when no zone), ``zone_m2``,
        ``outside_park_m2``, ``in_blue_m2`` and ``problem`` (Chinese, empty when fine), with
        the geometry to show in ``geometry``.
    """
    cfg = load_green_config(config)["wetland"]
    parks = layers.get("parks")
    if parks is None:
        return pd.DataFrame()
    wet = parks[parks["category"] == cfg["park_category"]]
    zones = layers.get("park_zones")
    zones = zones[zones["kind"] == cfg["zone_kind"]] if zones is not None else None
    blue = layers.get("blue_lines")
    blue_u = shapely.union_all(blue.geometry.values) if blue is not None and len(blue) else None
    rows = []
    for pid, pg in zip(wet["park_id"].astype(str), wet.geometry.values):
        mine = (zones[shapely.intersects(zones.geometry.values, pg)] if zones is not None
                else None)
        if mine is None or not len(mine):
            rows.append({"park_id": pid, "zone_id": "", "zone_m2": 0.0, "outside_park_m2": 0.0,
                         "in_blue_m2": 0.0, "problem": f"湿地公园尚无{cfg['zone_kind']}",
                         "geometry": pg})
            continue
        for zid, zg in zip(mine["zone_id"].astype(str), mine.geometry.values):
            outside = float(shapely.area(shapely.difference(zg, pg)))
            inblue = float(shapely.area(shapely.intersection(zg, blue_u))) if blue_u else 0.0
            probs = []
            if outside > float(cfg["max_blue_overlap_m2"]):
                probs.append(f"{outside:.0f} 平方米在公园范围外")
            if inblue > float(cfg["max_blue_overlap_m2"]):
                probs.append(f"{inblue:.0f} 平方米位于城市蓝线内")
            rows.append({"park_id": pid, "zone_id": zid, "zone_m2": round(float(zg.area), 1),
                         "outside_park_m2": round(outside, 1), "in_blue_m2": round(inblue, 1),
                         "problem": "；".join(probs),
                         "geometry": shapely.intersection(zg, blue_u) if inblue and blue_u
                         else zg})
    return pd.DataFrame(rows)


def analyse(layers: Mapping[str, gpd.GeoDataFrame], *,
            config: Mapping[str, Any] | None = None) -> dict[str, Any]:
    """Every green-space analysis that the given layers allow."""
    cfg = load_green_config(config)
    totals, items = inventory(layers, config=cfg)
    assign = {}
    zones = layers.get("maintenance_zones")
    if zones is not None:
        for lid in cfg["maintenance"]["layers"]:
            if layers.get(lid) is not None:
                assign[lid] = maintenance_assignment(layers[lid], zones, id_field=_ID[lid])
    return {"inventory": totals, "inventory_items": items, "assignment": assign,
            "checklist": park_checklist(layers, config=cfg),
            "wetland": wetland_zone(layers, config=cfg)}


def findings_from(result: Mapping[str, Any], layers: Mapping[str, gpd.GeoDataFrame], *,
                  crs: Any, config: Mapping[str, Any] | None = None) -> gpd.GeoDataFrame:
    """The green-space findings from :func:`analyse`."""
    cfg = load_green_config(config)["inventory"]["items"]
    frames = []
    inv = result["inventory"]
    off = inv[~(inv["count_ok"] & inv["area_ok"])] if len(inv) else inv
    for r in off.itertuples():
        spec = cfg[r.item]
        sel = _filtered(layers[spec["layer"]], spec.get("filter"))
        frames.append(make_findings(
            rule="green_inventory_mismatch", layer=spec["layer"], crs=crs,
            geometry=[shapely.envelope(shapely.union_all(sel.geometry.values))],
            feature_ids=[[f"plan:{r.item}"]],
            title=[f"{r.title}数量或面积与实施方案不符：{r.count} 个 / {r.area_m2:.0f} 平方米"
                   f"（方案 {r.plan_count} 个 / {r.plan_area_m2:.0f} 平方米）"],
            measures=[{"count": int(r.count), "plan_count": int(r.plan_count),
                       "area_m2": r.area_m2, "plan_area_m2": r.plan_area_m2,
                       "area_diff": r.area_diff}],
            measure_key="area_diff", measure_unit="ratio"))
    items = result["inventory_items"]
    for lay, part in items.groupby("layer", sort=True):
        f = layers[lay]
        pos = pd.Index(f[_ID[lay]].astype(str)).get_indexer(part["feature_id"])
        frames.append(make_findings(
            rule="green_inventory_mismatch", layer=lay, crs=crs, geometry=f.geometry.values[pos],
            feature_ids=[[i] for i in part["feature_id"]],
            title=[f"面积字段 {fv:.0f} 平方米与图形面积 {dv:.0f} 平方米不符" for fv, dv in
                   zip(part["field_m2"].fillna(0), part["drawn_m2"])],
            measures=[{"field_m2": fv, "drawn_m2": dv, "diff": d} for fv, dv, d in
                      zip(part["field_m2"], part["drawn_m2"], part["diff"])],
            measure_key="diff", measure_unit="ratio"))
    for lid, a in result["assignment"].items():
        geo = layers[lid].geometry.values
        for rid, mask in (("green_unassigned", a["n_zones"] == 0),
                          ("green_multi_assigned", a["n_zones"] >= 2)):
            m = mask.to_numpy()
            frames.append(make_findings(
                rule=rid, layer=lid, crs=crs, geometry=geo[m],
                feature_ids=[[i] + ([z] if z else []) for i, z in
                             zip(a["item_id"][m], a["zones"][m])],
                measures=[{"n_zones": int(n)} for n in a["n_zones"][m]],
                measure_key="n_zones", measure_unit=""))
    ck = result["checklist"]
    if len(ck):
        miss = ck[~ck["ok"]]
        frames.append(make_findings(
            rule="park_facility_missing", layer="parks", crs=crs,
            geometry=[ck.attrs["geometry"]] * len(miss),
            feature_ids=[[ck.attrs["park_id"], k] for k in miss["key"]],
            title=[f"吊桥公园{t}不足：{'未提供图层' if c is None or pd.isna(c) else int(c)}"
                   f"（应不少于 {m}）" for t, c, m in
                   zip(miss["title"], miss["count"], miss["min_count"])],
            measures=[{"count": None if pd.isna(c) else int(c), "min_count": int(m)}
                      for c, m in zip(miss["count"], miss["min_count"])],
            measure_key="count", measure_unit="个"))
    wz = result["wetland"]
    if len(wz):
        bad = wz[wz["problem"] != ""]
        frames.append(make_findings(
            rule="wetland_zone_blue_line", layer="park_zones", crs=crs,
            geometry=bad["geometry"].to_numpy(),
            feature_ids=[[z or f"{p}:无宣教区", p] for z, p in zip(bad["zone_id"], bad["park_id"])],
            title=[f"湿地公园科普宣教区：{p}" for p in bad["problem"]],
            measures=[{"in_blue_m2": b, "outside_park_m2": o, "zone_m2": z} for b, o, z in
                      zip(bad["in_blue_m2"], bad["outside_park_m2"], bad["zone_m2"])],
            measure_key="in_blue_m2", measure_unit="m2"))
    return concat_findings(frames) if frames else empty_findings(crs)


def run_check(catalog: Catalog, layers: Mapping[str, gpd.GeoDataFrame] | None = None, *,
              as_of: _dt.date | None = None) -> gpd.GeoDataFrame:
    """The green-space rules for the weekly run (rules whose layers are missing are skipped)."""
    layers = dict(layers or {})
    notes = [skip_message(r, m) for r in (rule(i) for i in (
        "green_inventory_mismatch", "green_unassigned", "green_multi_assigned",
        "park_facility_missing", "wetland_zone_blue_line")) if (m := missing_needs(r, layers))]
    result = analyse(layers)
    out = findings_from(result, layers, crs=catalog.working_crs)
    out.attrs["notes"] = notes
    return out
