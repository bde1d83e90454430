"""Layers in: readers for every source format, and atomic writers.

Loading a catalog layer validates it, so the entry points :func:`~zlgis.validate.read_layer`
(one catalog layer, validated, with its report) and :func:`~zlgis.validate.load_layers`
(several layers as GeoDataFrames in the working CRS, canonical field names) are in
:mod:`zlgis.validate`, one layer above the readers.
"""

from __future__ import annotations

from importlib import import_module
from typing import Any

#: public name -> module that defines it (imported on first use: ``zlgis layers`` and
#: ``zlgis --help`` must not pay for geopandas and GDAL)
_LAZY = {
    "SourceRead": "readers", "read_source": "readers",
    "atomic_dir": "atomic", "atomic_path": "atomic", "write_bytes_atomic": "atomic",
    "write_text_atomic": "atomic",
}


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        value = getattr(import_module(f".{_LAZY[name]}", __name__), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


__all__ = [
    "read_source",
    "SourceRead",
    "atomic_path",
    "atomic_dir",
    "write_text_atomic",
    "write_bytes_atomic",
]
