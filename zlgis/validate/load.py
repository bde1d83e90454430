"""Load catalog layers: read any source format, validate row by row, convert to the working CRS.

The readers are in :mod:`zlgis.io`; loading is validation's entry point, so a loaded layer is
always a validated one.

:func:`read_layer` reads one catalog layer and returns a :class:`LoadedLayer` (the clean
GeoDataFrame, the rejected rows with reasons and the issue report); :func:`load_layers` returns
clean GeoDataFrames for several layers and raises :class:`~zlgis.errors.LayerError` naming the
first layer that cannot be read. :func:`read_file` checks any single file without a catalog.

Clean frames: working CRS (``catalog.working_crs``, EPSG:4550), catalog columns under their
canonical English names coerced to the catalog types, extra source columns kept as they are,
geometry column ``geometry``, index 0..n-1. Invariant: ``rows_in == len(gdf) + len(rejected)``.

Examples
--------
>>> import tempfile, pathlib
>>> p = pathlib.Path(tempfile.mkdtemp()) / "toilets.csv"
>>> _ = p.write_text("公厕编号,名称,经度,纬度\\nT1,北门公厕,122.74,48.01\\nT1,重复,122.75,48.02\\n",
...                  encoding="utf-8")
>>> [res] = read_file(p, kind="toilets", crs="gcj02")
>>> res.rows_in, len(res.gdf), res.rejected["reject_code"].tolist(), str(res.gdf.crs)
(2, 1, ['duplicate_id'], 'EPSG:4550')
"""

from __future__ import annotations

import dataclasses
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from .._progress import Progress
from ..catalog import Catalog, LayerSpec
from ..config import load_config
from ..crs import check_crs_covers, transformer
from ..errors import LayerError, UnreadableInputError, ZlgisError
from ..io.mapping import apply_filter, apply_values
from ..io.readers import SourceRead, read_source
from .geometry import closed_lines_to_polygons
from .pipeline import Region, ValidationResult, validate_frame
from .report import concat_issues, empty_issues, make_issues

__all__ = ["LoadedLayer", "read_layer", "load_layers", "read_file", "city_region",
           "city_boundary", "adhoc_spec"]


@dataclass
class LoadedLayer:
    """A loaded layer and its report (rows rejected or repaired, with reasons).

    Attributes
    ----------
    layer_id : str
    gdf : GeoDataFrame
        Clean rows in the working CRS.
    rows_in : int
        Rows read from the source (``len(gdf) + len(rejected)``).
    rejected : DataFrame
        Rejected rows: ``reject_row`` (1-based source row), ``reject_code``, ``reject_reason``,
        then the source attributes.
    issues : DataFrame
        The report (:data:`zlgis.validate.report.ISSUE_COLUMNS`).
    path : Path or None
    rows : ndarray
        1-based source row of each row of ``gdf``.
    source_crs : str or None
        Coordinate system the source was read in (``gcj02``/``bd09`` included).
    driver, encoding : str or None
    title : str or None
        Chinese title of the catalog layer (or of the ``--kind`` it was checked as).
    """

    layer_id: str
    gdf: gpd.GeoDataFrame
    rows_in: int
    rejected: pd.DataFrame = field(default_factory=pd.DataFrame)
    issues: pd.DataFrame = field(default_factory=empty_issues)
    path: Path | None = None
    rows: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int64))
    source_crs: str | None = None
    driver: str | None = None
    encoding: str | None = None
    title: str | None = None

    @property
    def clean(self) -> bool:
        """True when the layer has no issue at all."""
        return self.issues.empty


# ------------------------------------------------------------------------------------------------
# city context: boundary and lon/lat region
# ------------------------------------------------------------------------------------------------

_BOUNDARY_CACHE: dict[tuple[str, float, str], shapely.Geometry | None] = {}


def _lonlat_bounds(spec: LayerSpec, geom: shapely.Geometry, catalog: Catalog) -> Any:
    """Lon/lat box of the boundary, from its source (a working CRS far from the city distorts
    the converted outline), else from ``geom``."""
    try:
        if spec.database:
            raise ValueError("the lon/lat box of a database boundary comes from geom")
        src = read_source(spec.path, spec.layer).gdf
        crs = src.crs or (spec.crs if spec.crs and str(spec.crs).upper().startswith("EPSG")
                          else "EPSG:4326" if spec.crs in ("gcj02", "bd09") else None)
        if crs is not None and len(src):
            return src.set_crs(crs, allow_override=True).to_crs("EPSG:4326").total_bounds
    except (ZlgisError, ValueError):
        pass
    return transformer(catalog.working_crs).transform_bounds(*shapely.bounds(geom))


def city_boundary(catalog: Catalog) -> shapely.Geometry | None:
    """The city boundary in the working CRS, from the catalog's boundary layer (cached).

    Raises :class:`~zlgis.errors.CRSError` when the working CRS's area of use does not cover the
    boundary (:func:`zlgis.crs.check_crs_covers`): every distance would be off.
    """
    bid = catalog.boundary_layer
    if not bid or bid not in catalog.layers:
        return None
    spec = catalog.layers[bid]
    if spec.database:
        key = (spec.source_label or "", 0.0, catalog.working_crs)
    elif spec.path is None or not spec.path.exists():
        return None
    else:
        key = (str(spec.path), spec.path.stat().st_mtime, catalog.working_crs)
    if key not in _BOUNDARY_CACHE:
        try:
            res = read_layer(catalog, bid, check_boundary=False)
            geom = shapely.union_all(res.gdf.geometry.array) if len(res.gdf) else None
        except ZlgisError:
            geom = None
        if geom is not None and not geom.is_empty:
            margin = float(load_config("validation")["working_crs"]["area_margin_deg"])
            check_crs_covers(catalog.working_crs, _lonlat_bounds(spec, geom, catalog),
                             margin_deg=margin, path=str(catalog.path))
        _BOUNDARY_CACHE[key] = geom
    return _BOUNDARY_CACHE[key]


def city_region(catalog: Catalog | None = None) -> Region:
    """Lon/lat box of the city: the boundary plus a margin, else the configured city box."""
    cfg = load_config("validation")
    if catalog is not None:
        b = city_boundary(catalog)
        if b is not None and not b.is_empty:
            tr = transformer(catalog.working_crs)
            w, s, e, n = tr.transform_bounds(*shapely.bounds(b))
            m = float(cfg["boundary_margin_deg"]["value"])
            return (w - m, s - m, e + m, n + m)
    cx, cy = cfg["city"]["center"]
    hx, hy = cfg["city"]["half_size_deg"]
    return (cx - hx, cy - hy, cx + hx, cy + hy)


# ------------------------------------------------------------------------------------------------
# catalog layers
# ------------------------------------------------------------------------------------------------

def _rename(gdf: gpd.GeoDataFrame, spec: LayerSpec) -> tuple[gpd.GeoDataFrame, dict[str, str]]:
    mapping: dict[str, str] = {}
    for c in gdf.columns:
        if c == gdf.geometry.name:
            continue
        canon = spec.field_for_alias(str(c))
        if canon and canon not in mapping.values():
            mapping[c] = canon
    shown = {v: str(k) for k, v in mapping.items()}
    # the columns relabelled on a shallow copy: what ``rename`` does, without its per-call cost
    out = gdf.copy(deep=False)
    out.columns = [mapping.get(c, c) for c in gdf.columns]
    # a source column with the canonical name and another alias of it: keep the first
    dup = out.columns.duplicated()
    return (out.loc[:, ~dup] if dup.any() else out), shown


def _select_dxf(src: SourceRead, spec: LayerSpec, catalog: Catalog | None
                ) -> tuple[SourceRead, list[dict[str, Any]]]:
    """Keep the entities on the CAD layers of ``spec``; note CAD layers nobody claims."""
    gdf = src.gdf
    notes: list[dict[str, Any]] = []
    if "cad_layer" not in gdf.columns:
        return src, notes
    names = set(spec.dxf_layers)
    cad = gdf["cad_layer"].astype("string").fillna("")
    if catalog is not None:
        known = {n for s in catalog.layers.values() for n in s.dxf_layers}
        for name, cnt in cad[~cad.isin(known)].value_counts().items():
            notes.append({"pos": None, "field": "cad_layer", "code": "unknown_dxf_layer",
                          "message": f"CAD 图层“{name}”（{cnt} 个实体）未在图层目录的 dxf_layers 中登记，已忽略",
                          "action": "warning"})
    keep = cad.isin(names).to_numpy() if names else np.ones(len(gdf), bool)
    sub = _dxf_entities(gdf.loc[keep].reset_index(drop=True), spec)
    newpos = np.cumsum(keep) - 1
    kept_notes = [nt if nt.get("pos") is None else dict(nt, pos=int(newpos[nt["pos"]]))
                  for nt in src.notes if nt.get("pos") is None or keep[nt["pos"]]]
    return SourceRead(sub, src.path, src.layer, src.driver, src.rows[keep], kept_notes,
                      src.encoding), notes


def _dxf_entities(gdf: gpd.GeoDataFrame, spec: LayerSpec) -> gpd.GeoDataFrame:
    """A catalog layer's CAD entities as features: closed polylines become polygons for a
    polygon layer, and the entity handle is the id when the drawing has no id field."""
    if spec.geometry == "Polygon":
        geoms, _ = closed_lines_to_polygons(np.asarray(gdf.geometry.array, dtype=object))
        gdf = gdf.set_geometry(gpd.GeoSeries(geoms, crs=gdf.crs))
    if spec.id_field and spec.id_field not in gdf.columns and "cad_handle" in gdf.columns:
        gdf[spec.id_field] = "DXF-" + gdf["cad_handle"].astype("string")
    return gdf


def _finish(layer_id: str, res: ValidationResult, src: SourceRead,
            spec: LayerSpec | None = None) -> LoadedLayer:
    title = spec.title if spec is not None and spec.title != spec.id else None
    return LoadedLayer(layer_id=layer_id, gdf=res.gdf, rows_in=res.rows_in, rejected=res.rejected,
                       issues=res.issues, path=src.path, rows=res.rows, source_crs=res.source_crs,
                       driver=src.driver, encoding=src.encoding, title=title)


def _read_spec(spec: LayerSpec, crs: str | None, progress: Progress | None) -> SourceRead:
    """The raw rows of a catalog layer: its file, or its PostgreSQL table, view or query."""
    if spec.database:
        from ..io.postgis import read_postgis

        if progress:
            progress.step(f"读取 {spec.title}（{spec.id}）：{spec.source_label}")
        return read_postgis(spec.database, layer=spec.id, geometry=spec.geometry,
                            crs=crs or spec.crs)
    assert spec.path is not None
    if progress:
        progress.step(f"读取 {spec.title}（{spec.id}）：{spec.path.name}")
    opts = spec.options
    try:
        return read_source(spec.path, spec.layer, x=opts.get("x"), y=opts.get("y"),
                           encoding=opts.get("encoding"), sheet=opts.get("sheet"))
    except UnreadableInputError as exc:
        if exc.layer:
            raise
        raise UnreadableInputError(exc.message, path=exc.path, layer=spec.id) from exc


def read_layer(catalog: Catalog, layer_id: str, *, crs: str | None = None,
               check_boundary: bool = True, progress: Progress | None = None,
               cache: bool = False, **kwargs: Any) -> LoadedLayer:
    """Read and validate one catalog layer into the working CRS with canonical field names.

    Parameters
    ----------
    catalog : Catalog
    layer_id : str
    crs : str, optional
        Override the coordinate system of the source (EPSG code, ``gcj02``, ``bd09``).
    check_boundary : bool
        Report features outside the city boundary (needs the catalog's boundary layer).
    progress : Progress, optional
    cache : bool
        Keep the result in the cache of validated layers and read it from there while the
        layer's file, catalog entry, boundary, configuration and zlgis's code are unchanged
        (:mod:`zlgis.validate.cache`; database layers are always read).

    Returns
    -------
    LoadedLayer

    Raises
    ------
    UnreadableInputError
        The source is missing, empty, truncated or of an unknown format.
    CRSError
        The coordinate system is missing and cannot be inferred, or contradicts the data.
    """
    spec = catalog[layer_id]
    if spec.kind == "raster":
        raise UnreadableInputError("栅格图层不按矢量读取，请直接读取 catalog[...].path",
                                   path=str(spec.path), layer=layer_id)
    if spec.derived:
        raise UnreadableInputError(f"图层由图层 {spec.derived['from']} 推算，不从文件读取",
                                   layer=layer_id)
    if spec.path is None and not spec.database:
        raise UnreadableInputError("图层目录没有给出文件路径", layer=layer_id)
    if cache:
        from .cache import cached_layer

        return cached_layer(catalog, layer_id, lambda: read_layer(
            catalog, layer_id, crs=crs, check_boundary=check_boundary, progress=progress),
            crs=crs, check_boundary=check_boundary)
    src = _read_spec(spec, crs, progress)
    extra: list[dict[str, Any]] = []
    is_dxf = src.driver == "DXF"
    if is_dxf and not spec.filter:
        src, extra = _select_dxf(src, spec, catalog)
    src = apply_filter(src, spec)
    if is_dxf and spec.filter:  # CAD entities picked by `filter: {cad_layer: ...}`
        src = dataclasses.replace(src, gdf=_dxf_entities(src.gdf.reset_index(drop=True), spec))
    gdf, shown = _rename(src.gdf, spec)
    gdf = apply_values(gdf, spec)
    boundary = None
    if check_boundary and layer_id != catalog.boundary_layer:
        boundary = city_boundary(catalog)
    tol = float(load_config("validation")["outside_boundary"]["tolerance_m"])
    res = validate_frame(gdf, spec, rows=src.rows, path=spec.source_label,
                         working_crs=catalog.working_crs, notes=src.notes + extra,
                         region=city_region(catalog) if layer_id != catalog.boundary_layer
                         else None,
                         boundary=boundary, boundary_tolerance=tol, crs_override=crs,
                         fill_missing=is_dxf, source_names=shown,
                         check_region=layer_id != catalog.boundary_layer)
    return _finish(layer_id, res, src, spec)


def load_layers(catalog: Catalog, ids: list[str] | None = None, *, quiet: bool = True,
                **kwargs: Any) -> dict[str, gpd.GeoDataFrame]:
    """Load several layers (default: every vector layer of the catalog) as clean GeoDataFrames.

    Raster layers (``kind: raster``) and derived layers (``source: {derive: ...}``, computed by
    :func:`zlgis.analysis.derived.derive_layers`) are skipped. Raises :class:`LayerError` naming the first
    layer that cannot be read at all; rows rejected by validation are left out silently (use
    :func:`read_layer` for the report).
    """
    progress = kwargs.pop("progress", None) or Progress(quiet=quiet)
    out: dict[str, gpd.GeoDataFrame] = {}
    for lid in ids or list(catalog.layers):
        spec = catalog[lid]
        if spec.kind == "raster" or spec.derived:
            continue
        try:
            out[lid] = read_layer(catalog, lid, progress=progress, **kwargs).gdf
        except LayerError:
            raise
        except ZlgisError as exc:
            raise LayerError(f"图层 {lid}（{spec.title}）无法载入：{exc}", layer=lid) from None
    return out


# ------------------------------------------------------------------------------------------------
# any single file, without a catalog
# ------------------------------------------------------------------------------------------------

_GEOM_WORDS = {"point": "Point", "points": "Point", "点": "Point", "linestring": "LineString",
               "line": "LineString", "lines": "LineString", "线": "LineString",
               "polygon": "Polygon", "polygons": "Polygon", "area": "Polygon", "面": "Polygon"}


def adhoc_spec(name: str, kind: str | None, catalog: Catalog | None) -> LayerSpec:
    """Schema for a file checked without a catalog entry.

    ``kind`` may be a catalog layer id (``buildings``: its fields and geometry apply), a catalog
    kind (``building``), a geometry word (point/line/polygon, 点/线/面) or ``None`` (geometry
    type taken from the data; mixed types are reported).
    """
    if kind and catalog is not None:
        if kind in catalog.layers:
            base = catalog.layers[kind]
            return LayerSpec(id=name, title=base.title, kind=base.kind, path=None, layer=None,
                             geometry=base.geometry, crs=None, id_field=base.id_field,
                             fields=base.fields, public=base.public, dxf_layers=base.dxf_layers)
        for base in catalog.layers.values():
            if base.kind == kind:
                return LayerSpec(id=name, title=base.title, kind=base.kind, path=None, layer=None,
                                 geometry=base.geometry, crs=None, id_field=base.id_field,
                                 fields=base.fields, public=base.public)
    geometry = None
    if kind:
        geometry = _GEOM_WORDS.get(kind.lower())
        if geometry is None:
            raise UnreadableInputError(
                f"未知的 --kind {kind}：应为图层目录中的图层编号（如 buildings）、类别（如 building）"
                "或几何类型（point/line/polygon）")
    return LayerSpec(id=name, title=name, kind=kind or "unknown", path=None, layer=None,
                     geometry=geometry, crs=None, id_field=None, fields={})


def read_file(path: str | os.PathLike[str], *, layer: str | None = None, kind: str | None = None,
              crs: str | None = None, catalog: Catalog | None = None,
              progress: Progress | None = None, encoding: str | None = None
              ) -> list[LoadedLayer]:
    """Check any single file (every layer in it, or ``layer``) and load it into the working CRS.

    For a DXF drawing, each entity's CAD layer is mapped to a catalog layer through the
    catalog's ``dxf_layers``; entities on unknown CAD layers are rejected (``unknown_dxf_layer``).
    ``catalog`` (default: the default catalog) provides schemas for ``kind`` and DXF mapping,
    and the city region used to judge coordinate systems; no boundary check is made.
    ``encoding`` forces the text encoding (otherwise taken from ``.cpg`` or detected).

    Returns
    -------
    list of LoadedLayer
        One per layer in the file (per catalog layer for a DXF drawing).
    """
    from ..io.readers import list_source_layers

    path = Path(path)
    if catalog is None:
        try:
            catalog = Catalog.load()
        except ZlgisError:
            catalog = None
    working = catalog.working_crs if catalog else "EPSG:4550"
    # the city box judges missing CRSs and lat/lon swaps; data elsewhere is still accepted
    region = city_region(catalog)
    names = [layer] if layer else list_source_layers(path)
    out: list[LoadedLayer] = []
    for name in names:
        if progress:
            progress.step(f"读取 {path.name}" + (f" 图层 {name}" if len(names) > 1 else ""))
        src = read_source(path, name if len(names) > 1 or layer else None, encoding=encoding)
        if src.driver == "DXF" and catalog is not None and not kind:
            out.extend(_read_dxf_file(src, catalog, crs, working))
            continue
        spec = adhoc_spec(name, kind, catalog)
        gdf, shown = _rename(src.gdf, spec)
        if src.driver == "DXF" and spec.geometry == "Polygon":
            geoms, _ = closed_lines_to_polygons(np.asarray(gdf.geometry.array, dtype=object))
            gdf = gdf.set_geometry(gpd.GeoSeries(geoms, crs=gdf.crs))
        res = validate_frame(gdf, spec, rows=src.rows, path=str(path), working_crs=working,
                             notes=src.notes, region=region, crs_override=crs,
                             source_names=shown, fill_missing=src.driver == "DXF",
                             check_region=False)
        out.append(_finish(name, res, src, spec))
    return out


def _read_dxf_file(src: SourceRead, catalog: Catalog, crs: str | None, working: str
                   ) -> list[LoadedLayer]:
    cad = src.gdf["cad_layer"].astype("string").fillna("") if "cad_layer" in src.gdf else \
        pd.Series([""] * len(src.gdf), dtype="string")
    owner = {n: s.id for s in catalog.layers.values() for n in s.dxf_layers}
    out: list[LoadedLayer] = []
    lids = np.array([owner.get(c) if isinstance(c, str) else None for c in cad.tolist()],
                    dtype=object)
    for lid in dict.fromkeys(x for x in lids if x is not None):
        spec = catalog.layers[lid]
        keep = lids == lid
        sub = src.gdf.loc[keep].reset_index(drop=True)
        sub_src = SourceRead(sub, src.path, src.layer, src.driver, src.rows[keep],
                             [], src.encoding)
        sub_src, _ = _select_dxf(sub_src, spec, None)
        gdf, shown = _rename(sub_src.gdf, spec)
        res = validate_frame(gdf, spec, rows=sub_src.rows, path=str(src.path), working_crs=working,
                             crs_override=crs, fill_missing=True, source_names=shown,
                             check_region=False, region=city_region(catalog))
        out.append(_finish(lid, res, sub_src, spec))
    unknown = np.flatnonzero([x is None for x in lids])
    if len(unknown):
        known = "、".join(sorted(owner)) or "（无）"
        msgs = [f"CAD 图层“{cad.iloc[i]}”未在图层目录的 dxf_layers 中登记（已登记：{known}），该实体未载入"
                for i in unknown]
        issues = make_issues(src.layer, src.path, rows=src.rows[unknown], codes="unknown_dxf_layer",
                             messages=msgs, actions="rejected", fields="图层")
        rej = pd.DataFrame(src.gdf.drop(columns="geometry").iloc[unknown]).reset_index(drop=True)
        rej.insert(0, "reject_row", src.rows[unknown])
        rej.insert(1, "reject_code", "unknown_dxf_layer")
        rej.insert(2, "reject_reason", msgs)
        empty = gpd.GeoDataFrame(geometry=gpd.GeoSeries([], crs=working))
        out.append(LoadedLayer(f"{src.layer}（未登记的 CAD 图层）", empty, len(unknown), rej,
                               concat_issues([issues]), src.path, np.zeros(0, np.int64), None,
                               src.driver, src.encoding))
    return out
