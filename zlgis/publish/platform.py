"""Export of cases and findings for the city-management platform (数字化城市管理平台).

One layout, documented in ``docs/platform_export.md``: UTF-8 CSV with BOM (Excel opens it) and
the same sheets in one ``.xlsx``; Chinese headers; codes as text (leading zeros kept). Cases
carry the GB/T 30428.2 (old) and GB/T 47678.5 (new) class codes, the 11-digit matter code
(6-digit county + 5-digit class, city-management-codes.md "Code structure"), the 15-character
grid code, coordinates in WGS84 and in the working CRS, and the routing and times. Requester
names and phones are never exported; phone numbers inside the text are masked.

Examples
--------
>>> mask_phones("联系人王先生，电话13812345678。")
'联系人王先生，电话138****5678。'
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from ..config import department_name
from ..crs import transformer
from ..io.tables import write_csv, write_xlsx

__all__ = ["CASE_COLUMNS", "FINDING_COLUMNS_PLATFORM", "mask_phones", "platform_cases",
           "platform_findings", "write_platform_export"]

#: Case columns: canonical name -> Chinese header (the order of the file).
CASE_COLUMNS: dict[str, str] = {
    "case_id": "案件编号", "channel": "案件来源", "received_at": "受理时间",
    "kind": "问题类型", "major_code": "大类代码", "code_new": "小类代码",
    "code_old": "原小类代码", "matter_code": "事项编码", "class_name": "类别名称",
    "text": "问题描述", "address": "地址", "grid_id": "单元网格编码", "subdistrict": "街道",
    "community": "社区", "road_chief": "路长", "lead": "牵头部门", "coop": "配合部门",
    "deadline": "处置时限", "closed_at": "结案时间", "state": "案件状态", "overdue_h": "超期小时",
    "escalation_level": "督办级别", "lon": "经度", "lat": "纬度", "x": "X坐标", "y": "Y坐标",
}
#: Finding columns: canonical name -> Chinese header.
FINDING_COLUMNS_PLATFORM: dict[str, str] = {
    "finding_id": "问题编号", "title": "问题", "rule": "规则", "rule_source": "依据",
    "event_code_old": "原事件编码", "event_code_new": "事件编码", "grid_id": "单元网格编码",
    "road_chief": "路长", "lead": "牵头部门", "coop": "配合部门", "observed_at": "发现时间",
    "lon": "经度", "lat": "纬度", "x": "X坐标", "y": "Y坐标",
}


def mask_phones(text: pd.Series | str) -> Any:
    """Mask mainland mobile numbers (keep the first 3 and last 4 digits)."""
    pat, rep = r"(?<!\d)(1[3-9]\d)\d{4}(\d{4})(?!\d)", r"\1****\2"
    if isinstance(text, str):
        import re

        return re.sub(pat, rep, text)
    return text.fillna("").astype(str).str.replace(pat, rep, regex=True)


def _names(codes: pd.Series) -> pd.Series:
    return codes.fillna("").astype(str).map(
        lambda s: "、".join(department_name(c) for c in s.split(";") if c))


def _coords(gdf: gpd.GeoDataFrame) -> pd.DataFrame:
    geom = gdf.geometry.values
    ok = ~(shapely.is_missing(geom) | shapely.is_empty(geom))
    pt = np.where(ok, shapely.point_on_surface(np.where(ok, geom, shapely.Point(0, 0))), None)
    xy = np.full((len(gdf), 2), np.nan)
    if ok.any():
        xy[ok] = shapely.get_coordinates(pt[ok])
    lon, lat = transformer(gdf.crs).transform(xy[:, 0], xy[:, 1])
    return pd.DataFrame({"lon": np.round(lon, 6), "lat": np.round(lat, 6),
                         "x": np.round(xy[:, 0], 2), "y": np.round(xy[:, 1], 2)},
                        index=gdf.index)


def platform_cases(prepared: gpd.GeoDataFrame, *, admin_code: str = "150783") -> pd.DataFrame:
    """Prepared cases (:func:`zlgis.analysis.cases.prepare_cases`) in the platform layout."""
    from ..analysis.cases import case_settings

    classes = case_settings()["classes"]
    kind = prepared["case_class"].map(lambda c: {"component": "部件", "event": "事件"}.get(
        classes.get(c, {}).get("kind", ""), "其他"))
    code = prepared["code_new"].fillna("").astype(str)
    state = np.where(prepared["closed"], "已结案",
                     np.where(prepared["overdue"], "超期未结", "处置中"))
    channels = case_settings().get("channels", {})
    out = pd.DataFrame({
        "case_id": prepared["case_id"].astype(str),
        "channel": prepared.get("channel", pd.Series("12345", index=prepared.index)).fillna(
            "12345").astype(str).map(lambda c: channels.get(c, c)),
        "received_at": pd.to_datetime(prepared["received_at"]).dt.strftime("%Y-%m-%d %H:%M"),
        "kind": kind, "major_code": code.str[:2], "code_new": code,
        "code_old": prepared["code_old"].fillna("").astype(str),
        "matter_code": np.where(code != "", admin_code + code, ""),
        "class_name": prepared["class_name"],
        "text": mask_phones(prepared["text"]) if "text" in prepared else "",
        "address": prepared["address"].fillna("").astype(str) if "address" in prepared else "",
        "grid_id": prepared["grid_id"], "subdistrict": prepared["subdistrict"],
        "community": prepared["community"], "road_chief": prepared["road_chief"],
        "lead": _names(prepared["lead_department"]), "coop": _names(prepared["coop_departments"]),
        "deadline": pd.to_datetime(prepared["deadline"]).dt.strftime("%Y-%m-%d %H:%M"),
        "closed_at": pd.to_datetime(prepared["closed_at"]).where(prepared["closed"])
        .dt.strftime("%Y-%m-%d %H:%M").fillna(""),
        "state": state, "overdue_h": np.round(prepared["overdue_h"].to_numpy(float), 1),
        "escalation_level": prepared["escalation_level"].astype(int),
    }, index=prepared.index).join(_coords(prepared))
    return out[list(CASE_COLUMNS)].reset_index(drop=True)


def platform_findings(findings: gpd.GeoDataFrame) -> pd.DataFrame:
    """Findings (:data:`zlgis.findings.FINDING_COLUMNS`) in the platform layout."""
    f = findings.assign(lead=_names(findings["lead_department"]),
                        coop=_names(findings["coop_departments"])).join(_coords(findings))
    return pd.DataFrame(f[list(FINDING_COLUMNS_PLATFORM)]).reset_index(drop=True)


def write_platform_export(out_dir: str | os.PathLike[str], *, cases: pd.DataFrame | None = None,
                          findings: pd.DataFrame | None = None, stem: str = "platform"
                          ) -> list[Path]:
    """Write ``<stem>_cases.csv``, ``<stem>_findings.csv`` and ``<stem>.xlsx`` atomically."""
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    sheets = {}
    if cases is not None:
        sheets["案件"] = cases.rename(columns=CASE_COLUMNS)
    if findings is not None:
        sheets["问题"] = findings.rename(columns=FINDING_COLUMNS_PLATFORM)
    written = [write_csv(df, out / f"{stem}_{'cases' if name == '案件' else 'findings'}.csv")
               for name, df in sheets.items()]
    path = write_xlsx(sheets, out / f"{stem}.xlsx")
    written.append(path)
    return written
