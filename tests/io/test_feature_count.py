"""Header counts (zlgis/io/feature_count.py) against GDAL's own counts."""

from __future__ import annotations

import pyogrio
import rasterio

from zlgis.catalog import Catalog
from zlgis.io.feature_count import quick_count, tiff_size
from zlgis.io.readers import count_features


def test_counts_equal_gdal_on_every_demo_layer(demo_city):
    catalog = Catalog.load(demo_city / "catalog.yaml")
    checked = 0
    for spec in catalog.layers.values():
        if spec.path is None or not spec.path.exists():
            continue
        if spec.kind == "raster":
            with rasterio.open(spec.path) as ds:
                assert tiff_size(spec.path) == (ds.width, ds.height)
            continue
        n = quick_count(spec.path, spec.layer)
        if spec.path.suffix == ".gpkg":
            assert n == count_features(spec.path, spec.layer)
            checked += 1
        else:
            assert n is None  # tables are counted by reading them (header rows, blank rows)
    assert checked >= 15


def test_counts_equal_gdal_on_real_files(realdata):
    sw = realdata / "swellendam"
    # a shapefile (rivers), a multi-layer GeoPackage (layer named) and an SRTM GeoTIFF
    assert quick_count(sw / "rivers.shp") == pyogrio.read_info(sw / "rivers.shp")["features"]
    for layer in ("roads", "buildings"):
        assert quick_count(sw / "training_data.gpkg", layer) == count_features(
            sw / "training_data.gpkg", layer)
    assert quick_count(sw / "training_data.gpkg") is None  # several layers: ask GDAL
    with rasterio.open(sw / "srtm_41_19.tif") as ds:
        assert tiff_size(sw / "srtm_41_19.tif") == (ds.width, ds.height)
    assert tiff_size(sw / "rivers.shp") is None
