"""Load catalog layers: read, rename aliases to canonical names, convert to the working CRS.

INTERIM minimal implementation (GeoPackage and CSV/XLSX point tables); the full readers and
per-row validation replace it behind the same signatures.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import geopandas as gpd
import pandas as pd
import pyogrio

from ..catalog import Catalog, LayerSpec
from ..crs import OBFUSCATED, to_wgs84
from ..errors import LayerError, UnreadableInputError

__all__ = ["LoadedLayer", "read_layer", "load_layers"]


@dataclass
class LoadedLayer:
    """A loaded layer and its report (rows rejected or repaired, with reasons)."""

    layer_id: str
    gdf: gpd.GeoDataFrame
    rows_in: int
    rejected: pd.DataFrame = field(default_factory=pd.DataFrame)
    issues: pd.DataFrame = field(default_factory=pd.DataFrame)


def read_layer(catalog: Catalog, layer_id: str, **kwargs: Any) -> LoadedLayer:
    """Read one catalog layer into the working CRS with canonical field names."""
    spec = catalog[layer_id]
    gdf = _read_source(spec)
    gdf = gdf.rename(columns={c: spec.field_for_alias(c) or c for c in gdf.columns
                              if c != gdf.geometry.name})
    gdf = _to_working(gdf, spec, catalog.working_crs)
    return LoadedLayer(layer_id, gdf, rows_in=len(gdf))


def load_layers(catalog: Catalog, ids: list[str] | None = None, **kwargs: Any
                ) -> dict[str, gpd.GeoDataFrame]:
    """Load several layers; raise :class:`LayerError` naming the first that fails."""
    out = {}
    for lid in ids or list(catalog.layers):
        try:
            out[lid] = read_layer(catalog, lid, **kwargs).gdf
        except UnreadableInputError as exc:
            raise LayerError(str(exc), layer=lid) from None
    return out


def _read_source(spec: LayerSpec) -> gpd.GeoDataFrame:
    path = spec.path
    if path is None or not path.exists():
        raise UnreadableInputError("文件不存在", path=str(path), layer=spec.id)
    suffix = path.suffix.lower()
    if suffix in (".csv", ".xlsx", ".xls"):
        df = pd.read_csv(path) if suffix == ".csv" else pd.read_excel(path)
        x, y = spec.options.get("x", "经度"), spec.options.get("y", "纬度")
        geom = gpd.points_from_xy(df[x], df[y])
        return gpd.GeoDataFrame(df.drop(columns=[x, y]), geometry=geom, crs="EPSG:4326")
    return pyogrio.read_dataframe(path, layer=spec.layer)


def _to_working(gdf: gpd.GeoDataFrame, spec: LayerSpec, working: str) -> gpd.GeoDataFrame:
    declared = (spec.crs or "").lower()
    if declared in OBFUSCATED:
        g = gdf.geometry.to_crs("EPSG:4326") if gdf.crs is not None else gdf.geometry
        from shapely import transform
        import numpy as np

        def shift(coords: "np.ndarray") -> "np.ndarray":
            lng, lat = to_wgs84(coords[:, 0], coords[:, 1], declared)
            return np.column_stack([lng, lat])

        gdf = gdf.set_geometry(gpd.GeoSeries(transform(g.values, shift), crs="EPSG:4326"))
    elif gdf.crs is None and spec.crs:
        gdf = gdf.set_crs(spec.crs)
    return gdf.to_crs(working)
