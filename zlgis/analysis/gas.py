"""Gas: pipeline clearances to buildings, the phase-II medium-pressure route and facility signs.

Tasks 6.3.3 (城镇燃气安全排查整治) and 6.3.4 (城市中压燃气管线二期工程) of the 2022 plan, lead
住建局. Rules:

* ``gas_clearance``: a building closer to a buried gas pipeline than the minimum horizontal
  clearance for its pressure class (GB 50028-2006 §6.3.3, Table 6.3.3-1; values in ``gas.yaml``).
  The clearance is measured from the pipe's outer wall (distance to the axis minus half the
  diameter) and compared at millimetre precision: a building exactly at the clearance is clear,
  one millimetre closer breaches it.
* ``gas_route_outside_reserve``: parts of the phase-II route (``phase`` 二期) outside both the road
  red lines and the gas yellow lines, longer than the drawing tolerance.
* ``gas_facility_no_sign``: gas facilities of the kinds that need a sign, without one.

Examples
--------
A medium-pressure B main (clearance 1.0 m, DN 200) and three buildings: 1.0 m, 0.999 m and 3 m
from the pipe wall:

>>> import geopandas as gpd
>>> from shapely.geometry import LineString, box
>>> pipes = gpd.GeoDataFrame({"pipe_id": ["G1"], "pressure_class": ["中压B"],
...     "diameter_mm": [200.0]}, geometry=[LineString([(0, 0), (100, 0)])], crs="EPSG:4550")
>>> b = gpd.GeoDataFrame({"building_id": ["at", "below", "far"]}, geometry=[
...     box(10, 1.1, 20, 10), box(30, 1.099, 40, 10), box(50, 3.1, 60, 10)], crs="EPSG:4550")
>>> pipeline_clearances(pipes, b)[["building_id", "clear_m", "required_m", "breach"]].values.tolist()
[['at', 1.0, 1.0, False], ['below', 0.999, 1.0, True]]
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

__all__ = ["gas_config", "check_pipelines", "pipeline_clearances", "route_outside_reserve",
           "facilities_without_sign", "run_check"]

PIPES = "gas_pipelines"


def gas_config() -> dict[str, Any]:
    """The ``gas.yaml`` presets."""
    return load_config("gas")


def check_pipelines(pipes: gpd.GeoDataFrame, *, config: dict[str, Any] | None = None) -> np.ndarray:
    """Required clearance (m) of every pipeline; refuses a pipeline without a known pressure class.

    Raises
    ------
    InputError
        Naming the row and field ``pressure_class`` of the first pipeline without one (or with a
        class the configuration does not know).
    """
    table = (config or gas_config())["clearance_m"]
    pc = pipes["pressure_class"] if "pressure_class" in pipes else pd.Series(None, index=pipes.index)
    req = pc.astype(object).map({k: float(value(v)) for k, v in table.items()})
    bad = np.flatnonzero(req.isna().to_numpy())
    if len(bad):
        i = int(bad[0])
        pid = pipes["pipe_id"].iloc[i] if "pipe_id" in pipes else i
        got = pc.iloc[i]
        what = "缺少压力级制" if pd.isna(got) or str(got).strip() == "" else f"压力级制“{got}”不在净距表中"
        raise InputError(f"燃气管线 {pid} {what}（应为{'、'.join(table)}之一），无法确定与建筑物的水平净距",
                         layer=PIPES, row=i + 1, field="pressure_class")
    return req.to_numpy(float)


def pipeline_clearances(pipes: gpd.GeoDataFrame, buildings: gpd.GeoDataFrame, *,
                        config: dict[str, Any] | None = None) -> pd.DataFrame:
    """Buildings within the clearance of a pipeline, with the clear distance.

    Returns
    -------
    DataFrame
        One row per (pipe, building) pair at or within the clearance: ``pipe_id, building_id,
        pressure_class, clear_m`` (from the pipe wall, mm precision), ``required_m, breach``
        (``clear_m < required_m``; a pair exactly at the clearance is listed as clear).
    """
    req = check_pipelines(pipes, config=config)
    dia = pd.to_numeric(pipes.get("diameter_mm", pd.Series(0.0, index=pipes.index)),
                        errors="coerce").fillna(0.0).to_numpy(float)
    half = dia / 2000.0
    pg = np.asarray(pipes.geometry.values, dtype=object)
    bg = np.asarray(buildings.geometry.values, dtype=object)
    reach = float((req + half).max()) if len(req) else 0.0
    bi, pi = shapely.STRtree(pg).query(bg, predicate="dwithin", distance=reach + 0.01)
    d = shapely.distance(bg[bi], pg[pi])
    clear = np.round(d - half[pi], 3)
    keep = clear <= req[pi]
    t = pd.DataFrame({"pipe_id": pipes["pipe_id"].astype(str).to_numpy()[pi[keep]],
                      "building_id": buildings["building_id"].astype(str).to_numpy()[bi[keep]],
                      "pressure_class": pipes["pressure_class"].astype(str).to_numpy()[pi[keep]],
                      "clear_m": clear[keep], "required_m": req[pi[keep]],
                      "breach": clear[keep] < req[pi[keep]], "pos": bi[keep], "pipe_pos": pi[keep]})
    return t.sort_values(["pipe_id", "building_id"]).reset_index(drop=True)


def route_outside_reserve(pipes: gpd.GeoDataFrame, red_lines: gpd.GeoDataFrame | None,
                          yellow_lines: gpd.GeoDataFrame | None = None, *,
                          config: dict[str, Any] | None = None) -> gpd.GeoDataFrame:
    """Parts of the phase-II route outside the road red lines and the gas yellow lines.

    Returns
    -------
    GeoDataFrame
        ``pipe_id, length_m, outside_m`` per route pipeline with a part outside longer than the
        tolerance; geometry: that part.
    """
    cfg = (config or gas_config())["route"]
    tol = float(value(cfg["tolerance_m"]))
    ph = pipes["phase"].astype(str) if "phase" in pipes else pd.Series("", index=pipes.index)
    route = pipes[(ph == str(cfg["phase"])).to_numpy()]
    reserve = [g for g in (red_lines.geometry if red_lines is not None else [])]
    if yellow_lines is not None and len(yellow_lines) and "category" in yellow_lines:
        reserve += list(yellow_lines[yellow_lines["category"].isin(cfg["yellow_line_categories"])
                                     ].geometry)
    # each pipe against the union of the reserve polygons near it (the union of a whole city's
    # red lines took 30 s CPU for the 1M-building city's one route pipe)
    reserve_arr = np.asarray(reserve, dtype=object)
    tree = shapely.STRtree(reserve_arr) if reserve else None
    rows, geoms = [], []
    for pid, g in zip(route["pipe_id"].astype(str), route.geometry):
        out = g if tree is None else shapely.difference(
            g, shapely.union_all(reserve_arr[tree.query(g)]))
        ln = float(shapely.length(out))
        if ln > tol:
            rows.append({"pipe_id": pid, "length_m": round(float(g.length), 1),
                         "outside_m": round(ln, 1)})
            geoms.append(out)
    return gpd.GeoDataFrame(pd.DataFrame(rows, columns=["pipe_id", "length_m", "outside_m"]),
                            geometry=geoms, crs=pipes.crs)


def facilities_without_sign(facilities: gpd.GeoDataFrame, *,
                            config: dict[str, Any] | None = None) -> gpd.GeoDataFrame:
    """Gas facilities of the kinds that need a sign (``gas.yaml``) without one."""
    kinds = (config or gas_config())["signs"]["kinds"]
    has = facilities["has_sign"].astype("boolean").fillna(False).to_numpy(bool)
    return facilities[facilities["kind"].isin(kinds).to_numpy() & ~has]


#: Layers the weekly check reads (those the catalog lacks are skipped).
LAYERS = [PIPES, "gas_facilities", "buildings", "red_lines", "yellow_lines", "grids"]


def run_check(catalog: Any, layers: dict[str, gpd.GeoDataFrame] | None, *,
              as_of: date | None = None) -> gpd.GeoDataFrame:
    """Gas findings for the weekly run (rules in ``config/rules/gas.yaml``)."""
    layers, ok, notes = prepare("gas", layers)
    frames = []
    pipes = layers.get(PIPES)
    if "gas_clearance" in ok:
        b = layers["buildings"]
        t = pipeline_clearances(pipes, b)
        t = t[t["breach"]]
        pg = np.asarray(pipes.geometry.values, dtype=object)
        frames.append(rule_findings(
            "gas_clearance", feature_ids=[[x, p] for x, p in zip(t["building_id"], t["pipe_id"])],
            layer="buildings",
            geometry=list(shapely.shortest_line(np.asarray(b.geometry.values)[t["pos"].to_numpy()],
                                                pg[t["pipe_pos"].to_numpy()])),
            title=[f"建筑距{c}燃气管道{d:.3f}米，应不小于{r:.1f}米" for c, d, r in
                   zip(t["pressure_class"], t["clear_m"], t["required_m"])],
            measures=[{"clear_m": float(d), "required_m": float(r), "pressure_class": c}
                      for d, r, c in zip(t["clear_m"], t["required_m"], t["pressure_class"])],
            measure_key="clear_m", measure_unit="m", crs=pipes.crs))
    if "gas_route_outside_reserve" in ok:
        r = route_outside_reserve(pipes, layers.get("red_lines"), layers.get("yellow_lines"))
        frames.append(rule_findings(
            "gas_route_outside_reserve", feature_ids=[[p] for p in r["pipe_id"]], layer=PIPES,
            geometry=list(r.geometry.values),
            measures=[{"outside_m": float(o), "length_m": float(ln)}
                      for o, ln in zip(r["outside_m"], r["length_m"])],
            measure_key="outside_m", measure_unit="m", crs=pipes.crs))
    if "gas_facility_no_sign" in ok:
        f = facilities_without_sign(layers["gas_facilities"])
        frames.append(rule_findings(
            "gas_facility_no_sign", feature_ids=[[x] for x in f["facility_id"].astype(str)],
            layer="gas_facilities", geometry=list(f.geometry.values),
            measures=[{"kind": k} for k in f["kind"]], crs=f.crs))
    out = assign_grids(concat_findings(frames), layers.get("grids"))
    out.attrs["notes"] = notes
    return out
