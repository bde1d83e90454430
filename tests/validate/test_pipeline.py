"""zlgis.validate.pipeline: validate_frame end to end (CRS, swaps, boundary, row bookkeeping)."""

from __future__ import annotations

from dataclasses import replace

import geopandas as gpd
import numpy as np
import pytest
import shapely

from zlgis.catalog import Catalog
from zlgis.errors import CRSError
from zlgis.validate import validate_frame

CAT = Catalog.load()
REGION = (121.1, 46.8, 124.3, 49.2)
X0, Y0 = 480_601.0, 5_319_572.0


def toilets(xy, crs=None) -> gpd.GeoDataFrame:
    n = len(xy)
    return gpd.GeoDataFrame({"toilet_id": [f"T{i}" for i in range(n)], "name": ["公厕"] * n},
                            geometry=shapely.points(np.asarray(xy, dtype=float)), crs=crs)


def test_swapped_rows_repaired_with_source_rows() -> None:
    gdf = toilets([[122.73, 48.01], [48.02, 122.74], [122.75, 48.03]], "EPSG:4326")
    res = validate_frame(gdf, replace(CAT["toilets"], crs=None),
                         rows=np.array([5, 6, 7]), region=REGION)
    assert res.issues[["row", "code", "action"]].values.tolist() == [
        [6, "swapped_lat_lon", "repaired"]]
    lon_lat = gpd.GeoSeries(res.gdf.geometry, crs=res.gdf.crs).to_crs(4326)
    assert abs(lon_lat.x.iloc[1] - 122.74) < 1e-9 and abs(lon_lat.y.iloc[1] - 48.02) < 1e-9


def test_outside_boundary_is_a_warning() -> None:
    spec = CAT["trees"]
    gdf = gpd.GeoDataFrame({"tree_id": ["A", "B"], "grade": ["名木", "名木"]},
                           geometry=shapely.points([[X0, Y0], [X0 + 9000, Y0]]), crs="EPSG:4550")
    boundary = shapely.box(X0 - 1000, Y0 - 1000, X0 + 1000, Y0 + 1000)
    res = validate_frame(gdf, spec, boundary=boundary, boundary_tolerance=200, region=REGION)
    assert res.issues[["row", "code", "action"]].values.tolist() == [
        [2, "outside_boundary", "warning"]]
    assert len(res.gdf) == 2  # kept


def test_crs_inferred_and_overridden() -> None:
    spec = replace(CAT["trees"], crs=None)
    gdf = gpd.GeoDataFrame({"tree_id": ["A"], "grade": ["名木"]},
                           geometry=shapely.points([[122.7, 48.0]]))
    res = validate_frame(gdf, spec, region=REGION)
    assert res.issues["code"].tolist() == ["crs_inferred"] and res.source_crs == "EPSG:4326"
    proj = gdf.set_crs("EPSG:4326").to_crs("EPSG:2386")
    res = validate_frame(proj, spec, crs_override="EPSG:4550", region=REGION)
    assert res.issues["code"].tolist() == ["crs_overridden"]
    assert "命令行 --crs" in res.issues["message"].iloc[0]


def test_unknown_declared_crs() -> None:
    spec = replace(CAT["trees"], crs="Mars2000")
    gdf = gpd.GeoDataFrame({"tree_id": ["A"], "grade": ["名木"]},
                           geometry=shapely.points([[X0, Y0]]))
    with pytest.raises(CRSError, match="无法识别图层目录的 crs：Mars2000"):
        validate_frame(gdf, spec, path="t.gpkg")


def test_duplicate_message_points_to_first_source_row() -> None:
    gdf = toilets([[X0, Y0], [X0 + 5, Y0]], "EPSG:4550")
    gdf["toilet_id"] = ["T1", "T1"]
    res = validate_frame(gdf, replace(CAT["toilets"], crs="EPSG:4550"), rows=np.array([10, 12]))
    [msg] = res.issues["message"].tolist()
    assert msg == "编号“T1”重复（与第 10 行相同），该行已剔除"
    assert res.rejected["reject_row"].tolist() == [12]


def test_large_layer_duplicates_found_in_thread() -> None:
    import pandas as pd

    n = 60_000  # above the size where ids are hashed in a background thread
    ids = pd.Series([f"T{i}" for i in range(n)], dtype="str")
    ids.iloc[[100, 59_999]] = ["T7", "T8"]
    x = X0 + (np.arange(n) % 300) * 10.0
    y = Y0 + (np.arange(n) // 300) * 10.0
    gdf = gpd.GeoDataFrame({"tree_id": ids, "grade": ["名木"] * n},
                           geometry=shapely.points(x, y), crs="EPSG:4550")
    res = validate_frame(gdf, replace(CAT["trees"], crs="EPSG:4550"))
    assert res.rejected["reject_row"].tolist() == [101, 60_000]
    assert res.rejected["reject_code"].tolist() == ["duplicate_id", "duplicate_id"]
    assert len(res.gdf) == n - 2


@pytest.mark.parametrize("tol", [0.0, 150.0])
def test_outside_grid_prefilter_matches_direct_test(tol: float) -> None:
    """The inner-cell grid only settles rows the bbox-centre test would find inside anyway."""
    from zlgis.validate.pipeline import _outside

    ang = np.linspace(0, 2 * np.pi, 61)[:-1]
    r = np.where(np.arange(60) % 2, 1200.0, 3000.0)
    star = shapely.Polygon(np.column_stack([X0 + r * np.cos(ang), Y0 + r * np.sin(ang)]))
    boundary = star.difference(shapely.box(X0 - 300, Y0 - 300, X0 + 300, Y0 + 300))
    rng = np.random.default_rng(4)
    m = 6000
    px, py = X0 + rng.uniform(-3500, 3500, m), Y0 + rng.uniform(-3500, 3500, m)
    w = rng.uniform(0, 400, m)
    geoms = np.concatenate([shapely.points(px, py), shapely.box(px, py, px + w, py + w / 3),
                            shapely.linestrings(np.stack([np.column_stack([px, py]),
                                                          np.column_stack([px + w, py - w])],
                                                         axis=1))])
    area = boundary.buffer(tol) if tol > 0 else boundary
    b = shapely.bounds(geoms)
    centre_in = shapely.contains_xy(area, (b[:, 0] + b[:, 2]) / 2, (b[:, 1] + b[:, 3]) / 2)
    want = ~centre_in & ~shapely.intersects(area, geoms)
    got = _outside(geoms, boundary, tol)
    assert np.array_equal(got, want) and got.any() and (~got).any()
    assert np.array_equal(_outside(geoms, boundary, tol, b), want)  # cached grid, given bounds


@pytest.mark.parametrize("src,dst", [("EPSG:4326", "EPSG:4550"), ("EPSG:4490", "EPSG:4550"),
                                     ("EPSG:4550", "EPSG:4326"), ("EPSG:32651", "EPSG:4550")])
def test_points_to_crs_same_bytes_as_geopandas(src: str, dst: str) -> None:
    from zlgis.validate.pipeline import points_to_crs

    rng = np.random.default_rng(3)
    if src.startswith("EPSG:4"):
        xy = (np.column_stack([rng.uniform(121, 124, 3000), rng.uniform(47, 49, 3000)])
              if src != "EPSG:4550" else
              np.column_stack([rng.uniform(4.6e5, 5.2e5, 3000), rng.uniform(5.2e6, 5.4e6, 3000)]))
    else:
        xy = np.column_stack([rng.uniform(3e5, 4e5, 3000), rng.uniform(5.2e6, 5.4e6, 3000)])
    g = shapely.points(xy)
    got = points_to_crs(g, src, dst)
    ref = gpd.GeoSeries(g, crs=src).to_crs(dst).array
    assert shapely.to_wkb(got).tolist() == shapely.to_wkb(np.asarray(ref)).tolist()


@pytest.mark.parametrize("wkt", ["POINT Z (1 2 3)", "POINT EMPTY", "LINESTRING (0 0, 1 1)",
                                 "MULTIPOINT ((1 2))"])
def test_points_to_crs_only_for_plain_points(wkt: str) -> None:
    from zlgis.validate.pipeline import points_to_crs

    g = shapely.from_wkt(["POINT (122.7 47.7)", wkt])
    assert points_to_crs(g, "EPSG:4326", "EPSG:4550") is None
    assert points_to_crs(shapely.from_wkt(["POINT (122.7 47.7)"]), "EPSG:4326",
                         "EPSG:4550") is not None


@pytest.mark.parametrize("obf,dst", [("gcj02", "EPSG:4550"), ("bd09", "EPSG:4550"),
                                     ("gcj02", None), ("gcj02", "EPSG:4326")])
def test_points_to_crs_of_obfuscated_points_same_bytes_as_before(obf: str, dst: str | None
                                                                ) -> None:
    from zlgis.crs import to_wgs84
    from zlgis.validate.pipeline import points_to_crs

    rng = np.random.default_rng(4)
    g = shapely.points(rng.uniform(121, 124, 2000), rng.uniform(47, 49, 2000))

    def shift(xy: np.ndarray) -> np.ndarray:  # the geopandas path validate_frame took before
        return np.column_stack(to_wgs84(xy[:, 0], xy[:, 1], obf))
    ref = gpd.GeoSeries(shapely.transform(g, shift), crs="EPSG:4326")
    if dst is not None:
        ref = ref.to_crs(dst)
    got = points_to_crs(g, "EPSG:4326", dst, obf=obf)
    assert shapely.to_wkb(got).tolist() == shapely.to_wkb(np.asarray(ref.array)).tolist()


def test_the_validation_pool_works_in_a_forked_process() -> None:
    """A process forked after the pool started its threads (a large layer validated in a
    process of its own, a worker of the weekly run) gets a pool of its own."""
    import os

    from zlgis.validate._pool import pool
    from zlgis.workers import in_own_process

    assert pool().submit(os.getpid).result() == os.getpid()  # its threads started here
    child = in_own_process(lambda: pool().submit(os.getpid).result(timeout=30))
    assert child != os.getpid()
