"""CSV/XLSX point tables: the header rules and row counts, with the standard library only.

:func:`zlgis.io.readers.read_source` reads a table through pandas (a grid of text or cell
values), finds the header with :func:`table_header` and keeps the rows below it that are not
blank. ``zlgis layers`` needs only how many rows that is: :func:`count_table_rows` applies the
same header rules to the same values read without pandas, numpy or geopandas (about a second of
imports) and without building points, so a million-row track file is counted in a fraction of
the time of reading it. Its results are held equal to ``len(read_source(path).gdf)`` by
``tests/io/test_table_rows.py`` (random files against the reader, quoted line breaks, blank
and trailing rows, errors).

Examples
--------
>>> import tempfile, pathlib
>>> p = pathlib.Path(tempfile.mkdtemp()) / "pts.csv"
>>> _ = p.write_text('编号,经度,纬度\\nA1,122.73,48.01\\n,,\\n"A\\n2",122.74,48.02\\n',
...                  encoding="utf-8")
>>> count_table_rows(p)
2
"""

from __future__ import annotations

import csv
import io
import math
import re
from numbers import Real
from operator import methodcaller
from pathlib import Path
from typing import Any

from ..errors import UnreadableInputError

__all__ = ["X_NAMES", "Y_NAMES", "find_xy_columns", "is_blank", "is_number", "decode_text",
           "table_header", "count_table_rows", "EXCEL_NA_TEXTS", "HEAD_ROWS"]

#: Column names read as longitude / easting and latitude / northing (case-insensitive).
X_NAMES = ("经度", "东经", "lon", "lng", "long", "longitude", "x", "x坐标", "横坐标", "东坐标",
           "坐标x", "point_x", "gcj_lng", "gcj02_lng", "bd_lng")
Y_NAMES = ("纬度", "北纬", "lat", "latitude", "y", "y坐标", "纵坐标", "北坐标", "坐标y", "point_y",
           "gcj_lat", "gcj02_lat", "bd_lat")

#: Rows :func:`table_header` looks at: the header is one of the first 10, then the row below.
HEAD_ROWS = 11

#: Cell texts pandas.read_excel reads as missing (its default ``na_values``; a test holds this to
#: pandas' own list).
EXCEL_NA_TEXTS = frozenset({
    "", "#N/A", "#N/A N/A", "#NA", "-1.#IND", "-1.#QNAN", "-NaN", "-nan", "1.#IND", "1.#QNAN",
    "<NA>", "N/A", "NA", "NULL", "NaN", "None", "n/a", "nan", "null"})


def _norm(name: Any) -> str:
    s = "" if name is None or (isinstance(name, float) and math.isnan(name)) else str(name)
    s = re.sub(r"[\s（(].*?[)）]\s*$", "", s.strip())  # drop a unit suffix such as 经度(度)
    return s.strip().lower()


def find_xy_columns(names: list[Any], x: str | None = None, y: str | None = None
                    ) -> tuple[int, int] | None:
    """Positions of the x (longitude/easting) and y columns among ``names``, or ``None``.

    Examples
    --------
    >>> find_xy_columns(["编号", "经度（度）", "纬度（度）"])
    (1, 2)
    >>> find_xy_columns(["id", "X", "Y"])
    (1, 2)
    """
    normed = [_norm(n) for n in names]
    xs = (x.lower(),) if x else X_NAMES
    ys = (y.lower(),) if y else Y_NAMES
    xi = next((i for i, n in enumerate(normed) if n in xs), None)
    yi = next((i for i, n in enumerate(normed) if n in ys), None)
    if xi is None or yi is None or xi == yi:
        return None
    return xi, yi


def is_blank(v: Any) -> bool:
    """``None``, NaN or a text of whitespace only."""
    return v is None or (isinstance(v, float) and math.isnan(v)) or (
        isinstance(v, str) and not v.strip())


def is_number(v: Any) -> bool:
    """A finite number, or a text that reads as one."""
    if isinstance(v, Real) and not isinstance(v, bool):
        try:
            return math.isfinite(v)
        except (OverflowError, TypeError):
            return False
    try:
        return math.isfinite(float(str(v).strip()))
    except (ValueError, OverflowError):
        return False


def decode_text(path: Path, encoding: str | None) -> tuple[str, str]:
    """The text of a CSV file and its encoding (given, else UTF-8 or GB18030)."""
    data = path.read_bytes()
    if encoding:
        return data.decode(encoding), encoding
    for enc in ("utf-8-sig", "gb18030"):
        try:
            return data.decode(enc), ("UTF-8" if enc == "utf-8-sig" else "GB18030")
        except UnicodeDecodeError:
            continue
    raise UnreadableInputError("文本编码无法识别（既不是 UTF-8 也不是 GBK/GB18030）", path=str(path))


def _cell(row: list[Any], i: int) -> Any:
    return row[i] if i < len(row) else None  # a short row: the missing cells are blank


def table_header(head: list[list[Any]], x: str | None, y: str | None,
                 path: Path) -> tuple[list[str], tuple[int, int], int]:
    """Column names, the (x, y) column positions and the first data row of a table, from its
    first :data:`HEAD_ROWS` rows (``head``, each a list of cell values).

    The header row is the first (of the first 10) naming both coordinate columns; a group
    header above it (merged cells: 基本信息 | 坐标 ...) fills its blanks; a second header row
    below (units such as 度 / 米, or sub-headers) is skipped; repeated names are numbered.
    """
    head_row, xy = None, None
    for r in range(min(10, len(head))):
        xy = find_xy_columns(list(head[r]), x, y)
        if xy:
            head_row = r
            break
    if head_row is None or xy is None:
        want = f"{x} / {y}" if x and y else "经度/纬度、lon/lat 或 X/Y"
        raise UnreadableInputError(f"表格中找不到坐标列（应有 {want} 两列表头）", path=str(path))
    names = [None if is_blank(v) else str(v).strip() for v in head[head_row]]
    if head_row > 0 and any(n is None for n in names):
        above = head[head_row - 1]
        names = [n if n is not None else (None if is_blank(_cell(above, i))
                                          else str(_cell(above, i)).strip())
                 for i, n in enumerate(names)]
    data_start = head_row + 1
    if data_start < len(head):
        nxt = head[data_start]
        vx, vy = _cell(nxt, xy[0]), _cell(nxt, xy[1])
        if (not is_number(vx) and not is_number(vy) and not is_blank(vx) and not is_blank(vy)
                and not any(is_number(v) for v in nxt if not is_blank(v))):
            data_start += 1
    out = [n if n is not None else f"列{i + 1}" for i, n in enumerate(names)]
    seen: dict[str, int] = {}
    for i, n in enumerate(out):
        if n in seen:
            seen[n] += 1
            out[i] = f"{n}_{seen[n]}"
        else:
            seen[n] = 0
    return out, xy, data_start


# ------------------------------------------------------------------------------------------------
# counting
# ------------------------------------------------------------------------------------------------

_SPACE = "".join(chr(c) for c in range(0x3001) if chr(c).isspace())  # what str.strip() removes
_END = "\x1fzlgis-end\x1f"  # a last line no data has: swallowed only by an unclosed quote


def _unreadable(path: Path) -> UnreadableInputError:
    return UnreadableInputError("表格文件无法读取（可能已损坏或不是 CSV/XLSX）", path=str(path))


def _csv_lines(text: str) -> list[str]:
    lines = text.replace("\r\n", "\n").replace("\r", "\n").split("\n")
    if lines[-1] == "":
        lines.pop()  # the line break ending the last line starts no row
    return lines


def _count_csv(path: Path, encoding: str | None, x: str | None, y: str | None) -> int | None:
    """Rows of a CSV/TXT table as pandas' C parser (``header=None, dtype=str``) and
    :func:`table_header` see them; ``None`` for text the simple rules may not cover (NUL)."""
    text, _ = decode_text(path, encoding)
    if "\x00" in text:
        return None
    text = text.removeprefix("\ufeff")  # pandas drops a byte-order mark left by a given encoding
    if not text:
        raise UnreadableInputError("表格为空，没有表头", path=str(path))
    sep = "\t" if path.suffix.lower() == ".txt" and "\t" in text.split("\n", 1)[0] else ","
    if '"' in text:
        nl = "" if text.endswith(("\n", "\r")) else "\n"
        try:
            rows = list(csv.reader(io.StringIO(f"{text}{nl}{_END}\n", newline=""),
                                   delimiter=sep))
        except csv.Error:
            return None  # a field over the csv module's size limit: let the reader count
        if not rows or rows[-1] != [_END]:
            raise _unreadable(path)  # a quote never closed: pandas' "EOF inside string"
        rows.pop()
        if not rows or not rows[0]:
            raise _unreadable(path)
        width = len(rows[0])
        if any(len(r) > width for r in rows):
            raise _unreadable(path)  # pandas: "Expected N fields in line M"
        _, _, start = table_header(rows[:HEAD_ROWS], x, y, path)
        return sum(1 for r in rows[start:] if not all(is_blank(v) for v in r))
    lines = _csv_lines(text)
    if not lines or lines[0] == "":
        raise _unreadable(path)  # pandas: "No columns to parse from file"
    if max(map(methodcaller("count", sep), lines)) > lines[0].count(sep):
        raise _unreadable(path)  # pandas: "Expected N fields in line M" (map: no Python loop)
    _, _, start = table_header([line.split(sep) for line in lines[:HEAD_ROWS]], x, y, path)
    body = lines[start:]
    # a row is blank when only whitespace and separators are left
    return len(body) - list(map(methodcaller("strip", _SPACE + sep), body)).count("")


def _count_xlsx(path: Path, sheet: str | int | None, x: str | None, y: str | None) -> int:
    """Rows of a worksheet as pandas.read_excel (openpyxl, ``header=None, dtype=object``) and
    :func:`table_header` see them: empty and error cells and pandas' missing-value texts are
    blank, trailing blank rows are dropped."""
    from openpyxl import load_workbook

    wb = load_workbook(path, read_only=True, data_only=True, keep_links=False)
    try:
        ws = wb[sheet] if isinstance(sheet, str) else wb.worksheets[sheet or 0]
        ws.reset_dimensions()  # declared dimensions can be wrong (pandas does the same)
        rows: list[list[Any]] = []
        empty = True  # no cell has a value: pandas reads an empty frame
        for row in ws.rows:
            values = [c.value for c in row]
            empty = empty and all(v is None for v in values)
            rows.append([None if v is None or c.data_type == "e"
                         or (isinstance(v, str) and v in EXCEL_NA_TEXTS) else v
                         for c, v in zip(row, values)])
    finally:
        wb.close()
    if empty:
        raise UnreadableInputError("表格为空，没有表头", path=str(path))
    _, _, start = table_header(rows[:HEAD_ROWS], x, y, path)
    return sum(1 for r in rows[start:] if not all(is_blank(v) for v in r))


def count_table_rows(path: str | Path, *, x: str | None = None, y: str | None = None,
                     encoding: str | None = None, sheet: str | int | None = None) -> int | None:
    """Number of rows :func:`zlgis.io.readers.read_source` returns for a CSV/TXT/XLSX/XLSM
    table (the same arguments), or ``None`` for a format counted only by reading it (XLS).

    Raises :class:`~zlgis.errors.UnreadableInputError` where the reader does (no coordinate
    columns, undecodable text, a row with more cells than the first, an unclosed quote).
    """
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix not in (".csv", ".txt", ".xlsx", ".xlsm"):
        return None
    try:
        if suffix in (".csv", ".txt"):
            return _count_csv(path, encoding, x, y)
        return _count_xlsx(path, sheet, x, y)
    except UnreadableInputError:
        raise
    except Exception as exc:  # noqa: BLE001 - codecs, openpyxl and zipfile raise many kinds
        raise _unreadable(path) from exc
