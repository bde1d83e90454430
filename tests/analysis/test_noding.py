"""Noding of road lines (zlgis/analysis/noding.py) against shapely's pairwise intersection."""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import shapely

from zlgis.analysis import noding
from zlgis.analysis.street_graph import StreetGraph


def _reference(parts, crossable):
    """The previous noding: STRtree candidates, ``shapely.intersection`` of every pair of lines,
    every vertex of the intersection located on both lines."""
    idx = np.flatnonzero(crossable)
    i, j = shapely.STRtree(parts[idx]).query(parts[idx], predicate="intersects")
    keep = i < j
    i, j = idx[i[keep]], idx[j[keep]]
    xy, k = shapely.get_coordinates(shapely.intersection(parts[i], parts[j]), return_index=True)
    li = np.r_[i[k], j[k]]
    pxy = np.r_[xy, xy]
    pos = shapely.line_locate_point(parts[li], shapely.points(pxy))
    return li, pos, pxy


def _as_set(line, pos, xy):
    return np.unique(np.c_[line, np.round(pos, 6), np.round(xy, 6)], axis=0)


def _interior(parts, line, pos, xy):
    """Points away from the ends of their line (a closed way meets itself at its ends, where
    ``line_locate_point`` reports only position 0; ends are junctions anyway)."""
    length = shapely.length(parts)[line]
    inner = (pos > 1e-6) & (pos < length - 1e-6)
    return line[inner], pos[inner], xy[inner]


def _city(seed):
    """Jittered lattice of multi-vertex streets: crossings, T-junctions, shared ends, a street
    running along another one for a stretch (collinear overlap), curves, a zero-length part."""
    rng = np.random.default_rng(seed)
    lines = []
    for y in range(0, 1000, 100):
        xs = np.linspace(0, 1000, 7)
        lines.append(np.c_[xs, y + rng.normal(0, 3, len(xs))])
    for x in range(50, 1000, 130):
        ys = np.linspace(-20, 1020, 5)
        lines.append(np.c_[x + rng.normal(0, 3, len(ys)), ys])
    lines.append(np.array([[200.0, 300.0], [200.0, 450.0]]))           # T onto nothing / ends
    lines.append(np.array([[0.0, 1500.0], [600.0, 1500.0]]))
    lines.append(np.array([[300.0, 1500.0], [900.0, 1500.0]]))          # overlaps the previous
    lines.append(np.array([[450.0, 1400.0], [450.0, 1500.0]]))          # T-junction, exact
    lines.append(np.array([[5.0, 5.0], [5.0, 5.0]]))                    # degenerate
    arc = [(500 + 200 * np.cos(a), 500 + 200 * np.sin(a)) for a in np.linspace(0, 3, 40)]
    lines.append(np.array(arc))
    return np.array([shapely.linestrings(c) for c in lines], dtype=object)


def test_crossings_equal_shapely_intersection():
    for seed in range(4):
        parts = _city(seed)
        ok = np.ones(len(parts), bool)
        ok[3] = False  # a bridge: no junction where it crosses
        ok[-2] = False  # the degenerate line
        c = noding.crossings(parts, ok)
        np.testing.assert_array_equal(_as_set(*_interior(parts, c.line, c.pos, c.xy)),
                                      _as_set(*_interior(parts, *_reference(parts, ok))))
        assert not np.isin(c.line, [3]).any()


def _reference_crossings(parts, crossable):
    li, pos, xy = _reference(parts, crossable)
    return noding.Crossings(li, np.zeros_like(li), pos, xy)


def test_crossings_on_real_streets_equal_shapely(realdata, monkeypatch):
    # Helsinki's OSM ways: curved, dense, many crossings without shared vertices in the data
    lines = gpd.read_file(realdata / "helsinki" / "Helsinki.osm.pbf", layer="lines")
    lines = lines[lines["highway"].notna()]
    lines = lines.to_crs(lines.estimate_utm_crs())[["geometry"]].reset_index(drop=True)
    parts = shapely.get_parts(np.asarray(lines.geometry.values))
    ok = np.ones(len(parts), bool)
    c = noding.crossings(parts, ok)
    ref = _reference(parts, ok)
    assert len(np.unique(ref[0])) > 2000  # most of the 2,504 ways meet another one
    np.testing.assert_array_equal(_as_set(*_interior(parts, c.line, c.pos, c.xy)),
                                  _as_set(*_interior(parts, *ref)))
    # and the street graph is exactly the one the pairwise intersection gives
    fast = StreetGraph.from_roads(lines)
    from zlgis.analysis import graph_build

    monkeypatch.setattr(graph_build, "cached_crossings", _reference_crossings)
    slow = StreetGraph.from_roads(lines)
    assert fast.n_nodes == slow.n_nodes > 3000 and fast.n_edges == slow.n_edges
    np.testing.assert_array_equal(fast.nodes[["x", "y"]].to_numpy(),
                                  slow.nodes[["x", "y"]].to_numpy())
    np.testing.assert_array_equal(fast.edges[["u", "v", "length"]].to_numpy(),
                                  slow.edges[["u", "v", "length"]].to_numpy())


def test_subset_equals_crossings_of_the_subset():
    parts = _city(7)
    ok = np.ones(len(parts), bool)
    keep = np.random.default_rng(0).random(len(parts)) < 0.6
    sub = noding.crossings(parts, ok).subset(keep)
    direct = noding.crossings(parts[keep], ok[keep])
    np.testing.assert_array_equal(_as_set(sub.line, sub.pos, sub.xy),
                                  _as_set(direct.line, direct.pos, direct.xy))


def test_cache_on_disk_keyed_by_content(tmp_path, monkeypatch):
    monkeypatch.setenv("ZLGIS_CACHE_DIR", str(tmp_path))
    parts = _city(1)
    ok = np.ones(len(parts), bool)
    noding._MEMO.clear()
    first = noding.cached_crossings(parts, ok)
    files = list((tmp_path / "noding").glob("*.npz"))
    assert len(files) == 1
    noding._MEMO.clear()
    again = noding.cached_crossings(parts, ok)          # read back from the file
    np.testing.assert_array_equal(again.xy, first.xy)
    np.testing.assert_array_equal(again.line, first.line)
    moved = parts.copy()
    moved[0] = shapely.affinity.translate(moved[0], 0, 1)
    noding.cached_crossings(moved, ok)                   # other content: another file
    assert len(list((tmp_path / "noding").glob("*.npz"))) == 2
    good = files[0].read_bytes()
    flipped = bytearray(good)
    flipped[len(good) // 2] ^= 0xFF
    # a damaged file (not an archive, cut short, a byte changed: CRC) is recomputed
    for damaged in (b"not a numpy file", good[:len(good) // 2], bytes(flipped)):
        files[0].write_bytes(damaged)
        noding._MEMO.clear()
        fixed = noding.cached_crossings(parts, ok)
        np.testing.assert_array_equal(fixed.pos, first.pos)
        np.testing.assert_array_equal(fixed.xy, first.xy)


def test_walking_and_driving_graphs_equal_graphs_of_their_own_roads(demo_city):
    from zlgis.catalog import Catalog
    from zlgis.validate import load_layers

    roads = load_layers(Catalog.load(demo_city / "catalog.yaml"), ["roads"])["roads"]
    roads = roads.copy()
    # the demo city has no expressway: make every 7th main road one (walkers may not use it)
    main = np.flatnonzero(roads["road_class"].to_numpy() == "主干路")[::7]
    roads.iloc[main, roads.columns.get_loc("road_class")] = "快速路"
    assert (roads["road_class"] == "人行道").any()
    for walk, drop in ((True, "快速路"), (False, "人行道")):
        shared = StreetGraph.from_roads(roads, walk=walk)
        # the same graph from only this mode's roads (no expressway / footway rows at all)
        alone = StreetGraph.from_roads(roads[roads["road_class"] != drop], walk=walk)
        assert shared.n_edges == alone.n_edges and shared.n_nodes == alone.n_nodes
        np.testing.assert_array_equal(shared.nodes[["x", "y"]].to_numpy(),
                                      alone.nodes[["x", "y"]].to_numpy())
        np.testing.assert_array_equal(shared.edges["length"].to_numpy(),
                                      alone.edges["length"].to_numpy())
        assert (shared.edges["road_id"].to_numpy() == alone.edges["road_id"].to_numpy()).all()
        assert not shared.edges["road_class"].isin([drop]).any()


def _nodes_over_every_point(jxy, tolerance):
    """The former clustering: query_pairs and connected components over every junction."""
    import scipy.sparse as sp
    from scipy.sparse.csgraph import connected_components
    from scipy.spatial import cKDTree

    pairs = cKDTree(jxy).query_pairs(tolerance, output_type="ndarray")
    adj = sp.coo_matrix((np.ones(len(pairs)), (pairs[:, 0], pairs[:, 1])),
                        shape=(len(jxy), len(jxy)))
    return connected_components(adj, directed=False)[1]


def test_junction_clusters_over_distinct_points_equal_clusters_over_every_point():
    from zlgis.analysis.graph_build import _nodes

    rng = np.random.default_rng(3)
    base = np.round(rng.uniform(0, 400, (3000, 2)), 1)
    near = base[rng.integers(0, len(base), 1500)] + rng.uniform(-0.4, 0.4, (1500, 2))
    jxy = np.r_[base, base[rng.integers(0, len(base), 4000)], near,
                base[:200] + [0.5, 0.0]]  # exactly at the tolerance
    jxy = jxy[rng.permutation(len(jxy))]
    lab, nx_, ny_ = _nodes(jxy, 0.5)
    want = _nodes_over_every_point(jxy, 0.5)
    assert lab.dtype == want.dtype and np.array_equal(lab, want)
    assert want.max() + 1 < len(np.unique(jxy, axis=0))  # clusters did join distinct points
    cnt = np.bincount(want)
    assert np.array_equal(nx_, np.bincount(want, weights=jxy[:, 0]) / cnt)
    assert np.array_equal(ny_, np.bincount(want, weights=jxy[:, 1]) / cnt)
