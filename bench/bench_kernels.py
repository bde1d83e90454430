"""Benchmark: do the hand-written kernels earn their place in the command a user waits for?

For each kernel the whole command runs twice in this process, once as it ships and once with
the kernel swapped for the library path a competent geopandas/numpy user would write, in
alternating rounds; both must write the same findings (compared row by row).

============================ ======================================= ===========================
kernel                       command                                 library path
============================ ======================================= ===========================
Priority-Flood (``fill``)    ``zlgis waterlogging``                  ``skimage.morphology
                                                                     .reconstruction``
============================ ======================================= ===========================

The other kernels of issue 13 item 7 failed the rule and were removed (BENCHMARKS.md): the
compiled multi-source search, the truck ping grid and the numpy WKB decoder with its convexity
shortcut. Their code is gone, so the comparison for a removed kernel runs the command in two
source trees instead: ``$ZLGIS_BENCH_BEFORE_TREE`` (an exported tree of the commit before the
removal, e.g. ``git archive <commit> | tar -x -C /tmp/before``) against this tree, each round a
fresh ``python -c`` process per tree (same interpreter, same catalog), alternating;
``$ZLGIS_BENCH_TREE_ARGS`` gives the command (default ``check controllines``, which loads the
buildings and every control-line layer). Both must write the same findings.

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


KERNELS: dict[str, tuple[list[str], Callable[[], Any], str]] = {
    "priority_flood": (["waterlogging"], _skimage_flood, "skimage.morphology.reconstruction"),
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


_TREE_RUN = """
import json, resource, sys, time
sys.path.insert(0, sys.argv[1])
from zlgis.cli import main
t0 = time.perf_counter()
code = main(sys.argv[4:] + ["--catalog", sys.argv[2], "--out", sys.argv[3], "--quiet"])
wall = time.perf_counter() - t0
ru = resource.getrusage(resource.RUSAGE_SELF)
print(json.dumps({"code": code, "wall": wall, "cpu": time.process_time(),
                  "rss_mb": ru.ru_maxrss / 1024}))
"""


def _run_tree(tree: str, catalog: str, args: list[str]) -> tuple[float, float, float,
                                                                  pd.DataFrame]:
    """The command in a fresh process importing zlgis from ``tree``; (wall, CPU, peak MB,
    findings). Wall and CPU are counted from ``main()``, so imports are not included."""
    import json
    import subprocess

    with tempfile.TemporaryDirectory(prefix="zlgis-bench-") as tmp:
        env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
        res = subprocess.run([sys.executable, "-c", _TREE_RUN, tree, catalog, tmp, *args],
                             env=env, capture_output=True, text=True, check=False)
        if res.returncode != 0:
            raise RuntimeError(f"{tree}: {res.stderr[-2000:]}")
        r = json.loads(res.stdout.strip().splitlines()[-1])
        if r["code"] not in (0, 1):
            raise RuntimeError(f"{tree}: {args} exited with {r['code']}")
        return r["wall"], r["cpu"], r["rss_mb"], _findings(Path(tmp))


def compare_trees(before: str, catalog: str, args: list[str], rounds: int) -> dict[str, Any]:
    """A removed kernel: the command with the tree before the removal and with this tree."""
    this = str(HERE.parent)
    old, new = [], []
    same = True
    for _ in range(rounds):
        *t_old, f_old = _run_tree(before, catalog, args)
        *t_new, f_new = _run_tree(this, catalog, args)
        old.append(t_old)
        new.append(t_new)
        same &= f_old.equals(f_new) and len(f_old) > 0
    if not same:
        raise AssertionError("the tree before the removal wrote other findings")
    bw, bc = min(t[0] for t in old), min(t[1] for t in old)
    aw, ac = min(t[0] for t in new), min(t[1] for t in new)
    return {"command": "zlgis " + " ".join(args), "before_tree": before,
            "before_s": round(bw, 2), "after_s": round(aw, 2), "ratio": round(aw / bw, 2),
            "before_cpu_s": round(bc, 2), "after_cpu_s": round(ac, 2),
            "ratio_cpu": round(ac / bc, 2),
            "before_rounds_s": [round(t[0], 2) for t in old],
            "after_rounds_s": [round(t[0], 2) for t in new],
            "before_peak_mb": round(max(t[2] for t in old)),
            "after_peak_mb": round(max(t[2] for t in new)),
            "findings": len(f_old), "same_findings": same}


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
    before = os.environ.get("ZLGIS_BENCH_BEFORE_TREE")
    if before and (not only or "removed" in only):
        args = os.environ.get("ZLGIS_BENCH_TREE_ARGS", "check controllines").split()
        out["removed_kernel_before_after"] = compare_trees(before, catalog, args, rounds)
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
    out["load_end"] = os.getloadavg()[0]
    return out


if __name__ == "__main__":
    import json

    print(json.dumps(main(quick="--quick" in sys.argv), ensure_ascii=False, indent=1))
