"""Zombie vehicles (僵尸车, task 4.4.4): long-standing vehicles on the south entrance corridor.

Rule ``zombie_vehicle`` of ``config/rules/trucks.yaml``.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import geopandas as gpd
import pandas as pd
import shapely
from shapely.geometry import LineString, Point

from ..findings import default_crs, empty_findings, make_findings
from .timewindows import local_date, local_iso
from .trucks_overlay import union_buffer
from .trucks_pings import config_value, detect_stops, trucks_config

__all__ = [
    "south_corridor",
    "zombie_findings",
]

def south_corridor(roads: gpd.GeoDataFrame | None,
                   config: Mapping[str, Any] | None = None) -> Any:
    """The south entrance corridor (城市南入口 to 交通局道口) as a buffered polygon, or None.

    Roads whose ``name`` contains one of ``zombie_vehicle.corridor.road_name_patterns`` are
    used; when none matches, the configured ``line_wgs84`` (lon/lat pairs); else None.
    """
    cc = trucks_config(config)["zombie_vehicle"]["corridor"]
    buf = float(cc["buffer_m"])
    pats = [str(p) for p in cc.get("road_name_patterns", []) or []]
    if roads is not None and len(roads) and "name" in roads.columns and pats:
        names = roads["name"].fillna("").astype(str)
        sel = names.apply(lambda n: any(p in n for p in pats))
        if sel.any():
            return union_buffer([roads[sel]], buf)
    line = cc.get("line_wgs84") or []
    if len(line) >= 2:
        g = gpd.GeoSeries([LineString(line)], crs="EPSG:4326").to_crs(default_crs())
        return union_buffer([gpd.GeoDataFrame(geometry=g)], buf)
    return None


def zombie_findings(sightings: pd.DataFrame, corridor: Any, *, as_of_end: int | None = None,
                    window: tuple[int, int] | None = None,
                    config: Mapping[str, Any] | None = None) -> gpd.GeoDataFrame:
    """Vehicles stationary for more than ``min_days`` on the south entrance corridor (4.4.4).

    Rule: 扎政办字〔2022〕51号 四（四）4 (“僵尸车”), 《道路交通安全法实施条例》第六十三条.
    ``sightings`` are GPS pings and patrol observations together (any vehicle type). A vehicle is
    stationary while consecutive sightings stay within ``radius_m`` and are at most
    ``max_gap_days`` apart; a stationary spell of at least ``min_days`` whose position is in the
    corridor and which reaches into ``window`` is flagged. The finding id keeps the spell's
    start, so the same abandoned car keeps its id week after week.
    """
    cfg = trucks_config(config)
    rc = cfg["zombie_vehicle"]
    if corridor is None or not len(sightings):
        return empty_findings()
    s = sightings if as_of_end is None else sightings[sightings["t"] < as_of_end]
    stops = detect_stops(s, min_dwell_min=float(config_value(rc, "min_days")) * 1440,
                         radius_m=float(config_value(rc, "radius_m")),
                         stop_speed_kmh=float(config_value(cfg, "stops", "stop_speed_kmh")),
                         max_gap_min=float(config_value(rc, "max_gap_days")) * 1440)
    if window is not None and len(stops):
        stops = stops[stops["end"] >= window[0]]
    if not len(stops):
        return empty_findings()
    inside = shapely.intersects_xy(corridor, stops["x"].to_numpy(float), stops["y"].to_numpy(float))
    st = stops[inside]
    if not len(st):
        return empty_findings()
    days = st["dwell_min"].to_numpy(float) / 1440
    high = float(config_value(cfg, "severity", "zombie_high_days"))
    return make_findings(
        rule="zombie_vehicle",
        feature_ids=[[h] for h in st["plate_hash"]], layer="truck_pings",
        geometry=[Point(a, b) for a, b in zip(st["x"], st["y"])],
        measures=[{"days": float(d), "sightings": int(r.n), "first_seen": local_iso([r.start])[0],
                   "last_seen": local_iso([r.end])[0]} for r, d in zip(st.itertuples(), days)],
        measure_key="days", measure_unit="d",
        severity=["high" if d >= high else "medium" for d in days],
        observed_at=local_iso(st["end"].to_numpy()),
        id_extra=[str(d) for d in local_date(st["start"].to_numpy())])
