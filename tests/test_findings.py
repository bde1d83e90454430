"""zlgis/findings.py: make_findings from the rule registry, findings_frame."""

from __future__ import annotations

import pytest
from shapely.geometry import Point

from zlgis.errors import ConfigError
from zlgis.findings import FINDING_COLUMNS, concat_findings, findings_frame, make_findings
from zlgis.rules import rule


def test_make_findings_takes_the_rule_from_the_registry():
    f = make_findings(rule="unpermitted_construction", feature_ids=[["S1"]],
                      layer="construction_sites", geometry=[Point(0, 0)])
    r = rule("unpermitted_construction")
    row = f.iloc[0]
    assert (row["check"], row["title"], row["rule_source"], row["task_id"]) == \
        (r.check, r.title, r.source, "1.3.1")
    # the construction-site code of the rule (无证建设), not the building one
    assert (row["event_code_old"], row["event_code_new"]) == ("", "08016")
    assert row["severity"] == r.severity and bool(row["public"]) is r.public
    assert row["lead_department"] == ";".join(r.lead)


def test_make_findings_refuses_a_wrong_check_and_an_unregistered_rule():
    with pytest.raises(ValueError, match="belongs to check controllines"):
        make_findings(rule="green_line", check="trucks", feature_ids=[["B1"]], layer="buildings",
                      geometry=[Point(0, 0)])
    with pytest.raises(ConfigError, match="规则 lamp_late 未在 zlgis/config/rules/ 中登记"):
        make_findings(rule="lamp_late", feature_ids=[["L1"]], layer="street_lamps",
                      geometry=[Point(0, 0)])


def test_findings_frame_types_and_missing_measures():
    a = make_findings(rule="depression", feature_ids=[["D1"], ["D2"]], layer="dem",
                      geometry=[Point(0, 0), Point(1, 0)],
                      measures=[{"max_depth_cm": 42.0, "rank": 1, "spills": True},
                                {"max_depth_cm": 18.5, "rank": 2, "spills": False}])
    b = make_findings(rule="recorded_point_unexplained", feature_ids=[["P1"]],
                      layer="waterlogging_points", geometry=[Point(2, 0)],
                      measures=[{"recorded_depth_cm": None, "status": "未消除"}])
    f = concat_findings([a, b])
    t = findings_frame(f)
    assert list(t.columns[:len(FINDING_COLUMNS) - 1]) == [c for c in FINDING_COLUMNS
                                                          if c != "measures"]
    assert t.crs == f.crs and t.index.equals(f.index)
    by = t.set_index("feature_id")
    assert str(t["max_depth_cm"].dtype) == "float64" and by.loc["D1", "max_depth_cm"] == 42.0
    assert str(t["rank"].dtype) == "Int64" and by.loc["D2", "rank"] == 2   # missing for P1
    assert str(t["spills"].dtype) == "boolean" and by.loc["D1", "spills"]
    assert by.loc["P1", "status"] == "未消除" and t["recorded_depth_cm"].isna().all()


def test_findings_frame_keeps_findings_columns():
    f = make_findings(rule="no_parking_zone", feature_ids=[["h1", "Z1"]], layer="truck_pings",
                      geometry=[Point(0, 0)], measures=[{"layer": "巡查", "dwell_min": 12}])
    t = findings_frame(f)
    assert t.loc[0, "layer"] == "truck_pings" and t.loc[0, "measure_layer"] == "巡查"
    assert t.loc[0, "dwell_min"] == 12 and str(t["dwell_min"].dtype) == "int64"


def test_assign_grids_puts_a_border_finding_in_exactly_one_cell():
    import geopandas as gpd
    from shapely.geometry import Point, box

    from zlgis.findings import assign_grids, make_findings

    grids = gpd.GeoDataFrame({"grid_id": ["150783001001002", "150783001001001"],
                              "road_chief": ["乙", "甲"]},
                             geometry=[box(100, 0, 200, 100), box(0, 0, 100, 100)],
                             crs="EPSG:4550")
    f = make_findings(rule="red_line_encroachment", feature_ids=[["B1"], ["B2"], ["B3"]],
                      layer="buildings", geometry=[Point(100, 50), Point(150, 50), Point(500, 5)])
    out = assign_grids(f, grids)
    # on the shared border: the smaller code; inside: its cell; outside every cell: empty
    assert out["grid_id"].tolist() == ["150783001001001", "150783001001002", ""]
    assert out["road_chief"].tolist() == ["甲", "乙", ""]


@pytest.mark.parametrize("kw", [
    {},  # registry defaults: scalar text columns, one public flag for all
    {"title": ["甲", "乙", "丙"], "severity": ["high", "low", "medium"],
     "public": [True, False, True], "observed_at": ["2022-09-01", "", "2022-09-03"]},
    {"public": __import__("numpy").array([True, False, True])},  # numpy booleans
    {"observed_at": [None, "2022-09-02", None]},  # missing text: pandas' path (NaN)
    {"title": ["甲", 2, "丙"]},  # not all text: pandas' path (object column)
])
def test_make_findings_arrow_frame_equals_pandas_frame(monkeypatch, kw):
    import numpy as np
    import pandas as pd

    from zlgis import findings

    args = {"rule": "depression", "feature_ids": [["D1", "X"], ["D2"], ["D3"]], "layer": "dem",
            "geometry": [Point(0, 0), Point(1, 0), None],
            "measures": [{"max_depth_cm": 42.0}, {"max_depth_cm": np.nan}, {}],
            "measure_key": "max_depth_cm", "measure_unit": "cm", **kw}
    real, used = findings._arrow_frame, []
    monkeypatch.setattr(findings, "_arrow_frame",
                        lambda data, n: used.append(real(data, n) is not None) or real(data, n))
    fast = make_findings(**args)
    assert used == [len(kw) != 1 or "public" in kw]  # the Arrow path where pandas infers str
    monkeypatch.setattr(findings, "_arrow_frame", lambda data, n: None)
    slow = make_findings(**args)
    pd.testing.assert_frame_equal(fast, slow, check_exact=True, check_column_type=True)
    assert fast.dtypes.to_dict() == slow.dtypes.to_dict()
    assert list(fast.columns) == [*FINDING_COLUMNS, "geometry"]
    if used[0]:
        assert str(fast["title"].dtype) == "str" and fast["public"].dtype == bool
