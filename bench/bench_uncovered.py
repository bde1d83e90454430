"""Benchmark: coverage's blind areas (``uncovered_areas``) of a city-wide gap, 1M-building city.

Demand: every building of the 1M-building demo city (``bench/_common.big_demo_city``); uncovered:
the ``GAP_SHARE`` of buildings farthest (straight line) from a public toilet. Two settings
of the weekly coverage check: toilets (clusters through 60 m cells, grown by 30 m) and transfer
stations (300 m cells, grown by 30 m). Both go through the cell path (more than 20,000 points).

zlgis: ``uncovered_areas`` (cells linked with numpy, one coverage union of the bare squares per
cluster, grown once). Baseline, what a competent geopandas user writes for the same clusters: the
same cells (``floor(x / d)``), neighbours by a pandas merge on the shifted cell keys, connected
components with scipy, every cell grown by the buffer (mitred) and ``dissolve`` by cluster (the
previous zlgis polygon step: one ``union_all`` of the grown squares per cluster). Both must give
the same regions (areas to 1e-9, symmetric difference of the unions below 1e-6 m2).
``ratio`` = baseline / zlgis wall time, ``ratio_cpu`` the same for process CPU time.
"""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import scipy.sparse as sp
import shapely
from scipy.sparse.csgraph import connected_components
from scipy.spatial import cKDTree

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from zlgis.analysis.coverage_clusters import uncovered_areas  # noqa: E402

#: share of the buildings, the farthest from a toilet, that count as uncovered
GAP_SHARE = 0.1
SETTINGS = {"toilets": (60.0, 30.0), "transfer": (300.0, 30.0)}


def _inputs(quick: bool) -> tuple[gpd.GeoDataFrame, np.ndarray]:
    """Building footprints and the uncovered mask."""
    if quick:
        rng = np.random.default_rng(3)
        xy = rng.uniform(0, 8000, (60_000, 2)) + [470_000, 5_310_000]
        fac = rng.uniform(0, 8000, (40, 2)) + [470_000, 5_310_000]
        b = gpd.GeoDataFrame(geometry=shapely.buffer(shapely.points(xy), 6, quad_segs=1),
                             crs="EPSG:4550")
    else:
        import pyogrio
        from _common import big_demo_city

        city = big_demo_city()
        b = pyogrio.read_dataframe(city / "buildings.gpkg", columns=[], use_arrow=True)
        t = pyogrio.read_dataframe(city / "toilets.gpkg", columns=[], use_arrow=True).to_crs(b.crs)
        fac = shapely.get_coordinates(shapely.point_on_surface(t.geometry.values))
    rep = shapely.get_coordinates(shapely.point_on_surface(b.geometry.values))
    d = cKDTree(fac).query(rep)[0]
    return b, d > np.quantile(d, 1 - GAP_SHARE)


def _baseline(b: gpd.GeoDataFrame, unc: np.ndarray, cd: float, pb: float) -> gpd.GeoDataFrame:
    rep = b.geometry.values[unc].representative_point()
    cells = pd.DataFrame({"x": np.floor(shapely.get_x(rep) / cd).astype(np.int64),
                          "y": np.floor(shapely.get_y(rep) / cd).astype(np.int64)})
    cells = cells.drop_duplicates(ignore_index=True)
    cells["k"] = np.arange(len(cells))
    links = [cells.merge(cells.assign(x=cells["x"] - dx, y=cells["y"] - dy), on=["x", "y"])
             for dx, dy in ((1, 0), (0, 1), (1, 1), (1, -1))]
    pairs = pd.concat(links)
    n = len(cells)
    adj = sp.coo_matrix((np.ones(len(pairs)), (pairs["k_x"], pairs["k_y"])), shape=(n, n))
    lab = connected_components(adj, directed=False)[1]
    x0, y0 = cells["x"].to_numpy() * cd, cells["y"].to_numpy() * cd
    grown = shapely.buffer(shapely.box(x0, y0, x0 + cd, y0 + cd), min(pb, cd / 2),
                           join_style="mitre")
    return gpd.GeoDataFrame({"label": lab}, geometry=grown, crs=b.crs).dissolve(by="label")


def _timed(fn: Any) -> tuple[float, float, Any]:
    t, c = time.perf_counter(), time.process_time()
    out = fn()
    return time.perf_counter() - t, time.process_time() - c, out


def main(quick: bool = False) -> dict[str, Any]:
    load0 = os.getloadavg()[0]
    b, unc = _inputs(quick)
    out: dict[str, Any] = {"buildings": len(b), "uncovered": int(unc.sum()), "gap_share": GAP_SHARE}
    for name, (cd, pb) in SETTINGS.items():
        wz, cz, z = _timed(lambda: uncovered_areas(b, ~unc, footprints=b.geometry.values,
                                                   cluster_distance=cd, polygon_buffer=pb))
        wb, cb, ref = _timed(lambda: _baseline(b, unc, cd, pb))
        za, ra = np.sort(z.area.to_numpy()), np.sort(ref.area.to_numpy())
        sym = shapely.area(shapely.symmetric_difference(shapely.union_all(z.geometry.values),
                                                        shapely.union_all(ref.geometry.values)))
        same = len(za) == len(ra) and np.allclose(za, ra, rtol=1e-9) and sym < 1e-6
        if not same:
            raise AssertionError(f"{name}: zlgis and the baseline give different regions")
        out[name] = {"cell_m": cd, "grow_m": pb, "clusters": len(z),
                     "zlgis_s": round(wz, 3), "zlgis_cpu_s": round(cz, 3),
                     "baseline_s": round(wb, 3), "baseline_cpu_s": round(cb, 3),
                     "ratio": round(wb / wz, 2), "ratio_cpu": round(cb / cz, 2),
                     "same_regions": bool(same)}
    out |= {"load_at_start": load0, "load": os.getloadavg()[0]}
    return out


if __name__ == "__main__":
    import json

    print(json.dumps(main(quick="--quick" in sys.argv), ensure_ascii=False))
