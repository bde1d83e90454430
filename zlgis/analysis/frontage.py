"""Frontage duties (门前“五包”, plan task 4.1.1): each street-front unit's responsibility zone.

The frontage of a street is the band between the kerb (the carriageway edge: the centreline
buffered by ``frontage.carriageway_share`` of the red-line width, halved) and the buildings, at
most ``frontage.depth_m`` deep, less the building footprints. Each point of it belongs to the
nearest building, when that building is within the depth: the zones are the building's cells of
a Voronoi partition of sample points along every building outline (so a zone is bounded by its
neighbours half-way between them, a corner building holds both streets and an L-shaped one its
whole street face), cut to the band. What no building holds is unheld frontage.

The partition is computed in square tiles (with a margin of buildings around each) and the tiles
themselves partition the plane, so every square metre of frontage is counted exactly once: held
by one unit, or unheld.

Examples
--------
>>> import geopandas as gpd
>>> from shapely.geometry import LineString, box
>>> roads = gpd.GeoDataFrame({"road_id": ["R"], "name": ["中央街"], "road_class": ["主干路"],
...     "width": [20.0]}, geometry=[LineString([(0, 0), (200, 0)])], crs="EPSG:4550")
>>> shops = gpd.GeoDataFrame({"building_id": ["A", "B"]},
...     geometry=[box(20, 12, 60, 30), box(60, 12, 100, 30)], crs="EPSG:4550")
>>> zones, unheld = frontage_zones(roads, shops)
>>> band = frontage_band(roads, shops)       # 72 m wide, less the carriageway and the shops
>>> zones["building_id"].tolist(), bool(abs(zones.area.sum() + unheld.area.sum() - band.area) < 1e-6)
(['A', 'B'], True)
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from .run_cache import shared_tree
from .sweeping import cfg_value, sanitation_config

__all__ = ["carriageway_half_widths", "carriageways", "frontage_band", "frontage_complaints",
           "frontage_zones"]


def carriageway_half_widths(roads: gpd.GeoDataFrame, share: float) -> np.ndarray:
    """Half of each road's carriageway: ``share`` of its width (by class when missing), >= 1 m."""
    default = {"主干路": 40.0, "次干路": 30.0, "支路": 20.0, "巷道": 12.0, "人行道": 4.0}
    w = (pd.to_numeric(roads["width"], errors="coerce") if "width" in roads
         else pd.Series(np.nan, index=roads.index))
    if "road_class" in roads:
        w = w.fillna(roads["road_class"].map(default))
    return (w.fillna(12.0).to_numpy(float) * share / 2.0).clip(min=1.0)


def carriageways(roads: gpd.GeoDataFrame, *, config: Mapping[str, Any] | None = None
                 ) -> gpd.GeoDataFrame:
    """Carriageway polygons: each centreline buffered by ``carriageway_share`` of its width, halved.

    Column ``label`` is the road's name (its id when unnamed).
    """
    cfg = config or sanitation_config()
    share = float(cfg_value(cfg, "frontage", "carriageway_share"))
    r = roads[roads.geometry.notna()].reset_index(drop=True)
    names = r["name"].fillna("").astype(str) if "name" in r else pd.Series("", index=r.index)
    ids = r["road_id"].astype(str) if "road_id" in r else pd.Series(r.index.astype(str))
    label = np.where(names != "", names, ids)
    return gpd.GeoDataFrame({"label": label},
                            geometry=shapely.buffer(np.asarray(r.geometry.values),
                                                    carriageway_half_widths(r, share)), crs=r.crs)


def frontage_band(roads: gpd.GeoDataFrame, buildings: gpd.GeoDataFrame | None = None, *,
                  config: Mapping[str, Any] | None = None,
                  tree: shapely.STRtree | None = None) -> Any:
    """The frontage band: kerb to ``depth_m`` beyond it, less carriageways and buildings.

    ``tree``: an STRtree of ``buildings``' geometries in their order, when already built
    (the same tree ``buildings.sindex`` builds).
    """
    cfg = config or sanitation_config()
    depth = float(cfg_value(cfg, "frontage", "depth_m"))
    share = float(cfg_value(cfg, "frontage", "carriageway_share"))
    r = roads[roads.geometry.notna()]
    lines = np.asarray(r.geometry.values)
    cw = carriageway_half_widths(r, share)
    outer = shapely.union_all(shapely.buffer(lines, cw + depth))
    carriage = shapely.union_all(shapely.buffer(lines, cw))
    band = _poly(shapely.difference(outer, carriage))
    if buildings is not None and len(buildings):
        found = (tree if tree is not None else buildings.sindex).query(band,
                                                                        predicate="intersects")
        near = buildings.geometry.values[found]
        band = _poly(shapely.difference(band, shapely.union_all(np.asarray(near))))
    return band


def _poly(g: Any) -> Any:
    """The polygonal part of a geometry (overlays may return lines and points as well)."""
    if shapely.get_type_id(g) in (3, 6):
        return g
    parts = shapely.get_parts(g)
    parts = parts[np.isin(shapely.get_type_id(parts), (3, 6))]
    return shapely.union_all(parts) if len(parts) else shapely.Polygon()


def _samples(polys: np.ndarray, step: float) -> tuple[np.ndarray, np.ndarray]:
    rings = shapely.get_exterior_ring(shapely.make_valid(polys))
    rings = shapely.segmentize(rings, step)
    xy, which = shapely.get_coordinates(rings, return_index=True)
    # one point per position: ring closures and walls shared by two buildings repeat points
    _, first = np.unique(np.round(xy, 3), axis=0, return_index=True)
    first.sort()
    return xy[first], which[first]


def frontage_zones(roads: gpd.GeoDataFrame, buildings: gpd.GeoDataFrame, *,
                   tile: float = 300.0, step: float = 3.0,
                   config: Mapping[str, Any] | None = None
                   ) -> tuple[gpd.GeoDataFrame, gpd.GeoDataFrame]:
    """Responsibility zones of the street-front units and the unheld frontage.

    Parameters
    ----------
    roads, buildings : GeoDataFrame
        Road centrelines (``width``, ``road_class``, ``name``) and building footprints
        (``building_id``; ``use`` filtered by ``frontage.unit_uses`` when present).
    tile, step : float
        Tile size (m) of the computation and sample spacing (m) along building outlines.

    Returns
    -------
    zones : GeoDataFrame
        One row per unit holding frontage: ``building_id``, ``area_m2``, geometry.
    unheld : GeoDataFrame
        Unheld pieces of the band: ``area_m2`` and ``street`` (the streets it fronts,
        ";"-joined: a piece may turn a corner).
    """
    cfg = config or sanitation_config()
    depth = float(cfg_value(cfg, "frontage", "depth_m"))
    uses = cfg_value(cfg, "frontage", "unit_uses")
    crs = roads.crs
    geoms = np.asarray(buildings.geometry.values)
    unit = ~(shapely.is_missing(geoms) | shapely.is_empty(geoms))
    if uses is not None and "use" in buildings:
        unit &= buildings["use"].isin(list(uses)).to_numpy()
    polys = geoms[unit]
    if not len(roads) or not len(polys):
        empty = gpd.GeoDataFrame({"building_id": [], "area_m2": []}, geometry=[], crs=crs)
        return empty, gpd.GeoDataFrame({"street": [], "area_m2": []}, geometry=[], crs=crs)
    tree = shared_tree(geoms)
    band = frontage_band(roads, buildings, config=cfg, tree=tree)
    x0, y0, x1, y1 = shapely.bounds(band) if not shapely.is_empty(band) else (0, 0, 0, 0)
    # every building a unit: the units' tree is that one (same geometries, same order)
    btree = tree if unit.all() else shapely.STRtree(polys)
    # held: the band within depth of some unit; unheld: the rest (both exact, computed once)
    near_band = btree.query(band, predicate="dwithin", distance=depth)
    reach_all = shapely.union_all(shapely.buffer(polys[near_band], depth, quad_segs=4))
    held_band = _poly(shapely.intersection(band, reach_all))
    unheld_band = _poly(shapely.difference(band, reach_all))
    owners: list[np.ndarray] = []
    pieces: list[np.ndarray] = []
    margin = 2 * depth + 10
    clip = _Clipper(held_band)
    for tx in np.arange(x0, x1, tile):
        for ty in np.arange(y0, y1, tile):
            box = shapely.box(tx, ty, tx + tile, ty + tile)
            local = clip(tx, ty, tx + tile, ty + tile)
            if shapely.is_empty(local):
                continue
            shapely.prepare(local)
            near = btree.query(shapely.buffer(box, margin), predicate="intersects")
            near = near[shapely.dwithin(polys[near], local, depth)]
            if not len(near):
                continue
            got = _tile_zones(polys, near, local, (tx, ty, tile), step, depth)
            if got is not None:
                owners.append(got[0])
                pieces.append(got[1])
    # the owners' ids only, not every unit's (a million buildings' ids as strings: 66 MB)
    own = np.concatenate(owners) if owners else np.zeros(0, np.intp)  # positions among units
    ids = (buildings["building_id"].iloc[np.flatnonzero(unit)[own]].astype(str).to_numpy()
           if "building_id" in buildings else own.astype(str).astype(object))
    zones = _zones_frame(ids, pieces, crs)
    un = _unheld_frame(unheld_band, roads, cfg, crs)
    return zones.reset_index(drop=True), un


class _Clipper:
    """``_poly(clip_by_rect(band, *rect))`` for many rectangles of a large multipolygon.

    GEOS clips each polygon of a multipolygon on its own and gathers the pieces; a polygon
    whose box misses the rectangle gives none. So only the polygons whose boxes meet the
    rectangle are clipped, as a multipolygon in their order: the same result, without
    walking the whole band for every tile.
    """

    def __init__(self, band: Any) -> None:
        self.band = band
        self.parts = (shapely.get_parts(band) if shapely.get_type_id(band) == 6 else None)
        self.tree = shapely.STRtree(self.parts) if self.parts is not None else None

    def __call__(self, x0: float, y0: float, x1: float, y1: float) -> Any:
        if self.tree is None:
            return _poly(shapely.clip_by_rect(self.band, x0, y0, x1, y1))
        idx = np.sort(self.tree.query(shapely.box(x0, y0, x1, y1)))
        if not len(idx):
            return shapely.Polygon()
        sub = shapely.multipolygons(self.parts[idx])
        return _poly(shapely.clip_by_rect(sub, x0, y0, x1, y1))


def _tile_zones(polys: np.ndarray, near: np.ndarray, local: Any, tile_box: tuple[float, ...],
                step: float, depth: float) -> tuple[np.ndarray, np.ndarray] | None:
    """Owners (indexes into ``polys``) and their pieces of one tile's held band ``local``.

    The band is split by the Voronoi diagram of points sampled along the nearby outlines.
    """
    tx, ty, tile = tile_box
    xy, which = _samples(polys[near], step)
    # outline points farther than depth + step from the band never hold any of it
    pts = shapely.points(xy)
    keep = shapely.dwithin(pts, local, depth + step)
    xy, which, pts = xy[keep], which[keep], pts[keep]
    if len(xy) < 2:      # one sample point (or none): the tile's band is its own
        if len(xy):
            return near[which[:1]], np.array([local], dtype=object)
        return None
    # the diagram's extent holds every sample and the tile; cells are matched to their
    # sample by containment (GEOS's ``ordered`` output can drop cells)
    extent = shapely.box(min(xy[:, 0].min(), tx) - 1, min(xy[:, 1].min(), ty) - 1,
                         max(xy[:, 0].max(), tx + tile) + 1,
                         max(xy[:, 1].max(), ty + tile) + 1)
    cells = shapely.get_parts(shapely.voronoi_polygons(shapely.multipoints(xy),
                                                       extend_to=extent))
    if (shapely.get_type_id(cells) != 3).any():    # cells are polygons: no copy of each
        cells = shapely.get_parts(cells)
    cells = cells[shapely.get_type_id(cells) == 3]
    # the cells meeting the band (a cell's own test: the same whether before or after the
    # match), then matched, in their order, to the sample each contains
    cells = cells[shapely.intersects(cells, local)]
    ci, pi = shapely.STRtree(pts).query(cells, predicate="contains")
    cells, owner = cells[ci], near[which[pi]]
    if not len(cells):
        return None
    return _owner_regions(cells, owner, local)


def _owner_regions(cells: np.ndarray, owner: np.ndarray,
                   local: Any) -> tuple[np.ndarray, np.ndarray]:
    """Cells of one owner share exact Voronoi edges: one coverage union per owner, clipped."""
    uniq, inv = np.unique(owner, return_inverse=True)
    order = np.argsort(inv, kind="stable")
    counts = np.bincount(inv)
    slot = np.arange(len(inv)) - np.repeat(np.cumsum(counts) - counts, counts)
    grid = np.full((len(uniq), counts.max()), None, dtype=object)
    grid[inv[order], slot] = cells[order]
    try:
        regions = shapely.coverage_union_all(grid, axis=1)
    except shapely.errors.GEOSException:   # cells GEOS did not node exactly
        regions = shapely.union_all(grid, axis=1)
    z = shapely.intersection(regions, local)
    ok = shapely.area(z) > 0
    z, owner = z[ok], uniq[ok]
    mixed = ~np.isin(shapely.get_type_id(z), (3, 6))
    z[mixed] = [_poly(g) for g in z[mixed]]
    return owner, z


def _zones_frame(ids: np.ndarray, pieces: list[np.ndarray], crs: Any) -> gpd.GeoDataFrame:
    """One zone per unit (pieces from several tiles dissolved, ``ids`` their owners' building
    ids in their order), with its area."""
    if pieces:
        zdf = gpd.GeoDataFrame({"building_id": ids},
                               geometry=np.concatenate(pieces), crs=crs)
        many = zdf["building_id"].duplicated(keep=False).to_numpy()
        joined = zdf[many].dissolve("building_id", as_index=False)   # zones crossing tiles
        zones = pd.concat([zdf[~many], joined], ignore_index=True)
        zones = gpd.GeoDataFrame(zones, geometry="geometry", crs=crs)
        zones = zones.sort_values("building_id", kind="stable").reset_index(drop=True)
    else:
        zones = gpd.GeoDataFrame({"building_id": []}, geometry=[], crs=crs)
    zones["area_m2"] = zones.area.round(1)
    return zones


def _unheld_frame(unheld_band: Any, roads: gpd.GeoDataFrame, cfg: Mapping[str, Any],
                  crs: Any) -> gpd.GeoDataFrame:
    """The unheld pieces of the band with the streets they front and their area."""
    parts = shapely.get_parts(unheld_band)
    parts = parts[shapely.get_type_id(parts) == 3] if len(parts) else parts
    un = gpd.GeoDataFrame(geometry=list(parts), crs=crs)
    if len(un):
        rl = np.asarray(roads.geometry.values)
        names = (roads["name"].fillna("").astype(str).to_numpy() if "name" in roads
                 else roads.index.astype(str).to_numpy())
        rid = (roads["road_id"].astype(str).to_numpy() if "road_id" in roads
               else roads.index.astype(str).to_numpy())
        label = np.where(names != "", names, rid)
        reach = float(cfg_value(cfg, "frontage", "depth_m")) + carriageway_half_widths(roads, 1.0).max()
        ui, ri = shapely.STRtree(rl).query(np.asarray(un.geometry.values), predicate="dwithin",
                                           distance=reach)
        found = pd.DataFrame({"u": ui, "s": label[ri]}).drop_duplicates()
        joined = found.sort_values("s").groupby("u")["s"].agg(";".join)
        street = joined.reindex(range(len(un))).fillna("").to_numpy()
        un["street"] = street
    else:
        un["street"] = []
    un["area_m2"] = un.area.round(1)
    return un


def frontage_complaints(zones: gpd.GeoDataFrame, reports: gpd.GeoDataFrame) -> pd.DataFrame:
    """Each report inside a frontage zone with the unit holding it.

    Returns
    -------
    DataFrame
        ``report`` (row of ``reports``) and ``building_id`` (the holder).
    """
    if not len(zones) or not len(reports):
        return pd.DataFrame({"report": pd.Series([], dtype=int), "building_id": []})
    ri, zi = zones.sindex.query(np.asarray(reports.geometry.values), predicate="intersects")
    df = pd.DataFrame({"report": ri, "building_id": zones["building_id"].to_numpy()[zi]})
    return df.drop_duplicates("report").reset_index(drop=True)
