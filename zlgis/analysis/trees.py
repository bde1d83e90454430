"""Trees (树木): ancient-tree protection zones, street-tree gaps, fallen trees not cleared.

The plan's tasks 3.1.6 (protect ancient and notable trees and reserve trees, keep their records,
replant street trees) and 3.1.3 (clear wind-broken branches and fallen trees immediately), lead
住建局. Numbers live in ``zlgis/config/trees.yaml``; rules in ``config/rules/trees.yaml``.

=========================  =====  ============================================================
rule                       task   what is flagged
=========================  =====  ============================================================
``tree_zone_intrusion``    3.1.6  a building, construction site or road works inside an
                                  ancient tree's protection zone (crown projection + margin)
``street_tree_gap``        3.1.6  a stretch of a planted road with no street tree within
                                  reach (the replanting list, 补植)
``fallen_tree_overdue``    3.1.3  a fallen tree or broken branch not cleared within N hours
=========================  =====  ============================================================

Examples
--------
>>> import geopandas as gpd
>>> from shapely.geometry import Point, box
>>> trees = gpd.GeoDataFrame({"tree_id": ["T1"], "grade": ["一级古树"], "crown_m": [10.0]},
...                          geometry=[Point(0, 0)], crs="EPSG:4550")
>>> z = protection_zones(trees)
>>> float(z["radius_m"].iloc[0])  # crown radius 5 m + margin 5 m
10.0
>>> b = gpd.GeoDataFrame({"building_id": ["B1"]}, geometry=[box(8, -2, 20, 2)], crs="EPSG:4550")
>>> zone_intrusions(z, {"buildings": (b, "building_id")})[["tree_id", "feature_id"]].values.tolist()
[['T1', 'B1']]
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
from .delays import PROBLEM_COLUMNS, repair_delays
from .stretches import unserved_stretches

__all__ = [
    "LAYERS",
    "load_tree_config",
    "register_trees",
    "protection_zones",
    "zone_intrusions",
    "street_tree_gaps",
    "fallen_delays",
    "analyse",
    "findings_from",
    "run_check",
]

LAYERS = ("ancient_trees", "trees", "roads", "buildings", "construction_sites", "road_works",
          "tree_incidents")
#: layers checked against protection zones, with their id field
_INTRUDERS = {"buildings": "building_id", "construction_sites": "site_id",
              "road_works": "work_id"}


def load_tree_config(config: Mapping[str, Any] | None = None) -> dict[str, Any]:
    """The tree configuration: ``config`` itself or ``trees.yaml`` (checked).

    >>> load_tree_config()["protection"]["margin_m"]["一级古树"]
    5
    """
    cfg = dict(config) if config is not None else dict(load_config("trees"))
    for key in ("protection", "street_trees", "fallen"):
        if not isinstance(cfg.get(key), Mapping):
            raise ConfigError(f"树木配置 trees.yaml：缺少 {key} 部分", path="trees.yaml")
    return cfg


def register_trees(layers: Mapping[str, gpd.GeoDataFrame], *,
                   config: Mapping[str, Any] | None = None) -> gpd.GeoDataFrame | None:
    """The ancient and notable trees: the register (``ancient_trees``) or the graded tree layer.

    Trees of the tree layer whose grade is a protected one and that the register lacks are
    added, so a tree is protected once it is graded anywhere.
    """
    cfg = load_tree_config(config)["protection"]
    frames = []
    reg = layers.get("ancient_trees")
    if reg is not None and len(reg):
        frames.append(reg)
    trees = layers.get("trees")
    if trees is not None and "grade" in trees:
        graded = trees[trees["grade"].isin(cfg["grades"])]
        if reg is not None and len(reg):
            graded = graded[~graded["tree_id"].astype(str).isin(set(reg["tree_id"].astype(str)))]
        frames.append(graded)
    frames = [f for f in frames if len(f)]
    if not frames:
        return None
    return gpd.GeoDataFrame(pd.concat(frames, ignore_index=True), geometry="geometry",
                            crs=frames[0].crs)


def protection_zones(trees: gpd.GeoDataFrame, *, config: Mapping[str, Any] | None = None
                     ) -> gpd.GeoDataFrame:
    """Protection zone of each protected tree: a circle of crown radius plus the grade's margin.

    Parameters
    ----------
    trees : GeoDataFrame
        ``tree_id``, ``grade`` and optionally ``crown_m`` (crown diameter, m).

    Returns
    -------
    GeoDataFrame
        ``tree_id``, ``grade``, ``crown_m`` (measured or default), ``crown_source``,
        ``radius_m`` and the zone polygon.
    """
    cfg = load_tree_config(config)["protection"]
    t = trees[trees["grade"].isin(cfg["grades"])]
    default = t["grade"].map(cfg["default_crown_m"]).astype(float)
    crown = (pd.to_numeric(t["crown_m"], errors="coerce") if "crown_m" in t
             else pd.Series(np.nan, index=t.index))
    measured = crown.notna() & (crown > 0)
    crown = crown.where(measured, default)
    radius = crown / 2 + t["grade"].map(cfg["margin_m"]).astype(float)
    return gpd.GeoDataFrame({
        "tree_id": t["tree_id"].astype(str).to_numpy(), "grade": t["grade"].to_numpy(),
        "crown_m": crown.to_numpy(float),
        "crown_source": np.where(measured, "档案冠幅", "默认冠幅（示例值）"),
        "radius_m": radius.to_numpy(float)},
        geometry=shapely.buffer(t.geometry.values, radius.to_numpy(float), quad_segs=16),
        crs=trees.crs)


def zone_intrusions(zones: gpd.GeoDataFrame,
                    others: Mapping[str, tuple[gpd.GeoDataFrame, str]], *,
                    config: Mapping[str, Any] | None = None) -> gpd.GeoDataFrame:
    """Features of other layers overlapping a protection zone.

    Parameters
    ----------
    zones : GeoDataFrame
        From :func:`protection_zones`.
    others : dict
        Layer id -> (frame, id field).

    Returns
    -------
    GeoDataFrame
        ``tree_id``, ``layer``, ``feature_id``, ``overlap_m2``, ``distance_m`` (from the trunk)
        and the overlap polygon.
    """
    cfg = load_tree_config(config)["protection"]
    rows = []
    for layer, (frame, idf) in others.items():
        if frame is None or not len(frame) or not len(zones):
            continue
        zi, fi = frame.sindex.query(zones.geometry.values, predicate="intersects")
        if not len(zi):
            continue
        inter = shapely.intersection(zones.geometry.values[zi], frame.geometry.values[fi])
        area = shapely.area(inter)
        # points and lines (works drawn as a point) count when they touch the zone
        is_poly = np.isin(shapely.get_type_id(frame.geometry.values[fi]), [3, 6])
        ok = ~is_poly | (area > float(cfg["min_overlap_m2"]))
        trunk = shapely.centroid(zones.geometry.values[zi])
        rows.append(gpd.GeoDataFrame({
            "tree_id": zones["tree_id"].to_numpy()[zi][ok], "layer": layer,
            "feature_id": frame[idf].astype(str).to_numpy()[fi][ok],
            "overlap_m2": np.round(area[ok], 1),
            "distance_m": np.round(shapely.distance(trunk, frame.geometry.values[fi])[ok], 1)},
            geometry=inter[ok], crs=zones.crs))
    if not rows:
        return gpd.GeoDataFrame({"tree_id": [], "layer": [], "feature_id": [], "overlap_m2": [],
                                 "distance_m": []}, geometry=[], crs=zones.crs)
    return gpd.GeoDataFrame(pd.concat(rows, ignore_index=True), geometry="geometry",
                            crs=zones.crs)


def street_tree_gaps(roads: gpd.GeoDataFrame, trees: gpd.GeoDataFrame, *,
                     config: Mapping[str, Any] | None = None) -> gpd.GeoDataFrame:
    """Gaps in the street-tree rows of planted roads (the replanting list, 补植).

    A road of a planted class is planted when at least ``min_trees_per_road`` street trees
    have it as their nearest road (within ``max_offset_m``); a gap is a stretch of it with no
    street tree within ``reach_m`` (trees of either side serve the centreline).

    Returns
    -------
    GeoDataFrame
        Stretches (as :func:`zlgis.analysis.stretches.unserved_stretches`) with ``road_class``
        and ``trees`` (street trees of the road).
    """
    cfg = load_tree_config(config)["street_trees"]
    st = trees[trees["grade"] == cfg["grade"]] if "grade" in trees else trees
    sel = roads[roads["road_class"].isin(cfg["classes"])].reset_index(drop=True)
    ti, ri = sel.sindex.nearest(st.geometry.values, max_distance=float(cfg["max_offset_m"]),
                                return_all=False)
    counts = np.bincount(ri, minlength=len(sel))
    sel = sel.assign(trees=counts)
    sel = sel[counts >= int(cfg["min_trees_per_road"])].reset_index(drop=True)
    out = unserved_stretches(sel, st.geometry.values, reach=float(cfg["reach_m"]),
                             min_length=float(cfg["min_length_m"]))
    rows = out.pop("_row").to_numpy()
    out.insert(1, "road_class", sel["road_class"].to_numpy()[rows])
    out["trees"] = sel["trees"].to_numpy()[rows]
    return out


def fallen_delays(incidents: pd.DataFrame, *, as_of: _dt.date | None = None,
                  config: Mapping[str, Any] | None = None) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Hours from report to clearing of each fallen tree or broken branch (see ``repair_delays``)."""
    cfg = load_tree_config(config)["fallen"]
    return repair_delays(incidents, id_field="incident_id", max_hours=float(cfg["max_hours"]),
                         as_of=as_of, start="reported_at", end="cleared_at",
                         layer="tree_incidents", end_label="清理")


def analyse(layers: Mapping[str, gpd.GeoDataFrame], *, as_of: _dt.date | None = None,
            config: Mapping[str, Any] | None = None) -> dict[str, Any]:
    """Every tree analysis that the given layers allow.

    Returns
    -------
    dict
        ``zones``, ``intrusions``, ``gaps``, ``incidents`` (with delays; None when a layer is
        missing) and ``problems`` (rows not used, with reasons).
    """
    cfg = load_tree_config(config)
    out: dict[str, Any] = {"zones": None, "intrusions": None, "gaps": None, "incidents": None}
    problems = [pd.DataFrame(columns=PROBLEM_COLUMNS)]
    reg = register_trees(layers, config=cfg)
    if reg is not None:
        out["zones"] = protection_zones(reg, config=cfg)
        others = {lid: (layers[lid], idf) for lid, idf in _INTRUDERS.items()
                  if layers.get(lid) is not None}
        out["intrusions"] = zone_intrusions(out["zones"], others, config=cfg)
    if layers.get("trees") is not None and layers.get("roads") is not None:
        out["gaps"] = street_tree_gaps(layers["roads"], layers["trees"], config=cfg)
    if layers.get("tree_incidents") is not None:
        out["incidents"], bad = fallen_delays(layers["tree_incidents"], as_of=as_of, config=cfg)
        problems.append(bad)
    out["problems"] = pd.concat(problems, ignore_index=True)
    return out


#: Findings made row by row from an :func:`analyse` table: (table, rule, layer, feature ids
#: of a table, measure columns (the first is the measure), unit).
_TABLE_FINDINGS = (
    ("intrusions", "tree_zone_intrusion", "ancient_trees",
     lambda it: [[t, f"{lay}:{f}"] for t, lay, f in
                 zip(it["tree_id"], it["layer"], it["feature_id"])],
     ("overlap_m2", "distance_m", "layer"), "m2"),
    ("gaps", "street_tree_gap", "roads",
     lambda g: [[r, f"{a:.0f}-{b:.0f}"] for r, a, b in
                zip(g["road_id"], g["start_m"], g["end_m"])],
     ("length_m", "start_m", "end_m"), "m"),
)


def findings_from(result: Mapping[str, Any], *, as_of: _dt.date | None = None,
                  crs: Any) -> gpd.GeoDataFrame:
    """The tree findings from :func:`analyse`."""
    frames = []
    for key, rid, layer, ids, cols, unit in _TABLE_FINDINGS:
        table = result.get(key)
        if table is not None and len(table):
            frames.append(make_findings(
                rule=rid, layer=layer, crs=crs, geometry=table.geometry.values,
                feature_ids=ids(table),
                measures=[dict(zip(cols, row)) for row in zip(*(table[c] for c in cols))],
                measure_key=cols[0], measure_unit=unit))
    inc = result.get("incidents")
    if inc is not None and len(inc):
        start = None if as_of is None else pd.Timestamp(as_of) - pd.Timedelta(days=6)
        over = inc[inc["overdue"] & (inc["open"] | (start is None)
                                     | (inc["cleared_at"] >= start if start is not None else True))]
        if len(over):
            frames.append(make_findings(
                rule="fallen_tree_overdue", layer="tree_incidents", crs=crs,
                geometry=over.geometry.values,
                feature_ids=[[i] for i in over["incident_id"].astype(str)],
                measures=[{"hours": h, "open": bool(o)} for h, o in zip(over["hours"], over["open"])],
                measure_key="hours", measure_unit="h",
                observed_at=[t.strftime("%Y-%m-%dT%H:%M") for t in over["reported_at"]]))
    return concat_findings(frames) if frames else empty_findings(crs)


def run_check(catalog: Catalog, layers: Mapping[str, gpd.GeoDataFrame] | None = None, *,
              as_of: _dt.date | None = None) -> gpd.GeoDataFrame:
    """The tree rules for the weekly run (rules whose layers are missing are skipped)."""
    layers = dict(layers or {})
    notes = [skip_message(r, m) for r in (rule("tree_zone_intrusion"), rule("street_tree_gap"),
                                          rule("fallen_tree_overdue"))
             if (m := missing_needs(r, layers))]
    result = analyse(layers, as_of=as_of)
    out = findings_from(result, as_of=as_of, crs=catalog.working_crs)
    out.attrs["notes"] = notes + [f"{p.layer} 第 {p.row} 行（{p.id}）{p.field}：{p.reason}"
                                  for p in result["problems"].itertuples()]
    out.attrs["problems"] = result["problems"].to_dict("records")
    return out
