"""The sanitation check on the demo city against its ground truth (truth.csv contract)."""

from __future__ import annotations

import datetime as dt
import json

import pandas as pd
import pytest

from zlgis.analysis.sanitation import LAYERS, analyse, run_check
from zlgis.validate import load_layers

AS_OF = dt.date(2022, 9, 4)   # the demo weekly run's week, 2022-W35


@pytest.fixture(scope="module")
def demo_layers(demo_catalog):
    return load_layers(demo_catalog, [lid for lid in LAYERS if lid in demo_catalog.layers])


@pytest.fixture(scope="module")
def result(demo_layers):
    return analyse(demo_layers, as_of=AS_OF)


@pytest.fixture(scope="module")
def truth(demo_truth):
    t = demo_truth[demo_truth["check"] == "sanitation"]
    assert len(t) > 40, "the demo city plants too few sanitation cases"
    return t


def _matches(findings, row):
    m = (findings["rule"] == row["rule"]) & (findings["feature_id"] == row["feature_id"])
    if row["related_id"]:
        m &= findings["related_ids"].str.split(";").map(lambda ids: row["related_id"] in ids)
    return findings[m]


def test_every_planted_case_is_found(truth, result):
    missed = [(r["case_id"], r["rule"], r["feature_id"])
              for _, r in truth[truth["expect"] == "flag"].iterrows()
              if not len(_matches(result.findings, r))]
    assert not missed, f"planted sanitation cases not found: {missed}"


def test_no_planted_near_miss_is_flagged(truth, result):
    near = truth[truth["expect"] == "no_flag"]
    assert len(near) >= 15
    flagged = [(r["case_id"], r["rule"], r["feature_id"]) for _, r in near.iterrows()
               if len(_matches(result.findings, r))]
    assert not flagged, f"near-misses flagged: {flagged}"


def test_every_rule_is_planted(truth):
    # every rule but the two that the demo's unchanged layers decide alone (garbage points of
    # the older generator cover every compound; frontage gaps follow the buildings)
    from zlgis.rules import rules

    planted = set(truth["rule"])
    expected = {r.id for r in rules("sanitation")} - {"compound_no_garbage_point",
                                                      "frontage_unheld"}
    assert expected <= planted, expected - planted


def test_planted_measures(truth, result):
    f = result.findings
    share = truth[(truth["rule"] == "sweeping_share_low") & (truth["expect"] == "flag")].iloc[0]
    got = json.loads(_matches(f, share)["measures"].iloc[0])["share_pct"]
    # the fleet swept streets of about 45 % of the area; matching within 2 points of the plan
    assert abs(got - float(share["value"])) <= 2.0
    for _, r in truth[(truth["rule"] == "bin_gap") & (truth["expect"] == "flag")].iterrows():
        gap = float(_matches(f, r)["measure"].iloc[0])
        assert abs(gap - float(r["value"])) < 1.0      # the planted gap, to the metre


def test_swept_shares_and_track_problems(result):
    week = result.tables["sweep_week"].set_index("group")
    assert week.loc["中央街", "share_area"] > 0.97          # swept in full every working day
    daily = result.tables["sweep_daily"]
    sunday = daily[(daily["day"] == "2022-09-04") & (daily["group"] == "主次干道")]
    assert float(sunday["share_area"].iloc[0]) == 0.0        # nobody sweeps on Sunday
    p = result.tables["track_problems"]
    # the planted terminal faults: one duplicate, one jump 50 km away, a block out of order
    assert (p["problem"] == "重复定位点（同一车辆、同一时刻、同一位置）").sum() == 1
    assert p["problem"].str.startswith("位置跳变").sum() == 1
    assert (p["problem"] == "定位时间早于前一行（时间倒序）").sum() == 5


def test_findings_are_public_only_where_the_registry_says(result):
    from zlgis.rules import rule

    for rid, g in result.findings.groupby("rule"):
        assert set(g["public"]) == {rule(rid).public}, rid
    # reports carry no reporter name into findings
    assert not result.findings["measures"].str.contains("示例巡查员").any()


def test_rules_without_their_layers_are_skipped(demo_layers):
    layers = {k: v for k, v in demo_layers.items() if k not in ("sweeper_tracks",
                                                               "street_structures")}
    res = analyse(layers, as_of=AS_OF, only=lambda r: r in ("sweeping_share_low",
                                                          "steps_ramps_in_red_line", "bin_gap"))
    assert res.notes == ["未检查：机扫率不足（缺少图层 sweeper_tracks）",
                         "未检查：红线内台阶坡道（缺少图层 street_structures）"]
    assert set(res.findings["rule"]) == {"bin_gap"}


def test_run_check_is_the_weekly_adapter(demo_catalog, demo_layers, result):
    f = run_check(demo_catalog, dict(demo_layers), as_of=AS_OF)
    assert f.attrs["as_of"] == "2022-09-04" and f.attrs["notes"] == []
    assert sorted(f["finding_id"]) == sorted(result.findings["finding_id"])


def test_findings_without_the_tables(demo_layers, result, monkeypatch):
    """The weekly run keeps no tables (the 1M city's repaired GPS fixes alone are 84 MB) and
    never writes the problem list's texts (200 MB of strings there)."""
    from zlgis.analysis import sweeping

    def written(self, b):
        raise AssertionError("the track problems were written")

    monkeypatch.setattr(sweeping.TrackProblems, "_columns", written)
    bare = analyse(demo_layers, as_of=AS_OF, tables=False)
    monkeypatch.undo()
    assert bare.tables == {} and len(result.tables) >= 8
    pd.testing.assert_frame_equal(bare.findings, result.findings)
