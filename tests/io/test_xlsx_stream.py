"""The streaming xlsx writer writes what openpyxl writes, cell by cell and style by style."""

from __future__ import annotations

import zipfile

import numpy as np
import openpyxl
import pytest

from tests._xlsx_content import workbook_content
from zlgis.io.xlsx_stream import Column, ListValidation, Sheet, Style, write_sheets

_BOLD = Style(bold=True)
_HEAD = Style(bold=True, color="FFFFFF", fill="1F4E78", vertical="center", wrap=True)
_EDIT = Style(fill="FFF2CC")
_LINK = Style(color="0563C1", underline=True)


def _sheets():
    texts = ["plain", "a & b < c > d", " leading", "trailing ", "   ", "", None, "中文说明",
             "'=SUM(A1)", 'quote " and \' apostrophe', "tab\there", "line\nbreak",
             "bell\x07gone", "x" * 300, "y" * 40_000]
    n = len(texts)
    numbers = [0.1 + 0.2, 1e20, -0.0, float("nan"), float("inf"), 3, np.int64(7),
               np.float64(2.5), True, np.bool_(False), 123456789012345678, 1e-7, None, 42, 0]
    links = [f"map.html#id-{i}&x=<{i}>" if i % 3 else "" for i in range(n)]
    return [
        Sheet("说明", [Column(["周次", "", "总数"], width=14, style=_BOLD),
                       Column(["2022-W35", "", 967], width=90)]),
        Sheet("汇总", [Column(["甲", "乙"], header="部门", width=18),
                       Column([1, 0], header="新发现"), Column([np.int64(2), 5], header="合计")],
              header_style=_BOLD, freeze="A2"),
        Sheet("部门 'A'", [Column(texts, header="文本", width=34),
                           Column(numbers, header="数", width=9.5, style=_EDIT),
                           Column(["查看地图"] * n, header="地图", style=_LINK, links=links),
                           Column(texts[::-1], header="原值", width=12, hidden=True),
                           Column([None] * n, header="空", style=_EDIT)],
              header_style=_HEAD, freeze="B2", autofilter=True,
              validations=[ListValidation(f"B2:B{n + 1}", ["已整改", "未整改"], "状态无效",
                                          "请填写：已整改 或 未整改")]),
        Sheet("空表", [Column([], header="问题编号", width=34)], header_style=_HEAD,
              freeze="B1", autofilter=True),
    ]


def test_same_content_as_openpyxl(tmp_path):
    a = write_sheets(_sheets(), tmp_path / "stream.xlsx")
    b = write_sheets(_sheets(), tmp_path / "openpyxl.xlsx", engine="openpyxl")
    ca, cb = workbook_content(a), workbook_content(b)
    assert ca == cb
    # the comparison sees what matters: values, types, styles, links, layout
    ws = ca["部门 'A'"]
    assert ws["cells"]["A3"][0] == "a & b < c > d" and ws["cells"]["A15"][0] == "x" * 300
    assert ws["cells"]["A14"][0] == "bellgone"  # control characters are dropped
    assert ws["cells"]["B2"][:2] == (0.3, "n") and ws["cells"]["B10"][:2] == (True, "b")
    assert "B5" in ws["cells"] and ws["cells"]["B5"][0] is None  # NaN: an empty, styled cell
    assert ws["cells"]["C3"][3] == "map.html#id-1&x=<1>" and ws["cells"]["C2"][3] is None
    assert ws["cells"]["B3"][2][3:5] == ("solid", "00FFF2CC")
    assert ws["cells"]["A1"][2] == (True, "00FFFFFF", None, "solid", "001F4E78", "center", True)
    assert ws["cells"]["A16"][0] == "y" * 32_767  # cut at Excel's limit, as openpyxl cuts
    assert ws["dims"]["D"] == (12, True) and ws["freeze"] == "B2" and ws["filter"] == "A1:E16"
    assert ws["names"] == [] or ws["names"]  # defined names are compared, whatever openpyxl keeps
    assert ca["空表"]["filter"] == "A1:A1" and ca["汇总"]["freeze"] == "A2"


def test_reproducible_bytes_and_defined_filter_names(tmp_path):
    a = write_sheets(_sheets(), tmp_path / "a.xlsx").read_bytes()
    b = write_sheets(_sheets(), tmp_path / "b.xlsx").read_bytes()
    assert a == b
    with zipfile.ZipFile(tmp_path / "a.xlsx") as z:
        book = z.read("xl/workbook.xml").decode()
        assert {i.date_time for i in z.infolist()} == {(2022, 1, 1, 0, 0, 0)}
    assert "'部门 ''A'''!$A$1:$E$16" in book and "'空表'!$A$1:$A$1" in book


def test_rows_stream_in_chunks(tmp_path, monkeypatch):
    import zlgis.io.xlsx_stream as xs

    monkeypatch.setattr(xs, "_CHUNK_ROWS", 7)  # 45 rows: seven chunks, the last one short
    n = 45
    sheet = Sheet("t", [Column([f"id-{i}" for i in range(n)], header="编号"),
                        Column(np.arange(n, dtype=float) / 4, header="值", style=_EDIT)],
                  header_style=_BOLD, autofilter=True)
    a = write_sheets([sheet], tmp_path / "a.xlsx")
    b = write_sheets([sheet], tmp_path / "b.xlsx", engine="openpyxl")
    assert workbook_content(a) == workbook_content(b)
    rows = list(openpyxl.load_workbook(a, read_only=True)["t"].iter_rows(values_only=True))
    assert len(rows) == n + 1 and rows[-1] == (f"id-{n - 1}", (n - 1) / 4)


def test_unknown_engine(tmp_path):
    with pytest.raises(ValueError, match="unknown engine"):
        write_sheets(_sheets(), tmp_path / "x.xlsx", engine="xlsxwriter")
