"""Trucks: stops from GPS pings, and stops in no-parking zones during their hours.

Plate numbers are replaced by salted digests as soon as the pings are read; nothing returned
here carries a plate. Thresholds and hours rules live in ``config/trucks.yaml``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import geopandas as gpd
    import numpy as np
    from numpy.typing import NDArray

__all__ = ["truck_stops", "zone_violations", "in_time_window"]


def _prepared(pings: gpd.GeoDataFrame, *, plate: str, time: str, salt: str | None):
    from ..analysis.trucks import prepare_pings

    gdf = pings.rename(columns={plate: "plate", time: "time"}) if (plate, time) != (
        "plate", "time") else pings
    return prepare_pings(gdf, salt=salt)


def truck_stops(pings: gpd.GeoDataFrame, *, plate: str = "plate", time: str = "time",
                salt: str | None = None, min_dwell_min: float | None = None,
                radius_m: float | None = None) -> gpd.GeoDataFrame:
    """Stops of each vehicle: runs of stationary pings lasting at least ``min_dwell_min``.

    Parameters
    ----------
    pings : GeoDataFrame
        GPS points with a plate and a time column (``speed_kmh`` and ``vehicle_type`` are read
        when present).
    plate, time : str
        Names of the plate and time columns.
    salt : str, optional
        Salt of the plate digests (default ``$ZLGIS_PLATE_SALT``); keep it the same every week.
    min_dwell_min, radius_m : float, optional
        Shortest stop (minutes) and the radius a stop stays within (m); defaults in
        ``trucks.yaml`` (``stops``).

    Returns
    -------
    GeoDataFrame
        ``plate_hash``, ``vehicle_type``, ``start``, ``end`` (timestamps, Asia/Shanghai),
        ``dwell_min``, ``n`` (pings) and the mean position.

    Examples
    --------
    >>> import zlgis as zl
    >>> pings = zl.datasets.load("district")["truck_pings"]
    >>> stops = zl.truck_stops(pings, salt="Zl-2022-Doctest-Salt-4b7e")
    >>> bool((stops["dwell_min"] >= 10).all()), "plate" in stops.columns
    (True, False)
    """
    import geopandas as gpd
    import pandas as pd

    from ..analysis.trucks_pings import detect_stops, stop_params, trucks_config

    params = stop_params(trucks_config())
    if min_dwell_min is not None:
        params["min_dwell_min"] = float(min_dwell_min)
    if radius_m is not None:
        params["radius_m"] = float(radius_m)
    stops = detect_stops(_prepared(pings, plate=plate, time=time, salt=salt), **params)
    for col in ("start", "end"):
        stops[col] = pd.to_datetime(stops[col].astype("int64"), unit="s", utc=True
                                    ).dt.tz_convert("Asia/Shanghai")
    geom = gpd.points_from_xy(stops.pop("x").astype(float), stops.pop("y").astype(float))
    from ..crs import WORKING_CRS

    return gpd.GeoDataFrame(stops.drop(columns="source"), geometry=geom, crs=WORKING_CRS)


def zone_violations(pings: gpd.GeoDataFrame, zones: gpd.GeoDataFrame, *, plate: str = "plate",
                    time: str = "time", salt: str | None = None) -> gpd.GeoDataFrame:
    """Truck stops inside no-parking zones during their restricted hours (rule ``no_parking_zone``).

    《道路交通安全法》第五十六条 and 扎政办字〔2022〕51号 四（四）1-2. A stop is flagged when it lies
    in a zone that restricts its vehicle class and overlaps the zone's hours (weekday or
    weekend hours by the holiday calendar of ``trucks.yaml``) by more than the minimum.

    Parameters
    ----------
    pings : GeoDataFrame
        GPS points with a plate and a time column.
    zones : GeoDataFrame
        No-parking zones: ``zone_id``, ``weekday_hours``, ``weekend_hours`` (``"07:00-09:00;
        22:00-06:00"``) and ``vehicle_classes``.
    plate, time : str
        Names of the plate and time columns of ``pings``.
    salt : str, optional
        Salt of the plate digests (default ``$ZLGIS_PLATE_SALT``).

    Returns
    -------
    GeoDataFrame
        Findings (:data:`zlgis.findings.FINDING_COLUMNS`): ``feature_id`` = plate digest,
        ``related_ids`` = zone, ``measure`` = minutes inside the restricted hours.

    Examples
    --------
    >>> import zlgis as zl
    >>> d = zl.datasets.load("district")
    >>> f = zl.zone_violations(d["truck_pings"], d["truck_no_parking_zones"],
    ...                        salt="Zl-2022-Doctest-Salt-4b7e")
    >>> f["rule"].unique().tolist(), sorted(f["related_ids"].unique())
    (['no_parking_zone'], ['JT001'])
    """
    from ..analysis.trucks import no_parking_zone_findings

    return no_parking_zone_findings(_prepared(pings, plate=plate, time=time, salt=salt), zones)


def in_time_window(times: Any, *, hours: str, weekend_hours: str | None = None,
                   holidays: bool = True) -> NDArray[np.bool_]:
    """Whether each time falls in restricted hours such as a no-parking zone's.

    Windows include their start and exclude their end (07:00-09:00 is 07:00:00 to 08:59:59); a
    window crossing midnight (22:00-06:00) belongs to the day it starts. Times without an
    offset are Beijing time (Asia/Shanghai); ``+08:00`` or ``Z`` are converted first.

    Parameters
    ----------
    times : sequence of str, datetime or Timestamp
        The moments to test.
    hours : str
        Working-day windows, ``;``-separated (``"07:00-09:00;22:00-06:00"``).
    weekend_hours : str, optional
        Windows on rest days: ``None`` repeats ``hours``, ``""`` means unrestricted.
    holidays : bool
        Use the statutory holidays and adjusted working days of ``trucks.yaml`` (``calendar``);
        otherwise Monday-Friday are working days.

    Returns
    -------
    ndarray of bool

    Examples
    --------
    >>> import zlgis as zl
    >>> zl.in_time_window(["2022-08-01 07:00", "2022-08-01 09:00", "2022-08-05T23:30:00+08:00",
    ...                    "2022-08-06 05:00", "2022-08-06 07:30"],
    ...                   hours="07:00-09:00;22:00-06:00", weekend_hours="").tolist()
    [True, False, True, True, False]
    """
    from ..analysis.timewindows import HolidayCalendar, WeeklySchedule, to_epoch_seconds
    from ..analysis.trucks_pings import trucks_config

    cal = HolidayCalendar.from_config(trucks_config().get("calendar")) if holidays else None
    schedule = WeeklySchedule.from_text(hours, weekend_hours, calendar=cal)
    return schedule.contains(to_epoch_seconds(list(times)))
