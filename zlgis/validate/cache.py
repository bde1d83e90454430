"""Validated layers kept between runs: a layer whose inputs did not change is not read and
validated again.

A weekly run reads and validates every layer, though most of them (buildings, control lines,
roads) change seldom. :func:`cached_layer` keeps each :class:`~zlgis.validate.LoadedLayer`
(clean rows, rejected rows, issue report) in the cache folder ``layers``
(:func:`zlgis.io.cache.cache_dir`) and gives it back while none of what it was computed from has
changed. Its key is a SHA-256 over all of it:

* the bytes of the layer's file and of its sidecars (the files named like it: a shapefile's
  ``.dbf``/``.prj``/``.cpg``, a GeoPackage's ``-wal``; every file of a folder source). A
  file's SHA-256 is remembered (``layers/digests.json``) with its device, inode, size and
  modification and change times, and read again only when one of them changed (the 1M-building
  city's 634 MB of files took 0.55 s to hash on each run). Writing a file always moves its
  change time, which no tool can set back; a digest taken within
  :data:`RACY_SECONDS` of the file's last change is not remembered, as a write in the same
  clock tick would leave the times as they were;
* the layer's catalog entry, the working CRS and the CRS override, and whether it is checked
  against the city boundary; if so, the boundary layer's entry and bytes;
* the configuration: the shipped YAML files and the bureau's override folder;
* zlgis's own source code, and the versions of Python and of the libraries that read and validate
  (GDAL, GEOS, PROJ, pandas, NumPy, pyarrow ...).

Layers read from PostgreSQL are never cached (their content has no cheap fingerprint). An entry
that cannot be read (cut short, damaged, written by another version) counts as absent: the layer
is read and validated again. So does one that is not the user's own or that others may write:
entries are unpickled, so only the user's own are trusted. A layer whose file changed while it
was read is not kept. Each layer keeps its two newest entries, so the folder does not grow week
after week. The weekly run and the analysis commands (``zlgis coverage`` ...) use the cache;
``run.cache_layers: false`` in ``ledger.yaml`` turns it off. Deleting the folder is always safe.

Examples
--------
>>> import tempfile, pathlib
>>> p = pathlib.Path(tempfile.mkdtemp()) / "a.csv"
>>> _ = p.write_text("x\\n1\\n")
>>> a = fingerprint_files(p); _ = p.write_text("x\\n2\\n")
>>> a == fingerprint_files(p)
False
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import pickle
import sys
import time
from collections.abc import Callable
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..config import CONFIG_DIR, config_override_dir
from ..io.cache import cache_dir, prune
from ..workers import in_own_process

if TYPE_CHECKING:
    from ..catalog import Catalog
    from .load import LoadedLayer

__all__ = ["cached_layer", "cache_enabled", "layer_key", "fingerprint_files", "RACY_SECONDS"]

#: Entries kept per layer (the newest by use).
KEEP = 2
#: A file's digest is remembered only when it was taken this long after the file last changed.
RACY_SECONDS = 2.0
_PACKAGE = Path(__file__).resolve().parent.parent
_LIBRARIES = ("numpy", "pandas", "pyarrow", "shapely", "geopandas", "pyogrio", "pyproj",
              "openpyxl")


def cache_enabled() -> bool:
    """Whether the weekly run and the analysis commands use the cache (``run.cache_layers`` in
    ``ledger.yaml``, default true)."""
    from ..config import load_config

    return bool(load_config("ledger")["run"].get("cache_layers", True))


def _sidecars(path: Path) -> list[Path]:
    """``path`` and the files that belong to it (same name, other suffix; ``-wal``/``-shm``/
    ``-journal``); every file under it for a folder."""
    if path.is_dir():
        return sorted(p for p in path.rglob("*") if p.is_file())
    if not path.is_file():
        raise FileNotFoundError(path)
    stem, name = path.stem + ".", path.name + "-"
    try:
        with os.scandir(path.parent) as entries:  # no stat per file (a city's 50 layers)
            return sorted(Path(e.path) for e in entries if e.is_file() and (
                e.name == path.name or e.name.startswith(stem) or e.name.startswith(name)))
    except OSError:
        return [path]


def fingerprint_files(path: str | os.PathLike[str]) -> str:
    """SHA-256 over the names and bytes of ``path`` and its sidecars (:func:`_sidecars`)."""
    h = hashlib.sha256()
    known, added = _digests(), False
    for p in _sidecars(Path(path)):
        h.update(f"{p.name}\0".encode())
        digest, new = _file_digest(p, known)
        h.update(digest)
        added |= new
    if added:
        _save_digests(known)
    return h.hexdigest()


def _file_digest(path: Path, known: dict[str, list[Any]]) -> tuple[bytes, bool]:
    """SHA-256 of the bytes of ``path``, from ``known`` or added to it (then True; see the
    module docstring)."""
    key = str(path.resolve())
    with open(path, "rb") as fh:
        stamp = _stamp(os.fstat(fh.fileno()))
        got = known.get(key)
        if got is not None and got[:-1] == stamp:
            return bytes.fromhex(got[-1]), False
        started = time.time_ns()
        digest = hashlib.file_digest(fh, "sha256").digest()
        if started - stamp[-1] > RACY_SECONDS * 1e9 and _stamp(os.fstat(fh.fileno())) == stamp:
            known[key] = [*stamp, digest.hex()]
            return digest, True
    return digest, False


def _stamp(st: os.stat_result) -> list[int]:
    return [st.st_dev, st.st_ino, st.st_size, st.st_mtime_ns, st.st_ctime_ns]


#: The remembered digests read in this process, by file of ``digests.json``.
_DIGESTS: dict[Path, dict[str, list[Any]]] = {}


def _digests_path() -> Path:
    return cache_dir("layers") / "digests.json"


def _digests() -> dict[str, list[Any]]:
    """Remembered digests: absolute path -> its :func:`_stamp` and hex digest. None are taken
    from a file that is damaged or that others may write."""
    path = _digests_path()
    if path not in _DIGESTS:
        known: dict[str, list[Any]] = {}
        try:
            with open(path, encoding="utf-8") as fh:
                st = os.fstat(fh.fileno())
                if st.st_uid == os.getuid() and not st.st_mode & 0o022:
                    got = json.load(fh)
                    known = {k: v for k, v in got.items() if isinstance(v, list) and len(v) == 6
                             and all(type(x) is int for x in v[:5]) and isinstance(v[5], str)
                             and len(v[5]) == 64}
        except (OSError, ValueError, AttributeError):  # damaged: none remembered
            pass
        _DIGESTS[path] = known
    return _DIGESTS[path]


def _save_digests(known: dict[str, list[Any]]) -> None:
    """Write ``known`` (atomically; the files gone are left out); a cache that cannot be
    written is left as it is."""
    path = _digests_path()
    for gone in [k for k in known if not os.path.exists(k)]:
        del known[gone]
    tmp = path.with_name(f".digests.{os.getpid()}.tmp")
    try:
        path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        with open(os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600), "w",
                  encoding="utf-8") as fh:
            json.dump(known, fh)
        os.replace(tmp, path)
    except OSError:
        tmp.unlink(missing_ok=True)


@lru_cache(maxsize=1)
def _code_fingerprint() -> str:
    """zlgis's source and shipped configuration, with the Python and library versions."""
    from importlib.metadata import PackageNotFoundError, version

    import pyogrio
    import pyproj
    import shapely

    h = hashlib.sha256(f"{sys.version}\0{shapely.geos_version_string}\0"
                       f"{pyogrio.__gdal_version_string__}\0{pyproj.proj_version_str}".encode())
    for lib in _LIBRARIES:
        try:
            h.update(f"\0{lib}={version(lib)}".encode())
        except PackageNotFoundError:
            h.update(f"\0{lib}=-".encode())
    for p in sorted([*_PACKAGE.rglob("*.py"), *CONFIG_DIR.glob("*.yaml")]):
        h.update(f"\0{p.relative_to(_PACKAGE)}\0".encode())
        h.update(p.read_bytes())
    return h.hexdigest()


def _override_fingerprint() -> str:
    folder = config_override_dir()
    files = sorted(folder.glob("*.yaml")) if folder is not None and folder.is_dir() else []
    return hashlib.sha256(b"".join(f"{p.name}\0".encode() + p.read_bytes() + b"\0"
                                   for p in files)).hexdigest()


def layer_key(catalog: Catalog, layer_id: str, *, crs: str | None = None,
              check_boundary: bool = True) -> str | None:
    """The cache key of layer ``layer_id`` as :func:`~zlgis.validate.read_layer` would read it
    with these options; None when it cannot be cached (a database layer, no file, a file that
    cannot be read)."""
    spec = catalog[layer_id]
    if spec.database or spec.path is None or spec.derived or spec.kind == "raster":
        return None
    parts = [_code_fingerprint(), _override_fingerprint(), repr(spec), catalog.working_crs,
             repr(crs)]
    bid = catalog.boundary_layer
    try:
        if check_boundary and layer_id != bid and bid in catalog.layers:
            bspec = catalog.layers[bid]
            if bspec.database:
                return None
            parts.append(repr(bspec))
            if bspec.path is not None and bspec.path.exists():
                parts.append(fingerprint_files(bspec.path))
        parts.append(fingerprint_files(spec.path))
    except OSError:
        return None
    return hashlib.sha256("\0".join(parts).encode()).hexdigest()


def _folder(catalog: Catalog, layer_id: str) -> Path:
    """Folder of the entries of one layer of one catalog."""
    name = hashlib.sha256(f"{catalog.path}\0{layer_id}".encode()).hexdigest()[:24]
    return cache_dir("layers") / name


def _load(path: Path) -> LoadedLayer | None:
    """The entry at ``path``; None when it is absent, damaged, or not the user's own (an entry
    another user could have written is never unpickled)."""
    from .load import LoadedLayer

    try:
        with open(path, "rb") as fh:
            st = os.fstat(fh.fileno())
            if st.st_uid != os.getuid() or st.st_mode & 0o022:
                return None
            got = pickle.load(fh)
        os.utime(path)
    except Exception:  # noqa: BLE001 - a damaged or foreign entry counts as absent
        return None
    return got if isinstance(got, LoadedLayer) else None


def _store(folder: Path, path: Path, loaded: LoadedLayer) -> bool:
    """Keep ``loaded`` at ``path`` (written aside and renamed: never seen half-written; not
    synced to disk, as a cache need not survive a power cut: a damaged entry reads as absent)
    and drop the layer's older entries; False when it could not be written."""
    tmp = path.with_name(f".{path.stem}.{os.getpid()}.tmp")
    try:
        folder.mkdir(mode=0o700, parents=True, exist_ok=True)
        with open(os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600), "wb") as fh:
            pickle.dump(loaded, fh, protocol=pickle.HIGHEST_PROTOCOL)
        os.replace(tmp, path)
        prune(folder.glob("*.pickle"), KEEP)
    except Exception:  # noqa: BLE001 - a cache that cannot be written is left as it is
        tmp.unlink(missing_ok=True)
        return False
    return True


def cached_layer(catalog: Catalog, layer_id: str, read: Callable[[], LoadedLayer], *,
                 crs: str | None = None, check_boundary: bool = True) -> LoadedLayer:
    """Layer ``layer_id`` from the cache when its key (:func:`layer_key`) is there, else
    ``read()`` (which must read it with these options), kept for the next run.

    Errors of ``read`` (an unreadable file, a wrong CRS) are raised as they are and nothing is
    kept, so the next run reports them again. The key is taken again after ``read``: a layer
    whose inputs changed meanwhile is returned but not kept. A large layer is read in a process
    of its own and taken from its entry (:func:`_read_apart`).
    """
    key = layer_key(catalog, layer_id, crs=crs, check_boundary=check_boundary)
    if key is None:
        return read()
    folder = _folder(catalog, layer_id)
    path = folder / f"{key}.pickle"

    def read_and_keep() -> tuple[LoadedLayer, bool]:
        got = read()
        same = layer_key(catalog, layer_id, crs=crs, check_boundary=check_boundary) == key
        return got, same and _store(folder, path, got)

    def kept_apart() -> LoadedLayer | None:  # the layer itself only when it was not kept
        got, kept = read_and_keep()
        return None if kept else got

    got = _load(path)
    if got is None and _read_apart(catalog, layer_id):
        with contextlib.suppress(Exception):  # read again below: its error raised here
            got = in_own_process(kept_apart) or _load(path)
    return read_and_keep()[0] if got is None else got


def _read_apart(catalog: Catalog, layer_id: str) -> bool:
    """Whether layer ``layer_id`` is read and validated in a process of its own (its file
    holds at least ``run.validate_apart_mb`` of ``ledger.yaml``).

    Reading and validating leave the heap full of holes between the rows kept (the 1M-building
    city: 450 MB free inside glibc's heap after the loading, which no trim hands back, and
    Arrow's pool besides): the run would hold them to its end, and its workers beside it. Read
    in a process forked for it, which keeps the entry, a layer is then taken from the entry as
    on a week its file did not change (or from that process, when it could not be kept). An
    error is raised by reading here again.
    """
    from ..config import load_config

    limit = load_config("ledger")["run"].get("validate_apart_mb")
    spec = catalog[layer_id]
    if limit is None or spec.path is None:
        return False
    try:
        size = sum(p.stat().st_size for p in _sidecars(spec.path))
    except OSError:
        return False
    return size >= float(limit) * 2**20
