"""Control-line check on the demo city against its ground truth (truth.csv contract)."""

from __future__ import annotations

import json

import numpy as np
import pytest
import shapely

from zlgis.analysis import controllines as cl
from zlgis.validate import load_layers

LAYERS = ["buildings", "construction_sites", "red_lines", "green_lines", "blue_lines",
          "purple_lines", "yellow_lines", "grids"]


@pytest.fixture(scope="module")
def demo_layers(demo_catalog):
    return load_layers(demo_catalog, LAYERS)


@pytest.fixture(scope="module")
def demo_findings(demo_catalog, demo_layers):
    return cl.run_check(demo_catalog, demo_layers)


@pytest.fixture(scope="module")
def truth(demo_truth):
    t = demo_truth[demo_truth["check"] == "controllines"]
    assert len(t), "the demo city plants no control-line case"
    return t


def _matches(findings, row):
    m = (findings["rule"] == row["rule"]) & (findings["feature_id"] == row["feature_id"])
    if row["related_id"] and row["rule"] != "unpermitted_construction":
        m &= findings["related_ids"].str.split(";").map(lambda ids: row["related_id"] in ids)
    return findings[m]


def test_every_planted_case_is_found(truth, demo_findings):
    missed = [r["case_id"] for _, r in truth[truth["expect"] == "flag"].iterrows()
              if not len(_matches(demo_findings, r))]
    assert not missed, f"planted control-line cases not found: {missed}"


def test_no_planted_near_miss_is_flagged(truth, demo_findings):
    near = truth[truth["expect"] == "no_flag"]
    assert len(near)
    flagged = [r["case_id"] for _, r in near.iterrows() if len(_matches(demo_findings, r))]
    assert not flagged, f"near-misses flagged: {flagged}"


def test_planted_measures_are_reproduced(truth, demo_findings):
    rows = truth[(truth["expect"] == "flag") & (truth["value"] != "")]
    for _, r in rows.iterrows():
        found = _matches(demo_findings, r)
        values = [v for m in found["measures"].map(json.loads) for v in m.values()
                  if isinstance(v, (int, float)) and not isinstance(v, bool)]
        values += found["measure"].tolist()
        assert any(abs(v - float(r["value"])) <= max(0.05, 0.01 * abs(float(r["value"])))
                   for v in values), (r["case_id"], r["value"], values)


def test_findings_schema_routing_and_grids(demo_findings):
    f = demo_findings
    assert f["finding_id"].is_unique
    assert set(f["check"]) == {"controllines"}
    assert set(f["lead_department"]) == {"natural_resources"}
    assert (f.loc[f["task_id"] == "1.3.3", "coop_departments"] == "fire_rescue;subdistricts").all()
    assert (f["grid_id"] != "").mean() > 0.9
    assert not shapely.is_empty(f.geometry.values).any()


def test_ids_identical_across_runs_and_after_moving_an_unrelated_building(demo_catalog,
                                                                         demo_layers,
                                                                         demo_findings):
    again = cl.run_check(demo_catalog, demo_layers)
    assert again["finding_id"].tolist() == demo_findings["finding_id"].tolist()
    bld = demo_layers["buildings"]
    involved = set(demo_findings["feature_id"])
    # the building farthest from every red line, not involved in any finding
    red = demo_layers["red_lines"]
    tree = shapely.STRtree(red.geometry.values)
    _, dist = tree.query_nearest(bld.geometry.values, return_distance=True, all_matches=False)
    order = np.argsort(-dist)
    idx = next(int(i) for i in order if bld["building_id"].iloc[i] not in involved)
    moved = bld.copy()
    geoms = moved.geometry.copy()
    geoms.iloc[idx] = shapely.affinity.translate(geoms.iloc[idx], 3.0, 2.0)
    moved = moved.set_geometry(geoms)
    after = cl.run_check(demo_catalog, {**demo_layers, "buildings": moved})
    mid = bld["building_id"].iloc[idx]
    assert (set(after.loc[after["feature_id"] != mid, "finding_id"])
            == set(demo_findings.loc[demo_findings["feature_id"] != mid, "finding_id"]))
