"""Tables for spreadsheets: one CSV writer, with formulas neutralised in every text cell.

Staff open CSV and Excel files produced by zlgis in Excel or WPS. A text cell that begins with
``=``, ``+``, ``-``, ``@``, a tab or a carriage return is read there as a formula (CSV/formula
injection, OWASP), so a feature id such as ``=HYPERLINK("http://evil.example","x")`` taken from a
layer could run or leak data. Every such text is written with a leading apostrophe, which Excel
shows as plain text; numbers written as text (``-12.5``) are left alone.

Examples
--------
>>> neutralise('=cmd|" /C calc"!A0')
'\\'=cmd|" /C calc"!A0'
>>> neutralise("-12.5"), neutralise("-"), neutralise(""), neutralise(3)
('-12.5', '-', '', 3)
>>> restore(neutralise("@SUM(A1)")), restore("'ordinary note")
('@SUM(A1)', "'ordinary note")
"""

from __future__ import annotations

import codecs
import csv
import io
import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from .atomic import atomic_path

__all__ = ["FORMULA_PREFIXES", "neutralise", "restore", "safe_frame", "write_csv", "write_xlsx"]

#: First characters that make a spreadsheet read a text cell as a formula.
FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")
_NUMBER = re.compile(r"^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$")


def _dangerous(text: str) -> bool:
    core = text.lstrip("'")
    return core.startswith(FORMULA_PREFIXES) and core != "-" and not _NUMBER.match(core)


def neutralise(value: Any) -> Any:
    """``value`` with a leading apostrophe when it is text a spreadsheet would run as a formula.

    Text that already starts with apostrophes before such a character gets one more, so that
    :func:`restore` gives back exactly what was written.
    """
    return "'" + value if isinstance(value, str) and _dangerous(value) else value


def restore(value: str) -> str:
    """Undo :func:`neutralise` on text read back from a sheet (only its own apostrophe)."""
    return value[1:] if value.startswith("'") and _dangerous(value[1:]) else value


def safe_frame(frame: pd.DataFrame) -> pd.DataFrame:
    """A copy of ``frame`` with :func:`neutralise` applied to every text cell and header."""
    out = frame.copy()
    for col in out.columns:
        if out[col].dtype == object or pd.api.types.is_string_dtype(out[col]):
            out[col] = _neutralise_column(out[col])
    out.columns = [neutralise(str(c)) for c in out.columns]
    return out


def _is_text(value: Any) -> bool:
    return isinstance(value, str)


def _neutralise_column(values: pd.Series) -> pd.Series:
    """:func:`neutralise` of every cell, called only on the text cells that start with a formula
    character once leading apostrophes are stripped (the others it returns as they are)."""
    text = (values.map(_is_text).to_numpy(dtype=bool) if values.dtype == object
            else values.notna().to_numpy())
    if not text.any():
        return values
    lead = values[text].astype(str).str.lstrip("'").str[:1]
    maybe = lead.isin(FORMULA_PREFIXES).to_numpy()
    if not maybe.any():
        return values
    out = values.astype(object)
    rows = np.flatnonzero(text)[maybe]
    out.iloc[rows] = [neutralise(v) for v in out.iloc[rows]]
    return out


def write_csv(frame: pd.DataFrame, path: str | Path) -> Path:
    """Write ``frame`` as CSV (UTF-8 with BOM, CRLF, opens in Excel), atomically, neutralised.

    A frame of text and integer columns (the validation report: 300,000 rows on the 1M city)
    is written by the :mod:`csv` writer pandas uses, from whole columns of a block of rows at a
    time (:func:`_csv_cells`), without pandas' per-chunk conversion; the file is the one
    ``to_csv`` writes."""
    path = Path(path)
    safe = safe_frame(frame)
    with atomic_path(path) as tmp:
        # CRLF line ends make the writer quote every field holding a CR or LF: a bare CR would
        # start a new row in Excel, and a formula behind it would escape neutralising
        if not _write_cells(safe, tmp):
            safe.to_csv(tmp, index=False, encoding="utf-8-sig", lineterminator="\r\n")
    return path


_CSV_BLOCK = 32_768  # rows whose cells are made at a time (300,000 rows' strings: ~180 MB)


def _write_cells(frame: pd.DataFrame, path: Path) -> bool:
    """Write ``frame`` as :func:`write_csv` does, by the :mod:`csv` writer, a block of rows at a
    time, each block encoded once (a "utf-8-sig" file encodes each row the writer writes);
    False, with the file left to be overwritten, at the first block :func:`_csv_cells` leaves
    to ``to_csv``."""
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\r\n")
    writer.writerow([str(c) for c in frame.columns])
    with open(path, "wb") as fh:
        fh.write(codecs.BOM_UTF8)
        for start in range(0, max(len(frame), 1), _CSV_BLOCK):
            cells = _csv_cells(frame.iloc[start:start + _CSV_BLOCK])
            if cells is None:
                return False
            writer.writerows(zip(*cells))
            fh.write(buf.getvalue().encode("utf-8"))
            buf.seek(0)
            buf.truncate()
    return True


def _csv_cells(frame: pd.DataFrame) -> list[list[str]] | None:
    """Each column's cells as ``to_csv`` writes them (missing ones empty) when every column is
    text (strings and missing values) or integers; else ``None`` (left to ``to_csv``)."""
    if not len(frame.columns) or frame.columns.has_duplicates:
        return None
    out = []
    for name in frame.columns:
        col = frame[name]
        missing = col.isna().to_numpy()
        if pd.api.types.is_integer_dtype(col.dtype) and not pd.api.types.is_bool_dtype(col.dtype):
            values = col.to_numpy(dtype=object, na_value=None).tolist()
            out.append(["" if m else str(v) for v, m in zip(values, missing)])
            continue
        if not (col.dtype == object or pd.api.types.is_string_dtype(col.dtype)):
            return None
        cells = col.tolist()
        if missing.any():
            cells = ["" if m else v for v, m in zip(cells, missing.tolist())]
        if not set(map(type, cells)) <= {str}:
            return None
        out.append(cells)
    return out


def write_xlsx(sheets: Mapping[str, pd.DataFrame], path: str | Path, *,
               index: bool = False) -> Path:
    """Write one sheet per frame (name -> frame) as ``.xlsx``, atomically and neutralised.

    Each sheet has a bold, frozen, filterable header row. Sheet names are cut to Excel's 31
    characters. Frames of text, numbers and booleans (missing values: empty cells) are written
    by :mod:`zlgis.io.xlsx_stream`, a whole column at a time (the two sheets of the demo city's
    grid table, 9,300 rows: 0.3-0.45 s, against 3.8-4.1 s through pandas and openpyxl); a frame
    holding other values (dates ...) goes through pandas and openpyxl, which write Excel dates.

    >>> import tempfile, pathlib, openpyxl
    >>> p = write_xlsx({"表": pd.DataFrame({"编号": ["=1+1", None], "数量": [1.5, float("nan")],
    ...                                    "有效": [True, False]})},
    ...                pathlib.Path(tempfile.mkdtemp()) / "t.xlsx")
    >>> ws = openpyxl.load_workbook(p)["表"]
    >>> [[c.value for c in row] for row in ws.iter_rows()], ws.freeze_panes, ws.auto_filter.ref
    ([['编号', '数量', '有效'], ["'=1+1", 1.5, True], [None, None, False]], 'A2', 'A1:C3')
    """
    from .xlsx_stream import Sheet, Style, write_sheets

    path = Path(path)
    frames = {str(name)[:31]: safe_frame(frame.reset_index() if index else frame)
              for name, frame in sheets.items()}
    columns = {name: _xlsx_columns(frame) for name, frame in frames.items()}
    if len(frames) == len(sheets) and all(c is not None for c in columns.values()):
        return write_sheets([Sheet(name, cols, header_style=Style(bold=True), freeze="A2",
                                   autofilter=True) for name, cols in columns.items()], path)
    with atomic_path(path) as tmp:
        with pd.ExcelWriter(tmp, engine="openpyxl") as xw:
            for name, out in frames.items():
                out.to_excel(xw, index=False, sheet_name=name)
                ws = xw.sheets[name]
                ws.freeze_panes = "A2"
                ws.auto_filter.ref = ws.dimensions
    return path


def _xlsx_columns(frame: pd.DataFrame) -> list[Any] | None:
    """The :class:`~zlgis.io.xlsx_stream.Column` of each column of ``frame`` (missing values as
    None) when every column holds numbers, booleans or text only; else ``None``."""
    from .xlsx_stream import Column

    if not len(frame.columns) or frame.columns.has_duplicates:
        return None
    out = []
    for name in frame.columns:
        col = frame[name]
        values = col.astype(object).where(col.notna(), None).tolist()
        if not pd.api.types.is_numeric_dtype(col.dtype) and not (
                (col.dtype == object or pd.api.types.is_string_dtype(col.dtype))
                and set(map(type, values)) <= {str, type(None)}):
            return None
        out.append(Column(values, header=str(name)))
    return out
