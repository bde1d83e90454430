"""Tests of zlgis.analysis.terrain: DEM reading, exact Priority-Flood, depression polygons."""

from __future__ import annotations

import numpy as np
import pytest
import rasterio
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays
from rasterio.crs import CRS
from rasterio.transform import from_origin
from skimage.morphology import reconstruction

from zlgis.analysis.terrain import (
    DEM,
    analyse_depressions,
    fill_depressions,
    fill_depressions_tiled,
    label_depressions,
    ponding_depth,
    read_dem,
)
from zlgis.errors import CRSError, InputError, UnreadableInputError


def reference_fill(z: np.ndarray, nodata: np.ndarray | None = None) -> np.ndarray:
    """Morphological reconstruction by erosion, border and nodata cells as seeds."""
    nodata = np.zeros(z.shape, bool) if nodata is None else nodata
    low = np.nanmin(np.where(nodata, np.nan, z)) - 1000.0 if (~nodata).any() else -1000.0
    mask = np.where(nodata, low, z)
    seed = np.full_like(mask, mask.max())
    seed[0], seed[-1], seed[:, 0], seed[:, -1] = mask[0], mask[-1], mask[:, 0], mask[:, -1]
    seed[nodata] = low
    out = reconstruction(seed, mask, method="erosion")
    out[nodata] = np.nan
    return out


# ---------------------------------------------------------------- exact fills, known answers

def test_nested_depressions_exact_values():
    # an outer basin spilling at 6 (saddle at row 0) holding two inner pits split by a ridge at 5
    z = np.array([
        [9, 9, 9, 6, 9, 9, 9],
        [9, 4, 4, 5, 3, 3, 9],
        [9, 4, 1, 5, 2, 3, 9],
        [9, 4, 4, 5, 3, 3, 9],
        [9, 9, 9, 9, 9, 9, 9]], dtype=float)
    f = fill_depressions(z)
    expected = z.copy()
    expected[1:4, 1:6] = 6.0
    np.testing.assert_array_equal(f, expected)
    d = ponding_depth(z, f)
    assert d.max() == 5.0 and d[2, 2] == 5.0 and d[2, 3] == 1.0


def test_inner_pit_below_lower_spill_only_fills_to_its_own_rim():
    # left pit spills at 5 into the right basin, which spills at 3 over the edge
    z = np.array([
        [9, 9, 9, 9, 9, 9],
        [9, 2, 5, 1, 2, 3],
        [9, 9, 9, 9, 9, 9]], dtype=float)
    f = fill_depressions(z)
    np.testing.assert_array_equal(f[1], [9, 5, 5, 3, 3, 3])


def test_flats_are_left_alone_and_enclosed_flat_is_exact():
    z = np.full((6, 6), 2.0)
    np.testing.assert_array_equal(fill_depressions(z), z)  # a flat draining over the edge
    z = np.full((7, 7), 5.0)
    z[2:5, 2:5] = 3.0  # enclosed flat basin
    z[3, 3] = 3.0
    f = fill_depressions(z)
    np.testing.assert_array_equal(f, np.full((7, 7), 5.0))
    z[0, 3] = 4.0  # lower gap on the edge... not adjacent to the basin: no change
    np.testing.assert_array_equal(fill_depressions(z)[2:5, 2:5], np.full((3, 3), 5.0))
    z[1, 3] = 4.0  # now a channel at 4 reaches the edge
    np.testing.assert_array_equal(fill_depressions(z)[2:5, 2:5], np.full((3, 3), 4.0))


def test_depression_touching_the_edge_drains_out():
    z = np.array([
        [9, 9, 9, 9],
        [9, 1, 1, 1],
        [9, 9, 9, 9]], dtype=float)
    np.testing.assert_array_equal(fill_depressions(z), z)


def test_depression_touching_nodata_drains_out():
    z = np.full((7, 7), 9.0)
    z[2:5, 2:5] = 1.0
    ref = fill_depressions(z)
    assert ref[3, 3] == 9.0
    z2 = z.copy()
    z2[1, 3] = np.nan  # an interior nodata cell on the rim: an outlet
    f = fill_depressions(z2)
    assert np.isnan(f[1, 3])
    np.testing.assert_array_equal(f[2:5, 2:5], np.ones((3, 3)))
    mask = np.zeros(z.shape, bool)
    mask[5, 3] = True  # same through the explicit mask
    f = fill_depressions(z, nodata=mask)
    np.testing.assert_array_equal(f[2:5, 2:5], np.ones((3, 3)))
    assert np.isnan(f[5, 3])


def test_diagonal_connection_counts():
    # 8-connectivity: a pit whose only low exit is a diagonal neighbour on the edge drains
    z = np.array([
        [1, 9, 9],
        [9, 0, 9],
        [9, 9, 9]], dtype=float)
    assert fill_depressions(z)[1, 1] == 1.0


def test_integer_input_and_empty():
    z = np.array([[5, 5, 5], [5, 1, 5], [5, 5, 5]], dtype=np.int16)
    f = fill_depressions(z)
    assert f.dtype == np.float64 and f[1, 1] == 5.0
    assert fill_depressions(np.zeros((0, 3))).shape == (0, 3)
    with pytest.raises(ValueError):
        fill_depressions(np.zeros(4))


@settings(max_examples=150, deadline=None)
@given(arrays(np.float64, st.tuples(st.integers(1, 14), st.integers(1, 14)),
              elements=st.floats(0, 20, allow_nan=False, width=32)),
       st.integers(0, 2 ** 32 - 1))
def test_identical_to_morphological_reconstruction(z, seed):
    rng = np.random.default_rng(seed)
    nodata = rng.random(z.shape) < 0.1 if seed % 2 else np.zeros(z.shape, bool)
    f = fill_depressions(np.where(nodata, np.nan, z))
    np.testing.assert_array_equal(f, reference_fill(z, nodata))
    assert np.all(f[~nodata] >= z[~nodata])


def test_identical_on_terrain_with_many_depressions():
    rng = np.random.default_rng(7)
    z = np.cumsum(rng.normal(size=(300, 300)), axis=0) + rng.normal(0, 2, (300, 300))
    np.testing.assert_array_equal(fill_depressions(z), reference_fill(z))


def test_memory_budget_switches_to_the_tiled_fill_with_the_same_surface():
    rng = np.random.default_rng(3)
    z = np.cumsum(rng.normal(size=(300, 200)), axis=1) + rng.random((300, 200)) * 10
    z[rng.random(z.shape) < 0.02] = np.nan
    small = fill_depressions(z, memory_budget_mb=0.05)   # 64 x 64 tiles, memory-mapped result
    assert isinstance(small, np.memmap)
    np.testing.assert_array_equal(small, fill_depressions(z))


@settings(max_examples=120, deadline=None)
@given(arrays(np.float64, st.tuples(st.integers(1, 30), st.integers(1, 30)),
              elements=st.floats(0, 8, allow_nan=False, width=32)),
       st.integers(2, 9), st.integers(0, 2 ** 32 - 1))
def test_tiled_fill_is_identical_for_any_tile_size(z, tile, seed):
    rng = np.random.default_rng(seed)
    if seed % 2:
        z = np.round(z)                       # many flats and ties across tile edges
    if seed % 3 == 0:
        z[rng.random(z.shape) < 0.1] = np.nan
    np.testing.assert_array_equal(fill_depressions_tiled(z, tile=tile), fill_depressions(z))


def test_tiled_fill_of_a_basin_spanning_many_tiles():
    # one bowl over 9 x 9 tiles: its spill level is found through the tile graph
    yy, xx = np.mgrid[0:90, 0:90]
    z = 100 - 50 * np.exp(-((yy - 45) ** 2 + (xx - 45) ** 2) / 900.0)
    z[0, 45] = 60.0                                 # the only low gap in the rim
    z[1:45, 45] = np.minimum(z[1:45, 45], 60.0)     # a channel from the gap to the centre
    f = fill_depressions_tiled(z, tile=10)
    np.testing.assert_array_equal(f, fill_depressions(z))
    assert f[45, 45] == 60.0


# ---------------------------------------------------------------- depressions

def _dem(z: np.ndarray, cell: float = 10.0) -> DEM:
    return DEM(z, from_origin(1000.0, 2000.0, cell, cell), CRS.from_epsg(4550))


def test_depression_measures_pour_point_and_contributing_area():
    z = np.full((9, 9), 20.0)                       # a high frame ...
    rr, cc = np.mgrid[0:9, 0:9]
    ring = np.maximum(abs(rr - 4), abs(cc - 4))
    z[1:8, 1:8] = (12.0 + 0.1 * ring)[1:8, 1:8]     # ... a cone sloping down to ...
    z[3:6, 3:6] = 10.0                              # ... a 3 x 3 basin at 10 m ...
    z[4, 4] = 9.0                                   # ... with a deeper middle,
    z[1:3, 4] = 11.0                                # a channel at 11 m from the basin
    z[0, 4] = 10.5                                  # to an edge cell lower still
    a = analyse_depressions(_dem(z), min_depth_m=0.1, min_area_m2=1)
    d = a.depressions
    assert len(d) == 1
    row = d.iloc[0]
    assert row["spill_elev_m"] == 11.0 and row["max_depth_m"] == 2.0
    assert row["area_m2"] == 9 * 100 and row["volume_m3"] == (8 * 1 + 2) * 100
    assert row["bottom_elev_m"] == 9.0
    # deepest point = centre of cell (4, 4); pour point = the channel cell (2, 4) at 11 m
    assert (row["deepest_x"], row["deepest_y"]) == (1045.0, 1955.0)
    assert (row["pour_x"], row["pour_y"]) == (1045.0, 1975.0)
    # all 81 cells drain to the basin except the channel's top cell (1, 4), the cone cells
    # (1, 3) and (1, 5) beside it and the frame cells (0, 3), (0, 4), (0, 5) next to the outlet
    assert row["contributing_area_m2"] == (81 - 6) * 100
    assert (a.catchment == 0).sum() == 6 and a.catchment[1, 4] == 0
    assert row["geometry"].area == row["area_m2"]
    assert row["depression_id"] == "WD-1045-1955"


def test_contributing_area_crosses_flats():
    z = np.full((7, 9), 5.0)            # a flat plateau ...
    z[3, 1:4] = 3.0                     # ... around a pit row on its left
    z[3, 2] = 2.0
    z[:, 8] = 9.0                       # a wall on the right edge
    a = analyse_depressions(_dem(z), min_depth_m=0.1, min_area_m2=1)
    # cells next to the plateau's edge drain out; the inner flat drains towards the pit
    # or the edge, whichever is nearer in cell steps; none is left unassigned to a dead end
    c = a.catchment
    assert c[3, 4] == 1 and c[3, 5] == 1
    assert c[0, 0] == 0 and c[6, 4] == 0
    assert 12 < (c == 1).sum() < 40


def test_depressions_ranked_by_volume_and_filtered():
    z = np.full((12, 20), 10.0)
    z[2:5, 2:5] = 9.9           # shallow: 10 cm
    z[2:6, 10:16] = 8.0         # big
    z[8:10, 2:4] = 9.0          # small
    a = analyse_depressions(_dem(z), min_depth_m=0.5, min_area_m2=1)
    assert a.depressions["max_depth_m"].tolist() == [2.0, 1.0]
    assert a.depressions["rank"].tolist() == [1, 2]
    assert set(np.unique(a.labels)) == {0, 1, 2}
    a2 = analyse_depressions(_dem(z), min_depth_m=0.05, min_area_m2=500)
    assert a2.depressions["area_m2"].min() >= 500
    lab, n = label_depressions(a.depth)
    assert n == 3


def test_depression_id_is_stable():
    rng = np.random.default_rng(11)
    z = rng.random((40, 40)) * 5
    a = analyse_depressions(_dem(z), min_depth_m=0.01, min_area_m2=1)
    b = analyse_depressions(_dem(z.copy()), min_depth_m=0.01, min_area_m2=1)
    assert a.depressions["depression_id"].tolist() == b.depressions["depression_id"].tolist()
    assert a.depressions["depression_id"].is_unique


# ---------------------------------------------------------------- reading

def _write(path, z, *, crs="EPSG:4550", transform=None, nodata=None, dtype="float32"):
    transform = transform or from_origin(500000.0, 5300000.0, 5.0, 5.0)
    with rasterio.open(path, "w", driver="GTiff", width=z.shape[1], height=z.shape[0], count=1,
                       dtype=dtype, crs=crs, transform=transform, nodata=nodata) as dst:
        dst.write(z.astype(dtype), 1)
    return path


def test_read_geotiff_small_void_filled_and_reported(tmp_path):
    yy, xx = np.mgrid[0:50, 0:60]
    z = (100 + 0.5 * xx + 0.2 * yy).astype("float32")
    z[20:22, 30:33] = -9999          # interior void: 6 cells
    z[0:3, 0:4] = -9999              # edge nodata: outside, kept
    dem = read_dem(_write(tmp_path / "d.tif", z, nodata=-9999))
    assert len(dem.voids) == 1 and dem.voids["cells"].iloc[0] == 6
    assert bool(dem.voids["filled"].iloc[0])
    filled = dem.elevation[20:22, 30:33]
    truth = (100 + 0.5 * xx + 0.2 * yy)[20:22, 30:33]
    assert np.all(np.isfinite(filled)) and np.abs(filled - truth).max() < 0.6
    assert np.isnan(dem.elevation[0:3, 0:4]).all()
    assert dem.crs == CRS.from_epsg(4550) and dem.cell_area == 25.0


def test_read_refuses_large_void_with_chinese_message(tmp_path):
    z = np.full((60, 60), 100, dtype="float32")
    z[10:40, 10:40] = -9999
    with pytest.raises(InputError) as err:
        read_dem(_write(tmp_path / "hole.tif", z, nodata=-9999), max_void_cells=100)
    msg = str(err.value)
    assert "空洞" in msg and "900" in msg and "hole.tif" in msg and "第 10 行" in msg


def test_read_missing_corrupt_and_crsless(tmp_path):
    with pytest.raises(UnreadableInputError, match="不存在"):
        read_dem(tmp_path / "none.tif")
    bad = tmp_path / "bad.tif"
    bad.write_bytes(b"not a tiff")
    with pytest.raises(UnreadableInputError, match="无法读取"):
        read_dem(bad)
    p = tmp_path / "nocrs.tif"
    with rasterio.open(p, "w", driver="GTiff", width=4, height=4, count=1, dtype="float32",
                       transform=from_origin(0, 4, 1, 1)) as dst:
        dst.write(np.zeros((4, 4), "float32"), 1)
    with pytest.raises(CRSError, match="坐标系"):
        read_dem(p)
    assert read_dem(p, crs="EPSG:4550").crs == CRS.from_epsg(4550)
    with pytest.raises(CRSError, match="投影坐标系"):
        read_dem(p, crs="EPSG:4326", target_crs=None)


def test_read_reprojects_geographic_to_working_crs(tmp_path):
    # a 0.01 degree square near Zhalantun (122.74 E, 48.0 N), 1 arc-second cells
    n = 36
    z = np.add.outer(np.arange(n), np.arange(n)).astype("float32") + 300
    t = from_origin(122.74, 48.01, 1 / 3600, 1 / 3600)
    dem = read_dem(_write(tmp_path / "geo.tif", z, crs="EPSG:4326", transform=t))
    assert dem.crs == CRS.from_epsg(4550) and dem.source_crs == CRS.from_epsg(4326)
    from pyproj import Transformer

    ex, ey = Transformer.from_crs(4326, 4550, always_xy=True).transform(122.745, 48.005)
    r, c = dem.rowcol(ex, ey)
    assert 0 <= r < dem.shape[0] and 0 <= c < dem.shape[1]
    # the grid centre carries the source's value at the square's centre (18 + 18 cells)
    assert abs(dem.elevation[r, c] - (300 + 36)) <= 2
    assert 20 < dem.cell_size[0] < 32   # 1" is about 21 m east-west, 31 m north-south there
    vals = dem.elevation[np.isfinite(dem.elevation)]
    assert 299 <= vals.min() and vals.max() <= 300 + 2 * (n - 1) + 1


def test_read_srtm_hgt_with_void(tmp_path):
    # SRTM3 tile N48E122: 1201 x 1201 big-endian int16, void = -32768
    n = 1201
    yy, xx = np.mgrid[0:n, 0:n]
    z = (250 + (xx // 10) + (yy // 20)).astype(">i2")
    z[600:603, 600:602] = -32768
    p = tmp_path / "N48E122.hgt"
    p.write_bytes(z.tobytes())
    with rasterio.open(p) as src:
        assert src.driver == "SRTMHGT"
    dem = read_dem(p)
    assert dem.crs == CRS.from_epsg(4550)
    assert len(dem.voids) == 1 and int(dem.voids["cells"].iloc[0]) > 0
    assert np.nanmin(dem.elevation) >= 249


def test_read_in_blocks_under_a_tiny_memory_budget(tmp_path):
    rng = np.random.default_rng(5)
    z = (rng.random((300, 200)) * 50).astype("float32")
    p = _write(tmp_path / "b.tif", z)
    a = read_dem(p, memory_budget_mb=0.05)
    assert isinstance(a.elevation, np.memmap)
    b = read_dem(p)
    np.testing.assert_array_equal(np.asarray(a.elevation), b.elevation)


# ---------------------------------------------------------------- real data

def test_real_srtm_swellendam(realdata):
    path = realdata / "swellendam" / "srtm_41_19.tif"
    dem = read_dem(path, target_crs=None)
    assert dem.crs == CRS.from_epsg(32733) and dem.shape == (661, 837)
    assert len(dem.voids) == 0 and not np.isnan(dem.elevation).any()
    a = analyse_depressions(dem)
    z = dem.elevation
    assert np.all(a.filled >= z)
    # the edge is the outlet: no water on an edge cell, no depression touching the edge
    edge = np.concatenate([a.depth[0], a.depth[-1], a.depth[:, 0], a.depth[:, -1]])
    assert edge.max() == 0.0
    lab = a.labels
    assert not (lab[0].any() or lab[-1].any() or lab[:, 0].any() or lab[:, -1].any())
    np.testing.assert_array_equal(a.filled, reference_fill(z))
    d = a.depressions
    # figures of this tile (computed once, asserted here)
    assert len(d) == 2227
    assert (a.depth > 0).sum() == 8120
    assert d["max_depth_m"].max() == 174.0 and d.iloc[0]["max_depth_m"] == 139.0
    assert round(d["volume_m3"].sum() / 1e6, 2) == 230.99
    top = d.iloc[0]
    assert top["depression_id"] == "WD-998394-6229348" and top["spill_elev_m"] == 714.0
    assert top["n_cells"] == 113
    # every pour point is on the rim at the spill level
    r, c = dem.rowcol(d["pour_x"], d["pour_y"])
    assert np.all(z[r, c] == d["spill_elev_m"].to_numpy())
    assert np.all(lab[r, c] == 0)


def test_pure_python_kernel_matches_the_compiled_one():
    # the fallback used when numba is missing runs the same code as plain Python
    from zlgis.analysis import fill as t

    rng = np.random.default_rng(9)
    z = np.round(rng.random((12, 15)) * 6)
    z[3, 4] = np.nan
    zp = np.pad(np.where(np.isnan(z), 0.0, z), 1)
    closed = np.pad(np.isnan(z).astype(np.uint8) * 2, 1, constant_values=2)
    n = zp.size
    t._priority_flood.py_func(zp.reshape(-1), closed.reshape(-1), zp.shape[1], np.empty(n),
                              np.empty(n, np.int64), np.empty(n, np.int64),
                              np.empty(n, np.int64), np.zeros(1, np.int64))
    out = zp[1:-1, 1:-1].copy()
    out[np.isnan(z)] = np.nan
    np.testing.assert_array_equal(out, fill_depressions(z))


def test_public_names_exist():
    from zlgis.analysis import terrain, waterlogging

    for mod in (terrain, waterlogging):
        assert [n for n in mod.__all__ if not hasattr(mod, n)] == []


# ---------------------------------------------------------------- float32 heights

def _ponds(seed: int = 5, *, holes: bool = True) -> np.ndarray:
    """A noisy float32 slope with many ponds, flats (heights in 1 cm steps), nodata at an edge
    and, with ``holes``, scattered nodata cells."""
    rng = np.random.default_rng(seed)
    yy, xx = np.mgrid[0:160, 0:200]
    z = 300 + 0.05 * xx + 0.02 * yy + rng.normal(0, 0.3, yy.shape)
    z = np.round(z, 2).astype(np.float32)
    z[:3, :20] = np.nan
    if holes:
        z[rng.random(z.shape) < 0.003] = np.nan
    return z


def test_float32_heights_are_filled_exactly_in_float32():
    z = _ponds()
    f32 = fill_depressions(z)
    assert f32.dtype == np.float32
    np.testing.assert_array_equal(f32, fill_depressions(z.astype(np.float64)))
    tiled = fill_depressions(z, memory_budget_mb=0.05)
    assert tiled.dtype == np.float32
    np.testing.assert_array_equal(tiled, f32)


def test_float32_dem_is_kept_and_analysed_in_float32_with_the_same_results(tmp_path):
    """A float32 file is read into float32 (half the memory of a large city's 35M-cell grids)
    and gives the same depressions, catchments, depths and rain scenario as its heights in
    float64: the fill copies heights, slopes and depths are computed in float64."""
    from geopandas.testing import assert_geodataframe_equal
    from pandas.testing import assert_frame_equal

    from zlgis.analysis.waterlogging import downstream_depressions, rain_scenario

    z = _ponds(holes=False)   # nodata at the edge only: outside, no void interpolated
    dem = read_dem(_write(tmp_path / "d.tif", np.nan_to_num(z, nan=-9999), nodata=-9999))
    assert dem.elevation.dtype == np.float32
    np.testing.assert_array_equal(dem.elevation, z)
    a32 = analyse_depressions(dem, min_depth_m=0.05, min_area_m2=300)
    a64 = analyse_depressions(DEM(dem.elevation.astype(np.float64), dem.transform, dem.crs),
                              min_depth_m=0.05, min_area_m2=300)
    assert a32.filled.dtype == np.float32 and len(a32.depressions) > 20
    assert_geodataframe_equal(a32.depressions, a64.depressions)
    for name in ("filled", "depth", "labels", "catchment"):
        np.testing.assert_array_equal(getattr(a32, name), getattr(a64, name))
    np.testing.assert_array_equal(downstream_depressions(a32), downstream_depressions(a64))
    (t32, d32), (t64, d64) = (rain_scenario(a, rain_mm=80) for a in (a32, a64))
    assert t32["spills"].any() and not t32["spills"].all()
    assert_frame_equal(t32, t64)
    np.testing.assert_array_equal(d32, d64)


def test_dem_with_float64_heights_stays_float64(tmp_path):
    z = _ponds(holes=False).astype(np.float64)
    z[80:90, 100:110] += 1e-6                # finer than float32 can hold
    dem = read_dem(_write(tmp_path / "f64.tif", z, dtype="float64"))
    assert dem.elevation.dtype == np.float64
    np.testing.assert_array_equal(dem.elevation, z)
