"""``zlgis grids make|check`` and ``zlgis cases`` through the real CLI."""

from __future__ import annotations

import json
from pathlib import Path

import geopandas as gpd
import pandas as pd
import pytest
import shapely

from zlgis.cli import main
from zlgis.crs import wgs84_to_gcj02

DATA = Path(__file__).resolve().parents[1] / "data"


def test_grids_make_on_the_demo_city(demo_city, tmp_path, capsys):
    out = tmp_path / "make"
    rc = main(["--quiet", "grids", "make", "--catalog", str(demo_city / "catalog.yaml"),
               "--out", str(out), "--basemap", "none", "--json"])
    summary = json.loads(capsys.readouterr().out)
    assert rc == 0 and summary["audit_findings"] == 0
    grids = gpd.read_file(out / "unit_grids.gpkg", layer="unit_grids")
    assert len(grids) == summary["grids"] and grids["grid_id"].is_unique
    # the unit grids tile the bureau's communities: about 97 km2 for the demo lattice
    assert grids.area.sum() / 1e6 == pytest.approx(summary["area_km2"], abs=0.01)
    public_csv = pd.read_csv(out / "grid_table_public.csv", dtype=str)
    assert "路长电话" not in public_csv.columns and "网格员" not in public_csv.columns
    internal = pd.read_excel(out / "grid_table.xlsx", sheet_name="网格责任表", dtype=str)
    assert internal["路长电话"].str.fullmatch(r"1[3-9]\d{9}").all()
    html = (out / "grids_map_public.html").read_text(encoding="utf-8")
    assert not [p for p in internal["路长电话"].head(200) if p in html]
    assert not [n for n in set(internal["网格员"].head(200)) if len(n) >= 2 and n in html]
    assert grids["grid_id"].iloc[0] in html


def test_grids_check_finds_the_demo_grids_too_large(demo_city, tmp_path, capsys):
    rc = main(["--quiet", "grids", "check", "--catalog", str(demo_city / "catalog.yaml"),
               "--out", str(tmp_path), "--json"])
    res = json.loads(capsys.readouterr().out)
    # the demo bureau's 270 cells of 600 m x 600 m are 36 ha each: all above the 4 ha limit
    assert rc == 1 and res["by_rule"] == {"grid_size": 270}
    csv = pd.read_csv(tmp_path / "grids_findings.csv", dtype=str)
    assert len(csv) == 270


def test_cases_on_the_demo_city(demo_city, tmp_path, capsys):
    out = tmp_path / "cases"
    rc = main(["--quiet", "cases", "--catalog", str(demo_city / "catalog.yaml"), "--out",
               str(out), "--as-of", "2022-09-04", "--json", "--labelled",
               str(DATA / "labelled_cases.csv")])
    res = json.loads(capsys.readouterr().out)
    assert rc == 1 and res["rejected"] == 0
    assert {"case_overdue", "case_repeat", "case_escalation", "case_hot_spot",
            "case_category_mismatch", "case_unlocated"} <= set(res["by_rule"])
    plat = pd.read_csv(out / "platform_cases.csv", dtype=str, keep_default_na=False)
    assert len(plat) == res["cases"]
    # codes as text with their zeros; 11-digit matter codes; no requester data; phones masked
    assert set(plat.loc[plat["类别名称"] == "路灯异常", "小类代码"]) == {"01037"}
    coded = plat[plat["小类代码"] != ""]
    assert coded["事项编码"].str.fullmatch(r"150783\d{5}").all()
    assert not plat["问题描述"].str.contains(r"(?<!\d)1[3-9]\d{9}(?!\d)").any()
    assert "联系电话" not in plat.columns and "诉求人" not in plat.columns
    ev = pd.read_excel(out / "evaluation.xlsx", sheet_name="街道", index_col=0)
    assert ev["考评得分"].between(0, 100).all() and ev["案件数"].sum() == res["cases"]
    overdue = pd.read_csv(out / "overdue.csv", dtype=str)
    assert len(overdue) >= 4 and (overdue["案件状态"] == "超期未结").all()
    html = (out / "evaluation.html").read_text(encoding="utf-8")
    assert "街道排名" in html and html.count("data:image/png;base64,") == 2
    conf = pd.read_csv(out / "classification.csv", index_col=0)
    assert conf["support"].sum() == len(pd.read_csv(DATA / "labelled_cases.csv"))


def test_cases_from_a_file_with_bad_rows(demo_city, tmp_path, capsys):
    """The five bad kinds through the CLI: one Chinese line each, nothing lost, exit 1."""
    from pyproj import Transformer

    to_wgs = Transformer.from_crs("EPSG:4550", "EPSG:4326", always_xy=True)
    x, y = 480_650.0, 5_316_400.0
    lon, lat = to_wgs.transform(x, y)
    glon, glat = (float(v) for v in wgs84_to_gcj02(lon, lat))
    rows = [
        ("A1", "2022-08-01 08:00", "", "路灯照明", "路灯不亮", "兴华路1号", glon, glat),
        ("A2", "2022-08-01 09:00", "", "", "", "", None, None),                 # nowhere
        ("A3", "2022-08-01 10:00", "", "路灯照明", "路灯不亮", "", 100.0, 30.0),  # outside
        ("A4", "2022-08-02 10:00", "2022-08-01 10:00", "供热", "暖气不热", "", glon, glat),
        ("A1", "2022-08-03 10:00", "", "路灯照明", "路灯不亮", "", glon, glat),  # duplicate
        ("A6", "2022-08-03 11:00", "", "火星分类", "有事找你", "", glon, glat),   # unknown
    ]
    df = pd.DataFrame(rows, columns=["工单编号", "受理时间", "办结时间", "诉求分类", "诉求内容",
                                     "地址", "经度", "纬度"])
    src = tmp_path / "cases.csv"
    df.to_csv(src, index=False, encoding="utf-8-sig")
    rc = main(["--quiet", "cases", "--catalog", str(demo_city / "catalog.yaml"), "--input",
               str(src), "--crs", "gcj02", "--out", str(tmp_path / "out")])
    text = capsys.readouterr().out
    assert rc == 1
    # rows are data rows counted from 1 (the header is not a row), as everywhere in zlgis
    for row, reason in ((2, "无坐标且无地址"), (3, "坐标不在市域范围内"), (4, "办结时间早于受理时间"),
                        (5, "工单编号重复（与第 1 行相同）")):
        assert f"第 {row} 行" in text and reason in text
    report = pd.read_csv(tmp_path / "out" / "case_report.csv", dtype=str)
    assert str(src) in set(report["文件"])
    assert "诉求分类“火星分类”未知" in " ".join(report["原因"])
    cases = pd.read_csv(tmp_path / "out" / "platform_cases.csv", dtype=str,
                        keep_default_na=False)
    assert sorted(cases["案件编号"]) == ["A1", "A6"]
    assert set(report.loc[report["处理"] == "已剔除", "行号"].astype(int)) == {2, 3, 4, 5}
    # the GCJ-02 coordinates were converted: A1 lands on its point in the working CRS
    a1 = cases[cases["案件编号"] == "A1"].iloc[0]
    assert shapely.Point(float(a1["X坐标"]), float(a1["Y坐标"])).distance(
        shapely.Point(x, y)) < 0.05


def test_cases_unreadable_file_exits_2(demo_city, tmp_path, capsys):
    bad = tmp_path / "x.csv"
    bad.write_text("工单编号,受理时间\nA,2022-08-01\n", encoding="utf-8")
    rc = main(["cases", "--catalog", str(demo_city / "catalog.yaml"), "--input", str(bad),
               "--out", str(tmp_path / "o")])
    err = capsys.readouterr().err
    assert rc == 2 and "缺少坐标列“经度”" in err and "Traceback" not in err
    assert not (tmp_path / "o").exists()
