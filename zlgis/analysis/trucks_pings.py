"""Truck pings: configuration, plate privacy, vehicle classes, ping preparation and stops.

Shared by the truck rules (:mod:`zlgis.analysis.trucks`). Plates are replaced by a salted
HMAC-SHA256 digest (:func:`hash_plates`) as soon as pings are prepared; the salt comes from
``$ZLGIS_PLATE_SALT`` (or ``plate_salt`` in a local override of ``trucks.yaml``).
"""

from __future__ import annotations

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

from ..config import load_config
from ..errors import ConfigError, InputError
from ..findings import default_crs
from .timewindows import to_epoch_seconds

__all__ = [
    "trucks_config",
    "config_value",
    "plate_salt",
    "check_salt",
    "normalize_plate",
    "hash_plates",
    "vehicle_class_matches",
    "prepare_pings",
    "sort_pings",
    "detect_stops",
    "stop_params",
    "layer_ids",
    "feature_name",
]

#: Environment variable holding the plate salt.
SALT_ENV = "ZLGIS_PLATE_SALT"
_SPLIT = re.compile(r"[;；,，、/|\s]+")
CHECK = "trucks"


# --------------------------------------------------------------------------------------------
# configuration and privacy
# --------------------------------------------------------------------------------------------

def trucks_config(config: Mapping[str, Any] | None = None) -> Mapping[str, Any]:
    return config if config is not None else load_config("trucks")


def config_value(cfg: Mapping[str, Any], *keys: str) -> Any:
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
    cfg = trucks_config(config)
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
    cfg = trucks_config(config)["vehicle_classes"]
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
    if len(gdf) and gdf.crs is not None and not gdf.crs.equals(default_crs()):
        gdf = gdf.to_crs(default_crs())
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
    return sort_pings(out)


def sort_pings(p: pd.DataFrame) -> pd.DataFrame:
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


def stop_params(cfg: Mapping[str, Any]) -> dict[str, float]:
    return {k: float(config_value(cfg, "stops", k))
            for k in ("min_dwell_min", "radius_m", "stop_speed_kmh", "max_gap_min")}



def layer_ids(gdf: gpd.GeoDataFrame, field: str, prefix: str) -> list[str]:
    if field in gdf.columns:
        return gdf[field].astype(str).tolist()
    return [f"{prefix}{i + 1}" for i in range(len(gdf))]


def feature_name(gdf: gpd.GeoDataFrame, i: int) -> str:
    if "name" in gdf.columns and isinstance(gdf["name"].iloc[i], str):
        return gdf["name"].iloc[i]
    return ""
