"""The cases check on the demo city against its ground truth (truth.csv, check ``cases``)."""

from __future__ import annotations

import datetime as dt

import pandas as pd
import pytest
import shapely

from zlgis.analysis.cases import prepare_cases, run_check

AS_OF = dt.date(2022, 9, 4)  # the end of 2022-W35, the demo weekly run's week


@pytest.fixture(scope="module")
def layers(demo_catalog):
    from zlgis.validate import load_layers

    return load_layers(demo_catalog, ["hotline_cases", "grids"])


@pytest.fixture(scope="module")
def findings(demo_catalog, layers):
    return run_check(demo_catalog, layers, as_of=AS_OF)


@pytest.fixture(scope="module")
def truth(demo_truth):
    t = demo_truth[demo_truth["check"] == "cases"]
    assert len(t) >= 14
    return t


def flagged(findings: pd.DataFrame, rule: str, case_id: str) -> bool:
    return bool(((findings["rule"] == rule) & (findings["feature_id"] == case_id)).any())


def test_every_planted_case_is_found_and_no_near_miss(findings, truth):
    for r in truth[truth["rule"].str.startswith("case_") & (truth["rule"] != "case_hot_spot")
                   ].itertuples():
        assert flagged(findings, r.rule, r.feature_id) == (r.expect == "flag"), (r.case_id,
                                                                                  r.note)


def test_hot_spot_found_where_planted_and_not_at_the_near_miss(findings, truth):
    hot = findings[findings["rule"] == "case_hot_spot"]
    for r in truth[truth["rule"] == "case_hot_spot"].itertuples():
        pt = shapely.Point(float(r.x), float(r.y))
        near = hot[hot.geometry.distance(pt) < 100]
        if r.expect == "flag":
            assert near["feature_id"].str.startswith("cooking_fumes@").any(), r.note
        else:
            assert not len(near), r.note
    # public and free of case details: the hexagon, counts and z only
    assert hot["public"].all() and (hot["geometry"].geom_type == "Polygon").all()
    assert not hot["measures"].str.contains("case_id|text|phone").any()


def test_case_on_a_grid_border_goes_to_exactly_one_grid(layers, truth):
    p = prepare_cases(layers["hotline_cases"], as_of=AS_OF, grids=layers["grids"])
    rows = truth[(truth["rule"] == "case_unlocated") & (truth["related_id"] != "")]
    assert len(rows) == 2
    for r in rows.itertuples():
        row = p[p["case_id"] == r.feature_id]
        assert len(row) == 1 and row["grid_id"].iloc[0] == r.related_id, r.note
    # every placed case inside the grids' extent is counted in exactly one grid
    inside = p.geometry.within(layers["grids"].union_all().buffer(0.1))
    assert (p.loc[inside, "grid_id"] != "").all()
    assert (p.loc[~inside & ~p.geometry.is_empty, "grid_id"] == "").all()


def test_findings_carry_routing_and_the_chain(findings, truth):
    rep = truth[(truth["rule"] == "case_escalation")].iloc[0]
    esc = findings[(findings["rule"] == "case_escalation")
                   & (findings["feature_id"] == rep.feature_id)].iloc[0]
    import json

    chain = json.loads(esc["measures"])["chain"]
    assert [c["level"] for c in chain] == [1, 2, 3, 4]
    # exposed garbage (4.7.2): 住建局 leads, so the escalation goes to its cooperating departments
    assert esc["lead_department"] == "urban_enforcement;subdistricts"
    assert esc["coop_departments"] == "housing_construction"
    assert not findings.loc[findings["rule"] != "case_hot_spot", "public"].any()
    assert findings["finding_id"].is_unique
