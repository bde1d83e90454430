"""Write rasters (depth grids, filled DEMs) as Cloud-Optimized GeoTIFFs."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import numpy as np
import rasterio
from numpy.typing import NDArray
from rasterio.transform import Affine

__all__ = ["write_cog"]


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
    from ..io.atomic import atomic_path

    arr = np.asarray(array)
    with atomic_path(path) as tmp:
        with rasterio.open(tmp, "w", driver="COG", width=arr.shape[1], height=arr.shape[0],
                           count=1, dtype=arr.dtype, crs=crs, transform=transform,
                           nodata=nodata, compress="DEFLATE",
                           overview_resampling=overview_resampling) as dst:
            dst.write(arr, 1)
    return Path(path)
