"""Big layers as vector tiles: PMTiles archives of Mapbox Vector Tiles, shown on the weekly maps.

A weekly map embeds every feature it draws in the HTML page; a city's 1M buildings or its whole
street network would make the page hundreds of megabytes. Layers with more features than
``publish.yaml`` ``tiles.min_features`` are written instead as a PMTiles archive
(one file, tiles addressed by byte ranges) next to the map, and drawn by the
``protomaps-leaflet`` plugin from local assets. The page then needs HTTP with range requests
(``zlgis serve DIR``, nginx, busybox httpd ...); the small embedded layers still work from a file
opened on its own.

Writing
-------
:func:`write_pmtiles` projects a layer to EPSG:3857, and for every zoom of the layer
(``tiles.layers.<id>.min_zoom`` .. ``max_zoom``) simplifies it (``simplify_px`` tile pixels),
leaves off features smaller than ``min_size_px`` below the layer's last zoom, cuts the features
crossing a tile's edge (plus ``buffer`` units), and encodes each tile. Encoding goes through the
protobuf schema of ``mapbox-vector-tile`` (``vector_tile_pb2``); the geometry commands of all
features of a zoom are computed at once with NumPy (:func:`encode_tiles`), which is what makes
1M buildings fit in a minute. :func:`encode_tile_reference` encodes the same tile with
``mapbox_vector_tile.encode`` (the library's own Python encoder) and the tests check that both
decode to the same features; ``bench/bench_tiles.py`` times both.

Profiles
--------
The internal archive carries the fields of ``tiles.layers.<id>.fields`` (and the building's
finding status, :func:`building_status`); the public archive only those of them that the catalog
(or ``publish.yaml`` ``extras``) marks public, never a personal field, never the status, and
only for layers the public map may show (``public.layers`` or ``extras``).

Examples
--------
>>> import geopandas as gpd, tempfile, pathlib
>>> from shapely.geometry import box
>>> gdf = gpd.GeoDataFrame({"building_id": ["B1"], "status": ["open"]},
...                        geometry=[box(612000, 5320000, 612020, 5320015)], crs="EPSG:4550")
>>> out = pathlib.Path(tempfile.mkdtemp()) / "b.pmtiles"
>>> info = write_pmtiles(gdf, out, layer="buildings", fields=["building_id", "status"],
...                      min_zoom=15, max_zoom=16)
>>> info.tiles, info.features
(2, 2)
>>> sorted(read_tile(out, *info.first_tile)["buildings"]["features"][0]["properties"])
['building_id', 'status']
"""

from __future__ import annotations

import gzip
import json
import math
import os
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from ..catalog import Catalog
from ..config import load_config, unless_given
from ..crs import transformer
from ..errors import ConfigError
from ..io.atomic import atomic_path
from .escape import PERSONAL_FIELD, display_value

__all__ = [
    "TileSet",
    "tile_config",
    "tile_layer_ids",
    "tile_fields",
    "building_status",
    "encode_tiles",
    "encode_tile_reference",
    "write_pmtiles",
    "read_tile",
    "tile_bounds",
    "tile_ids",
]

#: Half the width of the EPSG:3857 world (m).
WORLD = 20037508.342789244
#: MVT geometry commands.
_MOVE, _LINE, _CLOSE = 1, 2, 7
_KIND_TYPE = {"point": 1, "line": 2, "polygon": 3}


@dataclass(frozen=True)
class TileSet:
    """One written archive: where, which layer, zooms, how many tiles and features."""

    path: Path
    layer: str
    min_zoom: int
    max_zoom: int
    tiles: int
    features: int
    fields: tuple[str, ...]
    bounds: tuple[float, float, float, float]   # lon/lat
    first_tile: tuple[int, int, int]            # (z, x, y) of the first tile written


def tile_config() -> dict[str, Any]:
    """The ``tiles`` section of ``publish.yaml``."""
    return load_config("publish")["tiles"]


def tile_layer_ids(layers: Mapping[str, gpd.GeoDataFrame], *,
                   min_features: int | None = None) -> list[str]:
    """Ids of ``layers`` written as vector tiles: configured in ``tiles.layers`` and with more
    than ``tiles.min_features`` features.

    >>> import geopandas as gpd
    >>> big = gpd.GeoDataFrame(geometry=[None] * 3)
    >>> tile_layer_ids({"buildings": big, "toilets": big}, min_features=2)
    ['buildings']
    """
    cfg = tile_config()
    limit = int(cfg["min_features"] if min_features is None else min_features)
    return [k for k, g in layers.items() if k in cfg["layers"] and g is not None
            and len(g) > limit]


def tile_fields(layer_id: str, profile: str, catalog: Catalog | None = None) -> list[str] | None:
    """Fields of ``layer_id`` written into the archive of ``profile``; None when the public map
    may not show the layer at all.

    >>> from zlgis.catalog import Catalog
    >>> tile_fields("buildings", "internal")
    ['building_id', 'use', 'floors', 'status']
    >>> tile_fields("roads", "public", Catalog.load())
    ['road_id', 'name', 'road_class']
    >>> tile_fields("buildings", "public", Catalog.load()) is None
    True
    """
    cfg = load_config("publish")
    wanted = list(cfg["tiles"]["layers"][layer_id]["fields"])
    if profile == "internal":
        return wanted
    if catalog is not None and layer_id in catalog.layers:
        if layer_id not in cfg["public"]["layers"]:
            return None
        allowed = set(catalog[layer_id].public)
    elif layer_id in cfg["extras"]:
        allowed = set(cfg["extras"][layer_id]["public"])
    else:
        return None
    # the finding status of a building is never public (it is not a catalog field)
    return [f for f in wanted if f in allowed and not PERSONAL_FIELD.search(f)]


def building_status(buildings: pd.DataFrame, ledger_view: pd.DataFrame, *,
                    id_field: str = "building_id", layer: str = "buildings") -> pd.Series:
    """Finding status of every building: ``none``, ``open``, ``rectified`` or ``overdue``.

    ``ledger_view`` is :meth:`zlgis.ledger.store.Ledger.view` of the week (or a findings table
    with ``layer``, ``feature_id`` and ``status``). A building with several findings takes the
    most urgent: overdue, then open (new, open, reopened), then rectified.

    >>> import pandas as pd
    >>> b = pd.DataFrame({"building_id": ["A", "B", "C", "D"]})
    >>> v = pd.DataFrame({"layer": ["buildings"] * 4, "feature_id": ["A", "B", "B", "C"],
    ...                   "status": ["rectified", "new", "overdue", "rectified"]})
    >>> building_status(b, v).tolist()
    ['rectified', 'overdue', 'rectified', 'none']
    """
    rank = {"rectified": 1, "new": 2, "open": 2, "reopened": 2, "overdue": 3}
    names = {0: "none", 1: "rectified", 2: "open", 3: "overdue"}
    v = ledger_view
    if len(v) and {"layer", "feature_id", "status"} <= set(v.columns):
        v = v[v["layer"].astype(str) == layer]
        r = pd.Series(v["status"].astype(str).map(rank).fillna(0).to_numpy(),
                      index=v["feature_id"].astype(str).to_numpy())
        best = r.groupby(level=0).max()
    else:
        best = pd.Series(dtype=float)
    # ``ids.map(best).fillna(0).astype(int).map(names)`` without a Series of a million
    # Python strings: the ranks looked up by position, the names from a table of the ranks
    pos = best.index.get_indexer(buildings[id_field].astype(str))
    got = pd.Series(np.where(pos >= 0, best.to_numpy()[np.maximum(pos, 0)] if len(best) else 0,
                             np.nan))
    ranks, inv = np.unique(got.fillna(0).astype(int).to_numpy(), return_inverse=True)
    table = np.array([names.get(int(r), np.nan) for r in ranks], dtype=object)
    return pd.Series(table[inv.reshape(-1)], index=buildings.index, name="status")


# ---------------------------------------------------------------------------------------------
# geometry


def _mercator(geoms: gpd.GeoSeries) -> np.ndarray:
    if geoms.crs is None:
        raise ConfigError("图层没有坐标系，无法生成矢量瓦片")
    tr = transformer(geoms.crs, "EPSG:3857")
    arr = np.asarray(geoms.array, dtype=object)
    xy, at = shapely.get_coordinates(arr, return_index=True)
    x, y = tr.transform(xy[:, 0], xy[:, 1])
    new = np.column_stack([x, y])
    # a flat layer of lines only, or of polygons without holes only (none empty or missing), is
    # built from its new coordinates at once; any other goes through set_coordinates, as
    # shapely.transform does (both give the same geometries)
    tid = shapely.get_type_id(arr)
    counts = np.bincount(at, minlength=len(arr))
    if len(arr) and (counts > 0).all() and ((tid == 1).all() or (
            (tid == 3).all() and not shapely.get_num_interior_rings(arr).any())) \
            and not shapely.has_z(arr).any():
        off = np.r_[0, np.cumsum(counts)]
        if tid[0] == 1:
            return shapely.from_ragged_array(shapely.GeometryType.LINESTRING, new, (off,))
        return shapely.from_ragged_array(shapely.GeometryType.POLYGON, new,
                                         (off, np.arange(len(arr) + 1)))
    return shapely.set_coordinates(arr.copy(), new)


def _kind(geoms: np.ndarray) -> str:
    t = set((np.flatnonzero(np.bincount(shapely.get_type_id(geoms) + 1)) - 1).tolist()) - {-1}
    if t <= {0, 4}:
        return "point"
    if t <= {1, 2, 5}:
        return "line"
    if t <= {3, 6}:
        return "polygon"
    raise ConfigError("矢量瓦片图层的几何类型混杂（点、线、面只能有一种）")


def tile_bounds(z: int, x: np.ndarray | int, y: np.ndarray | int
                ) -> tuple[Any, Any, Any, Any]:
    """EPSG:3857 bounds ``(minx, miny, maxx, maxy)`` of tile ``z/x/y`` (XYZ, y down).

    >>> [round(v) for v in tile_bounds(0, 0, 0)]
    [-20037508, -20037508, 20037508, 20037508]
    """
    size = 2 * WORLD / (1 << z)
    minx = -WORLD + np.asarray(x) * size
    maxy = WORLD - np.asarray(y) * size
    return minx, maxy - size, minx + size, maxy


def _pairs(b: np.ndarray, z: int, buffer_m: float) -> tuple[np.ndarray, np.ndarray,
                                                            np.ndarray]:
    """(feature index, tile x, tile y) of every tile each feature's box ``b`` (plus buffer)
    touches."""
    size = 2 * WORLD / (1 << z)
    n = (1 << z) - 1
    x0 = np.clip(np.floor((b[:, 0] - buffer_m + WORLD) / size), 0, n).astype(np.int64)
    x1 = np.clip(np.floor((b[:, 2] + buffer_m + WORLD) / size), 0, n).astype(np.int64)
    y0 = np.clip(np.floor((WORLD - b[:, 3] - buffer_m) / size), 0, n).astype(np.int64)
    y1 = np.clip(np.floor((WORLD - b[:, 1] + buffer_m) / size), 0, n).astype(np.int64)
    nx, ny = x1 - x0 + 1, y1 - y0 + 1
    count = nx * ny
    fi = np.repeat(np.arange(len(b)), count)
    k = np.arange(len(fi)) - np.repeat(np.cumsum(count) - count, count)
    tx = x0[fi] + k % nx[fi]
    ty = y0[fi] + k // nx[fi]
    return fi, tx, ty


def _clip(geoms: np.ndarray, fi: np.ndarray, tx: np.ndarray, ty: np.ndarray, z: int,
          buffer_m: float, b: np.ndarray) -> np.ndarray:
    """Geometry of each (feature, tile) pair, cut to the buffered tile where it crosses it
    (``b``: the bounds of each pair's feature)."""
    out = geoms[fi]
    minx, miny, maxx, maxy = tile_bounds(z, tx, ty)
    cross = ((b[:, 0] < minx - buffer_m) | (b[:, 1] < miny - buffer_m)
             | (b[:, 2] > maxx + buffer_m) | (b[:, 3] > maxy + buffer_m))
    idx = np.flatnonzero(cross)
    if len(idx):
        # GEOS's clip of each geometry to its own tile in one call: shapely.clip_by_rect takes
        # one rectangle only, its ufunc (the same GEOS function) takes a rectangle per geometry
        out[idx] = shapely.lib.clip_by_rect(out[idx], minx[idx] - buffer_m, miny[idx] - buffer_m,
                                            maxx[idx] + buffer_m, maxy[idx] + buffer_m)
    return out


def _simplify(geoms: np.ndarray, tolerance: float) -> np.ndarray:
    """Douglas-Peucker for display, only where a geometry has more than 5 points (a house of
    four corners stays as it is); a polygon it collapses is left to the encoder to drop."""
    many = np.flatnonzero(shapely.get_num_coordinates(geoms) > 5)
    if not len(many):
        return geoms
    geoms = geoms.copy()
    geoms[many] = shapely.simplify(geoms[many], tolerance, preserve_topology=False)
    return geoms


def _areas_only(geoms: np.ndarray) -> np.ndarray:
    """Cut polygons keep their areas only (a cut can leave lines or points on the tile edge)."""
    mixed = np.flatnonzero(shapely.get_type_id(geoms) == 7)
    if not len(mixed):
        return geoms
    geoms = geoms.copy()
    for i in mixed.tolist():
        parts = shapely.get_parts(geoms[i])
        parts = parts[shapely.get_type_id(parts) == 3]
        geoms[i] = (None if not len(parts) else parts[0] if len(parts) == 1
                    else shapely.MultiPolygon(list(parts)))
    return geoms


def _zigzag(v: np.ndarray) -> np.ndarray:
    return (v << 1) ^ (v >> 63)


def _drop_repeats(ux: np.ndarray, uy: np.ndarray, grp: np.ndarray, *,
                  ring: bool) -> np.ndarray:
    """Mask of the points kept: a point equal to the one before it in its group is dropped (for
    rings, also the closing point and a last point equal to the first)."""
    n = len(ux)
    keep = np.ones(n, dtype=bool)
    if n == 0:
        return keep
    first = np.r_[True, grp[1:] != grp[:-1]]
    last = np.r_[grp[1:] != grp[:-1], True]
    same = np.r_[False, (ux[1:] == ux[:-1]) & (uy[1:] == uy[:-1])]
    keep &= ~(same & ~first)
    if ring:
        keep &= ~last                          # the closing point repeats the first
        # a point before the closing one that fell on the first point
        start = np.maximum.accumulate(np.where(first, np.arange(n), 0))
        keep &= ~((ux == ux[start]) & (uy == uy[start]) & ~first)
    return keep


@dataclass
class _Encoded:
    """Geometry commands of all (feature, tile) pairs of one zoom."""

    commands: np.ndarray     # uint32 command stream, pairs one after the other
    start: np.ndarray        # per pair: first command (len = pairs + 1)
    ok: np.ndarray           # per pair: anything left to draw


def _rings(geoms: np.ndarray, kind: str) -> tuple[Any, ...]:
    """Rings (parts for lines and points) of every pair, rings in pair order: (number of parts,
    ring -> part, ring -> pair, coordinates, coordinate -> ring, exterior ring mask).

    A pair that is one ring (a polygon without holes, a line) is read as coordinates straight
    away; only the others (multi-part, holes, points) are taken apart into parts and rings
    (new GEOS objects, the cost of this step), then put back in pair order."""
    if kind == "point":
        return _rings_apart(geoms, kind)
    simple = shapely.get_type_id(geoms) == (3 if kind == "polygon" else 1)
    if kind == "polygon":
        simple[simple] = shapely.get_num_interior_rings(geoms[simple]) == 0
    s = np.flatnonzero(simple)
    xy_s, of_s = shapely.get_coordinates(geoms[s], return_index=True)
    if len(s) == len(geoms):
        return len(s), s, s, xy_s, of_s, np.ones(len(s), dtype=bool)
    c = np.flatnonzero(~simple)
    nparts_c, part_c, pair_c, xy_c, of_c, ext_c = _rings_apart(geoms[c], kind)
    ring_pair = np.r_[s, c[pair_c]]
    order = np.argsort(ring_pair, kind="stable")
    npts = np.r_[np.bincount(of_s, minlength=len(s)), np.bincount(of_c, minlength=len(pair_c))]
    xy = _gather(np.concatenate([xy_s, xy_c]), (np.cumsum(npts) - npts)[order], npts[order])
    ring_of = np.repeat(np.arange(len(order)), npts[order])
    ring_part = np.r_[np.arange(len(s)), len(s) + part_c][order]
    exterior = np.r_[np.ones(len(s), dtype=bool), ext_c][order]
    return len(s) + nparts_c, ring_part, ring_pair[order], xy, ring_of, exterior


def _rings_apart(geoms: np.ndarray, kind: str) -> tuple[Any, ...]:
    """:func:`_rings` through ``get_parts`` and ``get_rings``."""
    parts, part_pair = shapely.get_parts(geoms, return_index=True)
    if kind == "polygon":
        rings, ring_part = shapely.get_rings(parts, return_index=True)
        xy, ring_of = shapely.get_coordinates(rings, return_index=True)
        ring_pair = part_pair[ring_part]
        exterior = np.r_[True, ring_part[1:] != ring_part[:-1]] if len(ring_part) else \
            np.zeros(0, dtype=bool)
    else:
        ring_pair = part_pair
        xy, ring_of = shapely.get_coordinates(parts, return_index=True)
        ring_part = np.arange(len(parts))
        exterior = np.ones(len(parts), dtype=bool)
    return len(parts), ring_part, ring_pair, xy, ring_of, exterior


def _orient_rings(ux: np.ndarray, uy: np.ndarray, ring_of: np.ndarray, npts: np.ndarray,
                  ring_ok: np.ndarray, ring_part: np.ndarray, exterior: np.ndarray,
                  nparts: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Drop rings of zero area (and the holes of a dropped exterior); wind exterior rings
    positive and holes negative in tile coordinates (y down) by reversing their points."""
    nring = len(npts)
    # surveyor's formula in tile coordinates (y down): exterior rings positive
    rs = np.r_[0, np.cumsum(npts)[:-1]]
    nxt = np.arange(len(ux)) + 1
    ends = rs + npts            # one past the last point of each ring
    last_of = np.zeros(len(ux), dtype=bool)
    last_of[(ends - 1)[npts > 0]] = True
    nxt[last_of] = rs[ring_of[last_of]]
    cross = ux * uy[nxt] - ux[nxt] * uy
    area = np.bincount(ring_of, weights=cross.astype(np.float64), minlength=nring)
    ring_ok = ring_ok & (area != 0)
    # a polygon whose exterior is gone is gone with its holes
    part_ok = np.zeros(nparts, dtype=bool)
    part_ok[ring_part[exterior]] = ring_ok[exterior]
    ring_ok &= part_ok[ring_part]
    flip = ring_ok & ((area > 0) != exterior)
    if flip.any():
        # reverse the points of those rings in place
        pos = np.arange(len(ux))
        r = ring_of
        rev = flip[r]
        pos[rev] = rs[r[rev]] + (npts[r[rev]] - 1 - (pos[rev] - rs[r[rev]]))
        ux, uy = ux[pos], uy[pos]
    return ux, uy, ring_ok


def _point_commands(zx: np.ndarray, zy: np.ndarray, ppair: np.ndarray, rpair: np.ndarray,
                    npts: np.ndarray, npairs: int) -> _Encoded:
    """One MoveTo(n) per pair followed by its points."""
    pts_per_pair = np.bincount(rpair, weights=npts, minlength=npairs).astype(np.int64)
    length = np.where(pts_per_pair > 0, 1 + 2 * pts_per_pair, 0)
    start = np.r_[0, np.cumsum(length)]
    out = np.zeros(start[-1], dtype=np.int64)
    has = pts_per_pair > 0
    out[start[:-1][has]] = _MOVE | (pts_per_pair[has] << 3)
    j = np.arange(len(zx)) - (np.r_[0, np.cumsum(pts_per_pair)][ppair])
    pos = start[ppair] + 1 + 2 * j
    out[pos], out[pos + 1] = zx, zy
    return _Encoded(out.astype(np.uint32), start, has)


def _ring_commands(zx: np.ndarray, zy: np.ndarray, ring_of: np.ndarray, rpair: np.ndarray,
                   npts: np.ndarray, npairs: int, close: int) -> _Encoded:
    """MoveTo(1), LineTo(n - 1) (and ClosePath for polygons) per ring; a pair's rings are
    consecutive."""
    rlen = 2 * npts + 2 + close
    rstart = np.r_[0, np.cumsum(rlen)]
    out = np.zeros(rstart[-1], dtype=np.int64)
    out[rstart[:-1]] = _MOVE | (1 << 3)
    out[rstart[:-1] + 3] = _LINE | ((npts - 1) << 3)
    if close:
        out[rstart[1:] - 1] = _CLOSE | (1 << 3)
    pstart = np.r_[0, np.cumsum(npts)]
    j = np.arange(len(zx)) - pstart[ring_of]
    pos = rstart[ring_of] + 1 + 2 * j + (j > 0)
    out[pos], out[pos + 1] = zx, zy
    per_pair = np.bincount(rpair, weights=rlen, minlength=npairs).astype(np.int64)
    start = np.r_[0, np.cumsum(per_pair)]
    return _Encoded(out.astype(np.uint32), start, per_pair > 0)


def _geometry_commands(geoms: np.ndarray, tx: np.ndarray, ty: np.ndarray, z: int, kind: str,
                       extent: int) -> _Encoded:
    """MVT geometry commands of every pair, computed at once (tile coordinates, y down)."""
    npairs = len(geoms)
    nparts, ring_part, ring_pair, xy, ring_of, exterior = _rings(geoms, kind)
    pair_of = ring_pair[ring_of]
    minx, _, _, maxy = tile_bounds(z, tx, ty)
    scale = extent / (2 * WORLD / (1 << z))
    ux = np.rint((xy[:, 0] - minx[pair_of]) * scale).astype(np.int64)
    uy = np.rint((maxy[pair_of] - xy[:, 1]) * scale).astype(np.int64)
    nring = len(ring_pair)
    if kind == "point":
        keep = np.ones(len(ux), dtype=bool)
    else:
        keep = _drop_repeats(ux, uy, ring_of, ring=kind == "polygon")
    ux, uy, ring_of = ux[keep], uy[keep], ring_of[keep]
    npts = np.bincount(ring_of, minlength=nring)
    need = {"polygon": 3, "line": 2, "point": 1}[kind]
    ring_ok = npts >= need
    if kind == "polygon" and len(ux):
        ux, uy, ring_ok = _orient_rings(ux, uy, ring_of, npts, ring_ok, ring_part, exterior,
                                        nparts)
    # keep only rings that are drawn
    pk = ring_ok[ring_of]
    ux, uy, ring_of = ux[pk], uy[pk], ring_of[pk]
    kept = np.flatnonzero(ring_ok)
    remap = np.full(nring, -1)
    remap[kept] = np.arange(len(kept))
    ring_of = remap[ring_of]
    npts = npts[kept]
    rpair = ring_pair[kept]
    # deltas from the previous point of the same pair (the cursor starts at 0,0 per feature)
    ppair = rpair[ring_of] if len(ring_of) else np.zeros(0, dtype=np.int64)
    newpair = np.r_[True, ppair[1:] != ppair[:-1]] if len(ppair) else np.zeros(0, dtype=bool)
    dx = np.diff(ux, prepend=0)
    dy = np.diff(uy, prepend=0)
    dx[newpair], dy[newpair] = ux[newpair], uy[newpair]
    zx, zy = _zigzag(dx), _zigzag(dy)
    if kind == "point":
        return _point_commands(zx, zy, ppair, rpair, npts, npairs)
    return _ring_commands(zx, zy, ring_of, rpair, npts, npairs, 1 if kind == "polygon" else 0)


# ---------------------------------------------------------------------------------------------
# properties and tiles


def _texts(frame: pd.DataFrame, fields: Sequence[str]) -> list[tuple[str, np.ndarray, list]]:
    """Per field: codes (-1 for no value) and the text of each distinct value, as maps show it
    (:func:`display_value`, applied once per distinct value)."""
    out = []
    for f in fields:
        if f not in frame.columns:
            continue
        codes, uniques = pd.factorize(frame[f], use_na_sentinel=True)
        uniques = np.asarray(uniques, dtype=object).tolist()
        if not uniques or pd.api.types.infer_dtype(uniques, skipna=False) == "string":
            shown = [u if u.strip() else None for u in uniques]
        else:
            shown = [display_value(u) for u in uniques]
        gone = np.array([v is None for v in shown] + [True], dtype=bool)
        out.append((f, np.where(gone[codes], -1, codes).astype(np.int64), shown))
    return out


@dataclass
class _Values:
    """A field's distinct values as encoded Layer.values entries, one after the other."""

    data: np.ndarray         # uint8: every entry's bytes
    start: np.ndarray        # per value: offset of its entry in ``data``
    length: np.ndarray       # per value: bytes of its entry (0 for no value)


def _encode_values(shown: Sequence[str | None]) -> _Values:
    """:func:`_value_bytes` of every text (an empty entry for None), built with NumPy."""
    raw = [b"" if v is None else v.encode() for v in shown]
    n = np.fromiter(map(len, raw), dtype=np.int64, count=len(raw))
    text = np.frombuffer(b"".join(raw), dtype=np.uint8)
    some = np.array([v is not None for v in shown], dtype=bool)
    return _encode_texts(text, n, some)


def _encode_texts(text: np.ndarray, n: np.ndarray, some: np.ndarray) -> _Values:
    """:func:`_encode_values` of texts given as their UTF-8 bytes one after the other
    (``text``), their byte counts and whether each has a value (``some``)."""
    inner_b, inner_n = _varints(n)                    # Value.string_value: 0x0A, len, text
    body = 1 + inner_n + n
    outer_b, outer_n = _varints(body)                 # Layer.values: 0x22, len, Value
    one = np.ones(len(n), dtype=np.int64)
    data, length = _assemble([(np.full(len(n), 0x22, dtype=np.uint8), one),
                              (outer_b, outer_n), (np.full(len(n), 0x0A, dtype=np.uint8), one),
                              (inner_b, inner_n), (text, n)])
    if not some.all():   # no value: no entry (its bytes are taken out)
        keep = np.repeat(some, length)
        data, length = data[keep], np.where(some, length, 0)
    return _Values(data, np.r_[0, np.cumsum(length)[:-1]].astype(np.int64), length)


def _columns(frame: pd.DataFrame, fields: Sequence[str]) -> list[tuple[str, np.ndarray,
                                                                        _Values]]:
    """:func:`_texts` with each distinct value as an encoded Layer.values entry."""
    out = []
    for f in fields:
        if f not in frame.columns:
            continue
        col = _arrow_strings(frame[f])
        if col is None:
            col = tuple(_texts(frame, [f])[0][1:])
            col = (col[0], _encode_values(col[1]))
        out.append((f, *col))
    return out


#: First UTF-8 bytes of the characters ``str.strip`` removes: ASCII up to the space, U+0085 and
#: U+00A0 (0xC2), U+1680 (0xE1), U+2000-U+205F (0xE2), U+3000 (0xE3).
_SPACE_LEAD = np.zeros(256, dtype=bool)
_SPACE_LEAD[:0x21] = True
_SPACE_LEAD[[0xC2, 0xE1, 0xE2, 0xE3]] = True


def _arrow_strings(values: pd.Series) -> tuple[np.ndarray, _Values] | None:
    """:func:`_texts` + :func:`_encode_values` of a column of pyarrow-backed strings, read from
    the Arrow buffers (no Python string per value); None for other columns."""
    dtype = values.dtype
    if not (isinstance(dtype, pd.StringDtype) and dtype.storage == "pyarrow"):
        return None
    import pyarrow as pa

    codes, uniques = pd.factorize(values, use_na_sentinel=True)
    arr = pa.array(uniques, type=pa.large_string())
    offsets = np.frombuffer(arr.buffers()[1], dtype=np.int64)[arr.offset:arr.offset + len(arr)
                                                              + 1]
    data = arr.buffers()[2]
    text = (np.frombuffer(data, dtype=np.uint8)[offsets[0]:offsets[-1]] if data is not None
            else np.zeros(0, dtype=np.uint8))
    n = np.diff(offsets)
    # a text of spaces only has no value (str.strip, as _texts): it starts with a space
    lead = text[np.minimum(offsets[:-1] - offsets[0], max(len(text) - 1, 0))] if len(text) \
        else np.zeros(len(n), dtype=np.uint8)
    some = np.ones(len(n), dtype=bool)
    for i in np.flatnonzero((n == 0) | _SPACE_LEAD[lead]).tolist():
        some[i] = bool(str(uniques[i]).strip())
    gone = np.r_[~some, True]
    return np.where(gone[codes], -1, codes).astype(np.int64), _encode_texts(text, n, some)


def encode_tiles(gdf: gpd.GeoDataFrame, z: int, *, layer: str, fields: Sequence[str] = (),
                 extent: int = 4096, buffer: int = 64, simplify_px: float = 0.0,
                 min_size_px: float = 0.0, mercator: np.ndarray | None = None,
                 columns: list[tuple[str, np.ndarray, list]] | None = None
                 ) -> list[tuple[int, int, bytes, int]]:
    """Every non-empty MVT tile of ``gdf`` at zoom ``z``: ``[(x, y, protobuf, features), ...]``.

    ``simplify_px`` and ``min_size_px`` are in screen pixels (256 per tile); ``buffer`` in tile
    units (``extent`` per tile). ``mercator`` may pass the geometries already in EPSG:3857 and
    ``columns`` the encoded properties (both computed once per layer by :func:`write_pmtiles`).
    Properties are written for ``fields`` (values as shown on maps: :func:`display_value`).

    >>> import geopandas as gpd
    >>> from shapely.geometry import Point
    >>> g = gpd.GeoDataFrame({"n": [1]}, geometry=[Point(0, 0)], crs="EPSG:3857")
    >>> [(x, y, n) for x, y, _, n in encode_tiles(g, 1, layer="p", fields=["n"])]
    [(0, 0, 1), (0, 1, 1), (1, 0, 1), (1, 1, 1)]
    """
    geoms = _mercator(gdf.geometry) if mercator is None else mercator
    cols = columns if columns is not None else _columns(gdf, fields)
    return [t for shapes in _zoom_shapes(geoms, z, extent=extent, buffer=buffer,
                                         simplify_px=simplify_px, min_size_px=min_size_px)
            for t in _write_tiles(layer, extent, shapes, cols)]


@dataclass
class _Shapes:
    """The tiles of some whole tile columns of one zoom without their properties: the
    geometry bytes of every feature written, in tile order. What a week's property values are
    written with (:func:`_write_tiles`); kept on disk for a layer whose values change from week
    to week while its geometry does not (:func:`write_pmtiles` ``cache_shapes``)."""

    rows: np.ndarray         # per feature written: its row in the layer
    geom: np.ndarray         # uint8: the features' Feature.geometry varints, one after the other
    glen: np.ndarray         # per feature: its geometry bytes
    first: np.ndarray        # per tile: its first feature
    tx: np.ndarray           # per tile: x
    ty: np.ndarray           # per tile: y
    ftype: int               # MVT geometry type

    ARRAYS = ("rows", "geom", "glen", "first", "tx", "ty")


def _zoom_shapes(geoms: np.ndarray, z: int, *, extent: int, buffer: int, simplify_px: float,
                 min_size_px: float) -> Iterator[_Shapes]:
    """The :class:`_Shapes` of zoom ``z`` of ``geoms`` (EPSG:3857), a chunk of tile columns at
    a time (:func:`encode_tiles`)."""
    valid = ~shapely.is_missing(geoms) & ~shapely.is_empty(geoms)
    size = 2 * WORLD / (1 << z)
    px = size / 256
    if min_size_px > 0 and valid.any() and _kind(geoms[valid]) != "point":
        b = shapely.bounds(geoms)
        valid &= np.maximum(b[:, 2] - b[:, 0], b[:, 3] - b[:, 1]) >= min_size_px * px
    rows = np.flatnonzero(valid)
    if not len(rows):
        return
    geoms = geoms[rows]
    kind = _kind(geoms)
    if simplify_px > 0 and kind != "point":
        geoms = _simplify(geoms, simplify_px * px)
    buffer_m = buffer / extent * size
    bounds = shapely.bounds(geoms)
    fi, tx, ty = _pairs(bounds, z, buffer_m)
    for sel in _pair_chunks(tx, _MAX_PAIRS):
        shapes = _shape_pairs(geoms, bounds, fi[sel], tx[sel], ty[sel], z, kind, extent,
                              buffer_m, rows)
        if shapes is not None:
            yield shapes


#: Pairs (feature, tile) encoded at a time: a chunk's clipped geometries and commands are freed
#: before the next (the 1M-building city has 1.1M pairs at zoom 16).
_MAX_PAIRS = 200_000


def _pair_chunks(tx: np.ndarray, limit: int) -> Iterator[np.ndarray]:
    """Pair indexes in chunks of whole tile columns (every tile in one chunk), each of at most
    ``limit`` pairs unless one column has more; chunks in column order."""
    if len(tx) <= limit:
        yield np.arange(len(tx))
        return
    order = np.argsort(tx, kind="stable")
    stx = tx[order]
    starts = np.flatnonzero(np.r_[True, stx[1:] != stx[:-1]])
    cuts = [0]
    while len(stx) - cuts[-1] > limit:
        at = cuts[-1]
        nxt = int(starts[np.searchsorted(starts, at + limit, side="right") - 1])
        if nxt <= at:    # one column holds more than the limit: it is a chunk of its own
            k = int(np.searchsorted(starts, at, side="right"))
            nxt = int(starts[k]) if k < len(starts) else len(stx)
        cuts.append(nxt)
    cuts.append(len(stx))
    for a, b in zip(cuts[:-1], cuts[1:]):
        if b > a:
            yield np.sort(order[a:b])


def _shape_pairs(geoms: np.ndarray, bounds: np.ndarray, fi: np.ndarray, tx: np.ndarray,
                 ty: np.ndarray, z: int, kind: str, extent: int, buffer_m: float,
                 rows: np.ndarray) -> _Shapes | None:
    """The tiles of the (feature, tile) pairs given (whole tiles), in (x, y) order, without
    properties; ``rows``: the layer row of each of ``geoms``."""
    # pairs in the order written (tile, then feature): their commands come out in that order
    o = np.lexsort((fi, ty, tx))
    fi, tx, ty = fi[o], tx[o], ty[o]
    clipped = _clip(geoms, fi, tx, ty, z, buffer_m, bounds[fi])
    nonempty = ~shapely.is_empty(clipped) & ~shapely.is_missing(clipped)
    fi, tx, ty, clipped = fi[nonempty], tx[nonempty], ty[nonempty], clipped[nonempty]
    if kind == "polygon":
        clipped = _areas_only(clipped)
        has = ~shapely.is_missing(clipped)
        fi, tx, ty, clipped = fi[has], tx[has], ty[has], clipped[has]
    enc = _geometry_commands(clipped, tx, ty, z, kind, extent)
    del clipped
    order = np.flatnonzero(enc.ok)
    if not len(order):
        return None
    tkey = tx[order] * (1 << z) + ty[order]
    first = np.flatnonzero(np.r_[True, tkey[1:] != tkey[:-1]])
    # geometry: varint bytes of the command stream, gathered in tile order
    gbytes, gn = _varints(enc.commands)
    cum = np.r_[0, np.cumsum(gn)]
    gstart, gend = cum[enc.start[order]], cum[enc.start[order + 1]]
    glen = gend - gstart
    # pairs in command order, those left out without commands: the stream as it is
    inorder = gstart[0] == 0 and gend[-1] == len(gbytes) and (gstart[1:] == gend[:-1]).all()
    geom = gbytes if inorder else _gather(gbytes, gstart, glen)
    return _Shapes(rows=rows[fi[order]], geom=geom, glen=glen, first=first,
                   tx=tx[order[first]], ty=ty[order[first]], ftype=_KIND_TYPE[kind])


# Protocol Buffers wire format of vector_tile.proto (the schema mapbox-vector-tile ships as
# vector_tile_pb2): Tile.layers = 3; Layer.name = 1, features = 2, keys = 3, values = 4,
# extent = 5, version = 15; Feature.tags = 2 (packed), type = 3, geometry = 4 (packed);
# Value.string = 1, double = 3, int = 4, sint = 6, bool = 7. All features of a zoom are written
# at once with NumPy; tests decode the tiles with mapbox_vector_tile and compare them with
# encode_tile_reference.


def _varints(v: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Varint bytes of every value (non-negative, < 2**35) and each value's byte count."""
    v = np.asarray(v)
    v = v.astype(np.uint32 if v.dtype == np.uint32 else np.uint64, copy=False)
    top = int(v.max()) if len(v) else 0
    width = 1 + sum(top >= 1 << (7 * k) for k in range(1, 5))
    if width == 1:
        return v.astype(np.uint8), np.ones(len(v), dtype=np.int64)
    # byte k of each value in column k, written where k < the value's byte count
    more = np.empty((len(v), width), dtype=bool)
    more[:, 0] = True
    for k in range(1, width):
        np.greater_equal(v, v.dtype.type(1 << (7 * k)), out=more[:, k])
    grid = np.empty((len(v), width), dtype=np.uint8)
    for k in range(width):
        col = (v >> v.dtype.type(7 * k)).astype(np.uint8)
        col &= 0x7F
        if k + 1 < width:     # the high bit: another byte follows
            col |= more[:, k + 1].view(np.uint8) << np.uint8(7)
        grid[:, k] = col
    n = more[:, 1].astype(np.int64) + 1 if width == 2 else more.sum(axis=1, dtype=np.int64)
    return grid[more], n


def _varint(i: int) -> bytes:
    out = bytearray()
    while True:
        b = i & 0x7F
        i >>= 7
        if i:
            out.append(b | 0x80)
        else:
            out.append(b)
            return bytes(out)


def _segment_sums(lengths: np.ndarray, counts: np.ndarray) -> np.ndarray:
    """Sum of ``lengths`` over consecutive groups of ``counts`` items."""
    c = np.r_[0, np.cumsum(lengths)]
    ends = np.cumsum(counts)
    return c[ends] - c[ends - counts]


def _gather(flat: np.ndarray, start: np.ndarray, length: np.ndarray) -> np.ndarray:
    """Concatenation of ``flat[start[i]:start[i] + length[i]]`` over i."""
    idx = np.repeat(start - (np.cumsum(length) - length), length) + np.arange(length.sum())
    return flat[idx]


def _assemble(pieces: Sequence[tuple[np.ndarray, np.ndarray]]) -> tuple[np.ndarray, np.ndarray]:
    """Records made of ``pieces`` in order: each piece is (flat bytes, length per record)."""
    total = np.zeros(len(pieces[0][1]), dtype=np.int64)
    for _, ln in pieces:
        total += ln
    rec_start = np.cumsum(total) - total
    out = np.empty(int(total.sum()), dtype=np.uint8)
    at = rec_start.copy()      # where each record's next piece goes
    for data, ln in pieces:
        if len(ln) and (ln == ln[0]).all():     # the same length in every record
            c = int(ln[0])
            if c:
                out[at[:, None] + np.arange(c)] = data.reshape(-1, c)
        elif len(data):
            out[np.repeat(at - (np.cumsum(ln) - ln), ln) + np.arange(len(data))] = data
        at += ln
    return out, total


def _value_bytes(text: str) -> bytes:
    """A Layer.values entry (field 4) holding the string ``text`` (Value.string_value = 1)."""
    raw = text.encode()
    n = len(raw)
    if n < 126:
        return bytes((0x22, n + 2, 0x0A, n)) + raw
    body = b"\x0a" + _varint(n) + raw
    return b"\x22" + _varint(len(body)) + body


def _write_tiles(layer: str, extent: int, shapes: _Shapes,
                 cols: Sequence[tuple[str, np.ndarray, list]]
                 ) -> list[tuple[int, int, bytes, int]]:
    """The tiles of ``shapes`` with the property values of ``cols`` (codes per layer row)."""
    frows, first, geom, glen = shapes.rows, shapes.first, shapes.geom, shapes.glen
    nf, ntiles = len(frows), len(first)
    tile_of = np.repeat(np.arange(ntiles), np.diff(np.r_[first, nf]))
    # tags: (key, value) per field with a value; value indices local to each tile
    tagcols, vals_tiles, vals_fields, vals_codes = [], [], [], []
    offset = np.zeros(ntiles, dtype=np.int64)
    for k, (_, codes, values) in enumerate(cols):
        c = codes[frows]
        has = c >= 0
        # codes run over the field's distinct values in the whole layer, not over the rows of
        # this zoom (fewer where small features are left off)
        span = len(values.length) + 1
        key = tile_of[has] * span + c[has]
        uniq, inv = np.unique(key, return_inverse=True)
        ut = uniq // span
        ufirst = np.searchsorted(ut, np.arange(ntiles))
        rank = np.arange(len(uniq)) - ufirst[ut]
        vi = np.full(nf, -1, dtype=np.int64)
        vi[has] = offset[ut[inv]] + rank[inv]
        offset += np.bincount(ut, minlength=ntiles)
        tagcols += [np.where(has, k, -1), vi]
        vals_tiles.append(ut)
        vals_fields.append(np.full(len(uniq), k))
        vals_codes.append(uniq % span)
    if tagcols:
        t = np.column_stack(tagcols).ravel()
        ok = t >= 0
        tbytes, tn = _varints(t[ok])
        per_feat = ok.reshape(nf, -1).sum(axis=1)
        tlen = _segment_sums(tn, per_feat)
    else:
        tbytes, tlen = np.zeros(0, dtype=np.uint8), np.zeros(nf, dtype=np.int64)
    tlv, tlvn = _varints(tlen)
    glv, glvn = _varints(glen)
    one = np.ones(nf, dtype=np.int64)
    body_len = 1 + tlvn + tlen + 2 + 1 + glvn + glen
    blv, blvn = _varints(body_len)
    feats, flen = _assemble([
        (np.full(nf, 0x12, dtype=np.uint8), one), (blv, blvn),
        (np.full(nf, 0x12, dtype=np.uint8), one), (tlv, tlvn), (tbytes, tlen),
        (np.tile(np.array([0x18, shapes.ftype], dtype=np.uint8), nf), 2 * one),
        (np.full(nf, 0x22, dtype=np.uint8), one), (glv, glvn), (geom, glen)])
    fcum = np.r_[0, np.cumsum(flen)]
    nfeat = np.diff(np.r_[first, nf])
    fends = np.r_[first[1:], nf]
    # values: per tile, per field, in code order
    name = layer.encode()
    head = (b"\x0a" + _varint(len(name)) + name + b"\x28" + _varint(extent) + b"\x78\x02"
            + b"".join(b"\x1a" + _varint(len(f.encode())) + f.encode() for f, _, _ in cols))
    vals, vcum = _tile_values(cols, vals_tiles, vals_fields, vals_codes, ntiles)
    out: list[tuple[int, int, bytes, int]] = []
    fb = feats.tobytes()
    fcum_l, vcum_l = fcum.tolist(), vcum.tolist()
    first_l, fends_l, nfeat_l = first.tolist(), fends.tolist(), nfeat.tolist()
    txs, tys = shapes.tx.tolist(), shapes.ty.tolist()
    for i in range(ntiles):
        lay = head + vals[vcum_l[i]:vcum_l[i + 1]] + fb[fcum_l[first_l[i]]:fcum_l[fends_l[i]]]
        out.append((txs[i], tys[i], b"\x1a" + _varint(len(lay)) + lay, nfeat_l[i]))
    return out


def _tile_values(cols: Sequence[tuple[str, np.ndarray, _Values]], vals_tiles: list[np.ndarray],
                 vals_fields: list[np.ndarray], vals_codes: list[np.ndarray], ntiles: int
                 ) -> tuple[bytes, np.ndarray]:
    """The Layer.values entries of every tile (per tile, per field, in code order) one after
    the other, and where each tile's begin (``ntiles + 1`` offsets)."""
    if not vals_tiles:
        return b"", np.zeros(ntiles + 1, dtype=np.int64)
    vt = np.concatenate(vals_tiles)
    vf = np.concatenate(vals_fields)
    vc = np.concatenate(vals_codes)
    o = np.lexsort((vf, vt))     # stable: codes stay in order within a field
    vt, vf, vc = vt[o], vf[o], vc[o]
    tables = [v for _, _, v in cols]
    data_base = np.cumsum([0] + [len(t.data) for t in tables])[:-1]
    code_base = np.cumsum([0] + [len(t.start) for t in tables])[:-1]
    starts = np.concatenate([t.start + b for t, b in zip(tables, data_base)])
    lengths = np.concatenate([t.length for t in tables])
    k = code_base[vf] + vc
    vlen = lengths[k]
    vals = _gather(np.concatenate([t.data for t in tables]), starts[k], vlen)
    per_tile = np.bincount(vt, weights=vlen, minlength=ntiles).astype(np.int64)
    return vals.tobytes(), np.r_[0, np.cumsum(per_tile)]


def encode_tile_reference(gdf: gpd.GeoDataFrame, z: int, x: int, y: int, *, layer: str,
                          fields: Sequence[str] = (), extent: int = 4096, buffer: int = 64,
                          simplify_px: float = 0.0, min_size_px: float = 0.0,
                          mercator: np.ndarray | None = None) -> bytes:
    """The same tile as :func:`encode_tiles`, encoded by ``mapbox_vector_tile.encode``.

    The library's own Python path (quantizing, winding order and commands one feature at a
    time): the reference the tests compare :func:`encode_tiles` with, and the baseline of
    ``bench/bench_tiles.py``.
    """
    import mapbox_vector_tile

    geoms = _mercator(gdf.geometry) if mercator is None else mercator
    size = 2 * WORLD / (1 << z)
    px = size / 256
    valid = ~shapely.is_missing(geoms) & ~shapely.is_empty(geoms)
    if min_size_px > 0 and valid.any() and _kind(geoms[valid]) != "point":
        b = shapely.bounds(geoms)
        valid &= np.maximum(b[:, 2] - b[:, 0], b[:, 3] - b[:, 1]) >= min_size_px * px
    rows = np.flatnonzero(valid)
    geoms = geoms[rows]
    kind = _kind(geoms) if len(geoms) else "point"
    if simplify_px > 0 and kind != "point":
        geoms = _simplify(geoms, simplify_px * px)
    minx, miny, maxx, maxy = tile_bounds(z, x, y)
    buf = buffer / extent * size
    box = shapely.box(minx - buf, miny - buf, maxx + buf, maxy + buf)
    hit = shapely.intersects(geoms, box)
    texts = _texts(gdf.iloc[rows], fields)
    props = [{name: shown[c] for name, codes, shown in texts for c in [codes[i]] if c >= 0}
             for i in np.flatnonzero(hit)]
    feats = [{"geometry": shapely.clip_by_rect(g, minx - buf, miny - buf, maxx + buf,
                                               maxy + buf), "properties": p}
             for g, p in zip(geoms[hit], props)]
    return mapbox_vector_tile.encode(
        {"name": layer, "features": feats},
        default_options={"quantize_bounds": (minx, miny, maxx, maxy), "extents": extent})


# ---------------------------------------------------------------------------------------------
# archives


def write_pmtiles(gdf: gpd.GeoDataFrame, path: str | os.PathLike[str], *, layer: str,
                  fields: Sequence[str] = (), min_zoom: int, max_zoom: int,
                  extent: int | None = None, buffer: int | None = None,
                  simplify_px: float | None = None, min_size_px: float | None = None,
                  compress: bool | None = None, cache: bool = False,
                  cache_shapes: bool = False) -> TileSet:
    """Write ``gdf`` as a PMTiles archive of vector tiles (one MVT layer named ``layer``).

    Options left out come from ``publish.yaml`` ``tiles``. Simplification applies below
    ``max_zoom`` only (at the last zoom the tile grid, 1/``extent`` of a tile, is the only
    rounding); features smaller than ``min_size_px`` are left off those zooms too. The archive
    is written atomically; tiles are gzip-compressed (deterministic: no timestamp).

    With ``cache``, an archive made from the same geometry, values and options is copied from
    the on-disk cache (:mod:`zlgis.publish.tile_cache`) instead of encoded, and a new one is
    kept there. With ``cache_shapes`` (a layer whose values change from week to week, such as
    the buildings with their finding status), the tiles' geometry, which depends on the
    geometry and the options only, is kept there and read back: only the values are written
    again. The archive is the same either way.
    """
    cfg = tile_config()
    extent, buffer = map(int, unless_given(cfg, extent=extent, buffer=buffer))
    simplify_px, min_size_px = map(float, unless_given(cfg, simplify_px=simplify_px,
                                                       min_size_px=min_size_px))
    compress = bool(unless_given(cfg, gzip=compress)[0])
    if not 0 <= min_zoom <= max_zoom <= 22:
        raise ConfigError(f"矢量瓦片图层 {layer} 的缩放级别 {min_zoom}-{max_zoom} 无效")
    fields = [f for f in fields if f in gdf.columns]
    columns = _columns(gdf, fields)
    shaping = {"layer": layer, "min_zoom": min_zoom, "max_zoom": max_zoom, "extent": extent,
               "buffer": buffer, "simplify_px": simplify_px, "min_size_px": min_size_px}
    opts = {**shaping, "compress": compress}
    path = Path(path)
    key = shapes_key = None
    if cache or cache_shapes:
        from . import tile_cache

        geoms = np.asarray(gdf.geometry.array, dtype=object)
        if cache:
            key = tile_cache.archive_key(geoms, gdf.crs, columns, opts)
            info = tile_cache.load(layer, key, path)
            if info is not None:
                return TileSet(path=path, layer=info["layer"], min_zoom=int(info["min_zoom"]),
                               max_zoom=int(info["max_zoom"]), tiles=int(info["tiles"]),
                               features=int(info["features"]), fields=tuple(info["fields"]),
                               bounds=tuple(float(v) for v in info["bounds"]),
                               first_tile=tuple(int(v) for v in info["first_tile"]))
        if cache_shapes:
            shapes_key = tile_cache.archive_key(geoms, gdf.crs, [], {**shaping, "of": "shapes"})
    ts = _write_archive(gdf, path, fields, columns, shapes_key=shapes_key, **opts)
    if key is not None:
        tile_cache.store(layer, key, path, {k: v for k, v in ts.__dict__.items() if k != "path"})
    return ts


def _archive_shapes(gdf: gpd.GeoDataFrame, zooms: range, shapes_key: str | None, *, layer: str,
                    extent: int, buffer: int, simplify_px: float, min_size_px: float
                    ) -> tuple[dict[int, Iterable[_Shapes]], np.ndarray]:
    """Per zoom, the :class:`_Shapes` of the archive (computed lazily, or all at once and kept
    in the cache when ``shapes_key`` is given, or read from it); and the layer's lon/lat
    bounds."""
    from . import tile_cache

    if shapes_key is not None:
        cached = _shapes_from_arrays(tile_cache.load_arrays(f"{layer}.shapes", shapes_key),
                                     zooms, len(gdf))
        if cached is not None:
            return cached
    merc = _mercator(gdf.geometry)
    ok = merc[~shapely.is_missing(merc) & ~shapely.is_empty(merc)]
    if len(ok):
        b = _to_lonlat(shapely.total_bounds(ok).reshape(2, 2)).ravel()
    else:
        b = np.array([-180.0, -85.0, 180.0, 85.0])
    del ok
    shapes: dict[int, Iterable[_Shapes]] = {
        z: _zoom_shapes(merc, z, extent=extent, buffer=buffer,
                        simplify_px=0.0 if z == zooms[-1] else simplify_px,
                        min_size_px=0.0 if z == zooms[-1] else min_size_px) for z in zooms}
    if shapes_key is not None:
        shapes = {z: list(chunks) for z, chunks in shapes.items()}
        tile_cache.store_arrays(f"{layer}.shapes", shapes_key, _shapes_arrays(shapes, b))
    return shapes, b


def _shapes_arrays(shapes: Mapping[int, Iterable[_Shapes]], bounds: np.ndarray
                   ) -> dict[str, np.ndarray]:
    """``shapes`` and ``bounds`` as named arrays (what the cache keeps)."""
    out = {"bounds": np.asarray(bounds, dtype=float)}
    for z, chunks in shapes.items():
        for i, s in enumerate(chunks):
            out.update({f"{z}.{i}.{name}": getattr(s, name) for name in _Shapes.ARRAYS})
            out[f"{z}.{i}.ftype"] = np.array([s.ftype])
    return out


def _shapes_from_arrays(arrays: Mapping[str, np.ndarray] | None, zooms: range, rows: int
                        ) -> tuple[dict[int, Iterable[_Shapes]], np.ndarray] | None:
    """:func:`_shapes_arrays` read back; None when ``arrays`` is None or does not hold
    consistent shapes of ``zooms`` for a layer of ``rows`` rows."""
    if arrays is None or "bounds" not in arrays:
        return None
    shapes: dict[int, Iterable[_Shapes]] = {}
    for z in zooms:
        chunks = []
        while f"{z}.{len(chunks)}.rows" in arrays:
            at = f"{z}.{len(chunks)}."
            try:
                s = _Shapes(**{n: arrays[at + n] for n in _Shapes.ARRAYS},
                            ftype=int(arrays[at + "ftype"][0]))
            except (KeyError, IndexError):
                return None
            nf = len(s.rows)
            if len(s.glen) != nf or int(s.glen.sum()) != len(s.geom) or not nf or \
                    s.rows.max() >= rows or not (len(s.first) == len(s.tx) == len(s.ty)) or \
                    s.first[0] != 0 or s.first[-1] >= nf:
                return None
            chunks.append(s)
        shapes[z] = chunks
    return shapes, arrays["bounds"]


def _write_archive(gdf: gpd.GeoDataFrame, path: Path, fields: list[str],
                   columns: list[tuple[str, np.ndarray, _Values]], *, layer: str,
                   min_zoom: int, max_zoom: int, extent: int, buffer: int, simplify_px: float,
                   min_size_px: float, compress: bool, shapes_key: str | None = None
                   ) -> TileSet:
    """Encode every zoom of ``gdf`` and write the archive (:func:`write_pmtiles`)."""
    from pmtiles.tile import Compression, TileType
    from pmtiles.writer import Writer

    shapes, b = _archive_shapes(gdf, range(min_zoom, max_zoom + 1), shapes_key, layer=layer,
                                extent=extent, buffer=buffer, simplify_px=simplify_px,
                                min_size_px=min_size_px)
    ids, tiles, nfeat = [], [], 0
    for z in range(min_zoom, max_zoom + 1):
        zt = [t for s in shapes.pop(z) for t in _write_tiles(layer, extent, s, columns)]
        ids.append(tile_ids(z, np.array([t[0] for t in zt], dtype=np.int64),
                            np.array([t[1] for t in zt], dtype=np.int64)))
        tiles += [t[2] for t in zt]
        nfeat += sum(t[3] for t in zt)
    tid = np.concatenate(ids) if ids else np.zeros(0, dtype=np.int64)
    order = np.argsort(tid, kind="stable")
    tiles = list(zip(tid[order].tolist(), [tiles[i] for i in order.tolist()]))
    first = _tileid_zxy(tiles[0][0]) if tiles else (min_zoom, 0, 0)
    header = {"tile_type": TileType.MVT,
              "tile_compression": Compression.GZIP if compress else Compression.NONE,
              "min_lon_e7": int(b[0] * 1e7), "min_lat_e7": int(b[1] * 1e7),
              "max_lon_e7": int(b[2] * 1e7), "max_lat_e7": int(b[3] * 1e7),
              "center_zoom": max_zoom, "center_lon_e7": int((b[0] + b[2]) / 2 * 1e7),
              "center_lat_e7": int((b[1] + b[3]) / 2 * 1e7)}
    metadata = {"name": layer, "format": "pbf", "generator": "zlgis",
                "vector_layers": [{"id": layer, "minzoom": min_zoom, "maxzoom": max_zoom,
                                   "fields": {f: "String" for f in fields}}]}
    with atomic_path(path) as tmp, open(tmp, "wb") as fh:
        w = Writer(fh)
        for tid, data in tiles:
            w.write_tile(tid, gzip.compress(data, compresslevel=1, mtime=0) if compress
                         else data)
        if not tiles:   # an empty archive still opens: one empty tile at the first zoom
            w.write_tile(int(tile_ids(min_zoom, np.zeros(1, dtype=np.int64),
                                      np.zeros(1, dtype=np.int64))[0]), b"")
        w.finalize(header, metadata)
    return TileSet(path=path, layer=layer, min_zoom=min_zoom, max_zoom=max_zoom,
                   tiles=len(tiles), features=nfeat,
                   fields=tuple(fields), bounds=tuple(float(v) for v in b),
                   first_tile=first)


def tile_ids(z: int, x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """PMTiles tile ids of tiles ``z/x/y`` (``pmtiles.tile.zxy_to_tileid`` for arrays: the
    tiles of all lower zooms, then the position on the Hilbert curve of zoom ``z``).

    >>> from pmtiles.tile import zxy_to_tileid
    >>> tile_ids(16, np.array([53440, 0]), np.array([23012, 65535])).tolist() == [
    ...     zxy_to_tileid(16, 53440, 23012), zxy_to_tileid(16, 0, 65535)]
    True
    """
    if not 0 <= z <= 26:
        raise ValueError(f"zoom {z} out of range")
    x = np.array(x, dtype=np.int64)
    y = np.array(y, dtype=np.int64)
    acc = np.full(len(x), ((1 << (2 * z)) - 1) // 3, dtype=np.int64)
    for a in range(z - 1, -1, -1):
        s = 1 << a
        rx, ry = x & s, y & s
        acc += ((3 * rx) ^ ry) << a
        # rotate the quadrant: flip where ry == 0 and rx != 0, then swap x and y where ry == 0
        turn = ry == 0
        flip = turn & (rx != 0)
        x[flip], y[flip] = s - 1 - x[flip], s - 1 - y[flip]
        x[turn], y[turn] = y[turn], x[turn]
    return acc


def _to_lonlat(c: np.ndarray) -> np.ndarray:
    lon = c[:, 0] / WORLD * 180.0
    lat = np.degrees(2 * np.arctan(np.exp(c[:, 1] / WORLD * math.pi)) - math.pi / 2)
    return np.column_stack([lon, lat])


def _tileid_zxy(tid: int) -> tuple[int, int, int]:
    from pmtiles.tile import tileid_to_zxy

    z, x, y = tileid_to_zxy(tid)
    return int(z), int(x), int(y)


def read_tile(path: str | os.PathLike[str], z: int, x: int, y: int) -> dict[str, Any]:
    """Decode tile ``z/x/y`` of a PMTiles archive (``{}`` when absent): layers, features and
    their properties, as ``mapbox_vector_tile.decode`` gives them."""
    import mapbox_vector_tile
    from pmtiles.reader import MmapSource, Reader

    with open(path, "rb") as fh:
        data = Reader(MmapSource(fh)).get(z, x, y)
    if not data:
        return {}
    if data[:2] == b"\x1f\x8b":
        data = gzip.decompress(data)
    return mapbox_vector_tile.decode(data, default_options={"y_coord_down": True})


def metadata(path: str | os.PathLike[str]) -> dict[str, Any]:
    """The JSON metadata of a PMTiles archive."""
    from pmtiles.reader import MmapSource, Reader

    with open(path, "rb") as fh:
        return json.loads(json.dumps(Reader(MmapSource(fh)).metadata()))
