"""Stretches of road not served by any point within a reach (dark stretches, street-tree gaps).

A point on a road centreline is *served* when some point feature (a working lamp, a street tree)
lies within the road's reach (straight-line distance, in metres). This module finds the maximal
unserved stretches of every road exactly, without buffering: each road is cut into its straight
segments, the served interval of every (segment, point) pair within reach is solved in closed
form (the chord of the reach circle on the segment's line), and the intervals are merged per
road in linear measure. Curved roads (polylines) and points serving several roads (a lamp at a
junction) need no special case.

Examples
--------
>>> import geopandas as gpd
>>> from shapely.geometry import LineString, Point
>>> roads = gpd.GeoDataFrame({"road_id": ["R1"]}, geometry=[LineString([(0, 0), (200, 0)])],
...                          crs="EPSG:4550")
>>> lamps = gpd.GeoSeries([Point(30, 0), Point(170, 0)], crs="EPSG:4550")
>>> s = unserved_stretches(roads, lamps, reach=40.0)
>>> s[["road_id", "start_m", "end_m", "length_m"]].values.tolist()
[['R1', 70.0, 130.0, 60.0]]
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

__all__ = ["road_segments", "served_intervals", "unserved_stretches", "substrings"]

_COLUMNS = ["road_id", "start_m", "end_m", "length_m"]


def road_segments(lines: Sequence[Any] | np.ndarray) -> pd.DataFrame:
    """The straight segments of every line, with their position along the line.

    Parameters
    ----------
    lines : array of LineString
        Single-part lines (explode MultiLineStrings first).

    Returns
    -------
    DataFrame
        One row per segment: ``line`` (position in ``lines``), ``x0, y0, x1, y1``, ``length``
        and ``m0`` (measure of the segment start along its line).

    Examples
    --------
    >>> from shapely.geometry import LineString
    >>> road_segments([LineString([(0, 0), (3, 4), (3, 10)])])[["line", "m0", "length"]].values.tolist()
    [[0.0, 0.0, 5.0], [0.0, 5.0, 6.0]]
    """
    coords, idx = shapely.get_coordinates(np.asarray(lines, dtype=object), return_index=True)
    same = idx[1:] == idx[:-1]
    a = coords[:-1][same]
    b = coords[1:][same]
    line = idx[:-1][same]
    length = np.hypot(b[:, 0] - a[:, 0], b[:, 1] - a[:, 1])
    before = np.cumsum(length) - length
    start_of_line = np.r_[True, line[1:] != line[:-1]][:len(line)]
    group = np.cumsum(start_of_line) - 1
    m0 = before - before[start_of_line][group]
    return pd.DataFrame({"line": line, "x0": a[:, 0], "y0": a[:, 1], "x1": b[:, 0],
                         "y1": b[:, 1], "length": length, "m0": m0})


def served_intervals(segments: pd.DataFrame, points: np.ndarray, reach: np.ndarray
                     ) -> pd.DataFrame:
    """Intervals of line measure served by points within reach of each segment.

    Parameters
    ----------
    segments : DataFrame
        From :func:`road_segments`.
    points : array of Point
        The serving points.
    reach : array of float
        Reach (m) per segment.

    Returns
    -------
    DataFrame
        ``line``, ``a``, ``b`` (measures along the line), ``point`` (position in ``points``).
    """
    empty = pd.DataFrame({"line": np.array([], dtype=np.int64), "a": [], "b": [],
                          "point": np.array([], dtype=np.int64)})
    if not len(segments) or not len(points):
        return empty
    seg_geom = shapely.linestrings(
        np.stack([segments[["x0", "y0"]].to_numpy(), segments[["x1", "y1"]].to_numpy()], axis=1))
    tree = shapely.STRtree(points)
    si, pi = tree.query(seg_geom, predicate="dwithin", distance=reach)
    if not len(si):
        return empty
    x0 = segments["x0"].to_numpy()[si]
    y0 = segments["y0"].to_numpy()[si]
    L = segments["length"].to_numpy()[si]
    ux = (segments["x1"].to_numpy()[si] - x0) / np.where(L > 0, L, 1.0)
    uy = (segments["y1"].to_numpy()[si] - y0) / np.where(L > 0, L, 1.0)
    px = shapely.get_x(points)[pi] - x0
    py = shapely.get_y(points)[pi] - y0
    t = px * ux + py * uy
    h2 = np.maximum(px * px + py * py - t * t, 0.0)
    r = reach[si]
    half = np.sqrt(np.maximum(r * r - h2, 0.0))
    a = np.clip(t - half, 0.0, L)
    b = np.clip(t + half, 0.0, L)
    ok = (h2 <= r * r) & (b > a)
    m0 = segments["m0"].to_numpy()[si]
    return pd.DataFrame({"line": segments["line"].to_numpy()[si][ok], "a": (m0 + a)[ok],
                         "b": (m0 + b)[ok], "point": pi[ok]})


def _gaps(line_len: np.ndarray, iv: pd.DataFrame, min_length: float
          ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Complement of the union of intervals per line: (line, start, end) of gaps."""
    n = len(line_len)
    # every line gets two zero-length sentinels, at 0 and at its length
    line = np.r_[iv["line"].to_numpy(np.int64), np.arange(n), np.arange(n)]
    a = np.r_[iv["a"].to_numpy(float), np.zeros(n), line_len]
    b = np.r_[iv["b"].to_numpy(float), np.zeros(n), line_len]
    order = np.lexsort((a, line))
    line, a, b = line[order], a[order], b[order]
    # running maximum of ends within each line: offset lines so one global accumulate works
    span = float(line_len.max(initial=0.0)) + 1.0
    off = line * span
    reach_end = np.maximum.accumulate(b + off) - off
    prev_end = np.r_[0.0, reach_end[:-1]]
    first = np.r_[True, line[1:] != line[:-1]]
    # measures of touching segments may differ by rounding: gaps under a micrometre are none
    gap = ~first & (a - prev_end > max(min_length, 1e-6))
    return line[gap], prev_end[gap], a[gap]


def substrings(lines: np.ndarray, which: np.ndarray, start: np.ndarray, end: np.ndarray
               ) -> np.ndarray:
    """Parts of ``lines[which]`` between measures ``start`` and ``end`` (vectorised).

    Examples
    --------
    >>> from shapely.geometry import LineString
    >>> g = substrings(np.array([LineString([(0, 0), (10, 0), (10, 10)])]), np.array([0]),
    ...                np.array([5.0]), np.array([15.0]))
    >>> shapely.get_coordinates(g).tolist()
    [[5.0, 0.0], [10.0, 0.0], [10.0, 5.0]]
    """
    if not len(which):
        return np.array([], dtype=object)
    coords, idx = shapely.get_coordinates(lines, return_index=True)
    seg = road_segments(lines)
    # measure of every vertex along its line
    vm = np.empty(len(coords))
    first_v = np.r_[0, np.flatnonzero(idx[1:] != idx[:-1]) + 1]
    vm[first_v] = 0.0
    rest = np.setdiff1d(np.arange(len(coords)), first_v)
    vm[rest] = (seg["m0"] + seg["length"]).to_numpy()
    span = float(shapely.length(lines).max()) + 1.0
    key = idx * span + vm
    lo = np.searchsorted(key, which * span + start, side="right")
    hi = np.searchsorted(key, which * span + end, side="left")
    p0 = shapely.get_coordinates(shapely.line_interpolate_point(lines[which], start))
    p1 = shapely.get_coordinates(shapely.line_interpolate_point(lines[which], end))
    counts = np.maximum(hi - lo, 0)
    total = counts + 2
    out_idx = np.repeat(np.arange(len(which)), total)
    pos = np.arange(total.sum()) - np.repeat(np.cumsum(total) - total, total)
    src = np.repeat(lo, total) + pos - 1
    xy = coords[np.clip(src, 0, len(coords) - 1)]
    is_start = pos == 0
    is_end = pos == np.repeat(total - 1, total)
    xy[is_start] = p0
    xy[is_end] = p1
    return shapely.linestrings(xy, indices=out_idx)


def unserved_stretches(lines: gpd.GeoDataFrame, points: gpd.GeoSeries | np.ndarray, *,
                       reach: float | np.ndarray, min_length: float = 0.0,
                       id_field: str = "road_id") -> gpd.GeoDataFrame:
    """Maximal stretches of each line with no point within ``reach``.

    Parameters
    ----------
    lines : GeoDataFrame
        Lines (LineString; MultiLineStrings are split into parts, each measured on its own).
    points : GeoSeries or array of Point
        Serving points (working lamps, street trees), same CRS.
    reach : float or array of float
        Straight-line reach (m) of a point, one value or one per line.
    min_length : float
        Stretches not longer than this are dropped.

    Returns
    -------
    GeoDataFrame
        ``road_id`` (from ``id_field``), ``start_m``, ``end_m``, ``length_m`` (measures along
        the line part), ``part`` and the stretch as a LineString, ordered by line and measure.
    """
    g = lines.geometry.values
    reach_arr = np.broadcast_to(np.asarray(reach, dtype=float), (len(lines),))
    parts, part_idx = shapely.get_parts(g, return_index=True)
    part_no = np.arange(len(parts)) - np.searchsorted(part_idx, part_idx)
    pts = np.asarray(getattr(points, "values", points), dtype=object)
    seg = road_segments(parts)
    iv = served_intervals(seg, pts, reach_arr[part_idx][seg["line"].to_numpy()])
    which, start, end = _gaps(shapely.length(parts), iv, float(min_length))
    geom = substrings(parts, which, start, end)
    out = gpd.GeoDataFrame({
        "road_id": lines[id_field].to_numpy()[part_idx[which]],
        "start_m": np.round(start, 3), "end_m": np.round(end, 3),
        "length_m": np.round(end - start, 3), "part": part_no[which],
        "_row": part_idx[which]}, geometry=gpd.GeoSeries(geom, crs=lines.crs).values,
        crs=lines.crs)
    return out.reset_index(drop=True)
