"""OSM helpers: GDAL's ``other_tags`` column and tagged point features of an OSM file."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd

from ..errors import UnreadableInputError

__all__ = ["parse_other_tags", "read_osm_points"]


_TAG = re.compile(r'"((?:[^"\\]|\\.)*)"=>"((?:[^"\\]|\\.)*)"')


def parse_other_tags(other_tags: pd.Series) -> pd.DataFrame:
    """Split GDAL's OSM ``other_tags`` column (``"k"=>"v","k2"=>"v2"``) into columns.

    >>> parse_other_tags(pd.Series(['"amenity"=>"toilets","fee"=>"no"', None]))["amenity"].tolist()
    ['toilets', nan]
    """
    rows = [dict(_TAG.findall(t)) if isinstance(t, str) else {} for t in other_tags]
    return pd.DataFrame(rows, index=other_tags.index)


def read_osm_points(path: str | Path, *, crs: Any = None, **tags: str) -> gpd.GeoDataFrame:
    """Point features of an OSM file whose tags match, e.g. ``amenity="toilets"``.

    Tags are looked up both in GDAL's own columns and in ``other_tags``; the result carries the
    parsed tags as columns, in ``crs`` (default: keep WGS 84).
    """
    path = Path(path)
    if not path.exists():
        raise UnreadableInputError("OSM 文件不存在", path=str(path))
    try:
        pts = gpd.read_file(path, layer="points", engine="pyogrio")
    except Exception as exc:
        raise UnreadableInputError(f"OSM 文件无法读取：{exc}", path=str(path)) from None
    parsed = parse_other_tags(pts.get("other_tags", pd.Series(index=pts.index, dtype=object)))
    mask = np.ones(len(pts), bool)
    for k, v in tags.items():
        col = pts[k] if k in pts else parsed.get(k, pd.Series(index=pts.index, dtype=object))
        mask &= (col == v).to_numpy()
    out = pts[mask].copy()
    for c in parsed.columns:
        if c not in out:
            out[c] = parsed.loc[out.index, c]
    out = out.reset_index(drop=True)
    return out.to_crs(crs) if crs is not None else out
