"""Map layers too big to draw feature by feature: counts per hexagon, or a note saying why not.

A web map is one page a phone must open: a layer over the configured size
(``ledger.yaml`` ``maps.max_context_features``) is not drawn feature by feature.
:func:`fit_layers` turns each such point layer into counts per hexagon
(:func:`hexagon_counts`, in the working CRS, metres) and leaves other geometries off; either way
it returns one Chinese note per layer for the map's legend, so nothing is left off silently.

Examples
--------
>>> import geopandas as gpd, shapely
>>> pts = gpd.GeoSeries(shapely.points([[0, 0], [10, 5], [1000, 0]]), crs="EPSG:4550")
>>> hexagon_counts(pts, 250)["count"].tolist()
[2, 1]
"""

from __future__ import annotations

from collections.abc import Mapping

import geopandas as gpd
import numpy as np
import shapely

from .._arrowtext import geom_types
from ..catalog import Catalog

__all__ = ["hexagon_counts", "fit_layers"]

_SQRT3 = np.sqrt(3.0)


def hexagon_counts(geoms: gpd.GeoSeries, size_m: float) -> gpd.GeoDataFrame:
    """Number of features per pointy-top hexagon of side (circumradius) ``size_m`` metres.

    Each feature counts once, at a point inside it (``representative_point``), in the hexagon
    holding that point; hexagons tile the plane (axial coordinates, cube rounding), so the
    counts add up to the number of non-empty features.

    Parameters
    ----------
    geoms : GeoSeries
        In a projected CRS in metres (the working CRS).
    size_m : float
        Side of the hexagons.

    Returns
    -------
    GeoDataFrame
        ``count`` and the hexagon polygon, one row per hexagon holding a feature, in the CRS of
        ``geoms``.
    """
    g = geoms[geoms.notna() & ~geoms.is_empty]
    if not len(g):
        return gpd.GeoDataFrame({"count": np.empty(0, np.int64)}, geometry=[], crs=geoms.crs)
    xy = shapely.get_coordinates(shapely.point_on_surface(g.values))
    s = float(size_m)
    q = (_SQRT3 / 3 * xy[:, 0] - xy[:, 1] / 3) / s
    r = (2 / 3 * xy[:, 1]) / s
    cube = np.column_stack([q, -q - r, r])
    rounded = np.round(cube)
    err = np.abs(rounded - cube)
    worst = np.argmax(err, axis=1)          # fix the coordinate rounded the most: sum is 0
    rows = np.arange(len(rounded))
    rounded[rows, worst] = 0
    rounded[rows, worst] = -rounded.sum(axis=1)
    keys = rounded[:, [0, 2]].astype(np.int64)
    uniq, counts = np.unique(keys, axis=0, return_counts=True)
    cx = s * _SQRT3 * (uniq[:, 0] + uniq[:, 1] / 2)
    cy = s * 1.5 * uniq[:, 1]
    ang = np.radians(30 + 60 * np.arange(7))
    ring = np.stack([cx[:, None] + s * np.cos(ang), cy[:, None] + s * np.sin(ang)], axis=2)
    return gpd.GeoDataFrame({"count": counts.astype(np.int64)},
                            geometry=shapely.polygons(ring), crs=geoms.crs)


def fit_layers(layers: Mapping[str, gpd.GeoDataFrame], catalog: Catalog, *, limit: int,
               hexagon_m: float) -> tuple[dict[str, gpd.GeoDataFrame],
                                          dict[str, gpd.GeoDataFrame], list[str]]:
    """Split a map's layers into those drawn feature by feature and those over ``limit``.

    Parameters
    ----------
    layers : mapping of catalog layer id to GeoDataFrame
    catalog : Catalog
        Layer titles.
    limit : int
        Most features a layer may have to be drawn one by one.
    hexagon_m : float
        Hexagon side for the counts of bigger point layers.

    Returns
    -------
    kept : dict
        Layers of at most ``limit`` features, unchanged.
    aggregates : dict
        Map title -> hexagon counts (:func:`hexagon_counts`) of each bigger point layer.
    notes : list of str
        One Chinese line per layer aggregated or left off (bigger lines and polygons).

    Examples
    --------
    >>> import geopandas as gpd, shapely
    >>> t = gpd.GeoDataFrame(geometry=shapely.points([[0, 0], [5, 5], [9, 1]]), crs="EPSG:4550")
    >>> kept, agg, notes = fit_layers({"toilets": t}, Catalog.load(), limit=2, hexagon_m=250)
    >>> list(kept), list(agg), notes
    ([], ['公共厕所（按六边形汇总）'], ['公共厕所共 3 个，超过逐个显示的上限 2 个，图上按边长 250 米的六边形汇总个数'])
    """
    kept: dict[str, gpd.GeoDataFrame] = {}
    aggregates: dict[str, gpd.GeoDataFrame] = {}
    notes: list[str] = []
    for lid, gdf in layers.items():
        if gdf is None or len(gdf) <= limit:
            kept[lid] = gdf
            continue
        title = catalog.layers[lid].title if lid in catalog.layers else lid
        if geom_types(gdf.geometry.values) <= {"Point", "MultiPoint"}:
            aggregates[f"{title}（按六边形汇总）"] = hexagon_counts(gdf.geometry, hexagon_m)
            notes.append(f"{title}共 {len(gdf):,} 个，超过逐个显示的上限 {limit:,} 个，"
                         f"图上按边长 {hexagon_m:g} 米的六边形汇总个数")
        else:
            notes.append(f"{title}共 {len(gdf):,} 个要素，超过逐个显示的上限 {limit:,} 个，"
                         "未在图上显示（见图层数据，可用 zlgis export qgis 在 QGIS 中查看）")
    return kept, aggregates, notes
