"""Helpers shared by the street-network modules (points, CRS checks, sparse entries, config)."""

from __future__ import annotations

from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from ..config import load_config
from ..errors import CRSError, InputError

INF = np.inf


def network_config() -> dict[str, Any]:
    """The ``network`` section of ``zlgis/config/coverage.yaml`` (walking classes, tolerances)."""
    return dict(load_config("coverage").get("network", {}))


# --------------------------------------------------------------------------------------------
# geometry helpers
# --------------------------------------------------------------------------------------------

def as_points(geoms: Any, crs: Any = None) -> tuple[np.ndarray, Any, pd.Index]:
    """Points (shapely array), CRS and index from a GeoDataFrame / GeoSeries / array of geometries.

    Polygons and lines are represented by a point guaranteed to lie on them
    (``representative_point``); this is what "a building's position" means throughout zlgis.
    """
    if isinstance(geoms, gpd.GeoDataFrame):
        crs, index, arr = geoms.crs, geoms.index, geoms.geometry.values
    elif isinstance(geoms, gpd.GeoSeries):
        crs, index, arr = geoms.crs, geoms.index, geoms.values
    else:
        arr = np.asarray(geoms, dtype=object)
        index = pd.RangeIndex(len(arr))
    arr = np.asarray(arr, dtype=object)
    if len(arr):
        bad = shapely.is_missing(arr) | shapely.is_empty(arr)
        if bad.any():
            k = int(np.flatnonzero(bad)[0])
            raise InputError(f"要素 {index[k]} 没有几何，无法计算距离", row=k + 1,
                             field="geometry")
    kind = shapely.get_type_id(arr)
    if len(arr) and (kind != 0).any():
        arr = np.where(kind == 0, arr, shapely.point_on_surface(arr))
    return arr, crs, index


def check_projected(crs: Any, what: str) -> None:
    if crs is None:
        return
    from pyproj import CRS

    if CRS.from_user_input(crs).is_geographic:
        raise CRSError(f"{what}为经纬度坐标，路网距离需要投影坐标（米），请先转换到 EPSG:4550",
                       layer=what)


# --------------------------------------------------------------------------------------------
# the graph


def same_crs(a: Any, b: Any) -> bool:
    from pyproj import CRS

    return CRS.from_user_input(a) == CRS.from_user_input(b)



def dedupe_min(r: np.ndarray, c: np.ndarray, w: np.ndarray
               ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Keep the smallest weight of each (row, col) pair (CSR construction would sum them).

    The result is sorted by row, then column.
    """
    r, c, w = np.asarray(r, np.int64), np.asarray(c, np.int64), np.asarray(w, float)
    if not len(r):
        return r, c, w
    key = (r - r.min()) * (int(c.max()) - int(c.min()) + 1) + (c - c.min())
    order = np.argsort(key)
    key = key[order]
    first = np.ones(len(key), bool)
    first[1:] = key[1:] != key[:-1]
    starts = np.flatnonzero(first)
    w = w[order]
    if len(starts) < len(w):  # parallel entries: the smallest weight of each pair
        w = np.minimum.reduceat(w, starts)
    else:
        w = w.copy()
    return r[order][starts], c[order][starts], w


def is_snapped(obj: Any) -> bool:
    return (isinstance(obj, pd.DataFrame) and not isinstance(obj, gpd.GeoDataFrame)
            and {"edge", "offset", "access"} <= set(obj.columns))
