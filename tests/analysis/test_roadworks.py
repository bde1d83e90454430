"""Road works against permits: hand-made permits and works, bad permit dates, the demo city."""

from __future__ import annotations

import datetime as dt

import geopandas as gpd
from _truth import missed_and_flagged
from shapely.geometry import box

from zlgis.analysis import roadworks as rw

CRS = "EPSG:4550"
AS_OF = dt.date(2022, 9, 4)


def _permits():
    return gpd.GeoDataFrame({
        "permit_id": ["P1", "P2", "BAD"], "start_date": ["2022-08-20", "2022-08-01", "2022-09-01"],
        "end_date": ["2022-09-10", "2022-08-31", "2022-08-20"],
        "restore_by": ["2022-09-15", "2022-09-02", "2022-09-30"]},
        geometry=[box(0, 0, 40, 8), box(100, 0, 140, 8), box(200, 0, 240, 8)], crs=CRS)


def test_permit_with_end_before_start_is_listed_not_used():
    ok, bad = rw.check_permits(_permits())
    assert ok["permit_id"].tolist() == ["P1", "P2"]
    assert bad[["row", "id", "field"]].values.tolist() == [[3, "BAD", "end_date"]]
    assert "早于开始日期" in bad["reason"].iloc[0]


def test_each_kind_of_breach_by_hand():
    ok, _ = rw.check_permits(_permits())
    works = gpd.GeoDataFrame({
        "work_id": ["IN", "OUT", "EDGE", "LATE", "NONE", "DONE", "BAD"],
        "observed_on": ["2022-09-02", "2022-09-02", "2022-09-02", "2022-09-03", "2022-09-02",
                        "2022-09-03", "2022-09-02"],
        "status": ["施工中", "施工中", "施工中", "施工中", "施工中", "已完工", "施工中"]},
        geometry=[box(5, 0, 35, 8), box(5, 0, 50, 8), box(5, 0, 40.2, 8), box(105, 0, 135, 8),
                  box(300, 0, 310, 8), box(100, 0, 140, 8), box(205, 0, 235, 8)], crs=CRS)
    r = rw.classify_works(works, ok, as_of=AS_OF)
    got = {(w, p): a for w, p, a in zip(r["work_id"], r["problem"], r["outside_m2"])}
    # OUT reaches 10 m x 8 m beyond P1; EDGE 0.2 m (1.6 m2, under the 2 m2 tolerance);
    # LATE was seen after P2 ended; NONE has no permit; DONE's restore-by (09-02) passed;
    # BAD lies in the area of a permit whose dates were rejected: no permit
    assert got == {("OUT", "outside"): 80.0, ("LATE", "expired"): 240.0,
                   ("NONE", "no_permit"): 80.0, ("DONE", "not_restored"): 320.0,
                   ("BAD", "no_permit"): 240.0}


def test_demo_city_road_works(demo_catalog, demo_truth):
    from zlgis.validate import load_layers

    layers = load_layers(demo_catalog, [lid for lid in rw.LAYERS if lid in demo_catalog.layers])
    f = rw.run_check(demo_catalog, layers, as_of=AS_OF)
    truth = demo_truth[demo_truth["check"] == "roadworks"]
    missed, flagged = missed_and_flagged(truth, f)
    assert not missed and not flagged and len(truth) == 7
    assert f.loc[f["rule"] == "roadworks_not_restored", "public"].all()
    assert not f.loc[f["rule"] == "roadworks_no_permit", "public"].any()
