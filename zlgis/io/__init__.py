"""Layers in: readers for every source format, and atomic writers.

The entry points are :func:`read_layer` (one catalog layer, validated, with its report) and
:func:`load_layers` (several layers as GeoDataFrames in the working CRS, canonical field names).
"""

from __future__ import annotations

from importlib import import_module
from typing import Any

#: public name -> module that defines it (imported on first use: ``zlgis layers`` and
#: ``zlgis --help`` must not pay for geopandas and GDAL)
_LAZY = {
    "LoadedLayer": "layers", "load_layers": "layers", "read_file": "layers",
    "read_layer": "layers", "SourceRead": "readers", "read_source": "readers",
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
    "LoadedLayer",
    "read_layer",
    "load_layers",
    "read_file",
    "read_source",
    "SourceRead",
    "atomic_path",
    "atomic_dir",
    "write_text_atomic",
    "write_bytes_atomic",
]
