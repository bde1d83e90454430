"""`zlgis layers` / `zlgis validate` on a bad-input corpus of real files written here.

Every case writes real files into a tmp dir, runs the real CLI in-process and asserts the exact
Chinese message(s) and the exit code (0 clean, 1 problems found, 2 unreadable).
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pyogrio
import pytest
import shapely
import yaml

from zlgis.catalog import DEFAULT_CATALOG
from zlgis.cli import main
from zlgis.crs import wgs84_to_gcj02

X0, Y0 = 480_601.0, 5_319_572.0  # Zhalantun in EPSG:4550 (standards.md section 7)
LON0, LAT0 = 122.737, 48.011


def run(capsys, *argv: str) -> tuple[int, str, str]:
    capsys.readouterr()
    rc = main(list(argv))
    out = capsys.readouterr()
    return rc, out.out, out.err


def boxes(n: int, x0: float = X0, y0: float = Y0, size: float = 10.0) -> np.ndarray:
    xs = x0 + np.arange(n) * 30.0
    return shapely.box(xs, y0, xs + size, y0 + size)


def buildings_frame(n: int = 3) -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame({
        "建筑编号": [f"B{i}" for i in range(n)], "建筑用途": ["住宅"] * n, "层数": [3] * n,
        "建筑高度": [9.0] * n, "审批状态": ["已批"] * n}, geometry=boxes(n), crs="EPSG:4550")


def write_shp(gdf: gpd.GeoDataFrame, path: Path, encoding: str = "UTF-8") -> Path:
    pyogrio.write_dataframe(gdf, path, encoding=encoding)
    return path


# ------------------------------------------------------------------------------------------------
# the corpus: name -> builder(tmp) returning (argv, exit code, stdout lines, stderr text)
# ------------------------------------------------------------------------------------------------

def c_zero_byte(tmp: Path):
    p = tmp / "zero.gpkg"
    p.write_bytes(b"")
    return ["validate", str(p)], 2, [], f"错误：文件 {p}：文件为空（0 字节）\n"


def c_truncated_gpkg(tmp: Path):
    full = tmp / "full.gpkg"
    pyogrio.write_dataframe(buildings_frame(), full)
    p = tmp / "truncated.gpkg"
    p.write_bytes(full.read_bytes()[: full.stat().st_size // 3])
    return ["validate", str(p)], 2, [], f"错误：文件 {p}：文件无法读取（可能已损坏或不完整）\n"


def c_truncated_geojson(tmp: Path):
    full = tmp / "full.geojson"
    pyogrio.write_dataframe(buildings_frame(), full)
    p = tmp / "truncated.geojson"
    p.write_text(full.read_text()[:200])
    return ["validate", str(p)], 2, [], f"错误：文件 {p}：文件无法读取（可能已损坏或不完整）\n"


def c_garbage(tmp: Path):
    p = tmp / "garbage.gpkg"
    p.write_text("这不是 GeoPackage")
    return (["validate", str(p)], 2, [],
            f"错误：文件 {p}：文件格式无法识别（可能已损坏、不完整或扩展名不对）\n")


def c_missing_file(tmp: Path):
    p = tmp / "nowhere.gpkg"
    return ["validate", str(p)], 2, [], f"错误：文件 {p}：文件不存在\n"


def c_directory(tmp: Path):
    p = tmp / "folder.gdb"
    p.mkdir()
    return ["validate", str(p)], 2, [], f"错误：文件 {p}：这是文件夹，不是数据文件\n"


def c_shp_missing_shx(tmp: Path):
    p = write_shp(buildings_frame(), tmp / "noshx.shp")
    p.with_suffix(".shx").unlink()
    return (["validate", str(p)], 2, [],
            f"错误：文件 {p}：Shapefile 不完整：缺少 .shx 文件（请把同名的 .shp、.shx、.dbf、.prj、.cpg 一起拷贝）\n")


def c_shp_missing_dbf(tmp: Path):
    p = write_shp(buildings_frame(), tmp / "nodbf.shp")
    p.with_suffix(".dbf").unlink()
    return (["validate", str(p)], 2, [],
            f"错误：文件 {p}：Shapefile 不完整：缺少 .dbf 文件（请把同名的 .shp、.shx、.dbf、.prj、.cpg 一起拷贝）\n")


def c_gbk_shp_without_cpg(tmp: Path):
    p = write_shp(buildings_frame(), tmp / "gbk.shp", encoding="GBK")
    p.with_suffix(".cpg").unlink(missing_ok=True)
    return (["validate", str(p), "--kind", "buildings"], 1,
            ["gbk（建筑物）：读入 3 行，载入 3 行，警告 1 条",
             f"文件 {p}，图层 gbk：缺少 .cpg 编码文件，按内容判断属性编码为 GB18030（警告）"], "")


def c_utf8_shp_without_cpg(tmp: Path):
    g = gpd.GeoDataFrame({"编号": ["T1", "T2"], "等级": ["一级古树", "名木"], "树种": ["樟子松", "白桦"]},
                         geometry=shapely.points([[X0, Y0], [X0 + 9, Y0]]), crs="EPSG:4550")
    p = write_shp(g, tmp / "utf8.shp", encoding="UTF-8")
    p.with_suffix(".cpg").unlink(missing_ok=True)
    return (["validate", str(p), "--kind", "trees"], 0,
            ["utf8（古树名木与行道树）：读入 2 行，载入 2 行", "检查通过，未发现问题"], "")


def c_utf8_shp_truncated_names(tmp: Path):
    p = write_shp(buildings_frame(), tmp / "cut.shp", encoding="UTF-8")
    p.with_suffix(".cpg").unlink(missing_ok=True)
    return (["validate", str(p)], 2, [],
            f"错误：文件 {p}：文字编码与UTF-8不符（.cpg 编码文件可能写错，或字段名在写出时被截断），"
            "可用 --encoding 指定编码（如 GBK）\n")


def c_gbk_shp_wrong_cpg(tmp: Path):
    p = write_shp(buildings_frame(), tmp / "wrongcpg.shp", encoding="GBK")
    p.with_suffix(".cpg").write_text("UTF-8")
    return (["validate", str(p)], 2, [],
            f"错误：文件 {p}：文字编码与文件声明的编码不符（.cpg 编码文件可能写错，或字段名在写出时被截断），"
            "可用 --encoding 指定编码（如 GBK）\n")


def c_gbk_shp_forced_encoding(tmp: Path):
    p = write_shp(buildings_frame(), tmp / "forced.shp", encoding="GBK")
    p.with_suffix(".cpg").write_text("UTF-8")  # a wrong .cpg: the user overrides it
    return (["validate", str(p), "--kind", "buildings", "--encoding", "GBK"], 0,
            ["forced（建筑物）：读入 3 行，载入 3 行", "检查通过，未发现问题"], "")


def c_mixed_types(tmp: Path):
    g = gpd.GeoDataFrame({"id": ["a", "b", "c"]},
                         geometry=[shapely.box(X0, Y0, X0 + 5, Y0 + 5),
                                   shapely.box(X0 + 9, Y0, X0 + 15, Y0 + 5),
                                   shapely.Point(X0, Y0)], crs="EPSG:4550")
    p = tmp / "mixed.geojson"
    pyogrio.write_dataframe(g, p)
    return (["validate", str(p)], 1,
            ["mixed：读入 3 行，载入 2 行，剔除 1 行",
             f"文件 {p}，图层 mixed，第 3 行：几何类型为点（Point），本图层应为面（已剔除）"], "")


def c_self_intersection(tmp: Path):
    g = buildings_frame(2)
    g.loc[1, "geometry"] = shapely.from_wkt(
        f"POLYGON(({X0} {Y0},{X0 + 10} {Y0 + 10},{X0 + 10} {Y0},{X0} {Y0 + 10},{X0} {Y0}))")
    p = tmp / "bowtie.gpkg"
    pyogrio.write_dataframe(g, p, layer="bowtie")
    return (["validate", str(p)], 1,
            ["bowtie：读入 2 行，载入 2 行，修复 1 处",
             f"文件 {p}，图层 bowtie，第 2 行：几何无效：自相交（位置 {X0 + 5:.0f} {Y0 + 5:.0f}），"
             "已用 make_valid 修复（已修复）"], "")


def c_unclosed_ring(tmp: Path):
    p = tmp / "unclosed.geojson"
    ring = [[LON0, LAT0], [LON0 + 0.001, LAT0], [LON0 + 0.001, LAT0 + 0.001], [LON0, LAT0 + 0.001]]
    feats = [{"type": "Feature", "properties": {"id": "u1"},
              "geometry": {"type": "Polygon", "coordinates": [ring]}},
             {"type": "Feature", "properties": {"id": "u2"},
              "geometry": {"type": "Polygon", "coordinates": [ring + [ring[0]]]}}]
    p.write_text(json.dumps({"type": "FeatureCollection", "features": feats}))
    return (["validate", str(p)], 1,
            ["unclosed：读入 2 行，载入 2 行，修复 1 处",
             f"文件 {p}，图层 unclosed，第 1 行：多边形环未闭合，已自动闭合（已修复）"], "")


def c_null_geometries(tmp: Path):
    g = buildings_frame(3)
    g.loc[[0, 2], "geometry"] = None
    p = tmp / "nulls.gpkg"
    pyogrio.write_dataframe(g, p, layer="nulls")
    return (["validate", str(p)], 1,
            ["nulls：读入 3 行，载入 1 行，剔除 2 行",
             f"文件 {p}，图层 nulls，第 1 行：几何为空（没有坐标）（已剔除）",
             f"文件 {p}，图层 nulls，第 3 行：几何为空（没有坐标）（已剔除）"], "")


def c_empty_geometry(tmp: Path):
    g = buildings_frame(2)
    g.loc[0, "geometry"] = shapely.from_wkt("POLYGON EMPTY")
    p = tmp / "emptygeom.gpkg"
    pyogrio.write_dataframe(g, p, layer="emptygeom")
    return (["validate", str(p)], 1,
            [f"文件 {p}，图层 emptygeom，第 1 行：空几何（没有任何顶点）（已剔除）"], "")


def c_nan_coordinates(tmp: Path):
    g = gpd.GeoDataFrame({"id": ["p1", "p2"]},
                         geometry=shapely.points([[X0, Y0], [np.nan, Y0]]), crs="EPSG:4550")
    p = tmp / "nan.gpkg"
    pyogrio.write_dataframe(g, p, layer="nan")
    return (["validate", str(p)], 1,
            [f"文件 {p}，图层 nan，第 2 行：坐标含 NaN 或无穷大（nan {Y0:.0f}），无法修复（已剔除）"], "")


def c_inf_coordinates(tmp: Path):
    g = gpd.GeoDataFrame({"id": ["p1", "p2"]},
                         geometry=shapely.points([[np.inf, Y0], [X0, Y0]]), crs="EPSG:4550")
    p = tmp / "inf.gpkg"
    pyogrio.write_dataframe(g, p, layer="inf")
    return (["validate", str(p)], 1,
            [f"文件 {p}，图层 inf，第 1 行：坐标含 NaN 或无穷大（inf {Y0:.0f}），无法修复（已剔除）"], "")


def c_z_values(tmp: Path):
    g = gpd.GeoDataFrame({"id": ["z1"]}, geometry=shapely.points([[X0, Y0, 12.5]]),
                         crs="EPSG:4550")
    p = tmp / "z.gpkg"
    pyogrio.write_dataframe(g, p, layer="z")
    return (["validate", str(p)], 1,
            [f"文件 {p}，图层 z，第 1 行：含 Z/M 值，已去除（按二维处理）（已去除Z/M值）"], "")


def c_swapped_lat_lon(tmp: Path):
    p = tmp / "swapped.csv"
    p.write_text(f"编号,经度,纬度\nS1,{LON0},{LAT0}\nS2,{LAT0 + 0.01},{LON0 + 0.01}\n",
                 encoding="utf-8")
    return (["validate", str(p), "--crs", "EPSG:4326"], 1,
            ["swapped：读入 2 行，载入 2 行，修复 1 处",
             f"文件 {p}，图层 swapped，第 3 行：经纬度颠倒（经度 {LON0 + 0.01:.6f}，纬度 "
             f"{LAT0 + 0.01:.6f}），已对调（已修复）"], "")


def c_missing_crs_lonlat(tmp: Path):
    p = tmp / "nocrs_lonlat.csv"
    p.write_text(f"编号,lon,lat\nA,{LON0},{LAT0}\n", encoding="utf-8")
    return (["validate", str(p)], 1,
            [f"文件 {p}，图层 nocrs_lonlat：文件未声明坐标系，坐标范围为经纬度，按 EPSG:4326（WGS84，"
             "与 CGCS2000 相差不到1米）读取；若坐标来自高德/腾讯或百度地图，请在图层目录中声明 crs: gcj02 "
             "或 bd09（警告）"], "")


def c_missing_crs_projected(tmp: Path):
    p = write_shp(buildings_frame(), tmp / "noprj.shp", encoding="GBK")
    p.with_suffix(".prj").unlink()
    return (["validate", str(p)], 2, [],
            f"错误：文件 {p}，图层 noprj：文件未声明坐标系，按坐标范围无法唯一判断，可能是："
            "EPSG:4550（CGCS2000 3度带高斯-克吕格投影 中央经线123°E）、"
            "EPSG:2386（西安80 3度带高斯-克吕格投影 中央经线123°E）、"
            "EPSG:2438（北京54 3度带高斯-克吕格投影 中央经线123°E）、"
            "EPSG:4798（新北京54 3度带高斯-克吕格投影 中央经线123°E）、"
            "EPSG:4510（CGCS2000 6度带高斯-克吕格投影 中央经线123°E）、"
            "EPSG:32651（WGS84 UTM 第51带）；请用 --crs 或图层目录的 crs 声明坐标系\n")


def c_zone_prefixed_missing_crs(tmp: Path):
    g = buildings_frame()
    g = g.set_geometry(shapely.transform(g.geometry.array, lambda xy: xy + [41_000_000, 0]))
    p = write_shp(g, tmp / "zone41.shp", encoding="GBK")
    p.with_suffix(".prj").unlink()
    return (["validate", str(p)], 2, [],
            f"错误：文件 {p}，图层 zone41：文件未声明坐标系，按坐标范围无法唯一判断，可能是："
            "EPSG:4529（CGCS2000 3度带高斯-克吕格投影 第41带（东坐标带带号））、"
            "EPSG:2365（西安80 3度带高斯-克吕格投影 第41带（东坐标带带号））、"
            "EPSG:2417（北京54 3度带高斯-克吕格投影 第41带（东坐标带带号））、"
            "EPSG:4777（新北京54 3度带高斯-克吕格投影 第41带（东坐标带带号））；"
            "请用 --crs 或图层目录的 crs 声明坐标系\n")


def c_metres_declared_degrees(tmp: Path):
    p = tmp / "metres.gpkg"
    pyogrio.write_dataframe(buildings_frame().set_crs("EPSG:4326", allow_override=True), p,
                            layer="metres")
    return (["validate", str(p)], 2, [],
            f"错误：文件 {p}，图层 metres：声明的坐标系为 EPSG:4326（WGS84 经纬度），但坐标值超出经纬度范围"
            f"（x {X0:.0f}～{X0 + 70:.0f}，y {Y0:.0f}～{Y0 + 10:.0f}），像是以米为单位的投影坐标，可能是："
            "EPSG:4550（CGCS2000 3度带高斯-克吕格投影 中央经线123°E）、"
            "EPSG:2386（西安80 3度带高斯-克吕格投影 中央经线123°E）、"
            "EPSG:2438（北京54 3度带高斯-克吕格投影 中央经线123°E）、"
            "EPSG:4798（新北京54 3度带高斯-克吕格投影 中央经线123°E）、"
            "EPSG:4510（CGCS2000 6度带高斯-克吕格投影 中央经线123°E）、"
            "EPSG:32651（WGS84 UTM 第51带）\n")


def c_degrees_declared_metres(tmp: Path):
    p = tmp / "degrees.csv"
    p.write_text(f"编号,经度,纬度\nA,{LON0},{LAT0}\n", encoding="utf-8")
    return (["validate", str(p), "--crs", "4550"], 2, [],
            f"错误：文件 {p}，图层 degrees：声明的坐标系为 EPSG:4550（CGCS2000 3度带高斯-克吕格投影 中央经线123°E）"
            f"（米），但坐标值像经纬度（x {LON0:.4f}～{LON0:.4f}，y {LAT0:.4f}～{LAT0:.4f}），"
            "可能是 EPSG:4326 或 EPSG:4490\n")


def c_unknown_crs_option(tmp: Path):
    p = tmp / "any.csv"
    p.write_text(f"编号,经度,纬度\nA,{LON0},{LAT0}\n", encoding="utf-8")
    return (["validate", str(p), "--crs", "mars"], 2, [],
            f"错误：文件 {p}，图层 any：无法识别命令行 --crs：mars\n")


def c_duplicate_ids(tmp: Path):
    p = tmp / "toilets.csv"
    p.write_text("公厕编号,公厕名称,经度,纬度\nT1,甲,122.73,48.01\nT2,乙,122.74,48.02\n"
                 "T1,丙,122.75,48.03\n", encoding="utf-8")
    return (["validate", str(p), "--kind", "toilets", "--crs", "gcj02"], 1,
            ["toilets（公共厕所）：读入 3 行，载入 2 行，剔除 1 行",
             f"文件 {p}，图层 toilets，第 4 行，字段 公厕编号：编号“T1”重复（与第 2 行相同），该行已剔除（已剔除）"],
            "")


def c_empty_layer(tmp: Path):
    p = tmp / "empty.gpkg"
    pyogrio.write_dataframe(buildings_frame().iloc[:0], p, layer="empty")
    return (["validate", str(p)], 1,
            ["empty：读入 0 行，载入 0 行，警告 1 条",
             f"文件 {p}，图层 empty：图层没有任何要素（0 行）（警告）"], "")


def c_dxf_unknown_layers(tmp: Path):
    lines = [shapely.LineString([(X0, Y0), (X0 + 50, Y0), (X0 + 50, Y0 + 20), (X0, Y0 + 20),
                                 (X0, Y0)]),
             shapely.LineString([(X0, Y0 + 100), (X0 + 50, Y0 + 100), (X0 + 50, Y0 + 120),
                                 (X0, Y0 + 120), (X0, Y0 + 100)]),
             shapely.LineString([(X0, Y0), (X0 + 80, Y0 + 80)])]
    g = gpd.GeoDataFrame({"Layer": ["道路红线", "绿线", "临时标注"]}, geometry=lines, crs="EPSG:4550")
    p = tmp / "plan.dxf"
    pyogrio.write_dataframe(g, p, driver="DXF")
    return (["validate", str(p), "--crs", "EPSG:4550"], 1,
            ["red_lines（道路红线）：读入 1 行，载入 1 行", "green_lines（城市绿线）：读入 1 行，载入 1 行",
             "plan（未登记的 CAD 图层）：读入 1 行，载入 0 行，剔除 1 行",
             f"文件 {p}，图层 plan，第 3 行，字段 图层：CAD 图层“临时标注”未在图层目录的 dxf_layers 中登记"
             f"（已登记：{'、'.join(sorted(_dxf_names()))}），该实体未载入（已剔除）"], "")


def _dxf_names() -> list[str]:
    raw = yaml.safe_load(DEFAULT_CATALOG.read_text(encoding="utf-8"))
    return [n for spec in raw["layers"].values() for n in spec.get("dxf_layers") or ()]


def c_csv_text_coordinates(tmp: Path):
    p = tmp / "textcoords.csv"
    p.write_text("编号,经度,纬度\nA,122.73,48.01\nB,东经122度,48.02\nC,,\n", encoding="utf-8")
    return (["validate", str(p), "--crs", "EPSG:4326"], 1,
            ["textcoords：读入 3 行，载入 1 行，剔除 2 行",
             f"文件 {p}，图层 textcoords，第 3 行，字段 经度：坐标“东经122度”不是数字，该行已剔除（已剔除）",
             f"文件 {p}，图层 textcoords，第 4 行，字段 经度：坐标为空，该行已剔除（已剔除）"], "")


def c_csv_without_coordinates(tmp: Path):
    p = tmp / "nocoords.csv"
    p.write_text("编号,地址\nA,中央路1号\n", encoding="utf-8")
    return (["validate", str(p)], 2, [],
            f"错误：文件 {p}：表格中找不到坐标列（应有 经度/纬度、lon/lat 或 X/Y 两列表头）\n")


def c_gbk_csv(tmp: Path):
    p = tmp / "gbk.csv"
    p.write_bytes("公厕编号,公厕名称,经度,纬度\nT1,河西公厕,122.73,48.01\n".encode("gbk"))
    return (["validate", str(p), "--kind", "toilets", "--crs", "gcj02"], 0,
            ["gbk（公共厕所）：读入 1 行，载入 1 行", "检查通过，未发现问题"], "")


def c_xlsx_two_row_header(tmp: Path):
    p = tmp / "patrol.xlsx"
    rows = [["扎兰屯市公厕点位表", None, None, None],
            ["基本信息", None, "坐标", None],
            ["公厕编号", "公厕名称", "经度", "纬度"],
            ["T1", "北门公厕", LON0, LAT0],
            ["T2", "南门公厕", LON0 + 0.01, LAT0 + 0.01]]
    pd.DataFrame(rows).to_excel(p, header=False, index=False)
    return (["validate", str(p), "--kind", "toilets", "--crs", "gcj02"], 0,
            ["patrol（公共厕所）：读入 2 行，载入 2 行", "检查通过，未发现问题"], "")


def c_xlsx_units_row(tmp: Path):
    p = tmp / "units.xlsx"
    rows = [["公厕编号", "公厕名称", "经度", "纬度"], ["", "", "（度）", "（度）"],
            ["T1", "北门公厕", LON0, "四十八"]]
    pd.DataFrame(rows).to_excel(p, header=False, index=False)
    return (["validate", str(p), "--kind", "toilets", "--crs", "gcj02"], 1,
            ["units（公共厕所）：读入 1 行，载入 0 行，剔除 1 行",
             f"文件 {p}，图层 units，第 3 行，字段 纬度：坐标“四十八”不是数字，该行已剔除（已剔除）"], "")


def c_corrupt_xlsx(tmp: Path):
    p = tmp / "corrupt.xlsx"
    p.write_bytes(b"PK\x03\x04 not really a zip")
    return ["validate", str(p)], 2, [], f"错误：文件 {p}：表格文件无法读取（可能已损坏或不是 CSV/XLSX）\n"


def c_plain_parquet(tmp: Path):
    p = tmp / "plain.parquet"
    pd.DataFrame({"a": [1, 2]}).to_parquet(p)
    return (["validate", str(p)], 2, [],
            f"错误：文件 {p}：Parquet 文件没有 GeoParquet 几何元数据（不是 GeoParquet）\n")


def c_wrong_type_and_domain(tmp: Path):
    g = buildings_frame(3)
    g["层数"] = ["3", "三层", "4"]
    g.loc[2, "建筑用途"] = "别墅"
    p = tmp / "attrs.gpkg"
    pyogrio.write_dataframe(g, p, layer="attrs")
    return (["validate", str(p), "--kind", "buildings"], 1,
            ["attrs（建筑物）：读入 3 行，载入 1 行，剔除 2 行",
             f"文件 {p}，图层 attrs，第 2 行，字段 层数：值“三层”不是整数，该行已剔除（已剔除）",
             f"文件 {p}，图层 attrs，第 3 行，字段 建筑用途：值“别墅”不在允许值（住宅、商业、办公、公共服务、工业、"
             "仓储、市政设施、公园服务、其他）中，该行已剔除（已剔除）"], "")


def c_out_of_range_optional(tmp: Path):
    g = buildings_frame(2)
    g["建成年份"] = [1850, 2001]
    p = tmp / "year.gpkg"
    pyogrio.write_dataframe(g, p, layer="year")
    return (["validate", str(p), "--kind", "buildings"], 1,
            [f"文件 {p}，图层 year，第 1 行，字段 建成年份：数值 1850 超出范围（1900～2030），已置空（警告）"], "")


def c_missing_required_field(tmp: Path):
    g = buildings_frame(2).drop(columns=["审批状态"])
    p = tmp / "nofield.gpkg"
    pyogrio.write_dataframe(g, p, layer="nofield")
    return (["validate", str(p), "--kind", "buildings"], 1,
            ["nofield（建筑物）：读入 2 行，载入 0 行，剔除 2 行",
             f"文件 {p}，图层 nofield，字段 permit_status：缺少必填字段 permit_status（可用列名：规划许可、审批状态），"
             "全部 2 行未载入（已剔除）"], "")


def c_missing_layer_in_gpkg(tmp: Path):
    p = tmp / "layers.gpkg"
    pyogrio.write_dataframe(buildings_frame(), p, layer="b")
    return (["validate", str(p), "--layer", "roads"], 2, [],
            f"错误：文件 {p}，图层 roads：文件中没有图层 roads（有：b）\n")


def c_unknown_kind(tmp: Path):
    p = tmp / "k.gpkg"
    pyogrio.write_dataframe(buildings_frame(), p, layer="k")
    return (["validate", str(p), "--kind", "spaceship"], 2, [],
            "错误：未知的 --kind spaceship：应为图层目录中的图层编号（如 buildings）、类别（如 building）"
            "或几何类型（point/line/polygon）\n")


def c_gcj02_clean(tmp: Path):
    lng, lat = wgs84_to_gcj02([LON0, LON0 + 0.01], [LAT0, LAT0 + 0.01])
    p = tmp / "gaode.csv"
    p.write_text(f"公厕编号,公厕名称,经度,纬度\nT1,甲,{lng[0]},{lat[0]}\nT2,乙,{lng[1]},{lat[1]}\n",
                 encoding="utf-8")
    return (["validate", str(p), "--kind", "toilets", "--crs", "gcj02"], 0,
            ["gaode（公共厕所）：读入 2 行，载入 2 行", "检查通过，未发现问题"], "")


def c_unknown_catalog_layer(tmp: Path):
    return (["validate", "nosuchlayer"], 2, [],
            f"错误：文件 {DEFAULT_CATALOG.resolve()}：图层目录中没有图层 nosuchlayer\n")


def c_dxf_unknown_entity_only(tmp: Path):
    p = tmp / "garbage.dxf"
    p.write_text("0\nSECTION\n2\nENTITIES\n0\nNONSENSE\n", encoding="ascii")
    return (["validate", str(p)], 2, [],
            f"错误：文件 {p}：DXF 图纸中没有可读取的图形（ENTITIES 段为空，或其中的实体都无法识别）\n")


def c_character_device(tmp: Path):
    return (["validate", "/dev/urandom"], 2, [],
            "错误：文件 /dev/urandom：不是普通文件（设备、管道或套接字），不能作为数据读取\n")


def c_proc_file(tmp: Path):
    return (["validate", "/proc/self/environ"], 2, [],
            "错误：文件 /proc/self/environ：是系统虚拟文件（如 /proc、/sys 下的文件），不是数据文件\n")


def c_named_pipe(tmp: Path):
    import os

    p = tmp / "pipe.gpkg"
    os.mkfifo(p)
    return (["validate", str(p)], 2, [],
            f"错误：文件 {p}：不是普通文件（设备、管道或套接字），不能作为数据读取\n")


CASES = {name[2:]: fn for name, fn in list(globals().items()) if name.startswith("c_")}


def test_corpus_is_large_enough() -> None:
    assert len(CASES) >= 30


@pytest.mark.parametrize("name", sorted(CASES))
def test_bad_input_corpus(name: str, tmp_path: Path, capsys) -> None:
    argv, code, lines, err = CASES[name](tmp_path)
    rc, out, stderr = run(capsys, *argv)
    got = out.splitlines()
    for line in lines:
        assert line in got, f"{name}: missing line\n{line}\n--- got ---\n{out}"
    assert stderr == err
    assert rc == code
    assert "Traceback" not in out + stderr


# ------------------------------------------------------------------------------------------------
# catalog mode: a small city written here
# ------------------------------------------------------------------------------------------------

@pytest.fixture()
def city(tmp_path: Path) -> Path:
    raw = yaml.safe_load(DEFAULT_CATALOG.read_text(encoding="utf-8"))
    raw["data_dir"] = "."
    raw["layers"] = {k: raw["layers"][k] for k in ("boundary", "dem", "buildings", "toilets")}
    raw["layers"]["toilets"]["source"] = {"path": "toilets.csv"}
    (tmp_path / "catalog.yaml").write_text(yaml.safe_dump(raw, allow_unicode=True),
                                           encoding="utf-8")
    bnd = gpd.GeoDataFrame({"行政区划代码": ["150783"], "名称": ["扎兰屯市"]},
                           geometry=[shapely.box(X0 - 5000, Y0 - 5000, X0 + 5000, Y0 + 5000)],
                           crs="EPSG:4550")
    pyogrio.write_dataframe(bnd, tmp_path / "boundary.gpkg", layer="boundary")
    pyogrio.write_dataframe(buildings_frame(), tmp_path / "buildings.gpkg", layer="buildings")
    lng, lat = wgs84_to_gcj02([LON0], [LAT0])
    (tmp_path / "toilets.csv").write_text(f"公厕编号,公厕名称,经度,纬度\nT1,甲,{lng[0]},{lat[0]}\n",
                                          encoding="utf-8")
    import rasterio
    from rasterio.transform import from_origin

    with rasterio.open(tmp_path / "dem.tif", "w", driver="GTiff", width=4, height=4, count=1,
                       dtype="float32", crs="EPSG:4550",
                       transform=from_origin(X0 - 5000, Y0 + 5000, 2500, 2500)) as ds:
        ds.write(np.ones((1, 4, 4), dtype="float32"))
    return tmp_path


def test_validate_catalog_clean(city: Path, capsys) -> None:
    rc, out, err = run(capsys, "validate", "--catalog", str(city / "catalog.yaml"))
    assert rc == 0, out + err
    assert "buildings（建筑物）：读入 3 行，载入 3 行" in out.splitlines()
    assert out.splitlines()[-1] == "检查通过，未发现问题"
    assert err == ""


@pytest.mark.parametrize("cache_layers", [True, False])
def test_validate_catalog_reads_unchanged_layers_from_the_cache(city: Path, capsys, monkeypatch,
                                                                cache_layers: bool) -> None:
    """As in the weekly run: a layer validated before and unchanged since comes back from the
    layer cache with the same report; with ``run.cache_layers: false`` it is validated again."""
    import importlib

    monkeypatch.setenv("ZLGIS_CACHE_DIR", str(city / "cache"))
    if not cache_layers:
        (city / "over").mkdir()
        (city / "over" / "ledger.yaml").write_text("run:\n  cache_layers: false\n", "utf-8")
        monkeypatch.setenv("ZLGIS_CONFIG_DIR", str(city / "over"))
    argv = ("validate", "--catalog", str(city / "catalog.yaml"), "--json")
    first = run(capsys, *argv)
    validated = []
    load = importlib.import_module("zlgis.validate.load")
    real = load.validate_frame
    monkeypatch.setattr(load, "validate_frame",
                        lambda *a, **k: validated.append(1) or real(*a, **k))
    assert run(capsys, *argv) == first and first[0] == 0
    assert bool(validated) is not cache_layers


def test_validate_catalog_json_and_report(city: Path, capsys, tmp_path: Path) -> None:
    g = buildings_frame(3)
    g.loc[1, "geometry"] = shapely.box(X0 + 20_000, Y0, X0 + 20_010, Y0 + 10)  # 20 km away
    pyogrio.write_dataframe(g, city / "buildings.gpkg", layer="buildings")
    report = tmp_path / "report.csv"
    rc, out, err = run(capsys, "validate", "buildings", "--catalog", str(city / "catalog.yaml"),
                       "--json", "--report", str(report))
    assert rc == 1
    data = json.loads(out)
    [issue] = data["issues"]
    assert issue["code"] == "outside_boundary" and issue["row"] == 2
    assert issue["action"] == "warning" and issue["layer"] == "buildings"
    assert data["layers"][0]["rows_loaded"] == 3
    back = pd.read_csv(report, encoding="utf-8-sig")
    assert back["code"].tolist() == ["outside_boundary"]


def test_validate_catalog_wrong_declared_crs(city: Path, capsys) -> None:
    g = buildings_frame(3)
    g = g.set_geometry(shapely.transform(g.geometry.array, lambda xy: xy + [41_000_000, 0]))
    pyogrio.write_dataframe(g.set_crs("EPSG:4550", allow_override=True),
                            city / "buildings.gpkg", layer="buildings")
    rc, out, err = run(capsys, "validate", "buildings", "--catalog", str(city / "catalog.yaml"))
    assert rc == 2
    assert err == (f"错误：文件 {city / 'buildings.gpkg'}，图层 buildings：声明的坐标系为 EPSG:4550"
                   "（CGCS2000 3度带高斯-克吕格投影 中央经线123°E），但按它换算后数据不在本市范围内；按坐标范围可能是："
                   "EPSG:4529（CGCS2000 3度带高斯-克吕格投影 第41带（东坐标带带号））、"
                   "EPSG:2365（西安80 3度带高斯-克吕格投影 第41带（东坐标带带号））、"
                   "EPSG:2417（北京54 3度带高斯-克吕格投影 第41带（东坐标带带号））、"
                   "EPSG:4777（新北京54 3度带高斯-克吕格投影 第41带（东坐标带带号））\n")


def test_validate_catalog_missing_file_is_exit_2(city: Path, capsys) -> None:
    (city / "toilets.csv").unlink()
    rc, out, err = run(capsys, "validate", "--catalog", str(city / "catalog.yaml"))
    assert rc == 2
    assert err == f"错误：文件 {city / 'toilets.csv'}，图层 toilets：文件不存在\n"
    assert "buildings（建筑物）：读入 3 行，载入 3 行" in out  # the other layers were still checked


def test_layers_lists_counts(city: Path, capsys) -> None:
    rc, out, err = run(capsys, "layers", "--catalog", str(city / "catalog.yaml"), "--json")
    data = json.loads(out)
    counts = {r["id"]: r["features"] for r in data["layers"]}
    assert counts["buildings"] == 3 and counts["toilets"] == 1 and counts["boundary"] == 1
    assert {r["id"]: r["status"] for r in data["layers"]}["dem"] == "栅格 4×4"
    # the small catalog lacks most campaign layers: optional (exit 0), the text form names
    # them and the checks they disable
    assert rc == 0 and data["exit_code"] == 0 and data["problems"] == []
    assert data["missing_optional"][:2] == ["roads", "red_lines"]
    rc2, text, _ = run(capsys, "layers", "--catalog", str(city / "catalog.yaml"))
    assert rc2 == 0
    assert any(line.startswith("图层目录未包含以下活动图层（可选，缺少时相关检查不运行）：roads、red_lines")
               for line in text.splitlines())
    assert "  缺少图层 red_lines（道路红线）：以下检查不能运行：压占红线" in text
    assert "buildings" in text and "3 个要素" in text


def test_layers_exit_1_for_real_problems_only(city: Path, capsys) -> None:
    """A layer the catalog names whose file is missing, or no boundary layer: exit 1."""
    (city / "toilets.csv").unlink()
    rc, out, _ = run(capsys, "layers", "--catalog", str(city / "catalog.yaml"), "--json")
    data = json.loads(out)
    assert rc == 1 and data["problems"] == ["toilets"]
    assert data["disables"]["toilets"] == ["toilet_uncovered"]
    raw = yaml.safe_load((city / "catalog.yaml").read_text(encoding="utf-8"))
    raw["layers"] = {k: v for k, v in raw["layers"].items() if k != "boundary"}
    raw["layers"]["toilets"]["source"] = {"path": "buildings.gpkg"}     # exists again
    (city / "catalog.yaml").write_text(yaml.safe_dump(raw, allow_unicode=True), encoding="utf-8")
    rc, out, _ = run(capsys, "layers", "--catalog", str(city / "catalog.yaml"))
    assert rc == 1 and "图层目录没有市界图层 boundary：无法检查范围" in out.splitlines()


def test_demo_city_validates_clean(demo_catalog, capsys) -> None:
    rc, out, err = run(capsys, "--quiet", "validate", "--catalog", str(demo_catalog.path))
    assert (rc, err) == (0, "")
    assert out.splitlines()[-1] == "检查通过，未发现问题"
    assert "buildings（建筑物）：读入" in out


def test_layer_options_only_with_a_path(city: Path, capsys) -> None:
    rc, out, err = run(capsys, "validate", "buildings", "--kind", "buildings", "--catalog",
                       str(city / "catalog.yaml"))
    assert rc == 2
    assert err == ("错误：--layer、--kind 和 --encoding 只用于检查单个文件（zlgis validate PATH ...）"
                   "；图层目录中的图层请在 source 中写 encoding\n")


def test_debug_shows_traceback_quiet_is_silent(tmp_path: Path, capsys) -> None:
    p = tmp_path / "zero.gpkg"
    p.write_bytes(b"")
    rc, out, err = run(capsys, "--debug", "validate", str(p))
    assert rc == 2 and "Traceback" in err
    rc, out, err = run(capsys, "--quiet", "validate", str(p))
    assert rc == 2 and err == f"错误：文件 {p}：文件为空（0 字节）\n"


def test_installed_entry_point(tmp_path: Path) -> None:
    """The `zlgis` console script (installed with the package) behaves like main()."""
    exe = shutil.which("zlgis", path=str(Path(sys.executable).parent)) or "zlgis"
    p = tmp_path / "nulls.gpkg"
    g = buildings_frame(2)
    g.loc[0, "geometry"] = None
    pyogrio.write_dataframe(g, p, layer="nulls")
    env = dict(os.environ, PYTHONIOENCODING="utf-8")
    res = subprocess.run([exe, "validate", str(p), "--json"], capture_output=True, text=True,
                         timeout=120, env=env)
    assert res.returncode == 1, res.stderr
    data = json.loads(res.stdout)
    assert [(i["row"], i["code"]) for i in data["issues"]] == [(1, "null_geometry")]
    assert res.stderr == ""  # not a TTY: no progress lines


def test_layers_marks_what_each_missing_layer_disables(realdata, capsys):
    """Swellendam has no toilets and no truck data: `zlgis layers` says which checks that
    disables (from each rule's `needs` in the rule registry)."""
    import json

    from zlgis.io.examples import example_catalog

    cat = str(example_catalog("swellendam"))
    assert main(["layers", "--catalog", cat]) == 0  # campaign layers missing: optional
    out = capsys.readouterr().out
    assert "  缺少图层 toilets（公共厕所）：以下检查不能运行：公厕盲区" in out.splitlines()
    main(["layers", "--catalog", cat, "--json"])
    data = json.loads(capsys.readouterr().out)
    assert data["disables"]["toilets"] == ["toilet_uncovered"]
    assert "roads" not in data["disables"] and "buildings" not in data["disables"]


def test_layers_exit_0_on_the_helsinki_example(helsinki_catalog, capsys):
    """A real city (zlgis init on the Helsinki extract) lacks campaign layers (no DEM, no truck
    data): they are listed with the checks they disable, and the exit code is 0."""
    assert main(["layers", "--catalog", str(helsinki_catalog), "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["problems"] == [] and "truck_no_parking_zones" in data["missing_optional"]
    assert "no_parking_zone" in data["disables"]["truck_no_parking_zones"]


def _loaded_rows(catalog_path: Path) -> dict[str, int]:
    """Rows read by loading each vector layer of a catalog (``read_layer(...).rows_in``)."""
    from zlgis.catalog import Catalog
    from zlgis.validate import read_layer

    catalog = Catalog.load(catalog_path)
    return {lid: read_layer(catalog, lid).rows_in for lid, spec in catalog.layers.items()
            if spec.kind != "raster" and not spec.derived}


def _listed_counts(capsys, catalog_path: Path) -> dict[str, int]:
    main(["layers", "--catalog", str(catalog_path), "--json"])
    return {r["id"]: r["features"] for r in json.loads(capsys.readouterr().out)["layers"]
            if r["features"] is not None}


def test_layers_counts_equal_the_loaded_rows_on_the_demo_city(demo_catalog, capsys) -> None:
    """Every count `zlgis layers` prints (GeoPackage by SQL, CSV/XLSX without pandas) is the
    number of rows loading the layer reads; the demo city has CSV and XLSX layers."""
    from zlgis.io.readers import count_features

    listed = _listed_counts(capsys, demo_catalog.path)
    loaded = _loaded_rows(demo_catalog.path)
    assert listed == loaded and len(loaded) >= 50
    tables = {lid for lid, s in demo_catalog.layers.items()
              if s.path is not None and s.path.suffix in (".csv", ".xlsx")}
    assert len(tables) >= 3
    assert {lid: count_features(demo_catalog[lid].path) for lid in tables} == {
        lid: loaded[lid] for lid in tables}


def test_layers_counts_equal_the_loaded_rows_on_the_helsinki_example(helsinki_catalog,
                                                                      capsys) -> None:
    """Helsinki's point and area layers are picked from shared OSM layers by `filter`: the
    count is what the filter keeps (it was the whole OSM layer, 8,046 points for 18 toilets)."""
    from zlgis.catalog import Catalog
    from zlgis.io.feature_count import quick_count

    listed = _listed_counts(capsys, helsinki_catalog)
    loaded = _loaded_rows(helsinki_catalog)
    assert listed == loaded and len(loaded) >= 10
    toilets = Catalog.load(helsinki_catalog)["toilets"]
    assert toilets.filter and listed["toilets"] < quick_count(toilets.path, toilets.layer)
