"""Layers read from PostgreSQL/PostGIS (zlgis/io/postgis.py) on the throwaway test server:
tables, views and queries validated like files, and every bad input as one Chinese message
with exit 2, no traceback and no password."""

from __future__ import annotations

import json
import os
import re
import threading
import time
from pathlib import Path

import psycopg
import pytest
import yaml

from zlgis.catalog import Catalog
from zlgis.cli import main
from zlgis.errors import CatalogError, CRSError, UnreadableInputError
from zlgis.validate import read_layer

FIELDS = {"building_id": {"type": "str", "required": True, "aliases": ["建筑编号"]},
          "floors": {"type": "int", "min": 1, "max": 60, "aliases": ["层数"]}}

ROWS = [("B1", 3, "POLYGON((500000 5300000, 500010 5300000, 500010 5300010, 500000 5300000))"),
        ("B2", None, "MULTIPOLYGON(((500100 5300000, 500110 5300000, 500110 5300010, "
                     "500100 5300000)))"),
        ("B2", 99, "POLYGON((500200 5300000, 500210 5300000, 500210 5300010, 500200 5300000))")]


def _catalog(tmp_path: Path, layers: dict[str, dict]) -> Path:
    tmp_path.mkdir(parents=True, exist_ok=True)
    raw = {"name": "测试", "working_crs": "EPSG:4550", "boundary_layer": None, "layers": {}}
    for lid, source in layers.items():
        raw["layers"][lid] = {"title": "建筑物", "kind": "building", "source": source,
                              "geometry": "Polygon", "crs": "EPSG:4550",
                              "id_field": "building_id", "fields": FIELDS}
    path = tmp_path / "catalog.yaml"
    path.write_text(yaml.safe_dump(raw, allow_unicode=True), encoding="utf-8")
    return path


@pytest.fixture
def city_db(pg_database: str) -> str:
    """A database with table planning.bld (Chinese column names, SRID 4550), a view on it,
    a table without geometry and a table in EPSG:4326."""
    with psycopg.connect(pg_database, autocommit=True) as con:
        con.execute("CREATE SCHEMA planning")
        con.execute('CREATE TABLE planning.bld ("建筑编号" text, "层数" int, '
                    "geom geometry(Geometry, 4550))")
        for bid, floors, wkt in ROWS:
            con.execute("INSERT INTO planning.bld VALUES (%s, %s, ST_GeomFromText(%s, 4550))",
                        (bid, floors, wkt))
        con.execute("CREATE INDEX ON planning.bld USING gist (geom)")
        con.execute('CREATE VIEW planning.tall AS SELECT * FROM planning.bld WHERE "层数" > 1')
        con.execute('CREATE TABLE planning.plain ("建筑编号" text, "层数" int)')
        con.execute('CREATE TABLE planning.wgs ("建筑编号" text, geom geometry(Polygon, 4326))')
        con.execute("CREATE TABLE planning.pts (building_id text, geom geometry(Point, 4550))")
    return pg_database


def test_table_view_and_query_are_validated_like_files(city_db: str, tmp_path: Path) -> None:
    cat = Catalog.load(_catalog(tmp_path, {
        "t": {"url": city_db, "table": "planning.bld"},
        "v": {"url": city_db, "table": "planning.tall"},
        "q": {"url": city_db, "query": 'SELECT geom AS g, "建筑编号", "层数" FROM planning.bld '
                                       "WHERE \"建筑编号\" = 'B1'"}}))
    t = read_layer(cat, "t")
    # canonical names, working CRS, the second B2 rejected as a duplicate id, floors 99 too
    assert t.rows_in == 3 and t.gdf["building_id"].tolist() == ["B1", "B2"]
    assert t.gdf["floors"].iloc[0] == 3 and str(t.gdf.crs) == "EPSG:4550"
    assert t.gdf.geometry.area.round(1).tolist() == [50.0, 50.0]
    assert t.rejected["reject_code"].tolist() == ["duplicate_id"]
    assert t.driver == "PostgreSQL" and str(t.path).endswith("（planning.bld）")
    assert (t.issues["path"].astype(str).str.startswith("postgresql://")).all()
    v = read_layer(cat, "v")
    assert v.rows_in == 2 and v.gdf["building_id"].tolist() == ["B1", "B2"]
    q = read_layer(cat, "q")
    assert q.gdf["building_id"].tolist() == ["B1"] and q.gdf.geometry.name == "geometry"


def test_layers_command_lists_database_layers(city_db: str, tmp_path: Path, capsys) -> None:
    cat = _catalog(tmp_path, {"t": {"url": city_db, "table": "planning.bld"},
                              "gone": {"url": city_db, "table": "planning.nope"}})
    main(["layers", "--catalog", str(cat), "--json"])
    rows = {r["id"]: r for r in json.loads(capsys.readouterr().out)["layers"]}
    assert rows["t"]["features"] == 3 and rows["t"]["status"] == "正常"
    assert rows["t"]["database"] == f"{city_db}（planning.bld）"
    assert rows["gone"]["features"] is None
    # publish, print and export take database layers as readable sources
    spec = Catalog.load(cat)["t"]
    assert spec.readable and spec.path is None
    assert "没有表或视图 planning.nope" in rows["gone"]["status"]


def test_password_in_catalog_url_is_refused(tmp_path: Path) -> None:
    for url in ("postgresql://zlgis:s3cret-pw@127.0.0.1:5432/city",
                "postgresql://127.0.0.1:5432/city?password=s3cret-pw"):
        path = _catalog(tmp_path, {"t": {"url": url, "table": "public.b"}})
        with pytest.raises(CatalogError) as err:
            Catalog.load(path)
        assert "含有密码" in str(err.value) and "PGPASSWORD" in str(err.value)
        assert "s3cret-pw" not in str(err.value)
    with pytest.raises(CatalogError, match="table.*query"):
        Catalog.load(_catalog(tmp_path, {"t": {"url": "postgresql://h/db"}}))


def _validate(cat: Path, capsys, layer: str = "t") -> str:
    code = main(["validate", layer, "--catalog", str(cat)])
    err = capsys.readouterr().err
    assert code == 2, err
    assert "Traceback" not in err and len(err.strip().splitlines()) == 1, err
    return err


def _password() -> str:
    line = Path(os.environ["PGPASSFILE"]).read_text().strip().splitlines()[0]
    return line.rsplit(":", 1)[1]


@pytest.mark.parametrize("table,expect,field", [
    ("planning.nope", "数据库中没有表或视图 planning.nope", None),
    ("planning.plain", "表 planning.plain没有几何字段（geometry），图层目录要求面几何", None),
    ("planning.wgs", "坐标系为 EPSG:4326", "geom"),
    ("planning.pts", "类型为 Point，图层目录要求面（Polygon）", "geom"),
])
def test_bad_tables(city_db: str, tmp_path: Path, capsys, table: str, expect: str,
                    field: str | None) -> None:
    cat = _catalog(tmp_path, {"t": {"url": city_db, "table": table}})
    err = _validate(cat, capsys)
    assert expect in err and f"数据源 {city_db}（{table}）" in err and "图层 t" in err, err
    if field:
        assert f"字段 {field}" in err
    assert _password() not in err


def test_wrong_password_unreachable_server_missing_database(city_db: str, tmp_path: Path,
                                                              capsys, monkeypatch) -> None:
    real = _password()
    monkeypatch.setenv("PGPASSFILE", str(tmp_path / "no-pgpass"))
    monkeypatch.setenv("PGPASSWORD", "wrong-Pa55word")
    err = _validate(_catalog(tmp_path, {"t": {"url": city_db, "table": "planning.bld"}}), capsys)
    assert "登录被拒绝：用户 zlgis 的密码不对" in err and "图层 t" in err
    assert "wrong-Pa55word" not in err and real not in err
    monkeypatch.delenv("PGPASSWORD")
    err = _validate(_catalog(tmp_path, {"t": {"url": city_db, "table": "planning.bld"}}), capsys)
    assert "服务器要求密码，但没有提供" in err and "图层 t" in err
    monkeypatch.setenv("PGPASSWORD", real)
    host = re.sub(r":\d+/", ":1/", city_db)  # nothing listens on port 1
    err = _validate(_catalog(tmp_path, {"t": {"url": host, "table": "planning.bld"}}), capsys)
    assert "无法连接数据库服务器" in err and "127.0.0.1:1/" in err and real not in err
    other = city_db.rsplit("/", 1)[0] + "/no_such_db"
    err = _validate(_catalog(tmp_path, {"t": {"url": other, "table": "planning.bld"}}), capsys)
    assert "数据库不存在" in err and real not in err


def terminate_reader(url: str, marker: str, timeout: float = 20.0) -> int:
    """Terminate the zlgis backend running a statement containing ``marker`` (once it runs):
    the reader fetches from the server-side cursor ``zlgis_read``."""
    deadline = time.monotonic() + timeout
    with psycopg.connect(url, autocommit=True) as con:
        while time.monotonic() < deadline:
            pids = [r[0] for r in con.execute(
                "SELECT pid FROM pg_stat_activity WHERE application_name = 'zlgis' "
                "AND state = 'active' AND query LIKE %s", (f"%{marker}%",))]
            if pids:
                return sum(con.execute("SELECT pg_terminate_backend(%s)", (p,)).fetchone()[0]
                           for p in pids)
            time.sleep(0.05)
    raise AssertionError("the reader's query never ran")


def test_server_going_away_during_the_read(city_db: str, tmp_path: Path, capsys) -> None:
    query = "SELECT b.* FROM planning.bld b, pg_sleep(30) AS slow"
    cat = _catalog(tmp_path, {"t": {"url": city_db, "query": query}})
    result: dict[str, object] = {}
    worker = threading.Thread(target=lambda: result.update(code=main(
        ["validate", "t", "--catalog", str(cat)])))
    t0 = time.monotonic()
    worker.start()
    assert terminate_reader(city_db, "zlgis_read") == 1  # FETCH ... FROM "zlgis_read"
    worker.join(timeout=30)
    assert result["code"] == 2 and time.monotonic() - t0 < 25
    err = capsys.readouterr().err
    assert "读取过程中与数据库的连接中断" in err and "图层 t" in err and "Traceback" not in err
    assert _password() not in err


def test_typed_errors_from_the_reader(city_db: str, tmp_path: Path) -> None:
    cat = Catalog.load(_catalog(tmp_path, {
        "wgs": {"url": city_db, "table": "planning.wgs"},
        "q": {"url": city_db, "query": "SELEC nothing"},
        "two": {"url": city_db, "query": "SELECT geom, geom AS g2, \"建筑编号\" FROM planning.bld"},
        "col": {"url": city_db, "table": "planning.bld", "geometry_column": "层数"}}))
    with pytest.raises(CRSError, match="SRID 4326"):
        read_layer(cat, "wgs")
    with pytest.raises(UnreadableInputError, match="查询语句有语法错误"):
        read_layer(cat, "q")
    with pytest.raises(UnreadableInputError, match="有多个几何字段（geom、g2）.*geometry_column"):
        read_layer(cat, "two")
    with pytest.raises(UnreadableInputError, match="字段 层数 不是几何类型"):
        read_layer(cat, "col")


def test_weekly_run_stops_when_the_server_goes_away(city_db: str, tmp_path: Path,
                                                    capsys) -> None:
    """The weekly run reads its layers before touching the ledger: a server lost during the
    read stops it with exit 2, and the ledger of the previous week stays byte for byte."""
    out = tmp_path / "out"
    good = _catalog(tmp_path / "a", {"buildings": {"url": city_db, "table": "planning.bld"}})
    code = main(["weekly", "--catalog", str(good), "--out", str(out), "--week", "2022-W35",
                 "--checks", "controllines", "--quiet"])
    assert code in (0, 1), capsys.readouterr().err
    ledger = out / "ledger.sqlite"
    before = ledger.read_bytes()
    capsys.readouterr()
    slow = _catalog(tmp_path / "b", {"buildings": {
        "url": city_db, "query": "SELECT b.* FROM planning.bld b, pg_sleep(30) AS slow"}})
    result: dict[str, object] = {}
    worker = threading.Thread(target=lambda: result.update(code=main(
        ["weekly", "--catalog", str(slow), "--out", str(out), "--week", "2022-W36",
         "--checks", "controllines", "--quiet"])))
    worker.start()
    assert terminate_reader(city_db, "zlgis_read") == 1
    worker.join(timeout=60)
    assert result["code"] == 2
    err = capsys.readouterr().err
    assert "读取过程中与数据库的连接中断" in err and "台账未修改" in err, err
    assert "Traceback" not in err and _password() not in err
    assert ledger.read_bytes() == before


def test_db_load_layers_copies_file_layers(pg_database: str, tmp_path: Path, capsys) -> None:
    """`zlgis db load-layers` copies a file layer into PostGIS and writes a catalog reading it
    from there: the same validated rows, the same rejected duplicate."""
    import geopandas as gpd
    import shapely

    gdf = gpd.GeoDataFrame({"建筑编号": [r[0] for r in ROWS], "层数": [r[1] for r in ROWS]},
                           geometry=shapely.from_wkt([r[2] for r in ROWS]), crs="EPSG:4550")
    gdf.to_file(tmp_path / "bld.gpkg", layer="bld")
    cat = _catalog(tmp_path, {"t": {"path": "bld.gpkg", "layer": "bld"}})
    out = tmp_path / "db" / "catalog.yaml"
    assert main(["db", "load-layers", "--url", pg_database, "--schema", "city",
                 "--catalog", str(cat), "--out", str(out)]) == 0
    assert "已导入 t（建筑物）→ city.t" in capsys.readouterr().out
    db_cat = Catalog.load(out)
    assert db_cat["t"].database == {"url": pg_database, "table": "city.t", "query": None,
                                    "geometry_column": None}
    a, b = read_layer(Catalog.load(cat), "t"), read_layer(db_cat, "t")
    assert a.gdf.drop(columns="geometry").equals(b.gdf.drop(columns="geometry"))
    assert a.gdf.geometry.geom_equals_exact(b.gdf.geometry, 0).all()
    assert a.rejected["reject_code"].tolist() == b.rejected["reject_code"].tolist() == [
        "duplicate_id"]
    with psycopg.connect(pg_database) as con:
        assert con.execute("SELECT count(*) FROM pg_indexes WHERE schemaname = 'city' "
                           "AND indexdef LIKE '%gist%'").fetchone()[0] == 1
    # a password in the URL is refused before anything is written
    bad = pg_database.replace("//zlgis@", "//zlgis:pw123@")
    assert main(["db", "load-layers", "--url", bad, "--catalog", str(cat), "--out",
                 str(tmp_path / "x.yaml")]) == 2
    err = capsys.readouterr().err
    assert "不要写密码" in err and "pw123" not in err and not (tmp_path / "x.yaml").exists()
