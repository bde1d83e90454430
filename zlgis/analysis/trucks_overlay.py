"""Point overlays for truck pings: pings in no-parking zones, pings on restricted roads.

The library path a numpy-literate user writes, with exactly the answers of ``geopandas.sjoin``
(``intersects`` for zones, ``dwithin`` for roads): a bounding-box filter and
``shapely.intersects_xy`` per zone, one ``STRtree`` ``dwithin`` query for road segments. A
hand-written uniform ping grid used to do this; the whole ``zlgis check trucks`` command was
only 1.1-1.3x faster with it (BENCHMARKS.md, issue 21), so it gave way to the library. Zone and
road schedules are applied per pair (:mod:`zlgis.analysis.timewindows`).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from numpy.typing import NDArray

from ..errors import InputError
from ..findings import default_crs
from .timewindows import MINUTES_PER_WEEK, HolidayCalendar, WeeklySchedule, minute_of_week
from .trucks_pings import vehicle_class_matches

__all__ = [
    "points_in_polygons",
    "points_near_lines",
    "zone_schedules",
    "class_matrix",
    "pings_in_zones",
    "pings_on_restricted_roads",
    "union_buffer",
]


def _valid(geoms: Sequence[Any]) -> tuple[NDArray[np.intp], NDArray[np.object_]]:
    """Positions and geometries of the non-missing, non-empty entries."""
    arr = np.empty(len(geoms), dtype=object)
    arr[:] = list(geoms)
    ok = ~(shapely.is_missing(arr) | shapely.is_empty(arr)) if len(arr) else np.zeros(0, bool)
    return np.flatnonzero(ok), arr[ok]


def points_in_polygons(x: NDArray[np.float64], y: NDArray[np.float64], polygons: Sequence[Any]
                       ) -> tuple[NDArray[np.intp], NDArray[np.intp]]:
    """Pairs (point index, polygon index) with the point inside (or on the edge of) the polygon.

    Same answer as ``geopandas.sjoin(points, polygons, predicate="intersects")``: per polygon,
    the points in its bounding box, then ``shapely.intersects_xy`` on the prepared polygon.

    >>> from shapely.geometry import box
    >>> pi, gi = points_in_polygons(np.array([1.0, 5.0, 15.0]), np.array([1.0, 5.0, 5.0]),
    ...                             [box(0, 0, 10, 10), box(4, 4, 20, 6)])
    >>> sorted(zip(pi.tolist(), gi.tolist()))
    [(0, 0), (1, 0), (1, 1), (2, 1)]
    """
    x = np.asarray(x, dtype=float)
    y = np.asarray(y, dtype=float)
    idx, polys = _valid(polygons)
    pis: list[NDArray[np.intp]] = [np.zeros(0, dtype=np.intp)]
    gis: list[NDArray[np.intp]] = [np.zeros(0, dtype=np.intp)]
    bounds = shapely.bounds(polys) if len(polys) else np.zeros((0, 4))
    for k, poly in enumerate(polys):
        x0, y0, x1, y1 = bounds[k]
        cand = np.flatnonzero((x >= x0) & (x <= x1) & (y >= y0) & (y <= y1))
        if not len(cand):
            continue
        shapely.prepare(poly)
        hit = cand[shapely.intersects_xy(poly, x[cand], y[cand])]
        pis.append(hit.astype(np.intp))
        gis.append(np.full(len(hit), idx[k], dtype=np.intp))
    return np.concatenate(pis), np.concatenate(gis)


def points_near_lines(x: NDArray[np.float64], y: NDArray[np.float64], lines: Sequence[Any],
                      tolerance: float) -> tuple[NDArray[np.intp], NDArray[np.intp]]:
    """Pairs (point index, line index) with the point within ``tolerance`` of the line.

    Same answer as ``geopandas.sjoin(points, lines, predicate="dwithin", distance=tolerance)``:
    one ``STRtree`` of the lines, queried with the points near their total bounds.

    >>> from shapely.geometry import LineString
    >>> pi, li = points_near_lines(np.array([0.0, 5.0, 5.0]), np.array([0.0, 9.0, 16.0]),
    ...                            [LineString([(0, 10), (10, 10)])], 5.0)
    >>> pi.tolist(), li.tolist()
    ([1], [0])
    """
    x = np.asarray(x, dtype=float)
    y = np.asarray(y, dtype=float)
    idx, geoms = _valid(lines)
    if not len(geoms) or not len(x):
        return np.zeros(0, dtype=np.intp), np.zeros(0, dtype=np.intp)
    x0, y0, x1, y1 = shapely.total_bounds(geoms)
    near = np.flatnonzero((x >= x0 - tolerance) & (x <= x1 + tolerance)
                          & (y >= y0 - tolerance) & (y <= y1 + tolerance))
    pi, li = shapely.STRtree(geoms).query(shapely.points(x[near], y[near]),
                                          predicate="dwithin", distance=tolerance)
    return near[pi].astype(np.intp), idx[li].astype(np.intp)


def zone_schedules(zones: gpd.GeoDataFrame, *, layer: str = "truck_no_parking_zones",
                   weekday_field: str = "weekday_hours",
                   weekend_field: str | None = "weekend_hours",
                   calendar: HolidayCalendar | None = None) -> list[WeeklySchedule]:
    """One :class:`WeeklySchedule` per row (errors name the layer, row and field).

    Without a ``weekend_field`` column (restricted roads have one ``hours`` field) the hours
    apply every day. In the weekend column an empty value means no restriction at weekends and
    ``同工作日`` repeats the weekday hours. With a ``calendar`` (``trucks.yaml`` ``calendar``:
    statutory holidays and adjusted working days) the weekend hours apply on holidays and the
    weekday hours on adjusted working Saturdays and Sundays.
    """
    if weekday_field not in zones.columns:
        raise InputError(f"缺少字段 {weekday_field}（限制时段）", layer=layer, field=weekday_field)
    out = []
    has_we = weekend_field is not None and weekend_field in zones.columns
    for i, wd in enumerate(zones[weekday_field].tolist()):
        we = zones[weekend_field].iloc[i] if has_we else None
        if has_we and (we is None or (isinstance(we, float) and np.isnan(we))):
            we = ""
        out.append(WeeklySchedule.from_text(wd, we, layer=layer, row=i + 1,
                                            field=weekday_field, weekend_field=weekend_field,
                                            calendar=calendar))
    return out


def class_matrix(vtypes: NDArray[Any], classes: Sequence[Any],
                  config: Mapping[str, Any] | None) -> tuple[NDArray[np.intp], NDArray[np.bool_]]:
    """Codes of vehicle types and a (n_types, n_features) matrix of class matches."""
    codes, uniques = pd.factorize(pd.Series(vtypes, dtype=object).fillna(""))
    mat = np.zeros((max(len(uniques), 1), len(classes)), dtype=bool)
    for j, cls in enumerate(classes):
        mat[: len(uniques), j] = vehicle_class_matches(list(uniques), cls, config)
    return codes, mat


def _time_class_ok(pi: NDArray[np.intp], fi: NDArray[np.intp], t: NDArray[np.int64],
                   schedules: Sequence[WeeklySchedule], vtype_codes: NDArray[np.intp] | None,
                   class_matrix: NDArray[np.bool_] | None) -> NDArray[np.bool_]:
    t = np.asarray(t)
    if any(s.calendar is not None for s in schedules):  # holidays: one feature at a time
        ok = np.zeros(len(pi), dtype=bool)
        for j in np.unique(fi):
            sel = fi == j
            ok[sel] = schedules[j].contains(t[pi[sel]])
    else:  # one lookup in the stacked minute-of-week masks
        masks = (np.stack([s.mask for s in schedules]) if len(schedules)
                 else np.zeros((0, MINUTES_PER_WEEK), dtype=bool))
        ok = masks[fi, minute_of_week(t[pi])]
    if vtype_codes is not None and class_matrix is not None:
        ok &= class_matrix[np.asarray(vtype_codes)[pi], fi]
    return ok


def pings_in_zones(x: NDArray[np.float64], y: NDArray[np.float64], t: NDArray[np.int64],
                   zone_geoms: Sequence[Any], schedules: Sequence[WeeklySchedule], *,
                   vtype_codes: NDArray[np.intp] | None = None,
                   class_matrix: NDArray[np.bool_] | None = None
                   ) -> tuple[NDArray[np.intp], NDArray[np.intp]]:
    """Pairs (ping, zone) for pings inside a zone during its restricted minutes.

    The time test is one lookup in a stacked (n_zones, 10080) minute-of-week mask; the vehicle
    class test one lookup in ``class_matrix`` (n_vehicle_types, n_zones) by ``vtype_codes``.

    >>> from shapely.geometry import box
    >>> from zlgis.analysis.timewindows import to_epoch_seconds
    >>> t = to_epoch_seconds(["2022-08-01 07:30", "2022-08-01 10:00"])
    >>> pings_in_zones(np.array([5.0, 5.0]), np.array([5.0, 5.0]), t, [box(0, 0, 10, 10)],
    ...                [WeeklySchedule.from_text("07:00-09:00")])[0].tolist()
    [0]
    """
    pi, zi = points_in_polygons(x, y, zone_geoms)
    if not len(pi):
        return pi, zi
    ok = _time_class_ok(pi, zi, t, schedules, vtype_codes, class_matrix)
    return pi[ok], zi[ok]


def pings_on_restricted_roads(x: NDArray[np.float64], y: NDArray[np.float64],
                              t: NDArray[np.int64], segment_geoms: Sequence[Any],
                              schedules: Sequence[WeeklySchedule], tolerance: float, *,
                              vtype_codes: NDArray[np.intp] | None = None,
                              class_matrix: NDArray[np.bool_] | None = None
                              ) -> tuple[NDArray[np.intp], NDArray[np.intp]]:
    """Pairs (ping, segment) within ``tolerance`` of a restricted segment in its hours.

    >>> from shapely.geometry import LineString
    >>> from zlgis.analysis.timewindows import to_epoch_seconds
    >>> t = to_epoch_seconds(["2022-08-01 07:30", "2022-08-01 07:30"])
    >>> road, hours = LineString([(0, 0), (10, 0)]), WeeklySchedule.from_text("07:00-09:00")
    >>> pings_on_restricted_roads(np.array([5.0, 5.0]), np.array([1.0, 30.0]), t,
    ...                           [road], [hours], 15)[0].tolist()
    [0]
    """
    pi, si = points_near_lines(x, y, segment_geoms, tolerance)
    if not len(pi):
        return pi, si
    ok = _time_class_ok(pi, si, t, schedules, vtype_codes, class_matrix)
    return pi[ok], si[ok]



def union_buffer(gdfs: Iterable[gpd.GeoDataFrame | None], dist: float) -> Any:
    geoms = []
    for g in gdfs:
        if g is not None and len(g):
            g = g.to_crs(default_crs()) if g.crs is not None else g
            geoms.extend(g.geometry.values)
    if not geoms:
        return None
    out = shapely.union_all(shapely.buffer(np.array(geoms, dtype=object), dist))
    shapely.prepare(out)
    return out
