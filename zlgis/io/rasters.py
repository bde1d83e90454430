"""Raster layers as they come: one or several DEM tiles, GeoTIFF or SRTM ``.hgt``/``.hgt.zip``.

A catalog raster layer names its file (``source: {path: dem.tif}``), a glob
(``source: {path: "srtm/*.hgt.zip"}``) or a list of tiles (``source: {path: a.hgt, tiles: [a.hgt,
b.hgt]}``), relative to ``data_dir``. :func:`raster_sources` returns what GDAL opens for each
tile (``/vsizip/`` for zipped SRTM tiles); :func:`mosaic_window` mosaics the tiles over a window
only, so a 1-degree tile is never read whole for a town.

Examples
--------
>>> gdal_path("N47E122.hgt.zip")
'/vsizip/N47E122.hgt.zip/N47E122.hgt'
>>> gdal_path("dem.tif")
'dem.tif'
"""

from __future__ import annotations

import glob
import math
import os
from pathlib import Path
from typing import Any

import numpy as np

from ..catalog import Catalog
from ..errors import InputError, UnreadableInputError

__all__ = ["gdal_path", "raster_sources", "mosaic_window"]


def gdal_path(path: str | os.PathLike[str]) -> str:
    """What GDAL opens for a tile: zipped SRTM tiles through ``/vsizip/``."""
    p = str(path)
    if p.lower().endswith(".hgt.zip"):
        return f"/vsizip/{p}/{Path(p).name[:-4]}"
    return p


def raster_sources(catalog: Catalog, layer_id: str = "dem") -> list[str]:
    """GDAL paths of the tiles of a raster layer; missing files raise
    :class:`~zlgis.errors.UnreadableInputError` naming the first."""
    spec = catalog[layer_id]
    names = spec.options.get("tiles") or ([str(spec.path)] if spec.path is not None else [])
    paths: list[Path] = []
    for name in names:
        p = Path(name) if Path(name).is_absolute() else catalog.data_dir / str(name)
        if any(ch in str(p) for ch in "*?["):
            found = sorted(Path(x) for x in glob.glob(str(p)))
            if not found:
                raise UnreadableInputError("没有与此模式匹配的高程文件", path=str(p), layer=layer_id)
            paths += found
        else:
            paths.append(p)
    if not paths:
        raise UnreadableInputError("图层目录没有给出高程文件", layer=layer_id)
    for p in paths:
        if not p.exists():
            raise UnreadableInputError("数字高程模型（DEM）文件不存在", path=str(p), layer=layer_id)
    return [gdal_path(p) for p in paths]


def mosaic_window(sources: list[str], bounds: tuple[float, float, float, float],
                  bounds_crs: Any, out: str | os.PathLike[str], *,
                  layer: str = "dem") -> tuple[str, float]:
    """Mosaic ``sources`` over ``bounds`` (in ``bounds_crs``) into the GeoTIFF ``out``.

    Returns what to read (``out``, or the single source itself when it lies wholly inside the
    window: nothing is resampled) and the share of the window the tiles cover (0 to 1). The
    window is snapped to the first tile's cells. Tiles must share one CRS; nodata is kept (SRTM
    int16 voids: -32768).
    """
    import rasterio
    from rasterio.merge import merge
    from rasterio.warp import transform_bounds

    try:
        datasets = [rasterio.open(s) for s in sources]
    except rasterio.errors.RasterioIOError as exc:
        raise UnreadableInputError(f"无法读取数字高程模型（DEM）：{exc}", layer=layer) from None
    try:
        crss = {str(d.crs) for d in datasets}
        if len(crss) > 1:
            raise InputError(f"DEM 瓦片的坐标系不一致（{'、'.join(sorted(crss))}），无法拼接",
                             layer=layer)
        src_crs = datasets[0].crs or "EPSG:4326"
        w, s, e, n = transform_bounds(bounds_crs, src_crs, *bounds, densify_pts=21)
        left = min(d.bounds.left for d in datasets)
        right = max(d.bounds.right for d in datasets)
        bottom = min(d.bounds.bottom for d in datasets)
        top = max(d.bounds.top for d in datasets)
        ow, oe = max(w, left), min(e, right)
        os_, on = max(s, bottom), min(n, top)
        covered = (max(0.0, oe - ow) * max(0.0, on - os_)) / max((e - w) * (n - s), 1e-12)
        if covered <= 0:
            return str(out), 0.0
        if (len(datasets) == 1 and not sources[0].startswith("/vsi")
                and (ow, os_, oe, on) == (left, bottom, right, top)):
            return sources[0], covered
        t = datasets[0].transform  # snap the window outwards to whole cells of the first tile
        rx, ry = abs(t.a), abs(t.e)
        ow = max(left, t.c + math.floor((ow - t.c) / rx) * rx)
        oe = min(right, t.c + math.ceil((oe - t.c) / rx) * rx)
        on = min(top, t.f - math.floor((t.f - on) / ry) * ry)
        os_ = max(bottom, t.f - math.ceil((t.f - os_) / ry) * ry)
        nodata = datasets[0].nodata
        if nodata is None and datasets[0].dtypes[0] == "int16":
            nodata = -32768
        arr, transform = merge(datasets, bounds=(ow, os_, oe, on), nodata=nodata)
        profile = {"driver": "GTiff", "height": arr.shape[1], "width": arr.shape[2], "count": 1,
                   "dtype": arr.dtype, "crs": src_crs, "transform": transform}
        if nodata is not None:
            profile["nodata"] = nodata
            valid = float(np.mean(arr[0] != nodata))
        else:
            valid = 1.0
        with rasterio.open(out, "w", **profile) as dst:
            dst.write(arr[:1])
        return str(out), covered * valid
    finally:
        for d in datasets:
            d.close()
