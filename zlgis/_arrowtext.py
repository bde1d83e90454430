"""Columns of pyarrow-backed text handed on without a round trip through Python strings.

pandas 3 infers its ``str`` dtype (pyarrow-backed) for object arrays of strings: taking such a
column ``to_numpy()`` and building a new frame from the objects converts every value to a
Python string and back to Arrow. :func:`frame_values` gives what a frame built from the column
gets without that round trip (the same dtype and values as from ``to_numpy()``).
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

#: pandas 3's default text dtype: pyarrow storage, NaN for a missing value.
STR = pd.StringDtype("pyarrow", na_value=np.nan)


def frame_values(col: pd.Series, *, objects: bool = False) -> Any:
    """``col`` as a value for a new frame or column, giving the dtype and values pandas gives
    ``col.to_numpy()`` (``col.astype(object).to_numpy()`` with ``objects``): a ``str`` column
    with at least one value stays its Arrow array (an object array of strings and NaN infers
    ``str`` again); any other column is converted (an empty or all-missing text column infers
    another dtype from its objects)."""
    if col.dtype == STR and col.notna().any():
        return col.array
    return col.astype(object).to_numpy() if objects else col.to_numpy()


_TYPE_NAMES = np.array(["Point", "LineString", "LinearRing", "Polygon", "MultiPoint",
                        "MultiLineString", "MultiPolygon", "GeometryCollection"], dtype=object)


def geom_types(geoms: Any) -> set[str]:
    """``set(GeoSeries.geom_type.dropna())`` from the geometries' type ids, without a text
    column of one Python string per geometry (missing geometries have no type)."""
    import shapely

    ids = np.unique(shapely.get_type_id(np.asarray(geoms, dtype=object)))
    return set(_TYPE_NAMES[ids[ids >= 0]].tolist())
