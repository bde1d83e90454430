"""Noding: where road centrelines cross or touch (junctions not drawn as shared vertices).

The crossings are found segment by segment with numpy, not with a pairwise
``shapely.intersection`` of whole lines: the straight segments of every line go into one
STRtree (by bounding box), and every candidate pair of segments of two different lines is tested
with orientation signs; crossing points are solved in closed form, a line end or vertex lying on
the other segment is taken exactly, and collinear overlaps give the ends of the overlapping
stretch. The points and their positions along both lines are the same as
``shapely.intersection`` + ``shapely.line_locate_point`` of the two lines (to rounding; the
tests compare both on real and synthetic networks).

Noding a city's roads takes a few seconds, so the result is kept on disk
(:func:`cached_crossings`), keyed by a hash of the lines' coordinates and the crossable flags:
a second run on the same road layer (or the walking and driving graphs of one run) reads it
back. The folder is ``$ZLGIS_CACHE_DIR/noding`` (default ``~/.cache/zlgis/noding``); delete it
at any time.

Examples
--------
>>> import shapely
>>> lines = shapely.linestrings([[(0, 0), (10, 0)], [(5, -5), (5, 5)], [(10, 0), (10, 9)]])
>>> c = crossings(lines, np.ones(3, bool))
>>> sorted(zip(c.line.tolist(), c.pos.tolist()))
[(0, 5.0), (1, 5.0)]
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import shapely

from ..io import cache as _cache

__all__ = ["Crossings", "crossings", "cached_crossings", "cache_dir"]

#: bump when the algorithm changes, so that old cache files are not read
_VERSION = b"noding-3"


@dataclass
class Crossings:
    """Crossing points, one row per (line, point): both lines of a crossing get a row.

    Attributes
    ----------
    line : ndarray of int64
        Index of the line (in the array given to :func:`crossings`).
    other : ndarray of int64
        Index of the line it crosses.
    pos : ndarray of float64
        Position of the point along ``line`` (metres from its start).
    xy : ndarray (n, 2)
        Coordinates of the point.
    """

    line: np.ndarray
    other: np.ndarray
    pos: np.ndarray
    xy: np.ndarray

    def subset(self, keep_lines: np.ndarray) -> "Crossings":
        """The crossings between lines both in ``keep_lines`` (bool per line), renumbered."""
        if not len(self.line):
            return self
        new = np.cumsum(keep_lines) - 1
        ok = keep_lines[self.line] & keep_lines[self.other]
        return Crossings(new[self.line[ok]], new[self.other[ok]], self.pos[ok], self.xy[ok])


def _empty() -> Crossings:
    return Crossings(np.zeros(0, np.int64), np.zeros(0, np.int64), np.zeros(0),
                     np.zeros((0, 2)))


def _segments(parts: np.ndarray, idx: np.ndarray) -> dict[str, np.ndarray]:
    """Straight segments of the lines ``parts[idx]``: ends, line, start position on the line."""
    xy, li = shapely.get_coordinates(parts[idx], return_index=True)
    s = np.flatnonzero(li[1:] == li[:-1])
    a, b = xy[s], xy[s + 1]
    d = b - a
    ln = np.sqrt(d[:, 0] * d[:, 0] + d[:, 1] * d[:, 1])
    line = idx[li[s]]
    cum = np.cumsum(ln)
    first = np.r_[True, line[1:] != line[:-1]]
    base = np.maximum.accumulate(np.where(first, np.arange(len(line)), 0))
    start = cum - ln - (cum[base] - ln[base])
    keep = ln > 0
    first_xy = np.full((len(parts), 2), np.nan)
    last_xy = np.full((len(parts), 2), np.nan)
    first_xy[line[::-1]] = a[::-1]   # the last write wins: the line's first segment
    last_xy[line] = b
    return {"a": a[keep], "b": b[keep], "line": line[keep], "start": start[keep],
            "first": first_xy, "last": last_xy}


def _candidates(seg: dict[str, np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
    """Pairs of segments of different lines whose bounding boxes meet (i's line < j's line)."""
    a, b = seg["a"], seg["b"]
    lo, hi = np.minimum(a, b), np.maximum(a, b)
    boxes = shapely.box(lo[:, 0], lo[:, 1], hi[:, 0], hi[:, 1])
    i, j = shapely.STRtree(boxes).query(boxes)
    keep = seg["line"][i] < seg["line"][j]
    return i[keep], j[keep]


def _cross(u: np.ndarray, v: np.ndarray) -> np.ndarray:
    return u[:, 0] * v[:, 1] - u[:, 1] * v[:, 0]


def _on_segment(p: np.ndarray, a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Whether collinear point ``p`` lies on segment ``a``-``b`` (ends included)."""
    lo, hi = np.minimum(a, b), np.maximum(a, b)
    return np.all((p >= lo) & (p <= hi), axis=1)


def _points(seg: dict[str, np.ndarray], i: np.ndarray, j: np.ndarray
            ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Intersection points of segment pairs: (segment i, segment j, xy), one row per point."""
    a, b, c, d = seg["a"][i], seg["b"][i], seg["a"][j], seg["b"][j]
    r, s = b - a, d - c
    o1, o2 = _cross(r, c - a), _cross(r, d - a)   # sides of c and d relative to a-b
    o3, o4 = _cross(s, a - c), _cross(s, b - c)   # sides of a and b relative to c-d
    meet = (np.sign(o1) * np.sign(o2) <= 0) & (np.sign(o3) * np.sign(o4) <= 0)
    collinear = meet & (o1 == 0) & (o2 == 0)
    point = meet & ~collinear
    # one point: an end lying exactly on the other segment is taken as it is (as GEOS does)
    pi, pj = i[point], j[point]
    P = np.where((o1[point] == 0)[:, None], c[point], np.where(
        (o2[point] == 0)[:, None], d[point], np.where(
            (o3[point] == 0)[:, None], a[point], np.where(
                (o4[point] == 0)[:, None], b[point], np.nan))))
    solve = np.isnan(P[:, 0])
    if solve.any():
        rr, ss = r[point][solve], s[point][solve]
        t = _cross(c[point][solve] - a[point][solve], ss) / _cross(rr, ss)
        P[solve] = a[point][solve] + t[:, None] * rr
    # collinear overlaps: every end of either segment lying on the other one
    ci, cj = i[collinear], j[collinear]
    ca, cb, cc, cd = a[collinear], b[collinear], c[collinear], d[collinear]
    extra_i, extra_j, extra_p = [pi], [pj], [P]
    for p, r0, r1 in ((cc, ca, cb), (cd, ca, cb), (ca, cc, cd), (cb, cc, cd)):
        on = _on_segment(p, r0, r1)
        extra_i.append(ci[on])
        extra_j.append(cj[on])
        extra_p.append(p[on])
    return np.concatenate(extra_i), np.concatenate(extra_j), np.concatenate(extra_p)


def _position(seg: dict[str, np.ndarray], k: np.ndarray, p: np.ndarray) -> np.ndarray:
    d = p - seg["a"][k]
    return seg["start"][k] + np.sqrt(d[:, 0] * d[:, 0] + d[:, 1] * d[:, 1])


def crossings(parts: np.ndarray, crossable: np.ndarray) -> Crossings:
    """Points where crossable lines cross, touch or overlap each other.

    Parameters
    ----------
    parts : ndarray of LineString
        Single-part lines (2-D).
    crossable : ndarray of bool
        Lines that may get a junction where they meet others (bridges may not).

    Returns
    -------
    Crossings
        Both lines of every crossing point (a point may appear more than once, e.g. at a vertex
        shared by two segments of the same line); points at a line's own first or last vertex
        are left out for that line (its ends are junctions anyway).
    """
    idx = np.flatnonzero(crossable)
    if len(idx) < 2:
        return _empty()
    seg = _segments(parts, idx)
    i, j = _candidates(seg)
    si, sj, p = _points(seg, i, j)
    rows = []
    for k, other in ((si, sj), (sj, si)):
        line = seg["line"][k]
        # a line's own first or last vertex is a junction already: not needed again
        inner = ~(np.all(p == seg["first"][line], axis=1) | np.all(p == seg["last"][line],
                                                                    axis=1))
        rows.append((line[inner], seg["line"][other][inner], _position(seg, k[inner], p[inner]),
                     p[inner]))
    return Crossings(*(np.concatenate(c) for c in zip(*rows)))


def cache_dir() -> Path:
    """Folder of the noding cache (``$ZLGIS_CACHE_DIR/noding``, default ``~/.cache/zlgis``)."""
    return _cache.cache_dir("noding")


def _key(parts: np.ndarray, crossable: np.ndarray) -> str:
    xy, li = shapely.get_coordinates(parts, return_index=True)
    h = hashlib.blake2b(_VERSION, digest_size=20)
    for arr in (np.ascontiguousarray(xy, np.float64), np.ascontiguousarray(li, np.int64),
                np.ascontiguousarray(crossable, np.bool_)):
        h.update(arr.tobytes())
    return h.hexdigest()


_MEMO: dict[str, Crossings] = {}


def cached_crossings(parts: np.ndarray, crossable: np.ndarray) -> Crossings:
    """:func:`crossings`, kept in memory and on disk, keyed by the lines' content.

    A cache file that cannot be read or written is ignored (the crossings are recomputed).
    """
    key = _key(parts, crossable)
    if key in _MEMO:
        return _MEMO[key]
    path = cache_dir() / f"{key}.npz"
    z = _cache.load_arrays(path)
    try:
        res = Crossings(z["line"], z["other"], z["pos"], z["xy"]) if z is not None else None
    except KeyError:
        res = None
    if res is None:
        res = crossings(parts, crossable)
        _cache.store_arrays(path, {"line": res.line, "other": res.other, "pos": res.pos,
                                   "xy": res.xy})
    _MEMO.clear()  # one layer at a time: the previous one is not needed again
    _MEMO[key] = res
    return res
