"""The validation report: one row per problem, with file, layer, row, field, code and action.

Columns (:data:`ISSUE_COLUMNS`): ``layer``, ``path``, ``row`` (1-based source row, empty for a
problem of the whole layer), ``field``, ``code`` (stable English code), ``message`` (Chinese),
``action`` (``rejected``, ``repaired``, ``dropped_z``, ``warning``).

Examples
--------
>>> df = make_issues("toilets", "a.gpkg", rows=[3], codes="null_geometry",
...                  messages="几何为空", actions="rejected")
>>> format_issues(df)
['文件 a.gpkg，图层 toilets，第 3 行：几何为空（已剔除）']
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from functools import lru_cache
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

__all__ = [
    "ISSUE_COLUMNS",
    "ACTIONS",
    "CODES",
    "empty_issues",
    "make_issues",
    "concat_issues",
    "format_issues",
    "summarize_issues",
    "write_issues",
    "issues_records",
]

ISSUE_COLUMNS = ["layer", "path", "row", "field", "code", "message", "action"]

#: Chinese words for the actions, as printed by the CLI.
ACTIONS = {"rejected": "已剔除", "repaired": "已修复", "dropped_z": "已去除Z/M值", "warning": "警告"}

#: Every issue code and what it means (for the report legend and the documentation).
CODES = {
    "null_geometry": "几何为空",
    "empty_geometry": "空几何",
    "nonfinite_coordinates": "坐标含 NaN 或无穷大",
    "invalid_geometry": "几何无效（已用 make_valid 修复或无法修复）",
    "unclosed_ring": "多边形环未闭合",
    "unparseable_geometry": "几何无法解析",
    "wrong_geometry_type": "几何类型与图层不符",
    "dropped_z": "去除了 Z/M 值",
    "duplicate_id": "编号重复",
    "missing_field": "缺少必填字段",
    "missing_value": "必填字段为空",
    "wrong_type": "值的类型不对",
    "not_allowed": "值不在允许范围内",
    "out_of_range": "数值超出范围",
    "pattern_mismatch": "格式不符",
    "outside_boundary": "位于市界之外",
    "swapped_lat_lon": "经纬度颠倒",
    "crs_inferred": "坐标系由坐标范围推断",
    "crs_overridden": "文件声明的坐标系与图层目录不同",
    "encoding_detected": "按内容判断了文字编码",
    "coordinate_not_number": "坐标不是数字",
    "unknown_dxf_layer": "CAD 图层未在图层目录中登记",
    "empty_layer": "图层没有任何要素",
    "layer_error": "图层无法载入",
}


def empty_issues() -> pd.DataFrame:
    """An issue table with no rows and the right columns (a copy: callers may add to it)."""
    return _empty_issues().copy()


@lru_cache(maxsize=1)
def _empty_issues() -> pd.DataFrame:
    return pd.DataFrame({c: pd.Series(dtype="object") for c in ISSUE_COLUMNS}).astype(
        {"row": "Int64"})


def make_issues(layer: str | None, path: str | Path | None, *, rows: Sequence[Any] | np.ndarray,
                codes: str | Sequence[str], messages: str | Sequence[str],
                actions: str | Sequence[str], fields: str | None | Sequence[str | None] = None
                ) -> pd.DataFrame:
    """Build issue rows; scalars are broadcast over ``rows``."""
    n = len(rows)

    def col(v: Any) -> list[Any]:
        if v is None or isinstance(v, str):
            return [v] * n
        v = list(v)
        if len(v) != n:
            raise ValueError("length mismatch")
        return v

    df = pd.DataFrame({
        "layer": [layer] * n, "path": [None if path is None else str(path)] * n,
        "row": pd.array([None if r is None or (isinstance(r, float) and np.isnan(r)) else int(r)
                         for r in rows], dtype="Int64"),
        "field": col(fields), "code": col(codes), "message": col(messages),
        "action": col(actions)})
    return df[ISSUE_COLUMNS]


def concat_issues(frames: Iterable[pd.DataFrame]) -> pd.DataFrame:
    """Concatenate issue tables (empty ones allowed)."""
    frames = [f for f in frames if f is not None and len(f)]
    if not frames:
        return empty_issues()
    out = pd.concat(frames, ignore_index=True)
    out["row"] = out["row"].astype("Int64")
    return out[ISSUE_COLUMNS]


def format_issues(issues: pd.DataFrame, limit: int | None = None) -> list[str]:
    """One Chinese line per issue, naming file, layer, row and field, for the terminal."""
    lines = []
    for rec in issues.head(limit).itertuples(index=False) if limit else issues.itertuples(
            index=False):
        where = []
        if isinstance(rec.path, str) and rec.path:
            where.append(f"文件 {rec.path}")
        if isinstance(rec.layer, str) and rec.layer:
            where.append(f"图层 {rec.layer}")
        if rec.row is not None and not pd.isna(rec.row):
            where.append(f"第 {int(rec.row)} 行")
        if isinstance(rec.field, str) and rec.field:
            where.append(f"字段 {rec.field}")
        action = ACTIONS.get(rec.action, rec.action)
        lines.append(f"{'，'.join(where)}：{rec.message}（{action}）")
    if limit and len(issues) > limit:
        lines.append(f"……另有 {len(issues) - limit} 条问题未显示（用 --json 或报告文件查看全部）")
    return lines


def summarize_issues(issues: pd.DataFrame) -> pd.DataFrame:
    """Counts per layer, code and action."""
    if issues.empty:
        return pd.DataFrame(columns=["layer", "code", "action", "count"])
    return (issues.groupby(["layer", "code", "action"], dropna=False).size()
            .rename("count").reset_index())


def write_issues(issues: pd.DataFrame, path: str | Path) -> Path:
    """Write the report atomically: ``.csv`` (UTF-8 with BOM, opens in Excel) or ``.json``.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> out = pathlib.Path(tempfile.mkdtemp()) / "report.json"
    >>> _ = write_issues(empty_issues(), out)
    >>> out.read_text()
    '[]'
    """
    from ..io.atomic import atomic_path
    from ..io.tables import write_csv

    path = Path(path)
    if path.suffix.lower() != ".json":
        return write_csv(issues, path)
    with atomic_path(path) as tmp:
        tmp.write_text(json.dumps(issues_records(issues), ensure_ascii=False, indent=None),
                       encoding="utf-8")
    return path


def issues_records(issues: pd.DataFrame) -> list[dict[str, Any]]:
    """The issues as JSON-ready dicts (``row`` an int or ``None``)."""
    out = []
    for rec in issues[ISSUE_COLUMNS].itertuples(index=False):
        d = rec._asdict()
        d["row"] = None if pd.isna(d["row"]) else int(d["row"])
        for k in ("layer", "path", "field"):
            if not isinstance(d[k], str):
                d[k] = None
        out.append(d)
    return out
