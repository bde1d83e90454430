"""Facility coverage: who is NOT served by public toilets, transfer stations and parks.

Coverage is measured by straight-line radius or, honestly, by walking distance over the street
network (:mod:`zlgis.analysis.network`): a 300 m circle lies when a river lies in between.
Every radius and target comes from ``zlgis/config/coverage.yaml`` with its source:

* toilets: 300 m (GB 55013-2021 §5.0.1); density per km2 by land-use class against
  GB/T 50337-2018 表4.2.2;
* transfer stations: by collection mode, manual 0.4 km (at most 1 km), small vehicles 3 km (at
  most 5 km) (CJJ/T 47-2016 §2.2.7); distance to neighbouring buildings 10 / 15 / 30 m by
  capacity class (CJJ/T 47-2016);
* parks: MOHURD 2021 (>= 5000 m2: 500 m; 2000-5000 m2: 300 m) and GB/T 51346-2019 §4.3.4
  (500 m; > 90 % overall, old town 80 %, new district 100 %), measured on residential land.

Demand is residential buildings (count and population) and residential land (compounds,
sampled by a regular lattice of points so that covered *area* is measured). Results: per-demand
distances, coverage tables per district and grid cell, service-area and uncovered-area polygons
and findings for uncovered clusters (:func:`run_check`).

Examples
--------
>>> import geopandas as gpd
>>> from shapely.geometry import LineString, Point, box
>>> roads = gpd.GeoDataFrame({"road_id": ["r"], "road_class": ["支路"]},
...     geometry=[LineString([(0, 0), (1000, 0)])], crs="EPSG:4550")
>>> homes = gpd.GeoDataFrame({"building_id": ["b1", "b2"], "use": ["住宅", "住宅"],
...     "population": [30, 50]}, geometry=[box(90, 10, 110, 30), box(790, 10, 810, 30)],
...     crs="EPSG:4550")
>>> toilets = gpd.GeoDataFrame({"toilet_id": ["t1"]}, geometry=[Point(0, 5)], crs="EPSG:4550")
>>> res = toilet_coverage({"roads": roads, "buildings": homes, "toilets": toilets})
>>> res.demand["covered"].tolist()
[True, False]
>>> float(res.indicator("population"))
0.375
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from datetime import date
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from ..config import load_config
from ..crs import WORKING_CRS
from ..errors import InputError, LayerError
from ..findings import assign_grids, concat_findings, empty_findings, make_findings
from ..rules import rule as rule_spec
from .network import StreetGraph, nearest_facility, network_config

__all__ = [
    "CoverageResult",
    "coverage_config",
    "street_graph",
    "residential_buildings",
    "land_samples",
    "facility_distances",
    "service_areas",
    "uncovered_areas",
    "toilet_coverage",
    "toilet_density",
    "transfer_coverage",
    "transfer_setbacks",
    "park_coverage",
    "park_access_points",
    "run_check",
    "METHODS",
]

METHODS = ("radius", "network")
CHECK = "coverage"
ALL = "全市"

#: Chinese column headers of the coverage tables (what a bureau user reads)
HEADERS = {
    "indicator": "指标", "measure": "统计对象", "district": "片区", "grid_id": "网格编码",
    "covered": "覆盖量", "total": "总量", "share": "覆盖率", "target": "目标值",
    "meets": "是否达标", "method": "计算方法", "radius_m": "服务半径_米", "source": "依据",
    "unit": "单位",
}
MEASURE_TITLES = {"buildings": "住宅建筑", "population": "人口", "land": "居住用地"}
METHOD_TITLES = {"radius": "直线半径", "network": "路网距离"}


def coverage_config() -> dict[str, Any]:
    """The whole ``coverage.yaml``."""
    return load_config("coverage")


# --------------------------------------------------------------------------------------------
# results
# --------------------------------------------------------------------------------------------

@dataclass
class CoverageResult:
    """Everything one coverage analysis produces.

    Attributes
    ----------
    topic : str
        ``toilets``, ``transfer`` or ``parks``.
    method : str
        ``radius`` or ``network``.
    demand : GeoDataFrame
        Residential buildings (points) with ``distance``, ``distance_straight``,
        ``distance_network``, ``facility``, ``covered``, ``district``, ``grid_id``.
    land : GeoDataFrame
        Residential-land sample points with ``area_m2`` and the same distance columns.
    indicators : DataFrame
        One row per indicator, measure and district (``share`` covered, ``target``, ``meets``).
    by_grid : GeoDataFrame
        Coverage per grid cell (polygons).
    service_areas, uncovered : GeoDataFrame
        Polygons for maps.
    findings : GeoDataFrame
        Shared findings schema.
    tables : dict
        Extra tables (toilet density, transfer setbacks, park presets...).
    """

    topic: str
    method: str
    demand: gpd.GeoDataFrame
    land: gpd.GeoDataFrame
    facilities: gpd.GeoDataFrame
    indicators: pd.DataFrame
    by_grid: gpd.GeoDataFrame
    service_areas: gpd.GeoDataFrame
    uncovered: gpd.GeoDataFrame
    findings: gpd.GeoDataFrame
    tables: dict[str, pd.DataFrame] = field(default_factory=dict)
    graph: StreetGraph | None = None

    def indicator(self, measure: str = "buildings", district: str = ALL,
                  indicator: str | None = None) -> float:
        """Covered share for one measure (``buildings``, ``population``, ``land``)."""
        t = self.indicators
        sel = (t["measure"] == measure) & (t["district"] == district)
        if indicator is not None:
            sel &= t["indicator"] == indicator
        if not sel.any():
            return float("nan")
        return float(t.loc[sel, "share"].iloc[0])

    def summary(self) -> dict[str, Any]:
        """JSON-ready summary (used by the CLI's ``--json``)."""
        return {
            "topic": self.topic, "method": self.method,
            "facilities": int(len(self.facilities)),
            "residential_buildings": int(len(self.demand)),
            "uncovered_buildings": int((~self.demand["covered"]).sum()) if len(self.demand) else 0,
            "findings": int(len(self.findings)),
            "indicators": [{k: _plain(v) for k, v in r.items()}
                           for r in self.indicators.to_dict("records")],
        }


def _plain(v: Any) -> Any:
    if isinstance(v, (np.floating, float)):
        return None if not np.isfinite(v) else round(float(v), 4)
    if isinstance(v, (np.integer,)):
        return int(v)
    if isinstance(v, np.bool_):
        return bool(v)
    return v


# --------------------------------------------------------------------------------------------
# inputs
# --------------------------------------------------------------------------------------------

def _need(layers: dict[str, gpd.GeoDataFrame], lid: str) -> gpd.GeoDataFrame:
    if lid not in layers or layers[lid] is None:
        raise LayerError("覆盖分析需要此图层，但未加载", layer=lid)
    gdf = layers[lid]
    if gdf.crs is None:
        return gdf.set_crs(WORKING_CRS)
    return gdf


def street_graph(layers: dict[str, gpd.GeoDataFrame], *, walk: bool = True) -> StreetGraph:
    """Walking (or driving) graph of the ``roads`` layer.

    Build it once and pass it as ``graph=`` to the coverage and siting functions when running
    several of them on the same roads.
    """
    return StreetGraph.from_roads(_need(layers, "roads"), walk=walk)


def residential_buildings(layers: dict[str, gpd.GeoDataFrame]) -> gpd.GeoDataFrame:
    """Residential buildings as points, with ``population``, ``district`` and ``grid_id``.

    Buildings under construction are left out (nobody lives there yet). The footprint is kept
    in column ``footprint`` (for uncovered-area polygons).
    """
    cfg = coverage_config()["demand"]
    b = _need(layers, "buildings")
    uses = set(cfg.get("residential_uses", ["住宅"]))
    sel = b["use"].isin(uses) if "use" in b else pd.Series(True, index=b.index)
    if "under_construction" in b:
        sel &= ~b["under_construction"].fillna(False).astype(bool)
    r = b[sel & b.geometry.notna()]
    ids = (r["building_id"].astype(str) if "building_id" in r
           else pd.Series(r.index.astype(str), index=r.index))
    pop = (pd.to_numeric(r["population"], errors="coerce").fillna(0.0) if "population" in r
           else pd.Series(0.0, index=r.index))
    out = gpd.GeoDataFrame({
        "building_id": ids.to_numpy(),
        "population": pop.to_numpy(float),
        "compound_id": (r["compound_id"].astype(object).to_numpy() if "compound_id" in r
                        else np.full(len(r), None, dtype=object)),
        "footprint": r.geometry.values,
    }, geometry=shapely.point_on_surface(np.asarray(r.geometry.values, dtype=object)),
        crs=b.crs)
    return _assign_area(out, layers)


def land_samples(layers: dict[str, gpd.GeoDataFrame], spacing: float | None = None
                 ) -> gpd.GeoDataFrame:
    """Residential land (compounds) as a lattice of points, each carrying its share of area.

    Every compound gets the points of a ``spacing`` lattice that fall inside it, each weighted
    ``area / n`` so weights add up to the compound area exactly; a compound too small to hold a
    lattice point is represented by one interior point. Compounds under construction count
    (they are residential land).

    >>> import geopandas as gpd
    >>> from shapely.geometry import box
    >>> comp = gpd.GeoDataFrame({"compound_id": ["c"]}, geometry=[box(0, 0, 100, 60)],
    ...                         crs="EPSG:4550")
    >>> s = land_samples({"residential_compounds": comp}, spacing=20)
    >>> len(s), float(s["area_m2"].sum())
    (15, 6000.0)
    """
    cfg = coverage_config()["demand"]
    spacing = float(spacing or cfg.get("land_sample_spacing_m", 20))
    comp = layers.get("residential_compounds")
    if comp is None or not len(comp):
        return gpd.GeoDataFrame({"compound_id": [], "area_m2": [], "population": []},
                                geometry=gpd.GeoSeries([], crs=WORKING_CRS), crs=WORKING_CRS)
    comp = comp[comp.geometry.notna() & ~comp.geometry.is_empty]
    geoms = np.asarray(comp.geometry.values, dtype=object)
    b = shapely.bounds(geoms)
    xs, ys, owner = [], [], []
    for k in range(len(geoms)):
        x0 = math.floor(b[k, 0] / spacing) * spacing + spacing / 2
        y0 = math.floor(b[k, 1] / spacing) * spacing + spacing / 2
        gx = np.arange(x0, b[k, 2], spacing)
        gy = np.arange(y0, b[k, 3], spacing)
        if len(gx) == 0 or len(gy) == 0:
            inside_x, inside_y = np.zeros(0), np.zeros(0)
        else:
            X, Y = np.meshgrid(gx, gy)
            X, Y = X.ravel(), Y.ravel()
            shapely.prepare(geoms[k])
            m = shapely.contains_xy(geoms[k], X, Y)
            inside_x, inside_y = X[m], Y[m]
        if len(inside_x) == 0:
            p = shapely.point_on_surface(geoms[k])
            inside_x, inside_y = np.array([p.x]), np.array([p.y])
        xs.append(inside_x)
        ys.append(inside_y)
        owner.append(np.full(len(inside_x), k))
    x, y, own = np.concatenate(xs), np.concatenate(ys), np.concatenate(owner)
    area = shapely.area(geoms)
    n = np.bincount(own, minlength=len(geoms))
    pop = (pd.to_numeric(comp["population"], errors="coerce").fillna(0.0).to_numpy(float)
           if "population" in comp else np.zeros(len(geoms)))
    ids = (comp["compound_id"].astype(str).to_numpy() if "compound_id" in comp
           else comp.index.astype(str).to_numpy())
    out = gpd.GeoDataFrame({
        "compound_id": ids[own],
        "area_m2": area[own] / n[own],
        "population": pop[own] / n[own],
        "compound_district": (comp["district"].astype(object).to_numpy()[own]
                              if "district" in comp else None),
    }, geometry=shapely.points(x, y), crs=comp.crs)
    return _assign_area(out, layers)


def _assign_area(pts: gpd.GeoDataFrame, layers: dict[str, gpd.GeoDataFrame]
                 ) -> gpd.GeoDataFrame:
    """Add ``grid_id`` and ``district`` from the grids layer (compounds, then a fallback)."""
    out = pts.copy()
    n = len(out)
    grid = np.full(n, "", dtype=object)
    district = np.full(n, "", dtype=object)
    grids = layers.get("grids")
    arr = np.asarray(out.geometry.values, dtype=object)
    if grids is not None and len(grids) and n:
        gi, pi = None, None
        pi, gi = shapely.STRtree(np.asarray(grids.geometry.values, dtype=object)).query(
            arr, predicate="within")
        first = pd.Series(gi, index=pi).groupby(level=0).first()
        gid = grids["grid_id"].astype(str).to_numpy() if "grid_id" in grids else \
            grids.index.astype(str).to_numpy()
        grid[first.index.to_numpy()] = gid[first.to_numpy()]
        if "district" in grids:
            gd = grids["district"].fillna("").astype(str).to_numpy()
            district[first.index.to_numpy()] = gd[first.to_numpy()]
    comp = layers.get("residential_compounds")
    missing = district == ""
    if missing.any() and "compound_district" in out:
        cd = out["compound_district"].fillna("").astype(str).to_numpy()
        district[missing] = cd[missing]
        missing = district == ""
    if missing.any() and comp is not None and len(comp) and "district" in comp and \
            "compound_id" in out and "compound_id" in comp:
        m = dict(zip(comp["compound_id"].astype(str), comp["district"].fillna("").astype(str)))
        cid = out["compound_id"].astype(str).to_numpy()
        district[missing] = [m.get(c, "") for c in cid[missing]]
        missing = district == ""
    if missing.any() and comp is not None and len(comp) and "district" in comp:
        # the district of the nearest compound within 1 km (e.g. for candidate sites)
        (pi, ci), _ = shapely.STRtree(np.asarray(comp.geometry.values, dtype=object)).query_nearest(
            arr[missing], max_distance=1000.0, return_distance=True, all_matches=False)
        cd = comp["district"].fillna("").astype(str).to_numpy()
        idx = np.flatnonzero(missing)
        district[idx[pi]] = cd[ci]
    nogrid = grid == ""
    if nogrid.any() and n:
        cell = float(coverage_config()["demand"].get("fallback_cell_m", 500))
        gx = np.floor(shapely.get_x(arr[nogrid]) / cell).astype(np.int64)
        gy = np.floor(shapely.get_y(arr[nogrid]) / cell).astype(np.int64)
        grid[nogrid] = [f"C{a}_{b}" for a, b in zip(gx, gy)]
    out["grid_id"] = grid
    out["district"] = np.where(district == "", "未分区", district)
    if "compound_district" in out:
        out = out.drop(columns="compound_district")
    return out


def _facility_points(gdf: gpd.GeoDataFrame, layer: str) -> gpd.GeoDataFrame:
    if gdf.geometry.isna().any():
        row = int(np.flatnonzero(gdf.geometry.isna().to_numpy())[0])
        raise InputError("设施缺少坐标", layer=layer, row=row + 1, field="geometry")
    return gdf


# --------------------------------------------------------------------------------------------
# distances
# --------------------------------------------------------------------------------------------

def facility_distances(demand: gpd.GeoDataFrame, facilities: gpd.GeoDataFrame, *,
                       radius: float | np.ndarray, method: str = "network",
                       graph: StreetGraph | None = None,
                       owner: np.ndarray | None = None) -> pd.DataFrame:
    """Distance from every demand point to its facility and whether it is covered.

    Parameters
    ----------
    demand : GeoDataFrame
        Points (other geometries stand by a representative point).
    facilities : GeoDataFrame
        Facility geometries: points, or polygons for the radius method (distance to the outline
        or 0 inside). For the network method pass access points and ``owner``.
    radius : float or array
        Service radius, one value or one per facility (per owner when ``owner`` is given).
    method : {"radius", "network"}
    graph : StreetGraph
        Needed for the network method.
    owner : array, optional
        For access points: position of the facility (row of ``radius``) each point belongs to.

    Returns
    -------
    DataFrame
        Index of ``demand``; ``distance_straight``, ``distance_network`` (NaN for the radius
        method), ``distance`` (by ``method``), ``facility`` (position of the serving facility,
        -1 when none), ``covered``. With different radii per facility the serving facility is
        the one with the most slack (``radius - distance``), and ``distance`` is measured to it.
    """
    if method not in METHODS:
        raise InputError(f"未知的计算方法 {method}，应为 radius 或 network")
    n = len(demand)
    fac_geoms = np.asarray(facilities.geometry.values, dtype=object)
    k_owner = len(fac_geoms) if owner is None else int(np.max(owner)) + 1 if len(owner) else 0
    owner = np.arange(len(fac_geoms)) if owner is None else np.asarray(owner, np.int64)
    radius = np.broadcast_to(np.asarray(radius, float), (k_owner,)).astype(float)
    out = pd.DataFrame({"distance_straight": np.full(n, np.inf),
                        "distance_network": np.full(n, np.nan),
                        "distance": np.full(n, np.inf),
                        "facility": np.full(n, -1, np.int64),
                        "covered": np.zeros(n, bool)}, index=demand.index)
    if n == 0 or len(fac_geoms) == 0:
        return out
    pts = np.asarray(demand.geometry.values, dtype=object)
    if (shapely.get_type_id(pts) != 0).any():
        pts = shapely.point_on_surface(pts)
    tree = shapely.STRtree(fac_geoms)
    (pi, fi), d = tree.query_nearest(pts, return_distance=True, all_matches=False)
    dist_s = np.full(n, np.inf)
    dist_s[pi] = d
    near_s = np.full(n, -1, np.int64)
    near_s[pi] = owner[fi]
    out["distance_straight"] = dist_s
    rmax = float(radius.max()) if len(radius) else 0.0
    if method == "radius":
        i, j = tree.query(pts, predicate="dwithin", distance=rmax)
        dd = shapely.distance(pts[i], fac_geoms[j])
        slack = radius[owner[j]] - dd
        ok = slack >= 0
        cov = np.zeros(n, bool)
        cov[i[ok]] = True
        best_fac = near_s.copy()
        best_dist = dist_s.copy()
        if ok.any():
            t = pd.DataFrame({"i": i[ok], "f": owner[j[ok]], "d": dd[ok], "s": slack[ok]})
            t = t.sort_values(["i", "s"], ascending=[True, False]).drop_duplicates("i")
            best_fac[t["i"].to_numpy()] = t["f"].to_numpy()
            best_dist[t["i"].to_numpy()] = t["d"].to_numpy()
        out["distance"] = best_dist
        out["facility"] = best_fac
        out["covered"] = cov
        return out
    if graph is None:
        raise InputError("路网距离计算需要道路图层")
    cost = rmax - radius[owner]
    max_access = network_config().get("max_access_m")
    r = nearest_facility(graph, pts, fac_geoms, cost=cost,
                         max_access=float(max_access) if max_access else None)
    dn = r["distance_network"].to_numpy(float)
    fpos = r["facility"].to_numpy()
    has = pd.notna(fpos)
    fac = np.full(n, -1, np.int64)
    fac[has] = owner[np.asarray(fpos[has], np.int64)]
    real = dn.copy()
    real[has] = dn[has] - cost[np.asarray(fpos[has], np.int64)]
    # a demand point inside a facility polygon is served at distance 0
    inside = dist_s == 0
    real[inside] = 0.0
    fac[inside] = near_s[inside]
    out["distance_network"] = real
    out["distance"] = real
    out["facility"] = fac
    out["covered"] = (dn <= rmax) | inside
    return out


# --------------------------------------------------------------------------------------------
# polygons for maps
# --------------------------------------------------------------------------------------------

def service_areas(facilities: gpd.GeoDataFrame, *, radius: float | np.ndarray,
                  method: str = "network", graph: StreetGraph | None = None,
                  id_field: str | None = None, owner: np.ndarray | None = None,
                  buffer: float | None = None) -> gpd.GeoDataFrame:
    """Service-area polygon of every facility (for maps).

    Radius method: the facility buffered by its radius. Network method: the parts of the
    streets within the radius (each street stretch assigned to its nearest facility), buffered
    by ``network.service_area_buffer_m`` — what can really be walked to.

    Returns
    -------
    GeoDataFrame
        ``facility`` (position), ``facility_id``, ``radius_m``, polygon geometry.
    """
    cfg = network_config()
    buffer = float(cfg.get("service_area_buffer_m", 50)) if buffer is None else buffer
    fac_geoms = np.asarray(facilities.geometry.values, dtype=object)
    k = len(fac_geoms) if owner is None else (int(np.max(owner)) + 1 if len(owner) else 0)
    owner = np.arange(len(fac_geoms)) if owner is None else np.asarray(owner, np.int64)
    radius = np.broadcast_to(np.asarray(radius, float), (k,)).astype(float)
    crs = facilities.crs
    if len(fac_geoms) == 0:
        return gpd.GeoDataFrame({"facility": np.zeros(0, np.int64), "facility_id": [],
                                 "radius_m": []}, geometry=gpd.GeoSeries([], crs=crs), crs=crs)
    if method == "radius":
        polys = shapely.buffer(fac_geoms, radius[owner])
        frame = gpd.GeoDataFrame({"facility": owner}, geometry=polys, crs=crs)
        frame = frame.dissolve(by="facility").reset_index()
    else:
        if graph is None:
            raise InputError("路网服务范围需要道路图层")
        from .network import multi_source

        rmax = float(radius.max())
        cost = rmax - radius[owner]
        res = multi_source(graph, fac_geoms, limit=rmax, cost=cost)
        e = graph.edges
        u = e["u"].to_numpy()
        v = e["v"].to_numpy()
        L = e["length"].to_numpy(float)
        du, dv = res.dist[u], res.dist[v]
        su, sv = res.source[u], res.source[v]
        geoms = graph._edge_geoms
        reach_u = np.where(np.isfinite(du), np.clip(rmax - du, 0, None), 0.0)
        reach_v = np.where(np.isfinite(dv), np.clip(rmax - dv, 0, None), 0.0)
        whole = (reach_u + reach_v >= L) & (su == sv) & (su >= 0)
        # partial stretches: [0, reach_u] from u and [L - reach_v, L] from v
        pu = ~whole & (reach_u > 0) & (su >= 0)
        pv = ~whole & (reach_v > 0) & (sv >= 0)
        e_idx = np.r_[np.flatnonzero(pu), np.flatnonzero(pv)]
        a = np.r_[np.zeros(pu.sum()), np.maximum(L[pv] - reach_v[pv], 0.0)]
        b = np.r_[np.minimum(reach_u[pu], L[pu]), L[pv]]
        owner_part = np.r_[su[pu], sv[pv]]
        pos_len = b - a > 1e-6
        e_idx, a, b, owner_part = e_idx[pos_len], a[pos_len], b[pos_len], owner_part[pos_len]
        parts = _substrings(geoms, e_idx, a, b)
        pieces = list(geoms[whole]) + list(parts)
        who = list(owner[su[whole]]) + list(owner[owner_part])
        # each facility's own stretch of street (its access path)
        snapped = graph.snap(gpd.GeoSeries(fac_geoms, crs=crs)
                             if (shapely.get_type_id(fac_geoms) == 0).all()
                             else gpd.GeoSeries(shapely.point_on_surface(fac_geoms), crs=crs))
        conn = shapely.linestrings(
            np.stack([np.c_[shapely.get_x(shapely.point_on_surface(fac_geoms)),
                            shapely.get_y(shapely.point_on_surface(fac_geoms))],
                      np.c_[snapped["snap_x"].to_numpy(), snapped["snap_y"].to_numpy()]],
                     axis=1))
        okc = snapped["edge"].to_numpy() >= 0
        pieces.extend(list(np.asarray(conn, dtype=object)[okc]))
        who.extend(list(owner[okc]))
        if not pieces:
            return gpd.GeoDataFrame({"facility": np.zeros(0, np.int64), "facility_id": [],
                                     "radius_m": []}, geometry=gpd.GeoSeries([], crs=crs),
                                    crs=crs)
        who_a = np.asarray(who, np.int64)
        order = np.argsort(who_a, kind="stable")
        fac_ids, first = np.unique(who_a[order], return_index=True)
        grouped = np.split(np.asarray(pieces, dtype=object)[order], first[1:])
        merged = [shapely.union_all(shapely.buffer(shapely.line_merge(
            shapely.multilinestrings(list(g_))), buffer, quad_segs=4)) for g_ in grouped]
        frame = gpd.GeoDataFrame({"facility": fac_ids}, geometry=merged, crs=crs)
    fpos = frame["facility"].to_numpy()
    frame["radius_m"] = radius[fpos]
    ids = _ids(facilities, id_field) if id_field and owner is None else None
    frame["facility_id"] = ids[fpos] if ids is not None else frame["facility"].astype(str)
    return gpd.GeoDataFrame(frame[["facility", "facility_id", "radius_m", "geometry"]],
                            geometry="geometry", crs=crs)


def _substrings(geoms: np.ndarray, idx: np.ndarray, a: np.ndarray, b: np.ndarray
                ) -> np.ndarray:
    """Parts [a, b] (metres along the line) of ``geoms[idx]``, vectorised for straight edges."""
    out = np.empty(len(idx), dtype=object)
    if not len(idx):
        return out
    g = geoms[idx]
    straight = shapely.get_num_coordinates(g) == 2
    if straight.any():
        p0 = shapely.line_interpolate_point(g[straight], a[straight])
        p1 = shapely.line_interpolate_point(g[straight], b[straight])
        xy = np.stack([np.c_[shapely.get_x(p0), shapely.get_y(p0)],
                       np.c_[shapely.get_x(p1), shapely.get_y(p1)]], axis=1)
        out[straight] = shapely.linestrings(xy)
    if (~straight).any():
        from shapely.ops import substring

        out[~straight] = [substring(gg, aa, bb) for gg, aa, bb
                          in zip(g[~straight], a[~straight], b[~straight])]
    return out


#: above this many uncovered points, clusters are linked through grid cells (see below)
_EXACT_CLUSTER_MAX = 20_000


def uncovered_areas(points: gpd.GeoDataFrame, covered: np.ndarray, *,
                    footprints: np.ndarray | None = None, weight: np.ndarray | None = None,
                    cluster_distance: float | None = None, min_count: int = 1,
                    id_col: str = "building_id", group: np.ndarray | None = None,
                    polygon_buffer: float | None = None) -> gpd.GeoDataFrame:
    """Clusters of uncovered demand as polygons (for maps and findings).

    Uncovered points closer than ``cluster_distance`` to each other (through their footprints
    when given) form one cluster; its polygon is the union of the members buffered by half
    that distance (or by ``polygon_buffer``). Points with the same ``group`` label (e.g. the
    same residential compound) always belong to one cluster. Above 20,000 uncovered points
    or beyond 120 m (a city-wide gap, e.g. transfer stations) points are linked through square cells of side
    ``cluster_distance`` (same or neighbouring cell) and the polygons are made of those cells,
    which keeps memory and time linear.

    Returns
    -------
    GeoDataFrame
        ``cluster`` (stable id: smallest member id), ``n``, ``weight``, ``members``
        (";"-joined ids), ``geometry``.
    """
    cfg = network_config()
    cd = float(cfg.get("cluster_distance_m", 60)) if cluster_distance is None else cluster_distance
    sel = ~np.asarray(covered, bool)
    crs = points.crs
    cols = {"cluster": [], "n": [], "weight": [], "members": []}
    if not sel.any():
        return gpd.GeoDataFrame(cols, geometry=gpd.GeoSeries([], crs=crs), crs=crs)
    geoms = (np.asarray(footprints, dtype=object)[sel] if footprints is not None
             else np.asarray(points.geometry.values, dtype=object)[sel])
    w = np.ones(sel.sum()) if weight is None else np.asarray(weight, float)[sel]
    ids = points[id_col].astype(str).to_numpy()[sel] if id_col in points else \
        points.index.astype(str).to_numpy()[sel]
    import scipy.sparse as sp
    from scipy.sparse.csgraph import connected_components

    m = len(geoms)
    # exact pairs only when they stay few: not too many points, not too long a distance
    exact = m <= _EXACT_CLUSTER_MAX and cd <= 120
    if exact:
        buf = shapely.buffer(geoms, cd / 2, quad_segs=4)
        i, j = shapely.STRtree(buf).query(buf, predicate="intersects")
    else:
        # many points (a city-wide blind area): link points in the same or a neighbouring
        # square cell of side ``cd`` (within about 1.4 cd of each other) instead of pairs
        # of buffered footprints, whose number grows with the square of the density
        rep = shapely.point_on_surface(geoms)
        cell_x = np.floor(shapely.get_x(rep) / cd).astype(np.int64)
        cell_y = np.floor(shapely.get_y(rep) / cd).astype(np.int64)
        cells, cell_of = np.unique(np.c_[cell_x, cell_y], axis=0, return_inverse=True)
        cell_of = cell_of.ravel()
        key = {(int(a), int(b)): k for k, (a, b) in enumerate(cells)}
        ci, cj = [], []
        for k, (a, b) in enumerate(cells):
            for da, db in ((1, 0), (0, 1), (1, 1), (1, -1)):
                nb = key.get((int(a) + da, int(b) + db))
                if nb is not None:
                    ci.append(k)
                    cj.append(nb)
        first = np.full(len(cells), -1, np.int64)
        first[cell_of[::-1]] = np.arange(m)[::-1]  # first point of each cell
        i = np.r_[np.arange(m), first[np.asarray(ci, np.int64)]]
        j = np.r_[first[cell_of], first[np.asarray(cj, np.int64)]]

    if group is not None:
        gl = pd.Series(np.asarray(group, dtype=object)[sel])
        has = gl.notna() & (gl.astype(str) != "")
        firsts = gl[has].groupby(gl[has].astype(str)).transform(lambda x: x.index[0])
        i = np.r_[i, firsts.index.to_numpy()]
        j = np.r_[j, firsts.to_numpy()]
    adj = sp.coo_matrix((np.ones(len(i)), (i, j)), shape=(m, m))
    _, lab = connected_components(adj, directed=False)
    df = pd.DataFrame({"lab": lab, "id": ids, "w": w})
    g = df.groupby("lab")
    n = g.size()
    keep = n[n >= min_count].index.to_numpy()
    if not len(keep):
        return gpd.GeoDataFrame(cols, geometry=gpd.GeoSeries([], crs=crs), crs=crs)
    pb = cd / 2 if polygon_buffer is None else polygon_buffer
    if exact:
        pbuf = buf if pb == cd / 2 else shapely.buffer(geoms, pb, quad_segs=4)
        item_lab = lab
    else:  # cheap polygons for a huge blind area: its occupied cells, grown by the buffer
        x0, y0 = cells[:, 0] * cd, cells[:, 1] * cd
        pbuf = shapely.buffer(shapely.box(x0, y0, x0 + cd, y0 + cd), min(pb, cd / 2),
                              join_style="mitre")
        item_lab = lab[first]  # every point of a cell shares the label of its first point
    order = np.argsort(item_lab, kind="stable")
    starts = np.searchsorted(item_lab[order], keep)
    ends = np.searchsorted(item_lab[order], keep, side="right")
    polys = [shapely.union_all(pbuf[order[a_:b_]]) for a_, b_ in zip(starts, ends)]
    members = g["id"].agg(lambda s: ";".join(sorted(s)))
    out = gpd.GeoDataFrame({
        "cluster": [min(members[k].split(";")) for k in keep],
        "n": n.loc[keep].to_numpy(),
        "weight": g["w"].sum().loc[keep].to_numpy(),
        "members": members.loc[keep].to_numpy(),
    }, geometry=polys, crs=crs)
    return out.sort_values("cluster").reset_index(drop=True)


# --------------------------------------------------------------------------------------------
# tables
# --------------------------------------------------------------------------------------------

def _shares(frame: pd.DataFrame, covered: np.ndarray, weight: np.ndarray, by: str | None
            ) -> pd.DataFrame:
    t = pd.DataFrame({"key": frame[by].to_numpy() if by else ALL,
                      "c": np.where(covered, weight, 0.0), "w": weight})
    g = t.groupby("key").sum()
    g["share"] = np.where(g["w"] > 0, g["c"] / g["w"].where(g["w"] > 0, 1), np.nan)
    return g


def _indicator_rows(name: str, *, demand: gpd.GeoDataFrame, land: gpd.GeoDataFrame,
                    d_cov: np.ndarray, l_cov: np.ndarray | None, method: str, radius: Any,
                    source: str, target: float | None,
                    district_targets: dict[str, float] | None = None) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = []
    measures = [("buildings", demand, d_cov, np.ones(len(demand)), "栋"),
                ("population", demand, d_cov, demand["population"].to_numpy(float), "人")]
    if l_cov is not None and len(land):
        measures.append(("land", land, l_cov, land["area_m2"].to_numpy(float), "m2"))
    for measure, frame, cov, w, unit in measures:
        if measure == "population" and not np.nansum(w) > 0:
            if l_cov is not None and len(land) and land["population"].sum() > 0:
                frame, cov, w = land, l_cov, land["population"].to_numpy(float)
            else:
                continue
        for by in (None, "district"):
            g = _shares(frame, cov, w, by)
            for key, r in g.iterrows():
                tgt = target
                if by and district_targets and key in district_targets:
                    tgt = district_targets[key]
                rows.append({
                    "indicator": name, "measure": measure, "district": key,
                    "covered": float(r["c"]), "total": float(r["w"]), "unit": unit,
                    "share": float(r["share"]) if np.isfinite(r["share"]) else np.nan,
                    "target": tgt,
                    "meets": (bool(r["share"] >= tgt) if tgt is not None
                              and np.isfinite(r["share"]) else None),
                    "method": method, "radius_m": radius, "source": source,
                })
    return rows


def _grid_table(demand: gpd.GeoDataFrame, d_cov: np.ndarray, land: gpd.GeoDataFrame,
                l_cov: np.ndarray | None, layers: dict[str, gpd.GeoDataFrame]) -> gpd.GeoDataFrame:
    b = _shares(demand, d_cov, np.ones(len(demand)), "grid_id").rename(
        columns={"c": "buildings_covered", "w": "buildings", "share": "buildings_share"})
    p = _shares(demand, d_cov, demand["population"].to_numpy(float), "grid_id").rename(
        columns={"c": "population_covered", "w": "population", "share": "population_share"})
    t = b.join(p, how="outer")
    if l_cov is not None and len(land):
        la = _shares(land, l_cov, land["area_m2"].to_numpy(float), "grid_id").rename(
            columns={"c": "land_covered_m2", "w": "land_m2", "share": "land_share"})
        t = t.join(la, how="outer")
    t.index.name = "grid_id"
    t = t.reset_index()
    grids = layers.get("grids")
    if grids is not None and len(grids) and "grid_id" in grids:
        g = grids[["grid_id", "geometry"] + (["district"] if "district" in grids else [])].copy()
        g["grid_id"] = g["grid_id"].astype(str)
        out = g.merge(t, on="grid_id", how="inner")
        return gpd.GeoDataFrame(out, geometry="geometry", crs=grids.crs)
    cell = float(coverage_config()["demand"].get("fallback_cell_m", 500))
    xy = t["grid_id"].str.extract(r"C(-?\d+)_(-?\d+)").astype(float)
    geom = shapely.box(xy[0] * cell, xy[1] * cell, (xy[0] + 1) * cell, (xy[1] + 1) * cell)
    return gpd.GeoDataFrame(t, geometry=geom, crs=demand.crs)


def _cluster_findings(clusters: gpd.GeoDataFrame, *, rule: str, title: str,
                      layer: str, demand: pd.DataFrame, dist_col: str,
                      radius: float, method: str, id_col: str, pop_col: str | None,
                      grids: gpd.GeoDataFrame | None, extra: dict[str, Any] | None = None
                      ) -> gpd.GeoDataFrame:
    """Findings for clusters of uncovered buildings.

    A cluster is named by the residential compounds its buildings belong to (feature: the first
    compound id, the others related; layer ``residential_compounds``); buildings outside any
    compound are named by their smallest building id (layer ``buildings``). ``title`` is the
    detail after the rule's registered title (format fields ``n``, ``radius``, ``nearest``).
    """
    title = f"{rule_spec(rule).title}：{title}"
    if not len(clusters):
        return empty_findings()
    key = demand[id_col].astype(str)
    dist = pd.Series(demand[dist_col].to_numpy(float), index=key)
    pop = pd.Series(demand[pop_col].to_numpy(float), index=key) if pop_col else None
    comp = (pd.Series(demand["compound_id"].to_numpy(), index=key)
            if "compound_id" in demand else None)
    fids, measures, sev, titles, layers_, extra_ids = [], [], [], [], [], []
    # per-cluster aggregates in one pass (a big city has many clusters)
    ex = pd.DataFrame({"k": np.arange(len(clusters)),
                       "id": clusters["members"].str.split(";").to_numpy()}).explode("id")
    ex["d"] = ex["id"].map(dist.where(np.isfinite(dist)))
    ex["p"] = ex["id"].map(pop) if pop is not None else np.nan
    ex["c"] = ex["id"].map(comp) if comp is not None else None
    agg = ex.groupby("k").agg(nearest=("d", "min"), median=("d", "median"),
                              people=("p", "sum"))
    comp_lists = (ex.dropna(subset=["c"]).groupby("k")["c"]
                  .agg(lambda x: sorted({str(c) for c in x if isinstance(c, str) and c}))
                  if comp is not None else pd.Series(dtype=object))
    for k, r in enumerate(clusters.itertuples()):
        nearest = float(agg["nearest"].iat[k]) if pd.notna(agg["nearest"].iat[k]) \
            else float("nan")
        med = float(agg["median"].iat[k]) if pd.notna(agg["median"].iat[k]) else None
        people = float(agg["people"].iat[k]) if pop is not None else float("nan")
        comps = list(comp_lists.get(k, [])) if comp is not None else []
        m = {"buildings": int(r.n), "nearest_m": nearest,
             "median_m": med,
             "population": people, "area_m2": float(r.geometry.area), "radius_m": radius,
             "method": method, "compounds": len(comps), "first_building": str(r.cluster),
             **(extra or {})}
        measures.append(m)
        if comps:
            fids.append(comps)
            layers_.append("residential_compounds")
        else:
            fids.append([str(r.cluster)])
            layers_.append(layer)
        far = (not np.isfinite(nearest)) or nearest > 2 * radius
        sev.append("high" if far or (np.isfinite(people) and people >= 500) else "medium")
        titles.append(title.format(n=int(r.n), radius=int(radius),
                                   nearest=("不可达" if not np.isfinite(nearest)
                                            else f"{nearest:.0f}米")))
    # two clusters in the same compounds: tell them apart by their first building
    keys = [tuple(f) for f in fids]
    dup = pd.Series(keys).duplicated(keep=False).to_numpy()
    extra_ids = [str(c) if d_ else None for c, d_ in zip(clusters["cluster"], dup)]
    frames = []
    for lay in dict.fromkeys(layers_):
        sel = [i for i, x in enumerate(layers_) if x == lay]
        frames.append(make_findings(
            rule=rule, title=[titles[i] for i in sel],
            feature_ids=[fids[i] for i in sel], layer=lay,
            geometry=[clusters.geometry.values[i] for i in sel],
            measures=[measures[i] for i in sel], measure_key="nearest_m", measure_unit="m",
            severity=[sev[i] for i in sel],
            id_extra=[extra_ids[i] for i in sel]))
    return assign_grids(concat_findings(frames), grids)


# --------------------------------------------------------------------------------------------
# toilets
# --------------------------------------------------------------------------------------------

def toilet_coverage(layers: dict[str, gpd.GeoDataFrame], *, method: str = "network",
                    radius: float | None = None, graph: StreetGraph | None = None,
                    detail: bool = True) -> CoverageResult:
    """Public-toilet coverage (GB 55013-2021 §5.0.1: service radius 300 m).

    Share of residential buildings, population and residential land within ``radius`` of a
    toilet (straight line or walking), per district and grid cell; toilet density per km2 by
    land-use class (GB/T 50337-2018 表4.2.2); clusters of uncovered housing as findings
    ``toilet_uncovered`` (task 4.2.8, lead 住建局).

    Layers: ``toilets``, ``buildings`` (and ``roads`` for the network method;
    ``residential_compounds``, ``grids``, ``parks``, ``red_lines`` when present).
    With ``detail=False`` (the weekly check) only the findings and the building indicators
    are computed: no land sampling, service areas, grid table or density.
    """
    cfg = coverage_config()["toilets"]
    radius = float(radius if radius is not None else cfg["radius_m"])
    toilets = _facility_points(_need(layers, "toilets"), "toilets")
    if method == "network" and graph is None:
        graph = street_graph(layers)
    demand = residential_buildings(layers)
    land = land_samples(layers) if detail else land_samples({})
    d = facility_distances(demand, toilets, radius=radius, method=method, graph=graph)
    demand = _attach(demand, d, toilets, "toilet_id")
    l_cov = None
    if len(land):
        ld = facility_distances(land, toilets, radius=radius, method=method, graph=graph)
        land = _attach(land, ld, toilets, "toilet_id")
        l_cov = land["covered"].to_numpy()
    source = cfg["source"]
    name = f"公厕{int(radius)}米服务覆盖率"
    rows = _indicator_rows(name, demand=demand, land=land, d_cov=demand["covered"].to_numpy(),
                           l_cov=l_cov, method=method, radius=radius, source=source,
                           target=cfg.get("target_share"))
    if detail:
        sa = service_areas(toilets, radius=radius, method=method, graph=graph)
        sa["facility_id"] = _ids(toilets, "toilet_id")[sa["facility"].to_numpy()]
    else:
        sa = _empty_polygons(toilets.crs)
    net = network_config()
    clusters = uncovered_areas(demand, demand["covered"].to_numpy(),
                               footprints=demand["footprint"].to_numpy(),
                               weight=demand["population"].to_numpy(float),
                               min_count=int(net.get("cluster_min_buildings", 3)),
                               group=demand["compound_id"].to_numpy())
    findings = _cluster_findings(
        clusters, rule="toilet_uncovered",
        title=f"{{n}}栋住宅{{radius}}米{'步行' if method == 'network' else ''}范围内无公厕（最近{{nearest}}）",
        layer="buildings", demand=demand,
        dist_col="distance", radius=radius, method=method, id_col="building_id",
        pop_col="population", grids=layers.get("grids"))
    return CoverageResult(
        topic="toilets", method=method, demand=demand, land=land, facilities=toilets,
        indicators=pd.DataFrame(rows),
        by_grid=(_grid_table(demand, demand["covered"].to_numpy(), land, l_cov, layers)
                 if detail else _empty_polygons(toilets.crs, ("grid_id",))),
        service_areas=sa, uncovered=clusters, findings=findings,
        tables={"density": toilet_density(layers)} if detail else {}, graph=graph)


def _empty_polygons(crs: Any, columns: tuple[str, ...] = ("facility", "facility_id",
                                                          "radius_m")) -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame({c: [] for c in columns}, geometry=gpd.GeoSeries([], crs=crs),
                            crs=crs)


def _ids(gdf: gpd.GeoDataFrame, col: str) -> np.ndarray:
    return (gdf[col].astype(str).to_numpy() if col in gdf
            else gdf.index.astype(str).to_numpy())


def _attach(demand: gpd.GeoDataFrame, d: pd.DataFrame, facilities: gpd.GeoDataFrame,
            id_col: str) -> gpd.GeoDataFrame:
    out = demand.copy()
    for c in ("distance", "distance_straight", "distance_network", "covered"):
        out[c] = d[c].to_numpy()
    ids = _ids(facilities, id_col)
    f = d["facility"].to_numpy()
    out["facility"] = np.where(f >= 0, ids[np.maximum(f, 0)] if len(ids) else "", "")
    speed = float(network_config().get("walking_speed_m_per_min", 75))
    out["walk_min"] = out["distance"] / speed
    return out


def _land_use_class(layers: dict[str, gpd.GeoDataFrame], x: np.ndarray, y: np.ndarray
                    ) -> np.ndarray:
    """Land-use class of points: ``G`` parks, ``R`` residential compounds, ``ABS`` road land and
    public / commercial / office plots (footprints + 10 m), ``""`` otherwise (in that priority)."""
    pts = shapely.points(x, y)
    out = np.full(len(pts), "", dtype=object)

    def mark(geoms: np.ndarray, label: str, distance: float = 0.0) -> None:
        free = np.flatnonzero(out == "")
        if not len(free) or not len(geoms):
            return
        tree = shapely.STRtree(geoms)
        if distance > 0:
            i, _ = tree.query(pts[free], predicate="dwithin", distance=distance)
        else:
            i, _ = tree.query(pts[free], predicate="intersects")
        out[free[np.unique(i)]] = label

    def arr(lid: str) -> np.ndarray:
        g = layers.get(lid)
        return (np.asarray(g.geometry.values, dtype=object) if g is not None and len(g)
                else np.zeros(0, dtype=object))

    mark(arr("parks"), "G")
    mark(arr("residential_compounds"), "R")
    mark(arr("red_lines"), "ABS")
    b = layers.get("buildings")
    if b is not None and len(b) and "use" in b:
        pub = b[b["use"].isin(["商业", "办公", "公共服务", "市政设施"])]
        mark(np.asarray(pub.geometry.values, dtype=object), "ABS", distance=10.0)
    return out


def _toilet_class(layers: dict[str, gpd.GeoDataFrame], x: np.ndarray, y: np.ndarray,
                  max_distance: float) -> np.ndarray:
    """Class of the land a toilet serves: the nearest parcel (park, compound, public plot)
    within ``max_distance``; a toilet on a sidewalk next to housing serves residential land.
    Toilets with no parcel nearby take the class of the land they stand on."""
    pts = shapely.points(x, y)
    parts, labels = [], []
    for lid, label in (("parks", "G"), ("residential_compounds", "R")):
        g = layers.get(lid)
        if g is not None and len(g):
            parts.append(np.asarray(g.geometry.values, dtype=object))
            labels.append(np.full(len(g), label, dtype=object))
    b = layers.get("buildings")
    if b is not None and len(b) and "use" in b:
        pub = b[b["use"].isin(["商业", "办公", "公共服务", "市政设施"])]
        if len(pub):
            parts.append(shapely.buffer(np.asarray(pub.geometry.values, dtype=object), 10,
                                        quad_segs=2))
            labels.append(np.full(len(pub), "ABS", dtype=object))
    out = _land_use_class(layers, x, y)
    if parts and len(pts):
        geoms = np.concatenate(parts)
        lab = np.concatenate(labels)
        (pi, gi), _ = shapely.STRtree(geoms).query_nearest(
            pts, max_distance=max_distance, return_distance=True, all_matches=False)
        out[pi] = lab[gi]
    return out


def toilet_density(layers: dict[str, gpd.GeoDataFrame]) -> pd.DataFrame:
    """Toilets per km2 of each land-use class against GB/T 50337-2018 表4.2.2.

    Land-use classes are approximated from the catalog layers (a bureau with a land-use layer
    should use it instead): G = parks and squares, R = residential compounds, ABS = road land
    (red lines) and the plots of public, commercial and office buildings (footprints buffered
    10 m), each without the classes before it. Areas are measured on a lattice of sample points
    (``toilets.density.sample_m`` apart, coarser if that would exceed about a million points;
    overlaps counted once); a toilet counts for the class
    of the parcel it serves (the nearest park, compound or public plot within
    ``toilets.density.parcel_distance_m``: toilets stand on sidewalks), else of the land it
    stands on. Per district when grids carry ``district``.

    Returns
    -------
    DataFrame
        ``district``, ``class``, ``title``, ``area_km2``, ``toilets``, ``density_per_km2``,
        ``min``, ``max``, ``status`` (偏低 / 符合 / 偏高 / 无此类用地), ``source``.
    """
    cfg = coverage_config()["toilets"]["density"]
    step = float(cfg.get("sample_m", 10))
    toilets = _need(layers, "toilets")
    bounds = [g.total_bounds for lid in ("parks", "residential_compounds", "red_lines")
              if (g := layers.get(lid)) is not None and len(g)]
    if bounds:
        bb = np.array(bounds)
        # at most about a million sample points, whatever the size of the city
        ext = bb[:, 2:].max(axis=0) - bb[:, :2].min(axis=0)
        step = max(step, float(np.sqrt(ext[0] * ext[1] / 1e6)))
        # lattice offset 0.37 step: sample points rarely fall on drawn boundaries
        x0, y0 = np.floor(bb[:, :2].min(axis=0) / step) * step + 0.37 * step
        x1, y1 = bb[:, 2:].max(axis=0)
        gx, gy = np.meshgrid(np.arange(x0, x1, step), np.arange(y0, y1, step))
        sx, sy = gx.ravel(), gy.ravel()
    else:
        sx = sy = np.zeros(0)
    cls = _land_use_class(layers, sx, sy)
    keep = cls != ""
    sx, sy, cls = sx[keep], sy[keep], cls[keep]
    tx = toilets.geometry.x.to_numpy()
    ty = toilets.geometry.y.to_numpy()
    tcls = _toilet_class(layers, tx, ty, float(cfg.get("parcel_distance_m", 50)))
    grids = layers.get("grids")
    s_d = np.full(len(sx), "", dtype=object)
    t_d = np.full(len(tx), "", dtype=object)
    if grids is not None and len(grids) and "district" in grids:
        gtree = shapely.STRtree(np.asarray(grids.geometry.values, dtype=object))
        gd = grids["district"].fillna("").astype(str).to_numpy()
        for xs_, ys_, outd in ((sx, sy, s_d), (tx, ty, t_d)):
            i, j = gtree.query(shapely.points(xs_, ys_), predicate="intersects")
            outd[i] = gd[j]
    districts = [ALL] + sorted(d for d in set(s_d) | set(t_d) if d)
    rows = []
    cell_km2 = step * step / 1e6
    for dname in districts:
        sd = np.ones(len(sx), bool) if dname == ALL else s_d == dname
        td = np.ones(len(tx), bool) if dname == ALL else t_d == dname
        for c, spec in cfg["classes"].items():
            area = float(((cls == c) & sd).sum()) * cell_km2
            n = int(((tcls == c) & td).sum())
            dens = n / area if area > 0 else np.nan
            lo, hi = float(spec["min"]), float(spec["max"])
            status = ("无此类用地" if not area > 0 else "偏低" if dens < lo
                      else "偏高" if dens > hi else "符合")
            rows.append({"district": dname, "class": c, "title": spec["title"],
                         "area_km2": area, "toilets": n, "density_per_km2": dens,
                         "min": lo, "max": hi, "status": status, "source": cfg["source"]})
    return pd.DataFrame(rows)


# --------------------------------------------------------------------------------------------
# transfer stations
# --------------------------------------------------------------------------------------------

def _station_modes(stations: gpd.GeoDataFrame, cfg: dict[str, Any]) -> np.ndarray:
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
    cfg = coverage_config()["transfer"]
    stations = _facility_points(_need(layers, "transfer_stations"), "transfer_stations")
    serving = stations
    if "status" in stations:
        serving = stations[stations["status"].isin(cfg.get("serving_status", ["运行"]))]
    modes = _station_modes(serving, cfg)
    std = np.array([cfg["collection_modes"][m]["radius_m"] for m in modes], float)
    mx = np.array([cfg["collection_modes"][m]["max_radius_m"] for m in modes], float)
    if method == "network" and graph is None:
        graph = street_graph(layers, walk=False)
    demand = residential_buildings(layers)
    d_std = facility_distances(demand, serving, radius=std, method=method, graph=graph)
    d_max = facility_distances(demand, serving, radius=mx, method=method, graph=graph)
    demand = _attach(demand, d_std, serving, "station_id")
    demand["covered_max"] = d_max["covered"].to_numpy()
    land = land_samples(layers) if detail else land_samples({})
    l_cov = None
    if len(land):
        ld = facility_distances(land, serving, radius=std, method=method, graph=graph)
        land = _attach(land, ld, serving, "station_id")
        l_cov = land["covered"].to_numpy()
    source = cfg["source"]
    rows = _indicator_rows("转运站服务半径覆盖率", demand=demand, land=land,
                           d_cov=demand["covered"].to_numpy(), l_cov=l_cov, method=method,
                           radius="按收集方式", source=source, target=None)
    rows += _indicator_rows("转运站最大服务半径覆盖率", demand=demand, land=pd.DataFrame(),
                            d_cov=demand["covered_max"].to_numpy(), l_cov=None, method=method,
                            radius="按收集方式（最大）", source=source, target=1.0)
    # per collection mode: share of housing within each mode's radius of a station of that mode
    for mode, spec in cfg["collection_modes"].items():
        sub = serving[modes == mode]
        if not len(sub) or not detail:
            continue
        dm = facility_distances(demand, sub, radius=float(spec["radius_m"]), method=method,
                                graph=graph)
        cov = dm["covered"].to_numpy()
        for r in _indicator_rows(f"{mode}收集转运站{int(spec['radius_m'])}米覆盖率",
                                 demand=demand, land=pd.DataFrame(), d_cov=cov, l_cov=None,
                                 method=method, radius=float(spec["radius_m"]), source=source,
                                 target=None):
            if r["measure"] == "buildings":
                rows.append(r)
    if detail:
        sa = service_areas(serving, radius=std, method=method, graph=graph)
        sa["facility_id"] = _ids(serving, "station_id")[sa["facility"].to_numpy()]
    else:
        sa = _empty_polygons(stations.crs)
    net = network_config()
    clusters = uncovered_areas(demand, demand["covered_max"].to_numpy(),
                               footprints=demand["footprint"].to_numpy(),
                               weight=demand["population"].to_numpy(float),
                               min_count=int(net.get("cluster_min_buildings", 3)),
                               group=demand["compound_id"].to_numpy(),
                               cluster_distance=float(cfg.get("cluster_distance_m", 300)),
                               polygon_buffer=float(net.get("cluster_distance_m", 60)) / 2)
    far_dist = d_max["distance"].to_numpy()
    demand["distance_max_rule"] = far_dist
    findings = _cluster_findings(
        clusters, rule="transfer_uncovered",
        title="{n}栋住宅超出转运站最大服务半径（最近{nearest}）",
        layer="buildings", demand=demand,
        dist_col="distance_max_rule", radius=float(mx.max()) if len(mx) else 0.0,
        method=method, id_col="building_id", pop_col="population",
        grids=layers.get("grids"))
    setbacks, sb_findings = transfer_setbacks(layers)
    return CoverageResult(
        topic="transfer", method=method, demand=demand, land=land, facilities=stations,
        indicators=pd.DataFrame(rows),
        by_grid=(_grid_table(demand, demand["covered"].to_numpy(), land, l_cov, layers)
                 if detail else _empty_polygons(stations.crs, ("grid_id",))),
        service_areas=sa, uncovered=clusters,
        findings=concat_findings([findings, sb_findings]),
        tables={"setbacks": setbacks}, graph=graph)


def setback_class(capacity_tpd: float) -> dict[str, Any]:
    """Capacity class of a transfer station and its distance to neighbouring buildings.

    >>> setback_class(100)["distance_m"], setback_class(300)["distance_m"], setback_class(800)["title"]
    (10, 15, '大型')
    """
    classes = coverage_config()["transfer"]["setback"]["classes"]
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
    cfg = coverage_config()["transfer"]
    sb = cfg["setback"]
    st = _need(layers, "transfer_stations")
    b = layers.get("buildings")
    rows = []
    fids, geoms, measures, titles = [], [], [], []
    if b is None or not len(b) or not len(st):
        return pd.DataFrame(rows), empty_findings()
    nb = b[~b["use"].isin(sb.get("ignore_uses", []))] if "use" in b else b
    nb_geoms = np.asarray(nb.geometry.values, dtype=object)
    tree = shapely.STRtree(nb_geoms)
    bid = _ids(nb, "building_id")
    sid = _ids(st, "station_id")
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


# --------------------------------------------------------------------------------------------
# parks
# --------------------------------------------------------------------------------------------

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
    spacing = float(spacing or coverage_config()["parks"].get("access_spacing_m", 50))
    rings = shapely.boundary(np.asarray(parks.geometry.values, dtype=object))
    parts, owner = shapely.get_parts(rings, return_index=True)
    lengths = shapely.length(parts)
    n = np.maximum(np.ceil(lengths / spacing).astype(int), 1)
    rep = np.repeat(np.arange(len(parts)), n)
    start = np.r_[0, np.cumsum(n)[:-1]]
    frac = (np.arange(n.sum()) - np.repeat(start, n)) / np.repeat(n, n)
    pts = shapely.line_interpolate_point(parts[rep], frac, normalized=True)
    return gpd.GeoDataFrame(geometry=pts, crs=parks.crs), owner[rep]


def park_coverage(layers: dict[str, gpd.GeoDataFrame], *, method: str = "network",
                  preset: str | None = None, graph: StreetGraph | None = None,
                  detail: bool = True) -> CoverageResult:
    """Park service-radius coverage of residential land, by two presets.

    ``mohurd2021`` (MOHURD 2021 城市体检: parks >= 5000 m2 serve 500 m, 2000-5000 m2 serve 300 m)
    and ``gbt51346`` (GB/T 51346-2019 §4.3.4: park green space and squares 500 m; target > 90 %
    overall, old town 80 %, new districts 100 %). Both are always computed (table ``presets``);
    ``preset`` (default ``parks.default_preset``) drives the indicators, polygons and findings
    ``park_uncovered`` (clusters of uncovered residential land, by compound). With
    ``detail=False`` only ``preset`` is computed, without service areas and grid table.
    """
    cfg = coverage_config()["parks"]
    preset = preset or cfg.get("default_preset", "gbt51346")
    if preset not in cfg["presets"]:
        raise InputError(f"未知的公园覆盖预设 {preset}，可选 {list(cfg['presets'])}")
    parks = _need(layers, "parks")
    if method == "network" and graph is None:
        graph = street_graph(layers)
    demand = residential_buildings(layers)
    land = land_samples(layers)
    access, owner = park_access_points(parks) if method == "network" else (parks, None)
    results: dict[str, tuple[pd.DataFrame, pd.DataFrame]] = {}
    preset_rows = []
    for name, spec in cfg["presets"].items():
        if not detail and name != preset:
            continue
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
        dd = facility_distances(demand, fac, radius=rr, method=method, graph=graph, owner=o)
        ld = facility_distances(land, fac, radius=rr, method=method, graph=graph, owner=o) \
            if len(land) else None
        idx = np.flatnonzero(counts)
        for frame in (dd, ld):
            if frame is not None:
                f = frame["facility"].to_numpy()
                frame["facility"] = np.where(f >= 0, idx[np.maximum(f, 0)] if len(idx) else -1,
                                             -1)
        results[name] = (dd, ld)
        if ld is not None:
            w = land["area_m2"].to_numpy(float)
            share = float(w[ld["covered"].to_numpy()].sum() / w.sum()) if w.sum() else np.nan
        else:
            share = np.nan
        preset_rows.append({"preset": name, "title": spec["title"], "source": spec["source"],
                            "parks_counted": int(counts.sum()), "land_share": share,
                            "target": spec.get("target_share"),
                            "meets": bool(share >= spec.get("target_share", 0))
                            if np.isfinite(share) else None, "method": method})
    spec = cfg["presets"][preset]
    dd, ld = results[preset]
    demand = _attach(demand, dd, parks, "park_id")
    l_cov = None
    if ld is not None:
        land = _attach(land, ld, parks, "park_id")
        l_cov = land["covered"].to_numpy()
    dt = {k: float(v["target_share"]) for k, v in (cfg.get("district_targets") or {}).items()} \
        if preset == "gbt51346" else None
    rows = _indicator_rows(spec["title"], demand=demand, land=land,
                           d_cov=demand["covered"].to_numpy(), l_cov=l_cov, method=method,
                           radius="按公园规模" if preset == "mohurd2021" else 500,
                           source=spec["source"], target=spec.get("target_share"),
                           district_targets=dt)
    radii = _park_radii(parks, spec)
    counts = radii > 0
    if not detail:
        sa = _empty_polygons(parks.crs)
    elif method == "network":
        keep = counts[owner]
        sa = service_areas(access[keep], radius=radii, method=method, graph=graph,
                           owner=owner[keep])
    else:
        sa = service_areas(parks[counts], radius=radii[counts], method=method)
        sa["facility"] = np.flatnonzero(counts)[sa["facility"].to_numpy()]
    if detail:
        sa["facility_id"] = _ids(parks, "park_id")[sa["facility"].to_numpy()]
    # uncovered residential land: compounds mostly outside every park's reach, clustered
    clusters = _empty_polygons(parks.crs, ("cluster", "n", "weight", "members"))
    findings = empty_findings()
    if l_cov is not None:
        clusters = _park_clusters(layers.get("residential_compounds"), land, l_cov,
                                  share=float(cfg.get("compound_uncovered_share", 0.5)),
                                  distance=float(cfg.get("cluster_distance_m", 60)))
        findings = _park_findings(clusters, land, spec, method, layers.get("grids"))
    return CoverageResult(
        topic="parks", method=method, demand=demand, land=land, facilities=parks,
        indicators=pd.DataFrame(rows),
        by_grid=(_grid_table(demand, demand["covered"].to_numpy(), land, l_cov, layers)
                 if detail else _empty_polygons(parks.crs, ("grid_id",))),
        service_areas=sa, uncovered=clusters, findings=findings,
        tables={"presets": pd.DataFrame(preset_rows)}, graph=graph)


def _park_clusters(compounds: gpd.GeoDataFrame | None, land: gpd.GeoDataFrame,
                   l_cov: np.ndarray, *, share: float, distance: float) -> gpd.GeoDataFrame:
    """Blind areas of park coverage: compounds whose residential land is at least ``share``
    uncovered, merged when closer than ``distance`` (across a street).

    ``weight`` is the uncovered land (m2, from the land samples), ``members`` the compound ids;
    the polygon is the union of those compounds.
    """
    crs = land.crs
    empty = _empty_polygons(crs, ("cluster", "n", "weight", "members"))
    if compounds is None or not len(compounds) or not len(land):
        return empty
    t = pd.DataFrame({"cid": land["compound_id"].astype(str).to_numpy(),
                      "a": land["area_m2"].to_numpy(float),
                      "u": np.where(l_cov, 0.0, land["area_m2"].to_numpy(float))})
    g = t.groupby("cid")[["a", "u"]].sum()
    bad = g[(g["u"] >= share * g["a"]) & (g["u"] > 0)]
    if not len(bad):
        return empty
    comp = compounds.assign(compound_id=_ids(compounds, "compound_id"))
    comp = comp[comp["compound_id"].isin(bad.index)].drop_duplicates("compound_id")
    comp = comp.reset_index(drop=True)
    if not len(comp):
        return empty
    out = uncovered_areas(comp, np.zeros(len(comp), bool),
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
    min_area = float(coverage_config()["parks"].get("finding_min_area_m2", 0))
    min_area = max(min_area, 2 * float(coverage_config()["demand"].get(
        "land_sample_spacing_m", 20)) ** 2)
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


# --------------------------------------------------------------------------------------------
# the weekly check
# --------------------------------------------------------------------------------------------

_LAYERS = ["roads", "buildings", "residential_compounds", "toilets", "transfer_stations",
           "parks", "grids", "red_lines"]


def run_check(catalog: Any, layers: dict[str, gpd.GeoDataFrame], *,
              as_of: date | None = None, method: str = "network") -> gpd.GeoDataFrame:
    """Coverage findings for the weekly run: toilets, transfer stations and parks.

    Rules: ``toilet_uncovered`` (GB 55013-2021 §5.0.1, task 4.2.8), ``transfer_uncovered``
    (CJJ/T 47-2016 §2.2.7, task 4.2.6), ``transfer_station_distance`` (CJJ/T 47-2016, task
    4.2.6), ``park_uncovered`` (GB/T 51346-2019 §4.3.4 or MOHURD 2021, task 3.1.1); lead
    department 住建局. Coverage is a state, not an event: ``as_of`` is not used.
    Missing layers are loaded from ``catalog``.
    """
    layers = dict(layers)
    missing = [lid for lid in _LAYERS if lid not in layers and catalog is not None
               and lid in getattr(catalog, "layers", {})]
    if missing:
        from ..io import load_layers

        layers.update(load_layers(catalog, missing))
    import gc

    frames = []
    # walking graph for toilets and parks, then the driving graph for transfer stations:
    # one graph in memory at a time (a 1M-building city's graph takes about 1 GB)
    walk = street_graph(layers) if method == "network" and (
        "toilets" in layers or "parks" in layers) else None
    if "toilets" in layers:
        frames.append(toilet_coverage(layers, method=method, graph=walk, detail=False).findings)
    if "parks" in layers:
        frames.append(park_coverage(layers, method=method, graph=walk, detail=False).findings)
    del walk
    gc.collect()
    if "transfer_stations" in layers:
        frames.append(transfer_coverage(layers, method=method, detail=False).findings)
    return concat_findings(frames)
