"""``zlgis coverage`` on a small town written in tmp_path (real loader, real CLI)."""

from __future__ import annotations

import json
from pathlib import Path

import geopandas as gpd
import pandas as pd
import pytest
import yaml
from _river_town import X0, Y0, river_town_streets  # noqa: E402
from shapely.geometry import Point, box

from zlgis.catalog import Catalog
from zlgis.cli import main

CRS = "EPSG:4550"
LAYERS = ("roads", "buildings", "residential_compounds", "grids", "toilets",
          "transfer_stations", "parks")


def _town(tmp: Path, *, break_toilets: bool = False) -> Path:
    """East bank (x 0-400) and west bank (x 600-1000), one bridge at y = 800; a toilet at the
    east bank right across from west-bank houses."""
    raw = Catalog.load().raw
    layers = {k: dict(raw["layers"][k]) for k in LAYERS}
    for spec in layers.values():
        spec["crs"] = "EPSG:4550"
    cat = {**raw, "data_dir": ".", "layers": layers}
    lines, bridge = river_town_streets()
    gpd.GeoDataFrame({"道路编号": [f"R{i}" for i in range(len(lines))], "道路等级": "支路",
                      "道路宽度": 20.0, "是否桥梁": bridge}, geometry=lines, crs=CRS).to_file(
        tmp / "roads.gpkg", layer="roads")
    geoms, ids, comp = [], [], []
    for side, xs in (("E", range(50, 400, 100)), ("W", range(650, 1000, 100))):
        for x in xs:
            for y in range(50, 800, 100):
                for dx in (-30, -15):
                    geoms.append(box(X0 + x + dx - 5, Y0 + y - 5, X0 + x + dx + 5, Y0 + y + 5))
                    ids.append(f"B{len(ids):03d}")
                    comp.append(f"C{side}{y // 200}")
    gpd.GeoDataFrame({"建筑编号": ids, "建筑用途": "住宅", "层数": 3, "建筑高度": 9.0,
                      "规划许可": "已批", "居住人口": 30, "小区编号": comp,
                      "产权人": "张三", "产权人电话": "13800000000"},
                     geometry=geoms, crs=CRS).to_file(tmp / "buildings.gpkg", layer="buildings")
    comps, cids, dist = [], [], []
    for side, x0, x1, d in (("E", 0, 400, "河东"), ("W", 600, 1000, "河西")):
        for j in range(4):
            comps.append(box(X0 + x0 + 5, Y0 + j * 200 + 5, X0 + x1 - 5, Y0 + j * 200 + 195))
            cids.append(f"C{side}{j}")
            dist.append(d)
    gpd.GeoDataFrame({"小区编号": cids, "小区名称": [f"{c}小区" for c in cids], "片区": dist,
                      "是否在建": False}, geometry=comps, crs=CRS).to_file(
        tmp / "residential_compounds.gpkg", layer="residential_compounds")
    gpd.GeoDataFrame({"网格编码": ["150783001001001", "150783002001001"], "街道": ["甲", "乙"],
                      "社区": ["一", "二"], "片区": ["河东", "河西"], "路长": ["李四", "王五"]},
                     geometry=[box(X0 - 50, Y0 - 50, X0 + 500, Y0 + 850),
                               box(X0 + 500, Y0 - 50, X0 + 1050, Y0 + 850)], crs=CRS).to_file(
        tmp / "grids.gpkg", layer="grids")
    t = gpd.GeoDataFrame({"公厕编号": ["WC1", "WC2"], "名称": ["东岸公厕<script>", "北公厕"],
                          "保洁员电话": ["13900000000", "13900000001"]},
                         geometry=[Point(X0 + 390, Y0 + 400), Point(X0 + 200, Y0 + 790)], crs=CRS)
    if break_toilets:
        t = t.drop(columns="公厕编号")
    t.to_file(tmp / "toilets.gpkg", layer="toilets")
    gpd.GeoDataFrame({"转运站编号": ["TS1", "TS2"], "名称": ["东站", "西站"], "设计规模": [100.0, 60.0],
                      "状态": ["运行", "规划"], "收集方式": ["人力", "小型机动车"]},
                     geometry=[Point(X0 + 200, Y0 + 300), Point(X0 + 800, Y0 + 420)],
                     crs=CRS).to_file(tmp / "transfer_stations.gpkg", layer="transfer_stations")
    gpd.GeoDataFrame({"公园编号": ["PK1"], "公园名称": ["东园"], "公园类别": ["社区公园"],
                      "面积": [6400.0]},
                     geometry=[box(X0 + 110, Y0 + 110, X0 + 190, Y0 + 190)], crs=CRS).to_file(
        tmp / "parks.gpkg", layer="parks")
    path = tmp / "catalog.yaml"
    path.write_text(yaml.safe_dump(cat, allow_unicode=True), encoding="utf-8")
    return path


def test_toilets_network_with_siting(tmp_path, capsys):
    cat = _town(tmp_path)
    out = tmp_path / "out"
    code = main(["coverage", "toilets", "--catalog", str(cat), "--out", str(out), "--site",
                 "--public-map", "--quiet"])
    assert code == 1  # the west bank is unserved
    text = capsys.readouterr().out
    assert "公厕300米服务覆盖率" in text and "新增选址建议" in text
    for name in ("coverage.xlsx", "distances.gpkg", "areas.gpkg", "findings.gpkg",
                 "findings.csv", "map.html", "summary.json"):
        assert (out / name).exists(), name
    sheets = pd.read_excel(out / "coverage.xlsx", sheet_name=None)
    assert {"指标", "网格", "公厕密度", "新增选址"} <= set(sheets)
    ind = sheets["指标"]
    assert {"覆盖率", "片区", "依据"} <= set(ind.columns)
    west = ind[(ind["片区"] == "河西") & (ind["统计对象"] == "住宅建筑")]
    assert west["覆盖率"].iloc[0] == 0
    dem = gpd.read_file(out / "distances.gpkg", layer="demand")
    assert len(dem) == 128 and (dem["distance_network"] >= dem["distance_straight"] - 1e-6).all()
    assert "owner_phone" not in dem.columns
    areas = gpd.read_file(out / "areas.gpkg", layer="uncovered_areas")
    assert len(areas) >= 1
    sites = gpd.read_file(out / "areas.gpkg", layer="sites")
    assert len(sites) >= 1
    f = pd.read_csv(out / "findings.csv", encoding="utf-8-sig")
    assert set(f["规则"]) == {"公厕服务盲区"} and (f["牵头部门"] == "住建局").all()  # names, not codes
    html = (out / "map.html").read_text(encoding="utf-8")
    assert "东岸公厕<script>" not in html
    assert "13900000000" not in html
    pub = (out / "map_public.html").read_text(encoding="utf-8")
    assert "13900000000" not in pub  # no phones
    assert not [c for c in areas["cluster"] if f'"{c}"' in pub]  # no building ids
    assert "公厕服务范围" in pub and "服务盲区" in pub
    assert "coverage-toilet_uncovered" not in pub  # findings stay internal
    s = json.loads((out / "summary.json").read_text(encoding="utf-8"))
    assert s["siting"]["after"] >= s["siting"]["before"]


def test_radius_json_and_other_topics(tmp_path, capsys):
    cat = _town(tmp_path)
    code = main(["coverage", "toilets", "--catalog", str(cat), "--method", "radius",
                 "--out", str(tmp_path / "r"), "--json", "--no-map", "--quiet"])
    r = json.loads(capsys.readouterr().out)
    assert r["method"] == "radius" and code == 1
    code = main(["coverage", "toilets", "--catalog", str(cat), "--out", str(tmp_path / "n"),
                 "--json", "--no-map", "--quiet"])
    n = json.loads(capsys.readouterr().out)
    share = {x["measure"]: x["share"] for x in r["indicators"] if x["district"] == "全市"}
    share_n = {x["measure"]: x["share"] for x in n["indicators"] if x["district"] == "全市"}
    assert share_n["buildings"] < share["buildings"]  # the river makes the circle lie
    code = main(["coverage", "transfer", "--catalog", str(cat), "--out", str(tmp_path / "t"),
                 "--site", "--no-map", "--quiet"])
    assert code == 1
    sheets = pd.read_excel(tmp_path / "t" / "coverage.xlsx", sheet_name=None)
    assert {"转运站间距", "转运站候选"} <= set(sheets)
    assert (sheets["转运站候选"]["X坐标"] > X0 + 500).all()
    code = main(["coverage", "parks", "--catalog", str(cat), "--out", str(tmp_path / "p"),
                 "--preset", "mohurd2021", "--no-map", "--quiet"])
    assert code == 1
    assert "公园预设" in pd.read_excel(tmp_path / "p" / "coverage.xlsx", sheet_name=None)


def test_bad_input_one_chinese_line(tmp_path, capsys):
    cat = _town(tmp_path, break_toilets=True)
    code = main(["coverage", "toilets", "--catalog", str(cat), "--out", str(tmp_path / "o"),
                 "--quiet"])
    err = capsys.readouterr().err
    assert code in (1, 2) and err.startswith("错误：") and "Traceback" not in err
    assert "toilets" in err
    code = main(["coverage", "toilets", "--catalog", str(tmp_path / "none.yaml"),
                 "--out", str(tmp_path / "o")])
    assert code == 2 and "图层目录文件不存在" in capsys.readouterr().err
    code = main(["coverage", "toilets", "--catalog", str(_town(tmp_path)), "--out",
                 str(tmp_path / "o"), "--target", "1.5", "--site"])
    assert code == 1 and "目标覆盖率" in capsys.readouterr().err


@pytest.mark.parametrize("topic", ["toilets"])
def test_output_is_replaced_atomically(tmp_path, topic, capsys):
    cat = _town(tmp_path)
    out = tmp_path / "o"
    main(["coverage", topic, "--catalog", str(cat), "--out", str(out), "--no-map", "--quiet"])
    first = (out / "findings.csv").read_bytes()
    main(["coverage", topic, "--catalog", str(cat), "--out", str(out), "--no-map", "--quiet"])
    assert (out / "findings.csv").read_bytes() == first
    assert not [p for p in out.iterdir() if p.name.startswith(".")]


def test_no_residential_buildings_is_said_not_a_traceback(helsinki_catalog, tmp_path, capsys):
    """A catalog whose value map makes no building a home (every OSM value -> 其他): the
    command says why there is no coverage figure instead of failing."""
    import yaml

    from zlgis._yaml import safe_load

    raw = safe_load(helsinki_catalog.read_text(encoding="utf-8"))
    raw["data_dir"] = str(helsinki_catalog.parent.resolve())
    raw["layers"]["buildings"]["fields"]["use"]["values"] = {"*": "其他"}
    cat = tmp_path / "catalog.yaml"
    cat.write_text(yaml.safe_dump(raw, allow_unicode=True), encoding="utf-8")
    code = main(["coverage", "toilets", "--method", "radius", "--catalog", str(cat), "--out",
                 str(tmp_path / "out"), "--quiet"])
    out = capsys.readouterr().out
    assert code == 0
    assert "0 栋住宅" in out
    assert ("  没有居住建筑（建筑用途为 住宅），无法计算覆盖率：请检查图层目录中 buildings 的用途字段及其值映射"
            "（values）") in out.splitlines()
