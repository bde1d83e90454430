"""Limits checked on an ``.xlsx`` file before any spreadsheet parser sees it.

An ``.xlsx`` is a zip of XML parts. A small crafted file can declare a sheet reaching column XFD
and row 1,048,576 (a parser then walks every empty cell) or pack a shared-strings part that
expands a thousandfold (a parser then holds it all in memory). :func:`check_xlsx` reads only the
zip directory and streams each worksheet's XML once with a byte cap, so it refuses such a file in
well under a second and a few megabytes of memory, with one Chinese message.

Examples
--------
>>> import io, zipfile, tempfile, pathlib
>>> p = pathlib.Path(tempfile.mkdtemp()) / "wide.xlsx"
>>> with zipfile.ZipFile(p, "w") as z:
...     z.writestr("xl/worksheets/sheet1.xml", '<row r="200000"><c r="XFD200000"/></row>')
>>> try:
...     check_xlsx(p, max_rows=5000, max_columns=64, max_uncompressed_bytes=10**7,
...                max_part_bytes=10**7)
... except Exception as exc:
...     print(type(exc).__name__, exc.exit_code)
UnreadableInputError 2
"""

from __future__ import annotations

import re
import zipfile
from pathlib import Path

from ..errors import UnreadableInputError

__all__ = ["check_xlsx", "column_number"]

_CELL_REF = re.compile(rb'<(?:\w+:)?c\b[^>]*?\br="([A-Z]{1,3})(\d+)"')
_ROW_REF = re.compile(rb'<(?:\w+:)?row\b[^>]*?\br="(\d+)"')
_CHUNK = 1 << 20


def column_number(letters: str) -> int:
    """Spreadsheet column number of ``letters`` (``A`` is 1, ``XFD`` is 16384).

    >>> column_number("A"), column_number("AA"), column_number("XFD")
    (1, 27, 16384)
    """
    n = 0
    for ch in letters:
        n = n * 26 + ord(ch) - 64
    return n


def _scan_sheet(zf: zipfile.ZipFile, info: zipfile.ZipInfo, cap: int) -> tuple[int, int]:
    """Largest row and column referenced in a worksheet part, reading at most ``cap`` bytes."""
    max_row = max_col = 0
    seen = 0
    tail = b""
    with zf.open(info) as fh:
        while True:
            chunk = fh.read(_CHUNK)
            if not chunk:
                break
            seen += len(chunk)
            if seen > cap:
                raise OverflowError
            data = tail + chunk
            for m in _ROW_REF.finditer(data):
                max_row = max(max_row, int(m.group(1)))
            for m in _CELL_REF.finditer(data):
                max_col = max(max_col, column_number(m.group(1).decode()))
                max_row = max(max_row, int(m.group(2)))
            tail = data[-256:]
    return max_row, max_col


def check_xlsx(path: str | Path, *, max_rows: int, max_columns: int,
               max_uncompressed_bytes: int, max_part_bytes: int) -> None:
    """Refuse ``path`` unless it is a zip whose sheets stay within the given limits.

    Parameters
    ----------
    path : str or Path
        The ``.xlsx`` file.
    max_rows, max_columns : int
        Largest row number and column number any worksheet may reference.
    max_uncompressed_bytes : int
        Largest total size of all parts once unpacked (as the zip directory declares it).
    max_part_bytes : int
        Largest size of one part once unpacked (worksheets are also measured as they are read).

    Raises
    ------
    UnreadableInputError
        Not a regular file, not a zip, or over a limit (exit code 2).
    """
    path = Path(path)
    if not path.is_file():
        raise UnreadableInputError("不是普通文件，无法作为 Excel 读取", path=str(path))
    if path.stat().st_size == 0:
        raise UnreadableInputError("文件为空", path=str(path))
    try:
        zf = zipfile.ZipFile(path)
    except (zipfile.BadZipFile, OSError):
        raise UnreadableInputError("不是有效的 Excel（.xlsx）文件", path=str(path)) from None
    with zf:
        infos = zf.infolist()
        total = sum(i.file_size for i in infos)
        if total > max_uncompressed_bytes:
            raise UnreadableInputError(
                f"文件解压后约 {total / 2**20:.0f} MB，超过上限 "
                f"{max_uncompressed_bytes / 2**20:.0f} MB，拒绝导入", path=str(path))
        for info in infos:
            if info.file_size > max_part_bytes:
                raise UnreadableInputError(
                    f"文件中的 {info.filename} 解压后约 {info.file_size / 2**20:.0f} MB，超过上限 "
                    f"{max_part_bytes / 2**20:.0f} MB，拒绝导入", path=str(path))
        for info in infos:
            if not info.filename.startswith("xl/worksheets/"):
                continue
            try:
                rows, cols = _scan_sheet(zf, info, max_part_bytes)
            except OverflowError:
                raise UnreadableInputError(f"文件中的 {info.filename} 解压后超过上限，拒绝导入",
                                           path=str(path)) from None
            except (zipfile.BadZipFile, OSError, EOFError):
                raise UnreadableInputError("Excel 文件已损坏", path=str(path)) from None
            if rows > max_rows or cols > max_columns:
                raise UnreadableInputError(
                    f"工作表范围过大（{rows} 行 × {cols} 列，上限 {max_rows} 行 × "
                    f"{max_columns} 列），拒绝导入", path=str(path))
