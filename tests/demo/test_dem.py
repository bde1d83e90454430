"""The DEM of the demo city (zlgis/demo/dem.py): valley, river, hills, planted depressions."""

from __future__ import annotations

import numpy as np
import pytest
import rasterio
from skimage.morphology import reconstruction

from zlgis.demo._common import make_frame
from zlgis.demo.dem import terrain


@pytest.fixture(scope="module")
def dem(demo_catalog):
    with rasterio.open(demo_catalog["dem"].path) as src:
        return src.read(1).astype(float), src.transform, src.crs, src.tags()


def test_dem_metadata(dem, demo_catalog):
    z, transform, crs, tags = dem
    assert crs.to_epsg() == 4550
    assert transform.a == 10.0 and transform.e == -10.0
    assert tags.get("SYNTHETIC") == "yes"
    roads = __import__("zlgis.validate", fromlist=["load_layers"]).load_layers(demo_catalog, ["roads"])
    x0, y0, x1, y1 = roads["roads"].total_bounds
    assert transform.c < x0 and transform.f > y1
    assert transform.c + z.shape[1] * 10 > x1 and transform.f - z.shape[0] * 10 < y0


def test_valley_river_and_hills(dem, demo_layers):
    z, transform, _, _ = dem
    river = demo_layers["blue_lines"].iloc[0].geometry
    row = z.shape[0] // 2
    y = transform.f - (row + 0.5) * 10
    xs = transform.c + (np.arange(z.shape[1]) + 0.5) * 10
    inside = np.array([river.contains(__import__("shapely").Point(x, y)) for x in xs[::5]])
    prof = z[row, ::5]
    assert prof[inside].max() < np.median(prof[~inside])       # the river is the valley floor
    assert prof.max() - prof[inside].min() > 40                 # hills rise on the sides
    assert prof[0] > prof[inside].min() + 10 and prof[-1] > prof[inside].min() + 10
    # the river falls to the south
    col = np.array([z[r, int((x - transform.c) // 10)] for r, x in
                    [(r, river.centroid.x) for r in (100, z.shape[0] - 100)]])
    assert col[0] > col[1]


def test_the_only_pits_are_the_planted_ones(dem, demo_truth):
    z, transform, _, _ = dem
    seed = z.copy()
    seed[1:-1, 1:-1] = z.max()
    fill = reconstruction(seed, z, method="erosion") - z
    ponds = fill > 0.05
    t = demo_truth[demo_truth["rule"] == "depression"]
    assert len(t) >= 4
    from scipy import ndimage

    lab, n = ndimage.label(ponds)
    assert n == len(t)
    for r in t.itertuples():
        c = int((float(r.x) - transform.c) // 10)
        rr = int((transform.f - float(r.y)) // 10)
        assert lab[rr, c] > 0, r.case_id
        assert fill[rr, c] == pytest.approx(float(r.value), abs=0.02), r.case_id


def test_recorded_points_over_depressions(demo_truth, demo_layers):
    wl = demo_layers["waterlogging_points"].set_index("point_id")
    dep = demo_truth[demo_truth["rule"] == "depression"]
    recorded = dep[dep["related_id"] != ""]
    assert 1 <= len(recorded) < len(dep)  # some depressions are recorded, some are not
    for r in recorded.itertuples():
        p = wl.loc[r.related_id].geometry
        assert p.distance(__import__("shapely").Point(float(r.x), float(r.y))) < 40
    un = demo_truth[demo_truth["rule"] == "recorded_point_unexplained"].iloc[0]
    p = wl.loc[un.feature_id].geometry
    for r in dep.itertuples():
        assert p.distance(__import__("shapely").Point(float(r.x), float(r.y))) > 300


def test_terrain_has_no_pit_of_its_own():
    f = make_frame(1, 25_000)
    x = np.linspace(f.cx - 3000, f.cx + 3000, 301)
    y = np.linspace(f.cy - 3000, f.cy + 3000, 301)
    z = terrain(f, x[None, :], y[:, None])
    seed = z.copy()
    seed[1:-1, 1:-1] = z.max()
    fill = reconstruction(seed, z, method="erosion") - z
    assert fill.max() < 1e-9
