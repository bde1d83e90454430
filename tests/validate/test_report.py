"""zlgis.validate.report: the issue table, its CLI lines and its CSV/JSON files."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd

from zlgis.validate.report import (
    ISSUE_COLUMNS,
    concat_issues,
    empty_issues,
    format_issues,
    make_issues,
    summarize_issues,
    write_issues,
)


def sample() -> pd.DataFrame:
    a = make_issues("roads", "/d/roads.gpkg", rows=[2, 5], codes="duplicate_id",
                    messages=["编号“R1”重复", "编号“R2”重复"], actions="rejected", fields="道路编号")
    b = make_issues("roads", "/d/roads.gpkg", rows=[None], codes="crs_inferred",
                    messages="坐标系由坐标范围推断", actions="warning")
    return concat_issues([a, empty_issues(), b])


def test_columns_and_lines() -> None:
    df = sample()
    assert df.columns.tolist() == ISSUE_COLUMNS == ["layer", "path", "row", "field", "code",
                                                    "message", "action"]
    assert df["row"].dtype == "Int64"
    assert format_issues(df) == [
        "文件 /d/roads.gpkg，图层 roads，第 2 行，字段 道路编号：编号“R1”重复（已剔除）",
        "文件 /d/roads.gpkg，图层 roads，第 5 行，字段 道路编号：编号“R2”重复（已剔除）",
        "文件 /d/roads.gpkg，图层 roads：坐标系由坐标范围推断（警告）"]
    assert format_issues(df, limit=1)[-1] == "……另有 2 条问题未显示（用 --json 或报告文件查看全部）"


def test_write_csv_and_json(tmp_path: Path) -> None:
    df = sample()
    write_issues(df, tmp_path / "r.csv")
    back = pd.read_csv(tmp_path / "r.csv", encoding="utf-8-sig", dtype={"row": "Int64"})
    assert back["message"].tolist() == df["message"].tolist()
    assert (tmp_path / "r.csv").read_bytes().startswith(b"\xef\xbb\xbf")  # Excel reads UTF-8
    write_issues(df, tmp_path / "r.json")
    data = json.loads((tmp_path / "r.json").read_text(encoding="utf-8"))
    assert [d["row"] for d in data] == [2, 5, None]
    assert not list(tmp_path.glob(".*tmp*"))  # atomic: no temporary file left behind


def test_summary() -> None:
    s = summarize_issues(sample())
    assert s.set_index("code")["count"].to_dict() == {"crs_inferred": 1, "duplicate_id": 2}
