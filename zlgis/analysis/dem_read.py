"""Read a DEM (GeoTIFF, SRTM ``.hgt`` or any GDAL raster) into a projected grid in metres.

The raster is read in row strips, reprojected on the fly when needed, kept memory-mapped when it
is larger than the memory budget; small interior nodata voids are interpolated and reported.
"""

from __future__ import annotations

import contextlib
import math
import os
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import rasterio
from numpy.typing import NDArray
from rasterio.crs import CRS
from rasterio.enums import Resampling
from rasterio.transform import Affine
from rasterio.vrt import WarpedVRT
from rasterio.windows import Window
from scipy import ndimage

from ..config import load_config
from ..crs import WORKING_CRS
from ..errors import CRSError, InputError, UnreadableInputError
from ..workers import release_memory

__all__ = ["DEM", "read_dem"]


@dataclass
class DEM:
    """A DEM in memory: elevations (NaN = nodata) on a north-up grid.

    Attributes
    ----------
    elevation : ndarray of float32 or float64
        Heights in metres, ``NaN`` where there is no data (outside the survey, large voids).
        :func:`read_dem` gives float32 when every height is one (a float32 or 16-bit integer
        file without interpolated voids), else float64.
    transform, crs :
        Georeferencing of the grid (a projected CRS in metres).
    voids : DataFrame
        One row per interior nodata void found on reading: cells, row, col, ``filled``.
    """

    elevation: NDArray[np.floating]
    transform: Affine
    crs: CRS
    path: Path | None = None
    source_crs: CRS | None = None
    voids: pd.DataFrame = field(default_factory=pd.DataFrame)

    @property
    def shape(self) -> tuple[int, int]:
        return self.elevation.shape  # type: ignore[return-value]

    @property
    def cell_size(self) -> tuple[float, float]:
        """Cell width and height in CRS units (positive)."""
        return abs(self.transform.a), abs(self.transform.e)

    @property
    def cell_area(self) -> float:
        """Area of one cell in square CRS units (m2)."""
        w, h = self.cell_size
        return w * h

    def xy(self, rows: Any, cols: Any) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
        """Coordinates of cell centres."""
        rows = np.asarray(rows, dtype=float) + 0.5
        cols = np.asarray(cols, dtype=float) + 0.5
        t = self.transform
        return t.a * cols + t.b * rows + t.c, t.d * cols + t.e * rows + t.f

    def rowcol(self, x: Any, y: Any) -> tuple[NDArray[np.int64], NDArray[np.int64]]:
        """Row and column of the cells holding the points (may fall outside the grid)."""
        inv = ~self.transform
        x, y = np.asarray(x, dtype=float), np.asarray(y, dtype=float)
        cols = inv.a * x + inv.b * y + inv.c
        rows = inv.d * x + inv.e * y + inv.f
        return np.floor(rows).astype(np.int64), np.floor(cols).astype(np.int64)


def dem_config() -> dict[str, Any]:
    return load_config("waterlogging")["dem"]


def empty_array(shape: tuple[int, ...], dtype: Any, budget_mb: float, stack: contextlib.ExitStack
           ) -> np.ndarray:
    """An uninitialised array, memory-mapped to a temporary file when larger than the budget."""
    nbytes = int(np.prod(shape)) * np.dtype(dtype).itemsize
    if nbytes <= budget_mb * 1024 * 1024:
        return np.empty(shape, dtype=dtype)
    tmp = stack.enter_context(tempfile.TemporaryDirectory(prefix="zlgis-dem-"))
    return np.lib.format.open_memmap(os.path.join(tmp, "a.npy"), mode="w+", dtype=dtype,
                                     shape=shape)


def read_dem(path: str | os.PathLike[str], *, target_crs: str | None = WORKING_CRS,
             crs: str | None = None, resolution: float | None = None,
             max_void_cells: int | None = None, memory_budget_mb: float | None = None,
             nodata: float | None = None, layer: str = "dem") -> DEM:
    """Read a DEM (GeoTIFF, SRTM ``.hgt`` or any GDAL raster) into a projected grid in metres.

    The raster is read block by block (row strips), reprojected on the fly through a
    ``WarpedVRT`` when its CRS differs from ``target_crs`` (bilinear resampling), and kept in a
    memory-mapped temporary file when it is larger than the memory budget. Nodata cells connected
    to the raster edge are "outside" and stay NaN. Interior voids (SRTM holes) of at most
    ``max_void_cells`` cells are interpolated (``rasterio.fill.fillnodata``) and reported in
    ``DEM.voids``; a larger void stops the run with :class:`~zlgis.errors.InputError`. The
    heights are float32 when every one is (a float32 or 16-bit integer file without interpolated
    voids: half the memory, the same analyses), else float64.

    Parameters
    ----------
    path : path-like
        The raster file.
    target_crs : str or None
        CRS of the result; ``None`` keeps the source CRS (which must then be projected).
    crs : str, optional
        CRS to assume when the file has none.
    resolution : float, optional
        Cell size of the reprojected grid (default: GDAL's choice).
    nodata : float, optional
        Nodata value to assume when the file declares none (int16 files without one use the
        SRTM void value -32768).
    max_void_cells, memory_budget_mb : optional
        Defaults from ``zlgis/config/waterlogging.yaml`` (``dem`` section).

    Examples
    --------
    >>> import tempfile, pathlib, numpy as np, rasterio
    >>> from rasterio.transform import from_origin
    >>> p = pathlib.Path(tempfile.mkdtemp()) / "d.tif"
    >>> z = np.arange(16, dtype="float32").reshape(4, 4); z[1, 1] = -9999
    >>> with rasterio.open(p, "w", driver="GTiff", width=4, height=4, count=1, dtype="float32",
    ...                    crs="EPSG:4550", transform=from_origin(0, 40, 10, 10),
    ...                    nodata=-9999) as dst:
    ...     dst.write(z, 1)
    >>> dem = read_dem(p)
    >>> int(dem.voids["cells"].sum()), bool(np.isnan(dem.elevation).any())
    (1, False)
    """
    cfg = dem_config()
    max_void_cells = int(cfg["max_void_cells"] if max_void_cells is None else max_void_cells)
    budget = float(cfg["memory_budget_mb"] if memory_budget_mb is None else memory_budget_mb)
    path = Path(path)
    if not path.exists():
        raise UnreadableInputError("数字高程模型（DEM）文件不存在", path=str(path), layer=layer)
    try:
        src = rasterio.open(path)
    except rasterio.errors.RasterioIOError as exc:
        raise UnreadableInputError(f"无法读取数字高程模型（DEM）：{exc}", path=str(path),
                                   layer=layer) from None
    with src, contextlib.ExitStack() as stack:
        if src.count < 1:
            raise UnreadableInputError("DEM 文件没有波段", path=str(path), layer=layer)
        src_crs = src.crs or (CRS.from_user_input(crs) if crs else None)
        if src_crs is None:
            raise CRSError("DEM 没有坐标系信息，请在图层目录中为 dem 指定 crs", path=str(path),
                           layer=layer)
        dst_crs = CRS.from_user_input(target_crs) if target_crs else src_crs
        if not dst_crs.is_projected:
            raise CRSError(f"DEM 的坐标系 {dst_crs.to_string()} 不是以米为单位的投影坐标系，"
                           "无法计算面积和体积；请指定目标坐标系", path=str(path), layer=layer)
        nodata = src.nodata if src.nodata is not None else nodata
        if nodata is None and src.dtypes[0] == "int16":
            nodata = float(cfg.get("int16_void_value", -32768))
        if dst_crs == src_crs and resolution is None:
            reader: Any = src
        else:
            opts: dict[str, Any] = {"crs": dst_crs, "resampling": Resampling.bilinear,
                                    "src_crs": src_crs}
            if nodata is not None:
                opts["src_nodata"] = nodata
                opts["nodata"] = nodata
            else:
                opts["nodata"] = np.nan if np.dtype(src.dtypes[0]).kind == "f" else -32768
                nodata = opts["nodata"]
            if resolution is not None:
                from rasterio.warp import calculate_default_transform
                tr, w, h = calculate_default_transform(src_crs, dst_crs, src.width, src.height,
                                                       *src.bounds, resolution=resolution)
                opts.update(transform=tr, width=w, height=h)
            reader = stack.enter_context(WarpedVRT(src, **opts))
        height, width = reader.height, reader.width
        z = empty_array((height, width), np.float64, budget, stack)
        strip = max(1, int(8 * 1024 * 1024 // max(width, 1)))  # ~64 MB of float64 per block
        for r0 in range(0, height, strip):
            win = Window(0, r0, width, min(strip, height - r0))
            block = reader.read(1, window=win, masked=False).astype(np.float64)
            if nodata is not None and not (isinstance(nodata, float) and math.isnan(nodata)):
                block[block == nodata] = np.nan
            z[r0:r0 + win.height] = block
        transform = reader.transform
        z, voids = _fill_voids(z, max_void_cells, int(cfg["void_search_cells"]),
                               path, layer, transform)
        if np.isnan(z).all():
            raise InputError("DEM 中没有任何有效高程值", path=str(path), layer=layer)
        dem = DEM(elevation=_narrowed(z, budget, stack), transform=transform, crs=dst_crs,
                  path=path, source_crs=src_crs, voids=voids)
    # GDAL's block cache frees the file's blocks when it closes, in the middle of the heap:
    # their pages (the whole file decoded, 155 MB for the 1M-building city's DEM) would stay
    # resident under the analysis of the DEM
    release_memory()
    return dem


def _narrowed(z: np.ndarray, budget_mb: float, stack: contextlib.ExitStack) -> np.ndarray:
    """``z`` in float32 when every height is a float32 (a float32 or 16-bit integer file, no
    interpolated void), else ``z``: the same heights in half the memory. The analyses compare
    and copy heights, and compute (slopes, depths, volumes) in float64, so their results are
    the same."""
    out = empty_array(z.shape, np.float32, budget_mb, stack)
    strip = max(1, (8 * 1024 * 1024) // max(z.shape[1], 1))
    with np.errstate(over="ignore"):
        for r0 in range(0, z.shape[0], strip):
            blk = z[r0:r0 + strip]
            b32 = blk.astype(np.float32)
            if not np.array_equal(b32, blk, equal_nan=True):
                return z
            out[r0:r0 + strip] = b32
    return out


def _fill_voids(z: np.ndarray, max_cells: int, search: int, path: Path, layer: str,
                transform: Affine) -> tuple[np.ndarray, pd.DataFrame]:
    """Interpolate small interior nodata voids; refuse large ones; leave edge nodata alone."""
    cols = ["void", "cells", "row", "col", "x", "y", "filled"]
    nod = np.isnan(z)
    if not nod.any():
        return z, pd.DataFrame(columns=cols)
    lab, n = ndimage.label(nod, structure=np.ones((3, 3), bool))
    edge = np.unique(np.concatenate([lab[0], lab[-1], lab[:, 0], lab[:, -1]]))
    sizes = np.bincount(lab.ravel(), minlength=n + 1)
    interior = np.setdiff1d(np.arange(1, n + 1), edge)
    if not len(interior):
        return z, pd.DataFrame(columns=cols)
    objs = ndimage.find_objects(lab)
    rows = []
    for k in interior:
        sl = objs[k - 1]
        r, c = sl[0].start, sl[1].start
        x = transform.a * (c + 0.5) + transform.b * (r + 0.5) + transform.c
        y = transform.d * (c + 0.5) + transform.e * (r + 0.5) + transform.f
        rows.append({"void": int(k), "cells": int(sizes[k]), "row": int(r), "col": int(c),
                     "x": float(x), "y": float(y), "filled": bool(sizes[k] <= max_cells)})
    report = pd.DataFrame(rows, columns=cols)
    big = report[~report["filled"]]
    if len(big):
        b = big.sort_values("cells", ascending=False).iloc[0]
        raise InputError(
            f"DEM 有 {len(big)} 处大面积数据空洞，最大一处 {int(b['cells'])} 个像元，"
            f"位于第 {int(b['row'])} 行第 {int(b['col'])} 列附近（坐标 {b['x']:.1f}, {b['y']:.1f}），"
            f"超过允许插补的 {max_cells} 个像元；请先用其他高程数据补齐后再分析",
            path=str(path), layer=layer, row=int(b["row"]))
    from rasterio.fill import fillnodata

    small = np.isin(lab, report["void"].to_numpy())
    work = np.array(z, dtype=np.float64)
    if (nod & ~small).any():  # outside cells: temporary nearest values so they never spread NaN
        idx = ndimage.distance_transform_edt(nod, return_distances=False, return_indices=True)
        work[nod & ~small] = z[tuple(i[nod & ~small] for i in idx)]
    work[small] = 0.0
    mask = (~small).astype(np.uint8)
    filled = fillnodata(work, mask=mask, max_search_distance=float(max(search, 1)),
                        smoothing_iterations=0)
    out = z
    out[small] = filled[small]
    still = small & ~np.isfinite(out)
    if still.any():  # beyond the search distance: nearest valid value
        idx = ndimage.distance_transform_edt(~np.isfinite(out), return_distances=False,
                                             return_indices=True)
        out[still] = out[tuple(i[still] for i in idx)]
    return out, report
