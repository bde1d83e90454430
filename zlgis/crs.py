"""Coordinate systems: the working CRS, and GCJ-02 / BD-09 conversions.

GCJ-02 (国测局坐标, used by Gaode/AMap and Tencent) and BD-09 (Baidu) are obfuscated versions of
WGS84. The forward formulas are the public reverse-engineered ones (Krasovsky ellipsoid,
a = 6378245.0, ee = 0.00669342162296594323); GCJ-02 -> WGS84 has no closed form and is inverted
by fixed-point iteration to better than 1 mm. Points outside China (bounding box lng 72.004 to
137.8347, lat 0.8293 to 55.8271) are not shifted. Source: ../shared/reference/standards.md §7.

Examples
--------
>>> lng, lat = wgs84_to_gcj02(121.5272106, 31.1774276)
>>> round(float(lng), 6), round(float(lat), 6)
(121.531542, 31.175304)
>>> back = gcj02_to_wgs84(lng, lat)
>>> round(float(back[0]), 7), round(float(back[1]), 7)
(121.5272106, 31.1774276)
"""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike, NDArray

__all__ = [
    "WORKING_CRS",
    "OBFUSCATED",
    "out_of_china",
    "wgs84_to_gcj02",
    "gcj02_to_wgs84",
    "gcj02_to_bd09",
    "bd09_to_gcj02",
    "wgs84_to_bd09",
    "bd09_to_wgs84",
    "to_wgs84",
    "from_wgs84",
]

#: CGCS2000 / 3-degree Gauss-Kruger CM 123E, metres (standards.md §7).
WORKING_CRS = "EPSG:4550"
#: Names of the obfuscated coordinate systems accepted in the catalog.
OBFUSCATED = ("gcj02", "bd09")

_A = 6378245.0
_EE = 0.00669342162296594323
_X_PI = np.pi * 3000.0 / 180.0

Arr = NDArray[np.float64]


def out_of_china(lng: ArrayLike, lat: ArrayLike) -> NDArray[np.bool_]:
    """True where a point lies outside China's bounding box, so no shift applies."""
    lng, lat = np.asarray(lng, dtype=float), np.asarray(lat, dtype=float)
    return ~((lng > 72.004) & (lng < 137.8347) & (lat > 0.8293) & (lat < 55.8271))


def _delta(lng: Arr, lat: Arr) -> tuple[Arr, Arr]:
    x, y = lng - 105.0, lat - 35.0
    dlat = (-100.0 + 2.0 * x + 3.0 * y + 0.2 * y * y + 0.1 * x * y + 0.2 * np.sqrt(np.abs(x))
            + (20.0 * np.sin(6.0 * x * np.pi) + 20.0 * np.sin(2.0 * x * np.pi)) * 2.0 / 3.0
            + (20.0 * np.sin(y * np.pi) + 40.0 * np.sin(y / 3.0 * np.pi)) * 2.0 / 3.0
            + (160.0 * np.sin(y / 12.0 * np.pi) + 320 * np.sin(y * np.pi / 30.0)) * 2.0 / 3.0)
    dlng = (300.0 + x + 2.0 * y + 0.1 * x * x + 0.1 * x * y + 0.1 * np.sqrt(np.abs(x))
            + (20.0 * np.sin(6.0 * x * np.pi) + 20.0 * np.sin(2.0 * x * np.pi)) * 2.0 / 3.0
            + (20.0 * np.sin(x * np.pi) + 40.0 * np.sin(x / 3.0 * np.pi)) * 2.0 / 3.0
            + (150.0 * np.sin(x / 12.0 * np.pi) + 300.0 * np.sin(x / 30.0 * np.pi)) * 2.0 / 3.0)
    radlat = lat / 180.0 * np.pi
    magic = 1 - _EE * np.sin(radlat) ** 2
    sqrtmagic = np.sqrt(magic)
    dlat = (dlat * 180.0) / ((_A * (1 - _EE)) / (magic * sqrtmagic) * np.pi)
    dlng = (dlng * 180.0) / (_A / sqrtmagic * np.cos(radlat) * np.pi)
    return dlng, dlat


def wgs84_to_gcj02(lng: ArrayLike, lat: ArrayLike) -> tuple[Arr, Arr]:
    """WGS84 -> GCJ-02, vectorised. Points outside China are returned unchanged."""
    lng, lat = np.asarray(lng, dtype=float), np.asarray(lat, dtype=float)
    dlng, dlat = _delta(lng, lat)
    out = out_of_china(lng, lat)
    return np.where(out, lng, lng + dlng), np.where(out, lat, lat + dlat)


def gcj02_to_wgs84(lng: ArrayLike, lat: ArrayLike, *, tol: float = 1e-10,
                   max_iter: int = 30) -> tuple[Arr, Arr]:
    """GCJ-02 -> WGS84 by fixed-point iteration (error well below 1 cm), vectorised."""
    glng, glat = np.asarray(lng, dtype=float), np.asarray(lat, dtype=float)
    wlng, wlat = glng.copy(), glat.copy()
    for _ in range(max_iter):
        flng, flat = wgs84_to_gcj02(wlng, wlat)
        elng, elat = flng - glng, flat - glat
        wlng, wlat = wlng - elng, wlat - elat
        if np.all(np.abs(elng) < tol) and np.all(np.abs(elat) < tol):
            break
    out = out_of_china(glng, glat)
    return np.where(out, glng, wlng), np.where(out, glat, wlat)


def gcj02_to_bd09(lng: ArrayLike, lat: ArrayLike) -> tuple[Arr, Arr]:
    """GCJ-02 -> BD-09 (Baidu), vectorised."""
    x, y = np.asarray(lng, dtype=float), np.asarray(lat, dtype=float)
    z = np.sqrt(x * x + y * y) + 0.00002 * np.sin(y * _X_PI)
    theta = np.arctan2(y, x) + 0.000003 * np.cos(x * _X_PI)
    return z * np.cos(theta) + 0.0065, z * np.sin(theta) + 0.006


def bd09_to_gcj02(lng: ArrayLike, lat: ArrayLike) -> tuple[Arr, Arr]:
    """BD-09 -> GCJ-02 by fixed-point iteration on the forward formula, vectorised."""
    blng, blat = np.asarray(lng, dtype=float), np.asarray(lat, dtype=float)
    glng, glat = blng - 0.0065, blat - 0.006
    for _ in range(30):
        flng, flat = gcj02_to_bd09(glng, glat)
        elng, elat = flng - blng, flat - blat
        glng, glat = glng - elng, glat - elat
        if np.all(np.abs(elng) < 1e-10) and np.all(np.abs(elat) < 1e-10):
            break
    return glng, glat


def wgs84_to_bd09(lng: ArrayLike, lat: ArrayLike) -> tuple[Arr, Arr]:
    """WGS84 -> BD-09."""
    return gcj02_to_bd09(*wgs84_to_gcj02(lng, lat))


def bd09_to_wgs84(lng: ArrayLike, lat: ArrayLike) -> tuple[Arr, Arr]:
    """BD-09 -> WGS84."""
    return gcj02_to_wgs84(*bd09_to_gcj02(lng, lat))


def to_wgs84(lng: ArrayLike, lat: ArrayLike, system: str) -> tuple[Arr, Arr]:
    """Convert lon/lat in ``system`` ('gcj02', 'bd09' or 'wgs84') to WGS84."""
    system = system.lower()
    if system == "gcj02":
        return gcj02_to_wgs84(lng, lat)
    if system == "bd09":
        return bd09_to_wgs84(lng, lat)
    return np.asarray(lng, dtype=float), np.asarray(lat, dtype=float)


def from_wgs84(lng: ArrayLike, lat: ArrayLike, system: str) -> tuple[Arr, Arr]:
    """Convert WGS84 lon/lat to ``system`` ('gcj02', 'bd09' or 'wgs84')."""
    system = system.lower()
    if system == "gcj02":
        return wgs84_to_gcj02(lng, lat)
    if system == "bd09":
        return wgs84_to_bd09(lng, lat)
    return np.asarray(lng, dtype=float), np.asarray(lat, dtype=float)
