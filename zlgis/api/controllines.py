"""Control lines: buildings on road red lines, setbacks, and green/blue/purple/yellow lines.

The rules, their numbers and sources are those of :mod:`zlgis.analysis.setbacks` and
:mod:`zlgis.analysis.controllines` (``config/controllines.yaml``); these functions only give
them a momepy-style signature.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import geopandas as gpd

__all__ = ["red_line_breaches", "setback_breaches", "zone_overlaps", "red_lines_from_roads"]


def red_line_breaches(buildings: gpd.GeoDataFrame, red_lines: gpd.GeoDataFrame, *,
                      building_id: str = "building_id", line_id: str = "line_id",
                      config: Mapping[str, Any] | None = None) -> gpd.GeoDataFrame:
    """Buildings pressing on road red lines (rule ``red_line_encroachment``).

    GB 50352-2019 §2.0.6: a building may not cross the road red line. Severity grows with the
    depth of the encroachment (``controllines.yaml``).

    Parameters
    ----------
    buildings : GeoDataFrame
        Footprints (polygons, projected CRS) with an id column; ``height`` or ``floors`` is
        read when present.
    red_lines : GeoDataFrame
        Red-line polygons with an id column and ``road_class``.
    building_id, line_id : str
        Names of the id columns.
    config : mapping, optional
        Overrides ``controllines.yaml``.

    Returns
    -------
    GeoDataFrame
        Findings (:data:`zlgis.findings.FINDING_COLUMNS`): one per building and red line,
        geometry = the part of the footprint inside the red line, ``measure`` = depth (m),
        measures ``area_m2`` and ``depth_m``.

    Examples
    --------
    >>> import zlgis as zl
    >>> d = zl.datasets.load("district")
    >>> f = zl.red_line_breaches(d["buildings"], d["red_lines"])
    >>> f[["feature_id", "related_ids", "measure_unit", "severity"]].values.tolist()
    [['JZ0000569', 'HX0225', 'm', 'high'], ['JZ0000370', 'HX0232', 'm', 'high']]
    """
    from ..analysis.setbacks import red_line_breaches as _engine

    return _engine(buildings, red_lines, config, building_id=building_id, line_id=line_id)


def setback_breaches(buildings: gpd.GeoDataFrame, red_lines: gpd.GeoDataFrame, *,
                     building_id: str = "building_id", line_id: str = "line_id",
                     config: Mapping[str, Any] | None = None) -> gpd.GeoDataFrame:
    """Buildings nearer to a road red line than the required setback (rule ``red_line_setback``).

    The required distance comes from the road class and the building's height class
    (``setbacks.table_m`` in ``controllines.yaml``; example values to confirm locally).

    Parameters
    ----------
    buildings : GeoDataFrame
        Footprints with an id column and ``height`` (m) or ``floors``.
    red_lines : GeoDataFrame
        Red-line polygons with an id column and ``road_class``.
    building_id, line_id : str
        Names of the id columns.
    config : mapping, optional
        Overrides ``controllines.yaml``.

    Returns
    -------
    GeoDataFrame
        Findings; ``measure`` = shortfall (m), measures ``required_m`` and ``actual_m``.

    Examples
    --------
    >>> import zlgis as zl
    >>> d = zl.datasets.load("district")
    >>> f = zl.setback_breaches(d["buildings"], d["red_lines"])
    >>> f[["feature_id", "related_ids", "measure", "severity"]].values.tolist()
    [['JZ0000254', 'HX0227', 1.0, 'medium']]
    """
    from ..analysis.setbacks import setback_breaches as _engine

    return _engine(buildings, red_lines, config, building_id=building_id, line_id=line_id)


def zone_overlaps(features: gpd.GeoDataFrame, zones: gpd.GeoDataFrame, *,
                  kind: str = "green_line", feature_id: str = "building_id",
                  line_id: str = "line_id", layer: str = "buildings",
                  config: Mapping[str, Any] | None = None) -> gpd.GeoDataFrame:
    """Buildings or sites inside a green, blue, purple or yellow line (疑似，待核查).

    Sources per kind in ``controllines.yaml`` (建设部令第112 / 145 / 119 / 144号); features
    with a line permit (``line_permit``) are exempt.

    Parameters
    ----------
    features : GeoDataFrame
        Polygons with an id column.
    zones : GeoDataFrame
        Control-line polygons (holes are outside) with an id column.
    kind : {"green_line", "blue_line", "purple_line", "yellow_line"}
        Which control line (the rule id).
    feature_id, line_id : str
        Names of the id columns.
    layer : str
        Layer id written into the findings.
    config : mapping, optional
        Overrides ``controllines.yaml``.

    Returns
    -------
    GeoDataFrame
        Findings; geometry = the overlap, ``measure`` = share of the footprint inside,
        measures ``overlap_m2`` and ``share``.

    Examples
    --------
    >>> import zlgis as zl
    >>> d = zl.datasets.load("district")
    >>> f = zl.zone_overlaps(d["construction_sites"], d["green_lines"], kind="green_line",
    ...                      feature_id="site_id", layer="construction_sites")
    >>> f[["feature_id", "rule"]].values.tolist(), round(float(f["measure"].iloc[0]), 2)
    ([['GD009', 'green_line']], 0.29)
    """
    from ..analysis.controllines import zone_findings

    return zone_findings(features, zones, kind, config, layer=layer, feature_id=feature_id,
                         line_id=line_id)


def red_lines_from_roads(roads: gpd.GeoDataFrame, *, widths: Mapping[str, Any] | None = None,
                         class_field: str | None = None, id_field: str | None = None,
                         width_field: str = "width",
                         config: Mapping[str, Any] | None = None) -> gpd.GeoDataFrame:
    """Road red-line polygons from centrelines, each road buffered by half its red-line width.

    For cities without surveyed red lines (OpenStreetMap roads carry ``highway``; a city's own
    roads ``road_class``). Widths per class in ``controllines.yaml``.

    Parameters
    ----------
    roads : GeoDataFrame
        Centrelines in a projected CRS.
    widths : mapping, optional
        Class -> width in metres, overriding the configuration; a null width gives no red line.
    class_field : str, optional
        Column holding the class (default ``highway`` if present, else ``road_class``).
    id_field : str, optional
        Column holding the road id (default ``road_id``, ``full_id``, ``osm_id`` or the index).
    width_field : str
        A numeric width on the road within the configured range wins over the class width.
    config : mapping, optional
        Overrides ``controllines.yaml``.

    Returns
    -------
    GeoDataFrame
        ``line_id``, ``road_id``, ``road_name``, ``road_class``, ``width``, ``source_class``
        and the polygon.

    Examples
    --------
    >>> import zlgis as zl
    >>> roads = zl.datasets.load("district")["roads"]
    >>> red = zl.red_lines_from_roads(roads)
    >>> len(red) == len(roads), red.geom_type.unique().tolist()
    (True, ['Polygon'])
    """
    from ..analysis.setbacks import red_lines_from_roads as _engine

    return _engine(roads, widths, config, class_field=class_field, id_field=id_field,
                   width_field=width_field)
