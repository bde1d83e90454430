"""Street networks and network distances: the honest answer to "how far is the nearest facility".

This module gathers the network API; the code lives in task modules: :mod:`.street_graph` (the
graph), :mod:`.graph_build` and :mod:`.noding` (construction from road lines), :mod:`.snapping`,
:mod:`.shortest_paths` (multi-source search, nearest facility, distance matrices), :mod:`.osm`.

A :class:`StreetGraph` is built from the catalog's ``roads`` layer (CAD-style centrelines: lines
are noded where they cross, except bridges, which only connect at their ends) or from an OSM
file (ways connect only where they share a node). Points are snapped to the nearest *edge*, not
the nearest node: a snapped point keeps the edge, its position along the edge (``offset`` from
the edge's ``u`` end) and the straight ``access`` distance from the point to the street.

Distances between two snapped points account for both access distances and for the positions
along the edges, including two points on the same edge. Nearest-facility distances for any
number of demand points come from one multi-source shortest-path pass over the CSR street graph:
every facility enters as a virtual node joined to both ends of its edge (access + distance
along the edge), so no loop over facilities is ever needed; the pass is
:func:`scipy.sparse.csgraph.dijkstra` (``min_only=True``), then numpy maps every demand point
to its distance (both edge ends, offsets, access, facilities on the same edge).

The graph converts to an osmnx-compatible ``networkx.MultiDiGraph`` (:meth:`StreetGraph.to_networkx`,
through :func:`osmnx.convert.graph_from_gdfs`) and back (:meth:`StreetGraph.from_networkx`).

Examples
--------
Two parallel streets joined only by a bridge at x = 1000 (a river runs between them):

>>> import geopandas as gpd
>>> from shapely.geometry import LineString, Point
>>> roads = gpd.GeoDataFrame({
...     "road_id": ["south", "north", "bridge"], "road_class": ["支路", "支路", "支路"],
...     "bridge": [False, False, True]},
...     geometry=[LineString([(0, 0), (1000, 0)]), LineString([(0, 100), (1000, 100)]),
...               LineString([(1000, 0), (1000, 100)])], crs="EPSG:4550")
>>> g = StreetGraph.from_roads(roads)
>>> g.n_nodes, g.n_edges
(4, 3)
>>> toilets = gpd.GeoSeries([Point(0, 110)], crs="EPSG:4550")
>>> homes = gpd.GeoSeries([Point(0, -10)], crs="EPSG:4550")
>>> r = nearest_facility(g, homes, toilets)
>>> round(r.loc[0, "distance_straight"]), round(r.loc[0, "distance_network"])
(120, 2120)
"""

from __future__ import annotations

from ._network_common import is_xy, network_config, point_xy, xy_of_points
from .osm import parse_other_tags, read_osm_points
from .shortest_paths import (
    MultiSourceResult,
    distance_matrix,
    multi_source,
    nearest_facility,
    network_distance,
)
from .snapping import snap_points
from .street_graph import StreetGraph

__all__ = [
    "StreetGraph",
    "MultiSourceResult",
    "snap_points",
    "multi_source",
    "nearest_facility",
    "distance_matrix",
    "network_distance",
    "read_osm_points",
    "parse_other_tags",
    "network_config",
    "point_xy",
    "xy_of_points",
    "is_xy",
]
