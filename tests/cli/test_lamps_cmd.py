"""``zlgis check lamps`` on a small street written in tmp_path (real loader, real CLI)."""

from __future__ import annotations

import json
from pathlib import Path

import geopandas as gpd
import pandas as pd
import yaml
from shapely.geometry import LineString, Point

from zlgis.catalog import Catalog
from zlgis.cli import main

X0, Y0 = 480_000.0, 5_317_000.0
CRS = "EPSG:4550"


def _city(tmp: Path, *, bad: bool = False) -> Path:
    raw = Catalog.load().raw
    keep = ("roads", "street_lamps", "lamp_faults")
    raw = {**raw, "data_dir": ".", "boundary_layer": None,
           "layers": {k: raw["layers"][k] for k in keep}}
    gpd.GeoDataFrame({"道路编号": ["R1"], "道路名称": ["中央街"], "道路等级": ["主干路"],
                      "红线宽度": [40.0], "片区": ["河东"]},
                     geometry=[LineString([(X0, Y0), (X0 + 315, Y0)])], crs=CRS).to_file(
        tmp / "roads.gpkg", layer="roads")
    rows = []
    for k in range(10):
        for side in (1, -1):
            dark = k in (4, 5)
            rows.append({"路灯编号": f"L{k}{side}", "道路编号": "R1",
                         "状态": "不亮" if dark else "正常",
                         "geometry": Point(X0 + 35 * k, Y0 + 18 * side)})
    if bad:  # a lamp 400 m from the only road
        rows.append({"路灯编号": "FAR", "道路编号": None, "状态": "正常",
                     "geometry": Point(X0 + 100, Y0 + 400)})
    gpd.GeoDataFrame(rows, geometry="geometry", crs=CRS).to_file(tmp / "street_lamps.gpkg",
                                                                  layer="street_lamps")
    faults = [("GZ1", "L41", "2022-09-01 20:00", "2022-09-02 20:00"),   # exactly 24 h
              ("GZ2", "L51", "2022-09-03 08:00", None)]                 # open 40 h
    if bad:  # repaired before it was reported
        faults.append(("GZ3", "L61", "2022-09-03 08:00", "2022-09-03 07:00"))
    gpd.GeoDataFrame({"故障编号": [f[0] for f in faults], "路灯编号": [f[1] for f in faults],
                      "报告时间": pd.to_datetime([f[2] for f in faults]),
                      "修复时间": pd.to_datetime([f[3] for f in faults])},
                     geometry=[Point(X0, Y0)] * len(faults), crs=CRS).to_file(
        tmp / "lamp_faults.gpkg", layer="lamp_faults")
    path = tmp / "catalog.yaml"
    path.write_text(yaml.safe_dump(raw, allow_unicode=True), encoding="utf-8")
    return path


def test_lamps_command_writes_tables_and_findings(tmp_path, capsys):
    cat = _city(tmp_path)
    code = main(["check", "lamps", "--catalog", str(cat), "--out", str(tmp_path / "out"),
                 "--as-of", "2022-09-04", "--json"])
    assert code == 1
    info = json.loads(capsys.readouterr().out)
    # 20 lamps, 4 dark by status: 16 / 20 = 0.8; GZ2 is on a lamp already dark
    assert info["on_rate"] == 0.8
    assert info["by_rule"] == {"lamp_dark_stretch": 1, "lamp_on_rate": 1, "lamp_fault_overdue": 1}
    assert info["problems"] == 0
    f = pd.read_csv(tmp_path / "out" / "lamps_findings.csv", encoding="utf-8-sig")
    assert len(f) == 3
    rates = pd.read_excel(tmp_path / "out" / "lamps_on_rate.xlsx", sheet_name="按道路")
    assert rates[["道路", "应亮灯数", "亮灯数"]].values.tolist() == [["中央街", 20, 16]]
    sites = gpd.read_file(tmp_path / "out" / "lamps_dark_stretches.gpkg", layer="proposed_sites")
    # one 33.56 m stretch (140.72 to 174.28 m) on a 主干路 at 35 m spacing: one site, mid-way
    assert sites.geometry.x.round(1).tolist() == [X0 + 157.5]


def test_bad_rows_are_listed_with_file_layer_row_and_field(tmp_path, capsys):
    cat = _city(tmp_path, bad=True)
    code = main(["check", "lamps", "--catalog", str(cat), "--out", str(tmp_path / "out"),
                 "--as-of", "2022-09-04"])
    assert code == 1
    err = capsys.readouterr().err
    assert "Traceback" not in err
    assert "lamp_faults.gpkg 图层 lamp_faults 第 3 行（GZ3）字段 repaired_at：修复时间早于报告时间" in err
    assert "street_lamps.gpkg 图层 street_lamps 第 21 行（FAR）字段 geometry：路灯距最近道路超过" in err
    problems = pd.read_csv(tmp_path / "out" / "lamps_problems.csv", encoding="utf-8-sig")
    assert problems["编号"].tolist() == ["GZ3", "FAR"]
    # nothing lost: the far lamp still counts in the city on-rate (17 / 21)
    rates = pd.read_excel(tmp_path / "out" / "lamps_on_rate.xlsx", sheet_name="全市")
    assert rates[["应亮灯数", "亮灯数"]].values.tolist() == [[21, 17]]
