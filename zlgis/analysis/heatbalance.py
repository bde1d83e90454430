"""Rebalancing the heating companies' supply areas: capacitated assignment with contiguity.

Task 6.2.6 of the 2022 plan: 合理调配市区两家热力公司供热区域, 供热能力与供热面积相匹配.
The unit that moves between companies is a heat station with its supply area (its buildings,
:func:`zlgis.analysis.heating.supply_areas`). Every station is assigned to one company so that

* each company's heated floor area stays within its heat-source capacity (``capacity_m2`` of the
  ``heating_companies`` layer; no limit when it is missing);
* each company's network stays contiguous: the supply areas of its stations form one connected
  piece of the street network, containing the station nearest to its heat source (its root);
* the total of heated area x network distance from the company's heat source, plus a penalty
  for every station that changes company (``switch_penalty_m`` in ``heating.yaml``), is least.

The model is a binary program solved with PuLP/CBC (:func:`solve_assignment`). Contiguity is
enforced exactly by cutting planes: after each solve, every connected piece S of a company's
stations that misses its root gets the cut ``sum_{s in S} x[s,k] - sum_{j in N(S)} x[j,k] <= |S| - 1``
(if all of S stays with k, one neighbour of S must too), and the program is solved again until
every company is connected. The cuts only remove disconnected assignments, so the final answer
is optimal among contiguous ones; the tests check it against brute force on small instances.

Examples
--------
Four stations in a row, two companies with sources at both ends; the east company can take only
250 m2, so station 2 (load 200) goes west although it is nearer the east source:

>>> import numpy as np
>>> load = np.array([100.0, 100.0, 200.0, 100.0])
>>> cost = np.array([[0, 3], [1, 2], [2, 1], [3, 0]], float) * load[:, None]
>>> a, obj = solve_assignment(load, cost, edges=[(0, 1), (1, 2), (2, 3)], roots=[0, 3],
...                           capacity=[1000.0, 250.0])
>>> a.tolist(), obj
([0, 0, 0, 1], 500.0)
>>> is_contiguous(a, [(0, 1), (1, 2), (2, 3)], [0, 3])
True
"""

from __future__ import annotations

import contextlib
import importlib
from collections.abc import Sequence
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd

from ..errors import InputError
from ._ruled import rule_findings, value
from .network import StreetGraph, multi_source, nearest_facility, snap_points

__all__ = ["solve_assignment", "is_contiguous", "station_adjacency", "rebalance",
           "rebalance_findings"]


def _components(members: np.ndarray, nbr: list[set[int]]) -> list[list[int]]:
    left = set(int(m) for m in members)
    out = []
    while left:
        s = left.pop()
        comp, stack = [s], [s]
        while stack:
            u = stack.pop()
            for v in nbr[u]:
                if v in left:
                    left.remove(v)
                    comp.append(v)
                    stack.append(v)
        out.append(sorted(comp))
    return out


def _neighbours(n: int, edges: Sequence[tuple[int, int]]) -> list[set[int]]:
    nbr: list[set[int]] = [set() for _ in range(n)]
    for a, b in edges:
        if a != b:
            nbr[int(a)].add(int(b))
            nbr[int(b)].add(int(a))
    return nbr


def is_contiguous(assign: Sequence[int], edges: Sequence[tuple[int, int]],
                  roots: Sequence[int]) -> bool:
    """Whether every company's stations form one connected piece containing its root."""
    a = np.asarray(assign)
    nbr = _neighbours(len(a), edges)
    for k, r in enumerate(roots):
        members = np.flatnonzero(a == k)
        comps = _components(members, nbr)
        if len(comps) != 1 or int(r) not in comps[0]:
            return False
    return True


def _import_pulp() -> Any:
    """``import pulp``, done in a thread of its own the first time.

    PuLP keeps the ``ImportError`` of each solver it does not find (``CPLEX_PY.err`` ...), and
    with its traceback every frame that was on the stack when PuLP was first imported: imported
    from the heating check, that held the weekly run's loaded layers (1.7 GB on the 1M-building
    city) until the process ended. A new thread's stack holds nothing of the caller's.
    """
    import sys
    import threading

    def load() -> None:
        with contextlib.suppress(ImportError):  # raised again below, in the caller's thread
            importlib.import_module("pulp")

    if "pulp" not in sys.modules:
        t = threading.Thread(target=load, name="zlgis-import-pulp")
        t.start()
        t.join()
    return importlib.import_module("pulp")


def solve_assignment(load: Sequence[float], cost: np.ndarray, *,
                     edges: Sequence[tuple[int, int]], roots: Sequence[int],
                     capacity: Sequence[float] | None = None, time_limit: float | None = None,
                     max_rounds: int = 200) -> tuple[np.ndarray, float]:
    """Capacitated assignment of stations to companies with contiguous companies.

    Parameters
    ----------
    load : (n,) array
        Heated floor area of each station's supply area.
    cost : (n, K) array
        Cost of giving station i to company k.
    edges : sequence of (i, j)
        Stations whose supply areas touch.
    roots : (K,) sequence
        The station each company keeps (nearest to its heat source).
    capacity : (K,) sequence, optional
        Each company's capacity (NaN or None: unlimited).

    Returns
    -------
    (ndarray, float)
        The company (0..K-1) of each station and the objective.

    Raises
    ------
    InputError
        When no assignment meets the capacities and contiguity.
    """
    pulp = _import_pulp()
    load = np.asarray(load, float)
    cost = np.asarray(cost, float)
    n, K = cost.shape
    if len(set(int(r) for r in roots)) != K:
        raise InputError("两家（多家）供热企业的热源最近换热站相同，无法划分连续的供热区域",
                         layer="heating_companies", field="geometry")
    nbr = _neighbours(n, edges)
    prob = pulp.LpProblem("heat_rebalance", pulp.LpMinimize)
    x = [[pulp.LpVariable(f"x_{i}_{k}", cat="Binary") for k in range(K)] for i in range(n)]
    prob += pulp.lpSum(float(cost[i, k]) * x[i][k] for i in range(n) for k in range(K))
    for i in range(n):
        prob += pulp.lpSum(x[i]) == 1
    for k, r in enumerate(roots):
        prob += x[int(r)][k] == 1
    if capacity is not None:
        for k, c in enumerate(capacity):
            if c is not None and np.isfinite(c):
                prob += pulp.lpSum(float(load[i]) * x[i][k] for i in range(n)) <= float(c)
    solver = pulp.PULP_CBC_CMD(msg=False, timeLimit=time_limit)
    for _ in range(max_rounds):
        status = prob.solve(solver)
        if pulp.LpStatus[status] != "Optimal":
            raise InputError("供热企业热源能力不足以覆盖全部供热面积，或无法保持各企业管网连续，区域调配无解",
                             layer="heating_companies", field="capacity_m2")
        assign = np.array([int(np.argmax([x[i][k].varValue or 0 for k in range(K)]))
                           for i in range(n)])
        cuts = 0
        for k, r in enumerate(roots):
            for comp in _components(np.flatnonzero(assign == k), nbr):
                if int(r) in comp:
                    continue
                cs = set(comp)
                border = sorted({v for u in comp for v in nbr[u]} - cs)
                prob += (pulp.lpSum(x[i][k] for i in comp) - pulp.lpSum(x[j][k] for j in border)
                         <= len(comp) - 1)
                cuts += 1
        if not cuts:
            obj = float(sum(cost[i, assign[i]] for i in range(n)))
            return assign, round(obj, 6)
    raise InputError("供热区域调配未能在限定轮次内得到连续的区域", layer="heating_companies")


def station_adjacency(graph: StreetGraph, stations: gpd.GeoDataFrame) -> list[tuple[int, int]]:
    """Pairs of stations (positions) whose supply areas meet on a street.

    Every graph node belongs to its nearest station (one multi-source pass); an edge whose two
    ends belong to different stations joins those two.
    """
    pts = gpd.GeoSeries(stations.geometry.values, crs=stations.crs)
    snapped = snap_points(graph, pts)
    res = multi_source(graph, snapped)
    u = graph.edges["u"].to_numpy(np.int64)
    v = graph.edges["v"].to_numpy(np.int64)
    # a station also touches the stations owning both ends of its own street
    own = np.flatnonzero(snapped["edge"].to_numpy() >= 0)
    su, sv = snapped["u"].to_numpy(np.int64)[own], snapped["v"].to_numpy(np.int64)[own]
    a = np.concatenate([res.source[u], own, own])
    b = np.concatenate([res.source[v], res.source[su], res.source[sv]])
    ok = (a >= 0) & (b >= 0) & (a != b)
    pairs = np.unique(np.sort(np.column_stack([a[ok], b[ok]]), axis=1), axis=0)
    return [(int(p), int(q)) for p, q in pairs]


def rebalance(graph: StreetGraph, stations: gpd.GeoDataFrame, companies: gpd.GeoDataFrame,
              loads: pd.DataFrame, *, config: dict[str, Any] | None = None
              ) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Rebalance the companies' areas (stations of companies listed in ``companies``).

    Parameters
    ----------
    stations : GeoDataFrame
        ``heat_stations`` (``station_id``, ``company``).
    companies : GeoDataFrame
        ``heating_companies``: ``name`` (as in the stations' ``company``), ``capacity_m2``,
        point at the heat source.
    loads : DataFrame
        From :func:`zlgis.analysis.heating.station_loads` (``station_id``, ``load_m2``).

    Returns
    -------
    (DataFrame, DataFrame)
        Per station ``station_id, load_m2, company, new_company, changed, source_distance_m,
        root`` (the station nearest to its company's heat source);
        per company ``company, capacity_m2, load_before_m2, load_after_m2, margin_m2``.
    """
    from .heating import heating_config

    cfg = config or heating_config()
    rb = cfg["rebalance"]
    names = companies["name"].astype(str).to_numpy()
    for i, g in enumerate(companies.geometry):
        if g is None or g.is_empty:
            raise InputError(f"供热企业 {names[i]} 缺少热源位置", layer="heating_companies",
                             row=i + 1, field="geometry")
    cur = stations["company"].astype(str).to_numpy()
    sel = np.isin(cur, names)
    st = stations[sel].reset_index(drop=True)
    cur = cur[sel]
    ld = st["station_id"].astype(str).map(loads.set_index("station_id")["load_m2"]).fillna(0.0)
    load = ld.to_numpy(float)
    K = len(names)
    snapped = snap_points(graph, gpd.GeoSeries(st.geometry.values, crs=st.crs))
    dist = np.zeros((len(st), K))
    for k in range(K):
        r = nearest_facility(graph, snapped, companies.iloc[[k]].geometry)
        dist[:, k] = r["distance_network"].to_numpy(float)
    dist[~np.isfinite(dist)] = 1e9
    penalty = float(value(rb["switch_penalty_m"]))
    kcur = np.array([int(np.flatnonzero(names == c)[0]) for c in cur])
    cost = load[:, None] * (dist + penalty * (np.arange(K)[None, :] != kcur[:, None])) / 1e4
    roots = []
    for k in range(K):
        order = np.argsort(dist[:, k], kind="stable")
        roots.append(int(next(o for o in order if o not in roots)))
    cap = pd.to_numeric(companies.get("capacity_m2", pd.Series(np.nan, index=companies.index)),
                        errors="coerce").to_numpy(float)
    edges = station_adjacency(graph, st)
    assign, _ = solve_assignment(load, cost, edges=edges, roots=roots, capacity=cap,
                                 time_limit=float(value(rb["time_limit_s"])))
    per = pd.DataFrame({"station_id": st["station_id"].astype(str).to_numpy(), "load_m2": load,
                        "company": cur, "new_company": names[assign],
                        "changed": names[assign] != cur,
                        "source_distance_m": np.round(dist[np.arange(len(st)), assign], 1),
                        "root": np.isin(np.arange(len(st)), roots)})
    comp = pd.DataFrame({"company": names, "capacity_m2": cap})
    comp["load_before_m2"] = comp["company"].map(per.groupby("company")["load_m2"].sum()).fillna(0.0)
    comp["load_after_m2"] = comp["company"].map(per.groupby("new_company")["load_m2"].sum()).fillna(0.0)
    comp["margin_m2"] = comp["capacity_m2"] - comp["load_after_m2"]
    return per, comp


def changed_buildings(per_station: pd.DataFrame, supply: pd.DataFrame) -> pd.DataFrame:
    """The buildings that change company: ``building_id, station_id, company, new_company``."""
    moved = per_station[per_station["changed"]].set_index("station_id")
    s = supply[supply["station_id"].isin(moved.index)]
    return pd.DataFrame({"building_id": s["building_id"].to_numpy(),
                         "station_id": s["station_id"].to_numpy(),
                         "heated_m2": s["heated_m2"].to_numpy(),
                         "company": s["station_id"].map(moved["company"]).to_numpy(),
                         "new_company": s["station_id"].map(moved["new_company"]).to_numpy()})


def rebalance_findings(graph: StreetGraph, stations: gpd.GeoDataFrame,
                       companies: gpd.GeoDataFrame, supply: pd.DataFrame, loads: pd.DataFrame, *,
                       config: dict[str, Any] | None = None) -> gpd.GeoDataFrame:
    """One finding per station advised to change company, with its buildings and margins."""
    per, comp = rebalance(graph, stations, companies, loads, config=config)
    moved = per[per["changed"]]
    geo = dict(zip(stations["station_id"].astype(str), stations.geometry.values))
    nb = supply.groupby("station_id").size()
    margin = dict(zip(comp["company"], comp["margin_m2"]))
    return rule_findings(
        "heating_company_transfer", feature_ids=[[s] for s in moved["station_id"]],
        layer="heat_stations", geometry=[geo[s] for s in moved["station_id"]],
        title=[f"换热站{s}（{ld / 1e4:.2f}万㎡）建议由{a}调整至{b}" for s, ld, a, b in
               zip(moved["station_id"], moved["load_m2"], moved["company"], moved["new_company"])],
        measures=[{"load_m2": float(ld), "from": a, "to": b, "buildings": int(nb.get(s, 0)),
                   "margin_after_m2": (None if not np.isfinite(margin.get(b, np.nan))
                                       else float(margin[b]))}
                  for s, ld, a, b in zip(moved["station_id"], moved["load_m2"], moved["company"],
                                         moved["new_company"])],
        measure_key="load_m2", measure_unit="m2", crs=stations.crs)
