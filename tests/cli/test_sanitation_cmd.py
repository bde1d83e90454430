"""``zlgis check sanitation`` on a small town written in tmp_path (real loader, real CLI):
bad sweeper tracks are listed with their file row and reason and nothing is lost."""

from __future__ import annotations

import json
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import yaml
from shapely.geometry import LineString

from zlgis.catalog import Catalog
from zlgis.cli import main

X0, Y0 = 480_000.0, 5_317_000.0
CRS = "EPSG:4550"


def _town(tmp: Path) -> tuple[Path, int]:
    raw = Catalog.load().raw
    keep = ("roads", "sweeper_tracks")
    raw = {**raw, "data_dir": ".", "layers": {k: raw["layers"][k] for k in keep}}
    gpd.GeoDataFrame({"道路编号": ["R1", "R2"], "道路名称": ["中央街", "兴华路"],
                      "道路等级": ["主干路", "次干路"], "红线宽度": [40.0, 30.0]},
                     geometry=[LineString([(X0, Y0), (X0 + 1000, Y0)]),
                               LineString([(X0, Y0 + 400), (X0 + 1000, Y0 + 400)])],
                     crs=CRS).to_file(tmp / "roads.gpkg", layer="roads")
    rng = np.random.default_rng(1)
    x = np.arange(0, 1001, 20.0)                       # 中央街 swept end to end, 8 km/h
    t = pd.Timestamp("2022-08-29 05:00") + pd.to_timedelta(np.arange(len(x)) * 9, "s")
    df = pd.DataFrame({"车辆编号": "SX01", "车辆类型": "扫路车", "定位时间": t,
                       "x": X0 + x, "y": Y0 + rng.normal(0, 5, len(x))})
    df.loc[30, "x"] += 50_000                         # a fix 50 km away
    df = pd.concat([df, df.iloc[[5]]], ignore_index=True)       # a duplicate, out of order
    df.loc[10:14] = df.loc[10:14].iloc[::-1].to_numpy()         # five rows reversed
    ll = gpd.GeoSeries(gpd.points_from_xy(df["x"], df["y"]), crs=CRS).to_crs("EPSG:4326")
    df = df.drop(columns=["x", "y"]).assign(经度=ll.x.round(8), 纬度=ll.y.round(8))
    df.insert(0, "序号", [f"F{i}" for i in range(len(df))])
    df["定位时间"] = pd.to_datetime(df["定位时间"]).dt.strftime("%Y-%m-%d %H:%M:%S")
    df.to_csv(tmp / "sweeper_tracks.csv", index=False)
    cat = tmp / "catalog.yaml"
    cat.write_text(yaml.safe_dump(raw, allow_unicode=True, sort_keys=False), encoding="utf-8")
    return cat, len(df)


def test_bad_tracks_are_reported_and_nothing_is_lost(tmp_path, capsys):
    cat, n = _town(tmp_path)
    code = main(["check", "sanitation", "--catalog", str(cat), "--out", str(tmp_path / "out"),
                 "--json"])
    assert code == 1                                   # 兴华路 never swept: findings
    out = json.loads(capsys.readouterr().out)
    assert out["by_rule"] == {"road_never_swept": 1, "sweeping_share_low": 1}
    # the other rules say why they were not checked, in Chinese
    assert any(n.startswith("未检查：废物箱间隔大（缺少图层 litter_bins") for n in out["notes"])
    sweep = {r["group"]: r for r in out["sweeping"]}
    # 中央街 (1 km of 2 km, 40 m of 70 m width-weighted area) swept in full
    assert sweep["中央街"]["share_length"] > 0.97
    assert abs(sweep["主次干道"]["share_area"] - 40 / 70) < 0.02
    report = pd.read_csv(tmp_path / "out" / "track_problems.csv", encoding="utf-8-sig")
    assert set(report.columns) >= {"行号", "车辆编号", "问题", "处理"}
    by = report.groupby("问题")["行号"].apply(set)
    # file rows are 1-based data rows: the jump is row 31, the duplicate the last row
    assert [k for k in by.index if k.startswith("位置跳变")] == ["位置跳变（距前一点 50.0 km）"]
    assert by["位置跳变（距前一点 50.0 km）"] == {31}
    assert by["重复定位点（同一车辆、同一时刻、同一位置）"] == {n}
    assert by["定位时间早于前一行（时间倒序）"] >= {12, 13, 14, 15}
    findings = pd.read_csv(tmp_path / "out" / "sanitation_findings.csv", encoding="utf-8-sig")
    assert len(findings) == 2
    assert (tmp_path / "out" / "sanitation_tables.xlsx").exists()


def test_unreadable_tracks_exit_2(tmp_path, capsys):
    cat, _ = _town(tmp_path)
    (tmp_path / "sweeper_tracks.csv").write_bytes(b"\x00\x01garbage")
    code = main(["check", "sanitation", "--catalog", str(cat), "--out", str(tmp_path / "o")])
    err = capsys.readouterr().err
    assert code == 2 and "sweeper_tracks" in err and "Traceback" not in err
