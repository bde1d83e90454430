"""Helpers shared by benchmarks."""

from __future__ import annotations

import fcntl
import os
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

WORK = Path(__file__).resolve().parent / "_work"


def big_demo_city(n_buildings: int = 1_000_000, seed: int = 2022) -> Path:
    """Folder of the large demo city (generated once, shared by every benchmark, file-locked).

    ``$ZLGIS_BENCH_1M`` names a ready 1M-building city (``zlgis demo-data --buildings 1000000``)
    to use instead of ``bench/_work/city-1000000-2022``.
    """
    from zlgis.demo import make_demo_city

    given = os.environ.get("ZLGIS_BENCH_1M")
    if given and n_buildings == 1_000_000 and seed == 2022 and (Path(given) / "catalog.yaml").exists():
        return Path(given)
    out = WORK / f"city-{n_buildings}-{seed}"
    WORK.mkdir(parents=True, exist_ok=True)
    with open(WORK / f"city-{n_buildings}.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not (out / "catalog.yaml").exists():
            make_demo_city(out, seed=seed, n_buildings=n_buildings)
    return out


def no_layer_cache(folder: Path) -> Path:
    """A configuration override folder in ``folder`` that turns the cache of validated layers
    off (``run.cache_layers: false``): point ``ZLGIS_CONFIG_DIR`` at it for a baseline run."""
    out = folder / "nocache"
    out.mkdir(parents=True, exist_ok=True)
    (out / "ledger.yaml").write_text("run:\n  cache_layers: false\n")
    return out


def best_of(fn: Callable[[], Any], repeat: int = 3) -> tuple[float, Any]:
    """Minimum wall time of ``repeat`` calls, and the last result."""
    best, result = float("inf"), None
    for _ in range(repeat):
        t0 = time.perf_counter()
        result = fn()
        best = min(best, time.perf_counter() - t0)
    return best, result
