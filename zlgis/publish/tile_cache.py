"""PMTiles archives kept on disk, keyed by what they are made of.

A city's road network changes little from one week to the next, but encoding its archive takes
a quarter of the weekly run's publishing. :func:`zlgis.publish.tiles.write_pmtiles` (called with
``cache=True`` by :func:`zlgis.publish.tile_maps.write_week_tiles` for every archive whose
content does not depend on the week: all but the internal buildings with their finding status)
first looks for an archive made from the same input: the key (:func:`archive_key`) hashes the
layer's geometry (coordinates, geometry types and coordinate counts, the WKB of multi-part
geometries and polygons with holes), its CRS, the property values as written (codes and the
encoded values), the tile options, the encoder's own source (standing for the zlgis version: an
edited encoder never reads old archives) and the versions of the libraries the bytes depend on
(shapely / GEOS, pyproj / PROJ, pmtiles, zlib). A hit copies the archive; its SHA-256, kept
beside it, is checked first, so a damaged entry is ignored (and written again). The folder is
``$ZLGIS_CACHE_DIR/tiles`` (default ``~/.cache/zlgis/tiles``); the :data:`KEEP` most recently
used archives of each layer are kept, older ones deleted. Delete the folder at any time.

The tiles' geometry of an archive whose values change every week (the internal buildings with
their finding status) is kept the same way (:func:`store_arrays`, :func:`load_arrays`: named
NumPy arrays in an ``.npz`` file, whose CRC-32 checks catch a damaged entry), keyed by the
geometry and the tile options only: a week then encodes only the values.

Examples
--------
>>> import tempfile, pathlib
>>> d = pathlib.Path(tempfile.mkdtemp())
>>> _ = (d / "a.pmtiles").write_bytes(b"archive")
>>> store("roads", "k1", d / "a.pmtiles", {"tiles": 1}, folder=d / "cache")
>>> load("roads", "k1", d / "b.pmtiles", folder=d / "cache"), (d / "b.pmtiles").read_bytes()
({'tiles': 1}, b'archive')
>>> load("roads", "k2", d / "c.pmtiles", folder=d / "cache") is None
True
"""

from __future__ import annotations

import functools
import hashlib
import json
import os
import re
import zlib
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import shapely

from ..io import cache as _cache
from ..io.atomic import atomic_path

__all__ = ["cache_dir", "archive_key", "load", "store", "load_arrays", "store_arrays",
           "KEEP"]

#: bump when the archive format or the encoder changes in a way the versions below do not show
_VERSION = b"tiles-cache-1"
#: archives kept per layer (the most recently used)
KEEP = 3


def cache_dir() -> Path:
    """Folder of the archive cache (``$ZLGIS_CACHE_DIR/tiles``, default ``~/.cache/zlgis``)."""
    return _cache.cache_dir("tiles")


@functools.lru_cache(maxsize=1)
def _versions() -> bytes:
    """The encoder's source (this module and ``tiles.py``) and the versions of the libraries
    the bytes depend on."""
    from importlib.metadata import version

    import pyproj

    here = Path(__file__).parent
    source = hashlib.sha256(b"".join((here / f).read_bytes()
                                     for f in ("tiles.py", "tile_cache.py"))).hexdigest()
    return json.dumps([source, shapely.__version__, shapely.geos_version_string,
                       pyproj.__version__, pyproj.proj_version_str, version("pmtiles"),
                       zlib.ZLIB_RUNTIME_VERSION, np.__version__]).encode()


def archive_key(geoms: np.ndarray, crs: Any, columns: Sequence[tuple[str, np.ndarray, Any]],
                options: Mapping[str, Any]) -> str:
    """Hash of everything an archive is made of: geometry (with its ``crs``), the encoded
    property ``columns`` (field, codes, values as encoded) and the tile ``options``."""
    h = hashlib.blake2b(_VERSION, digest_size=20)
    h.update(_versions())
    h.update(json.dumps(dict(options), sort_keys=True, default=str).encode())
    h.update(str(crs.to_wkt() if crs is not None else None).encode())
    _cache.hash_geometries(h, geoms)
    for name, codes, values in columns:
        h.update(json.dumps(name).encode())
        for arr in (codes, values.data, values.length):
            a = np.ascontiguousarray(arr)
            h.update(str(a.dtype).encode() + len(a).to_bytes(8, "little") + a.tobytes())
    return h.hexdigest()


def _stem(layer: str, key: str) -> str:
    return f"{re.sub(r'[^A-Za-z0-9_-]', '_', layer)}-{key}"


def load(layer: str, key: str, path: str | os.PathLike[str], *,
         folder: Path | None = None) -> dict[str, Any] | None:
    """Copy the cached archive of ``key`` to ``path`` (atomically) and return what
    :func:`store` kept with it; None when there is none, or it is damaged."""
    folder = cache_dir() if folder is None else folder
    stem = _stem(layer, key)
    try:
        meta = json.loads((folder / f"{stem}.json").read_text(encoding="utf-8"))
        data = (folder / f"{stem}.pmtiles").read_bytes()
        if hashlib.sha256(data).hexdigest() != meta["sha256"]:
            return None
        with atomic_path(path) as tmp:
            tmp.write_bytes(data)
        os.utime(folder / f"{stem}.json")     # recently used
        return meta["info"]
    except (OSError, ValueError, KeyError, TypeError):
        return None


def store(layer: str, key: str, path: str | os.PathLike[str], info: Mapping[str, Any], *,
          folder: Path | None = None) -> None:
    """Keep a copy of the archive at ``path`` under ``key`` with ``info`` (JSON); keep only the
    :data:`KEEP` most recently used archives of ``layer``. A cache that cannot be written is
    left as it is."""
    folder = cache_dir() if folder is None else folder
    stem = _stem(layer, key)
    try:
        data = Path(path).read_bytes()
        folder.mkdir(parents=True, exist_ok=True)
        with atomic_path(folder / f"{stem}.pmtiles") as tmp:
            tmp.write_bytes(data)
        meta = {"sha256": hashlib.sha256(data).hexdigest(), "info": dict(info)}
        with atomic_path(folder / f"{stem}.json") as tmp:
            tmp.write_text(json.dumps(meta), encoding="utf-8")
        _prune(folder, stem.rsplit("-", 1)[0])
    except OSError:
        pass


def load_arrays(name: str, key: str, *, folder: Path | None = None
                ) -> dict[str, np.ndarray] | None:
    """The arrays :func:`store_arrays` kept under ``key``; None when there are none, or they
    are damaged."""
    return _cache.load_arrays((cache_dir() if folder is None else folder)
                              / f"{_stem(name, key)}.npz")


def store_arrays(name: str, key: str, arrays: Mapping[str, np.ndarray], *,
                 folder: Path | None = None) -> None:
    """Keep named ``arrays`` under ``key`` (an ``.npz`` file); keep only the :data:`KEEP` most
    recently used entries of ``name``. A cache that cannot be written is left as it is."""
    folder = cache_dir() if folder is None else folder
    stem = _stem(name, key)
    _cache.store_arrays(folder / f"{stem}.npz", arrays)
    _prune(folder, stem.rsplit("-", 1)[0], (".npz",))


def _prune(folder: Path, prefix: str, suffixes: tuple[str, ...] = (".json", ".pmtiles")
           ) -> None:
    """Delete the entries of a layer beyond the :data:`KEEP` most recently used (the first of
    ``suffixes`` is the file whose time tells the last use; the others go with it)."""
    _cache.prune((meta for meta in folder.glob(f"{prefix}-*{suffixes[0]}")
                  if re.fullmatch(r"[0-9a-f]{40}", meta.stem[len(prefix) + 1:])),
                 KEEP, companions=suffixes[1:])
