"""Terrain: depression filling, depressions and road ponding from a DEM.

Thresholds (minimum depth and area, the 15 cm lane rule of GB 51222-2017 §3.2, rain and runoff)
live in ``config/waterlogging.yaml``.
"""

from __future__ import annotations

import os
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import geopandas as gpd
    from numpy.typing import NDArray

    from ..analysis.terrain import DEM
    from ..catalog import Catalog

__all__ = ["read_dem", "fill_depressions", "find_depressions", "ponding", "rain_scenario"]


def _dem(dem: DEM | str | os.PathLike[str]) -> DEM:
    from ..analysis.terrain import DEM, read_dem

    return dem if isinstance(dem, DEM) else read_dem(dem)


def read_dem(source: Catalog | str | os.PathLike[str], *, crs: str | None = None) -> DEM:
    """Read a DEM (GeoTIFF, SRTM ``.hgt`` ...) into a projected grid in metres.

    Small interior voids are interpolated and reported, large ones refused; the grid is
    reprojected into the working CRS when needed.

    Parameters
    ----------
    source : Catalog or path
        A catalog (its ``dem`` layer, read into its working CRS) or a raster file.
    crs : str, optional
        CRS to assume when the file has none.

    Returns
    -------
    zlgis.analysis.terrain.DEM
        ``elevation`` (2-D float array, NaN outside), ``transform``, ``crs``, ``cell_size``.

    Examples
    --------
    >>> import zlgis as zl
    >>> dem = zl.read_dem(zl.datasets.catalog("district"))
    >>> dem.shape, dem.crs.to_epsg()
    ((330, 320), 4550)
    """
    from ..analysis.terrain import read_dem as _engine
    from ..catalog import Catalog

    if isinstance(source, Catalog):
        return _engine(source["dem"].path, target_crs=source.working_crs, crs=crs)
    return _engine(source, crs=crs)


def fill_depressions(elevation: NDArray[Any], *, nodata: NDArray[Any] | None = None
                     ) -> NDArray[Any]:
    """Fill every depression of an elevation grid: the lowest surface that drains out.

    Exact Priority-Flood (8-connected; the grid edge and nodata cells are outlets); the
    ponding depth is ``fill_depressions(z) - z``.

    Parameters
    ----------
    elevation : ndarray (rows, cols)
        Heights; ``NaN`` is nodata.
    nodata : ndarray of bool, optional
        Extra nodata mask.

    Returns
    -------
    ndarray of float64
        The filled surface (nodata cells stay ``NaN``).

    Examples
    --------
    >>> import zlgis as zl
    >>> z = zl.datasets.dem("district").elevation
    >>> depth = zl.fill_depressions(z) - z
    >>> round(float(depth.max()), 2), bool((depth >= 0).all())
    (1.3, True)
    """
    from ..analysis.terrain import fill_depressions as _engine

    return _engine(elevation, nodata)


def find_depressions(dem: DEM | str | os.PathLike[str], *, min_depth_m: float | None = None,
                     min_area_m2: float | None = None) -> gpd.GeoDataFrame:
    """Depressions of a DEM with their depth, area, volume and spill point, deepest first.

    Parameters
    ----------
    dem : DEM or path
        A :class:`~zlgis.analysis.terrain.DEM` or a GeoTIFF (read into the working CRS).
    min_depth_m, min_area_m2 : float, optional
        Shallower or smaller depressions are dropped (DEM noise); defaults in
        ``waterlogging.yaml``.

    Returns
    -------
    GeoDataFrame
        ``depression_id`` (stable, from the deepest cell), ``rank``, ``max_depth_m``,
        ``mean_depth_m``, ``area_m2``, ``volume_m3``, ``spill_elev_m``, ``bottom_elev_m``,
        ``deepest_x/y``, ``pour_x/y``, ``contributing_area_m2`` and the polygon.

    Examples
    --------
    >>> import zlgis as zl
    >>> dep = zl.find_depressions(zl.datasets.dem("district"))
    >>> dep[["depression_id", "max_depth_m"]].round(2).values.tolist()
    [['WD-481675-5317015', 1.3], ['WD-480865-5314815', 0.93]]
    """
    from ..analysis.terrain import analyse_depressions

    return analyse_depressions(_dem(dem), min_depth_m=min_depth_m,
                               min_area_m2=min_area_m2).depressions


def ponding(dem: DEM | str | os.PathLike[str], roads: gpd.GeoDataFrame, *,
            rain_mm: float | None = None,
            depth_threshold_cm: float | None = None) -> gpd.GeoDataFrame:
    """Road segments where standing water would reach the threshold depth on a lane.

    Without ``rain_mm`` every depression is full (the worst case); with it, the rain fills
    the depressions from their catchments (runoff coefficient and spill-over downstream in
    ``waterlogging.yaml``). Bridges are skipped.

    Parameters
    ----------
    dem : DEM or path
        The terrain.
    roads : GeoDataFrame
        Centrelines with ``road_id``, ``name``, ``road_class``, ``width``, ``lanes``,
        ``bridge``.
    rain_mm : float, optional
        A rain scenario (mm); default: depressions full.
    depth_threshold_cm : float, optional
        Water depth on a lane that counts (default 15 cm, GB 51222-2017 §3.2).

    Returns
    -------
    GeoDataFrame
        One row per road segment: ``road_id``, ``name``, ``road_class``, ``depression_id``,
        ``max_depth_cm``, ``wet_length_m``, ``wet_area_m2``, ``half_width_m`` and the wet
        stretch of centreline.

    Examples
    --------
    >>> import zlgis as zl
    >>> dem, roads = zl.datasets.dem("district"), zl.datasets.load("district")["roads"]
    >>> full = zl.ponding(dem, roads)
    >>> sorted(full["name"].unique())
    ['东三十六横街', '东六横街', '繁荣路']
    >>> bool(zl.ponding(dem, roads, rain_mm=3)["wet_length_m"].sum() <= full["wet_length_m"].sum())
    True
    """
    from ..analysis.terrain import analyse_depressions
    from ..analysis.waterlogging import rain_scenario, roads_at_risk

    analysis = analyse_depressions(_dem(dem))
    depth = None
    if rain_mm is not None:
        _, depth = rain_scenario(analysis, rain_mm=rain_mm)
    return roads_at_risk(analysis, roads, depth=depth, depth_threshold_cm=depth_threshold_cm)


def rain_scenario(dem: DEM | str | os.PathLike[str], *, rain_mm: float | None = None,
                  runoff_coefficient: float | None = None) -> gpd.GeoDataFrame:
    """Which depressions a rain fills and spills over, and how deep the water stands.

    Runoff = rain x runoff coefficient x contributing area (GB 50014-2021 §3.2.2, the volume
    form of the rational method); a full depression spills over its pour point into the one
    downstream (upstream first), so a chain of depressions fills like a cascade. Drainage by
    sewers during the storm is not modelled (the worst case: blocked gullies).

    Parameters
    ----------
    dem : DEM or path
        The terrain.
    rain_mm : float, optional
        Rain depth in mm (default ``waterlogging.yaml`` ``rain.rain_mm``).
    runoff_coefficient : float, optional
        Share of the rain that runs off (default ``waterlogging.yaml``).

    Returns
    -------
    GeoDataFrame
        The depressions of :func:`find_depressions` with ``runoff_m3`` (own catchment),
        ``inflow_m3`` (with the overflow from upstream), ``fill_ratio``, ``spills``,
        ``overflow_m3``, ``downstream`` (the depression it spills into, or empty),
        ``scenario_level_m`` and ``scenario_depth_cm``.

    Examples
    --------
    >>> import zlgis as zl
    >>> dem = zl.datasets.dem("district")
    >>> light, heavy = zl.rain_scenario(dem, rain_mm=0.5), zl.rain_scenario(dem, rain_mm=30)
    >>> bool((light["inflow_m3"] <= heavy["inflow_m3"]).all()), bool(heavy["spills"].all())
    (True, True)
    """
    import pandas as pd

    from ..analysis.terrain import analyse_depressions
    from ..analysis.waterlogging import rain_scenario as _engine

    analysis = analyse_depressions(_dem(dem))
    table, _ = _engine(analysis, rain_mm=rain_mm, runoff_coefficient=runoff_coefficient)
    dep = analysis.depressions
    return dep.join(pd.DataFrame(table, index=dep.index)[[c for c in table.columns
                                                        if c not in dep.columns]])
