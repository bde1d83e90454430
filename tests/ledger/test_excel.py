"""The Excel ledger: export layout, reproducible bytes, and the staff round trip."""

from __future__ import annotations

import openpyxl
import pytest
from shapely.geometry import Point

from zlgis.cli import main as cli_main
from zlgis.errors import LedgerError
from zlgis.findings import concat_findings, make_findings
from zlgis.ledger import Ledger
from zlgis.ledger.excel import EXCEL_COLUMNS, export_excel, import_excel


def _findings():
    a = make_findings(check="controllines", rule="red_line_encroachment",
                      rule_source="GB 50352-2019 §2.0.6", title=["建筑压占道路红线", "=HYPERLINK(1)"],
                      task_id="1.3.3", feature_ids=[["B1", "R1"], ["B2", "R1"]], layer="buildings",
                      geometry=[Point(480000, 5316000), Point(480050, 5316000)])
    t = make_findings(check="trucks", rule="no_parking_zone", rule_source="道路交通安全法 第56条",
                      title="货车禁停区停放", task_id="4.4.2", feature_ids=[["P1", "Z1"]],
                      layer="truck_pings", geometry=[Point(480100, 5316100)])
    return concat_findings([a, t])


@pytest.fixture
def ledger(tmp_path):
    led = Ledger(tmp_path / "ledger.sqlite")
    led.merge(_findings(), week="2022-W35", checks_run=["controllines", "trucks"])
    return led


def _rows(ws):
    header = [c.value for c in ws[1]]
    return header, [dict(zip(header, r)) for r in ws.iter_rows(min_row=2, values_only=True)]


def test_export_layout(ledger, tmp_path):
    path = export_excel(ledger, tmp_path / "l.xlsx", map_href="map_internal.html")
    wb = openpyxl.load_workbook(path)
    # trucks findings have two lead departments: the row is on both sheets
    assert wb.sheetnames == ["说明", "汇总", "城管执法局", "自然资源局", "公安局"]
    ws = wb["自然资源局"]
    header, rows = _rows(ws)
    assert tuple(header) == EXCEL_COLUMNS
    assert ws.freeze_panes == "B2"
    assert ws.auto_filter.ref == f"A1:{ws.cell(1, len(header)).column_letter}3"
    assert {r["状态"] for r in rows} == {"新发现"}
    assert {r["牵头部门"] for r in rows} == {"自然资源局"}
    assert {r["配合部门"] for r in rows} == {"消防救援大队、街道办事处"}
    assert {r["整改期限"] for r in rows} == {"2022-10-31"}
    link = ws.cell(2, header.index("地图") + 1).hyperlink.target
    assert link == f"map_internal.html#{rows[0]['问题编号']}"
    # a title that looks like a formula is stored as text
    assert "'=HYPERLINK(1)" in {r["问题"] for r in rows}
    assert all(47 < r["纬度"] < 49 and 122 < r["经度"] < 124 for r in rows)
    assert len(ws.data_validations.dataValidation) == 1
    assert wb["说明"]["B1"].value == "2022-W35"
    summary = {r[0]: r[-1] for r in wb["汇总"].iter_rows(min_row=2, values_only=True)}
    assert summary == {"城管执法局": 1, "自然资源局": 2, "公安局": 1}


def test_export_is_reproducible(ledger, tmp_path):
    a = export_excel(ledger, tmp_path / "a.xlsx").read_bytes()
    b = export_excel(ledger, tmp_path / "b.xlsx").read_bytes()
    assert a == b


def _edit(path, sheet, fid_status, *, drop_col=None):
    wb = openpyxl.load_workbook(path)
    ws = wb[sheet]
    header = [c.value for c in ws[1]]
    for r in range(2, ws.max_row + 1):
        fid = ws.cell(r, header.index("问题编号") + 1).value
        if fid in fid_status:
            status, note, photo = fid_status[fid]
            ws.cell(r, header.index("状态") + 1).value = status
            ws.cell(r, header.index("整改说明") + 1).value = note
            ws.cell(r, header.index("照片编号") + 1).value = photo
    if drop_col:
        ws.delete_cols(header.index(drop_col) + 1)
    wb.save(path)


def test_round_trip(ledger, tmp_path):
    path = export_excel(ledger, tmp_path / "l.xlsx")
    view = ledger.view().set_index("feature_id")
    b1, p1 = view.loc["B1", "finding_id"], view.loc["P1", "finding_id"]
    _edit(path, "自然资源局", {b1: ("已整改", "已于9月3日拆除", "IMG_20220903_01")})
    # the truck finding is on two sheets (two lead departments): edited on one of them only
    _edit(path, "公安局", {p1: ("已整改", "车辆已驶离", "")})
    assert import_excel(path, ledger) == 2
    v = ledger.view().set_index("feature_id")
    assert v.loc["B1", "status"] == "rectified" and v.loc["B2", "status"] == "new"
    assert v.loc["B1", "note"] == "已于9月3日拆除" and v.loc["B1", "photo"] == "IMG_20220903_01"
    assert v.loc["P1", "status"] == "rectified"
    # importing the same file again changes nothing
    assert import_excel(path, ledger) == 0
    # the next export shows the edits
    again = export_excel(ledger, tmp_path / "again.xlsx")
    _, rows = _rows(openpyxl.load_workbook(again)["自然资源局"])
    assert {r["问题编号"]: r["状态"] for r in rows} == {b1: "已整改",
                                                       view.loc["B2", "finding_id"]: "新发现"}


@pytest.mark.parametrize("case", ["unknown_id", "bad_status", "computed_status", "removed_column",
                                  "conflict", "not_a_workbook"])
def test_bad_sheet_refused_ledger_unchanged(ledger, tmp_path, case):
    path = export_excel(ledger, tmp_path / "l.xlsx")
    view = ledger.view().set_index("feature_id")
    b1, p1 = view.loc["B1", "finding_id"], view.loc["P1", "finding_id"]
    # a valid edit in the same file: it must not be applied either
    _edit(path, "自然资源局", {b1: ("已整改", "ok", "")})
    expect = {"unknown_id": "不在 2022-W35 台账中", "bad_status": "状态“修好了”无效",
              "computed_status": "不能人工改为“复发”", "removed_column": "缺少列“整改说明”",
              "conflict": "填写不一致", "not_a_workbook": "无法作为 Excel"}[case]
    if case == "unknown_id":
        wb = openpyxl.load_workbook(path)
        wb["自然资源局"].cell(3, 1).value = "controllines-red_line_encroachment-0000000000000000"
        wb.save(path)
    elif case == "bad_status":
        _edit(path, "公安局", {p1: ("修好了", "", "")})
    elif case == "computed_status":
        _edit(path, "公安局", {p1: ("复发", "", "")})
    elif case == "removed_column":
        _edit(path, "公安局", {}, drop_col="整改说明")
    elif case == "conflict":
        _edit(path, "公安局", {p1: ("已整改", "a", "")})
        _edit(path, "城管执法局", {p1: ("未整改", "b", "")})
    else:
        path.write_bytes(b"PK\x03\x04 broken")
    fp = ledger.fingerprint()
    with pytest.raises(LedgerError, match=expect) as err:
        import_excel(path, ledger)
    assert "台账未作任何修改" in str(err.value) or case == "not_a_workbook"
    assert str(path) in str(err.value)
    assert ledger.fingerprint() == fp


def test_cli_import_refusal_is_one_chinese_line(ledger, tmp_path, capsys):
    path = export_excel(ledger, tmp_path / "l.xlsx")
    _edit(path, "自然资源局", {}, drop_col="状态")
    code = cli_main(["ledger", "import", str(path), "--ledger", str(ledger.path)])
    err = capsys.readouterr().err
    assert code == 1
    assert err.startswith("错误：文件 ") and "工作表" not in err or "图层 自然资源局" in err
    assert "第 1 行" in err and "字段 状态" in err and "Traceback" not in err
    assert len(err.strip().splitlines()) == 1


def test_cli_export_and_status(ledger, tmp_path, capsys):
    out = tmp_path / "e.xlsx"
    assert cli_main(["ledger", "export", str(out), "--ledger", str(ledger.path)]) == 0
    assert openpyxl.load_workbook(out).sheetnames[0] == "说明"
    assert cli_main(["ledger", "status", "--ledger", str(ledger.path)]) == 0
    text = capsys.readouterr().out
    assert "2022-W35\t3\t0\t0\t0\t0" in text
