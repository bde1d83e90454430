"""Waterlogging on a real SRTM tile: the DEM is mosaicked and clipped to the city plus buffer,
coarse-DEM pits are not reported, survey candidates are ranked and capped, and a DEM that does
not cover the city is refused."""

from __future__ import annotations

import numpy as np
import pytest
import rasterio
import shapely

from zlgis.analysis.waterlogging import analyse_waterlogging, load_catalog_dem
from zlgis.catalog import Catalog
from zlgis.cli import main
from zlgis.config import load_config
from zlgis.io.examples import example_catalog
from zlgis.validate import city_boundary


@pytest.fixture(scope="module")
def swellendam(realdata):
    cat = Catalog.load(example_catalog("swellendam"))
    return cat, load_catalog_dem(cat), city_boundary(cat)


def test_dem_is_processed_over_boundary_plus_buffer_only(swellendam, realdata):
    cat, dem, boundary = swellendam
    buffer_m = float(load_config("waterlogging")["dem"]["clip_buffer_m"])
    area = shapely.buffer(boundary, buffer_m)
    h, w = dem.shape
    with rasterio.open(realdata / "swellendam" / "srtm_41_19.tif") as src:
        full = src.width * src.height
    # the 837 x 661 tile (69 x 54 km) is cut to the 21 x 9 km study area: about 5 % of it
    assert h * w < 0.1 * full
    x0, y0 = dem.transform * (0, 0)
    x1, y1 = dem.transform * (w, h)
    cell = max(dem.cell_size)
    minx, miny, maxx, maxy = shapely.bounds(area)
    # the window is cut in the tile's own CRS (UTM 33S) and reprojected to UTM 34S, a grid
    # turned by about 2 degrees (21 km x sin 2 deg = 0.7 km) and snapped to whole cells in both
    # grids: its box overshoots the area's box by 1.5 km at most
    tol = 1500.0
    assert x0 >= minx - tol and x1 <= maxx + tol and y1 >= miny - tol and y0 <= maxy + tol
    # cells farther than the buffer outside the boundary hold no height
    rows, cols = np.nonzero(np.isfinite(dem.elevation))
    xs, ys = rasterio.transform.xy(dem.transform, rows, cols)
    assert shapely.dwithin(shapely.points(xs, ys), area, cell).all()
    assert str(dem.crs) == "EPSG:32734"


def test_coarse_dem_thresholds_and_survey_cap(swellendam, monkeypatch):
    cat, dem, boundary = swellendam
    res = analyse_waterlogging(dem, boundary=boundary)
    rep = res.depressions
    # SRTM heights are whole metres: every reported pit is at least 2 m deep over 2 cells
    assert (rep["max_depth_m"] >= 2.0).all() and (rep["n_cells"] >= 2).all()
    # far more one-cell, 1 m "pits" are found than reported
    assert res.summary["depressions_all"] > 3 * len(rep)
    # no recorded point: every reported depression is unrecorded, ranked by volume
    cap = int(load_config("waterlogging")["survey_candidates"]["max"])
    cand = rep[rep["survey_candidate"]]
    assert len(cand) == min(cap, len(rep))
    rest = rep[~rep["survey_candidate"]]
    if len(rest):  # the cap keeps the largest volumes (ties in whole-metre SRTM volumes aside)
        assert cand["volume_m3"].min() >= rest["volume_m3"].max()
    assert sorted(cand["survey_rank"]) == list(range(1, len(cand) + 1))
    assert rep.geometry.intersects(boundary).all()


def test_dem_that_does_not_cover_the_boundary_is_refused(realdata, tmp_path, capsys):
    text = example_catalog("swellendam").read_text(encoding="utf-8")
    # the boundary moved 1 degree east, beyond the tile's east edge at about 20.9E
    text = text.replace("source: {path: study_area.geojson}",
                        f"source: {{path: {tmp_path / 'east.geojson'}}}")
    src = (example_catalog("swellendam").parent / "study_area.geojson").read_text()
    (tmp_path / "east.geojson").write_text(src.replace("[20.", "[21."), encoding="utf-8")
    text = text.replace("../../../../shared/realdata", str(realdata))
    (tmp_path / "catalog.yaml").write_text(text, encoding="utf-8")
    code = main(["waterlogging", "--catalog", str(tmp_path / "catalog.yaml"), "--out",
                 str(tmp_path / "out")])
    err = capsys.readouterr().err
    assert code == 2  # a bad catalog, not findings (exit 1)
    assert err.strip() == (
        f"错误：文件 {realdata / 'swellendam' / 'srtm_41_19.tif'}，图层 dem：数字高程模型（DEM）没有"
        "覆盖城市边界：DEM 与边界外扩 500 米的范围没有重叠（坐标系或瓦片可能不对）；请提供覆盖本市的 DEM 瓦片")


def _hgt_tiles(realdata, folder):
    """The Swellendam SRTM GeoTIFF cut into the two 1-degree SRTM tiles it spans (S34E020 and
    S35E020, 3 arc-second, 1201 x 1201, EPSG:4326), written as zipped .hgt files."""
    import zipfile

    from rasterio.shutil import copy as rio_copy
    from rasterio.transform import from_origin
    from rasterio.warp import Resampling, reproject

    out = []
    with rasterio.open(realdata / "swellendam" / "srtm_41_19.tif") as src:
        z = src.read(1)
        for name, north in (("S34E020", -33.0), ("S35E020", -34.0)):
            step = 1 / 1200
            tr = from_origin(20 - step / 2, north + step / 2, step, step)
            tile = np.full((1201, 1201), -32768, dtype=np.int16)
            reproject(z, tile, src_transform=src.transform, src_crs=src.crs, dst_transform=tr,
                      dst_crs="EPSG:4326", resampling=Resampling.bilinear, dst_nodata=-32768)
            tif = folder / f"{name}.tif"
            with rasterio.open(tif, "w", driver="GTiff", width=1201, height=1201, count=1,
                               dtype="int16", crs="EPSG:4326", transform=tr,
                               nodata=-32768) as dst:
                dst.write(tile, 1)
            rio_copy(tif, folder / f"{name}.hgt", driver="SRTMHGT")
            with zipfile.ZipFile(folder / f"{name}.hgt.zip", "w") as zf:
                zf.write(folder / f"{name}.hgt", f"{name}.hgt")
            (folder / f"{name}.hgt").unlink()
            tif.unlink()
            out.append(folder / f"{name}.hgt.zip")
    return out


def test_zipped_hgt_tiles_are_mosaicked(swellendam, realdata, tmp_path):
    """The study area crosses 34S: it needs both tiles. Read through a glob of .hgt.zip files,
    the mosaic gives the same terrain as the original GeoTIFF (both are the same SRTM data)."""
    cat, dem_tif, boundary = swellendam
    tiles = _hgt_tiles(realdata, tmp_path)
    text = example_catalog("swellendam").read_text(encoding="utf-8")
    text = text.replace("source: {path: ../../../../shared/realdata/swellendam/srtm_41_19.tif}",
                        f"source: {{path: '{tmp_path}/S3*E020.hgt.zip'}}")
    text = text.replace("../../../../shared/realdata", str(realdata))
    text = text.replace("path: study_area.geojson",
                        f"path: {example_catalog('swellendam').parent / 'study_area.geojson'}")
    (tmp_path / "catalog.yaml").write_text(text, encoding="utf-8")
    cat2 = Catalog.load(tmp_path / "catalog.yaml")
    from zlgis.io.rasters import raster_sources

    assert raster_sources(cat2) == [f"/vsizip/{t}/{t.name[:-4]}" for t in tiles]
    dem = load_catalog_dem(cat2)
    assert str(dem.crs) == "EPSG:32734"
    # heights over the boundary: the 90 m tile resampled to 3 arc-seconds and back agrees with
    # the original within a few metres on average (same SRTM heights, two bilinear steps)
    xs, ys = np.meshgrid(np.linspace(*shapely.bounds(boundary)[[0, 2]], 40),
                         np.linspace(*shapely.bounds(boundary)[[1, 3]], 20))
    def sample(d):
        r, c = rasterio.transform.rowcol(d.transform, xs.ravel(), ys.ravel())
        return d.elevation[np.asarray(r), np.asarray(c)]
    a, b = sample(dem), sample(dem_tif)
    assert np.isfinite(a).all() and np.isfinite(b).all()
    assert np.abs(a - b).mean() < 5.0
