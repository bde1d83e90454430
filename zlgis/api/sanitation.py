"""City appearance and sanitation: sweeping shares from GPS tracks, litter-bin gaps, frontage zones.

Thin wrappers over :mod:`zlgis.analysis.sweeping`, :mod:`zlgis.analysis.bins` and
:mod:`zlgis.analysis.frontage`; every number comes from ``config/sanitation.yaml``.
"""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import geopandas as gpd

    from ..analysis.sweeping import SweepResult

__all__ = ["sweeping_shares", "bin_gaps", "frontage_zones"]


def sweeping_shares(roads: gpd.GeoDataFrame, tracks: gpd.GeoDataFrame, *,
                    as_of: dt.date | None = None) -> SweepResult:
    """Mechanically swept share of the main and secondary roads, per day and for the week.

    Sweeper and sprinkler GPS fixes are map-matched to the street edges (hidden-Markov
    matcher), the stretches driven at a sweeping speed by a sweeping vehicle are merged per
    edge and day, and their share of the road area (length x width) is the 机械化清扫率 the
    plan wants at 60 % (task 4.2.4), with 中央街 apart (4.2.1).

    Parameters
    ----------
    roads : GeoDataFrame
        Road centrelines (``road_class``, ``name``, ``width``).
    tracks : GeoDataFrame
        Fixes with ``vehicle_id``, ``time`` and optionally ``vehicle_type`` and ``working``.
    as_of : datetime.date, optional
        Last day of the week (default: the day of the last fix).

    Returns
    -------
    SweepResult
        ``week`` and ``daily`` shares, ``roads`` with swept metres, ``never_swept`` and
        ``problems`` (fixes repaired or set aside, with their row and reason).

    Examples
    --------
    >>> import geopandas as gpd, numpy as np, pandas as pd
    >>> import zlgis as zl
    >>> from shapely.geometry import LineString, Point
    >>> roads = gpd.GeoDataFrame({"name": ["中央街"], "road_class": ["主干路"], "width": [40.0]},
    ...     geometry=[LineString([(0, 0), (1000, 0)])], crs="EPSG:4550")
    >>> x = np.arange(0.0, 501.0, 20.0)
    >>> t = pd.Timestamp("2022-08-29 05:00") + pd.to_timedelta(np.arange(len(x)) * 9, "s")
    >>> fixes = gpd.GeoDataFrame({"vehicle_id": "SX01", "vehicle_type": "扫路车", "time": t},
    ...     geometry=[Point(v, 4.0) for v in x], crs="EPSG:4550")
    >>> res = zl.sweeping_shares(roads, fixes)
    >>> round(float(res.week.loc[0, "share_area"]), 2)
    0.5
    """
    from ..analysis.sweeping import sweeping_coverage

    return sweeping_coverage(roads, tracks, as_of=as_of)


def bin_gaps(roads: gpd.GeoDataFrame, bins: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """Stretches of street without a litter bin longer than CJJ 27-2012 §3.2.3 allows.

    Parameters
    ----------
    roads : GeoDataFrame
        Road centrelines (``name``, ``road_class``).
    bins : GeoDataFrame
        Litter-bin points (``bin_id``).

    Returns
    -------
    GeoDataFrame
        One row per gap: ``street``, ``street_type``, ``from_m``, ``to_m``, ``gap_m``,
        ``max_m``, the bins at both ends; geometry the stretch.

    Examples
    --------
    >>> import geopandas as gpd
    >>> import zlgis as zl
    >>> from shapely.geometry import LineString, Point
    >>> roads = gpd.GeoDataFrame({"name": ["兴华路"], "road_class": ["支路"]},
    ...     geometry=[LineString([(0, 0), (1000, 0)])], crs="EPSG:4550")
    >>> bins = gpd.GeoDataFrame({"bin_id": ["B1", "B2"]},
    ...     geometry=[Point(100, 6), Point(900, 6)], crs="EPSG:4550")
    >>> zl.bin_gaps(roads, bins)[["gap_m", "max_m"]].values.tolist()
    [[800.0, 400.0]]
    """
    from ..analysis.bins import bin_gaps as _gaps

    return _gaps(roads, bins)


def frontage_zones(roads: gpd.GeoDataFrame, buildings: gpd.GeoDataFrame
                   ) -> tuple[gpd.GeoDataFrame, gpd.GeoDataFrame]:
    """门前五包 zones: each building's frontage between it and the kerb, and unheld frontage.

    Parameters
    ----------
    roads : GeoDataFrame
        Road centrelines (``width``, ``road_class``, ``name``).
    buildings : GeoDataFrame
        Footprints (``building_id``, ``use``).

    Returns
    -------
    tuple of GeoDataFrame
        The zones (``building_id``, ``area_m2``) and the unheld pieces (``street``,
        ``area_m2``); together they cover the frontage band exactly once.

    Examples
    --------
    >>> import geopandas as gpd
    >>> import zlgis as zl
    >>> from shapely.geometry import LineString, box
    >>> roads = gpd.GeoDataFrame({"name": ["中央街"], "road_class": ["主干路"], "width": [40.0]},
    ...     geometry=[LineString([(0, 0), (300, 0)])], crs="EPSG:4550")
    >>> shops = gpd.GeoDataFrame({"building_id": ["A", "B"]},
    ...     geometry=[box(50, 25, 90, 45), box(90, 25, 130, 45)], crs="EPSG:4550")
    >>> zones, unheld = zl.frontage_zones(roads, shops)
    >>> zones["building_id"].tolist(), sorted(set(unheld["street"]))
    (['A', 'B'], ['中央街'])
    """
    from ..analysis.frontage import frontage_zones as _zones

    return _zones(roads, buildings)
