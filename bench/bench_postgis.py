"""Benchmark: the control-line check with its spatial joins in PostGIS against the Python path.

Data: the 1M-building city (``bench/_common.big_demo_city``, ``$ZLGIS_BENCH_1M`` names a ready
one; ``--quick``: a 25,000-building demo city). Server: ``$ZLGIS_BENCH_PG_URL`` (a database with PostGIS; the
password from ``PGPASSWORD`` or ``PGPASSFILE``), e.g. the throwaway cluster of
``bash scripts/pg_cluster.sh start`` (its URL is in ``.pg-cluster/env``).

1. Load (once per city and database): buildings and the five control-line layers copied from
   their files into schema ``bench_<n>`` with :func:`zlgis.io.postgis_write.load_catalog_layers`
   (COPY, GiST index, ANALYZE); the load time is kept in table ``<schema>.zlgis_bench_load`` and
   reported on every run.
2. Python path (baseline): :func:`zlgis.analysis.controllines.check_control_lines` on the
   layers loaded from the files (one STRtree over the footprints).
3. SQL path: the same check with the red-line and zone joins in PostGIS
   (:func:`zlgis.analysis.controllines_pushdown.pushdown_pairs`, GiST), on the same loaded layers.
Both must give the same findings (ids, titles, measures, geometry). Also timed: reading the
buildings from the database (``read_layer``) against reading them from the GeoPackage.
"""

from __future__ import annotations

import gc
import os
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np
import shapely

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parent))

LAYERS = ["buildings", "red_lines", "green_lines", "blue_lines", "purple_lines", "yellow_lines"]


def _city(quick: bool) -> Path:
    from _common import big_demo_city

    return big_demo_city(25_000 if quick else 1_000_000) / "catalog.yaml"


def _load_once(catalog: Any, url: str, schema: str) -> tuple[dict[str, Any], float, bool]:
    """The raw catalog reading ``LAYERS`` from ``schema``; load them first when absent."""
    import psycopg

    from zlgis.io.postgis_write import load_catalog_layers

    with psycopg.connect(url, autocommit=True) as con:
        done = con.execute("SELECT to_regclass(%s)", (f"{schema}.zlgis_bench_load",)).fetchone()[0]
        seconds = None
        if done:
            seconds = con.execute(f"SELECT seconds FROM {schema}.zlgis_bench_load").fetchone()[0]
    if seconds is not None:
        raw = load_catalog_layers(catalog, url, schema=schema, ids=[])
        for lid in LAYERS:
            src = raw["layers"][lid]["source"]
            keep = {k: v for k, v in src.items() if k not in ("path", "layer")} \
                if isinstance(src, dict) else {}
            raw["layers"][lid]["source"] = {**keep, "url": url, "table": f"{schema}.{lid}"}
        return raw, float(seconds), False
    t0 = time.perf_counter()
    raw = load_catalog_layers(catalog, url, schema=schema, ids=LAYERS)
    seconds = time.perf_counter() - t0
    with psycopg.connect(url, autocommit=True) as con:
        con.execute(f"CREATE TABLE {schema}.zlgis_bench_load (seconds float8)")
        con.execute(f"INSERT INTO {schema}.zlgis_bench_load VALUES (%s)", (seconds,))
    return raw, seconds, True


def _same(a: Any, b: Any) -> None:
    a = a.set_index("finding_id").sort_index()
    b = b.set_index("finding_id").sort_index()
    assert a.index.tolist() == b.index.tolist(), "different finding ids"
    for col in ("rule", "feature_id", "title", "severity", "measures"):
        assert a[col].tolist() == b[col].tolist(), col
    assert shapely.equals_exact(np.asarray(a.geometry.array), np.asarray(b.geometry.array),
                                tolerance=0).all(), "geometry"


def main(quick: bool = False) -> dict[str, Any]:
    import yaml

    from zlgis.analysis.controllines import check_control_lines
    from zlgis.analysis.controllines_pushdown import pushdown_pairs
    from zlgis.analysis.linebase import load_rules
    from zlgis.catalog import Catalog
    from zlgis.validate import load_layers, read_layer

    url = os.environ.get("ZLGIS_BENCH_PG_URL")
    if not url:
        raise SystemExit("bench_postgis: set ZLGIS_BENCH_PG_URL (see the module docstring)")
    path = _city(quick)
    catalog = Catalog.load(path)
    n_label = "25k" if quick else "1m"
    raw, load_s, loaded_now = _load_once(catalog, url, f"bench_{n_label}")
    pg_path = Path(os.environ.get("TMPDIR", "/tmp")) / f"zlgis-bench-postgis-{n_label}.yaml"
    pg_path.write_text(yaml.safe_dump(raw, allow_unicode=True, sort_keys=False),
                       encoding="utf-8")
    pg_cat = Catalog.load(pg_path)

    t0 = time.perf_counter()
    layers = load_layers(catalog, LAYERS)
    load_files_s = time.perf_counter() - t0
    n = len(layers["buildings"])
    ids = {lid: catalog[lid].id_field for lid in LAYERS if catalog[lid].id_field}
    cfg = load_rules()

    gc.collect()
    py_parts: dict[str, float] = {}
    t0 = time.perf_counter()
    py = check_control_lines(layers, cfg, id_fields=ids, timings=py_parts)
    py_s = time.perf_counter() - t0

    gc.collect()
    sql_parts: dict[str, float] = {}
    t0 = time.perf_counter()
    near = pushdown_pairs(pg_cat, layers, cfg, ids, sql_parts)
    sql = check_control_lines(layers, cfg, id_fields=ids, near=near, timings=sql_parts)
    sql_s = time.perf_counter() - t0
    assert near is not None and set(near) == set(LAYERS) - {"buildings"}
    _same(py, sql)
    # the overlay rules alone (the unpermitted inventory is the same Python code in both)
    py_overlay = py_parts["controllines:red_lines"] + py_parts["controllines:zones"]
    sql_overlay = sum(v for k, v in sql_parts.items() if k.endswith(("_sql", "_sql_join")))

    t0 = time.perf_counter()
    read_layer(catalog, "buildings")
    read_file_s = time.perf_counter() - t0
    t0 = time.perf_counter()
    read_layer(pg_cat, "buildings")
    read_pg_s = time.perf_counter() - t0
    return {
        "overlay_ratio_python_over_sql": round(py_overlay / sql_overlay, 2),
        "check_ratio_python_over_sql": round(py_s / sql_s, 2),
        "buildings": n, "findings": int(len(py)), "same_findings": True,
        "python_overlay_s": round(py_overlay, 2), "sql_overlay_s": round(sql_overlay, 2),
        "python_check_s": round(py_s, 2), "sql_check_s": round(sql_s, 2),
        "python_parts": py_parts, "sql_parts": sql_parts,
        "pg_load_s": round(load_s, 1), "pg_loaded_this_run": loaded_now,
        "load_layers_from_files_s": round(load_files_s, 1),
        "read_buildings_file_s": round(read_file_s, 1),
        "read_buildings_pg_s": round(read_pg_s, 1),
        "load_average": os.getloadavg()[0],
    }


if __name__ == "__main__":
    import json

    print(json.dumps(main(quick="--quick" in sys.argv), ensure_ascii=False, indent=1))
