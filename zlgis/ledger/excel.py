"""The Excel ledger: export for the departments, import of the edits their staff make.

The workbook has a 说明 sheet (the week, how to fill it in), a 汇总 sheet (counts per department
and status) and one sheet per lead department, with Chinese headers, an autofilter, a frozen
header row and a link from every row to the internal map. Staff may change three columns:
状态 (已整改 or 未整改), 整改说明 and 照片编号. :func:`import_excel` reads them back, validates
every sheet (columns, ids, status values) and either applies all edits in one transaction or
refuses the file with a Chinese message naming the sheet, row and column, leaving the ledger as it
was.

The file is reproducible: the same ledger gives the same bytes (fixed document properties and zip
timestamps), so rerunning a week gives an identical workbook.

Examples
--------
>>> import tempfile, pathlib
>>> from shapely.geometry import Point
>>> from zlgis.findings import make_findings
>>> from zlgis.ledger import Ledger
>>> d = pathlib.Path(tempfile.mkdtemp())
>>> led = Ledger(d / "ledger.sqlite")
>>> f = make_findings(rule="red_line_encroachment", feature_ids=[["B1", "R1"]],
...                   layer="buildings", geometry=[Point(0, 0)])
>>> _ = led.merge(f, week="2022-W35", checks_run=["controllines"])
>>> path = export_excel(led, d / "ledger.xlsx")
>>> import openpyxl
>>> wb = openpyxl.load_workbook(path)
>>> wb.sheetnames
['说明', '汇总', '自然资源局']
>>> ws = wb["自然资源局"]; ws.cell(2, 2).value = "已整改"; wb.save(path)
>>> import_excel(path, led)
1
>>> led.view()["status"].tolist()
['rectified']
"""

from __future__ import annotations

import hashlib
import os
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from ..config import department_name, load_config
from ..errors import LedgerError, UnreadableInputError, ZlgisError
from ..findings import SEVERITY_LABELS
from ..io.tables import neutralise, restore
from ..io.xlsx_guard import check_xlsx
from ..rules import checks
from .store import STATUSES, Ledger, parse_week, status_code, status_labels

__all__ = ["EXCEL_COLUMNS", "EDITABLE_COLUMNS", "department_order", "export_excel", "import_excel",
           "read_edits", "write_workbook"]


@dataclass(frozen=True)
class _Col:
    header: str
    source: str
    width: int


#: The columns of every department sheet: Chinese header, ledger column, width.
_COLUMNS: tuple[_Col, ...] = (
    _Col("问题编号", "finding_id", 34),
    _Col("状态", "status_label", 9),
    _Col("整改说明", "note", 28),
    _Col("照片编号", "photo", 16),
    _Col("问题", "title", 30),
    _Col("严重程度", "severity_label", 8),
    _Col("整改期限", "deadline", 17),
    _Col("首次发现", "first_seen", 10),
    _Col("最近发现", "last_seen", 10),
    _Col("复发次数", "reopen_count", 8),
    _Col("牵头部门", "lead_names", 16),
    _Col("配合部门", "coop_names", 22),
    _Col("网格", "grid_id", 17),
    _Col("路长", "road_chief", 10),
    _Col("任务编号", "task_id", 8),
    _Col("检查", "check_label", 10),
    _Col("规则", "rule", 22),
    _Col("依据", "rule_source", 30),
    _Col("图层", "layer", 14),
    _Col("要素编号", "feature_id", 16),
    _Col("相关要素", "related_ids", 16),
    _Col("量值", "measure", 9),
    _Col("单位", "measure_unit", 6),
    _Col("经度", "lon", 11),
    _Col("纬度", "lat", 10),
    _Col("地图", "map_link", 9),
    _Col("原状态", "status_label", 9),
    _Col("原整改说明", "note", 12),
    _Col("原照片编号", "photo", 12),
)

#: Chinese headers of a department sheet, in order.
EXCEL_COLUMNS: tuple[str, ...] = tuple(c.header for c in _COLUMNS)
#: Headers staff may edit.
EDITABLE_COLUMNS: tuple[str, ...] = ("状态", "整改说明", "照片编号")
#: Hidden columns holding the exported values, to tell what staff changed.
_ORIGINAL = {"状态": "原状态", "整改说明": "原整改说明", "照片编号": "原照片编号"}

_INFO_SHEET = "说明"
_SUMMARY_SHEET = "汇总"
_UNASSIGNED = "未分派"
_STATUS_ORDER = {s: i for i, s in enumerate(("overdue", "reopened", "new", "open", "rectified"))}
_MAX_TEXT = 500


# -------------------------------------------------------------------------------------- export
def department_order(code: str) -> tuple[int, str]:
    """Sort key: departments in the plan's order (``departments.yaml``), unknown codes, then none.

    >>> sorted(["public_security", "natural_resources", ""], key=department_order)
    ['natural_resources', 'public_security', '']
    """
    order = list(load_config("departments")["departments"])
    if not code:
        return (len(order) + 1, "")
    return (order.index(code) if code in order else len(order), code)


def _names(codes: Any) -> str:
    return "、".join(department_name(c) for c in str(codes or "").split(";") if c)


def _sheet_title(name: str, used: set[str]) -> str:
    title = re.sub(r"[\[\]:*?/\\]", "_", name)[:31] or _UNASSIGNED
    base, k = title, 2
    while title in used:
        title = f"{base[:28]}_{k}"
        k += 1
    used.add(title)
    return title


def _prepare(view: pd.DataFrame, map_href: str) -> pd.DataFrame:
    labels = status_labels()
    df = pd.DataFrame(view.drop(columns="geometry")).copy()
    df["status_label"] = df["status"].map(labels).fillna(df["status"])
    df["severity_label"] = df["severity"].map(SEVERITY_LABELS).fillna(df["severity"])
    df["check_label"] = df["check"].map({c.name: c.title for c in checks()}).fillna(df["check"])
    for col, src in (("lead_names", "lead_department"), ("coop_names", "coop_departments")):
        codes = df[src].astype(object)
        df[col] = codes.map({c: _names(c) for c in codes.unique()})
    if len(view):
        pts = view.geometry.representative_point().to_crs("EPSG:4326")
        df["lon"] = np.round(pts.x.to_numpy(), 6)
        df["lat"] = np.round(pts.y.to_numpy(), 6)
    else:
        df["lon"] = df["lat"] = []
    df["map_link"] = [f"{map_href}#{fid}" for fid in df["finding_id"]]
    df["measure"] = pd.to_numeric(df["measure"], errors="coerce").round(2)
    df["_order"] = df["status"].map(_STATUS_ORDER).fillna(9)
    return df.sort_values(["_order", "deadline", "finding_id"], kind="stable")


def write_workbook(view: pd.DataFrame, path: str | os.PathLike[str], *, week: str,
                   as_of: str = "", map_href: str = "map_internal.html",
                   engine: str = "stream") -> Path:
    """Write the Excel ledger of a week's ledger view (see :meth:`Ledger.view`) atomically.

    ``engine="stream"`` writes it with :mod:`zlgis.io.xlsx_stream` (whole columns at a time:
    a second for the 18,000 findings of the 1M-building city); ``engine="openpyxl"`` writes the
    same workbook through openpyxl's write-only mode (the reference path the tests compare
    against, about a hundred times slower).
    """
    from ..io.xlsx_stream import write_sheets

    return write_sheets(workbook_sheets(view, week=week, as_of=as_of, map_href=map_href), path,
                        engine=engine)


def workbook_sheets(view: pd.DataFrame, *, week: str, as_of: str = "",
                    map_href: str = "map_internal.html") -> list[Any]:
    """The sheets of the Excel ledger (:class:`zlgis.io.xlsx_stream.Sheet`): 说明, 汇总 and one
    per lead department."""
    from ..io.xlsx_stream import Column, ListValidation, Sheet, Style

    labels = status_labels()
    df = _prepare(view, map_href)
    bold = Style(bold=True)
    rows = [
        ("台账周次", week),
        ("统计截止日期", as_of),
        ("问题总数", int(len(df))),
        ("填写说明", "只可修改“状态”“整改说明”“照片编号”三列（浅黄色）；状态只能填“"
                    f"{labels['rectified']}”或“{labels['open']}”。"),
        ("", "不要删除列、修改问题编号或改动其他列；修改后用 zlgis ledger import 导入。"),
        ("", "标记为“已整改”的问题将在下周检查中复核：仍被发现则记为“复发”。"),
        ("状态说明", "；".join(f"{labels[s]}" for s in STATUSES)),
        ("生成程序", "zlgis 每周违规检查"),
    ]
    sheets = [Sheet(_INFO_SHEET, [Column([k for k, _ in rows], width=14, style=bold),
                                  Column([v for _, v in rows], width=90)])]
    # 汇总: counts per department and status
    dept_rows = _by_department(df)
    counts = [[int((part["status"] == s).sum()) for s in STATUSES] + [int(len(part))]
              for _, part in dept_rows]
    heads = [labels[s] for s in STATUSES] + ["合计"]
    sheets.append(Sheet(
        _SUMMARY_SHEET, [Column([d for d, _ in dept_rows], header="部门", width=18)]
        + [Column([c[k] for c in counts], header=h) for k, h in enumerate(heads)],
        header_style=bold, freeze="A2"))

    header = Style(bold=True, color="FFFFFF", fill="1F4E78", vertical="center", wrap=True)
    edit = Style(fill="FFF2CC")
    link = Style(color="0563C1", underline=True)
    used: set[str] = {_INFO_SHEET, _SUMMARY_SHEET}
    status_list = [labels[s] for s in STATUSES]
    error = f"请填写：{labels['rectified']} 或 {labels['open']}"
    for dept, part in dept_rows:
        n = len(part)
        columns = []
        for col in _COLUMNS:
            style = edit if col.header in EDITABLE_COLUMNS else None
            links = None
            if col.header == "地图":
                values: list[Any] = ["查看地图"] * n
                links, style = part["map_link"].tolist(), link
            else:
                values = _cells(part[col.source])
            columns.append(Column(values, header=col.header, width=col.width, style=style,
                                  hidden=col.header in _ORIGINAL.values(), links=links))
        checks_ = [ListValidation(f"B2:B{n + 1}", status_list, "状态无效", error)] if n else []
        sheets.append(Sheet(_sheet_title(dept, used), columns, header_style=header, freeze="B2",
                            autofilter=True, validations=checks_))
    return sheets


def _by_department(df: pd.DataFrame) -> list[tuple[str, pd.DataFrame]]:
    """(department name, rows) for every lead department (a finding with two leads is in both)."""
    codes = df["lead_department"].fillna("").astype(str).str.split(";")
    exploded = df.assign(_dept=codes).explode("_dept")
    exploded["_dept"] = exploded["_dept"].fillna("")
    out = []
    for code in sorted(exploded["_dept"].unique(), key=department_order):
        name = department_name(code) if code else _UNASSIGNED
        out.append((name, exploded[exploded["_dept"] == code].drop(columns="_dept")))
    return out


def _cell(value: Any) -> Any:
    if value is None:
        return None
    if isinstance(value, (float, np.floating)):
        return None if not np.isfinite(value) else float(value)
    if isinstance(value, (np.integer,)):
        return int(value)
    if isinstance(value, (np.bool_, bool)):
        return bool(value)
    return neutralise(str(value))  # no formula injection


def _cells(values: pd.Series) -> list[Any]:
    """:func:`_cell` of every value of a column, boxed as Python scalars (as row tuples give
    them: integers of an integer column are written as text, as they always were); each
    distinct text is neutralised once."""
    seen: dict[str, Any] = {}
    out = []
    for v in values.tolist():
        if type(v) is str:
            c = seen.get(v)
            if c is None:
                c = seen[v] = neutralise(v)
            out.append(c)
        else:
            out.append(_cell(v))
    return out


def export_excel(ledger: Ledger, path: str | os.PathLike[str], *, week: str | None = None,
                 map_href: str = "map_internal.html") -> Path:
    """Export the ledger as of ``week`` (default: the latest) to an Excel workbook.

    Parameters
    ----------
    ledger : Ledger
    path : path-like
        The ``.xlsx`` file to write (atomically).
    week : str, optional
        ISO week label; default the latest week of the ledger.
    map_href : str
        Link target of the 地图 column (the finding id is added as ``#fragment``).
    """
    week = week or ledger.latest_week()
    if week is None:
        raise LedgerError("台账为空，还没有运行过每周检查", path=str(ledger.path))
    info = ledger.run_info(week)
    if info is None:
        raise LedgerError(f"台账中没有周次 {week}", path=str(ledger.path))
    return write_workbook(ledger.view(week), path, week=week, as_of=info["as_of"].isoformat(),
                          map_href=map_href)


# -------------------------------------------------------------------------------------- import
def _text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return restore(str(value).strip())


_Record = tuple[str, str, str, str, str, int, bool]
_CONTROL_CHARS = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f]")


def _open_workbook(path: Path) -> Any:
    """The workbook read-only, after the size checks of ``ledger.yaml`` ``import_limits``."""
    from openpyxl import load_workbook

    if not path.exists():
        raise UnreadableInputError("文件不存在", path=str(path))
    limits = load_config("ledger")["import_limits"]
    check_xlsx(path, max_rows=int(limits["max_rows"]), max_columns=int(limits["max_columns"]),
               max_uncompressed_bytes=int(limits["max_uncompressed_mb"]) * 2**20,
               max_part_bytes=int(limits["max_part_mb"]) * 2**20)
    try:
        return load_workbook(path, read_only=True, data_only=True)
    except Exception as exc:  # openpyxl raises many kinds for a broken file
        raise UnreadableInputError(f"文件无法作为 Excel 台账读取（{type(exc).__name__}）",
                                   path=str(path)) from None


def _ledger_week(wb: Any, path: Path) -> str:
    """The week written on the info sheet of an exported ledger."""
    if _INFO_SHEET not in wb.sheetnames:
        raise LedgerError(f"缺少“{_INFO_SHEET}”工作表，不是 zlgis 导出的台账",
                          path=str(path))
    week = ""
    for row in wb[_INFO_SHEET].iter_rows(min_row=1, max_row=20, values_only=True):
        if row and _text(row[0]) == "台账周次" and len(row) > 1:
            week = _text(row[1])
    if not week:
        raise LedgerError(f"“{_INFO_SHEET}”工作表中缺少台账周次", path=str(path),
                          layer=_INFO_SHEET)
    return week


def _row_edit(row: tuple, pos: dict[str, int], name: str, r: int, path: Path,
              errors: list[LedgerError]) -> _Record | None:
    """One row's edit (None for an empty or invalid row; problems go to ``errors``)."""
    fid = _text(row[pos["问题编号"]])
    stat = _text(row[pos["状态"]])
    note = _text(row[pos["整改说明"]])
    photo = _text(row[pos["照片编号"]])
    orig = tuple(_text(row[pos[_ORIGINAL[c]]]) for c in EDITABLE_COLUMNS)
    if not any(_text(v) for v in row):
        return None
    if (stat, note, photo) == orig:
        return (fid, "", note, photo, name, r, False)
    if not fid:
        errors.append(LedgerError("问题编号为空", path=str(path), layer=name, row=r,
                                  field="问题编号"))
        return None
    code = status_code(stat)
    if code is None:
        labels = status_labels()
        allowed = "、".join(labels[s] for s in STATUSES)
        errors.append(LedgerError(f"状态“{stat}”无效，应为：{allowed}",
                                  path=str(path), layer=name, row=r, field="状态"))
        return None
    for col, val in (("整改说明", note), ("照片编号", photo)):
        if len(val) > _MAX_TEXT or _CONTROL_CHARS.search(val):
            errors.append(LedgerError(f"内容过长（超过 {_MAX_TEXT} 字）或含控制字符",
                                      path=str(path), layer=name, row=r, field=col))
    if stat == orig[0]:
        code = ""  # status unchanged, note or photo edited
    return (fid, code, note, photo, name, r, True)


def _sheet_edits(ws: Any, name: str, path: Path, records: list[_Record],
                 errors: list[LedgerError]) -> None:
    """The edits of one findings sheet (a sheet missing a column is one error)."""
    rows = ws.iter_rows(values_only=True)
    header = [_text(v) for v in next(rows, ())]
    missing = [h for h in EXCEL_COLUMNS if h not in header]
    if missing:
        errors.append(LedgerError(f"缺少列“{'、'.join(missing)}”（请不要删除或改名列）",
                                  path=str(path), layer=name, row=1, field=missing[0]))
        return
    pos = {h: header.index(h) for h in EXCEL_COLUMNS}
    for r, row in enumerate(rows, start=2):
        row = tuple(row) + (None,) * (len(header) - len(row))
        rec = _row_edit(row, pos, name, r, path, errors)
        if rec is not None:
            records.append(rec)


def read_edits(path: str | os.PathLike[str]) -> tuple[str, pd.DataFrame]:
    """Read and validate an edited Excel ledger; return its week and the edits.

    The edits table has one row per finding id: ``finding_id``, ``status`` (code), ``note``,
    ``photo``. Raises :class:`~zlgis.errors.LedgerError` naming the sheet, row and column of the
    first problem (and how many there are) when anything is wrong.
    """
    path = Path(path)
    wb = _open_workbook(path)
    errors: list[LedgerError] = []
    records: list[_Record] = []
    try:
        week = _ledger_week(wb, path)
        for name in wb.sheetnames:
            if name not in (_INFO_SHEET, _SUMMARY_SHEET):
                _sheet_edits(wb[name], name, path, records, errors)
    finally:
        wb.close()
    _raise_first(errors)
    edits = pd.DataFrame(records, columns=["finding_id", "status", "note", "photo", "sheet", "row",
                                           "changed"])
    return week, edits


def _raise_first(errors: list[LedgerError]) -> None:
    if errors:
        first = errors[0]
        more = f"（另有 {len(errors) - 1} 处问题）" if len(errors) > 1 else ""
        raise LedgerError(f"{first.message}{more}；台账未作任何修改", path=first.path,
                          layer=first.layer, row=first.row, field=first.field)


def _resolve(edits: pd.DataFrame, known: set[str], path: str, week: str) -> pd.DataFrame:
    """The rows staff changed, one per finding. A finding listed on several sheets (two lead
    departments) may be changed on one of them; two different changes are a conflict."""
    settable = set(load_config("ledger").get("staff_settable") or ["rectified", "open"])
    labels = status_labels()
    errors: list[LedgerError] = []
    out = []
    for fid, rows in edits.groupby("finding_id", sort=True):
        r0 = rows.iloc[0]
        if fid not in known:
            errors.append(LedgerError(f"问题编号 {fid} 不在 {week} 台账中（不要修改或新增问题编号）",
                                      path=path, layer=r0["sheet"], row=int(r0["row"]),
                                      field="问题编号"))
            continue
        changed = rows[rows["changed"]]
        if not len(changed):
            continue
        bad = changed[(changed["status"] != "") & ~changed["status"].isin(list(settable))]
        if len(bad):
            r = bad.iloc[0]
            errors.append(LedgerError(
                f"状态不能人工改为“{labels.get(r['status'], r['status'])}”，只能填写："
                f"{'、'.join(labels[s] for s in sorted(settable))}", path=path,
                layer=r["sheet"], row=int(r["row"]), field="状态"))
            continue
        distinct = changed[["status", "note", "photo"]].drop_duplicates()
        if len(distinct) > 1:
            r = changed.iloc[1]
            errors.append(LedgerError(f"问题 {fid} 在不同工作表中填写不一致", path=path,
                                      layer=r["sheet"], row=int(r["row"]), field="问题编号"))
            continue
        out.append(changed.iloc[0])
    _raise_first(errors)
    cols = ["finding_id", "status", "note", "photo"]
    return pd.DataFrame(out, columns=edits.columns)[cols].reset_index(drop=True)


def import_excel(path: str | os.PathLike[str], ledger: Ledger) -> int:
    """Import staff edits from an Excel ledger into ``ledger``; return the number changed.

    All or nothing: a file with a removed column, an unknown id or an invalid status is refused
    with a :class:`~zlgis.errors.LedgerError` and the ledger is not touched. The file is read
    and checked by :func:`read_edits` first; only :func:`apply_edits` needs the ledger's lock.
    """
    week, edits = read_edits(path)
    return apply_edits(path, week, edits, ledger)


def apply_edits(path: str | os.PathLike[str], week: str, edits: pd.DataFrame,
                ledger: Ledger) -> int:
    """Apply edits read by :func:`read_edits` from ``path`` to ``ledger`` (all or nothing)."""
    try:
        week = parse_week(week)
    except ZlgisError:
        raise LedgerError(f"台账周次“{week}”无效", path=str(path), layer=_INFO_SHEET) from None
    if ledger.run_info(week) is None:
        raise LedgerError(f"台账中没有周次 {week}（这份 Excel 不是由本台账导出的？）",
                          path=str(path), layer=_INFO_SHEET)
    known = set(ledger.view(week)["finding_id"])
    edits = _resolve(edits, known, str(path), week)
    sha1 = hashlib.sha1(Path(path).read_bytes()).hexdigest()
    return ledger.apply_edits(edits, export_week=week, source=str(path), sha1=sha1)
