"""Coverage geometry and tables: distances to facilities, service areas, uncovered areas,
indicator and grid tables, and findings for clusters of uncovered housing.
"""

from __future__ import annotations

from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from .._arrowtext import frame_values
from ..errors import InputError
from ..findings import assign_grids, concat_findings, empty_findings, make_findings
from ..rules import rule as rule_spec
from ._network_common import point_xy_or_nan
from .coverage_clusters import uncovered_areas
from .coverage_inputs import ALL, METHODS, CoverageResult, coverage_config, footprints_of
from .network import StreetGraph, is_xy, nearest_facility, network_config

__all__ = [
    "facility_distances",
    "nearest_straight",
    "service_areas",
    "uncovered_areas",
    "indicator_rows",
    "grid_table",
    "cluster_findings",
    "empty_polygons",
    "facility_ids",
    "attach_facilities",
]

def facility_distances(demand: gpd.GeoDataFrame, facilities: gpd.GeoDataFrame, *,
                       radius: float | np.ndarray, method: str = "network",
                       graph: StreetGraph | None = None,
                       owner: np.ndarray | None = None) -> pd.DataFrame:
    """Distance from every demand point to its facility and whether it is covered.

    Parameters
    ----------
    demand : GeoDataFrame or DataFrame
        Points (other geometries stand by a representative point), or a plain DataFrame with
        their coordinates in columns ``x`` and ``y``; in the facilities' (and graph's) CRS.
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

    def frame(**cols: np.ndarray) -> pd.DataFrame:
        """The result, made once the columns are known (the 1M city's land samples: 45 MB
        that would otherwise be held through the snapping)."""
        empty = {"distance_straight": np.inf, "distance_network": np.nan, "distance": np.inf,
                 "facility": np.int64(-1), "covered": False}
        return pd.DataFrame({k: cols[k] if k in cols else np.full(n, v)
                             for k, v in empty.items()}, index=demand.index, copy=False)

    if n == 0 or len(fac_geoms) == 0:
        return frame()
    xy = _demand_xy(demand)
    tree = shapely.STRtree(fac_geoms)
    # the network method reads the nearest facility only for points inside one (distance 0)
    dist_s, fi = nearest_straight(xy, fac_geoms, tree, touching_only=method == "network")
    near_s = np.where(fi >= 0, owner[np.maximum(fi, 0)], -1)
    rmax = float(radius.max()) if len(radius) else 0.0
    if method == "radius":
        pts = _points(xy)
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
        return frame(distance_straight=dist_s, distance=best_dist, facility=best_fac,
                     covered=cov)
    if graph is None:
        raise InputError("路网距离计算需要道路图层")
    bad = ~np.isfinite(xy).all(axis=1)
    if bad.any():
        k = int(np.flatnonzero(bad)[0])
        raise InputError(f"要素 {demand.index[k]} 没有几何，无法计算距离", row=k + 1,
                         field="geometry")
    cost = rmax - radius[owner]
    max_access = network_config().get("max_access_m")
    # the straight-line nearest is measured above (to the owners): nearest_facility's own
    # straight search over the same points would be a second STRtree pass, unused here
    r = nearest_facility(graph, xy, fac_geoms, cost=cost,
                         max_access=float(max_access) if max_access else None, straight=False)
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
    return frame(distance_straight=dist_s, distance_network=real, distance=real.copy(),
                 facility=fac, covered=(dn <= rmax) | inside)


def nearest_straight(pts: np.ndarray, facilities: np.ndarray, tree: shapely.STRtree, *,
                     touching_only: bool = False) -> tuple[np.ndarray, np.ndarray]:
    """Straight-line distance from each point to its nearest facility, and that facility.

    ``pts`` are point geometries or their (n, 2) coordinates (NaN: no point). Returns the
    distances (``inf`` for a missing or empty point, or without facilities) and the positions
    in ``facilities`` of the facility ``tree.query_nearest`` picks (-1 none).
    With ``touching_only`` the position is given only for points at distance 0 (-1 for the
    others) and, when every facility is a point, the distances come from a k-d tree over
    their coordinates: the same ``sqrt(dx * dx + dy * dy)`` as GEOS's point distance (the
    minimum does not depend on which of equally near facilities is found), in a third of the
    time of the STRtree search; the facility at distance 0 is still the STRtree's pick.
    """
    xy = pts if is_xy(pts) else None
    n = len(pts)
    dist = np.full(n, np.inf)
    pos = np.full(n, -1, np.int64)
    fast = (touching_only and len(facilities) > 0
            and bool((shapely.get_type_id(facilities) == 0).all())
            and not bool(shapely.is_empty(facilities).any()))
    if not fast:
        geoms = pts if xy is None else _points(xy)
        (pi, fi), d = tree.query_nearest(geoms, return_distance=True, all_matches=False)
        dist[pi] = d
        if touching_only:
            pi, fi = pi[d == 0], fi[d == 0]
        pos[pi] = fi
        return dist, pos
    from scipy.spatial import cKDTree

    if xy is None:
        ok = np.flatnonzero((shapely.get_type_id(pts) == 0) & ~shapely.is_empty(pts))
        coords = shapely.get_coordinates(pts[ok])
    else:
        ok = np.flatnonzero(np.isfinite(xy).all(axis=1))
        coords = xy[ok]
    d, _ = cKDTree(shapely.get_coordinates(facilities)).query(coords, k=1)
    dist[ok] = d
    zero = ok[d == 0]
    if len(zero):
        (pi, fi) = tree.query_nearest(pts[zero] if xy is None else shapely.points(xy[zero]),
                                      all_matches=False)
        pos[zero[pi]] = fi
    return dist, pos


def _demand_xy(demand: pd.DataFrame) -> np.ndarray:
    """Coordinates (n, 2) of the demand's points: columns ``x`` and ``y`` of a plain
    DataFrame (land samples without geometry, :func:`~.coverage_inputs.land_samples`), else
    the points of the geometries (a point on polygons and lines; NaN for a missing or empty
    geometry)."""
    if not isinstance(demand, gpd.GeoDataFrame):
        return np.column_stack([demand["x"].to_numpy(float), demand["y"].to_numpy(float)])
    return point_xy_or_nan(demand.geometry.values)


def _points(xy: np.ndarray) -> np.ndarray:
    """Points of coordinates, None where they are not finite."""
    ok = np.isfinite(xy).all(axis=1)
    out = np.full(len(xy), None, dtype=object)
    out[ok] = shapely.points(xy[ok])
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
    buffer = float(cfg["service_area_buffer_m"]) if buffer is None else buffer
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
    ids = facility_ids(facilities, id_field) if id_field and owner is None else None
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


# --------------------------------------------------------------------------------------------
# tables
# --------------------------------------------------------------------------------------------

def _shares(frame: pd.DataFrame, covered: np.ndarray, weight: np.ndarray, by: str | None
            ) -> pd.DataFrame:
    t = pd.DataFrame({"key": frame_values(frame[by]) if by else ALL,
                      "c": np.where(covered, weight, 0.0), "w": weight})
    g = t.groupby("key").sum()
    g["share"] = np.where(g["w"] > 0, g["c"] / g["w"].where(g["w"] > 0, 1), np.nan)
    return g


def indicator_rows(name: str, *, demand: gpd.GeoDataFrame, land: gpd.GeoDataFrame,
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


def grid_table(demand: gpd.GeoDataFrame, d_cov: np.ndarray, land: gpd.GeoDataFrame,
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
    cell = float(coverage_config()["demand"]["fallback_cell_m"])
    xy = t["grid_id"].str.extract(r"C(-?\d+)_(-?\d+)").astype(float)
    geom = shapely.box(xy[0] * cell, xy[1] * cell, (xy[0] + 1) * cell, (xy[1] + 1) * cell)
    return gpd.GeoDataFrame(t, geometry=geom, crs=demand.crs)


def _member_values(demand: pd.DataFrame, members: pd.Series, *, id_col: str, dist_col: str,
                   pop_col: str | None) -> tuple[np.ndarray, Any, Any]:
    """Distance (NaN when infinite), population and compound of each cluster member.

    One lookup of the members among the demand ids (as unique as ``Series.map`` needs them)
    serves the three columns: three ``map`` calls hashed the 1M-building ids three times.
    Members not found get NaN, as ``map`` gives them.
    """
    key = pd.Index(demand[id_col].astype(str))
    if not key.is_unique:  # what Series.map refuses
        raise pd.errors.InvalidIndexError("Reindexing only valid with uniquely valued Index")
    at = key.get_indexer(members)
    found = at >= 0
    pick = np.where(found, at, 0)

    def take(values: np.ndarray) -> np.ndarray:
        out = values[pick] if len(values) else np.full(len(at), np.nan, dtype=values.dtype)
        if not found.all():
            out = out.astype(object if out.dtype == object else float)
            out[~found] = np.nan
        return out

    d = demand[dist_col].to_numpy(float)
    dist = take(np.where(np.isfinite(d), d, np.nan))
    pop = take(demand[pop_col].to_numpy(float)) if pop_col else np.nan
    comp = (take(np.asarray(demand["compound_id"].to_numpy(), dtype=object))
            if "compound_id" in demand else None)
    return dist, pop, comp


def _compound_lists(k: np.ndarray, comp: np.ndarray) -> dict[int, list[str]]:
    """Per cluster ``k``, the sorted distinct non-empty compound ids of its members (one pass
    over the object array, not a Python loop over an Arrow column per group)."""
    sets: dict[int, set[str]] = {}
    for kk, c in zip(k.tolist(), comp.tolist()):
        if isinstance(c, str) and c:
            sets.setdefault(kk, set()).add(c)
    return {kk: sorted(v) for kk, v in sets.items()}


def cluster_findings(clusters: gpd.GeoDataFrame, *, rule: str, title: str,
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
    fids, measures, sev, titles, layers_, extra_ids = [], [], [], [], [], []
    # per-cluster aggregates in one pass (a big city has many clusters)
    ex = pd.DataFrame({"k": np.arange(len(clusters)),
                       "id": clusters["members"].str.split(";").to_numpy()}).explode("id")
    ex["d"], ex["p"], comp = _member_values(demand, ex["id"], id_col=id_col,
                                            dist_col=dist_col, pop_col=pop_col)
    has_comp = "compound_id" in demand
    agg = ex.groupby("k").agg(nearest=("d", "min"), median=("d", "median"),
                              people=("p", "sum"))
    comp_lists = _compound_lists(ex["k"].to_numpy(), comp) if has_comp else {}
    for k, r in enumerate(clusters.itertuples()):
        nearest = float(agg["nearest"].iat[k]) if pd.notna(agg["nearest"].iat[k]) \
            else float("nan")
        med = float(agg["median"].iat[k]) if pd.notna(agg["median"].iat[k]) else None
        people = float(agg["people"].iat[k]) if pop_col is not None else float("nan")
        comps = list(comp_lists.get(k, [])) if has_comp else []
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




def empty_polygons(crs: Any, columns: tuple[str, ...] = ("facility", "facility_id",
                                                          "radius_m")) -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame({c: [] for c in columns}, geometry=gpd.GeoSeries([], crs=crs),
                            crs=crs)


def facility_ids(gdf: gpd.GeoDataFrame, col: str) -> np.ndarray:
    return (gdf[col].astype(str).to_numpy() if col in gdf
            else gdf.index.astype(str).to_numpy())


def attach_facilities(demand: gpd.GeoDataFrame, d: pd.DataFrame, facilities: gpd.GeoDataFrame,
            id_col: str) -> gpd.GeoDataFrame:
    """``demand`` with the distances ``d`` and the serving facility's id (``facility``) and
    walking minutes; ``demand`` itself is not changed (a shallow copy: the columns are shared
    until written, pandas' copy-on-write)."""
    out = demand.copy(deep=False)
    for c in ("distance", "distance_straight", "distance_network", "covered"):
        out[c] = d[c].to_numpy()
    ids = facility_ids(facilities, id_col)
    f = d["facility"].to_numpy()
    out["facility"] = np.where(f >= 0, ids[np.maximum(f, 0)] if len(ids) else "", "")
    speed = float(network_config()["walking_speed_m_per_min"])
    out["walk_min"] = out["distance"] / speed
    return out


def facility_service_areas(facilities: gpd.GeoDataFrame, id_col: str, *,
                           radius: float | np.ndarray, method: str,
                           graph: StreetGraph | None, detail: bool) -> gpd.GeoDataFrame:
    """:func:`service_areas` with each area's ``facility_id`` (empty without ``detail``)."""
    if not detail:
        return empty_polygons(facilities.crs)
    sa = service_areas(facilities, radius=radius, method=method, graph=graph)
    sa["facility_id"] = facility_ids(facilities, id_col)[sa["facility"].to_numpy()]
    return sa


def uncovered_buildings(demand: pd.DataFrame, covered: np.ndarray,
                        layers: dict[str, gpd.GeoDataFrame], **options: Any) -> gpd.GeoDataFrame:
    """:func:`uncovered_areas` of residential buildings (footprints, population, compound),
    at least ``network.yaml`` ``cluster_min_buildings`` per cluster; ``demand`` from
    :func:`~zlgis.analysis.coverage_inputs.residential_buildings` of ``layers``."""
    return uncovered_areas(demand, covered, footprints=footprints_of(demand, layers),
                           weight=demand["population"].to_numpy(float),
                           min_count=int(network_config()["cluster_min_buildings"]),
                           group=demand["compound_id"].to_numpy(), **options)


def grid_table_or_empty(demand: gpd.GeoDataFrame, land: gpd.GeoDataFrame,
                        l_cov: np.ndarray | None, layers: dict[str, gpd.GeoDataFrame], *,
                        detail: bool, crs: Any) -> gpd.GeoDataFrame:
    """:func:`grid_table` of the covered buildings (and land), or an empty table."""
    if not detail:
        return empty_polygons(crs, ("grid_id",))
    return grid_table(demand, demand["covered"].to_numpy(), land, l_cov, layers)


def land_coverage(land: gpd.GeoDataFrame, facilities: gpd.GeoDataFrame, id_col: str, *,
                  radius: float | np.ndarray, method: str, graph: StreetGraph | None
                  ) -> tuple[gpd.GeoDataFrame, np.ndarray | None]:
    """The land samples with their nearest facility (:func:`attach_facilities`) and whether
    each is covered; ``None`` for no samples (the weekly check samples no land)."""
    if not len(land):
        return land, None
    d = facility_distances(land, facilities, radius=radius, method=method, graph=graph)
    land = attach_facilities(land, d, facilities, id_col)
    return land, land["covered"].to_numpy()


def coverage_result(topic: str, method: str, *, demand: gpd.GeoDataFrame,
                    land: gpd.GeoDataFrame, l_cov: np.ndarray | None,
                    facilities: gpd.GeoDataFrame, rows: list[dict[str, Any]],
                    layers: dict[str, gpd.GeoDataFrame], detail: bool,
                    service_areas: gpd.GeoDataFrame, uncovered: gpd.GeoDataFrame,
                    findings: gpd.GeoDataFrame, tables: dict[str, pd.DataFrame],
                    graph: StreetGraph | None) -> CoverageResult:
    """One topic's :class:`CoverageResult`: the indicator ``rows`` as a table and, with
    ``detail``, the grid table of the covered buildings and land (in the facilities' CRS)."""
    return CoverageResult(
        topic=topic, method=method, demand=demand, land=land, facilities=facilities,
        indicators=pd.DataFrame(rows),
        by_grid=grid_table_or_empty(demand, land, l_cov, layers, detail=detail,
                                    crs=facilities.crs),
        service_areas=service_areas, uncovered=uncovered, findings=findings, tables=tables,
        graph=graph)
