"""Street networks and network distances: the honest answer to "how far is the nearest facility".

A :class:`StreetGraph` is built from the catalog's ``roads`` layer (CAD-style centrelines: lines
are noded where they cross, except bridges, which only connect at their ends) or from an OSM
file (ways connect only where they share a node). Points are snapped to the nearest *edge*, not
the nearest node: a snapped point keeps the edge, its position along the edge (``offset`` from
the edge's ``u`` end) and the straight ``access`` distance from the point to the street.

Distances between two snapped points account for both access distances and for the positions
along the edges, including two points on the same edge. Nearest-facility distances for any
number of demand points come from one multi-source shortest-path pass over the CSR street graph:
every facility seeds both ends of its edge (access + distance along the edge), so no loop over
facilities is ever needed. The pass is compiled with numba (a bucket queue, see
:func:`_ms_buckets`) and fused with a second compiled pass that maps every demand point to its
distance (both edge ends, offsets, access, facilities on the same edge); it gives the same
distances as :func:`scipy.sparse.csgraph.dijkstra` (``min_only=True``) on the graph with one
virtual node per facility, which is kept as the reference (and the fallback without numba).

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

import re
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import scipy.sparse as sp
import shapely
from scipy.sparse.csgraph import connected_components, dijkstra
from scipy.spatial import cKDTree

from ..config import load_config
from ..errors import CRSError, InputError, UnreadableInputError

from .._numba import HAVE_NUMBA, njit

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
]

_INF = np.inf


def network_config() -> dict[str, Any]:
    """The ``network`` section of ``zlgis/config/coverage.yaml`` (walking classes, tolerances)."""
    return dict(load_config("coverage").get("network", {}))


# --------------------------------------------------------------------------------------------
# geometry helpers
# --------------------------------------------------------------------------------------------

def _as_points(geoms: Any, crs: Any = None) -> tuple[np.ndarray, Any, pd.Index]:
    """Points (shapely array), CRS and index from a GeoDataFrame / GeoSeries / array of geometries.

    Polygons and lines are represented by a point guaranteed to lie on them
    (``representative_point``); this is what "a building's position" means throughout zlgis.
    """
    if isinstance(geoms, gpd.GeoDataFrame):
        crs, index, arr = geoms.crs, geoms.index, geoms.geometry.values
    elif isinstance(geoms, gpd.GeoSeries):
        crs, index, arr = geoms.crs, geoms.index, geoms.values
    else:
        arr = np.asarray(geoms, dtype=object)
        index = pd.RangeIndex(len(arr))
    arr = np.asarray(arr, dtype=object)
    if len(arr):
        bad = shapely.is_missing(arr) | shapely.is_empty(arr)
        if bad.any():
            k = int(np.flatnonzero(bad)[0])
            raise InputError(f"要素 {index[k]} 没有几何，无法计算距离", row=k + 1,
                             field="geometry")
    kind = shapely.get_type_id(arr)
    if len(arr) and (kind != 0).any():
        arr = np.where(kind == 0, arr, shapely.point_on_surface(arr))
    return arr, crs, index


def _check_crs(crs: Any, what: str) -> None:
    if crs is None:
        return
    from pyproj import CRS

    if CRS.from_user_input(crs).is_geographic:
        raise CRSError(f"{what}为经纬度坐标，路网距离需要投影坐标（米），请先转换到 EPSG:4550",
                       layer=what)


# --------------------------------------------------------------------------------------------
# the graph
# --------------------------------------------------------------------------------------------

@dataclass
class StreetGraph:
    """An undirected street graph with edge geometries, in a projected CRS (metres).

    Attributes
    ----------
    nodes : GeoDataFrame
        One row per node, index ``0..n-1``, columns ``x``, ``y``, ``geometry``.
    edges : GeoDataFrame
        One row per edge, index ``0..m-1``, columns ``u``, ``v``, ``length`` (m), ``geometry``
        (running from node ``u`` to node ``v``) and the attributes of the source line
        (``road_id``, ``road_class``, ``bridge``, ``footway``, ``source_row``...).
    crs : CRS
        The projected coordinate system.
    walk : bool
        Whether this is a walking network (see ``network.walk_exclude_classes`` in coverage.yaml).
    """

    nodes: gpd.GeoDataFrame
    edges: gpd.GeoDataFrame
    crs: Any
    walk: bool = True
    meta: dict[str, Any] = field(default_factory=dict)

    # ---------------------------------------------------------------- constructors
    @classmethod
    def from_roads(cls, roads: gpd.GeoDataFrame, *, walk: bool = True,
                   tolerance: float | None = None, layer: str = "roads") -> "StreetGraph":
        """Build the graph from road centrelines (the catalog's ``roads`` layer).

        Lines are split where they cross or touch each other, so junctions need not be drawn as
        shared vertices; lines flagged ``bridge`` cross others without connecting and join the
        network only at their ends (a bridge is the only way over a river). Line ends closer
        than ``tolerance`` metres are merged into one node (digitising gaps).

        Parameters
        ----------
        roads : GeoDataFrame
            LineStrings (or MultiLineStrings) in a projected CRS, canonical field names
            (``road_class``, ``bridge``, ``footway`` are used when present).
        walk : bool
            Walking network: drop the classes listed in ``network.walk_exclude_classes``
            (expressways). Otherwise drop ``network.drive_exclude_classes`` (footways).
        tolerance : float, optional
            Node snapping tolerance in metres (default ``network.node_tolerance_m``).

        Examples
        --------
        >>> import geopandas as gpd
        >>> from shapely.geometry import LineString
        >>> roads = gpd.GeoDataFrame({"road_class": ["支路", "支路"]},
        ...     geometry=[LineString([(0, 0), (100, 0)]), LineString([(50, -50), (50, 50)])],
        ...     crs="EPSG:4550")
        >>> g = StreetGraph.from_roads(roads)
        >>> g.n_nodes, g.n_edges, round(g.edges["length"].sum())
        (5, 4, 200)
        """
        cfg = network_config()
        if tolerance is None:
            tolerance = float(cfg.get("node_tolerance_m", 0.5))
        if not isinstance(roads, gpd.GeoDataFrame):
            raise InputError("道路图层应为 GeoDataFrame", layer=layer)
        _check_crs(roads.crs, layer)
        df = roads.reset_index(drop=True).copy()
        df["source_row"] = np.arange(len(df))
        if "road_class" in df:
            key = "walk_exclude_classes" if walk else "drive_exclude_classes"
            exclude = set(cfg.get(key, []))
            df = df[~df["road_class"].isin(exclude)]
        bridge = (df["bridge"].fillna(False).astype(bool).to_numpy() if "bridge" in df
                  else np.zeros(len(df), bool))
        keep = [c for c in ("road_id", "name", "road_class", "width", "bridge", "footway",
                            "district", "source_row") if c in df]
        g = _build(df, keep, crossable=~bridge, noding="crossings", tolerance=tolerance,
                   crs=roads.crs, layer=layer)
        return cls(nodes=g[0], edges=g[1], crs=roads.crs, walk=walk,
                   meta={"source": "roads", "tolerance": tolerance})

    @classmethod
    def from_osm(cls, path: str | Path, *, walk: bool = True, crs: Any = None,
                 retain_all: bool = False) -> "StreetGraph":
        """Build the graph from an OSM file (``.osm.pbf`` or ``.osm``, read with GDAL).

        Ways connect only where they share an OSM node, so bridges and tunnels cross without a
        junction, as in OSM itself. The walking network drops motorways, ways tagged
        ``foot=no`` and private ways; the driving network drops footways, paths and steps
        (``network.osm`` in coverage.yaml).

        Parameters
        ----------
        path : path
            The OSM file.
        crs : CRS, optional
            Projected CRS of the result; default the local UTM zone (EPSG:4550 for Zhalantun
            data is the caller's choice).
        retain_all : bool
            Keep disconnected fragments (an extract cut at its bounding box has many); by
            default only the largest connected component is kept, as osmnx does.
        """
        path = Path(path)
        if not path.exists():
            raise UnreadableInputError("OSM 文件不存在", path=str(path))
        try:
            lines = gpd.read_file(path, layer="lines", engine="pyogrio")
        except Exception as exc:  # GDAL raises many kinds
            raise UnreadableInputError(f"OSM 文件无法读取：{exc}", path=str(path)) from None
        if "highway" not in lines:
            raise InputError("OSM 文件中没有道路（highway）", path=str(path), layer="lines")
        lines = lines[lines["highway"].notna()].copy()
        tags = parse_other_tags(lines.get("other_tags", pd.Series(index=lines.index)))
        osm = network_config().get("osm", {})
        hw = lines["highway"].astype(str)
        foot = tags.get("foot", pd.Series("", index=lines.index)).fillna("")
        access = tags.get("access", pd.Series("", index=lines.index)).fillna("")
        area = tags.get("area", pd.Series("", index=lines.index)).fillna("")
        if walk:
            drop = hw.isin(osm.get("walk_exclude_highway", [])) | (foot == "no")
            drop |= access.isin(["private", "no"]) & ~foot.isin(["yes", "designated",
                                                                  "permissive"])
        else:
            drop = hw.isin(osm.get("drive_exclude_highway", [])) | access.isin(["private",
                                                                                "no"])
        drop |= area == "yes"
        lines = lines[~drop]
        if not len(lines):
            raise InputError("OSM 文件中没有可用的道路", path=str(path), layer="lines")
        bridge = tags.loc[lines.index].get("bridge", pd.Series("", index=lines.index))
        lines["bridge"] = bridge.fillna("").isin(["yes", "viaduct", "boardwalk"]).to_numpy()
        lines["road_class"] = lines["highway"]
        lines["footway"] = hw.loc[lines.index].isin(["footway", "pedestrian", "path", "steps",
                                                     "corridor"]).to_numpy()
        lines["road_id"] = lines["osm_id"].astype(str)
        lines["source_row"] = np.arange(len(lines))
        target = crs if crs is not None else lines.estimate_utm_crs()
        lines = lines.to_crs(target).reset_index(drop=True)
        keep = ["road_id", "name", "road_class", "bridge", "footway", "source_row"]
        nodes, edges = _build(lines, keep, crossable=np.zeros(len(lines), bool), noding="shared",
                              tolerance=0.0, crs=target, layer="lines")
        g = cls(nodes=nodes, edges=edges, crs=target, walk=walk, meta={"source": str(path)})
        return g if retain_all else g.subgraph_largest_component()

    @classmethod
    def from_networkx(cls, G: Any, *, walk: bool = True) -> "StreetGraph":
        """Build from an osmnx-style ``networkx`` graph (node ``x``/``y``, edge ``length``).

        Edge geometries are kept when present, straight lines otherwise; both directions of a
        two-way street become one undirected edge.
        """
        crs = G.graph.get("crs")
        _check_crs(crs, "networkx")
        labels = list(G.nodes)
        pos = {n: i for i, n in enumerate(labels)}
        x = np.array([G.nodes[n]["x"] for n in labels], float)
        y = np.array([G.nodes[n]["y"] for n in labels], float)
        rows, seen = [], set()
        data = G.edges(keys=True, data=True) if G.is_multigraph() else (
            (u, v, 0, d) for u, v, d in G.edges(data=True))
        for u, v, k, d in data:
            a, b = pos[u], pos[v]
            geom = d.get("geometry")
            key = (min(a, b), max(a, b), round(float(d.get("length", -1)), 6))
            if key in seen:
                continue
            seen.add(key)
            if geom is None:
                geom = shapely.linestrings([[x[a], y[a]], [x[b], y[b]]])
            rows.append({"u": a, "v": b, "length": float(d.get("length", geom.length)),
                         "osmid": str(d.get("osmid", "")), "geometry": geom})
        edges = gpd.GeoDataFrame(rows, geometry="geometry", crs=crs)
        nodes = gpd.GeoDataFrame({"x": x, "y": y, "label": labels},
                                 geometry=shapely.points(x, y), crs=crs)
        return cls(nodes=nodes, edges=edges, crs=crs, walk=walk, meta={"source": "networkx"})

    # ---------------------------------------------------------------- basic properties
    @property
    def n_nodes(self) -> int:
        return len(self.nodes)

    @property
    def n_edges(self) -> int:
        return len(self.edges)

    def __repr__(self) -> str:
        return (f"StreetGraph({self.n_nodes} nodes, {self.n_edges} edges, "
                f"{'walk' if self.walk else 'drive'}, crs={self.crs})")

    @cached_property
    def _coo(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Symmetric (row, col, weight) with parallel edges reduced to the shortest."""
        u = self.edges["u"].to_numpy(np.int64)
        v = self.edges["v"].to_numpy(np.int64)
        w = self.edges["length"].to_numpy(float)
        return _dedupe_min(np.concatenate([u, v]), np.concatenate([v, u]), np.concatenate([w, w]))

    @cached_property
    def csr(self) -> sp.csr_matrix:
        """The adjacency matrix (CSR, weights in metres), symmetric."""
        r, c, w = self._coo
        return sp.csr_matrix((w, (r, c)), shape=(self.n_nodes, self.n_nodes))

    @cached_property
    def _edge_geoms(self) -> np.ndarray:
        return np.asarray(self.edges.geometry.values, dtype=object)

    @cached_property
    def _tree(self) -> shapely.STRtree:
        return shapely.STRtree(self._edge_geoms)

    @cached_property
    def _segments(self) -> dict[str, np.ndarray]:
        """Every straight segment of every edge: ends, edge id, offset of its start on the edge."""
        xy, e = shapely.get_coordinates(self._edge_geoms, return_index=True)
        same = e[1:] == e[:-1]
        a = np.flatnonzero(same)
        ax, ay, bx, by = xy[a, 0], xy[a, 1], xy[a + 1, 0], xy[a + 1, 1]
        ln = np.hypot(bx - ax, by - ay)
        edge = e[a]
        cum = np.cumsum(ln)
        first = np.r_[True, edge[1:] != edge[:-1]]
        base = np.maximum.accumulate(np.where(first, np.arange(len(edge)), 0))
        start = cum - ln - (cum[base] - ln[base])
        return {"ax": ax, "ay": ay, "bx": bx, "by": by, "len": ln, "edge": edge, "start": start}

    @cached_property
    def _sample_tree(self) -> tuple[cKDTree, np.ndarray, float]:
        """KD-tree of points sampled along every segment (no two samples farther than s apart)."""
        seg = self._segments
        ln = seg["len"]
        spacing = float(np.clip(0.5 * np.median(ln), 1.0, 25.0)) if len(ln) else 1.0
        n = np.ceil(ln / spacing).astype(np.int64) + 1
        sid = np.repeat(np.arange(len(ln)), n)
        start = np.r_[0, np.cumsum(n)[:-1]]
        frac = (np.arange(n.sum()) - np.repeat(start, n)) / np.repeat(np.maximum(n - 1, 1), n)
        x = seg["ax"][sid] + frac * (seg["bx"][sid] - seg["ax"][sid])
        y = seg["ay"][sid] + frac * (seg["by"][sid] - seg["ay"][sid])
        # actual spacing is len / (n - 1) <= spacing
        return cKDTree(np.c_[x, y], balanced_tree=False, compact_nodes=False), sid, spacing

    @cached_property
    def components(self) -> np.ndarray:
        """Connected-component label of every node."""
        return connected_components(self.csr, directed=False)[1]

    # ---------------------------------------------------------------- snapping
    def snap(self, points: Any, *, max_distance: float | None = None) -> pd.DataFrame:
        """Snap points to the nearest edge.

        Parameters
        ----------
        points : GeoDataFrame, GeoSeries or array of geometries
            Non-point geometries are represented by ``representative_point``.
        max_distance : float, optional
            Points farther than this from every edge get ``edge = -1`` (unreachable).

        Returns
        -------
        DataFrame
            Index of ``points``; columns ``edge`` (row of :attr:`edges`), ``u``, ``v``,
            ``offset`` (metres along the edge from ``u``), ``access`` (straight distance from
            the point to the edge), ``edge_length``, ``snap_x``, ``snap_y``.

        Examples
        --------
        >>> import geopandas as gpd
        >>> from shapely.geometry import LineString, Point
        >>> g = StreetGraph.from_roads(gpd.GeoDataFrame(
        ...     geometry=[LineString([(0, 0), (100, 0)])], crs="EPSG:4550"))
        >>> s = g.snap(gpd.GeoSeries([Point(30, 4)], crs="EPSG:4550"))
        >>> s.loc[0, ["edge", "offset", "access"]].tolist()
        [0.0, 30.0, 4.0]
        """
        return snap_points(self, points, max_distance=max_distance)

    # ---------------------------------------------------------------- conversion
    def to_gdfs(self) -> tuple[gpd.GeoDataFrame, gpd.GeoDataFrame]:
        """osmnx-style node and edge GeoDataFrames.

        Nodes are indexed by ``osmid`` with ``x`` and ``y``; edges by ``(u, v, key)`` with
        ``length`` and ``geometry``. Every street appears in both directions (as in osmnx walking
        graphs), the reverse copy flagged ``reversed=True``.
        """
        nodes = gpd.GeoDataFrame({"x": self.nodes["x"].to_numpy(),
                                  "y": self.nodes["y"].to_numpy()},
                                 geometry=self.nodes.geometry.values, crs=self.crs,
                                 index=pd.Index(np.arange(self.n_nodes), name="osmid"))
        fwd = pd.DataFrame(self.edges.drop(columns="geometry"))
        fwd["geometry"] = self.edges.geometry.values
        fwd["reversed"] = False
        fwd["edge_id"] = np.arange(self.n_edges)
        rev = fwd.copy()
        rev["u"], rev["v"] = fwd["v"].to_numpy(), fwd["u"].to_numpy()
        rev["geometry"] = shapely.reverse(fwd["geometry"].to_numpy())
        rev["reversed"] = True
        both = pd.concat([fwd, rev], ignore_index=True)
        loop = both["u"].to_numpy() == both["v"].to_numpy()
        both = both[~(loop & both["reversed"].to_numpy())]
        both["key"] = both.groupby(["u", "v"]).cumcount()
        both["oneway"] = False
        both = both.set_index(["u", "v", "key"])
        edges = gpd.GeoDataFrame(both, geometry="geometry", crs=self.crs)
        return nodes, edges

    def to_networkx(self) -> Any:
        """An osmnx-compatible ``networkx.MultiDiGraph`` (via ``osmnx.convert.graph_from_gdfs``).

        Examples
        --------
        >>> import geopandas as gpd, networkx as nx
        >>> from shapely.geometry import LineString
        >>> g = StreetGraph.from_roads(gpd.GeoDataFrame(
        ...     geometry=[LineString([(0, 0), (100, 0), (100, 50)])], crs="EPSG:4550"))
        >>> G = g.to_networkx()
        >>> nx.shortest_path_length(G, 0, 1, weight="length")
        150.0
        """
        import osmnx as ox

        nodes, edges = self.to_gdfs()
        return ox.convert.graph_from_gdfs(nodes, edges, graph_attrs={"crs": self.crs})

    def subgraph_largest_component(self) -> "StreetGraph":
        """The largest connected component as a new graph (node ids renumbered)."""
        lab = self.components
        big = np.bincount(lab).argmax()
        keep_nodes = np.flatnonzero(lab == big)
        remap = np.full(self.n_nodes, -1, np.int64)
        remap[keep_nodes] = np.arange(len(keep_nodes))
        e = self.edges[lab[self.edges["u"].to_numpy()] == big].copy()
        e["u"] = remap[e["u"].to_numpy()]
        e["v"] = remap[e["v"].to_numpy()]
        n = self.nodes.iloc[keep_nodes].reset_index(drop=True)
        return StreetGraph(nodes=n, edges=e.reset_index(drop=True), crs=self.crs, walk=self.walk,
                           meta=dict(self.meta))


# --------------------------------------------------------------------------------------------
# building the graph from lines
# --------------------------------------------------------------------------------------------

def _dedupe_min(r: np.ndarray, c: np.ndarray, w: np.ndarray
                ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Keep the smallest weight of each (row, col) pair (CSR construction would sum them)."""
    order = np.lexsort((w, c, r))
    r, c, w = r[order], c[order], w[order]
    first = np.ones(len(r), bool)
    first[1:] = (r[1:] != r[:-1]) | (c[1:] != c[:-1])
    return r[first], c[first], w[first]


def _build(df: gpd.GeoDataFrame, keep: list[str], *, crossable: np.ndarray, noding: str,
           tolerance: float, crs: Any, layer: str) -> tuple[gpd.GeoDataFrame, gpd.GeoDataFrame]:
    """Nodes and edges from lines; see :meth:`StreetGraph.from_roads`."""
    geoms = np.asarray(df.geometry.values, dtype=object)
    if len(geoms) == 0:
        raise InputError("道路图层为空，无法构建路网", layer=layer)
    missing = shapely.is_missing(geoms) | shapely.is_empty(geoms)
    kind = shapely.get_type_id(geoms)
    bad = ~missing & ~np.isin(kind, [1, 5])
    if bad.any():
        row = int(df["source_row"].to_numpy()[np.flatnonzero(bad)[0]])
        raise InputError("道路几何应为线（LineString）", layer=layer, row=row + 1,
                         field="geometry")
    # explode multilines, remember the parent row
    parts, parent = shapely.get_parts(geoms[~missing], return_index=True)
    parent = np.flatnonzero(~missing)[parent]
    cross = crossable[parent]
    coords, line = shapely.get_coordinates(parts, return_index=True)
    # drop repeated consecutive vertices
    dup = np.zeros(len(coords), bool)
    dup[1:] = (line[1:] == line[:-1]) & np.all(coords[1:] == coords[:-1], axis=1)
    coords, line = coords[~dup], line[~dup]
    n_lines = len(parts)
    counts = np.bincount(line, minlength=n_lines)
    good_line = counts >= 2
    seg = np.zeros(len(coords))
    same = np.zeros(len(coords), bool)
    same[1:] = line[1:] == line[:-1]
    seg[1:] = np.where(same[1:], np.hypot(*(coords[1:] - coords[:-1]).T), 0.0)
    cum = np.cumsum(seg)
    starts = np.r_[0, np.cumsum(counts)[:-1]]
    pos = cum - cum[starts[line]]
    junction = np.zeros(len(coords), bool)
    junction[starts[counts > 0]] = True
    ends = starts + counts - 1
    junction[ends[counts > 0]] = True

    if noding == "shared":
        _, inv, cnt = np.unique(coords, axis=0, return_inverse=True, return_counts=True)
        junction |= cnt[inv.ravel()] > 1
        ins_line = np.zeros(0, np.int64)
        ins_pos = np.zeros(0)
        ins_xy = np.zeros((0, 2))
    else:
        ins_line, ins_pos, ins_xy = _crossings(parts, cross & good_line)

    # merge inserted crossing points into the vertex sequence
    all_line = np.r_[line, ins_line]
    all_pos = np.r_[pos, ins_pos]
    all_xy = np.r_[coords, ins_xy]
    all_j = np.r_[junction, np.ones(len(ins_line), bool)]
    order = np.lexsort((~all_j, all_pos, all_line))  # junction first among equal positions
    all_line, all_pos, all_xy, all_j = all_line[order], all_pos[order], all_xy[order], all_j[order]
    same_pos = np.zeros(len(all_line), bool)
    same_pos[1:] = (all_line[1:] == all_line[:-1]) & (np.abs(all_pos[1:] - all_pos[:-1]) < 1e-6)
    # a duplicate of a junction position inherits nothing; drop duplicates (first is junction)
    keepv = ~same_pos
    # if a later duplicate was a junction, mark the kept one
    grp = np.cumsum(keepv) - 1
    jflag = np.zeros(keepv.sum(), bool)
    np.logical_or.at(jflag, grp, all_j)
    all_line, all_pos, all_xy = all_line[keepv], all_pos[keepv], all_xy[keepv]
    all_j = jflag
    valid = good_line[all_line]
    all_line, all_pos, all_xy, all_j = all_line[valid], all_pos[valid], all_xy[valid], all_j[valid]

    # nodes: cluster junction vertices within the tolerance
    jidx = np.flatnonzero(all_j)
    jxy = all_xy[jidx]
    if tolerance > 0 and len(jxy):
        pairs = cKDTree(jxy).query_pairs(tolerance, output_type="ndarray")
        adj = sp.coo_matrix((np.ones(len(pairs)), (pairs[:, 0], pairs[:, 1])),
                            shape=(len(jxy), len(jxy)))
        _, lab = connected_components(adj, directed=False)
    else:
        _, lab = np.unique(jxy, axis=0, return_inverse=True)
        lab = lab.ravel()
    n_nodes = int(lab.max()) + 1 if len(lab) else 0
    cnt = np.bincount(lab, minlength=n_nodes)
    nx_ = np.bincount(lab, weights=jxy[:, 0], minlength=n_nodes) / cnt
    ny_ = np.bincount(lab, weights=jxy[:, 1], minlength=n_nodes) / cnt

    # edges: consecutive junctions along the same line
    a = jidx[:-1]
    b = jidx[1:]
    same_line = all_line[a] == all_line[b]
    a, b = a[same_line], b[same_line]
    ua, vb = lab[:-1][same_line], lab[1:][same_line]
    nv = b - a + 1
    total = int(nv.sum())
    edge_of = np.repeat(np.arange(len(a)), nv)
    vidx = np.repeat(a - np.r_[0, np.cumsum(nv)[:-1]], nv) + np.arange(total)
    exy = all_xy[vidx].copy()
    first = np.r_[0, np.cumsum(nv)[:-1]]
    last = first + nv - 1
    exy[first] = np.c_[nx_[ua], ny_[ua]]
    exy[last] = np.c_[nx_[vb], ny_[vb]]
    egeom = shapely.linestrings(exy, indices=edge_of)
    length = shapely.length(egeom)
    ok = ~((ua == vb) & (length < max(tolerance, 1e-9) * 2))
    src = parent[all_line[a]]
    attrs = pd.DataFrame(df[keep].iloc[src].reset_index(drop=True)) if keep else pd.DataFrame(
        index=range(len(src)))
    attrs.insert(0, "u", ua)
    attrs.insert(1, "v", vb)
    attrs.insert(2, "length", length)
    attrs = attrs[ok].reset_index(drop=True)
    edges = gpd.GeoDataFrame(attrs, geometry=egeom[ok], crs=crs)
    nodes = gpd.GeoDataFrame({"x": nx_, "y": ny_}, geometry=shapely.points(nx_, ny_), crs=crs)
    if len(edges) == 0:
        raise InputError("道路图层中没有可用的线段", layer=layer)
    return nodes, edges


def _crossings(parts: np.ndarray, crossable: np.ndarray
               ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Points where crossable lines cross or touch: (line index, position, xy), both sides."""
    idx = np.flatnonzero(crossable)
    if len(idx) < 2:
        return np.zeros(0, np.int64), np.zeros(0), np.zeros((0, 2))
    tree = shapely.STRtree(parts[idx])
    i, j = tree.query(parts[idx], predicate="intersects")
    keep = i < j
    i, j = idx[i[keep]], idx[j[keep]]
    inter = shapely.intersection(parts[i], parts[j])
    # all vertices of the intersection (points, or the ends of overlapping stretches)
    xy, k = shapely.get_coordinates(inter, return_index=True)
    li = np.r_[i[k], j[k]]
    pxy = np.r_[xy, xy]
    pts = shapely.points(pxy)
    posi = shapely.line_locate_point(parts[li], pts)
    return li.astype(np.int64), posi, pxy


# --------------------------------------------------------------------------------------------
# snapping and distances
# --------------------------------------------------------------------------------------------

#: points snapped per block (bounds the temporary (block, 8) arrays to a few hundred MB)
_SNAP_BLOCK = 200_000


def snap_points(graph: StreetGraph, points: Any, *, max_distance: float | None = None
                ) -> pd.DataFrame:
    """Snap points to their nearest edge of ``graph``; see :meth:`StreetGraph.snap`.

    Exact and vectorised: candidate straight segments come from a KD-tree over points sampled
    along every segment (at most ``s`` apart); the exact point-to-segment distance is computed for
    the ``k`` nearest samples' segments. The answer is provably the nearest segment when the
    k-th sample is farther than the best distance + ``s``/2; the few points where that bound
    does not hold are snapped with an STRtree nearest-neighbour query instead.
    """
    if _is_snapped(points):
        return points  # already snapped
    arr, crs, index = _as_points(points)
    if crs is not None and graph.crs is not None and not _same_crs(crs, graph.crs):
        arr = np.asarray(gpd.GeoSeries(arr, crs=crs).to_crs(graph.crs).values, dtype=object)
    n = len(arr)
    edge = np.full(n, -1, np.int64)
    access = np.full(n, _INF)
    offset = np.full(n, np.nan)
    sx = np.full(n, np.nan)
    sy = np.full(n, np.nan)
    if n:
        px, py = shapely.get_x(arr), shapely.get_y(arr)
        seg = graph._segments
        tree, sample_seg, spacing = graph._sample_tree
        k = int(min(8, len(sample_seg)))
        unsure = np.zeros(n, bool)
        # in blocks, so that the (block, k) work arrays stay small for millions of points
        for lo in range(0, n, _SNAP_BLOCK):
            hi = min(lo + _SNAP_BLOCK, n)
            bx_, by_ = px[lo:hi], py[lo:hi]
            dk, ik = tree.query(np.c_[bx_, by_], k=k)
            if k == 1:
                dk, ik = dk[:, None], ik[:, None]
            cand = sample_seg[ik]                                  # (block, k) segment ids
            ax, ay = seg["ax"][cand], seg["ay"][cand]
            vx, vy = seg["bx"][cand] - ax, seg["by"][cand] - ay
            ll = vx * vx + vy * vy
            t = np.clip(((bx_[:, None] - ax) * vx + (by_[:, None] - ay) * vy)
                        / np.where(ll > 0, ll, 1.0), 0.0, 1.0)
            qx, qy = ax + t * vx, ay + t * vy
            d = np.hypot(bx_[:, None] - qx, by_[:, None] - qy)
            j = np.argmin(d, axis=1)
            rows = np.arange(hi - lo)
            best = d[rows, j]
            sid = cand[rows, j]
            edge[lo:hi] = seg["edge"][sid]
            access[lo:hi] = best
            offset[lo:hi] = seg["start"][sid] + t[rows, j] * np.sqrt(ll[rows, j])
            sx[lo:hi], sy[lo:hi] = qx[rows, j], qy[rows, j]
            unsure[lo:hi] = ~(dk[:, -1] > best + spacing / 2) & (k < len(sample_seg))
        if unsure.any():
            u = np.flatnonzero(unsure)
            (pi, ei), dist = graph._tree.query_nearest(arr[u], return_distance=True,
                                                       all_matches=False)
            u = u[pi]
            better = dist < access[u] - 1e-9
            u, ei, dist = u[better], ei[better], dist[better]
            if len(u):
                eg = graph._edge_geoms[ei]
                edge[u] = ei
                access[u] = dist
                offset[u] = shapely.line_locate_point(eg, arr[u])
                q = shapely.line_interpolate_point(eg, offset[u])
                sx[u], sy[u] = shapely.get_x(q), shapely.get_y(q)
        elen = graph.edges["length"].to_numpy(float)
        offset = np.clip(offset, 0.0, elen[edge])
        if max_distance is not None:
            far = access > max_distance
            edge[far] = -1
            access[far] = _INF
            offset[far] = sx[far] = sy[far] = np.nan
    ok = edge >= 0
    elen = graph.edges["length"].to_numpy(float)
    glen = np.full(n, np.nan)
    glen[ok] = elen[edge[ok]]
    u_ = np.full(n, -1, np.int64)
    v_ = np.full(n, -1, np.int64)
    u_[ok] = graph.edges["u"].to_numpy()[edge[ok]]
    v_[ok] = graph.edges["v"].to_numpy()[edge[ok]]
    return pd.DataFrame({"edge": edge, "u": u_, "v": v_, "offset": offset, "access": access,
                         "edge_length": glen, "snap_x": sx, "snap_y": sy}, index=index)


def _same_crs(a: Any, b: Any) -> bool:
    from pyproj import CRS

    return CRS.from_user_input(a) == CRS.from_user_input(b)


@dataclass
class MultiSourceResult:
    """Result of one multi-source Dijkstra pass.

    Attributes
    ----------
    dist : ndarray
        Per graph node, network distance to the nearest source (``inf`` beyond the limit).
    source : ndarray
        Per graph node, position (0-based, in the sources given) of the nearest source, -1 if
        none within the limit.
    predecessors : ndarray
        Predecessor of every node on its shortest path (virtual source nodes are numbered
        ``n_nodes + source``), -9999 for sources and unreached nodes.
    n_nodes : int
        Number of real graph nodes.
    """

    dist: np.ndarray
    source: np.ndarray
    predecessors: np.ndarray
    n_nodes: int

    def path_nodes(self, node: int) -> list[int]:
        """Graph nodes of the shortest path from ``node`` back to its source's edge."""
        out = []
        while 0 <= node < self.n_nodes:
            out.append(int(node))
            node = int(self.predecessors[node])
        return out


# --------------------------------------------------------------------------------------------
# compiled multi-source Dijkstra (numba) and the fused per-demand pass
# --------------------------------------------------------------------------------------------
#
# The kernels work on the street CSR only: facilities are not added as virtual rows, they seed
# the heap directly (node ``u`` and ``v`` of their edge with access + offset + cost), which is
# the same search as scipy's on the augmented matrix (a virtual node has no incoming edges, so it
# is settled first and relaxes exactly those two entries). scipy's
# ``dijkstra(min_only=True)`` on the augmented matrix stays the reference (``_multi_source_scipy``).

@njit(cache=True, nogil=True)
def _ms_buckets(indptr, indices, data, seed_node, seed_dist, seed_src, order, limit, base,
                delta, n_buckets, n_nodes, want_pred, dist, src, pred, nxt, ent,
                key, free):  # pragma: no cover - compiled
    """Multi-source shortest paths with a circular bucket queue (sequential delta-stepping).

    Bucket ``i`` holds the nodes labelled with a distance in ``[base + i*delta, base +
    (i+1)*delta)``; buckets are emptied in order, so when bucket ``i`` is empty every distance
    below its end is final. Inside a bucket a node may be improved again by an edge shorter than
    ``delta`` and is then scanned again (label correcting), so the answer is exact for any
    ``delta`` > 0; ``n_buckets`` must be a power of two above (longest edge) / ``delta`` + 2.
    Seeds (``order``: seeds sorted by ``seed_dist``) enter when their bucket is reached. Fills
    ``dist`` (inf when farther than ``limit``), ``src`` (serving source, -1) and ``pred``
    (predecessor node; ``n_nodes + source`` for a node entered from its source, -9999 otherwise;
    written only if ``want_pred``). ``nxt``, ``ent``, ``key``, ``free`` are the pool of bucket
    entries; returns False if it was too small (the caller retries with a larger one).

    The pool arrays are passed in and never reassigned here: growing them inside the kernel
    made numba reference-count them in the hot loop (twice as slow). Distances are the same
    floating-point sums as Dijkstra's (the least fixed point of ``d[b] = min(d[a] + w)``).
    """
    n = dist.shape[0]
    for i in range(n):
        dist[i] = np.inf
        src[i] = -1
        pred[i] = -9999
    head = np.full(n_buckets, -1, np.int32)
    cap = nxt.shape[0]
    n_free = 0
    top = 0          # entries [0, top) have been handed out at least once
    live = 0
    inv = 1.0 / delta
    mask = n_buckets - 1  # a power of two: the bucket of a label is a bit mask, not a division
    ns = seed_node.shape[0]
    # label every seed first, as scipy does when it settles the virtual source nodes (so a node
    # reached equally well from its source and through the graph keeps the source as
    # predecessor); a seed enters its bucket later only if its label still stands
    for j in range(ns):
        a = seed_node[j]
        d = seed_dist[j]
        if d <= limit and d < dist[a]:
            dist[a] = d
            src[a] = seed_src[j]
            pred[a] = n_nodes + seed_src[j]
    si = 0
    cur = 0
    while True:
        if live == 0:  # jump to the next seed
            if si >= ns or seed_dist[order[si]] > limit:
                break
            cur = int((seed_dist[order[si]] - base) * inv)
        while si < ns:  # seeds of this bucket
            j = order[si]
            d = seed_dist[j]
            if d > limit:
                si = ns
                break
            if int((d - base) * inv) > cur:
                break
            si += 1
            a = seed_node[j]
            if d == dist[a] and pred[a] == n_nodes + seed_src[j]:  # still its own label
                if n_free > 0:
                    n_free -= 1
                    e = free[n_free]
                else:
                    if top == cap:
                        return False
                    e = top
                    top += 1
                slot = cur & mask
                ent[e] = a
                key[e] = d
                nxt[e] = head[slot]
                head[slot] = e
                live += 1
        slot = cur & mask
        while head[slot] != -1:
            e = head[slot]
            head[slot] = nxt[e]
            live -= 1
            a = ent[e]
            d = key[e]
            free[n_free] = e
            n_free += 1
            if d > dist[a]:
                continue  # stale
            s = src[a]
            for p in range(indptr[a], indptr[a + 1]):
                b = indices[p]
                nd = d + data[p]
                if nd < dist[b] and nd <= limit:
                    dist[b] = nd
                    src[b] = s
                    if want_pred:
                        pred[b] = a
                    if n_free > 0:
                        n_free -= 1
                        e2 = free[n_free]
                    else:
                        if top == cap:
                            return False
                        e2 = top
                        top += 1
                    s2 = int((nd - base) * inv) & mask
                    ent[e2] = b
                    key[e2] = nd
                    nxt[e2] = head[s2]
                    head[s2] = e2
                    live += 1
        cur += 1
    return True


@njit(cache=True, nogil=True)
def _demand_pass(node_dist, node_src, dedge, du, dv, doff, dlen, dacc, node_flag,
                 fac_ptr, fac_pos, fac_off, fac_acc, out_dist, out_src):  # pragma: no cover
    """Per demand point: the better of leaving its edge by ``u`` or ``v``, then any facility
    on the same edge joined directly along it (``fac_ptr``/``fac_pos``: facilities grouped by
    edge; ``fac_acc`` includes the facility's cost; ``node_flag`` marks the end nodes of those
    edges, so the demand's edge id is read only there). Same arithmetic, in the same order, as
    the numpy version (:func:`_demand_from_nodes` and :func:`_same_edge`); written without
    data-dependent branches in the main path (the u/v choice is a coin toss for the CPU)."""
    n_fe = fac_ptr.shape[0] - 1
    for i in range(du.shape[0]):
        u = du[i]
        if u < 0:  # not snapped
            out_dist[i] = np.inf
            out_src[i] = -1
            continue
        v = dv[i]
        t = doff[i]
        a = dacc[i]
        x = t + node_dist[u]
        rest = max(dlen[i] - t, 0.0)
        y = rest + node_dist[v]
        use_v = y < x
        best = (y if use_v else x) + a
        w = v if use_v else u
        s = node_src[w]
        if not np.isfinite(best):
            s = -1
        if node_flag[u]:
            e = dedge[i]
            if e < n_fe:
                for q in range(fac_ptr[e], fac_ptr[e + 1]):
                    j = fac_pos[q]
                    dd = a + abs(t - fac_off[j]) + fac_acc[j]
                    if dd < best:
                        best = dd
                        s = j
        out_dist[i] = best
        out_src[i] = s


def _col(df: pd.DataFrame, name: str, dtype: Any) -> np.ndarray:
    """A column as a contiguous array of ``dtype`` (a view when it already is one)."""
    return np.ascontiguousarray(df[name].to_numpy(), dtype=dtype)


@dataclass
class _Seeds:
    """Facilities as heap seeds (node, start distance, source position) and grouped by edge."""

    node: np.ndarray
    dist: np.ndarray
    src: np.ndarray
    edge_ptr: np.ndarray
    edge_pos: np.ndarray
    off: np.ndarray
    acc: np.ndarray
    node_flag: np.ndarray


def _seeds(graph: StreetGraph, fs: pd.DataFrame, extra: np.ndarray) -> _Seeds:
    k = len(fs)
    fe = _col(fs, "edge", np.int64)
    ok = fe >= 0
    pos = np.flatnonzero(ok).astype(np.int32)
    acc_all = _col(fs, "access", np.float64) + extra          # access + cost, as in scipy
    off_all = np.nan_to_num(_col(fs, "offset", np.float64))
    acc, off = acc_all[ok], off_all[ok]
    L = _col(fs, "edge_length", np.float64)[ok]
    node = np.r_[_col(fs, "u", np.int32)[ok], _col(fs, "v", np.int32)[ok]]
    dist = np.r_[acc + off, acc + np.maximum(L - off, 0.0)]
    src = np.r_[pos, pos]
    if pos.size:
        n_e = int(fe[ok].max()) + 1
        order = pos[np.argsort(fe[ok], kind="stable")].astype(np.int32)
        ptr = np.zeros(n_e + 1, np.int64)
        np.cumsum(np.bincount(fe[ok], minlength=n_e), out=ptr[1:])
    else:
        order = np.zeros(0, np.int32)
        ptr = np.zeros(1, np.int64)
    flag = np.zeros(graph.n_nodes, np.bool_)
    flag[node] = True
    return _Seeds(node, dist, src, ptr, order, np.ascontiguousarray(off_all),
                  np.ascontiguousarray(acc_all if k else np.zeros(0)), flag)


def _csr_arrays(graph: StreetGraph) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """int32 ``indptr``/``indices`` and float64 ``data`` of the street CSR (cached)."""
    arrs = graph.__dict__.get("_csr_arrays")
    if arrs is None:
        m = graph.csr
        arrs = (np.ascontiguousarray(m.indptr, np.int32) if m.nnz < 2**31 else m.indptr,
                np.ascontiguousarray(m.indices, np.int32),
                np.ascontiguousarray(m.data, np.float64))
        graph.__dict__["_csr_arrays"] = arrs
    return arrs


def _bucket_width(graph: StreetGraph) -> tuple[float, int]:
    """Bucket width (the median positive edge length) and number of circular buckets (cached)."""
    bw = graph.__dict__.get("_bucket_width")
    if bw is None:
        w = _csr_arrays(graph)[2]
        pos = w[w > 0]
        maxw = float(w.max()) if len(w) else 0.0
        delta = float(np.median(pos)) if len(pos) else 1.0
        delta = max(delta, maxw / 2**20, 1e-9)
        bw = (delta, 1 << int(maxw / delta + 3).bit_length())
        graph.__dict__["_bucket_width"] = bw
    return bw


def _node_pass(graph: StreetGraph, seeds: _Seeds, limit: float | None, want_pred: bool = True
               ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Compiled multi-source search: per-node distance, source position, predecessor (left
    at -9999 everywhere but at the sources' own edge ends unless ``want_pred``)."""
    n = graph.n_nodes
    indptr, indices, data = _csr_arrays(graph)
    delta, n_buckets = _bucket_width(graph)
    dist = np.empty(n, np.float64)
    src = np.empty(n, np.int32)
    pred = np.empty(n, np.int32)
    if len(seeds.node) == 0:
        dist.fill(_INF)
        src.fill(-1)
        pred.fill(-9999)
        return dist, src, pred
    order = np.argsort(seeds.dist, kind="stable").astype(np.int32)
    base = float(seeds.dist[order[0]])
    lim = _INF if limit is None else float(limit)
    cap = n + len(seeds.node) + 16
    while True:
        pool = (np.empty(cap, np.int32), np.empty(cap, np.int32), np.empty(cap, np.float64),
                np.empty(cap, np.int32))
        if _ms_buckets(indptr, indices, data, seeds.node, seeds.dist, seeds.src, order, lim,
                       base, delta, n_buckets, n, want_pred, dist, src, pred, *pool):
            return dist, src, pred
        cap *= 4  # pragma: no cover - needs more pending labels than nodes


def _multi_source_scipy(graph: StreetGraph, sources: Any, *, limit: float | None = None,
                        cost: np.ndarray | None = None) -> MultiSourceResult:
    """Reference implementation of :func:`multi_source`: scipy's Dijkstra (``min_only``) on the
    street CSR augmented with one virtual row per source. Kept for tests and as the fallback
    when numba is unavailable."""
    snapped = snap_points(graph, sources)
    m, pos = _augmented(graph, snapped, cost)
    n = graph.n_nodes
    idx = n + pos
    if len(idx) == 0:
        return MultiSourceResult(np.full(n, _INF), np.full(n, -1, np.int64),
                                 np.full(n, -9999, np.int32), n)
    dist, pred, src = dijkstra(m, directed=True, indices=idx, min_only=True,
                               return_predecessors=True,
                               limit=_INF if limit is None else float(limit))
    src = np.where(src[:n] >= n, src[:n] - n, -1).astype(np.int64)
    return MultiSourceResult(dist[:n], src, pred[:n], n)


def _virtual_entries(graph: StreetGraph, snapped: pd.DataFrame, cost: np.ndarray | None
                     ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Directed entries virtual source -> both ends of its edge; returns also source positions."""
    k = len(snapped)
    ok = snapped["edge"].to_numpy() >= 0
    pos = np.flatnonzero(ok)
    extra = np.zeros(k) if cost is None else np.asarray(cost, float)
    acc = snapped["access"].to_numpy(float)[ok] + extra[ok]
    off = snapped["offset"].to_numpy(float)[ok]
    L = snapped["edge_length"].to_numpy(float)[ok]
    vid = graph.n_nodes + pos
    r = np.r_[vid, vid]
    c = np.r_[snapped["u"].to_numpy()[ok], snapped["v"].to_numpy()[ok]]
    w = np.r_[acc + off, acc + np.maximum(L - off, 0.0)]
    r, c, w = _dedupe_min(r, c, w)
    return r, c, w, pos


def _augmented(graph: StreetGraph, snapped: pd.DataFrame, cost: np.ndarray | None
               ) -> tuple[sp.csr_matrix, np.ndarray]:
    """The street CSR with one extra row per source (virtual nodes have no incoming edges, so
    the street rows are reused as they are and the new rows are simply appended)."""
    base = graph.csr
    r, c, w, pos = _virtual_entries(graph, snapped, cost)
    n0 = graph.n_nodes
    n = n0 + len(snapped)
    counts = np.bincount(r - n0, minlength=len(snapped))  # r is sorted (from _dedupe_min)
    indptr = np.r_[base.indptr, base.indptr[-1] + np.cumsum(counts)]
    m = sp.csr_matrix((np.r_[base.data, w], np.r_[base.indices, c], indptr), shape=(n, n))
    return m, pos


def multi_source(graph: StreetGraph, sources: Any, *, limit: float | None = None,
                 cost: np.ndarray | None = None) -> MultiSourceResult:
    """Distance from every node to its nearest source, in one Dijkstra pass.

    Each source is snapped to its edge and enters the graph as a virtual node joined to both
    ends of that edge (weight: access distance + distance along the edge + ``cost``).

    Parameters
    ----------
    sources : GeoDataFrame, GeoSeries, geometries, or the DataFrame returned by ``snap``.
    limit : float, optional
        Stop at this distance (metres); nodes farther away get ``inf``.
    cost : array, optional
        Extra cost per source (e.g. ``max_radius - radius`` to compare facilities with
        different service radii in one pass).
    """
    if not HAVE_NUMBA:  # pragma: no cover - numba is a dependency
        return _multi_source_scipy(graph, sources, limit=limit, cost=cost)
    snapped = snap_points(graph, sources)
    extra = np.zeros(len(snapped)) if cost is None else np.asarray(cost, float)
    dist, src, pred = _node_pass(graph, _seeds(graph, snapped, extra), limit)
    return MultiSourceResult(dist, src.astype(np.int64), pred, graph.n_nodes)


def nearest_facility(graph: StreetGraph, demand: Any, facilities: Any, *,
                     limit: float | None = None, cost: np.ndarray | None = None,
                     max_access: float | None = None) -> pd.DataFrame:
    """Nearest facility of every demand point, by network and by straight line.

    One multi-source Dijkstra pass from all facilities; demand and facilities are snapped to
    edges and their access distances added. A demand point and a facility on the same edge
    are joined directly along that edge.

    Parameters
    ----------
    graph : StreetGraph
    demand, facilities : GeoDataFrame, GeoSeries or geometries (or snapped DataFrames)
        In the graph's CRS (other CRSs are converted). Polygons stand by a representative point.
    limit : float, optional
        Search radius in metres; farther demand gets ``inf`` and no facility.
    cost : array, optional
        Extra cost per facility added to the network distance (see :func:`multi_source`).
    max_access : float, optional
        Demand farther than this from every street is unreachable (``inf``).

    Returns
    -------
    DataFrame
        Index of ``demand``; columns ``distance_network`` (m, ``inf`` when unreachable),
        ``facility`` (index label of the serving facility, ``None`` if none), ``distance_straight``
        and ``facility_straight`` (the nearest facility by straight line; NaN / ``None`` when
        pre-snapped frames are passed), ``access`` (m from the demand point to its street).

    Examples
    --------
    A home and a toilet on the same street, 40 m apart along it:

    >>> import geopandas as gpd
    >>> from shapely.geometry import LineString, Point
    >>> g = StreetGraph.from_roads(gpd.GeoDataFrame(
    ...     geometry=[LineString([(0, 0), (100, 0)])], crs="EPSG:4550"))
    >>> r = nearest_facility(g, gpd.GeoSeries([Point(30, 3)], crs="EPSG:4550"),
    ...                      gpd.GeoSeries([Point(70, -5)], index=["WC1"], crs="EPSG:4550"))
    >>> float(r.loc[0, "distance_network"]), r.loc[0, "facility"]
    (48.0, 'WC1')
    """
    _check_crs(graph.crs, "路网")
    fac_arr, fac_crs, fac_index = (_as_points(facilities) if not _is_snapped(facilities)
                                   else (None, None, facilities.index))
    dem_arr, dem_crs, dem_index = (_as_points(demand) if not _is_snapped(demand)
                                   else (None, None, demand.index))
    fs = snap_points(graph, facilities)
    ds = snap_points(graph, demand)
    k = len(fs)
    extra = np.zeros(k) if cost is None else np.asarray(cost, float)
    if HAVE_NUMBA:
        # one compiled Dijkstra pass from the facilities, then one compiled pass over the demand
        # (both edge ends, offsets, access, and facilities on the demand point's own edge)
        seeds = _seeds(graph, fs, extra)
        node_dist, node_src, _ = _node_pass(graph, seeds, limit, want_pred=False)
        dist = np.empty(len(ds), np.float64)
        src = np.empty(len(ds), np.int64)
        _demand_pass(node_dist, node_src, _col(ds, "edge", np.int64), _col(ds, "u", np.int64),
                     _col(ds, "v", np.int64), _col(ds, "offset", np.float64),
                     _col(ds, "edge_length", np.float64), _col(ds, "access", np.float64),
                     seeds.node_flag, seeds.edge_ptr, seeds.edge_pos, seeds.off, seeds.acc,
                     dist, src)
    else:  # pragma: no cover - numba is a dependency
        res = _multi_source_scipy(graph, fs, limit=limit, cost=extra)
        dist, src = _demand_from_nodes(res.dist, res.source, ds)
        dist, src = _same_edge(ds, fs, extra, dist, src)
    if max_access is not None:
        far = ds["access"].to_numpy() > max_access
        dist[far] = _INF
        src[far] = -1
    if limit is not None:
        over = dist > limit
        dist[over] = _INF
        src[over] = -1
    labels = np.asarray(fac_index, dtype=object)
    # one gather: position -1 (no facility) picks the trailing None
    fac = np.append(labels, None)[src]
    n_dem = len(dist)
    if dem_arr is not None and fac_arr is not None and k:
        if fac_crs is not None and dem_crs is not None and not _same_crs(fac_crs, dem_crs):
            fac_arr = np.asarray(gpd.GeoSeries(fac_arr, crs=fac_crs).to_crs(dem_crs).values,
                                 dtype=object)
        tree = shapely.STRtree(fac_arr)
        (pi, fi), d = tree.query_nearest(dem_arr, return_distance=True, all_matches=False)
        ds_ = np.full(n_dem, _INF)
        fs_ = np.full(n_dem, None, dtype=object)
        ds_[pi] = d
        fs_[pi] = labels[fi]
    else:  # snapped frames carry no original geometry
        ds_ = np.full(n_dem, np.nan)
        # all None: say it is object, pandas would otherwise scan 1M values to infer that
        fs_ = pd.Series(np.full(n_dem, None, dtype=object), index=dem_index, dtype=object,
                        copy=False)
    # every column is a fresh array owned by the result: no copy, no consolidation
    return pd.DataFrame({"distance_network": dist, "facility": fac,
                         "access": np.array(ds["access"].to_numpy(), dtype=float),
                         "distance_straight": ds_, "facility_straight": fs_},
                        index=dem_index, copy=False)


def _is_snapped(obj: Any) -> bool:
    return (isinstance(obj, pd.DataFrame) and not isinstance(obj, gpd.GeoDataFrame)
            and {"edge", "offset", "access"} <= set(obj.columns))


def _demand_from_nodes(node_dist: np.ndarray, node_src: np.ndarray, ds: pd.DataFrame
                       ) -> tuple[np.ndarray, np.ndarray]:
    """Per demand point: the better of leaving its edge by ``u`` or by ``v``."""
    edge = ds["edge"].to_numpy()
    n = len(ds)
    ok = edge >= 0
    allok = bool(ok.all())
    sel = slice(None) if allok else ok
    u = ds["u"].to_numpy()[sel]
    v = ds["v"].to_numpy()[sel]
    off = ds["offset"].to_numpy(float)[sel]
    L = ds["edge_length"].to_numpy(float)[sel]
    acc = ds["access"].to_numpy(float)[sel]
    du = off + node_dist[u]
    dv = np.maximum(L - off, 0.0) + node_dist[v]
    use_v = dv < du
    best = np.minimum(du, dv) + acc
    s_ = np.where(use_v, node_src[v], node_src[u]).astype(np.int64)
    s_[~np.isfinite(best)] = -1
    if allok:
        return best, s_
    dist = np.full(n, _INF)
    src = np.full(n, -1, np.int64)
    dist[ok], src[ok] = best, s_
    return dist, src


def _same_edge(ds: pd.DataFrame, fs: pd.DataFrame, extra: np.ndarray, dist: np.ndarray,
               src: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Demand points on the same edge as a facility: the direct way along the edge."""
    fe = fs["edge"].to_numpy()
    okf = fe >= 0
    if not okf.any():
        return dist, src
    de = ds["edge"].to_numpy()
    n_edges = int(max(de.max(initial=-1), fe.max(initial=-1))) + 1
    has = np.zeros(n_edges + 1, bool)
    has[fe[okf]] = True
    hit = has[de]  # de == -1 looks at the spare last slot, always False
    if not hit.any():
        return dist, src
    d = pd.DataFrame({"i": np.flatnonzero(hit), "edge": de[hit],
                      "t": ds["offset"].to_numpy(float)[hit],
                      "a": ds["access"].to_numpy(float)[hit]})
    f = pd.DataFrame({"j": np.flatnonzero(okf), "edge": fe[okf],
                      "tf": fs["offset"].to_numpy(float)[okf],
                      "af": fs["access"].to_numpy(float)[okf] + extra[okf]})
    m = d.merge(f, on="edge")
    m["d"] = m["a"] + np.abs(m["t"] - m["tf"]) + m["af"]
    best = m.loc[m.groupby("i")["d"].idxmin()]
    i = best["i"].to_numpy()
    better = best["d"].to_numpy() < dist[i]
    dist[i[better]] = best["d"].to_numpy()[better]
    src[i[better]] = best["j"].to_numpy()[better]
    return dist, src


def distance_matrix(graph: StreetGraph, sources: Any, targets: Any, *, limit: float,
                    chunk: int = 256) -> sp.csr_matrix:
    """Network distances from every source to every target within ``limit`` (sparse).

    Runs Dijkstra from the sources in chunks (bounded by ``limit``); both ends are snapped to
    edges with their access distances, and pairs on the same edge are joined along it. Used by
    siting, where each candidate's own catchment matters (not only the nearest one).

    Returns
    -------
    csr_matrix
        Shape (n_sources, n_targets); stored entries are the distances <= ``limit``
        (a distance of exactly 0 is stored as 1e-9 m so that it is not dropped).
    """
    ss = snap_points(graph, sources)
    ts = snap_points(graph, targets)
    m, pos = _augmented(graph, ss, None)
    n = graph.n_nodes
    tok = np.flatnonzero(ts["edge"].to_numpy() >= 0)
    tu = ts["u"].to_numpy()[tok]
    tv = ts["v"].to_numpy()[tok]
    toff = ts["offset"].to_numpy(float)[tok]
    tL = ts["edge_length"].to_numpy(float)[tok]
    tacc = ts["access"].to_numpy(float)[tok]
    rows, cols, vals = [], [], []
    for start in range(0, len(pos), chunk):
        p = pos[start:start + chunk]
        D = dijkstra(m, directed=True, indices=n + p, limit=float(limit))
        d = np.minimum(tacc + toff + D[:, tu], tacc + np.maximum(tL - toff, 0) + D[:, tv])
        r, c = np.nonzero(d <= limit)
        rows.append(p[r])
        cols.append(tok[c])
        vals.append(d[r, c])
    r = np.concatenate(rows) if rows else np.zeros(0, np.int64)
    c = np.concatenate(cols) if cols else np.zeros(0, np.int64)
    w = np.concatenate(vals) if vals else np.zeros(0)
    # same-edge pairs
    se = ss["edge"].to_numpy()
    te = ts["edge"].to_numpy()
    sd = pd.DataFrame({"i": np.arange(len(ss)), "edge": se, "ts": ss["offset"].to_numpy(float),
                       "as": ss["access"].to_numpy(float)})[se >= 0]
    td = pd.DataFrame({"j": np.arange(len(ts)), "edge": te, "tt": ts["offset"].to_numpy(float),
                       "at": ts["access"].to_numpy(float)})[te >= 0]
    mm = sd.merge(td, on="edge")
    if len(mm):
        dd = mm["as"] + mm["at"] + np.abs(mm["ts"] - mm["tt"])
        mm = mm[dd <= limit]
        r = np.r_[r, mm["i"].to_numpy()]
        c = np.r_[c, mm["j"].to_numpy()]
        w = np.r_[w, dd[dd <= limit].to_numpy()]
    r, c, w = _dedupe_min(r.astype(np.int64), c.astype(np.int64), w)
    w = np.maximum(w, 1e-9)
    return sp.csr_matrix((w, (r, c)), shape=(len(ss), len(ts)))


def network_distance(graph: StreetGraph, a: Any, b: Any) -> float:
    """Network distance between two single points (snapped to edges, access included).

    >>> import geopandas as gpd
    >>> from shapely.geometry import LineString, Point
    >>> g = StreetGraph.from_roads(gpd.GeoDataFrame(
    ...     geometry=[LineString([(0, 0), (100, 0), (100, 100)])], crs="EPSG:4550"))
    >>> network_distance(g, Point(10, 5), Point(105, 90))
    190.0
    """
    s = gpd.GeoSeries([a], crs=graph.crs)
    t = gpd.GeoSeries([b], crs=graph.crs)
    r = nearest_facility(graph, s, t)
    return float(r["distance_network"].iloc[0])


# --------------------------------------------------------------------------------------------
# OSM helpers
# --------------------------------------------------------------------------------------------

_TAG = re.compile(r'"((?:[^"\\]|\\.)*)"=>"((?:[^"\\]|\\.)*)"')


def parse_other_tags(other_tags: pd.Series) -> pd.DataFrame:
    """Split GDAL's OSM ``other_tags`` column (``"k"=>"v","k2"=>"v2"``) into columns.

    >>> parse_other_tags(pd.Series(['"amenity"=>"toilets","fee"=>"no"', None]))["amenity"].tolist()
    ['toilets', nan]
    """
    rows = [dict(_TAG.findall(t)) if isinstance(t, str) else {} for t in other_tags]
    return pd.DataFrame(rows, index=other_tags.index)


def read_osm_points(path: str | Path, *, crs: Any = None, **tags: str) -> gpd.GeoDataFrame:
    """Point features of an OSM file whose tags match, e.g. ``amenity="toilets"``.

    Tags are looked up both in GDAL's own columns and in ``other_tags``; the result carries the
    parsed tags as columns, in ``crs`` (default: keep WGS 84).
    """
    path = Path(path)
    if not path.exists():
        raise UnreadableInputError("OSM 文件不存在", path=str(path))
    try:
        pts = gpd.read_file(path, layer="points", engine="pyogrio")
    except Exception as exc:
        raise UnreadableInputError(f"OSM 文件无法读取：{exc}", path=str(path)) from None
    parsed = parse_other_tags(pts.get("other_tags", pd.Series(index=pts.index, dtype=object)))
    mask = np.ones(len(pts), bool)
    for k, v in tags.items():
        col = pts[k] if k in pts else parsed.get(k, pd.Series(index=pts.index, dtype=object))
        mask &= (col == v).to_numpy()
    out = pts[mask].copy()
    for c in parsed.columns:
        if c not in out:
            out[c] = parsed.loc[out.index, c]
    out = out.reset_index(drop=True)
    return out.to_crs(crs) if crs is not None else out
