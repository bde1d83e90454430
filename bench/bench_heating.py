"""Benchmark: heat-station supply areas and capacity for the 1M-building demo city (issue 17).

City: the 1M-building demo city of ``bench/_common.big_demo_city`` (``$ZLGIS_BENCH_1M`` when
set, else generated once into ``bench/_work``); ``--quick`` uses a 25,000-building city in a temporary folder. Loading the
three layers (buildings, roads, heat stations) is timed and reported separately.

zlgis: the heated buildings (footprint x floors), every building's station by network distance
(:func:`zlgis.analysis.heating.supply_areas`: snapping plus one compiled multi-source pass) and
the station loads against capacity (:func:`station_loads`), timed against the baseline on the
same street graph (``ratio``). Building the graph from the roads (:meth:`StreetGraph.from_roads`,
shared with every other network check of a run) is timed too and reported as ``graph_s`` and in
``zlgis_with_graph_s``.
Baseline: :func:`zlgis.analysis.heating.supply_areas_networkx` on the *same* street graph
(networkx graph built from the graph's edges, ``networkx.multi_source_dijkstra`` from the
stations' virtual nodes, each building taking the better end of its street) and the same
``station_loads``. Both must give the same station for every building (a building exactly
half-way between two stations may go either way: counted and reported as ``ties``) and the
same distances (1e-6 m).

A city generated before issue 17 has no station capacities; then the capacities are set in
this process to 1.2 x each station's load (said in the output as ``capacity``).
"""

from __future__ import annotations

import sys
import time
from pathlib import Path
from typing import Any

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from zlgis.analysis.heating import (  # noqa: E402
    heated_buildings,
    station_loads,
    supply_areas,
    supply_areas_networkx,
)
from zlgis.analysis.network import StreetGraph  # noqa: E402


def _city(quick: bool) -> Path:
    from _common import big_demo_city  # type: ignore[import-not-found]

    return big_demo_city(25_000 if quick else 1_000_000)


def main(quick: bool = False) -> dict[str, Any]:
    from zlgis.catalog import Catalog
    from zlgis.validate import load_layers

    city = _city(quick)
    cat = Catalog.load(city / "catalog.yaml")
    t0 = time.perf_counter()
    L = load_layers(cat, ["buildings", "roads", "heat_stations"])
    load_s = time.perf_counter() - t0
    st = L["heat_stations"]
    capacity = "layer"
    if "capacity_m2" not in st or st["capacity_m2"].isna().any():
        capacity = "1.2 x load (set in the benchmark: city generated before issue 17)"

    def zlgis_path() -> tuple[Any, Any, dict[str, float]]:
        t = {}
        a = time.perf_counter()
        g = StreetGraph.from_roads(L["roads"])
        t["graph_s"] = time.perf_counter() - a
        a, c = time.perf_counter(), time.process_time()
        hb = heated_buildings(L["buildings"])
        sup = supply_areas(hb, st, graph=g)
        t["supply_s"] = time.perf_counter() - a
        a = time.perf_counter()
        if capacity != "layer":
            load = sup.groupby("station_id")["heated_m2"].sum()
            st["capacity_m2"] = st["station_id"].map(load).fillna(1.0).to_numpy() * 1.2
        loads = station_loads(st, sup)
        t["loads_s"] = time.perf_counter() - a
        t["areas_cpu_s"] = time.process_time() - c
        return g, (hb, sup, loads), t

    # warm-up (numba compile or cache load) on a small slice, outside the timing
    g0 = StreetGraph.from_roads(L["roads"].iloc[:2000])
    supply_areas(heated_buildings(L["buildings"].iloc[:200]), st.iloc[:5], graph=g0)
    t0 = time.perf_counter()
    g, (hb, sup, loads), parts = zlgis_path()
    ours_s = time.perf_counter() - t0
    t0, c0 = time.perf_counter(), time.process_time()
    ref = supply_areas_networkx(hb, st, graph=g)
    ref_loads = station_loads(st, ref)
    base_s = time.perf_counter() - t0
    base_cpu_s = time.process_time() - c0
    same_dist = np.allclose(sup["distance_m"].to_numpy(), ref["distance_m"].to_numpy(),
                            rtol=0, atol=1e-6, equal_nan=True)
    differ = (sup["station_id"].fillna("") != ref["station_id"].fillna("")).to_numpy()
    ties = int(differ.sum())
    loads_equal = bool(np.allclose(loads["load_m2"], ref_loads["load_m2"], atol=0.01)) if not ties \
        else None
    ours_areas_s = parts["supply_s"] + parts["loads_s"]
    return {
        "ratio": round(base_s / ours_areas_s, 2),
        "zlgis_s": round(ours_areas_s, 2), "networkx_s": round(base_s, 2),
        "zlgis_cpu_s": round(parts.pop("areas_cpu_s"), 2), "networkx_cpu_s": round(base_cpu_s, 2),
        "zlgis_with_graph_s": round(ours_s, 2),
        "zlgis_parts_s": {k: round(v, 2) for k, v in parts.items()},
        "load_layers_s": round(load_s, 1),
        "buildings": int(len(L["buildings"])), "heated_buildings": int(len(hb)),
        "stations": int(len(st)), "graph_nodes": int(g.n_nodes), "graph_edges": int(g.n_edges),
        "same_distances": bool(same_dist), "station_differs": ties,
        "same_loads": loads_equal, "overloaded": int(loads["overloaded"].sum()),
        "capacity": capacity, "city": str(city),
    }


if __name__ == "__main__":
    import json

    print(json.dumps(main(quick="--quick" in sys.argv), ensure_ascii=False))
