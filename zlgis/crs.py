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

import math
import re
from dataclasses import dataclass
from functools import lru_cache
from typing import TYPE_CHECKING, Any

from .errors import CRSError

if TYPE_CHECKING:  # numpy and pyproj are imported where used: reading a catalog needs neither
    import numpy as np
    import pyproj
    from numpy.typing import ArrayLike, NDArray

    Arr = NDArray[np.float64]

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
    "KNOWN_CRS",
    "CRSGuess",
    "crs_label",
    "recognise_crs",
    "is_geographic",
    "candidate_crs",
    "infer_crs",
    "check_declared_crs",
    "swapped_lat_lon",
    "local_crs",
    "check_working_crs",
    "WORKING_CODES",
    "check_crs_covers",
    "geo_frame",
]

#: CGCS2000 / 3-degree Gauss-Kruger CM 123E, metres (standards.md §7).
WORKING_CRS = "EPSG:4550"
#: Names of the obfuscated coordinate systems accepted in the catalog.
OBFUSCATED = ("gcj02", "bd09")

_A = 6378245.0
_EE = 0.00669342162296594323
_X_PI = math.pi * 3000.0 / 180.0


def out_of_china(lng: ArrayLike, lat: ArrayLike) -> NDArray[np.bool_]:
    """True where a point lies outside China's bounding box, so no shift applies."""
    import numpy as np

    lng, lat = np.asarray(lng, dtype=float), np.asarray(lat, dtype=float)
    return ~((lng > 72.004) & (lng < 137.8347) & (lat > 0.8293) & (lat < 55.8271))


def _delta(lng: Arr, lat: Arr) -> tuple[Arr, Arr]:
    import numpy as np

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
    import numpy as np

    lng, lat = np.asarray(lng, dtype=float), np.asarray(lat, dtype=float)
    dlng, dlat = _delta(lng, lat)
    out = out_of_china(lng, lat)
    return np.where(out, lng, lng + dlng), np.where(out, lat, lat + dlat)


def gcj02_to_wgs84(lng: ArrayLike, lat: ArrayLike, *, tol: float = 1e-10,
                   max_iter: int = 30) -> tuple[Arr, Arr]:
    """GCJ-02 -> WGS84 by fixed-point iteration (error well below 1 cm), vectorised."""
    import numpy as np

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
    import numpy as np

    x, y = np.asarray(lng, dtype=float), np.asarray(lat, dtype=float)
    z = np.sqrt(x * x + y * y) + 0.00002 * np.sin(y * _X_PI)
    theta = np.arctan2(y, x) + 0.000003 * np.cos(x * _X_PI)
    return z * np.cos(theta) + 0.0065, z * np.sin(theta) + 0.006


def bd09_to_gcj02(lng: ArrayLike, lat: ArrayLike) -> tuple[Arr, Arr]:
    """BD-09 -> GCJ-02 by fixed-point iteration on the forward formula, vectorised."""
    import numpy as np

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
    """WGS84 -> BD-09. Points outside China are returned unchanged."""
    import numpy as np

    lng, lat = np.asarray(lng, dtype=float), np.asarray(lat, dtype=float)
    blng, blat = gcj02_to_bd09(*wgs84_to_gcj02(lng, lat))
    out = out_of_china(lng, lat)
    return np.where(out, lng, blng), np.where(out, lat, blat)


def bd09_to_wgs84(lng: ArrayLike, lat: ArrayLike) -> tuple[Arr, Arr]:
    """BD-09 -> WGS84. Points outside China are returned unchanged."""
    import numpy as np

    lng, lat = np.asarray(lng, dtype=float), np.asarray(lat, dtype=float)
    wlng, wlat = gcj02_to_wgs84(*bd09_to_gcj02(lng, lat))
    out = out_of_china(lng, lat)
    return np.where(out, lng, wlng), np.where(out, lat, wlat)


def _convert(lng: ArrayLike, lat: ArrayLike, system: str,
             table: dict[str, Any]) -> tuple[Arr, Arr]:
    import numpy as np

    conv = table.get(system.lower())
    if conv is not None:
        return conv(lng, lat)
    return np.asarray(lng, dtype=float), np.asarray(lat, dtype=float)


def to_wgs84(lng: ArrayLike, lat: ArrayLike, system: str) -> tuple[Arr, Arr]:
    """Convert lon/lat in ``system`` ('gcj02', 'bd09' or 'wgs84') to WGS84."""
    return _convert(lng, lat, system, {"gcj02": gcj02_to_wgs84, "bd09": bd09_to_wgs84})


def from_wgs84(lng: ArrayLike, lat: ArrayLike, system: str) -> tuple[Arr, Arr]:
    """Convert WGS84 lon/lat to ``system`` ('gcj02', 'bd09' or 'wgs84')."""
    return _convert(lng, lat, system, {"gcj02": wgs84_to_gcj02, "bd09": wgs84_to_bd09})


# --------------------------------------------------------------------------------------------
# CRS recognition and inference (standards.md section 7)
# --------------------------------------------------------------------------------------------

#: Coordinate systems a Chinese planning bureau meets, with their Chinese names.
KNOWN_CRS: dict[str, str] = {
    "EPSG:4490": "CGCS2000 经纬度",
    "EPSG:4326": "WGS84 经纬度",
    "EPSG:3857": "Web 墨卡托",
    "EPSG:4550": "CGCS2000 3度带高斯-克吕格投影 中央经线123°E",
    "EPSG:4529": "CGCS2000 3度带高斯-克吕格投影 第41带（东坐标带带号）",
    "EPSG:4510": "CGCS2000 6度带高斯-克吕格投影 中央经线123°E",
    "EPSG:2386": "西安80 3度带高斯-克吕格投影 中央经线123°E",
    "EPSG:2365": "西安80 3度带高斯-克吕格投影 第41带（东坐标带带号）",
    "EPSG:2438": "北京54 3度带高斯-克吕格投影 中央经线123°E",
    "EPSG:2417": "北京54 3度带高斯-克吕格投影 第41带（东坐标带带号）",
    "EPSG:4798": "新北京54 3度带高斯-克吕格投影 中央经线123°E",
    "EPSG:4777": "新北京54 3度带高斯-克吕格投影 第41带（东坐标带带号）",
    "EPSG:32651": "WGS84 UTM 第51带",
    "gcj02": "GCJ-02 火星坐标（高德/腾讯）",
    "bd09": "BD-09 百度坐标",
}

#: China's bounding box in lon/lat (the GCJ-02 out-of-China box).
CHINA_BOX = (72.004, 0.8293, 137.8347, 55.8271)

# First EPSG code of the 3-degree zone-prefixed series (zone 25) for each datum, and the name
# pyproj gives them; zone z has code base + z - 25 (checked against the name at run time).
_ZONE3_SERIES = ((4513, "CGCS2000"), (2349, "Xian 1980"), (2401, "Beijing 1954"))
# 3-degree GK series by central meridian (CM 75E first): code base + (cm - 75) / 3.
_CM3_SERIES = ((4534, "CGCS2000"), (2370, "Xian 1980"), (2422, "Beijing 1954"))


@dataclass(frozen=True)
class CRSGuess:
    """A coordinate system inferred from coordinate ranges, and why."""

    crs: str
    reason: str


def crs_label(crs: Any) -> str:
    """Short Chinese label of a CRS: ``'EPSG:4550（CGCS2000 3度带…）'``.

    Examples
    --------
    >>> crs_label("EPSG:4529")
    'EPSG:4529（CGCS2000 3度带高斯-克吕格投影 第41带（东坐标带带号））'
    >>> crs_label("gcj02")
    'gcj02（GCJ-02 火星坐标（高德/腾讯））'
    """
    import pyproj

    if crs is None:
        return "未声明"
    key = str(crs) if isinstance(crs, str) else None
    if key is None:
        code = _to_epsg(crs)
        key = f"EPSG:{code}" if code else pyproj.CRS(crs).name
    if key.lower() in OBFUSCATED:
        key = key.lower()
    name = KNOWN_CRS.get(key.upper() if key.lower().startswith("epsg") else key)
    if name is None and key.upper().startswith("EPSG:"):
        try:
            name = pyproj.CRS(key).name
        except pyproj.exceptions.CRSError:
            name = None
    return f"{key}（{name}）" if name else key


def _to_epsg(crs: Any) -> int | None:
    import pyproj

    try:
        c = pyproj.CRS(crs)
    except pyproj.exceptions.CRSError:
        return None
    code = c.to_epsg()
    if code is None:
        code = c.to_epsg(min_confidence=25)
    return code


def recognise_crs(crs: Any) -> str | None:
    """Normalise a CRS (EPSG code, WKT, ESRI ``.prj`` text, pyproj CRS) to ``'EPSG:nnnn'``.

    ``gcj02``/``bd09`` are returned as such; an unrecognisable definition gives ``None``.
    ESRI ``.prj`` names such as ``Xian_1980_3_Degree_GK_CM_123E`` resolve to their EPSG code.

    Examples
    --------
    >>> recognise_crs(4550), recognise_crs("epsg:4490"), recognise_crs("GCJ02")
    ('EPSG:4550', 'EPSG:4490', 'gcj02')
    """
    if crs is None:
        return None
    if isinstance(crs, str):
        low = crs.strip().lower().replace("-", "").replace("_", "")
        if low in OBFUSCATED:
            return low
        if low in ("wgs84", "wgs1984"):
            return "EPSG:4326"
        if low in ("cgcs2000",):
            return "EPSG:4490"
    if isinstance(crs, int):
        crs = f"EPSG:{crs}"
    code = _to_epsg(crs)
    return f"EPSG:{code}" if code else None


def is_geographic(crs: Any) -> bool:
    """True for lon/lat systems (including ``gcj02``/``bd09``)."""
    import pyproj

    if isinstance(crs, str) and crs.lower() in OBFUSCATED:
        return True
    try:
        return bool(pyproj.CRS(crs).is_geographic)
    except pyproj.exceptions.CRSError:
        return False


@lru_cache(maxsize=None)
def _projected_candidates() -> tuple[tuple[str, int | None, float | None], ...]:
    """(code, zone, central meridian) of every known projected CRS.

    ``zone`` is the easting prefix of zone-numbered systems (else None); the EPSG series are
    checked against pyproj's names in tests/test_crs.py.
    """
    codes: list[tuple[str, int | None, float | None]] = []
    for base, _datum in _CM3_SERIES:
        codes += [(f"EPSG:{base + i}", None, 75.0 + 3 * i) for i in range(21)]
    codes.append(("EPSG:4798", None, 123.0))
    for base, _datum in _ZONE3_SERIES:
        codes += [(f"EPSG:{base + z - 25}", z, 3.0 * z) for z in range(25, 46)]
    codes += [("EPSG:4777", 41, 123.0), ("EPSG:4510", None, 123.0), ("EPSG:32651", None, 123.0),
              ("EPSG:3857", None, None)]
    return tuple(codes)


@lru_cache(maxsize=64)
def transformer(src: Any, dst: Any = "EPSG:4326") -> pyproj.Transformer:
    """``pyproj.Transformer.from_crs(src, dst, always_xy=True)``, made once per process for
    the same pair (making one searches PROJ's database, 20-40 ms; those the run made before its
    workers fork are the workers' too).

    >>> transformer("EPSG:4550") is transformer("EPSG:4550")
    True
    """
    import pyproj

    return pyproj.Transformer.from_crs(src, dst, always_xy=True)


def _in_region(lon: NDArray[np.float64], lat: NDArray[np.float64],
               region: tuple[float, float, float, float]) -> bool:
    import numpy as np

    return bool(np.all(np.isfinite(lon)) and np.all(np.isfinite(lat))
                and np.all((lon >= region[0]) & (lon <= region[2]) & (lat >= region[1])
                           & (lat <= region[3])))


def _sample_points(bounds: ArrayLike) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    import numpy as np

    minx, miny, maxx, maxy = (float(v) for v in np.asarray(bounds, dtype=float))
    xs = np.array([minx, maxx, minx, maxx, (minx + maxx) / 2])
    ys = np.array([miny, miny, maxy, maxy, (miny + maxy) / 2])
    return xs, ys


def candidate_crs(bounds: ArrayLike, region: tuple[float, float, float, float] = CHINA_BOX
                  ) -> list[str]:
    """Coordinate systems that would put a bounding box inside ``region`` (lon/lat box).

    Lon/lat data gives ``['EPSG:4326']`` (WGS84 and CGCS2000 differ by less than a metre here).

    Examples
    --------
    >>> candidate_crs((480000, 5319000, 481000, 5320000), region=(122, 47.5, 123.5, 48.5))[:3]
    ['EPSG:4550', 'EPSG:2386', 'EPSG:2438']
    >>> candidate_crs((41480000, 5319000, 41481000, 5320000))
    ['EPSG:4529', 'EPSG:2365', 'EPSG:2417', 'EPSG:4777']
    """
    import numpy as np

    xs, ys = _sample_points(bounds)
    if not (np.all(np.isfinite(xs)) and np.all(np.isfinite(ys))):
        return []
    if np.all(np.abs(xs) <= 180) and np.all(np.abs(ys) <= 90):
        return ["EPSG:4326"] if _in_region(xs, ys, region) else []
    out = []
    # Gauss-Kruger is the same projection around every central meridian: the offset from the
    # meridian depends only on (easting - false easting, northing), so one transform screens
    # every CM and zone (datum differences of a few hundred metres do not matter here).
    gk = transformer("EPSG:4550")
    local: dict[int | None, tuple[NDArray[np.float64], NDArray[np.float64]]] = {}
    for code, zone, cm in _projected_candidates():
        if zone is not None and not np.all(np.floor(xs / 1e6) == zone):
            continue
        if zone is None and code != "EPSG:3857" and not np.all(np.abs(xs - 500_000) < 400_000):
            continue
        if cm is None:
            with np.errstate(all="ignore"):
                lon, lat = transformer(code).transform(xs, ys, errcheck=False)
        else:
            if zone not in local:
                with np.errstate(all="ignore"):
                    lo, la = gk.transform(xs - (zone or 0) * 1e6, ys, errcheck=False)
                local[zone] = (np.asarray(lo) - 123.0, np.asarray(la))
            dlon, lat = local[zone]
            lon = cm + dlon
        if _in_region(np.asarray(lon), np.asarray(lat), region):
            out.append(code)
    return out


def infer_crs(bounds: ArrayLike, region: tuple[float, float, float, float] | None = None,
              *, what: str = "") -> CRSGuess:
    """Infer a missing CRS from the coordinate ranges, only when the answer is unambiguous.

    The candidates are first restricted to ``region`` (the city, lon/lat box), then to China.
    Lon/lat in range is read as EPSG:4326. Projected coordinates are accepted only when a single
    known system places them in the region; Gauss-Kruger metres fit CGCS2000, Xian 1980 and
    Beijing 1954 alike and are refused with a :class:`~zlgis.errors.CRSError` naming them.

    Examples
    --------
    >>> infer_crs((122.6, 47.9, 122.8, 48.1)).crs
    'EPSG:4326'
    >>> infer_crs((13650000, 6100000, 13670000, 6110000), region=(121, 47, 124, 49)).crs
    'EPSG:3857'
    """
    regions = [r for r in (region, CHINA_BOX) if r is not None]
    cands: list[str] = []
    for reg in regions:
        cands = candidate_crs(bounds, reg)
        if cands:
            break
    if len(cands) == 1:
        code = cands[0]
        if code == "EPSG:4326":
            reason = ("文件未声明坐标系，坐标范围为经纬度，按 EPSG:4326（WGS84，与 CGCS2000 相差不到1米）"
                      "读取；若坐标来自高德/腾讯或百度地图，请在图层目录中声明 crs: gcj02 或 bd09")
        else:
            reason = f"文件未声明坐标系，按坐标范围唯一推断为 {crs_label(code)}"
        return CRSGuess(code, reason)
    if not cands:
        raise CRSError("文件未声明坐标系，且坐标范围不符合任何已知坐标系（经纬度、高斯-克吕格、Web 墨卡托），"
                       "请用 --crs 或图层目录的 crs 声明坐标系", path=what or None)
    names = "、".join(crs_label(c) for c in cands[:6])
    more = f" 等 {len(cands)} 个" if len(cands) > 6 else ""
    raise CRSError(f"文件未声明坐标系，按坐标范围无法唯一判断，可能是：{names}{more}；"
                   "请用 --crs 或图层目录的 crs 声明坐标系", path=what or None)


def check_declared_crs(bounds: ArrayLike, declared: str,
                       region: tuple[float, float, float, float] | None = None, *,
                       strict: bool = True) -> str | None:
    """Chinese message when coordinates contradict the declared CRS, else ``None``.

    Catches metres declared as degrees, degrees declared as metres, and (given a ``region`` and
    ``strict``) a projected CRS that puts the data outside the region while another known one
    fits. The region also ranks the candidates named in the message.

    Examples
    --------
    >>> check_declared_crs((480000, 5319000, 481000, 5320000), "EPSG:4326")[:22]
    '声明的坐标系为 EPSG:4326（WGS8'
    >>> check_declared_crs((122.6, 47.9, 122.8, 48.1), "EPSG:4326") is None
    True
    """
    import numpy as np

    xs, ys = _sample_points(bounds)
    if not (np.all(np.isfinite(xs)) and np.all(np.isfinite(ys))):
        return None
    degrees = bool(np.all(np.abs(xs) <= 180) and np.all(np.abs(ys) <= 90))
    label = crs_label(declared)
    if is_geographic(declared):
        if degrees:
            return None
        cands = candidate_crs(bounds, region or CHINA_BOX) or candidate_crs(bounds, CHINA_BOX)
        hint = ("，可能是：" + "、".join(crs_label(c) for c in cands[:6])) if cands else ""
        return (f"声明的坐标系为 {label}，但坐标值超出经纬度范围（x {xs.min():.0f}～{xs.max():.0f}，"
                f"y {ys.min():.0f}～{ys.max():.0f}），像是以米为单位的投影坐标{hint}")
    if degrees and np.all(np.abs(xs) <= 180):
        return (f"声明的坐标系为 {label}（米），但坐标值像经纬度（x {xs.min():.4f}～{xs.max():.4f}，"
                f"y {ys.min():.4f}～{ys.max():.4f}），可能是 EPSG:4326 或 EPSG:4490")
    if region is not None and strict:
        with np.errstate(all="ignore"):
            lon, lat = transformer(declared).transform(xs, ys, errcheck=False)
        if not _in_region(np.asarray(lon), np.asarray(lat), region):
            cands = [c for c in candidate_crs(bounds, region) if c != declared]
            if cands:
                return (f"声明的坐标系为 {label}，但按它换算后数据不在本市范围内；按坐标范围可能是："
                        + "、".join(crs_label(c) for c in cands[:6]))
    return None


def swapped_lat_lon(x: ArrayLike, y: ArrayLike,
                    region: tuple[float, float, float, float] = CHINA_BOX) -> NDArray[np.bool_]:
    """True where lon/lat look swapped: (x, y) falls outside ``region`` but (y, x) inside.

    Examples
    --------
    >>> swapped_lat_lon([48.01, 122.7], [122.74, 48.0]).tolist()
    [True, False]
    """
    import numpy as np

    x, y = np.asarray(x, dtype=float), np.asarray(y, dtype=float)
    w, s, e, n = region

    def inside(a: NDArray[np.float64], b: NDArray[np.float64]) -> NDArray[np.bool_]:
        return (a >= w) & (a <= e) & (b >= s) & (b <= n)

    return ~inside(x, y) & inside(y, x)


# --------------------------------------------------------------------------------------------
# The working CRS: the catalog's, projected, covering the city
# --------------------------------------------------------------------------------------------

def local_crs(lon: float, lat: float) -> str:
    """The projected CRS a city at (lon, lat) should work in.

    In China the CGCS2000 3-degree Gauss-Kruger zone of the nearest central meridian
    (standards.md §7), elsewhere the WGS84 UTM zone.

    Examples
    --------
    >>> local_crs(122.74, 48.01), local_crs(24.94, 60.17), local_crs(20.44, -34.02)
    ('EPSG:4550', 'EPSG:32635', 'EPSG:32734')
    """
    if not bool(out_of_china(lon, lat)) and 73.5 <= lon <= 135.0:
        cm = 3 * round(lon / 3)
        return f"EPSG:{_CM3_SERIES[0][0] + (cm - 75) // 3}"
    zone = int((lon + 180) // 6) % 60 + 1
    return f"EPSG:{(32600 if lat >= 0 else 32700) + zone}"


def _parse_crs(crs: Any, what: str, path: str | None) -> pyproj.CRS:
    import pyproj

    try:
        return pyproj.CRS(crs)
    except (pyproj.exceptions.CRSError, TypeError, ValueError):
        raise CRSError(f"{what} {crs!r} 无法识别，应为 EPSG 代码（如 EPSG:4550 或 UTM 带号 "
                       "EPSG:32635）", path=path, field="working_crs") from None


#: EPSG codes :func:`local_crs` recommends (CGCS2000 3-degree Gauss-Kruger by central meridian,
#: WGS84 UTM north and south): projected, in metres, so :func:`check_working_crs` accepts them
#: without asking pyproj (0.1-0.2 s of imports for ``zlgis layers``); tests/test_crs.py holds
#: each to pyproj's answer.
WORKING_CODES = frozenset([*range(_CM3_SERIES[0][0], _CM3_SERIES[0][0] + 21),
                           *range(32601, 32661), *range(32701, 32761)])


def _known_working_crs(crs: Any) -> str | None:
    """``'EPSG:n'`` for ``crs`` given as the text ``EPSG:n`` (any case) of a code in
    :data:`WORKING_CODES`, else None (pyproj decides)."""
    m = re.fullmatch(r"(?i)epsg:([1-9][0-9]*)", crs) if isinstance(crs, str) else None
    if m is None or int(m.group(1)) not in WORKING_CODES:
        return None
    return f"EPSG:{int(m.group(1))}"


def check_working_crs(crs: Any, *, path: str | None = None) -> str:
    """Check that ``crs`` can be the working CRS (readable, projected in metres); ``'EPSG:n'``.

    Raises :class:`~zlgis.errors.CRSError` (exit code 2) with a Chinese message otherwise.

    Examples
    --------
    >>> check_working_crs("epsg:32635")
    'EPSG:32635'
    >>> check_working_crs("EPSG:4326")
    Traceback (most recent call last):
    ...
    zlgis.errors.CRSError: 字段 working_crs：工作坐标系 EPSG:4326（WGS84 经纬度）是经纬度坐标系，距离和面积需要以米为单位的投影坐标系（如高斯-克吕格或 UTM 投影）
    """
    known = _known_working_crs(crs)
    if known is not None:
        return known
    c = _parse_crs(crs, "工作坐标系", path)
    if c.is_geographic or not c.is_projected:
        raise CRSError(f"工作坐标系 {crs_label(str(crs))}是经纬度坐标系，距离和面积需要以米为单位的投影"
                       "坐标系（如高斯-克吕格或 UTM 投影）", path=path, field="working_crs")
    unit = (c.axis_info[0].unit_name if c.axis_info else "metre").lower()
    if unit not in ("metre", "meter", "m"):
        raise CRSError(f"工作坐标系 {crs_label(str(crs))}的单位为 {unit}，应为米",
                       path=path, field="working_crs")
    code = c.to_epsg()
    return f"EPSG:{code}" if code else c.to_string()


def check_crs_covers(crs: Any, lonlat_bounds: ArrayLike, *, margin_deg: float = 1.5,
                     path: str | None = None) -> None:
    """Refuse a working CRS whose area of use (pyproj), widened by ``margin_deg``, does not
    contain the city boundary's lon/lat box; the message names the zone of the boundary's centre.

    Examples
    --------
    >>> check_crs_covers("EPSG:32635", (24.92, 60.16, 24.96, 60.18))
    >>> check_crs_covers("EPSG:4550", (24.92, 60.16, 24.96, 60.18))
    Traceback (most recent call last):
    ...
    zlgis.errors.CRSError: 字段 working_crs：工作坐标系 EPSG:4550（CGCS2000 3度带高斯-克吕格投影 中央经线123°E）的适用范围（经度 121.5°～124.5°，纬度 28.2°～53.6°）不包含城市边界（经度 24.92°～24.96°，纬度 60.16°～60.18°），距离会严重失真；按边界中心应使用 EPSG:32635（WGS 84 / UTM zone 35N）
    """
    import numpy as np
    import pyproj

    w, s, e, n = (float(v) for v in np.asarray(lonlat_bounds, dtype=float))
    c = _parse_crs(crs, "工作坐标系", path)
    area = c.area_of_use
    if area is None:
        return
    if (w >= area.west - margin_deg and e <= area.east + margin_deg
            and s >= area.south - margin_deg and n <= area.north + margin_deg):
        return
    right = local_crs((w + e) / 2, (s + n) / 2)
    raise CRSError(
        f"工作坐标系 {crs_label(str(crs))}的适用范围（经度 {area.west:.1f}°～{area.east:.1f}°，纬度 "
        f"{area.south:.1f}°～{area.north:.1f}°）不包含城市边界（经度 {w:.2f}°～{e:.2f}°，纬度 "
        f"{s:.2f}°～{n:.2f}°），距离会严重失真；按边界中心应使用 {right}（{pyproj.CRS(right).name}）",
        path=path, field="working_crs")


def geo_frame(data: Any, geometry: Any, crs: Any = None) -> Any:
    """A GeoDataFrame of ``data`` (a pandas DataFrame, taken as is) with ``geometry`` as its
    ``geometry`` column: the same frame as ``GeoDataFrame(data, geometry=geometry, crs=crs)``.

    ``geometry`` is a sequence of shapely geometries (or None), a GeometryArray or a GeoSeries
    (its values are taken in order, its index is not used); ``crs`` defaults to the geometry's.
    geopandas' constructor asks a frame without an active geometry column for its CRS while it
    sets one, and builds (twice, for each of two look-ups) an error message listing every
    column's dtype: ~2 ms a frame of 20 text columns, paid by every findings table, validated
    layer and layer read. Here the column is added to the DataFrame and the frame marked a
    GeoDataFrame, as ``GeoDataFrame.copy`` does.

    >>> import pandas as pd
    >>> from shapely.geometry import Point
    >>> g = geo_frame(pd.DataFrame({"a": [1]}), [Point(1, 2)], crs="EPSG:4550")
    >>> type(g).__name__, g.geometry.name, g.crs.to_epsg(), g.columns.tolist()
    ('GeoDataFrame', 'geometry', 4550, ['a', 'geometry'])
    """
    import geopandas as gpd
    import numpy as np
    import pandas as pd
    import pyproj
    from geopandas.array import GeometryArray, from_shapely

    if "geometry" in data.columns or not isinstance(data, pd.DataFrame) \
            or isinstance(data, gpd.GeoDataFrame):
        return gpd.GeoDataFrame(data, geometry=geometry, crs=crs)
    values = geometry.values if isinstance(geometry, gpd.GeoSeries) else geometry
    if not isinstance(values, GeometryArray):
        objs = np.empty(len(values), dtype=object)
        objs[:] = list(values)
        values = from_shapely(objs, crs=crs)
    elif crs is not None and values.crs != pyproj.CRS.from_user_input(crs):
        if values.crs is not None:
            raise ValueError("geometry CRS differs from crs")
        values = GeometryArray(values._data, crs=crs)  # noqa: SLF001 - same geometries, new CRS
    if len(values) != len(data):
        raise ValueError(f"expected {len(data)} geometries, got {len(values)}")
    frame = data.copy(deep=False)
    frame["geometry"] = pd.Series(values, index=frame.index, copy=False)
    frame.__class__ = gpd.GeoDataFrame
    frame._geometry_column_name = "geometry"  # noqa: SLF001 - what GeoDataFrame.copy sets
    return frame
