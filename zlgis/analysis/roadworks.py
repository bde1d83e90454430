"""Road works (占道挖掘、临时占道施工) against their permits, task 2.1.6.

Works seen by patrols (layer ``road_works``: outline, date seen, status) are compared with the
excavation and occupation permits (layer ``road_works_permits``: permitted area, start and end dates,
restore-by date). Numbers in ``zlgis/config/roadworks.yaml``; rules in
``config/rules/roadworks.yaml``.

==========================  ===========================================================
rule                        what is flagged
==========================  ===========================================================
``roadworks_no_permit``     works overlapping no permit at all
``roadworks_expired``       works seen after every overlapping permit ended (or before
                            it started)
``roadworks_outside``       works valid on the day but reaching outside the permitted area
``roadworks_not_restored``  the permit's restore-by date passed and the road is not restored
==========================  ===========================================================

Examples
--------
>>> import geopandas as gpd, pandas as pd
>>> from shapely.geometry import box
>>> permits = gpd.GeoDataFrame({"permit_id": ["P1"], "start_date": ["2022-08-01"],
...     "end_date": ["2022-08-31"], "restore_by": ["2022-09-05"]},
...     geometry=[box(0, 0, 40, 8)], crs="EPSG:4550")
>>> works = gpd.GeoDataFrame({"work_id": ["W1", "W2"], "observed_on": ["2022-08-20"] * 2,
...     "status": ["施工中"] * 2}, geometry=[box(5, 0, 45, 8), box(100, 0, 110, 8)],
...     crs="EPSG:4550")
>>> ok, bad = check_permits(permits)
>>> r = classify_works(works, ok, as_of=pd.Timestamp("2022-09-04").date())
>>> r[["work_id", "problem", "outside_m2"]].values.tolist()
[['W1', 'outside', 40.0], ['W2', 'no_permit', 80.0]]
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
from .delays import PROBLEM_COLUMNS

__all__ = ["LAYERS", "check_permits", "classify_works", "analyse", "findings_from", "run_check"]

LAYERS = ("road_works_permits", "road_works")
_RULE = {"no_permit": "roadworks_no_permit", "expired": "roadworks_expired",
         "outside": "roadworks_outside", "not_restored": "roadworks_not_restored"}


def _dates(frame: pd.DataFrame, col: str) -> pd.Series:
    if col not in frame:
        return pd.Series(pd.NaT, index=frame.index)
    return pd.to_datetime(frame[col], errors="coerce").dt.normalize()


def check_permits(permits: gpd.GeoDataFrame) -> tuple[gpd.GeoDataFrame, pd.DataFrame]:
    """Permits with parsed dates; rows with their end before their start are listed, not used.

    Returns
    -------
    (GeoDataFrame, DataFrame)
        Usable permits (``start``, ``end``, ``restore`` as timestamps) and the rejected rows
        (``layer``, ``row``, ``id``, ``field``, ``reason``).
    """
    p = permits.copy().reset_index(drop=True)
    p["start"], p["end"] = _dates(p, "start_date"), _dates(p, "end_date")
    p["restore"] = _dates(p, "restore_by")
    bad_end = (p["end"] < p["start"]).to_numpy()
    bad_restore = (p["restore"] < p["end"]).to_numpy()
    ids = p["permit_id"].astype(str).to_numpy()
    rows = [{"layer": "road_works_permits", "row": int(k) + 1, "id": ids[k], "field": "end_date",
             "reason": f"许可截止日期 {p['end'].iloc[k]:%Y-%m-%d} 早于开始日期 "
                       f"{p['start'].iloc[k]:%Y-%m-%d}"} for k in np.flatnonzero(bad_end)]
    rows += [{"layer": "road_works_permits", "row": int(k) + 1, "id": ids[k], "field": "restore_by",
              "reason": "恢复期限早于许可截止日期"} for k in np.flatnonzero(bad_restore & ~bad_end)]
    return p[~bad_end].reset_index(drop=True), pd.DataFrame(rows, columns=PROBLEM_COLUMNS)


def classify_works(works: gpd.GeoDataFrame, permits: gpd.GeoDataFrame, *,
                   as_of: _dt.date | None = None, config: Mapping[str, Any] | None = None
                   ) -> gpd.GeoDataFrame:
    """Each work's problem (or none) against the permits.

    A permit is valid for a work when the work was seen between the permit's start and end
    dates (inclusive). Works under way (施工中) are checked against permits, dates and area;
    finished works (已完工) for their restoration by the permit's restore-by date; restored
    works (已恢复) not at all.

    Returns
    -------
    GeoDataFrame
        Per work and problem: ``work_id``, ``problem`` (``no_permit``, ``expired``,
        ``outside``, ``not_restored``), ``permit_ids``, ``outside_m2`` and the breach geometry
        (the part outside any valid permit, or the whole work).
    """
    cfg = dict(config) if config is not None else dict(load_config("roadworks"))["permits"]
    min_out = float(cfg["min_outside_m2"])
    min_none = float(cfg["min_unpermitted_m2"])
    w = works.reset_index(drop=True)
    seen = _dates(w, "observed_on")
    status = w["status"].astype(str) if "status" in w else pd.Series("施工中", index=w.index)
    today = pd.Timestamp(as_of) if as_of is not None else seen.max()
    wi, pi = permits.sindex.query(w.geometry.values, predicate="intersects")
    rows = []
    for k in range(len(w)):
        g = w.geometry.values[k]
        mine = pi[wi == k]
        pids = permits["permit_id"].astype(str).to_numpy()[mine]
        start, end = permits["start"].to_numpy()[mine], permits["end"].to_numpy()[mine]
        restore = permits["restore"].to_numpy()[mine]
        s = seen.iloc[k]
        valid = (start <= s) & (s <= end) if pd.notna(s) else np.zeros(len(mine), bool)
        base = {"work_id": str(w["work_id"].iloc[k]), "permit_ids": ";".join(sorted(pids))}
        if status.iloc[k] != "已恢复":
            if not len(mine):
                area = float(shapely.area(g))
                if area > min_none or area == 0:
                    rows.append({**base, "problem": "no_permit", "outside_m2": round(area, 1),
                                 "geometry": g})
            elif status.iloc[k] != "施工中":
                pass  # finished works: only their restoration is checked (below)
            elif not valid.any():
                rows.append({**base, "problem": "expired", "outside_m2": round(float(g.area), 1),
                             "geometry": g})
            else:
                cover = shapely.union_all(permits.geometry.values[mine][valid])
                out = shapely.difference(g, cover)
                if shapely.area(out) > min_out:
                    rows.append({**base, "problem": "outside",
                                 "outside_m2": round(float(shapely.area(out)), 1),
                                 "geometry": out})
        if len(mine) and status.iloc[k] not in ("已恢复", "施工中"):
            due = restore[~pd.isna(restore)]
            if len(due) and pd.Timestamp(due.max()) < today:
                rows.append({**base, "problem": "not_restored",
                             "outside_m2": round(float(g.area), 1), "geometry": g,
                             "restore_by": pd.Timestamp(due.max()).strftime("%Y-%m-%d")})
    cols = ["work_id", "problem", "permit_ids", "outside_m2", "restore_by", "geometry"]
    out = pd.DataFrame(rows).reindex(columns=cols)
    return gpd.GeoDataFrame(out, geometry=gpd.GeoSeries(out["geometry"].to_numpy(),
                                                        crs=works.crs).values, crs=works.crs)


def analyse(layers: Mapping[str, gpd.GeoDataFrame], *, as_of: _dt.date | None = None,
            config: Mapping[str, Any] | None = None) -> dict[str, Any]:
    """Permits checked and works classified (``permits``, ``works``, ``problems``)."""
    permits = layers.get("road_works_permits")
    works = layers.get("road_works")
    if permits is None:
        return {"permits": None, "works": None,
                "problems": pd.DataFrame(columns=PROBLEM_COLUMNS)}
    ok, bad = check_permits(permits)
    res = classify_works(works, ok, as_of=as_of, config=config) if works is not None else None
    return {"permits": ok, "works": res, "problems": bad}


def findings_from(result: Mapping[str, Any], *, crs: Any) -> gpd.GeoDataFrame:
    """The road-works findings from :func:`analyse`."""
    w = result.get("works")
    if w is None or not len(w):
        return empty_findings(crs)
    frames = []
    for problem, part in w.groupby("problem", sort=True):
        frames.append(make_findings(
            rule=_RULE[problem], layer="road_works", crs=crs, geometry=part.geometry.values,
            feature_ids=[[wid] + ([p] if p else []) for wid, p in
                         zip(part["work_id"], part["permit_ids"])],
            measures=[{"area_m2": a} for a in part["outside_m2"]],
            measure_key="area_m2", measure_unit="m2"))
    return concat_findings(frames)


def run_check(catalog: Catalog, layers: Mapping[str, gpd.GeoDataFrame] | None = None, *,
              as_of: _dt.date | None = None) -> gpd.GeoDataFrame:
    """The road-works rules for the weekly run (skipped when a layer is missing)."""
    layers = dict(layers or {})
    notes = [skip_message(r, m) for r in (rule(i) for i in _RULE.values())
             if (m := missing_needs(r, layers))]
    result = analyse(layers, as_of=as_of,
                     config=dict(load_config("roadworks"))["permits"])
    out = findings_from(result, crs=catalog.working_crs)
    out.attrs["notes"] = notes + [f"{p.layer} 第 {p.row} 行（{p.id}）{p.field}：{p.reason}"
                                  for p in result["problems"].itertuples()]
    out.attrs["problems"] = result["problems"].to_dict("records")
    return out
