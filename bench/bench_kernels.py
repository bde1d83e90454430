"""Benchmark: do the hand-written kernels earn their place in the command a user waits for?

For each kernel the whole command runs twice in this process, once as it ships and once with
the kernel swapped for the library path a competent geopandas/numpy user would write, in
alternating rounds; both must write the same findings (compared row by row).

============================ ======================================= ===========================
kernel                       command                                 library path
============================ ======================================= ===========================
numpy WKB decoding + convex  ``zlgis check controllines``            GEOS ``shapely.from_wkb`` of
proofs (``zlgis.io.wkb``)    (loads buildings and line layers)       the Arrow WKB, full
                                                                     validation
compiled multi-source search ``zlgis coverage toilets``              ``scipy.sparse.csgraph
(``shortest_paths``)         (network method)                        .dijkstra(min_only=True)``
Priority-Flood (``fill``)    ``zlgis waterlogging``                  ``skimage.morphology
                                                                     .reconstruction``
truck ping grid              ``zlgis check trucks``                  bounding-box filter +
(``trucks_overlay``)                                                 ``shapely.intersects_xy``
                                                                     per zone; STRtree
                                                                     ``dwithin`` for roads
============================ ======================================= ===========================

``ratio`` of a kernel = best library-path command time / best shipped command time (above 1:
the kernel makes the command faster). The issue's rule: keep a kernel only where the command
is at least 1.5x faster. Runs on the demo city (quick: the same, one round) or on the city
given by ``$ZLGIS_BENCH_CATALOG``; ``$ZLGIS_BENCH_KERNELS`` (comma-separated names) and
``$ZLGIS_BENCH_ROUNDS`` narrow a run on a large city, ``$ZLGIS_BENCH_NO_WARMUP`` skips the
warm-up command.
"""

from __future__ import annotations

import contextlib
import os
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import shapely

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))

os.environ.setdefault("ZLGIS_PLATE_SALT", "bench-kernels-Salt#2022")


# ----------------------------------------------------------------------------- library paths

@contextlib.contextmanager
def _patched(module: Any, name: str, value: Any) -> Iterator[None]:
    old = getattr(module, name)
    setattr(module, name, value)
    try:
        yield
    finally:
        setattr(module, name, old)


@contextlib.contextmanager
def _geos_wkb() -> Iterator[None]:
    """Every row parsed by GEOS and fully validated (no numpy decoding, no convexity proofs)."""
    from zlgis.io import readers, wkb

    def decode_nothing(arr: Any) -> Any:
        n = 0 if arr is None else len(arr)
        return wkb.SimplePolygons(np.full(n, None, dtype=object), np.zeros(n, bool),
                                  np.zeros(n, bool), np.full((n, 4), np.nan))

    with _patched(readers, "decode_simple_polygons", decode_nothing):
        yield


@contextlib.contextmanager
def _scipy_search() -> Iterator[None]:
    """Nearest facility by ``scipy.sparse.csgraph.dijkstra`` on the graph with virtual sources."""
    from zlgis.analysis import shortest_paths

    with _patched(shortest_paths, "HAVE_NUMBA", False):
        yield


def _skimage_fill(elevation: Any, nodata: Any = None, *, memory_budget_mb: Any = None) -> Any:
    """Depression filling by morphological reconstruction (erosion), border and nodata as seed."""
    from skimage.morphology import reconstruction

    z = np.asarray(elevation, dtype=np.float64)
    bad = ~np.isfinite(z)
    if nodata is not None:
        bad |= np.asarray(nodata, bool)
    low = float(np.nanmin(np.where(bad, np.nan, z))) - 1.0 if (~bad).any() else 0.0
    mask = np.pad(np.where(bad, low, z), 1, constant_values=low)
    seed = np.full_like(mask, mask.max())
    outlet = np.pad(bad, 1, constant_values=True)
    seed[outlet] = mask[outlet]
    out = reconstruction(seed, mask, method="erosion", footprint=np.ones((3, 3)))[1:-1, 1:-1]
    out[bad] = np.nan
    return out


@contextlib.contextmanager
def _skimage_flood() -> Iterator[None]:
    from zlgis.analysis import depressions

    with _patched(depressions, "fill_depressions", _skimage_fill):
        yield


def _bbox_intersects_xy(x: Any, y: Any, polygons: Any, **_: Any) -> tuple[Any, Any]:
    """Pings in zones: bounding-box filter, then ``shapely.intersects_xy`` per zone."""
    pis, gis = [], []
    for k, poly in enumerate(polygons):
        if poly is None or shapely.is_empty(poly):
            continue
        x0, y0, x1, y1 = poly.bounds
        cand = np.flatnonzero((x >= x0) & (x <= x1) & (y >= y0) & (y <= y1))
        shapely.prepare(poly)
        hit = cand[shapely.intersects_xy(poly, x[cand], y[cand])]
        pis.append(hit)
        gis.append(np.full(len(hit), k, dtype=np.intp))
    if not pis:
        return np.zeros(0, np.intp), np.zeros(0, np.intp)
    return np.concatenate(pis).astype(np.intp), np.concatenate(gis)


def _strtree_dwithin(x: Any, y: Any, lines: Any, tolerance: float, **_: Any
                     ) -> tuple[Any, Any]:
    """Pings near restricted roads: one STRtree of the segments, ``dwithin`` query."""
    arr = np.empty(len(lines), dtype=object)
    arr[:] = list(lines)
    ok = np.flatnonzero(~(shapely.is_missing(arr) | shapely.is_empty(arr)))
    if not len(ok) or not len(x):
        return np.zeros(0, np.intp), np.zeros(0, np.intp)
    tree = shapely.STRtree(arr[ok])
    pi, li = tree.query(shapely.points(x, y), predicate="dwithin", distance=tolerance)
    return pi.astype(np.intp), ok[li]


@contextlib.contextmanager
def _shapely_overlay() -> Iterator[None]:
    from zlgis.analysis import trucks_overlay, trucks_zones

    with _patched(trucks_zones, "points_in_polygons", _bbox_intersects_xy), \
            _patched(trucks_overlay, "points_near_lines", _strtree_dwithin):
        yield


KERNELS: dict[str, tuple[list[str], Callable[[], Any], str]] = {
    "wkb_decoding": (["check", "controllines"], _geos_wkb, "GEOS from_wkb + full validation"),
    "multi_source_search": (["coverage", "toilets", "--method", "network"], _scipy_search,
                            "scipy.sparse.csgraph.dijkstra"),
    "priority_flood": (["waterlogging"], _skimage_flood, "skimage.morphology.reconstruction"),
    "ping_grid": (["check", "trucks"], _shapely_overlay,
                  "bbox filter + shapely.intersects_xy per zone, STRtree dwithin"),
}


# ----------------------------------------------------------------------------- running

def _findings(out: Path) -> pd.DataFrame:
    """Every findings CSV the command wrote, sorted, as one frame."""
    frames = [pd.read_csv(p, dtype=str, keep_default_na=False)
              for p in sorted(out.rglob("*findings*.csv"))]
    if not frames:
        return pd.DataFrame()
    df = pd.concat(frames, ignore_index=True)
    return df.sort_values(list(df.columns)).reset_index(drop=True)


def _run(catalog: str, args: list[str], library: Callable[[], Any] | None
         ) -> tuple[float, float, pd.DataFrame]:
    from zlgis.cli import main as cli

    with tempfile.TemporaryDirectory(prefix="zlgis-bench-") as tmp:
        ctx = library() if library is not None else contextlib.nullcontext()
        with ctx:
            t0, c0 = time.perf_counter(), time.process_time()
            code = cli([*args, "--catalog", catalog, "--out", tmp, "--quiet"])
            wall, cpu = time.perf_counter() - t0, time.process_time() - c0
        if code not in (0, 1):
            raise RuntimeError(f"{args} exited with {code}")
        return wall, cpu, _findings(Path(tmp))


def main(quick: bool = False) -> dict:
    catalog = os.environ.get("ZLGIS_BENCH_CATALOG")
    if not catalog:
        from zlgis.demo import make_demo_city

        work = HERE / "_work" / "demo-city-2022"
        if not (work / "catalog.yaml").exists():
            make_demo_city(work, seed=2022)
        catalog = str(work / "catalog.yaml")
    rounds = 1 if quick else int(os.environ.get("ZLGIS_BENCH_ROUNDS", "3"))
    only = set(filter(None, os.environ.get("ZLGIS_BENCH_KERNELS", "").split(",")))
    out: dict[str, Any] = {"catalog": catalog, "load": os.getloadavg()[0]}
    for name, (args, library, label) in KERNELS.items():
        if only and name not in only:
            continue
        if not os.environ.get("ZLGIS_BENCH_NO_WARMUP"):
            _run(catalog, args, None)  # warm-up: imports, numba cache, file cache
        ship, lib = [], []
        same = True
        for _ in range(rounds):
            w, c, f_ship = _run(catalog, args, None)
            ship.append((w, c))
            w, c, f_lib = _run(catalog, args, library)
            lib.append((w, c))
            same &= f_ship.equals(f_lib) and len(f_ship) > 0
        if not same:
            raise AssertionError(f"{name}: the library path wrote other findings")
        bw, bc = min(s[0] for s in ship), min(s[1] for s in ship)
        lw, lc = min(s[0] for s in lib), min(s[1] for s in lib)
        out[name] = {"command": "zlgis " + " ".join(args), "library": label,
                     "kernel_s": round(bw, 2), "library_s": round(lw, 2),
                     "ratio": round(lw / bw, 2), "kernel_cpu_s": round(bc, 2),
                     "library_cpu_s": round(lc, 2), "ratio_cpu": round(lc / bc, 2),
                     "findings": len(f_ship), "same_findings": same}
    return out


if __name__ == "__main__":
    import json

    print(json.dumps(main(quick="--quick" in sys.argv), ensure_ascii=False, indent=1))
