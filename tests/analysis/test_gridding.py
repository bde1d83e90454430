"""Unit grids, road-chief segments and the grid audit (zlgis/analysis/gridding.py)."""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely

from zlgis.analysis.gridding import (
    audit_grids,
    communities_from_grids,
    grid_settings,
    grid_table,
    road_chief_segments,
    unit_grids,
)


@pytest.fixture(scope="module")
def demo(demo_catalog):
    from zlgis.validate import load_layers

    return load_layers(demo_catalog, ["grids", "roads", "blue_lines"])


@pytest.fixture(scope="module")
def made(demo):
    comm = communities_from_grids(demo["grids"])
    grids = unit_grids(comm, roads=demo["roads"], rivers=demo["blue_lines"])
    return comm, grids


def assert_tiles(grids: gpd.GeoDataFrame, area: shapely.Geometry) -> None:
    """No gap, no overlap: the cells' areas add up to the area and so does their union."""
    geoms = grids.geometry.values
    total = shapely.area(geoms).sum()
    union = shapely.union_all(geoms)
    assert total == pytest.approx(area.area, rel=1e-9, abs=1.0)
    assert union.area == pytest.approx(area.area, rel=1e-9, abs=1.0)
    assert shapely.symmetric_difference(union, area).area < 1.0


def test_demo_grids_tile_the_built_up_area_without_gap_or_overlap(made):
    comm, grids = made
    built_up = shapely.union_all(comm.geometry.values)
    assert_tiles(grids, built_up)
    # the demo lattice (135 m x 110 m blocks) over about 97 km2 gives thousands of cells
    assert 5_000 < len(grids) < 12_000


def test_demo_grid_sizes_codes_and_communities(made):
    comm, grids = made
    cfg = grid_settings()
    area = grids.geometry.area
    assert area.min() >= cfg["min_area_m2"] and area.max() <= cfg["max_area_m2"]
    # 万米单元网格: the median cell is close to 10,000 m2 (blocks of 135 x 110 m, cut by roads)
    assert 8_000 < area.median() < 16_000
    assert grids["grid_id"].is_unique
    assert grids["grid_id"].str.fullmatch(r"150783[0-9]{9}").all()
    # codes keep the bureau's subdistrict and community codes (from its 600 m grid ids)
    key = ["subdistrict", "community"]
    codes = comm.set_index(key)["community_code"]
    idx = pd.MultiIndex.from_frame(grids[key])
    assert (grids["grid_id"].str[9:12].to_numpy() == codes.reindex(idx).to_numpy()).all()
    # no cell crosses its community's boundary
    own = comm.set_index(key).geometry.reindex(idx).values
    outside = shapely.area(shapely.difference(grids.geometry.values, own))
    assert outside.max() < 0.5
    assert len(audit_grids(grids, built_up=shapely.union_all(comm.geometry.values),
                           communities=comm)) == 0


def test_serial_runs_west_to_east_then_north_to_south():
    comm = gpd.GeoDataFrame({"subdistrict": ["甲街道"], "community": ["乙社区"]},
                            geometry=[shapely.box(0, 0, 400, 200)], crs="EPSG:4550")
    roads = gpd.GeoDataFrame({"road_id": ["a", "b", "c", "d"]}, geometry=[
        shapely.LineString([(100, 0), (100, 200)]), shapely.LineString([(200, 0), (200, 200)]),
        shapely.LineString([(300, 0), (300, 200)]), shapely.LineString([(0, 100), (400, 100)])],
        crs="EPSG:4550")
    g = unit_grids(comm, roads=roads)
    pt = g.geometry.representative_point()
    order = g.assign(x=pt.x, y=pt.y).sort_values("grid_id")
    assert order["y"].tolist() == [150] * 4 + [50] * 4
    assert order["x"].tolist() == [50, 150, 250, 350] * 2


def test_large_blocks_split_and_small_blocks_merge():
    comm = gpd.GeoDataFrame({"subdistrict": ["甲街道"] * 2, "community": ["乙社区", "丙社区"]},
                            geometry=[shapely.box(0, 0, 600, 400), shapely.box(600, 0, 640, 400)],
                            crs="EPSG:4550")
    # a 600 x 400 community with no street at all, next to a 40 m strip cut into slivers
    roads = gpd.GeoDataFrame({"road_id": ["s1", "s2"]}, geometry=[
        shapely.LineString([(600, 100), (640, 100)]), shapely.LineString([(600, 130), (640, 130)])],
        crs="EPSG:4550")
    g = unit_grids(comm, roads=roads)
    assert_tiles(g, shapely.box(0, 0, 640, 400))
    big = g[g["community"] == "乙社区"]
    assert len(big) == 24 and big.geometry.area.round().eq(10_000).all()
    strip = g[g["community"] == "丙社区"]
    # 40 x 100, 40 x 30 and 40 x 270 faces: the 1,200 m2 sliver shares 40 m with both and
    # joins the smaller one
    assert sorted(strip.geometry.area.round()) == [5200.0, 10800.0]


def test_road_chief_segments_cover_every_road_exactly_once(demo, made):
    comm, _ = made
    roads = demo["roads"]
    seg = road_chief_segments(roads, comm, chiefs=demo["grids"])
    assert seg.geometry.length.sum() == pytest.approx(roads.geometry.length.sum(), rel=1e-9)
    assert seg["segment_id"].is_unique
    # no two segments share any length
    a, b = shapely.STRtree(seg.geometry.values).query(seg.geometry.values,
                                                      predicate="intersects")
    keep = a < b
    shared = shapely.length(shapely.intersection(seg.geometry.values[a[keep]],
                                                 seg.geometry.values[b[keep]]))
    assert shared.max() < 1e-6
    # every segment inside the communities has a community and a road chief from the grid layer
    inside = seg[seg["community"] != ""]
    assert len(inside) == len(seg)  # the demo's grids cover the whole street lattice
    assert (inside["road_chief"] != "").all()


def test_grid_table_public_columns_hold_no_personal_data(demo, made):
    from zlgis.analysis.gridding import PUBLIC_COLUMNS

    _, grids = made
    table = grid_table(grids.head(50), staff=demo["grids"])
    assert (table["grid_worker"] != "").all() and (table["road_chief_phone"] != "").all()
    public = table[list(PUBLIC_COLUMNS)]
    text = public.astype(str).to_numpy().ravel()
    phones = set(table["road_chief_phone"]) | set(table["grid_worker"])
    assert not any(v in phones for v in text)


def test_audit_finds_gap_overlap_size_code_and_crossing(made):
    comm, grids = made
    g = grids.head(200).copy().reset_index(drop=True)
    built_up = shapely.union_all(g.geometry.values)
    victim = g.geometry.iloc[10]
    g.loc[10, "geometry"] = shapely.affinity.translate(victim, 7, 0)  # gap west, overlap east
    g.loc[20, "grid_id"] = g.loc[21, "grid_id"]                        # duplicate code
    g.loc[30, "grid_id"] = "15078300100A0"                             # 13 characters
    g.loc[40, "geometry"] = shapely.box(*g.geometry.iloc[40].bounds).buffer(200)  # oversized
    f = audit_grids(g, built_up=built_up, communities=comm)
    counts = f["rule"].value_counts().to_dict()
    assert counts["grid_gap"] >= 1
    assert counts["grid_overlap"] >= 2
    assert set(f.loc[f["rule"] == "grid_code", "feature_id"]) == {
        g.loc[21, "grid_id"], "15078300100A0"}
    assert g.loc[40, "grid_id"] in set(f.loc[f["rule"] == "grid_size", "feature_id"])
    assert g.loc[40, "grid_id"] in set(f.loc[f["rule"] == "grid_crosses_community", "feature_id"])
    gap = f[f["rule"] == "grid_gap"]
    assert gap["measure"].max() == pytest.approx(7 * (victim.bounds[3] - victim.bounds[1]),
                                                 rel=0.05)
    assert f["finding_id"].is_unique and set(f["lead_department"]) == {"urban_enforcement"}


def test_audit_of_the_demo_bureau_grids(demo):
    # the demo bureau's grids are 600 m squares: no gap, no overlap, valid codes, all too large
    f = audit_grids(demo["grids"])
    assert set(f["rule"]) == {"grid_size"} and len(f) == len(demo["grids"])


# ---------------------------------------------------------------------------------- real data
def helsinki_layers(realdata):
    """Helsinki's car roads and waterways from the OSM extract, in UTM 35N (EPSG:32635)."""
    import pyogrio

    lines = pyogrio.read_dataframe(realdata / "helsinki" / "Helsinki.osm.pbf", layer="lines")
    lines = lines.to_crs("EPSG:32635")
    car = ["primary", "secondary", "tertiary", "residential", "unclassified", "service",
           "living_street", "pedestrian"]
    roads = lines[lines["highway"].isin(car)].reset_index(drop=True)
    roads = roads.assign(road_id=roads["osm_id"].astype(str), name=roads["name"].fillna(""))
    return roads


def test_realdata_helsinki_grids_and_road_chiefs(realdata):
    roads = helsinki_layers(realdata)
    # OSM has no community boundaries in this 1 x 1.6 km extract: the built-up area is the
    # streets' convex hull, split at its median easting into two stand-in communities
    hull = shapely.convex_hull(shapely.union_all(roads.geometry.values))
    x0, y0, x1, y1 = hull.bounds
    xm = float(np.median(shapely.get_coordinates(roads.geometry.values)[:, 0]))
    comm = gpd.GeoDataFrame(
        {"subdistrict": ["Kluuvi"] * 2, "community": ["West", "East"]},
        geometry=[hull.intersection(shapely.box(x0, y0, xm, y1)),
                  hull.intersection(shapely.box(xm, y0, x1, y1))], crs=roads.crs)
    grids = unit_grids(comm, roads=roads, admin_code="000091")
    assert_tiles(grids, hull)
    cfg = grid_settings()
    area = grids.geometry.area
    assert area.min() >= cfg["min_area_m2"] and area.max() <= cfg["max_area_m2"]
    # central Helsinki's blocks are about 60-150 m across: the hull of about 1.5-2.5 km2 gives
    # some 100-250 cells of about a hectare
    assert 1.0e6 < hull.area < 3.0e6
    assert 80 < len(grids) < 300
    assert grids["grid_id"].is_unique and grids["grid_id"].str.fullmatch(r"[0-9]{15}").all()
    seg = road_chief_segments(roads, comm)
    assert seg.geometry.length.sum() == pytest.approx(roads.geometry.length.sum(), rel=1e-9)
    # streets leaving the hull are impossible (it is their hull): every piece has a community
    assert (seg["community"] != "").all()
    assert len(audit_grids(grids, built_up=hull, communities=comm, admin_code="000091")) == 0
    assert pd.Series(grids["community"]).nunique() == 2
