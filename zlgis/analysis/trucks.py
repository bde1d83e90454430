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
``zlgis/config/trucks.yaml``. The overlays (:class:`PointGrid`) give exactly the answers of
``geopandas.sjoin`` (``intersects`` for zones, ``dwithin`` for roads), several times faster.

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
>>> f = no_parking_zone_findings(prepare_pings(pings, salt="example-salt"), zones)
>>> f[["rule", "related_ids", "measure"]].values.tolist()
[['no_parking_zone', 'Z1', 30.0]]
>>> "蒙E12345" in f.to_json()
False
"""

from __future__ import annotations

import datetime as _dt
import hashlib
import hmac
import os
import re
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from numpy.typing import NDArray
from shapely.geometry import LineString, MultiPoint, Point
from shapely.ops import substring

from ..catalog import Catalog
from ..config import load_config
from ..crs import WORKING_CRS
from ..errors import ConfigError, InputError
from ..findings import assign_grids, concat_findings, empty_findings, make_findings
from .timewindows import (MINUTES_PER_WEEK, TZ_OFFSET_S, HolidayCalendar, WeeklySchedule,
                          local_date, local_iso, minute_of_week, to_epoch_seconds)

__all__ = [
    "SALT_ENV",
    "plate_salt",
    "hash_plates",
    "normalize_plate",
    "vehicle_class_matches",
    "prepare_pings",
    "detect_stops",
    "PointGrid",
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
]

#: Environment variable holding the plate salt.
SALT_ENV = "ZLGIS_PLATE_SALT"
_SPLIT = re.compile(r"[;；,，、/|\s]+")
CHECK = "trucks"


# --------------------------------------------------------------------------------------------
# configuration and privacy
# --------------------------------------------------------------------------------------------

def _config(config: Mapping[str, Any] | None = None) -> Mapping[str, Any]:
    return config if config is not None else load_config("trucks")


def _v(cfg: Mapping[str, Any], *keys: str) -> Any:
    """Value of a nested config entry; entries written as {value, source} give their value."""
    node: Any = cfg
    for k in keys:
        if not isinstance(node, Mapping) or k not in node:
            raise ConfigError(f"trucks.yaml 缺少配置项 {'.'.join(keys)}")
        node = node[k]
    return node["value"] if isinstance(node, Mapping) and "value" in node else node


def plate_salt(salt: str | None = None, config: Mapping[str, Any] | None = None) -> str:
    """The salt for plate digests: argument, else ``$ZLGIS_PLATE_SALT``, else config.

    Raises
    ------
    ConfigError
        When no salt is set, or it is too short or repetitive (``plate_salt_rules`` in
        ``trucks.yaml``; the weekly run needs the same salt every week, so a random one is never
        invented).

    >>> plate_salt("a-long-salt-for-plates")
    'a-long-salt-for-plates'
    """
    cfg = _config(config)
    value = salt or os.environ.get(SALT_ENV) or cfg.get("plate_salt")
    if not value:
        raise ConfigError(
            f"未设置车牌摘要的盐值：请设置环境变量 {SALT_ENV}（至少 "
            f"{cfg['plate_salt_rules']['min_length']} 个字符，每周保持不变），"
            "或在本地覆盖配置 trucks.yaml 中填写 plate_salt；盐值不得写入代码仓库")
    return check_salt(str(value), cfg["plate_salt_rules"])


def check_salt(value: str, rules: Mapping[str, Any]) -> str:
    """``value`` if it is long and varied enough for plate digests, else a ``ConfigError``.

    >>> rules = {"min_length": 16, "min_distinct_characters": 8, "min_character_classes": 2}
    >>> check_salt("Zl-2022-ChangeMe-7f3a", rules)
    'Zl-2022-ChangeMe-7f3a'
    >>> check_salt("1234567812345678", rules)
    Traceback (most recent call last):
    ...
    zlgis.errors.ConfigError: 车牌摘要的盐值太弱：只含 1 类字符（至少需要 16 个字符、8 个不同字符、2 类字符：字母、数字、其他符号）
    """
    text = value.strip()
    classes = sum(map(any, ([c.isalpha() for c in text], [c.isdigit() for c in text],
                            [not c.isalnum() for c in text])))
    n_min, d_min = int(rules["min_length"]), int(rules["min_distinct_characters"])
    c_min = int(rules["min_character_classes"])
    problems = []
    if len(text) < n_min:
        problems.append(f"去掉首尾空白后只有 {len(text)} 个字符")
    if len(set(text)) < d_min:
        problems.append(f"不同字符只有 {len(set(text))} 个")
    if classes < c_min:
        problems.append(f"只含 {classes} 类字符")
    if problems:
        raise ConfigError(f"车牌摘要的盐值太弱：{'，'.join(problems)}（至少需要 {n_min} 个字符、"
                          f"{d_min} 个不同字符、{c_min} 类字符：字母、数字、其他符号）")
    return value


def normalize_plate(plate: Any) -> str:
    """Upper-case a plate and drop spaces, dots and dashes (``蒙e·12345`` -> ``蒙E12345``).

    >>> normalize_plate(" 蒙e·12 345 ")
    '蒙E12345'
    """
    return re.sub(r"[\s·•.\-_]", "", str(plate)).upper()


def hash_plates(plates: Iterable[Any], salt: str) -> NDArray[np.object_]:
    """Salted digest of each plate: ``HMAC-SHA256(salt, normalized plate)``, 16 hex digits.

    Only unique plates are hashed. The digest cannot be reversed without the salt, and the same
    plate gives the same digest every week as long as the salt is unchanged.

    >>> a, b, c = hash_plates(["蒙E12345", "蒙e 12345", "蒙E54321"], salt="example-salt")
    >>> a == b, a == c, len(a)
    (True, False, 16)
    """
    codes, raw = pd.factorize(pd.Series(np.asarray(plates, dtype=object)), use_na_sentinel=False)
    key = salt.encode("utf-8")
    digest = {}  # normalised plate -> digest: each distinct plate is hashed once
    out = np.empty(len(raw), dtype=object)
    for i, r in enumerate(raw):
        norm = normalize_plate(r)
        if norm not in digest:
            digest[norm] = hmac.new(key, norm.encode("utf-8"), hashlib.sha256).hexdigest()[:16]
        out[i] = digest[norm]
    return out[codes] if len(codes) else np.array([], dtype=object)


def _tokens(text: Any) -> list[str]:
    if text is None or (isinstance(text, float) and np.isnan(text)):
        return []
    return [t for t in _SPLIT.split(str(text).strip()) if t]


def vehicle_class_matches(vehicle_types: Sequence[Any], classes: Any,
                          config: Mapping[str, Any] | None = None) -> NDArray[np.bool_]:
    """Which vehicles a zone's or segment's 限制车型 text applies to.

    Empty text, ``全部`` or ``所有车型`` mean every truck. A token matches a vehicle when the
    vehicle type is in the token's group in ``trucks.yaml``, equals the token or contains it. A
    vehicle without a type counts as a truck (the GPS layer holds trucks only).

    >>> vehicle_class_matches(["重型货车", "小型轿车", "渣土车", ""], "重型货车").tolist()
    [True, False, True, True]
    >>> vehicle_class_matches(["重型货车", "小型轿车"], "").tolist()
    [True, False]
    >>> vehicle_class_matches(["重型半挂牵引车", "轻型货车"], "禁止重型货车通行").tolist()
    [True, False]
    """
    cfg = _config(config)["vehicle_classes"]
    trucks = set(cfg.get("trucks", []))
    groups = cfg.get("groups", {})
    alltok = set(cfg.get("all_tokens", []))
    toks = _tokens(classes)
    types = pd.Series(list(vehicle_types), dtype=object).fillna("").astype(str).str.strip()
    codes, uniques = pd.factorize(types)
    out = np.zeros(len(uniques), dtype=bool)
    for i, vt in enumerate(uniques):
        is_truck = vt == "" or vt in trucks or "货" in vt or "挂" in vt
        if not toks or alltok.intersection(toks):
            out[i] = is_truck
            continue
        if vt == "":
            out[i] = True
            continue
        for tok in toks:
            if any(a in tok for a in alltok):  # 禁止所有货车
                out[i] = is_truck
                break
            # the token's group, or the groups and types it names (重型货车及半挂车): the
            # longest names found in it, so that 重型货车 does not also mean 货车
            known = set(groups) | trucks
            if tok in known:
                names = [tok]
            else:
                found = [n for n in known if n in tok]
                names = [n for n in found if not any(n != o and n in o for o in found)]
            members = [m for n in names for m in groups.get(n, [n])] + [tok]
            if vt in members or tok in vt or any(m in vt for m in members):
                out[i] = True
                break
    return out[codes] if len(codes) else np.zeros(0, dtype=bool)


# --------------------------------------------------------------------------------------------
# pings and stops
# --------------------------------------------------------------------------------------------

def prepare_pings(gdf: gpd.GeoDataFrame, *, salt: str | None = None, layer: str = "truck_pings",
                  source: str = "gps", path: str | None = None,
                  config: Mapping[str, Any] | None = None) -> pd.DataFrame:
    """Pings (or patrol sightings) as a plain table sorted by plate digest and time.

    Columns: ``plate_hash``, ``vehicle_type``, ``t`` (int64 epoch seconds), ``x``, ``y`` (working
    CRS), ``speed`` (km/h, NaN when unknown), ``source``, ``row`` (source row, 1-based). The raw
    plate is dropped here: nothing downstream can leak it.

    Raises
    ------
    InputError
        Naming the layer, row and field of a missing column, plate, time or point.
    """
    salt = plate_salt(salt, config)
    for col in ("plate", "time"):
        if col not in gdf.columns:
            raise InputError(f"缺少字段 {col}（车牌号/时间）", path=path, layer=layer, field=col)
    if len(gdf) and gdf.crs is not None and not gdf.crs.equals(WORKING_CRS):
        gdf = gdf.to_crs(WORKING_CRS)
    plate = gdf["plate"]
    empty = plate.isna().to_numpy() | (plate.astype(str).str.strip() == "").to_numpy()
    if empty.any():
        i = int(np.flatnonzero(empty)[0])
        raise InputError("车牌号为空", path=path, layer=layer, row=i + 1, field="plate")
    geom = gdf.geometry.values
    bad = shapely.is_missing(geom) | shapely.is_empty(geom) if len(gdf) else np.zeros(0, bool)
    if bad.any():
        i = int(np.flatnonzero(bad)[0])
        raise InputError("缺少坐标（经度/纬度）", path=path, layer=layer, row=i + 1, field="geometry")
    t = to_epoch_seconds(gdf["time"], path=path, layer=layer, field="time")
    speed = (pd.to_numeric(gdf["speed_kmh"], errors="coerce").to_numpy(dtype=float)
             if "speed_kmh" in gdf.columns else np.full(len(gdf), np.nan))
    vtype = (gdf["vehicle_type"].fillna("").astype(str).str.strip().to_numpy(dtype=object)
             if "vehicle_type" in gdf.columns else np.full(len(gdf), "", dtype=object))
    out = pd.DataFrame({
        "plate_hash": hash_plates(plate.to_numpy(), salt),
        "vehicle_type": vtype,
        "t": t,
        "x": shapely.get_x(geom) if len(gdf) else np.zeros(0),
        "y": shapely.get_y(geom) if len(gdf) else np.zeros(0),
        "speed": speed,
        "source": source,
        "row": np.arange(1, len(gdf) + 1),
    })
    return _sort(out)


def _sort(p: pd.DataFrame) -> pd.DataFrame:
    return p.sort_values(["plate_hash", "t"], kind="stable").reset_index(drop=True)


def detect_stops(pings: pd.DataFrame, *, min_dwell_min: float, radius_m: float,
                 stop_speed_kmh: float, max_gap_min: float) -> pd.DataFrame:
    """Stops: runs of consecutive stationary pings of one vehicle lasting >= ``min_dwell_min``.

    A run continues while the next ping of the same vehicle is within ``radius_m`` of the previous
    one, at most ``max_gap_min`` later, and both are stationary (speed <= ``stop_speed_kmh`` or
    unknown); a run whose pings spread over more than ``2 * radius_m`` (crawling in a jam) is
    not a stop. The stop lasts from its first to its last stationary ping (conservative: time
    before the first and after the last ping is not counted). Vectorised; ``pings`` must be
    sorted by ``plate_hash`` and ``t`` (as :func:`prepare_pings` returns them).

    Returns
    -------
    DataFrame
        ``plate_hash``, ``vehicle_type``, ``start``, ``end`` (epoch s), ``dwell_min``, ``x``,
        ``y`` (mean position), ``n`` (pings), ``source``.
    """
    cols = ["plate_hash", "vehicle_type", "start", "end", "dwell_min", "x", "y", "n", "source"]
    n = len(pings)
    if n == 0:
        return pd.DataFrame({c: pd.Series(dtype=object) for c in cols})
    h = pings["plate_hash"].to_numpy()
    t = pings["t"].to_numpy(dtype=np.int64)
    x = pings["x"].to_numpy(dtype=float)
    y = pings["y"].to_numpy(dtype=float)
    sp = pings["speed"].to_numpy(dtype=float)
    still = ~(sp > stop_speed_kmh)  # NaN speed counts as stationary
    cont = np.zeros(n, dtype=bool)
    cont[1:] = ((h[1:] == h[:-1]) & (np.hypot(np.diff(x), np.diff(y)) <= radius_m)
                & (np.diff(t) <= max_gap_min * 60) & still[1:] & still[:-1])
    starts = np.flatnonzero(~cont)
    ends = np.r_[starts[1:], n] - 1
    count = ends - starts + 1
    dwell = t[ends] - t[starts]
    # a run that wanders (crawling in a jam: slow steps adding up) is movement, not a stop
    extent = np.hypot(np.maximum.reduceat(x, starts) - np.minimum.reduceat(x, starts),
                      np.maximum.reduceat(y, starts) - np.minimum.reduceat(y, starts))
    keep = still[starts] & (dwell >= min_dwell_min * 60) & (extent <= 2 * radius_m)
    s, e, c = starts[keep], ends[keep], count[keep]
    if not len(s):
        return pd.DataFrame({c_: pd.Series(dtype=object) for c_ in cols})
    xs = np.add.reduceat(x, starts)[keep] / c
    ys = np.add.reduceat(y, starts)[keep] / c
    src = pings["source"].to_numpy()
    return pd.DataFrame({
        "plate_hash": h[s], "vehicle_type": pings["vehicle_type"].to_numpy()[s],
        "start": t[s], "end": t[e], "dwell_min": (t[e] - t[s]) / 60.0, "x": xs, "y": ys,
        "n": c, "source": src[s],
    })


def _stop_params(cfg: Mapping[str, Any]) -> dict[str, float]:
    return {k: float(_v(cfg, "stops", k))
            for k in ("min_dwell_min", "radius_m", "stop_speed_kmh", "max_gap_min")}


# --------------------------------------------------------------------------------------------
# fast overlays
# --------------------------------------------------------------------------------------------

def _argsort_ids(ids: NDArray[np.int64]) -> NDArray[np.intp]:
    """Stable argsort of non-negative integer ids by two 16-bit radix passes when they fit.

    >>> _argsort_ids(np.array([70000, 3, 70000, 1])).tolist()
    [3, 1, 0, 2]
    """
    if not len(ids) or ids.max() >= 2 ** 32:
        return np.argsort(ids, kind="stable")
    p = np.argsort((ids & 0xFFFF).astype(np.uint16), kind="stable")
    if ids.max() < 2 ** 16:
        return p
    return p[np.argsort((ids[p] >> 16).astype(np.uint16), kind="stable")]


def _expand(lo: NDArray[np.int64], n: NDArray[np.int64]
            ) -> tuple[NDArray[np.intp], NDArray[np.int64]]:
    """For ranges ``[lo, lo + n)``: the range number and the value of every element."""
    if not len(n):
        return np.zeros(0, dtype=np.intp), np.zeros(0, dtype=np.int64)
    rep = np.repeat(np.arange(len(n)), n)
    k = np.arange(int(n.sum())) - np.repeat(np.r_[0, np.cumsum(n)[:-1]], n)
    return rep, lo[rep] + k


class _Cells:
    """A lattice of square cells: origin, size, columns and rows."""

    def __init__(self, bounds: Sequence[float], cell: float) -> None:
        minx, miny, maxx, maxy = (float(v) for v in bounds)
        self.minx, self.miny, self.c = minx, miny, float(cell)
        self.ncol = int((maxx - minx) // self.c) + 1
        self.nrow = int((maxy - miny) // self.c) + 1

    def ids(self, x: NDArray[np.float64], y: NDArray[np.float64]) -> NDArray[np.int64]:
        cx = ((x - self.minx) // self.c).astype(np.int64)
        cy = ((y - self.miny) // self.c).astype(np.int64)
        return cy * self.ncol + cx

    def boxes(self, ids: NDArray[np.int64]) -> NDArray[np.object_]:
        """Boxes of cells, grown by a hair so that points on their edges are inside."""
        c = self.c
        ii, jj = ids % self.ncol, ids // self.ncol
        eps = 1e-6 * max(c, 1.0)
        bx0 = self.minx + ii * c - eps
        by0 = self.miny + jj * c - eps
        return shapely.box(bx0, by0, bx0 + c + 2 * eps, by0 + c + 2 * eps)

    def _ranges(self, minx: NDArray[np.float64], miny: NDArray[np.float64],
                maxx: NDArray[np.float64], maxy: NDArray[np.float64]
                ) -> tuple[NDArray[np.intp], NDArray[np.int64]]:
        """(box number, cell id) of every cell under each box (vectorised)."""
        c = self.c
        lo_x = np.floor((minx - self.minx) / c).astype(np.int64)
        hi_x = np.floor((maxx - self.minx) / c).astype(np.int64)
        lo_y = np.floor((miny - self.miny) / c).astype(np.int64)
        hi_y = np.floor((maxy - self.miny) / c).astype(np.int64)
        ok = (hi_x >= 0) & (lo_x < self.ncol) & (hi_y >= 0) & (lo_y < self.nrow)
        i0 = np.clip(lo_x, 0, self.ncol - 1)
        i1 = np.clip(hi_x, 0, self.ncol - 1)
        j0 = np.clip(lo_y, 0, self.nrow - 1)
        j1 = np.clip(hi_y, 0, self.nrow - 1)
        ni = np.where(ok, i1 - i0 + 1, 0)
        n = ni * np.where(ok, j1 - j0 + 1, 0)
        rep, k = _expand(np.zeros(len(n), dtype=np.int64), n)
        nir = np.maximum(ni[rep], 1)
        return rep, (j0[rep] + k // nir) * self.ncol + i0[rep] + k % nir

    def pairs_bbox(self, geoms: NDArray[np.object_], dist: float = 0.0
                   ) -> tuple[NDArray[np.int64], NDArray[np.intp]]:
        """Unique pairs (cell id, geometry number) of cells under each geometry's bounding box."""
        b = shapely.bounds(geoms)
        rep, cells = self._ranges(b[:, 0] - dist, b[:, 1] - dist, b[:, 2] + dist, b[:, 3] + dist)
        return cells, rep

    def pairs_along(self, lines: NDArray[np.object_], dist: float
                    ) -> tuple[NDArray[np.int64], NDArray[np.intp]]:
        """Unique pairs (cell id, line number) of cells that may lie within ``dist`` of a line.

        Every segment is cut into pieces of at most four cells, and the cells under each
        piece's bounding box (grown by ``dist``) are taken.
        """
        c = self.c
        parts, owner = shapely.get_parts(lines, return_index=True)
        coords, part = shapely.get_coordinates(parts, return_index=True)
        same = part[1:] == part[:-1]
        a, b = coords[:-1][same], coords[1:][same]
        line_of = owner[part[:-1][same]]
        single = np.setdiff1d(np.arange(len(parts)), part[:-1][same])  # one-point parts
        if len(single):
            pc = coords[np.isin(part, single)]
            a, b = np.vstack([a, pc]), np.vstack([b, pc])
            line_of = np.r_[line_of, owner[part[np.isin(part, single)]]]
        if not len(a):
            return np.zeros(0, np.int64), np.zeros(0, np.intp)
        length = np.hypot(b[:, 0] - a[:, 0], b[:, 1] - a[:, 1])
        k = np.maximum(np.ceil(length / (4 * c)).astype(np.int64), 1)
        sid, step = _expand(np.zeros(len(k), dtype=np.int64), k)
        f0, f1 = step / k[sid], (step + 1) / k[sid]
        dx, dy = b[sid, 0] - a[sid, 0], b[sid, 1] - a[sid, 1]
        x0, x1 = a[sid, 0] + f0 * dx, a[sid, 0] + f1 * dx
        y0, y1 = a[sid, 1] + f0 * dy, a[sid, 1] + f1 * dy
        rep, cells = self._ranges(np.minimum(x0, x1) - dist, np.minimum(y0, y1) - dist,
                                  np.maximum(x0, x1) + dist, np.maximum(y0, y1) + dist)
        key = np.unique(cells * len(lines) + line_of[sid[rep]])
        return key // len(lines), (key % len(lines)).astype(np.intp)


class PointGrid:
    """Points bucketed into square cells (sorted by cell), for fast overlays.

    Queries work on many features at once: the (cell, feature) pairs are classified with
    vectorised shapely predicates, so points of cells strictly inside a polygon are accepted in
    bulk, points of cells crossing its edge are tested with ``shapely.intersects_xy``, and cells
    outside are skipped. Lines are queried through buffers (see :meth:`query_lines`).

    Parameters
    ----------
    x, y : ndarray
        Point coordinates (a projected CRS, metres).
    bounds : tuple
        ``(minx, miny, maxx, maxy)`` of the area of interest; points outside never match.
    cell : float, optional
        Cell size in metres (default: about 16 points per cell).
    subset : ndarray of int, optional
        Only these points are indexed (the others never match); see :meth:`around`.

    Examples
    --------
    >>> from shapely.geometry import box
    >>> g = PointGrid(np.array([1.0, 5.0, 50.0]), np.array([1.0, 5.0, 50.0]), (0, 0, 60, 60), 4)
    >>> sorted(g.query_polygon(box(0, 0, 10, 10)).tolist())
    [0, 1]
    """

    def __init__(self, x: NDArray[np.float64], y: NDArray[np.float64],
                 bounds: Sequence[float], cell: float | None = None,
                 subset: NDArray[np.intp] | None = None) -> None:
        self.x = np.asarray(x, dtype=float)
        self.y = np.asarray(y, dtype=float)
        minx, miny, maxx, maxy = (float(v) for v in bounds)
        if subset is None:
            xs, ys = self.x, self.y
        else:
            subset = np.asarray(subset, dtype=np.intp)
            xs, ys = self.x[subset], self.y[subset]
        inb = np.flatnonzero((xs >= minx) & (xs <= maxx) & (ys >= miny) & (ys <= maxy))
        if cell is None:  # about 16 points per cell, between 8 m and 1 km
            area = max((maxx - minx) * (maxy - miny), 1.0)
            cell = float(np.clip(np.sqrt(area * 16.0 / max(len(inb), 1)), 8.0, 1000.0))
        self.cells = _Cells(bounds, cell)
        self.cell = self.cells.c
        cid = self.cells.ids(xs[inb], ys[inb])
        self.order = (inb if subset is None else subset[inb])[_argsort_ids(cid)]
        counts = np.bincount(cid, minlength=self.cells.ncol * self.cells.nrow)
        self.start = np.zeros(len(counts) + 1, dtype=np.int64)
        np.cumsum(counts, out=self.start[1:])

    @classmethod
    def around(cls, x: NDArray[np.float64], y: NDArray[np.float64], geoms: Sequence[Any], *,
               dist: float = 0.0, cell: float | None = None, min_cell: float = 8.0,
               coarse: float = 64.0) -> "PointGrid":
        """A grid of only the points near ``geoms`` (within ``dist``; polygons or lines).

        One cheap pass drops every point whose coarse cell (``coarse`` metres) touches no
        geometry, so only the remaining points are sorted into the fine grid. The default fine
        cell holds about 16 of them on average over the touched area (at least ``min_cell``).
        """
        x = np.asarray(x, dtype=float)
        y = np.asarray(y, dtype=float)
        arr = _valid(geoms)[1]
        if not len(arr):
            return cls(x, y, (0.0, 0.0, 0.0, 0.0), 1.0, subset=np.zeros(0, dtype=np.intp))
        b = shapely.total_bounds(arr)
        bounds = (b[0] - dist, b[1] - dist, b[2] + dist, b[3] + dist)
        span = max(bounds[2] - bounds[0], bounds[3] - bounds[1], 1.0)
        lat = _Cells(bounds, max(coarse, span / 4096))
        touched = np.zeros(lat.ncol * lat.nrow + 1, dtype=bool)
        tid = shapely.get_type_id(arr)
        poly = (tid == 3) | (tid == 6)
        if poly.any():  # cells meeting the polygon (grown by dist)
            pg = arr[poly] if dist == 0 else shapely.buffer(arr[poly], dist)
            cells, gi = lat.pairs_bbox(pg)
            shapely.prepare(pg)
            touched[cells[shapely.intersects(pg[gi], lat.boxes(cells))]] = True
        if (~poly).any():
            touched[lat.pairs_along(arr[~poly], dist)[0]] = True
        inb = (x >= bounds[0]) & (x <= bounds[2]) & (y >= bounds[1]) & (y <= bounds[3])
        cid = np.where(inb, lat.ids(np.where(inb, x, bounds[0]), np.where(inb, y, bounds[1])),
                       lat.ncol * lat.nrow)
        subset = np.flatnonzero(touched[cid])
        if cell is None:
            area = max(float(touched.sum()), 1.0) * lat.c ** 2
            cell = float(np.clip(np.sqrt(area * 16.0 / max(len(subset), 1)), min_cell, 1000.0))
        return cls(x, y, bounds, cell, subset=subset)

    def _gather_pairs(self, cells: NDArray[np.int64], feat: NDArray[np.intp]
                      ) -> tuple[NDArray[np.intp], NDArray[np.intp], NDArray[np.intp]]:
        """Points of each (cell, feature) pair: point index, feature index, pair number."""
        s = self.start[cells]
        n = self.start[cells + 1] - s
        pair, pos = _expand(s, n)
        return self.order[pos], feat[pair], pair

    def query_polygons(self, polygons: Sequence[Any]
                       ) -> tuple[NDArray[np.intp], NDArray[np.intp]]:
        """Pairs (point, polygon number) with the point inside or on the edge of the polygon."""
        idx, polys = _valid(polygons)
        if not len(polys):
            return np.zeros(0, dtype=np.intp), np.zeros(0, dtype=np.intp)
        cells, gi = self.cells.pairs_bbox(polys)
        nonempty = self.start[cells + 1] > self.start[cells]
        cells, gi = cells[nonempty], gi[nonempty]
        shapely.prepare(polys)
        boxes = self.cells.boxes(cells)
        inner = shapely.contains_properly(polys[gi], boxes)
        edge = ~inner & shapely.intersects(polys[gi], boxes)
        p_in, g_in, _ = self._gather_pairs(cells[inner], gi[inner])
        p_e, g_e, _ = self._gather_pairs(cells[edge], gi[edge])
        hit = shapely.intersects_xy(polys[g_e], self.x[p_e], self.y[p_e])
        return np.r_[p_in, p_e[hit]].astype(np.intp), idx[np.r_[g_in, g_e[hit]]]

    def query_polygon(self, poly: Any) -> NDArray[np.intp]:
        """Indices of points inside or on the edge of ``poly``."""
        return self.query_polygons([poly])[0]

    def query_lines(self, lines: Sequence[Any], tolerance: float
                    ) -> tuple[NDArray[np.intp], NDArray[np.intp]]:
        """Pairs (point, line number) with the point within ``tolerance`` of the line.

        Exact ``dwithin`` semantics: an inner buffer (a little narrower than the tolerance, so
        all its points are within it) accepts whole cells it contains and the single points it
        holds; an outer buffer (a little wider, so it holds every point within the tolerance)
        drops the far ones; only the thin ring between the two is decided by shapely's exact
        ``dwithin``. Buffers have 16 segments per quarter circle, whose chords stay within
        0.13 % of the radius.
        """
        idx, geoms = _valid(lines)
        if not len(geoms):
            return np.zeros(0, dtype=np.intp), np.zeros(0, dtype=np.intp)
        cells, li = self.cells.pairs_along(geoms, tolerance * 1.02 + 1e-6)
        nonempty = self.start[cells + 1] > self.start[cells]
        cells, li = cells[nonempty], li[nonempty]
        outer = shapely.buffer(geoms, tolerance * 1.01 + 1e-6, quad_segs=16)
        shapely.prepare(outer)
        if tolerance > 0:
            inner = shapely.buffer(geoms, tolerance * 0.99, quad_segs=16)
            shapely.prepare(inner)
            full = shapely.contains_properly(inner[li], self.cells.boxes(cells))
        else:
            inner, full = None, np.zeros(len(cells), dtype=bool)
        p_in, l_in, _ = self._gather_pairs(cells[full], li[full])
        p, lp, _ = self._gather_pairs(cells[~full], li[~full])
        keep = shapely.intersects_xy(outer[lp], self.x[p], self.y[p])
        p, lp = p[keep], lp[keep]
        sure = (shapely.intersects_xy(inner[lp], self.x[p], self.y[p]) if inner is not None
                else np.zeros(len(p), dtype=bool))
        ring = np.flatnonzero(~sure)
        if len(ring):
            shapely.prepare(geoms)
            sure[ring] = shapely.dwithin(geoms[lp[ring]],
                                         shapely.points(self.x[p[ring]], self.y[p[ring]]),
                                         tolerance)
        return np.r_[p_in, p[sure]].astype(np.intp), idx[np.r_[l_in, lp[sure]]]

    def query_line(self, line: Any, tolerance: float) -> NDArray[np.intp]:
        """Indices of points within ``tolerance`` of ``line`` (see :meth:`query_lines`)."""
        return self.query_lines([line], tolerance)[0]


def _valid(geoms: Sequence[Any]) -> tuple[NDArray[np.intp], NDArray[np.object_]]:
    """Positions and geometries of the non-missing, non-empty entries."""
    arr = np.empty(len(geoms), dtype=object)
    arr[:] = list(geoms)
    ok = ~(shapely.is_missing(arr) | shapely.is_empty(arr)) if len(arr) else np.zeros(0, bool)
    return np.flatnonzero(ok), arr[ok]


def points_in_polygons(x: NDArray[np.float64], y: NDArray[np.float64], polygons: Sequence[Any],
                       *, grid: PointGrid | None = None, cell: float | None = None
                       ) -> tuple[NDArray[np.intp], NDArray[np.intp]]:
    """Pairs (point index, polygon index) with the point inside (or on the edge of) the polygon.

    Same answer as ``geopandas.sjoin(points, polygons, predicate="intersects")``, computed with a
    :class:`PointGrid` (built here unless ``grid`` is given; ``cell`` sets its size).

    >>> from shapely.geometry import box
    >>> pi, gi = points_in_polygons(np.array([1.0, 5.0, 15.0]), np.array([1.0, 5.0, 5.0]),
    ...                             [box(0, 0, 10, 10), box(4, 4, 20, 6)])
    >>> sorted(zip(pi.tolist(), gi.tolist()))
    [(0, 0), (1, 0), (1, 1), (2, 1)]
    """
    if grid is None:
        grid = PointGrid.around(x, y, polygons, cell=cell)
    return grid.query_polygons(polygons)


def points_near_lines(x: NDArray[np.float64], y: NDArray[np.float64], lines: Sequence[Any],
                      tolerance: float, *, grid: PointGrid | None = None,
                      cell: float | None = None) -> tuple[NDArray[np.intp], NDArray[np.intp]]:
    """Pairs (point index, line index) with the point within ``tolerance`` of the line.

    Same answer as ``geopandas.sjoin(points, lines, predicate="dwithin", distance=tolerance)``,
    computed with :meth:`PointGrid.query_lines` (cells at least two thirds of the tolerance).

    >>> from shapely.geometry import LineString
    >>> pi, li = points_near_lines(np.array([0.0, 5.0, 5.0]), np.array([0.0, 9.0, 16.0]),
    ...                            [LineString([(0, 10), (10, 10)])], 5.0)
    >>> pi.tolist(), li.tolist()
    ([1], [0])
    """
    if grid is None:
        grid = PointGrid.around(x, y, lines, dist=tolerance * 1.05 + 1.0, cell=cell,
                                min_cell=max(tolerance * 2 / 3, 4.0))
    return grid.query_lines(lines, tolerance)


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


def _class_matrix(vtypes: NDArray[Any], classes: Sequence[Any],
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
                   class_matrix: NDArray[np.bool_] | None = None,
                   grid: PointGrid | None = None
                   ) -> tuple[NDArray[np.intp], NDArray[np.intp]]:
    """Pairs (ping, zone) for pings inside a zone during its restricted minutes.

    The time test is one lookup in a stacked (n_zones, 10080) minute-of-week mask; the vehicle
    class test one lookup in ``class_matrix`` (n_vehicle_types, n_zones) by ``vtype_codes``.

    >>> from shapely.geometry import box
    >>> t = to_epoch_seconds(["2022-08-01 07:30", "2022-08-01 10:00"])
    >>> pings_in_zones(np.array([5.0, 5.0]), np.array([5.0, 5.0]), t, [box(0, 0, 10, 10)],
    ...                [WeeklySchedule.from_text("07:00-09:00")])[0].tolist()
    [0]
    """
    pi, zi = points_in_polygons(x, y, zone_geoms, grid=grid)
    if not len(pi):
        return pi, zi
    ok = _time_class_ok(pi, zi, t, schedules, vtype_codes, class_matrix)
    return pi[ok], zi[ok]


def pings_on_restricted_roads(x: NDArray[np.float64], y: NDArray[np.float64],
                              t: NDArray[np.int64], segment_geoms: Sequence[Any],
                              schedules: Sequence[WeeklySchedule], tolerance: float, *,
                              vtype_codes: NDArray[np.intp] | None = None,
                              class_matrix: NDArray[np.bool_] | None = None,
                              grid: PointGrid | None = None
                              ) -> tuple[NDArray[np.intp], NDArray[np.intp]]:
    """Pairs (ping, segment) within ``tolerance`` of a restricted segment in its hours.

    >>> t = to_epoch_seconds(["2022-08-01 07:30", "2022-08-01 07:30"])
    >>> road, hours = LineString([(0, 0), (10, 0)]), WeeklySchedule.from_text("07:00-09:00")
    >>> pings_on_restricted_roads(np.array([5.0, 5.0]), np.array([1.0, 30.0]), t,
    ...                           [road], [hours], 15)[0].tolist()
    [0]
    """
    pi, si = points_near_lines(x, y, segment_geoms, tolerance, grid=grid)
    if not len(pi):
        return pi, si
    ok = _time_class_ok(pi, si, t, schedules, vtype_codes, class_matrix)
    return pi[ok], si[ok]


# --------------------------------------------------------------------------------------------
# findings per rule
# --------------------------------------------------------------------------------------------

def _repaired(geoms: Any) -> NDArray[np.object_]:
    """Geometries with the invalid ones repaired (``shapely.make_valid``)."""
    arr = np.asarray(geoms, dtype=object).copy()
    bad = ~shapely.is_valid(arr) & ~shapely.is_missing(arr)
    if bad.any():
        arr[bad] = shapely.make_valid(arr[bad])
    return arr


def _ids(gdf: gpd.GeoDataFrame, field: str, prefix: str) -> list[str]:
    if field in gdf.columns:
        return gdf[field].astype(str).tolist()
    return [f"{prefix}{i + 1}" for i in range(len(gdf))]


def _name(gdf: gpd.GeoDataFrame, i: int) -> str:
    if "name" in gdf.columns and isinstance(gdf["name"].iloc[i], str):
        return gdf["name"].iloc[i]
    return ""


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
    cfg = _config(config)
    rc = cfg["no_parking_zone"]
    if zones is None or not len(zones):
        return empty_findings()
    zones = zones.to_crs(WORKING_CRS) if zones.crs is not None else zones
    scheds = zone_schedules(zones, calendar=HolidayCalendar.from_config(cfg.get("calendar")))
    zone_ids = _ids(zones, "zone_id", "Z")
    classes = zones["vehicle_classes"].tolist() if "vehicle_classes" in zones else [""] * len(zones)
    geoms = list(_repaired(zones.geometry.values))
    stops = detect_stops(pings, **_stop_params(cfg))
    if window is not None and len(stops):
        stops = stops[(stops["start"] >= window[0]) & (stops["start"] < window[1])]
    rows: list[dict[str, Any]] = []
    min_overlap = float(_v(rc, "min_overlap_min")) * 60
    if len(stops):
        sx, sy = stops["x"].to_numpy(float), stops["y"].to_numpy(float)
        pi, zi = points_in_polygons(sx, sy, geoms)
        codes, mat = _class_matrix(stops["vehicle_type"].to_numpy(), classes, config)
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
        pt = patrol
        if window is not None:
            pt = pt[(pt["t"] >= window[0]) & (pt["t"] < window[1])]
        if len(pt):
            px, py, ptt = pt["x"].to_numpy(float), pt["y"].to_numpy(float), pt["t"].to_numpy()
            codes, mat = _class_matrix(pt["vehicle_type"].to_numpy(), classes, config)
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
    if not rows:
        return empty_findings()
    high = float(_v(cfg, "severity", "zone_high_min"))
    out = []
    for layer, part in (("truck_pings", [r for r in rows if r["source"] == "GPS"]),
                        ("patrol_observations", [r for r in rows if r["source"] != "GPS"])):
        if not part:
            continue
        out.append(make_findings(
            rule="no_parking_zone",
            title=[f"货车在禁停区“{_name(zones, r['zone']) or zone_ids[r['zone']]}”禁停时段内停放"
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
    cfg = _config(config)
    rc = cfg["restricted_road"]
    if segments is None or not len(segments) or not len(pings):
        return empty_findings()
    segments = segments.to_crs(WORKING_CRS) if segments.crs is not None else segments
    p = pings
    if window is not None:
        p = p[(p["t"] >= window[0]) & (p["t"] < window[1])]
    min_speed = float(_v(rc, "min_speed_kmh"))
    if min_speed > 0:
        p = p[~(p["speed"] < min_speed)]
    if not len(p):
        return empty_findings()
    p = p.reset_index(drop=True)
    scheds = zone_schedules(segments, layer="truck_restricted_roads", weekday_field="hours",
                            weekend_field=None)
    seg_ids = _ids(segments, "segment_id", "S")
    classes = (segments["vehicle_classes"].tolist() if "vehicle_classes" in segments
               else [""] * len(segments))
    codes, mat = _class_matrix(p["vehicle_type"].to_numpy(), classes, config)
    geoms = list(segments.geometry.values)
    t = p["t"].to_numpy()
    pi, si = pings_on_restricted_roads(p["x"].to_numpy(float), p["y"].to_numpy(float), t, geoms,
                                       scheds, float(_v(rc, "tolerance_m")), vtype_codes=codes,
                                       class_matrix=mat)
    if not len(pi):
        return empty_findings()
    m = pd.DataFrame({"p": pi, "s": si, "h": p["plate_hash"].to_numpy()[pi], "t": t[pi],
                      "day": local_date(t[pi]).astype(str)})
    m = m.sort_values(["h", "s", "p"], kind="stable").reset_index(drop=True)
    # passes: runs of consecutive pings of one vehicle matched to one segment. A truck that only
    # crosses the road gives a one-ping pass; one that drives along it gives a longer one.
    min_pings = int(_v(rc, "min_pings"))
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
        title=[f"货车在限行时段驶入限行路段“{_name(segments, r['s']) or seg_ids[r['s']]}”"
               for r in rows],
        feature_ids=[[r["h"], seg_ids[r["s"]]] for r in rows], layer="truck_pings",
        geometry=[r["geom"] for r in rows],
        measures=[{"n_pings": r["n"], "first": local_iso([r["t0"]])[0],
                   "last": local_iso([r["t1"]])[0], "segment_id": seg_ids[r["s"]],
                   "hours": scheds[r["s"]].text, "length_m": r["length_m"]} for r in rows],
        measure_key="n_pings", measure_unit="次",
        observed_at=[local_iso([r["t0"]])[0] for r in rows],
        id_extra=[str(local_date([r["t0"]])[0]) for r in rows])


def _is_muck(vtypes: Sequence[Any], cfg: Mapping[str, Any]) -> NDArray[np.bool_]:
    muck = list(cfg["vehicle_classes"].get("muck", []))
    s = pd.Series(list(vtypes), dtype=object).fillna("").astype(str)
    return s.apply(lambda v: bool(v) and any(m in v for m in muck)).to_numpy(dtype=bool)


def _union_buffer(gdfs: Iterable[gpd.GeoDataFrame | None], dist: float) -> Any:
    geoms = []
    for g in gdfs:
        if g is not None and len(g):
            g = g.to_crs(WORKING_CRS) if g.crs is not None else g
            geoms.extend(g.geometry.values)
    if not geoms:
        return None
    out = shapely.union_all(shapely.buffer(np.array(geoms, dtype=object), dist))
    shapely.prepare(out)
    return out


_DIGEST = re.compile(r"^[0-9a-f]{16}$")


def _route_keys(values: pd.Series, cfg: Mapping[str, Any]) -> list[str]:
    """Route ``plate_hash`` values as plate digests: digests kept, plates hashed, empty = all."""
    out = []
    salt = None
    for v in values.tolist():
        v = "" if v is None or (isinstance(v, float) and np.isnan(v)) else str(v).strip()
        if v and not _DIGEST.match(v):  # a plate typed into the (internal) route layer
            salt = salt or plate_salt(None, cfg)
            v = str(hash_plates([v], salt)[0])
        out.append(v)
    return out


def muck_findings(pings: pd.DataFrame, *, routes: gpd.GeoDataFrame | None,
                  dump_sites: gpd.GeoDataFrame | None,
                  construction_sites: gpd.GeoDataFrame | None = None,
                  truck_parking: gpd.GeoDataFrame | None = None,
                  window: tuple[int, int] | None = None,
                  config: Mapping[str, Any] | None = None) -> gpd.GeoDataFrame:
    """Muck trucks off their approved corridor, and their stops outside lawful sites (4.4.5).

    Rules: 《城市建筑垃圾管理规定》（建设部令第139号）第十四条 (approved route and time) and
    第十五条 (no dumping), 扎政办字〔2022〕51号 四（四）5.

    * ``muck_off_route``: moving pings (speed above ``stops.stop_speed_kmh``) of a muck truck
      outside dump and construction sites and not on an approved route at an approved time
      (routes buffered by ``muck_off_route.corridor_m``; a route's ``hours`` limit when it may be
      used, empty = any time; routes whose ``plate_hash`` is empty apply to every muck truck), at
      least ``min_pings`` per vehicle and day. A muck truck with no approved route at all is off
      route wherever it drives outside the sites.
    * ``muck_illegal_dump``: stops of a muck truck farther than ``site_tolerance_m`` from every
      dump site, construction site and designated truck parking (possible 私拉乱倒).

    A route's ``plate_hash`` is compared with the salted plate digest: either the digest itself
    (16 hex digits, written with the same salt) or the plate, which is hashed on reading.
    """
    cfg = _config(config)
    if not len(pings):
        return empty_findings()
    is_muck = _is_muck(pings["vehicle_type"].tolist(), cfg).copy()
    route_keys = None
    if routes is not None and len(routes) and "plate_hash" in routes.columns:
        route_keys = _route_keys(routes["plate_hash"], cfg)
        # a vehicle named on an approved route is a muck truck whatever its recorded type
        is_muck = is_muck | pings["plate_hash"].isin(set(route_keys) - {""}).to_numpy()
    p = pings[is_muck].reset_index(drop=True)
    if not len(p):
        return empty_findings()
    out = []
    # -- off route
    ro = cfg["muck_off_route"]
    corridor_m = float(_v(ro, "corridor_m"))
    stop_speed = float(_v(cfg, "stops", "stop_speed_kmh"))
    sites = _union_buffer([dump_sites, construction_sites], 0.0)
    pw = p if window is None else p[(p["t"] >= window[0]) & (p["t"] < window[1])]
    moving = pw[pw["speed"] > stop_speed]
    if len(moving):
        x, y = moving["x"].to_numpy(float), moving["y"].to_numpy(float)
        off = np.ones(len(moving), dtype=bool)
        if sites is not None:
            off &= ~shapely.intersects_xy(sites, x, y)
        hashes = moving["plate_hash"].to_numpy()
        tm = moving["t"].to_numpy()
        # corridors: (applies to: "" = every muck truck, else a plate digest), polygon, hours
        corridors: list[tuple[str, Any, WeeklySchedule | None]] = []
        if routes is not None and len(routes):
            r = (routes.to_crs(WORKING_CRS) if routes.crs is not None else routes
                 ).reset_index(drop=True)
            ph = (pd.Series(route_keys) if route_keys is not None
                  else pd.Series([""] * len(r)))
            hrs = (r["hours"].fillna("").astype(str).str.strip() if "hours" in r
                   else pd.Series([""] * len(r)))
            for (key, hours), grp in r.groupby([ph, hrs], sort=True):
                sched = (WeeklySchedule.from_text(hours, layer="muck_routes",
                                                  row=int(grp.index[0]) + 1, field="hours")
                         if hours else None)
                corridors.append((str(key), _union_buffer([grp], corridor_m), sched))
        on_route = np.zeros(len(moving), dtype=bool)   # inside an applicable corridor
        in_hours = np.zeros(len(moving), dtype=bool)   # ... at a time its route allows
        has_route: dict[str, bool] = {}
        for h in np.unique(hashes):
            mine = [c for c in corridors if c[0] in ("", str(h))]
            has_route[str(h)] = bool(mine)
            sel = np.flatnonzero((hashes == h) & off)
            for _key, poly, sched in mine:
                if not len(sel):
                    break
                inside = shapely.intersects_xy(poly, x[sel], y[sel])
                on_route[sel] |= inside
                in_hours[sel] |= inside & (sched.contains(tm[sel]) if sched is not None else True)
        off &= ~in_hours
        m = moving.assign(off=off, off_hours=off & on_route)
        m = m[m["off"]]
        min_pings = int(_v(ro, "min_pings"))
        rows = []
        if len(m):
            m = m.assign(day=local_date(m["t"].to_numpy()).astype(str))
            for (h, day), g in m.groupby(["plate_hash", "day"], sort=True):
                if len(g) < min_pings:
                    continue
                pts = list(zip(g["x"], g["y"]))
                geom = LineString(pts) if len(pts) > 1 else Point(pts[0])
                routed = has_route.get(str(h), False)
                d = 0.0
                if routed:
                    cor = shapely.union_all([c[1] for c in corridors if c[0] in ("", str(h))])
                    d = float(shapely.distance(cor, shapely.points(pts)).max())
                n_hours = int(g["off_hours"].sum())
                rows.append({"h": h, "day": day, "t0": int(g["t"].min()), "t1": int(g["t"].max()),
                             "n": len(g), "geom": geom, "dist": d, "has_route": routed,
                             "off_hours": n_hours})
        if rows:
            def _title(r: dict[str, Any]) -> str:
                if not r["has_route"]:
                    return "渣土车无核准路线在城区行驶"
                if r["off_hours"] == r["n"]:
                    return "渣土车在核准时段以外运输"
                return "渣土车未按核准路线行驶"

            out.append(make_findings(
                rule="muck_off_route",
                title=[_title(r) for r in rows], feature_ids=[[r["h"]] for r in rows],
                layer="truck_pings", geometry=[r["geom"] for r in rows],
                measures=[{"n_pings": r["n"], "off_hours_pings": r["off_hours"],
                           "max_off_m": r["dist"], "first": local_iso([r["t0"]])[0],
                           "last": local_iso([r["t1"]])[0], "approved_route": r["has_route"]}
                          for r in rows],
                measure_key="max_off_m", measure_unit="m",
                observed_at=[local_iso([r["t0"]])[0] for r in rows],
                id_extra=[r["day"] for r in rows]))
    # -- stops outside lawful sites
    do = cfg["muck_illegal_dump"]
    tol = float(_v(do, "site_tolerance_m"))
    stops = detect_stops(p, **_stop_params(cfg))
    if window is not None and len(stops):
        stops = stops[(stops["start"] >= window[0]) & (stops["start"] < window[1])]
    if len(stops):
        lawful = _union_buffer([dump_sites, construction_sites, truck_parking], tol)
        sx, sy = stops["x"].to_numpy(float), stops["y"].to_numpy(float)
        bad = (~shapely.intersects_xy(lawful, sx, sy) if lawful is not None
               else np.ones(len(stops), dtype=bool))
        st = stops[bad]
        if len(st):
            dist = np.full(len(st), np.nan)
            dumps = _union_buffer([dump_sites], 0.0)
            if dumps is not None:
                dist = shapely.distance(dumps, shapely.points(st["x"], st["y"]))
            out.append(make_findings(
                rule="muck_illegal_dump",
                feature_ids=[[h] for h in st["plate_hash"]], layer="truck_pings",
                geometry=[Point(a, b) for a, b in zip(st["x"], st["y"])],
                measures=[{"dwell_min": float(r.dwell_min), "n_pings": int(r.n),
                           "start": local_iso([r.start])[0], "end": local_iso([r.end])[0],
                           "dist_to_dump_site_m": float(d)}
                          for r, d in zip(st.itertuples(), dist)],
                measure_key="dwell_min", measure_unit="min",
                observed_at=local_iso(st["start"].to_numpy()),
                id_extra=local_iso(st["start"].to_numpy())))
    return concat_findings(out)


def south_corridor(roads: gpd.GeoDataFrame | None,
                   config: Mapping[str, Any] | None = None) -> Any:
    """The south entrance corridor (城市南入口 to 交通局道口) as a buffered polygon, or None.

    Roads whose ``name`` contains one of ``zombie_vehicle.corridor.road_name_patterns`` are
    used; when none matches, the configured ``line_wgs84`` (lon/lat pairs); else None.
    """
    cc = _config(config)["zombie_vehicle"]["corridor"]
    buf = float(cc.get("buffer_m", 60))
    pats = [str(p) for p in cc.get("road_name_patterns", []) or []]
    if roads is not None and len(roads) and "name" in roads.columns and pats:
        names = roads["name"].fillna("").astype(str)
        sel = names.apply(lambda n: any(p in n for p in pats))
        if sel.any():
            return _union_buffer([roads[sel]], buf)
    line = cc.get("line_wgs84") or []
    if len(line) >= 2:
        g = gpd.GeoSeries([LineString(line)], crs="EPSG:4326").to_crs(WORKING_CRS)
        return _union_buffer([gpd.GeoDataFrame(geometry=g)], buf)
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
    cfg = _config(config)
    rc = cfg["zombie_vehicle"]
    if corridor is None or not len(sightings):
        return empty_findings()
    s = sightings if as_of_end is None else sightings[sightings["t"] < as_of_end]
    stops = detect_stops(s, min_dwell_min=float(_v(rc, "min_days")) * 1440,
                         radius_m=float(_v(rc, "radius_m")),
                         stop_speed_kmh=float(_v(cfg, "stops", "stop_speed_kmh")),
                         max_gap_min=float(_v(rc, "max_gap_days")) * 1440)
    if window is not None and len(stops):
        stops = stops[stops["end"] >= window[0]]
    if not len(stops):
        return empty_findings()
    inside = shapely.intersects_xy(corridor, stops["x"].to_numpy(float), stops["y"].to_numpy(float))
    st = stops[inside]
    if not len(st):
        return empty_findings()
    days = st["dwell_min"].to_numpy(float) / 1440
    high = float(_v(cfg, "severity", "zombie_high_days"))
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


# --------------------------------------------------------------------------------------------
# parking supply (network distance)
# --------------------------------------------------------------------------------------------

def parking_access(logistics: gpd.GeoDataFrame, parking: gpd.GeoDataFrame | None,
                   roads: gpd.GeoDataFrame | None, *,
                   restricted: gpd.GeoDataFrame | None = None,
                   config: Mapping[str, Any] | None = None) -> gpd.GeoDataFrame:
    """Nearest designated truck parking of every logistics point, by road and straight line.

    Network distances come from :mod:`zlgis.analysis.network` (driving graph from ``roads``, one
    multi-source Dijkstra from all truck parking points). Points farther than
    ``parking_supply.snap_m`` from every road are unreachable (``inf``). With
    ``avoid_restricted_roads`` the graph omits the restricted segments.

    Returns
    -------
    GeoDataFrame
        The logistics points (index as given) with ``parking_id``, ``capacity`` (of the parking
        nearest by road), ``network_m``, ``straight_m`` and ``reachable``.

    Examples
    --------
    >>> roads = gpd.GeoDataFrame(geometry=[LineString([(0, 0), (1000, 0)])], crs="EPSG:4550")
    >>> park = gpd.GeoDataFrame({"parking_id": ["P1"], "capacity": [40]},
    ...                         geometry=[Point(0, 10)], crs="EPSG:4550")
    >>> lg = gpd.GeoDataFrame({"point_id": ["L1"]}, geometry=[Point(600, -20)], crs="EPSG:4550")
    >>> parking_access(lg, park, roads)[["point_id", "parking_id", "network_m"]].values.tolist()
    [['L1', 'P1', 630.0]]
    """
    rc = _config(config)["parking_supply"]
    lg = logistics.to_crs(WORKING_CRS) if logistics.crs is not None else logistics
    out = lg.copy()
    n = len(lg)
    d = np.full(n, np.inf)
    straight = np.full(n, np.inf)
    pid = np.full(n, None, dtype=object)
    cap = np.full(n, np.nan)
    if parking is not None and len(parking) and n:
        park = (parking.to_crs(WORKING_CRS) if parking.crs is not None else parking
                ).reset_index(drop=True)
        tree = shapely.STRtree(park.geometry.values)
        li, pj = tree.query_nearest(lg.geometry.values, all_matches=False)
        straight[li] = shapely.distance(lg.geometry.values[li], park.geometry.values[pj])
        if roads is not None and len(roads):
            from .network import StreetGraph, nearest_facility

            rd = roads.to_crs(WORKING_CRS) if roads.crs is not None else roads
            avoid_restricted = bool(_v(rc, "avoid_restricted_roads"))
            if avoid_restricted and restricted is not None and len(restricted):
                avoid = _union_buffer([restricted], 1.0)
                rd = rd[~shapely.within(rd.geometry.values, avoid)]
            graph = StreetGraph.from_roads(rd, walk=False)
            res = nearest_facility(graph, lg.geometry.reset_index(drop=True),
                                   park.geometry.reset_index(drop=True),
                                   max_access=float(_v(rc, "snap_m")))
            d = res["distance_network"].to_numpy(dtype=float)
            fac = res["facility"].to_numpy()
            ok = np.array([f is not None and not (isinstance(f, float) and np.isnan(f))
                           for f in fac])
            ids = _ids(park, "parking_id", "P")
            caps = (pd.to_numeric(park["capacity"], errors="coerce").to_numpy(float)
                    if "capacity" in park.columns else np.full(len(park), np.nan))
            pid[ok] = [ids[int(f)] for f in fac[ok]]
            cap[ok] = caps[fac[ok].astype(int)]
    out["parking_id"] = pid
    out["capacity"] = cap
    out["network_m"] = d
    out["straight_m"] = straight
    out["reachable"] = np.isfinite(d)
    return out


def parking_supply_findings(logistics: gpd.GeoDataFrame | None, parking: gpd.GeoDataFrame | None,
                            roads: gpd.GeoDataFrame | None, *,
                            zones: gpd.GeoDataFrame | None = None,
                            restricted: gpd.GeoDataFrame | None = None,
                            config: Mapping[str, Any] | None = None) -> gpd.GeoDataFrame:
    """Logistics points and no-parking zones without designated truck parking nearby (4.4.3).

    Network distances come from :func:`parking_access`.

    Rule: 扎政办字〔2022〕51号 四（四）3 (划定固定性大货车停放点). A logistics point whose network
    distance to the nearest truck parking exceeds ``parking_supply.max_network_m`` (or which
    cannot reach one) is a finding; so is a no-parking zone with no truck parking within
    ``zone_max_m`` of its edge (trucks turned away need somewhere lawful to go). With
    ``avoid_restricted_roads`` the network omits restricted segments.
    """
    cfg = _config(config)
    rc = cfg["parking_supply"]
    out = []
    max_m = float(_v(rc, "max_network_m"))
    park = (parking.to_crs(WORKING_CRS) if parking is not None and parking.crs is not None
            else parking)
    has_park = park is not None and len(park)
    if logistics is not None and len(logistics):
        lg = logistics.to_crs(WORKING_CRS) if logistics.crs is not None else logistics
        acc = parking_access(lg, park, roads, restricted=restricted, config=cfg)
        d = acc["network_m"].to_numpy(dtype=float)
        bad = ~(d <= max_m)
        if bad.any():
            ids = _ids(lg, "point_id", "L")
            sel = np.flatnonzero(bad)
            out.append(make_findings(
                rule="parking_supply",
                title=[f"物流点“{_name(lg, i) or ids[i]}”{'附近' if np.isfinite(d[i]) else ''}"
                       f"{'缺少' if np.isfinite(d[i]) else '无法经道路到达'}大货车固定停放点"
                       for i in sel],
                feature_ids=[[ids[i]] for i in sel],
                layer="logistics_points", geometry=[lg.geometry.iloc[i] for i in sel],
                measures=[{"network_m": float(d[i]) if np.isfinite(d[i]) else np.nan,
                           "straight_m": float(acc["straight_m"].iloc[i]),
                           "nearest_parking": acc["parking_id"].iloc[i],
                           "capacity": float(acc["capacity"].iloc[i]),
                           "limit_m": max_m, "reachable": bool(np.isfinite(d[i]))} for i in sel],
                measure_key="network_m", measure_unit="m"))
    if zones is not None and len(zones):
        zn = zones.to_crs(WORKING_CRS) if zones.crs is not None else zones
        zmax = float(_v(rc, "zone_max_m"))
        if has_park:
            tree = shapely.STRtree(park.geometry.values)
            zi, pi = tree.query_nearest(zn.geometry.values, return_distance=False,
                                        all_matches=False)
            dz = np.full(len(zn), np.inf)
            dz[zi] = shapely.distance(zn.geometry.values[zi], park.geometry.values[pi])
        else:
            dz = np.full(len(zn), np.inf)
        sel = np.flatnonzero(~(dz <= zmax))
        if len(sel):
            ids = _ids(zn, "zone_id", "Z")
            out.append(make_findings(
                rule="parking_supply",
                title=[f"禁停区“{_name(zn, i) or ids[i]}”周边 {zmax:.0f} 米内无大货车固定停放点"
                       for i in sel], feature_ids=[[ids[i]] for i in sel],
                layer="truck_no_parking_zones", geometry=[zn.geometry.iloc[i] for i in sel],
                measures=[{"nearest_parking_m": float(dz[i]) if np.isfinite(dz[i]) else np.nan,
                           "limit_m": zmax} for i in sel],
                measure_key="nearest_parking_m", measure_unit="m", severity="low"))
    return concat_findings(out)


# --------------------------------------------------------------------------------------------
# the weekly check
# --------------------------------------------------------------------------------------------

_LAYERS = ("truck_pings", "patrol_observations", "truck_no_parking_zones",
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
        From :func:`zlgis.io.load_layers`; layers the catalog names but the dict lacks are loaded.
        Layers the catalog does not name are skipped (their rules give no findings, noted in
        ``findings.attrs["notes"]``).
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
    from ..io import load_layers

    cfg = _config(config)
    salt = plate_salt(salt, cfg)
    layers = dict(layers or {})
    missing = [lid for lid in _LAYERS if lid not in layers and lid in catalog.layers]
    if missing:
        layers.update(load_layers(catalog, missing))
    notes: list[str] = []

    def get(lid: str) -> gpd.GeoDataFrame | None:
        g = layers.get(lid)
        if g is None:
            notes.append(f"图层目录中没有图层 {lid}，相关检查未运行")
        return g

    raw = get("truck_pings")
    pings = (prepare_pings(raw, salt=salt, layer="truck_pings", config=cfg) if raw is not None
             else prepare_pings(gpd.GeoDataFrame({"plate": [], "time": []}, geometry=[],
                                                 crs=WORKING_CRS), salt=salt, config=cfg))
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
                     else _sort(pd.concat([pings, patrol], ignore_index=True)))
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
