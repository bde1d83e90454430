"""Evaluation (检查考评) of subdistricts, communities and departments from their cases.

The campaign's last phase (检查考评, to 2022-10-31; 扎政办字〔2022〕51号 五、实施步骤) assesses
who handled what. From prepared cases (:func:`zlgis.analysis.cases.prepare_cases`) each unit
gets the indicators digital city management uses (city-management-codes.md "Cases and
indicators"): 结案率 (rectification rate = closed / due), 按期结案率 (on-time rate = closed on
time / due), the repeat rate (cases at a place that complained again within the window) and the
share of its ledger closed by the campaign end; and a weighted score out of 100 (weights in
``config/cases.yaml``, example values).

Examples
--------
>>> import pandas as pd
>>> df = pd.DataFrame({"subdistrict": ["甲", "甲", "乙"], "closed": [True, False, True],
...     "closed_on_time": [True, False, False], "overdue": [False, True, True],
...     "deadline": pd.to_datetime(["2022-09-01"] * 3), "repeat_count": [1, 1, 2],
...     "received_at": pd.to_datetime(["2022-08-30"] * 3),
...     "closed_at": pd.to_datetime(["2022-08-31", None, "2022-09-02"])})
>>> s = evaluate(df, by="subdistrict", as_of="2022-09-04")
>>> s[["cases", "rectification_rate", "on_time_rate", "repeat_rate"]].values.tolist()
[[2.0, 0.5, 0.5, 0.0], [1.0, 1.0, 0.0, 1.0]]
>>> s["score"].tolist()
[60.0, 50.0]
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd

from ..config import department_name
from .cases import case_settings, end_of

__all__ = ["evaluate", "evaluation_areas", "INDICATORS"]

#: Indicator columns and their Chinese names (tables, legends, the report).
INDICATORS: dict[str, str] = {
    "cases": "案件数",
    "due": "应结案数",
    "rectification_rate": "结案率",
    "on_time_rate": "按期结案率",
    "repeat_rate": "重复投诉率",
    "closed_by_end": "攻坚期末（10月31日）结案比例",
    "score": "考评得分",
}


def evaluate(cases: pd.DataFrame, *, by: str, as_of: Any = None,
             campaign_end: str | None = None,
             weights: Mapping[str, float] | None = None,
             config: Mapping[str, Any] | None = None) -> pd.DataFrame:
    """Indicators and score per unit (``subdistrict``, ``community`` or ``department``).

    A case is *due* when its deadline has passed by ``as_of`` or it is closed. ``department``
    counts a case for each of its lead departments. ``closed_by_end`` is the share of the cases
    received by the campaign end that were closed by then (judged at ``as_of`` if earlier).

    Returns
    -------
    DataFrame
        One row per unit (sorted by score, best first): :data:`INDICATORS` and ``rank``.
    """
    s = case_settings(config)["evaluation"]
    w = dict(weights or s["weights"])
    end = end_of(campaign_end or s["campaign_end"])
    now = end_of(as_of) if as_of is not None else end
    df = cases.copy()
    if by == "department":
        df = df.assign(department=df["lead_department"].fillna("").astype(str).str.split(";"))
        df = df.explode("department")
        df["department"] = df["department"].map(lambda c: department_name(c) if c else "未分派")
    key = _unit(df, by)
    deadline = pd.to_datetime(df["deadline"])
    closed = df["closed"].astype(bool)
    due = closed | (deadline < now)
    received = pd.to_datetime(df["received_at"])
    closed_at = pd.to_datetime(df["closed_at"]) if "closed_at" in df else pd.Series(
        pd.NaT, index=df.index)
    judge = min(end, now)
    in_campaign = received < judge
    by_end = in_campaign & closed_at.notna() & (closed_at < judge)
    t = pd.DataFrame({
        "unit": key.to_numpy(), "case": 1, "due": due.to_numpy(),
        "closed_due": (closed & due).to_numpy(), "on_time": (df["closed_on_time"].astype(bool)
                                                             & due).to_numpy(),
        "repeat": (df["repeat_count"].to_numpy() > 1), "in_campaign": in_campaign.to_numpy(),
        "by_end": by_end.to_numpy()})
    g = t.groupby("unit", sort=True).sum()
    with np.errstate(invalid="ignore", divide="ignore"):
        out = pd.DataFrame({
            "cases": g["case"].astype(int), "due": g["due"].astype(int),
            "rectification_rate": g["closed_due"] / g["due"],
            "on_time_rate": g["on_time"] / g["due"],
            "repeat_rate": g["repeat"] / g["case"],
            "closed_by_end": g["by_end"] / g["in_campaign"],
        })
    parts = {"rectification_rate": out["rectification_rate"],
             "on_time_rate": out["on_time_rate"],
             "repeat_free_rate": 1 - out["repeat_rate"],
             "closed_by_end": out["closed_by_end"]}
    total = sum(float(v) for v in w.values())
    out["score"] = (100 * sum(float(w[k]) * parts[k].fillna(0) for k in w) / total).round(1)
    out = out.sort_values(["score", "cases"], ascending=[False, False], kind="stable")
    out["rank"] = np.arange(1, len(out) + 1)
    out.index.name = by
    return out


def _unit(df: pd.DataFrame, by: str) -> pd.Series:
    """The unit of each row; a community is named with its subdistrict (names repeat)."""
    key = df[by].fillna("").astype(str).replace("", "未定位")
    if by == "community" and "subdistrict" in df:
        sub = df["subdistrict"].fillna("").astype(str)
        key = (sub + "·" + key).where(sub != "", key)
    return key


def evaluation_areas(grids: gpd.GeoDataFrame, scores: pd.DataFrame, *, by: str
                     ) -> gpd.GeoDataFrame:
    """Polygons of subdistricts or communities (dissolved grids) joined with their scores."""
    keys = ["subdistrict", "community"] if by == "community" else ["subdistrict"]
    areas = grids[keys + ["geometry"]].dissolve(by=keys, as_index=False)
    areas[by] = _unit(areas, by).to_numpy()
    return areas.merge(scores.reset_index(), on=by, how="left")
