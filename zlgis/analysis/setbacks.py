"""Road red lines (道路红线): encroachment and setback checks, red lines from centrelines.

``red_line_encroachment``
    A building footprint overlapping road land (the red-line polygon) by more than the area
    tolerance (GB 50352-2019 §2.0.6). Touching the line without crossing is not an
    encroachment. Geometry: the part of the footprint inside road land. Measures: ``area_m2``,
    ``depth_m`` (how far past the line it reaches: the largest distance from the outline of
    the encroaching part to the red-line boundary, sampled every 0.5 m), ``share`` of the
    footprint, ``entirely_inside``.
``red_line_setback``
    A building that does not cross the red line but stands closer to it than the setback
    required for the line's road class and the building's height class (example table in
    ``controllines.yaml``, standards.md §1.2: confirm locally). Exactly at the required distance
    is not a breach (``distance < required - tol``). A building near several red lines is
    judged against each line with that line's own requirement (the stricter road's setback
    applies to that road) and every breached line is reported, one finding per building and
    line. Geometry: the part of the footprint inside the setback band (the shortest line when
    that part is degenerate). Measures: ``required_m``, ``actual_m``, ``shortfall_m``.

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

import json  # noqa: F401  (the doctests read measures with it)
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from ..errors import CRSError, InputError
from ..findings import concat_findings, empty_findings, make_findings
from ..rules import rule as rule_spec
from . import linebase as lb
from .linebase import PreparedFeatures

__all__ = [
    "building_heights",
    "height_classes",
    "required_setbacks",
    "red_line_findings",
    "red_line_breaches",
    "setback_breaches",
    "red_lines_from_roads",
]


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
    cfg = lb.load_rules(config)
    height = lb.numeric_of(buildings, "height")
    floors = lb.numeric_of(buildings, "floors")
    fh = float(cfg["setbacks"]["floor_height_m"])
    return np.where(np.isfinite(height) & (height > 0), height, floors * fh)


def height_classes(heights: np.ndarray, config: Mapping[str, Any] | None = None) -> np.ndarray:
    """Height-class id per building (``low``, ``multi``, ``high`` in the shipped table).

    >>> height_classes(np.array([6.0, 18.0, 60.0, np.nan])).tolist()
    ['low', 'multi', 'high', 'low']
    """
    st = lb.load_rules(config)["setbacks"]
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
    cfg = lb.load_rules(config)
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
def _max_depth(parts: np.ndarray, boundaries: np.ndarray, sample: float = 0.5,
               pad: float = 30.0) -> np.ndarray:
    """Per part, the largest distance from its outline to the aligned boundary.

    The outline is sampled at its vertices and every ``sample`` metres along its edges: exact
    for a part cut off by a straight or curved red line (the distance then grows linearly
    along each edge); for a footprint spanning the middle of the road the peak on an edge is
    found to within ``sample`` / 2. Distances are first taken to the stretch of boundary near
    the part (its box grown by ``pad``), exact up to ``pad``; longer ones are recomputed
    against the whole boundary.
    """
    depth = np.zeros(len(parts))
    if not len(parts):
        return depth
    local = lb.clip_each(boundaries, parts, pad)
    if sample and sample > 0:
        parts = shapely.segmentize(parts, sample)
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
    local = lb.clip_each(boundaries, bld, required + 1.0)
    actual = shapely.distance(bld, local)
    band = shapely.buffer(local, required, quad_segs=8)
    parts = lb.polygonal(shapely.intersection(lb.valid_geoms(bld), band))
    empty = shapely.is_empty(parts) | (shapely.area(parts) <= 0)
    if empty.any():
        parts[empty] = shapely.shortest_line(bld[empty], local[empty])
    return actual, parts


def red_line_findings(buildings: gpd.GeoDataFrame, red_lines: gpd.GeoDataFrame,
                      config: Mapping[str, Any] | None = None, *,
                      building_id: str = "building_id", line_id: str = "line_id",
                      rules: Sequence[str] = ("red_line_encroachment", "red_line_setback"),
                      prepared: PreparedFeatures | None = None) -> gpd.GeoDataFrame:
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
    cfg = lb.load_rules(config)
    crs = lb.check_crs(buildings, "buildings")
    if not len(buildings) or not len(red_lines):
        return empty_findings(crs)
    prep = prepared if prepared is not None else PreparedFeatures(buildings, building_id,
                                                                  "buildings", crs)
    red = lb.valid_geoms(lb.geoms_of(red_lines, crs, "red_lines"))
    ctx = _RedLines(cfg=cfg, crs=crs, bid=prep.ids, bld=prep.geoms,
                    lid=lb.ids_of(red_lines, line_id, "red_lines"), red=red,
                    boundary=shapely.boundary(red), road_class=lb.text_of(red_lines, "road_class"),
                    names=lb.text_of(red_lines, "road_name"),
                    heights=building_heights(buildings, cfg))
    radius = (_query_radius(ctx) if "red_line_setback" in rules else np.zeros(len(red)))
    li, bi = _candidate_pairs(prep.tree, red, radius)
    inter = shapely.intersects(red[li], ctx.bld[bi])
    # encroachment: the part of a footprint inside road land, above the area tolerance
    enc_li, enc_bi = li[inter], bi[inter]
    parts = lb.polygonal(shapely.intersection(lb.valid_geoms(ctx.bld[enc_bi]),
                                              lb.clip_each(red[enc_li], ctx.bld[enc_bi], 0.5)))
    area = shapely.area(parts)
    real = area > float(cfg["tolerance"]["area_m2"])
    touching = np.zeros(len(li), dtype=bool)
    touching[np.flatnonzero(inter)[~real]] = True
    frames = []
    if "red_line_encroachment" in rules and real.any():
        frames.append(_encroachments(ctx, enc_li[real], enc_bi[real], parts[real], area[real]))
    if "red_line_setback" in rules:
        # a building touching its line without overlapping is judged by the setback rule
        cand = ~inter | touching
        frames.append(_setback_breaches(ctx, li[cand], bi[cand]))
    return concat_findings(frames) if any(len(f) for f in frames) else empty_findings(crs)


@dataclass
class _RedLines:
    """Buildings and red lines of one :func:`red_line_findings` call, as arrays."""

    cfg: dict[str, Any]
    crs: Any
    bid: np.ndarray
    bld: np.ndarray
    lid: np.ndarray
    red: np.ndarray
    boundary: np.ndarray
    road_class: np.ndarray
    names: np.ndarray
    heights: np.ndarray


def _query_radius(ctx: _RedLines) -> np.ndarray:
    """Per red line, the largest setback any building here could need (the query radius)."""
    st = ctx.cfg["setbacks"]
    hclasses = height_classes(ctx.heights, ctx.cfg)
    classes_present = pd.unique(hclasses)
    qmax = float(_high_rise_factor(ctx.heights, hclasses, st).max())
    table = st["table_m"]
    radius = np.zeros(len(ctx.red))
    for rcl in pd.unique(ctx.road_class):
        if rcl not in table:
            row = int(np.flatnonzero(ctx.road_class == rcl)[0]) + 1
            raise InputError(f"道路等级 {rcl!r} 不在退让距离表中（controllines.yaml setbacks.table_m）",
                             layer="red_lines", row=row, field="road_class")
        radius[ctx.road_class == rcl] = max(float(table[rcl][c]) for c in classes_present) * qmax
    return radius


def _candidate_pairs(tree: shapely.STRtree, red: np.ndarray, radius: np.ndarray
                     ) -> tuple[np.ndarray, np.ndarray]:
    """(line, building) pairs meeting the red line grown by its query radius, sorted.

    A prepared "intersects" query on the grown polygons is several times faster than a
    "dwithin" query; the buffer's chords lie inside the true offset curve, hence the 1 m margin.
    Every candidate is then tested exactly (intersects, then dwithin at its own requirement).
    """
    valid_red = ~shapely.is_missing(red) & ~shapely.is_empty(red)
    shapely.prepare(red)
    sel = np.flatnonzero(valid_red)
    grown = shapely.buffer(red[sel], np.where(radius[sel] > 0, radius[sel] + 1.0, 0.0),
                           quad_segs=4)
    shapely.prepare(grown)
    li, bi = tree.query(grown, predicate="intersects")
    li = sel[li]
    order = np.lexsort((li, bi))
    return li[order], bi[order]


def _encroachments(ctx: _RedLines, li: np.ndarray, bi: np.ndarray, parts: np.ndarray,
                   area: np.ndarray) -> gpd.GeoDataFrame:
    """Findings ``red_line_encroachment`` of the overlapping (line, building) pairs."""
    depth = _max_depth(parts, ctx.boundary[li], float(ctx.cfg["tolerance"]["depth_sample_m"]))
    fp_area = shapely.area(ctx.bld[bi])
    share = np.where(fp_area > 0, area / np.where(fp_area > 0, fp_area, 1), np.nan)
    inside = shapely.contains(ctx.red[li], ctx.bld[bi])
    sev = lb.severity_of("red_line_encroachment", {"area_m2": area, "depth_m": depth, "share": share},
                         len(li), ctx.cfg)
    return _line_findings(
        ctx, "red_line_encroachment", li, bi, parts,
        [f"压占 {a:.1f} 平方米，深入 {d:.2f} 米" for a, d in zip(area, depth)],
        [{"area_m2": a, "depth_m": d, "share": s, "entirely_inside": bool(i),
          "road_class": ctx.road_class[j]} for a, d, s, i, j in zip(area, depth, share, inside, li)],
        measure_key="depth_m", severity=sev)


def _setback_breaches(ctx: _RedLines, li: np.ndarray, bi: np.ndarray) -> gpd.GeoDataFrame:
    """Findings ``red_line_setback`` of the candidate pairs closer than their requirement."""
    req = required_setbacks(ctx.road_class[li], ctx.heights[bi], ctx.cfg)
    limit = req - float(ctx.cfg["tolerance"]["distance_m"])
    ok = limit > 0
    breach = np.zeros(len(li), dtype=bool)
    breach[ok] = shapely.dwithin(ctx.red[li[ok]], ctx.bld[bi[ok]], limit[ok])
    li, bi, req = li[breach], bi[breach], req[breach]
    if not len(li):
        return empty_findings(ctx.crs)
    actual, geom = _setback_geometry(ctx.bld[bi], ctx.boundary[li], req)
    shortfall = req - actual
    sev = lb.severity_of("red_line_setback",
                         {"required_m": req, "actual_m": actual, "shortfall_m": shortfall},
                         len(li), ctx.cfg)
    hcls = height_classes(ctx.heights[bi], ctx.cfg)
    return _line_findings(
        ctx, "red_line_setback", li, bi, geom,
        [f"应退 {q:.1f} 米，实退 {a:.2f} 米" for q, a in zip(req, actual)],
        [{"required_m": q, "actual_m": a, "shortfall_m": s, "road_class": ctx.road_class[j],
          "height_class": h, "height_m": ctx.heights[b]}
         for q, a, s, j, h, b in zip(req, actual, shortfall, li, hcls, bi)],
        measure_key="shortfall_m", severity=sev)


def _line_findings(ctx: _RedLines, rule_id: str, li: np.ndarray, bi: np.ndarray, geometry: Any,
                   details: list[str], measures: list[dict[str, Any]], *, measure_key: str,
                   severity: np.ndarray) -> gpd.GeoDataFrame:
    """Findings of (red line, building) pairs, titled "<rule title>（<road>，<detail>）"."""
    title = rule_spec(rule_id).title
    return make_findings(
        rule=rule_id,
        title=[f"{title}（{n or ctx.lid[j]}，{d}）" for n, j, d in zip(ctx.names[li], li, details)],
        feature_ids=list(zip(ctx.bid[bi], ctx.lid[li])), layer="buildings", geometry=geometry,
        measures=measures, measure_key=measure_key, measure_unit="m", severity=severity,
        crs=ctx.crs)


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
    cfg = lb.load_rules(config)
    lb.check_crs(roads, "roads")
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
    cls = lb.text_of(roads, class_field)
    default_w = np.array([np.nan if table.get(c, (None,))[0] is None else float(table[c][0])
                          for c in cls])
    lo, hi = float(rcfg["min_width_m"]), float(rcfg["max_width_m"])
    own = lb.numeric_of(roads, width_field)
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
        "road_name": lb.text_of(roads, name_col)[keep] if name_col else "",
        "road_class": road_class[keep],
        "width": width[keep],
        "source_class": cls[keep],
    }, geometry=gpd.GeoSeries(polys, crs=roads.crs), crs=roads.crs)
    dup = out["line_id"].duplicated(keep=False)
    if dup.any():  # several centreline pieces share a road id: number them
        out.loc[dup, "line_id"] = (out.loc[dup, "line_id"] + "-"
                                   + out[dup].groupby("line_id").cumcount().add(1).astype(str))
    return out.reset_index(drop=True)
