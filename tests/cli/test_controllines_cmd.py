"""``zlgis check controllines`` on a small catalog written here, and on bad input."""

from __future__ import annotations

import json
from pathlib import Path

import geopandas as gpd
import pandas as pd
import pytest
import shapely
import yaml
from shapely.geometry import box

from zlgis.cli import main

CRS = "EPSG:4550"
X0, Y0 = 480_000.0, 5_300_000.0


def B(x0, y0, x1, y1):
    return box(X0 + x0, Y0 + y0, X0 + x1, Y0 + y1)


def _write_city(folder: Path, *, duplicate: bool = False) -> Path:
    """A tiny city: one street, a park, buildings with known breaches; returns the catalog."""
    ids = ["E1", "S1", "G1", "OK", "E1" if duplicate else "U1"]
    bld = gpd.GeoDataFrame({
        "建筑编号": ids, "建筑高度": [6.0, 6.0, 6.0, 6.0, 6.0], "层数": [2, 2, 2, 2, 2],
        "审批状态": ["已批", "已批", "已批", "已批", "未批"],
        "五线许可": [None, None, None, None, None], "用途": ["住宅"] * 5,
        "产权人": ["王某", "李某", "赵某", "钱某", "孙某"]},
        geometry=[B(10, 13, 20, 23), B(30, 17, 40, 27), B(10, 110, 20, 120),
                  B(60, 40, 70, 50), B(200, 60, 210, 70)], crs=CRS)
    red = gpd.GeoDataFrame({"红线编号": ["R1"], "道路等级": ["支路"], "红线宽度": [16.0],
                            "道路名称": ["<b>布特哈街</b>"]}, geometry=[B(0, 0, 400, 16)], crs=CRS)
    green = gpd.GeoDataFrame({"绿线编号": ["G1"], "名称": ["吊桥公园"]},
                             geometry=[B(0, 100, 100, 200)], crs=CRS)
    bld.to_file(folder / "buildings.gpkg", layer="buildings")
    red.to_file(folder / "red_lines.gpkg", layer="red_lines")
    green.to_file(folder / "green_lines.gpkg", layer="green_lines")
    from zlgis.catalog import Catalog

    full = Catalog.load().raw
    layers = {k: full["layers"][k] for k in ("buildings", "red_lines", "green_lines")}
    cat = {"version": 1, "name": "测试", "data_dir": ".", "working_crs": CRS, "layers": layers}
    path = folder / "catalog.yaml"
    path.write_text(yaml.safe_dump(cat, allow_unicode=True), encoding="utf-8")
    return path


def test_writes_gpkg_and_csv_with_wkt_and_chinese_summary(tmp_path, capsys):
    catalog = _write_city(tmp_path)
    out = tmp_path / "out"
    code = main(["check", "controllines", "--catalog", str(catalog), "--out", str(out), "--quiet"])
    assert code == 1                                     # problems found
    text = capsys.readouterr().out
    assert "五线管控检查" in text and "建筑压占道路红线：1" in text and "建筑退让道路红线不足：1" in text
    assert "未取得规划许可的建设：1" in text
    f = gpd.read_file(out / "findings.gpkg", layer="findings")
    assert len(f) == 4 and f.crs.to_epsg() == 4550
    assert set(f["rule"]) == {"red_line_encroachment", "red_line_setback", "green_line",
                              "unpermitted_construction"}
    csv = pd.read_csv(out / "findings.csv", encoding="utf-8-sig", dtype=str)
    assert "问题编号" in csv.columns and "几何（WKT）" in csv.columns
    geoms = shapely.from_wkt(csv["几何（WKT）"].to_numpy())
    enc = csv[csv["规则"] == "建筑压占道路红线"].iloc[0]
    assert shapely.from_wkt(enc["几何（WKT）"]).area == pytest.approx(30.0)
    assert all(g is not None for g in geoms)
    assert set(csv["牵头部门"]) == {"自然资源局"} and set(csv["严重程度"]) <= {"高", "中", "低"}
    assert set(csv.loc[csv["任务编号"] == "1.3.3", "配合部门"]) == {"消防救援大队、街道办事处"}
    # private fields never reach the outputs
    assert not any("王某" in str(v) for v in csv.to_numpy().ravel())
    assert not [p for p in out.iterdir() if p.name.startswith(".")]   # no temporary leftovers


def test_json_summary_and_stable_ids_between_runs(tmp_path, capsys):
    catalog = _write_city(tmp_path)
    for name in ("a", "b"):
        assert main(["check", "controllines", "--catalog", str(catalog), "--out",
                     str(tmp_path / name), "--json"]) == 1
    summary = json.loads(capsys.readouterr().out.splitlines()[-1])
    assert summary["findings"] == 4 and summary["by_rule"]["green_line"] == 1
    a = pd.read_csv(tmp_path / "a" / "findings.csv", encoding="utf-8-sig", dtype=str)
    b = pd.read_csv(tmp_path / "b" / "findings.csv", encoding="utf-8-sig", dtype=str)
    assert a["问题编号"].tolist() == b["问题编号"].tolist()


def test_rejected_rows_are_reported_in_chinese_and_left_out(tmp_path, capsys):
    catalog = _write_city(tmp_path, duplicate=True)     # row 5 repeats the id of row 1
    code = main(["check", "controllines", "--catalog", str(catalog), "--out", str(tmp_path / "o")])
    cap = capsys.readouterr()
    assert code == 1
    assert "图层 buildings" in cap.err and "第 5 行" in cap.err and "Traceback" not in cap.err
    f = gpd.read_file(tmp_path / "o" / "findings.gpkg")
    assert "unpermitted_construction" not in set(f["rule"])    # the rejected row is not checked


def test_second_run_reads_the_kept_layers(tmp_path, capsys, monkeypatch):
    """The analysis commands take unchanged layers from the cache of validated layers
    (zlgis.validate.cache): the same findings and notes, without validating again."""
    import importlib

    monkeypatch.setenv("ZLGIS_CACHE_DIR", str(tmp_path / "cache"))
    catalog = _write_city(tmp_path, duplicate=True)
    args = ["check", "controllines", "--catalog", str(catalog), "--quiet"]
    code = main([*args, "--out", str(tmp_path / "a")])
    first = capsys.readouterr().err
    monkeypatch.setattr(importlib.import_module("zlgis.validate.load"), "validate_frame", None)
    assert main([*args, "--out", str(tmp_path / "b")]) == code
    assert capsys.readouterr().err == first and "第 5 行" in first  # the rejected row
    a, b = (pd.read_csv(next((tmp_path / d).glob("*.csv"))) for d in ("a", "b"))
    pd.testing.assert_frame_equal(a, b)
    assert len(a) == 3


def test_missing_layer_file_exits_2(tmp_path, capsys):
    catalog = _write_city(tmp_path)
    (tmp_path / "red_lines.gpkg").unlink()
    code = main(["check", "controllines", "--catalog", str(catalog), "--out", str(tmp_path / "o")])
    err = capsys.readouterr().err
    assert code == 2 and "red_lines" in err and "Traceback" not in err


def test_clean_city_exits_0(tmp_path, capsys):
    catalog = _write_city(tmp_path)
    gpd.GeoDataFrame({"建筑编号": ["OK"], "建筑高度": [6.0], "层数": [2], "审批状态": ["已批"],
                      "用途": ["住宅"]},
                     geometry=[B(60, 40, 70, 50)], crs=CRS).to_file(
        tmp_path / "buildings.gpkg", layer="buildings")
    code = main(["check", "controllines", "--catalog", str(catalog), "--out", str(tmp_path / "o")])
    assert code == 0
    assert "共 0 个问题" in capsys.readouterr().out
    assert len(gpd.read_file(tmp_path / "o" / "findings.gpkg")) == 0


def test_red_lines_derived_from_road_centrelines(tmp_path, capsys):
    catalog = _write_city(tmp_path)
    from shapely.geometry import LineString

    # the street's centreline at y = 8 with a 16 m red-line width: the same red line as R1
    gpd.GeoDataFrame({"道路编号": ["D1"], "道路等级": ["支路"], "红线宽度": [16.0]},
                     geometry=[LineString([(X0, Y0 + 8), (X0 + 400, Y0 + 8)])],
                     crs=CRS).to_file(tmp_path / "roads.gpkg", layer="roads")
    from zlgis.catalog import Catalog

    cat = yaml.safe_load(catalog.read_text(encoding="utf-8"))
    cat["layers"]["roads"] = Catalog.load().raw["layers"]["roads"]
    del cat["layers"]["red_lines"]
    catalog.write_text(yaml.safe_dump(cat, allow_unicode=True), encoding="utf-8")
    code = main(["check", "controllines", "--catalog", str(catalog), "--out",
                 str(tmp_path / "o"), "--red-lines-from-roads"])
    cap = capsys.readouterr()
    assert code == 1 and "道路红线由道路中心线生成（1 条）" in cap.err
    f = gpd.read_file(tmp_path / "o" / "findings.gpkg")
    enc = f[f["rule"] == "red_line_encroachment"]
    assert enc["feature_id"].tolist() == ["E1"] and enc["related_ids"].tolist() == ["RL-D1"]
    # the round end caps stick out 8 m past the street ends and change nothing here
    assert json.loads(enc["measures"].iloc[0])["area_m2"] == pytest.approx(30.0, abs=0.01)


def test_catalog_without_red_lines_names_the_way_out(tmp_path, capsys):
    catalog = _write_city(tmp_path)
    cat = yaml.safe_load(catalog.read_text(encoding="utf-8"))
    del cat["layers"]["red_lines"]
    catalog.write_text(yaml.safe_dump(cat, allow_unicode=True), encoding="utf-8")
    code = main(["check", "controllines", "--catalog", str(catalog), "--out", str(tmp_path / "o")])
    err = capsys.readouterr().err
    assert code == 1 and "red_lines" in err and "--red-lines-from-roads" in err
    assert "Traceback" not in err
