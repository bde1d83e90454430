"""Residential compounds and city utilities: ledger, life circles, heating, water and gas.

Numbers and their sources live in ``config/compounds.yaml``, ``heating.yaml``, ``water.yaml``
and ``gas.yaml``; the rules in ``config/rules/``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import geopandas as gpd
    import pandas as pd

    from ..analysis.network import StreetGraph

__all__ = ["compound_ledger", "lifecircle_audit", "heat_supply", "rebalance_heating",
           "gas_clearances", "water_zone_buildings"]


def compound_ledger(compounds: gpd.GeoDataFrame, *,
                    facilities: gpd.GeoDataFrame | None = None,
                    grids: gpd.GeoDataFrame | None = None) -> gpd.GeoDataFrame:
    """One row per residential compound: governance, property service, fees, charging, safety.

    Parameters
    ----------
    compounds : GeoDataFrame
        The ``residential_compounds`` layer (missing columns count as "no").
    facilities : GeoDataFrame, optional
        ``compound_facilities`` (fire lanes, compound green and structures found on them).
    grids : GeoDataFrame, optional
        Grid cells with ``subdistrict``, for compounds without one.

    Returns
    -------
    GeoDataFrame
        ``governance`` (业主大会 / 物业管理委员会 / 无), ``service`` (物业企业 / 街道托管 / 无),
        ``fee_disclosed``, ``charging_points``, ``fire_lanes_blocked``, ``green_encroached`` …

    Examples
    --------
    >>> import geopandas as gpd
    >>> from shapely.geometry import box
    >>> import zlgis as zl
    >>> c = gpd.GeoDataFrame({"compound_id": ["A"], "owners_committee": [False],
    ...     "management_committee": [True], "service_mode": ["街道托管"]},
    ...     geometry=[box(0, 0, 100, 100)], crs="EPSG:4550")
    >>> zl.compound_ledger(c)[["governance", "service"]].values.tolist()
    [['物业管理委员会', '街道托管']]
    """
    from ..analysis.compounds import compound_ledger as _ledger

    return _ledger(compounds, facilities=facilities, grids=grids)


def lifecircle_audit(compounds: gpd.GeoDataFrame, facilities: gpd.GeoDataFrame, *,
                     graph: StreetGraph, only_under_construction: bool = True) -> pd.DataFrame:
    """GB 50180-2018 life-circle audit: walking distance to each facility a compound needs.

    Parameters
    ----------
    compounds : GeoDataFrame
        ``residential_compounds``.
    facilities : GeoDataFrame
        ``compound_facilities`` (``facility_id``, ``category``).
    graph : StreetGraph
        The walking network (:func:`zlgis.street_graph`).
    only_under_construction : bool
        Audit the compounds under construction only (task 1.2.3).

    Returns
    -------
    DataFrame
        One row per compound and category: ``level``, ``category``, ``clause``, ``limit_m``,
        ``distance_m``, ``facility_id``, ``ok``.

    Examples
    --------
    >>> import geopandas as gpd
    >>> from shapely.geometry import LineString, box
    >>> import zlgis as zl
    >>> g = zl.street_graph(gpd.GeoDataFrame(geometry=[LineString([(0, 0), (3000, 0)])],
    ...                                      crs="EPSG:4550"))
    >>> c = gpd.GeoDataFrame({"compound_id": ["XQ1"], "under_construction": [True]},
    ...                      geometry=[box(0, 5, 20, 25)], crs="EPSG:4550")
    >>> f = gpd.GeoDataFrame({"facility_id": ["K1"], "category": ["幼儿园"]},
    ...                      geometry=[box(400, 5, 410, 15)], crs="EPSG:4550")
    >>> a = zl.lifecircle_audit(c, f, graph=g)
    >>> a.loc[a["category"] == "幼儿园", ["distance_m", "limit_m", "ok"]].values.tolist()
    [[420.0, 300.0, False]]
    """
    from ..analysis.lifecircle import lifecircle_audit as _audit

    return _audit(compounds, facilities, graph=graph,
                  only_under_construction=only_under_construction)


def heat_supply(buildings: gpd.GeoDataFrame, stations: gpd.GeoDataFrame, *,
                graph: StreetGraph) -> gpd.GeoDataFrame:
    """Heat stations' supply areas by network distance and their load against capacity.

    Parameters
    ----------
    buildings : GeoDataFrame
        ``buildings`` (``use``, ``floors``); heated floor area is footprint x floors.
    stations : GeoDataFrame
        ``heat_stations`` with ``capacity_m2`` (design heated area).
    graph : StreetGraph
        The street network.

    Returns
    -------
    GeoDataFrame
        Per station: ``buildings``, ``load_m2``, ``capacity_m2``, ``margin_m2``,
        ``margin_share``, ``overloaded``, ``tight``; the per-building table is in
        ``attrs["supply"]``.

    Examples
    --------
    >>> import geopandas as gpd
    >>> from shapely.geometry import LineString, Point, box
    >>> import zlgis as zl
    >>> g = zl.street_graph(gpd.GeoDataFrame(geometry=[LineString([(0, 0), (1000, 0)])],
    ...                                      crs="EPSG:4550"))
    >>> st = gpd.GeoDataFrame({"station_id": ["HR1"], "capacity_m2": [500.0]},
    ...                       geometry=[Point(0, 5)], crs="EPSG:4550")
    >>> b = gpd.GeoDataFrame({"building_id": ["B1"], "use": ["住宅"], "floors": [3]},
    ...                      geometry=[box(100, 5, 110, 25)], crs="EPSG:4550")
    >>> zl.heat_supply(b, st, graph=g)[["load_m2", "margin_m2", "overloaded"]].values.tolist()
    [[600.0, -100.0, True]]
    """
    from ..analysis.heating import heated_buildings, station_loads, supply_areas

    supply = supply_areas(heated_buildings(buildings), stations, graph=graph)
    loads = station_loads(stations, supply)
    loads.attrs["supply"] = supply
    return loads


def rebalance_heating(graph: StreetGraph, stations: gpd.GeoDataFrame,
                      companies: gpd.GeoDataFrame, loads: pd.DataFrame) -> pd.DataFrame:
    """Rebalance the heating companies' areas: capacitated, contiguous, least network length.

    Parameters
    ----------
    graph : StreetGraph
        The street network.
    stations : GeoDataFrame
        ``heat_stations`` (``station_id``, ``company``).
    companies : GeoDataFrame
        ``heating_companies``: ``name``, ``capacity_m2``, point at the heat source.
    loads : DataFrame
        From :func:`heat_supply` (``station_id``, ``load_m2``).

    Returns
    -------
    DataFrame
        Per station ``company``, ``new_company``, ``changed``; per company in ``attrs["companies"]``
        (capacity, load before and after, margin).

    Examples
    --------
    >>> import geopandas as gpd
    >>> from shapely.geometry import LineString, Point
    >>> import zlgis as zl
    >>> g = zl.street_graph(gpd.GeoDataFrame(geometry=[LineString([(0, 0), (3000, 0)])],
    ...                                      crs="EPSG:4550"))
    >>> st = gpd.GeoDataFrame({"station_id": ["S1", "S2", "S3"], "company": ["甲", "甲", "乙"]},
    ...     geometry=[Point(100, 5), Point(1500, 5), Point(2900, 5)], crs="EPSG:4550")
    >>> co = gpd.GeoDataFrame({"name": ["甲", "乙"], "capacity_m2": [1e6, 1e6]},
    ...     geometry=[Point(0, 5), Point(3000, 5)], crs="EPSG:4550")
    >>> loads = gpd.pd.DataFrame({"station_id": ["S1", "S2", "S3"], "load_m2": [1e4] * 3})
    >>> zl.rebalance_heating(g, st, co, loads)["new_company"].tolist()
    ['甲', '甲', '乙']
    """
    from ..analysis.heatbalance import rebalance

    per, comp = rebalance(graph, stations, companies, loads)
    per.attrs["companies"] = comp
    return per


def gas_clearances(pipes: gpd.GeoDataFrame, buildings: gpd.GeoDataFrame) -> pd.DataFrame:
    """Buildings at or within the horizontal clearance of a buried gas pipeline (GB 50028).

    Parameters
    ----------
    pipes : GeoDataFrame
        ``gas_pipelines`` with ``pressure_class`` (and ``diameter_mm``).
    buildings : GeoDataFrame
        ``buildings`` (``building_id``).

    Returns
    -------
    DataFrame
        ``pipe_id, building_id, pressure_class, clear_m`` (from the pipe wall, mm precision),
        ``required_m, breach``.

    Examples
    --------
    >>> import geopandas as gpd
    >>> from shapely.geometry import LineString, box
    >>> import zlgis as zl
    >>> p = gpd.GeoDataFrame({"pipe_id": ["G1"], "pressure_class": ["低压"]},
    ...                      geometry=[LineString([(0, 0), (50, 0)])], crs="EPSG:4550")
    >>> b = gpd.GeoDataFrame({"building_id": ["B1"]}, geometry=[box(0, 0.5, 10, 9)],
    ...                      crs="EPSG:4550")
    >>> zl.gas_clearances(p, b)[["clear_m", "required_m", "breach"]].values.tolist()
    [[0.5, 0.7, True]]
    """
    from ..analysis.gas import pipeline_clearances

    return pipeline_clearances(pipes, buildings).drop(columns=["pos", "pipe_pos"])


def water_zone_buildings(zones: gpd.GeoDataFrame, buildings: gpd.GeoDataFrame) -> pd.DataFrame:
    """Buildings a drinking-water source protection zone forbids (level 1 and level 2).

    Parameters
    ----------
    zones : GeoDataFrame
        ``water_source_zones`` with ``zone_id`` and ``level`` (一级 / 二级 / 准保护区).
    buildings : GeoDataFrame
        ``buildings`` with ``building_id`` and ``use``.

    Returns
    -------
    DataFrame
        ``building_id, use, zone_id, level, rule``.

    Examples
    --------
    >>> import geopandas as gpd
    >>> from shapely.geometry import box
    >>> import zlgis as zl
    >>> z = gpd.GeoDataFrame({"zone_id": ["Z1"], "level": ["一级"]},
    ...                      geometry=[box(0, 0, 100, 100)], crs="EPSG:4550")
    >>> b = gpd.GeoDataFrame({"building_id": ["B1"], "use": ["住宅"]},
    ...                      geometry=[box(10, 10, 20, 20)], crs="EPSG:4550")
    >>> zl.water_zone_buildings(z, b)["rule"].tolist()
    ['water_zone1_building']
    """
    from ..analysis.watersource import zone_buildings

    return zone_buildings(zones, buildings).drop(columns=["pos"])
