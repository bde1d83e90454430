"""count_table_rows (zlgis layers' CSV/XLSX counts without pandas) against the reader itself.

Every expected figure is ``len(read_source(path).gdf)`` (or the reader's refusal) on the same
file: random CSVs (quotes, quoted line breaks, blank and whitespace rows, short and long rows,
CR/CRLF line ends, title and unit rows, byte-order marks) and workbooks (blank, trailing and
styled-but-empty rows, pandas' missing-value texts, error cells, group headers).
"""

from __future__ import annotations

import datetime as dt
import json
import os
import random
import subprocess
import sys
from pathlib import Path

import openpyxl
import pytest
from pandas._libs.parsers import STR_NA_VALUES

from zlgis.errors import UnreadableInputError
from zlgis.io.readers import count_features, read_source
from zlgis.io.table_rows import EXCEL_NA_TEXTS, count_table_rows


def outcome(fn, *args, **kw):
    """The row count, or "error" when the file is refused with a Chinese message."""
    try:
        return fn(*args, **kw)
    except UnreadableInputError:
        return "error"


def reader_rows(path: Path, **kw):
    return outcome(lambda: len(read_source(path, **kw).gdf))


def test_excel_missing_texts_are_pandas_own() -> None:
    assert EXCEL_NA_TEXTS == frozenset(STR_NA_VALUES)


# ------------------------------------------------------------------------------------------------
# CSV
# ------------------------------------------------------------------------------------------------

HEADERS = [["编号", "经度", "纬度"], ["id", "名称", "lon", "lat"], ["编号", "X", "Y", "备注"],
           ["序号", "经度(度)", "纬度（度）"]]
CELLS = ["A1", "122.73", "48.01", "", " ", "  \t", "中央路1号", "东经122度", "1e3", "nan", "NA",
         "inf", "x", "度", "（度）", "a,b", 'say "hi"', "two\nlines", "cr\rline", "crlf\r\nline",
         "\u3000", "１２", "-"]


def quote(v: str, rnd: random.Random) -> str:
    if any(c in v for c in ',"\r\n') or rnd.random() < 0.15:
        return '"' + v.replace('"', '""') + '"'
    return v


def random_csv(rnd: random.Random) -> str:
    head = rnd.choice(HEADERS)
    width = len(head)
    rows: list[str] = []
    if rnd.random() < 0.1:
        rows.append("扎兰屯市点位表" + "," * (width - 1))  # a title row padded to the width
    rows.append(",".join(quote(h, rnd) for h in head))
    if rnd.random() < 0.2:
        rows.append(",".join(rnd.choice(["", "（度）", "度", "米", "text"]) for _ in head))
    for _ in range(rnd.randint(0, 14)):
        kind = rnd.random()
        if kind < 0.1:
            rows.append("")  # a blank line
        elif kind < 0.15:
            rows.append("," * rnd.randint(0, width - 1))  # empty cells only
        elif kind < 0.2:
            rows.append(" , \t")
        else:
            n = width if rnd.random() < 0.85 else rnd.randint(1, width + 1)  # short / long
            rows.append(",".join(quote(rnd.choice(CELLS), rnd) for _ in range(n)))
    end = rnd.choice(["\n", "\r\n", "\r"])
    text = end.join(rows) + rnd.choice(["", end, end * 2])
    if rnd.random() < 0.05:
        text = "\n" + text  # pandas: no columns to parse
    if rnd.random() < 0.05:
        text += '\n"unclosed,1,2'
    return text


def test_random_csv_counts_equal_the_reader(tmp_path: Path) -> None:
    rnd = random.Random(21)
    kinds = {"error": 0, "rows": 0}
    for i in range(250):
        p = tmp_path / f"t{i}.csv"
        p.write_bytes(random_csv(rnd).encode(rnd.choice(["utf-8", "utf-8-sig", "gb18030"])))
        want = reader_rows(p)
        got = outcome(count_table_rows, p)
        assert got == want, (i, p.read_bytes())
        kinds["error" if want == "error" else "rows"] += 1
    assert kinds["error"] >= 10 and kinds["rows"] >= 180  # both kinds were exercised


def test_csv_quoted_line_breaks_blank_rows_and_tabs(tmp_path: Path) -> None:
    p = tmp_path / "q.csv"
    p.write_text('编号,地址,经度,纬度\r\nA,"中央路\n1号",122.7,48.0\r\n,,,\r\n\r\n'
                 'B,"有""引号""",122.8,48.1\r\n   ,\t,,\r\n', encoding="utf-8")
    assert count_table_rows(p) == reader_rows(p) == 2
    t = tmp_path / "tabs.txt"
    t.write_text("编号\t经度\t纬度\nA\t122.7\t48.0\n\t\t\nB\t122.8\t48.1\n", encoding="utf-8")
    assert count_table_rows(t) == reader_rows(t) == 2
    bom = tmp_path / "bom.csv"  # a given encoding keeps the mark; pandas drops it
    bom.write_text("\ufeff经度,纬度,编号\n122.7,48.0,A\n", encoding="utf-8")
    assert count_table_rows(bom, encoding="utf-8") == reader_rows(bom, encoding="utf-8") == 1


def test_csv_refusals_match_the_reader(tmp_path: Path) -> None:
    cases = {"long.csv": "编号,经度,纬度\nA,122.7,48.0,extra\n",
             "nocoords.csv": "编号,地址\nA,中央路\n",
             "unclosed.csv": '编号,经度,纬度\n"A,122.7,48.0\n',
             "leading_blank.csv": "\n编号,经度,纬度\nA,122.7,48.0\n",
             "empty.csv": ""}
    for name, text in cases.items():
        p = tmp_path / name
        p.write_text(text, encoding="utf-8")
        assert reader_rows(p) == "error", name
        assert outcome(count_features, p) == "error", name
        if text:
            assert outcome(count_table_rows, p) == "error", name
    bad = tmp_path / "bad.csv"
    bad.write_bytes(b"\xff\xfe\x00\x00\x81")
    assert outcome(count_table_rows, bad) == reader_rows(bad) == "error"


def test_csv_options_as_the_loader(tmp_path: Path) -> None:
    """Named coordinate columns and a forced encoding (a catalog's source options)."""
    p = tmp_path / "named.csv"
    p.write_bytes("编号,东,北\nA,1,2\nB,3,4\n,,\n".encode("gbk"))
    assert outcome(count_table_rows, p) == reader_rows(p) == "error"  # no 经度/纬度 header
    kw = {"x": "东", "y": "北", "encoding": "gbk"}
    assert count_table_rows(p, **kw) == reader_rows(p, **kw) == count_features(p, **kw) == 2


# ------------------------------------------------------------------------------------------------
# XLSX
# ------------------------------------------------------------------------------------------------

def write_xlsx(path: Path, rows: list[list], styled_rows: int = 0, sheet: str | None = None):
    wb = openpyxl.Workbook()
    ws = wb.active
    if sheet:
        ws.title = "说明"
        ws = wb.create_sheet(sheet)
    for r, row in enumerate(rows, start=1):
        for c, v in enumerate(row, start=1):
            if v is not None:
                ws.cell(r, c, v)
    for r in range(len(rows) + 1, len(rows) + 1 + styled_rows):
        ws.cell(r, 1).number_format = "0.00"  # formatted, empty: openpyxl's max_row counts it
    wb.save(path)
    return path


def test_xlsx_trailing_and_blank_rows(tmp_path: Path) -> None:
    rows = [["扎兰屯市巡查记录", None, None], ["基本信息", "坐标", None],
            ["编号", "经度", "纬度"], ["", "（度）", "（度）"],
            ["A", 122.7, 48.0], [None, None, None], ["NA", "null", " "], ["B", "#N/A", 48.1],
            [None, None, None]]
    p = write_xlsx(tmp_path / "t.xlsx", rows, styled_rows=40)
    ws = openpyxl.load_workbook(p, read_only=True).active
    assert ws.max_row > len(rows)  # max_row alone would count the formatted empty rows
    assert count_table_rows(p) == reader_rows(p) == 2
    assert count_features(p) == 2


def random_sheet(rnd: random.Random) -> list[list]:
    head = rnd.choice(HEADERS) if rnd.random() < 0.85 else ["编号", "地址", "备注"]  # no x/y
    rows: list[list] = [[None] * len(head) for _ in range(rnd.randint(0, 2))]
    if rnd.random() < 0.3:
        rows.append(["标题"] + [None] * (len(head) - 1))
    rows.append(list(head))
    values = [None, "", " ", "NA", "None", "n/a", "#N/A", 0, 1.5, 122.7, "122.7", "度", "x",
              True, False, "中文", "#DIV/0!", dt.datetime(2022, 8, 22, 9, 40), dt.date(2022, 8, 1),
              dt.time(9, 40), -3, 2e9, "  \t"]
    for _ in range(rnd.randint(0, 10)):
        rows.append([rnd.choice(values) for _ in head])
    return rows


def test_random_workbooks_equal_the_reader(tmp_path: Path) -> None:
    rnd = random.Random(4)
    seen = set()
    for i in range(40):
        p = write_xlsx(tmp_path / f"w{i}.xlsx", random_sheet(rnd), styled_rows=rnd.randint(0, 3))
        want = reader_rows(p)
        assert outcome(count_table_rows, p) == want, i
        seen.add(want == "error")
    named = write_xlsx(tmp_path / "named.xlsx", [["编号", "经度", "纬度"], ["A", 1, 2]],
                       sheet="点位")
    assert count_table_rows(named, sheet="点位") == reader_rows(named, sheet="点位") == 1
    assert seen == {True, False}


def write_gappy_xlsx(path: Path, rnd: random.Random) -> Path:
    """A random sheet written row by row with gaps, cells out of order and skipped columns
    (openpyxl writes what it is given: the rows as a reader meets them)."""
    wb = openpyxl.Workbook()
    ws = wb.active
    r = 1
    for row in random_sheet(rnd):
        r += rnd.choice([0, 0, 0, 1, 3])  # rows missing from the file
        cols = list(range(1, len(row) + 1))
        if rnd.random() < 0.2:
            rnd.shuffle(cols)
        for c in cols:
            if row[c - 1] is not None:
                ws.cell(r, c + (1 if rnd.random() < 0.05 else 0), row[c - 1])
        r += 1
    wb.save(path)
    return path


def test_gappy_workbooks_equal_the_reader(tmp_path: Path) -> None:
    rnd = random.Random(11)
    for i in range(60):
        p = write_gappy_xlsx(tmp_path / f"g{i}.xlsx", rnd)
        assert outcome(count_table_rows, p) == reader_rows(p), i


def test_date_deciding_the_unit_row_is_left_to_openpyxl(tmp_path: Path) -> None:
    # the row below the header has text coordinates: a date there makes it a unit row (no
    # number), a plain number would make it data; only openpyxl's styles know which it is
    rows = [["编号", "经度", "纬度", "时间"], ["单位", "度", "度", dt.datetime(2022, 8, 1)],
            ["A", 122.7, 48.0, dt.datetime(2022, 8, 2)], ["B", 122.8, 48.1, None]]
    p = write_xlsx(tmp_path / "d.xlsx", rows)
    assert count_table_rows(p) == reader_rows(p) == 2
    assert count_table_rows(p, x="经度", y="纬度") == reader_rows(p, x="经度", y="纬度") == 2
    rows[0][3] = "2022-08-01 00:00:00"  # a name a date's text could take (read as a date: 3 rows)
    p = write_xlsx(tmp_path / "t.xlsx", rows)
    assert count_table_rows(p, x=rows[0][3], y="纬度") == reader_rows(p, x=rows[0][3], y="纬度")
    rows[0][3] = "时间"
    rows[1][3] = 5  # a number: a data row (with text coordinates) the reader counts
    p = write_xlsx(tmp_path / "n.xlsx", rows)
    assert count_table_rows(p) == reader_rows(p) == 3


def test_workbooks_counted_without_openpyxl(tmp_path: Path, demo_city: Path) -> None:
    """Shared and inline strings, numbers, dates below the header, error cells, gaps: counted
    with zipfile and ElementTree, openpyxl (0.2-0.5 s of imports) left unimported."""
    rnd = random.Random(5)
    paths = [write_xlsx(tmp_path / f"w{i}.xlsx", [["编号", "经度", "纬度", "时间"]] + [
        [rnd.choice(["A", None, "NA", "#N/A"]), rnd.choice([122.7, None, "122.7", True]),
         rnd.choice([48.0, None, " "]), rnd.choice([dt.datetime(2022, 8, 1), None])]
        for _ in range(rnd.randint(0, 20))], styled_rows=2) for i in range(10)]
    paths.append(demo_city / "patrol_observations.xlsx")  # inline strings, as the demo writes
    probe = ("import sys, json\nfrom zlgis.io.table_rows import count_table_rows\n"
             f"n = [count_table_rows(p, x='经度', y='纬度') for p in {[str(p) for p in paths]!r}]\n"
             "print(json.dumps([n, 'openpyxl' in sys.modules]))")
    root = Path(__file__).resolve().parents[2]
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True,
                         env=dict(os.environ, PYTHONPATH=str(root)), cwd=str(root))
    counts, imported = json.loads(out.stdout.strip().splitlines()[-1])
    assert counts == [reader_rows(p, x="经度", y="纬度") for p in paths]  # as the demo catalog
    assert counts[-1] > 0
    assert imported is False


def test_broken_workbook_is_refused(tmp_path: Path) -> None:
    p = tmp_path / "corrupt.xlsx"
    p.write_bytes(b"PK\x03\x04 not really a zip")
    assert outcome(count_table_rows, p) == reader_rows(p) == "error"


@pytest.mark.parametrize("suffix", [".xls", ".gpkg", ".parquet"])
def test_other_formats_are_left_to_the_reader(tmp_path: Path, suffix: str) -> None:
    p = tmp_path / f"a{suffix}"
    p.write_bytes(b"x")
    assert count_table_rows(p) is None
