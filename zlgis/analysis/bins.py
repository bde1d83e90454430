"""Litter bins, garbage points and sorting (plan tasks 4.2.3, 4.7.1, 4.7.2).

* :func:`street_lines` — the streets: segments merged by name into continuous parts, with their
  street type (商业街 by name list, else the road class);
* :func:`bin_gaps` — stretches of street longer than the CJJ 27-2012 §3.2.3 spacing for its type
  without a litter bin (废物箱): 商业街 100 m, 主干路/次干路 200 m, 支路 400 m (upper ends);
* :func:`bins_to_replace` — old bins the plan orders replaced on 中央街 by 2022-07-26 and on the
  main and secondary roads by 2022-07-31 (task 4.2.3), with their deadline and days overdue;
* :func:`garbage_coverage` — per residential compound: nearest garbage point, covered within the
  70 m service radius (CJJ 27-2012 §3.3), sorted collection (a 分类投放点 within the radius);
* :func:`hygiene_zones` — zones around transfer stations and garbage pools with the sanitation
  reports inside them (task 4.2.3 “垃圾池、转运站周边环境卫生”).

All numbers come from ``sanitation.yaml`` (``bins``, ``garbage_points``, ``hygiene_zone``).

Examples
--------
>>> import geopandas as gpd
>>> from shapely.geometry import LineString, Point
>>> roads = gpd.GeoDataFrame({"road_id": ["a", "b"], "name": ["兴华路", "兴华路"],
...     "road_class": ["主干路", "主干路"]},
...     geometry=[LineString([(0, 0), (300, 0)]), LineString([(300, 0), (800, 0)])],
...     crs="EPSG:4550")
>>> bins = gpd.GeoDataFrame({"bin_id": ["B1", "B2", "B3"]},
...     geometry=[Point(100, 8), Point(250, -8), Point(700, 8)], crs="EPSG:4550")
>>> gaps = bin_gaps(roads, bins)
>>> gaps[["street", "from_m", "to_m", "max_m"]].values.tolist()
[['兴华路', 250.0, 700.0, 200.0]]
"""

from __future__ import annotations

import datetime as _dt
from collections.abc import Mapping
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from shapely.ops import substring

from ..io import cache as _cache
from ..workers import release_memory
from .run_cache import shared_tree
from .sweeping import cfg_value, sanitation_config

__all__ = [
    "bin_gaps",
    "bins_to_replace",
    "garbage_coverage",
    "hygiene_zones",
    "reports_in_window",
    "street_lines",
]

#: street segments put in one search tree at a time (:func:`_on_lines`)
_SEGMENT_BLOCK = 250_000
#: points given a box at a time (:func:`_bins_on_lines`: 320k GEOS boxes hold 137 MB)
_BOX_BLOCK = 65_536
_CLASS_RANK = ["快速路", "主干路", "次干路", "支路", "巷道", "公路", "人行道"]


def street_lines(roads: gpd.GeoDataFrame, *, config: Mapping[str, Any] | None = None
                 ) -> gpd.GeoDataFrame:
    """Streets as continuous parts: segments merged by name (unnamed segments stay alone).

    Columns ``street`` (name, or the road id), ``part``, ``road_class`` (the highest class of
    its segments), ``street_type`` (``商业街`` when named in ``bins.commercial_streets``, else the
    class), ``length_m``.
    """
    cfg = config or sanitation_config()
    commercial = set(cfg_value(cfg, "bins", "commercial_streets") or [])
    # the columns used only: a row filter of the whole layer takes every column
    r = roads[[c for c in ("name", "road_id", "road_class", roads.geometry.name) if c in roads]]
    r = r[(roads.geometry.notna() & ~roads.geometry.is_empty).to_numpy()].reset_index(drop=True)
    name = r["name"].fillna("").astype(str) if "name" in r else pd.Series("", index=r.index)
    rid = r["road_id"].astype(str) if "road_id" in r else pd.Series(r.index.astype(str))
    key = np.where(name != "", name, rid)
    cls = r["road_class"].fillna("").astype(str) if "road_class" in r else pd.Series("", index=r.index)
    rank = cls.map({c: i for i, c in enumerate(_CLASS_RANK)}).fillna(len(_CLASS_RANK))
    df = pd.DataFrame({"street": key, "rank": rank.to_numpy(), "cls": cls.to_numpy()})
    best = df.sort_values("rank", kind="stable").groupby("street")["cls"].first()
    keys, merged = _merge_by_key(np.asarray(r.geometry.values), key)
    # the parts of each merged street, numbered from 0 per street (GeoSeries.explode's
    # index_parts), the lines kept
    geoms, outer = shapely.get_parts(merged, return_index=True)
    run_start = np.r_[True, outer[:-1] != outer[1:]] if len(outer) else np.zeros(0, bool)
    inner = (~run_start).cumsum(dtype=np.int64)
    inner -= np.repeat(inner[run_start], np.diff(np.r_[np.flatnonzero(run_start), len(outer)]))
    line = shapely.get_type_id(geoms) == 1
    out = gpd.GeoDataFrame({"street": keys[outer[line]], "part": inner[line]},
                           geometry=geoms[line], crs=r.crs)
    out["road_class"] = best.reindex(out["street"]).to_numpy()
    out["street_type"] = np.where(out["street"].isin(commercial), "商业街", out["road_class"])
    out["length_m"] = out.length.round(1)
    return out


def _merge_by_key(lines: np.ndarray, key: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The sorted distinct keys and, per key, ``line_merge(union_all(lines of the key))``
    (the lines in their order; what ``GeoSeries.groupby(key).agg`` gave, without a Series
    per group).

    The merged streets are kept on disk (``$ZLGIS_CACHE_DIR/streets``, as the noding cache),
    keyed by the lines and their grouping: GEOS's unions of the 1M city's 458,005 segments
    into 1,618 streets cost about 5 s a run and the roads rarely change from week to week.
    The geometries are stored as WKB (doubles as they are), so a run reading them gets the
    same streets; a file that cannot be read or written is ignored.
    """
    inv, keys = pd.factorize(key, sort=True)   # hashed: np.unique sorts 458 000 strings
    keys = np.asarray(keys, dtype=object)
    path = _streets_dir() / f"{_merge_key(lines, inv)}.npz"
    merged = _read_merged(path, len(keys))
    if merged is not None:
        return keys, merged
    order = np.argsort(inv, kind="stable")
    groups = np.split(order, np.flatnonzero(np.diff(inv[order])) + 1) if len(order) else []
    unions = np.empty(len(groups), dtype=object)
    unions[:] = [shapely.union_all(lines[g]) for g in groups]
    merged = shapely.line_merge(unions)
    _write_merged(path, merged)
    return keys, merged


#: bump when street merging changes, so that old cache files are not read
_STREETS_VERSION = b"streets-1"


def _streets_dir() -> Any:
    return _cache.cache_dir("streets")


def _merge_key(lines: np.ndarray, inv: np.ndarray) -> str:
    """Hash of the lines (:func:`zlgis.io.cache.hash_geometries`) and their grouping."""
    import hashlib

    h = hashlib.blake2b(_STREETS_VERSION, digest_size=20)
    _cache.hash_geometries(h, lines)
    h.update(np.ascontiguousarray(inv, np.int64).tobytes())
    return h.hexdigest()


def _read_merged(path: Any, n: int) -> np.ndarray | None:
    z = _cache.load_arrays(path)
    if z is None or set(z) != {"wkb", "ends"} or len(z["ends"]) != n:
        return None
    buf, ends = z["wkb"].tobytes(), z["ends"]
    starts = np.r_[0, ends[:-1]]
    return shapely.from_wkb(np.array([buf[a:b] for a, b in zip(starts, ends)], dtype=object))


def _write_merged(path: Any, merged: np.ndarray) -> None:
    wkb = shapely.to_wkb(merged)
    _cache.store_arrays(path, {"wkb": np.frombuffer(b"".join(wkb), np.uint8),
                               "ends": np.cumsum([len(w) for w in wkb], dtype=np.int64)})


def _locate(lines: np.ndarray, pts: np.ndarray, pi: np.ndarray, li: np.ndarray,
            reach: float) -> np.ndarray:
    """``shapely.line_locate_point(lines[li], pts[pi])``, bit for bit, for pairs within ``reach``.

    GEOS walks every segment of the line for each point (the city's merged streets have
    hundreds); here only the segments within reach of a point are measured, with GEOS's own
    arithmetic (``Distance::pointToSegment`` to pick the nearest segment, the first on ties;
    ``LengthIndexOfPoint::segmentNearestMeasure`` with the running length summed from the
    line's start). A pair with no segment in reach is located by GEOS.
    """
    dist, pos = _on_lines(lines, pts, pi, li, reach)
    miss = np.isnan(pos)
    if miss.any():
        pos[miss] = shapely.line_locate_point(lines[li[miss]], pts[pi[miss]])
    return pos


def _on_lines(lines: np.ndarray, pts: np.ndarray, pi: np.ndarray, li: np.ndarray,
              reach: float, by_box: bool = False) -> tuple[np.ndarray, np.ndarray]:
    """GEOS's distance from ``pts[pi]`` to ``lines[li]`` and position along it (see
    :func:`_locate`) for the pairs with a segment within ``reach`` (+ 1 m); the other pairs
    get distance inf and position NaN.

    With ``by_box`` (``pts`` all non-empty points) the segments are found by box instead of by
    distance in a tree of segments: a tree of the points themselves is asked with each
    segment's box grown by ``reach`` + 1 m (no GEOS segment or point box is made), and a pair
    is kept when the distance computed here, GEOS's own, is within ``reach`` + 1 m (the pairs
    the ``dwithin`` query gives; their order does not matter, they are sorted below).
    """
    if not len(pi):
        return np.zeros(0), np.zeros(0)
    xy, which = shapely.get_coordinates(lines, return_index=True)
    same = which[:-1] == which[1:]
    k = np.flatnonzero(same)
    seg_line = which[k]
    ax, ay, bx, by = xy[k, 0], xy[k, 1], xy[k + 1, 0], xy[k + 1, 1]
    dx, dy = ax - bx, ay - by
    seg_len = np.sqrt(dx * dx + dy * dy)
    # running length at each segment's start, summed from 0 in line order as GEOS sums it
    start = np.empty(len(k))
    first = np.r_[0, np.flatnonzero(np.diff(seg_line)) + 1]
    bounds = np.r_[first, len(k)]
    for a, b in zip(bounds[:-1], bounds[1:]):
        cs = np.cumsum(seg_len[a:b])
        start[a] = 0.0
        start[a + 1:b] = cs[:-1]
    px, py = shapely.get_x(pts), shapely.get_y(pts)
    found = []
    # the segments a block at a time: their geometries and tree are the part's largest memory
    # (the 1M city's streets have millions of segments), and a pair's distance does not depend
    # on the other segments (the pairs are ordered below by segment, distance and line)
    pad = reach + 1.0
    points = shapely.STRtree(pts) if by_box else None
    for lo in range(0, len(k), _SEGMENT_BLOCK):
        sl = slice(lo, lo + _SEGMENT_BLOCK)
        if points is not None:
            qs, qp = points.query(shapely.box(np.minimum(ax[sl], bx[sl]) - pad,
                                              np.minimum(ay[sl], by[sl]) - pad,
                                              np.maximum(ax[sl], bx[sl]) + pad,
                                              np.maximum(ay[sl], by[sl]) + pad))
        else:
            qp, qs = shapely.STRtree(shapely.linestrings(
                np.stack([np.c_[ax[sl], ay[sl]], np.c_[bx[sl], by[sl]]], axis=1))).query(
                pts, predicate="dwithin", distance=pad)
        release_memory()  # the block's GEOS boxes or segments (glibc would keep their pages)
        qs = qs + lo
        dist = _point_segment(px[qp], py[qp], ax[qs], ay[qs], bx[qs], by[qs])
        if points is not None:
            keep = dist <= pad
            qp, qs, dist = qp[keep], qs[keep], dist[keep]
        found.append((qp, qs, dist))
    qp, qs, dist = (np.concatenate(a) for a in zip(*found)) if found else \
        (np.zeros(0, np.int64), np.zeros(0, np.int64), np.zeros(0))
    nl = len(lines)
    key = qp.astype(np.int64) * nl + seg_line[qs]
    order = np.lexsort((qs, dist, key))
    key_s = key[order]
    firsts = np.r_[True, key_s[1:] != key_s[:-1]]
    best_key, best = key_s[firsts], order[firsts]
    want = pi.astype(np.int64) * nl + li
    at = np.searchsorted(best_key, want)
    ok = (at < len(best_key))
    ok[ok] = best_key[at[ok]] == want[ok]
    out = np.full(len(pi), np.nan)
    near = np.full(len(pi), np.inf)
    c = best[at[ok]]
    near[ok] = dist[c]
    sg = qs[c]
    # projectionFactor and segmentNearestMeasure
    X, Y, Ax, Ay, Bx, By = px[qp[c]], py[qp[c]], ax[sg], ay[sg], bx[sg], by[sg]
    ex, ey = Bx - Ax, By - Ay
    with np.errstate(divide="ignore", invalid="ignore"):
        pf = ((X - Ax) * ex + (Y - Ay) * ey) / (ex * ex + ey * ey)
    pf = np.where((X == Ax) & (Y == Ay), 0.0, np.where((X == Bx) & (Y == By), 1.0, pf))
    st0, L = start[sg], seg_len[sg]
    out[ok] = np.where(pf <= 0.0, st0, np.where(pf <= 1.0, st0 + pf * L, st0 + L))
    return near, out


def _point_segment(X: np.ndarray, Y: np.ndarray, Ax: np.ndarray, Ay: np.ndarray,
                   Bx: np.ndarray, By: np.ndarray) -> np.ndarray:
    """Distance from points to segments in GEOS's arithmetic (``Distance::pointToSegment``)."""
    ex, ey = Bx - Ax, By - Ay
    len2 = ex * ex + ey * ey
    with np.errstate(divide="ignore", invalid="ignore"):
        r = ((X - Ax) * ex + (Y - Ay) * ey) / len2
        s = ((Ay - Y) * ex - (Ax - X) * ey) / len2
    dA = np.sqrt((X - Ax) * (X - Ax) + (Y - Ay) * (Y - Ay))
    dB = np.sqrt((X - Bx) * (X - Bx) + (Y - By) * (Y - By))
    return np.where((Ax == Bx) & (Ay == By), dA,
                    np.where(r <= 0.0, dA, np.where(r >= 1.0, dB, np.abs(s) * np.sqrt(len2))))


def _bins_on_lines(lines: np.ndarray, pts: np.ndarray, snap: float
                   ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The (point, line) pairs of ``STRtree(lines).query(pts, "dwithin", snap)``, in its order,
    and each point's position along its line (``line_locate_point``).

    GEOS measures a point's distance to every segment of each line whose box is in reach;
    here the tree is asked for the boxes only (the same traversal, so the same order) and the
    distances come from the segments near each point, in GEOS's arithmetic (:func:`_on_lines`).
    """
    tree = shapely.STRtree(lines)
    if not len(pts) or not ((shapely.get_type_id(pts) == 0) & ~shapely.is_empty(pts)).all():
        pi, li = tree.query(pts, predicate="dwithin", distance=snap)
        return pi, li, _locate(lines, pts, pi, li, snap)
    x, y, pad = shapely.get_x(pts), shapely.get_y(pts), snap + 1.0
    # the boxes a block of points at a time (a tree's pairs come point by point: the same
    # pairs in the same order as one query)
    pis, lis = [], []
    for lo in range(0, len(pts), _BOX_BLOCK):
        sl = slice(lo, lo + _BOX_BLOCK)
        a, b = tree.query(shapely.box(x[sl] - pad, y[sl] - pad, x[sl] + pad, y[sl] + pad))
        pis.append(a + lo)
        lis.append(b)
    pi, li = np.concatenate(pis), np.concatenate(lis)
    dist, pos = _on_lines(lines, pts, pi, li, snap, by_box=True)
    keep = dist <= snap
    return pi[keep], li[keep], pos[keep]


def bin_gaps(roads: gpd.GeoDataFrame, bins: gpd.GeoDataFrame, *,
             streets: gpd.GeoDataFrame | None = None,
             config: Mapping[str, Any] | None = None) -> gpd.GeoDataFrame:
    """Stretches of street without a litter bin longer than the spacing for the street type.

    A bin serves every street part within ``bins.snap_m`` (a bin at a corner serves both
    streets). Along each part the gaps run from its start to the first bin, between bins and
    from the last bin to its end.

    Returns
    -------
    GeoDataFrame
        One row per gap too long: ``street``, ``part``, ``street_type``, ``from_m``, ``to_m``,
        ``gap_m``, ``max_m``, ``bins_before`` / ``bins_after`` (ids, may be empty), geometry
        the stretch of street.
    """
    cfg = config or sanitation_config()
    spacing = dict(cfg_value(cfg, "bins", "max_spacing_m"))
    snap = float(cfg_value(cfg, "bins", "snap_m"))
    min_len = float(cfg_value(cfg, "bins", "min_street_m"))
    st = streets if streets is not None else street_lines(roads, config=cfg)
    st = st.reset_index(drop=True)
    lines = np.asarray(st.geometry.values)
    pts = np.asarray(bins.geometry.values)
    col = next((c for c in ("bin_id", "point_id") if c in bins), None)
    ids = bins[col].astype(str).to_numpy() if col else np.arange(len(bins)).astype(str)
    # a bin serves every street within reach (a bin at a corner serves both streets)
    bi, li, pos = _bins_on_lines(lines, pts, snap)
    at = pd.DataFrame({"part": li, "pos": pos, "bin": ids[bi]}).sort_values(["part", "pos"])
    rows = []
    lengths = shapely.length(lines)
    # each part's bins: a slice of the sorted pairs (no frame per part)
    a_part, a_pos, a_bin = at["part"].to_numpy(), at["pos"].to_numpy(), at["bin"].to_numpy()
    lo = np.searchsorted(a_part, np.arange(len(st)), "left")
    hi = np.searchsorted(a_part, np.arange(len(st)), "right")
    s_street, s_part = st["street"].to_numpy(), st["part"].to_numpy()
    s_type = st["street_type"].to_numpy()
    for k in range(len(st)):
        L = float(lengths[k])
        limit = spacing.get(s_type[k])
        if limit is None or L < min_len:
            continue
        p = a_pos[lo[k]:hi[k]] if hi[k] > lo[k] else np.zeros(0)
        b = a_bin[lo[k]:hi[k]] if hi[k] > lo[k] else np.zeros(0, dtype=object)
        edges = np.r_[0.0, p, L]
        names = np.r_[[""], b, [""]]
        gap = np.diff(edges)
        for j in np.flatnonzero(gap > float(limit)):
            rows.append({"street": s_street[k], "part": int(s_part[k]),
                         "street_type": s_type[k], "from_m": round(edges[j], 1),
                         "to_m": round(edges[j + 1], 1), "gap_m": round(gap[j], 1),
                         "max_m": float(limit), "bins_before": names[j],
                         "bins_after": names[j + 1],
                         "geometry": substring(lines[k], edges[j], edges[j + 1])})
    cols = ["street", "part", "street_type", "from_m", "to_m", "gap_m", "max_m", "bins_before",
            "bins_after"]
    if not rows:
        return gpd.GeoDataFrame({c: [] for c in cols}, geometry=[], crs=roads.crs)
    return gpd.GeoDataFrame(rows, geometry="geometry", crs=roads.crs)


def bins_to_replace(bins: gpd.GeoDataFrame, roads: gpd.GeoDataFrame | None, *,
                    as_of: _dt.date, config: Mapping[str, Any] | None = None
                    ) -> gpd.GeoDataFrame:
    """Old bins (``status`` 旧桶待更换) past the plan's replacement deadline for their street.

    The street is the bin's ``street`` field, else the nearest road's name; the deadline is the
    street's own (``中央街``) or its road class's (主干路, 次干路) in ``bins.replace_deadlines``.
    Bins on other streets have no deadline in the plan and are not listed.

    Returns
    -------
    GeoDataFrame
        The overdue bins with ``street``, ``road_class``, ``deadline``, ``days_overdue``.
    """
    cfg = config or sanitation_config()
    deadlines = {k: _dt.date.fromisoformat(str(v))
                 for k, v in dict(cfg_value(cfg, "bins", "replace_deadlines")).items()}
    b = bins.reset_index(drop=True)
    old = b["status"].fillna("").astype(str).eq("旧桶待更换").to_numpy() if "status" in b else \
        np.zeros(len(b), bool)
    # only old bins can be listed: the street, nearest road and class of the old bins alone
    oi = np.flatnonzero(old)
    street = (b["street"].iloc[oi].fillna("").astype(str).to_numpy(dtype=object)
              if "street" in b else np.full(len(oi), "", dtype=object))
    cls = np.full(len(oi), "", dtype=object)
    if roads is not None and len(roads) and len(oi):
        tree = shared_tree(np.asarray(roads.geometry.values))
        bi, ri = tree.query_nearest(np.asarray(b.geometry.values)[oi], all_matches=False)
        named = "name" in roads
        if named:
            fill = street[bi] == ""
            street[bi[fill]] = (roads["name"].iloc[ri[fill]].fillna("").astype(str)
                                .to_numpy(dtype=object))
        cls[bi] = roads["road_class"].iloc[ri].astype(str).to_numpy()
        if named:   # a bin on a named street takes that street's class
            rn = roads["name"].fillna("").astype(str)
            on = rn.isin(set(street)).to_numpy()   # the roads of those streets
            by_name = (pd.Series(roads["road_class"][on].astype(str).to_numpy(),
                                 index=rn[on].to_numpy()).groupby(level=0).first())
            known = pd.Series(street).isin(by_name.index).to_numpy()  # hashed: np.isin on
            # object arrays compares every pair (60 s for the 1M city's bins)
            cls[known] = by_name.reindex(street[known]).to_numpy()
    deadline = [deadlines.get(s) or deadlines.get(c) for s, c in zip(street, cls)]
    due = np.array([d is not None and as_of > d for d in deadline], bool)
    keep = np.zeros(len(b), bool)
    keep[oi[due]] = True
    out = b[keep].copy()
    out["street"] = street[due]
    out["road_class"] = cls[due]
    out["deadline"] = [d.isoformat() for d, k in zip(deadline, due) if k]
    out["days_overdue"] = [(as_of - d).days for d, k in zip(deadline, due) if k]
    return out


def garbage_coverage(compounds: gpd.GeoDataFrame, points: gpd.GeoDataFrame, *,
                     config: Mapping[str, Any] | None = None) -> gpd.GeoDataFrame:
    """Per compound (not under construction): nearest garbage point and sorted collection.

    Columns added: ``nearest_point``, ``distance_m`` (from the compound's outline; 0 inside),
    ``covered`` (a point within ``garbage_points.service_radius_m``), ``sorted`` (a point of a
    ``sorting_categories`` category within the radius).
    """
    cfg = config or sanitation_config()
    radius = float(cfg_value(cfg, "garbage_points", "service_radius_m"))
    sort_cats = set(cfg_value(cfg, "garbage_points", "sorting_categories"))
    c = compounds.reset_index(drop=True)
    if "under_construction" in c:
        c = c[~c["under_construction"].fillna(False).astype(bool)].reset_index(drop=True)
    polys = np.asarray(c.geometry.values)
    pts = np.asarray(points.geometry.values)
    pid = (points["point_id"].astype(str).to_numpy() if "point_id" in points
           else np.arange(len(points)).astype(str))
    out = c.copy()
    out["nearest_point"] = None
    out["distance_m"] = np.inf
    if len(pts) and len(polys):
        tree = shapely.STRtree(pts)
        ci, pi = tree.query_nearest(polys, all_matches=False, return_distance=False)
        out.loc[ci, "nearest_point"] = pid[pi]
        out.loc[ci, "distance_m"] = shapely.distance(polys[ci], pts[pi]).round(1)
        cat = (points["category"].fillna("").astype(str).to_numpy() if "category" in points
               else np.full(len(points), "", dtype=object))
        sorting = np.isin(cat, list(sort_cats))
        ci2, pi2 = tree.query(polys, predicate="dwithin", distance=radius)
        has_sort = np.zeros(len(polys), bool)
        has_sort[ci2[sorting[pi2]]] = True
        out["sorted"] = has_sort
    else:
        out["sorted"] = False
    out["covered"] = out["distance_m"].to_numpy(float) <= radius
    return out


def reports_in_window(reports: gpd.GeoDataFrame | None, categories: Any,
                      window: tuple[pd.Timestamp, pd.Timestamp] | None) -> gpd.GeoDataFrame:
    """Reports of the given categories received inside ``window`` (start, end), when given."""
    if reports is None or not len(reports):
        return gpd.GeoDataFrame(geometry=[], crs=getattr(reports, "crs", None))
    r = reports[reports["category"].isin(list(categories))] if "category" in reports else \
        reports.iloc[:0]
    if window is not None and "received_at" in r:
        t = pd.to_datetime(r["received_at"], errors="coerce")
        if getattr(t.dt, "tz", None) is not None:
            t = t.dt.tz_convert("Asia/Shanghai").dt.tz_localize(None)
        r = r[(t >= window[0]) & (t < window[1])]
    return r


def hygiene_zones(stations: gpd.GeoDataFrame | None, points: gpd.GeoDataFrame | None,
                  reports: gpd.GeoDataFrame | None, *,
                  window: tuple[pd.Timestamp, pd.Timestamp] | None = None,
                  config: Mapping[str, Any] | None = None) -> gpd.GeoDataFrame:
    """Hygiene zones around transfer stations and garbage pools, with the reports inside.

    Returns
    -------
    GeoDataFrame
        One zone per station or pool: ``facility_id``, ``kind`` (转运站 / 垃圾池), ``radius_m``,
        ``reports`` (count), ``report_ids`` (";"-joined), geometry the zone.
    """
    cfg = config or sanitation_config()
    radius = dict(cfg_value(cfg, "hygiene_zone", "radius_m"))
    pools_cat = set(cfg_value(cfg, "hygiene_zone", "pool_categories"))
    cats = cfg_value(cfg, "hygiene_zone", "report_categories")
    frames = []
    if stations is not None and len(stations):
        frames.append(pd.DataFrame({
            "facility_id": stations["station_id"].astype(str).to_numpy(), "kind": "转运站",
            "radius_m": float(radius["transfer_station"]),
            "geometry": np.asarray(stations.geometry.values)}))
    if points is not None and len(points) and "category" in points:
        pools = points[points["category"].isin(list(pools_cat))]
        frames.append(pd.DataFrame({
            "facility_id": pools["point_id"].astype(str).to_numpy(), "kind": "垃圾池",
            "radius_m": float(radius["garbage_pool"]),
            "geometry": np.asarray(pools.geometry.values)}))
    crs = (stations if stations is not None else points).crs if (stations is not None
                                                                  or points is not None) else None
    if not frames:
        return gpd.GeoDataFrame({"facility_id": [], "kind": [], "radius_m": [], "reports": [],
                                 "report_ids": []}, geometry=[], crs=crs)
    z = pd.concat(frames, ignore_index=True)
    zones = gpd.GeoDataFrame(z.drop(columns="geometry"),
                             geometry=shapely.buffer(z["geometry"].to_numpy(), z["radius_m"]),
                             crs=crs)
    r = reports_in_window(reports, cats, window)
    counts = np.zeros(len(zones), int)
    rid: list[list[str]] = [[] for _ in range(len(zones))]
    if len(r):
        ri, zi = zones.sindex.query(np.asarray(r.geometry.values), predicate="within")
        ids = r["report_id"].astype(str).to_numpy() if "report_id" in r else \
            r.index.astype(str).to_numpy()
        for a, b in zip(ri, zi):
            counts[b] += 1
            rid[b].append(ids[a])
    zones["reports"] = counts
    zones["report_ids"] = [";".join(sorted(x)) for x in rid]
    return zones
