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
import posixpath
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


# An .xlsx read with zipfile and ElementTree, cell by cell as openpyxl's read-only worksheet
# (``data_only=True``) gives it to pandas: importing openpyxl alone takes 0.2-0.5 s, longer than
# ``zlgis layers`` on the demo city without it. Whatever these rules may not cover (another sheet
# type, dates in the header rows that could decide the header, unusual XML) raises _Fallback and
# openpyxl counts; tests/io/test_table_rows.py holds both to the reader on random workbooks.

_NS = "{http://schemas.openxmlformats.org/spreadsheetml/2006/main}"
_PKG_NS = "{http://schemas.openxmlformats.org/package/2006/relationships}"
_RID = "{http://schemas.openxmlformats.org/officeDocument/2006/relationships}id"
_REL_TYPE = "http://schemas.openxmlformats.org/officeDocument/2006/relationships/"
#: Built-in number formats that are neither dates nor times (0-13, 37-44, 48, 49): a number in
#: another format may be a date for openpyxl (not a number, and out of range an error).
_PLAIN_FORMATS = frozenset([*range(14), *range(37, 45), 48, 49])
_COORD = re.compile(r"([A-Z]{1,3})([0-9]+)")
_DATE_STANDIN = "1900-01-01 00:00:00"  # how a date reads to the header rules: text, no number


class _Fallback(Exception):
    """A workbook feature the zipfile reader leaves to openpyxl."""


class _MaybeDate(float):
    """A number in a format openpyxl may read as a date."""


def _text(node: Any) -> str:
    """The text of an ``<si>`` / ``<is>`` element as openpyxl's ``Text.content``."""
    plain = node.findall(f"{_NS}t")
    if len(plain) > 1:
        raise _Fallback
    parts = [plain[0].text] if plain and plain[0].text is not None else []
    for run in node.findall(f"{_NS}r"):
        t = run.find(f"{_NS}t")
        if t is not None and t.text is not None:
            parts.append(t.text)
    return "".join(parts)


def _xlsx_parts(zf: Any, sheet: str | int | None) -> tuple[str, list[str], set[int]]:
    """The worksheet's part name, the shared strings and the styles that may be dates."""
    from xml.etree import ElementTree as ET

    names = set(zf.namelist())
    if "xl/workbook.xml" not in names or "xl/_rels/workbook.xml.rels" not in names:
        raise _Fallback
    rels = {}
    for r in ET.fromstring(zf.read("xl/_rels/workbook.xml.rels")).iter(f"{_PKG_NS}Relationship"):
        target = r.get("Target") or ""
        target = target[1:] if target.startswith("/") else posixpath.normpath(f"xl/{target}")
        rels[r.get("Id")] = (r.get("Type"), target)
    sheets = []
    for s in ET.fromstring(zf.read("xl/workbook.xml")).iter(f"{_NS}sheet"):
        kind, target = rels.get(s.get(_RID), (None, ""))
        if kind != f"{_REL_TYPE}worksheet" or target not in names:
            raise _Fallback  # chart sheets, missing parts: openpyxl's own rules
        sheets.append((s.get("name"), target))
    index = 0 if sheet is None or isinstance(sheet, str) else sheet
    found = ([t for n, t in sheets if n == sheet] if isinstance(sheet, str)
             else [t for _, t in sheets[index:index + 1]] if index >= 0 else [])
    if not found:
        raise _Fallback
    strings = []
    for kind, target in rels.values():
        if kind == f"{_REL_TYPE}sharedStrings" and target in names:
            with zf.open(target) as f:
                for _, node in ET.iterparse(f):
                    if node.tag == f"{_NS}si":
                        strings.append(_text(node).replace("x005F_", ""))
                        node.clear()
    dates: set[int] = set()
    if "xl/styles.xml" in names:
        root = ET.fromstring(zf.read("xl/styles.xml"))
        custom = {int(n.get("numFmtId", "0")) for n in root.iter(f"{_NS}numFmt")}
        xfs = root.find(f"{_NS}cellXfs")
        for i, xf in enumerate(xfs if xfs is not None else ()):
            fmt = int(xf.get("numFmtId", "0"))
            if fmt in custom or fmt not in _PLAIN_FORMATS:
                dates.add(i)
    return found[0], strings, dates


def _xlsx_value(cell: Any, strings: list[str], dates: set[int]) -> tuple[Any, bool]:
    """A cell's value as :func:`_count_xlsx` maps openpyxl's (None: blank), and whether openpyxl
    has a value there at all."""
    kind = cell.get("t", "n")
    if kind == "inlineStr":
        node = cell.find(f"{_NS}is")
        value: Any = None if node is None else _text(node)
    else:
        value = cell.findtext(f"{_NS}v", None) or None
    if value is None:
        return None, False
    if kind == "n":
        number = float(value) if "." in value or "E" in value or "e" in value else int(value)
        if int(cell.get("s") or 0) in dates:
            if not 0 <= number <= 2_900_000:
                raise _Fallback  # openpyxl turns a date out of range into an error cell
            return _MaybeDate(number), True
        return number, True
    if kind == "s":
        value = strings[int(value)]
    elif kind == "b":
        value = bool(int(value))
    elif kind == "e":
        return None, True
    elif kind not in ("str", "inlineStr"):
        raise _Fallback  # ISO dates (t="d") and unknown types
    return (None if value in EXCEL_NA_TEXTS else value), True


def _xlsx_rows(path: Path, sheet: str | int | None) -> tuple[list[list[Any]], list[bool], bool]:
    """The first :data:`HEAD_ROWS` rows of values, whether each row has a non-blank cell, and
    whether any cell has a value, as openpyxl's read-only worksheet yields the rows (a row
    number met again or going back is skipped, missing rows are empty, a row ends at its last
    cell's column)."""
    import zipfile
    from xml.etree import ElementTree as ET

    head: list[list[Any]] = []
    filled: list[bool] = []
    anything = False
    with zipfile.ZipFile(path) as zf:
        part, strings, dates = _xlsx_parts(zf, sheet)
        with zf.open(part) as f:
            counter, number = 1, 0
            for _, node in ET.iterparse(f):
                if node.tag != f"{_NS}row":
                    continue
                number = _row_number(node.get("r"), number)
                cells: dict[int, tuple[Any, bool]] = {}
                col = 0
                for cell in node:
                    if cell.tag != f"{_NS}c":
                        raise _Fallback
                    ref = cell.get("r")
                    m = _COORD.fullmatch(ref) if ref is not None else None
                    if ref is not None and m is None:
                        raise _Fallback
                    col = _column(m.group(1)) if m else col + 1
                    cells[col] = _xlsx_value(cell, strings, dates)
                node.clear()
                if number < counter:
                    continue
                gap = number - counter
                head.extend([] for _ in range(min(gap, max(0, HEAD_ROWS - len(filled)))))
                filled.extend([False] * gap)
                width = col  # the last cell's column, as openpyxl's _get_row
                kept = [cells.get(i, (None, False)) for i in range(1, width + 1)]
                values = [v for v, _ in kept]
                anything = anything or any(present for _, present in kept)
                if len(filled) < HEAD_ROWS:
                    head.append(values)
                filled.append(not all(is_blank(v) for v in values))
                counter = number + 1
    return head, filled, anything


def _row_number(text: str | None, previous: int) -> int:
    if text is None:
        return previous + 1
    if not text.isdigit():
        raise _Fallback
    return int(text)


def _column(letters: str) -> int:
    n = 0
    for ch in letters:
        n = n * 26 + ord(ch) - 64
    return n


def _xlsx_start(head: list[list[Any]], x: str | None, y: str | None, path: Path) -> int:
    """:func:`table_header`'s first data row; a number that openpyxl may read as a date is
    tried both ways, and openpyxl decides when the two disagree."""
    if not any(isinstance(v, _MaybeDate) for r in head for v in r):
        return table_header(head, x, y, path)[2]
    if any(ch.isdigit() for ch in f"{x or ''}{y or ''}"):
        raise _Fallback  # a date's text (digits) could be a given column name; not the stand-in
    outcomes: list[int | UnreadableInputError] = []
    for stand_in in (float, lambda v: _DATE_STANDIN):
        rows = [[stand_in(v) if isinstance(v, _MaybeDate) else v for v in r] for r in head]
        try:
            outcomes.append(table_header(rows, x, y, path)[2])
        except UnreadableInputError as exc:
            outcomes.append(exc)
    first, second = outcomes
    if isinstance(first, UnreadableInputError) and isinstance(second, UnreadableInputError) \
            and str(first) == str(second):
        raise first
    if first != second or isinstance(first, UnreadableInputError):
        raise _Fallback
    return first


def _count_xlsx(path: Path, sheet: str | int | None, x: str | None, y: str | None) -> int:
    """Rows of a worksheet as pandas.read_excel (openpyxl, ``header=None, dtype=object``) and
    :func:`table_header` see them: empty and error cells and pandas' missing-value texts are
    blank, trailing blank rows are dropped. Read with zipfile and ElementTree; openpyxl counts
    what those rules leave to it."""
    try:
        head, filled, anything = _xlsx_rows(path, sheet)
        if not anything:
            raise _Fallback  # openpyxl says whether the sheet is empty or not a sheet it reads
        start = _xlsx_start(head, x, y, path)
    except UnreadableInputError:
        raise
    except Exception:  # noqa: BLE001 - _Fallback, and any part this reader cannot read
        return _count_xlsx_openpyxl(path, sheet, x, y)
    return sum(filled[start:])


def _count_xlsx_openpyxl(path: Path, sheet: str | int | None, x: str | None, y: str | None
                         ) -> int:
    """:func:`_count_xlsx` with openpyxl (what pandas reads the sheet with)."""
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
