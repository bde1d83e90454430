"""Frontage zones (门前五包) cover every square metre of frontage exactly once: corner and
L-shaped buildings, neighbours wall to wall, a vacant lot, complaints tied to the holder."""

from __future__ import annotations

import itertools

import geopandas as gpd
import numpy as np
import shapely
from shapely.geometry import LineString, Point, Polygon, box

from zlgis.analysis.frontage import frontage_band, frontage_complaints, frontage_zones


def _crossing():
    """Two streets crossing at (0, 0); a corner shop, an L-shaped building, wall-to-wall
    neighbours, a building set back 60 m (holds nothing) and a vacant lot."""
    roads = gpd.GeoDataFrame(
        {"road_id": ["EW", "NS"], "name": ["中央街", "兴华路"], "road_class": ["主干路", "次干路"],
         "width": [40.0, 30.0]},
        geometry=[LineString([(-300, 0), (300, 0)]), LineString([(0, -300), (0, 300)])],
        crs="EPSG:4550")
    L = Polygon([(40, 20), (120, 20), (120, 40), (60, 40), (60, 90), (40, 90)])
    b = gpd.GeoDataFrame({"building_id": ["corner", "L", "n1", "n2", "back"],
                          "use": ["商业", "商业", "商业", "住宅", "住宅"]},
                         geometry=[box(15, -60, 45, -20),        # corner, south-east
                                   L,                           # L-shaped, north-east
                                   box(-100, 20, -60, 45),      # n1 and n2 share a wall
                                   box(-60, 20, -20, 45),
                                   box(-120, -140, -80, -100)],  # far back: no frontage
                         crs="EPSG:4550")
    return roads, b


def test_every_frontage_square_metre_is_counted_once():
    roads, b = _crossing()
    zones, unheld = frontage_zones(roads, b, tile=150.0)   # small tiles: zones cross tiles
    band = frontage_band(roads, b)
    # no two zones overlap, and no zone overlaps unheld frontage
    geoms = list(zones.geometry) + list(unheld.geometry)
    for a, c in itertools.combinations(geoms, 2):
        assert shapely.area(shapely.intersection(a, c)) < 1e-6
    # together they are the band, exactly
    total = shapely.union_all(geoms)
    assert abs(total.area - band.area) < 1e-3
    assert shapely.area(shapely.symmetric_difference(total, band)) < 1e-3
    assert abs(zones.area.sum() + unheld.area.sum() - band.area) < 1e-3


def test_corner_and_l_shaped_buildings_hold_their_street_faces():
    roads, b = _crossing()
    zones, unheld = frontage_zones(roads, b, tile=150.0)
    z = zones.set_index("building_id").geometry
    assert "back" not in z.index            # 60 m behind the kerb: beyond the 30 m depth
    cw_ew, cw_ns = 40 * 0.6 / 2, 30 * 0.6 / 2
    # the corner shop holds frontage along both streets
    assert z["corner"].intersects(Point(30, -cw_ew - 1))      # 中央街 side
    assert z["corner"].intersects(Point(cw_ns + 1, -40))      # 兴华路 side
    # the L-shaped building holds its whole 中央街 face (x 40..120) and its 兴华路-facing wing
    face = LineString([(41, cw_ew + 1), (119, cw_ew + 1)])
    assert shapely.length(shapely.intersection(face, z["L"])) > 0.97 * face.length
    # wall-to-wall neighbours split the frontage at their shared wall (x = -60)
    assert z["n1"].intersects(Point(-70, cw_ew + 2)) and not z["n1"].intersects(Point(-50, cw_ew + 2))
    assert z["n2"].intersects(Point(-50, cw_ew + 2))
    # nobody holds the frontage in front of the vacant lot on the south-west
    lot = Point(-200, -cw_ew - 5)
    assert not zones.intersects(lot).any() and unheld.intersects(lot).any()
    # the unheld piece turns the corner: it fronts both streets
    assert unheld.loc[unheld.intersects(lot), "street"].tolist() == ["中央街;兴华路"]


def test_complaints_go_to_the_holder():
    roads, b = _crossing()
    zones, _ = frontage_zones(roads, b, tile=150.0)
    reports = gpd.GeoDataFrame({"report_id": ["r1", "r2", "r3"]},
                               geometry=[Point(80, 15), Point(-200, -15), Point(0, 0)],
                               crs="EPSG:4550")
    got = frontage_complaints(zones, reports)
    # r1 in front of the L; r2 in front of the vacant lot (unheld); r3 in the junction itself
    assert got.values.tolist() == [[0, "L"]]


def test_uses_filter_units():
    roads, b = _crossing()
    cfg_zones, _ = frontage_zones(roads, b[b["use"] == "商业"])
    assert set(cfg_zones["building_id"]) == {"corner", "L", "n1"}
    assert np.isfinite(cfg_zones["area_m2"]).all()


def test_clipping_only_the_band_polygons_near_a_tile_equals_clipping_the_band():
    from zlgis.analysis.frontage import _Clipper, _poly

    rng = np.random.default_rng(7)
    # rings and blobs: holes, polygons wider than a tile (a tile inside one), shared edges
    # with the tile grid, pieces touching a tile only at its border
    blobs = shapely.buffer(shapely.points(rng.uniform(0, 1000, (120, 2)).round()),
                           rng.uniform(5, 90, 120))
    band = shapely.union_all(np.r_[blobs, [box(0, 0, 300, 40), box(600, 600, 900, 900)]])
    band = shapely.difference(band, shapely.union_all(shapely.buffer(shapely.points(
        rng.uniform(0, 1000, (60, 2))), 8)))
    assert shapely.get_type_id(band) == 6 and shapely.get_num_interior_rings(
        shapely.get_parts(band)).sum() > 10
    clip = _Clipper(band)
    seen = 0
    for tile in (300.0, 100.0, 37.5):
        for tx, ty in itertools.product(np.arange(-50, 1050, tile), repeat=2):
            want = _poly(shapely.clip_by_rect(band, tx, ty, tx + tile, ty + tile))
            got = clip(tx, ty, tx + tile, ty + tile)
            if shapely.is_empty(want):
                assert shapely.is_empty(got)
                continue
            seen += 1
            assert shapely.to_wkb(got) == shapely.to_wkb(want), (tile, tx, ty)
    assert seen > 300
    # a band of one polygon is clipped as it is
    one = box(0, 0, 500, 50)
    assert shapely.to_wkb(_Clipper(one)(100, -10, 200, 10)) == shapely.to_wkb(
        shapely.clip_by_rect(one, 100, -10, 200, 10))


def test_band_with_a_prebuilt_tree_is_the_band():
    roads, b = _crossing()
    tree = shapely.STRtree(np.asarray(b.geometry.values))
    assert shapely.to_wkb(frontage_band(roads, b, tree=tree)) == shapely.to_wkb(
        frontage_band(roads, b))
