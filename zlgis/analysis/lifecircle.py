"""GB 50180-2018 audit of residential compounds: life-circle facilities and premises.

Task 1.2.3 of the 2022 plan asks for a full audit of the 13 compounds under construction and for
the shortfalls of convenience-service and property-management premises to be fixed. For every
compound (those under construction by default) :func:`lifecircle_audit` measures the walking
distance on the street network (the coverage engine, :func:`zlgis.analysis.coverage.facility_distances`)
to the nearest facility of each category that the 5-, 10- and 15-minute life circles and the
residential block (居住街坊) ask for (GB 50180-2018 §3.0.4, §5.0.2, Appendix B); a facility
farther than the level's walking distance, or none at all, is a shortfall, listed with the
clause that asks for it. Levels are not cumulative: a 15-minute facility does not replace a
5-minute one (explanatory text to §5.0.2). :func:`premises_audit` compares the floor area of
property-management and convenience-service premises inside the compound with the area the
configured rules ask for (example values in ``compounds.yaml``, to confirm locally).

Walking distances and facility lists live in ``zlgis/config/compounds.yaml``.

Examples
--------
One street, a compound at its west end (15 m off the street), a kindergarten 250 m and a primary
school 700 m along it (10 m off the street):

>>> import geopandas as gpd
>>> from shapely.geometry import LineString, box
>>> from zlgis.analysis.network import StreetGraph
>>> g = StreetGraph.from_roads(gpd.GeoDataFrame(geometry=[LineString([(0, 0), (2000, 0)])],
...                                             crs="EPSG:4550"))
>>> comp = gpd.GeoDataFrame({"compound_id": ["XQ1"], "under_construction": [True]},
...                         geometry=[box(-10, 5, 10, 25)], crs="EPSG:4550")
>>> fac = gpd.GeoDataFrame({"facility_id": ["F1", "F2"], "category": ["幼儿园", "小学"]},
...     geometry=[box(245, 5, 255, 15), box(695, 5, 705, 15)], crs="EPSG:4550")
>>> levels = {"min5": {"title": "五分钟生活圈", "walk_m": 300, "facilities": {"幼儿园": {"clause": "B.0.2"}}},
...           "min10": {"title": "十分钟生活圈", "walk_m": 500, "facilities": {"小学": {"clause": "B.0.1"}}}}
>>> a = lifecircle_audit(comp, fac, graph=g, levels=levels)
>>> a[["category", "distance_m", "ok"]].values.tolist()
[['幼儿园', 275.0, True], ['小学', 725.0, False]]
"""

from __future__ import annotations

from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from ..errors import InputError
from ..findings import concat_findings
from ._ruled import rule_findings, value
from .compounds import check_areas, compounds_config
from .coverage import facility_distances
from .network import StreetGraph

__all__ = ["lifecircle_audit", "premises_audit", "audit_findings"]

AUDIT_COLUMNS = ("compound_id", "level", "level_title", "category", "clause", "limit_m",
                 "distance_m", "facility_id", "ok")


def _targets(compounds: gpd.GeoDataFrame, only_under_construction: bool) -> gpd.GeoDataFrame:
    if only_under_construction and "under_construction" in compounds:
        return compounds[compounds["under_construction"].astype("boolean").fillna(False)
                         .to_numpy(bool)]
    return compounds


def lifecircle_audit(compounds: gpd.GeoDataFrame, facilities: gpd.GeoDataFrame, *,
                     graph: StreetGraph, levels: dict[str, Any] | None = None,
                     only_under_construction: bool = True) -> pd.DataFrame:
    """Walking distance from each compound to each life-circle facility it needs.

    Parameters
    ----------
    compounds : GeoDataFrame
        ``residential_compounds``; a compound stands by a point inside it.
    facilities : GeoDataFrame
        ``compound_facilities`` (``facility_id``, ``category``); a facility that touches the
        compound is at distance 0.
    graph : StreetGraph
        The walking network.
    levels : dict, optional
        ``life_circles.levels`` of ``compounds.yaml`` (level -> title, walk_m, facilities).

    Returns
    -------
    DataFrame
        One row per compound and required category: ``compound_id, level, level_title, category,
        clause, limit_m, distance_m`` (inf when none is reachable), ``facility_id, ok``.
    """
    levels = levels if levels is not None else compounds_config()["life_circles"]["levels"]
    comps = _targets(compounds, only_under_construction)
    rows: list[dict[str, Any]] = []
    if not len(comps):
        return pd.DataFrame(columns=list(AUDIT_COLUMNS))
    cgeom = np.asarray(comps.geometry.values, dtype=object)
    pts = gpd.GeoDataFrame(geometry=shapely.point_on_surface(cgeom), crs=comps.crs)
    cat = facilities["category"].astype(str) if len(facilities) else pd.Series(dtype=str)
    if len(facilities):   # the columns used only: a row filter takes every column
        facilities = facilities[[c for c in ("facility_id", facilities.geometry.name)
                                 if c in facilities]]
    cids = comps["compound_id"].astype(str).tolist()   # once, not an Arrow walk per category
    for level, spec in levels.items():
        limit = float(value(spec["walk_m"]))
        for category, fspec in spec["facilities"].items():
            fac = facilities[(cat == category).to_numpy()] if len(facilities) else facilities
            if len(fac):
                fpts = gpd.GeoDataFrame(
                    geometry=shapely.point_on_surface(np.asarray(fac.geometry.values)),
                    crs=fac.crs)
                d = facility_distances(pts, fpts, radius=limit, method="network", graph=graph)
                dist = d["distance"].to_numpy(float, copy=True)
                pos = d["facility"].to_numpy(copy=True)
                # a facility touching the compound serves it at distance 0
                ci, fi = shapely.STRtree(np.asarray(fac.geometry.values)).query(
                    cgeom, predicate="intersects")
                dist[ci], pos[ci] = 0.0, fi
                fids = fac["facility_id"].astype(str).to_numpy()
            else:
                dist, pos, fids = np.full(len(comps), np.inf), np.full(len(comps), -1), np.array([])
            for k, cid in enumerate(cids):
                dk = float(dist[k]) if np.isfinite(dist[k]) else float("inf")
                rows.append({"compound_id": cid, "level": level, "level_title": spec["title"],
                             "category": category,
                             "clause": f"GB 50180-2018 {fspec.get('clause', '')}".strip(),
                             "limit_m": limit, "distance_m": round(dk, 1),
                             "facility_id": fids[pos[k]] if pos[k] >= 0 and np.isfinite(dk) else "",
                             "ok": bool(dk <= limit)})
    return pd.DataFrame(rows, columns=list(AUDIT_COLUMNS))


def premises_audit(compounds: gpd.GeoDataFrame, facilities: gpd.GeoDataFrame,
                   buildings: gpd.GeoDataFrame | None, *, config: dict[str, Any] | None = None,
                   only_under_construction: bool = True) -> pd.DataFrame:
    """Property-management and convenience-service premises against the configured minimum.

    Property management: at least ``min_share_of_floor_area`` of the compound's floor area
    (buildings' footprint x floors) and at least ``min_m2``. Convenience service:
    ``m2_per_100_households``. Premises are the ``compound_facilities`` of those categories with
    this ``compound_id``, summed over ``floor_area_m2``; a provided area equal to the required
    one (both to 0.1 m2) is enough.

    Returns
    -------
    DataFrame
        ``compound_id, kind, required_m2, provided_m2, ok, clause``.
    """
    cfg = config or compounds_config()
    comps = _targets(compounds, only_under_construction)
    check_areas(comps)
    prem = cfg["premises"]
    floor = pd.Series(dtype=float)
    if buildings is not None and len(buildings) and "compound_id" in buildings:
        fl = pd.to_numeric(buildings.get("floors"), errors="coerce").fillna(1).to_numpy()
        area = buildings.geometry.area.to_numpy() * fl
        floor = pd.Series(area).groupby(buildings["compound_id"].astype(str).to_numpy()).sum()
    rows = []
    fac_cid = (facilities["compound_id"].astype(object).fillna("").astype(str)
               if "compound_id" in facilities else pd.Series("", index=facilities.index))
    fac_area = (pd.to_numeric(facilities.get("floor_area_m2"), errors="coerce")
                if "floor_area_m2" in facilities else pd.Series(np.nan, index=facilities.index))
    kinds = prem["property_management"]["categories"] + prem["convenience_service"]["categories"]
    need = (fac_cid.isin(comps["compound_id"].astype(str)) & facilities["category"].isin(kinds)
            & fac_area.isna()).to_numpy() if len(facilities) else np.zeros(0, bool)
    if need.any():
        raise InputError("配套用房缺少建筑面积，无法核算物业用房、便民服务用房",
                         layer="compound_facilities", row=int(np.flatnonzero(need)[0]) + 1,
                         field="floor_area_m2")
    for _, c in comps.iterrows():
        cid = str(c["compound_id"])
        mine = (fac_cid == cid).to_numpy()
        hh = float(pd.to_numeric(c.get("planned_households", c.get("households")),
                                 errors="coerce") or 0)
        total = float(floor.get(cid, 0.0))
        pm = prem["property_management"]
        need_pm = max(float(value(pm["min_m2"])), float(value(pm["min_share_of_floor_area"])) * total)
        have_pm = float(fac_area[mine & facilities["category"].isin(pm["categories"]).to_numpy()].sum())
        cs = prem["convenience_service"]
        need_cs = float(value(cs["m2_per_100_households"])) * hh / 100.0
        have_cs = float(fac_area[mine & facilities["category"].isin(cs["categories"]).to_numpy()].sum())
        rows.append({"compound_id": cid, "kind": "property_management", "required_m2": round(need_pm, 1),
                     "provided_m2": round(have_pm, 1), "ok": have_pm >= round(need_pm, 1),
                     "clause": pm["clause"]})
        rows.append({"compound_id": cid, "kind": "convenience_service", "required_m2": round(need_cs, 1),
                     "provided_m2": round(have_cs, 1), "ok": have_cs >= round(need_cs, 1),
                     "clause": cs["clause"]})
    return pd.DataFrame(rows, columns=["compound_id", "kind", "required_m2", "provided_m2", "ok",
                                       "clause"])


_KIND_RULE = {"property_management": ("property_premises_short", "物业管理用房"),
              "convenience_service": ("convenience_premises_short", "便民服务用房")}


def audit_findings(layers: dict[str, gpd.GeoDataFrame], *, rules: set[str],
                   graph: StreetGraph | None = None) -> gpd.GeoDataFrame:
    """Findings of the audit of compounds under construction (one per shortfall)."""
    comps = layers["residential_compounds"]
    fac = layers.get("compound_facilities")
    if fac is None:
        return concat_findings([])
    target = _targets(comps, True)
    where = dict(zip(target["compound_id"].astype(str),
                     shapely.point_on_surface(np.asarray(target.geometry.values))))
    names = dict(zip(target["compound_id"].astype(str),
                     target.get("name", target["compound_id"]).astype(str)))
    frames = []
    if "lifecircle_shortfall" in rules and "roads" in layers:
        if graph is None:
            from .coverage import street_graph
            graph = street_graph(layers)
        a = lifecircle_audit(comps, fac, graph=graph)
        short = a[~a["ok"]]
        frames.append(rule_findings(
            "lifecircle_shortfall",
            feature_ids=[[c, cat] for c, cat in zip(short["compound_id"], short["category"])],
            layer="residential_compounds", geometry=[where[c] for c in short["compound_id"]],
            title=[f"在建小区{names[c]}：{lt}缺{cat}（{'步行范围内无' if not np.isfinite(d) else f'最近{d:.0f}米'}，"
                   f"应≤{lim:.0f}米，{cl}）" for c, lt, cat, d, lim, cl in
                   zip(short["compound_id"], short["level_title"], short["category"],
                       short["distance_m"], short["limit_m"], short["clause"])],
            measures=[{"distance_m": (float(d) if np.isfinite(d) else None), "limit_m": float(lim),
                       "level": lv, "clause": cl} for d, lim, lv, cl in
                      zip(short["distance_m"], short["limit_m"], short["level"], short["clause"])],
            measure_key="limit_m", measure_unit="m", crs=comps.crs))
    want = {k for k, (rid, _) in _KIND_RULE.items() if rid in rules}
    if want:
        p = premises_audit(comps, fac, layers.get("buildings"))
        for kind in want:
            rid, label = _KIND_RULE[kind]
            s = p[(p["kind"] == kind) & ~p["ok"]]
            frames.append(rule_findings(
                rid, feature_ids=[[c] for c in s["compound_id"]], layer="residential_compounds",
                geometry=[where[c] for c in s["compound_id"]],
                title=[f"在建小区{names[c]}：{label}{have:.0f}㎡，应不少于{need:.0f}㎡"
                       for c, have, need in zip(s["compound_id"], s["provided_m2"], s["required_m2"])],
                measures=[{"required_m2": float(r), "provided_m2": float(h),
                           "shortfall_m2": round(float(r) - float(h), 1)}
                          for r, h in zip(s["required_m2"], s["provided_m2"])],
                measure_key="shortfall_m2", measure_unit="m2", crs=comps.crs))
    return concat_findings(frames)
