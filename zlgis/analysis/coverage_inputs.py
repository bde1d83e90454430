"""Coverage inputs: configuration, the result type, demand (housing, land) and facilities.

Shared by the coverage analyses (:mod:`zlgis.analysis.coverage`).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from .._arrowtext import frame_values
from ..config import load_config
from ..errors import InputError, LayerError
from ..findings import default_crs
from ._network_common import point_xy_or_nan
from .network import StreetGraph
from .run_cache import shared

__all__ = [
    "coverage_config",
    "CoverageResult",
    "need_layer",
    "street_graph",
    "residential_buildings",
    "LayerRows",
    "footprints_of",
    "land_samples",
    "lattice_points",
    "facility_points",
    "METHODS",
    "CHECK",
    "ALL",
]

METHODS = ("radius", "network")
CHECK = "coverage"
ALL = "全市"


def coverage_config() -> dict[str, Any]:
    """The whole ``coverage.yaml``."""
    return load_config("coverage")


# --------------------------------------------------------------------------------------------
# results
# --------------------------------------------------------------------------------------------

@dataclass
class CoverageResult:
    """Everything one coverage analysis produces.

    Attributes
    ----------
    topic : str
        ``toilets``, ``transfer`` or ``parks``.
    method : str
        ``radius`` or ``network``.
    demand : GeoDataFrame or DataFrame
        Residential buildings (points) with ``distance``, ``distance_straight``,
        ``distance_network``, ``facility``, ``covered``, ``district``, ``grid_id`` (without
        ``detail``: a DataFrame with the coordinates in columns ``x`` and ``y``).
    land : GeoDataFrame or DataFrame
        Residential-land sample points with ``area_m2`` and the same distance columns (without
        ``detail``: a DataFrame with the coordinates in columns ``x`` and ``y``).
    indicators : DataFrame
        One row per indicator, measure and district (``share`` covered, ``target``, ``meets``).
    by_grid : GeoDataFrame
        Coverage per grid cell (polygons).
    service_areas, uncovered : GeoDataFrame
        Polygons for maps.
    findings : GeoDataFrame
        Shared findings schema.
    tables : dict
        Extra tables (toilet density, transfer setbacks, park presets...).
    """

    topic: str
    method: str
    demand: pd.DataFrame
    land: pd.DataFrame
    facilities: gpd.GeoDataFrame
    indicators: pd.DataFrame
    by_grid: gpd.GeoDataFrame
    service_areas: gpd.GeoDataFrame
    uncovered: gpd.GeoDataFrame
    findings: gpd.GeoDataFrame
    tables: dict[str, pd.DataFrame] = field(default_factory=dict)
    graph: StreetGraph | None = None

    def indicator(self, measure: str = "buildings", district: str = ALL,
                  indicator: str | None = None) -> float:
        """Covered share for one measure (``buildings``, ``population``, ``land``)."""
        t = self.indicators
        if t.empty:
            return float("nan")
        sel = (t["measure"] == measure) & (t["district"] == district)
        if indicator is not None:
            sel &= t["indicator"] == indicator
        if not sel.any():
            return float("nan")
        return float(t.loc[sel, "share"].iloc[0])

    def summary(self) -> dict[str, Any]:
        """JSON-ready summary (used by the CLI's ``--json``)."""
        return {
            "topic": self.topic, "method": self.method,
            "facilities": int(len(self.facilities)),
            "residential_buildings": int(len(self.demand)),
            "uncovered_buildings": int((~self.demand["covered"]).sum()) if len(self.demand) else 0,
            "findings": int(len(self.findings)),
            "indicators": [{k: _plain(v) for k, v in r.items()}
                           for r in self.indicators.to_dict("records")],
        }


def _plain(v: Any) -> Any:
    if isinstance(v, (np.floating, float)):
        return None if not np.isfinite(v) else round(float(v), 4)
    if isinstance(v, (np.integer,)):
        return int(v)
    if isinstance(v, np.bool_):
        return bool(v)
    return v


# --------------------------------------------------------------------------------------------
# inputs
# --------------------------------------------------------------------------------------------

def need_layer(layers: dict[str, gpd.GeoDataFrame], lid: str) -> gpd.GeoDataFrame:
    if lid not in layers or layers[lid] is None:
        raise LayerError("覆盖分析需要此图层，但未加载", layer=lid)
    gdf = layers[lid]
    if gdf.crs is None:
        return gdf.set_crs(default_crs())
    return gdf


def street_graph(layers: dict[str, gpd.GeoDataFrame], *, walk: bool = True) -> StreetGraph:
    """Walking (or driving) graph of the ``roads`` layer.

    Build it once and pass it as ``graph=`` to the coverage and siting functions when running
    several of them on the same roads.
    """
    return StreetGraph.from_roads(need_layer(layers, "roads"), walk=walk)


def residential_buildings(layers: dict[str, gpd.GeoDataFrame], *, geometry: bool = True
                          ) -> pd.DataFrame:
    """Residential buildings as points, with ``population``, ``district`` and ``grid_id``.

    Buildings under construction are left out (nobody lives there yet). The footprint is kept
    in column ``footprint`` (for uncovered-area polygons). A building's point is a point on
    its footprint (``point_on_surface``).

    With ``geometry=False`` the result is a plain DataFrame with the points' coordinates in
    columns ``x`` and ``y`` instead of point geometries (what the coverage distances need) and
    the footprints' rows in the buildings layer in ``building_row`` (:func:`footprints_of`)
    instead of ``footprint``: the 1M city's 269k homes hold about 80 MB as GEOS points, for
    the whole coverage check.

    In a run (:func:`zlgis.analysis.run_cache.run_cache`) the frame is made once for the same
    layer objects (toilets, parks and transfer stations all ask for it) and each caller gets
    a shallow copy: treat its values as read-only.
    """
    src = tuple(layers.get(k) for k in ("buildings", "grids", "residential_compounds"))
    key = ("coverage:residential_buildings", geometry, *(id(x) for x in src))
    held_src, frame = shared(key, lambda: (src, _residential_buildings(layers, geometry)))
    if any(a is not b for a, b in zip(held_src, src)):  # an id reused by other layers
        frame = _residential_buildings(layers, geometry)
    return frame.copy(deep=False)


def _residential_buildings(layers: dict[str, gpd.GeoDataFrame], geometry: bool
                           ) -> pd.DataFrame:
    cfg = coverage_config()["demand"]
    b = need_layer(layers, "buildings")
    uses = set(cfg.get("residential_uses", ["住宅"]))
    sel = b["use"].isin(uses) if "use" in b else pd.Series(True, index=b.index)
    if "under_construction" in b:
        sel &= ~b["under_construction"].fillna(False).astype(bool)
    # the columns used only: a row filter of the whole layer takes every column; without
    # geometry not the footprints either (their row numbers: a copy of 27 % of a layer's
    # objects touches the pages of nearly all, and each forked check copies those it touches)
    keep = (sel & b.geometry.notna()).to_numpy()
    rows = np.flatnonzero(keep)
    used = [c for c in ("building_id", "population", "compound_id") if c in b]
    r = b[[*used, b.geometry.name]][keep] if geometry else b[used].iloc[rows]
    ids = (r["building_id"].astype(str) if "building_id" in r
           else pd.Series(r.index.astype(str), index=r.index))
    pop = (pd.to_numeric(r["population"], errors="coerce").fillna(0.0) if "population" in r
           else pd.Series(0.0, index=r.index))
    cols = {
        "building_id": frame_values(ids),
        "population": pop.to_numpy(float),
        "compound_id": (frame_values(r["compound_id"], objects=True) if "compound_id" in r
                        else np.full(len(r), None, dtype=object)),
    }
    if geometry:
        out = gpd.GeoDataFrame({**cols, "footprint": r.geometry.values}, crs=b.crs,
                               geometry=shapely.point_on_surface(
                                   np.asarray(r.geometry.values, dtype=object)))
    else:
        # (NaN for an empty footprint's empty point)
        xy = point_xy_or_nan(np.asarray(b.geometry.values), rows=rows)
        out = pd.DataFrame({"x": xy[:, 0], "y": xy[:, 1], **cols, "building_row": rows})
    return assign_area(out, layers, copy=False)


@dataclass(frozen=True)
class LayerRows:
    """Some rows of a layer's geometries (``geoms`` at ``rows``), taken only when asked
    (:meth:`select`): what :func:`residential_buildings` without geometry gives for its homes'
    footprints, which :func:`~zlgis.analysis.coverage_clusters.uncovered_areas` reads for its
    uncovered ones only.

    >>> from shapely.geometry import Point
    >>> fp = LayerRows(np.array([Point(0, 0), Point(1, 1), Point(2, 2)]), np.array([2, 0]), None)
    >>> len(fp), [p.x for p in fp.select(np.array([True, False]))]
    (2, [2.0])
    """

    geoms: np.ndarray
    rows: np.ndarray
    crs: Any

    def __len__(self) -> int:
        return len(self.rows)

    def select(self, mask: np.ndarray) -> np.ndarray:
        """The geometries of the rows where ``mask`` is true."""
        return self.geoms[self.rows[mask]]


def footprints_of(demand: pd.DataFrame, layers: dict[str, gpd.GeoDataFrame]) -> Any:
    """The footprints of :func:`residential_buildings`' rows: its ``footprint`` column, or
    without geometry the rows of the buildings layer (:class:`LayerRows`)."""
    if "footprint" in demand:
        return demand["footprint"].values
    b = need_layer(layers, "buildings")
    return LayerRows(np.asarray(b.geometry.values), demand["building_row"].to_numpy(), b.crs)


def land_samples(layers: dict[str, gpd.GeoDataFrame], spacing: float | None = None, *,
                 geometry: bool = True) -> pd.DataFrame:
    """Residential land (compounds) as a lattice of points, each carrying its share of area.

    Every compound gets the points of a ``spacing`` lattice that fall inside it, each weighted
    ``area / n`` so weights add up to the compound area exactly; a compound too small to hold a
    lattice point is represented by one interior point. Compounds under construction count
    (they are residential land).

    With ``geometry=False`` the result is a plain DataFrame with the coordinates in columns
    ``x`` and ``y`` instead of point geometries (what the coverage distances need): a city's
    1.4M samples hold 350 MB as shapely points, 22 MB as coordinates.

    >>> import geopandas as gpd
    >>> from shapely.geometry import box
    >>> comp = gpd.GeoDataFrame({"compound_id": ["c"]}, geometry=[box(0, 0, 100, 60)],
    ...                         crs="EPSG:4550")
    >>> s = land_samples({"residential_compounds": comp}, spacing=20)
    >>> len(s), float(s["area_m2"].sum())
    (15, 6000.0)
    """
    cfg = coverage_config()["demand"]
    spacing = float(spacing or cfg["land_sample_spacing_m"])
    comp = layers.get("residential_compounds")
    if comp is None or not len(comp):
        empty = {"compound_id": [], "area_m2": [], "population": []}
        if not geometry:
            return pd.DataFrame({"x": [], "y": [], **empty})
        return gpd.GeoDataFrame(empty, geometry=gpd.GeoSeries([], crs=default_crs()),
                                crs=default_crs())
    comp = comp[comp.geometry.notna() & ~comp.geometry.is_empty]
    geoms = np.asarray(comp.geometry.values, dtype=object)
    x, y, own = lattice_points(geoms, spacing)
    area = shapely.area(geoms)
    n = np.bincount(own, minlength=len(geoms))
    pop = (pd.to_numeric(comp["population"], errors="coerce").fillna(0.0).to_numpy(float)
           if "population" in comp else np.zeros(len(geoms)))
    # the lattice points' compounds taken from the Arrow columns (no Python string per point)
    ids = (frame_values(comp["compound_id"].astype(str).iloc[own]) if "compound_id" in comp
           else comp.index.astype(str).to_numpy()[own])
    cols = {
        "compound_id": ids,
        "area_m2": area[own] / n[own],
        "population": pop[own] / n[own],
        "compound_district": (frame_values(comp["district"].iloc[own], objects=True)
                              if "district" in comp else None),
    }
    out = (gpd.GeoDataFrame(cols, geometry=shapely.points(x, y), crs=comp.crs) if geometry
           else pd.DataFrame({"x": x, "y": y, **cols}))
    return assign_area(out, layers, copy=False)


def lattice_points(geoms: np.ndarray, spacing: float
                   ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Points of a ``spacing`` lattice inside each polygon (one interior point when none).

    Returns x, y and the position of each point's polygon, polygon by polygon, rows of the
    lattice from the bottom and points left to right within a row. The lattice axes are each
    polygon's own ``np.arange`` (as ``land_samples`` always made them); the grid of every
    polygon is laid out with one ``repeat`` and tested with one prepared ``contains_xy``
    call instead of a ``meshgrid`` and a ``contains_xy`` per polygon.
    """
    n = len(geoms)
    b = shapely.bounds(geoms)
    gxs, gys = [], []
    for k in range(n):
        x0 = math.floor(b[k, 0] / spacing) * spacing + spacing / 2
        y0 = math.floor(b[k, 1] / spacing) * spacing + spacing / 2
        gxs.append(np.arange(x0, b[k, 2], spacing))
        gys.append(np.arange(y0, b[k, 3], spacing))
    nx = np.fromiter(map(len, gxs), np.int64, n)
    ny = np.fromiter(map(len, gys), np.int64, n)
    gx = np.concatenate(gxs) if n else np.zeros(0)
    gy = np.concatenate(gys) if n else np.zeros(0)
    cells = nx * ny
    total = int(cells.sum())
    poly = np.repeat(np.arange(n), cells)
    j = np.arange(total) - np.repeat(np.cumsum(cells) - cells, cells)  # index in its grid
    nxp = nx[poly]
    X = gx[(np.cumsum(nx) - nx)[poly] + j % np.maximum(nxp, 1)]
    Y = gy[(np.cumsum(ny) - ny)[poly] + j // np.maximum(nxp, 1)]
    shapely.prepare(geoms)
    m = shapely.contains_xy(geoms[poly], X, Y) if total else np.zeros(0, bool)
    X, Y, poly = X[m], Y[m], poly[m]
    bare = np.flatnonzero(np.bincount(poly, minlength=n) == 0)
    if len(bare):  # too small for the lattice: one interior point, in its polygon's place
        p = shapely.point_on_surface(geoms[bare])
        X = np.concatenate([X, shapely.get_x(p)])
        Y = np.concatenate([Y, shapely.get_y(p)])
        poly = np.concatenate([poly, bare])
        order = np.argsort(poly, kind="stable")
        X, Y, poly = X[order], Y[order], poly[order]
    return X, Y, poly


def assign_area(pts: pd.DataFrame, layers: dict[str, gpd.GeoDataFrame], *,
                copy: bool = True) -> pd.DataFrame:
    """Add ``grid_id`` and ``district`` from the grids layer (compounds, then a fallback).

    ``pts`` is a GeoDataFrame, or a plain DataFrame of points given by columns ``x`` and ``y``
    (the land samples without geometry). ``copy=False`` adds the columns to ``pts`` itself
    (for a frame just made: the 1M city's land samples are 70 MB a copy)."""
    out = pts.copy() if copy else pts
    n = len(out)
    grid = np.full(n, "", dtype=object)
    district = np.full(n, "", dtype=object)
    grids = layers.get("grids")
    geo = isinstance(out, gpd.GeoDataFrame)
    arr = np.asarray(out.geometry.values, dtype=object) if geo else None
    xy = None if geo else np.column_stack([out["x"].to_numpy(float), out["y"].to_numpy(float)])
    if grids is not None and len(grids) and n:
        polys = np.asarray(grids.geometry.values, dtype=object)
        pi, gi = _within(arr, polys) if geo else _within_xy(xy, polys)
        # each point's first grid (the pairs come point by point, in the tree's order)
        head = np.r_[True, pi[1:] != pi[:-1]] if len(pi) else np.zeros(0, bool)
        pi, gi = pi[head], gi[head]
        gid = grids["grid_id"].astype(str).to_numpy() if "grid_id" in grids else \
            grids.index.astype(str).to_numpy()
        grid[pi] = gid[gi]
        if "district" in grids:
            gd = grids["district"].fillna("").astype(str).to_numpy()
            district[pi] = gd[gi]
    comp = layers.get("residential_compounds")
    missing = district == ""
    if missing.any() and "compound_district" in out:
        # the rows asked only, as objects (not the whole Arrow column)
        district[missing] = out["compound_district"][missing].fillna("").astype(str).to_numpy()
        missing = district == ""
    if missing.any() and comp is not None and len(comp) and "district" in comp and \
            "compound_id" in out and "compound_id" in comp:
        m = dict(zip(comp["compound_id"].astype(str).tolist(),
                     comp["district"].fillna("").astype(str).tolist()))
        cid = out["compound_id"][missing].astype(str).tolist()
        district[missing] = [m.get(c, "") for c in cid]
        missing = district == ""
    if missing.any() and comp is not None and len(comp) and "district" in comp:
        # the district of the nearest compound within 1 km (e.g. for candidate sites)
        tree = shapely.STRtree(np.asarray(comp.geometry.values, dtype=object))
        (pi, ci), _ = tree.query_nearest(
            arr[missing] if geo else shapely.points(xy[missing]), max_distance=1000.0,
            return_distance=True, all_matches=False)
        cd = comp["district"].fillna("").astype(str).to_numpy()
        idx = np.flatnonzero(missing)
        district[idx[pi]] = cd[ci]
    nogrid = grid == ""
    if nogrid.any() and n:
        cell = float(coverage_config()["demand"]["fallback_cell_m"])
        px, py = ((shapely.get_x(arr[nogrid]), shapely.get_y(arr[nogrid])) if geo
                  else (xy[nogrid, 0], xy[nogrid, 1]))
        gx = np.floor(px / cell).astype(np.int64)
        gy = np.floor(py / cell).astype(np.int64)
        cells, inv = np.unique(np.c_[gx, gy], axis=0, return_inverse=True)
        names = np.array([f"C{a}_{b}" for a, b in cells], dtype=object)
        grid[nogrid] = names[inv.ravel()]  # each cell's name formatted once
    out["grid_id"] = grid
    out["district"] = np.where(district == "", "未分区", district)
    if "compound_district" in out:
        out = out.drop(columns="compound_district")
    return out


def _within(arr: np.ndarray, polys: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(point, polygon) pairs with the point within the polygon, as ``STRtree(polys).query(arr,
    predicate="within")`` gives them (same pairs, same order).

    For points (all of them non-empty), the tree's box candidates are kept by the polygons'
    prepared ``contains_xy`` (the same relation: a point is within a polygon when the polygon
    contains it) instead of GEOS testing every candidate pair as geometries: 1.5 -> 0.4 s for
    the 1M city's 1.36M land samples."""
    tree = shapely.STRtree(polys)
    if not len(arr) or not (shapely.get_type_id(arr) == 0).all() or shapely.is_empty(arr).any():
        return tree.query(arr, predicate="within")
    pi, gi = tree.query(arr)
    shapely.prepare(polys)
    keep = shapely.contains_xy(polys[gi], shapely.get_x(arr)[pi], shapely.get_y(arr)[pi])
    return pi[keep], gi[keep]


def _within_xy(xy: np.ndarray, polys: np.ndarray, block: int = 250_000
               ) -> tuple[np.ndarray, np.ndarray]:
    """:func:`_within` of the points of coordinates ``xy``, made ``block`` at a time (the
    same pairs in the same order: each point's polygons do not depend on the others)."""
    parts = [_within(shapely.points(xy[lo:lo + block]), polys)
             for lo in range(0, len(xy), block)]
    return (np.concatenate([pi + lo for (pi, _), lo in zip(parts, range(0, len(xy), block))]),
            np.concatenate([gi for _, gi in parts]))


def facility_points(gdf: gpd.GeoDataFrame, layer: str) -> gpd.GeoDataFrame:
    if gdf.geometry.isna().any():
        row = int(np.flatnonzero(gdf.geometry.isna().to_numpy())[0])
        raise InputError("设施缺少坐标", layer=layer, row=row + 1, field="geometry")
    return gdf
