"""Pavement and drain defects (路不平、水不通) tied to road segments, repeats, re-inspection.

The plan's tasks 2.1.1 (inspect and repair pavements and drains of main and secondary roads),
2.1.2 (re-inspect repaired items, key road sections first), 2.1.4 (know where facilities are
damaged, from the service hotline) and 3.2.1 (footway slabs, asphalt, gully grates). Defects come
from patrols and 12345 (layer ``facility_defects``: kind, report and repair times). Numbers in
``zlgis/config/roadworks.yaml`` (section ``defects`` and ``reinspection``).

====================  =====  ===================================================================
rule                  task   what is flagged
====================  =====  ===================================================================
``defect_overdue``    2.1.1  a defect still open after its kind's deadline (days from report)
``defect_repeat``     2.1.2  a defect of the same kind where one was repaired before (within
                             ``repeat_m``): the repair did not last
====================  =====  ===================================================================

Examples
--------
>>> import geopandas as gpd, pandas as pd
>>> from shapely.geometry import LineString, Point
>>> roads = gpd.GeoDataFrame({"road_id": ["R1"], "road_class": ["主干路"]},
...                          geometry=[LineString([(0, 0), (100, 0)])], crs="EPSG:4550")
>>> d = gpd.GeoDataFrame({"defect_id": ["D1", "D2"], "kind": ["坑槽", "坑槽"],
...     "reported_at": pd.to_datetime(["2022-08-01", "2022-08-20"]),
...     "repaired_at": pd.to_datetime(["2022-08-02", None])},
...     geometry=[Point(50, 3), Point(53, 3)], crs="EPSG:4550")
>>> t, bad = tie_to_roads(d, roads)
>>> t["road_id"].tolist(), repeats(t)[["defect_id", "earlier_id"]].values.tolist()
(['R1', 'R1'], [['D2', 'D1']])
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
from ..findings import concat_findings, empty_findings, make_findings
from ..rules import missing_needs, rule, skip_message
from .delays import PROBLEM_COLUMNS, end_of_day

__all__ = ["LAYERS", "tie_to_roads", "overdue", "repeats", "reinspection_sample", "analyse",
           "findings_from", "run_check"]

LAYERS = ("facility_defects", "roads")


def _cfg(config: Mapping[str, Any] | None) -> dict[str, Any]:
    return dict(config) if config is not None else dict(load_config("roadworks"))


def tie_to_roads(defects: gpd.GeoDataFrame, roads: gpd.GeoDataFrame, *,
                 config: Mapping[str, Any] | None = None) -> tuple[gpd.GeoDataFrame, pd.DataFrame]:
    """Each defect with its nearest road segment (``road_id``, ``road_class``, ``name``).

    Defects farther than ``max_offset_m`` from every road, or repaired before they were
    reported, are listed (``layer``, ``row``, ``id``, ``field``, ``reason``) and not used.
    """
    cfg = _cfg(config)["defects"]
    d = defects.copy().reset_index(drop=True)
    d["reported_at"] = pd.to_datetime(d["reported_at"], errors="coerce")
    d["repaired_at"] = (pd.to_datetime(d["repaired_at"], errors="coerce") if "repaired_at" in d
                        else pd.NaT)
    di, ri = roads.sindex.nearest(d.geometry.values, max_distance=float(cfg["max_offset_m"]),
                                  return_all=False)
    match = np.full(len(d), -1)
    match[di] = ri
    ids = d["defect_id"].astype(str).to_numpy()
    bad = [{"layer": "facility_defects", "row": int(k) + 1, "id": ids[k], "field": "geometry",
            "reason": f"距最近道路超过 {float(cfg['max_offset_m']):g} 米，无法归属路段"}
           for k in np.flatnonzero(match < 0)]
    before = (d["repaired_at"] < d["reported_at"]).to_numpy()
    bad += [{"layer": "facility_defects", "row": int(k) + 1, "id": ids[k],
             "field": "repaired_at", "reason": "修复时间早于报告时间"}
            for k in np.flatnonzero(before)]
    bad += [{"layer": "facility_defects", "row": int(k) + 1, "id": ids[k],
             "field": "reported_at", "reason": "缺少报告时间"}
            for k in np.flatnonzero(d["reported_at"].isna().to_numpy())]
    keep = (match >= 0) & ~before & d["reported_at"].notna().to_numpy()
    for col in ("road_id", "road_class", "name"):
        if col in roads:
            d[col] = np.where(match >= 0,   # the matched rows only, as objects
                              roads[col].iloc[np.maximum(match, 0)].astype(object).to_numpy(),
                              None)
    bad.sort(key=lambda r: r["row"])
    return d[keep].reset_index(drop=True), pd.DataFrame(bad, columns=PROBLEM_COLUMNS)


def overdue(defects: gpd.GeoDataFrame, *, as_of: _dt.date,
            config: Mapping[str, Any] | None = None) -> gpd.GeoDataFrame:
    """Defects reported by ``as_of`` and still open past their kind's deadline (days)."""
    cfg = _cfg(config)["defects"]
    end = end_of_day(as_of)
    days = defects["kind"].map(cfg["kinds"]).astype(float)
    open_ = defects["repaired_at"].isna() | (defects["repaired_at"] >= end)
    due = defects["reported_at"] + pd.to_timedelta(days, unit="D")
    late = (defects["reported_at"] < end) & open_ & (due < end)
    out = defects[late.to_numpy()].copy()
    out["days_open"] = ((end - out["reported_at"]).dt.total_seconds() / 86400).round(2)
    out["deadline_days"] = days[late].to_numpy()
    return out


def repeats(defects: gpd.GeoDataFrame, *, config: Mapping[str, Any] | None = None
            ) -> pd.DataFrame:
    """Defects reported where one of the same kind was repaired before (within ``repeat_m``).

    Returns
    -------
    DataFrame
        ``defect_id`` (the later one), ``earlier_id``, ``distance_m``, ``days_after_repair``.
    """
    cfg = _cfg(config)["defects"]
    g = defects.geometry.values
    a, b = shapely.STRtree(g).query(g, predicate="dwithin", distance=float(cfg["repeat_m"]))
    kind = defects["kind"].to_numpy()
    rep = defects["reported_at"].to_numpy()
    fix = defects["repaired_at"].to_numpy()
    ok = (a != b) & (kind[a] == kind[b]) & ~pd.isna(fix[b]) & (fix[b] <= rep[a])
    a, b = a[ok], b[ok]
    out = pd.DataFrame({"defect_id": defects["defect_id"].astype(str).to_numpy()[a],
                        "earlier_id": defects["defect_id"].astype(str).to_numpy()[b],
                        "distance_m": np.round(shapely.distance(g[a], g[b]), 1),
                        "days_after_repair": np.round(
                            (rep[a] - fix[b]) / np.timedelta64(1, "D"), 1)})
    # the latest earlier repair per defect
    return (out.sort_values(["defect_id", "days_after_repair"]).drop_duplicates("defect_id")
            .reset_index(drop=True))


def reinspection_sample(defects: gpd.GeoDataFrame, *, as_of: _dt.date | None = None,
                        config: Mapping[str, Any] | None = None) -> gpd.GeoDataFrame:
    """A spatially spread sample of repaired defects to re-inspect (2.1.2), main roads weighted.

    Repaired items get a weighted random key (Efraimidis-Spirakis: ``u ** (1 / w)`` with the
    weight of their road class) and a grid cell of ``cell_m``; the sample takes the best item
    of every cell first, then the second best of every cell, and so on, so it covers the city
    before it doubles up anywhere, and main roads come first within each cell.
    Reproducible (seeded).

    Returns
    -------
    GeoDataFrame
        The sampled defects with ``cell``, ``weight`` and ``round`` (1 = first pass).
    """
    cfg = _cfg(config)["reinspection"]
    end = end_of_day(as_of)
    done = defects[defects["repaired_at"].notna()]
    if end is not None:
        done = done[done["repaired_at"] < end]
    if not len(done):
        return done.assign(cell="", weight=[], round=[])
    n = max(int(cfg["min_items"]), int(np.ceil(float(cfg["share"]) * len(done))))
    w = done["road_class"].map(cfg["road_weights"]).fillna(1.0).astype(float).to_numpy()
    rng = np.random.default_rng(int(cfg["seed"]))
    key = rng.random(len(done)) ** (1.0 / w)
    cell_m = float(cfg["cell_m"])
    cx = np.floor(done.geometry.x.to_numpy() / cell_m).astype(np.int64)
    cy = np.floor(done.geometry.y.to_numpy() / cell_m).astype(np.int64)
    cell = pd.Series([f"{a}_{b}" for a, b in zip(cx, cy)], index=done.index)
    order = pd.DataFrame({"cell": cell, "key": key}, index=done.index)
    order["round"] = order.groupby("cell")["key"].rank(ascending=False, method="first")
    order = order.sort_values(["round", "key"], ascending=[True, False]).head(n)
    out = done.loc[order.index].copy()
    out["cell"] = order["cell"]
    out["weight"] = pd.Series(w, index=done.index).loc[order.index]
    out["round"] = order["round"].astype(int)
    return out


def analyse(layers: Mapping[str, gpd.GeoDataFrame], *, as_of: _dt.date,
            config: Mapping[str, Any] | None = None) -> dict[str, Any]:
    """Defects tied to roads, overdue ones, repeats and the re-inspection sample."""
    d, roads = layers.get("facility_defects"), layers.get("roads")
    if d is None or roads is None:
        return {"defects": None, "overdue": None, "repeats": None, "sample": None,
                "problems": pd.DataFrame(columns=PROBLEM_COLUMNS)}
    tied, bad = tie_to_roads(d, roads, config=config)
    return {"defects": tied, "overdue": overdue(tied, as_of=as_of, config=config),
            "repeats": repeats(tied, config=config),
            "sample": reinspection_sample(tied, as_of=as_of, config=config), "problems": bad}


def findings_from(result: Mapping[str, Any], *, crs: Any) -> gpd.GeoDataFrame:
    """The defect findings from :func:`analyse`."""
    frames = []
    od = result.get("overdue")
    if od is not None and len(od):
        frames.append(make_findings(
            rule="defect_overdue", layer="facility_defects", crs=crs, geometry=od.geometry.values,
            feature_ids=[[i, r] for i, r in zip(od["defect_id"].astype(str), od["road_id"])],
            title=[f"{k}超过{int(dd)}天未修复" for k, dd in zip(od["kind"], od["deadline_days"])],
            measures=[{"days_open": x, "deadline_days": y} for x, y in
                      zip(od["days_open"], od["deadline_days"])],
            measure_key="days_open", measure_unit="d",
            observed_at=[t.strftime("%Y-%m-%dT%H:%M") for t in od["reported_at"]]))
    rp = result.get("repeats")
    if rp is not None and len(rp):
        d = result["defects"].set_index(result["defects"]["defect_id"].astype(str))
        frames.append(make_findings(
            rule="defect_repeat", layer="facility_defects", crs=crs,
            geometry=d.geometry.loc[rp["defect_id"]].values,
            feature_ids=[[a, b] for a, b in zip(rp["defect_id"], rp["earlier_id"])],
            title=[f"{d.loc[a, 'kind']}在同一位置修复后再次出现" for a in rp["defect_id"]],
            measures=[{"distance_m": x, "days_after_repair": y} for x, y in
                      zip(rp["distance_m"], rp["days_after_repair"])],
            measure_key="days_after_repair", measure_unit="d"))
    return concat_findings(frames) if frames else empty_findings(crs)


def run_check(catalog: Catalog, layers: Mapping[str, gpd.GeoDataFrame] | None = None, *,
              as_of: _dt.date | None = None) -> gpd.GeoDataFrame:
    """The defect rules for the weekly run (skipped when a layer is missing)."""
    layers = dict(layers or {})
    notes = [skip_message(r, m) for r in (rule("defect_overdue"), rule("defect_repeat"))
             if (m := missing_needs(r, layers))]
    if as_of is None and layers.get("facility_defects") is not None:
        as_of = pd.to_datetime(layers["facility_defects"]["reported_at"]).max().date()
    result = analyse(layers, as_of=as_of or _dt.date.today())
    out = findings_from(result, crs=catalog.working_crs)
    out.attrs["notes"] = notes + [f"{p.layer} 第 {p.row} 行（{p.id}）{p.field}：{p.reason}"
                                  for p in result["problems"].itertuples()]
    out.attrs["problems"] = result["problems"].to_dict("records")
    return out
