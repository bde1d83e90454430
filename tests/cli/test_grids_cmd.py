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
    assert "<title>扎兰屯市万米单元网格与路长责任路段</title>" in html   # the catalog's city name


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
    # the layout is the documented one: every column written is in docs/platform_export.md,
    # in the table of its file, and every documented column is written
    documented = platform_doc_columns()
    found = pd.read_csv(out / "platform_findings.csv", dtype=str, nrows=1)
    assert set(plat.columns) == documented["platform_cases.csv"]
    assert set(found.columns) == documented["platform_findings.csv"]


def platform_doc_columns() -> dict[str, set[str]]:
    """Column names per file from the tables of docs/platform_export.md (``a / b`` rows name
    several columns)."""
    text = (Path(__file__).resolve().parents[2] / "docs" / "platform_export.md").read_text(
        encoding="utf-8")
    out: dict[str, set[str]] = {}
    current = None
    for line in text.splitlines():
        if line.startswith("## ") and "`" in line:
            current = line.split("`")[1]
            out[current] = set()
        elif current and line.startswith("| ") and not line.startswith(("| 列", "|---")):
            out[current] |= {c.strip() for c in line.split("|")[1].split("/")}
    return out


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


# ---------------------------------------------------------------------------------- real data
def _with_grids_layer(catalog: Path, grids_gpkg: Path, folder: Path) -> Path:
    """A copy of ``catalog`` whose ``grids`` layer is the unit grids just made (the catalog's
    grids schema: 15-character codes, subdistrict, community), in the catalog's working CRS."""
    import yaml

    from zlgis.catalog import DEFAULT_CATALOG

    raw = yaml.safe_load(catalog.read_text(encoding="utf-8"))
    spec = yaml.safe_load(DEFAULT_CATALOG.read_text(encoding="utf-8"))["layers"]["grids"]
    spec.update(source={"path": str(grids_gpkg), "layer": "unit_grids"},
                crs=raw["working_crs"])
    raw["layers"]["grids"] = spec
    raw["data_dir"] = str((catalog.parent / raw.get("data_dir", ".")).resolve())
    for lid, lay in raw["layers"].items():
        src = lay.get("source") or {}
        if lid != "grids" and src.get("path"):
            src["path"] = str((Path(raw["data_dir"]) / src["path"]).resolve())
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "catalog.yaml"
    path.write_text(yaml.safe_dump(raw, allow_unicode=True), encoding="utf-8")
    return path


# believable figures: Helsinki's extract is 1 x 1.6 km of dense blocks, almost all built up;
# Swellendam's 4,708 buildings make a small town (a few km2) and scattered farmsteads
REAL_CITIES = {"helsinki": {"km2": (0.8, 2.0), "grids": (60, 250)},
               "swellendam": {"km2": (3.0, 10.0), "grids": (300, 1000)}}


@pytest.mark.parametrize("city", sorted(REAL_CITIES))
def test_grids_made_and_audited_on_the_real_cities(city, request, realdata, tmp_path, capsys):
    """`zlgis grids make` on an example city without community boundaries (the built-up area
    from its buildings is one stand-in community), then `zlgis grids check` on the result."""
    from zlgis.analysis.gridding import grid_settings
    from zlgis.io.examples import example_catalog

    catalog = (request.getfixturevalue("helsinki_catalog") if city == "helsinki"
               else example_catalog("swellendam"))
    out = tmp_path / "make"
    rc = main(["--quiet", "grids", "make", "--catalog", str(catalog), "--out", str(out),
               "--no-map", "--json"])
    summary = json.loads(capsys.readouterr().out)
    assert rc == 0 and summary["audit_findings"] == 0, summary
    assert any("没有网格图层 grids" in n for n in summary["notes"])
    grids = gpd.read_file(out / "unit_grids.gpkg", layer="unit_grids")
    comm = gpd.read_file(out / "unit_grids.gpkg", layer="communities")
    lo, hi = REAL_CITIES[city]["km2"]
    area = shapely.union_all(comm.geometry.values)
    assert lo < area.area / 1e6 < hi
    n_lo, n_hi = REAL_CITIES[city]["grids"]
    assert n_lo < len(grids) < n_hi
    # every cell within the GB/T 30428.1 size range of config/grids.yaml, about a hectare
    cfg = grid_settings()
    a = grids.geometry.area
    assert a.min() >= cfg["min_area_m2"] and a.max() <= cfg["max_area_m2"]
    assert 5_000 < a.median() < 20_000
    # codes: 15 characters, unique
    assert grids["grid_id"].is_unique and grids["grid_id"].str.fullmatch(r"[0-9]{15}").all()
    # no gap, no overlap: the cells' areas add up to the built-up area and so does their union
    union = shapely.union_all(grids.geometry.values)
    assert a.sum() == pytest.approx(area.area, rel=1e-6)
    assert union.area == pytest.approx(area.area, rel=1e-6)
    assert shapely.symmetric_difference(union, area).area < 1.0
    # the same grids audited as a bureau's grids layer: nothing to report
    checked = _with_grids_layer(Path(catalog), out / "unit_grids.gpkg", tmp_path / "cat")
    rc = main(["--quiet", "grids", "check", "--catalog", str(checked), "--out",
               str(tmp_path / "check"), "--json"])
    res = json.loads(capsys.readouterr().out)
    assert rc == 0 and res["findings"] == 0 and res["by_rule"] == {}
