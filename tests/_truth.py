"""Matching findings against the demo city's truth rows (truth.csv contract)."""

from __future__ import annotations

import pandas as pd


def matches(findings: pd.DataFrame, row: pd.Series) -> pd.DataFrame:
    """Findings of the row's rule on its feature (and its related id, when it names one)."""
    m = (findings["rule"] == row["rule"]) & (findings["feature_id"] == row["feature_id"])
    if row["related_id"]:
        m &= findings["related_ids"].str.split(";").map(lambda ids: row["related_id"] in ids)
    return findings[m]


def missed_and_flagged(truth: pd.DataFrame, findings: pd.DataFrame) -> tuple[list, list]:
    """Case ids of planted cases not found, and of near-misses that were flagged."""
    missed = [r["case_id"] for _, r in truth[truth["expect"] == "flag"].iterrows()
              if not len(matches(findings, r))]
    flagged = [r["case_id"] for _, r in truth[truth["expect"] == "no_flag"].iterrows()
               if len(matches(findings, r))]
    return missed, flagged
