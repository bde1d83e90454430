"""Siting new toilets and ranking transfer-station sites (zlgis/analysis/siting.py)."""

from __future__ import annotations

import itertools

import geopandas as gpd
import numpy as np
import pytest
import scipy.sparse as sp
from hypothesis import given, settings
from hypothesis import strategies as st
from shapely.geometry import Point, box

from zlgis.analysis.coverage import facility_distances, street_graph, toilet_coverage
from zlgis.analysis.siting import (
    aggregate_demand,
    coverage_sets,
    greedy_sites,
    public_land_candidates,
    rank_transfer_sites,
    site_toilets,
    solve_max_coverage,
    solve_min_sites,
)

CRS = "EPSG:4550"
from _river_town import X0, Y0, river_town_streets  # noqa: E402


def _town():
    """Two banks of a river (x 450-550) joined by one bridge at y = 800; no toilet yet."""
    lines, bridge = river_town_streets()
    roads = gpd.GeoDataFrame({"road_id": [f"R{i}" for i in range(len(lines))],
                              "road_class": "支路", "bridge": bridge}, geometry=lines, crs=CRS)
    geoms, ids, pop = [], [], []
    for x in list(range(50, 400, 100)) + list(range(650, 1000, 100)):
        for y in range(50, 800, 100):
            geoms.append(box(X0 + x - 20, Y0 + y - 5, X0 + x - 10, Y0 + y + 5))
            ids.append(f"H{len(ids):03d}")
            pop.append(20 + len(ids) % 5)
    b = gpd.GeoDataFrame({"building_id": ids, "use": "住宅", "population": pop},
                         geometry=geoms, crs=CRS)
    pub = gpd.GeoDataFrame({"building_id": ["PUB-E", "PUB-W"], "use": ["公共服务", "公共服务"],
                            "population": [0, 0]},
                           geometry=[box(X0 + 195, Y0 + 395, X0 + 205, Y0 + 405),
                                     box(X0 + 795, Y0 + 395, X0 + 805, Y0 + 405)], crs=CRS)
    buildings = gpd.GeoDataFrame(gpd.pd.concat([b, pub], ignore_index=True), crs=CRS)
    toilets = gpd.GeoDataFrame({"toilet_id": ["WC1"]}, geometry=[Point(X0 + 50, Y0 + 50)],
                               crs=CRS)
    grids = gpd.GeoDataFrame({"grid_id": ["150783001001001", "150783002001001"],
                              "district": ["河东", "河西"]},
                             geometry=[box(X0 - 50, Y0 - 50, X0 + 500, Y0 + 850),
                                       box(X0 + 500, Y0 - 50, X0 + 1050, Y0 + 850)], crs=CRS)
    return {"roads": roads, "buildings": buildings, "toilets": toilets, "grids": grids}


# ----------------------------------------------------------------------------- solvers

def _brute_min(A, w, need):
    n = A.shape[0]
    D = A.toarray()
    for k in range(0, n + 1):
        for combo in itertools.combinations(range(n), k):
            cov = D[list(combo)].any(axis=0) if combo else np.zeros(A.shape[1], bool)
            if w[cov].sum() >= need - 1e-9:
                return k
    return None


def _brute_max(A, w, k):
    D = A.toarray()
    best = 0.0
    for combo in itertools.combinations(range(A.shape[0]), k):
        best = max(best, w[D[list(combo)].any(axis=0)].sum())
    return best


@settings(max_examples=25, deadline=None)
@given(st.integers(0, 10_000), st.integers(3, 7), st.integers(4, 10))
def test_exact_solvers_match_brute_force_and_beat_greedy(seed, n_c, n_d):
    rng = np.random.default_rng(seed)
    D = rng.random((n_c, n_d)) < 0.35
    A = sp.csr_matrix(D)
    w = rng.integers(1, 10, n_d).astype(float)
    reachable = w[D.any(axis=0)].sum()
    need = 0.7 * reachable
    chosen, status = solve_min_sites(A, w, need, time_limit=10)
    assert status == "Optimal"
    assert w[D[chosen].any(axis=0)].sum() >= need - 1e-9 if chosen else need <= 0
    assert len(chosen) == _brute_min(A, w, need)
    g, _ = greedy_sites(A, w, need=need)
    assert len(chosen) <= len(g)
    k = 2
    chosen, status = solve_max_coverage(A, w, k, time_limit=10)
    got = w[D[chosen].any(axis=0)].sum() if chosen else 0.0
    assert len(chosen) <= k and got == pytest.approx(_brute_max(A, w, k))
    _, g_got = greedy_sites(A, w, k=k)
    assert got >= g_got - 1e-9


def test_greedy_known_answer():
    # the greedy trap: one big middle set, two halves that together cover everything
    D = np.array([[1, 1, 1, 1, 0, 0, 0, 0],
                  [1, 1, 1, 0, 0, 0, 0, 0],
                  [0, 0, 0, 0, 1, 1, 1, 1],
                  [0, 1, 1, 1, 1, 1, 1, 0]], bool)
    A = sp.csr_matrix(D)
    w = np.ones(8)
    g, got = greedy_sites(A, w, need=8)
    assert got == 8 and g[0] == 3 and len(g) == 3
    chosen, _ = solve_min_sites(A, w, 8)
    assert sorted(chosen) == [0, 2]


def test_aggregate_keeps_weights_and_coverage_apart():
    pts = gpd.GeoDataFrame(geometry=[Point(1, 1), Point(2, 2), Point(3, 3), Point(120, 3)],
                           crs=CRS)
    a = aggregate_demand(pts, np.array([1.0, 2.0, 3.0, 4.0]),
                         np.array([True, False, False, False]), cell=50)
    assert a["weight"].sum() == 10 and len(a) == 3
    assert a.loc[a["covered"], "weight"].tolist() == [1.0]


# ----------------------------------------------------------------------------- toilets

def test_candidates_from_public_land():
    t = _town()
    c = public_land_candidates(t)
    assert set(c["source"]) == {"道路用地", "公共建筑"}
    assert c["candidate_id"].is_unique
    assert {"PUB-E", "PUB-W"} <= set(c["ref_id"])
    again = public_land_candidates(t)
    assert list(again["candidate_id"]) == list(c["candidate_id"])
    only = public_land_candidates(t, sources=["公共建筑"])
    assert set(only["source"]) == {"公共建筑"} and len(only) == 2


def test_site_toilets_target_network_vs_radius():
    t = _town()
    before = toilet_coverage(t, method="network").indicator("population")
    res = site_toilets(t, target=0.9, method="network")
    assert res.before == pytest.approx(before)
    assert res.after >= 0.9 - 1e-9 and res.after > res.before
    assert res.solver == "cbc" and res.status == "Optimal"
    assert len(res.sites) <= res.greedy["n_sites"]
    assert res.sites["gain_weight"].is_monotonic_decreasing
    # check the claim independently: add the sites as toilets and recompute
    new = gpd.GeoDataFrame({"toilet_id": res.sites["candidate_id"]},
                           geometry=res.sites.geometry.values, crs=CRS)
    t2 = dict(t)
    t2["toilets"] = gpd.GeoDataFrame(gpd.pd.concat([t["toilets"], new], ignore_index=True),
                                     crs=CRS)
    after = toilet_coverage(t2, method="network").indicator("population")
    assert after >= 0.9 - 0.02  # aggregated demand: within a cell's worth of rounding
    # sites on both banks: the river is only crossed far away
    xs = res.sites.geometry.x - X0
    assert (xs < 450).any() and (xs > 550).any()


def test_site_toilets_k_sites():
    t = _town()
    one = site_toilets(t, k=1, method="network")
    two = site_toilets(t, k=2, method="network")
    assert len(one.sites) == 1 and len(two.sites) == 2
    assert two.after >= one.after >= one.before
    assert two.after >= two.greedy["after"] - 1e-9
    r = site_toilets(t, k=2, method="radius")
    assert r.after >= two.after - 1e-9  # circles never cover less than walking


def test_coverage_sets_network_subset_of_radius():
    t = _town()
    g = street_graph(t)
    c = public_land_candidates(t)
    d = gpd.GeoDataFrame(geometry=t["buildings"].geometry.representative_point().values, crs=CRS)
    net = coverage_sets(c, d, radius=300, method="network", graph=g)
    rad = coverage_sets(c, d, radius=300, method="radius")
    assert net.nnz > 0
    assert (net.astype(int) - net.multiply(rad).astype(int)).nnz == 0


# ----------------------------------------------------------------------------- transfer

def test_rank_transfer_sites_west_district():
    t = _town()
    t["transfer_stations"] = gpd.GeoDataFrame(
        {"station_id": ["TS1"], "status": ["运行"], "collection_mode": ["人力"],
         "capacity_tpd": [80.0]}, geometry=[Point(X0 + 200, Y0 + 200)], crs=CRS)
    r = rank_transfer_sites(t, district="河西", mode="人力", capacity_tpd=100)
    assert len(r) and (r.geometry.x - X0 > 500).all()
    assert r["rank"].tolist() == list(range(1, len(r) + 1))
    assert r["feasible"].iloc[0] and r["share_of_best"].iloc[0] == 1.0
    assert set(r["source"]) <= {"道路用地", "环卫黄线"}  # no parks or schools for garbage
    # ranked by newly served population first
    feas = r[r["feasible"]]
    assert feas["new_population"].is_monotonic_decreasing
    # nearest-building distances honour the small-class 10 m rule
    assert (r.loc[r["feasible"], "nearest_building_m"] >= 10).all()
    assert (~r.loc[r["nearest_building_m"] < 10, "feasible"]).all()
    # the top site really serves that population within 400 m by road
    top = r.iloc[[0]]
    d = facility_distances(
        gpd.GeoDataFrame(geometry=t["buildings"].geometry.representative_point().values,
                         crs=CRS), top, radius=400, method="network",
        graph=street_graph(t, walk=False))
    pop = t["buildings"]["population"].to_numpy()
    west = (t["buildings"].geometry.representative_point().x - X0 > 500).to_numpy()
    assert pop[d["covered"].to_numpy() & west].sum() == pytest.approx(top["population"].iloc[0])
