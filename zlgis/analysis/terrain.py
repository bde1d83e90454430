"""Terrain: read a DEM, fill its depressions exactly, and describe them as polygons.

This module gathers the terrain API; the code lives in task modules: :mod:`.dem_read` (reading),
:mod:`.fill` (Priority-Flood) and :mod:`.depressions` (measures, pour points, catchments,
polygons). Writing rasters is publishing (:mod:`zlgis.publish.rasters`).

The depression filling is a Priority-Flood (Barnes, Lehman and Mulla 2014, "Priority-Flood: an
optimal depression-filling and watershed-labeling algorithm for digital elevation models",
Computers & Geosciences 62) with the two accelerations of Zhou, Sun and Fu (2016, "An efficient
variant of the Priority-Flood algorithm for filling depressions in raster digital elevation
models", Computers & Geosciences 90): cells inside a depression go through a plain stack, and
cells climbing a slope are finished by a plain queue without touching the priority queue; a slope
cell waits in the priority queue only when it has a lower open neighbour that no other waiting
cell at or below its level will reach (Zhou's test, widened from "lower than the neighbour" to
"not higher than the slope cell", which keeps the result exact and saves about a quarter of the
heap traffic on noisy DEMs). Rasters above the memory budget are filled tile by tile with the
same result (Barnes 2016, :func:`fill_depressions_tiled`). It is
epsilon-free, so the filled surface is exactly the morphological reconstruction by erosion with
the border as seed (``skimage.morphology.reconstruction``), with 8-connectivity. The raster edge
and nodata cells are outlets: a depression touching them drains out.

Ponding depth is ``filled - original``. Depressions are the 8-connected regions of positive depth;
each gets its maximum depth, area, volume, spill level, pour point and contributing area (the cells
whose steepest-descent path on the original DEM ends in it).

Examples
--------
>>> import numpy as np
>>> dem = np.array([[5, 5, 5, 5, 5],
...                 [5, 1, 2, 1, 5],
...                 [5, 2, 4, 2, 3],
...                 [5, 5, 5, 5, 5]], dtype=float)
>>> fill_depressions(dem)[1:3, 1:4]
array([[3., 3., 3.],
       [3., 4., 3.]])
"""

from __future__ import annotations

from .._numba import HAVE_NUMBA
from .dem_read import DEM, read_dem
from .depressions import (
                          DepressionAnalysis,
                          analyse_depressions,
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
    "HAVE_NUMBA",
]
