"""Write generated layers the way a bureau's files look: Chinese field names, declared CRS.

Every vector layer goes to a GeoPackage named in the catalog with the catalog's first Chinese
alias of each field, in the CRS the catalog declares (GCJ-02 lon/lat labelled EPSG:4326 for the
layers scraped from Gaode), with a layer description saying the data is synthetic. Point tables
(``truck_pings.csv``, ``patrol_observations.xlsx``) carry ``经度``/``纬度`` columns. Every file is
written atomically.
"""

from __future__ import annotations

from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pyogrio
import shapely
from pyproj import Transformer

from ..catalog import LayerSpec
from ..crs import from_wgs84
from ..io.atomic import atomic_path
from ._common import SYNTHETIC_NOTE

__all__ = ["to_source_frame", "write_vector", "write_points_table"]

_TO_WGS = Transformer.from_crs("EPSG:4550", "EPSG:4326", always_xy=True)


def _typed(df: pd.DataFrame, spec: LayerSpec) -> pd.DataFrame:
    out = pd.DataFrame(index=df.index)
    for name, fs in spec.fields.items():
        col = df[name] if name in df.columns else pd.Series([None] * len(df), index=df.index)
        if fs.type == "str":
            col = col.astype(object).to_numpy(copy=True)
            empty = pd.isna(col) | (col == "")
            col[empty] = None
            full = ~empty
            if full.any() and pd.api.types.infer_dtype(col[full], skipna=True) != "string":
                col[full] = [str(v) for v in col[full]]  # numbers in a text field: their text
            col = pd.Series(col, index=df.index, dtype=object)
        elif fs.type == "int":
            col = pd.array(pd.to_numeric(col), dtype="Int64") if col.isna().any() else \
                col.astype(np.int64)
        elif fs.type == "float":
            col = pd.to_numeric(col).astype(float)
        elif fs.type == "bool":
            col = col.astype(bool)
        elif fs.type == "date":
            col = col.astype(object).where(col.notna() & (col != ""), None)
        elif fs.type == "datetime":
            col = pd.to_datetime(col)
        out[spec.alias(name)] = col
    return out


def to_source_frame(gdf: gpd.GeoDataFrame, spec: LayerSpec) -> gpd.GeoDataFrame:
    """Canonical EPSG:4550 layer -> source columns (Chinese aliases) and the declared CRS.

    Examples
    --------
    >>> import geopandas as gpd
    >>> from shapely.geometry import Point
    >>> from zlgis.catalog import Catalog
    >>> t = gpd.GeoDataFrame({"toilet_id": ["GC1"], "name": ["中央街公厕"]},
    ...                      geometry=[Point(480594, 5317348)], crs="EPSG:4550")
    >>> src = to_source_frame(t, Catalog.load()["toilets"])
    >>> list(src.columns[:2]), src.crs.to_epsg()   # GCJ-02 lon/lat labelled EPSG:4326
    (['公厕编号', '公厕名称'], 4326)
    """
    attrs = _typed(gdf, spec)
    geom = gdf.geometry.values
    crs = (spec.crs or "EPSG:4550")
    if crs.lower() in ("gcj02", "bd09"):
        def shift(c: np.ndarray) -> np.ndarray:
            lng, lat = _TO_WGS.transform(c[:, 0], c[:, 1])
            g_lng, g_lat = from_wgs84(lng, lat, crs.lower())
            return np.column_stack([g_lng, g_lat])
        geom = shapely.transform(np.asarray(geom), shift)
        crs = "EPSG:4326"
    elif crs.upper() != "EPSG:4550":
        geom = gpd.GeoSeries(geom, crs="EPSG:4550").to_crs(crs).values
    return gpd.GeoDataFrame(attrs, geometry=gpd.GeoSeries(geom, crs=crs).values, crs=crs)


def write_vector(gdf: gpd.GeoDataFrame, spec: LayerSpec, path: Path,
                 chunk: int = 200_000) -> Path:
    """Write one layer as a GeoPackage (atomically; large layers in chunks of ``chunk`` rows)."""
    with atomic_path(path) as tmp:
        for start in range(0, max(len(gdf), 1), chunk):
            src = to_source_frame(gdf.iloc[start:start + chunk], spec)
            first = start == 0
            pyogrio.write_dataframe(
                src, tmp, layer=spec.layer or spec.id, driver="GPKG", use_arrow=True,
                append=not first,
                layer_options={"DESCRIPTION": f"{spec.title}：{SYNTHETIC_NOTE}",
                               "IDENTIFIER": f"{spec.title}（合成示例）"} if first else None,
                metadata={"SYNTHETIC": "yes", "DESCRIPTION": SYNTHETIC_NOTE} if first else None)
            del src
    return path


def write_points_table(df: pd.DataFrame, spec: LayerSpec, path: Path) -> Path:
    """Write a point table (CSV or XLSX) with 经度/纬度 in the declared CRS.

    ``df`` has canonical columns plus ``x``, ``y`` in EPSG:4550.
    """
    attrs = _typed(df, spec)
    lng, lat = _TO_WGS.transform(df["x"].to_numpy(), df["y"].to_numpy())
    crs = (spec.crs or "EPSG:4326").lower()
    if crs in ("gcj02", "bd09"):
        lng, lat = from_wgs84(lng, lat, crs)
    xcol, ycol = spec.options.get("x", "经度"), spec.options.get("y", "纬度")
    attrs[xcol] = np.round(lng, 7)
    attrs[ycol] = np.round(lat, 7)
    with atomic_path(path) as tmp:
        if path.suffix.lower() == ".csv":
            for c in attrs.columns:
                if pd.api.types.is_datetime64_any_dtype(attrs[c]):
                    attrs[c] = attrs[c].dt.strftime("%Y-%m-%d %H:%M:%S")
            attrs.to_csv(tmp, index=False, encoding="utf-8")
        else:
            with pd.ExcelWriter(tmp, engine="openpyxl") as xw:
                attrs.to_excel(xw, index=False, sheet_name=spec.title[:31])
                pd.DataFrame({"说明": [SYNTHETIC_NOTE]}).to_excel(xw, index=False,
                                                                 sheet_name="说明")
    return path
