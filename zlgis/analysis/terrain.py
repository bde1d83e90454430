"""Terrain: read a DEM, fill its depressions exactly, and describe them as polygons.

This module gathers the terrain API; the code lives in task modules: :mod:`.dem_read` (reading),
:mod:`.fill` (Priority-Flood) and :mod:`.depressions` (measures, pour points, catchments,
polygons). Writing rasters is publishing (:mod:`zlgis.publish.rasters`).

The depression filling is an exact, epsilon-free Priority-Flood with Zhou's accelerations, tiled
above the memory budget (the method and its references are in :mod:`.fill`); the raster edge
and nodata cells are outlets: a depression touching them drains out.

Ponding depth is ``filled - original``. Depressions are the 8-connected regions of positive depth;
each gets its maximum depth, area, volume, spill level, pour point and contributing area (the cells
whose steepest-descent path on the original DEM ends in it).

Examples
--------
>>> import numpy as np
>>> dem = np.full((5, 6), 9.0)
>>> dem[1:4, 1:3] = 4.0        # a pit two cells wide, three deep
>>> dem[2, 4] = 7.0            # a second, one-cell pit
>>> depth = ponding_depth(dem, fill_depressions(dem))
>>> lab, n = label_depressions(depth)
>>> n, float(depth.max()), int((lab > 0).sum())
(2, 5.0, 7)
"""

from __future__ import annotations

from .._numba import HAVE_NUMBA
from .dem_read import DEM, read_dem
from .depressions import (
                          DepressionAnalysis,
                          analyse_depressions,
                          cell_polygons,
                          label_depressions,
                          ponding_depth,
                          region_polygons,
)
from .fill import fill_depressions, fill_depressions_tiled

__all__ = [
    "DEM",
    "DepressionAnalysis",
    "read_dem",
    "fill_depressions",
    "fill_depressions_tiled",
    "ponding_depth",
    "label_depressions",
    "analyse_depressions",
    "region_polygons",
    "cell_polygons",
    "HAVE_NUMBA",
]
