"""Arrow-backed text handed on without Python strings (issue 21): the new paths give the same
dtypes and values as the object round trips they replace."""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely
from shapely.geometry import LineString, Point, Polygon

from zlgis._arrowtext import STR, frame_values
from zlgis.analysis.coverage_areas import _compound_lists
from zlgis.publish.maps import _label_rows

_COLUMNS = {
    "str": pd.Series(["a", "b", None, "a"], dtype=STR),
    "str_no_missing": pd.Series(["x", "y"], dtype=STR),
    "str_all_missing": pd.Series([None, None], dtype=STR),
    "str_empty": pd.Series([], dtype=STR),
    "string_na": pd.Series(["a", None], dtype="string[pyarrow]"),
    "string_python": pd.Series(["a", None], dtype="string[python]"),
    "object_mixed": pd.Series(["a", 1, None], dtype=object),
    "int": pd.Series([1, 2, 3]),
    "float": pd.Series([1.5, np.nan]),
}


@pytest.mark.parametrize("name", sorted(_COLUMNS))
def test_frame_values_gives_the_dtype_and_values_of_to_numpy(name):
    col = _COLUMNS[name]
    old = pd.DataFrame({"k": col.to_numpy(), "n": np.arange(len(col))})
    new = pd.DataFrame({"k": frame_values(col), "n": np.arange(len(col))})
    pd.testing.assert_frame_equal(new, old)
    assert new["k"].dtype == old["k"].dtype


def test_frame_values_keeps_a_text_column_arrow_backed():
    col = _COLUMNS["str"]
    assert frame_values(col) is col.array
    assert isinstance(frame_values(_COLUMNS["str_all_missing"]), np.ndarray)


def _old_compound_lists(k, comp):
    ex = pd.DataFrame({"k": k})
    ex["c"] = comp
    return (ex.dropna(subset=["c"]).groupby("k")["c"]
            .agg(lambda x: sorted({str(c) for c in x if isinstance(c, str) and c})))


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_compound_lists_equal_the_groupby_they_replace(seed):
    rng = np.random.default_rng(seed)
    n = 400
    k = np.sort(rng.integers(0, 60, n))
    pool = np.array(["C1", "C2", "C10", "", "C3"], dtype=object)
    comp = pool[rng.integers(0, len(pool), n)].astype(object)
    comp[rng.random(n) < 0.2] = np.nan
    old = _old_compound_lists(k, comp)
    new = _compound_lists(k, comp)
    for kk in range(61):
        assert list(new.get(kk, [])) == list(old.get(kk, [])), kk
    assert any(len(v) > 1 for v in new.values())


def _old_label_rows(gdf, field, *, road):
    sub = gdf[gdf[field].notna() & gdf.geometry.notna() & ~gdf.geometry.is_empty]
    names = sub[field].astype(str).str.strip()
    sub = sub.assign(_n=names.to_numpy())[names.to_numpy() != ""]
    if road:
        sub = sub.assign(_len=sub.length.to_numpy()).sort_values("_len", ascending=False)
    return sub.drop_duplicates("_n")


@pytest.mark.parametrize("road", [True, False])
def test_label_rows_equal_the_whole_frame_filter_they_replace(road):
    rng = np.random.default_rng(3)
    n = 300
    names = np.array(["团结路", " 团结路", "", "  ", "河西街", "中央大街", None], dtype=object)
    x = rng.random(n) * 1000
    geoms = [LineString([(a, 0), (a + rng.random() * 50, 10)]) if road
             else Polygon([(a, 0), (a + 5, 0), (a + 5, 5)]) for a in x]
    geoms[5] = None
    geoms[7] = Point() if not road else LineString()
    gdf = gpd.GeoDataFrame({"name": pd.Series(names[rng.integers(0, len(names), n)]),
                            "other": np.arange(n).astype(str)},
                           geometry=geoms, crs="EPSG:4547", index=np.arange(n) * 3)
    old = _old_label_rows(gdf, "name", road=road)
    new = _label_rows(gdf, "name", road=road)
    assert len(new) == 3   # the three distinct names
    assert new.index.tolist() == old.index.tolist()
    assert new["_n"].tolist() == old["_n"].tolist()
    assert new["_n"].dtype == old["_n"].dtype
    assert new.geometry.to_wkb().tolist() == old.geometry.to_wkb().tolist()
    assert new.crs == old.crs


def _old_building_status(buildings, v, id_field="building_id", layer="buildings"):
    rank = {"rectified": 1, "new": 2, "open": 2, "reopened": 2, "overdue": 3}
    names = {0: "none", 1: "rectified", 2: "open", 3: "overdue"}
    if len(v):
        v = v[v["layer"].astype(str) == layer]
        r = pd.Series(v["status"].astype(str).map(rank).fillna(0).to_numpy(),
                      index=v["feature_id"].astype(str).to_numpy())
        best = r.groupby(level=0).max()
    else:
        best = pd.Series(dtype=float)
    ids = buildings[id_field].astype(str)
    return pd.Series(ids.map(best).fillna(0).astype(int).map(names).to_numpy(),
                     index=buildings.index, name="status")


@pytest.mark.parametrize("n_findings", [0, 1, 50])
def test_building_status_equals_the_series_map_it_replaces(n_findings):
    from zlgis.publish.tiles import building_status

    rng = np.random.default_rng(n_findings)
    ids = np.array([f"B{i}" for i in range(200)], dtype=object)
    b = pd.DataFrame({"building_id": pd.Series(ids, dtype=STR)}, index=np.arange(200) + 7)
    b.loc[b.index[3], "building_id"] = None
    statuses = np.array(["rectified", "new", "open", "reopened", "overdue", "odd"], dtype=object)
    v = pd.DataFrame({"layer": rng.choice(["buildings", "roads"], n_findings),
                      "feature_id": rng.choice(ids, n_findings),
                      "status": rng.choice(statuses, n_findings)})
    old, new = _old_building_status(b, v), building_status(b, v)
    pd.testing.assert_series_equal(new, old)
    empty = b.iloc[:0]
    pd.testing.assert_series_equal(building_status(empty, v), _old_building_status(empty, v))


def test_geom_types_equal_the_geom_type_column():
    from zlgis._arrowtext import geom_types

    parts = [Point(0, 0), LineString([(0, 0), (1, 1)]), Polygon([(0, 0), (1, 0), (1, 1)]),
             Point(), LineString(), None]
    multi = [shapely.multipoints([(0, 0), (1, 1)]),
             shapely.multilinestrings([[(0, 0), (1, 1)], [(2, 2), (3, 3)]]),
             shapely.multipolygons([parts[2]]), shapely.geometrycollections(parts[:2]),
             shapely.linearrings([(0, 0), (1, 0), (1, 1)])]
    for sample in ([], [None], parts, multi, parts + multi, [Point(1, 2)] * 3):
        g = gpd.GeoSeries(sample, dtype="geometry")
        assert geom_types(g.values) == set(g.geom_type.dropna()), sample


@pytest.mark.parametrize("name", sorted(_COLUMNS))
def test_frame_values_objects_gives_the_dtype_and_values_of_astype_object(name):
    col = _COLUMNS[name]
    old = pd.DataFrame({"k": col.astype(object).to_numpy()})
    new = pd.DataFrame({"k": frame_values(col, objects=True)})
    pd.testing.assert_frame_equal(new, old)
