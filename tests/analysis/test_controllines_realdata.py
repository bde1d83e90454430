"""Control-line check on real OSM data: Swellendam (South Africa), 4,708 buildings, 717 roads.

Red lines are derived from the road centrelines with the default planning widths by OSM highway
class (config ``red_lines_from_roads``); tracks, paths and footways get none. The counts below
were computed once and are asserted; they are large because Chinese planning red-line widths
(e.g. 16 m for a residential street) are much wider than the road reserves of a South African
country town, so many houses "encroach" on or stand too close to the derived red lines.
"""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest

from zlgis.analysis import controllines as cl

UTM_34S = "EPSG:32734"   # metres; EPSG:4550 (CM 123E) would be meaningless in South Africa


@pytest.fixture(scope="module")
def swellendam(realdata):
    path = realdata / "swellendam" / "training_data.gpkg"
    roads = gpd.read_file(path, layer="roads").to_crs(UTM_34S)
    bld = gpd.read_file(path, layer="buildings").to_crs(UTM_34S)
    bld = bld.rename(columns={"full_id": "building_id"})
    bld["floors"] = pd.to_numeric(bld["building:levels"], errors="coerce")
    return roads, bld


def test_red_lines_from_swellendam_roads(swellendam):
    roads, _ = swellendam
    red = cl.red_lines_from_roads(roads)
    excluded = roads["highway"].isin(["track", "path", "footway"]).sum()
    assert len(roads) == 717 and excluded == 175
    assert len(red) == 717 - 175 == 542
    assert red["line_id"].is_unique
    assert red["road_class"].value_counts().to_dict() == {"支路": 345, "巷道": 87, "主干路": 74,
                                                          "次干路": 36}
    # trunk (N2) and primary roads get 40 m, residential 16 m, service 8 m
    widths = red.groupby("source_class")["width"].unique().map(list).to_dict()
    assert widths["trunk"] == [40.0] and widths["residential"] == [16.0] and widths["service"] == [8.0]
    assert red.geometry.is_valid.all()


def test_check_runs_on_all_4708_buildings_with_asserted_counts(swellendam):
    roads, bld = swellendam
    assert len(bld) == 4708 and (bld.geom_type == "MultiPolygon").all()
    red = cl.red_lines_from_roads(roads)
    f = cl.check_control_lines({"buildings": bld, "red_lines": red})
    counts = f["rule"].value_counts().to_dict()
    assert counts == {"red_line_setback": 1319, "red_line_encroachment": 846}
    assert f["feature_id"].nunique() == 1847
    assert f["finding_id"].is_unique
    assert f.crs == bld.crs
    # explainable: the encroachments are exactly the building / red-line overlaps of more than
    # 0.01 m2 that a plain geopandas overlay finds
    ov = gpd.overlay(bld[["building_id", "geometry"]], red[["line_id", "geometry"]],
                     how="intersection", keep_geom_type=True)
    ov = ov[ov.area > 0.01]
    enc = f[f["rule"] == "red_line_encroachment"]
    assert set(zip(enc["feature_id"], enc["related_ids"])) == set(zip(ov["building_id"], ov["line_id"]))
    # and every setback finding is closer than required, not overlapping that line
    sb = f[f["rule"] == "red_line_setback"]
    m = sb["measures"].map(__import__("json").loads)
    req = np.array([x["required_m"] for x in m])
    act = np.array([x["actual_m"] for x in m])
    assert (act < req - 0.01).all() and (act >= 0).all()
    # OSM heights are mostly unknown (low-rise by default; levels x 3 m where tagged): the
    # requirements found are the low-rise column of the table, plus one 4-storey building
    classes = pd.Series([(x["road_class"], x["height_class"], x["required_m"]) for x in m])
    assert classes.value_counts().to_dict() == {
        ("支路", "low", 3.0): 1123, ("次干路", "low", 5.0): 112, ("巷道", "low", 3.0): 74,
        ("主干路", "low", 8.0): 9, ("支路", "multi", 5.0): 1}
