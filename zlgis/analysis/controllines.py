"""Control-line checks (五线管控): road red lines and setbacks, green / blue / purple / yellow lines.

Pure functions, layers in, findings out (:mod:`zlgis.findings`). Rules, setback tables,
tolerances, exemptions and severities come from ``zlgis/config/controllines.yaml``; every shipped
setback is an example to be confirmed locally (standards.md §1.2).

Rules
-----
``red_line_encroachment``
    A building footprint overlapping road land (the red-line polygon) by more than the area
    tolerance (GB 50352-2019 §2.0.6). Touching the line without crossing is not an
    encroachment. Geometry: the part of the footprint inside road land. Measures: ``area_m2``,
    ``depth_m`` (how far past the line it reaches: the largest distance from a vertex of the
    encroaching part to the red-line boundary), ``share`` of the footprint, ``entirely_inside``.
``red_line_setback``
    A building that does not cross the red line but stands closer to it than the setback
    required for the line's road class and the building's height class (example table in
    config). Exactly at the required distance is not a breach (``distance < required - tol``).
    A building near several red lines is judged against each line with that line's own
    requirement (the stricter road's setback applies to that road) and every breached line is
    reported, one finding per building and line. Geometry: the part of the footprint inside the
    setback band (the shortest line when the band part is degenerate). Measures:
    ``required_m``, ``actual_m``, ``shortfall_m``.
``green_line`` / ``blue_line`` / ``purple_line`` / ``yellow_line``
    Buildings and construction sites overlapping a zone (holes excluded) by more than the area
    tolerance, reported for review (疑似，待核查) with ``overlap_m2`` and ``share``. Features whose
    exemption field (``line_permit``) holds an approved value are not reported
    (建设部令第112 / 145 / 119 / 144号).
``unpermitted_construction``
    Buildings and construction sites without a planning permit, with the nearest control line
    and the distance to it (城乡规划法 第四十条、第六十四条; campaign task 1.3.1).

Performance: one STRtree over the footprints is queried with the (prepared) control-line
polygons; intersection geometry is computed only for the pairs that breach.

Examples
--------
>>> import geopandas as gpd
>>> from shapely.geometry import box
>>> red = gpd.GeoDataFrame({"line_id": ["R1"], "road_class": ["支路"], "width": [16.0]},
...                        geometry=[box(0, 0, 100, 16)], crs="EPSG:4550")
>>> bld = gpd.GeoDataFrame({"building_id": ["B1", "B2", "B3"], "height": [9.0, 9.0, 9.0]},
...                        geometry=[box(10, 14, 20, 24), box(30, 18, 40, 28),
...                                  box(50, 19, 60, 29)], crs="EPSG:4550")
>>> f = red_line_findings(bld, red)
>>> f[["feature_id", "rule", "measure"]].to_string(index=False)
'feature_id                  rule  measure\\n        B1 red_line_encroachment      2.0\\n        B2      red_line_setback      1.0'
"""

from __future__ import annotations

import datetime as _dt
import json  # noqa: F401  (the doctests read measures with it)
from collections.abc import Mapping, Sequence
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from ..config import load_config
from ..errors import ConfigError, CRSError, InputError
from ..findings import assign_grids, concat_findings, empty_findings, make_findings

__all__ = [
    "CHECK",
    "LINE_RULES",
    "load_rules",
    "building_heights",
    "height_classes",
    "required_setbacks",
    "red_line_findings",
    "red_line_breaches",
    "setback_breaches",
    "zone_findings",
    "unpermitted_construction",
    "unpermitted_findings",
    "red_lines_from_roads",
    "check_control_lines",
    "run_check",
]

CHECK = "controllines"
#: zone rule id -> catalog layer of the zone polygons
LINE_RULES: dict[str, str] = {
    "green_line": "green_lines",
    "blue_line": "blue_lines",
    "purple_line": "purple_lines",
    "yellow_line": "yellow_lines",
}
_LINE_TITLES = {"red_lines": "道路红线", "green_lines": "城市绿线", "blue_lines": "城市蓝线",
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
    for key in ("tolerance", "red_line", "setbacks", "zones", "unpermitted", "severity"):
        if key not in cfg:
            raise ConfigError(f"控制线配置缺少 {key} 部分", path="controllines.yaml")
    return cfg


def _severity(rule: str, measures: Mapping[str, np.ndarray], n: int,
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
def _ids(gdf: gpd.GeoDataFrame, id_field: str, layer: str) -> np.ndarray:
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


def _geoms(gdf: gpd.GeoDataFrame, crs: Any, layer: str) -> np.ndarray:
    """Geometry array in ``crs`` (projected); nulls kept as None.

    Validity is not checked here (a full pass costs seconds on a million footprints): overlay
    inputs are repaired pair by pair with :func:`_valid`.
    """
    if gdf.crs is not None and crs is not None and gdf.crs != crs:
        gdf = gdf.to_crs(crs)
    return np.asarray(gdf.geometry.values, dtype=object)


def _valid(geoms: np.ndarray) -> np.ndarray:
    """``geoms`` with invalid polygons repaired (``make_valid``), for overlay operations."""
    geoms = np.asarray(geoms, dtype=object)
    bad = ~shapely.is_valid(geoms) & ~shapely.is_missing(geoms)
    if bad.any():
        geoms = geoms.copy()
        geoms[bad] = shapely.make_valid(geoms[bad])
    return geoms


class _Prep:
    """Ids, geometries and (lazily) an STRtree of one features layer, shared between rules."""

    def __init__(self, gdf: gpd.GeoDataFrame, id_field: str, layer: str, crs: Any) -> None:
        self.ids = _ids(gdf, id_field, layer)
        self.geoms = _geoms(gdf, crs, layer)
        self._tree: shapely.STRtree | None = None

    @property
    def tree(self) -> shapely.STRtree:
        if self._tree is None:
            self._tree = shapely.STRtree(self.geoms)
        return self._tree


def _check_crs(gdf: gpd.GeoDataFrame, layer: str) -> Any:
    if gdf.crs is not None and gdf.crs.is_geographic:
        raise CRSError("控制线检查需要以米为单位的投影坐标系（如 EPSG:4550），当前为经纬度",
                       layer=layer)
    return gdf.crs


def _polygonal(geoms: np.ndarray) -> np.ndarray:
    """Keep only the polygonal parts of overlay results (drop touching points and lines)."""
    geoms = np.asarray(geoms, dtype=object)
    out = geoms.copy()
    mixed = shapely.get_type_id(geoms) == 7  # GeometryCollection
    for i in np.flatnonzero(mixed):
        parts = [p for p in shapely.get_parts(geoms[i]) if shapely.get_type_id(p) in (3, 6)]
        out[i] = shapely.union_all(parts) if parts else shapely.Polygon()
    return out


def _numeric(gdf: gpd.GeoDataFrame, column: str) -> np.ndarray:
    if column not in gdf.columns:
        return np.full(len(gdf), np.nan)
    return pd.to_numeric(gdf[column], errors="coerce").to_numpy(dtype=float)


def _text(gdf: gpd.GeoDataFrame, column: str, default: str = "") -> np.ndarray:
    if column not in gdf.columns:
        return np.full(len(gdf), default, dtype=object)
    return gdf[column].fillna(default).astype(str).to_numpy(dtype=object)


# --------------------------------------------------------------------------------------------
# setbacks
# --------------------------------------------------------------------------------------------
def building_heights(buildings: gpd.GeoDataFrame,
                     config: Mapping[str, Any] | None = None) -> np.ndarray:
    """Building heights in metres: ``height``, else ``floors`` x floor height, else NaN.

    >>> import geopandas as gpd
    >>> b = gpd.GeoDataFrame({"height": [12.0, None, None], "floors": [4, 5, None]},
    ...                      geometry=[None] * 3)
    >>> building_heights(b).tolist()
    [12.0, 15.0, nan]
    """
    cfg = load_rules(config)
    height = _numeric(buildings, "height")
    floors = _numeric(buildings, "floors")
    fh = float(cfg["setbacks"].get("floor_height_m", 3.0))
    return np.where(np.isfinite(height) & (height > 0), height, floors * fh)


def height_classes(heights: np.ndarray, config: Mapping[str, Any] | None = None) -> np.ndarray:
    """Height-class id per building (``low``, ``multi``, ``high`` in the shipped table).

    >>> height_classes(np.array([6.0, 18.0, 60.0, np.nan])).tolist()
    ['low', 'multi', 'high', 'low']
    """
    st = load_rules(config)["setbacks"]
    heights = np.asarray(heights, dtype=float)
    out = np.full(len(heights), st.get("unknown_height_class", "low"), dtype=object)
    known = np.isfinite(heights)
    assigned = ~known
    for hc in st["height_classes"]:
        top = hc.get("max_height_m")
        hit = ~assigned & ((heights <= float(top)) if top is not None else True)
        out[hit] = hc["id"]
        assigned |= hit
    return out


def _high_rise_factor(heights: np.ndarray, classes: np.ndarray, st: Mapping[str, Any]) -> np.ndarray:
    spec = st.get("high_rise_factor") or {}
    factor = np.ones(len(heights))
    applies = np.isin(classes, list(spec.get("applies_to", [])))
    done = ~applies | ~np.isfinite(heights)
    for step in spec.get("steps", []):
        top = step.get("max_height_m")
        hit = ~done & ((heights <= float(top)) if top is not None else True)
        factor[hit] = float(step["factor"])
        done |= hit
    return factor


def required_setbacks(road_classes: Sequence[str], heights: np.ndarray,
                      config: Mapping[str, Any] | None = None, *,
                      layer: str = "red_lines") -> np.ndarray:
    """Required setback (m) for aligned pairs of road class and building height.

    Table ``setbacks.table_m`` (road class x height class), times the high-rise factor Q.
    Source: standards.md §1.2 (example values, confidence U: confirm locally).

    >>> required_setbacks(["支路", "主干路", "主干路"], np.array([6.0, 6.0, 60.0])).tolist()
    [3.0, 8.0, 12.0]
    """
    cfg = load_rules(config)
    st = cfg["setbacks"]
    heights = np.asarray(heights, dtype=float)
    classes = height_classes(heights, cfg)
    table = st["table_m"]
    rc = np.asarray(road_classes, dtype=object)
    out = np.full(len(rc), np.nan)
    for road_class in pd.unique(rc):
        if road_class not in table:
            row = int(np.flatnonzero(rc == road_class)[0]) + 1
            raise InputError(f"道路等级 {road_class!r} 不在退让距离表中（controllines.yaml setbacks.table_m）",
                             layer=layer, row=row, field="road_class")
        sel = rc == road_class
        row_tab = table[road_class]
        out[sel] = [float(row_tab[c]) for c in classes[sel]]
    return out * _high_rise_factor(heights, classes, st)


# --------------------------------------------------------------------------------------------
# red lines
# --------------------------------------------------------------------------------------------
def _clip_each(big: np.ndarray, small: np.ndarray, pad: np.ndarray | float = 0.0) -> np.ndarray:
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
        out[poly] = _valid(out[poly])
    return out


def _max_depth(parts: np.ndarray, boundaries: np.ndarray, pad: float = 30.0) -> np.ndarray:
    """Per part, the largest distance from one of its vertices to the aligned boundary.

    Distances are first taken to the stretch of the boundary near the part (its box grown by
    ``pad``), which is exact for every distance up to ``pad``; longer ones are recomputed
    against the whole boundary.
    """
    depth = np.zeros(len(parts))
    if not len(parts):
        return depth
    local = _clip_each(boundaries, parts, pad)
    coords, idx = shapely.get_coordinates(parts, return_index=True)
    if len(coords):
        pts = shapely.points(coords)
        d = shapely.distance(pts, local[idx])
        far = ~(d <= pad)
        if far.any():
            d[far] = shapely.distance(pts[far], boundaries[idx[far]])
        np.maximum.at(depth, idx, d)
    return depth


def _setback_geometry(bld: np.ndarray, boundaries: np.ndarray, required: np.ndarray
                      ) -> tuple[np.ndarray, np.ndarray]:
    """Actual distance to the red line and the part of each footprint inside the setback band.

    ``bld`` does not overlap its red line, so the distance to the line is the distance to its
    boundary, and the band part is the footprint within ``required`` of the boundary; both only
    need the stretch of boundary within ``required`` of the footprint. Where the band part is
    degenerate (a sliver at the tolerance), the shortest line is the geometry.
    """
    if not len(bld):
        return np.empty(0), np.empty(0, dtype=object)
    local = _clip_each(boundaries, bld, required + 1.0)
    actual = shapely.distance(bld, local)
    band = shapely.buffer(local, required, quad_segs=8)
    parts = _polygonal(shapely.intersection(_valid(bld), band))
    empty = shapely.is_empty(parts) | (shapely.area(parts) <= 0)
    if empty.any():
        parts[empty] = shapely.shortest_line(bld[empty], local[empty])
    return actual, parts


def red_line_findings(buildings: gpd.GeoDataFrame, red_lines: gpd.GeoDataFrame,
                      config: Mapping[str, Any] | None = None, *,
                      building_id: str = "building_id", line_id: str = "line_id",
                      rules: Sequence[str] = ("red_line_encroachment", "red_line_setback"),
                      _prep: _Prep | None = None) -> gpd.GeoDataFrame:
    """Red-line encroachments and setback breaches of buildings, in one pass.

    Parameters
    ----------
    buildings : GeoDataFrame
        Footprints (Polygon or MultiPolygon) with ``building_id`` and ``height`` and/or
        ``floors``, in a projected CRS (metres).
    red_lines : GeoDataFrame
        Road-land polygons with ``line_id`` and ``road_class`` (a key of ``setbacks.table_m``);
        ``road_name`` is used in titles when present.
    config : mapping, optional
        The control-line configuration (default ``controllines.yaml``).
    rules : sequence of str
        Which of ``red_line_encroachment`` and ``red_line_setback`` to report.

    Returns
    -------
    GeoDataFrame
        Findings (:data:`zlgis.findings.FINDING_COLUMNS`), geometry = the breach part.

    Notes
    -----
    Encroachment: GB 50352-2019 §2.0.6. Setbacks: example table, standards.md §1.2 (U).
    A building that encroaches on a line is reported as an encroachment of that line, not also
    as a setback breach of it. A building touching the line (overlap area <= tolerance) is not
    an encroachment; it is a setback breach with ``actual_m`` 0 when a setback is required.
    """
    cfg = load_rules(config)
    crs = _check_crs(buildings, "buildings")
    if not len(buildings) or not len(red_lines):
        return empty_findings(crs)
    prep = _prep if _prep is not None else _Prep(buildings, building_id, "buildings", crs)
    bid, bld = prep.ids, prep.geoms
    lid = _ids(red_lines, line_id, "red_lines")
    red = _valid(_geoms(red_lines, crs, "red_lines"))
    red_boundary = shapely.boundary(red)
    tol_d = float(cfg["tolerance"]["distance_m"])
    tol_a = float(cfg["tolerance"]["area_m2"])
    road_class = _text(red_lines, "road_class")
    heights = building_heights(buildings, cfg)
    st = cfg["setbacks"]

    # largest requirement any building could have next to each line: the query radius
    hclasses = height_classes(heights, cfg)
    classes_present = pd.unique(hclasses)
    qmax = float(_high_rise_factor(heights, hclasses, st).max())
    table = st["table_m"]
    radius = np.zeros(len(red))
    for rcl in pd.unique(road_class):
        if rcl not in table:
            row = int(np.flatnonzero(road_class == rcl)[0]) + 1
            raise InputError(f"道路等级 {rcl!r} 不在退让距离表中（controllines.yaml setbacks.table_m）",
                             layer="red_lines", row=row, field="road_class")
        radius[road_class == rcl] = max(float(table[rcl][c]) for c in classes_present) * qmax
    if "red_line_setback" not in rules:
        radius[:] = 0.0

    tree = prep.tree
    valid_red = ~shapely.is_missing(red) & ~shapely.is_empty(red)
    shapely.prepare(red)
    # Candidates: footprints meeting the red line grown by the query radius. A prepared
    # "intersects" query on the grown polygons is several times faster than a "dwithin" query;
    # the buffer's chords lie inside the true offset curve, hence the 1 m margin. Every
    # candidate is then tested exactly (intersects, then dwithin at its own requirement).
    sel = np.flatnonzero(valid_red)
    grown = shapely.buffer(red[sel], np.where(radius[sel] > 0, radius[sel] + 1.0, 0.0),
                           quad_segs=4)
    shapely.prepare(grown)
    li, bi = tree.query(grown, predicate="intersects")
    li = sel[li]
    order = np.lexsort((li, bi))
    li, bi = li[order], bi[order]

    inter = shapely.intersects(red[li], bld[bi])
    frames = []
    # ---- encroachment -----------------------------------------------------------------------
    enc_li, enc_bi = li[inter], bi[inter]
    parts = _polygonal(shapely.intersection(_valid(bld[enc_bi]),
                                            _clip_each(red[enc_li], bld[enc_bi], 0.5)))
    area = shapely.area(parts)
    real = area > tol_a
    touching = np.zeros(len(li), dtype=bool)
    touching[np.flatnonzero(inter)[~real]] = True
    if "red_line_encroachment" in rules and real.any():
        e_li, e_bi, e_parts, e_area = enc_li[real], enc_bi[real], parts[real], area[real]
        depth = _max_depth(e_parts, red_boundary[e_li])
        fp_area = shapely.area(bld[e_bi])
        share = np.where(fp_area > 0, e_area / np.where(fp_area > 0, fp_area, 1), np.nan)
        inside = shapely.contains(red[e_li], bld[e_bi])
        measures = {"area_m2": e_area, "depth_m": depth, "share": share}
        sev = _severity("red_line_encroachment", measures, len(e_li), cfg)
        names = _text(red_lines, "road_name")[e_li]
        rl = cfg["red_line"]
        frames.append(make_findings(
            check=CHECK, rule="red_line_encroachment",
            rule_source=rl["encroachment"]["rule_source"],
            title=[f"{rl['encroachment']['title']}（{n or lid[j]}，压占 {a:.1f} 平方米，深入 {d:.2f} 米）"
                   for n, j, a, d in zip(names, e_li, e_area, depth)],
            task_id=str(rl["task_id"]), feature_ids=list(zip(bid[e_bi], lid[e_li])),
            layer="buildings", geometry=e_parts,
            measures=[{"area_m2": a, "depth_m": d, "share": s, "entirely_inside": bool(i),
                       "road_class": road_class[j]}
                      for a, d, s, i, j in zip(e_area, depth, share, inside, e_li)],
            measure_key="depth_m", measure_unit="m", severity=sev,
            public=bool(rl.get("public", False)), event_code_old=str(rl.get("event_code_old", "")),
            event_code_new=str(rl.get("event_code_new", "")), crs=crs))

    # ---- setback ----------------------------------------------------------------------------
    if "red_line_setback" in rules:
        cand = ~inter | touching
        s_li, s_bi = li[cand], bi[cand]
        req = required_setbacks(road_class[s_li], heights[s_bi], cfg)
        limit = req - tol_d
        ok = limit > 0
        breach = np.zeros(len(s_li), dtype=bool)
        breach[ok] = shapely.dwithin(red[s_li[ok]], bld[s_bi[ok]], limit[ok])
        s_li, s_bi, req = s_li[breach], s_bi[breach], req[breach]
        if len(s_li):
            actual, geom = _setback_geometry(bld[s_bi], red_boundary[s_li], req)
            shortfall = req - actual
            measures = {"required_m": req, "actual_m": actual, "shortfall_m": shortfall}
            sev = _severity("red_line_setback", measures, len(s_li), cfg)
            names = _text(red_lines, "road_name")[s_li]
            hcls = height_classes(heights[s_bi], cfg)
            rl = cfg["red_line"]
            frames.append(make_findings(
                check=CHECK, rule="red_line_setback", rule_source=rl["setback"]["rule_source"],
                title=[f"{rl['setback']['title']}（{n or lid[j]}，应退 {q:.1f} 米，实退 {a:.2f} 米）"
                       for n, j, q, a in zip(names, s_li, req, actual)],
                task_id=str(rl["task_id"]), feature_ids=list(zip(bid[s_bi], lid[s_li])),
                layer="buildings", geometry=geom,
                measures=[{"required_m": q, "actual_m": a, "shortfall_m": s, "road_class": road_class[j],
                           "height_class": h, "height_m": heights[b]}
                          for q, a, s, j, h, b in zip(req, actual, shortfall, s_li, hcls, s_bi)],
                measure_key="shortfall_m", measure_unit="m", severity=sev,
                public=bool(rl.get("public", False)),
                event_code_old=str(rl.get("event_code_old", "")),
                event_code_new=str(rl.get("event_code_new", "")), crs=crs))
    return concat_findings(frames) if frames else empty_findings(crs)


def red_line_breaches(buildings: gpd.GeoDataFrame, red_lines: gpd.GeoDataFrame,
                      config: Mapping[str, Any] | None = None, *, building_id: str = "building_id",
                      line_id: str = "line_id") -> gpd.GeoDataFrame:
    """Buildings crossing into road land (rule ``red_line_encroachment``, GB 50352-2019 §2.0.6).

    See :func:`red_line_findings`. Geometry: the part of the footprint inside the red line.

    >>> import geopandas as gpd
    >>> from shapely.geometry import box
    >>> red = gpd.GeoDataFrame({"line_id": ["R1"], "road_class": ["支路"]},
    ...                        geometry=[box(0, 0, 100, 16)], crs="EPSG:4550")
    >>> bld = gpd.GeoDataFrame({"building_id": ["B1"], "height": [9.0]},
    ...                        geometry=[box(10, 13, 20, 23)], crs="EPSG:4550")
    >>> f = red_line_breaches(bld, red)
    >>> json.loads(f.loc[0, "measures"])["area_m2"], float(f.loc[0, "measure"])
    (30.0, 3.0)
    """
    return red_line_findings(buildings, red_lines, config, building_id=building_id,
                             line_id=line_id, rules=("red_line_encroachment",))


def setback_breaches(buildings: gpd.GeoDataFrame, red_lines: gpd.GeoDataFrame,
                     config: Mapping[str, Any] | None = None, *, building_id: str = "building_id",
                     line_id: str = "line_id") -> gpd.GeoDataFrame:
    """Buildings closer to a red line than the required setback (rule ``red_line_setback``).

    Required distance by road class and height class from ``setbacks.table_m`` (examples to
    confirm locally, standards.md §1.2). See :func:`red_line_findings`.

    >>> import geopandas as gpd
    >>> from shapely.geometry import box
    >>> red = gpd.GeoDataFrame({"line_id": ["R1"], "road_class": ["支路"]},
    ...                        geometry=[box(0, 0, 100, 16)], crs="EPSG:4550")
    >>> bld = gpd.GeoDataFrame({"building_id": ["B1", "B2"], "height": [9.0, 9.0]},
    ...                        geometry=[box(10, 17, 20, 27), box(30, 19, 40, 29)],
    ...                        crs="EPSG:4550")
    >>> f = setback_breaches(bld, red)   # 支路, low-rise: 3 m; B2 stands exactly at 3 m
    >>> f["feature_id"].tolist(), json.loads(f.loc[0, "measures"])["actual_m"]
    (['B1'], 1.0)
    """
    return red_line_findings(buildings, red_lines, config, building_id=building_id,
                             line_id=line_id, rules=("red_line_setback",))


# --------------------------------------------------------------------------------------------
# green, blue, purple, yellow lines
# --------------------------------------------------------------------------------------------
def _exempt_mask(features: gpd.GeoDataFrame, exempt: Sequence[Mapping[str, Any]]) -> np.ndarray:
    mask = np.zeros(len(features), dtype=bool)
    for rule in exempt or []:
        col = rule.get("field")
        if col in features.columns:
            mask |= features[col].isin(list(rule.get("values", []))).to_numpy()
    return mask


def zone_findings(features: gpd.GeoDataFrame, zone: gpd.GeoDataFrame, line_kind: str,
                  config: Mapping[str, Any] | None = None, *, layer: str = "buildings",
                  feature_id: str = "building_id", line_id: str = "line_id",
                  _prep: _Prep | None = None) -> gpd.GeoDataFrame:
    """Features inside a green, blue, purple or yellow line, for review (疑似，待核查).

    Parameters
    ----------
    features : GeoDataFrame
        Buildings or construction sites (polygons) with ``feature_id``; the exemption field of
        the config (``line_permit``) is read when present.
    zone : GeoDataFrame
        The control-line polygons (holes are not inside) with ``line_id``.
    line_kind : {"green_line", "blue_line", "purple_line", "yellow_line"}
        The rule; its source (建设部令第112 / 145 / 119 / 144号), title, exemptions and codes
        come from ``zones.lines`` in the config.

    Returns
    -------
    GeoDataFrame
        Findings, geometry = the overlap; measures ``overlap_m2`` and ``share`` of the footprint.
        Touching a zone (overlap <= area tolerance) is not reported.

    Examples
    --------
    >>> import geopandas as gpd
    >>> from shapely.geometry import box, Polygon
    >>> park = Polygon([(0, 0), (100, 0), (100, 100), (0, 100)],
    ...                [[(40, 40), (60, 40), (60, 60), (40, 60)]])
    >>> z = gpd.GeoDataFrame({"line_id": ["G1"]}, geometry=[park], crs="EPSG:4550")
    >>> b = gpd.GeoDataFrame({"building_id": ["in", "hole", "half"],
    ...                       "line_permit": [None, None, None]},
    ...                      geometry=[box(10, 10, 20, 20), box(45, 45, 55, 55),
    ...                                box(95, 10, 105, 20)], crs="EPSG:4550")
    >>> f = zone_findings(b, z, "green_line")
    >>> sorted(zip(f["feature_id"], f["measure"]))
    [('half', 0.5), ('in', 1.0)]
    """
    cfg = load_rules(config)
    zcfg = cfg["zones"]
    if line_kind not in zcfg["lines"]:
        raise ConfigError(f"控制线配置中没有 {line_kind}", path="controllines.yaml")
    spec = zcfg["lines"][line_kind]
    zone_layer = spec.get("layer", LINE_RULES.get(line_kind, line_kind))
    crs = _check_crs(features, layer)
    if not len(features) or not len(zone):
        return empty_findings(crs)
    prep = _prep if _prep is not None else _Prep(features, feature_id, layer, crs)
    fid, geoms = prep.ids, prep.geoms
    zid = _ids(zone, line_id, zone_layer)
    zones = _valid(_geoms(zone, crs, zone_layer))
    zones = np.where(shapely.is_missing(zones), shapely.Polygon(), zones)
    shapely.prepare(zones)
    tree = prep.tree
    zi, fi = tree.query(zones, predicate="intersects")
    keep = ~_exempt_mask(features, spec.get("exempt", []))[fi]
    zi, fi = zi[keep], fi[keep]
    order = np.lexsort((zi, fi))
    zi, fi = zi[order], fi[order]
    inside = shapely.contains_properly(zones[zi], geoms[fi])
    parts = geoms[fi].copy()
    partial = ~inside
    if partial.any():
        small = _valid(geoms[fi[partial]])
        parts[partial] = _polygonal(shapely.intersection(
            small, _clip_each(zones[zi[partial]], small, 0.5)))
    overlap = shapely.area(parts)
    real = overlap > float(cfg["tolerance"]["area_m2"])
    zi, fi, parts, overlap = zi[real], fi[real], parts[real], overlap[real]
    if not len(zi):
        return empty_findings(crs)
    fp = shapely.area(geoms[fi])
    share = np.where(fp > 0, np.minimum(overlap / np.where(fp > 0, fp, 1), 1.0), np.nan)
    measures = {"overlap_m2": overlap, "share": share}
    sev = _severity(line_kind, measures, len(zi), cfg)
    names = _text(zone, "name")[zi]
    return concat_findings([make_findings(
        check=CHECK, rule=line_kind, rule_source=spec["rule_source"],
        title=[f"{spec['title']}（{n or zid[j]}，重叠 {a:.1f} 平方米，占 {s:.0%}）"
               for n, j, a, s in zip(names, zi, overlap, share)],
        task_id=str(zcfg["task_id"]), feature_ids=list(zip(fid[fi], zid[zi])), layer=layer,
        geometry=parts,
        measures=[{"overlap_m2": a, "share": s, "status": "疑似，待核查"}
                  for a, s in zip(overlap, share)],
        measure_key="share", measure_unit="ratio", severity=sev,
        public=bool(zcfg.get("public", False)), event_code_old=str(spec.get("event_code_old", "")),
        event_code_new=str(spec.get("event_code_new", "")),
        id_extra=None if layer == "buildings" else [layer] * len(zi), crs=crs)])


# --------------------------------------------------------------------------------------------
# unpermitted construction
# --------------------------------------------------------------------------------------------
INVENTORY_COLUMNS = ("layer", "feature_id", "permit_status", "area_m2", "nearest_line_layer",
                     "nearest_line_title", "nearest_line_id", "nearest_line_m")


def unpermitted_construction(buildings: gpd.GeoDataFrame | None,
                             construction_sites: gpd.GeoDataFrame | None,
                             lines: Mapping[str, gpd.GeoDataFrame],
                             config: Mapping[str, Any] | None = None, *,
                             building_id: str = "building_id", site_id: str = "site_id",
                             line_id: str | Mapping[str, str] = "line_id") -> gpd.GeoDataFrame:
    """Inventory of buildings and construction sites without a permit (违法建设台账).

    Parameters
    ----------
    buildings, construction_sites : GeoDataFrame or None
        Features with ``permit_status``; values in ``unpermitted.unpermitted_values``
        (``未批``) are listed. Layers without the field are skipped.
    lines : mapping
        Control-line layers by catalog id (``red_lines``, ``green_lines`` ...), each with
        ``line_id`` (or the field named per layer in ``line_id``); the nearest one to each
        feature and the distance (0 inside or touching) are reported.

    Returns
    -------
    GeoDataFrame
        Columns :data:`INVENTORY_COLUMNS` + geometry (the footprint), sorted by layer and id.

    Examples
    --------
    >>> import geopandas as gpd
    >>> from shapely.geometry import box
    >>> b = gpd.GeoDataFrame({"building_id": ["B1", "B2"], "permit_status": ["未批", "已批"]},
    ...                      geometry=[box(0, 0, 10, 10), box(50, 0, 60, 10)], crs="EPSG:4550")
    >>> g = gpd.GeoDataFrame({"line_id": ["G1"]}, geometry=[box(15, 0, 30, 10)], crs="EPSG:4550")
    >>> inv = unpermitted_construction(b, None, {"green_lines": g})
    >>> inv[["feature_id", "nearest_line_id", "nearest_line_m"]].values.tolist()
    [['B1', 'G1', 5.0]]
    """
    cfg = load_rules(config)
    ucfg = cfg["unpermitted"]
    field = ucfg.get("field", "permit_status")
    bad_values = list(ucfg.get("unpermitted_values", ["未批"]))
    rows: list[gpd.GeoDataFrame] = []
    crs = None
    for layer, gdf, idf in (("buildings", buildings, building_id),
                            ("construction_sites", construction_sites, site_id)):
        if gdf is None or not len(gdf) or field not in gdf.columns:
            continue
        crs = crs or _check_crs(gdf, layer)
        ids = _ids(gdf, idf, layer)
        status = gdf[field]
        mask = status.isin(bad_values).to_numpy()
        if ucfg.get("missing_is_unpermitted", False):
            mask |= status.isna().to_numpy()
        if not mask.any():
            continue
        geoms = _geoms(gdf, crs, layer)[mask]
        rows.append(gpd.GeoDataFrame({
            "layer": layer, "feature_id": ids[mask],
            "permit_status": status[mask].fillna("").astype(str).to_numpy(),
            "area_m2": shapely.area(geoms)}, geometry=gpd.GeoSeries(geoms, crs=crs), crs=crs))
    if not rows:
        return gpd.GeoDataFrame({c: pd.Series(dtype=object) for c in INVENTORY_COLUMNS},
                                geometry=gpd.GeoSeries([], crs=crs), crs=crs)
    inv = pd.concat(rows, ignore_index=True)
    # nearest control line over all five layers
    lgeoms, llayer, lids = [], [], []
    for lname, lgdf in lines.items():
        if lgdf is None or not len(lgdf):
            continue
        g = _geoms(lgdf, crs, lname)
        ok = ~shapely.is_missing(g) & ~shapely.is_empty(g)
        lgeoms.append(g[ok])
        llayer.extend([lname] * int(ok.sum()))
        lfield = line_id if isinstance(line_id, str) else line_id.get(lname, "line_id")
        lids.append(_ids(lgdf, lfield, lname)[ok])
    n = len(inv)
    near_layer = np.full(n, "", dtype=object)
    near_id = np.full(n, "", dtype=object)
    near_d = np.full(n, np.nan)
    geoms = np.asarray(inv.geometry.values, dtype=object)
    if lgeoms:
        lg = np.concatenate(lgeoms)
        llayer_a = np.asarray(llayer, dtype=object)
        lid_a = np.concatenate(lids).astype(object)
        valid = np.flatnonzero(~shapely.is_missing(geoms) & ~shapely.is_empty(geoms))
        qi, ti, dist = _nearest(geoms[valid], lg)
        # deterministic tie-break: smallest distance, then layer, then line id
        key = pd.DataFrame({"q": qi, "d": np.round(dist, 6), "l": llayer_a[ti], "i": lid_a[ti],
                            "dist": dist}).sort_values(["q", "d", "l", "i"]).drop_duplicates("q")
        tgt = valid[key["q"].to_numpy()]
        near_layer[tgt] = key["l"].to_numpy()
        near_id[tgt] = key["i"].to_numpy()
        near_d[tgt] = key["dist"].to_numpy()
    inv["nearest_line_layer"] = near_layer
    inv["nearest_line_title"] = [_LINE_TITLES.get(v, v) for v in near_layer]
    inv["nearest_line_id"] = near_id
    inv["nearest_line_m"] = near_d
    inv = inv.sort_values(["layer", "feature_id"], kind="stable").reset_index(drop=True)
    return gpd.GeoDataFrame(inv[list(INVENTORY_COLUMNS) + ["geometry"]], geometry="geometry",
                            crs=crs)


def _nearest(geoms: np.ndarray, polys: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Nearest polygon(s) of every geometry: (query index, polygon index, distance), ties kept.

    Geometries overlapping a polygon are at distance 0. The others are matched against a tree of
    the polygons' boundary segments, whose tight boxes keep the exact-distance work small even
    for long roads and rivers (a tree of whole polygons would test every long road).
    """
    if not len(geoms) or not len(polys):
        return np.empty(0, int), np.empty(0, int), np.empty(0)
    shapely.prepare(polys)
    pi, gi = shapely.STRtree(geoms).query(polys, predicate="intersects")
    inside = np.zeros(len(geoms), dtype=bool)
    inside[gi] = True
    rest = np.flatnonzero(~inside)
    q_out, t_out, d_out = [gi], [pi], [np.zeros(len(gi))]
    if len(rest):
        parts, owner = shapely.get_parts(shapely.boundary(polys), return_index=True)
        coords, pidx = shapely.get_coordinates(parts, return_index=True)
        same = pidx[:-1] == pidx[1:]
        seg = np.stack([coords[:-1][same], coords[1:][same]], axis=1)
        seg_owner = owner[pidx[:-1][same]]
        segs = shapely.linestrings(seg)
        (qi, si), dist = shapely.STRtree(segs).query_nearest(geoms[rest], all_matches=True,
                                                             return_distance=True)
        q_out.append(rest[qi])
        t_out.append(seg_owner[si])
        d_out.append(dist)
    return np.concatenate(q_out), np.concatenate(t_out), np.concatenate(d_out)


def unpermitted_findings(inventory: gpd.GeoDataFrame,
                         config: Mapping[str, Any] | None = None) -> gpd.GeoDataFrame:
    """Findings (rule ``unpermitted_construction``, task 1.3.1) from an inventory.

    The nearest control line is a measure, not part of the id: the id stays the same when
    a line is redrawn. Event codes per layer come from ``unpermitted.layers`` (buildings:
    私搭乱建 01-01 / 06001; construction sites: 无证建设 08016).

    >>> import geopandas as gpd
    >>> from shapely.geometry import box
    >>> b = gpd.GeoDataFrame({"building_id": ["B1"], "permit_status": ["未批"]},
    ...                      geometry=[box(0, 0, 10, 10)], crs="EPSG:4550")
    >>> g = gpd.GeoDataFrame({"line_id": ["G1"]}, geometry=[box(5, 0, 30, 10)], crs="EPSG:4550")
    >>> f = unpermitted_findings(unpermitted_construction(b, None, {"green_lines": g}))
    >>> f.loc[0, ["task_id", "severity", "event_code_new"]].tolist()
    ['1.3.1', 'high', '06001']
    """
    cfg = load_rules(config)
    ucfg = cfg["unpermitted"]
    frames = []
    for layer, lcfg in (ucfg.get("layers") or {}).items():
        sub = inventory[inventory["layer"] == layer]
        if not len(sub):
            continue
        d = sub["nearest_line_m"].to_numpy(dtype=float)
        sev = _severity("unpermitted_construction", {"nearest_line_m": d}, len(sub), cfg)
        title = [f"{ucfg['title']}（最近控制线：{t or '无'} {i}，距离 {x:.1f} 米）" if np.isfinite(x)
                 else f"{ucfg['title']}" for t, i, x in
                 zip(sub["nearest_line_title"], sub["nearest_line_id"], d)]
        frames.append(make_findings(
            check=CHECK, rule="unpermitted_construction", rule_source=ucfg["rule_source"],
            title=title, task_id=str(ucfg["task_id"]),
            feature_ids=[[f] for f in sub["feature_id"]], layer=layer,
            geometry=sub.geometry.values,
            measures=[{"area_m2": a, "nearest_line_layer": l, "nearest_line_id": i,
                       "nearest_line_m": x, "permit_status": p}
                      for a, l, i, x, p in zip(sub["area_m2"], sub["nearest_line_layer"],
                                               sub["nearest_line_id"], d, sub["permit_status"])],
            measure_key="nearest_line_m", measure_unit="m", severity=sev,
            public=bool(ucfg.get("public", False)),
            event_code_old=str((lcfg or {}).get("event_code_old", "")),
            event_code_new=str((lcfg or {}).get("event_code_new", "")),
            id_extra=None if layer == "buildings" else [layer] * len(sub), crs=inventory.crs))
    return concat_findings(frames) if frames else empty_findings(inventory.crs)


# --------------------------------------------------------------------------------------------
# red lines from road centrelines
# --------------------------------------------------------------------------------------------
def red_lines_from_roads(roads: gpd.GeoDataFrame, widths: Mapping[str, Any] | None = None,
                         config: Mapping[str, Any] | None = None, *,
                         class_field: str | None = None, id_field: str | None = None,
                         width_field: str = "width") -> gpd.GeoDataFrame:
    """Road red-line polygons from centrelines: each road buffered by half its red-line width.

    Parameters
    ----------
    roads : GeoDataFrame
        Centrelines in a projected CRS. OSM roads carry ``highway``; a city's own roads carry
        ``road_class`` (Chinese classes of the catalog).
    widths : mapping, optional
        Class -> width in metres (or ``{"width_m": .., "road_class": ..}``), overriding the
        config (``red_lines_from_roads.osm_highway`` or ``.road_class``). A class whose width
        is null gets no red line (paths, tracks).
    class_field : str, optional
        Column holding the class (default ``highway`` if present, else ``road_class``).
    id_field : str, optional
        Column holding the road id (default ``road_id``, ``full_id``, ``osm_id`` or the index).
    width_field : str
        A numeric width on the road within the configured range wins over the defaults.

    Returns
    -------
    GeoDataFrame
        ``line_id`` (``RL-`` + road id), ``road_id``, ``road_name``, ``road_class`` (Chinese),
        ``width``, ``source_class`` and the polygon (round ends, so junctions close).

    Examples
    --------
    >>> import geopandas as gpd
    >>> from shapely.geometry import LineString
    >>> roads = gpd.GeoDataFrame({"osm_id": [1, 2], "highway": ["residential", "footway"]},
    ...                          geometry=[LineString([(0, 0), (100, 0)]),
    ...                                    LineString([(0, 50), (100, 50)])], crs="EPSG:32734")
    >>> red = red_lines_from_roads(roads)
    >>> red[["line_id", "road_class", "width"]].values.tolist()
    [['RL-1', '支路', 16.0]]
    """
    cfg = load_rules(config)
    _check_crs(roads, "roads")
    if roads.crs is None:
        raise CRSError("道路图层没有坐标系，无法按米计算红线宽度", layer="roads")
    rcfg = cfg.get("red_lines_from_roads", {})
    if class_field is None:
        class_field = "highway" if "highway" in roads.columns else "road_class"
    if class_field not in roads.columns:
        raise InputError(f"道路图层缺少道路等级字段 {class_field}", layer="roads", field=class_field)
    osm = class_field == "highway"
    table: dict[str, tuple[float | None, str]] = {}
    if osm:
        for k, v in (rcfg.get("osm_highway") or {}).items():
            table[k] = (v.get("width_m"), v.get("road_class", "支路"))
    else:
        for k, v in (rcfg.get("road_class") or {}).items():
            table[k] = (v, k)
    for k, v in (widths or {}).items():
        if isinstance(v, Mapping):
            table[k] = (v.get("width_m"), v.get("road_class", table.get(k, (None, k))[1]))
        else:
            table[k] = (v, table.get(k, (None, "支路" if osm else k))[1])
    if id_field is None:
        id_field = next((c for c in ("road_id", "full_id", "osm_id") if c in roads.columns), None)
    rid = (roads[id_field].astype(str).to_numpy() if id_field
           else np.asarray([str(i) for i in roads.index], dtype=object))
    cls = _text(roads, class_field)
    default_w = np.array([np.nan if table.get(c, (None,))[0] is None else float(table[c][0])
                          for c in cls])
    lo, hi = float(rcfg.get("min_width_m", 2)), float(rcfg.get("max_width_m", 120))
    own = _numeric(roads, width_field)
    own = np.where((own >= lo) & (own <= hi), own, np.nan)
    width = np.where(np.isfinite(own), own, default_w)
    road_class = np.array([table.get(c, (None, c))[1] for c in cls], dtype=object)
    geoms = np.asarray(roads.geometry.values, dtype=object)
    keep = np.isfinite(width) & ~shapely.is_missing(geoms) & ~shapely.is_empty(geoms)
    polys = shapely.buffer(geoms[keep], width[keep] / 2.0, quad_segs=8)
    name_col = "name" if "name" in roads.columns else None
    out = gpd.GeoDataFrame({
        "line_id": [f"RL-{r}" for r in rid[keep]],
        "road_id": rid[keep],
        "road_name": _text(roads, name_col)[keep] if name_col else "",
        "road_class": road_class[keep],
        "width": width[keep],
        "source_class": cls[keep],
    }, geometry=gpd.GeoSeries(polys, crs=roads.crs), crs=roads.crs)
    dup = out["line_id"].duplicated(keep=False)
    if dup.any():  # several centreline pieces share a road id: number them
        out.loc[dup, "line_id"] = (out.loc[dup, "line_id"] + "-"
                                   + out[dup].groupby("line_id").cumcount().add(1).astype(str))
    return out.reset_index(drop=True)


# --------------------------------------------------------------------------------------------
# the whole check
# --------------------------------------------------------------------------------------------
def check_control_lines(layers: Mapping[str, gpd.GeoDataFrame],
                        config: Mapping[str, Any] | None = None, *,
                        id_fields: Mapping[str, str] | None = None,
                        observed_at: str = "") -> gpd.GeoDataFrame:
    """Every control-line rule on a dict of layers (catalog ids), one findings table.

    Uses ``buildings``, ``construction_sites``, ``red_lines``, ``green_lines``, ``blue_lines``,
    ``purple_lines``, ``yellow_lines``; absent layers are skipped. One STRtree over the
    footprints serves every line layer.

    >>> import geopandas as gpd
    >>> from shapely.geometry import box
    >>> b = gpd.GeoDataFrame({"building_id": ["B1", "B2"], "height": [6.0, 6.0],
    ...                       "permit_status": ["已批", "已批"]},
    ...                      geometry=[box(10, 14, 20, 24), box(10, 60, 20, 70)], crs="EPSG:4550")
    >>> red = gpd.GeoDataFrame({"line_id": ["R1"], "road_class": ["支路"]},
    ...                        geometry=[box(0, 0, 100, 16)], crs="EPSG:4550")
    >>> park = gpd.GeoDataFrame({"line_id": ["G1"]}, geometry=[box(0, 50, 100, 100)],
    ...                         crs="EPSG:4550")
    >>> f = check_control_lines({"buildings": b, "red_lines": red, "green_lines": park})
    >>> sorted(zip(f["rule"], f["feature_id"]))
    [('green_line', 'B2'), ('red_line_encroachment', 'B1')]
    """
    cfg = load_rules(config)
    ids = {"buildings": "building_id", "construction_sites": "site_id", **(id_fields or {})}
    line_ids = {k: ids.get(k, "line_id") for k in ("red_lines", *LINE_RULES.values())}
    frames: list[gpd.GeoDataFrame] = []
    bld = layers.get("buildings")
    sites = layers.get("construction_sites")
    crs = None
    if bld is not None and len(bld):
        crs = _check_crs(bld, "buildings")
        prep = _Prep(bld, ids["buildings"], "buildings", crs)
        red = layers.get("red_lines")
        if red is not None and len(red):
            frames.append(red_line_findings(bld, red, cfg, building_id=ids["buildings"],
                                            line_id=line_ids["red_lines"], _prep=prep))
        for rule, lname in LINE_RULES.items():
            zone = layers.get(lname)
            if zone is not None and len(zone) and "buildings" in cfg["zones"].get("layers", []):
                frames.append(zone_findings(bld, zone, rule, cfg, layer="buildings",
                                            feature_id=ids["buildings"],
                                            line_id=line_ids[lname], _prep=prep))
    if sites is not None and len(sites) and "construction_sites" in cfg["zones"].get("layers", []):
        crs = crs or _check_crs(sites, "construction_sites")
        sprep = _Prep(sites, ids["construction_sites"], "construction_sites", crs)
        for rule, lname in LINE_RULES.items():
            zone = layers.get(lname)
            if zone is not None and len(zone):
                frames.append(zone_findings(sites, zone, rule, cfg, layer="construction_sites",
                                            feature_id=ids["construction_sites"],
                                            line_id=line_ids[lname], _prep=sprep))
    lines = {k: layers[k] for k in ("red_lines", *LINE_RULES.values()) if layers.get(k) is not None}
    inv = unpermitted_construction(bld, sites, lines, cfg, building_id=ids["buildings"],
                                   site_id=ids["construction_sites"], line_id=line_ids)
    if len(inv):
        frames.append(unpermitted_findings(inv, cfg))
    out = concat_findings(frames)
    if observed_at and len(out):
        out["observed_at"] = observed_at
    return out


def run_check(catalog: Any, layers: Mapping[str, gpd.GeoDataFrame], *,
              as_of: _dt.date | None = None) -> gpd.GeoDataFrame:
    """The weekly-run entry point (``zlgis.analysis.CHECKS["controllines"]``).

    ``layers`` is the dict from :func:`zlgis.io.load_layers`; id fields come from the
    catalog; findings get ``grid_id`` and ``road_chief`` from the ``grids`` layer when loaded.
    """
    id_fields: dict[str, str] = {}
    for lid in ("buildings", "construction_sites", "red_lines", *LINE_RULES.values()):
        try:
            spec = catalog[lid]
        except Exception:  # noqa: BLE001 - a catalog without the layer: keep the default
            continue
        if getattr(spec, "id_field", None):
            id_fields[lid] = spec.id_field
    findings = check_control_lines(layers, id_fields=id_fields,
                                   observed_at=as_of.isoformat() if as_of else "")
    grids = layers.get("grids")
    if grids is not None and len(findings):
        findings = assign_grids(findings, grids)
    return findings
