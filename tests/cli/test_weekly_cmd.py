"""``zlgis weekly`` and ``zlgis ledger``: arguments and messages (the runs are tested in
tests/test_weekly.py and tests/ledger/)."""

from __future__ import annotations

import json

import pytest
from shapely.geometry import Point

from zlgis.cli import build_parser, main
from zlgis.findings import make_findings
from zlgis.ledger import Ledger


def test_weekly_arguments():
    p = build_parser()
    a = p.parse_args(["weekly", "--catalog", "c.yaml", "--as-of", "2022-09-01", "--out", "o",
                      "--checks", "controllines,trucks", "--quiet"])
    assert (a.catalog, a.as_of, a.week, a.out, a.checks, a.quiet) == (
        "c.yaml", "2022-09-01", None, "o", "controllines,trucks", True)
    with pytest.raises(SystemExit):
        p.parse_args(["weekly", "--week", "2022-W35", "--as-of", "2022-09-01", "--out", "o"])
    with pytest.raises(SystemExit):
        p.parse_args(["weekly", "--week", "2022-W35"])  # --out is required


def test_weekly_bad_input_messages(tmp_path, capsys):
    assert main(["weekly", "--demo", "--catalog", "c.yaml", "--out", str(tmp_path)]) == 1
    assert "--demo 与 --catalog 不能同时使用" in capsys.readouterr().err
    assert main(["weekly", "--as-of", "2022-13-01", "--out", str(tmp_path)]) == 1
    err = capsys.readouterr().err
    assert err.startswith("错误：") and "2022-13-01" in err
    assert main(["weekly", "--catalog", str(tmp_path / "none.yaml"), "--week", "2022-W35",
                 "--out", str(tmp_path)]) == 2
    assert "图层目录文件不存在" in capsys.readouterr().err
    assert not (tmp_path / "ledger.sqlite").exists()


def test_ledger_status_json_and_missing_ledger(tmp_path, capsys):
    led = Ledger(tmp_path / "ledger.sqlite")
    f = make_findings(check="controllines", rule="red_line_encroachment",
                      rule_source="GB 50352-2019 §2.0.6", title="建筑压占道路红线", task_id="1.3.3",
                      feature_ids=[["B1", "R1"]], layer="buildings", geometry=[Point(0, 0)])
    led.merge(f, week="2022-W35", checks_run=["controllines"])
    led.merge(f.iloc[:0], week="2022-W36", checks_run=["controllines"])
    assert main(["ledger", "status", "--ledger", str(led.path), "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["2022-W35"]["new"] == 1 and data["2022-W36"]["rectified"] == 1
    assert main(["ledger", "export", str(tmp_path / "x.xlsx"), "--ledger",
                 str(tmp_path / "none.sqlite")]) == 1
    assert "台账文件不存在" in capsys.readouterr().err
    assert not (tmp_path / "none.sqlite").exists()
