"""Benchmark: the weekly run's loading stage with the cache of validated layers
(``zlgis.validate.cache``) against reading and validating every layer (issue 21).

Baseline, in the same process: ``zlgis.weekly.load_inputs`` with ``run.cache_layers: false``
(every layer read and validated, what each run did before the cache). Then, in a fresh cache
folder, the first run that fills it (``cold``: read, validate and keep) and the next one that
reads the kept layers (``warm``: the weekly run whose layers did not change). Baseline and warm
are alternated over the repeats; ``ratio`` = best warm wall / best baseline wall (below 1:
faster). The loaded layers must be identical: rows, columns, dtypes and the geometries' WKB
(``same_layers``). On the demo city (25,000 buildings) and, unless ``--quick``, the 1M-building
city (``bench/_common.big_demo_city``).
"""

from __future__ import annotations

import hashlib
import os
import resource
import tempfile
import time
from pathlib import Path
from typing import Any


def _digest(layers: dict[str, Any]) -> str:
    import pandas as pd
    import shapely

    h = hashlib.sha256()
    for lid, gdf in layers.items():
        h.update(f"{lid}\0{len(gdf)}\0{list(gdf.columns)}\0{list(gdf.dtypes.astype(str))}".encode())
        h.update(b"".join(shapely.to_wkb(gdf.geometry.array, hex=False)))
        h.update(pd.util.hash_pandas_object(gdf.drop(columns=gdf.geometry.name)).to_numpy())
    return h.hexdigest()


def _cpu() -> float:
    r = resource.getrusage(resource.RUSAGE_SELF)
    return r.ru_utime + r.ru_stime


def _timed(catalog: Any, *, cached: bool, folder: Path) -> tuple[float, float, str]:
    from _common import no_layer_cache

    from zlgis.weekly import load_inputs

    if cached:
        os.environ.pop("ZLGIS_CONFIG_DIR", None)
    else:
        os.environ["ZLGIS_CONFIG_DIR"] = str(no_layer_cache(folder))
    c0, t0 = _cpu(), time.perf_counter()
    layers, _ = load_inputs(catalog)
    wall, cpu = time.perf_counter() - t0, _cpu() - c0
    return wall, cpu, _digest(layers)


def _city(catalog_path: Path, repeat: int) -> dict[str, Any]:
    from zlgis.catalog import Catalog

    catalog = Catalog.load(catalog_path)
    saved = {k: os.environ.get(k) for k in ("ZLGIS_CONFIG_DIR", "ZLGIS_CACHE_DIR")}
    with tempfile.TemporaryDirectory(prefix="bench-layer-cache-") as tmp:
        folder = Path(tmp)
        os.environ["ZLGIS_CACHE_DIR"] = str(folder / "cache")
        try:
            base = [_timed(catalog, cached=False, folder=folder)]
            cold = _timed(catalog, cached=True, folder=folder)
            warm = []
            for _ in range(repeat):
                warm.append(_timed(catalog, cached=True, folder=folder))
                base.append(_timed(catalog, cached=False, folder=folder))
            size = sum(p.stat().st_size for p in (folder / "cache").rglob("*.pickle"))
        finally:
            for k, v in saved.items():
                if v is None:
                    os.environ.pop(k, None)
                else:
                    os.environ[k] = v
    best_base, best_warm = min(b[0] for b in base), min(w[0] for w in warm)
    return {"ratio": round(best_warm / best_base, 3),
            "uncached_wall_s": round(best_base, 2),
            "uncached_cpu_s": round(min(b[1] for b in base), 2),
            "cold_wall_s": round(cold[0], 2), "warm_wall_s": round(best_warm, 2),
            "warm_cpu_s": round(min(w[1] for w in warm), 2),
            "cache_mb": round(size / 2 ** 20, 1),
            "same_layers": len({d for *_, d in [*base, cold, *warm]}) == 1}


def main(quick: bool = False) -> dict[str, Any]:
    from _common import big_demo_city

    result = {f"demo_{k}": v for k, v in
              _city(big_demo_city(25_000) / "catalog.yaml", 3).items()}
    result["ratio"] = result["demo_ratio"]
    if not quick:
        result.update({f"big_{k}": v for k, v in
                       _city(big_demo_city() / "catalog.yaml", 1).items()})
    return result


if __name__ == "__main__":
    import json
    import sys

    sys.path.insert(0, str(Path(__file__).resolve().parent))
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
    print(json.dumps(main(quick="--quick" in sys.argv)))
