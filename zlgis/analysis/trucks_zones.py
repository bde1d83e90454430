"""Truck no-parking zones (task 4.4.1) and restricted roads (task 4.4.2).

Rules ``no_parking_zone`` and ``restricted_road`` of ``config/rules/trucks.yaml``.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from numpy.typing import NDArray
from shapely.geometry import MultiPoint, Point
from shapely.ops import substring

from ..findings import concat_findings, default_crs, empty_findings, make_findings
from .timewindows import HolidayCalendar, local_date, local_iso
from .trucks_overlay import (
    class_matrix,
    pings_on_restricted_roads,
    points_in_polygons,
    zone_schedules,
)
from .trucks_pings import (
    config_value,
    detect_stops,
    feature_name,
    layer_ids,
    stop_params,
    trucks_config,
)

__all__ = [
    "no_parking_zone_findings",
    "restricted_road_findings",
]

def _repaired(geoms: Any) -> NDArray[np.object_]:
    """Geometries with the invalid ones repaired (``shapely.make_valid``)."""
    arr = np.asarray(geoms, dtype=object).copy()
    bad = ~shapely.is_valid(arr) & ~shapely.is_missing(arr)
    if bad.any():
        arr[bad] = shapely.make_valid(arr[bad])
    return arr




def no_parking_zone_findings(pings: pd.DataFrame, zones: gpd.GeoDataFrame, *,
                             patrol: pd.DataFrame | None = None,
                             window: tuple[int, int] | None = None,
                             config: Mapping[str, Any] | None = None) -> gpd.GeoDataFrame:
    """Stops and patrol sightings inside no-parking zones during their restricted hours.

    Rule (task 4.4.1/4.4.2): 《道路交通安全法》第五十六条, 实施条例第六十三条, 扎政办字〔2022〕51号
    四（四）1-2. A GPS stop (dwell >= ``stops.min_dwell_min``) is flagged when its position is in a
    zone, the zone restricts its vehicle class, and the stop overlaps the zone's restricted
    hours by more than ``no_parking_zone.min_overlap_min`` (a stop that begins before a window
    and ends inside it counts by the part inside). Weekday and weekend hours follow the
    holiday calendar of ``trucks.yaml`` (statutory holidays use the weekend hours, adjusted
    working days the weekday hours). A patrol sighting is flagged when it is in a
    zone at a restricted minute; it is merged into the GPS finding of the same plate, zone and
    day when there is one. ``window`` = (start, end) epoch seconds keeps stops starting in it.
    """
    cfg = trucks_config(config)
    rc = cfg["no_parking_zone"]
    if zones is None or not len(zones):
        return empty_findings()
    zones = zones.to_crs(default_crs()) if zones.crs is not None else zones
    scheds = zone_schedules(zones, calendar=HolidayCalendar.from_config(cfg.get("calendar")))
    zone_ids = layer_ids(zones, "zone_id", "Z")
    classes = zones["vehicle_classes"].tolist() if "vehicle_classes" in zones else [""] * len(zones)
    geoms = list(_repaired(zones.geometry.values))
    stops = detect_stops(pings, **stop_params(cfg))
    if window is not None and len(stops):
        stops = stops[(stops["start"] >= window[0]) & (stops["start"] < window[1])]
    rows: list[dict[str, Any]] = []
    min_overlap = float(config_value(rc, "min_overlap_min")) * 60
    if len(stops):
        sx, sy = stops["x"].to_numpy(float), stops["y"].to_numpy(float)
        pi, zi = points_in_polygons(sx, sy, geoms)
        codes, mat = class_matrix(stops["vehicle_type"].to_numpy(), classes, config)
        for p, z in zip(pi.tolist(), zi.tolist()):
            if not mat[codes[p], z]:
                continue
            st = stops.iloc[p]
            ov = int(scheds[z].overlap_seconds([st["start"]], [st["end"]])[0])
            if ov <= min_overlap or ov <= 0:
                continue
            rows.append({"plate_hash": st["plate_hash"], "zone": z, "start": int(st["start"]),
                         "end": int(st["end"]), "dwell_min": float(st["dwell_min"]),
                         "restricted_min": ov / 60.0, "n": int(st["n"]), "x": sx[p], "y": sy[p],
                         "source": "GPS"})
    if patrol is not None and len(patrol):
        _add_patrol_rows(rows, patrol, window, geoms, scheds, classes, config)
    if not rows:
        return empty_findings()
    high = float(config_value(cfg, "severity", "zone_high_min"))
    out = []
    for layer, part in (("truck_pings", [r for r in rows if r["source"] == "GPS"]),
                        ("patrol_observations", [r for r in rows if r["source"] != "GPS"])):
        if not part:
            continue
        out.append(make_findings(
            rule="no_parking_zone",
            title=[f"货车在禁停区“{feature_name(zones, r['zone']) or zone_ids[r['zone']]}”"
                   "禁停时段内停放"
                   for r in part],
            feature_ids=[[r["plate_hash"], zone_ids[r["zone"]]] for r in part],
            layer=layer,
            geometry=[Point(r["x"], r["y"]) for r in part],
            measures=[{"restricted_min": r["restricted_min"], "dwell_min": r["dwell_min"],
                       "n_pings": r["n"], "start": local_iso([r["start"]])[0],
                       "end": local_iso([r["end"]])[0], "zone_id": zone_ids[r["zone"]],
                       "zone_hours": scheds[r["zone"]].text, "source": r["source"],
                       "patrol_confirmed": bool(r.get("patrol_confirmed",
                                                      r["source"] == "巡查"))}
                      for r in part],
            measure_key="restricted_min", measure_unit="min",
            severity=["high" if r["restricted_min"] >= high else "medium" for r in part],
            observed_at=[local_iso([r["start"]])[0] for r in part],
            id_extra=[local_iso([r["start"]])[0] for r in part]))
    return concat_findings(out)



def _add_patrol_rows(rows: list[dict[str, Any]], patrol: pd.DataFrame,
                     window: tuple[int, int] | None, geoms: list[Any], scheds: list[Any],
                     classes: list[Any], config: Mapping[str, Any] | None) -> None:
    """Patrol sightings in a zone at a restricted minute: merged into the GPS row of the same
    plate, zone and day (``patrol_confirmed``), else added as rows of their own."""
    pt = patrol
    if window is not None:
        pt = pt[(pt["t"] >= window[0]) & (pt["t"] < window[1])]
    if not len(pt):
        return
    px, py, ptt = pt["x"].to_numpy(float), pt["y"].to_numpy(float), pt["t"].to_numpy()
    codes, mat = class_matrix(pt["vehicle_type"].to_numpy(), classes, config)
    pi, zi = points_in_polygons(px, py, geoms)
    seen = {(r["plate_hash"], r["zone"], str(local_date([r["start"]])[0])) for r in rows}
    for p, z in zip(pi.tolist(), zi.tolist()):
        if not mat[codes[p], z] or not scheds[z].contains([ptt[p]])[0]:
            continue
        h = pt["plate_hash"].iloc[p]
        key = (h, z, str(local_date([ptt[p]])[0]))
        if key in seen:
            for r in rows:
                if (r["plate_hash"], r["zone"], str(local_date([r["start"]])[0])) == key:
                    r["patrol_confirmed"] = True
            continue
        seen.add(key)
        rows.append({"plate_hash": h, "zone": z, "start": int(ptt[p]), "end": int(ptt[p]),
                     "dwell_min": np.nan, "restricted_min": np.nan, "n": 1, "x": px[p],
                     "y": py[p], "source": "巡查"})


def restricted_road_findings(pings: pd.DataFrame, segments: gpd.GeoDataFrame, *,
                             window: tuple[int, int] | None = None,
                             config: Mapping[str, Any] | None = None) -> gpd.GeoDataFrame:
    """Trucks on restricted road segments during the restricted hours (task 4.4.2).

    Rule: 《道路交通安全法》第三十九条, 扎政办字〔2022〕51号 四（四）2. Pings within
    ``restricted_road.tolerance_m`` of a segment, at a restricted minute of its ``hours``, of a
    vehicle class in its ``vehicle_classes``, at a speed >= ``min_speed_kmh``, are split into
    passes (runs of consecutive pings of one vehicle on one segment); passes of at least
    ``min_pings`` pings count, so a truck merely crossing the restricted road at a junction is
    not flagged. Counted pings are grouped per vehicle, segment and local day into one finding
    whose geometry is the part of the segment between the first and last of them.
    """
    cfg = trucks_config(config)
    rc = cfg["restricted_road"]
    if segments is None or not len(segments) or not len(pings):
        return empty_findings()
    segments = segments.to_crs(default_crs()) if segments.crs is not None else segments
    p = pings
    if window is not None:
        p = p[(p["t"] >= window[0]) & (p["t"] < window[1])]
    min_speed = float(config_value(rc, "min_speed_kmh"))
    if min_speed > 0:
        p = p[~(p["speed"] < min_speed)]
    if not len(p):
        return empty_findings()
    p = p.reset_index(drop=True)
    scheds = zone_schedules(segments, layer="truck_restricted_roads", weekday_field="hours",
                            weekend_field=None)
    seg_ids = layer_ids(segments, "segment_id", "S")
    classes = (segments["vehicle_classes"].tolist() if "vehicle_classes" in segments
               else [""] * len(segments))
    codes, mat = class_matrix(p["vehicle_type"].to_numpy(), classes, config)
    geoms = list(segments.geometry.values)
    t = p["t"].to_numpy()
    pi, si = pings_on_restricted_roads(p["x"].to_numpy(float), p["y"].to_numpy(float), t, geoms,
                                       scheds, float(config_value(rc, "tolerance_m")),
                                       vtype_codes=codes, class_matrix=mat)
    if not len(pi):
        return empty_findings()
    m = pd.DataFrame({"p": pi, "s": si, "h": p["plate_hash"].to_numpy()[pi], "t": t[pi],
                      "day": local_date(t[pi]).astype(str)})
    m = m.sort_values(["h", "s", "p"], kind="stable").reset_index(drop=True)
    # passes: runs of consecutive pings of one vehicle matched to one segment. A truck that only
    # crosses the road gives a one-ping pass; one that drives along it gives a longer one.
    min_pings = int(config_value(rc, "min_pings"))
    pv, hv, sv = m["p"].to_numpy(), m["h"].to_numpy(), m["s"].to_numpy()
    brk = np.ones(len(m), dtype=bool)
    brk[1:] = (np.diff(pv) != 1) | (hv[1:] != hv[:-1]) | (sv[1:] != sv[:-1])
    run = np.cumsum(brk)
    m = m[np.bincount(run)[run] >= min_pings]
    rows = []
    for (h, s, day), g in m.groupby(["h", "s", "day"], sort=True):
        if len(g) < min_pings:
            continue
        line = geoms[s]
        xs, ys = p["x"].to_numpy()[g["p"].to_numpy()], p["y"].to_numpy()[g["p"].to_numpy()]
        proj = shapely.line_locate_point(line, shapely.points(xs, ys))
        part = substring(line, float(proj.min()), float(proj.max()))
        if part.is_empty or part.length == 0:
            part = MultiPoint(list(zip(xs, ys))) if len(xs) > 1 else Point(xs[0], ys[0])
        t0, t1 = int(g["t"].min()), int(g["t"].max())
        rows.append({"h": h, "s": int(s), "t0": t0, "t1": t1, "n": len(g), "geom": part,
                     "length_m": float(part.length) if part.geom_type == "LineString" else 0.0})
    if not rows:
        return empty_findings()
    return make_findings(
        rule="restricted_road",
        title=[f"货车在限行时段驶入限行路段“{feature_name(segments, r['s']) or seg_ids[r['s']]}”"
               for r in rows],
        feature_ids=[[r["h"], seg_ids[r["s"]]] for r in rows], layer="truck_pings",
        geometry=[r["geom"] for r in rows],
        measures=[{"n_pings": r["n"], "first": local_iso([r["t0"]])[0],
                   "last": local_iso([r["t1"]])[0], "segment_id": seg_ids[r["s"]],
                   "hours": scheds[r["s"]].text, "length_m": r["length_m"]} for r in rows],
        measure_key="n_pings", measure_unit="次",
        observed_at=[local_iso([r["t0"]])[0] for r in rows],
        id_extra=[str(local_date([r["t0"]])[0]) for r in rows])
