"""zlgis.validate.geometry: per-row geometry checks and make_valid repair."""

from __future__ import annotations

import numpy as np
import shapely

from zlgis.validate.geometry import check_geometries, closed_lines_to_polygons, reason_zh


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
