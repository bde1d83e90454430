"""Benchmark: the weekly run's loading stage (``zlgis.weekly.load_inputs``) on a city catalog.

Round 5 of issue 21: every layer of the 1M city read and validated, the stage the weekly run
reports as ``loaded``. One fresh process per run (``python bench/bench_load_inputs.py CATALOG``),
run with ``PYTHONPATH`` set to the tree being measured; it prints one JSON line: CPU (user +
sys of the process, worker threads included), wall time and peak resident memory of
``load_inputs`` alone (imports excluded), the rows kept per layer (the same in every tree) and
the load average. Alternate the trees (before / after) in a shell loop; the machine is shared,
so CPU is the figure to compare.
"""

from __future__ import annotations

import json
import os
import resource
import sys
import time


def main(catalog_path: str) -> dict[str, object]:
    from zlgis.catalog import Catalog
    from zlgis.weekly import load_inputs

    catalog = Catalog.load(catalog_path)

    def cpu() -> float:
        r = resource.getrusage(resource.RUSAGE_SELF)
        return r.ru_utime + r.ru_stime

    c0, w0 = cpu(), time.perf_counter()
    layers, issues = load_inputs(catalog)
    return {"cpu_s": round(cpu() - c0, 2), "wall_s": round(time.perf_counter() - w0, 2),
            "maxrss_mib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss // 1024,
            "rows": sum(len(g) for g in layers.values()), "issues": len(issues),
            "load": [round(v, 1) for v in os.getloadavg()],
            "tree": os.environ.get("PYTHONPATH", "")}


if __name__ == "__main__":
    print(json.dumps(main(sys.argv[1] if len(sys.argv) > 1 else "/work/bench-1m/catalog.yaml")))
