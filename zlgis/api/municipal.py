"""Municipal facilities and greening: dark stretches, lamp on-rates, tree protection zones.

Numbers (reach per road class, on-rate target, protection margins) live in
``config/lamps.yaml`` and ``config/trees.yaml``; the rules in ``config/rules/``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import geopandas as gpd
    import pandas as pd

__all__ = ["dark_stretches", "lamp_sites", "lamp_on_rates", "tree_protection_zones"]


def dark_stretches(roads: gpd.GeoDataFrame, lamps: gpd.GeoDataFrame, *,
                   road_id: str = "road_id", road_class: str = "road_class",
                   status: str = "status") -> gpd.GeoDataFrame:
    """Stretches of lit roads with no working lamp within the road class's reach (照明盲区).

    Parameters
    ----------
    roads : GeoDataFrame
        Road centrelines with an id and a class (主干路, 次干路, 支路, 巷道 ...).
    lamps : GeoDataFrame
        Lamp points, with a status column (正常 lit; 不亮/损坏 dark; 规划新增 not yet in service)
        or without one (every lamp lit). A ``road_id`` column ties lamps to their roads;
        otherwise each lamp belongs to its nearest road within 30 m.
    road_id, road_class, status : str
        Column names.

    Returns
    -------
    GeoDataFrame
        One row per stretch: ``road_id``, ``road_class``, ``start_m``, ``end_m``,
        ``length_m``, ``reach_m``, ``dark_lamps`` and the stretch as a LineString.

    Examples
    --------
    >>> import geopandas as gpd
    >>> import zlgis as zl
    >>> from shapely.geometry import LineString, Point
    >>> roads = gpd.GeoDataFrame({"road_id": ["R1"], "road_class": ["支路"]},
    ...                          geometry=[LineString([(0, 0), (300, 0)])], crs="EPSG:4550")
    >>> lamps = gpd.GeoDataFrame({"status": ["正常", "不亮", "正常"]},
    ...     geometry=[Point(10, 8), Point(150, 8), Point(290, 8)], crs="EPSG:4550")
    >>> zl.dark_stretches(roads, lamps)[["start_m", "end_m"]].values.tolist()
    [[38.914, 261.086]]
    """
    from ..analysis import lamps as lm

    r = roads.rename(columns={road_id: "road_id", road_class: "road_class"})
    lp = lamps.rename(columns={status: "status"}).copy()
    if "lamp_id" not in lp:
        lp["lamp_id"] = [f"L{k + 1}" for k in range(len(lp))]
    states, _ = lm.match_roads(lm.lamp_states(lp), r)
    return lm.dark_stretches(r, states)


def lamp_sites(stretches: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """Proposed new lamp sites along dark stretches, at most the design spacing apart.

    Parameters
    ----------
    stretches : GeoDataFrame
        From :func:`dark_stretches` (``road_id``, ``road_class``, ``start_m``, ``length_m``).

    Returns
    -------
    GeoDataFrame
        One point per site: ``site_id``, ``road_id``, ``road_class``, ``measure_m``,
        ``spacing_m`` (the class's design spacing, ``config/lamps.yaml``).

    Examples
    --------
    >>> import geopandas as gpd
    >>> import zlgis as zl
    >>> from shapely.geometry import LineString
    >>> s = gpd.GeoDataFrame({"road_id": ["R1"], "road_class": ["支路"], "start_m": [0.0],
    ...                       "end_m": [60.0], "length_m": [60.0]},
    ...                      geometry=[LineString([(0, 0), (60, 0)])], crs="EPSG:4550")
    >>> zl.lamp_sites(s)["measure_m"].tolist()
    [10.0, 30.0, 50.0]
    """
    from ..analysis.lamps import propose_sites

    return propose_sites(stretches)


def lamp_on_rates(lamps: gpd.GeoDataFrame, *, roads: gpd.GeoDataFrame | None = None,
                  status: str = "status") -> dict[str, pd.DataFrame]:
    """On-rate (亮灯率: lit lamps / lamps in service) per road, district and city vs the target.

    Parameters
    ----------
    lamps : GeoDataFrame
        Lamp points with a status column; ``road_id`` and ``district`` are used when present
        (without ``road_id`` and with ``roads``, each lamp takes its nearest road).
    roads : GeoDataFrame, optional
        Road centrelines (``road_id``, ``name``, ``road_class``, ``district``).
    status : str
        Name of the status column.

    Returns
    -------
    dict of DataFrame
        ``road``, ``district`` and ``city``: ``in_service``, ``lit``, ``dark``, ``on_rate``,
        ``target`` (the plan's 95 %) and ``meets_target`` (strictly above it).

    Examples
    --------
    >>> import geopandas as gpd
    >>> import zlgis as zl
    >>> from shapely.geometry import Point
    >>> lamps = gpd.GeoDataFrame({"status": ["正常"] * 19 + ["不亮"]},
    ...                          geometry=[Point(k, 0) for k in range(20)], crs="EPSG:4550")
    >>> city = zl.lamp_on_rates(lamps)["city"]
    >>> float(city["on_rate"].iloc[0]), bool(city["meets_target"].iloc[0])
    (0.95, False)
    """
    from ..analysis import lamps as lm

    lp = lamps.rename(columns={status: "status"}).copy()
    if "lamp_id" not in lp:
        lp["lamp_id"] = [f"L{k + 1}" for k in range(len(lp))]
    states = lm.lamp_states(lp)
    if roads is not None:
        states, _ = lm.match_roads(states, roads)
    return lm.on_rates(states, roads)


def tree_protection_zones(trees: gpd.GeoDataFrame, *, grade: str = "grade",
                          crown: str = "crown_m") -> gpd.GeoDataFrame:
    """Protection zones of ancient and notable trees: crown projection plus the grade's margin.

    Parameters
    ----------
    trees : GeoDataFrame
        Tree points with a protection grade (一级古树, 二级古树, 三级古树, 名木, 后备资源) and
        optionally the crown diameter in metres (else the grade's example default).
    grade, crown : str
        Column names.

    Returns
    -------
    GeoDataFrame
        ``tree_id``, ``grade``, ``crown_m``, ``crown_source``, ``radius_m`` and the zone.

    Examples
    --------
    >>> import geopandas as gpd
    >>> import zlgis as zl
    >>> from shapely.geometry import Point
    >>> t = gpd.GeoDataFrame({"tree_id": ["T1"], "grade": ["一级古树"], "crown_m": [10.0]},
    ...                      geometry=[Point(0, 0)], crs="EPSG:4550")
    >>> zl.tree_protection_zones(t)["radius_m"].tolist()
    [10.0]
    """
    from ..analysis.trees import protection_zones

    t = trees.rename(columns={grade: "grade", crown: "crown_m"})
    if "tree_id" not in t:
        t = t.assign(tree_id=[f"T{k + 1}" for k in range(len(t))])
    return protection_zones(t)
