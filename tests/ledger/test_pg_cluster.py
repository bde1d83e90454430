"""The throwaway test cluster (scripts/pg_cluster.sh) and its fixtures: PostGIS is there, a
fresh database is cloned per test, and the server wants the password (not trust over TCP)."""

from __future__ import annotations

import psycopg


def test_pg_url_has_postgis(pg_url: str) -> None:
    assert "@" in pg_url and ":" not in pg_url.split("//", 1)[1].split("@", 1)[0]  # no password
    with psycopg.connect(pg_url) as con:
        version = con.execute("SELECT postgis_lib_version()").fetchone()[0]
        assert version.split(".")[0] == "3"
        assert con.execute("SHOW server_version_num").fetchone()[0].startswith("15")


def test_pg_database_is_fresh_and_separate(pg_database: str, pg_url: str) -> None:
    assert pg_database != pg_url
    with psycopg.connect(pg_database, autocommit=True) as con:
        con.execute("CREATE TABLE t (g geometry(Point, 4550))")
        con.execute("INSERT INTO t VALUES (ST_SetSRID(ST_MakePoint(1, 2), 4550))")
        assert con.execute("SELECT ST_X(g) FROM t").fetchone()[0] == 1.0
    with psycopg.connect(pg_url) as con:
        assert con.execute("SELECT to_regclass('public.t')").fetchone()[0] is None


def test_wrong_password_is_refused(pg_url: str) -> None:
    wrong = pg_url.replace("//zlgis@", "//zlgis:not-the-password@")
    try:
        psycopg.connect(wrong, connect_timeout=10).close()
    except psycopg.OperationalError as exc:
        assert "password authentication failed" in str(exc)
    else:
        raise AssertionError("the server accepted a wrong password")
