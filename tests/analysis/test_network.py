"""Street graph, snapping and network distances (zlgis/analysis/network.py)."""

from __future__ import annotations

import geopandas as gpd
import networkx as nx
import numpy as np
import pandas as pd
import pytest
import shapely
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from shapely.geometry import LineString, MultiLineString, Point

from zlgis.analysis.network import (
    StreetGraph,
    distance_matrix,
    multi_source,
    nearest_facility,
    network_distance,
    parse_other_tags,
    read_osm_points,
)
from zlgis.errors import CRSError, InputError

CRS = "EPSG:4550"


def _roads(lines, bridge=None, classes=None):
    n = len(lines)
    return gpd.GeoDataFrame({
        "road_id": [f"R{i}" for i in range(n)],
        "road_class": classes or ["支路"] * n,
        "bridge": bridge or [False] * n,
    }, geometry=lines, crs=CRS)


def _pts(*xy, index=None):
    return gpd.GeoSeries([Point(p) for p in xy], crs=CRS, index=index)


# ----------------------------------------------------------------------------- graph building

def test_crossing_lines_are_noded():
    g = StreetGraph.from_roads(_roads([LineString([(0, 0), (100, 0)]),
                                       LineString([(50, -50), (50, 50)])]))
    assert g.n_nodes == 5 and g.n_edges == 4
    assert sorted(g.edges["length"].round(6)) == [50.0] * 4
    centre = g.nodes[(g.nodes.x == 50) & (g.nodes.y == 0)]
    assert len(centre) == 1


def test_t_junction_and_gap_tolerance():
    # the side street ends 0.3 m short of the main street's end point: merged (tolerance 0.5)
    g = StreetGraph.from_roads(_roads([LineString([(0, 0), (100, 0)]),
                                       LineString([(100.3, 0), (200, 0)]),
                                       LineString([(50, 0), (50, 80)])]))
    assert g.components.max() == 0
    d = network_distance(g, Point(50, 80), Point(200, 0))
    assert d == pytest.approx(80 + 150, abs=0.5)


def test_bridge_does_not_connect_to_road_below():
    # a bridge crosses a riverside road without a junction
    g = StreetGraph.from_roads(_roads([LineString([(0, 0), (200, 0)]),
                                       LineString([(100, -100), (100, 100)])],
                                      bridge=[False, True]))
    assert g.n_nodes == 4 and g.n_edges == 2
    assert len(np.unique(g.components)) == 2


def test_walk_drops_expressways_and_drive_drops_footways():
    roads = _roads([LineString([(0, 0), (100, 0)]), LineString([(0, 10), (100, 10)]),
                    LineString([(0, 20), (100, 20)])], classes=["快速路", "人行道", "支路"])
    walk = StreetGraph.from_roads(roads, walk=True)
    drive = StreetGraph.from_roads(roads, walk=False)
    assert set(walk.edges["road_class"]) == {"人行道", "支路"}
    assert set(drive.edges["road_class"]) == {"快速路", "支路"}


def test_multilinestrings_and_bad_input():
    g = StreetGraph.from_roads(_roads([MultiLineString([[(0, 0), (10, 0)], [(10, 0), (10, 10)]])]))
    assert g.edges["length"].sum() == pytest.approx(20)
    with pytest.raises(CRSError):
        StreetGraph.from_roads(_roads([LineString([(0, 0), (1, 0)])]).set_crs(4326,
                                                                            allow_override=True))
    bad = _roads([LineString([(0, 0), (1, 0)])])
    bad.loc[0, "geometry"] = Point(0, 0)
    with pytest.raises(InputError, match="第 1 行"):
        StreetGraph.from_roads(bad)


def test_an_edge_that_is_its_whole_street_is_the_streets_own_line():
    """A street drawn from junction to junction is its edge: the same geometry object (the 1M
    city's graphs held a copy of each); streets split at a crossing, with a repeated vertex,
    with z or snapped to a node within the tolerance get lines of their own, in 2D."""
    lines = [LineString([(0, 0), (100, 0)]), LineString([(100, 0), (100, 100)]),
             LineString([(0, 50), (200, 50)]), LineString([(0, 0, 1), (0, -100, 1)]),
             LineString([(300, 0), (300, 0), (400, 0)]), LineString([(400.2, 0), (400, 80)])]
    roads = _roads(lines)
    g = StreetGraph.from_roads(roads)
    edges = np.asarray(g.edges.geometry.values)
    src = g.edges["source_row"].to_numpy()
    own = np.array([e is lines[s] for e, s in zip(edges, src)])
    assert sorted(src[own]) == [0]
    assert not shapely.has_z(edges).any()
    # the same vertices as the lines made from the graph's own coordinates
    xy, i = shapely.get_coordinates(edges, return_index=True)
    assert shapely.equals_exact(edges, shapely.linestrings(xy, indices=i), tolerance=0).all()
    assert [len(shapely.get_coordinates(edges[src == k])) for k in range(6)] == [2, 4, 4, 2, 2, 2]
    # a graph from copies of the lines: edges equal, lengths and nodes identical
    other = StreetGraph.from_roads(_roads([shapely.from_wkb(shapely.to_wkb(x)) for x in lines]))
    assert shapely.equals_exact(np.asarray(other.edges.geometry.values), edges, tolerance=0).all()
    assert other.edges["length"].tolist() == g.edges["length"].tolist()
    assert other.nodes.equals(g.nodes)


def test_points_of_some_rows_read_in_place_equal_those_of_their_copy(monkeypatch):
    """``point_xy_or_nan(geoms, rows=)``: the rows' points (any order, across blocks; points,
    polygons, lines, missing and empty) are those of the copied rows, and the array's objects
    are not referenced by any new array (no reference counts written: forked checks share
    their pages)."""
    import sys

    import zlgis.analysis._network_common as nc

    monkeypatch.setattr(nc, "_XY_BLOCK", 7)
    rng = np.random.default_rng(3)
    x, y = rng.random(60) * 1000, rng.random(60) * 1000
    geoms = shapely.box(x, y, x + 5 + rng.random(60) * 30, y + 5)
    geoms[[3, 20]] = None
    geoms[5], geoms[9], geoms[11] = Point(1, 2), shapely.Polygon(), LineString([(0, 0), (9, 3)])
    rows = rng.permutation(60)[:35]
    before = [sys.getrefcount(g) for g in geoms]
    got = nc.point_xy_or_nan(geoms, rows=rows)
    assert [sys.getrefcount(g) for g in geoms] == before
    assert np.array_equal(got, nc.point_xy_or_nan(geoms[rows]), equal_nan=True)


# ----------------------------------------------------------------------------- known answers

def test_river_crossed_only_by_distant_bridge():
    """Homes south of a river, a toilet just across it: straight line 120 m, walk 2120 m."""
    roads = _roads([LineString([(0, 0), (1000, 0)]), LineString([(0, 100), (1000, 100)]),
                    LineString([(1000, 0), (1000, 100)])], bridge=[False, False, True])
    g = StreetGraph.from_roads(roads)
    homes = _pts((0, -10), (900, -10), (990, 50))
    toilet = _pts((0, 110), index=["WC-N"])
    r = nearest_facility(g, homes, toilet)
    assert np.allclose(r["distance_straight"], [120.0, np.hypot(900, 120), np.hypot(990, 60)])
    # home 0: 10 access + 1000 east + 100 bridge + 1000 west + 10 access
    assert r.loc[0, "distance_network"] == pytest.approx(2120)
    assert r.loc[1, "distance_network"] == pytest.approx(10 + 100 + 100 + 1000 + 10)
    # the home next to the bridge snaps to the bridge itself
    assert r.loc[2, "distance_network"] == pytest.approx(10 + 50 + 1000 + 10)
    assert (r["facility"] == "WC-N").all()
    # radius says covered, network says not
    assert (r.loc[0, "distance_straight"] <= 300) and not (r.loc[0, "distance_network"] <= 300)


def test_nearest_of_two_facilities_and_same_edge():
    g = StreetGraph.from_roads(_roads([LineString([(0, 0), (100, 0), (100, 100)])]))
    fac = _pts((10, 5), (100, 90), index=["A", "B"])
    dem = _pts((40, -3), (95, 60), (100, 100))
    r = nearest_facility(g, dem, fac)
    # dem 0 and facility A on the same edge: 3 + 30 + 5
    assert r.loc[0, "facility"] == "A" and r.loc[0, "distance_network"] == pytest.approx(38)
    assert r.loc[1, "facility"] == "B" and r.loc[1, "distance_network"] == pytest.approx(5 + 30)
    assert r.loc[2, "facility"] == "B" and r.loc[2, "distance_network"] == pytest.approx(10)
    # without the straight-line search: the same network answer, no straight columns
    q = nearest_facility(g, dem, fac, straight=False)
    assert q["distance_network"].tolist() == r["distance_network"].tolist()
    assert q["facility"].tolist() == r["facility"].tolist()
    assert q["distance_straight"].isna().all() and q["facility_straight"].isna().all()
    assert r["distance_straight"].notna().all()


def test_limit_and_unreachable():
    g = StreetGraph.from_roads(_roads([LineString([(0, 0), (1000, 0)]),
                                       LineString([(0, 500), (1000, 500)])]))
    r = nearest_facility(g, _pts((900, 0), (500, 520)), _pts((0, 0)), limit=300)
    assert np.isinf(r["distance_network"]).all() and r["facility"].isna().all()
    r = nearest_facility(g, _pts((900, 0), (500, 520)), _pts((0, 0)))
    assert r.loc[0, "distance_network"] == pytest.approx(900)
    assert np.isinf(r.loc[1, "distance_network"])  # other component


def test_cost_shifts_the_serving_facility():
    g = StreetGraph.from_roads(_roads([LineString([(0, 0), (1000, 0)])]))
    fac = _pts((0, 0), (1000, 0))
    r = nearest_facility(g, _pts((400, 0)), fac, cost=np.array([300.0, 0.0]))
    assert r.loc[0, "facility"] == 1 and r.loc[0, "distance_network"] == pytest.approx(600)


def test_multi_source_predecessors_give_a_path():
    g = StreetGraph.from_roads(_roads([LineString([(0, 0), (100, 0)]),
                                       LineString([(100, 0), (100, 100)]),
                                       LineString([(100, 100), (0, 100)])]))
    res = multi_source(g, _pts((0, 0)))
    far = int(np.argmax(res.dist))
    path = res.path_nodes(far)
    # the path stops at the first node of the source's own edge: (0,100) -> (100,100) -> (100,0)
    assert len(path) == 3 and res.dist[far] == pytest.approx(300)
    assert (g.nodes.loc[path[-1], "x"], g.nodes.loc[path[-1], "y"]) == (100, 0)
    assert (res.source == 0).all()


def test_distance_matrix_matches_pairwise():
    g = StreetGraph.from_roads(_roads([LineString([(0, 0), (100, 0), (100, 100)]),
                                       LineString([(100, 0), (300, 0)])]))
    src = _pts((10, 5), (250, -5))
    tgt = _pts((40, -3), (95, 60), (290, 0))
    m = distance_matrix(g, src, tgt, limit=1000).toarray()
    for i, s in enumerate(src):
        for j, t in enumerate(tgt):
            assert m[i, j] == pytest.approx(network_distance(g, s, t))
    m2 = distance_matrix(g, src, tgt, limit=100).toarray()
    assert ((m2 > 0) == (m <= 100)).all()


# ----------------------------------------------------------------------------- osmnx / networkx

def test_networkx_roundtrip_and_osmnx_compatibility():
    import osmnx as ox

    roads = _roads([LineString([(0, 0), (100, 0)]), LineString([(50, -50), (50, 50)]),
                    LineString([(100, 0), (100, 80)])])
    g = StreetGraph.from_roads(roads)
    G = g.to_networkx()
    assert isinstance(G, nx.MultiDiGraph) and G.number_of_edges() == 2 * g.n_edges
    nodes, edges = ox.convert.graph_to_gdfs(G)
    assert len(nodes) == g.n_nodes and {"length", "geometry"} <= set(edges.columns)
    # the graph keeps its nodes' coordinates only; their points are made for to_gdfs
    assert list(g.nodes.columns) == ["x", "y"]
    pts = g.to_gdfs()[0]
    assert pts.geometry.x.tolist() == g.nodes["x"].tolist()
    assert pts.geometry.y.tolist() == g.nodes["y"].tolist()
    # osmnx tooling works on it
    assert ox.distance.nearest_nodes(G, 100, 80) == int(
        g.nodes.index[(g.nodes.x == 100) & (g.nodes.y == 80)][0])
    back = StreetGraph.from_networkx(G)
    assert back.n_nodes == g.n_nodes and back.n_edges == g.n_edges
    a = nearest_facility(g, _pts((0, 5), (50, 40)), _pts((100, 70)))
    b = nearest_facility(back, _pts((0, 5), (50, 40)), _pts((100, 70)))
    assert np.allclose(a["distance_network"], b["distance_network"])


@st.composite
def _grid_network(draw):
    nx_, ny_ = draw(st.integers(2, 5)), draw(st.integers(2, 5))
    step = 100.0
    lines = []
    for i in range(nx_):
        for j in range(ny_):
            if i + 1 < nx_ and draw(st.booleans()):
                lines.append(LineString([(i * step, j * step), ((i + 1) * step, j * step)]))
            if j + 1 < ny_ and draw(st.booleans()):
                lines.append(LineString([(i * step, j * step), (i * step, (j + 1) * step)]))
    if not lines:
        lines = [LineString([(0, 0), (step, 0)])]
    coord = st.floats(-50, (max(nx_, ny_)) * step + 50, allow_nan=False)
    dem = draw(st.lists(st.tuples(coord, coord), min_size=1, max_size=12))
    fac = draw(st.lists(st.tuples(coord, coord), min_size=1, max_size=4))
    return lines, dem, fac


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(_grid_network())
def test_property_network_never_below_straight_and_truly_nearest(case):
    lines, dem, fac = case
    g = StreetGraph.from_roads(_roads(lines))
    r = nearest_facility(g, _pts(*dem), _pts(*fac))
    fin = np.isfinite(r["distance_network"].to_numpy())
    assert (r["distance_network"][fin] >= r["distance_straight"][fin] - 1e-6).all()
    # brute force with networkx: every demand/facility pair through the osmnx graph
    G = nx.Graph()
    G.add_weighted_edges_from(zip(g.edges.u, g.edges.v, g.edges.length), weight="length")
    for n in range(g.n_nodes):
        G.add_node(n)
    ds, fs = g.snap(_pts(*dem)), g.snap(_pts(*fac))
    lengths = dict(nx.all_pairs_dijkstra_path_length(G, weight="length"))
    for i in range(len(dem)):
        best = np.inf
        for j in range(len(fac)):
            d_ = ds.iloc[i]
            f_ = fs.iloc[j]
            cand = []
            if d_.edge == f_.edge:
                cand.append(abs(d_.offset - f_.offset))
            for dn, dd in ((d_.u, d_.offset), (d_.v, d_.edge_length - d_.offset)):
                for fn, fd in ((f_.u, f_.offset), (f_.v, f_.edge_length - f_.offset)):
                    if fn in lengths[dn]:
                        cand.append(dd + lengths[dn][fn] + fd)
            if cand:
                best = min(best, d_.access + f_.access + min(cand))
        got = r["distance_network"].iloc[i]
        assert got == pytest.approx(best, abs=1e-6) or (np.isinf(got) and np.isinf(best))
        if np.isfinite(best):
            j = r["facility"].iloc[i]
            # the facility named really is at that distance
            one = nearest_facility(g, _pts(dem[i]), _pts(fac[j]))
            assert one["distance_network"].iloc[0] == pytest.approx(best, abs=1e-6)


# ----------------------------------------------------------------------------- real data

@pytest.fixture(scope="module")
def helsinki(realdata):
    """The walking graph of the Helsinki extract and its 17 toilets (UTM 35N)."""
    pbf = realdata / "helsinki" / "Helsinki.osm.pbf"
    g = StreetGraph.from_osm(pbf)
    return pbf, g, read_osm_points(pbf, amenity="toilets", crs=g.crs)


def test_osm_helsinki_toilets_on_real_network(helsinki):
    pbf, g, toilets = helsinki
    assert g.crs.to_epsg() == 32635  # UTM 35N
    assert g.components.max() == 0 and g.n_nodes > 3000 and g.n_edges > 4000
    assert len(toilets) == 17
    snapped = g.snap(toilets)
    assert (snapped["access"] < 25).all()
    # every toilet reachable from every other over the streets
    m = distance_matrix(g, toilets, toilets, limit=1e9).toarray()
    off = ~np.eye(17, dtype=bool)
    assert (m[off] > 0).all() and np.isfinite(m).all()
    # the three toilets at one spot (level -1, 24.9407 60.1713) are a few metres apart
    pts = np.asarray(toilets.geometry.values, dtype=object)
    straight = shapely.distance(pts[:, None], pts[None, :])
    assert (m[off] >= straight[off] - 1e-6).all()
    # bridges come from other_tags
    assert g.edges["bridge"].any()


def test_osm_helsinki_toilet_coverage_of_buildings(helsinki):
    """300 m toilet coverage of central Helsinki's buildings, walking vs circles, checked
    against networkx on the osmnx graph."""
    import pyogrio

    pbf, g, toilets = helsinki
    mp = pyogrio.read_dataframe(pbf, layer="multipolygons", on_invalid="ignore")
    b = mp[mp["building"].notna() & mp.geometry.notna()].to_crs(g.crs).reset_index(drop=True)
    assert len(b) > 400
    r = nearest_facility(g, b, toilets)
    net = float((r["distance_network"] <= 300).mean())
    circ = float((r["distance_straight"] <= 300).mean())
    # figures: a 300 m circle says about nine in ten buildings are served, walking says far fewer
    assert 0.85 < circ <= 1.0
    assert 0.4 < net < 0.8 and net < circ - 0.15
    assert (r["distance_network"] >= r["distance_straight"] - 1e-6).all()
    assert r["facility"].notna().all()  # every building reaches some toilet
    assert r["facility"].nunique() >= 12  # most toilets serve somebody
    # independent check: networkx multi-source Dijkstra on the osmnx export of the same graph
    G = nx.Graph(g.to_networkx())
    for u, v, d in G.edges(data=True):
        G[u][v]["w"] = d["length"]
    fs, ds = g.snap(toilets), g.snap(b)
    src = []
    for j, f in fs.iterrows():
        vnode = ("wc", j)
        G.add_edge(vnode, int(f.u), w=f.access + f.offset)
        if G.has_edge(vnode, int(f.v)):
            G[vnode][int(f.v)]["w"] = min(G[vnode][int(f.v)]["w"],
                                           f.access + f.edge_length - f.offset)
        else:
            G.add_edge(vnode, int(f.v), w=f.access + f.edge_length - f.offset)
        src.append(vnode)
    dist = nx.multi_source_dijkstra_path_length(G, src, weight="w")
    sample = np.random.default_rng(0).choice(len(b), 60, replace=False)
    for i in sample:
        d_ = ds.iloc[i]
        want = d_.access + min(d_.offset + dist.get(int(d_.u), np.inf),
                               d_.edge_length - d_.offset + dist.get(int(d_.v), np.inf))
        same = fs[fs["edge"] == d_.edge]
        if len(same):
            want = min(want, (d_.access + same["access"] + (same["offset"] - d_.offset).abs()).min())
        assert r["distance_network"].iloc[i] == pytest.approx(want, abs=1e-6)


def test_parse_other_tags_escapes():
    t = parse_other_tags(pd.Series(['"name"=>"a \\"b\\"","fee"=>"yes"']))
    assert t.loc[0, "fee"] == "yes"


def test_osm_missing_file(tmp_path):
    from zlgis.errors import UnreadableInputError

    with pytest.raises(UnreadableInputError):
        StreetGraph.from_osm(tmp_path / "none.osm.pbf")
    with pytest.raises(UnreadableInputError):
        read_osm_points(tmp_path / "none.osm.pbf", amenity="toilets")


def test_snap_in_blocks_same_answer(monkeypatch):
    from zlgis.analysis import snapping as netmod

    rng = np.random.default_rng(1)
    lines = [LineString([(0, y), (1000, y + 30)]) for y in range(0, 1000, 90)]
    lines += [LineString([(x, 0), (x - 20, 1000)]) for x in range(0, 1000, 120)]
    g = StreetGraph.from_roads(_roads(lines))
    pts = _pts(*rng.uniform(-50, 1050, (500, 2)))
    whole = g.snap(pts)
    monkeypatch.setattr(netmod, "_PAIR_BLOCK", 37)
    blocks = g.snap(pts)
    pd.testing.assert_frame_equal(whole, blocks)
    # exact: the nearest edge really is the nearest (shapely's own distance)
    d = shapely.distance(np.asarray(pts.values)[:, None], g._edge_geoms[None, :]).min(axis=1)
    assert np.allclose(whole["access"], d, atol=1e-9)


# ----------------------------------------------------------------------------- multi-source pass
# The multi-source pass (``dijkstra(min_only=True)`` on the CSR with virtual facility rows +
# numpy arithmetic per demand point) against networkx and against single-source runs, on random
# graphs with the awkward cases: unreachable parts, several sources on one node, zero-length and
# parallel edges, self-loops, demand on a facility's own edge.

def _random_graph(rng, n_nodes, n_edges):
    """A StreetGraph with random edges (zero-length, parallel, self-loops) and isolated parts."""
    x, y = rng.uniform(0, 1000, n_nodes), rng.uniform(0, 1000, n_nodes)
    # nodes [0, n_nodes - 5) connected at random; the last 5 only among themselves or alone
    main = n_nodes - 5
    u = rng.integers(0, main, n_edges)
    v = rng.integers(0, main, n_edges)
    u = np.r_[u, main, main + 1]
    v = np.r_[v, main + 1, main + 1]  # a separate pair and a self-loop; main+2.. isolated
    length = np.hypot(x[u] - x[v], y[u] - y[v]) * rng.uniform(1.0, 1.3, len(u))
    length[rng.random(len(u)) < 0.1] = 0.0  # zero-length edges
    length[:3] = np.round(length[:3])  # some round figures, for exact ties
    geoms = shapely.linestrings(np.stack([np.c_[x[u], y[u]], np.c_[x[v], y[v]]], axis=1))
    edges = gpd.GeoDataFrame({"u": u, "v": v, "length": length}, geometry=geoms, crs=CRS)
    nodes = gpd.GeoDataFrame({"x": x, "y": y}, geometry=shapely.points(x, y), crs=CRS)
    return StreetGraph(nodes=nodes, edges=edges, crs=CRS)


def _snapped(g, rng, n, *, edges=None, offsets=None, unsnapped=0.0):
    """A pre-snapped frame (as ``snap`` returns) on random or given edges."""
    e = rng.integers(0, g.n_edges, n) if edges is None else np.asarray(edges)
    L = g.edges["length"].to_numpy()[e]
    off = rng.uniform(0, 1, n) * L if offsets is None else np.asarray(offsets, float)
    acc = rng.uniform(0, 30, n)
    acc[rng.random(n) < 0.2] = 0.0
    e = np.where(rng.random(n) < unsnapped, -1, e)
    ok = e >= 0
    return pd.DataFrame({
        "edge": e, "u": np.where(ok, g.edges["u"].to_numpy()[e], -1),
        "v": np.where(ok, g.edges["v"].to_numpy()[e], -1),
        "offset": np.where(ok, off, np.nan), "access": np.where(ok, acc, np.inf),
        "edge_length": np.where(ok, L, np.nan), "snap_x": np.nan, "snap_y": np.nan})


def _reference(g, fs, ds, cost=None, limit=None):
    from zlgis.analysis import shortest_paths as netmod

    extra = np.zeros(len(fs)) if cost is None else np.asarray(cost, float)
    ref = netmod._multi_source(g, fs, limit=limit, cost=extra)
    d, s = netmod._demand_from_nodes(ref.dist, ref.source, ds)
    d, s = netmod._same_edge(ds, fs, extra, d, s)
    if limit is not None:
        s = np.where(d > limit, -1, s)
        d = np.where(d > limit, np.inf, d)
    return ref, d, s


def _networkx_nodes(g, fs, extra):
    """Node distances by networkx on the same graph with one virtual node per facility."""
    G = nx.MultiDiGraph()
    G.add_nodes_from(range(g.n_nodes))
    for u, v, w in g.edges[["u", "v", "length"]].itertuples(index=False):
        G.add_edge(int(u), int(v), w=float(w))
        G.add_edge(int(v), int(u), w=float(w))
    src = []
    for j, f in enumerate(fs.itertuples(index=False)):
        if f.edge < 0:
            continue
        a = f.access + extra[j]
        G.add_edge(("f", j), int(f.u), w=a + f.offset)
        G.add_edge(("f", j), int(f.v), w=a + max(f.edge_length - f.offset, 0.0))
        src.append(("f", j))
    lengths = nx.multi_source_dijkstra_path_length(G, src, weight="w") if src else {}
    return np.array([lengths.get(i, np.inf) for i in range(g.n_nodes)])


def _assert_same(a, b):
    fa = np.isfinite(a)
    assert np.array_equal(fa, np.isfinite(b))
    np.testing.assert_allclose(a[fa], b[fa], rtol=1e-9, atol=1e-9)


@pytest.mark.parametrize("seed", range(8))
def test_multi_source_pass_equals_networkx(seed):
    rng = np.random.default_rng(seed)
    g = _random_graph(rng, int(rng.integers(20, 300)), int(rng.integers(20, 600)))
    k = int(rng.integers(1, 12))
    fs = _snapped(g, rng, k, unsnapped=0.1)
    # several sources on one node: copies of one facility, and a facility at an edge end
    fs = pd.concat([fs, fs.iloc[:1], fs.iloc[:1]], ignore_index=True)
    fs.loc[len(fs) - 1, "offset"] = 0.0
    # demand: random, plus points on the facilities' own edges
    ds = pd.concat([_snapped(g, rng, 400, unsnapped=0.05),
                    _snapped(g, rng, 2 * len(fs), edges=np.r_[fs["edge"], fs["edge"]].clip(0))],
                   ignore_index=True)
    cost = rng.uniform(0, 50, len(fs))
    for c, lim in [(None, None), (cost, None), (None, 400.0), (cost, 250.0)]:
        extra = np.zeros(len(fs)) if c is None else c
        ref, d_ref, s_ref = _reference(g, fs, ds, cost=c, limit=lim)
        ms = multi_source(g, fs, limit=lim, cost=c)
        _assert_same(ms.dist, ref.dist)
        if lim is None:
            _assert_same(ms.dist, _networkx_nodes(g, fs, extra))
        # the serving source really is at that distance: its own single-source run agrees
        for j in np.unique(ms.source[ms.source >= 0]):
            one = multi_source(g, fs.iloc[[j]], cost=extra[[j]])
            mine = ms.source == j
            np.testing.assert_allclose(ms.dist[mine], one.dist[mine], rtol=1e-12)
        # predecessors: every reached node hangs off its predecessor (or its source's edge)
        reached = np.flatnonzero(np.isfinite(ms.dist))
        pred = ms.predecessors[reached]
        inner = pred < g.n_nodes
        assert (pred >= 0).all()
        w = g.csr.toarray()[pred[inner], reached[inner]]
        np.testing.assert_allclose(ms.dist[pred[inner]] + w, ms.dist[reached[inner]],
                                   rtol=1e-12, atol=1e-9)
        assert (ms.source[reached[~inner]] == pred[~inner] - g.n_nodes).all()
        r = nearest_facility(g, ds, fs, cost=c, limit=lim)
        d = r["distance_network"].to_numpy()
        _assert_same(d, d_ref)
        # the serving facility: identical to the reference unless two facilities tie exactly
        fac = r["facility"].to_numpy()
        tie = fac != np.where(s_ref >= 0, s_ref, None)
        for i in np.flatnonzero(tie):
            one = nearest_facility(g, ds.iloc[[i]], fs.iloc[[fac[i]]], cost=extra[[fac[i]]])
            assert one["distance_network"].iloc[0] == pytest.approx(d[i], rel=1e-12)
        assert tie.mean() < 0.2
        assert (np.isfinite(d) == r["facility"].notna().to_numpy()).all()


def test_multi_source_pass_edge_cases():
    g = StreetGraph.from_roads(_roads([LineString([(0, 0), (100, 0)]),
                                       LineString([(100, 0), (100, 100)]),
                                       LineString([(500, 0), (600, 0)])]))
    # no facility at all, and no facility reachable
    r = nearest_facility(g, _pts((10, 1), (550, 1)), _pts((550, 5)).iloc[:0])
    assert np.isinf(r["distance_network"]).all() and r["facility"].isna().all()
    r = nearest_facility(g, _pts((10, 1), (550, 1)), _pts((590, 5)))
    assert np.isinf(r.loc[0, "distance_network"]) and r.loc[0, "facility"] is None
    assert r.loc[1, "distance_network"] == pytest.approx(1 + 40 + 5)
    # two facilities on the same spot and the demand on their edge: the first one serves
    r = nearest_facility(g, _pts((30, 2)), _pts((70, 0), (70, 0), index=["a", "b"]))
    assert r.loc[0, "facility"] == "a" and r.loc[0, "distance_network"] == pytest.approx(42)
    # a negative extra cost is allowed (it only shifts that facility's start)
    # (facility 1 walks 2 + 70 + 100 = 172 m, less 150: 22 m, closer than facility 0's 32 m)
    r = nearest_facility(g, _pts((30, 2)), _pts((0, 0), (100, 100)), cost=np.array([0, -150.0]))
    assert r.loc[0, "facility"] == 1 and r.loc[0, "distance_network"] == pytest.approx(22)


def _same_edge_by_merge(ds, fs, extra, dist, src):
    """The pandas formulation of the same-edge shortcut (merge on the edge, first minimum)."""
    import pandas as pd

    okf = fs["edge"].to_numpy() >= 0
    d = pd.DataFrame({"i": np.arange(len(ds)), "edge": ds["edge"].to_numpy(),
                      "t": ds["offset"].to_numpy(float), "a": ds["access"].to_numpy(float)})
    d = d[d["edge"] >= 0]
    f = pd.DataFrame({"j": np.flatnonzero(okf), "edge": fs["edge"].to_numpy()[okf],
                      "tf": fs["offset"].to_numpy(float)[okf],
                      "af": fs["access"].to_numpy(float)[okf] + extra[okf]})
    m = d.merge(f, on="edge")
    if not len(m):
        return dist, src
    m["d"] = m["a"] + np.abs(m["t"] - m["tf"]) + m["af"]
    best = m.loc[m.groupby("i")["d"].idxmin()]
    i, bd, j = best["i"].to_numpy(), best["d"].to_numpy(), best["j"].to_numpy()
    better = bd < dist[i]
    dist[i[better]], src[i[better]] = bd[better], j[better]
    return dist, src


def test_same_edge_shortcut_equals_the_merge_formulation():
    import pandas as pd

    from zlgis.analysis.shortest_paths import _same_edge

    rng = np.random.default_rng(7)
    for _ in range(500):  # small integers: many ties, which the first facility must win
        nd, nf, ne = rng.integers(0, 30), rng.integers(0, 12), rng.integers(1, 8)
        ds, fs = (pd.DataFrame({"edge": rng.integers(-1, ne, k),
                                "offset": rng.integers(0, 5, k).astype(float),
                                "access": rng.integers(0, 3, k).astype(float)})
                  for k in (nd, nf))
        extra = rng.integers(0, 3, nf).astype(float)
        dist = np.where(rng.random(nd) < .5, np.inf, rng.integers(0, 8, nd).astype(float))
        src = np.full(nd, -1)
        got = _same_edge(ds, fs, extra, dist.copy(), src.copy())
        want = _same_edge_by_merge(ds, fs, extra, dist.copy(), src.copy())
        assert np.array_equal(got[0], want[0]) and np.array_equal(got[1], want[1])
