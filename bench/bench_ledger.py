"""Ledger merge on SQLite and PostgreSQL, and the demo weekly run with either ledger.

1. **Merge** of a large week's findings (``ZLGIS_BENCH_LEDGER``: a ledger file whose latest week
   is read back as the findings, e.g. the 1M-building city's; ``--quick``: 20,000 made-up
   findings), three weeks in a row: all new, all found again, a tenth gone (rectified). Timed:
   the merge before this work (``git show BASE:zlgis/ledger/store.py``, loaded in this process:
   a Python loop per finding and row-wise inserts), the set-wise merge on SQLite, and on
   PostgreSQL (``COPY`` into a temporary table, one upsert). All three must give the same ledger
   rows.
2. **Demo weekly run** (25,000 buildings, 2022-W35, every check; ``ZLGIS_BENCH_DEMO``: a demo
   city folder already made) with the ledger in SQLite and in
   PostgreSQL, alternated, same process: the ratio PostgreSQL / SQLite and identical ledger rows.

The server: ``$ZLGIS_TEST_PG_URL`` (+ ``PGPASSFILE``) or ``.pg-cluster/env`` of
``scripts/pg_cluster.sh start``; every run uses fresh databases cloned from its template.
"""

from __future__ import annotations

import importlib.util
import os
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
BASE = os.environ.get("ZLGIS_BENCH_LEDGER_BASE", "5cb69a4")  # main before the PostgreSQL work


def _pg_url() -> str:
    env = {k: os.environ[k] for k in ("ZLGIS_TEST_PG_URL", "PGPASSFILE") if k in os.environ}
    state = ROOT / ".pg-cluster" / "env"
    if "ZLGIS_TEST_PG_URL" not in env and state.is_file():
        for line in state.read_text(encoding="utf-8").splitlines():
            key, _, value = line.partition("=")
            env.setdefault(key, value)
    if "ZLGIS_TEST_PG_URL" not in env:
        raise SystemExit("no PostgreSQL server: bash scripts/pg_cluster.sh start")
    os.environ.update({k: v for k, v in env.items() if k in ("ZLGIS_TEST_PG_URL", "PGPASSFILE")})
    return env["ZLGIS_TEST_PG_URL"]


def _fresh_db(url: str) -> str:
    import psycopg

    name = f"bench_{uuid.uuid4().hex[:10]}"
    base = url.rsplit("/", 1)[0]
    with psycopg.connect(base + "/postgres", autocommit=True) as con:
        con.execute(f'CREATE DATABASE "{name}" TEMPLATE "{url.rsplit("/", 1)[1]}_template"')
    return f"{base}/{name}"


def _drop_db(url: str) -> None:
    import psycopg

    base, name = url.rsplit("/", 1)
    with psycopg.connect(base + "/postgres", autocommit=True) as con:
        con.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def _old_store() -> Any:
    """The ledger store before this work, loaded from git into this process."""
    text = subprocess.run(["git", "show", f"{BASE}:zlgis/ledger/store.py"], cwd=ROOT,
                          capture_output=True, text=True, check=True).stdout
    path = Path(tempfile.mkdtemp(prefix="bench-ledger-")) / "store_before.py"
    path.write_text(text, encoding="utf-8")
    spec = importlib.util.spec_from_file_location("zlgis.ledger._store_before", path)
    module = importlib.util.module_from_spec(spec)
    module.__package__ = "zlgis.ledger"
    sys.modules[spec.name] = module  # dataclasses look their module up
    assert spec.loader is not None
    spec.loader.exec_module(module)
    return module


def _findings(quick: bool) -> Any:
    import geopandas as gpd

    from zlgis.findings import FINDING_COLUMNS, concat_findings, make_findings
    from zlgis.ledger import Ledger

    source = os.environ.get("ZLGIS_BENCH_LEDGER")
    if source and not quick:
        v = Ledger(source, create=False).view()
        v = v[v["present"]]
        return gpd.GeoDataFrame(v[list(FINDING_COLUMNS)], geometry=v.geometry.values, crs=v.crs)
    rng = np.random.default_rng(2022)
    n = 20_000
    pts = gpd.points_from_xy(rng.uniform(470000, 490000, n), rng.uniform(5310000, 5320000, n))
    parts = [make_findings(rule=rule, feature_ids=[[f"{rule[:3]}{i}"] for i in range(k)],
                           layer="buildings", geometry=pts[:k])
             for rule, k in (("red_line_encroachment", n // 2), ("toilet_uncovered", n // 2))]
    return concat_findings(parts)


def _weeks(findings: Any) -> list[tuple[str, Any]]:
    keep = np.ones(len(findings), dtype=bool)
    keep[::10] = False
    return [("2022-W35", findings), ("2022-W36", findings), ("2022-W37", findings[keep])]


def _merge_all(ledger: Any, weeks: list[tuple[str, Any]], checks: list[str]) -> list[float]:
    times = []
    for week, found in weeks:
        t0 = time.perf_counter()
        ledger.merge(found, week=week, checks_run=checks)
        times.append(round(time.perf_counter() - t0, 2))
    return times


def _rows(ledger: Any) -> pd.DataFrame:
    return pd.DataFrame(ledger.view()).drop(columns="geometry").reset_index(drop=True)


def bench_merge(quick: bool, url: str) -> dict[str, Any]:
    from zlgis.ledger import Ledger

    findings = _findings(quick)
    weeks = _weeks(findings)
    checks = sorted(set(findings["check"]))
    work = Path(tempfile.mkdtemp(prefix="bench-ledger-"))
    out: dict[str, Any] = {"findings": int(len(findings))}
    old = _old_store().Ledger(work / "before.sqlite")
    out["merge_before_sqlite_s"] = _merge_all(old, weeks, checks)
    lite = Ledger(work / "after.sqlite")
    out["merge_sqlite_s"] = _merge_all(lite, weeks, checks)
    db = _fresh_db(url)
    try:
        pg = Ledger(db)
        out["merge_postgres_s"] = _merge_all(pg, weeks, checks)
        expected = _rows(old)
        pd.testing.assert_frame_equal(expected, _rows(lite))
        pd.testing.assert_frame_equal(expected, _rows(pg))
        out["same_rows"] = True
    finally:
        _drop_db(db)
    before, lite_s, pg_s = (sum(out[k]) for k in ("merge_before_sqlite_s", "merge_sqlite_s",
                                                   "merge_postgres_s"))
    out["ratio_sqlite_vs_before"] = round(before / lite_s, 1)
    out["ratio_postgres_vs_before"] = round(before / pg_s, 1)
    return out


def bench_weekly(quick: bool, url: str) -> dict[str, Any]:
    from _common import big_demo_city

    from zlgis.ledger import Ledger
    from zlgis.weekly import run_weekly

    os.environ.setdefault("ZLGIS_PLATE_SALT", "bench-ledger-salt-2022-abcdefgh")
    city = Path(os.environ["ZLGIS_BENCH_DEMO"]) if os.environ.get("ZLGIS_BENCH_DEMO") \
        else big_demo_city(n_buildings=25_000)
    work = Path(tempfile.mkdtemp(prefix="bench-ledger-weekly-"))
    times: dict[str, list[float]] = {"sqlite": [], "postgres": []}
    rows: dict[str, pd.DataFrame] = {}
    rounds = 1 if quick else 2
    for k in range(rounds):
        for kind in ("sqlite", "postgres"):
            db = _fresh_db(url) if kind == "postgres" else None
            try:
                t0 = time.perf_counter()
                r = run_weekly(city / "catalog.yaml", work / f"{kind}{k}", week="2022-W35",
                               ledger_path=db)
                times[kind].append(round(time.perf_counter() - t0, 1))
                rows[kind] = _rows(Ledger(r.ledger_path))
                times.setdefault(f"{kind}_merge", []).append(r.timings["merged"])
            finally:
                if db:
                    _drop_db(db)
    pd.testing.assert_frame_equal(rows["sqlite"], rows["postgres"])
    return {"weekly_ratio_postgres_vs_sqlite": round(min(times["postgres"])
                                                     / min(times["sqlite"]), 2),
            "weekly_s": times, "weekly_same_rows": True, "weekly_findings": len(rows["sqlite"])}


def main(quick: bool = False) -> dict[str, Any]:
    sys.path.insert(0, str(Path(__file__).resolve().parent))
    url = _pg_url()
    load = os.getloadavg()
    out: dict[str, Any] = {"load_avg_start": [round(x, 1) for x in load]}
    out.update(bench_merge(quick, url))
    if os.environ.get("ZLGIS_BENCH_LEDGER_WEEKLY", "1") != "0":
        out.update(bench_weekly(quick, url))
    out["load_avg_end"] = [round(x, 1) for x in os.getloadavg()]
    return out


if __name__ == "__main__":
    import json

    print(json.dumps(main(quick="--quick" in sys.argv), ensure_ascii=False))
