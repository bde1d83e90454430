"""``zlgis check compounds|heating|water|gas`` (zlgis/cli/compounds_cmd.py)."""

from __future__ import annotations

import shutil

import geopandas as gpd
import pandas as pd
import pytest

from zlgis.cli import main


@pytest.mark.parametrize("verb,table", [("compounds", "compound_ledger.csv"),
                                        ("heating", "heat_station_loads.csv"),
                                        ("water", None), ("gas", None)])
def test_verbs_write_findings_and_tables(verb, table, demo_catalog, tmp_path, capsys):
    code = main(["--quiet", "check", verb, "--catalog", str(demo_catalog.path),
                 "--out", str(tmp_path), "--as-of", "2022-09-04"])
    out = capsys.readouterr().out
    assert code == 1 and "个问题" in out
    f = pd.read_csv(tmp_path / f"{verb}_findings.csv", encoding="utf-8-sig")
    assert len(f) > 0
    if table:
        t = pd.read_csv(tmp_path / table, encoding="utf-8-sig")
        assert len(t) > 0 and any("\u4e00" <= c[0] <= "\u9fff" for c in t.columns)
    if verb == "compounds":
        for key in ("property_service", "fee_disclosure"):
            png = (tmp_path / f"subdistrict_{key}.png").read_bytes()
            assert png[:8] == b"\x89PNG\r\n\x1a\n" and len(png) > 10_000
        shares = gpd.read_file(tmp_path / "subdistrict_shares.gpkg")
        # the demo city's six subdistricts, each with its share between 0 and 1
        assert len(shares) == 6 and shares["property_service_share"].between(0, 1).all()


def test_station_without_capacity_is_one_message(demo_city, tmp_path, capsys):
    """A heat station with no capacity: exit 1, one Chinese line naming layer, row and field."""
    city = tmp_path / "city"
    shutil.copytree(demo_city, city)
    p = city / "heat_stations.gpkg"
    st = gpd.read_file(p)
    st.loc[4, "设计供热面积"] = None
    sid = st.loc[4, "换热站编号"]
    st.to_file(p, layer="heat_stations", driver="GPKG")
    code = main(["--quiet", "check", "heating", "--catalog", str(city / "catalog.yaml"),
                 "--out", str(tmp_path / "out")])
    err = capsys.readouterr().err
    assert code == 1
    assert err.strip() == (f"错误：图层 heat_stations，第 5 行，字段 capacity_m2：换热站 {sid} 没有"
                           "设计供热能力（供热面积），无法核算供热能力与供热面积是否匹配")
    assert not (tmp_path / "out" / "heating_findings.csv").exists()


def test_pipeline_without_pressure_class_is_one_message(demo_city, tmp_path, capsys):
    """A gas pipeline with no pressure class (no clearance can be looked up): exit 1, the one
    Chinese line naming layer, row, field and pipe, and no findings written."""
    city = tmp_path / "city"
    shutil.copytree(demo_city, city)
    p = city / "gas_pipelines.gpkg"
    g = gpd.read_file(p)
    pipe = g.loc[2, "管线编号"]
    g.loc[2, "压力级制"] = None
    g.to_file(p, layer="gas_pipelines", driver="GPKG")
    code = main(["--quiet", "check", "gas", "--catalog", str(city / "catalog.yaml"),
                 "--out", str(tmp_path / "out")])
    err = capsys.readouterr().err
    assert code == 1
    assert err.strip() == (f"错误：图层 gas_pipelines，第 3 行，字段 pressure_class：燃气管线 {pipe} 缺少"
                           "压力级制（应为低压、中压B、中压A、次高压B、次高压A之一），无法确定与建筑物的水平净距")
    assert not (tmp_path / "out" / "gas_findings.csv").exists()


def test_compound_with_households_but_no_area_is_named_not_dropped_silently(demo_city, tmp_path,
                                                                            capsys):
    """A compound with households whose polygon has no area (its ring collapsed to a line):
    the run says which row was left out and why, and that compound is in no output; the
    others are checked (the analysis-level message is tests/analysis/test_compounds.py::
    test_compound_with_households_but_no_area)."""
    from shapely.geometry import Polygon

    city = tmp_path / "city"
    shutil.copytree(demo_city, city)
    p = city / "residential_compounds.gpkg"
    c = gpd.read_file(p)
    cid, households = c.loc[3, "小区编号"], int(c.loc[3, "户数"])
    assert households > 0
    x, y = c.geometry.iloc[3].exterior.coords[0]
    c.loc[3, "geometry"] = Polygon([(x, y), (x + 50, y), (x + 100, y), (x, y)])
    c.to_file(p, layer="residential_compounds", driver="GPKG")
    code = main(["--quiet", "check", "compounds", "--catalog", str(city / "catalog.yaml"),
                 "--out", str(tmp_path / "out")])
    err = capsys.readouterr().err
    assert code == 1 and "Traceback" not in err
    assert "图层 residential_compounds（住宅小区）有 1 行未通过校验，未参与分析（如第 4 行：几何无效：" in err
    assert "修复后不再是面，已剔除）" in err
    ledger = pd.read_csv(tmp_path / "out" / "compound_ledger.csv", encoding="utf-8-sig")
    assert cid not in set(ledger.iloc[:, 0].astype(str))
    assert len(ledger) == len(c) - 1
