"""Evaluation (检查考评) of subdistricts, communities and departments from cases and the ledger.

The campaign's last phase (检查考评, to 2022-10-31; 扎政办字〔2022〕51号 五、实施步骤) assesses
who handled what. From prepared cases (:func:`zlgis.analysis.cases.prepare_cases`) each unit
gets the indicators digital city management uses (city-management-codes.md "Cases and
indicators"): 结案率 (rectification rate = closed / due), 按期结案率 (on-time rate = closed on
time / due) and the repeat rate (cases at a place that complained again within the window).
The share of its **findings ledger** closed by the campaign end comes from the ledger (the
statuses of the weekly runs, :func:`ledger_closure`), not from the cases: the caller passes the
ledger as it stood at the last weekly run on or before the campaign end
(:func:`zlgis.ledger.evaluation.ledger_at`). A weighted score out of 100 (weights in
``config/cases.yaml``, example values) combines them; a unit without findings in the ledger (or
an evaluation without a ledger) is scored on the other indicators.

Examples
--------
>>> import pandas as pd
>>> df = pd.DataFrame({"subdistrict": ["甲", "甲", "乙"], "closed": [True, False, True],
...     "closed_on_time": [True, False, False], "overdue": [False, True, True],
...     "deadline": pd.to_datetime(["2022-09-01"] * 3), "repeat_count": [1, 1, 2],
...     "received_at": pd.to_datetime(["2022-08-30"] * 3),
...     "closed_at": pd.to_datetime(["2022-08-31", None, "2022-09-02"])})
>>> led = pd.DataFrame({"finding_id": ["F1", "F2", "F3"], "grid_id": ["G1", "G1", "G2"],
...     "status": ["rectified", "overdue", "open"], "lead_department": ["a", "a", "b"]})
>>> grids = pd.DataFrame({"grid_id": ["G1", "G2"], "subdistrict": ["甲", "乙"],
...     "community": ["一", "二"]})
>>> s = evaluate(df, by="subdistrict", as_of="2022-09-04", ledger=led, grids=grids)
>>> s[["cases", "rectification_rate", "on_time_rate", "repeat_rate", "closed_by_end"]
...   ].values.tolist()
[[2.0, 0.5, 0.5, 0.0, 0.5], [1.0, 1.0, 0.0, 1.0, 0.0]]
>>> s["score"].tolist()
[60.0, 30.0]
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd

from ..config import department_name
from .cases import case_settings, end_of

__all__ = ["evaluate", "ledger_closure", "evaluation_areas", "INDICATORS", "CLOSED_STATUSES"]

#: Indicator columns and their Chinese names (tables, legends, the report).
INDICATORS: dict[str, str] = {
    "cases": "案件数",
    "due": "应结案数",
    "rectification_rate": "结案率",
    "on_time_rate": "按期结案率",
    "repeat_rate": "重复投诉率",
    "ledger_findings": "台账问题数",
    "closed_by_end": "攻坚期末（10月31日）台账整改比例",
    "score": "考评得分",
}

#: Ledger statuses that count as closed (the ledger's ``rectified``: no longer found, or
#: reported fixed by staff).
CLOSED_STATUSES: tuple[str, ...] = ("rectified",)


def ledger_closure(ledger: pd.DataFrame, *, by: str, grids: pd.DataFrame | None = None
                   ) -> pd.DataFrame:
    """Findings in the ledger and the share of them closed, per unit.

    Parameters
    ----------
    ledger : DataFrame
        The ledger as it stood at the judged week (``Ledger.view(week)``): ``finding_id``,
        ``status``, ``grid_id``, ``lead_department``.
    by : {"subdistrict", "community", "department"}
        Subdistricts and communities come from each finding's grid (``grids``: ``grid_id``,
        ``subdistrict``, ``community``; findings without a known grid: 未定位); a finding
        counts for each of its lead departments.

    Returns
    -------
    DataFrame
        Index: the unit; ``ledger_findings`` and ``closed_by_end`` (share with a status in
        :data:`CLOSED_STATUSES`).
    """
    df = pd.DataFrame({"status": ledger["status"].astype(str).to_numpy()})
    if by == "department":
        df["department"] = ledger["lead_department"].fillna("").astype(str).str.split(
            ";").to_numpy()
        df = df.explode("department")
        df["department"] = df["department"].map(lambda c: department_name(c) if c else "未分派")
    else:
        gid = ledger["grid_id"].fillna("").astype(str).to_numpy()
        cols = [c for c in ("subdistrict", "community") if grids is not None and c in grids]
        if grids is not None and len(grids) and cols:
            g = pd.DataFrame(grids).drop_duplicates("grid_id").set_index("grid_id")
            for c in cols:
                df[c] = g[c].reindex(gid).to_numpy()
        else:
            df[by] = ""
    key = _unit(df, by)
    closed = df["status"].isin(CLOSED_STATUSES)
    g = pd.DataFrame({"unit": key.to_numpy(), "n": 1, "closed": closed.to_numpy()}
                     ).groupby("unit", sort=True).sum()
    out = pd.DataFrame({"ledger_findings": g["n"].astype(int),
                        "closed_by_end": g["closed"] / g["n"]})
    out.index.name = by
    return out


def evaluate(cases: pd.DataFrame, *, by: str, as_of: Any = None,
             campaign_end: str | None = None, ledger: pd.DataFrame | None = None,
             grids: pd.DataFrame | None = None,
             weights: Mapping[str, float] | None = None,
             config: Mapping[str, Any] | None = None) -> pd.DataFrame:
    """Indicators and score per unit (``subdistrict``, ``community`` or ``department``).

    A case is *due* when its deadline has passed by ``as_of`` or it is closed. ``department``
    counts a case for each of its lead departments. ``closed_by_end`` is the share of the
    findings ledger closed, from ``ledger`` (the ledger at the last weekly run on or before the
    campaign end, or ``as_of`` if earlier; see :func:`ledger_closure`, ``grids`` maps findings
    to subdistricts and communities); without a ledger it is NaN and the score uses the other
    weights. Units with findings in the ledger but no cases are listed with 0 cases.

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
    t = pd.DataFrame({
        "unit": key.to_numpy(), "case": 1, "due": due.to_numpy(),
        "closed_due": (closed & due).to_numpy(), "on_time": (df["closed_on_time"].astype(bool)
                                                             & due).to_numpy(),
        "repeat": (df["repeat_count"].to_numpy() > 1)})
    g = t.groupby("unit", sort=True).sum()
    closure = (ledger_closure(ledger, by=by, grids=grids) if ledger is not None
               else pd.DataFrame({"ledger_findings": [], "closed_by_end": []}))
    g = g.reindex(g.index.union(closure.index), fill_value=0)
    with np.errstate(invalid="ignore", divide="ignore"):
        out = pd.DataFrame({
            "cases": g["case"].astype(int), "due": g["due"].astype(int),
            "rectification_rate": g["closed_due"] / g["due"].where(g["due"] > 0),
            "on_time_rate": g["on_time"] / g["due"].where(g["due"] > 0),
            "repeat_rate": g["repeat"] / g["case"].where(g["case"] > 0),
            "ledger_findings": closure["ledger_findings"].reindex(g.index).fillna(0).astype(int),
            "closed_by_end": closure["closed_by_end"].reindex(g.index).astype(float),
        })
    parts = {"rectification_rate": out["rectification_rate"],
             "on_time_rate": out["on_time_rate"],
             "repeat_free_rate": 1 - out["repeat_rate"],
             "closed_by_end": out["closed_by_end"]}
    # a unit is scored on the indicators it has (no cases: no case rates; no findings in the
    # ledger: no closure share); the weights of the others are shared out among them
    num = sum(float(w[k]) * parts[k].fillna(0) for k in w)
    den = sum(float(w[k]) * parts[k].notna() for k in w)
    with np.errstate(invalid="ignore", divide="ignore"):
        out["score"] = (100 * num / den.where(den > 0)).fillna(0).round(1)
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
