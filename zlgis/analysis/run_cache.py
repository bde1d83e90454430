"""One run's shared intermediate results (street graphs, snapped points), built once per run.

The weekly run (:func:`zlgis.weekly.run_checks`) opens a :class:`RunCache` around its checks
(``with run_cache():``); anything a check builds through :func:`shared` while it is open is
built once and handed to every later check asking with the same key. Outside a run (a single
command, a notebook) :func:`shared` simply builds. The street graphs of
:meth:`StreetGraph.from_roads <zlgis.analysis.street_graph.StreetGraph.from_roads>` go through
it, keyed by the road layer's content (:func:`frame_key`) and the travel mode, so coverage,
trucks and any new check share the street graph; one graph is kept at a time (a city's graph
takes hundreds of MB), so checks asking for the same mode one after the other share it. The
weekly run builds the graphs its checks declare before forking its workers
(:meth:`RunCache.holding`: all kept), and the workers share them.

A new check uses it for its own expensive, read-only intermediates:

>>> from zlgis.analysis.run_cache import run_cache, shared
>>> calls = []
>>> def build():
...     calls.append(1)
...     return [1, 2, 3]
>>> with run_cache():
...     a = shared(("my_check", "table"), build)
...     b = shared(("my_check", "table"), build)
>>> a is b, len(calls)
(True, 1)

Shared objects must not be modified by the checks that receive them.
"""

from __future__ import annotations

import contextlib
import contextvars
import hashlib
from collections.abc import Callable, Hashable, Iterator, Sequence
from typing import Any, TypeVar

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from ..io.cache import hash_geometries

__all__ = ["RunCache", "run_cache", "active_cache", "shared", "shared_tree", "frame_key"]

T = TypeVar("T")


class RunCache:
    """A dictionary of things built once per run (see the module docstring)."""

    def __init__(self) -> None:
        self._items: dict[Hashable, Any] = {}
        self._slots: dict[str, Hashable] = {}
        self._keys: dict[int, tuple[Any, str]] = {}
        self._holding = False
        self.hits = 0

    def get(self, key: Hashable, make: Callable[[], T], *, slot: str | None = None) -> T:
        """The object stored under ``key``, built with ``make()`` the first time.

        Objects stored with the same ``slot`` replace each other: only the latest is kept
        (large things such as street graphs: the walking graph is freed once a check builds
        the driving one, and the next check asking for the driving graph still shares it).
        """
        if key in self._items:
            self.hits += 1
            return self._items[key]
        if self._holding:
            slot = None
        if slot is not None and slot in self._slots:
            self._items.pop(self._slots.pop(slot), None)
        value = make()
        self._items[key] = value
        if slot is not None:
            self._slots[slot] = key
        return value

    @contextlib.contextmanager
    def holding(self) -> Iterator[None]:
        """Within the block, what is built is kept for the rest of the run, whatever its slot
        (the weekly run builds the walking and driving graphs before forking its workers: both
        stay, and every worker shares them)."""
        self._holding = True
        try:
            yield
        finally:
            self._holding = False

    def frame_key(self, gdf: pd.DataFrame, columns: Sequence[str]) -> str:
        """:func:`frame_key`, computed once per frame object in this run."""
        memo = self._keys.get(id(gdf))
        if memo is None or memo[0] is not gdf:
            memo = (gdf, frame_key(gdf, columns))
            self._keys[id(gdf)] = memo
        return memo[1]

    def clear(self) -> None:
        self._items.clear()
        self._slots.clear()
        self._keys.clear()


_ACTIVE: contextvars.ContextVar[RunCache | None] = contextvars.ContextVar("zlgis_run_cache",
                                                                          default=None)


@contextlib.contextmanager
def run_cache() -> Iterator[RunCache]:
    """Open a run cache for the duration of the ``with`` block (nested blocks share it)."""
    current = _ACTIVE.get()
    if current is not None:
        yield current
        return
    cache = RunCache()
    token = _ACTIVE.set(cache)
    try:
        yield cache
    finally:
        _ACTIVE.reset(token)
        cache.clear()


def active_cache() -> RunCache | None:
    """The open run cache, or None outside a run."""
    return _ACTIVE.get()


def shared(key: Hashable, make: Callable[[], T]) -> T:
    """``make()``, built once per run under ``key`` when a run cache is open."""
    cache = _ACTIVE.get()
    return make() if cache is None else cache.get(key, make)


def shared_tree(geoms: np.ndarray) -> shapely.STRtree:
    """``shapely.STRtree(geoms)``, built once per run for the same array object.

    Several rules query a whole layer (``np.asarray(layer.geometry.values)`` gives the same
    array each time): the 1M city's buildings and roads trees were built again by each. The
    tree of the same geometries in the same order is the same tree, so the queries answer
    the same. The array is held with the tree (a new array at a reused address is not taken
    for it).
    """
    cache = _ACTIVE.get()
    if cache is None:
        return shapely.STRtree(geoms)
    held, tree = cache.get(("strtree", id(geoms)), lambda: (geoms, shapely.STRtree(geoms)))
    return tree if held is geoms else shapely.STRtree(geoms)


def frame_key(gdf: pd.DataFrame, columns: Sequence[str]) -> str:
    """A content hash of a frame's geometry (exact: :func:`zlgis.io.cache.hash_geometries`),
    its CRS and the named columns.

    >>> import geopandas as gpd, shapely
    >>> a = gpd.GeoDataFrame({"c": [1]}, geometry=[shapely.Point(0, 0)], crs="EPSG:4550")
    >>> frame_key(a, ["c"]) == frame_key(a.copy(), ["c"])
    True
    >>> frame_key(a, ["c"]) == frame_key(a.assign(c=[2]), ["c"])
    False
    """
    h = hashlib.blake2b(digest_size=20)
    if isinstance(gdf, gpd.GeoDataFrame):
        hash_geometries(h, np.asarray(gdf.geometry.values, dtype=object))
        h.update(str(gdf.crs).encode())
    for c in columns:
        if c in gdf.columns:
            h.update(c.encode())
            h.update(pd.util.hash_pandas_object(gdf[c], index=False).to_numpy().tobytes())
    return h.hexdigest()
