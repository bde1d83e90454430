"""zlgis.validate.geometry: per-row geometry checks and make_valid repair."""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import shapely
from hypothesis import given, settings
from hypothesis import strategies as st

from zlgis.validate.geometry import (
    check_geometries,
    closed_lines_to_polygons,
    reason_zh,
    wkb_convex_valid,
)


def codes(res) -> dict[str, list[int]]:
    return {code: sorted(np.asarray(pos).tolist()) for pos, code, _, _ in res.problems}


def test_each_problem_found_once() -> None:
    g = shapely.from_wkt(np.array([
        "POLYGON((0 0,1 0,1 1,0 1,0 0))",              # 0 fine
        None,                                          # 1 null
        "POLYGON EMPTY",                               # 2 empty
        "POLYGON((0 0,2 2,2 0,0 2,0 0))",              # 3 bow-tie -> repaired
        "POINT(1 1)",                                  # 4 wrong type
        "POLYGON Z((0 0 5,1 0 5,1 1 5,0 0 5))",        # 5 Z dropped
        "MULTIPOLYGON(((0 0,1 0,1 1,0 0)))",           # 6 multi accepted
    ], dtype=object))
    g = np.append(g, shapely.polygons([[(0, 0), (1, 0), (np.nan, 1), (0, 0)]]))  # 7 NaN
    res = check_geometries(g, "Polygon")
    assert codes(res) == {"null_geometry": [1], "empty_geometry": [2], "dropped_z": [5],
                          "wrong_geometry_type": [4], "invalid_geometry": [3],
                          "nonfinite_coordinates": [7]}
    assert res.rejected.tolist() == [False, True, True, False, True, False, False, True]
    assert res.geometries[3].geom_type == "MultiPolygon" and res.geometries[3].is_valid
    assert res.geometries[3].area == 2.0
    assert not shapely.has_z(res.geometries[5])
    actions = {code: action for _, code, _, action in res.problems}
    assert actions["invalid_geometry"] == "repaired" and actions["dropped_z"] == "dropped_z"


def test_mixed_types_use_majority() -> None:
    g = shapely.from_wkt(["POINT(0 0)", "POINT(1 1)", "LINESTRING(0 0,1 1)"])
    res = check_geometries(g, None)
    assert res.family == "Point"
    assert codes(res) == {"wrong_geometry_type": [2]}


def test_collapsed_repair_is_rejected() -> None:
    # a ring folded onto a line: make_valid keeps only a line, not a polygon
    g = shapely.from_wkt(["POLYGON((0 0,1 1,2 2,0 0))"])
    res = check_geometries(g, "Polygon")
    assert res.rejected.tolist() == [True]
    assert [a for _, c, _, a in res.problems] == ["rejected"]


def test_reason_translation() -> None:
    assert reason_zh("Ring Self-intersection[3 4]") == "环自相交（位置 3 4）"
    assert reason_zh("Too few points in geometry component[0 0]").startswith("顶点数太少")


def test_closed_lines_to_polygons() -> None:
    g = shapely.from_wkt(["LINESTRING(0 0,4 0,4 3,0 0)", "LINESTRING(0 0,1 1)", "POINT(0 0)"])
    out, conv = closed_lines_to_polygons(g)
    assert conv.tolist() == [True, False, False]
    assert out[0].area == 6.0 and out[1].geom_type == "LineString"


@settings(max_examples=150, deadline=None)
@given(st.lists(st.tuples(st.integers(-5, 5), st.integers(-5, 5)), min_size=3, max_size=7))
def test_convex_fast_path_never_contradicts_geos(pts) -> None:
    ring = pts + [pts[0]]
    poly = shapely.polygons(ring)
    arr = pa.array([shapely.to_wkb(poly)])
    fast = wkb_convex_valid(arr)[0]
    if fast:
        assert shapely.is_valid(poly)


def test_convex_fast_path_bounds_and_types() -> None:
    g = shapely.from_wkt(["POLYGON((0 0,4 0,4 3,0 3,0 0))", "POINT(1 2)",
                          "POLYGON((0 0,10 0,10 10,0 10,0 0),(1 1,2 1,2 2,1 1))"])
    ok, b = wkb_convex_valid(pa.array(shapely.to_wkb(g)), return_bounds=True)
    assert ok.tolist() == [True, False, False]
    assert b[0].tolist() == [0, 0, 4, 3] and np.isnan(b[1:]).all()
    assert wkb_convex_valid(None).tolist() == []


def test_known_polygons_still_checked_for_type_and_validity() -> None:
    """Rows proven to be (valid) 2-D polygons from their WKB skip tests, never the verdict."""
    from zlgis.io.wkb import decode_simple_polygons

    g = shapely.from_wkt(["POLYGON((0 0,4 0,4 3,0 3,0 0))", "LINESTRING(0 0,1 1)",
                          "LINESTRING(2 2,3 3)", "POLYGON((0 0,2 2,2 0,0 2,0 0))",
                          "POLYGON((0 0,4 0,4 1,1 1,1 4,0 4,0 0))", None])
    dec = decode_simple_polygons(pa.array(shapely.to_wkb(g)))
    assert dec.decoded.tolist() == [True, False, False, True, True, False]
    for expected in ("LineString", None, "Polygon"):
        plain = check_geometries(g, expected)
        fast = check_geometries(g, expected, known_valid=dec.convex, known_polygons=dec.decoded)
        assert np.array_equal(plain.rejected, fast.rejected)
        assert [(p[0].tolist(), p[1:]) for p in plain.problems] == [
            (p[0].tolist(), p[1:]) for p in fast.problems]
        assert plain.family == fast.family
    # a polygon in a line layer is the wrong type even when it is known to be valid
    res = check_geometries(g, "LineString", known_valid=dec.convex, known_polygons=dec.decoded)
    wrong = [p for p in res.problems if p[1] == "wrong_geometry_type"]
    assert wrong and wrong[0][0].tolist() == [0, 3, 4]
    res = check_geometries(g, None, known_valid=dec.convex, known_polygons=dec.decoded)
    assert res.family == "Polygon" and res.rejected.tolist() == [False, True, True, False,
                                                                 False, True]
    lines = shapely.from_wkt(["LINESTRING(0 0,1 1)", "LINESTRING(2 2,3 3)",
                              "LINESTRING(4 4,5 5)", "POLYGON((0 0,4 0,4 3,0 3,0 0))"])
    dec = decode_simple_polygons(pa.array(shapely.to_wkb(lines)))
    res = check_geometries(lines, None, known_valid=dec.convex, known_polygons=dec.decoded)
    assert res.family == "LineString" and res.rejected.tolist() == [False] * 3 + [True]
