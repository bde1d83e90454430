"""``zlgis check municipal`` on a small catalog written in tmp_path (real loader, real CLI)."""

from __future__ import annotations

import json
from pathlib import Path

import geopandas as gpd
import pandas as pd
import yaml
from shapely.geometry import box

from zlgis.catalog import Catalog
from zlgis.cli import main

X0, Y0 = 480_000.0, 5_317_000.0
CRS = "EPSG:4550"


def _city(tmp: Path) -> Path:
    raw = Catalog.load().raw
    keep = ("road_works_permits", "road_works")
    raw = {**raw, "data_dir": ".", "boundary_layer": None,
           "layers": {k: raw["layers"][k] for k in keep}}
    gpd.GeoDataFrame({"许可编号": ["XK1", "XK2"], "开始日期": ["2022-08-20", "2022-09-01"],
                      "截止日期": ["2022-09-10", "2022-08-20"],  # XK2 ends before it starts
                      "恢复期限": ["2022-09-15", "2022-09-30"]},
                     geometry=[box(X0, Y0, X0 + 40, Y0 + 8), box(X0 + 100, Y0, X0 + 140, Y0 + 8)],
                     crs=CRS).to_file(tmp / "road_works_permits.gpkg", layer="road_works_permits")
    gpd.GeoDataFrame({"记录编号": ["W1", "W2"], "巡查日期": ["2022-09-02", "2022-09-02"],
                      "状态": ["施工中", "施工中"]},
                     geometry=[box(X0 + 5, Y0, X0 + 35, Y0 + 8),
                               box(X0 + 105, Y0, X0 + 135, Y0 + 8)], crs=CRS).to_file(
        tmp / "road_works.gpkg", layer="road_works")
    path = tmp / "catalog.yaml"
    path.write_text(yaml.safe_dump(raw, allow_unicode=True), encoding="utf-8")
    return path


def test_permit_ending_before_its_start_is_named_and_nothing_lost(tmp_path, capsys):
    cat = _city(tmp_path)
    code = main(["check", "municipal", "--catalog", str(cat), "--out", str(tmp_path / "out"),
                 "--as-of", "2022-09-04", "--json"])
    assert code == 1
    cap = capsys.readouterr()
    info = json.loads(cap.out)
    # W1 lies in its valid permit; W2's only permit was rejected, so W2 has no permit
    assert info["by_rule"] == {"roadworks_no_permit": 1}
    assert info["problems"] == 1
    assert "Traceback" not in cap.err
    assert ("road_works_permits.gpkg 图层 road_works_permits 第 2 行（XK2）字段 end_date：许可截止日期 "
            "2022-08-20 早于开始日期 2022-09-01") in cap.err
    # the other checks say why they did not run
    assert "未检查：古树保护范围被占（缺少图层 trees）" in cap.err
    p = pd.read_csv(tmp_path / "out" / "municipal_problems.csv", encoding="utf-8-sig")
    assert p[["图层", "行号", "编号", "字段"]].values.tolist() == [["road_works_permits", 2, "XK2",
                                                                  "end_date"]]
