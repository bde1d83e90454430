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
                                  "conflict"])
def test_bad_sheet_refused_ledger_unchanged(ledger, tmp_path, case):
    path = export_excel(ledger, tmp_path / "l.xlsx")
    view = ledger.view().set_index("feature_id")
    b1, p1 = view.loc["B1", "finding_id"], view.loc["P1", "finding_id"]
    # a valid edit in the same file: it must not be applied either
    _edit(path, "自然资源局", {b1: ("已整改", "ok", "")})
    expect = {"unknown_id": "不在 2022-W35 台账中", "bad_status": "状态“修好了”无效",
              "computed_status": "不能人工改为“复发”", "removed_column": "缺少列“整改说明”",
              "conflict": "填写不一致"}[case]
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
    else:
        _edit(path, "公安局", {p1: ("已整改", "a", "")})
        _edit(path, "城管执法局", {p1: ("未整改", "b", "")})
    fp = ledger.fingerprint()
    with pytest.raises(LedgerError, match=expect) as err:
        import_excel(path, ledger)
    assert "台账未作任何修改" in str(err.value)
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


def _png(path):
    path.write_bytes(b"\x89PNG\r\n\x1a\n" + bytes(64))


@pytest.mark.parametrize("kind, expect", [
    ("png", "不是有效的 Excel"), ("text", "不是有效的 Excel"), ("empty", "文件为空"),
    ("directory", "不是普通文件"), ("broken_zip", "不是有效的 Excel"), ("missing", "文件不存在"),
])
def test_unreadable_import_file_exit_2(ledger, tmp_path, capsys, kind, expect):
    path = tmp_path / "edited.xlsx"
    if kind == "png":
        _png(path)
    elif kind == "text":
        path.write_text("状态,整改说明\n已整改,ok\n", encoding="utf-8")
    elif kind == "empty":
        path.write_bytes(b"")
    elif kind == "directory":
        path.mkdir()
    elif kind == "broken_zip":
        path.write_bytes(b"PK\x03\x04 broken")
    fp = ledger.fingerprint()
    assert cli_main(["ledger", "import", str(path), "--ledger", str(ledger.path)]) == 2
    err = capsys.readouterr().err
    assert expect in err and str(path) in err and "Traceback" not in err
    assert ledger.fingerprint() == fp


def test_empty_editable_cells_are_empty_and_apostrophe_notes_survive(ledger, tmp_path):
    path = export_excel(ledger, tmp_path / "l.xlsx")
    wb = openpyxl.load_workbook(path)
    ws = wb["自然资源局"]
    header, rows = _rows(ws)
    # nothing exported as a lone apostrophe (an empty note is an empty cell)
    assert not any(v == "'" for r in rows for v in r.values())
    assert {r["整改说明"] for r in rows} == {None}
    view = ledger.view().set_index("feature_id")
    b1 = view.loc["B1", "finding_id"]
    _edit(path, "自然资源局", {b1: ("已整改", "'拆除 50% 见照片", "@现场照片")})
    assert import_excel(path, ledger) == 1
    row = ledger.view().set_index("finding_id").loc[b1]
    assert row["note"] == "'拆除 50% 见照片"  # a user's apostrophe is kept
    assert row["photo"] == "@现场照片"  # stored as text; neutralised again on export
    again = export_excel(ledger, tmp_path / "again.xlsx")
    _, rows = _rows(openpyxl.load_workbook(again)["自然资源局"])
    assert {r["照片编号"] for r in rows if r["问题编号"] == b1} == {"'@现场照片"}


def _crafted(path, *, wide=False, bomb=False):
    """A small xlsx whose sheet reaches column XFD at row 200,000, or whose shared strings
    expand to about 1.5 GB; both are tiny on disk."""
    import zipfile

    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as z:
        z.writestr("[Content_Types].xml", '<?xml version="1.0"?><Types/>')
        z.writestr("xl/workbook.xml", '<workbook><sheets><sheet name="s" sheetId="1"/></sheets>'
                   '</workbook>')
        row = '<row r="1"><c r="A1" t="s"><v>0</v></c></row>'
        if wide:
            row += '<row r="200000"><c r="XFD200000" t="s"><v>0</v></c></row>'
        z.writestr("xl/worksheets/sheet1.xml", f"<worksheet><sheetData>{row}</sheetData>"
                   "</worksheet>")
        if bomb:
            with z.open("xl/sharedStrings.xml", "w", force_zip64=True) as fh:
                fh.write(b"<sst><si><t>")
                block = b"A" * (1 << 24)
                for _ in range(96):
                    fh.write(block)
                fh.write(b"</t></si></sst>")
        else:
            z.writestr("xl/sharedStrings.xml", "<sst><si><t>x</t></si></sst>")


@pytest.mark.parametrize("kind, expect", [("wide", "工作表范围过大（200000 行 × 16384 列"),
                                          ("bomb", "超过上限")])
def test_crafted_sheets_refused_quickly_and_lean(ledger, tmp_path, kind, expect):
    import subprocess
    import sys

    path = tmp_path / f"{kind}.xlsx"
    _crafted(path, wide=kind == "wide", bomb=kind == "bomb")
    assert path.stat().st_size < 2_000_000
    # in a child process, so that its peak memory is its own
    code = ("import resource, sys\n"
            "from zlgis.cli import main\n"
            "import openpyxl, zlgis.ledger.excel, zlgis.weekly\n"
            "before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss\n"
            "rc = main(['ledger', 'import', sys.argv[1], '--ledger', sys.argv[2]])\n"
            "print(before, resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)\n"
            "sys.exit(rc)\n")
    fp = ledger.fingerprint()
    proc = subprocess.run([sys.executable, "-c", code, str(path), str(ledger.path)],
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == 2, proc.stderr
    assert expect in proc.stderr and "Traceback" not in proc.stderr
    before_kib, peak_kib = map(int, proc.stdout.split()[-2:])
    # refused before parsing: the import itself adds well under 200 MB to the process
    assert peak_kib - before_kib < 200 * 1024, (before_kib, peak_kib)
    assert ledger.fingerprint() == fp


def test_streamed_workbook_same_as_openpyxl(ledger, tmp_path):
    """The streaming writer (the default) gives the workbook openpyxl gives, cell by cell."""
    from tests._xlsx_content import workbook_content
    from zlgis.ledger.excel import write_workbook

    view = ledger.view()
    a = write_workbook(view, tmp_path / "a.xlsx", week="2022-W35", as_of="2022-09-04")
    b = write_workbook(view, tmp_path / "b.xlsx", week="2022-W35", as_of="2022-09-04",
                       engine="openpyxl")
    ca, cb = workbook_content(a), workbook_content(b)
    assert ca == cb
    cells = ca["自然资源局"]["cells"]
    assert cells["B2"][2][4] == "00FFF2CC" and cells["Z2"][3].startswith("map_internal.html#")
    assert cells["J2"][:2] == ("0", "s")  # the reopen count, as the ledger always wrote it
