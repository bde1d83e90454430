"""The compound ledger, targets, fire lanes and compound green (zlgis/analysis/compounds.py)."""

from __future__ import annotations

import geopandas as gpd
import pytest
from shapely.geometry import Polygon, box

from zlgis.analysis.compounds import (
    compound_ledger,
    fire_lane_blockages,
    green_encroachments,
    ledger_findings,
    subdistrict_shares,
    target_shares,
)
from zlgis.errors import InputError


def _compounds():
    return gpd.GeoDataFrame({
        "compound_id": ["A", "B", "C", "D", "E"], "name": list("甲乙丙丁戊"),
        "subdistrict": ["兴华街道", "兴华街道", "河西街道", "河西街道", "河西街道"],
        "under_construction": [False, False, False, False, True],
        "households": [300, 120, 80, 60, 0],
        "owners_committee": [True, False, False, False, False],
        "management_committee": [False, True, False, False, False],
        "property_company": ["某物业", None, None, "某物业", None],
        "service_mode": ["物业企业", "街道托管", "无", None, None],
        "fee_disclosed": [True, False, False, False, False],
        "charging_points": [10, 0, 0, 2, 0]},
        geometry=[box(k * 200, 0, k * 200 + 100, 100) for k in range(5)], crs="EPSG:4550")


def test_ledger_reads_governance_and_service():
    led = compound_ledger(_compounds()).set_index("compound_id")
    assert led["governance"].tolist() == ["业主大会", "物业管理委员会", "无", "无", "无"]
    # D has no service mode recorded: its property company counts
    assert led["service"].tolist() == ["物业企业", "街道托管", "无", "物业企业", "无"]


def test_target_shares_leave_out_compounds_under_construction():
    t = target_shares(compound_ledger(_compounds())).set_index("target")
    assert t.loc["property_service", "compounds"] == 4
    assert t.loc["property_service", "share"] == pytest.approx(3 / 4)
    assert t.loc["fee_disclosure", "share"] == pytest.approx(1 / 4)
    assert t.loc["fee_disclosure", "goal"] == 1.0


def test_subdistrict_choropleth_table():
    s = subdistrict_shares(compound_ledger(_compounds())).set_index("subdistrict")
    assert s.loc["兴华街道", "property_service_share"] == 1.0
    assert s.loc["河西街道", "property_service_share"] == pytest.approx(0.5)
    assert s.loc["河西街道", "compounds"] == 2 and s.geometry.notna().all()


def test_findings_per_rule():
    f = ledger_findings(compound_ledger(_compounds()))
    by = f.groupby("rule")["feature_id"].apply(sorted).to_dict()
    assert by["compound_no_governance"] == ["C", "D"]
    assert by["compound_no_property_service"] == ["C"]
    assert by["compound_fee_not_disclosed"] == ["B", "D"]   # C has no service: no fees to disclose
    assert by["compound_no_charging"] == ["B", "C"]
    assert set(f["lead_department"]) == {"housing_construction"}


def test_compound_with_households_but_no_area():
    c = _compounds()
    c.loc[3, "geometry"] = Polygon()
    with pytest.raises(InputError) as e:
        compound_ledger(c)
    assert (e.value.layer, e.value.row, e.value.field) == ("residential_compounds", 4, "geometry")
    assert "有户数" in str(e.value) and "D" in str(e.value)


def _lane_case(depth):
    return gpd.GeoDataFrame({
        "facility_id": ["L1", "S1"], "compound_id": ["A", "A"], "category": ["消防车道", "搭建物"]},
        geometry=[box(0, 10, 80, 14.5), box(20, 14.5 - depth, 23, 14.5 - depth + 2.5)],
        crs="EPSG:4550")


@pytest.mark.parametrize("depth,blocked", [(0.5, False), (0.501, True), (1.5, True), (0.0, False)])
def test_fire_lane_clear_width_at_four_metres(depth, blocked):
    t = fire_lane_blockages(_lane_case(depth))
    if depth == 0.0:   # touching the lane's edge only: no overlap at all
        assert len(t) == 0
        return
    assert t["lane_width_m"].iloc[0] == pytest.approx(4.5)
    assert t["clear_width_m"].iloc[0] == pytest.approx(4.5 - depth)
    assert bool(t["breach"].iloc[0]) is blocked


def test_fire_lane_at_an_angle():
    from shapely import affinity

    f = _lane_case(1.5)
    f["geometry"] = [affinity.rotate(g, 33, origin=(0, 0)) for g in f.geometry]
    t = fire_lane_blockages(f)
    assert t["clear_width_m"].iloc[0] == pytest.approx(3.0, abs=1e-3)


def test_green_encroachment_needs_area():
    f = gpd.GeoDataFrame({"facility_id": ["G", "S1", "S2"], "compound_id": ["A"] * 3,
                          "category": ["小区绿地", "搭建物", "搭建物"]},
                         geometry=[box(0, 0, 20, 15), box(-1, 2, 2, 4), box(-3, 5, 0, 7)],
                         crs="EPSG:4550")
    t = green_encroachments(f).set_index("structure_id")
    assert t.loc["S1", "breach"] and t.loc["S1", "area_m2"] == 4.0
    assert "S2" not in t.index or not t.loc["S2", "breach"]   # touches the edge only
