"""Street networks, facility coverage, service areas and siting.

Walking distances run on :class:`zlgis.analysis.network.StreetGraph` (one multi-source search
from all facilities); coverage radii and targets live in ``config/coverage.yaml``.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import numpy as np

if TYPE_CHECKING:
    import geopandas as gpd
    import pandas as pd

    from ..analysis.network import StreetGraph

__all__ = ["street_graph", "nearest_facility", "coverage", "service_areas", "site_facilities"]


def street_graph(roads: gpd.GeoDataFrame, *, walk: bool = True) -> StreetGraph:
    """The street network of road centrelines, for walking or driving distances.

    Parameters
    ----------
    roads : GeoDataFrame
        Centrelines in a projected CRS; lines are split where they meet.
    walk : bool
        Walking network (every street both ways, footways included) or driving.

    Returns
    -------
    StreetGraph
        Nodes and edges as arrays (``graph.edges`` is a GeoDataFrame), with ``snap``,
        ``to_gdfs`` and ``to_networkx``.

    Examples
    --------
    >>> import zlgis as zl
    >>> g = zl.street_graph(zl.datasets.load("district")["roads"])
    >>> g.n_nodes, g.n_edges
    (782, 1367)
    """
    from ..analysis.network import StreetGraph

    return StreetGraph.from_roads(roads, walk=walk)


def _labelled(facilities: gpd.GeoDataFrame, facility_id: str | None) -> gpd.GeoDataFrame:
    return facilities.set_index(facility_id, drop=False) if facility_id else facilities


def nearest_facility(graph: StreetGraph, demand: gpd.GeoDataFrame,
                     facilities: gpd.GeoDataFrame, *, facility_id: str | None = None,
                     limit: float | None = None) -> pd.DataFrame:
    """Nearest facility of every demand point along the streets, and by straight line.

    Parameters
    ----------
    graph : StreetGraph
        From :func:`street_graph`.
    demand, facilities : GeoDataFrame
        Points (polygons stand by a representative point), in the graph's CRS or converted.
    facility_id : str, optional
        Column naming the facilities in the result (default: the index of ``facilities``).
    limit : float, optional
        Search radius in metres; farther demand gets ``inf`` and no facility.

    Returns
    -------
    DataFrame
        Index of ``demand``: ``distance_network`` (m), ``facility``, ``distance_straight``,
        ``facility_straight`` and ``access`` (m from the point to its street).

    Examples
    --------
    >>> import zlgis as zl
    >>> d = zl.datasets.load("district")
    >>> g = zl.street_graph(d["roads"])
    >>> r = zl.nearest_facility(g, d["buildings"], d["toilets"], facility_id="toilet_id")
    >>> bool((r["distance_network"] >= r["distance_straight"]).all())
    True
    """
    from ..analysis.network import nearest_facility as _engine

    return _engine(graph, demand, _labelled(facilities, facility_id), limit=limit)


def coverage(demand: gpd.GeoDataFrame, facilities: gpd.GeoDataFrame, *,
             radius: float | Sequence[float], method: str = "network",
             graph: StreetGraph | None = None) -> gpd.GeoDataFrame:
    """Which demand points a facility serves within ``radius`` (walking or straight line).

    Parameters
    ----------
    demand : GeoDataFrame
        Dwellings, buildings or sample points.
    facilities : GeoDataFrame
        Toilets, stations, park access points ...
    radius : float or sequence of float
        Service radius in metres, one value or one per facility (the standards' values are in
        ``coverage.yaml``).
    method : {"network", "radius"}
        Walking distance on ``graph``, or straight-line distance.
    graph : StreetGraph, optional
        Needed for ``method="network"``.

    Returns
    -------
    GeoDataFrame
        ``demand`` with ``distance_straight``, ``distance_network``, ``distance`` (by
        ``method``), ``facility`` (position of the serving facility, -1 when none) and
        ``covered``.

    Examples
    --------
    >>> import zlgis as zl
    >>> d = zl.datasets.load("district")
    >>> g = zl.street_graph(d["roads"])
    >>> walk = zl.coverage(d["buildings"], d["toilets"], radius=500, graph=g)
    >>> line = zl.coverage(d["buildings"], d["toilets"], radius=500, method="radius")
    >>> bool(walk["covered"].mean() <= line["covered"].mean())
    True
    """
    from ..analysis.coverage import facility_distances

    dist = facility_distances(demand, facilities, radius=np.asarray(radius, float), method=method,
                              graph=graph)
    return demand.join(dist)


def service_areas(facilities: gpd.GeoDataFrame, *, radius: float, method: str = "network",
                  graph: StreetGraph | None = None,
                  facility_id: str | None = None) -> gpd.GeoDataFrame:
    """Service-area polygon of every facility: what can be walked to within ``radius``.

    Parameters
    ----------
    facilities : GeoDataFrame
        Facility points.
    radius : float
        Service radius in metres.
    method : {"network", "radius"}
        The street stretches within the walking radius (buffered by
        ``network.service_area_buffer_m``), or a circle.
    graph : StreetGraph, optional
        Needed for ``method="network"``.
    facility_id : str, optional
        Column copied to ``facility_id``.

    Returns
    -------
    GeoDataFrame
        ``facility`` (position), ``facility_id``, ``radius_m`` and the polygon.

    Examples
    --------
    >>> import zlgis as zl
    >>> d = zl.datasets.load("district")
    >>> g = zl.street_graph(d["roads"])
    >>> areas = zl.service_areas(d["toilets"], radius=500, graph=g, facility_id="toilet_id")
    >>> circles = zl.service_areas(d["toilets"], radius=500, method="radius")
    >>> bool(areas.union_all().area < circles.union_all().area)
    True
    """
    from ..analysis.coverage import service_areas as _engine

    return _engine(facilities, radius=radius, method=method, graph=graph, id_field=facility_id)


def site_facilities(demand: gpd.GeoDataFrame, candidates: gpd.GeoDataFrame, *, radius: float,
                    k: int | None = None, target: float | None = None,
                    weight: str | None = None, method: str = "network",
                    graph: StreetGraph | None = None,
                    time_limit: float = 20.0) -> gpd.GeoDataFrame:
    """Choose sites for new facilities among candidates (maximal covering / set covering).

    With ``k``: the ``k`` sites covering the most demand weight. With ``target`` (a share
    of the weight): the fewest sites reaching it. Solved exactly as an integer program (CBC).

    Parameters
    ----------
    demand : GeoDataFrame
        Demand not yet served (dwellings, sample points).
    candidates : GeoDataFrame
        Possible sites (public land, street points ...).
    radius : float
        Service radius in metres.
    k : int, optional
        Number of sites to build.
    target : float, optional
        Share of the demand weight to cover (0-1), when ``k`` is not given (default 1).
    weight : str, optional
        Demand column with weights (population); default 1 per row.
    method : {"network", "radius"}
        Walking distance on ``graph``, or straight line.
    graph : StreetGraph, optional
        Needed for ``method="network"``.
    time_limit : float
        Seconds allowed to the solver.

    Returns
    -------
    GeoDataFrame
        The chosen candidates with ``rank`` (1 = the site adding most) and ``gain`` (weight it
        adds, in rank order).

    Examples
    --------
    >>> import zlgis as zl
    >>> d = zl.datasets.load("district")
    >>> g = zl.street_graph(d["roads"])
    >>> far = zl.coverage(d["buildings"], d["toilets"], radius=300, graph=g)
    >>> far = far[~far["covered"]]
    >>> sites = zl.site_facilities(far, d["garbage_points"], radius=300, k=2, graph=g)
    >>> sites["rank"].tolist(), bool(sites["gain"].is_monotonic_decreasing)
    ([1, 2], True)
    """
    from ..analysis.siting import coverage_sets, solve_max_coverage, solve_min_sites

    w = (np.ones(len(demand)) if weight is None
         else demand[weight].fillna(0).to_numpy(dtype=float))
    A = coverage_sets(candidates, demand, radius=radius, method=method, graph=graph)
    if k is not None:
        chosen, _ = solve_max_coverage(A, w, int(k), time_limit=time_limit)
    else:
        need = float(target if target is not None else 1.0) * float(w.sum())
        reachable = float(w[np.asarray(A.sum(axis=0)).ravel() > 0].sum())
        chosen, _ = solve_min_sites(A, w, min(need, reachable), time_limit=time_limit)
    order, gains = _rank(A, w, chosen)
    out = candidates.iloc[order].copy()
    out["rank"] = np.arange(1, len(order) + 1)
    out["gain"] = gains
    return out


def _rank(A: Any, w: np.ndarray, chosen: list[int]) -> tuple[list[int], list[float]]:
    """Order chosen sites by the weight each adds to those before it."""
    A = A.tocsr()
    left = np.asarray(w, float).copy()
    rest, order, gains = list(chosen), [], []
    while rest:
        g = [float(left[A[j].indices].sum()) for j in rest]
        i = int(np.argmax(g))
        j = rest.pop(i)
        order.append(j)
        gains.append(g[i])
        left[A[j].indices] = 0.0
    return order, gains
