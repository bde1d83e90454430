"""Derived catalog layers: layers computed from other layers instead of read from a file.

A catalog declares one with ``source: {derive: <name>, from: <layer>}``; every command and the
weekly run call :func:`derive_layers` after loading, so a derived layer is used exactly like a
loaded one. Derivations (:data:`zlgis.catalog.DERIVATIONS`):

* ``red_lines_from_roads``: road red lines from the road centrelines
  (:func:`zlgis.analysis.setbacks.red_lines_from_roads`, widths from the road's ``width`` or
  ``controllines.yaml``).

Examples
--------
>>> import geopandas as gpd
>>> from shapely.geometry import LineString
>>> from zlgis.catalog import Catalog
>>> cat = Catalog.load()
>>> cat.layers["red_lines"].derived is None
True
>>> roads = gpd.GeoDataFrame({"road_id": ["R1"], "road_class": ["支路"], "width": [12.0]},
...                          geometry=[LineString([(0, 0), (100, 0)])], crs="EPSG:4550")
>>> red = derive_layer("red_lines_from_roads", roads)
>>> red["line_id"].tolist(), round(float(red.area.iloc[0]))
(['RL-R1'], 1312)
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

import geopandas as gpd

from ..catalog import Catalog

__all__ = ["derive_layer", "derive_layers", "derived_ids", "source_ids"]


def derive_layer(name: str, source: gpd.GeoDataFrame, *,
                 classes: Iterable[str] | None = None,
                 widths: Mapping[str, float] | None = None) -> gpd.GeoDataFrame:
    """Compute the derived layer ``name`` from its source layer.

    ``classes``: only features of these classes (``road_class``, or OSM ``highway``) take part;
    ``widths``: red-line width by class, over ``controllines.yaml``'s defaults.
    """
    if name == "red_lines_from_roads":
        from .setbacks import red_lines_from_roads

        if classes is not None:
            col = "highway" if "highway" in source.columns else "road_class"
            if col in source.columns:
                source = source[source[col].astype(str).isin(set(classes))]
        return red_lines_from_roads(source, widths=widths)
    raise ValueError(f"unknown derivation {name!r}")


def derived_ids(catalog: Catalog, ids: Iterable[str] | None = None) -> list[str]:
    """Layer ids (of ``ids``, default all) the catalog derives rather than reads."""
    return [lid for lid in (ids if ids is not None else catalog.layers)
            if lid in catalog.layers and catalog.layers[lid].derived]


def source_ids(catalog: Catalog, ids: Iterable[str]) -> list[str]:
    """``ids`` with each derived layer replaced by the layer it is derived from (no repeats)."""
    out: list[str] = []
    for lid in ids:
        spec = catalog.layers.get(lid)
        src = spec.derived["from"] if spec is not None and spec.derived else lid
        if src not in out:
            out.append(src)
    return out


def derive_layers(catalog: Catalog, layers: Mapping[str, gpd.GeoDataFrame],
                  ids: Iterable[str] | None = None) -> dict[str, gpd.GeoDataFrame]:
    """``layers`` plus every derived layer (of ``ids``, default all) whose source is loaded."""
    out: dict[str, Any] = dict(layers)
    for lid in derived_ids(catalog, ids):
        d = catalog.layers[lid].derived or {}
        if d["from"] in out:
            out[lid] = derive_layer(d["derive"], out[d["from"]], classes=d.get("classes"),
                                    widths=d.get("widths"))
    return out
