"""zlgis.validate.load: catalog layers, any single file, real data, the demo city."""

from __future__ import annotations

from pathlib import Path

import geopandas as gpd
import numpy as np
import pyogrio
import pyproj
import pytest
import rasterio
import shapely
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from zlgis.catalog import DEFAULT_CATALOG, Catalog
from zlgis.crs import gcj02_to_wgs84, wgs84_to_bd09, wgs84_to_gcj02
from zlgis.errors import LayerError
from zlgis.io.readers import RASTER_SUFFIXES, TABLE_SUFFIXES, VECTOR_SUFFIXES
from zlgis.validate import check_attributes, load_layers, read_file, read_layer, validate_frame

X0, Y0 = 480_601.0, 5_319_572.0
LON0, LAT0 = 122.737, 48.011


def small_catalog(folder: Path, layers: dict[str, dict]) -> Path:
    raw = yaml.safe_load(DEFAULT_CATALOG.read_text(encoding="utf-8"))
    raw["data_dir"] = "."
    keep = {"boundary": raw["layers"]["boundary"]}
    for lid, over in layers.items():
        spec = dict(raw["layers"][lid])
        spec.update(over)
        keep[lid] = spec
    raw["layers"] = keep
    bnd = gpd.GeoDataFrame({"行政区划代码": ["150783"], "名称": ["扎兰屯市"]},
                           geometry=[shapely.box(X0 - 5000, Y0 - 5000, X0 + 5000, Y0 + 5000)],
                           crs="EPSG:4550")
    pyogrio.write_dataframe(bnd, folder / "boundary.gpkg", layer="boundary")
    p = folder / "catalog.yaml"
    p.write_text(yaml.safe_dump(raw, allow_unicode=True), encoding="utf-8")
    return p


# ------------------------------------------------------------------------------------------------
# real data
# ------------------------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def realdata_loaded(realdata: Path) -> dict[str, list]:
    """Every vector file of the real data folder read once: file name -> LoadedLayers."""
    return {p.name: read_file(p) for p in sorted(realdata.rglob("*"))
            if p.suffix.lower() in VECTOR_SUFFIXES + TABLE_SUFFIXES}


def test_every_realdata_file_loads(realdata: Path, realdata_loaded) -> None:
    seen = set(realdata_loaded)
    for p in sorted(realdata.rglob("*")):
        if p.suffix.lower() in RASTER_SUFFIXES:
            with rasterio.open(p) as ds:
                assert ds.crs is not None and ds.read(1, window=((0, 10), (0, 10))).size == 100
            seen.add(p.name)
    for name, results in realdata_loaded.items():
        assert results, name
        for res in results:
            assert res.rows_in == len(res.gdf) + len(res.rejected)
            assert len(res.gdf) > 0, (name, res.layer_id)
            assert str(res.gdf.crs) == "EPSG:4550"
    assert {"150783.json", "Helsinki.osm.pbf", "training_data.gpkg", "rivers.shp",
            "protected_areas.shp", "srtm_41_19.tif"} <= seen


def test_rivers_reports_exactly_its_seven_null_geometries(realdata_loaded) -> None:
    [res] = realdata_loaded["rivers.shp"]
    assert res.rows_in == 19 and len(res.gdf) == 12
    assert res.issues["code"].tolist() == ["null_geometry"] * 7
    assert res.rejected["reject_code"].tolist() == ["null_geometry"] * 7
    assert sorted(res.rejected["reject_row"]) == sorted(res.issues["row"].tolist())


def test_zhalantun_boundary_gcj02_moves_about_half_a_km(realdata: Path) -> None:
    p = realdata / "zhalantun-boundary" / "150783.json"
    [as_gcj] = read_file(p, crs="gcj02")
    [as_wgs] = read_file(p)
    assert as_gcj.issues.empty and as_gcj.source_crs == "gcj02"
    a, b = as_gcj.gdf.geometry.iloc[0], as_wgs.gdf.geometry.iloc[0]
    shift = a.centroid.distance(b.centroid)
    assert 400 < shift < 650, shift
    assert abs(a.area - b.area) / b.area < 1e-3  # moved, not distorted
    # the converted boundary matches a point-by-point inverse of the GCJ-02 coordinates
    raw = gpd.read_file(p)
    lng, lat = shapely.get_coordinates(raw.geometry.array).T
    wl, wt = gcj02_to_wgs84(lng, lat)
    x, y = pyproj.Transformer.from_crs(4326, 4550, always_xy=True).transform(wl, wt)
    got = shapely.get_coordinates(a)
    assert np.abs(got - np.column_stack([x, y])).max() < 0.01


def test_helsinki_pbf_layers(realdata_loaded) -> None:
    res = {r.layer_id: r for r in realdata_loaded["Helsinki.osm.pbf"]}
    assert {"points", "lines", "multilinestrings", "multipolygons", "other_relations"} <= set(res)
    assert res["points"].driver == "OSM"
    toilets = res["points"].gdf["other_tags"].str.contains('"amenity"=>"toilets"', regex=False)
    assert int(toilets.sum()) >= 10
    assert len(res["lines"].gdf) > 2000


# ------------------------------------------------------------------------------------------------
# catalog layers
# ------------------------------------------------------------------------------------------------

def test_gcj02_and_bd09_catalog_layers(tmp_path: Path) -> None:
    lng = np.array([LON0, LON0 + 0.01])
    lat = np.array([LAT0, LAT0 + 0.005])
    g_lng, g_lat = wgs84_to_gcj02(lng, lat)
    b_lng, b_lat = wgs84_to_bd09(lng, lat)
    # the files claim EPSG:4326 although the coordinates are GCJ-02 / BD-09
    for name, (x, y) in {"toilets": (g_lng, g_lat), "garbage_points": (b_lng, b_lat)}.items():
        gdf = gpd.GeoDataFrame({"编号": ["P1", "P2"], "名称": ["甲", "乙"]},
                               geometry=shapely.points(x, y), crs="EPSG:4326")
        pyogrio.write_dataframe(gdf, tmp_path / f"{name}.gpkg", layer=name)
    cat = Catalog.load(small_catalog(tmp_path, {"toilets": {}, "garbage_points": {"crs": "bd09"}}))
    truth = np.column_stack(pyproj.Transformer.from_crs(4326, 4550, always_xy=True)
                            .transform(lng, lat))
    for lid in ("toilets", "garbage_points"):
        res = read_layer(cat, lid)
        assert res.issues.empty, res.issues
        got = shapely.get_coordinates(res.gdf.geometry.array)
        assert np.abs(got - truth).max() < 0.01, lid
        assert res.source_crs in ("gcj02", "bd09")


def test_dxf_catalog_layer_closed_polylines_become_polygons(tmp_path: Path) -> None:
    ring = [(X0, Y0), (X0 + 50, Y0), (X0 + 50, Y0 + 20), (X0, Y0 + 20), (X0, Y0)]
    g = gpd.GeoDataFrame({"Layer": ["道路红线", "道路红线", "图框"]},
                         geometry=[shapely.LineString(ring),
                                   shapely.LineString([(X0, Y0), (X0 + 10, Y0 + 10)]),
                                   shapely.LineString(ring)], crs="EPSG:4550")
    pyogrio.write_dataframe(g, tmp_path / "plan.dxf", driver="DXF")
    cat = Catalog.load(small_catalog(tmp_path, {"red_lines": {
        "source": {"path": "plan.dxf"}, "crs": "EPSG:4550"}}))
    res = read_layer(cat, "red_lines")
    assert res.rows_in == 2 and len(res.gdf) == 1  # entities on 道路红线 only
    assert res.gdf.geometry.iloc[0].geom_type == "Polygon"
    assert res.gdf.geometry.iloc[0].area == pytest.approx(1000)
    assert res.gdf["line_id"].iloc[0].startswith("DXF-")
    codes = res.issues.set_index("code")["action"].to_dict()
    assert codes == {"unknown_dxf_layer": "warning", "wrong_geometry_type": "rejected"}
    msg = res.issues.loc[res.issues.code == "unknown_dxf_layer", "message"].iloc[0]
    assert "图框" in msg


def test_load_layers_skips_raster_and_names_failing_layer(tmp_path: Path) -> None:
    pyogrio.write_dataframe(gpd.GeoDataFrame(
        {"树木编号": ["T1"], "保护等级": ["名木"]}, geometry=shapely.points([[X0, Y0]]),
        crs="EPSG:4550"), tmp_path / "trees.gpkg", layer="trees")
    cat = Catalog.load(small_catalog(tmp_path, {"trees": {}, "dem": {}, "toilets": {}}))
    layers = load_layers(cat, ["boundary", "dem", "trees"])
    assert set(layers) == {"boundary", "trees"}
    assert layers["trees"].columns.tolist()[:2] == ["tree_id", "grade"]
    assert str(layers["trees"].crs) == "EPSG:4550"
    with pytest.raises(LayerError, match="图层 toilets（公共厕所）无法载入") as err:
        load_layers(cat)
    assert err.value.layer == "toilets" and err.value.exit_code == 2


def test_types_coerced_to_catalog(tmp_path: Path) -> None:
    p = tmp_path / "lamps.csv"
    p.write_text("路灯编号,状态,故障报告时间,经度,纬度\nL1,不亮,2022年5月3日,122.73,48.01\n"
                 "L2,正常,,122.74,48.02\n", encoding="utf-8")
    [res] = read_file(p, kind="street_lamps", crs="EPSG:4490")
    assert res.issues.empty
    assert str(res.gdf["reported_at"].dtype).startswith("datetime64")
    assert res.gdf["reported_at"].iloc[0].day == 3 and res.gdf["reported_at"].isna().iloc[1]


# ------------------------------------------------------------------------------------------------
# invariant: every row loaded or rejected, whatever the input
# ------------------------------------------------------------------------------------------------

GEOMS = st.sampled_from([
    "POLYGON((0 0,10 0,10 10,0 10,0 0))", "POLYGON((0 0,10 10,10 0,0 10,0 0))", None,
    "POLYGON EMPTY", "POINT(1 1)", "POLYGON((0 0,1 0,1 1,0 0))",
    "POLYGON Z((0 0 1,5 0 1,5 5 1,0 0 1))", "MULTIPOLYGON(((0 0,3 0,3 3,0 0)))",
    "LINESTRING(0 0,5 5)", "POLYGON((0 0,10 0,0 10,10 10,0 0))"])


CAT = Catalog.load()


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.tuples(GEOMS, st.sampled_from(["B1", "B2", "B3", None]),
                          st.sampled_from(["住宅", "别墅", None]),
                          st.sampled_from([3, 0, 99, None])), min_size=0, max_size=25))
def test_rows_in_equals_loaded_plus_rejected(rows) -> None:
    spec = CAT["buildings"]
    wkt = [r[0] for r in rows]
    geoms = shapely.from_wkt(np.array(wkt, dtype=object))
    geoms = shapely.transform(geoms, lambda xy: xy + [X0, Y0], include_z=False) \
        if len(geoms) else geoms
    gdf = gpd.GeoDataFrame({"building_id": [r[1] for r in rows], "use": [r[2] for r in rows],
                            "floors": [r[3] for r in rows], "height": [9.0] * len(rows),
                            "permit_status": ["已批"] * len(rows)},
                           geometry=gpd.GeoSeries(geoms), crs="EPSG:4550")
    res = validate_frame(gdf, spec)
    assert res.rows_in == len(rows) == len(res.gdf) + len(res.rejected)
    assert set(res.rejected["reject_row"]).isdisjoint(set(res.rows))
    assert sorted([*res.rejected["reject_row"], *res.rows]) == list(range(1, len(rows) + 1))
    # every rejected row has an issue line with its row number
    rej_rows = set(res.issues.loc[res.issues.action == "rejected", "row"].dropna())
    assert set(res.rejected["reject_row"]) == rej_rows or res.issues["row"].isna().any()
    assert shapely.is_valid(res.gdf.geometry.array).all()
    assert not shapely.has_z(res.gdf.geometry.array).any()
    assert res.gdf["building_id"].is_unique


# ------------------------------------------------------------------------------------------------
# the demo city
# ------------------------------------------------------------------------------------------------

def test_demo_city_is_clean(demo_catalog) -> None:
    bad = {}
    for lid, spec in demo_catalog.layers.items():
        if spec.kind == "raster":
            continue
        res = read_layer(demo_catalog, lid)
        assert res.rows_in == len(res.gdf) + len(res.rejected)
        if not res.issues.empty:
            bad[lid] = res.issues.head(3).to_dict("records")
        assert str(res.gdf.crs) == "EPSG:4550"
        for fname, f in spec.fields.items():
            assert fname in res.gdf.columns, (lid, fname)
    assert bad == {}


def test_demo_load_layers(demo_catalog) -> None:
    layers = load_layers(demo_catalog, ["buildings", "toilets", "hotline_cases", "dem"])
    assert set(layers) == {"buildings", "toilets", "hotline_cases"}
    b = layers["buildings"]
    assert b["floors"].dtype == "int64" and b["height"].dtype == "float64"
    assert b["building_id"].is_unique
    assert shapely.is_valid(b.geometry.array).all()
    assert str(layers["hotline_cases"]["received_at"].dtype).startswith("datetime64")
    check = check_attributes(b.drop(columns="geometry"), demo_catalog["buildings"])
    assert not check.rejected.any()


def test_large_layer_fast_paths_agree_with_plain_validation(tmp_path: Path) -> None:
    """>= 50k rows: WKB pre-check and threads give the same answer as the plain checks."""
    import pandas as pd

    n = 60_000
    i = np.arange(n)
    x, y = X0 + (i % 250) * 12.0, Y0 + (i // 250) * 12.0
    geoms = shapely.box(x, y, x + 8, y + 6)
    geoms[[10, 20_000]] = [shapely.from_wkt(f"POLYGON(({a} {b},{a + 8} {b + 6},{a + 8} {b},"
                                             f"{a} {b + 6},{a} {b}))")
                           for a, b in ((x[10], y[10]), (x[20_000], y[20_000]))]
    geoms[30_000] = shapely.from_wkt(f"POLYGON(({x[30_000]} {y[30_000]},{x[30_000] + 4} "
                                     f"{y[30_000] + 9},{x[30_000] + 8} {y[30_000]},"
                                     f"{x[30_000] + 4} {y[30_000] + 3},{x[30_000]} {y[30_000]}))")
    ids = pd.Series([f"B{k}" for k in i], dtype="str")
    ids.iloc[59_000] = "B5"
    gdf = gpd.GeoDataFrame({"建筑编号": ids, "建筑用途": ["住宅"] * n, "层数": 3, "建筑高度": 9.0,
                            "审批状态": "已批"}, geometry=geoms, crs="EPSG:4550")
    p = tmp_path / "big.gpkg"
    pyogrio.write_dataframe(gdf, p, layer="big")
    [res] = read_file(p, kind="buildings")
    plain = validate_frame(gdf.rename(columns={"建筑编号": "building_id", "建筑用途": "use",
                                              "层数": "floors", "建筑高度": "height",
                                              "审批状态": "permit_status"}),
                           CAT["buildings"])
    cols = ["row", "code", "action"]
    assert res.issues[cols].values.tolist() == plain.issues[cols].values.tolist() == [
        [11, "invalid_geometry", "repaired"], [20_001, "invalid_geometry", "repaired"],
        [59_001, "duplicate_id", "rejected"]]
    assert len(res.gdf) == n - 1
    assert shapely.equals_exact(res.gdf.geometry.array, plain.gdf.geometry.array, 0).all()


def test_fast_read_reports_exactly_as_plain_validation(tmp_path: Path) -> None:
    """The reader (Arrow read, unclosed rings closed row by row), packed duplicate ids and the
    boundary grid give the same clean rows, rejected rows and report as validating a plain
    pyogrio read."""
    import pandas as pd

    from zlgis.io.readers import read_source
    from zlgis.validate.load import _rename

    n = 60_000  # above the size where attributes and duplicates run in worker threads
    i = np.arange(n)
    x, y = X0 + (i % 250) * 12.0, Y0 + (i // 250) * 12.0
    geoms = shapely.box(x, y, x + 8, y + 6)
    east = X0 + 250 * 12.0  # the boundary's east edge
    boundary = shapely.box(X0 - 100, Y0 - 100, east, Y0 + 240 * 12.0 + 100)

    def poly(wkt: str, k: int) -> shapely.Geometry:
        return shapely.affinity.translate(shapely.from_wkt(wkt), x[k], y[k])

    geoms[1] = poly("POLYGON((0 0,8 0,8 2,2 2,2 6,0 6,0 0))", 1)             # concave, valid
    geoms[2] = poly("POLYGON((0 0,8 6,8 0,0 6,0 0))", 2)                     # bow-tie
    geoms[3] = poly("POLYGON((0 0,8 0,8 6,0 6,0 0),(2 2,4 2,4 4,2 2))", 3)  # hole
    geoms[4] = shapely.multipolygons([poly("POLYGON((0 0,3 0,3 3,0 0))", 4),
                                      poly("POLYGON((5 0,8 0,8 3,5 0))", 4)])
    geoms[5] = None
    geoms[6] = shapely.from_wkt("POLYGON EMPTY")
    geoms[7] = shapely.polygons([[x[7], y[7]], [np.nan, y[7]], [x[7] + 8, y[7] + 6],
                                 [x[7], y[7]]])
    geoms[8] = shapely.box(east + 5000, Y0, east + 5008, Y0 + 6)             # far outside
    geoms[9] = shapely.box(east - 4, Y0, east + 4, Y0 + 6)                   # straddling
    # outside, with a zero-width spike reaching 300 m into the city: the repair removes the
    # spike, so bounds read from the WKB must not be used for this row any more
    geoms[10] = shapely.from_wkt(
        f"POLYGON(({east + 50} {Y0},{east + 60} {Y0},{east + 60} {Y0 + 6},{east + 50} {Y0 + 6},"
        f"{east + 50} {Y0 + 3},{east - 300} {Y0 + 3},{east + 50} {Y0 + 3},{east + 50} {Y0}))")
    ids = pd.Series([f"B{k}" for k in i], dtype="str")
    ids.iloc[[20, 21, 22, 23, 59_000, 59_001]] = ["B5", "", None, "B22", "B100", "B9"]
    floors = np.full(n, 3)
    floors[[30, 31]] = [99, 0]
    use = np.full(n, "住宅", dtype=object)
    use[40] = "飞船"
    gdf = gpd.GeoDataFrame({"建筑编号": ids, "建筑用途": use, "层数": floors,
                            "建筑高度": 9.0, "审批状态": "已批"}, geometry=geoms, crs="EPSG:4550")
    p = tmp_path / "big.gpkg"
    pyogrio.write_dataframe(gdf, p, layer="big", promote_to_multi=False)
    spec = CAT["buildings"]

    src = read_source(p, "big")
    fast_in, shown = _rename(src.gdf, spec)
    fast = validate_frame(fast_in, spec, rows=src.rows, path=str(p), notes=src.notes,
                          boundary=boundary, source_names=shown)
    plain_in, shown2 = _rename(pyogrio.read_dataframe(p, layer="big", use_arrow=True), spec)
    plain = validate_frame(plain_in, spec, path=str(p), boundary=boundary,
                           source_names=shown2)

    pd.testing.assert_frame_equal(fast.issues, plain.issues)
    pd.testing.assert_frame_equal(fast.rejected, plain.rejected)
    pd.testing.assert_frame_equal(pd.DataFrame(fast.gdf.drop(columns="geometry")),
                                  pd.DataFrame(plain.gdf.drop(columns="geometry")))
    assert shapely.equals_exact(fast.gdf.geometry.array, plain.gdf.geometry.array, 0).all()
    assert fast.rows_in == len(fast.gdf) + len(fast.rejected) == n
    found = set(zip(fast.issues["row"].tolist(), fast.issues["code"].tolist()))
    assert {(3, "invalid_geometry"), (6, "null_geometry"), (7, "empty_geometry"),
            (8, "nonfinite_coordinates"), (9, "outside_boundary"), (11, "invalid_geometry"),
            (11, "outside_boundary"), (21, "duplicate_id"), (22, "missing_value"),
            (31, "out_of_range"), (41, "not_allowed"), (59_001, "duplicate_id"),
            (59_002, "duplicate_id")} <= found
    assert (10, "outside_boundary") not in found and (2, "invalid_geometry") not in found


def test_catalog_filter_picks_a_cad_layer(tmp_path: Path) -> None:
    """``filter: {cad_layer: [...]}`` (README) picks a layer's entities out of a shared CAD
    drawing by its CAD layer name (issue 12 item 2): the green lines of a bureau's drawing whose layer is
    called GREEN-PLAN, the rest of the drawing left to other catalog layers."""
    ring = [(X0, Y0), (X0 + 50, Y0), (X0 + 50, Y0 + 20), (X0, Y0 + 20), (X0, Y0)]
    moved = [(x + 100, y) for x, y in ring]
    g = gpd.GeoDataFrame({"Layer": ["GREEN-PLAN", "ROADS", "GREEN-PLAN"]},
                         geometry=[shapely.LineString(ring), shapely.LineString(moved),
                                   shapely.LineString(moved)], crs="EPSG:4550")
    pyogrio.write_dataframe(g, tmp_path / "plan.dxf", driver="DXF")
    cat = Catalog.load(small_catalog(tmp_path, {"green_lines": {
        "source": {"path": "plan.dxf", "filter": {"cad_layer": ["GREEN-PLAN"]}},
        "crs": "EPSG:4550"}}))
    res = read_layer(cat, "green_lines")
    assert res.rows_in == 2 and len(res.gdf) == 2
    assert (res.gdf.geometry.geom_type == "Polygon").all()
    assert res.gdf.geometry.area.tolist() == pytest.approx([1000, 1000])
    assert res.gdf["line_id"].str.startswith("DXF-").all()   # the entity handles


def test_rename_keeps_the_first_column_of_a_field_and_the_geometry():
    from zlgis.validate.load import _rename

    spec = Catalog.load(DEFAULT_CATALOG)["blue_lines"]
    gdf = gpd.GeoDataFrame({"蓝线编号": ["A"], "名称": ["河"], "name": ["湖"], "other": [1]},
                           geometry=[shapely.Point(0, 0)], crs="EPSG:4550")
    out, shown = _rename(gdf, spec)
    # the source's own "name" column and the alias 名称 before it: the alias's values are kept
    assert list(out.columns) == ["line_id", "name", "other", "geometry"]
    assert out["name"].tolist() == ["河"] and shown == {"line_id": "蓝线编号", "name": "名称"}
    assert out.geometry.name == "geometry" and out.crs == gdf.crs
    assert list(gdf.columns)[:2] == ["蓝线编号", "名称"]  # the source frame is left as it was
