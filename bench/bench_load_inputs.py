"""Benchmark: the weekly run's loading stage (``zlgis.weekly.load_inputs``) on a city catalog.

Round 5 of issue 21: every layer of the 1M city read and validated, the stage the weekly run
reports as ``loaded``. One fresh process per run (``python bench/bench_load_inputs.py CATALOG``),
run with ``PYTHONPATH`` set to the tree being measured; it prints one JSON line: CPU (user +
sys of the process and of its finished children: worker threads and, where ``load_inputs``
reads layers in worker processes, those processes), wall time and peak resident memory of
``load_inputs`` alone (imports excluded), the rows kept (the same in every tree) and the load
average. ``--in-process`` times ``zlgis.validate.read_layer`` over the same layers in this
process instead (the readers and validation alone, whatever ``load_inputs`` does around them). Alternate the trees (before / after) in a shell loop; the machine is shared,
so CPU is the figure to compare.
"""

from __future__ import annotations

import json
import os
import resource
import sys
import time


def main(catalog_path: str, in_process: bool = False) -> dict[str, object]:
    from zlgis.catalog import Catalog
    from zlgis.weekly import load_inputs

    catalog = Catalog.load(catalog_path)

    def cpu() -> float:
        r, c = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(
            resource.RUSAGE_CHILDREN)
        return r.ru_utime + r.ru_stime + c.ru_utime + c.ru_stime

    c0, w0 = cpu(), time.perf_counter()
    if in_process:
        from zlgis.validate import city_boundary, read_layer

        city_boundary(catalog)
        res = [read_layer(catalog, lid) for lid, spec in catalog.layers.items()
               if spec.kind != "raster" and not spec.derived]
        layers = {r.layer_id: r.gdf for r in res}
        issues = [i for r in res for i in [r.issues] if len(i)]
        n_issues = sum(len(i) for i in issues)
    else:
        layers, frame = load_inputs(catalog)
        n_issues = len(frame)
    return {"cpu_s": round(cpu() - c0, 2), "wall_s": round(time.perf_counter() - w0, 2),
            "maxrss_mib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss // 1024,
            "rows": sum(len(g) for g in layers.values()), "issues": n_issues,
            "load": [round(v, 1) for v in os.getloadavg()],
            "tree": os.environ.get("PYTHONPATH", ""), "in_process": in_process}


if __name__ == "__main__":
    args = [a for a in sys.argv[1:] if a != "--in-process"]
    print(json.dumps(main(args[0] if args else "/work/bench-1m/catalog.yaml",
                          "--in-process" in sys.argv)))
