"""Fixtures of the demo-city tests: the demo city's layers, loaded once."""

from __future__ import annotations

import pytest


@pytest.fixture(scope="session")
def demo_layers(demo_catalog):
    """Every vector layer of the demo city, loaded (canonical names, EPSG:4550)."""
    from zlgis.validate import load_layers

    return load_layers(demo_catalog, [lid for lid, s in demo_catalog.layers.items()
                                      if s.kind != "raster"])
