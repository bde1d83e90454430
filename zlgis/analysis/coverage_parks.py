"""Park coverage (GB/T 51346-2019 §4.3.4 or the MOHURD 2021 city check-up preset).

Rule ``park_uncovered`` of ``config/rules/coverage.yaml`` (task 3.1.1).
"""

from __future__ import annotations

from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from .._arrowtext import frame_values
from ..errors import InputError
from ..findings import assign_grids, empty_findings, make_findings
from ..rules import rule as rule_spec
from . import coverage_areas as areas
from . import coverage_inputs as inputs
from .coverage_inputs import CoverageResult
from .network import StreetGraph

__all__ = [
    "park_access_points",
    "park_coverage",
]

def _park_radii(parks: gpd.GeoDataFrame, preset: dict[str, Any]) -> np.ndarray:
    """Radius per park under a preset (0 = does not count)."""
    area = (pd.to_numeric(parks["area_m2"], errors="coerce") if "area_m2" in parks
            else pd.Series(np.nan, index=parks.index))
    area = area.fillna(parks.geometry.area).to_numpy(float)
    r = np.zeros(len(parks))
    rules = sorted(preset["rules"], key=lambda x: -float(x["min_area_m2"]))
    done = np.zeros(len(parks), bool)
    for rule in rules:
        m = ~done & (area >= float(rule["min_area_m2"]))
        r[m] = float(rule["radius_m"])
        done |= m
    cats = preset.get("categories")
    if cats and "category" in parks:
        r[~parks["category"].isin(cats).to_numpy()] = 0.0
    return r


def park_access_points(parks: gpd.GeoDataFrame, spacing: float | None = None
                       ) -> tuple[gpd.GeoDataFrame, np.ndarray]:
    """Points every ``spacing`` m along each park's outline (a park is entered from its edge).

    Returns the points and, per point, the position of its park.
    """
    spacing = float(spacing or inputs.coverage_config()["parks"]["access_spacing_m"])
    rings = shapely.boundary(np.asarray(parks.geometry.values, dtype=object))
    parts, owner = shapely.get_parts(rings, return_index=True)
    lengths = shapely.length(parts)
    n = np.maximum(np.ceil(lengths / spacing).astype(int), 1)
    rep = np.repeat(np.arange(len(parts)), n)
    start = np.r_[0, np.cumsum(n)[:-1]]
    frac = (np.arange(n.sum()) - np.repeat(start, n)) / np.repeat(n, n)
    pts = shapely.line_interpolate_point(parts[rep], frac, normalized=True)
    return gpd.GeoDataFrame(geometry=pts, crs=parks.crs), owner[rep]


def _preset_distances(parks: gpd.GeoDataFrame, spec: dict[str, Any], access: Any,
                      owner: np.ndarray | None, demand: gpd.GeoDataFrame,
                      land: gpd.GeoDataFrame, *, method: str, graph: StreetGraph | None
                      ) -> tuple[pd.DataFrame, pd.DataFrame | None, int]:
    """Distances of demand and land to the parks a preset counts (facility = park index);
    and how many parks it counts."""
    radii = _park_radii(parks, spec)
    counts = radii > 0
    if method == "network":
        keep = counts[owner]
        fac, own = access[keep], np.flatnonzero(counts)
        remap = np.full(len(parks), -1)
        remap[own] = np.arange(len(own))
        o = remap[owner[keep]]
    else:
        fac, o = parks[counts], None
    rr = radii[counts]
    dd = areas.facility_distances(demand, fac, radius=rr, method=method, graph=graph, owner=o)
    ld = areas.facility_distances(land, fac, radius=rr, method=method, graph=graph, owner=o) \
        if len(land) else None
    idx = np.flatnonzero(counts)
    for frame in (dd, ld):
        if frame is not None:
            f = frame["facility"].to_numpy()
            frame["facility"] = np.where(f >= 0, idx[np.maximum(f, 0)] if len(idx) else -1,
                                         -1)
    return dd, ld, int(counts.sum())


def _presets(parks: gpd.GeoDataFrame, presets: dict[str, dict[str, Any]], preset: str,
             access: Any, owner: np.ndarray | None, demand: pd.DataFrame, land: pd.DataFrame, *,
             method: str, graph: StreetGraph | None
             ) -> tuple[tuple[pd.DataFrame, pd.DataFrame | None], list[dict[str, Any]]]:
    """The distances of demand and land under ``preset``, and every preset's row of the
    presets table."""
    chosen, rows = {}, []
    for name, spec in presets.items():
        dd, ld, n_counted = _preset_distances(parks, spec, access, owner, demand, land,
                                              method=method, graph=graph)
        if name == preset:  # (the others' distances are let go)
            chosen[name] = (dd, ld)
        share = np.nan
        if ld is not None:
            w = land["area_m2"].to_numpy(float)
            share = float(w[ld["covered"].to_numpy()].sum() / w.sum()) if w.sum() else np.nan
        rows.append({"preset": name, "title": spec["title"], "source": spec["source"],
                     "parks_counted": n_counted, "land_share": share,
                     "target": spec.get("target_share"),
                     "meets": bool(share >= spec["target_share"]) if np.isfinite(share) else None,
                     "method": method})
    return chosen[preset], rows


def _park_service_areas(parks: gpd.GeoDataFrame, radii: np.ndarray, access: Any,
                        owner: np.ndarray | None, *, method: str, graph: StreetGraph | None,
                        detail: bool) -> gpd.GeoDataFrame:
    """Service areas of the parks with a radius (empty without ``detail``)."""
    counts = radii > 0
    if not detail:
        return areas.empty_polygons(parks.crs)
    if method == "network":
        keep = counts[owner]
        sa = areas.service_areas(access[keep], radius=radii, method=method, graph=graph,
                                 owner=owner[keep])
    else:
        sa = areas.service_areas(parks[counts], radius=radii[counts], method=method)
        sa["facility"] = np.flatnonzero(counts)[sa["facility"].to_numpy()]
    sa["facility_id"] = areas.facility_ids(parks, "park_id")[sa["facility"].to_numpy()]
    return sa


def park_coverage(layers: dict[str, gpd.GeoDataFrame], *, method: str = "network",
                  preset: str | None = None, graph: StreetGraph | None = None,
                  detail: bool = True) -> CoverageResult:
    """Park service-radius coverage of residential land, by two presets.

    ``mohurd2021`` (MOHURD 2021 城市体检: parks >= 5000 m2 serve 500 m, 2000-5000 m2 serve 300 m)
    and ``gbt51346`` (GB/T 51346-2019 §4.3.4: park green space and squares 500 m; target > 90 %
    overall, old town 80 %, new districts 100 %). Both are always computed (table ``presets``);
    ``preset`` (default ``parks.default_preset``) drives the indicators, polygons and findings
    ``park_uncovered`` (clusters of uncovered residential land, by compound). With
    ``detail=False`` only ``preset`` is computed, without service areas and grid table, and
    ``land`` holds the samples' coordinates (columns ``x``, ``y``) instead of point geometries
    and of their distances only ``distance`` and ``covered``.
    """
    cfg = inputs.coverage_config()["parks"]
    preset = preset or cfg.get("default_preset", "gbt51346")
    if preset not in cfg["presets"]:
        raise InputError(f"未知的公园覆盖预设 {preset}，可选 {list(cfg['presets'])}")
    parks = inputs.need_layer(layers, "parks")
    if method == "network" and graph is None:
        graph = inputs.street_graph(layers)
    demand = inputs.residential_buildings(layers, geometry=detail)
    land = inputs.land_samples(layers, geometry=detail)
    access, owner = park_access_points(parks) if method == "network" else (parks, None)
    presets = {k: v for k, v in cfg["presets"].items() if detail or k == preset}
    (dd, ld), preset_rows = _presets(parks, presets, preset, access, owner, demand, land,
                                     method=method, graph=graph)
    spec = cfg["presets"][preset]
    demand = areas.attach_facilities(demand, dd, parks, "park_id")
    l_cov = None
    if ld is not None:
        # (without detail the two columns read below: the 1M city's 1.36M samples' facility
        # ids and other distances are 60 MB)
        land = (areas.attach_facilities(land, ld, parks, "park_id") if detail else
                land.assign(distance=ld["distance"].to_numpy(), covered=ld["covered"].to_numpy()))
        l_cov = land["covered"].to_numpy()
    del dd, ld
    dt = {k: float(v["target_share"]) for k, v in (cfg.get("district_targets") or {}).items()} \
        if preset == "gbt51346" else None
    rows = areas.indicator_rows(spec["title"], demand=demand, land=land,
                                 d_cov=demand["covered"].to_numpy(), l_cov=l_cov, method=method,
                                 radius="按公园规模" if preset == "mohurd2021" else 500,
                                 source=spec["source"], target=spec.get("target_share"),
                                 district_targets=dt)
    sa = _park_service_areas(parks, _park_radii(parks, spec), access, owner, method=method,
                             graph=graph, detail=detail)
    # uncovered residential land: compounds mostly outside every park's reach, clustered
    clusters = areas.empty_polygons(parks.crs, ("cluster", "n", "weight", "members"))
    findings = empty_findings()
    if l_cov is not None:
        clusters = _park_clusters(layers.get("residential_compounds"), land, l_cov,
                                  share=float(cfg["compound_uncovered_share"]),
                                  distance=float(cfg["cluster_distance_m"]))
        findings = _park_findings(clusters, land, spec, method, layers.get("grids"))
    return areas.coverage_result(
        "parks", method, demand=demand, land=land, l_cov=l_cov, facilities=parks, rows=rows,
        layers=layers, detail=detail, service_areas=sa, uncovered=clusters, findings=findings,
        tables={"presets": pd.DataFrame(preset_rows)}, graph=graph)


def _park_clusters(compounds: gpd.GeoDataFrame | None, land: gpd.GeoDataFrame,
                   l_cov: np.ndarray, *, share: float, distance: float) -> gpd.GeoDataFrame:
    """Blind areas of park coverage: compounds whose residential land is at least ``share``
    uncovered, merged when closer than ``distance`` (across a street).

    ``weight`` is the uncovered land (m2, from the land samples), ``members`` the compound ids;
    the polygon is the union of those compounds.
    """
    crs = compounds.crs if compounds is not None else getattr(land, "crs", None)
    empty = areas.empty_polygons(crs, ("cluster", "n", "weight", "members"))
    if compounds is None or not len(compounds) or not len(land):
        return empty
    t = pd.DataFrame({"cid": frame_values(land["compound_id"].astype(str)),
                      "a": land["area_m2"].to_numpy(float),
                      "u": np.where(l_cov, 0.0, land["area_m2"].to_numpy(float))})
    g = t.groupby("cid")[["a", "u"]].sum()
    bad = g[(g["u"] >= share * g["a"]) & (g["u"] > 0)]
    if not len(bad):
        return empty
    comp = compounds.assign(compound_id=areas.facility_ids(compounds, "compound_id"))
    comp = comp[comp["compound_id"].isin(bad.index)].drop_duplicates("compound_id")
    comp = comp.reset_index(drop=True)
    if not len(comp):
        return empty
    out = areas.uncovered_areas(comp, np.zeros(len(comp), bool),
                                footprints=np.asarray(comp.geometry.values, dtype=object),
                                weight=bad["u"].reindex(comp["compound_id"]).to_numpy(),
                                cluster_distance=distance, polygon_buffer=0.01,
                                id_col="compound_id")
    return out


def _park_findings(clusters: gpd.GeoDataFrame, land: gpd.GeoDataFrame, spec: dict[str, Any],
                   method: str, grids: gpd.GeoDataFrame | None) -> gpd.GeoDataFrame:
    if not len(clusters):
        return empty_findings()
    comp_area = land.groupby("compound_id")["area_m2"].sum()
    min_area = float(inputs.coverage_config()["parks"].get("finding_min_area_m2", 0))
    min_area = max(min_area, 2 * float(
        inputs.coverage_config()["demand"]["land_sample_spacing_m"]) ** 2)
    clusters = clusters[clusters["weight"] >= min_area]
    if not len(clusters):
        return empty_findings()
    fids, measures, titles, sev = [], [], [], []
    # nearest reachable distance of the uncovered land and area, per compound, then per
    # cluster (vectorised: a big city has tens of thousands of clusters)
    unc = land[~land["covered"].to_numpy()]
    dist = unc["distance"].where(np.isfinite(unc["distance"]))
    near_by_comp = dist.groupby(unc["compound_id"].astype(str).to_numpy()).min()
    ex = pd.DataFrame({"k": np.arange(len(clusters)),
                       "cid": clusters["members"].str.split(";").to_numpy()}).explode("cid")
    ex["near"] = ex["cid"].map(near_by_comp)
    ex["area"] = ex["cid"].map(comp_area)
    agg = ex.groupby("k").agg(near=("near", "min"), total=("area", "sum"))
    for k, r in enumerate(clusters.itertuples()):
        mem = r.members.split(";")
        nearest = float(agg["near"].iat[k]) if pd.notna(agg["near"].iat[k]) else float("inf")
        total = float(agg["total"].iat[k])
        measures.append({"uncovered_m2": float(r.weight), "compounds": len(mem),
                         "compound_area_m2": total,
                         "uncovered_share": float(r.weight) / total if total else None,
                         "nearest_m": nearest if np.isfinite(nearest) else None,
                         "method": method, "preset": spec["title"]})
        fids.append(mem)
        titles.append(f"{rule_spec('park_uncovered').title}：{len(mem)}个小区约{r.weight / 1e4:.2f}"
                      "公顷居住用地不在公园服务半径内")
        sev.append("high" if total and r.weight / total > 0.5 else "medium")
    # the preset chosen cites its own source (the registry's is the default preset's)
    f = make_findings(rule="park_uncovered", rule_source=spec["source"],
                      title=titles, feature_ids=fids,
                      layer="residential_compounds", geometry=list(clusters.geometry.values),
                      measures=measures, measure_key="uncovered_m2", measure_unit="m2",
                      severity=sev)
    return assign_grids(f, grids)
