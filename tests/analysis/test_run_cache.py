"""The per-run cache (zlgis/analysis/run_cache.py): one street graph per mode, snapped once."""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from zlgis.analysis import coverage, run_cache, trucks
from zlgis.analysis.snapping import snap_points
from zlgis.analysis.street_graph import StreetGraph
from zlgis.validate import load_layers


def _lines():
    lines = [shapely.LineString([(0, y), (500, y)]) for y in range(0, 500, 100)]
    lines += [shapely.LineString([(x, -10), (x, 410)]) for x in range(0, 500, 100)]
    return gpd.GeoDataFrame({"road_class": ["支路"] * len(lines)}, geometry=lines,
                            crs="EPSG:4550")


def test_one_graph_per_mode_and_content():
    roads = _lines()
    with run_cache.run_cache() as cache:
        walk = StreetGraph.from_roads(roads)
        assert StreetGraph.from_roads(roads.copy()) is walk       # same content, same graph
        drive = StreetGraph.from_roads(roads, walk=False)
        assert drive is not walk
        assert StreetGraph.from_roads(roads, walk=False) is drive  # the latest graph is kept
        moved = roads.copy()
        moved.geometry = moved.geometry.translate(0, 1)
        assert StreetGraph.from_roads(moved) is not walk           # other content, new graph
        assert cache.hits == 2
        # one graph at a time: the walking graph was let go when the driving one was built
        assert StreetGraph.from_roads(roads) is not walk
    assert StreetGraph.from_roads(roads) is not walk               # outside a run: no sharing


def test_snapping_once_per_graph_same_answer():
    g = StreetGraph.from_roads(_lines())
    rng = np.random.default_rng(3)
    pts = gpd.GeoSeries(shapely.points(rng.uniform(0, 500, (2000, 2))), crs="EPSG:4550")
    first = snap_points(g, pts)
    first["edge"] = -5                                             # a caller edits its frame
    again = snap_points(g, pts.set_axis(np.arange(2000) + 7))      # remembered, new index
    fresh = snap_points(StreetGraph.from_roads(_lines()), pts)     # a new graph snaps anew
    assert (again.index == np.arange(2000) + 7).all()
    pd.testing.assert_frame_equal(again.reset_index(drop=True), fresh.reset_index(drop=True))
    assert len(g.__dict__["_snap_memo"]) == 1
    cells = g.__dict__["_snap_cells"]
    g.forget_snapped()                                             # the sets, not the grids
    assert "_snap_memo" not in g.__dict__ and g.__dict__["_snap_cells"] is cells
    pd.testing.assert_frame_equal(snap_points(g, pts), fresh)
    g.csr  # noqa: B018 - built
    g.forget_snapped(indexes=True)                                 # the grids and CSR too
    assert not {"_snap_memo", "_snap_cells", "_segments", "csr"} & set(g.__dict__)
    pd.testing.assert_frame_equal(snap_points(g, pts), fresh)      # made again: the same


def test_shared_graphs_give_the_findings_of_separate_checks(demo_catalog):
    # coverage (walking + driving graphs) and trucks (driving graph) in one run cache, as the
    # weekly run does, against each check on its own: identical findings
    ids = dict.fromkeys([*coverage.LAYERS, *trucks.LAYERS])   # checks get what they read
    layers = load_layers(demo_catalog, [lid for lid in ids if lid in demo_catalog.layers])
    alone = [coverage.run_check(demo_catalog, layers),
             trucks.run_check(demo_catalog, layers, salt="run-cache-test-Salt#2022")]
    with run_cache.run_cache() as cache:
        shared = [coverage.run_check(demo_catalog, layers),
                  trucks.run_check(demo_catalog, layers, salt="run-cache-test-Salt#2022")]
        # trucks reuse the driving graph of the transfer stations (1); parks and transfer
        # stations the residential buildings made for the toilets (2)
        assert cache.hits == 3
    for a, b in zip(alone, shared):
        assert len(a) > 0
        pd.testing.assert_frame_equal(a.reset_index(drop=True), b.reset_index(drop=True))


def test_weekly_checks_share_one_cache(demo_catalog):
    """Checks run in one process share the run's cache; in worker processes each check still
    runs inside a cache (its worker's)."""
    import datetime as dt
    import os

    from zlgis.findings import FINDING_COLUMNS
    from zlgis.weekly import run_checks

    seen = []

    def check(catalog, layers, *, as_of=None):
        seen.append(run_cache.active_cache())
        out = gpd.GeoDataFrame(columns=FINDING_COLUMNS, geometry=[], crs="EPSG:4550")
        out.attrs["timings"] = {f"cached:{os.getpid()}": float(seen[-1] is not None)}
        return out

    run_checks(demo_catalog, {}, as_of=dt.date(2022, 9, 4), checks={"one": check, "two": check},
               jobs=1)
    assert len(seen) == 2 and seen[0] is not None and seen[0] is seen[1]
    assert run_cache.active_cache() is None  # closed after the run
    timings: dict[str, float] = {}
    run_checks(demo_catalog, {}, as_of=dt.date(2022, 9, 4), checks={"one": check, "two": check},
               jobs=2, timings=timings)
    cached = {k: v for k, v in timings.items() if k.startswith("cached:")}
    assert len(seen) == 2  # ran in the workers
    assert cached and f"cached:{os.getpid()}" not in cached and set(cached.values()) == {1.0}


def test_shared_tree_once_per_array_and_same_answers():
    geoms = shapely.buffer(shapely.points(np.arange(50.0) * 10, np.arange(50.0) % 7), 3)
    probe = shapely.points([[15, 2], [200, 4], [480, 1]])
    alone = shapely.STRtree(geoms)
    with run_cache.run_cache():
        a = run_cache.shared_tree(geoms)
        assert run_cache.shared_tree(geoms) is a  # the same array: the same tree
        other = geoms.copy()  # equal geometries, another array: its own tree
        assert run_cache.shared_tree(other) is not a
        assert np.array_equal(a.query(probe, predicate="dwithin", distance=6),
                              alone.query(probe, predicate="dwithin", distance=6))
        assert np.array_equal(a.query_nearest(probe), alone.query_nearest(probe))
    assert run_cache.shared_tree(geoms) is not run_cache.shared_tree(geoms)  # no run: built


def test_frame_key_tells_apart_the_parts_of_a_geometry():
    # the same coordinates split into parts differently are other roads
    one = shapely.MultiLineString([[(0, 0), (1, 0), (2, 0)], [(5, 5), (6, 5)]])
    two = shapely.MultiLineString([[(0, 0), (1, 0)], [(2, 0), (5, 5), (6, 5)]])
    a, b = (gpd.GeoDataFrame(geometry=[g], crs="EPSG:4550") for g in (one, two))
    assert run_cache.frame_key(a, ()) != run_cache.frame_key(b, ())
    assert run_cache.frame_key(a, ()) == run_cache.frame_key(a.copy(), ())


def _record_builds(monkeypatch, log):
    """Record (process, mode, roads' content) of every street graph built, in the file ``log``
    (the workers of a run are forked with the patch)."""
    import os

    make = StreetGraph._from_roads.__func__

    def recorded(cls, roads, **kw):
        with open(log, "a") as fh:
            fh.write(f"{os.getpid()} {kw['walk']} {run_cache.frame_key(roads, ())}\n")
        return make(cls, roads, **kw)

    monkeypatch.setattr(StreetGraph, "_from_roads", classmethod(recorded))
    return lambda: [tuple(line.split()) for line in log.read_text().splitlines()]


def test_each_check_declares_the_graphs_it_builds(demo_catalog, tmp_path, monkeypatch):
    """``graphs:`` of a rule file is what the weekly run builds for the check before its workers
    fork: each check builds exactly its declared graphs of the roads layer."""
    import datetime as dt

    from zlgis.analysis import get_check
    from zlgis.rules import checks
    from zlgis.weekly import load_inputs

    layers, _ = load_inputs(demo_catalog)
    roads = run_cache.frame_key(layers["roads"], ())
    built = _record_builds(monkeypatch, tmp_path / "built.txt")
    monkeypatch.setenv("ZLGIS_PLATE_SALT", "run-cache-test-Salt#2022")
    declared = {c.name: set(c.graphs) for c in checks(weekly_only=True)}
    assert declared["coverage"] == declared["sanitation"] == {"walk", "drive"}
    for name in declared:
        start = len(built()) if (tmp_path / "built.txt").exists() else 0
        with run_cache.run_cache():
            get_check(name)(demo_catalog, layers, as_of=dt.date(2022, 9, 4))
        new = built()[start:] if (tmp_path / "built.txt").exists() else []
        modes = {"walk" if w == "True" else "drive" for _, w, key in new if key == roads}
        assert modes == declared[name], name


def test_workers_share_the_graphs_built_before_they_fork(demo_catalog, tmp_path, monkeypatch):
    """With workers, the declared graphs are built once, in the run's process; no worker builds
    a graph of the roads layer (each built its own: six on the 1M-building city)."""
    import datetime as dt
    import os

    from zlgis.weekly import load_inputs, run_checks

    layers, _ = load_inputs(demo_catalog)
    roads = run_cache.frame_key(layers["roads"], ())
    built = _record_builds(monkeypatch, tmp_path / "built.txt")
    found, ran = run_checks(demo_catalog, layers, as_of=dt.date(2022, 9, 4), jobs=2,
                            checks=["coverage", "sanitation", "compounds", "heating"])
    assert ran == ["coverage", "sanitation", "compounds", "heating"] and len(found)
    mine = [(pid, walk) for pid, walk, key in built() if key == roads]
    assert sorted(mine) == [(str(os.getpid()), "False"), (str(os.getpid()), "True")]
