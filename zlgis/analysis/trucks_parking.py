"""Designated truck parking supply (task 4.4.3): logistics points and no-parking zones.

Rule ``parking_supply`` of ``config/rules/trucks.yaml``; distances on the driving network.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from ..findings import concat_findings, default_crs, make_findings
from .trucks_overlay import union_buffer
from .trucks_pings import config_value, feature_name, layer_ids, trucks_config

__all__ = [
    "parking_access",
    "parking_supply_findings",
]

def parking_access(logistics: gpd.GeoDataFrame, parking: gpd.GeoDataFrame | None,
                   roads: gpd.GeoDataFrame | None, *,
                   restricted: gpd.GeoDataFrame | None = None,
                   config: Mapping[str, Any] | None = None) -> gpd.GeoDataFrame:
    """Nearest designated truck parking of every logistics point, by road and straight line.

    Network distances come from :mod:`zlgis.analysis.network` (driving graph from ``roads``, one
    multi-source Dijkstra from all truck parking points). Points farther than
    ``parking_supply.snap_m`` from every road are unreachable (``inf``). With
    ``avoid_restricted_roads`` the graph omits the restricted segments.

    Returns
    -------
    GeoDataFrame
        The logistics points (index as given) with ``parking_id``, ``capacity`` (of the parking
        nearest by road), ``network_m``, ``straight_m`` and ``reachable``.

    Examples
    --------
    >>> from shapely.geometry import LineString, Point
    >>> roads = gpd.GeoDataFrame(geometry=[LineString([(0, 0), (1000, 0)])], crs="EPSG:4550")
    >>> park = gpd.GeoDataFrame({"parking_id": ["P1"], "capacity": [40]},
    ...                         geometry=[Point(0, 10)], crs="EPSG:4550")
    >>> lg = gpd.GeoDataFrame({"point_id": ["L1"]}, geometry=[Point(600, -20)], crs="EPSG:4550")
    >>> parking_access(lg, park, roads)[["point_id", "parking_id", "network_m"]].values.tolist()
    [['L1', 'P1', 630.0]]
    """
    rc = trucks_config(config)["parking_supply"]
    lg = logistics.to_crs(default_crs()) if logistics.crs is not None else logistics
    out = lg.copy()
    n = len(lg)
    d = np.full(n, np.inf)
    straight = np.full(n, np.inf)
    pid = np.full(n, None, dtype=object)
    cap = np.full(n, np.nan)
    if parking is not None and len(parking) and n:
        park = (parking.to_crs(default_crs()) if parking.crs is not None else parking
                ).reset_index(drop=True)
        tree = shapely.STRtree(park.geometry.values)
        li, pj = tree.query_nearest(lg.geometry.values, all_matches=False)
        straight[li] = shapely.distance(lg.geometry.values[li], park.geometry.values[pj])
        if roads is not None and len(roads):
            from .network import StreetGraph, nearest_facility

            rd = roads.to_crs(default_crs()) if roads.crs is not None else roads
            avoid_restricted = bool(config_value(rc, "avoid_restricted_roads"))
            if avoid_restricted and restricted is not None and len(restricted):
                avoid = union_buffer([restricted], 1.0)
                rd = rd[~shapely.within(rd.geometry.values, avoid)]
            graph = StreetGraph.from_roads(rd, walk=False)
            res = nearest_facility(graph, lg.geometry.reset_index(drop=True),
                                   park.geometry.reset_index(drop=True),
                                   max_access=float(config_value(rc, "snap_m")))
            d = res["distance_network"].to_numpy(dtype=float)
            fac = res["facility"].to_numpy()
            ok = np.array([f is not None and not (isinstance(f, float) and np.isnan(f))
                           for f in fac])
            ids = layer_ids(park, "parking_id", "P")
            caps = (pd.to_numeric(park["capacity"], errors="coerce").to_numpy(float)
                    if "capacity" in park.columns else np.full(len(park), np.nan))
            pid[ok] = [ids[int(f)] for f in fac[ok]]
            cap[ok] = caps[fac[ok].astype(int)]
    out["parking_id"] = pid
    out["capacity"] = cap
    out["network_m"] = d
    out["straight_m"] = straight
    out["reachable"] = np.isfinite(d)
    return out


def parking_supply_findings(logistics: gpd.GeoDataFrame | None, parking: gpd.GeoDataFrame | None,
                            roads: gpd.GeoDataFrame | None, *,
                            zones: gpd.GeoDataFrame | None = None,
                            restricted: gpd.GeoDataFrame | None = None,
                            config: Mapping[str, Any] | None = None) -> gpd.GeoDataFrame:
    """Logistics points and no-parking zones without designated truck parking nearby (4.4.3).

    Network distances come from :func:`parking_access`.

    Rule: 扎政办字〔2022〕51号 四（四）3 (划定固定性大货车停放点). A logistics point whose network
    distance to the nearest truck parking exceeds ``parking_supply.max_network_m`` (or which
    cannot reach one) is a finding; so is a no-parking zone with no truck parking within
    ``zone_max_m`` of its edge (trucks turned away need somewhere lawful to go). With
    ``avoid_restricted_roads`` the network omits restricted segments.
    """
    cfg = trucks_config(config)
    rc = cfg["parking_supply"]
    out = []
    max_m = float(config_value(rc, "max_network_m"))
    park = (parking.to_crs(default_crs()) if parking is not None and parking.crs is not None
            else parking)
    has_park = park is not None and len(park)
    if logistics is not None and len(logistics):
        lg = logistics.to_crs(default_crs()) if logistics.crs is not None else logistics
        acc = parking_access(lg, park, roads, restricted=restricted, config=cfg)
        d = acc["network_m"].to_numpy(dtype=float)
        bad = ~(d <= max_m)
        if bad.any():
            ids = layer_ids(lg, "point_id", "L")
            sel = np.flatnonzero(bad)
            out.append(make_findings(
                rule="parking_supply",
                title=[f"物流点“{feature_name(lg, i) or ids[i]}”"
                       f"{'附近' if np.isfinite(d[i]) else ''}"
                       f"{'缺少' if np.isfinite(d[i]) else '无法经道路到达'}大货车固定停放点"
                       for i in sel],
                feature_ids=[[ids[i]] for i in sel],
                layer="logistics_points", geometry=[lg.geometry.iloc[i] for i in sel],
                measures=[{"network_m": float(d[i]) if np.isfinite(d[i]) else np.nan,
                           "straight_m": float(acc["straight_m"].iloc[i]),
                           "nearest_parking": acc["parking_id"].iloc[i],
                           "capacity": float(acc["capacity"].iloc[i]),
                           "limit_m": max_m, "reachable": bool(np.isfinite(d[i]))} for i in sel],
                measure_key="network_m", measure_unit="m"))
    if zones is not None and len(zones):
        zn = zones.to_crs(default_crs()) if zones.crs is not None else zones
        zmax = float(config_value(rc, "zone_max_m"))
        if has_park:
            tree = shapely.STRtree(park.geometry.values)
            zi, pi = tree.query_nearest(zn.geometry.values, return_distance=False,
                                        all_matches=False)
            dz = np.full(len(zn), np.inf)
            dz[zi] = shapely.distance(zn.geometry.values[zi], park.geometry.values[pi])
        else:
            dz = np.full(len(zn), np.inf)
        sel = np.flatnonzero(~(dz <= zmax))
        if len(sel):
            ids = layer_ids(zn, "zone_id", "Z")
            out.append(make_findings(
                rule="parking_supply",
                title=[f"禁停区“{feature_name(zn, i) or ids[i]}”周边 {zmax:.0f} 米内"
                       "无大货车固定停放点"
                       for i in sel], feature_ids=[[ids[i]] for i in sel],
                layer="truck_no_parking_zones", geometry=[zn.geometry.iloc[i] for i in sel],
                measures=[{"nearest_parking_m": float(dz[i]) if np.isfinite(dz[i]) else np.nan,
                           "limit_m": zmax} for i in sel],
                measure_key="nearest_parking_m", measure_unit="m", severity="low"))
    return concat_findings(out)
