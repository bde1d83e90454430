"""Findings as files for staff: a GeoPackage and a CSV with Chinese headers.

Every command that writes findings uses :func:`write_findings`, so the CSV a bureau opens in
Excel has the same columns whichever check produced it: department codes become names, rule ids
become titles, severities and units are in Chinese, and the geometry is WKT.

Examples
--------
>>> from shapely.geometry import Point
>>> from zlgis.findings import make_findings
>>> f = make_findings(rule="red_line_setback", feature_ids=[["B1", "HX1"]], layer="buildings",
...                   geometry=[Point(1, 2)], measures=[{"actual_m": 4.0}],
...                   measure_key="actual_m", measure_unit="m", severity="high")
>>> t = findings_table(f)
>>> t.loc[0, "规则"], t.loc[0, "严重程度"], t.loc[0, "单位"], t.loc[0, "牵头部门"], t.loc[0, "几何（WKT）"]
('建筑退让道路红线不足', '高', '米', '自然资源局', 'POINT (1 2)')
"""

from __future__ import annotations

from pathlib import Path

import geopandas as gpd
import pandas as pd

from ..config import department_name
from ..rules import rules
from ..io.atomic import atomic_path
from ..io.tables import write_csv

__all__ = ["FINDING_HEADERS", "SEVERITY_LABELS", "UNIT_LABELS", "findings_table",
           "write_findings"]

#: CSV headers of the findings columns (canonical -> Chinese), in output order.
FINDING_HEADERS: dict[str, str] = {
    "finding_id": "问题编号", "check": "检查", "rule": "规则", "title": "问题描述",
    "task_id": "任务编号", "layer": "图层", "feature_id": "要素编号", "related_ids": "关联要素",
    "measure": "主要量值", "measure_unit": "单位", "measures": "全部量值", "severity": "严重程度",
    "lead_department": "牵头部门", "coop_departments": "配合部门",
    "event_code_old": "事件编码（旧）", "event_code_new": "事件编码（新）", "grid_id": "网格编号",
    "road_chief": "路长", "public": "可公开", "observed_at": "发现时间", "rule_source": "依据",
    "geometry": "几何（WKT）",
}
SEVERITY_LABELS = {"high": "高", "medium": "中", "low": "低"}
UNIT_LABELS = {"m": "米", "m2": "平方米", "m3": "立方米", "cm": "厘米", "km": "千米",
               "min": "分钟", "h": "小时", "ratio": "占比", "share": "占比"}


def _departments(codes: object) -> str:
    return "、".join(department_name(c) for c in str(codes or "").split(";") if c)


def findings_table(findings: gpd.GeoDataFrame) -> pd.DataFrame:
    """The findings as a plain table with Chinese headers and values, geometry as WKT.

    Rule ids become their titles in the rule registry (:mod:`zlgis.rules`).
    """
    titles = {r.id: r.title for r in rules()}
    table = pd.DataFrame(findings.drop(columns=findings.geometry.name))
    table["geometry"] = findings.geometry.to_wkt(rounding_precision=3).to_numpy()
    table["rule"] = table["rule"].map(lambda r: titles.get(r, r))
    if "public" in table:
        table["public"] = table["public"].map({True: "是", False: "否"}).fillna("否")
    table["severity"] = table["severity"].map(lambda v: SEVERITY_LABELS.get(v, v))
    table["measure_unit"] = table["measure_unit"].map(lambda v: UNIT_LABELS.get(v, v))
    for col in ("lead_department", "coop_departments"):
        table[col] = table[col].map(_departments)
    return table[[c for c in FINDING_HEADERS if c in table.columns]].rename(
        columns=FINDING_HEADERS)


def write_findings(findings: gpd.GeoDataFrame, out_dir: str | Path, *,
                   stem: str = "findings") -> tuple[Path, Path]:
    """Write ``<stem>.gpkg`` (layer ``stem``) and ``<stem>.csv`` (UTF-8 with BOM), atomically."""
    out = Path(out_dir)
    gpkg, csv = out / f"{stem}.gpkg", out / f"{stem}.csv"
    with atomic_path(gpkg) as tmp:
        findings.to_file(tmp, layer=stem, driver="GPKG")
    write_csv(findings_table(findings), csv)
    return gpkg, csv
