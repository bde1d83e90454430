"""Fast point overlays for truck pings: a uniform grid over polygons and road buffers.

:class:`PointGrid` gives exactly the answers of ``geopandas.sjoin`` (``intersects`` for zones,
``dwithin`` for roads), several times faster on millions of pings; zone and road schedules are
applied per pair (:mod:`zlgis.analysis.timewindows`).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from numpy.typing import NDArray

from ..errors import InputError
from ..findings import default_crs
from .timewindows import MINUTES_PER_WEEK, HolidayCalendar, WeeklySchedule, minute_of_week
from .trucks_pings import vehicle_class_matches

__all__ = [
    "PointGrid",
    "points_in_polygons",
    "points_near_lines",
    "zone_schedules",
    "class_matrix",
    "pings_in_zones",
    "pings_on_restricted_roads",
    "union_buffer",
]

def _argsort_ids(ids: NDArray[np.int64]) -> NDArray[np.intp]:
    """Stable argsort of non-negative integer ids by two 16-bit radix passes when they fit.

    >>> _argsort_ids(np.array([70000, 3, 70000, 1])).tolist()
    [3, 1, 0, 2]
    """
    if not len(ids) or ids.max() >= 2 ** 32:
        return np.argsort(ids, kind="stable")
    p = np.argsort((ids & 0xFFFF).astype(np.uint16), kind="stable")
    if ids.max() < 2 ** 16:
        return p
    return p[np.argsort((ids[p] >> 16).astype(np.uint16), kind="stable")]


def _expand(lo: NDArray[np.int64], n: NDArray[np.int64]
            ) -> tuple[NDArray[np.intp], NDArray[np.int64]]:
    """For ranges ``[lo, lo + n)``: the range number and the value of every element."""
    if not len(n):
        return np.zeros(0, dtype=np.intp), np.zeros(0, dtype=np.int64)
    rep = np.repeat(np.arange(len(n)), n)
    k = np.arange(int(n.sum())) - np.repeat(np.r_[0, np.cumsum(n)[:-1]], n)
    return rep, lo[rep] + k


class _Cells:
    """A lattice of square cells: origin, size, columns and rows."""

    def __init__(self, bounds: Sequence[float], cell: float) -> None:
        minx, miny, maxx, maxy = (float(v) for v in bounds)
        self.minx, self.miny, self.c = minx, miny, float(cell)
        self.ncol = int((maxx - minx) // self.c) + 1
        self.nrow = int((maxy - miny) // self.c) + 1

    def ids(self, x: NDArray[np.float64], y: NDArray[np.float64]) -> NDArray[np.int64]:
        cx = ((x - self.minx) // self.c).astype(np.int64)
        cy = ((y - self.miny) // self.c).astype(np.int64)
        return cy * self.ncol + cx

    def boxes(self, ids: NDArray[np.int64]) -> NDArray[np.object_]:
        """Boxes of cells, grown by a hair so that points on their edges are inside."""
        c = self.c
        ii, jj = ids % self.ncol, ids // self.ncol
        eps = 1e-6 * max(c, 1.0)
        bx0 = self.minx + ii * c - eps
        by0 = self.miny + jj * c - eps
        return shapely.box(bx0, by0, bx0 + c + 2 * eps, by0 + c + 2 * eps)

    def _ranges(self, minx: NDArray[np.float64], miny: NDArray[np.float64],
                maxx: NDArray[np.float64], maxy: NDArray[np.float64]
                ) -> tuple[NDArray[np.intp], NDArray[np.int64]]:
        """(box number, cell id) of every cell under each box (vectorised)."""
        c = self.c
        lo_x = np.floor((minx - self.minx) / c).astype(np.int64)
        hi_x = np.floor((maxx - self.minx) / c).astype(np.int64)
        lo_y = np.floor((miny - self.miny) / c).astype(np.int64)
        hi_y = np.floor((maxy - self.miny) / c).astype(np.int64)
        ok = (hi_x >= 0) & (lo_x < self.ncol) & (hi_y >= 0) & (lo_y < self.nrow)
        i0 = np.clip(lo_x, 0, self.ncol - 1)
        i1 = np.clip(hi_x, 0, self.ncol - 1)
        j0 = np.clip(lo_y, 0, self.nrow - 1)
        j1 = np.clip(hi_y, 0, self.nrow - 1)
        ni = np.where(ok, i1 - i0 + 1, 0)
        n = ni * np.where(ok, j1 - j0 + 1, 0)
        rep, k = _expand(np.zeros(len(n), dtype=np.int64), n)
        nir = np.maximum(ni[rep], 1)
        return rep, (j0[rep] + k // nir) * self.ncol + i0[rep] + k % nir

    def pairs_bbox(self, geoms: NDArray[np.object_], dist: float = 0.0
                   ) -> tuple[NDArray[np.int64], NDArray[np.intp]]:
        """Unique pairs (cell id, geometry number) of cells under each geometry's bounding box."""
        b = shapely.bounds(geoms)
        rep, cells = self._ranges(b[:, 0] - dist, b[:, 1] - dist, b[:, 2] + dist, b[:, 3] + dist)
        return cells, rep

    def pairs_along(self, lines: NDArray[np.object_], dist: float
                    ) -> tuple[NDArray[np.int64], NDArray[np.intp]]:
        """Unique pairs (cell id, line number) of cells that may lie within ``dist`` of a line.

        Every segment is cut into pieces of at most four cells, and the cells under each
        piece's bounding box (grown by ``dist``) are taken.
        """
        c = self.c
        parts, owner = shapely.get_parts(lines, return_index=True)
        coords, part = shapely.get_coordinates(parts, return_index=True)
        same = part[1:] == part[:-1]
        a, b = coords[:-1][same], coords[1:][same]
        line_of = owner[part[:-1][same]]
        single = np.setdiff1d(np.arange(len(parts)), part[:-1][same])  # one-point parts
        if len(single):
            pc = coords[np.isin(part, single)]
            a, b = np.vstack([a, pc]), np.vstack([b, pc])
            line_of = np.r_[line_of, owner[part[np.isin(part, single)]]]
        if not len(a):
            return np.zeros(0, np.int64), np.zeros(0, np.intp)
        length = np.hypot(b[:, 0] - a[:, 0], b[:, 1] - a[:, 1])
        k = np.maximum(np.ceil(length / (4 * c)).astype(np.int64), 1)
        sid, step = _expand(np.zeros(len(k), dtype=np.int64), k)
        f0, f1 = step / k[sid], (step + 1) / k[sid]
        dx, dy = b[sid, 0] - a[sid, 0], b[sid, 1] - a[sid, 1]
        x0, x1 = a[sid, 0] + f0 * dx, a[sid, 0] + f1 * dx
        y0, y1 = a[sid, 1] + f0 * dy, a[sid, 1] + f1 * dy
        rep, cells = self._ranges(np.minimum(x0, x1) - dist, np.minimum(y0, y1) - dist,
                                  np.maximum(x0, x1) + dist, np.maximum(y0, y1) + dist)
        key = np.unique(cells * len(lines) + line_of[sid[rep]])
        return key // len(lines), (key % len(lines)).astype(np.intp)


class PointGrid:
    """Points bucketed into square cells (sorted by cell), for fast overlays.

    Queries work on many features at once: the (cell, feature) pairs are classified with
    vectorised shapely predicates, so points of cells strictly inside a polygon are accepted in
    bulk, points of cells crossing its edge are tested with ``shapely.intersects_xy``, and cells
    outside are skipped. Lines are queried through buffers (see :meth:`query_lines`).

    Parameters
    ----------
    x, y : ndarray
        Point coordinates (a projected CRS, metres).
    bounds : tuple
        ``(minx, miny, maxx, maxy)`` of the area of interest; points outside never match.
    cell : float, optional
        Cell size in metres (default: about 16 points per cell).
    subset : ndarray of int, optional
        Only these points are indexed (the others never match); see :meth:`around`.

    Examples
    --------
    >>> from shapely.geometry import box
    >>> g = PointGrid(np.array([1.0, 5.0, 50.0]), np.array([1.0, 5.0, 50.0]), (0, 0, 60, 60), 4)
    >>> sorted(g.query_polygon(box(0, 0, 10, 10)).tolist())
    [0, 1]
    """

    def __init__(self, x: NDArray[np.float64], y: NDArray[np.float64],
                 bounds: Sequence[float], cell: float | None = None,
                 subset: NDArray[np.intp] | None = None) -> None:
        self.x = np.asarray(x, dtype=float)
        self.y = np.asarray(y, dtype=float)
        minx, miny, maxx, maxy = (float(v) for v in bounds)
        if subset is None:
            xs, ys = self.x, self.y
        else:
            subset = np.asarray(subset, dtype=np.intp)
            xs, ys = self.x[subset], self.y[subset]
        inb = np.flatnonzero((xs >= minx) & (xs <= maxx) & (ys >= miny) & (ys <= maxy))
        if cell is None:  # about 16 points per cell, between 8 m and 1 km
            area = max((maxx - minx) * (maxy - miny), 1.0)
            cell = float(np.clip(np.sqrt(area * 16.0 / max(len(inb), 1)), 8.0, 1000.0))
        self.cells = _Cells(bounds, cell)
        self.cell = self.cells.c
        cid = self.cells.ids(xs[inb], ys[inb])
        self.order = (inb if subset is None else subset[inb])[_argsort_ids(cid)]
        counts = np.bincount(cid, minlength=self.cells.ncol * self.cells.nrow)
        self.start = np.zeros(len(counts) + 1, dtype=np.int64)
        np.cumsum(counts, out=self.start[1:])

    @classmethod
    def around(cls, x: NDArray[np.float64], y: NDArray[np.float64], geoms: Sequence[Any], *,
               dist: float = 0.0, cell: float | None = None, min_cell: float = 8.0,
               coarse: float = 64.0) -> "PointGrid":
        """A grid of only the points near ``geoms`` (within ``dist``; polygons or lines).

        One cheap pass drops every point whose coarse cell (``coarse`` metres) touches no
        geometry, so only the remaining points are sorted into the fine grid. The default fine
        cell holds about 16 of them on average over the touched area (at least ``min_cell``).
        """
        x = np.asarray(x, dtype=float)
        y = np.asarray(y, dtype=float)
        arr = _valid(geoms)[1]
        if not len(arr):
            return cls(x, y, (0.0, 0.0, 0.0, 0.0), 1.0, subset=np.zeros(0, dtype=np.intp))
        b = shapely.total_bounds(arr)
        bounds = (b[0] - dist, b[1] - dist, b[2] + dist, b[3] + dist)
        span = max(bounds[2] - bounds[0], bounds[3] - bounds[1], 1.0)
        lat = _Cells(bounds, max(coarse, span / 4096))
        touched = np.zeros(lat.ncol * lat.nrow + 1, dtype=bool)
        tid = shapely.get_type_id(arr)
        poly = (tid == 3) | (tid == 6)
        if poly.any():  # cells meeting the polygon (grown by dist)
            pg = arr[poly] if dist == 0 else shapely.buffer(arr[poly], dist)
            cells, gi = lat.pairs_bbox(pg)
            shapely.prepare(pg)
            touched[cells[shapely.intersects(pg[gi], lat.boxes(cells))]] = True
        if (~poly).any():
            touched[lat.pairs_along(arr[~poly], dist)[0]] = True
        inb = (x >= bounds[0]) & (x <= bounds[2]) & (y >= bounds[1]) & (y <= bounds[3])
        cid = np.where(inb, lat.ids(np.where(inb, x, bounds[0]), np.where(inb, y, bounds[1])),
                       lat.ncol * lat.nrow)
        subset = np.flatnonzero(touched[cid])
        if cell is None:
            area = max(float(touched.sum()), 1.0) * lat.c ** 2
            cell = float(np.clip(np.sqrt(area * 16.0 / max(len(subset), 1)), min_cell, 1000.0))
        return cls(x, y, bounds, cell, subset=subset)

    def _gather_pairs(self, cells: NDArray[np.int64], feat: NDArray[np.intp]
                      ) -> tuple[NDArray[np.intp], NDArray[np.intp], NDArray[np.intp]]:
        """Points of each (cell, feature) pair: point index, feature index, pair number."""
        s = self.start[cells]
        n = self.start[cells + 1] - s
        pair, pos = _expand(s, n)
        return self.order[pos], feat[pair], pair

    def query_polygons(self, polygons: Sequence[Any]
                       ) -> tuple[NDArray[np.intp], NDArray[np.intp]]:
        """Pairs (point, polygon number) with the point inside or on the edge of the polygon."""
        idx, polys = _valid(polygons)
        if not len(polys):
            return np.zeros(0, dtype=np.intp), np.zeros(0, dtype=np.intp)
        cells, gi = self.cells.pairs_bbox(polys)
        nonempty = self.start[cells + 1] > self.start[cells]
        cells, gi = cells[nonempty], gi[nonempty]
        shapely.prepare(polys)
        boxes = self.cells.boxes(cells)
        inner = shapely.contains_properly(polys[gi], boxes)
        edge = ~inner & shapely.intersects(polys[gi], boxes)
        p_in, g_in, _ = self._gather_pairs(cells[inner], gi[inner])
        p_e, g_e, _ = self._gather_pairs(cells[edge], gi[edge])
        hit = shapely.intersects_xy(polys[g_e], self.x[p_e], self.y[p_e])
        return np.r_[p_in, p_e[hit]].astype(np.intp), idx[np.r_[g_in, g_e[hit]]]

    def query_polygon(self, poly: Any) -> NDArray[np.intp]:
        """Indices of points inside or on the edge of ``poly``."""
        return self.query_polygons([poly])[0]

    def query_lines(self, lines: Sequence[Any], tolerance: float
                    ) -> tuple[NDArray[np.intp], NDArray[np.intp]]:
        """Pairs (point, line number) with the point within ``tolerance`` of the line.

        Exact ``dwithin`` semantics: an inner buffer (a little narrower than the tolerance, so
        all its points are within it) accepts whole cells it contains and the single points it
        holds; an outer buffer (a little wider, so it holds every point within the tolerance)
        drops the far ones; only the thin ring between the two is decided by shapely's exact
        ``dwithin``. Buffers have 16 segments per quarter circle, whose chords stay within
        0.13 % of the radius.
        """
        idx, geoms = _valid(lines)
        if not len(geoms):
            return np.zeros(0, dtype=np.intp), np.zeros(0, dtype=np.intp)
        cells, li = self.cells.pairs_along(geoms, tolerance * 1.02 + 1e-6)
        nonempty = self.start[cells + 1] > self.start[cells]
        cells, li = cells[nonempty], li[nonempty]
        outer = shapely.buffer(geoms, tolerance * 1.01 + 1e-6, quad_segs=16)
        shapely.prepare(outer)
        if tolerance > 0:
            inner = shapely.buffer(geoms, tolerance * 0.99, quad_segs=16)
            shapely.prepare(inner)
            full = shapely.contains_properly(inner[li], self.cells.boxes(cells))
        else:
            inner, full = None, np.zeros(len(cells), dtype=bool)
        p_in, l_in, _ = self._gather_pairs(cells[full], li[full])
        p, lp, _ = self._gather_pairs(cells[~full], li[~full])
        keep = shapely.intersects_xy(outer[lp], self.x[p], self.y[p])
        p, lp = p[keep], lp[keep]
        sure = (shapely.intersects_xy(inner[lp], self.x[p], self.y[p]) if inner is not None
                else np.zeros(len(p), dtype=bool))
        ring = np.flatnonzero(~sure)
        if len(ring):
            shapely.prepare(geoms)
            sure[ring] = shapely.dwithin(geoms[lp[ring]],
                                         shapely.points(self.x[p[ring]], self.y[p[ring]]),
                                         tolerance)
        return np.r_[p_in, p[sure]].astype(np.intp), idx[np.r_[l_in, lp[sure]]]

    def query_line(self, line: Any, tolerance: float) -> NDArray[np.intp]:
        """Indices of points within ``tolerance`` of ``line`` (see :meth:`query_lines`)."""
        return self.query_lines([line], tolerance)[0]


def _valid(geoms: Sequence[Any]) -> tuple[NDArray[np.intp], NDArray[np.object_]]:
    """Positions and geometries of the non-missing, non-empty entries."""
    arr = np.empty(len(geoms), dtype=object)
    arr[:] = list(geoms)
    ok = ~(shapely.is_missing(arr) | shapely.is_empty(arr)) if len(arr) else np.zeros(0, bool)
    return np.flatnonzero(ok), arr[ok]


def points_in_polygons(x: NDArray[np.float64], y: NDArray[np.float64], polygons: Sequence[Any],
                       *, grid: PointGrid | None = None, cell: float | None = None
                       ) -> tuple[NDArray[np.intp], NDArray[np.intp]]:
    """Pairs (point index, polygon index) with the point inside (or on the edge of) the polygon.

    Same answer as ``geopandas.sjoin(points, polygons, predicate="intersects")``, computed with a
    :class:`PointGrid` (built here unless ``grid`` is given; ``cell`` sets its size).

    >>> from shapely.geometry import box
    >>> pi, gi = points_in_polygons(np.array([1.0, 5.0, 15.0]), np.array([1.0, 5.0, 5.0]),
    ...                             [box(0, 0, 10, 10), box(4, 4, 20, 6)])
    >>> sorted(zip(pi.tolist(), gi.tolist()))
    [(0, 0), (1, 0), (1, 1), (2, 1)]
    """
    if grid is None:
        grid = PointGrid.around(x, y, polygons, cell=cell)
    return grid.query_polygons(polygons)


def points_near_lines(x: NDArray[np.float64], y: NDArray[np.float64], lines: Sequence[Any],
                      tolerance: float, *, grid: PointGrid | None = None,
                      cell: float | None = None) -> tuple[NDArray[np.intp], NDArray[np.intp]]:
    """Pairs (point index, line index) with the point within ``tolerance`` of the line.

    Same answer as ``geopandas.sjoin(points, lines, predicate="dwithin", distance=tolerance)``,
    computed with :meth:`PointGrid.query_lines` (cells at least two thirds of the tolerance).

    >>> from shapely.geometry import LineString
    >>> pi, li = points_near_lines(np.array([0.0, 5.0, 5.0]), np.array([0.0, 9.0, 16.0]),
    ...                            [LineString([(0, 10), (10, 10)])], 5.0)
    >>> pi.tolist(), li.tolist()
    ([1], [0])
    """
    if grid is None:
        grid = PointGrid.around(x, y, lines, dist=tolerance * 1.05 + 1.0, cell=cell,
                                min_cell=max(tolerance * 2 / 3, 4.0))
    return grid.query_lines(lines, tolerance)


def zone_schedules(zones: gpd.GeoDataFrame, *, layer: str = "truck_no_parking_zones",
                   weekday_field: str = "weekday_hours",
                   weekend_field: str | None = "weekend_hours",
                   calendar: HolidayCalendar | None = None) -> list[WeeklySchedule]:
    """One :class:`WeeklySchedule` per row (errors name the layer, row and field).

    Without a ``weekend_field`` column (restricted roads have one ``hours`` field) the hours
    apply every day. In the weekend column an empty value means no restriction at weekends and
    ``同工作日`` repeats the weekday hours. With a ``calendar`` (``trucks.yaml`` ``calendar``:
    statutory holidays and adjusted working days) the weekend hours apply on holidays and the
    weekday hours on adjusted working Saturdays and Sundays.
    """
    if weekday_field not in zones.columns:
        raise InputError(f"缺少字段 {weekday_field}（限制时段）", layer=layer, field=weekday_field)
    out = []
    has_we = weekend_field is not None and weekend_field in zones.columns
    for i, wd in enumerate(zones[weekday_field].tolist()):
        we = zones[weekend_field].iloc[i] if has_we else None
        if has_we and (we is None or (isinstance(we, float) and np.isnan(we))):
            we = ""
        out.append(WeeklySchedule.from_text(wd, we, layer=layer, row=i + 1,
                                            field=weekday_field, weekend_field=weekend_field,
                                            calendar=calendar))
    return out


def class_matrix(vtypes: NDArray[Any], classes: Sequence[Any],
                  config: Mapping[str, Any] | None) -> tuple[NDArray[np.intp], NDArray[np.bool_]]:
    """Codes of vehicle types and a (n_types, n_features) matrix of class matches."""
    codes, uniques = pd.factorize(pd.Series(vtypes, dtype=object).fillna(""))
    mat = np.zeros((max(len(uniques), 1), len(classes)), dtype=bool)
    for j, cls in enumerate(classes):
        mat[: len(uniques), j] = vehicle_class_matches(list(uniques), cls, config)
    return codes, mat


def _time_class_ok(pi: NDArray[np.intp], fi: NDArray[np.intp], t: NDArray[np.int64],
                   schedules: Sequence[WeeklySchedule], vtype_codes: NDArray[np.intp] | None,
                   class_matrix: NDArray[np.bool_] | None) -> NDArray[np.bool_]:
    t = np.asarray(t)
    if any(s.calendar is not None for s in schedules):  # holidays: one feature at a time
        ok = np.zeros(len(pi), dtype=bool)
        for j in np.unique(fi):
            sel = fi == j
            ok[sel] = schedules[j].contains(t[pi[sel]])
    else:  # one lookup in the stacked minute-of-week masks
        masks = (np.stack([s.mask for s in schedules]) if len(schedules)
                 else np.zeros((0, MINUTES_PER_WEEK), dtype=bool))
        ok = masks[fi, minute_of_week(t[pi])]
    if vtype_codes is not None and class_matrix is not None:
        ok &= class_matrix[np.asarray(vtype_codes)[pi], fi]
    return ok


def pings_in_zones(x: NDArray[np.float64], y: NDArray[np.float64], t: NDArray[np.int64],
                   zone_geoms: Sequence[Any], schedules: Sequence[WeeklySchedule], *,
                   vtype_codes: NDArray[np.intp] | None = None,
                   class_matrix: NDArray[np.bool_] | None = None,
                   grid: PointGrid | None = None
                   ) -> tuple[NDArray[np.intp], NDArray[np.intp]]:
    """Pairs (ping, zone) for pings inside a zone during its restricted minutes.

    The time test is one lookup in a stacked (n_zones, 10080) minute-of-week mask; the vehicle
    class test one lookup in ``class_matrix`` (n_vehicle_types, n_zones) by ``vtype_codes``.

    >>> from shapely.geometry import box
    >>> from zlgis.analysis.timewindows import to_epoch_seconds
    >>> t = to_epoch_seconds(["2022-08-01 07:30", "2022-08-01 10:00"])
    >>> pings_in_zones(np.array([5.0, 5.0]), np.array([5.0, 5.0]), t, [box(0, 0, 10, 10)],
    ...                [WeeklySchedule.from_text("07:00-09:00")])[0].tolist()
    [0]
    """
    pi, zi = points_in_polygons(x, y, zone_geoms, grid=grid)
    if not len(pi):
        return pi, zi
    ok = _time_class_ok(pi, zi, t, schedules, vtype_codes, class_matrix)
    return pi[ok], zi[ok]


def pings_on_restricted_roads(x: NDArray[np.float64], y: NDArray[np.float64],
                              t: NDArray[np.int64], segment_geoms: Sequence[Any],
                              schedules: Sequence[WeeklySchedule], tolerance: float, *,
                              vtype_codes: NDArray[np.intp] | None = None,
                              class_matrix: NDArray[np.bool_] | None = None,
                              grid: PointGrid | None = None
                              ) -> tuple[NDArray[np.intp], NDArray[np.intp]]:
    """Pairs (ping, segment) within ``tolerance`` of a restricted segment in its hours.

    >>> from shapely.geometry import LineString
    >>> from zlgis.analysis.timewindows import to_epoch_seconds
    >>> t = to_epoch_seconds(["2022-08-01 07:30", "2022-08-01 07:30"])
    >>> road, hours = LineString([(0, 0), (10, 0)]), WeeklySchedule.from_text("07:00-09:00")
    >>> pings_on_restricted_roads(np.array([5.0, 5.0]), np.array([1.0, 30.0]), t,
    ...                           [road], [hours], 15)[0].tolist()
    [0]
    """
    pi, si = points_near_lines(x, y, segment_geoms, tolerance, grid=grid)
    if not len(pi):
        return pi, si
    ok = _time_class_ok(pi, si, t, schedules, vtype_codes, class_matrix)
    return pi[ok], si[ok]



def union_buffer(gdfs: Iterable[gpd.GeoDataFrame | None], dist: float) -> Any:
    geoms = []
    for g in gdfs:
        if g is not None and len(g):
            g = g.to_crs(default_crs()) if g.crs is not None else g
            geoms.extend(g.geometry.values)
    if not geoms:
        return None
    out = shapely.union_all(shapely.buffer(np.array(geoms, dtype=object), dist))
    shapely.prepare(out)
    return out
