"""Catalog filters and value maps, applied to a source before validation.

A catalog layer may take its features out of a shared source (``source.filter``: OSM
``multipolygons`` where ``building`` is set, the entities of one CAD layer) and map the source's
values to the catalog's (``fields.<name>.values``: OSM ``highway=primary`` to 主干路). OSM files
read through GDAL keep most tags in one ``other_tags`` column (``"lanes"=>"2","lit"=>"yes"``);
tags a filter or a field alias names are taken out of it as columns of their own.

Examples
--------
>>> import geopandas as gpd
>>> from shapely.geometry import Point
>>> g = gpd.GeoDataFrame({"highway": ["primary", None, "footway"],
...                       "other_tags": ['"lanes"=>"4"', None, '"lit"=>"yes"']},
...                      geometry=[Point(0, 0)] * 3)
>>> osm_tags(g, ["lanes", "lit"])[["lanes", "lit"]].values.tolist()
[['4', None], [None, None], [None, 'yes']]
>>> filter_mask(g, {"highway": "*"}).tolist()
[True, False, True]
>>> filter_mask(g, {"highway": ["primary"]}).tolist()
[True, False, False]
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd

from ..catalog import LayerSpec
from ..errors import CatalogError
from .readers import SourceRead

__all__ = ["osm_tags", "filter_mask", "apply_filter", "apply_values", "needed_source_columns"]

TAGS_COLUMN = "other_tags"


def osm_tags(gdf: gpd.GeoDataFrame, keys: Iterable[str]) -> gpd.GeoDataFrame:
    """Copy of ``gdf`` with the OSM tags ``keys`` taken out of ``other_tags`` as columns.

    Keys that already are columns, and frames without ``other_tags``, are left alone.
    """
    keys = [k for k in dict.fromkeys(keys) if k not in gdf.columns]
    if not keys or TAGS_COLUMN not in gdf.columns:
        return gdf
    tags = gdf[TAGS_COLUMN].astype("string")
    out = gdf.copy()
    for key in keys:
        pat = '"' + re.escape(key) + r'"=>"((?:[^"\\]|\\.)*)"'
        col = tags.str.extract(pat, expand=False)
        out[key] = col.astype(object).where(col.notna(), None)
    return out


def _blank(col: pd.Series) -> np.ndarray:
    text = col.astype("string").str.strip()
    return (col.isna() | text.isna() | (text == "")).to_numpy(dtype=bool)


def filter_mask(gdf: pd.DataFrame, spec: Mapping[str, Any]) -> pd.Series:
    """Rows meeting every condition of a catalog filter (columns must exist).

    A condition is ``"*"`` (any non-empty value), one value, or a list of values; values are
    compared as text.
    """
    keep = np.ones(len(gdf), dtype=bool)
    for key, want in spec.items():
        col = gdf[key]
        if want == "*":
            keep &= ~_blank(col)
        else:
            wanted = {str(v) for v in (want if isinstance(want, list) else [want])}
            keep &= col.astype("string").isin(wanted).fillna(False).to_numpy(dtype=bool)
    return pd.Series(keep, index=gdf.index)


def needed_source_columns(spec: LayerSpec) -> list[str]:
    """Source columns (OSM tags) a layer's filter and field names/aliases may refer to."""
    names = list(spec.filter or {})
    for f in spec.fields.values():
        names += [f.name, *f.aliases]
    return names


def apply_filter(src: SourceRead, spec: LayerSpec) -> SourceRead:
    """The rows of ``src`` the layer's ``filter`` selects (source row numbers kept)."""
    gdf = osm_tags(src.gdf, needed_source_columns(spec))
    if not spec.filter:
        if gdf is src.gdf:
            return src
        return SourceRead(gdf, src.path, src.layer, src.driver, src.rows, src.notes,
                          src.encoding, src.xy_columns)
    missing = [k for k in spec.filter if k not in gdf.columns]
    if missing:
        have = [str(c) for c in gdf.columns if c != gdf.geometry.name]
        raise CatalogError(f"图层 {spec.id} 的筛选条件 filter 用到源数据中没有的字段 "
                           f"{'、'.join(missing)}（源数据字段：{'、'.join(have[:30])}）",
                           path=str(src.path), layer=spec.id, field="source.filter")
    keep = filter_mask(gdf, spec.filter).to_numpy()
    sub = gdf.loc[keep].reset_index(drop=True)
    newpos = np.cumsum(keep) - 1
    notes = [nt if nt.get("pos") is None else dict(nt, pos=int(newpos[nt["pos"]]))
             for nt in src.notes if nt.get("pos") is None or keep[nt["pos"]]]
    return SourceRead(sub, src.path, src.layer, src.driver, src.rows[keep], notes, src.encoding,
                      src.xy_columns)


def apply_values(gdf: gpd.GeoDataFrame, spec: LayerSpec) -> gpd.GeoDataFrame:
    """Source values mapped to the catalog's for every field with ``values:``.

    Unmapped values stay as they are (validation then rejects those outside ``allowed``,
    naming row and field), unless the map has ``"*"`` for every other non-empty value.

    Examples
    --------
    >>> from zlgis.catalog import FieldSpec, LayerSpec
    >>> spec = LayerSpec(id="b", title="b", kind="building", path=None, layer=None,
    ...     geometry=None, crs=None, id_field=None,
    ...     fields={"use": FieldSpec("use", values={"apartments": "住宅", "*": "其他"})})
    >>> g = gpd.GeoDataFrame({"use": ["apartments", "church", None]}, geometry=[None] * 3)
    >>> apply_values(g, spec)["use"].tolist()
    ['住宅', '其他', None]
    """
    out = gdf
    for f in spec.fields.values():
        if not f.values or f.name not in gdf.columns:
            continue
        if out is gdf:
            out = gdf.copy()
        col = gdf[f.name]
        blank = _blank(col)
        text = col.astype("string").str.strip()
        mapped = text.map(f.values).astype(object)
        if "*" in f.values:
            mapped = mapped.where(mapped.notna() | pd.Series(blank, index=col.index), f.values["*"])
        keep = mapped.isna().to_numpy() & ~blank
        values = np.where(keep, col.astype(object).to_numpy(), mapped.to_numpy())
        values[blank] = None
        out[f.name] = pd.Series(values, index=col.index, dtype=object)
    return out
