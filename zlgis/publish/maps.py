"""One map builder for every analysis: folium web maps for staff and for the public portal.

:func:`build_map` draws catalog layers, findings and extra analysis layers (service areas,
uncovered areas, ponding polygons ...) on a basemap, with a Chinese legend, layer control, scale
bar, fullscreen button, search by name, measuring (internal map) and locate-me (public map).
:func:`save_map` writes it atomically, with CDN or local (offline) assets.

Profiles
--------
``internal``
    Every field of every layer given, all findings, 12345 cases as points.
``public``
    Only layers listed in ``publish.yaml`` (``public.layers``), only their catalog ``public``
    fields (never fields that look personal: names of people, phones, plates, ID numbers, even if
    a catalog marks them public), coordinates simplified and rounded (``public.simplify_m``,
    ``public.coordinate_decimals``), findings only where their ``public`` column is true and with
    ``public.findings_fields`` only, 12345 cases only as counts per grid cell (small counts shown
    as "<3"), no buildings.

Safety
------
Folium writes popup and tooltip text as raw HTML. zlgis does not use folium's popups: features
are drawn by a small script that builds popups and tooltips with ``textContent``, so no data
value is ever parsed as HTML. Layer names, legend entries, the title and attributions are
HTML-escaped (:mod:`zlgis.publish.escape`), and the data is embedded with :func:`js_json`.

Basemaps
--------
``tianditu`` (天地图 ``vec_w`` + ``cva_w``, key from ``$ZLGIS_TIANDITU_KEY``, attribution and
审图号 at the lower left), ``gaode`` (GCJ-02 tiles: every overlay is shifted with
:func:`zlgis.crs.wgs84_to_gcj02` so it lines up), ``osm`` and ``none``. The default is 天地图
when the key is set, else OpenStreetMap.

Examples
--------
>>> import geopandas as gpd
>>> from shapely.geometry import Point
>>> from zlgis.catalog import Catalog
>>> cat = Catalog.load()
>>> toilets = gpd.GeoDataFrame({"toilet_id": ["T1"], "name": ["中央街公厕"],
...     "keeper_phone": ["13800000000"]}, geometry=[Point(612000, 5320000)], crs="EPSG:4550")
>>> m = build_map({"toilets": toilets}, None, catalog=cat, profile="public", basemap="none")
>>> html = m.get_root().render()
>>> "中央街公厕" in html, "13800000000" in html
(True, False)
"""

from __future__ import annotations

import json
import logging
import os
import re
from collections.abc import Mapping, Sequence
from typing import Any

import folium
import folium.plugins
import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from branca.element import Element

from ..catalog import Catalog, LayerSpec
from ..config import department_name, load_config
from ..crs import wgs84_to_gcj02
from ..errors import ConfigError
from ..findings import FINDING_LABELS, SEVERITY_LABELS
from ..rules import find_rule
from . import assets as _assets
from .colors import best_text_color
from .escape import PERSONAL_FIELD, display_value, escape_html, js_json, safe_url
from .map_page import (
    PAGE_CSS,
    PAGE_JS,
    Control,
    GeoLayer,
    Script,
    map_budget_mb,
    save_map,
    search_js,
)
from .styles import (
    BASEMAPS,
    PONDING_CLASSES,
    PROFILES,
    SEVERITY_COLORS,
    check_profile,
    layer_style,
    map_layer_ids,
    ponding_class,
)

__all__ = [
    "PROFILES",
    "BASEMAPS",
    "TIANDITU_KEY_ENV",
    "default_basemap",
    "map_layer_ids",
    "build_map",
    "layer_control_last",
    "save_map",
    "hotline_counts",
    "map_budget_mb",
    "public_fields",
]

log = logging.getLogger(__name__)

TIANDITU_KEY_ENV = "ZLGIS_TIANDITU_KEY"

#: Field names that are personal whatever a catalog says (dropped from every public map).
_PERSONAL = PERSONAL_FIELD

#: Chinese labels of common columns of analysis layers passed as ``extra``.
EXTRA_LABELS: dict[str, str] = {
    "name": "名称", "depth_cm": "积水深度（厘米）", "max_depth_cm": "最大积水深度（厘米）",
    "max_depth_m": "最大深度（米）", "mean_depth_m": "平均深度（米）", "area_m2": "面积（平方米）",
    "volume_m3": "容积（立方米）", "depression_id": "洼地编号", "road_id": "道路编号",
    "facility_id": "设施编号", "toilet_id": "公厕编号", "station_id": "转运站编号",
    "park_id": "公园编号", "population": "人口", "n": "数量", "count": "数量", "weight": "权重",
    "cluster": "片区编号", "candidate_id": "候选点编号", "distance_m": "距离（米）",
    "minutes": "步行时间（分钟）", "runoff_m3": "径流量（立方米）", "fill_ratio": "充满度",
    "grid_id": "网格编码", "grid_name": "网格名称", "subdistrict": "街道", "community": "社区",
    "duties": "管理责任", "roads": "网格内道路", "grid_worker": "网格员", "road_chief": "路长",
    "road_chief_phone": "路长电话", "segment_id": "路段编号", "road_name": "道路",
    "road_ids": "道路编号", "length_m": "长度（米）", "start_date": "启用日期",
    "end_date": "停用日期", "note": "备注",
}

_INTERNAL_FINDING_FIELDS = ("title", "severity", "measure", "rule_source", "task_id", "layer",
                            "feature_id", "related_ids", "lead_department", "coop_departments",
                            "grid_id", "road_chief", "observed_at", "event_code_new",
                            "finding_id")

# ---------------------------------------------------------------------------------------------
# configuration helpers


def _cfg() -> dict[str, Any]:
    return load_config("publish")


def default_basemap() -> str:
    """``tianditu`` when ``$ZLGIS_TIANDITU_KEY`` is set, else ``osm``.

    >>> import os
    >>> os.environ.pop("ZLGIS_TIANDITU_KEY", None) and None
    >>> default_basemap()
    'osm'
    """
    return "tianditu" if os.environ.get(TIANDITU_KEY_ENV, "").strip() else "osm"


def public_fields(spec: LayerSpec) -> list[str]:
    """Fields of a layer that may appear on the public map: catalog ``public`` minus personal.

    >>> from zlgis.catalog import Catalog
    >>> public_fields(Catalog.load()["toilets"])
    ['toilet_id', 'name', 'category', 'open_hours', 'accessible']
    """
    return [f for f in spec.public if not _PERSONAL.search(f)]


# ---------------------------------------------------------------------------------------------
# geometry and properties


def _to_web(geoms: gpd.GeoSeries, *, simplify_m: float, decimals: int, gcj: bool) -> np.ndarray:
    """Geometries as lon/lat (optionally GCJ-02) rounded to ``decimals``: an object array."""
    g = geoms
    if g.crs is None:
        raise ConfigError("图层没有坐标系，无法制图")
    if simplify_m > 0 and not g.crs.is_geographic:
        g = g.simplify(simplify_m, preserve_topology=True)
    arr = np.asarray(g.to_crs("EPSG:4326").array, dtype=object)

    def fn(c: np.ndarray) -> np.ndarray:
        if gcj and len(c):
            lng, lat = wgs84_to_gcj02(c[:, 0], c[:, 1])
            c = np.column_stack([lng, lat])
        return np.round(c, decimals)

    return shapely.transform(arr, fn)


def _drawn_geojson(geoms: np.ndarray) -> tuple[np.ndarray, list[str]]:
    """Indices of the geometries drawn (neither missing nor empty) and their GEOS GeoJSON."""
    gj = shapely.to_geojson(geoms)
    drawn = np.flatnonzero(~shapely.is_missing(geoms) & ~shapely.is_empty(geoms)
                           & np.not_equal(gj, None))
    return drawn, gj[drawn].tolist()


def _feature_collection(geoms: np.ndarray, props: Sequence[dict[str, Any]]) -> dict[str, Any]:
    drawn, texts = _drawn_geojson(geoms)
    # one decoding call for the whole layer (not one per feature)
    parsed = json.loads("[" + ",".join(texts) + "]")
    feats = [{"type": "Feature", "geometry": g, "properties": props[i]}
             for i, g in zip(drawn.tolist(), parsed)]
    return {"type": "FeatureCollection", "features": feats}


#: A feature of :func:`_layer_json` before its geometry is put in (quotes inside JSON strings
#: are escaped, so this text only ever occurs as the start of a feature).
_FEATURE_HEAD = '{"type":"Feature","geometry":null,"properties":'
def _as_python(t: str) -> str:
    """A JSON number as :func:`json.dumps` writes it once :func:`json.loads` has read it."""
    return repr(float(t)) if "." in t or "e" in t else t


def _long_numbers(text: str) -> list[tuple[int, int]]:
    """(start, end) of the numbers of the ASCII ``text`` (compact GeoJSON) holding a run of
    7 or more digits: every number of 16 characters or more (sign, point and exponent
    included) has one. Runs found with NumPy over the bytes (a regular expression tried at
    every digit of a city's coordinates took seconds)."""
    digit = np.frombuffer(text.encode("ascii"), np.uint8)
    digit = ((digit >= 48) & (digit <= 57)).view(np.int8)
    edge = np.diff(digit, prepend=np.int8(0), append=np.int8(0))
    starts, ends = np.flatnonzero(edge == 1), np.flatnonzero(edge == -1)
    keep = ends - starts >= 7
    spans: list[tuple[int, int]] = []
    for s, e in zip(starts[keep].tolist(), ends[keep].tolist()):
        while s > 0 and text[s - 1] in "0123456789.":
            s -= 1
        if s > 0 and text[s - 1] == "-":
            s -= 1
        while e < len(text) and text[e] in "0123456789.e+-":
            e += 1
        if not spans or s >= spans[-1][1]:
            spans.append((s, e))
    return spans


def _geometry_json(texts: list[str], geoms: np.ndarray) -> list[str] | None:
    """GEOS's GeoJSON ``texts`` of ``geoms`` as :func:`json.dumps` writes them once decoded
    (``None`` where that is not sure without decoding them).

    GEOS writes compact GeoJSON whose numbers read back exactly, in Python's format for
    magnitudes below 1e15 (fixed up to 1e16 in Python, ``1e+15`` in GEOS), but now and then
    not in the shortest form (``122.74228599999999`` for ``122.742286``). A number with at most
    15 significant digits that reads back to a double is the only one that short to do so, so
    it is Python's shortest text: only the longer numbers are written again."""
    joined = "\n".join(texts)
    if (not joined.isascii() or " " in joined or "E" in joined
            or joined.count("\n") != len(texts) - 1):
        return None
    if shapely.has_z(geoms).any():
        return None
    xy = shapely.get_coordinates(geoms)
    if len(xy) and not np.abs(xy).max() < 1e15:     # NaN, infinite or huge coordinates
        return None
    out, at = [], 0
    for s, e in _long_numbers(joined):
        out += [joined[at:s], _as_python(joined[s:e])]
        at = e
    out.append(joined[at:])
    return "".join(out).split("\n")


def _layer_json(spec: dict[str, Any], geoms: np.ndarray, props: Sequence[dict[str, Any]]
                ) -> tuple[str, int]:
    """``js_json(spec)`` with ``spec["data"]`` the feature collection of ``geoms`` and
    ``props`` (:func:`_feature_collection`), and its number of features.

    The geometries are not decoded into Python objects only to be encoded again: their GeoJSON
    (:func:`_geometry_json`) is put into the text of the layer where each feature's geometry
    goes. Where :func:`_geometry_json` cannot vouch for a layer it takes the decoding path. The
    text is the same either way."""
    drawn, texts = _drawn_geojson(geoms)
    feats = [{"type": "Feature", "geometry": None, "properties": props[i]}
             for i in drawn.tolist()]
    spec = {**spec, "data": {"type": "FeatureCollection", "features": feats}}
    gj = _geometry_json(texts, geoms[drawn]) if texts else None
    if gj is not None:
        parts = js_json(spec).split(_FEATURE_HEAD)
        if len(parts) == len(gj) + 1:
            out = [parts[0]]
            for g, rest in zip(gj, parts[1:]):
                out += ['{"type":"Feature","geometry":', g, ',"properties":', rest]
            return "".join(out), len(gj)
    for f, g in zip(feats, json.loads("[" + ",".join(texts) + "]")):
        f["geometry"] = g
    return js_json(spec), len(feats)


def _field_labels(spec: LayerSpec | None, fields: Sequence[str]) -> list[list[str]]:
    return [[f, spec.alias(f) if spec is not None else f] for f in fields]


_MEMO_TYPES = (float, int, bool)
_MISSING = object()


def _props(gdf: pd.DataFrame, fields: Sequence[str]) -> list[dict[str, Any]]:
    """Each row's display values (:func:`display_value`) of ``fields``, missing ones left out.

    Text is its own display value unless blank, and a column's numbers repeat (classes, years,
    flags): both are taken without calling :func:`display_value` for every cell. The values
    are found a column at a time and each row's dict is built in one call."""
    keys = [f for f in fields if f in gdf.columns]
    if not keys:
        return [{} for _ in range(len(gdf))]
    cols = [_display_column(_datetime_texts(gdf[f]) if pd.api.types.is_datetime64_any_dtype(
        gdf[f].dtype) else gdf[f].tolist()) for f in dict.fromkeys(keys)]
    keys = list(dict.fromkeys(keys))
    if not any(None in c for c in cols):
        return [dict(zip(keys, row)) for row in zip(*cols)]
    return [{k: v for k, v in zip(keys, row) if v is not None} for row in zip(*cols)]


def _display_column(values: list[Any]) -> list[str | None]:
    """:func:`display_value` of each value (text as it is unless blank; numbers once each)."""
    memo: dict[tuple[type, Any], str | None] = {}
    out: list[str | None] = []
    for v in values:
        t = type(v)
        if t is str:
            out.append(v if v.strip() else None)
        elif t in _MEMO_TYPES:
            d = memo.get((t, v), _MISSING)
            if d is _MISSING:
                d = memo[(t, v)] = display_value(v)
            out.append(d)
        else:
            out.append(display_value(v))
    return out


def _datetime_texts(s: pd.Series) -> list[str | None]:
    """:func:`display_value` of each date-time of ``s`` (a datetime64 column), in one pass:
    the date alone at midnight, else date, hour and minute; missing ones ``None``."""
    midnight = ((s.dt.hour == 0) & (s.dt.minute == 0) & (s.dt.second == 0)).to_numpy(bool)
    text = np.where(midnight, s.dt.strftime("%Y-%m-%d").to_numpy(object),
                    s.dt.strftime("%Y-%m-%d %H:%M").to_numpy(object))
    return [None if missing else t for t, missing in zip(text.tolist(), s.isna().tolist())]


def _style_js(key: str, *, point: bool = False) -> dict[str, Any]:
    s = layer_style(key)
    out = {k: v for k, v in s.items() if k != "legend" and v is not None}
    if point:
        out.setdefault("radius", 5)
    return out


def _geom_kind(gdf: gpd.GeoDataFrame) -> str:
    types = set(shapely.get_type_id(np.asarray(gdf.geometry.values)).tolist()) - {-1}
    if types and types <= {0, 4}:          # Point, MultiPoint
        return "point"
    if types and types <= {1, 5}:          # LineString, MultiLineString
        return "line"
    return "polygon"


# ---------------------------------------------------------------------------------------------
# 12345 cases as counts


def hotline_counts(cases: gpd.GeoDataFrame, grids: gpd.GeoDataFrame | None = None, *,
                   cell_m: float | None = None) -> gpd.GeoDataFrame:
    """Number of 12345 cases per grid cell (or per square cell of ``cell_m`` metres; default
    ``public.hotline_cell_m`` of ``publish.yaml``).

    Only counts and the cell's public identity are returned: never points or case text.

    >>> import geopandas as gpd
    >>> from shapely.geometry import Point
    >>> cases = gpd.GeoDataFrame({"text": ["a", "b", "c"]},
    ...     geometry=[Point(10, 10), Point(20, 20), Point(900, 10)], crs="EPSG:4550")
    >>> hotline_counts(cases, cell_m=500)["count"].tolist()
    [2, 1]
    """
    if cell_m is None:
        cell_m = float(_cfg()["public"]["hotline_cell_m"])
    pts = cases.geometry[~cases.geometry.is_empty & cases.geometry.notna()]
    if grids is not None and len(grids):
        pts = pts.to_crs(grids.crs)
        _, idx = grids.sindex.query(pts.values, predicate="within")
        counts = np.bincount(idx, minlength=len(grids))
        keep = counts > 0
        cols = [c for c in ("grid_id", "grid_name", "community") if c in grids.columns]
        out = gpd.GeoDataFrame(grids.loc[keep, cols].reset_index(drop=True),
                               geometry=grids.geometry[keep].reset_index(drop=True),
                               crs=grids.crs)
        out["count"] = counts[keep]
        return out
    xy = shapely.get_coordinates(pts.values)
    if not len(xy):
        return gpd.GeoDataFrame({"count": []}, geometry=[], crs=cases.crs)
    ij = np.floor(xy / cell_m).astype(np.int64)
    uniq, counts = np.unique(ij, axis=0, return_counts=True)
    boxes = shapely.box(uniq[:, 0] * cell_m, uniq[:, 1] * cell_m,
                        (uniq[:, 0] + 1) * cell_m, (uniq[:, 1] + 1) * cell_m)
    return gpd.GeoDataFrame({"count": counts}, geometry=boxes, crs=cases.crs)


# ---------------------------------------------------------------------------------------------
# the builder


class _Builder:
    def __init__(self, catalog: Catalog, profile: str, basemap: str, map_name: str) -> None:
        self.catalog, self.profile, self.basemap = catalog, profile, basemap
        self.map_name = map_name
        cfg = _cfg()
        self.cfg = cfg
        pcfg = cfg["public"] if profile == "public" else cfg["internal"]
        self.decimals = int(pcfg["coordinate_decimals"])
        self.simplify_m = float(pcfg["simplify_m"])
        self.gcj = basemap == "gaode"
        self.legend: list[str] = []
        self.bounds: list[np.ndarray] = []
        self.search: list[dict[str, Any]] = []
        self.cluster = False
        self.finding_bounds: list[np.ndarray] = []
        self.labels: list[list[Any]] = []
        self.notes: list[str] = []

    @property
    def public(self) -> bool:
        return self.profile == "public"

    def web(self, gdf: gpd.GeoDataFrame) -> np.ndarray:
        geoms = _to_web(gdf.geometry, simplify_m=self.simplify_m, decimals=self.decimals,
                        gcj=self.gcj)
        ok = ~shapely.is_empty(geoms) & ~shapely.is_missing(geoms)
        if ok.any():
            self.bounds.append(shapely.total_bounds(geoms[ok]))
        return geoms

    def add_legend(self, key: str, label: str, *, point: bool = False,
                   color: str | None = None, min_zoom: int = 0) -> None:
        s = layer_style(key)
        stroke = color or s.get("color", "#555")
        fill = color or s.get("fillColor", stroke)
        if not point and color is None and float(s.get("fillOpacity", 1)) < 0.1:
            fill = "transparent"        # an outline: the swatch shows the line, not a block
        dash = ";border-style:dashed" if s.get("dashArray") and not point else ""
        cls = ' class="pt"' if point else ""
        note = (f' <span class="zlgis-z">（{min_zoom} 级起显示）</span>'
                if min_zoom else "")
        self.legend.append(f'<div><i{cls} style="border-color:{escape_html(stroke)};'
                           f'background:{escape_html(fill)}{dash}"></i>{escape_html(label)}'
                           f'{note}</div>')

    def min_zoom(self, key: str) -> int:
        """Zoom from which layer ``key`` is legible (``publish.yaml`` ``min_zoom``)."""
        return int((self.cfg.get("min_zoom") or {}).get(key, 0))

    def layer(self, parent: folium.Element, key: str, title: str, gdf: gpd.GeoDataFrame,
              fields: Sequence[str], spec: LayerSpec | None, *, style_key: str | None = None,
              classes: tuple[list[dict[str, Any]], np.ndarray] | None = None,
              cluster: bool = False, tip: str | None = None,
              labels: Sequence[Sequence[str]] | None = None,
              row_titles: Sequence[str] | None = None, min_zoom: int = 0,
              glyphs: Sequence[Any] | None = None, glyph: str | None = None) -> int:
        gdf = gdf[gdf.geometry.notna() & ~gdf.geometry.is_empty]
        if not len(gdf):
            return 0
        geoms = self.web(gdf)
        props = _props(gdf, fields)
        point = _geom_kind(gdf) == "point"
        if classes is not None:
            styles, cls = classes
            for p, c in zip(props, cls):
                p["_c"] = int(c)
        else:
            styles = [_style_js(style_key or key, point=point)]
        if row_titles is not None:
            for p, t in zip(props, row_titles):
                if t:
                    p["_t"] = t
        if glyphs is not None:
            for p, g in zip(props, glyphs):
                p["_g"] = g
        spec_js = {"key": key, "title": title, "data": None, "styles": styles,
                   "fields": [list(x) for x in labels] if labels is not None
                   else _field_labels(spec, [f for f in fields if f in gdf.columns]),
                   "tip": tip if tip in gdf.columns else None, "cluster": bool(cluster),
                   "kind": _geom_kind(gdf), "minZoom": int(min_zoom), "glyph": glyph}
        text, n = _layer_json(spec_js, geoms, props)
        self.cluster |= bool(cluster)
        GeoLayer(text, self.map_name).add_to(parent)
        return n

    def add_labels(self, lid: str, gdf: gpd.GeoDataFrame, field: str) -> None:
        """Queue the names of ``gdf`` as map labels (drawn by :func:`_add_labels`)."""
        road = _geom_kind(gdf) == "line"
        sub = _label_rows(gdf, field, road=road)
        if not len(sub):
            return
        pts = (sub.geometry.interpolate(0.5, normalized=True) if road
               else sub.geometry.representative_point())
        xy = shapely.get_coordinates(_to_web(gpd.GeoSeries(pts, crs=gdf.crs), simplify_m=0,
                                             decimals=self.decimals, gcj=self.gcj))
        ang = (_road_angles(sub.geometry, xy[:, 1]) if road and len(xy) == len(sub)
               else np.zeros(len(xy)))
        cls = "road" if road else "place"
        self.labels += [[n, float(y), float(x), float(a), cls]
                        for n, (x, y), a in zip(sub["_n"], xy, ang)]

    def add_search(self, lid: str, gdf: gpd.GeoDataFrame, field: str, title: str) -> None:
        if field not in gdf.columns:
            return
        names, geom = _named(gdf, field)   # the name and the geometry only (no other column)
        if not len(names):
            return
        if lid == "roads":  # one entry per road name, at the middle of its longest segment
            sub = gpd.GeoDataFrame({"_n": names.array, "_len": geom.length.to_numpy()},
                                   geometry=geom, crs=gdf.crs, index=geom.index)
            sub = sub[sub["_n"] != ""].sort_values("_len", ascending=False)
            sub = sub.drop_duplicates("_n")
            names = sub["_n"]
            pts = sub.geometry.interpolate(0.5, normalized=True)
        else:
            pts = geom.representative_point()
        pts = gpd.GeoSeries(pts, crs=gdf.crs)
        geoms = _to_web(pts, simplify_m=0, decimals=self.decimals, gcj=self.gcj)
        xy = shapely.get_coordinates(geoms)
        seen: dict[str, int] = {}
        for name, (x, y) in zip(names.tolist(), xy):
            if not name:
                continue
            label = f"{name}（{title}）"
            seen[label] = seen.get(label, 0) + 1
            if seen[label] > 1:
                label = f"{label} {seen[label]}"
            self.search.append({"title": label, "loc": [float(y), float(x)]})


def _named(gdf: gpd.GeoDataFrame, field: str) -> tuple[pd.Series, gpd.GeoSeries]:
    """The stripped names (text) and the geometries of the rows with a name and a geometry;
    only these two columns are selected (a row filter of the whole frame takes every column)."""
    geom = gdf.geometry
    ok = (gdf[field].notna() & geom.notna() & ~geom.is_empty).to_numpy()
    return gdf[field][ok].astype(str).str.strip(), geom[ok]


def _label_rows(gdf: gpd.GeoDataFrame, field: str, *, road: bool) -> gpd.GeoDataFrame:
    """One row per name: roads at the middle of their longest segment, places at a point inside."""
    names, geom = _named(gdf, field)
    keep = (names != "").to_numpy()
    sub = gpd.GeoDataFrame({"_n": names.array[keep]}, geometry=geom[keep], crs=gdf.crs,
                           index=names.index[keep])
    if road:
        sub = sub.assign(_len=sub.length.to_numpy()).sort_values("_len", ascending=False)
    return sub.drop_duplicates("_n")


def _road_angles(lines: gpd.GeoSeries, lat: np.ndarray) -> np.ndarray:
    """Screen angle (degrees, clockwise, within ±90 so text is never upside down) of each line
    at its middle, in Web Mercator terms (east-west distances scaled by cos(latitude))."""
    a = lines.interpolate(0.45, normalized=True).to_crs("EPSG:4326")
    c = lines.interpolate(0.55, normalized=True).to_crs("EPSG:4326")
    dx = (c.x.to_numpy() - a.x.to_numpy()) * np.cos(np.radians(lat))
    dy = c.y.to_numpy() - a.y.to_numpy()
    ang = -np.degrees(np.arctan2(dy, dx))
    ang = np.where(ang > 90, ang - 180, np.where(ang < -90, ang + 180, ang))
    return np.round(ang, 1)


def _default_title(profile: str, city: str = "扎兰屯市") -> str:
    return f"{city}城市管理公开地图" if profile == "public" else f"{city}城市精细化管理内部地图"


def build_map(layers: Mapping[str, gpd.GeoDataFrame],
              findings: gpd.GeoDataFrame | None = None, *, catalog: Catalog,
              profile: str = "internal", basemap: str | None = None,
              extra: Mapping[str, gpd.GeoDataFrame] | None = None, title: str | None = None,
              service_areas: bool = True,
              aggregates: Mapping[str, gpd.GeoDataFrame] | None = None,
              notes: Sequence[str] = (),
              names: Mapping[str, gpd.GeoDataFrame] | None = None) -> folium.Map:
    """Build the web map of ``layers`` (catalog ids), ``findings`` and ``extra`` layers.

    Parameters
    ----------
    layers : mapping of layer id to GeoDataFrame
        Catalog layers as returned by :func:`zlgis.validate.load_layers` (canonical field names).
        ``grids`` is used to count 12345 cases and drawn on the internal map only.
    findings : GeoDataFrame, optional
        A findings table (:data:`zlgis.findings.FINDING_COLUMNS`), drawn by severity with points
        clustered. The public map keeps only rows whose ``public`` column is true.
    catalog : Catalog
        Gives titles, Chinese field labels and the public fields of each layer.
    profile : {"internal", "public"}
    basemap : {"tianditu", "gaode", "osm", "none"}, optional
        Default: :func:`default_basemap`.
    extra : mapping of name to GeoDataFrame, optional
        Analysis layers (``toilet_service_areas``, ``uncovered_areas``, ``ponding`` ...; titles
        and public fields in ``publish.yaml`` ``extras``). Unknown names are drawn with their
        name as title and, on the public map, without attributes.
    title : str, optional
        Map title (Chinese); a default per profile.
    service_areas : bool
        Draw indicative straight-line service radii (``publish.yaml``) around toilets and
        transfer stations when ``extra`` holds no computed service areas for them.
    aggregates : mapping of title to GeoDataFrame, optional
        Layers too big to draw one by one, as counts per cell (``count`` column, e.g.
        :func:`zlgis.publish.aggregate.hexagon_counts`), drawn in count classes.
    notes : sequence of str
        Chinese lines shown in the legend under 未逐个显示的图层 (each layer aggregated or left
        off, :func:`zlgis.publish.aggregate.fit_layers`).
    names : mapping of layer id to GeoDataFrame, optional
        Catalog layers drawn from elsewhere (vector tiles, :mod:`zlgis.publish.tile_maps`):
        only their names go into the page, searchable and as labels (``publish.yaml``
        ``search`` and ``labels``), never their geometry.

    Returns
    -------
    folium.Map
        Save it with :func:`save_map` (atomic; ``assets="local"`` for offline use).

    Raises
    ------
    ConfigError
        Unknown profile or basemap, or 天地图 requested without ``$ZLGIS_TIANDITU_KEY``.
    """
    check_profile(profile)
    basemap = basemap or default_basemap()
    if basemap not in BASEMAPS:
        raise ConfigError(f"底图 {basemap!r} 无效，应为 {'、'.join(BASEMAPS)} 之一")
    extra = dict(extra or {})
    # the map's own zoom range: without minZoom, Leaflet takes it from the layers, and a layer
    # drawn from a zoom on (vector tiles from 15) zoomed the page in on load (animated, which
    # also drops a view set meanwhile) and locked it there when no basemap sets a wider range
    m = folium.Map(location=[48.0, 122.74], zoom_start=12, tiles=None, control_scale=False,
                   prefer_canvas=False, minZoom=0, maxZoom=19)
    b = _Builder(catalog, profile, basemap, m.get_name())
    plugins = ["leaflet", "fullscreen", "search", "measure" if profile == "internal" else "locate"]
    m.default_js = _assets.js_links(plugins)    # instance lists: never the shared class lists
    m.default_css = _assets.css_links(plugins)
    root = m.get_root()
    root.header.add_child(Element(PAGE_CSS), name="zlgis_css")
    root.header.add_child(Element(PAGE_JS), name="zlgis_js")
    review = _add_basemap(m, basemap, b.cfg)
    osm_data = _add_catalog_layers(m, b, layers)
    _add_names(b, names or {})
    _add_labels(m, b)
    if service_areas:
        _add_service_radii(m, b, layers, extra)
    for key, gdf in extra.items():
        if gdf is not None and len(gdf):
            _add_extra(m, b, key, gdf)
    for key, gdf in (aggregates or {}).items():
        if gdf is not None and len(gdf):
            _add_counts(m, b, key, gdf)
    if findings is not None and len(findings):
        _add_findings(m, b, findings)
    b.notes = [str(n) for n in notes]
    _add_controls(m, b)
    heading = escape_html(title or _default_title(profile, catalog.city))
    root.title = heading
    _add_boxes(m, b, heading, review)
    if osm_data and basemap != "osm":
        Script(f"{m.get_name()}.attributionControl.addAttribution("
                f"{js_json(escape_html(b.cfg['osm_attribution']))});").add_to(m)
    if b.bounds:
        _fit_view(m, b)
    m.zlgis_profile = profile  # type: ignore[attr-defined]
    m.zlgis_basemap = basemap  # type: ignore[attr-defined]
    return m



def _public_layers(b: _Builder) -> set[str] | None:
    """Catalog layers the public map may draw (None: the internal map draws all)."""
    return set(b.cfg["public"]["layers"]) if b.public else None


def _add_catalog_layers(m: folium.Map, b: _Builder,
                        layers: Mapping[str, gpd.GeoDataFrame]) -> bool:
    """Draw the catalog layers the profile allows; True when one of them comes from OSM."""
    allowed = _public_layers(b)
    osm_data = False
    for lid, gdf in layers.items():
        if gdf is None or lid == "grids" and b.public:
            continue
        spec = b.catalog.layers.get(lid)
        if spec is None or spec.kind == "raster":
            log.warning("layer %s is not in the catalog: not drawn", lid)
            continue
        if lid == "hotline_cases":
            _add_hotline(m, b, gdf, layers.get("grids"), spec)
            continue
        if allowed is not None and lid not in allowed:
            continue
        osm_data |= _osm_derived(spec)
        if b.public and lid in b.cfg["public"].get("index_only", []):
            _index_only(b, lid, gdf, spec, b.cfg)
            continue
        _add_catalog_layer(m, b, lid, gdf, spec)
    return osm_data


def _popup_fields(b: _Builder, gdf: gpd.GeoDataFrame, spec: LayerSpec) -> list[str]:
    """Fields shown in a catalog layer's popups.

    Public: the catalog's public fields. Internal: the catalog's fields under their Chinese
    titles; a source's other columns (OSM tags, GIS housekeeping) only for a layer whose
    catalog names no field.
    """
    fields = (public_fields(spec) if b.public else
              [f for f in spec.fields if f in gdf.columns]
              or [c for c in gdf.columns if c != gdf.geometry.name
                  and not str(c).startswith("_")])
    return [f for f in fields if f in gdf.columns]


def _ponding_legend(b: _Builder, key: str, prefix: str = "", *, point: bool = False) -> None:
    for _, color, label in PONDING_CLASSES:
        b.add_legend(key, f"{prefix}{label}", point=point, color=color)


def _add_catalog_layer(m: folium.Map, b: _Builder, lid: str, gdf: gpd.GeoDataFrame,
                       spec: LayerSpec) -> None:
    """One catalog layer: its features, legend entry, search entries and labels."""
    cfg = b.cfg
    fields = _popup_fields(b, gdf, spec)
    tip = "name" if "name" in fields else (spec.id_field if spec.id_field in fields else None)
    hidden = cfg.get("hidden_by_default", {}).get(b.profile, ["roads"])
    fg = folium.FeatureGroup(name=escape_html(spec.title), show=lid not in hidden)
    classes = None
    if lid == "waterlogging_points" and "max_depth_cm" in gdf.columns:
        classes = _ponding_classes(gdf["max_depth_cm"], point=True)
    kind = _geom_kind(gdf)
    cluster = kind == "point" and len(gdf) > int(cfg["cluster_min_points"])
    zmin = b.min_zoom(lid)
    if not b.layer(fg, lid, spec.title, gdf, fields, spec, classes=classes, tip=tip,
                   cluster=cluster, min_zoom=zmin):
        return
    fg.add_to(m)
    if classes is not None:
        _ponding_legend(b, lid, f"{spec.title}：", point=True)
    else:
        b.add_legend(lid, spec.title, point=kind == "point", min_zoom=zmin)
    sf = cfg.get("search", {}).get(lid)
    if sf and sf in fields:
        b.add_search(lid, gdf, sf, spec.title)
    lf = (cfg.get("labels") or {}).get("layers", {}).get(lid)
    if lf and lf in fields:
        b.add_labels(lid, gdf, lf)


def _add_service_radii(m: folium.Map, b: _Builder, layers: Mapping[str, gpd.GeoDataFrame],
                       extra: Mapping[str, gpd.GeoDataFrame]) -> None:
    """Indicative straight-line service radii around toilets and transfer stations (when
    ``extra`` holds no computed service areas for them)."""
    allowed = _public_layers(b)
    have = {k for k in extra if "service" in k}
    for lid, ekey in (("toilets", "toilet_service_areas"),
                      ("transfer_stations", "transfer_service_areas")):
        gdf = layers.get(lid)
        if gdf is None or not len(gdf) or ekey in have or (allowed is not None
                                                          and lid not in allowed):
            continue
        radius = float(b.cfg["service_radius_m"][lid]["value"])
        sa = gpd.GeoDataFrame(geometry=gpd.GeoSeries([_circles(gdf, radius)], crs=gdf.crs)
                              ).explode(ignore_index=True)
        label = f"{b.catalog[lid].title}服务范围（{radius:g}米示意）"
        fg = folium.FeatureGroup(name=escape_html(label), show=False)
        if b.layer(fg, f"{lid}_service", label, sa, [], None, style_key="service_area"):
            fg.add_to(m)
            b.add_legend("service_area", label)


#: The last unions of service circles (:func:`_circles`): the internal and the public map draw
#: the same ones.
_CIRCLES: dict[tuple[str, float], Any] = {}


def _circles(gdf: gpd.GeoDataFrame, radius: float) -> Any:
    """Union of the ``radius`` buffers of the features of ``gdf``, computed once for both maps
    (keyed by the radius and the features' content, :func:`zlgis.analysis.run_cache.frame_key`)."""
    from ..analysis.run_cache import frame_key

    key = (frame_key(gdf, ()), radius)
    if key not in _CIRCLES:
        if len(_CIRCLES) >= 4:
            _CIRCLES.clear()
        _CIRCLES[key] = gdf.geometry.buffer(radius, 16).union_all()
    return _CIRCLES[key]


def _add_extra(m: folium.Map, b: _Builder, key: str, gdf: gpd.GeoDataFrame) -> None:
    """One analysis layer (titles, style and public fields from ``publish.yaml`` ``extras``)."""
    ecfg = b.cfg.get("extras", {}).get(key, {})
    etitle = str(ecfg.get("title", key))
    style_key = str(ecfg.get("style", key))
    if b.public:
        fields = [f for f in ecfg.get("public", []) if f in gdf.columns
                  and not _PERSONAL.search(f)]
    else:
        fields = [c for c in gdf.columns if c != gdf.geometry.name]
    classes = None
    if style_key == "ponding":
        depth = _depth_cm(gdf)
        if depth is not None:
            classes = _ponding_classes(depth, point=_geom_kind(gdf) == "point")
    fg = folium.FeatureGroup(name=escape_html(etitle), show=True)
    if b.layer(fg, key, etitle, gdf, fields, None, style_key=style_key, classes=classes,
               labels=[[f, EXTRA_LABELS.get(f, FINDING_LABELS.get(f, f))] for f in fields]):
        fg.add_to(m)
        if classes is not None:
            _ponding_legend(b, style_key)
        else:
            b.add_legend(style_key, etitle)


def layer_control_last(m: folium.Map) -> None:
    """Move the layer control of ``m`` after every layer added since :func:`build_map`.

    The control's script lists the layers that exist when it runs; a layer added to the map
    later (a vector-tile group, the waterlogging depth image) would be an undefined entry that
    stops the page's script (``Cannot read properties of undefined``) and leaves the map
    without its control.
    """
    for key, child in list(m._children.items()):
        if isinstance(child, folium.LayerControl):
            m._children[key] = m._children.pop(key)


def _plugin(m: folium.Map, control: Any) -> None:
    """Add a folium plugin control whose scripts the page already links (no CDN links)."""
    control.default_js, control.default_css = [], []
    control.add_to(m)


def _add_controls(m: folium.Map, b: _Builder) -> None:
    """Layer switcher, full screen, measure (internal) or locate (public), scale, search."""
    folium.LayerControl(collapsed=True, position="topright").add_to(m)
    _plugin(m, folium.plugins.Fullscreen(position="topleft", title="全屏显示",
                                         title_cancel="退出全屏", force_separate_button=True))
    if b.profile == "internal":
        _plugin(m, folium.plugins.MeasureControl(
            position="topleft", primary_length_unit="meters", secondary_length_unit="kilometers",
            primary_area_unit="sqmeters", secondary_area_unit="hectares", localization="cn"))
    else:
        _plugin(m, folium.plugins.LocateControl(position="topleft", strings={
            "title": "显示我的位置", "popup": "您在此处附近（误差 {distance} 米）",
            "outsideMapBoundsMsg": "您似乎不在地图范围内"}, flyTo=True, keepCurrentZoomLevel=False,
            showPopup=False))
    Script(f"zlgis.map = {m.get_name()};\n"
            f"L.control.scale({{imperial: false, position: 'bottomleft'}}).addTo({m.get_name()});"
            ).add_to(m)
    if b.search:
        Script(search_js(m.get_name(), b.search)).add_to(m)
    if b.cluster:
        m.default_js = m.default_js + _assets.js_links(["markercluster"])
        m.default_css = m.default_css + _assets.css_links(["markercluster"])


def _add_boxes(m: folium.Map, b: _Builder, heading: str, review: str | None) -> None:
    """The title box, the legend (collapsible) and the basemap's review number."""
    Control(f'<div class="zlgis-title">{heading}</div>', position="topright",
             css="zlgis-box").add_to(m)
    notes = ""
    if b.notes:
        notes = ('<div class="zlgis-notes"><b>未逐个显示的图层</b><ul>'
                 + "".join(f"<li>{escape_html(n)}</li>" for n in b.notes) + "</ul></div>")
    if b.legend or notes:
        # collapsible: open on wide screens, closed on phones (see the script below)
        Control('<details class="zlgis-legend-d" open><summary style="font-weight:bold;'
                 'cursor:pointer">图例</summary>' + "".join(b.legend) + notes + "</details>",
                 position="bottomright", css="zlgis-box zlgis-legend").add_to(m)
        Script("document.querySelectorAll('details.zlgis-legend-d').forEach(function (d) "
                "{ d.open = window.innerWidth > 600; });").add_to(m)
    if review:
        Control(f'<div>{escape_html(review)}</div>', position="bottomleft",
                 css="zlgis-box zlgis-review").add_to(m)


def _fit_view(m: folium.Map, b: _Builder) -> None:
    """Open on the week's findings when there are any, not on the mass of the city."""
    bb = np.vstack(b.finding_bounds or b.bounds)
    west, south = bb[:, 0].min(), bb[:, 1].min()
    east, north = bb[:, 2].max(), bb[:, 3].max()
    m.location = [float((south + north) / 2), float((west + east) / 2)]
    # not animated: a link's own view (map_internal.html#<finding_id>) set on page load
    # must not be undone by the end of an opening zoom animation
    fit = folium.map.FitBounds([[float(south), float(west)], [float(north), float(east)]],
                               max_zoom=int(b.cfg["max_start_zoom"]), padding=(20, 20))
    fit.options["animate"] = False
    fit.add_to(m)

def _osm_derived(spec: LayerSpec) -> bool:
    """True when a layer comes from OpenStreetMap (an .osm/.osm.pbf source, or a catalog
    ``license``/``attribution`` option naming ODbL or OpenStreetMap): it needs the attribution."""
    if spec.path is not None and spec.path.suffix.lower() in (".pbf", ".osm"):
        return True
    note = f"{spec.options.get('license', '')} {spec.options.get('attribution', '')}".lower()
    return "odbl" in note or "openstreetmap" in note


def _depth_cm(gdf: gpd.GeoDataFrame) -> pd.Series | None:
    for col, factor in (("depth_cm", 1.0), ("max_depth_cm", 1.0), ("depth_m", 100.0),
                        ("max_depth_m", 100.0), ("depth", 100.0)):
        if col in gdf.columns:
            return pd.to_numeric(gdf[col], errors="coerce") * factor
    return None


def _ponding_classes(depth_cm: pd.Series, *, point: bool) -> tuple[list[dict[str, Any]],
                                                                    np.ndarray]:
    base = _style_js("waterlogging_points" if point else "ponding", point=point)
    styles = [{**base, "fillColor": color, **({} if point else {"color": color})}
              for _, color, _ in PONDING_CLASSES]
    vals = pd.to_numeric(depth_cm, errors="coerce").fillna(0).to_numpy()
    return styles, np.array([ponding_class(v) for v in vals])


def _add_basemap(m: folium.Map, basemap: str, cfg: dict[str, Any]) -> str:
    """Add the tiles; return the 审图号 text to show at the lower left."""
    if basemap == "none":
        return ""
    bcfg = cfg["basemaps"][basemap]
    if safe_url(str(bcfg.get("url", ""))) is None:
        raise ConfigError(f"底图 {basemap} 的瓦片地址无效（只允许 http/https）",
                          path="publish.yaml", field="url")
    attr = escape_html(bcfg["attribution"])
    review = str(bcfg.get("review_number") or "")
    if basemap == "tianditu":
        key = os.environ.get(TIANDITU_KEY_ENV, "").strip()
        if not key:
            raise ConfigError(f"使用天地图底图需要设置环境变量 {TIANDITU_KEY_ENV}（天地图开发者密钥）")
        if not re.fullmatch(r"[0-9A-Za-z]+", key):
            raise ConfigError(f"环境变量 {TIANDITU_KEY_ENV} 的天地图密钥格式不正确")
        for i, lyr in enumerate(bcfg["layers"]):
            url = (bcfg["url"].replace("{layer}", lyr).replace("{key}", key))
            folium.TileLayer(tiles=url, attr=attr if i == 0 else " ", name=f"天地图 {lyr}",
                             subdomains=bcfg["subdomains"], max_zoom=bcfg["max_zoom"],
                             overlay=i > 0, control=False).add_to(m)
        return f"{bcfg['attribution']} {review}".strip()
    folium.TileLayer(tiles=bcfg["url"], attr=attr, name=bcfg["attribution"],
                     subdomains=bcfg["subdomains"] or "abc", max_zoom=bcfg["max_zoom"],
                     overlay=False, control=False).add_to(m)
    return review


def _add_names(b: _Builder, names: Mapping[str, gpd.GeoDataFrame]) -> None:
    """Names of the layers drawn from vector tiles, searchable and labelled (the fields the
    profile may show)."""
    allowed = _public_layers(b)
    for lid, gdf in names.items():
        spec = b.catalog.layers.get(lid)
        if gdf is None or spec is None or allowed is not None and lid not in allowed:
            continue
        _index_only(b, lid, gdf, spec, b.cfg)


def _index_only(b: _Builder, lid: str, gdf: gpd.GeoDataFrame, spec: LayerSpec,
                cfg: Mapping[str, Any]) -> None:
    """Names of a layer the basemap or vector tiles draw (``public.index_only``,
    :func:`_add_names`): searchable and labelled, its geometry not embedded in the page."""
    fields = _popup_fields(b, gdf, spec)
    sf = (cfg.get("search") or {}).get(lid)
    if sf and sf in fields and sf in gdf.columns:
        b.add_search(lid, gdf, sf, spec.title)
    lf = (cfg.get("labels") or {}).get("layers", {}).get(lid)
    if lf and lf in fields and lf in gdf.columns:
        b.add_labels(lid, gdf, lf)


def _add_labels(m: folium.Map, b: _Builder) -> None:
    """Road and place names as one layer, drawn from the street zoom (``publish.yaml``)."""
    if not b.labels:
        return
    lcfg = b.cfg.get("labels") or {}
    title = str(lcfg.get("title", "道路与地名注记"))
    fg = folium.FeatureGroup(name=escape_html(title), show=True)
    spec = {"key": "labels", "title": title, "data": b.labels,
            "minZoom": int(lcfg["min_zoom"])}
    GeoLayer(spec, b.map_name, fn="labels").add_to(fg)
    fg.add_to(m)


def _add_hotline(m: folium.Map, b: _Builder, cases: gpd.GeoDataFrame,
                 grids: gpd.GeoDataFrame | None, spec: LayerSpec) -> None:
    if not len(cases):
        return
    if not b.public:
        fields = [f for f in spec.fields if f in cases.columns]
        fg = folium.FeatureGroup(name=escape_html(spec.title), show=False)
        if b.layer(fg, "hotline_cases", spec.title, cases, fields, spec, cluster=True,
                   tip="category"):
            fg.add_to(m)
            b.add_legend("hotline_cases", spec.title, point=True)
        return
    pcfg = b.cfg["public"]
    counts = hotline_counts(cases, grids, cell_m=float(pcfg["hotline_cell_m"]))
    if not len(counts):
        return
    k = int(pcfg["hotline_min_count"])
    counts["count_text"] = np.where(counts["count"] < k, f"<{k}",
                                    counts["count"].astype(str))
    bins = [k, 10, 30]
    cls = np.digitize(counts["count"].to_numpy(), bins)
    palette = ["#fde0ef", "#f1b6da", "#de77ae", "#c51b7d"]
    styles = [{"color": "#c51b7d", "weight": 0.5, "fillColor": c, "fillOpacity": 0.5}
              for c in palette]
    fields = ["grid_name", "community", "count_text"]
    labels = [["grid_name", "网格"], ["community", "社区"], ["count_text", "工单数"]]
    title = f"{spec.title}（按网格统计）"
    fg = folium.FeatureGroup(name=escape_html(title), show=False)
    if b.layer(fg, "hotline_counts", title, counts, fields, None, classes=(styles, cls),
               labels=[lab for lab in labels if lab[0] in counts.columns]):
        fg.add_to(m)
        b.add_legend("hotline_cases", title, color=palette[2])


#: Count classes of aggregated layers (lower bounds) and their fills (light to dark).
_COUNT_BINS = (1, 5, 20, 100)
_COUNT_FILLS = ("#fdd49e", "#fc8d59", "#d7301f", "#7f0000")


def _add_counts(m: folium.Map, b: _Builder, title: str, counts: gpd.GeoDataFrame) -> None:
    """A layer too big to draw one by one, as counts per cell in four classes."""
    cls = np.digitize(counts["count"].to_numpy(), _COUNT_BINS[1:])
    styles = [{"color": "#7f0000", "weight": 0.5, "fillColor": c, "fillOpacity": 0.6}
              for c in _COUNT_FILLS]
    fg = folium.FeatureGroup(name=escape_html(title), show=True)
    if b.layer(fg, f"counts_{len(b.legend)}", title, counts, ["count"], None,
               classes=(styles, cls), labels=[["count", "个数"]], tip="count"):
        fg.add_to(m)
        for lo, hi, color in zip(_COUNT_BINS, (*_COUNT_BINS[1:], None), _COUNT_FILLS):
            span = f"{lo}–{hi - 1} 个" if hi else f"{lo} 个以上"
            b.add_legend("counts", f"{title}：每格 {span}", color=color)


def _add_findings(m: folium.Map, b: _Builder, findings: gpd.GeoDataFrame) -> None:
    f = findings
    if b.public:
        pub = f["public"] if "public" in f.columns else pd.Series(False, index=f.index)
        f = f[pub.fillna(False).astype(bool)]
        fields = [c for c in b.cfg["public"]["findings_fields"] if c in f.columns
                  and not _PERSONAL.search(c)]
    else:
        fields = [c for c in _INTERNAL_FINDING_FIELDS if c in f.columns]
    if not len(f):
        return
    f = f.copy()
    if "severity" in f.columns:
        sev = f["severity"].astype(str).where(f["severity"].astype(str).isin(SEVERITY_LABELS),
                                              "medium")
    else:
        sev = pd.Series("medium", index=f.index)
    f["_sev"] = sev
    if "severity" in fields:
        f["severity"] = sev.map(SEVERITY_LABELS)
    if "measure" in fields and "measure_unit" in f.columns:
        f["measure"] = [None if d is None else f"{d} {u}".strip() for d, u in
                        zip(map(display_value, f["measure"]), f["measure_unit"].fillna(""))]
    for col in ("lead_department", "coop_departments"):
        if col in fields:
            f[col] = [("、".join(department_name(c) for c in str(v).split(";") if c)
                       if isinstance(v, str) else v) for v in f[col]]
    labels = [[c, FINDING_LABELS.get(c, c)] for c in fields]
    numbers = _rule_numbers(f)
    f["_g"] = f["rule"].astype(str).map(numbers) if "rule" in f.columns else None
    first = len(b.bounds)
    for s in ("high", "medium", "low"):
        part = f[f["_sev"] == s]
        if not len(part):
            continue
        name = f"问题（{SEVERITY_LABELS[s]}）"
        fg = folium.FeatureGroup(name=escape_html(name), show=True)
        color = SEVERITY_COLORS[s]
        style = {"color": color, "weight": 2, "fillColor": color, "fillOpacity": 0.45,
                 "radius": 8 if s == "high" else 7, "textColor": best_text_color(color)}
        titles = part["title"].tolist() if "title" in part.columns else None
        nonpt = part[~part.geometry.geom_type.isin(["Point", "MultiPoint"])]
        if len(nonpt):
            b.layer(fg, f"findings_{s}_areas", name, nonpt, fields, None,
                    classes=([{**style, "fillOpacity": 0.15}], np.zeros(len(nonpt), dtype=int)),
                    labels=labels, min_zoom=b.min_zoom("finding_areas"),
                    row_titles=nonpt["title"].tolist() if "title" in nonpt.columns else None)
        pts = part.copy()
        pts = pts.set_geometry(pts.geometry.representative_point())
        b.layer(fg, f"findings_{s}", name, pts, fields, None,
                classes=([style], np.zeros(len(pts), dtype=int)), labels=labels, cluster=True,
                row_titles=titles, glyphs=pts["_g"].tolist(), glyph=s)
        fg.add_to(m)
        b.add_legend("finding", name, point=True, color=color)
    b.finding_bounds = b.bounds[first:]
    b.legend[:0] = _rule_legend(f, numbers)     # what the week found comes first


def _rule_numbers(f: pd.DataFrame) -> dict[str, int]:
    """Number shown on each finding's marker: rules of the week by severity, then by count."""
    if "rule" not in f.columns:
        return {}
    rank = f["_sev"].map({"high": 0, "medium": 1, "low": 2})
    t = pd.DataFrame({"rule": f["rule"].astype(str), "rank": rank})
    g = t.groupby("rule")["rank"].agg(["min", "size"]).reset_index()
    g = g.sort_values(["min", "size", "rule"], ascending=[True, False, True])
    return {r: i + 1 for i, r in enumerate(g["rule"])}


def _rule_legend(f: pd.DataFrame, numbers: Mapping[str, int]) -> list[str]:
    """Legend lines naming each rule of the week (labels from the rule registry)."""
    if not numbers:
        return []
    out = ['<div style="margin-top:4px;font-weight:bold">问题类型（图上编号）</div>']
    rules = f["rule"].astype(str)
    counts = rules.value_counts()
    first: dict[str, Any] = {}      # the severity of each rule's first finding
    for rid, sev in zip(rules.tolist(), f["_sev"].tolist()):
        first.setdefault(rid, sev)
    for rid, n in numbers.items():
        r = find_rule(rid)
        label = r.label if r is not None else rid
        sev = str(first[rid])
        color = SEVERITY_COLORS[sev]
        out.append(f'<div><i class="gl" style="background:{color};color:'
                   f'{best_text_color(color)}">{n}</i>{escape_html(label)}'
                   f'（{SEVERITY_LABELS[sev]}，{int(counts[rid])} 处）</div>')
    return out
