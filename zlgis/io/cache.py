"""zlgis's on-disk caches: their folders and NumPy arrays kept in ``.npz`` files.

Every cache lives in ``$ZLGIS_CACHE_DIR/<name>`` (default ``~/.cache/zlgis``): the street
network's noding, the streets merged by name, the vector-tile archives and tile geometry, the
compiled page templates. A cache holds only what can be computed again: any folder can be deleted
at any time, and an entry that cannot be read (missing, not an archive, cut short, a byte changed:
the zip CRC-32 of ``.npz`` members catches it) reads as absent, so the caller computes it again.

Examples
--------
>>> import tempfile, pathlib, numpy as np
>>> path = pathlib.Path(tempfile.mkdtemp()) / "k.npz"
>>> store_arrays(path, {"a": np.arange(3)})
>>> load_arrays(path)["a"].tolist(), load_arrays(path.with_name("other.npz"))
([0, 1, 2], None)
"""

from __future__ import annotations

import os
import zipfile
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .atomic import atomic_path

if TYPE_CHECKING:
    import numpy as np

__all__ = ["cache_dir", "load_arrays", "store_arrays", "hash_geometries", "prune"]


def cache_dir(name: str) -> Path:
    """Folder of cache ``name``: ``$ZLGIS_CACHE_DIR/<name>`` (default ``~/.cache/zlgis``)."""
    root = os.environ.get("ZLGIS_CACHE_DIR") or Path.home() / ".cache" / "zlgis"
    return Path(root) / name


def load_arrays(path: str | os.PathLike[str]) -> dict[str, np.ndarray] | None:
    """The arrays :func:`store_arrays` wrote to ``path``; None when there are none or the file
    is damaged. A file read is marked recently used (its modification time)."""
    import numpy as np

    try:
        with np.load(path, allow_pickle=False) as npz:
            out = {k: npz[k] for k in npz.files}
        os.utime(path)
        return out
    except (OSError, ValueError, EOFError, zipfile.BadZipFile):
        return None


def store_arrays(path: str | os.PathLike[str], arrays: Mapping[str, np.ndarray]) -> None:
    """Write named ``arrays`` to ``path`` (``.npz``, atomically); a cache that cannot be
    written is left as it is."""
    import numpy as np

    path = Path(path)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        with atomic_path(path) as tmp, open(tmp, "wb") as fh:
            np.savez(fh, **arrays)
    except OSError:
        pass


def prune(entries: Iterable[Path], keep: int, *, companions: tuple[str, ...] = ()) -> None:
    """Delete all but the ``keep`` most recently used of ``entries`` (by modification time:
    a read marks an entry used), with the files of the same name and the ``companions``
    suffixes. Entries that vanish meanwhile (another run pruning) are skipped."""
    dated = []
    for entry in entries:
        try:
            dated.append((entry.stat().st_mtime_ns, entry))
        except OSError:
            continue
    for _, entry in sorted(dated, reverse=True)[keep:]:
        for path in (entry, *(entry.with_suffix(s) for s in companions)):
            path.unlink(missing_ok=True)


def hash_geometries(h: Any, geoms: np.ndarray) -> None:
    """Feed ``geoms`` (an array of shapely geometries) into the hash ``h``, exactly: a point, a
    line and a polygon without holes by their type and coordinates, the others (multi-part
    geometries, holes, collections) by their WKB too; a missing geometry by its type (-1)."""
    import numpy as np
    import shapely

    tid = shapely.get_type_id(geoms).astype(np.int8)
    other = ~np.isin(tid, (-1, 0, 1, 3))
    poly = np.flatnonzero(tid == 3)
    other[poly] = shapely.get_num_interior_rings(geoms[poly]) > 0
    for arr in (tid, shapely.get_num_coordinates(geoms).astype(np.int64),
                shapely.get_coordinates(geoms), other):
        h.update(np.ascontiguousarray(arr).tobytes())
    for w in shapely.to_wkb(geoms[other]).tolist():
        h.update(len(w).to_bytes(8, "little") + w)
