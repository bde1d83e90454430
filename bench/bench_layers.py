"""``zlgis layers``' table counts vs reading the tables (issue 21 item 4).

Baseline: ``len(read_source(path).gdf)``, how ``zlgis layers`` counted a CSV/XLSX layer before
(pandas parse, coordinates, points), in the same process. zlgis:
:func:`zlgis.io.table_rows.count_table_rows`. Both must give the same count for every table
layer of the catalog (``$ZLGIS_BENCH_CATALOG``, default the repo's demo catalog; the 1M city's
``/work/bench-1m/catalog.yaml`` is the large case). ``ratio`` = zlgis time / baseline time over
all table layers (best of 3 each, alternating).
"""

from __future__ import annotations

import os
import time

try:
    from bench._common import best_of
except ImportError:  # run as a script from bench/
    from _common import best_of  # type: ignore[no-redef]


def main(quick: bool) -> dict:
    from zlgis.catalog import DEFAULT_CATALOG, Catalog
    from zlgis.io.readers import read_source
    from zlgis.io.table_rows import count_table_rows

    catalog = Catalog.load(os.environ.get("ZLGIS_BENCH_CATALOG") or DEFAULT_CATALOG)
    tables = {lid: s.path for lid, s in catalog.layers.items() if s.path is not None
              and s.path.suffix.lower() in (".csv", ".txt", ".xlsx", ".xlsm") and not s.filter}
    out: dict = {"catalog": str(catalog.path), "layers": {}}
    base_total = new_total = 0.0
    t0 = time.perf_counter()
    for lid, path in tables.items():
        tb, nb = best_of(lambda: len(read_source(path).gdf), repeat=1 if quick else 3)
        tn, nn = best_of(lambda: count_table_rows(path), repeat=1 if quick else 3)
        assert nb == nn, (lid, nb, nn)
        base_total, new_total = base_total + tb, new_total + tn
        out["layers"][lid] = {"rows": nn, "read_s": round(tb, 3), "count_s": round(tn, 3)}
    return {"ratio": round(new_total / base_total, 3) if base_total else None,
            "read_s": round(base_total, 2), "count_s": round(new_total, 2),
            "wall_s": round(time.perf_counter() - t0, 1), **out}
