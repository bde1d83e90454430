"""Green-space check on the demo city against its ground truth (truth.csv, ``greenspace``)."""

from __future__ import annotations

import pytest
from _truth import missed_and_flagged

from zlgis.analysis import greenspace as gs
from zlgis.validate import load_layers


@pytest.fixture(scope="module")
def demo_layers(demo_catalog):
    return load_layers(demo_catalog, [lid for lid in gs.LAYERS if lid in demo_catalog.layers])


@pytest.fixture(scope="module")
def findings(demo_catalog, demo_layers):
    return gs.run_check(demo_catalog, demo_layers)


def test_every_planted_case_is_found_and_no_near_miss_flagged(demo_truth, findings):
    truth = demo_truth[demo_truth["check"] == "greenspace"]
    assert set(truth["expect"]) == {"flag", "no_flag"}
    missed, flagged = missed_and_flagged(truth, findings)
    assert not missed, f"planted cases not found: {missed}"
    assert not flagged, f"near-misses flagged: {flagged}"


def test_inventory_matches_the_plans_figures(demo_layers):
    inv, items = gs.inventory(demo_layers)
    # the demo city draws the plan's 476 islands of 4.1万 m² and 10 pocket parks of 29.2万 m²
    got = inv.set_index("item")
    assert got.loc["green_islands", ["count", "plan_count"]].tolist() == [476, 476]
    assert got.loc["pocket_parks", ["count", "plan_count"]].tolist() == [10, 10]
    assert got["count_ok"].all() and got["area_ok"].all()
    assert items.empty


def test_every_island_and_park_is_assigned_once_but_the_planted_two(demo_layers):
    zones = demo_layers["maintenance_zones"]
    for lid, idf in (("green_islands", "island_id"), ("parks", "park_id")):
        a = gs.maintenance_assignment(demo_layers[lid], zones, id_field=idf)
        # one planted island without zone, one planted park claimed twice
        assert (a["n_zones"] != 1).sum() == 1


def test_wetland_zone_and_checklist(findings):
    wz = findings[findings["rule"] == "wetland_zone_blue_line"]
    assert len(wz) == 1 and wz["measure"].iloc[0] > 1000  # an 80 m square, about half in water
    ck = findings[findings["rule"] == "park_facility_missing"]
    assert ck["related_ids"].tolist() == ["barrier_free"]
    assert ck["public"].all()
