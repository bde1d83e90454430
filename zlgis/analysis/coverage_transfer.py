"""Refuse transfer stations: coverage (CJJ/T 47-2016 §2.2.7) and distance to neighbours.

Rules ``transfer_uncovered`` and ``transfer_station_distance`` of ``config/rules/coverage.yaml``
(task 4.2.6).
"""

from __future__ import annotations

from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from ..findings import assign_grids, concat_findings, empty_findings, make_findings
from . import coverage_areas as areas
from . import coverage_inputs as inputs
from .coverage_inputs import CoverageResult
from .network import StreetGraph, network_config

__all__ = [
    "transfer_coverage",
    "setback_class",
    "transfer_setbacks",
]

def station_modes(stations: gpd.GeoDataFrame, cfg: dict[str, Any]) -> np.ndarray:
    modes = cfg["collection_modes"]
    default = cfg.get("default_mode", next(iter(modes)))
    m = (stations["collection_mode"].where(stations["collection_mode"].isin(list(modes)),
                                           default) if "collection_mode" in stations
         else pd.Series(default, index=stations.index))
    return m.astype(str).to_numpy()


def transfer_coverage(layers: dict[str, gpd.GeoDataFrame], *, method: str = "network",
                      graph: StreetGraph | None = None, detail: bool = True
                      ) -> CoverageResult:
    """Transfer-station coverage by collection mode (CJJ/T 47-2016 §2.2.7).

    A residential building is covered when it lies within the service radius of the collection
    mode of a serving station (manual 0.4 km, small vehicles 3 km); buildings beyond the
    *maximum* radius (1 km / 5 km) of every station are reported as clusters
    ``transfer_uncovered`` (task 4.2.6). Stations too close to neighbouring buildings for
    their capacity class give ``transfer_station_distance`` findings (:func:`transfer_setbacks`).
    The network method walks the driving network (collection vehicles use roads).
    """
    cfg = inputs.coverage_config()["transfer"]
    stations = inputs.facility_points(inputs.need_layer(layers, "transfer_stations"), "transfer_stations")
    serving = stations
    if "status" in stations:
        serving = stations[stations["status"].isin(cfg.get("serving_status", ["运行"]))]
    modes = station_modes(serving, cfg)
    std = np.array([cfg["collection_modes"][m]["radius_m"] for m in modes], float)
    mx = np.array([cfg["collection_modes"][m]["max_radius_m"] for m in modes], float)
    if method == "network" and graph is None:
        graph = inputs.street_graph(layers, walk=False)
    demand = inputs.residential_buildings(layers, geometry=detail)
    d_std = areas.facility_distances(demand, serving, radius=std, method=method, graph=graph)
    d_max = areas.facility_distances(demand, serving, radius=mx, method=method, graph=graph)
    demand = areas.attach_facilities(demand, d_std, serving, "station_id")
    demand["covered_max"] = d_max["covered"].to_numpy()
    land = inputs.land_samples(layers) if detail else inputs.land_samples({})
    land, l_cov = areas.land_coverage(land, serving, "station_id", radius=std, method=method,
                                      graph=graph)
    source = cfg["source"]
    rows = areas.indicator_rows("转运站服务半径覆盖率", demand=demand, land=land,
                                 d_cov=demand["covered"].to_numpy(), l_cov=l_cov, method=method,
                                 radius="按收集方式", source=source, target=None)
    rows += areas.indicator_rows("转运站最大服务半径覆盖率", demand=demand, land=pd.DataFrame(),
                                  d_cov=demand["covered_max"].to_numpy(), l_cov=None, method=method,
                                  radius="按收集方式（最大）", source=source, target=1.0)
    # per collection mode: share of housing within each mode's radius of a station of that mode
    for mode, spec in cfg["collection_modes"].items():
        sub = serving[modes == mode]
        if not len(sub) or not detail:
            continue
        dm = areas.facility_distances(demand, sub, radius=float(spec["radius_m"]), method=method,
                                      graph=graph)
        cov = dm["covered"].to_numpy()
        for r in areas.indicator_rows(f"{mode}收集转运站{int(spec['radius_m'])}米覆盖率",
                                       demand=demand, land=pd.DataFrame(), d_cov=cov, l_cov=None,
                                       method=method, radius=float(spec["radius_m"]), source=source,
                                       target=None):
            if r["measure"] == "buildings":
                rows.append(r)
    sa = areas.facility_service_areas(serving, "station_id", radius=std, method=method,
                                      graph=graph, detail=detail)
    if not detail:
        sa = areas.empty_polygons(stations.crs)
    net = network_config()
    clusters = areas.uncovered_buildings(demand, demand["covered_max"].to_numpy(), layers,
                                         cluster_distance=float(cfg["cluster_distance_m"]),
                                         polygon_buffer=float(net["cluster_distance_m"]) / 2)
    far_dist = d_max["distance"].to_numpy()
    demand["distance_max_rule"] = far_dist
    findings = areas.cluster_findings(
        clusters, rule="transfer_uncovered",
        title="{n}栋住宅超出转运站最大服务半径（最近{nearest}）",
        layer="buildings", demand=demand,
        dist_col="distance_max_rule", radius=float(mx.max()) if len(mx) else 0.0,
        method=method, id_col="building_id", pop_col="population",
        grids=layers.get("grids"))
    setbacks, sb_findings = transfer_setbacks(layers)
    return areas.coverage_result(
        "transfer", method, demand=demand, land=land, l_cov=l_cov, facilities=stations,
        rows=rows, layers=layers, detail=detail, service_areas=sa, uncovered=clusters,
        findings=concat_findings([findings, sb_findings]), tables={"setbacks": setbacks},
        graph=graph)


def setback_class(capacity_tpd: float) -> dict[str, Any]:
    """Capacity class of a transfer station and its distance to neighbouring buildings.

    >>> setback_class(100)["distance_m"], setback_class(300)["distance_m"], setback_class(800)["title"]
    (10, 15, '大型')
    """
    classes = inputs.coverage_config()["transfer"]["setback"]["classes"]
    cap = float(capacity_tpd) if capacity_tpd is not None and np.isfinite(capacity_tpd) else 0.0
    for c in classes:
        if cap <= float(c["max_tpd"]):
            return dict(c)
    return dict(classes[-1])


def transfer_setbacks(layers: dict[str, gpd.GeoDataFrame]
                      ) -> tuple[pd.DataFrame, gpd.GeoDataFrame]:
    """Distance from every transfer station to its nearest neighbouring building.

    Buildings that contain the station point or whose use is listed in
    ``transfer.setback.ignore_uses`` (the station's own structures) are not neighbours.
    Required distance by capacity class (CJJ/T 47-2016: < 150 t/d 10 m, 150-450 t/d 15 m,
    > 450 t/d 30 m). Findings ``transfer_station_distance`` (task 4.2.6) for every station
    (running, under construction or planned) closer than required.
    """
    cfg = inputs.coverage_config()["transfer"]
    sb = cfg["setback"]
    st = inputs.need_layer(layers, "transfer_stations")
    b = layers.get("buildings")
    rows = []
    fids, geoms, measures, titles = [], [], [], []
    if b is None or not len(b) or not len(st):
        return pd.DataFrame(rows), empty_findings()
    if "use" in b:   # the columns used only: a row filter of the whole layer takes every column
        nb = b[[c for c in ("building_id", b.geometry.name) if c in b]]
        nb = nb[~b["use"].isin(sb.get("ignore_uses", [])).to_numpy()]
    else:
        nb = b
    nb_geoms = np.asarray(nb.geometry.values, dtype=object)
    tree = shapely.STRtree(nb_geoms)
    bid = areas.facility_ids(nb, "building_id")
    sid = areas.facility_ids(st, "station_id")
    pts = np.asarray(st.geometry.values, dtype=object)
    cap = (pd.to_numeric(st["capacity_tpd"], errors="coerce").to_numpy(float)
           if "capacity_tpd" in st else np.full(len(st), np.nan))
    for k in range(len(st)):
        cls = setback_class(cap[k])
        need = float(cls["distance_m"])
        cand = tree.query(pts[k], predicate="dwithin", distance=max(need, 200.0))
        d = shapely.distance(pts[k], nb_geoms[cand]) if len(cand) else np.zeros(0)
        inside = d == 0
        cand, d = cand[~inside], d[~inside]
        if len(d):
            j = int(np.argmin(d))
            near, near_id, near_geom = float(d[j]), bid[cand[j]], nb_geoms[cand[j]]
        else:
            near, near_id, near_geom = float("inf"), "", None
        ok = near >= need
        rows.append({"station_id": sid[k], "name": st["name"].iloc[k] if "name" in st else "",
                     "status": st["status"].iloc[k] if "status" in st else "",
                     "capacity_tpd": cap[k], "class": cls["title"], "required_m": need,
                     "nearest_building": near_id, "distance_m": near, "ok": ok,
                     "source": sb["source"]})
        if not ok:
            fids.append([sid[k], near_id])
            seg = shapely.shortest_line(pts[k], near_geom)
            geoms.append(shapely.buffer(seg, 1.0))
            measures.append({"distance_m": near, "required_m": need,
                             "capacity_tpd": cap[k], "class": cls["title"],
                             "shortfall_m": need - near})
            titles.append(f"转运站距相邻建筑{near:.1f}米，不足{cls['title']}转运站要求的{need:.0f}米")
    table = pd.DataFrame(rows)
    if not fids:
        return table, empty_findings()
    f = make_findings(rule="transfer_station_distance", title=titles,
                      feature_ids=fids, layer="transfer_stations", geometry=geoms,
                      measures=measures, measure_key="distance_m", measure_unit="m")
    return table, assign_grids(f, layers.get("grids"))
