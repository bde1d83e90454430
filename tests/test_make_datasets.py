"""The shipped dataset is what ``scripts/make_datasets.py`` makes from the demo generator today."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import numpy as np
import pyogrio
import rasterio
from geopandas.testing import assert_geodataframe_equal

ROOT = Path(__file__).resolve().parents[1]
SHIPPED = ROOT / "zlgis" / "datasets"


def _script():
    path = ROOT / "scripts" / "make_datasets.py"
    spec = importlib.util.spec_from_file_location("make_datasets", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_shipped_district_is_reproducible(tmp_path: Path) -> None:
    _script().main(tmp_path)
    shipped = [name for name, _ in pyogrio.list_layers(SHIPPED / "district.gpkg")]
    made = [name for name, _ in pyogrio.list_layers(tmp_path / "district.gpkg")]
    assert shipped == made
    for layer in shipped:
        a = pyogrio.read_dataframe(SHIPPED / "district.gpkg", layer=layer)
        b = pyogrio.read_dataframe(tmp_path / "district.gpkg", layer=layer)
        try:
            assert_geodataframe_equal(a, b, check_less_precise=True)
        except AssertionError as exc:
            raise AssertionError(f"layer {layer} differs: rerun scripts/make_datasets.py") from exc
    with rasterio.open(SHIPPED / "district_dem.tif") as x, \
            rasterio.open(tmp_path / "district_dem.tif") as y:
        assert x.transform == y.transform and x.crs == y.crs
        np.testing.assert_array_equal(x.read(1), y.read(1))
