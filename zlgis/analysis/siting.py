"""Siting new facilities: where to build the next toilets, and which transfer-station site is best.

Two classic location models over the same coverage machinery as :mod:`zlgis.analysis.coverage`
(straight radius or walking distance over the street network):

* **fewest sites for a target coverage** (a set-covering model in the spirit of LSCP, with a
  coverage target instead of full coverage): choose the fewest candidate sites so that the
  covered share of residential demand reaches ``target``;
* **most coverage for k sites** (maximal covering, MCLP).

Candidates come from public land: park outlines, the edges of road land (red lines, or points
along the road centrelines) and public buildings. Demand is aggregated (residential buildings
grouped by square cell, covered and uncovered apart) so the integer program solves in seconds
with PuLP's bundled CBC; a greedy heuristic always runs too, as the fallback and as a check
(the exact answer needs no more sites, or covers no less, than the greedy one).

The same machinery ranks candidate sites for a transfer station (:func:`rank_transfer_sites`),
e.g. the second-level station planned in 河西新区 (task 4.2.6).

Examples
--------
>>> import numpy as np, scipy.sparse as sp
>>> A = sp.csr_matrix(np.array([[1, 1, 0, 0], [0, 1, 1, 0], [0, 0, 1, 1], [1, 0, 0, 1]], bool))
>>> w = np.array([1.0, 1.0, 1.0, 1.0])
>>> sorted(greedy_sites(A, w, k=2)[0])
[0, 2]
>>> sorted(solve_max_coverage(A, w, k=2)[0])
[0, 2]
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import scipy.sparse as sp
import shapely

from ..errors import InputError
from .coverage_areas import facility_distances, facility_ids
from .coverage_inputs import assign_area, coverage_config, residential_buildings, street_graph
from .coverage_transfer import setback_class, station_modes
from .network import StreetGraph, distance_matrix

__all__ = [
    "SitingResult",
    "public_land_candidates",
    "aggregate_demand",
    "coverage_sets",
    "greedy_sites",
    "solve_min_sites",
    "solve_max_coverage",
    "site_toilets",
    "rank_transfer_sites",
]


# --------------------------------------------------------------------------------------------
# candidates and demand
# --------------------------------------------------------------------------------------------

def public_land_candidates(layers: dict[str, gpd.GeoDataFrame], *,
                           spacing: float | None = None,
                           sources: tuple[str, ...] | list[str] | None = None
                           ) -> gpd.GeoDataFrame:
    """Candidate sites on public land.

    * ``公园``: points every ``spacing`` m along park outlines;
    * ``道路用地``: points every ``spacing`` m along the edge of road land (red-line polygons), or
      along road centrelines when there are no red lines;
    * ``公共建筑``: one point per public building (uses in ``siting.public_building_uses``);
    * ``环卫黄线``: one point per yellow-line polygon of category 环卫.

    Candidates inside blue lines (water) are dropped. ``sources`` limits the kinds (default:
    all four).

    Returns
    -------
    GeoDataFrame
        ``candidate_id`` (stable: source + rounded coordinates), ``source``, ``ref_id`` (the
        park, road, building or line it stands on), point geometry.
    """
    cfg = coverage_config()["siting"]
    spacing = float(spacing or cfg["road_spacing_m"])
    frames = []

    def along(geoms: np.ndarray, refs: np.ndarray, source: str) -> None:
        if not len(geoms):
            return
        lines = shapely.boundary(geoms) if (shapely.get_dimensions(geoms) == 2).any() else geoms
        parts, own = shapely.get_parts(lines, return_index=True)
        n = np.maximum(np.floor(shapely.length(parts) / spacing).astype(int), 1)
        rep = np.repeat(np.arange(len(parts)), n)
        start = np.r_[0, np.cumsum(n)[:-1]]
        frac = (np.arange(n.sum()) - np.repeat(start, n) + 0.5) / np.repeat(n, n)
        pts = shapely.line_interpolate_point(parts[rep], frac, normalized=True)
        frames.append(pd.DataFrame({"source": source, "ref_id": refs[own[rep]],
                                    "geometry": pts}))

    want = set(sources) if sources is not None else {"公园", "道路用地", "公共建筑", "环卫黄线"}
    parks = layers.get("parks") if "公园" in want else None
    if parks is not None and len(parks):
        along(np.asarray(parks.geometry.values, dtype=object), facility_ids(parks, "park_id"), "公园")
    red = layers.get("red_lines") if "道路用地" in want else None
    roads = layers.get("roads") if "道路用地" in want else None
    if red is not None and len(red):
        along(np.asarray(red.geometry.values, dtype=object), facility_ids(red, "line_id"), "道路用地")
    elif roads is not None and len(roads):
        along(np.asarray(roads.geometry.values, dtype=object), facility_ids(roads, "road_id"), "道路用地")
    b = layers.get("buildings") if "公共建筑" in want else None
    if b is not None and len(b) and "use" in b:
        pub = b[b["use"].isin(cfg.get("public_building_uses", []))]
        if len(pub):
            frames.append(pd.DataFrame({
                "source": "公共建筑", "ref_id": facility_ids(pub, "building_id"),
                "geometry": shapely.point_on_surface(np.asarray(pub.geometry.values, dtype=object))}))
    yl = layers.get("yellow_lines") if "环卫黄线" in want else None
    if yl is not None and len(yl) and "category" in yl:
        env = yl[yl["category"] == "环卫"]
        if len(env):
            frames.append(pd.DataFrame({
                "source": "环卫黄线", "ref_id": facility_ids(env, "line_id"),
                "geometry": shapely.point_on_surface(np.asarray(env.geometry.values, dtype=object))}))
    crs = next((g.crs for g in (parks, red, roads, b, yl) if g is not None), None)
    if not frames:
        return gpd.GeoDataFrame({"candidate_id": [], "source": [], "ref_id": []},
                                geometry=gpd.GeoSeries([], crs=crs), crs=crs)
    df = pd.concat(frames, ignore_index=True)
    out = gpd.GeoDataFrame(df, geometry="geometry", crs=crs)
    blue = layers.get("blue_lines")
    if blue is not None and len(blue):
        i, _ = shapely.STRtree(np.asarray(blue.geometry.values, dtype=object)).query(
            np.asarray(out.geometry.values, dtype=object), predicate="within")
        out = out.drop(index=out.index[np.unique(i)])
    x = np.round(out.geometry.x.to_numpy()).astype(np.int64)
    y = np.round(out.geometry.y.to_numpy()).astype(np.int64)
    code = out["source"].map({"公园": "P", "道路用地": "R", "公共建筑": "B", "环卫黄线": "Y"})
    out["candidate_id"] = [f"{c}{a}_{b_}" for c, a, b_ in zip(code, x, y)]
    out = out.drop_duplicates("candidate_id").reset_index(drop=True)
    return out[["candidate_id", "source", "ref_id", "geometry"]]


def aggregate_demand(points: gpd.GeoDataFrame, weight: np.ndarray, covered: np.ndarray, *,
                     cell: float | None = None) -> gpd.GeoDataFrame:
    """Group demand points by square cell (covered and uncovered apart).

    Each group stands at the weighted mean position of its members.

    >>> import geopandas as gpd
    >>> from shapely.geometry import Point
    >>> pts = gpd.GeoDataFrame(geometry=[Point(1, 1), Point(3, 1), Point(80, 1)], crs="EPSG:4550")
    >>> a = aggregate_demand(pts, np.array([1.0, 3.0, 2.0]), np.array([False, False, True]), cell=50)
    >>> a[["weight", "n", "covered"]].values.tolist()
    [[4.0, 2, False], [2.0, 1, True]]
    >>> a.geometry.x.tolist()
    [2.5, 80.0]
    """
    cell = float(cell or coverage_config()["siting"]["aggregate_cell_m"])
    arr = np.asarray(points.geometry.values, dtype=object)
    x, y = shapely.get_x(arr), shapely.get_y(arr)
    w = np.asarray(weight, float)
    df = pd.DataFrame({"cx": np.floor(x / cell).astype(np.int64),
                       "cy": np.floor(y / cell).astype(np.int64),
                       "covered": np.asarray(covered, bool), "w": w, "wx": w * x, "wy": w * y,
                       "x": x, "y": y, "one": 1})
    g = df.groupby(["covered", "cx", "cy"], sort=True).sum()
    g = g.reset_index().sort_values(["covered", "cx", "cy"]).reset_index(drop=True)
    safe = g["w"].where(g["w"] > 0, np.nan)
    gx = (g["wx"] / safe).fillna(g["x"] / g["one"]).to_numpy()
    gy = (g["wy"] / safe).fillna(g["y"] / g["one"]).to_numpy()
    return gpd.GeoDataFrame({"weight": g["w"].to_numpy(), "n": g["one"].to_numpy(),
                             "covered": g["covered"].to_numpy()},
                            geometry=shapely.points(gx, gy), crs=points.crs)


def coverage_sets(candidates: gpd.GeoDataFrame, demand: gpd.GeoDataFrame, *, radius: float,
                  method: str = "network", graph: StreetGraph | None = None) -> sp.csr_matrix:
    """Boolean matrix (candidates x demand): candidate j covers demand i within ``radius``."""
    if method == "network":
        if graph is None:
            raise InputError("路网选址需要道路图层")
        d = distance_matrix(graph, candidates, demand, limit=radius)
        d.data = np.ones_like(d.data)
        return d.astype(bool).tocsr()
    c = np.asarray(candidates.geometry.values, dtype=object)
    p = np.asarray(demand.geometry.values, dtype=object)
    di, ci = shapely.STRtree(c).query(p, predicate="dwithin", distance=radius)
    return sp.csr_matrix((np.ones(len(di), bool), (ci, di)), shape=(len(c), len(p)))


# --------------------------------------------------------------------------------------------
# solvers
# --------------------------------------------------------------------------------------------

def greedy_sites(A: sp.csr_matrix, w: np.ndarray, *, k: int | None = None,
                 need: float | None = None) -> tuple[list[int], float]:
    """Greedy: repeatedly add the site that covers the most not-yet-covered weight.

    Stops after ``k`` sites or when the covered weight reaches ``need``. Returns the chosen
    rows of ``A`` (in order) and the covered weight.
    """
    A = A.tocsc().astype(np.float64).tocsr()
    left = np.asarray(w, float).copy()
    chosen: list[int] = []
    got = 0.0
    limit = k if k is not None else A.shape[0]
    while len(chosen) < limit and (need is None or got < need - 1e-9):
        gains = A @ left
        j = int(np.argmax(gains)) if len(gains) else -1
        if j < 0 or gains[j] <= 0:
            break
        chosen.append(j)
        got += float(gains[j])
        left[A[j].indices] = 0.0
    return chosen, got


def _pulp_solve(prob: Any, time_limit: float) -> str:
    import pulp

    solver = pulp.PULP_CBC_CMD(msg=False, timeLimit=time_limit)
    prob.solve(solver)
    return pulp.LpStatus[prob.status]


def _site_variables(n_c: int, n_d: int) -> tuple[list, list]:
    """Binary site variables ``x`` (one per candidate) and coverage shares ``y`` (per demand)."""
    import pulp

    x = [pulp.LpVariable(f"x{j}", cat="Binary") for j in range(n_c)]
    y = [pulp.LpVariable(f"y{i}", lowBound=0, upBound=1) for i in range(n_d)]
    return x, y


def _solve_covering(prob: Any, A: sp.csc_matrix, x: list, y: list,
                    time_limit: float) -> tuple[list[int], str]:
    """Add "a demand is covered only by a chosen site" and solve; (chosen rows, status)."""
    import pulp

    for i in range(len(y)):
        rows = A.indices[A.indptr[i]:A.indptr[i + 1]]
        prob += y[i] <= pulp.lpSum(x[j] for j in rows)
    status = _pulp_solve(prob, time_limit)
    chosen = [j for j in range(len(x)) if (x[j].value() or 0) > 0.5]
    return chosen, status


def solve_min_sites(A: sp.csr_matrix, w: np.ndarray, need: float, *,
                    time_limit: float = 20.0) -> tuple[list[int], str]:
    """Fewest sites whose coverage reaches weight ``need`` (integer program, CBC).

    Ties are broken towards more coverage. Returns (chosen rows, solver status).
    """
    import pulp

    A = A.tocsc()
    n_c, n_d = A.shape
    w = np.asarray(w, float)
    total = float(w.sum()) or 1.0
    prob = pulp.LpProblem("fewest_sites", pulp.LpMinimize)
    x, y = _site_variables(n_c, n_d)
    prob += pulp.lpSum(x) - 0.5 * pulp.lpSum(w[i] / total * y[i] for i in range(n_d))
    prob += pulp.lpSum(w[i] * y[i] for i in range(n_d)) >= need
    return _solve_covering(prob, A, x, y, time_limit)


def solve_max_coverage(A: sp.csr_matrix, w: np.ndarray, k: int, *,
                       time_limit: float = 20.0) -> tuple[list[int], str]:
    """At most ``k`` sites covering the most weight (maximal covering, CBC)."""
    import pulp

    A = A.tocsc()
    n_c, n_d = A.shape
    w = np.asarray(w, float)
    prob = pulp.LpProblem("max_coverage", pulp.LpMaximize)
    x, y = _site_variables(n_c, n_d)
    prob += pulp.lpSum(w[i] * y[i] for i in range(n_d))
    prob += pulp.lpSum(x) <= k
    return _solve_covering(prob, A, x, y, time_limit)


# --------------------------------------------------------------------------------------------
# toilets
# --------------------------------------------------------------------------------------------

@dataclass
class SitingResult:
    """Proposed sites and what they buy.

    Attributes
    ----------
    sites : GeoDataFrame
        Chosen candidates: ``rank``, ``candidate_id``, ``source``, ``ref_id``, ``gain_weight``
        (demand weight newly covered by this site, in order), ``gain_buildings``.
    before, after : float
        Covered share of the demand weight before and after.
    solver : str
        ``cbc`` (exact) or ``greedy`` (fallback).
    greedy : dict
        The greedy answer for comparison (``n_sites``, ``after``).
    """

    sites: gpd.GeoDataFrame
    before: float
    after: float
    target: float | None
    k: int | None
    solver: str
    status: str
    greedy: dict[str, Any]
    demand: gpd.GeoDataFrame
    candidates: gpd.GeoDataFrame
    seconds: float
    weight_name: str = "population"
    notes: list[str] = field(default_factory=list)

    def summary(self) -> dict[str, Any]:
        return {"sites": int(len(self.sites)), "before": round(self.before, 4),
                "after": round(self.after, 4), "target": self.target, "k": self.k,
                "solver": self.solver, "status": self.status, "weight": self.weight_name,
                "greedy": self.greedy, "seconds": round(self.seconds, 2), "notes": self.notes}


def _candidate_sets(cands: gpd.GeoDataFrame, open_: gpd.GeoDataFrame, *, radius: float,
                    method: str, graph: StreetGraph | None, max_candidates: int,
                    notes: list[str]) -> tuple[gpd.GeoDataFrame, sp.csr_matrix]:
    """Candidates that reach uncovered demand and their coverage sets (rows: candidates).

    Only candidates within reach of uncovered demand matter (network >= straight distance);
    above ``max_candidates`` the ones covering the most weight are kept (noted).
    """
    w = open_["weight"].to_numpy(float)
    if len(open_) and len(cands):
        ci, _ = shapely.STRtree(np.asarray(open_.geometry.values, dtype=object)).query(
            np.asarray(cands.geometry.values, dtype=object), predicate="dwithin",
            distance=radius)
        cands = cands.iloc[np.unique(ci)].reset_index(drop=True)
    if len(cands) > max_candidates:
        notes.append(f"候选点过多，仅保留覆盖潜力最大的{max_candidates}个")
    A = coverage_sets(cands, open_, radius=radius, method=method, graph=graph) \
        if len(cands) and len(open_) else sp.csr_matrix((len(cands), len(open_)), dtype=bool)
    if len(cands) > max_candidates:
        score = A.astype(float) @ w
        keep = np.sort(np.argsort(-score)[:max_candidates])
        cands, A = cands.iloc[keep].reset_index(drop=True), A[keep]
    useful = np.asarray(A.sum(axis=1)).ravel() > 0
    return cands[useful].reset_index(drop=True), A[useful]


def _improve_min_sites(A: sp.csr_matrix, w: np.ndarray, need: float, g_sites: list[int],
                       tl: float) -> tuple[list[int], str, str]:
    """The CBC answer when optimal and no worse than the greedy one; (chosen, solver, status)."""
    solver, status, chosen = "greedy", "not run", g_sites
    if need > 0 and A.shape[0]:
        try:
            chosen_ilp, status = solve_min_sites(A, w, need, time_limit=tl)
            got = _covered_weight(A, w, chosen_ilp)
            if status == "Optimal" and got >= need - 1e-6 and len(chosen_ilp) <= len(g_sites):
                chosen, solver = chosen_ilp, "cbc"
        except Exception as exc:  # solver missing or failing: keep the greedy answer
            status = f"solver failed: {exc}"
    return chosen, solver, status


def _improve_max_coverage(A: sp.csr_matrix, w: np.ndarray, k: int, g_sites: list[int],
                          g_got: float, tl: float) -> tuple[list[int], str, str]:
    """The CBC answer for ``k`` sites when optimal and covering no less than the greedy one."""
    solver, status, chosen = "greedy", "not run", g_sites
    if k > 0 and A.shape[0]:
        try:
            chosen_ilp, status = solve_max_coverage(A, w, k, time_limit=tl)
            if status == "Optimal" and _covered_weight(A, w, chosen_ilp) >= g_got - 1e-6:
                chosen, solver = chosen_ilp, "cbc"
        except Exception as exc:  # solver missing or failing: keep the greedy answer
            status = f"solver failed: {exc}"
    return chosen, solver, status


def site_toilets(layers: dict[str, gpd.GeoDataFrame], *, target: float | None = None,
                 k: int | None = None, method: str = "network", radius: float | None = None,
                 graph: StreetGraph | None = None,
                 candidates: gpd.GeoDataFrame | None = None) -> SitingResult:
    """Propose new public-toilet sites on public land.

    With ``k``: the most coverage for ``k`` new toilets. Otherwise the fewest new toilets that
    bring coverage of residential population (building count when there is no population) to
    ``target`` (default ``toilets.siting_target_share``: every dwelling the candidates can
    reach). Coverage radius 300 m (GB 55013-2021
    §5.0.1), by walking distance or straight line.
    """
    cfg = coverage_config()
    tcfg, scfg = cfg["toilets"], cfg["siting"]
    radius = float(radius or tcfg["radius_m"])
    t0 = time.perf_counter()
    if method == "network" and graph is None:
        graph = street_graph(layers)
    toilets = layers.get("toilets")
    demand = residential_buildings(layers)
    if toilets is not None and len(toilets):
        d = facility_distances(demand, toilets, radius=radius, method=method, graph=graph)
        covered = d["covered"].to_numpy()
    else:
        covered = np.zeros(len(demand), bool)
    pop = demand["population"].to_numpy(float)
    weight_name = "population" if pop.sum() > 0 else "buildings"
    w_all = pop if pop.sum() > 0 else np.ones(len(demand))
    total = float(w_all.sum()) or 1.0
    w0 = float(w_all[covered].sum())
    agg = aggregate_demand(demand, w_all, covered, cell=float(scfg["aggregate_cell_m"]))
    open_ = agg[~agg["covered"].to_numpy() & (agg["weight"].to_numpy() > 0)].reset_index(drop=True)
    cands = public_land_candidates(layers) if candidates is None else candidates.reset_index(
        drop=True)
    notes: list[str] = []
    cands, A = _candidate_sets(cands, open_, radius=radius, method=method, graph=graph,
                               max_candidates=int(scfg["max_candidates"]), notes=notes)
    w = open_["weight"].to_numpy(float)
    reachable = float(w[np.asarray(A.sum(axis=0)).ravel() > 0].sum())
    tl = float(scfg["time_limit_s"])
    if k is None:
        target = float(target if target is not None
                       else tcfg["siting_target_share"])
        need = max(target * total - w0, 0.0)
        if need > reachable + 1e-9:
            notes.append("候选点无法达到目标覆盖率，按可达到的最大覆盖求解")
            need = reachable
        g_sites, g_got = greedy_sites(A, w, need=need)
        chosen, solver, status = _improve_min_sites(A, w, need, g_sites, tl)
    else:
        g_sites, g_got = greedy_sites(A, w, k=int(k))
        chosen, solver, status = _improve_max_coverage(A, w, int(k), g_sites, g_got, tl)
    chosen = _order_by_gain(A, w, chosen)
    gains, gain_n = _gains(A, w, open_["n"].to_numpy(), chosen)
    sites = cands.iloc[chosen].reset_index(drop=True)
    sites.insert(0, "rank", np.arange(1, len(sites) + 1))
    sites["gain_weight"] = gains
    sites["gain_buildings"] = gain_n
    got = _covered_weight(A, w, chosen)
    open_ = open_.copy()
    cov_after = np.zeros(len(open_), bool)
    if chosen:
        cov_after = np.asarray(A[chosen].sum(axis=0)).ravel() > 0
    open_["covered_after"] = cov_after
    return SitingResult(
        sites=gpd.GeoDataFrame(sites, geometry="geometry", crs=cands.crs),
        before=w0 / total, after=(w0 + got) / total, target=target if k is None else None,
        k=k, solver=solver, status=status,
        greedy={"n_sites": len(g_sites), "after": (w0 + g_got) / total},
        demand=open_, candidates=cands, seconds=time.perf_counter() - t0,
        weight_name=weight_name, notes=notes)


def _covered_weight(A: sp.csr_matrix, w: np.ndarray, chosen: list[int]) -> float:
    if not chosen:
        return 0.0
    return float(w[np.asarray(A[chosen].sum(axis=0)).ravel() > 0].sum())


def _order_by_gain(A: sp.csr_matrix, w: np.ndarray, chosen: list[int]) -> list[int]:
    """Order chosen sites greedily by marginal gain (the first site buys the most)."""
    if not chosen:
        return []
    sub = A[chosen]
    order, _ = greedy_sites(sub, w, k=len(chosen))
    rest = [i for i in range(len(chosen)) if i not in order]
    return [chosen[i] for i in order + rest]


def _gains(A: sp.csr_matrix, w: np.ndarray, n: np.ndarray, chosen: list[int]
           ) -> tuple[np.ndarray, np.ndarray]:
    left = np.ones(A.shape[1], bool)
    g, gn = [], []
    for j in chosen:
        cols = A[j].indices
        new = cols[left[cols]]
        g.append(float(w[new].sum()))
        gn.append(int(n[new].sum()))
        left[new] = False
    return np.asarray(g), np.asarray(gn)


# --------------------------------------------------------------------------------------------
# transfer stations
# --------------------------------------------------------------------------------------------

def rank_transfer_sites(layers: dict[str, gpd.GeoDataFrame], *, district: str | None = None,
                        mode: str | None = None, capacity_tpd: float | None = None,
                        method: str = "network", graph: StreetGraph | None = None,
                        candidates: gpd.GeoDataFrame | None = None) -> gpd.GeoDataFrame:
    """Rank candidate sites for a new transfer station in ``district`` (default 河西).

    A candidate is feasible when it keeps the distance to neighbouring buildings its capacity
    class needs (CJJ/T 47-2016: < 150 t/d 10 m, 150-450 t/d 15 m, > 450 t/d 30 m). Candidates
    are ranked: feasible first, then by residential population of the district within the
    collection mode's radius (CJJ/T 47-2016 §2.2.7) that no running station serves today, then
    by all population served, then by the mean distance to it (driving network).

    Returns
    -------
    GeoDataFrame
        ``rank``, ``candidate_id``, ``source``, ``ref_id``, ``in_yellow_line``, ``feasible``,
        ``nearest_building_m``, ``required_m``, ``new_population``, ``population``,
        ``share_of_best`` (new population relative to the best candidate), ``mean_distance_m``,
        point geometry. Sites on land reserved for sanitation (环卫 yellow lines) are flagged
        ``in_yellow_line`` but not favoured: the ranking says what each site would serve, so a
        reserved site can be compared with the best one.
    """
    cfg = coverage_config()["transfer"]
    scfg = cfg["siting"]
    district = district or scfg["district"]
    mode = mode or scfg["mode"]
    if mode not in cfg["collection_modes"]:
        raise InputError(f"未知的收集方式 {mode}，可选 {list(cfg['collection_modes'])}")
    capacity = float(capacity_tpd if capacity_tpd is not None else scfg["capacity_tpd"])
    radius = float(cfg["collection_modes"][mode]["radius_m"])
    if method == "network" and graph is None:
        graph = street_graph(layers, walk=False)
    cands = (public_land_candidates(layers, spacing=float(scfg["candidate_spacing_m"]),
                                    sources=scfg["candidate_sources"])
             if candidates is None else candidates.copy())
    cands = assign_area(cands.reset_index(drop=True), layers)
    cands = cands[cands["district"] == district].reset_index(drop=True)
    demand = residential_buildings(layers)
    demand = demand[demand["district"] == district].reset_index(drop=True)
    crs = cands.crs
    cols = ["rank", "candidate_id", "source", "ref_id", "in_yellow_line", "feasible",
            "nearest_building_m", "required_m", "new_population", "population",
            "share_of_best", "mean_distance_m"]
    if not len(cands):
        return gpd.GeoDataFrame({c: [] for c in cols}, geometry=gpd.GeoSeries([], crs=crs),
                                crs=crs)
    need = float(setback_class(capacity)["distance_m"])
    pop = demand["population"].to_numpy(float)
    if not pop.sum() > 0:
        pop = np.ones(len(demand))
    served = _served_today(demand, layers.get("transfer_stations"), cfg, method, graph)
    popc, newc, mean_d = _candidate_reach(cands, demand, pop, served, radius, method, graph)
    near = _nearest_building(cands, layers.get("buildings"), cfg["setback"]["ignore_uses"])
    out = cands[["candidate_id", "source", "ref_id", "geometry"]].copy()
    out["in_yellow_line"] = _in_sanitation_land(cands, layers.get("yellow_lines"))
    out["feasible"] = near >= need
    out["nearest_building_m"] = near
    out["required_m"] = need
    out["new_population"] = newc
    out["population"] = popc
    out["mean_distance_m"] = mean_d
    best = float(newc.max()) if len(newc) else 0.0
    out["share_of_best"] = newc / best if best > 0 else np.nan
    out = out.sort_values(["feasible", "new_population", "population", "mean_distance_m",
                           "candidate_id"], ascending=[False, False, False, True, True])
    out.insert(0, "rank", np.arange(1, len(out) + 1))
    return gpd.GeoDataFrame(out.reset_index(drop=True)[cols + ["geometry"]],
                            geometry="geometry", crs=crs)


def _nearest_building(cands: gpd.GeoDataFrame, buildings: gpd.GeoDataFrame | None,
                      ignore_uses: list[str]) -> np.ndarray:
    """Distance from each candidate to the nearest neighbouring building (the station's own
    uses ignored); infinite without buildings."""
    near = np.full(len(cands), np.inf)
    if buildings is None or not len(buildings):
        return near
    nb = buildings[~buildings["use"].isin(ignore_uses)] if "use" in buildings else buildings
    (ci, _), dist = shapely.STRtree(np.asarray(nb.geometry.values, dtype=object)).query_nearest(
        np.asarray(cands.geometry.values, dtype=object), return_distance=True, all_matches=False)
    near[ci] = dist
    return near


def _in_sanitation_land(cands: gpd.GeoDataFrame, yellow: gpd.GeoDataFrame | None) -> np.ndarray:
    """Whether each candidate lies on land reserved for sanitation (环卫 yellow lines)."""
    inside = np.zeros(len(cands), bool)
    if yellow is None or not len(yellow):
        return inside
    env = yellow[yellow["category"] == "环卫"] if "category" in yellow else yellow
    if len(env):
        i, _ = shapely.STRtree(np.asarray(env.geometry.values, dtype=object)).query(
            np.asarray(cands.geometry.values, dtype=object), predicate="within")
        inside[np.unique(i)] = True
    return inside


def _served_today(demand: gpd.GeoDataFrame, stations: gpd.GeoDataFrame | None,
                  cfg: dict[str, Any], method: str, graph: StreetGraph | None) -> np.ndarray:
    """Whether a running station serves each dwelling today (its collection mode's radius)."""
    served = np.zeros(len(demand), bool)
    if stations is None or not len(stations) or not len(demand):
        return served
    run = (stations[stations["status"].isin(cfg["serving_status"])] if "status" in stations
           else stations)
    if not len(run):
        return served
    rr = np.array([cfg["collection_modes"][m]["radius_m"] for m in station_modes(run, cfg)],
                  float)
    return facility_distances(demand, run, radius=rr, method=method,
                              graph=graph)["covered"].to_numpy()


def _candidate_reach(cands: gpd.GeoDataFrame, demand: gpd.GeoDataFrame, pop: np.ndarray,
                     served: np.ndarray, radius: float, method: str, graph: StreetGraph | None
                     ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Per candidate: population within ``radius``, of it not served today, mean distance."""
    if not len(demand):
        return np.zeros(len(cands)), np.zeros(len(cands)), np.full(len(cands), np.inf)
    if method == "network":
        D = distance_matrix(graph, cands, demand, limit=radius).tocsr()
    else:
        c = np.asarray(cands.geometry.values, dtype=object)
        p = np.asarray(demand.geometry.values, dtype=object)
        di, ci = shapely.STRtree(c).query(p, predicate="dwithin", distance=radius)
        dd = np.maximum(shapely.distance(c[ci], p[di]), 1e-9)
        D = sp.csr_matrix((dd, (ci, di)), shape=(len(c), len(p)))
    cov = D.copy()
    cov.data = np.ones_like(cov.data)
    popc = np.asarray(cov @ pop).ravel()
    newc = np.asarray(cov @ (pop * ~served)).ravel()
    wd = np.asarray(D @ pop).ravel()
    return popc, newc, np.where(popc > 0, wd / np.where(popc > 0, popc, 1), np.inf)
