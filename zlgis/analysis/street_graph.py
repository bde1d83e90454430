"""The street graph: nodes, edges with geometries, CSR adjacency, conversions (osmnx/networkx).

A :class:`StreetGraph` is built from the catalog's ``roads`` layer (CAD-style centrelines: lines
are noded where they cross, except bridges, which only connect at their ends; see
:mod:`.graph_build` and :mod:`.noding`) or from an OSM file (ways connect only where they share a
node). It converts to an osmnx-compatible ``networkx.MultiDiGraph`` and back.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import scipy.sparse as sp
import shapely
from scipy.sparse.csgraph import connected_components

from ..errors import InputError, UnreadableInputError
from ._network_common import check_projected, dedupe_min, network_config
from .graph_build import build_graph
from .osm import parse_other_tags
from .run_cache import active_cache

__all__ = ["StreetGraph"]

#: road attributes carried by the edges
_ROAD_COLUMNS = ("road_id", "name", "road_class", "width", "bridge", "footway", "district",
                 "source_row")


@dataclass
class StreetGraph:
    """An undirected street graph with edge geometries, in a projected CRS (metres).

    Attributes
    ----------
    nodes : DataFrame
        One row per node, index ``0..n-1``, columns ``x``, ``y`` (their points:
        :meth:`to_gdfs`; a million-building city's 230k node points would hold 46 MB).
    edges : GeoDataFrame
        One row per edge, index ``0..m-1``, columns ``u``, ``v``, ``length`` (m), ``geometry``
        (running from node ``u`` to node ``v``) and the attributes of the source line
        (``road_id``, ``road_class``, ``bridge``, ``footway``, ``source_row``...).
    crs : CRS
        The projected coordinate system.
    walk : bool
        Whether this is a walking network (see ``network.walk_exclude_classes`` in coverage.yaml).
    """

    nodes: pd.DataFrame
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
            tolerance = float(cfg["node_tolerance_m"])
        if not isinstance(roads, gpd.GeoDataFrame):
            raise InputError("道路图层应为 GeoDataFrame", layer=layer)
        check_projected(roads.crs, layer)
        cache = active_cache()
        if cache is None:
            return cls._from_roads(roads, walk=walk, tolerance=tolerance, layer=layer)
        key = ("street_graph", cache.frame_key(roads, ("bridge", *_ROAD_COLUMNS)), walk,
               tolerance, layer, repr(cfg))
        return cache.get(key, lambda: cls._from_roads(roads, walk=walk, tolerance=tolerance,
                                                      layer=layer), slot="street_graph")

    @classmethod
    def _from_roads(cls, roads: gpd.GeoDataFrame, *, walk: bool, tolerance: float,
                    layer: str) -> "StreetGraph":
        cfg = network_config()
        df = roads.reset_index(drop=True).copy()
        df["source_row"] = np.arange(len(df))
        include = np.ones(len(df), bool)
        if "road_class" in df:
            key = "walk_exclude_classes" if walk else "drive_exclude_classes"
            include = ~df["road_class"].isin(set(cfg.get(key, []))).to_numpy()
        bridge = (df["bridge"].fillna(False).astype(bool).to_numpy() if "bridge" in df
                  else np.zeros(len(df), bool))
        keep = [c for c in _ROAD_COLUMNS if c in df]
        g = build_graph(df, keep, crossable=~bridge, noding="crossings", tolerance=tolerance,
                        crs=roads.crs, layer=layer, include=include)
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
        nodes, edges = build_graph(lines, keep, crossable=np.zeros(len(lines), bool), noding="shared",
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
        check_projected(crs, "networkx")
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
        nodes = pd.DataFrame({"x": x, "y": y, "label": labels})
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
    def csr(self) -> sp.csr_matrix:
        """The adjacency matrix (CSR, weights in metres), symmetric, parallel edges reduced to
        the shortest (its (row, col, weight) triplets are not kept: 21 MB for the 1M city's
        walking graph)."""
        u = self.edges["u"].to_numpy(np.int64)
        v = self.edges["v"].to_numpy(np.int64)
        w = self.edges["length"].to_numpy(float)
        r, c, w = dedupe_min(np.concatenate([u, v]), np.concatenate([v, u]),
                             np.concatenate([w, w]))
        return sp.csr_matrix((w, (r, c)), shape=(self.n_nodes, self.n_nodes))

    @cached_property
    def _edge_geoms(self) -> np.ndarray:
        return np.asarray(self.edges.geometry.values, dtype=object)

    @cached_property
    def _tree(self) -> shapely.STRtree:
        return shapely.STRtree(self._edge_geoms)

    @cached_property
    def _segments(self) -> dict[str, np.ndarray]:
        """Every straight segment of every edge: ends, edge id, offset of its start on the edge,
        direction and inverse squared length (0 for a zero-length segment)."""
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
        vx, vy = bx - ax, by - ay
        ll = vx * vx + vy * vy
        inv_ll = np.divide(1.0, ll, out=np.zeros_like(ll), where=ll > 0)
        return {"ax": ax, "ay": ay, "bx": bx, "by": by, "len": ln, "edge": edge, "start": start,
                "vx": vx, "vy": vy, "inv_ll": inv_ll}

    @cached_property
    def components(self) -> np.ndarray:
        """Connected-component label of every node."""
        return connected_components(self.csr, directed=False)[1]

    # ---------------------------------------------------------------- snapping
    def forget_snapped(self, *, indexes: bool = False) -> None:
        """Drop the point sets the graph remembers having snapped: once a check has measured
        its demand, its snaps would otherwise be held to the end of the run.

        With ``indexes`` also drop what snapping and routing built from the graph (its
        segments and their grids, the CSR matrix, the edge tree: about 100 MB for the 1M
        city's walking graph), made again when asked; without, they stay for the next sets.
        """
        self.__dict__.pop("_snap_memo", None)
        if indexes:
            for name in ("_snap_cells", "_segments", "csr", "components", "_tree",
                         "_edge_geoms"):
                self.__dict__.pop(name, None)

    def snap(self, points: Any, *, max_distance: float | None = None) -> pd.DataFrame:
        """Snap points to the nearest edge.

        Parameters
        ----------
        points : GeoDataFrame, GeoSeries, array of geometries or (n, 2) coordinates
            Non-point geometries are represented by ``representative_point``; coordinates
            are in the graph's CRS.
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
        from .snapping import snap_points

        return snap_points(self, points, max_distance=max_distance)

    # ---------------------------------------------------------------- conversion
    def to_gdfs(self) -> tuple[gpd.GeoDataFrame, gpd.GeoDataFrame]:
        """osmnx-style node and edge GeoDataFrames.

        Nodes are indexed by ``osmid`` with ``x`` and ``y``; edges by ``(u, v, key)`` with
        ``length`` and ``geometry``. Every street appears in both directions (as in osmnx walking
        graphs), the reverse copy flagged ``reversed=True``.
        """
        x, y = self.nodes["x"].to_numpy(float), self.nodes["y"].to_numpy(float)
        nodes = gpd.GeoDataFrame({"x": x, "y": y}, geometry=shapely.points(x, y), crs=self.crs,
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
