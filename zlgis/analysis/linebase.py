"""Shared pieces of the control-line checks: configuration, severities, input helpers.

Used by :mod:`zlgis.analysis.controllines` and :mod:`zlgis.analysis.setbacks`.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from ..config import load_config
from ..errors import ConfigError, CRSError, InputError

__all__ = ["CHECK", "LINE_RULES", "load_rules"]

CHECK = "controllines"
#: zone rule id -> catalog layer of the zone polygons
LINE_RULES: dict[str, str] = {
    "green_line": "green_lines",
    "blue_line": "blue_lines",
    "purple_line": "purple_lines",
    "yellow_line": "yellow_lines",
}
LINE_TITLES = {"red_lines": "道路红线", "green_lines": "城市绿线", "blue_lines": "城市蓝线",
                "purple_lines": "城市紫线", "yellow_lines": "城市黄线"}


# --------------------------------------------------------------------------------------------
# configuration
# --------------------------------------------------------------------------------------------
def load_rules(config: Mapping[str, Any] | None = None) -> dict[str, Any]:
    """The control-line configuration: ``config`` itself or ``controllines.yaml``.

    >>> load_rules()["tolerance"]["distance_m"]
    0.01
    """
    cfg = dict(config) if config is not None else dict(load_config("controllines"))
    _validate(cfg)
    return cfg


def _fail(msg: str) -> None:
    raise ConfigError(f"控制线配置 controllines.yaml：{msg}", path="controllines.yaml")


def _non_negative(value: Any, name: str, unit: str = "") -> None:
    try:
        negative = float(value) < 0
    except (TypeError, ValueError):
        _fail(f"{name} 应为数字{unit}")
    if negative:
        _fail(f"{name} 不能为负数")


def _validate(cfg: Mapping[str, Any]) -> None:
    """Check the structure a bureau's edited ``controllines.yaml`` must keep (ConfigError)."""
    for key in ("tolerance", "setbacks", "zones", "unpermitted", "severity"):
        if not isinstance(cfg.get(key), Mapping):
            _fail(f"缺少 {key} 部分")
    for key in ("distance_m", "area_m2"):
        _non_negative(cfg["tolerance"].get(key), f"tolerance.{key}")
    _validate_setbacks(cfg["setbacks"])
    for rule, spec in (cfg["zones"].get("lines") or {}).items():
        if not isinstance(spec, Mapping) or not spec.get("layer"):
            _fail(f"zones.lines.{rule} 须有 layer（控制线图层）")
    for rule, spec in cfg["severity"].items():
        for r in (spec or {}).get("rules", []):
            if "measure" not in r or "severity" not in r or not ({"min", "max"} & set(r)):
                _fail(f"severity.{rule} 的规则须有 measure、severity 和 min 或 max")


def _validate_setbacks(st: Mapping[str, Any]) -> None:
    classes = st.get("height_classes")
    if not isinstance(classes, list) or not classes or not all(
            isinstance(c, Mapping) and "id" in c for c in classes):
        _fail("setbacks.height_classes 应为含 id 与 max_height_m 的列表")
    table = st.get("table_m")
    if not isinstance(table, Mapping) or not table:
        _fail("缺少 setbacks.table_m（道路等级 × 建筑高度分类的退让距离表）")
    for road_class, row in table.items():
        for hc in (c["id"] for c in classes):
            value = row.get(hc) if isinstance(row, Mapping) else None
            _non_negative(value, f"setbacks.table_m.{road_class}.{hc}", "（米）")


def severity_of(rule: str, measures: Mapping[str, np.ndarray], n: int,
                cfg: Mapping[str, Any]) -> np.ndarray:
    """Severity per finding: the first matching ``{measure, min|max}`` rule wins."""
    spec = cfg["severity"].get(rule, {})
    out = np.full(n, spec.get("default", "medium"), dtype=object)
    done = np.zeros(n, dtype=bool)
    for r in spec.get("rules", []):
        values = np.asarray(measures[r["measure"]], dtype=float)
        hit = np.ones(n, dtype=bool)
        if "min" in r:
            hit &= values >= float(r["min"])
        if "max" in r:
            hit &= values <= float(r["max"])
        hit &= ~done & np.isfinite(values)
        out[hit] = r["severity"]
        done |= hit
    return out


# --------------------------------------------------------------------------------------------
# input helpers
# --------------------------------------------------------------------------------------------
def ids_of(gdf: gpd.GeoDataFrame, id_field: str, layer: str) -> np.ndarray:
    """Feature ids as text; missing or duplicate ids are an :class:`InputError`."""
    if id_field not in gdf.columns:
        raise InputError(f"缺少编号字段 {id_field}", layer=layer, field=id_field)
    ids = gdf[id_field]
    missing = ids.isna() | (ids.astype(str).str.strip() == "")
    if missing.any():
        row = int(np.flatnonzero(missing.to_numpy())[0]) + 1
        raise InputError("编号为空", layer=layer, row=row, field=id_field)
    text = np.asarray(ids.astype(str).to_numpy(), dtype=object)
    index = pd.Index(text, dtype=object)
    if not index.is_unique:
        row = int(np.flatnonzero(index.duplicated())[0]) + 1
        raise InputError(f"编号 {text[row - 1]} 重复", layer=layer, row=row, field=id_field)
    return text


def geoms_of(gdf: gpd.GeoDataFrame, crs: Any, layer: str) -> np.ndarray:
    """Geometry array in ``crs`` (projected); nulls kept as None.

    Validity is not checked here (a full pass costs seconds on a million footprints): overlay
    inputs are repaired pair by pair with :func:`valid_geoms`.
    """
    if gdf.crs is not None and crs is not None and gdf.crs != crs:
        gdf = gdf.to_crs(crs)
    return np.asarray(gdf.geometry.values, dtype=object)


def valid_geoms(geoms: np.ndarray) -> np.ndarray:
    """``geoms`` with invalid polygons repaired (``make_valid``), for overlay operations."""
    geoms = np.asarray(geoms, dtype=object)
    bad = ~shapely.is_valid(geoms) & ~shapely.is_missing(geoms)
    if bad.any():
        geoms = geoms.copy()
        geoms[bad] = shapely.make_valid(geoms[bad])
    return geoms


class PreparedFeatures:
    """Ids, geometries and (lazily) an STRtree of one features layer, shared between rules."""

    def __init__(self, gdf: gpd.GeoDataFrame, id_field: str, layer: str, crs: Any) -> None:
        self.ids = ids_of(gdf, id_field, layer)
        self.geoms = geoms_of(gdf, crs, layer)
        self._tree: shapely.STRtree | None = None

    @property
    def tree(self) -> shapely.STRtree:
        if self._tree is None:
            self._tree = shapely.STRtree(self.geoms)
        return self._tree


def check_crs(gdf: gpd.GeoDataFrame, layer: str) -> Any:
    if gdf.crs is not None and gdf.crs.is_geographic:
        raise CRSError("控制线检查需要以米为单位的投影坐标系（如 EPSG:4550），当前为经纬度",
                       layer=layer)
    return gdf.crs


def polygonal(geoms: np.ndarray) -> np.ndarray:
    """Keep only the polygonal parts of overlay results (drop touching points and lines)."""
    geoms = np.asarray(geoms, dtype=object)
    out = geoms.copy()
    mixed = shapely.get_type_id(geoms) == 7  # GeometryCollection
    for i in np.flatnonzero(mixed):
        parts = [p for p in shapely.get_parts(geoms[i]) if shapely.get_type_id(p) in (3, 6)]
        out[i] = shapely.union_all(parts) if parts else shapely.Polygon()
    return out


def numeric_of(gdf: gpd.GeoDataFrame, column: str) -> np.ndarray:
    if column not in gdf.columns:
        return np.full(len(gdf), np.nan)
    return pd.to_numeric(gdf[column], errors="coerce").to_numpy(dtype=float)


def text_of(gdf: gpd.GeoDataFrame, column: str, default: str = "") -> np.ndarray:
    if column not in gdf.columns:
        return np.full(len(gdf), default, dtype=object)
    return gdf[column].fillna(default).astype(str).to_numpy(dtype=object)



def clip_each(big: np.ndarray, small: np.ndarray, pad: np.ndarray | float = 0.0) -> np.ndarray:
    """``big[i]`` clipped to the box of ``small[i]`` grown by ``pad``, pair by pair.

    GEOS's rectangle clipping is several times faster than a general intersection with a long
    road or river polygon; the result is only used as a smaller stand-in for ``big[i]`` near
    ``small[i]``, so polygonal results are made valid.
    """
    bounds = shapely.bounds(small)
    pad = np.broadcast_to(np.asarray(pad, dtype=float), (len(small),))
    out = np.empty(len(small), dtype=object)
    clip = shapely.clip_by_rect
    for i, (g, (x0, y0, x1, y1), p) in enumerate(zip(big, bounds, pad)):
        out[i] = clip(g, x0 - p, y0 - p, x1 + p, y1 + p)
    poly = np.isin(shapely.get_type_id(out), (3, 6, 7))
    if poly.any():
        out[poly] = valid_geoms(out[poly])
    return out
