"""Validate the rows of one source against its catalog entry and bring them to the working CRS.

Order: rows the reader could not use (notes) -> geometry checks and repair -> coordinate system
(declared, stated by the file, or inferred; lat/lon swaps; metres declared as degrees; GCJ-02 /
BD-09 to WGS84) -> attributes (types, domains, required, duplicate ids) -> features outside the
city boundary. Every input row ends up either in the clean frame or in ``rejected`` with its
reason: ``rows_in == len(gdf) + len(rejected)``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

import geopandas as gpd
from geopandas.array import GeometryArray
import numpy as np
import pandas as pd
import pyproj
import shapely

from ..catalog import LayerSpec
from ..crs import (OBFUSCATED, check_declared_crs, crs_label, infer_crs, is_geographic,
                   recognise_crs, swapped_lat_lon, to_wgs84)
from ..errors import CRSError
from .attributes import ROW_REF, arrow_duplicated_first, check_attributes
from ._pool import POOL, THREAD_MIN_ROWS
from .geometry import check_geometries, wkb_convex_valid
from .report import concat_issues, empty_issues, make_issues

__all__ = ["ValidationResult", "validate_frame", "Region"]

_POOL = POOL
_THREAD_MIN_ROWS = THREAD_MIN_ROWS

#: lon/lat box (west, south, east, north)
Region = tuple[float, float, float, float]


@dataclass
class ValidationResult:
    """Clean rows in the working CRS, rejected rows with reasons, and the issue report."""

    gdf: gpd.GeoDataFrame
    rejected: pd.DataFrame
    issues: pd.DataFrame
    rows: np.ndarray
    rows_in: int
    source_crs: str | None = None
    notes: list[str] = field(default_factory=list)


def _project_wgs84_geoms(geoms: np.ndarray, crs: Any) -> np.ndarray:
    if crs is None:
        return geoms
    c = pyproj.CRS(crs)
    if c.is_geographic and c.to_epsg() in (4326, 4490):
        return geoms
    tr = pyproj.Transformer.from_crs(c, "EPSG:4326", always_xy=True)
    return shapely.transform(geoms, lambda xy: np.column_stack(tr.transform(xy[:, 0], xy[:, 1])))


def validate_frame(gdf: gpd.GeoDataFrame, spec: LayerSpec, *, rows: np.ndarray | None = None,
                   path: str | None = None, working_crs: str = "EPSG:4550",
                   notes: list[dict[str, Any]] | None = None, region: Region | None = None,
                   boundary: shapely.Geometry | None = None, boundary_tolerance: float = 0.0,
                   crs_override: str | None = None, fill_missing: bool = False,
                   source_names: dict[str, str] | None = None,
                   check_region: bool = True, wkb: Any = None,
                   convex: Any = None) -> ValidationResult:
    """Validate rows already renamed to canonical field names.

    Parameters
    ----------
    gdf : GeoDataFrame
        Source rows (CRS as stated by the file, possibly ``None``).
    spec : LayerSpec
        Catalog entry (``geometry``, ``crs``, ``fields``, ``id_field``).
    rows : array of int, optional
        1-based source row of each gdf row (default 1..n).
    region : (w, s, e, n), optional
        Lon/lat box of the city, to judge coordinate systems and lat/lon swaps.
    boundary : shapely geometry, optional
        City boundary in the working CRS; features farther than ``boundary_tolerance`` metres
        outside it are reported (warning).
    crs_override : str, optional
        Coordinate system given on the command line; wins over the catalog and the file.
    fill_missing : bool
        CAD drawings: absent attribute fields become empty columns instead of rejecting all rows.
    wkb : pyarrow binary array, optional
        The WKB the geometries came from; lets simple convex polygons skip the GEOS validity test.
    convex : tuple or Future, optional
        ``(convex-valid mask, bounds[, decoded mask])`` already computed from the WKB (the
        reader gets them while it decodes the geometries, see :mod:`zlgis.io.wkb`); bounds are
        NaN where unknown and are recomputed for rows the geometry checks repair.

    Raises
    ------
    CRSError
        No CRS and none can be inferred unambiguously, or the coordinates contradict it.
    """
    layer = spec.id
    n = len(gdf)
    rows = np.arange(1, n + 1, dtype=np.int64) if rows is None else np.asarray(rows)
    rejected = np.zeros(n, dtype=bool)
    reason: dict[int, str] = {}  # position -> why the row was rejected (first reason wins)
    rcode: dict[int, str] = {}
    frames: list[pd.DataFrame] = []

    def add(pos: np.ndarray, code: str, msgs: Any, action: str, fld: str | None = None) -> None:
        pos = np.asarray(pos, dtype=np.int64)
        rws = [None if p < 0 else rows[p] for p in pos]
        if isinstance(msgs, list):
            msgs = [ROW_REF.sub(lambda m: str(rows[int(m.group(1))]), x) for x in msgs]
        frames.append(make_issues(layer, path, rows=rws, codes=code, messages=msgs,
                                  actions=action, fields=fld))
        if action == "rejected":
            ok = pos[pos >= 0]
            new = ok[~rejected[ok]]
            m = msgs if isinstance(msgs, list) else [msgs] * len(pos)
            mm = dict(zip(pos.tolist(), m))
            for p in new.tolist():
                reason[p] = mm[p]
                rcode[p] = code
            if (pos < 0).any():  # whole layer
                for p in np.flatnonzero(~rejected).tolist():
                    reason[p] = m[0]
                    rcode[p] = code
                rejected[:] = True
            rejected[ok] = True

    # Large layers: attributes are checked in a worker thread while the geometry checks run on
    # this one (Arrow, numpy and GEOS release the GIL); duplicate ids of an Arrow string id
    # column are hashed in a second worker (str coercion leaves such a column unchanged).
    id_dups: Any = None
    attr_job: Any = None
    idf = spec.id_field
    attrs = pd.DataFrame(gdf.drop(columns=gdf.geometry.name), copy=False)
    if n >= _THREAD_MIN_ROWS:
        if (idf and idf in gdf.columns and idf in spec.fields
                and spec.fields[idf].type == "str" and hasattr(gdf[idf].array, "_pa_array")):
            id_dups = _POOL.submit(arrow_duplicated_first, gdf[idf])
        attr_job = _POOL.submit(_attributes, attrs, spec, source_names, fill_missing, id_dups)

    for note in notes or []:
        pos = -1 if note.get("pos") is None else int(note["pos"])
        add(np.array([pos]), note["code"], [note["message"]], note["action"], note.get("field"))

    if n == 0:
        add(np.array([-1]), "empty_layer", ["图层没有任何要素（0 行）"], "warning")

    # ---- geometry -------------------------------------------------------------------------
    geoms = np.asarray(gdf.geometry.array, dtype=object).copy()
    live = ~rejected
    all_live = bool(live.all())
    known = known_poly = None
    if convex is not None or (wkb is not None and len(wkb) == n):
        # bounds of the rows, filled from the WKB where known (NaN elsewhere)
        if convex is not None:
            parts = convex.result() if hasattr(convex, "result") else convex
        else:
            parts = wkb_convex_valid(wkb, return_bounds=True)
        kv, src_bounds = parts[0], parts[1]
        src_bounds = src_bounds.copy()  # filled in below; the reader's copy stays as read
        known = kv if all_live else kv[live]
        if len(parts) > 2:  # rows decoded as 2-D polygons: only their validity is unknown
            known_poly = parts[2] if all_live else parts[2][live]
    else:
        src_bounds = np.full((n, 4), np.nan)
    gc = check_geometries(geoms if all_live else geoms[live], spec.geometry, known_valid=known,
                          known_polygons=known_poly)
    live_idx = np.arange(n) if all_live else np.flatnonzero(live)
    if all_live:
        geoms = gc.geometries  # our copy, or check_geometries' own copy when it repaired rows
    else:
        geoms[live_idx] = gc.geometries
    for pos, code, msgs, action in gc.problems:
        add(live_idx[pos], code, msgs, action)
        if action in ("repaired", "dropped_z"):
            src_bounds[live_idx[pos]] = np.nan  # geometry changed: bounds recomputed below

    # ---- coordinate system ----------------------------------------------------------------
    declared: str | None = None
    if crs_override or spec.crs:
        declared = recognise_crs(crs_override or spec.crs)
        if declared is None:
            where = "命令行 --crs" if crs_override else "图层目录的 crs"
            raise CRSError(f"无法识别{where}：{crs_override or spec.crs}", path=path, layer=layer)
    file_crs = recognise_crs(gdf.crs) if gdf.crs is not None else None
    if gdf.crs is not None and file_crs is None:
        file_crs = gdf.crs.to_wkt()
    live = ~rejected
    all_live = bool(live.all())
    todo = live & np.isnan(src_bounds[:, 0])
    if todo.any():
        src_bounds[todo] = shapely.bounds(geoms[todo])
    bounds = _total(src_bounds if all_live else src_bounds[live])
    has_coords = bool(np.all(np.isfinite(bounds)))
    obf = declared if declared in OBFUSCATED else None
    src_crs: str | None
    if obf:
        src_crs = obf
        if file_crs is not None and not is_geographic(file_crs):
            geoms[live] = _project_wgs84_geoms(geoms[live], file_crs)
            src_bounds[live] = shapely.bounds(geoms[live])
            bounds = _total(src_bounds[live])
    elif declared:
        src_crs = declared
        if file_crs is not None and file_crs != declared:
            same = _same_crs(file_crs, declared)
            if not same:
                by = "命令行 --crs" if crs_override else "图层目录"
                add(np.array([-1]), "crs_overridden",
                    [f"文件声明坐标系 {crs_label(file_crs)}，{by}声明 {crs_label(declared)}，"
                     f"按{by}读取"], "warning")
    elif file_crs is not None:
        src_crs = file_crs
    elif has_coords:
        try:
            guess = infer_crs(bounds, region)
        except CRSError as exc:
            raise CRSError(exc.message, path=path, layer=layer) from None
        src_crs = guess.crs
        add(np.array([-1]), "crs_inferred", [guess.reason], "warning")
    else:
        src_crs = None

    if has_coords and src_crs is not None:
        if is_geographic(src_crs):
            # lat/lon swapped, row by row (points: their coordinate; others: bbox centre)
            b = src_bounds[live]
            cx, cy = (b[:, 0] + b[:, 2]) / 2, (b[:, 1] + b[:, 3]) / 2
            sw = swapped_lat_lon(cx, cy, region) if region is not None else (
                swapped_lat_lon(cx, cy) & (cy > 90))
            if sw.any():
                idx = np.flatnonzero(live)[sw]
                geoms[idx] = shapely.transform(geoms[idx], lambda xy: xy[:, ::-1])
                add(idx, "swapped_lat_lon",
                    [f"经纬度颠倒（经度 {cy[k]:.6f}，纬度 {cx[k]:.6f}），已对调"
                     for k in np.flatnonzero(sw)], "repaired")
                src_bounds[idx] = shapely.bounds(geoms[idx])
                bounds = _total(src_bounds[live])
        msg = check_declared_crs(bounds, src_crs if not obf else "EPSG:4326", region,
                                 strict=check_region)
        if msg:
            raise CRSError(msg, path=path, layer=layer)

    # ---- to the working CRS -----------------------------------------------------------------
    live = ~rejected
    all_live = bool(live.all())
    g = geoms if all_live else geoms[live]
    if src_crs is not None and len(g):
        if obf:
            def shift(xy: np.ndarray) -> np.ndarray:
                lng, lat = to_wgs84(xy[:, 0], xy[:, 1], obf)
                return np.column_stack([lng, lat])
            g = shapely.transform(g, shift)
            series = gpd.GeoSeries(g, crs="EPSG:4326")
        else:
            series = None
        if working_crs and not _same_crs(str(src_crs) if not obf else "EPSG:4326", working_crs):
            if series is None:
                series = gpd.GeoSeries(g, crs=src_crs)
            series = series.to_crs(working_crs)
            src_bounds = None  # moved: bounds must be recomputed
        if series is not None:
            g = np.asarray(series.array, dtype=object)
    if all_live:
        out_geoms = g
    else:
        out_geoms = np.empty(n, dtype=object)
        out_geoms[live] = g

    # ---- attributes ---------------------------------------------------------------------------
    ac = (attr_job.result() if attr_job is not None
          else _attributes(attrs, spec, source_names, fill_missing, None))
    # attribute problems are reported only for rows not already rejected
    for pos, code, msgs, action, fld in ac.problems:
        pos = np.asarray(pos)
        if (pos < 0).any():
            add(pos, code, msgs if isinstance(msgs, list) else [msgs], action, fld)
            continue
        keep = ~rejected[pos]
        if not keep.any():
            continue
        m = [msgs[k] for k in np.flatnonzero(keep)] if isinstance(msgs, list) else msgs
        add(pos[keep], code, m, action, fld)

    # ---- outside the city boundary (warning, kept) ------------------------------------------
    live = ~rejected
    all_live = bool(live.all())
    if boundary is not None and live.any() and src_crs is not None:
        lb = None if src_bounds is None or obf else (src_bounds if all_live else src_bounds[live])
        outside = _outside(out_geoms if all_live else out_geoms[live], boundary,
                           boundary_tolerance, lb)
        if outside.any():
            idx = np.flatnonzero(live)[outside]
            add(idx, "outside_boundary",
                f"位于市界之外（超出 {boundary_tolerance:g} 米以上），请核对坐标", "warning")

    keep = ~rejected
    frame = (ac.frame if keep.all() else ac.frame.loc[keep]).reset_index(drop=True)
    # the geometries are shapely objects or None already: wrap them without re-checking
    garr = GeometryArray(out_geoms[keep] if not keep.all() else out_geoms,
                         crs=working_crs if src_crs else None)
    clean = gpd.GeoDataFrame(frame, geometry=gpd.GeoSeries(garr, index=frame.index, copy=False))
    attrs_in = gdf.drop(columns=gdf.geometry.name)
    # no rejected row: an empty slice (a boolean take of nothing still scans Arrow columns)
    rej = pd.DataFrame(attrs_in.loc[rejected] if rejected.any() else attrs_in.iloc[:0]
                       ).reset_index(drop=True)
    rej.insert(0, "reject_row", rows[rejected])
    rpos = np.flatnonzero(rejected).tolist()
    rej.insert(1, "reject_code", [rcode[p] for p in rpos])
    rej.insert(2, "reject_reason", [reason[p] for p in rpos])
    issues = concat_issues(frames) if frames else empty_issues()
    return ValidationResult(clean, rej, issues, rows[keep], n,
                            None if src_crs is None else str(src_crs))


def _same_crs(a: Any, b: Any) -> bool:
    if isinstance(a, str) and isinstance(b, str):
        return _same_crs_str(a, b)
    try:
        return bool(pyproj.CRS(a) == pyproj.CRS(b))
    except pyproj.exceptions.CRSError:
        return False


def _attributes(attrs: pd.DataFrame, spec: LayerSpec, source_names: dict[str, str] | None,
                fill_missing: bool, id_dups: Any) -> Any:
    if id_dups is not None and id_dups.result() is None:
        id_dups = None
    return check_attributes(attrs, spec, source_names=source_names, fill_missing=fill_missing,
                            id_duplicates=id_dups)


@lru_cache(maxsize=256)
def _same_crs_str(a: str, b: str) -> bool:
    try:
        return bool(pyproj.CRS(a) == pyproj.CRS(b))
    except pyproj.exceptions.CRSError:
        return False


def _total(b: np.ndarray) -> np.ndarray:
    if len(b) == 0 or np.isnan(b[:, 0]).all():
        return np.array([np.nan] * 4)
    with np.errstate(invalid="ignore"):
        return np.array([np.nanmin(b[:, 0]), np.nanmin(b[:, 1]), np.nanmax(b[:, 2]),
                         np.nanmax(b[:, 3])])


#: (id of boundary, tolerance) -> (boundary, grown prepared area, inner-cell grid)
_AREA_CACHE: dict[tuple[int, float], tuple[Any, Any, tuple[Any, ...]]] = {}
_GRID = 128  # cells per side of the inner-cell grid of a boundary


def _boundary_area(boundary: shapely.Geometry, tol: float) -> tuple[shapely.Geometry,
                                                                     tuple[Any, ...]]:
    """The boundary grown by ``tol`` (prepared) and its grid of cells lying strictly inside it.

    Cached per boundary object (the city boundary is itself cached, so every layer of a run
    shares one). The grid is a ``_GRID`` x ``_GRID`` raster over the area's bounding box; a cell
    counts as inner when the cell, grown by a millionth of its size (against rounding when a
    point is assigned to its cell), lies in the interior of the area.
    """
    key = (id(boundary), float(tol))
    hit = _AREA_CACHE.get(key)
    if hit is not None and hit[0] is boundary:
        return hit[1], hit[2]
    area = boundary.buffer(tol) if tol > 0 else boundary
    shapely.prepare(area)
    x0, y0, x1, y1 = shapely.bounds(area)
    w, h = (x1 - x0) / _GRID, (y1 - y0) / _GRID
    if np.isfinite([x0, y0, w, h]).all() and w > 0 and h > 0:
        ix, iy = np.meshgrid(np.arange(_GRID), np.arange(_GRID))
        ex, ey = w * 1e-6, h * 1e-6
        cells = shapely.box((x0 + ix * w - ex).ravel(), (y0 + iy * h - ey).ravel(),
                            (x0 + (ix + 1) * w + ex).ravel(), (y0 + (iy + 1) * h + ey).ravel())
        inner = shapely.contains_properly(area, cells)
        grid: tuple[Any, ...] = (x0, y0, _GRID / (x1 - x0), _GRID / (y1 - y0), inner)
    else:
        grid = ()
    if len(_AREA_CACHE) > 8:
        _AREA_CACHE.clear()
    _AREA_CACHE[key] = (boundary, area, grid)
    return area, grid


def _outside(geoms: np.ndarray, boundary: shapely.Geometry, tol: float,
             bounds: np.ndarray | None = None) -> np.ndarray:
    """Rows farther than ``tol`` outside ``boundary``.

    A row whose bounding-box centre lies inside the (grown) boundary intersects it; the centres
    falling in a grid cell strictly inside the boundary are settled with numpy alone, the other
    centres with a prepared ``contains_xy``, and only the rows whose centre is outside are tested
    with ``intersects``.
    """
    area, grid = _boundary_area(boundary, tol)
    b = shapely.bounds(geoms) if bounds is None else bounds
    cx, cy = (b[:, 0] + b[:, 2]) / 2, (b[:, 1] + b[:, 3]) / 2
    inside = np.zeros(len(geoms), dtype=bool)
    if grid:
        x0, y0, sx, sy, inner = grid
        with np.errstate(invalid="ignore"):
            fx, fy = (cx - x0) * sx, (cy - y0) * sy
            ok = (fx >= 0) & (fx < _GRID) & (fy >= 0) & (fy < _GRID)  # False for NaN
        cell = np.where(ok, fy, 0).astype(np.intp) * _GRID + np.where(ok, fx, 0).astype(np.intp)
        inside = ok & inner[cell]
    rest = np.flatnonzero(~inside)
    if len(rest):
        inside[rest] = shapely.contains_xy(area, cx[rest], cy[rest])
    out = np.zeros(len(geoms), dtype=bool)
    rest = np.flatnonzero(~inside)
    if len(rest):
        out[rest] = ~shapely.intersects(area, geoms[rest])
    return out
