"""Formula injection: every text cell of every spreadsheet output is neutralised."""

from __future__ import annotations

import csv
import re

import geopandas as gpd
import openpyxl
import pandas as pd
from hypothesis import given
from hypothesis import strategies as st
from shapely.geometry import Point

from zlgis.findings import make_findings
from zlgis.io.tables import FORMULA_PREFIXES, neutralise, restore, write_csv, write_xlsx
from zlgis.ledger import Ledger
from zlgis.ledger.excel import export_excel
from zlgis.publish.tables import write_findings
from zlgis.validate.report import write_issues

PAYLOADS = ["=cmd|' /C calc'!A0", '=HYPERLINK("http://evil.example","x")', "+1+cmd|' /C calc'!A0",
            "-2+3+cmd|' /C calc'!A0", "@SUM(1+1)*cmd|' /C calc'!A0", "\t=1+1", "\r=1+1",
            "'=1+1"]
NUMBER = re.compile(r"^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$")


def _safe(cell: str) -> bool:
    """A cell Excel shows as text: not starting with a formula character (numbers excepted)."""
    return not cell.startswith(FORMULA_PREFIXES) or cell == "-" or bool(NUMBER.match(cell))


@given(st.text())
def test_round_trip_and_never_a_formula(text: str) -> None:
    out = neutralise(text)
    assert restore(out) == text
    assert _safe(out)


def test_numbers_and_plain_text_untouched() -> None:
    assert [neutralise(v) for v in ("-12.5", "+3", "-", "", "一般文字", 7)] == \
        ["-12.5", "+3", "-", "", "一般文字", 7]


def _payload_findings() -> gpd.GeoDataFrame:
    n = len(PAYLOADS)
    return make_findings(check="controllines", rule="red_line_encroachment",
                         rule_source=PAYLOADS[0], title=PAYLOADS, task_id="1.3.3",
                         feature_ids=[[p, PAYLOADS[(i + 1) % n] + f"#{i}"]
                                      for i, p in enumerate(PAYLOADS)],
                         layer="buildings", geometry=[Point(480000 + i, 5316000) for i in range(n)],
                         measures=[{"note": p} for p in PAYLOADS], observed_at=PAYLOADS)


def _csv_cells(path) -> list[str]:
    with open(path, encoding="utf-8-sig", newline="") as fh:
        return [c for row in csv.reader(fh) for c in row]


def test_findings_csv_neutralises_every_text_cell(tmp_path) -> None:
    _, path = write_findings(_payload_findings(), tmp_path)
    cells = _csv_cells(path)
    assert all(_safe(c) for c in cells), [c for c in cells if not _safe(c)]
    # each payload is still there, readable, behind its apostrophe
    for p in PAYLOADS:
        assert neutralise(p) in cells


def test_validation_report_and_plain_csv_neutralised(tmp_path) -> None:
    issues = pd.DataFrame({"file": PAYLOADS, "value": PAYLOADS[::-1]})
    write_issues(issues, tmp_path / "report.csv")
    write_csv(issues.rename(columns={"file": "=evil()"}), tmp_path / "plain.csv")
    for name in ("report.csv", "plain.csv"):
        cells = _csv_cells(tmp_path / name)
        assert all(_safe(c) for c in cells), name


def test_excel_ledger_neutralises_every_text_cell(tmp_path) -> None:
    led = Ledger(tmp_path / "ledger.sqlite")
    led.merge(_payload_findings(), week="2022-W35", checks_run=["controllines"])
    wb = openpyxl.load_workbook(export_excel(led, tmp_path / "l.xlsx"))
    bad = [(ws.title, c.coordinate, c.value) for ws in wb for row in ws.iter_rows() for c in row
           if isinstance(c.value, str) and not _safe(c.value) or c.data_type == "f"]
    assert bad == []


def test_one_csv_writer() -> None:
    """Every CSV or Excel table zlgis writes goes through :mod:`zlgis.io.tables` (or the
    Excel ledger's own neutralising cell writer); only the demo city writes raw source files."""
    import pathlib

    import zlgis

    root = pathlib.Path(zlgis.__file__).parent
    raw = [str(p.relative_to(root)) for p in root.rglob("*.py")
           if p.parts[-2] != "demo" and p.name != "tables.py"
           and re.search(r"\.to_csv\(|\.to_excel\(", p.read_text("utf-8"))]
    assert raw == []


def _same(a, b) -> bool:
    if isinstance(a, str) or isinstance(b, str):
        return a == b
    return bool(pd.isna(a) and pd.isna(b)) or a == b


@given(st.lists(st.one_of(st.text(alphabet="'=+-@\t\r 0123456789.eEab", max_size=6),
                          st.none(), st.integers(), st.floats(allow_nan=True)), max_size=30))
def test_safe_frame_neutralises_cell_by_cell(values) -> None:
    """The column-wise test picks exactly the cells neutralise changes: the frame equals one
    made by mapping neutralise over every cell (object and pandas string columns)."""
    from zlgis.io.tables import safe_frame

    texts = [v if isinstance(v, str) else None for v in values]
    frame = pd.DataFrame({"mixed": pd.Series(values, dtype=object),
                          "text": pd.array(texts, dtype="string")})
    out = safe_frame(frame)
    for col in frame.columns:
        # (not Series.map: it infers a dtype, and [None, 2**53 + 1] would come back as floats)
        expected = [neutralise(v) for v in frame[col].tolist()]
        got = out[col].tolist()
        assert len(got) == len(expected)
        assert all(_same(a, b) for a, b in zip(got, expected)), (got, expected)


def test_xlsx_tables_written_by_the_stream_writer_hold_openpyxls_cells(tmp_path) -> None:
    """A table of text, numbers and booleans goes through the stream writer; with a date column
    it goes through openpyxl (which writes Excel dates). The other cells are the same, every
    text is neutralised, and the header row is frozen and filterable either way."""
    import datetime as dt

    n = len(PAYLOADS)
    frame = pd.DataFrame({"编号": [*PAYLOADS, None], "数量": [*range(n), None],
                          "整数": list(range(n + 1)), "有效": [i % 2 == 0 for i in range(n + 1)],
                          "名称": pd.array([f"路段{i}" for i in range(n)] + [None], dtype="string")})
    fast = write_xlsx({"表": frame}, tmp_path / "a.xlsx")
    slow = write_xlsx({"表": frame.assign(日期=pd.Timestamp("2022-09-04"))}, tmp_path / "b.xlsx")

    def cells(path):
        ws = openpyxl.load_workbook(path)["表"]
        assert ws.freeze_panes == "A2" and ws.auto_filter.ref == ws.dimensions
        return [[c.value for c in row] for row in ws.iter_rows()]

    a, b = cells(fast), cells(slow)
    assert [row[:-1] for row in b] == a and b[1][-1] == dt.datetime(2022, 9, 4)
    assert a[0] == ["编号", "数量", "整数", "有效", "名称"] and a[-1][:2] == [None, None]
    assert all(_safe(c) for row in a for c in row if isinstance(c, str))
    # (an XML reader reads a carriage return as a line feed, whichever writer wrote it)
    assert [r[0] for r in a[1:-1]] == [neutralise(p).replace("\r", "\n") for p in PAYLOADS]
    assert b"xl/sharedStrings.xml" not in fast.read_bytes()  # inline strings: the stream writer
