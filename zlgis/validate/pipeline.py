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
import numpy as np
import pandas as pd
import pyproj
import shapely
from geopandas.array import GeometryArray

from ..catalog import LayerSpec
from ..crs import (
    OBFUSCATED,
    check_declared_crs,
    crs_label,
    geo_frame,
    infer_crs,
    is_geographic,
    recognise_crs,
    swapped_lat_lon,
    to_wgs84,
    transformer,
)
from ..errors import CRSError
from ._pool import THREAD_MIN_ROWS, pool
from .attributes import ROW_REF, arrow_duplicated_first, check_attributes
from .geometry import check_geometries
from .report import concat_issues, empty_issues, make_issues

__all__ = ["ValidationResult", "validate_frame", "Region", "points_to_crs"]

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
    tr = transformer(c)
    return shapely.transform(geoms, lambda xy: np.column_stack(tr.transform(xy[:, 0], xy[:, 1])))


def validate_frame(gdf: gpd.GeoDataFrame, spec: LayerSpec, *, rows: np.ndarray | None = None,
                   path: str | None = None, working_crs: str = "EPSG:4550",
                   notes: list[dict[str, Any]] | None = None, region: Region | None = None,
                   boundary: shapely.Geometry | None = None, boundary_tolerance: float = 0.0,
                   crs_override: str | None = None, fill_missing: bool = False,
                   source_names: dict[str, str] | None = None,
                   check_region: bool = True) -> ValidationResult:
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

    Raises
    ------
    CRSError
        No CRS and none can be inferred unambiguously, or the coordinates contradict it.
    """
    n = len(gdf)
    st = _Run(spec.id, path, np.arange(1, n + 1, dtype=np.int64) if rows is None
              else np.asarray(rows), np.zeros(n, dtype=bool))
    # Large layers: attributes are checked in a worker thread while the geometry checks run on
    # this one (Arrow, numpy and GEOS release the GIL); duplicate ids of an Arrow string id
    # column are hashed in a second worker (str coercion leaves such a column unchanged).
    attrs = pd.DataFrame(gdf.drop(columns=gdf.geometry.name), copy=False)
    attr_job: Any = None
    if n >= THREAD_MIN_ROWS:
        idf = spec.id_field
        id_dups = (pool().submit(arrow_duplicated_first, gdf[idf])
                   if (idf and idf in gdf.columns and idf in spec.fields
                       and spec.fields[idf].type == "str" and hasattr(gdf[idf].array, "_pa_array"))
                   else None)
        attr_job = pool().submit(_attributes, attrs, spec, source_names, fill_missing, id_dups)
    for note in notes or []:
        pos = -1 if note.get("pos") is None else int(note["pos"])
        st.add(np.array([pos]), note["code"], [note["message"]], note["action"], note.get("field"))
    if n == 0:
        st.add(np.array([-1]), "empty_layer", ["图层没有任何要素（0 行）"], "warning")
    geoms, src_bounds = _check_geometry(st, gdf, spec)
    crs = _source_crs(st, gdf, spec, geoms, src_bounds, crs_override, region)
    if crs.has_coords and crs.src is not None:
        if is_geographic(crs.src):
            crs.bounds = _swap_lat_lon(st, geoms, src_bounds, region)
        msg = check_declared_crs(crs.bounds, crs.src if not crs.obf else "EPSG:4326", region,
                                 strict=check_region)
        if msg:
            raise CRSError(msg, path=path, layer=spec.id)
    out_geoms, moved = _to_working_crs(st, geoms, crs, working_crs)
    ac = (attr_job.result() if attr_job is not None
          else _attributes(attrs, spec, source_names, fill_missing, None))
    _attribute_problems(st, ac.problems)
    live = ~st.rejected
    if boundary is not None and live.any() and crs.src is not None:
        # outside the city boundary: a warning, the rows are kept
        lb = None if moved or crs.obf else src_bounds[live]
        outside = _outside(out_geoms[live], boundary, boundary_tolerance, lb)
        if outside.any():
            st.add(np.flatnonzero(live)[outside], "outside_boundary",
                   f"位于市界之外（超出 {boundary_tolerance:g} 米以上），请核对坐标", "warning")
    return _result(st, attrs, ac.frame, out_geoms, working_crs, crs.src)


@dataclass
class _Run:
    """What one :func:`validate_frame` call has found so far."""

    layer: str
    path: str | None
    rows: np.ndarray
    rejected: np.ndarray
    reason: dict[int, str] = field(default_factory=dict)  # position -> why (first reason wins)
    rcode: dict[int, str] = field(default_factory=dict)
    frames: list[pd.DataFrame] = field(default_factory=list)

    def add(self, pos: np.ndarray, code: str, msgs: Any, action: str,
            fld: str | None = None) -> None:
        """Report rows ``pos`` (-1: the whole layer); ``rejected`` rows leave the layer."""
        pos = np.asarray(pos, dtype=np.int64)
        rows = self.rows
        rws = [None if p < 0 else rows[p] for p in pos]
        if isinstance(msgs, list):
            msgs = [ROW_REF.sub(lambda m: str(rows[int(m.group(1))]), x) for x in msgs]
        self.frames.append(make_issues(self.layer, self.path, rows=rws, codes=code,
                                       messages=msgs, actions=action, fields=fld))
        if action != "rejected":
            return
        ok = pos[pos >= 0]
        new = ok[~self.rejected[ok]]
        m = msgs if isinstance(msgs, list) else [msgs] * len(pos)
        mm = dict(zip(pos.tolist(), m))
        for p in new.tolist():
            self.reason[p] = mm[p]
            self.rcode[p] = code
        if (pos < 0).any():  # whole layer
            for p in np.flatnonzero(~self.rejected).tolist():
                self.reason[p] = m[0]
                self.rcode[p] = code
            self.rejected[:] = True
        self.rejected[ok] = True


def _check_geometry(st: _Run, gdf: gpd.GeoDataFrame, spec: LayerSpec
                    ) -> tuple[np.ndarray, np.ndarray]:
    """Geometry checks (GEOS, every row) and repairs of the live rows; returns the geometries
    and their bounds (NaN: computed later, in :func:`_source_crs`)."""
    n = len(gdf)
    geoms = np.asarray(gdf.geometry.array, dtype=object).copy()
    live = ~st.rejected
    all_live = bool(live.all())
    src_bounds = np.full((n, 4), np.nan)
    gc = check_geometries(geoms if all_live else geoms[live], spec.geometry)
    live_idx = np.arange(n) if all_live else np.flatnonzero(live)
    if all_live:
        geoms = gc.geometries  # our copy, or check_geometries' own copy when it repaired rows
    else:
        geoms[live_idx] = gc.geometries
    for pos, code, msgs, action in gc.problems:
        st.add(live_idx[pos], code, msgs, action)
    return geoms, src_bounds


@dataclass
class _SourceCRS:
    src: str | None        # coordinate system the coordinates are in
    obf: str | None        # gcj02 / bd09 when the coordinates are obfuscated
    bounds: np.ndarray     # total bounds of the live rows, in ``src``
    has_coords: bool


def _source_crs(st: _Run, gdf: gpd.GeoDataFrame, spec: LayerSpec, geoms: np.ndarray,
                src_bounds: np.ndarray, crs_override: str | None, region: Region | None
                ) -> _SourceCRS:
    """The coordinate system of the rows: command line, catalog, file, or inferred."""
    declared: str | None = None
    if crs_override or spec.crs:
        declared = recognise_crs(crs_override or spec.crs)
        if declared is None:
            where = "命令行 --crs" if crs_override else "图层目录的 crs"
            raise CRSError(f"无法识别{where}：{crs_override or spec.crs}", path=st.path,
                           layer=st.layer)
    file_crs = recognise_crs(gdf.crs) if gdf.crs is not None else None
    if gdf.crs is not None and file_crs is None:
        file_crs = gdf.crs.to_wkt()
    live = ~st.rejected
    todo = live & np.isnan(src_bounds[:, 0])
    if todo.any():
        src_bounds[todo] = shapely.bounds(geoms[todo])
    bounds = _total(src_bounds[live])
    has_coords = bool(np.all(np.isfinite(bounds)))
    obf = declared if declared in OBFUSCATED else None
    src: str | None = None
    if obf:
        src = obf
        if file_crs is not None and not is_geographic(file_crs):
            geoms[live] = _project_wgs84_geoms(geoms[live], file_crs)
            src_bounds[live] = shapely.bounds(geoms[live])
            bounds = _total(src_bounds[live])
    elif declared:
        src = declared
        if file_crs is not None and file_crs != declared and not _same_crs(file_crs, declared):
            by = "命令行 --crs" if crs_override else "图层目录"
            st.add(np.array([-1]), "crs_overridden",
                   [f"文件声明坐标系 {crs_label(file_crs)}，{by}声明 {crs_label(declared)}，"
                    f"按{by}读取"], "warning")
    elif file_crs is not None:
        src = file_crs
    elif has_coords:
        try:
            guess = infer_crs(bounds, region)
        except CRSError as exc:
            raise CRSError(exc.message, path=st.path, layer=st.layer) from None
        src = guess.crs
        st.add(np.array([-1]), "crs_inferred", [guess.reason], "warning")
    return _SourceCRS(src, obf, bounds, has_coords)


def _swap_lat_lon(st: _Run, geoms: np.ndarray, src_bounds: np.ndarray, region: Region | None
                  ) -> np.ndarray:
    """Swap lat/lon row by row where they are swapped (points: their coordinate; others: bbox
    centre); returns the new total bounds of the live rows."""
    live = ~st.rejected
    b = src_bounds[live]
    cx, cy = (b[:, 0] + b[:, 2]) / 2, (b[:, 1] + b[:, 3]) / 2
    sw = swapped_lat_lon(cx, cy, region) if region is not None else (
        swapped_lat_lon(cx, cy) & (cy > 90))
    if sw.any():
        idx = np.flatnonzero(live)[sw]
        geoms[idx] = shapely.transform(geoms[idx], lambda xy: xy[:, ::-1])
        st.add(idx, "swapped_lat_lon",
               [f"经纬度颠倒（经度 {cy[k]:.6f}，纬度 {cx[k]:.6f}），已对调"
                for k in np.flatnonzero(sw)], "repaired")
        src_bounds[idx] = shapely.bounds(geoms[idx])
    return _total(src_bounds[live])


def _to_working_crs(st: _Run, geoms: np.ndarray, crs: _SourceCRS, working_crs: str
                    ) -> tuple[np.ndarray, bool]:
    """Live geometries in the working CRS (rejected rows None), and whether they moved."""
    live = ~st.rejected
    all_live = bool(live.all())
    g = geoms if all_live else geoms[live]
    moved = False
    if crs.src is not None and len(g):
        series = None
        to_working = bool(working_crs) and not _same_crs(
            str(crs.src) if not crs.obf else "EPSG:4326", working_crs)
        pts = points_to_crs(g, crs.src if not crs.obf else "EPSG:4326",
                            working_crs if to_working else None, obf=crs.obf)
        if pts is not None:
            g = pts
        elif crs.obf:
            obf = crs.obf

            def shift(xy: np.ndarray) -> np.ndarray:
                lng, lat = to_wgs84(xy[:, 0], xy[:, 1], obf)
                return np.column_stack([lng, lat])
            series = gpd.GeoSeries(shapely.transform(g, shift), crs="EPSG:4326")
        if to_working:
            if pts is None:
                if series is None:
                    series = gpd.GeoSeries(g, crs=crs.src)
                series = series.to_crs(working_crs)
            moved = True  # bounds must be recomputed
        if series is not None:
            g = np.asarray(series.array, dtype=object)
    if all_live:
        return g, moved
    out = np.empty(len(geoms), dtype=object)
    out[live] = g
    return out, moved


def points_to_crs(geoms: np.ndarray, src: Any, dst: Any, *, obf: str | None = None
                  ) -> np.ndarray | None:
    """``GeoSeries(geoms, crs=src).to_crs(dst)`` for an array of 2-D points, built with
    :func:`shapely.points` from the transformed coordinates (half the CPU of copying every point
    and setting its coordinates); ``None`` when ``geoms`` are not all non-empty 2-D points, or
    when there is nothing to do (``dst`` None and no ``obf``).

    ``obf`` (``gcj02``/``bd09``): the coordinates are first shifted to WGS84 (``src`` is then
    EPSG:4326), as ``shapely.transform(geoms, to_wgs84)`` does. The same transformation as
    geopandas' (``Transformer.from_crs(src, dst, always_xy=True)``), so the same coordinates,
    bit for bit (``tests/validate/test_pipeline.py``).
    """
    if (dst is None and not obf) or not len(geoms) or \
            not bool((shapely.get_type_id(geoms) == 0).all()) or bool(shapely.has_z(geoms).any()):
        return None
    coords = shapely.get_coordinates(geoms)
    if len(coords) != len(geoms):  # empty points have no coordinates
        return None
    x, y = coords[:, 0], coords[:, 1]
    if obf:
        x, y = to_wgs84(x, y, obf)
    if dst is not None:
        a, b = pyproj.CRS.from_user_input(src), pyproj.CRS.from_user_input(dst)
        if not a.is_exact_same(b):
            x, y = transformer(a, b).transform(x, y)
        elif not obf:
            return geoms
    return shapely.points(np.asarray(x, dtype=float), np.asarray(y, dtype=float))


def _attribute_problems(st: _Run, problems: list[Any]) -> None:
    """Report attribute problems, only for rows not already rejected."""
    for pos, code, msgs, action, fld in problems:
        pos = np.asarray(pos)
        if (pos < 0).any():
            st.add(pos, code, msgs if isinstance(msgs, list) else [msgs], action, fld)
            continue
        keep = ~st.rejected[pos]
        if not keep.any():
            continue
        m = [msgs[k] for k in np.flatnonzero(keep)] if isinstance(msgs, list) else msgs
        st.add(pos[keep], code, m, action, fld)


def _result(st: _Run, attrs_in: pd.DataFrame, attr_frame: pd.DataFrame, out_geoms: np.ndarray,
            working_crs: str, src_crs: str | None) -> ValidationResult:
    keep = ~st.rejected
    frame = (attr_frame if keep.all() else attr_frame.loc[keep]).reset_index(drop=True)
    # the geometries are shapely objects or None already: wrap them without re-checking
    garr = GeometryArray(out_geoms[keep] if not keep.all() else out_geoms,
                         crs=working_crs if src_crs else None)
    clean = geo_frame(frame, garr)
    # no rejected row: an empty slice (a boolean take of nothing still scans Arrow columns)
    rej = pd.DataFrame(attrs_in.loc[st.rejected] if st.rejected.any() else attrs_in.iloc[:0]
                       ).reset_index(drop=True)
    rej.insert(0, "reject_row", st.rows[st.rejected])
    rpos = np.flatnonzero(st.rejected).tolist()
    rej.insert(1, "reject_code", [st.rcode[p] for p in rpos])
    rej.insert(2, "reject_reason", [st.reason[p] for p in rpos])
    issues = concat_issues(st.frames) if st.frames else empty_issues()
    return ValidationResult(clean, rej, issues, st.rows[keep], len(attrs_in),
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
