"""Tests for ``zlgis check trucks`` on a small city written in tmp_path (real loader, real CLI)."""

from __future__ import annotations

import json
from pathlib import Path

import geopandas as gpd
import pandas as pd
import pytest
import yaml
from shapely.geometry import LineString, box

from zlgis.analysis.trucks import hash_plates
from zlgis.catalog import Catalog
from zlgis.cli import main
from zlgis.rules import rule

SALT = "cli-test-salt-1234567"
X0, Y0 = 480_000.0, 5_317_000.0
CRS = "EPSG:4550"


def _city(tmp: Path) -> Path:
    raw = Catalog.load().raw
    keep = ("truck_no_parking_zones", "truck_restricted_roads", "truck_pings")
    raw = {**raw, "data_dir": ".", "layers": {k: raw["layers"][k] for k in keep}}
    gpd.GeoDataFrame({"禁停区编号": ["Z1"], "名称": ["中央街禁停区"], "工作日禁停时段": ["07:00-09:00"],
                      "周末禁停时段": [""], "限制车型": [""]},
                     geometry=[box(X0, Y0, X0 + 200, Y0 + 200)], crs=CRS).to_file(
        tmp / "truck_no_parking_zones.gpkg", layer="truck_no_parking_zones")
    gpd.GeoDataFrame({"路段编号": ["S1"], "路段名称": ["人民路"], "限行时段": ["07:00-19:00"],
                      "限行车型": ["重型货车"]},
                     geometry=[LineString([(X0, Y0 + 1000), (X0 + 1000, Y0 + 1000)])],
                     crs=CRS).to_file(tmp / "truck_restricted_roads.gpkg",
                                      layer="truck_restricted_roads")
    rows = []
    t0 = pd.Timestamp("2022-08-01 07:10")
    for m in range(0, 31, 5):  # parked in the zone 07:10-07:40 on a Monday
        rows.append(("蒙E11111", "重型货车", t0 + pd.Timedelta(minutes=m), 0.0, X0 + 50, Y0 + 50))
    for m in range(0, 31, 5):  # parked there after the hours: a near miss
        rows.append(("蒙E22222", "重型货车", t0 + pd.Timedelta(hours=3, minutes=m), 0.0,
                     X0 + 60, Y0 + 60))
    df = pd.DataFrame(rows, columns=["车牌号", "车辆类型", "定位时间", "速度", "x", "y"])
    ll = gpd.GeoSeries(gpd.points_from_xy(df["x"], df["y"]), crs=CRS).to_crs("EPSG:4326")
    df = df.drop(columns=["x", "y"]).assign(经度=ll.x.round(8), 纬度=ll.y.round(8))
    df.insert(0, "序号", [f"G{i}" for i in range(len(df))])
    df["定位时间"] = df["定位时间"].dt.strftime("%Y-%m-%dT%H:%M:%S+08:00")
    df.to_csv(tmp / "truck_pings.csv", index=False)
    cat = tmp / "catalog.yaml"
    cat.write_text(yaml.safe_dump(raw, allow_unicode=True), encoding="utf-8")
    return cat


def test_check_trucks_writes_outputs(tmp_path: Path, monkeypatch, capsys) -> None:
    monkeypatch.setenv("ZLGIS_PLATE_SALT", SALT)
    cat = _city(tmp_path)
    out = tmp_path / "out"
    code = main(["check", "trucks", "--catalog", str(cat), "--out", str(out), "--as-of",
                 "2022-08-07", "--json"])
    assert code == 1
    summary = json.loads(capsys.readouterr().out)
    assert summary["by_rule"] == {"no_parking_zone": 1}
    # the layers this small catalog lacks are named, not silently skipped
    assert any("truck_parking" in n for n in summary["notes"])
    assert any("僵尸车" in n for n in summary["notes"])
    f = gpd.read_file(out / "trucks_findings.gpkg", layer="trucks_findings")
    assert f["feature_id"].tolist() == [hash_plates(["蒙E11111"], SALT)[0]]
    csv = (out / "trucks_findings.csv").read_text(encoding="utf-8-sig")
    assert "问题编号" in csv.splitlines()[0] and rule("no_parking_zone").title in csv
    for blob in (csv, f.to_json()):
        assert "11111" not in blob and "22222" not in blob


def test_check_trucks_clean_week_exits_zero(tmp_path: Path, monkeypatch, capsys) -> None:
    monkeypatch.setenv("ZLGIS_PLATE_SALT", SALT)
    cat = _city(tmp_path)
    code = main(["check", "trucks", "--catalog", str(cat), "--out", str(tmp_path / "o"),
                 "--as-of", "2022-07-20"])
    assert code == 0
    assert "共 0 个问题" in capsys.readouterr().out


def test_check_trucks_without_salt_fails_cleanly(tmp_path: Path, monkeypatch, capsys) -> None:
    monkeypatch.delenv("ZLGIS_PLATE_SALT", raising=False)
    cat = _city(tmp_path)
    code = main(["check", "trucks", "--catalog", str(cat), "--out", str(tmp_path / "o")])
    err = capsys.readouterr().err
    assert code == 2
    assert "ZLGIS_PLATE_SALT" in err and "Traceback" not in err
    assert not (tmp_path / "o").exists()


def test_check_trucks_bad_hours_names_the_row(tmp_path: Path, monkeypatch, capsys) -> None:
    monkeypatch.setenv("ZLGIS_PLATE_SALT", SALT)
    cat = _city(tmp_path)
    z = gpd.read_file(tmp_path / "truck_no_parking_zones.gpkg")
    z["工作日禁停时段"] = ["早上七点"]
    z.to_file(tmp_path / "truck_no_parking_zones.gpkg", layer="truck_no_parking_zones")
    code = main(["check", "trucks", "--catalog", str(cat), "--out", str(tmp_path / "o")])
    err = capsys.readouterr().err
    assert code == 1
    assert "truck_no_parking_zones" in err and "第 1 行" in err and "Traceback" not in err


@pytest.mark.parametrize("bad", ["2022-13-01", "yesterday"])
def test_check_trucks_bad_date(tmp_path: Path, bad: str, capsys) -> None:
    with pytest.raises(SystemExit) as exc:
        main(["check", "trucks", "--out", str(tmp_path), "--as-of", bad])
    assert exc.value.code == 2
    assert "日期" in capsys.readouterr().err


def test_city_without_truck_data_needs_no_salt_and_says_why(realdata, tmp_path, capsys,
                                                            monkeypatch):
    """Swellendam has no truck layers: no plate salt is asked for, and each truck rule that
    cannot run is named with the layer it lacks."""
    from zlgis.io.examples import example_catalog

    monkeypatch.delenv("ZLGIS_PLATE_SALT", raising=False)
    code = main(["check", "trucks", "--catalog", str(example_catalog("swellendam")), "--out",
                 str(tmp_path / "out"), "--quiet"])
    out = capsys.readouterr().out.splitlines()
    assert code == 0
    # no rule can run: one line per rule naming the layers it lacks, nothing written (exit 0,
    # the same for every check command: zlgis.cli.NOTHING_TO_CHECK)
    assert "未检查：货车违停（缺少图层 truck_no_parking_zones、truck_pings）" in out
    assert "未检查：缺少货车停放点（缺少图层 truck_parking）" in out
    assert out[-1] == "大车进城检查：图层目录缺少所需图层，没有可以运行的检查，未写出结果"
    assert not (tmp_path / "out").exists()
