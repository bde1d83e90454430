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

#: representative points made at a time by :func:`point_xy` (bounds the GEOS points held)
_XY_BLOCK = 200_000


def is_xy(obj: Any) -> bool:
    """Whether ``obj`` gives points by their coordinates: a float array of (x, y) rows."""
    return (isinstance(obj, np.ndarray) and obj.ndim == 2 and obj.shape[1] == 2
            and obj.dtype.kind == "f")


def _geometries(geoms: Any) -> tuple[np.ndarray, Any, pd.Index]:
    """The geometry array, CRS and index of ``geoms``; an error naming the first row without
    a geometry (missing or empty)."""
    if isinstance(geoms, gpd.GeoDataFrame):
        crs, index, arr = geoms.crs, geoms.index, geoms.geometry.values
    elif isinstance(geoms, gpd.GeoSeries):
        crs, index, arr = geoms.crs, geoms.index, geoms.values
    else:
        arr = np.asarray(geoms, dtype=object)
        crs, index = None, pd.RangeIndex(len(arr))
    arr = np.asarray(arr, dtype=object)
    if len(arr):
        bad = shapely.is_missing(arr) | shapely.is_empty(arr)
        if bad.any():
            k = int(np.flatnonzero(bad)[0])
            raise InputError(f"要素 {index[k]} 没有几何，无法计算距离", row=k + 1,
                             field="geometry")
    return arr, crs, index


def as_points(geoms: Any, crs: Any = None) -> tuple[np.ndarray, Any, pd.Index]:
    """Points (shapely array), CRS and index from a GeoDataFrame / GeoSeries / array of
    geometries, or from an (n, 2) array of coordinates (:func:`is_xy`, CRS None).

    Polygons and lines are represented by a point guaranteed to lie on them
    (``representative_point``); this is what "a building's position" means throughout zlgis.
    """
    if is_xy(geoms):
        xy, _, index = point_xy(geoms)
        return shapely.points(xy), None, index
    arr, crs, index = _geometries(geoms)
    kind = shapely.get_type_id(arr)
    if len(arr) and (kind != 0).any():
        arr = np.where(kind == 0, arr, shapely.point_on_surface(arr))
    return arr, crs, index


def point_xy(geoms: Any) -> tuple[np.ndarray, Any, pd.Index]:
    """The coordinates of :func:`as_points`'s points, (n, 2), with the CRS and index.

    The representative points of polygons and lines are made :data:`_XY_BLOCK` at a time and
    only their coordinates kept: a million GEOS points hold about 200 MB, their coordinates
    16 MB. Coordinates given (:func:`is_xy`) are checked to be finite.

    >>> from shapely.geometry import Point, box
    >>> point_xy([Point(1, 2), box(0, 0, 2, 2)])[0].tolist()
    [[1.0, 2.0], [1.0, 1.0]]
    """
    if is_xy(geoms):
        bad = ~np.isfinite(geoms).all(axis=1)
        if bad.any():
            k = int(np.flatnonzero(bad)[0])
            raise InputError(f"要素 {k} 没有坐标，无法计算距离", row=k + 1, field="geometry")
        return geoms, None, pd.RangeIndex(len(geoms))
    arr, crs, index = _geometries(geoms)
    xy = np.empty((len(arr), 2))
    kind = shapely.get_type_id(arr)
    pts = kind == 0
    xy[pts] = shapely.get_coordinates(arr[pts])
    other = np.flatnonzero(~pts)
    for lo in range(0, len(other), _XY_BLOCK):
        block = other[lo:lo + _XY_BLOCK]
        xy[block] = shapely.get_coordinates(shapely.point_on_surface(arr[block]))
    return xy, crs, index


def point_xy_or_nan(geoms: Any, rows: np.ndarray | None = None) -> np.ndarray:
    """:func:`point_xy`'s coordinates (n, 2) of an array of geometries, NaN for a missing or
    empty geometry instead of an error; of the positions ``rows`` only, when given.

    The points are read in place (``where``), a block of the array at a time: a copy of some
    rows' geometries would touch every object of a layer, and each forked check of the weekly
    run would copy the pages of them it shares (the 1M-building city's homes: 65-90 MB).

    >>> from shapely.geometry import Point, box
    >>> point_xy_or_nan([box(0, 0, 2, 2), None, Point()]).tolist()
    [[1.0, 1.0], [nan, nan], [nan, nan]]
    >>> point_xy_or_nan([box(0, 0, 2, 2), Point(5, 6), None], rows=np.array([1, 2])).tolist()
    [[5.0, 6.0], [nan, nan]]
    """
    arr = np.asarray(geoms, dtype=object)
    want = ~(shapely.is_missing(arr) | shapely.is_empty(arr))
    if rows is not None:
        chosen = np.zeros(len(arr), bool)
        chosen[rows] = True
        want &= chosen
    kind = shapely.get_type_id(arr)
    x, y = np.full(len(arr), np.nan), np.full(len(arr), np.nan)
    for lo in range(0, len(arr), _XY_BLOCK):
        part = slice(lo, lo + _XY_BLOCK)  # (a slice is a view: its objects are not touched)
        other = want[part] & (kind[part] != 0)  # not points: a point on the surface, made here
        made = shapely.point_on_surface(arr[part], out=np.full(len(other), None), where=other)
        for g, w in ((arr[part], want[part] & ~other), (made, other)):
            shapely.get_x(g, out=x[part], where=w)
            shapely.get_y(g, out=y[part], where=w)
    return np.c_[x, y] if rows is None else np.c_[x[rows], y[rows]]


def xy_of_points(geoms: Any) -> tuple[np.ndarray, np.ndarray]:
    """x and y of an array of points; NaN where a point is missing or empty.

    Read in place (``where``): a masked copy of the points would touch every point object,
    and each worker of the weekly run would then copy the pages of them it shares (fork).

    >>> from shapely.geometry import Point
    >>> [v.tolist() for v in xy_of_points(np.array([Point(1, 2), None, Point()]))]
    [[1.0, nan, nan], [2.0, nan, nan]]
    """
    geoms = np.asarray(geoms, dtype=object)
    ok = ~(shapely.is_missing(geoms) | shapely.is_empty(geoms))
    x = np.full(len(geoms), np.nan)
    y = np.full(len(geoms), np.nan)
    shapely.get_x(geoms, out=x, where=ok)
    shapely.get_y(geoms, out=y, where=ok)
    return x, y


def index_of(obj: Any) -> pd.Index:
    """The index of a frame or series; positions for arrays."""
    return obj.index if isinstance(obj, (pd.DataFrame, pd.Series)) else pd.RangeIndex(len(obj))


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
