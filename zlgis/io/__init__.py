"""Layers in: readers for every source format, and atomic writers.

The entry points are :func:`read_layer` (one catalog layer, validated, with its report) and
:func:`load_layers` (several layers as GeoDataFrames in the working CRS, canonical field names).
"""

from __future__ import annotations

from .atomic import atomic_dir, atomic_path, write_bytes_atomic, write_text_atomic
from .layers import LoadedLayer, load_layers, read_file, read_layer
from .readers import SourceRead, read_source

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
