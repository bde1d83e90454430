"""Noding: where road centrelines cross or touch (junctions not drawn as shared vertices)."""

from __future__ import annotations

import numpy as np
import shapely

__all__ = ["crossings"]


def crossings(parts: np.ndarray, crossable: np.ndarray
               ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Points where crossable lines cross or touch: (line index, position, xy), both sides."""
    idx = np.flatnonzero(crossable)
    if len(idx) < 2:
        return np.zeros(0, np.int64), np.zeros(0), np.zeros((0, 2))
    tree = shapely.STRtree(parts[idx])
    i, j = tree.query(parts[idx], predicate="intersects")
    keep = i < j
    i, j = idx[i[keep]], idx[j[keep]]
    inter = shapely.intersection(parts[i], parts[j])
    # all vertices of the intersection (points, or the ends of overlapping stretches)
    xy, k = shapely.get_coordinates(inter, return_index=True)
    li = np.r_[i[k], j[k]]
    pxy = np.r_[xy, xy]
    pts = shapely.points(pxy)
    posi = shapely.line_locate_point(parts[li], pts)
    return li.astype(np.int64), posi, pxy
