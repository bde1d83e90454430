"""The land-sample lattice laid out at once equals the per-polygon meshgrid it replaced."""

from __future__ import annotations

import math

import numpy as np
import shapely

from zlgis.analysis.coverage_inputs import land_samples, lattice_points


def _per_polygon(geoms: np.ndarray, spacing: float):
    """The former land_samples loop: a meshgrid and a contains_xy per polygon."""
    b = shapely.bounds(geoms)
    xs, ys, owner = [], [], []
    for k in range(len(geoms)):
        x0 = math.floor(b[k, 0] / spacing) * spacing + spacing / 2
        y0 = math.floor(b[k, 1] / spacing) * spacing + spacing / 2
        gx = np.arange(x0, b[k, 2], spacing)
        gy = np.arange(y0, b[k, 3], spacing)
        if len(gx) == 0 or len(gy) == 0:
            ix, iy = np.zeros(0), np.zeros(0)
        else:
            X, Y = np.meshgrid(gx, gy)
            X, Y = X.ravel(), Y.ravel()
            m = shapely.contains_xy(geoms[k], X, Y)
            ix, iy = X[m], Y[m]
        if len(ix) == 0:
            p = shapely.point_on_surface(geoms[k])
            ix, iy = np.array([p.x]), np.array([p.y])
        xs.append(ix)
        ys.append(iy)
        owner.append(np.full(len(ix), k))
    return np.concatenate(xs), np.concatenate(ys), np.concatenate(owner)


def _polygons(seed: int, n: int) -> np.ndarray:
    """Irregular polygons (some with holes, some thinner or smaller than the lattice) far from
    the origin, as in a projected CRS."""
    rng = np.random.default_rng(seed)
    out = []
    for k in range(n):
        cx, cy = 500_000 + rng.uniform(0, 20_000), 5_300_000 + rng.uniform(0, 20_000)
        kind = k % 4
        if kind == 0:  # tiny: no lattice point inside
            out.append(shapely.box(cx, cy, cx + rng.uniform(0.5, 8), cy + rng.uniform(0.5, 8)))
        elif kind == 1:  # thin sliver
            out.append(shapely.box(cx, cy, cx + rng.uniform(50, 400), cy + rng.uniform(1, 12)))
        else:
            m = int(rng.integers(5, 14))
            ang = np.sort(rng.uniform(0, 2 * np.pi, m))
            r = rng.uniform(20, 300, m)
            poly = shapely.make_valid(shapely.Polygon(np.c_[cx + r * np.cos(ang),
                                                            cy + r * np.sin(ang)]))
            if kind == 3:
                poly = poly.difference(shapely.Point(cx, cy).buffer(15))
            out.append(poly)
    return np.asarray(out, dtype=object)


def test_lattice_equals_per_polygon_meshgrid():
    for seed, spacing in ((1, 20.0), (2, 10.0), (3, 7.3)):
        geoms = _polygons(seed, 400)
        x, y, own = lattice_points(geoms, spacing)
        rx, ry, rown = _per_polygon(geoms, spacing)
        assert len(x) == len(rx) > 400
        assert np.array_equal(own, rown)
        # bit for bit: same coordinates, same order
        assert np.array_equal(x.view(np.int64), rx.view(np.int64))
        assert np.array_equal(y.view(np.int64), ry.view(np.int64))
        assert (np.bincount(own, minlength=len(geoms)) >= 1).all()


def test_land_samples_weights_add_up():
    import geopandas as gpd

    geoms = _polygons(4, 60)
    comp = gpd.GeoDataFrame({"compound_id": [f"c{k}" for k in range(60)]}, geometry=geoms,
                            crs="EPSG:4550")
    s = land_samples({"residential_compounds": comp}, spacing=20)
    got = s.groupby("compound_id")["area_m2"].sum()
    want = comp.set_index("compound_id").area
    assert np.allclose(got.loc[want.index].to_numpy(), want.to_numpy(), rtol=1e-12)


def test_points_within_polygons_same_pairs_as_the_tree_predicate():
    """assign_area's point-in-grid lookup (box candidates kept by the prepared polygons'
    contains_xy) gives the pairs STRtree.query(predicate="within") gives, in its order: points
    inside, outside, on edges and vertices, in holes, in overlapping and touching cells."""
    from zlgis.analysis.coverage_inputs import _within

    rng = np.random.default_rng(5)
    cells = [shapely.box(x, y, x + 100, y + 100) for x in range(0, 500, 100)
             for y in range(0, 300, 100)]
    ring = shapely.Polygon([(120, 20), (380, 40), (350, 260), (150, 230)],
                           holes=[[(200, 100), (300, 100), (300, 180), (200, 180)]])
    polys = np.array(cells + [ring, shapely.box(50, 50, 250, 150)], dtype=object)
    xy = np.r_[rng.uniform(-20, 520, (4000, 2)),
               rng.integers(0, 6, (300, 2)) * 100.0,  # cell corners
               np.c_[rng.integers(0, 6, 300) * 100.0, rng.uniform(0, 300, 300)],  # edges
               [[200, 100], [250, 140], [300, 150], [120, 20], [250, 100]]]
    pts = shapely.points(xy)
    want = shapely.STRtree(polys).query(pts, predicate="within")
    got = _within(pts, polys.copy())
    assert len(want[0]) > 2500
    assert np.array_equal(got[0], want[0]) and np.array_equal(got[1], want[1])
    mixed = np.r_[pts[:50], [None, shapely.box(10, 10, 20, 20)]]  # not all points: GEOS path
    want = shapely.STRtree(polys).query(mixed, predicate="within")
    got = _within(mixed, polys.copy())
    assert np.array_equal(got[0], want[0]) and np.array_equal(got[1], want[1])


def test_fallback_cells_named_as_before():
    """assign_area's fallback cell names (each cell formatted once) are the f"C{x}_{y}" of
    every point."""
    import geopandas as gpd

    from zlgis.analysis.coverage_inputs import assign_area, coverage_config

    rng = np.random.default_rng(2)
    xy = rng.uniform(-3000, 3000, (500, 2))
    pts = gpd.GeoDataFrame({"compound_id": ["k"] * 500}, geometry=shapely.points(xy),
                           crs="EPSG:4550")
    got = assign_area(pts, {})["grid_id"].tolist()
    cell = float(coverage_config()["demand"]["fallback_cell_m"])
    gx = np.floor(xy[:, 0] / cell).astype(np.int64)
    gy = np.floor(xy[:, 1] / cell).astype(np.int64)
    assert got == [f"C{a}_{b}" for a, b in zip(gx, gy)]
    assert len(set(got)) > 1


def test_land_samples_without_geometry_same_samples_and_distances():
    """The weekly path's land samples as coordinates (no point geometries) carry the same
    values, grid cells and districts, and get the same distances by both methods."""
    import geopandas as gpd
    import pandas as pd

    from zlgis.analysis.coverage_areas import facility_distances
    from zlgis.analysis.street_graph import StreetGraph

    geoms = _polygons(6, 80)
    comp = gpd.GeoDataFrame({"compound_id": [f"c{k}" for k in range(80)],
                             "district": ["东区", None] * 40}, geometry=geoms, crs="EPSG:4550")
    b = shapely.bounds(geoms)
    x0, y0, x1, y1 = b[:, 0].min(), b[:, 1].min(), b[:, 2].max(), b[:, 3].max()
    grids = gpd.GeoDataFrame({"grid_id": ["G1", "G2"], "district": ["北区", "南区"]},
                             geometry=[shapely.box(x0, y0, (x0 + x1) / 2, y1),
                                       shapely.box((x0 + x1) / 2, (y0 + y1) / 2, x1, y1)],
                             crs="EPSG:4550")
    layers = {"residential_compounds": comp, "grids": grids}
    geo = land_samples(layers, spacing=15)
    plain = land_samples(layers, spacing=15, geometry=False)
    assert not isinstance(plain, gpd.GeoDataFrame) and len(plain) == len(geo) > 500
    assert np.array_equal(plain[["x", "y"]].to_numpy(), shapely.get_coordinates(geo.geometry))
    pd.testing.assert_frame_equal(plain.drop(columns=["x", "y"]),
                                  pd.DataFrame(geo.drop(columns="geometry")))
    assert {"G1", "G2"} <= set(plain["grid_id"]) and plain["grid_id"].str.startswith("C").any()
    roads = gpd.GeoDataFrame(geometry=[shapely.LineString([(x0, y), (x1, y)])
                                       for y in np.linspace(y0, y1, 7)] +
                             [shapely.LineString([(x, y0), (x, y1)])
                              for x in np.linspace(x0, x1, 7)], crs="EPSG:4550")
    g = StreetGraph.from_roads(roads)
    fac = gpd.GeoDataFrame(geometry=shapely.centroid(roads.geometry.values[[1, 9]]),
                           crs="EPSG:4550")
    radius = np.array([4000.0, 2500.0])
    for method in ("radius", "network"):
        a = facility_distances(plain, fac, radius=radius, method=method, graph=g)
        want = facility_distances(geo, fac, radius=radius, method=method, graph=g)
        pd.testing.assert_frame_equal(a, want)
        assert 0 < a["covered"].sum() < len(a)
