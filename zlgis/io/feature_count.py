"""Feature counts and raster sizes read from file headers, without importing GDAL.

``zlgis layers`` lists every catalog layer with its size; for GeoPackages (``SELECT COUNT(*)``
with :mod:`sqlite3`), shapefiles (the ``.shx`` index has one 8-byte record per feature) and
GeoTIFFs (the first image's width and height tags) the standard library answers in
milliseconds, where importing GDAL's Python bindings (pyogrio, rasterio) alone takes about a
second. Other formats return ``None`` and the caller asks GDAL.

Examples
--------
>>> import sqlite3, tempfile, pathlib
>>> p = pathlib.Path(tempfile.mkdtemp()) / "a.gpkg"
>>> with sqlite3.connect(p) as db:
...     _ = db.execute("CREATE TABLE gpkg_contents (table_name TEXT, data_type TEXT)")
...     _ = db.execute("INSERT INTO gpkg_contents VALUES ('roads', 'features')")
...     _ = db.execute("CREATE TABLE roads (fid INTEGER)")
...     _ = db.executemany("INSERT INTO roads VALUES (?)", [(1,), (2,)])
>>> quick_count(p)
2
"""

from __future__ import annotations

import sqlite3
import struct
from pathlib import Path

__all__ = ["quick_count", "tiff_size"]


def _gpkg_count(path: Path, layer: str | None) -> int | None:
    uri = f"file:{path}?mode=ro"
    with sqlite3.connect(uri, uri=True) as db:
        tables = [r[0] for r in db.execute(
            "SELECT table_name FROM gpkg_contents WHERE data_type IN ('features', 'attributes')")]
        if layer is None and len(tables) == 1:
            layer = tables[0]
        if layer not in tables:
            return None
        return int(db.execute(f'SELECT COUNT(*) FROM "{layer.replace(chr(34), chr(34) * 2)}"'
                              ).fetchone()[0])


def quick_count(path: str | Path, layer: str | None = None) -> int | None:
    """Number of features of a GeoPackage layer or a shapefile; ``None`` for other formats or
    when the header cannot be read (the caller then uses GDAL)."""
    path = Path(path)
    suffix = path.suffix.lower()
    try:
        if suffix == ".gpkg":
            return _gpkg_count(path, layer)
        if suffix == ".shp":
            shx = path.with_suffix(".shx")
            if not shx.exists():
                shx = path.with_suffix(".SHX")
            size = shx.stat().st_size
            return (size - 100) // 8 if size >= 100 else None
    except (OSError, sqlite3.Error):
        return None
    return None


def tiff_size(path: str | Path) -> tuple[int, int] | None:
    """Width and height of the first image of a (Big)TIFF, or ``None`` when not one."""
    try:
        with open(path, "rb") as fh:
            head = fh.read(16)
            order = {b"II": "<", b"MM": ">"}.get(head[:2])
            if order is None:
                return None
            magic = struct.unpack(order + "H", head[2:4])[0]
            if magic == 42:
                fh.seek(struct.unpack(order + "I", head[4:8])[0])
                n = struct.unpack(order + "H", fh.read(2))[0]
                entries = [fh.read(12) for _ in range(n)]
                fmt, cnt, val = order + "HHI", 8, slice(8, 12)
            elif magic == 43:
                fh.seek(struct.unpack(order + "Q", head[8:16])[0])
                n = struct.unpack(order + "Q", fh.read(8))[0]
                entries = [fh.read(20) for _ in range(n)]
                fmt, cnt, val = order + "HHQ", 12, slice(12, 20)
            else:
                return None
    except (OSError, struct.error):
        return None
    tags = {}
    for e in entries:
        tag, typ, _ = struct.unpack(fmt, e[:cnt])
        raw = e[val]
        tags[tag] = struct.unpack(order + "H", raw[:2])[0] if typ == 3 else struct.unpack(
            order + ("I" if len(raw) == 4 else "Q"), raw)[0] if typ in (4, 16) else None
    w, h = tags.get(256), tags.get(257)
    return (int(w), int(h)) if w and h else None
