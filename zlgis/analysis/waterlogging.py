"""Waterlogging (城区易涝点排查整改, campaign task 2.1.8): terrain against the recorded points.

The recorded waterlogging points (易涝积水点) say where water stood last summer; the DEM's
depressions say where it will stand next time. This module joins the two:

* **roads at risk** - depressions that would put water of ``depth_threshold_cm`` or more (15 cm,
  the one-lane rule of GB 51222-2017 §3.2 / GB 50014) on a traffic lane become predicted
  waterlogging road segments (rule ``road_ponding``);
* **rain scenario** - for a rain depth and a runoff coefficient, the runoff of each depression's
  contributing area against its storage volume: it fills and spills, or it reaches a lower water
  level (solved exactly on the DEM cells); roads at risk can be computed for that level too;
* **recorded points** - matched to the predicted depressions: hit rate, points no depression
  explains (rule ``recorded_point_unexplained``: likely a drainage fault such as a blocked gully
  or a broken pipe) and predicted depressions with no record (rule ``survey_candidate``);
  waterlogging-point density per km2 of built-up area (城市内涝积水点密度); each point's status.

Every number comes from ``zlgis/config/waterlogging.yaml`` with its source. The weekly run calls
:func:`run_check`.

Examples
--------
>>> import numpy as np, geopandas as gpd
>>> from shapely.geometry import LineString, Point
>>> from rasterio.transform import from_origin
>>> from rasterio.crs import CRS
>>> from zlgis.analysis.terrain import DEM
>>> z = np.full((20, 20), 10.0); z[8:12, 5:15] = 9.7          # a 30 cm deep trough
>>> dem = DEM(z, from_origin(0, 100, 5, 5), CRS.from_epsg(4550))
>>> roads = gpd.GeoDataFrame({"road_id": ["R1"], "name": ["中央街"], "road_class": ["主干路"],
...     "width": [20.0], "lanes": [4]}, geometry=[LineString([(0, 50), (100, 50)])], crs=4550)
>>> pts = gpd.GeoDataFrame({"point_id": ["P1"], "status": ["未整改"]},
...     geometry=[Point(50, 50)], crs=4550)
>>> res = analyse_waterlogging(dem, roads=roads, points=pts)
>>> res.roads[["road_id", "max_depth_cm"]].values.tolist()
[['R1', 30.0]]
>>> float(res.summary["hit_rate"])
1.0
>>> sorted(res.findings["rule"])
['depression', 'road_ponding']
"""

from __future__ import annotations

import datetime as dt
import math
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from numpy.typing import NDArray

from ..catalog import Catalog
from ..config import load_config
from ..errors import CatalogError, InputError
from ..findings import assign_grids, concat_findings, empty_findings, make_findings
from ..rules import rule as rule_spec
from .terrain import (
    DEM,
    DepressionAnalysis,
    analyse_depressions,
    cell_polygons,
    ponding_depth,
    read_dem,
)

__all__ = [
    "WaterloggingResult",
    "load_catalog_dem",
    "reported_depressions",
    "roads_at_risk",
    "water_depth",
    "rain_scenario",
    "downstream_depressions",
    "match_recorded_points",
    "built_up_area_km2",
    "waterlogging_findings",
    "analyse_waterlogging",
    "run_check",
    "CHECK",
]

CHECK = "waterlogging"


def _cfg() -> dict[str, Any]:
    return load_config("waterlogging")


@dataclass
class WaterloggingResult:
    """Everything :func:`analyse_waterlogging` computes.

    Attributes
    ----------
    analysis : DepressionAnalysis
        Filled surface, ponding depth, labels and all depressions kept.
    depressions : GeoDataFrame
        The reported depressions (deep and large enough), ranked, with the rain scenario
        (``runoff_m3``, ``fill_ratio``, ``spills``, ``scenario_level_m``, ``scenario_depth_cm``)
        and the matching (``recorded_points``, ``survey_candidate``).
    roads : GeoDataFrame
        Predicted waterlogging road segments when every depression is full.
    scenario_roads : GeoDataFrame
        The same for the rain scenario's water levels.
    points : GeoDataFrame
        Recorded points with ``eliminated``, ``depression_id``, ``distance_m``, ``explained``.
    scenario_level : ndarray
        The rain scenario's water level (m) by depression label (index 0: none, ``-inf``).
    scenario_depth : ndarray
        Water depth (m) of the rain scenario on the DEM grid, made when asked (not kept: on
        a large DEM it is the size of the DEM in float64).
    summary : dict
        Counts, hit rates, density per km2 of built-up area, rain parameters.
    findings : GeoDataFrame
        Findings in the shared schema.
    """

    analysis: DepressionAnalysis
    depressions: gpd.GeoDataFrame
    roads: gpd.GeoDataFrame
    scenario_roads: gpd.GeoDataFrame
    points: gpd.GeoDataFrame
    scenario_level: NDArray[np.float64]
    summary: dict[str, Any] = field(default_factory=dict)
    findings: gpd.GeoDataFrame = field(default_factory=empty_findings)

    @property
    def scenario_depth(self) -> NDArray[np.float64]:
        return water_depth(self.analysis, level=self.scenario_level)


# --------------------------------------------------------------------------------------------
# Inputs
# --------------------------------------------------------------------------------------------

def load_catalog_dem(catalog: Catalog, layer_id: str = "dem", *,
                     buffer_m: float | None = None) -> DEM:
    """Read the catalog's DEM into the working CRS, over the city only.

    The tiles (:func:`zlgis.io.rasters.raster_sources`: one file, a glob or a list; GeoTIFF or
    SRTM ``.hgt``/``.hgt.zip``) are mosaicked over the boundary's box plus ``buffer_m``
    (``dem.clip_buffer_m``, waterlogging.yaml), reprojected (:func:`read_dem`), and cells farther
    than ``buffer_m`` outside the boundary are set to nodata: a 1-degree tile is analysed over
    the town, not over 100 km of hills. Without a boundary layer the whole raster is used.
    The catalog's ``crs`` of the DEM layer is used when the file carries none.

    Raises
    ------
    CatalogError
        The DEM does not reach the boundary plus buffer at all (exit 2). (A DEM of the town inside a
        county boundary is accepted: the analysis covers what the DEM covers.)
    """
    import tempfile

    from ..io.rasters import mosaic_window, raster_sources
    from ..validate.load import city_boundary

    spec = catalog[layer_id]
    crs = spec.crs if spec.crs and spec.crs.upper().startswith("EPSG") else None
    sources = raster_sources(catalog, layer_id)
    boundary = city_boundary(catalog)
    cfg = _cfg()["dem"]
    if boundary is None:
        if len(sources) > 1:
            raise InputError("DEM 有多个瓦片时需要城市边界图层来确定拼接范围", layer=layer_id)
        return read_dem(sources[0], target_crs=catalog.working_crs, crs=crs, layer=layer_id)
    buffer_m = float(cfg["clip_buffer_m"] if buffer_m is None else buffer_m)
    area = shapely.buffer(boundary, buffer_m)
    with tempfile.TemporaryDirectory(prefix="zlgis-dem-") as tmp:
        clip, share = mosaic_window(sources, shapely.bounds(area), catalog.working_crs,
                                    Path(tmp) / "dem.tif", layer=layer_id)
        if share <= 0:
            # a catalog mistake (wrong tile or CRS), like the other bad catalogs: exit 2
            raise CatalogError(f"数字高程模型（DEM）没有覆盖城市边界：DEM 与边界外扩 {buffer_m:g} 米的范围"
                             "没有重叠（坐标系或瓦片可能不对）；请提供覆盖本市的 DEM 瓦片",
                             path=str(spec.path), layer=layer_id)
        dem = read_dem(clip, target_crs=catalog.working_crs, crs=crs, layer=layer_id)
    dem.path = Path(str(spec.path))
    h, w = dem.shape
    from rasterio.features import geometry_mask

    outside = geometry_mask([area], out_shape=(h, w), transform=dem.transform)
    dem.elevation[outside] = np.nan
    return dem


def reported_depressions(depressions: gpd.GeoDataFrame, *, min_depth_cm: float | None = None,
                         min_area_m2: float | None = None, cell_size_m: float | None = None,
                         boundary: Any = None) -> gpd.GeoDataFrame:
    """Depressions deep and large enough to report.

    Thresholds (``waterlogging.yaml`` ``depressions``): ``report_min_depth_cm`` (the 15 cm lane
    rule of GB 51222-2017 §3.2), ``min_area_m2``, ``min_volume_m3``, and on a coarse DEM
    (``cell_size_m`` at least ``coarse_dem.cell_size_m``: SRTM, ASTER, ALOS) ``coarse_dem``'s
    depth and cell count. With ``boundary``, only depressions touching it are kept.

    Examples
    --------
    >>> from shapely.geometry import box
    >>> d = gpd.GeoDataFrame({"max_depth_m": [1.0, 3.0, 3.0], "area_m2": [8100.0] * 3,
    ...     "volume_m3": [8100.0, 24300.0, 24300.0], "n_cells": [1, 3, 3]},
    ...     geometry=[box(0, 0, 90, 90), box(0, 0, 90, 90), box(900, 0, 990, 90)])
    >>> len(reported_depressions(d)), len(reported_depressions(d, cell_size_m=90))
    (3, 2)
    >>> len(reported_depressions(d, cell_size_m=90, boundary=box(0, 0, 500, 500)))
    1
    """
    cfg = _cfg()["depressions"]
    dmin = float(cfg["report_min_depth_cm"] if min_depth_cm is None else min_depth_cm) / 100
    amin = float(cfg["min_area_m2"] if min_area_m2 is None else min_area_m2)
    keep = ((depressions["max_depth_m"] >= dmin - 1e-9) & (depressions["area_m2"] >= amin)
            & (depressions["volume_m3"] >= float(cfg.get("min_volume_m3", 0)) - 1e-9))
    coarse = cfg.get("coarse_dem") or {}
    if cell_size_m is not None and coarse and cell_size_m >= float(coarse["cell_size_m"]):
        keep &= depressions["max_depth_m"] >= float(coarse["min_depth_m"]) - 1e-9
        if "n_cells" in depressions:
            keep &= depressions["n_cells"] >= int(coarse["min_cells"])
    if boundary is not None:
        keep &= depressions.geometry.intersects(boundary).to_numpy()
    return depressions[keep].reset_index(drop=True)


# --------------------------------------------------------------------------------------------
# Roads at risk
# --------------------------------------------------------------------------------------------

def _half_carriageway(roads: gpd.GeoDataFrame, cfg: dict[str, Any]) -> NDArray[np.float64]:
    lane = float(cfg["lane_width_m"])
    share = float(cfg["carriageway_share_of_width"])
    n = len(roads)
    half = np.full(n, lane / 2)
    if "width" in roads:
        w = pd.to_numeric(roads["width"], errors="coerce").to_numpy(dtype=float)
        ok = np.isfinite(w) & (w > 0)
        half[ok] = np.maximum(w[ok] * share / 2, lane / 2)
    if "lanes" in roads:
        ln = pd.to_numeric(roads["lanes"], errors="coerce").to_numpy(dtype=float)
        ok = np.isfinite(ln) & (ln > 0)
        half[ok] = ln[ok] * lane / 2
    return half


def _points_on_carriageways(pts: np.ndarray, lines: np.ndarray, half: np.ndarray
                            ) -> tuple[np.ndarray, np.ndarray]:
    """(point, road) pairs of the points inside each road's carriageway (the centreline
    buffered by ``half`` with flat caps). Only the roads with a point within about ``half`` of
    their centreline are buffered (a flat-cap buffer lies within that distance); the pairs are
    those of a query against every road's carriageway, in (point, road) order."""
    reach = half * (1 + 1e-9) + 1e-6
    near = np.unique(shapely.STRtree(pts).query(lines, predicate="dwithin", distance=reach)[0])
    if not len(near):
        return np.zeros(0, np.int64), np.zeros(0, np.int64)
    carriage = shapely.buffer(lines[near], half[near], cap_style="flat")
    ip, ic = shapely.STRtree(carriage).query(pts, predicate="intersects")
    ir = near[ic]
    order = np.lexsort((ir, ip))
    return ip[order], ir[order]


def water_depth(analysis: DepressionAnalysis, *, level: NDArray[np.float64] | None = None,
                rows: slice = slice(None)) -> NDArray[np.float64]:
    """Water depth (m) on the DEM grid (or the grid rows ``rows``): the ponding depth
    (:attr:`DepressionAnalysis.depth`), or with ``level`` (water level by depression label,
    :func:`rain_scenario`) ``level - elevation`` where positive (0 elsewhere and on nodata).
    Each cell's depth depends on that cell only: rows made apart are the rows of the grid.

    >>> from rasterio.transform import from_origin
    >>> from rasterio.crs import CRS
    >>> z = np.full((3, 4), 10.0); z[1, 1:3] = [9.0, 9.5]
    >>> a = analyse_depressions(DEM(z, from_origin(0, 3, 1, 1), CRS.from_epsg(4550)),
    ...                         min_depth_m=0.1, min_area_m2=1)
    >>> water_depth(a)[1].tolist(), water_depth(a, level=np.array([-np.inf, 9.25]))[1].tolist()
    ([0.0, 1.0, 0.5, 0.0], [0.0, 0.25, 0.0, 0.0])
    """
    z = analysis.dem.elevation[rows]
    if level is None:
        return ponding_depth(z, analysis.filled[rows])
    depth = level[analysis.labels[rows]]
    np.subtract(depth, z, out=depth)   # float32 elevations: no float64 copy of them
    np.maximum(depth, 0.0, out=depth)
    depth[~np.isfinite(depth)] = 0.0
    return depth


def _wet_cells(analysis: DepressionAnalysis, threshold: float, allowed: NDArray[np.bool_], *,
               depth: NDArray[np.float64] | None, level: NDArray[np.float64] | None,
               block: int = 512) -> tuple[NDArray[np.intp], NDArray[np.intp], NDArray[np.float64]]:
    """Rows, columns and depth of the cells of the ``allowed`` labels with water at least
    ``threshold`` deep, in raster order: from ``depth`` when given, else from
    :func:`water_depth` ``block`` rows at a time (no float64 grid the size of the DEM)."""
    labels = analysis.labels
    if depth is not None:
        rows, cols = np.nonzero((depth >= threshold) & allowed[labels])
        return rows, cols, depth[rows, cols]
    parts = []
    for r0 in range(0, labels.shape[0], block):
        d = water_depth(analysis, level=level, rows=slice(r0, r0 + block))
        r, c = np.nonzero((d >= threshold) & allowed[labels[r0:r0 + block]])
        parts.append((r + r0, c, d[r, c]))
    return tuple(np.concatenate(a) for a in zip(*parts))  # type: ignore[return-value]


def roads_at_risk(analysis: DepressionAnalysis, roads: gpd.GeoDataFrame | None, *,
                  depth: NDArray[np.float64] | None = None,
                  level: NDArray[np.float64] | None = None,
                  depth_threshold_cm: float | None = None,
                  depressions: gpd.GeoDataFrame | None = None) -> gpd.GeoDataFrame:
    """Road segments where a depression puts water of the threshold depth or more on a lane.

    A road's lanes lie within ``lanes * lane_width / 2`` of its centreline (or a share of the
    red-line width when the lane count is missing; ``road_ponding`` in ``waterlogging.yaml``).
    Every DEM cell whose water is at least ``depth_threshold_cm`` deep (default 15 cm, the
    one-lane rule of GB 51222-2017 §3.2 / GB 50014) and whose centre lies on that carriageway
    wets the road; the predicted segment is the part of the centreline alongside the deep water.
    Bridges (``bridge`` true) pass over the water and are skipped.

    Parameters
    ----------
    analysis : DepressionAnalysis
    roads : GeoDataFrame
        Canonical road fields ``road_id``, ``name``, ``road_class``, ``width``, ``lanes``,
        ``bridge``; same CRS as the DEM.
    depth : ndarray, optional
        Water depth (m) to use instead of the full-depression depth (a rain scenario).
    level : ndarray, optional
        Or the water level (m) by depression label (:func:`rain_scenario`'s
        ``scenario_level``), whose depth is made a block of rows at a time.
    depressions : GeoDataFrame, optional
        Only these depressions count (default: all of ``analysis.depressions``).

    Returns
    -------
    GeoDataFrame
        ``road_id``, ``name``, ``road_class``, ``depression_id``, ``max_depth_cm``,
        ``wet_length_m``, ``wet_area_m2``, ``half_width_m``; geometry: the wet centreline part.
    """
    cfg = _cfg()["road_ponding"]
    thr = float(cfg["depth_threshold_cm"] if depth_threshold_cm is None
                else depth_threshold_cm) / 100
    cols = ["road_id", "name", "road_class", "depression_id", "max_depth_cm", "wet_length_m",
            "wet_area_m2", "half_width_m"]
    crs = analysis.dem.crs
    empty = gpd.GeoDataFrame({c: [] for c in cols}, geometry=gpd.GeoSeries([], crs=crs), crs=crs)
    if roads is None or not len(roads):
        return empty
    dep = analysis.depressions if depressions is None else depressions
    labels = analysis.labels
    allowed = np.zeros(len(analysis.depressions) + 1, bool)
    allowed[dep["label"].to_numpy(dtype=int)] = True
    rows, cols_, wet_depth = _wet_cells(analysis, thr - 1e-9, allowed, depth=depth,
                                        level=level)
    if not len(rows):
        return empty
    r = roads.copy()
    if r.crs is not None and crs is not None and r.crs != crs:
        r = r.to_crs(crs)
    if "bridge" in r:
        r = r[~r["bridge"].fillna(False).astype(bool)]
    skip = set(cfg.get("skip_classes") or [])
    if skip and "road_class" in r:
        r = r[~r["road_class"].isin(skip)]
    r = r[r.geometry.notna() & ~r.geometry.is_empty].reset_index(drop=True)
    if not len(r):
        return empty
    half = _half_carriageway(r, cfg)
    x, y = analysis.dem.xy(rows, cols_)
    pts = shapely.points(x, y)
    ip, ir = _points_on_carriageways(pts, r.geometry.values, half)
    if not len(ip):
        return empty
    cell_lab = labels[rows, cols_]
    hit = pd.DataFrame({"road": ir, "label": cell_lab[ip], "depth": wet_depth[ip]})
    g = hit.groupby(["road", "label"], sort=True)["depth"].agg(["max", "size"]).reset_index()
    on = np.isin(cell_lab, g["label"].unique())   # every wet cell of the depressions met
    polys = cell_polygons(rows[on], cols_[on], cell_lab[on], analysis.dem.transform)
    dep_ids = analysis.depressions.set_index("label")["depression_id"]
    out_rows, geoms = [], []
    min_len = float(cfg["min_length_m"])
    for road_i, label, dmax, n in g.itertuples(index=False):
        seg = shapely.intersection(r.geometry.values[road_i],
                                   shapely.buffer(polys[label], half[road_i]))
        seg = shapely.line_merge(seg) if seg.geom_type == "MultiLineString" else seg
        length = float(shapely.length(seg))
        if seg.is_empty or length < min_len:
            continue
        row = r.iloc[road_i]
        out_rows.append({
            "road_id": str(row.get("road_id", road_i)), "name": row.get("name", ""),
            "road_class": row.get("road_class", ""), "depression_id": dep_ids[label],
            "max_depth_cm": round(float(dmax) * 100, 1), "wet_length_m": round(length, 1),
            "wet_area_m2": round(float(n) * analysis.dem.cell_area, 1),
            "half_width_m": float(half[road_i])})
        geoms.append(seg)
    if not out_rows:
        return empty
    out = gpd.GeoDataFrame(pd.DataFrame(out_rows, columns=cols), geometry=geoms, crs=crs)
    return out.sort_values(["max_depth_cm", "road_id"], ascending=[False, True]
                           ).reset_index(drop=True)


# --------------------------------------------------------------------------------------------
# Rain scenario
# --------------------------------------------------------------------------------------------

def downstream_depressions(analysis: DepressionAnalysis,
                           depressions: gpd.GeoDataFrame | None = None) -> NDArray[np.int64]:
    """Label of the depression each depression overflows into (0: the water leaves).

    From the pour point, the water steps to the lowest neighbour outside the depression whose
    filled level is below the spill level, then follows the steepest descent (the catchment
    labels of :func:`~zlgis.analysis.terrain.analyse_depressions`).
    """
    dep = analysis.depressions if depressions is None else depressions
    out = np.zeros(len(dep), np.int64)
    if not len(dep):
        return out
    h, w = analysis.labels.shape
    cw, ch = analysis.dem.cell_size
    rows, cols = analysis.dem.rowcol(dep["pour_x"].to_numpy(), dep["pour_y"].to_numpy())
    for i, (r, c, lab) in enumerate(zip(rows, cols, dep["label"].to_numpy())):
        if not (0 <= r < h and 0 <= c < w):
            continue
        level = float(analysis.filled[r, c])   # float64 slopes on a float32 DEM too
        best, target = 0.0, 0
        for dr in (-1, 0, 1):
            for dc in (-1, 0, 1):
                rr, cc = r + dr, c + dc
                if (dr or dc) and 0 <= rr < h and 0 <= cc < w and analysis.labels[rr, cc] != lab:
                    f = float(analysis.filled[rr, cc])
                    slope = (level - f) / math.hypot(dr * ch, dc * cw)
                    if np.isfinite(f) and slope > best:   # steepest way down from the pour point
                        best, target = slope, int(analysis.catchment[rr, cc])
        out[i] = 0 if target == lab else target
    return out


def rain_scenario(analysis: DepressionAnalysis, *, rain_mm: float | None = None,
                  runoff_coefficient: float | None = None,
                  depressions: gpd.GeoDataFrame | None = None, cascade: bool = True
                  ) -> tuple[pd.DataFrame, NDArray[np.float64]]:
    """Which depressions fill and spill under a rain of ``rain_mm`` millimetres.

    Runoff = rain depth x runoff coefficient x contributing area (GB 50014-2021 §3.2.2, the
    volume form of the rational method). With ``cascade`` (default) the overflow of a full
    depression is added to the depression downstream of its pour point
    (:func:`downstream_depressions`), upstream first. When the inflow reaches the storage volume
    the depression fills to its spill level and spills; otherwise the water level is the exact
    level whose volume over the DEM cells equals the inflow. Drainage by sewers during the storm
    is not modelled (a worst case: blocked gullies).

    Returns
    -------
    table : DataFrame
        Per depression (index aligned with ``depressions``): ``runoff_m3`` (own catchment),
        ``inflow_m3`` (with the overflow from upstream), ``fill_ratio``, ``spills``,
        ``overflow_m3``, ``downstream`` (depression id or empty), ``scenario_level_m``,
        ``scenario_depth_cm``.
    depth : ndarray
        Water depth (m) of the scenario on the DEM grid (:func:`water_depth` of its levels).

    Examples
    --------
    >>> from rasterio.transform import from_origin
    >>> from rasterio.crs import CRS
    >>> from zlgis.analysis.terrain import DEM, analyse_depressions
    >>> z = np.full((5, 5), 10.0); z[1:4, 1:4] = 9.0; z[2, 2] = 8.0
    >>> a = analyse_depressions(DEM(z, from_origin(0, 5, 1, 1), CRS.from_epsg(4550)),
    ...                         min_depth_m=0.01, min_area_m2=1)
    >>> t, d = rain_scenario(a, rain_mm=100, runoff_coefficient=1.0)
    >>> round(float(t["runoff_m3"][0]), 2), bool(t["spills"][0]), round(float(t["scenario_level_m"][0]), 3)
    (2.5, False, 9.167)
    """
    table, level = _scenario_levels(analysis, rain_mm=rain_mm,
                                    runoff_coefficient=runoff_coefficient,
                                    depressions=depressions, cascade=cascade)
    return table, water_depth(analysis, level=level)


def _scenario_levels(analysis: DepressionAnalysis, *, rain_mm: float | None,
                     runoff_coefficient: float | None, depressions: gpd.GeoDataFrame | None,
                     cascade: bool) -> tuple[pd.DataFrame, NDArray[np.float64]]:
    """:func:`rain_scenario`'s table, and the water level (m) by depression label (index 0,
    no depression: ``-inf``) instead of the depth grid."""
    cfg = _cfg()["rain"]
    rain = float(cfg["rain_mm"] if rain_mm is None else rain_mm)
    coef = float(cfg["runoff_coefficient"] if runoff_coefficient is None else runoff_coefficient)
    dep = analysis.depressions if depressions is None else depressions
    z = analysis.dem.elevation   # float32 or float64: no float64 copy of the grid
    area = analysis.dem.cell_area
    labels = analysis.labels
    n_all = len(analysis.depressions)
    own = rain / 1000.0 * coef * dep["contributing_area_m2"].to_numpy(dtype=float)
    volume = dep["volume_m3"].to_numpy(dtype=float)
    runoff = own.copy()
    overflow = np.zeros(len(dep))
    down = downstream_depressions(analysis, dep) if cascade else np.zeros(len(dep), np.int64)
    row_of = {int(lab): i for i, lab in enumerate(dep["label"].to_numpy())}
    # upstream first: a depression spills at its spill level into lower ground
    for i in np.argsort(-dep["spill_elev_m"].to_numpy(dtype=float), kind="stable"):
        overflow[i] = max(runoff[i] - volume[i], 0.0)
        j = row_of.get(int(down[i]))
        if j is not None and j != i and overflow[i] > 0:
            runoff[j] += overflow[i]
    spills = runoff >= volume
    level_by_label = np.full(n_all + 1, np.nan)
    # exact partial levels: cells of each depression sorted by elevation
    sel = np.flatnonzero(labels.ravel())
    lab = labels.ravel()[sel]
    e = z.ravel()[sel].astype(np.float64)
    if len(lab):
        order = np.lexsort((e, lab))
        lab, e = lab[order], e[order]
        starts = np.flatnonzero(np.r_[True, lab[1:] != lab[:-1]])
        group = np.repeat(np.arange(len(starts)), np.diff(np.r_[starts, len(lab)]))
        j = np.arange(len(lab)) - starts[group] + 1  # 1-based rank inside the depression
        csum = np.cumsum(e)
        s = csum - np.r_[0.0, csum][starts[group]]  # sum of the j lowest elevations
        vol_at = area * (j * e - s)  # stored volume when the level is at the j-th lowest cell
        run_by_label = np.zeros(n_all + 1)
        run_by_label[dep["label"].to_numpy(dtype=int)] = runoff
        ok = vol_at <= run_by_label[lab]   # always true for the lowest cell (volume 0)
        last = pd.Series(np.where(ok, np.arange(len(lab)), -1)).groupby(group).max().to_numpy()
        glab = lab[starts]
        level_by_label[glab] = (run_by_label[glab] / area + s[last]) / j[last]
    spill_level = dep["spill_elev_m"].to_numpy(dtype=float)
    dl = dep["label"].to_numpy(dtype=int)
    level = np.where(spills, spill_level, np.minimum(level_by_label[dl], spill_level))
    level_grid = np.full(n_all + 1, -np.inf)   # label 0 (no depression): -inf, so depth 0
    level_grid[dl] = level
    bottom = dep["bottom_elev_m"].to_numpy(dtype=float)
    ids = dep["depression_id"].to_numpy()
    table = pd.DataFrame({
        "runoff_m3": np.round(own, 2),
        "inflow_m3": np.round(runoff, 2),
        "overflow_m3": np.round(overflow, 2),
        "downstream": [ids[row_of[int(d)]] if int(d) in row_of else "" for d in down],
        "fill_ratio": np.where(volume > 0, np.minimum(runoff / np.where(volume > 0, volume, 1),
                                                       1.0), 1.0),
        "spills": spills,
        "scenario_level_m": level,
        "scenario_depth_cm": np.round(np.maximum(level - bottom, 0) * 100, 1),
    }, index=dep.index)
    return table, level_grid


# --------------------------------------------------------------------------------------------
# Recorded points
# --------------------------------------------------------------------------------------------

def _eliminated(points: gpd.GeoDataFrame) -> NDArray[np.bool_]:
    values = set(_cfg()["recorded_points"]["eliminated_status"])
    if "status" not in points:
        return np.zeros(len(points), bool)
    return points["status"].astype(str).isin(values).to_numpy()


def match_recorded_points(points: gpd.GeoDataFrame, depressions: gpd.GeoDataFrame, *,
                          radius_m: float | None = None) -> gpd.GeoDataFrame:
    """Match recorded waterlogging points to predicted depressions.

    A point is explained by the nearest depression whose polygon lies within ``radius_m``
    (``recorded_points.match_radius_m``, default 30 m: GPS and sketch error).

    Returns
    -------
    GeoDataFrame
        The points with ``eliminated`` (status 已消除), ``depression_id``, ``distance_m``,
        ``predicted_depth_cm`` and ``explained``.

    Examples
    --------
    >>> from shapely.geometry import Point, box
    >>> deps = gpd.GeoDataFrame({"depression_id": ["D1"], "max_depth_m": [0.4]},
    ...                         geometry=[box(0, 0, 10, 10)], crs=4550)
    >>> pts = gpd.GeoDataFrame({"point_id": ["P1", "P2"], "status": ["已消除", "未整改"]},
    ...                        geometry=[Point(5, 5), Point(100, 100)], crs=4550)
    >>> match_recorded_points(pts, deps)[["point_id", "explained", "eliminated"]].values.tolist()
    [['P1', True, True], ['P2', False, False]]
    """
    radius = float(_cfg()["recorded_points"]["match_radius_m"] if radius_m is None else radius_m)
    out = points.copy().reset_index(drop=True)
    out["eliminated"] = _eliminated(out)
    out["depression_id"] = None
    out["distance_m"] = np.nan
    out["predicted_depth_cm"] = np.nan
    if len(out) and len(depressions):
        dep = depressions
        geoms = out.geometry
        if dep.crs is not None and out.crs is not None and dep.crs != out.crs:
            geoms = geoms.to_crs(dep.crs)      # distances in the depressions' metres
        tree = shapely.STRtree(dep.geometry.values)
        ip, idep = tree.query(geoms.values, predicate="dwithin", distance=radius)
        if len(ip):
            dist = shapely.distance(geoms.values[ip], dep.geometry.values[idep])
            m = pd.DataFrame({"p": ip, "d": idep, "dist": dist}).sort_values(["p", "dist", "d"])
            m = m.drop_duplicates("p")
            p, di = m["p"].to_numpy(), m["d"].to_numpy()
            out.loc[p, "depression_id"] = dep["depression_id"].to_numpy()[di]
            out.loc[p, "distance_m"] = np.round(m["dist"].to_numpy(), 1)
            out.loc[p, "predicted_depth_cm"] = np.round(
                dep["max_depth_m"].to_numpy(dtype=float)[di] * 100, 1)
    out["explained"] = out["depression_id"].notna()
    return out


def built_up_area_km2(buildings: gpd.GeoDataFrame | None, *, cell_m: float | None = None,
                      boundary: gpd.GeoDataFrame | None = None) -> float:
    """Built-up area (建成区面积, km2) for the waterlogging-point density.

    The bureau's official figure (``density.built_up_area_km2`` in ``waterlogging.yaml``) wins;
    otherwise the area of the ``cell_m`` grid cells holding at least one building; without
    buildings, the area of the boundary.

    >>> from shapely.geometry import box
    >>> b = gpd.GeoDataFrame(geometry=[box(10, 10, 20, 20), box(30, 30, 40, 40),
    ...                                box(150, 10, 160, 20)], crs=4550)
    >>> built_up_area_km2(b, cell_m=100)
    0.02
    """
    cfg = _cfg()["density"]
    if cfg.get("built_up_area_km2"):
        return float(cfg["built_up_area_km2"])
    cell = float(cfg["built_up_cell_m"] if cell_m is None else cell_m)
    if buildings is not None and len(buildings):
        pts = shapely.point_on_surface(buildings.geometry.values)
        xy = shapely.get_coordinates(pts)
        cells = np.unique(np.floor(xy / cell).astype(np.int64), axis=0)
        return round(len(cells) * cell * cell / 1e6, 6)
    if boundary is not None and len(boundary):
        return float(boundary.geometry.area.sum()) / 1e6
    return float("nan")


# --------------------------------------------------------------------------------------------
# Findings
# --------------------------------------------------------------------------------------------

def _severity(depth_cm: NDArray[np.float64]) -> list[str]:
    sev = _cfg()["depressions"]["severity_cm"]
    return np.where(depth_cm >= sev["high"], "high",
                    np.where(depth_cm >= sev["medium"], "medium", "low")).tolist()


def waterlogging_findings(depressions: gpd.GeoDataFrame, roads: gpd.GeoDataFrame,
                          points: gpd.GeoDataFrame, *, grids: gpd.GeoDataFrame | None = None,
                          crs: Any = None) -> gpd.GeoDataFrame:
    """Findings of the four rules from reported depressions, roads at risk and matched points.

    * ``depression``: every reported depression (deepest water >= 15 cm, GB 51222-2017 §3.2);
    * ``road_ponding``: every predicted wet road segment (one-lane rule, GB 51222 / GB 50014),
      with the rain scenario's depth there when ``roads`` has ``scenario_depth_cm``;
    * ``recorded_point_unexplained``: recorded points not eliminated that no depression explains;
    * ``survey_candidate``: reported depressions with no recorded point.
    """
    frames = []
    crs = crs or depressions.crs
    if len(depressions):
        d = depressions
        depth_cm = np.round(d["max_depth_m"].to_numpy(dtype=float) * 100, 1)
        measures = [{"max_depth_cm": dc, "area_m2": a, "volume_m3": v,
                     "contributing_area_m2": ca, "spill_elev_m": s, "rank": int(rk),
                     **({"spills": bool(sp), "runoff_m3": ro} if "spills" in d else {})}
                    for dc, a, v, ca, s, rk, sp, ro in zip(
                        depth_cm, d["area_m2"], d["volume_m3"], d["contributing_area_m2"],
                        d["spill_elev_m"], d["rank"],
                        d["spills"] if "spills" in d else [None] * len(d),
                        d["runoff_m3"] if "runoff_m3" in d else [None] * len(d))]
        frames.append(make_findings(
            rule="depression",
            title=[f"{rule_spec('depression').title}：最大积水深度 {dc:.0f} 厘米，"
                   f"容积 {v:.0f} 立方米" for dc, v in zip(depth_cm, d["volume_m3"])],
            feature_ids=[[i] for i in d["depression_id"]], layer="dem",
            geometry=d.geometry.values, measures=measures, measure_key="max_depth_cm",
            measure_unit="cm", severity=_severity(depth_cm), crs=crs))
        if "survey_candidate" in d:
            c = d[d["survey_candidate"]]
            if len(c):
                cd = np.round(c["max_depth_m"].to_numpy(dtype=float) * 100, 1)
                frames.append(make_findings(
                    rule="survey_candidate",
                    title=[f"{rule_spec('survey_candidate').title}：预测最大积水 {x:.0f} 厘米"
                           for x in cd],
                    feature_ids=[[i] for i in c["depression_id"]], layer="dem",
                    geometry=c.geometry.values,
                    measures=[{"max_depth_cm": x, "volume_m3": v, "survey_rank": int(r)}
                              for x, v, r in zip(cd, c["volume_m3"],
                                                 c.get("survey_rank", pd.Series(0, index=c.index)))],
                    measure_key="max_depth_cm", measure_unit="cm", severity=_severity(cd),
                    crs=crs))
    if len(roads):
        frames.append(make_findings(
            rule="road_ponding",
            title=[f"{rule_spec('road_ponding').title}：{n or rid} 积水 {dc:.0f} 厘米，长 {ln:.0f} 米"
                   for rid, n, dc, ln in zip(roads["road_id"], roads["name"].fillna(""),
                                             roads["max_depth_cm"], roads["wet_length_m"])],
            feature_ids=[[r, dd] for r, dd in
                                       zip(roads["road_id"], roads["depression_id"])],
            layer="roads", geometry=roads.geometry.values,
            measures=[{"max_depth_cm": dc, "wet_length_m": ln, "wet_area_m2": wa,
                       **({"scenario_depth_cm": sc} if "scenario_depth_cm" in roads else {})}
                      for dc, ln, wa, sc in zip(
                          roads["max_depth_cm"], roads["wet_length_m"], roads["wet_area_m2"],
                          roads["scenario_depth_cm"] if "scenario_depth_cm" in roads
                          else [None] * len(roads))],
            measure_key="max_depth_cm", measure_unit="cm",
            severity=_severity(roads["max_depth_cm"].to_numpy(dtype=float)), crs=crs))
    if len(points):
        u = points[~points["explained"] & ~points["eliminated"]]
        u = u[~u["point_id"].astype(str).duplicated()]   # one finding per point id
        if len(u):
            depth = (pd.to_numeric(u["max_depth_cm"], errors="coerce") if "max_depth_cm" in u
                     else pd.Series(np.nan, index=u.index))
            observed = ([str(v)[:10] if pd.notna(v) else "" for v in u["recorded_on"]]
                        if "recorded_on" in u else "")
            frames.append(make_findings(
                rule="recorded_point_unexplained",
                feature_ids=[[p] for p in u["point_id"].astype(str)],
                layer="waterlogging_points", geometry=u.geometry.values,
                measures=[{"recorded_depth_cm": x, "status": s} for x, s in
                          zip(depth, u["status"].astype(str) if "status" in u else [""] * len(u))],
                measure_key="recorded_depth_cm", measure_unit="cm",
                severity=["high" if sv == "high" else "medium"
                          for sv in _severity(depth.fillna(0).to_numpy(dtype=float))],
                observed_at=observed, crs=crs))
    out = concat_findings(frames) if frames else empty_findings(crs)
    return assign_grids(out, grids) if grids is not None else out


# --------------------------------------------------------------------------------------------
# The whole analysis
# --------------------------------------------------------------------------------------------

def analyse_waterlogging(dem: DEM | Catalog, *, roads: gpd.GeoDataFrame | None = None,
                         points: gpd.GeoDataFrame | None = None,
                         buildings: gpd.GeoDataFrame | None = None,
                         grids: gpd.GeoDataFrame | None = None,
                         rain_mm: float | None = None, runoff_coefficient: float | None = None,
                         as_of: dt.date | None = None,
                         boundary: Any = None, detail: bool = True) -> WaterloggingResult:
    """Run the whole waterlogging analysis on a DEM (or a catalog's DEM) and the layers given.

    ``as_of`` drops recorded points recorded after that day; ``boundary`` (working CRS) keeps
    the depressions touching the city. Survey candidates (depressions with no recorded point)
    are ranked by volume (``survey_rank``) and capped at ``survey_candidates.max``. With
    ``detail=False`` (the weekly check) ``analysis.catchment`` is let go (an empty grid) once the
    rain scenario has followed it (the 1M city's: 140 MB). See the module docstring's example.
    """
    if isinstance(dem, Catalog):
        from ..validate.load import city_boundary

        boundary = city_boundary(dem) if boundary is None else boundary
        dem = load_catalog_dem(dem)
    analysis = analyse_depressions(dem)
    rep = reported_depressions(analysis.depressions, cell_size_m=float(min(dem.cell_size)),
                               boundary=boundary)
    # the scenario's levels: its depth is made a block of rows at a time where needed
    scen, slevel = _scenario_levels(analysis, rain_mm=rain_mm,
                                    runoff_coefficient=runoff_coefficient, depressions=rep,
                                    cascade=True)
    analysis = analysis if detail else replace(analysis, catchment=np.zeros((0, 0), np.int32))
    wet = roads_at_risk(analysis, roads, depressions=rep)
    rep = pd.concat([rep, scen], axis=1)
    swet = roads_at_risk(analysis, roads, level=slevel, depressions=rep)
    if points is None:
        points = gpd.GeoDataFrame({"point_id": [], "status": []},
                                  geometry=gpd.GeoSeries([], crs=dem.crs), crs=dem.crs)
    pts = points
    if as_of is not None and "recorded_on" in pts and len(pts):
        rec = pd.to_datetime(pts["recorded_on"], errors="coerce")
        pts = pts[rec.isna() | (rec.dt.date <= as_of)]
    matched = match_recorded_points(pts, rep)
    counts = matched.loc[matched["explained"], "depression_id"].value_counts()
    rep["recorded_points"] = rep["depression_id"].map(counts).fillna(0).astype(int)
    unrecorded = (rep["recorded_points"] == 0).to_numpy()
    order = rep["volume_m3"].to_numpy().argsort(kind="stable")[::-1]
    rank = np.zeros(len(rep), dtype=int)
    ranked = order[unrecorded[order]]
    rank[ranked] = np.arange(1, len(ranked) + 1)
    rep["survey_rank"] = rank
    rep["survey_candidate"] = unrecorded & (rank <= int(_cfg()["survey_candidates"]["max"]))
    rep["on_road"] = rep["depression_id"].isin(set(wet["depression_id"]))
    if len(wet):  # the rain scenario's depth on each segment at risk (0: below the threshold)
        sc = swet.set_index(["road_id", "depression_id"])["max_depth_cm"]
        key = pd.MultiIndex.from_frame(wet[["road_id", "depression_id"]])
        wet["scenario_depth_cm"] = sc.reindex(key).fillna(0.0).to_numpy()
    crs = dem.crs.to_string()  # "EPSG:4550" for the working CRS, as the other checks write it
    rep = gpd.GeoDataFrame(rep, geometry="geometry", crs=crs)
    findings = waterlogging_findings(rep, wet, matched, grids=grids, crs=crs)
    active = ~matched["eliminated"]
    built = built_up_area_km2(buildings)
    cfg = _cfg()
    n_pts = int(len(matched))
    summary = {
        "depressions": int(len(rep)),
        "depressions_all": int(len(analysis.depressions)),
        "storage_m3": round(float(rep["volume_m3"].sum()), 1) if len(rep) else 0.0,
        "spilling": int(rep["spills"].sum()) if len(rep) else 0,
        "roads_at_risk": int(wet["road_id"].nunique()) if len(wet) else 0,
        "road_segments": int(len(wet)),
        "wet_road_length_m": round(float(wet["wet_length_m"].sum()), 1) if len(wet) else 0.0,
        "scenario_road_segments": int(len(swet)),
        "points": n_pts,
        "points_active": int(active.sum()),
        "points_eliminated": int(matched["eliminated"].sum()),
        "points_explained": int(matched["explained"].sum()),
        "hit_rate": float(matched["explained"].mean()) if n_pts else float("nan"),
        "unexplained": int((~matched["explained"] & active).sum()),
        "depressions_recorded": int((rep["recorded_points"] > 0).sum()) if len(rep) else 0,
        "survey_candidates": int(rep["survey_candidate"].sum()) if len(rep) else 0,
        "built_up_km2": built,
        "density_per_km2": (round(float(active.sum()) / built, 4)
                            if built and np.isfinite(built) else float("nan")),
        "rain_mm": float(cfg["rain"]["rain_mm"] if rain_mm is None else rain_mm),
        "runoff_coefficient": float(cfg["rain"]["runoff_coefficient"] if runoff_coefficient
                                    is None else runoff_coefficient),
        "voids_filled": int(dem.voids["cells"].sum()) if len(dem.voids) else 0,
    }
    return WaterloggingResult(analysis=analysis, depressions=rep, roads=wet, scenario_roads=swet,
                              points=matched, scenario_level=slevel, summary=summary,
                              findings=findings)


def run_check(catalog: Catalog, layers: dict[str, gpd.GeoDataFrame] | None, *,
              as_of: dt.date | None = None) -> gpd.GeoDataFrame:
    """The weekly waterlogging check (task 2.1.8, lead 住建局): findings in the shared schema.

    Uses the catalog's ``dem`` raster and the ``roads``, ``waterlogging_points`` and ``grids``
    layers when ``layers`` holds them.
    """
    layers = layers or {}
    spec = catalog.layers.get("dem")
    if spec is None or spec.path is None:
        return empty_findings(crs=catalog.working_crs)  # no DEM: the weekly run reports the skip
    from ..validate.load import city_boundary

    res = analyse_waterlogging(
        load_catalog_dem(catalog), roads=layers.get("roads"),
        points=layers.get("waterlogging_points"), buildings=None, grids=layers.get("grids"),
        as_of=as_of, boundary=city_boundary(catalog), detail=False)
    return res.findings
