"""The demo city with every vector layer in PostGIS (loaded from its files by
zlgis.io.postgis_write.load_catalog_layers): the weekly run's layers and findings are the same
as from the files, the control-line overlays pushed down into SQL included."""

from __future__ import annotations

import datetime as dt
import uuid

import numpy as np
import pandas as pd
import psycopg
import pytest
import shapely
import yaml
from psycopg import sql

from zlgis.catalog import Catalog

WEEK_END = dt.date(2022, 9, 4)  # 2022-W35


@pytest.fixture(scope="module")
def demo_pg(demo_catalog, pg_url, tmp_path_factory):
    """(catalog path, database URL): the demo city's layers in schema ``city`` of a database
    of this module's own, loaded once."""
    from zlgis.io.postgis_write import load_catalog_layers

    name = f"zt_demo_{uuid.uuid4().hex[:10]}"
    admin = pg_url.rsplit("/", 1)[0] + "/postgres"
    with psycopg.connect(admin, autocommit=True) as con:
        con.execute(sql.SQL("CREATE DATABASE {} TEMPLATE {}").format(
            sql.Identifier(name), sql.Identifier(pg_url.rsplit("/", 1)[1] + "_template")))
    url = pg_url.rsplit("/", 1)[0] + "/" + name
    raw = load_catalog_layers(demo_catalog, url, schema="city")
    raw["sql_overlays"] = True  # the control-line joins in SQL
    path = tmp_path_factory.mktemp("demo-pg") / "catalog.yaml"
    path.write_text(yaml.safe_dump(raw, allow_unicode=True, sort_keys=False), encoding="utf-8")
    yield path, url
    with psycopg.connect(admin, autocommit=True) as con:
        con.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(
            sql.Identifier(name)))


def _same_frames(a, b, lid: str) -> None:
    assert list(a.columns) == list(b.columns), lid
    assert len(a) == len(b), lid
    for c in a.columns:
        if c == a.geometry.name:
            ga, gb = np.asarray(a.geometry.array), np.asarray(b.geometry.array)
            none = shapely.is_missing(ga)
            assert (none == shapely.is_missing(gb)).all(), lid
            assert shapely.equals_exact(ga[~none], gb[~none], tolerance=0).all(), lid
        else:
            pd.testing.assert_series_equal(a[c], b[c], check_dtype=True, obj=f"{lid}.{c}")
    assert str(a.crs) == str(b.crs), lid


def test_demo_weekly_from_postgis_same_findings(demo_catalog, demo_pg, monkeypatch):
    from zlgis.weekly import load_inputs, run_checks

    monkeypatch.setenv("ZLGIS_PLATE_SALT", "weekly-test-salt-2022")
    pg_cat = Catalog.load(demo_pg[0])
    in_db = [lid for lid, s in pg_cat.layers.items() if s.database]
    files = [lid for lid, s in demo_catalog.layers.items()
             if s.kind != "raster" and not s.derived]
    assert sorted(in_db) == sorted(files) and len(in_db) > 40
    file_layers, file_issues = load_inputs(demo_catalog)
    pg_layers, pg_issues = load_inputs(pg_cat)
    assert sorted(file_layers) == sorted(pg_layers)
    for lid in file_layers:
        _same_frames(file_layers[lid], pg_layers[lid], lid)
    assert len(file_issues) == len(pg_issues)
    times_a: dict[str, float] = {}
    times_b: dict[str, float] = {}
    a, ran_a = run_checks(demo_catalog, file_layers, as_of=WEEK_END, timings=times_a)
    b, ran_b = run_checks(pg_cat, pg_layers, as_of=WEEK_END, timings=times_b)
    assert ran_a == ran_b and len(a) > 500
    # from the files the control-line overlays run in Python; from PostGIS their spatial joins
    # run in SQL (one per line layer), and the run records the time of each part
    assert {"controllines:red_lines", "controllines:zones"} <= set(times_a)
    assert not any(k.endswith("_sql") or k.endswith("_sql_join") for k in times_a)
    assert {f"controllines:{x}_sql_join" for x in ("red_lines", "green_lines", "blue_lines",
                                                   "purple_lines", "yellow_lines")} | {
        "controllines:red_lines_sql", "controllines:zones_sql"} <= set(times_b)
    a = a.set_index("finding_id").sort_index()
    b = b.set_index("finding_id").sort_index()
    assert a.index.tolist() == b.index.tolist() and a.index.is_unique
    for col in ("rule", "feature_id", "title", "severity", "grid_id"):
        assert a[col].tolist() == b[col].tolist(), col
    assert a["measures"].tolist() == b["measures"].tolist()  # the JSON text, digit for digit
    assert {"red_line_encroachment", "green_line", "case_overdue"} <= set(a["rule"])
    np.testing.assert_array_equal(a["measure"].to_numpy(float), b["measure"].to_numpy(float))
    assert shapely.equals_exact(np.asarray(a.geometry.array), np.asarray(b.geometry.array),
                                tolerance=0).all()
