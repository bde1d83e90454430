"""Public-toilet coverage (GB 55013-2021 §5.0.1) and toilet density (GB/T 50337-2018 表4.2.2).

Rule ``toilet_uncovered`` of ``config/rules/coverage.yaml`` (task 4.2.8).
"""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from . import coverage_areas as areas
from . import coverage_inputs as inputs
from .coverage_inputs import ALL, CoverageResult
from .network import StreetGraph

__all__ = [
    "toilet_coverage",
    "toilet_density",
]

def toilet_coverage(layers: dict[str, gpd.GeoDataFrame], *, method: str = "network",
                    radius: float | None = None, graph: StreetGraph | None = None,
                    detail: bool = True) -> CoverageResult:
    """Public-toilet coverage (GB 55013-2021 §5.0.1: service radius 300 m).

    Share of residential buildings, population and residential land within ``radius`` of a
    toilet (straight line or walking), per district and grid cell; toilet density per km2 by
    land-use class (GB/T 50337-2018 表4.2.2); clusters of uncovered housing as findings
    ``toilet_uncovered`` (task 4.2.8, lead 住建局).

    Layers: ``toilets``, ``buildings`` (and ``roads`` for the network method;
    ``residential_compounds``, ``grids``, ``parks``, ``red_lines`` when present).
    With ``detail=False`` (the weekly check) only the findings and the building indicators
    are computed: no land sampling, service areas, grid table or density.
    """
    cfg = inputs.coverage_config()["toilets"]
    radius = float(radius if radius is not None else cfg["radius_m"])
    toilets = inputs.facility_points(inputs.need_layer(layers, "toilets"), "toilets")
    if method == "network" and graph is None:
        graph = inputs.street_graph(layers)
    demand = inputs.residential_buildings(layers, geometry=detail)
    land = inputs.land_samples(layers) if detail else inputs.land_samples({})
    d = areas.facility_distances(demand, toilets, radius=radius, method=method, graph=graph)
    demand = areas.attach_facilities(demand, d, toilets, "toilet_id")
    land, l_cov = areas.land_coverage(land, toilets, "toilet_id", radius=radius, method=method,
                                      graph=graph)
    source = cfg["source"]
    name = f"公厕{int(radius)}米服务覆盖率"
    rows = areas.indicator_rows(name, demand=demand, land=land, d_cov=demand["covered"].to_numpy(),
                                 l_cov=l_cov, method=method, radius=radius, source=source,
                                 target=cfg.get("target_share"))
    sa = areas.facility_service_areas(toilets, "toilet_id", radius=radius, method=method,
                                      graph=graph, detail=detail)
    clusters = areas.uncovered_buildings(demand, demand["covered"].to_numpy(), layers)
    findings = areas.cluster_findings(
        clusters, rule="toilet_uncovered",
        title=f"{{n}}栋住宅{{radius}}米{'步行' if method == 'network' else ''}范围内无公厕（最近{{nearest}}）",
        layer="buildings", demand=demand,
        dist_col="distance", radius=radius, method=method, id_col="building_id",
        pop_col="population", grids=layers.get("grids"))
    return areas.coverage_result(
        "toilets", method, demand=demand, land=land, l_cov=l_cov, facilities=toilets, rows=rows,
        layers=layers, detail=detail, service_areas=sa, uncovered=clusters, findings=findings,
        tables={"density": toilet_density(layers)} if detail else {}, graph=graph)


def _land_use_class(layers: dict[str, gpd.GeoDataFrame], x: np.ndarray, y: np.ndarray
                    ) -> np.ndarray:
    """Land-use class of points: ``G`` parks, ``R`` residential compounds, ``ABS`` road land and
    public / commercial / office plots (footprints + 10 m), ``""`` otherwise (in that priority)."""
    pts = shapely.points(x, y)
    out = np.full(len(pts), "", dtype=object)

    def mark(geoms: np.ndarray, label: str, distance: float = 0.0) -> None:
        free = np.flatnonzero(out == "")
        if not len(free) or not len(geoms):
            return
        tree = shapely.STRtree(geoms)
        if distance > 0:
            i, _ = tree.query(pts[free], predicate="dwithin", distance=distance)
        else:
            i, _ = tree.query(pts[free], predicate="intersects")
        out[free[np.unique(i)]] = label

    def arr(lid: str) -> np.ndarray:
        g = layers.get(lid)
        return (np.asarray(g.geometry.values, dtype=object) if g is not None and len(g)
                else np.zeros(0, dtype=object))

    mark(arr("parks"), "G")
    mark(arr("residential_compounds"), "R")
    mark(arr("red_lines"), "ABS")
    b = layers.get("buildings")
    if b is not None and len(b) and "use" in b:
        pub = b[b["use"].isin(["商业", "办公", "公共服务", "市政设施"])]
        mark(np.asarray(pub.geometry.values, dtype=object), "ABS", distance=10.0)
    return out


def _toilet_class(layers: dict[str, gpd.GeoDataFrame], x: np.ndarray, y: np.ndarray,
                  max_distance: float) -> np.ndarray:
    """Class of the land a toilet serves: the nearest parcel (park, compound, public plot)
    within ``max_distance``; a toilet on a sidewalk next to housing serves residential land.
    Toilets with no parcel nearby take the class of the land they stand on."""
    pts = shapely.points(x, y)
    parts, labels = [], []
    for lid, label in (("parks", "G"), ("residential_compounds", "R")):
        g = layers.get(lid)
        if g is not None and len(g):
            parts.append(np.asarray(g.geometry.values, dtype=object))
            labels.append(np.full(len(g), label, dtype=object))
    b = layers.get("buildings")
    if b is not None and len(b) and "use" in b:
        pub = b[b["use"].isin(["商业", "办公", "公共服务", "市政设施"])]
        if len(pub):
            parts.append(shapely.buffer(np.asarray(pub.geometry.values, dtype=object), 10,
                                        quad_segs=2))
            labels.append(np.full(len(pub), "ABS", dtype=object))
    out = _land_use_class(layers, x, y)
    if parts and len(pts):
        geoms = np.concatenate(parts)
        lab = np.concatenate(labels)
        (pi, gi), _ = shapely.STRtree(geoms).query_nearest(
            pts, max_distance=max_distance, return_distance=True, all_matches=False)
        out[pi] = lab[gi]
    return out


def toilet_density(layers: dict[str, gpd.GeoDataFrame]) -> pd.DataFrame:
    """Toilets per km2 of each land-use class against GB/T 50337-2018 表4.2.2.

    Land-use classes are approximated from the catalog layers (a bureau with a land-use layer
    should use it instead): G = parks and squares, R = residential compounds, ABS = road land
    (red lines) and the plots of public, commercial and office buildings (footprints buffered
    10 m), each without the classes before it. Areas are measured on a lattice of sample points
    (``toilets.density.sample_m`` apart, coarser if that would exceed about a million points;
    overlaps counted once); a toilet counts for the class
    of the parcel it serves (the nearest park, compound or public plot within
    ``toilets.density.parcel_distance_m``: toilets stand on sidewalks), else of the land it
    stands on. Per district when grids carry ``district``.

    Returns
    -------
    DataFrame
        ``district``, ``class``, ``title``, ``area_km2``, ``toilets``, ``density_per_km2``,
        ``min``, ``max``, ``status`` (偏低 / 符合 / 偏高 / 无此类用地), ``source``.
    """
    cfg = inputs.coverage_config()["toilets"]["density"]
    step = float(cfg["sample_m"])
    toilets = inputs.need_layer(layers, "toilets")
    bounds = [g.total_bounds for lid in ("parks", "residential_compounds", "red_lines")
              if (g := layers.get(lid)) is not None and len(g)]
    if bounds:
        bb = np.array(bounds)
        # at most about a million sample points, whatever the size of the city
        ext = bb[:, 2:].max(axis=0) - bb[:, :2].min(axis=0)
        step = max(step, float(np.sqrt(ext[0] * ext[1] / 1e6)))
        # lattice offset 0.37 step: sample points rarely fall on drawn boundaries
        x0, y0 = np.floor(bb[:, :2].min(axis=0) / step) * step + 0.37 * step
        x1, y1 = bb[:, 2:].max(axis=0)
        gx, gy = np.meshgrid(np.arange(x0, x1, step), np.arange(y0, y1, step))
        sx, sy = gx.ravel(), gy.ravel()
    else:
        sx = sy = np.zeros(0)
    cls = _land_use_class(layers, sx, sy)
    keep = cls != ""
    sx, sy, cls = sx[keep], sy[keep], cls[keep]
    tx = toilets.geometry.x.to_numpy()
    ty = toilets.geometry.y.to_numpy()
    tcls = _toilet_class(layers, tx, ty, float(cfg["parcel_distance_m"]))
    grids = layers.get("grids")
    s_d = np.full(len(sx), "", dtype=object)
    t_d = np.full(len(tx), "", dtype=object)
    if grids is not None and len(grids) and "district" in grids:
        gtree = shapely.STRtree(np.asarray(grids.geometry.values, dtype=object))
        gd = grids["district"].fillna("").astype(str).to_numpy()
        for xs_, ys_, outd in ((sx, sy, s_d), (tx, ty, t_d)):
            i, j = gtree.query(shapely.points(xs_, ys_), predicate="intersects")
            outd[i] = gd[j]
    districts = [ALL] + sorted(d for d in set(s_d) | set(t_d) if d)
    rows = []
    cell_km2 = step * step / 1e6
    for dname in districts:
        sd = np.ones(len(sx), bool) if dname == ALL else s_d == dname
        td = np.ones(len(tx), bool) if dname == ALL else t_d == dname
        for c, spec in cfg["classes"].items():
            area = float(((cls == c) & sd).sum()) * cell_km2
            n = int(((tcls == c) & td).sum())
            dens = n / area if area > 0 else np.nan
            lo, hi = float(spec["min"]), float(spec["max"])
            status = ("无此类用地" if not area > 0 else "偏低" if dens < lo
                      else "偏高" if dens > hi else "符合")
            rows.append({"district": dname, "class": c, "title": spec["title"],
                         "area_km2": area, "toilets": n, "density_per_km2": dens,
                         "min": lo, "max": hi, "status": status, "source": cfg["source"]})
    return pd.DataFrame(rows)
