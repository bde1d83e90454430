"""Benchmark: map matching sweeper GPS tracks to street edges (issue 15).

zlgis: :func:`zlgis.analysis.mapmatch.match` — street graph (``StreetGraph.from_roads``), edge
index (uniform grid of vertex pairs), candidates within the radius, Viterbi per run, then the
swept stretches (:func:`swept_intervals`) and their union per edge. Timed end to end from the
road layer and the fix arrays.

Baseline: ``geopandas.sjoin_nearest`` of the same points against the same graph edges with
``max_distance`` = the match radius (a nearest-edge join; the HMM does more work per point).

Same answer: the matcher's first candidate (its nearest edge) must be the edge sjoin_nearest
returns for every point whose nearest and second-nearest edges differ by more than 1 mm (ties
may go either way), and the points without an edge within the radius must be the same. The
fraction of fixes the HMM puts on the street the vehicle really drove is reported next to the
nearest-edge fraction.

Tracks: vehicles drive whole streets of the demo city's lattice (main and secondary roads) at
8 km/h, a fix every 5 s, GPS noise 5-15 m.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import shapely

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from zlgis.analysis.mapmatch import EdgeIndex, _candidates, match, swept_intervals, union_length
from zlgis.analysis.network import StreetGraph
from zlgis.demo._common import make_frame, rng_for
from zlgis.demo.roads import build_lattice, road_layers


def _roads(n_buildings: int = 25_000) -> gpd.GeoDataFrame:
    frame = make_frame(2022, n_buildings)
    roads, _ = road_layers(build_lattice(frame, rng_for(2022, 1)))
    return roads


def _tracks(roads: gpd.GeoDataFrame, n_points: int, seed: int = 11
            ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Fixes of vehicles each driving one whole street; returns x, y, t, vehicle, true name."""
    rng = np.random.default_rng(seed)
    main = roads[roads["road_class"].isin(["主干路", "次干路"]) & ~roads["bridge"]]
    streets = main.dissolve("name").geometry.line_merge()
    streets = streets[streets.geom_type == "LineString"]
    lines = np.asarray(streets.values)
    names = streets.index.to_numpy()
    lengths = shapely.length(lines)
    step = 8 / 3.6 * 5
    per = np.floor(lengths / step).astype(np.int64) + 1
    n_drives = int(np.ceil(n_points / per.mean())) + 1
    pick = rng.integers(0, len(lines), n_drives)
    counts = per[pick]
    total = counts.cumsum()
    keep = total <= n_points
    pick, counts = pick[keep], counts[keep]
    drive = np.repeat(np.arange(len(pick)), counts)
    first = np.r_[0, counts.cumsum()[:-1]]
    k = np.arange(counts.sum()) - np.repeat(first, counts)
    s = k * step
    pts = shapely.line_interpolate_point(lines[pick][drive], s)
    xy = shapely.get_coordinates(pts)
    noise = rng.uniform(5, 15, len(pick))[drive]
    x = xy[:, 0] + rng.normal(0, 1, len(xy)) * noise
    y = xy[:, 1] + rng.normal(0, 1, len(xy)) * noise
    t = 1_661_716_800 + drive * 100_000 + k * 5
    return x, y, t.astype(np.int64), drive.astype(np.int64), names[pick][drive]


def main(quick: bool = False) -> dict[str, Any]:
    n = 200_000 if quick else 10_000_000
    roads = _roads()
    x, y, t, veh, true_name = _tracks(roads, n)
    n = len(x)
    # warm-up: compile the kernels outside the timing
    g0 = StreetGraph.from_roads(roads.iloc[:200], walk=False)
    i0 = EdgeIndex.from_graph(g0)
    iv0 = swept_intervals(i0, match(i0, x[:100], y[:100], t[:100], veh[:100]))
    union_length(iv0["edge"].to_numpy(), iv0["lo"].to_numpy(), iv0["hi"].to_numpy())

    t0 = time.perf_counter()
    graph = StreetGraph.from_roads(roads, walk=False)
    index = EdgeIndex.from_graph(graph)
    m = match(index, x, y, t, veh)
    iv = swept_intervals(index, m)
    union_length(iv["edge"].to_numpy(), iv["lo"].to_numpy(), iv["hi"].to_numpy())
    t_zl = time.perf_counter() - t0

    pts = gpd.GeoDataFrame(geometry=gpd.points_from_xy(x, y), crs=roads.crs)
    edges = graph.edges[["geometry"]].copy()
    t0 = time.perf_counter()
    joined = gpd.sjoin_nearest(pts, edges, how="left", max_distance=index.radius,
                               distance_col="dist")
    t_base = time.perf_counter() - t0

    joined = joined[~joined.index.duplicated(keep="first")]
    base_edge = joined["index_right"].fillna(-1).to_numpy(np.int64)
    # ties: compare only where the two nearest edges are more than 1 mm apart
    cands = _candidates(
        x, y, index.ax, index.ay, index.bx, index.by, index.piece_edge, index.piece_off,
        index.x0, index.y0, index.cell, index.nx, index.ny, index.cell_start, index.cell_items,
        index.radius, 2)
    with np.errstate(invalid="ignore"):
        clear = ~(np.abs(cands[1][:, 1] - cands[1][:, 0]) <= 1e-3)
    same = bool((m.nearest[clear] == base_edge[clear]).all()
                and ((m.nearest < 0) == (base_edge < 0)).all())
    names = graph.edges["name"].to_numpy()
    ok = m.edge >= 0
    hmm_right = float((names[m.edge[ok]] == true_name[ok]).mean())
    near_ok = m.nearest >= 0
    near_right = float((names[m.nearest[near_ok]] == true_name[near_ok]).mean())
    return {
        "speedup_vs_sjoin_nearest": round(t_base / t_zl, 2),
        "points": n,
        "zlgis_s": round(t_zl, 2),
        "zlgis_points_per_s": int(n / t_zl),
        "sjoin_nearest_s": round(t_base, 2),
        "sjoin_points_per_s": int(n / t_base),
        "same_nearest_edges": same,
        "on_true_street_hmm": round(hmm_right, 4),
        "on_true_street_nearest": round(near_right, 4),
        "edges": len(graph.edges),
    }


if __name__ == "__main__":
    import json

    print(json.dumps(main(quick="--quick" in sys.argv), ensure_ascii=False))
