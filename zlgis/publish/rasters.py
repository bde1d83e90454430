"""Write rasters (depth grids, filled DEMs) as Cloud-Optimized GeoTIFFs, and ponding depth as a
web-map image overlay."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import numpy as np
import rasterio
from numpy.typing import NDArray
from rasterio.transform import Affine

from ..analysis.terrain import DEM
from ..crs import transformer
from ..io.atomic import atomic_path

__all__ = ["write_cog", "ponding_overlay"]


def write_cog(path: str | os.PathLike[str], array: NDArray[Any], transform: Affine, crs: Any,
              *, nodata: float | None = None, overview_resampling: str = "average") -> Path:
    """Write one band as a Cloud-Optimized GeoTIFF (GDAL ``COG`` driver), atomically.

    >>> import tempfile, pathlib, numpy as np
    >>> from rasterio.transform import from_origin
    >>> p = write_cog(pathlib.Path(tempfile.mkdtemp()) / "d.tif", np.zeros((4, 4), "float32"),
    ...               from_origin(0, 4, 1, 1), "EPSG:4550")
    >>> rasterio.open(p).driver
    'GTiff'
    """
    arr = np.asarray(array)
    with atomic_path(path) as tmp:
        with rasterio.open(tmp, "w", driver="COG", width=arr.shape[1], height=arr.shape[0],
                           count=1, dtype=arr.dtype, crs=crs, transform=transform,
                           nodata=nodata, compress="DEFLATE",
                           overview_resampling=overview_resampling) as dst:
            dst.write(arr, 1)
    return Path(path)


def ponding_overlay(depth: NDArray[np.float64], dem: DEM, *, max_depth_m: float = 1.5,
                    cmap: str = "Blues", min_depth_m: float = 0.005
                    ) -> tuple[NDArray[np.uint8], list[list[float]]]:
    """Ponding depth as an RGBA image in Web Mercator and its WGS84 bounds, for a web map.

    The grid is warped to EPSG:3857 (nearest cell), so a Leaflet ``ImageOverlay`` placed on
    ``bounds`` (``[[south, west], [north, east]]``) lines up with the basemap. Dry cells are
    transparent; depth is coloured from ``min_depth_m`` to ``max_depth_m``.

    >>> from rasterio.transform import from_origin
    >>> from rasterio.crs import CRS
    >>> z = np.zeros((20, 20)); z[5:8, 5:8] = 0.4
    >>> img, bounds = ponding_overlay(z, DEM(z, from_origin(480000, 5320000, 10, 10),
    ...                                      CRS.from_epsg(4550)))
    >>> img.shape[2], int(img[..., 3].max()) > 0, 47 < bounds[0][0] < 49
    (4, True, True)
    """
    from matplotlib import colormaps
    from rasterio.warp import Resampling, calculate_default_transform, reproject

    h, w = depth.shape
    left, top = dem.transform.c, dem.transform.f
    right, bottom = left + dem.transform.a * w, top + dem.transform.e * h
    tr, dw, dh = calculate_default_transform(dem.crs, "EPSG:3857", w, h,
                                             left=left, bottom=bottom, right=right, top=top)
    out = np.zeros((dh, dw), np.float32)
    reproject(np.asarray(depth, dtype=np.float32), out, src_transform=dem.transform,
              src_crs=dem.crs, dst_transform=tr, dst_crs="EPSG:3857",
              resampling=Resampling.nearest, src_nodata=np.nan, dst_nodata=0.0)
    norm = np.clip(out / max_depth_m, 0, 1)
    rgba = (colormaps[cmap](0.35 + 0.65 * norm) * 255).astype(np.uint8)
    rgba[..., 3] = np.where(out >= min_depth_m, 210, 0).astype(np.uint8)
    to_ll = transformer("EPSG:3857")
    west, north = to_ll.transform(tr.c, tr.f)
    east, south = to_ll.transform(tr.c + tr.a * dw, tr.f + tr.e * dh)
    return rgba, [[float(south), float(west)], [float(north), float(east)]]
