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

import re
from pathlib import Path
from typing import Any

import pandas as pd

from .atomic import atomic_path

__all__ = ["FORMULA_PREFIXES", "neutralise", "restore", "safe_frame", "write_csv"]

#: First characters that make a spreadsheet read a text cell as a formula.
FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")
_NUMBER = re.compile(r"^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$")


def neutralise(value: Any) -> Any:
    """``value`` with a leading apostrophe when it is text a spreadsheet would run as a formula."""
    if not isinstance(value, str) or not value.startswith(FORMULA_PREFIXES):
        return value
    if value == "-" or _NUMBER.match(value):
        return value
    return "'" + value


def restore(value: str) -> str:
    """Undo :func:`neutralise` on text read back from a sheet (only its own apostrophe)."""
    if value.startswith("'") and value[1:].startswith(FORMULA_PREFIXES):
        return value[1:]
    return value


def safe_frame(frame: pd.DataFrame) -> pd.DataFrame:
    """A copy of ``frame`` with :func:`neutralise` applied to every text cell and header."""
    out = frame.copy()
    for col in out.columns:
        if out[col].dtype == object or pd.api.types.is_string_dtype(out[col]):
            out[col] = out[col].map(neutralise)
    out.columns = [neutralise(str(c)) for c in out.columns]
    return out


def write_csv(frame: pd.DataFrame, path: str | Path) -> Path:
    """Write ``frame`` as CSV (UTF-8 with BOM, opens in Excel), atomically and neutralised."""
    path = Path(path)
    with atomic_path(path) as tmp:
        safe_frame(frame).to_csv(tmp, index=False, encoding="utf-8-sig")
    return path
