"""Trucks in the city (大车进城): GPS pings and patrol records against zones, roads and routes.

The plan's task 4.4 (扎政办字〔2022〕51号 四（四）, lead 公安局 and 城管执法局) sets truck
no-parking zones with restricted hours, restricted roads, designated truck parking, the clean-up
of the south entrance corridor (“僵尸车”) and approved muck-truck (渣土车) routes and dump sites.
This module checks them from two activity sources:

* **GPS pings** (layer ``truck_pings``: plate, time, speed_kmh, vehicle_type, point);
* **patrol observations** (layer ``patrol_observations``, entered with a phone map app in GCJ-02
  and converted to the working CRS by the loader *before* any overlay).

Rules (ids as in DEVELOPERS.md) and their campaign tasks:

=====================  =====  ==============================================================
rule                   task   what is flagged
=====================  =====  ==============================================================
``no_parking_zone``    4.4.1  a stop (dwell >= N min) or a patrol sighting inside a zone
                              during its restricted hours, for a vehicle class it restricts
``restricted_road``    4.4.2  pings within a tolerance of a restricted segment in its hours
``parking_supply``     4.4.3  logistics points far (network distance) from truck parking;
                              no-parking zones with no truck parking within a distance
``zombie_vehicle``     4.4.4  a vehicle stationary > 7 days on the south entrance corridor
``muck_off_route``     4.4.5  a muck truck moving outside its approved corridor
``muck_illegal_dump``  4.4.5  a muck-truck stop outside dump sites, construction sites and
                              truck parking (possible 私拉乱倒)
=====================  =====  ==============================================================

Time windows follow :mod:`zlgis.analysis.timewindows` (inclusive start, exclusive end, Asia/
Shanghai, windows crossing midnight belong to the day they start, statutory holidays and
adjusted working days from the calendar in ``trucks.yaml``). All thresholds live in
``zlgis/config/trucks.yaml``. The overlays (:mod:`zlgis.analysis.trucks_overlay`: bounding-box
filter + ``shapely.intersects_xy`` per zone, ``STRtree`` ``dwithin`` for roads) give exactly the
answers of ``geopandas.sjoin`` (``intersects`` for zones, ``dwithin`` for roads).

**Privacy.** Plates are personal data. They are replaced by a salted HMAC-SHA256 digest
(:func:`hash_plates`) as soon as pings are prepared; findings carry only the digest as
``feature_id`` and never a plate. The salt comes from ``$ZLGIS_PLATE_SALT`` (or ``plate_salt`` in
a local override of ``trucks.yaml``) and is never stored in the repository. A random per-run salt
would make next week's digests incomparable, so a run without a salt stops with a clear message.

Examples
--------
>>> import geopandas as gpd
>>> from shapely.geometry import Point, box
>>> zones = gpd.GeoDataFrame({"zone_id": ["Z1"], "name": ["中央街"],
...     "weekday_hours": ["07:00-09:00"], "weekend_hours": [""], "vehicle_classes": [""]},
...     geometry=[box(0, 0, 100, 100)], crs="EPSG:4550")
>>> pings = gpd.GeoDataFrame({"plate": ["蒙E12345"] * 3, "vehicle_type": ["重型货车"] * 3,
...     "time": ["2022-08-01 07:50", "2022-08-01 08:05", "2022-08-01 08:20"],
...     "speed_kmh": [0.0, 0.0, 0.0]},
...     geometry=[Point(50, 50), Point(52, 50), Point(51, 49)], crs="EPSG:4550")
>>> f = no_parking_zone_findings(prepare_pings(pings, salt="example-salt-2022"), zones)
>>> f[["rule", "related_ids", "measure"]].values.tolist()
[['no_parking_zone', 'Z1', 30.0]]
>>> "蒙E12345" in f.to_json()
False
"""

from __future__ import annotations

import datetime as _dt
from collections.abc import Mapping
from typing import Any

import geopandas as gpd
import pandas as pd

from ..catalog import Catalog
from ..findings import assign_grids, concat_findings, default_crs, empty_findings
from .muck import muck_findings
from .timewindows import TZ_OFFSET_S
from .trucks_overlay import (
    pings_in_zones,
    pings_on_restricted_roads,
    points_in_polygons,
    points_near_lines,
    zone_schedules,
)
from .trucks_parking import parking_access, parking_supply_findings
from .trucks_pings import (
    SALT_ENV,
    detect_stops,
    hash_plates,
    normalize_plate,
    plate_salt,
    prepare_pings,
    sort_pings,
    trucks_config,
    vehicle_class_matches,
)
from .trucks_zombie import south_corridor, zombie_findings
from .trucks_zones import no_parking_zone_findings, restricted_road_findings

__all__ = [
    "SALT_ENV",
    "plate_salt",
    "hash_plates",
    "normalize_plate",
    "vehicle_class_matches",
    "prepare_pings",
    "detect_stops",
    "points_in_polygons",
    "points_near_lines",
    "zone_schedules",
    "pings_in_zones",
    "pings_on_restricted_roads",
    "no_parking_zone_findings",
    "restricted_road_findings",
    "muck_findings",
    "south_corridor",
    "zombie_findings",
    "parking_access",
    "parking_supply_findings",
    "run_check",
    "LAYERS",
]

CHECK = "trucks"


#: Layers the weekly truck check reads (those the catalog lacks are skipped).
LAYERS = ("truck_pings", "patrol_observations", "truck_no_parking_zones",
           "truck_restricted_roads", "truck_parking", "logistics_points", "muck_routes",
           "dump_sites", "construction_sites", "roads", "grids")


def _week(as_of: _dt.date) -> tuple[int, int]:
    end_local = _dt.datetime.combine(as_of + _dt.timedelta(days=1), _dt.time())
    start_local = end_local - _dt.timedelta(days=7)
    epoch = _dt.datetime(1970, 1, 1)
    return (int((start_local - epoch).total_seconds()) - TZ_OFFSET_S,
            int((end_local - epoch).total_seconds()) - TZ_OFFSET_S)


def run_check(catalog: Catalog, layers: Mapping[str, gpd.GeoDataFrame] | None = None, *,
              as_of: _dt.date | None = None, salt: str | None = None,
              config: Mapping[str, Any] | None = None) -> gpd.GeoDataFrame:
    """All truck rules for the 7 days ending on ``as_of`` (default: the day of the last ping).

    Parameters
    ----------
    catalog : Catalog
    layers : dict of GeoDataFrame, optional
        From :func:`zlgis.validate.load_layers` (:data:`LAYERS` that the catalog has). Absent
        layers are skipped (their rules give no findings, noted in ``findings.attrs["notes"]``).
    as_of : datetime.date, optional
        Last day of the week checked (Asia/Shanghai). Zombie vehicles look back further.
    salt : str, optional
        Plate salt (default ``$ZLGIS_PLATE_SALT``); see :func:`plate_salt`.

    Returns
    -------
    GeoDataFrame
        Findings (:data:`zlgis.findings.FINDING_COLUMNS`) with grids assigned; ``feature_id`` is
        the plate digest (or the logistics point / zone id for ``parking_supply``).
    """
    cfg = trucks_config(config)
    layers = dict(layers or {})
    # plates are only hashed when there are plates: a city without truck data needs no salt
    plates = any(layers.get(lid) is not None for lid in ("truck_pings", "patrol_observations"))
    salt = plate_salt(salt, cfg) if plates else "no-plates-loaded"
    notes: list[str] = []

    def get(lid: str) -> gpd.GeoDataFrame | None:
        g = layers.get(lid)
        if g is None:
            notes.append(f"图层目录中没有图层 {lid}，相关检查未运行")
        return g

    raw = get("truck_pings")
    pings = (prepare_pings(raw, salt=salt, layer="truck_pings", config=cfg) if raw is not None
             else prepare_pings(gpd.GeoDataFrame({"plate": [], "time": []}, geometry=[],
                                                 crs=default_crs()), salt=salt, config=cfg))
    praw = layers.get("patrol_observations")
    patrol = (prepare_pings(praw, salt=salt, layer="patrol_observations", source="巡查", config=cfg)
              if praw is not None and len(praw) else None)
    if as_of is None:
        ts = [pings["t"].max()] if len(pings) else []
        if patrol is not None and len(patrol):
            ts.append(patrol["t"].max())
        as_of = (pd.Timestamp(int(max(ts)) + TZ_OFFSET_S, unit="s").date() if ts
                 else _dt.date.today())
    window = _week(as_of)
    zones, roads_r = get("truck_no_parking_zones"), get("truck_restricted_roads")
    out = [
        no_parking_zone_findings(pings, zones, patrol=patrol, window=window, config=cfg)
        if zones is not None else empty_findings(),
        restricted_road_findings(pings, roads_r, window=window, config=cfg)
        if roads_r is not None else empty_findings(),
        muck_findings(pings, routes=layers.get("muck_routes"), dump_sites=layers.get("dump_sites"),
                      construction_sites=layers.get("construction_sites"),
                      truck_parking=layers.get("truck_parking"), window=window, config=cfg),
    ]
    corridor = south_corridor(layers.get("roads"), cfg)
    if corridor is None:
        notes.append("未找到南入口至交通局道口路段（道路名称或配置的路线），僵尸车检查未运行")
    else:
        sightings = (pings if patrol is None
                     else sort_pings(pd.concat([pings, patrol], ignore_index=True)))
        out.append(zombie_findings(sightings, corridor, as_of_end=window[1], window=window,
                                   config=cfg))
    if get("truck_parking") is not None:
        out.append(parking_supply_findings(layers.get("logistics_points"), layers["truck_parking"],
                                           layers.get("roads"), zones=zones, restricted=roads_r,
                                           config=cfg))
    findings = assign_grids(concat_findings(out), layers.get("grids"))
    findings.attrs["notes"] = notes
    findings.attrs["as_of"] = as_of.isoformat()
    return findings
