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
from ..findings import FINDING_LABELS, SEVERITY_LABELS
from ..io.atomic import atomic_path
from ..io.tables import write_csv
from ..rules import rules

__all__ = ["UNIT_LABELS", "findings_table", "write_findings"]

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
    return table[[c for c in FINDING_LABELS if c in table.columns]].rename(
        columns=FINDING_LABELS)


def write_findings(findings: gpd.GeoDataFrame, out_dir: str | Path, *,
                   stem: str = "findings") -> tuple[Path, Path]:
    """Write ``<stem>.gpkg`` (layer ``stem``) and ``<stem>.csv`` (UTF-8 with BOM), atomically."""
    out = Path(out_dir)
    gpkg, csv = out / f"{stem}.gpkg", out / f"{stem}.csv"
    with atomic_path(gpkg) as tmp:
        findings.to_file(tmp, layer=stem, driver="GPKG")
    write_csv(findings_table(findings), csv)
    return gpkg, csv
