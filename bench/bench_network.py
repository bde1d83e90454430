"""Benchmark: nearest facility for 1M points on a 200k-node street network, end to end.

Graph: a jittered street lattice of about 200,000 nodes (long row and column lines, noded where
they cross), a river cutting it with a bridge every 40th row. Facilities: 400 toilets; demand:
1,000,000 points scattered over the city. The time is the whole job a user waits for: build the
street graph from the road lines, snap demand and facilities to their nearest edge, one
multi-source shortest-path pass, per-demand distances.

zlgis: ``StreetGraph.from_roads`` (segment noding with numpy, with an empty noding cache: the
first run on a road layer) + ``snap_point_sets`` (demand and facilities snapped in one grid pass,
numpy) + ``nearest_facility`` (``scipy.sparse.csgraph.dijkstra(min_only=True)`` with virtual
facility nodes, numpy per demand point).
Baseline, the exact pipeline a competent shapely/scipy user writes: the same graph noded with a
pairwise ``shapely.intersection`` of every pair of crossing lines + ``line_locate_point`` (the
previous zlgis noding), snapping with ``STRtree.query_nearest`` on the edges +
``line_locate_point``, then the same scipy pass. Both must give identical distances (1e-9
relative, 1e-6 m) for every demand point. ``ratio`` = baseline / zlgis wall time, ``ratio_cpu``
the same for process CPU time (the fair figure on a shared machine); every stage is reported in
wall and CPU seconds.
"""

from __future__ import annotations

import contextlib
import os
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from zlgis.analysis import graph_build, noding  # noqa: E402
from zlgis.analysis.network import StreetGraph, nearest_facility  # noqa: E402
from zlgis.analysis.snapping import snap_point_sets  # noqa: E402

CRS = "EPSG:4550"


def lattice_roads(n_nodes: int, seed: int = 2022) -> gpd.GeoDataFrame:
    """Row and column streets whose crossings give about ``n_nodes`` nodes; a river with bridges.

    The river runs north-south through the middle; rows cross it only every 40th row (bridges).
    """
    rng = np.random.default_rng(seed)
    n = int(np.sqrt(n_nodes))
    step = 110.0
    x0, y0 = 440_000.0, 5_280_000.0
    xs = x0 + np.arange(n) * step + rng.uniform(-25, 25, n)
    ys = y0 + np.arange(n) * step + rng.uniform(-25, 25, n)
    xmin, xmax, ymin, ymax = xs[0] - 40, xs[-1] + 40, ys[0] - 40, ys[-1] + 40
    mid = n // 2
    rx0, rx1 = xs[mid] + 20, xs[mid + 1] - 20  # the river between two columns
    geoms, bridge = [], []
    for j, y in enumerate(ys):
        wob = rng.uniform(-8, 8)
        if j % 40 == 0:
            geoms.append(shapely.LineString([(xmin, y), (xmax, y + wob)]))
            bridge.append(False)
        else:
            geoms.append(shapely.LineString([(xmin, y), (rx0, y + wob / 2)]))
            geoms.append(shapely.LineString([(rx1, y + wob / 2), (xmax, y + wob)]))
            bridge += [False, False]
    for x in xs:
        geoms.append(shapely.LineString([(x, ymin), (x + rng.uniform(-8, 8), ymax)]))
        bridge.append(False)
    return gpd.GeoDataFrame({"road_id": [f"R{i}" for i in range(len(geoms))],
                             "road_class": "支路", "bridge": bridge}, geometry=geoms, crs=CRS)


def _pairwise_noding(parts: np.ndarray, crossable: np.ndarray) -> noding.Crossings:
    """Crossings by ``shapely.intersection`` of every pair of intersecting lines."""
    idx = np.flatnonzero(crossable)
    i, j = shapely.STRtree(parts[idx]).query(parts[idx], predicate="intersects")
    keep = i < j
    i, j = idx[i[keep]], idx[j[keep]]
    xy, k = shapely.get_coordinates(shapely.intersection(parts[i], parts[j]), return_index=True)
    li, lj = np.r_[i[k], j[k]], np.r_[j[k], i[k]]
    pxy = np.r_[xy, xy]
    pos = shapely.line_locate_point(parts[li], shapely.points(pxy))
    return noding.Crossings(li.astype(np.int64), lj.astype(np.int64), pos, pxy)


def _strtree_snap(g: StreetGraph, pts: gpd.GeoSeries) -> pd.DataFrame:
    """Nearest edge by ``STRtree.query_nearest``, position along it by ``line_locate_point``."""
    arr = np.asarray(pts.values)
    edges = np.asarray(g.edges.geometry.values)
    (pi, ei), dist = shapely.STRtree(edges).query_nearest(arr, return_distance=True,
                                                         all_matches=False)
    n = len(arr)
    e = np.full(n, -1, np.int64)
    acc = np.full(n, np.inf)
    e[pi], acc[pi] = ei, dist
    off = np.full(n, np.nan)
    off[pi] = shapely.line_locate_point(edges[ei], arr[pi])
    L = g.edges["length"].to_numpy()[e]
    return pd.DataFrame({"edge": e, "u": g.edges["u"].to_numpy()[e],
                         "v": g.edges["v"].to_numpy()[e], "offset": np.minimum(off, L),
                         "access": acc, "edge_length": L}, index=pts.index)


class _Clock:
    """Wall and CPU (process) time of consecutive stages."""

    def __init__(self) -> None:
        self.t0 = self.t = time.perf_counter()
        self.c0 = self.c = time.process_time()
        self.wall: dict[str, float] = {}
        self.cpu: dict[str, float] = {}

    def lap(self, stage: str) -> None:
        t, c = time.perf_counter(), time.process_time()
        self.wall[stage], self.cpu[stage] = t - self.t, c - self.c
        self.t, self.c = t, c

    def figures(self) -> dict[str, Any]:
        return {"total": self.t - self.t0, "cpu": self.c - self.c0, "stages": self.wall,
                "stages_cpu": self.cpu}


@contextlib.contextmanager
def _empty_cache() -> Any:
    with tempfile.TemporaryDirectory() as tmp:
        old = os.environ.get("ZLGIS_CACHE_DIR")
        os.environ["ZLGIS_CACHE_DIR"] = tmp
        noding._MEMO.clear()
        try:
            yield
        finally:
            noding._MEMO.clear()
            if old is None:
                os.environ.pop("ZLGIS_CACHE_DIR", None)
            else:
                os.environ["ZLGIS_CACHE_DIR"] = old


def _zlgis(roads, dem, fac) -> tuple[dict[str, float], np.ndarray]:
    with _empty_cache():
        clock = _Clock()
        g = StreetGraph.from_roads(roads)
        clock.lap("build")
        ds, fs = snap_point_sets(g, [dem, fac])
        clock.lap("snap")
        r = nearest_facility(g, ds, fs)
        clock.lap("distances")
    return clock.figures(), r["distance_network"].to_numpy()


def _baseline(roads, dem, fac) -> tuple[dict[str, float], np.ndarray]:
    old = graph_build.cached_crossings
    graph_build.cached_crossings = _pairwise_noding
    try:
        clock = _Clock()
        g = StreetGraph.from_roads(roads)
    finally:
        graph_build.cached_crossings = old
    clock.lap("build")
    ds, fs = _strtree_snap(g, dem), _strtree_snap(g, fac)
    clock.lap("snap")
    r = nearest_facility(g, ds, fs)
    clock.lap("distances")
    return clock.figures(), r["distance_network"].to_numpy()


def _rounded(d: dict[str, float]) -> dict[str, float]:
    return {k: round(v, 3) for k, v in d.items()}


def main(quick: bool = False) -> dict[str, Any]:
    n_nodes = 20_000 if quick else 200_000
    n_demand = 100_000 if quick else 1_000_000
    n_fac = 100 if quick else 400
    rounds = 1 if quick else 2
    load0 = os.getloadavg()[0]
    rng = np.random.default_rng(5)
    roads = lattice_roads(n_nodes)
    xmin, ymin, xmax, ymax = roads.total_bounds
    dem = gpd.GeoSeries(shapely.points(rng.uniform(xmin, xmax, n_demand),
                                       rng.uniform(ymin, ymax, n_demand)), crs=CRS)
    fac = gpd.GeoSeries(shapely.points(rng.uniform(xmin, xmax, n_fac),
                                       rng.uniform(ymin, ymax, n_fac)), crs=CRS)
    z_runs, b_runs = [], []
    for _ in range(rounds):  # alternating: both sides see the same load
        z, d_z = _zlgis(roads, dem, fac)
        b, d_b = _baseline(roads, dem, fac)
        z_runs.append(z)
        b_runs.append(b)
    fz, fb = np.isfinite(d_z), np.isfinite(d_b)
    same = bool(np.array_equal(fz, fb) and np.allclose(d_z[fz], d_b[fb], rtol=1e-9, atol=1e-6))
    if not same:
        raise AssertionError("zlgis and the baseline give different distances")
    z = min(z_runs, key=lambda r: r["total"])
    b = min(b_runs, key=lambda r: r["total"])
    n = StreetGraph.from_roads(roads)
    return {
        "ratio": round(b["total"] / z["total"], 2),
        "ratio_cpu": round(b["cpu"] / z["cpu"], 2),
        "zlgis_end_to_end_s": round(z["total"], 2), "zlgis_cpu_s": round(z["cpu"], 2),
        "zlgis_stages_s": _rounded(z["stages"]), "zlgis_stages_cpu_s": _rounded(z["stages_cpu"]),
        "baseline_end_to_end_s": round(b["total"], 2), "baseline_cpu_s": round(b["cpu"], 2),
        "baseline_stages_s": _rounded(b["stages"]),
        "baseline_stages_cpu_s": _rounded(b["stages_cpu"]),
        "nodes": int(n.n_nodes), "edges": int(n.n_edges), "demand_points": n_demand,
        "facilities": n_fac, "identical_distances": same,
        "max_abs_diff_m": float(np.max(np.abs(d_z[fz] - d_b[fb]))) if fz.any() else 0.0,
        "reachable_share": round(float(fz.mean()), 4), "load": os.getloadavg()[0],
        "load_at_start": load0,
    }


if __name__ == "__main__":
    import json

    print(json.dumps(main(quick="--quick" in sys.argv), ensure_ascii=False))
