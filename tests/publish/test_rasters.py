"""zlgis/publish/rasters.py: Cloud-Optimized GeoTIFFs and the ponding image overlay."""

from __future__ import annotations

import numpy as np
import rasterio
from rasterio.crs import CRS
from rasterio.transform import from_origin

from zlgis.analysis.terrain import DEM
from zlgis.publish.rasters import ponding_overlay, write_cog


def test_write_cog(tmp_path):
    z = np.random.default_rng(1).random((600, 700)).astype("float32")
    p = write_cog(tmp_path / "depth.tif", z, from_origin(0, 600, 1, 1), "EPSG:4550", nodata=-1)
    with rasterio.open(p) as src:
        assert src.tags(ns="IMAGE_STRUCTURE").get("LAYOUT") == "COG"
        assert src.overviews(1) and src.crs == CRS.from_epsg(4550)
        np.testing.assert_array_equal(src.read(1), z)
    assert [f.name for f in tmp_path.iterdir()] == ["depth.tif"]


def test_ponding_overlay_places_water_where_it_is():
    z = np.zeros((40, 40))
    z[10:14, 20:24] = 0.6          # a pond 40 m x 40 m, 0.6 m deep
    dem = DEM(z, from_origin(480000, 5320000, 10, 10), CRS.from_epsg(4550))
    img, ((south, west), (north, east)) = ponding_overlay(z, dem)
    alpha = img[..., 3]
    assert img.shape[2] == 4 and alpha.max() == 210 and alpha.min() == 0
    rows, cols = np.nonzero(alpha)
    # the wet cells sit in the upper half (rows 10-13 of 40) and the right half (cols 20-23)
    assert rows.max() < img.shape[0] / 2 and cols.min() >= img.shape[1] / 2 - 1
    assert south < north and west < east and 47 < south < 49
