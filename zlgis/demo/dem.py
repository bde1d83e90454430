"""Terrain of the demo city: a valley DEM with planted depressions, and recorded waterlogging points.

The surface is ``a * y + g(d)``: it falls gently to the south along the Yalu River (4 m/km) and
rises with the distance ``d`` from the river (a floor at 4 m/km, then hills on both sides from
about 2.4 km), with a 3 m deep channel in the river. ``g`` increases strictly with ``d`` and the
river falls strictly southward, so the surface has no pit of its own: every depression in the
DEM is a planted one, and its fill depth (computed here with
:func:`zlgis.analysis.terrain.fill_depressions`, the exact Priority-Flood fill) is written to the
truth table.
"""

from __future__ import annotations

import numpy as np
import rasterio
from affine import Affine

from ..analysis.terrain import fill_depressions
from ._common import SYNTHETIC_NOTE, Frame, Truth

__all__ = ["DEM_CELL", "DEPRESSIONS", "UNEXPLAINED_POINT", "terrain", "write_dem",
           "plant_depressions"]

DEM_CELL = 10.0
_NODATA = -9999.0

#: Planted depressions: id, name, local (u, v), depth of the dip (m), sigma (m), on a road
#: crossing, recorded as a waterlogging point.
DEPRESSIONS = [
    ("WD01", "老一中涵洞", (1100, -300), 1.6, 18.0, True, True),
    ("WD02", "河西新区新客运站路口", (-2100, -250), 1.2, 22.0, True, True),
    ("WD03", "兴华路北段", (600, 2100), 1.0, 20.0, True, True),
    ("WD04", "南市大桥东路口", (300, -2500), 1.3, 20.0, True, False),
    ("WD05", "西山洼地", (-2300, 2300), 1.5, 25.0, False, False),
    ("WD06", "南郊洼地", (700, -3600), 1.1, 22.0, False, False),
]
#: A recorded waterlogging point with no depression under it (a drainage fault).
UNEXPLAINED_POINT = ("北区排水管网堵塞点", (800, 3300))


def terrain(frame: Frame, x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """Elevation (m) of the undisturbed valley surface at absolute ``x``, ``y`` (broadcast).

    Examples
    --------
    >>> from zlgis.demo._common import make_frame
    >>> f = make_frame(2022, 25_000)
    >>> river = float(terrain(f, f.river_x(f.cy), f.cy))
    >>> east_hills = float(terrain(f, f.cx + 4000, f.cy))
    >>> round(river), east_hills - river > 40
    (297, True)
    """
    d = np.abs(x - frame.river_x(y))
    hw = frame.river_half_width(y)
    h = np.maximum(d - 2400.0, 0.0)
    g = 0.004 * d + 0.045 * h + 90.0 * (1.0 - np.exp(-h / 1500.0))
    channel = np.where(d < hw, -3.0 * (1.0 - (d / hw) ** 2), 0.0)
    return 300.0 + 0.004 * (y - frame.cy) + g + channel


def _grid(frame: Frame) -> tuple[float, float, int, int]:
    x0, y0, x1, y1 = frame.bounds
    x0, y0 = np.floor((x0 - 500) / DEM_CELL) * DEM_CELL, np.floor((y0 - 500) / DEM_CELL) * DEM_CELL
    x1, y1 = np.ceil((x1 + 500) / DEM_CELL) * DEM_CELL, np.ceil((y1 + 500) / DEM_CELL) * DEM_CELL
    return float(x0), float(y1), int(round((x1 - x0) / DEM_CELL)), int(round((y1 - y0) / DEM_CELL))


def plant_depressions(frame: Frame, lat) -> list[dict]:
    """Absolute centres of the planted depressions (road ones snapped to a street crossing)."""
    out = []
    for did, name, (u, v), depth, sigma, on_road, recorded in DEPRESSIONS:
        x, y = frame.xy(u, v)
        if on_road:
            x = float(lat.xs[np.argmin(np.abs(lat.xs - x))])
            y = float(lat.ys[np.argmin(np.abs(lat.ys - y))])
        else:
            i = int(np.clip(np.searchsorted(lat.xs, x) - 1, 0, len(lat.xs) - 2))
            j = int(np.clip(np.searchsorted(lat.ys, y) - 1, 0, len(lat.ys) - 2))
            x, y = (lat.xs[i] + lat.xs[i + 1]) / 2, (lat.ys[j] + lat.ys[j + 1]) / 2
        out.append({"id": did, "name": name, "x": x, "y": y, "depth": depth, "sigma": sigma,
                    "on_road": on_road, "recorded": recorded})
    return out


def write_dem(frame: Frame, path, depressions: list[dict], truth: Truth,
              point_ids: dict[str, str]) -> None:
    """Write ``dem.tif`` (float32, EPSG:4550, 10 m) and add the depressions to the truth."""
    x0, ytop, ncols, nrows = _grid(frame)
    xc = x0 + DEM_CELL * (np.arange(ncols) + 0.5)
    dem = np.empty((nrows, ncols), dtype=np.float32)
    step = 512
    for r0 in range(0, nrows, step):
        yc = ytop - DEM_CELL * (np.arange(r0, min(nrows, r0 + step)) + 0.5)
        dem[r0:r0 + len(yc)] = terrain(frame, xc[None, :], yc[:, None])
    for d in depressions:
        c = int((d["x"] - x0) // DEM_CELL)
        r = int((ytop - d["y"]) // DEM_CELL)
        w = int(np.ceil(12 * d["sigma"] / DEM_CELL))
        rs, cs = slice(max(r - w, 0), r + w + 1), slice(max(c - w, 0), c + w + 1)
        xx = xc[cs][None, :]
        yy = (ytop - DEM_CELL * (np.arange(rs.start, rs.stop) + 0.5))[:, None]
        dip = d["depth"] * np.exp(-((xx - d["x"]) ** 2 + (yy - d["y"]) ** 2) / (2 * d["sigma"] ** 2))
        dem[rs, cs] = (dem[rs, cs] - dip).astype(np.float32)
        win = dem[rs, cs].astype(np.float64)
        filled = fill_depressions(win)
        fill = filled - win
        k = np.unravel_index(np.argmax(fill), fill.shape)
        d["fill_depth_m"] = float(fill[k])
        d["area_m2"] = float((fill > 0.02).sum() * DEM_CELL ** 2)
        d["x_low"] = float(xc[cs][k[1]])
        d["y_low"] = float(ytop - DEM_CELL * (rs.start + k[0] + 0.5))
    profile = {"driver": "GTiff", "height": nrows, "width": ncols, "count": 1, "dtype": "float32",
               "crs": "EPSG:4550", "transform": Affine(DEM_CELL, 0.0, x0, 0.0, -DEM_CELL, ytop),
               "nodata": _NODATA, "tiled": True, "blockxsize": 256, "blockysize": 256,
               "compress": "deflate", "zlevel": 1, "predictor": 3}
    with rasterio.open(path, "w", **profile) as dst:
        dst.write(dem, 1)
        dst.update_tags(SYNTHETIC="yes", DESCRIPTION=SYNTHETIC_NOTE,
                        CONTENT="synthetic valley DEM of the zlgis demo city, 10 m cells, metres")
    for d in depressions:
        note = (f"planted depression {d['name']}: fill depth {d['fill_depth_m']:.2f} m at the "
                f"lowest cell, ponded area about {d['area_m2']:.0f} m2 (value = fill depth, m)")
        truth.add("waterlogging", "depression", "dem", d["id"], value=d["fill_depth_m"],
                  x=d["x_low"], y=d["y_low"], note=note,
                  related_id=point_ids.get(d["id"], ""))
        if d["on_road"]:
            truth.add("waterlogging", "road_ponding", "dem", d["id"], value=d["fill_depth_m"],
                      x=d["x_low"], y=d["y_low"],
                      note=f"depression {d['name']} lies on a street crossing")
        if not d["recorded"]:
            truth.add("waterlogging", "survey_candidate", "dem", d["id"], value=d["fill_depth_m"],
                      x=d["x_low"], y=d["y_low"],
                      note=f"depression {d['name']} has no recorded waterlogging point: survey it")
