"""Facilities and management layers (zlgis/demo/facilities.py)."""

from __future__ import annotations

import numpy as np
import shapely
from scipy.sparse.csgraph import dijkstra

from zlgis.demo._common import make_frame, rng_for
from zlgis.demo.facilities import COVERED_M, building_access, grids


def test_grid_ids_and_names():
    f = make_frame(1, 25_000)
    g = grids(f, f.bounds, rng_for(1, 13))
    assert g["grid_id"].str.fullmatch(r"150783\d{9}").all() and g["grid_id"].is_unique
    assert set(g["subdistrict"]) >= {"河西街道", "兴华街道", "正阳街道"}
    assert (g.loc[g["subdistrict"] == "河西街道", "district"] == "河西").all()
    assert g["road_chief_phone"].str.fullmatch(r"1\d{10}").all()
    assert g.union_all().covers(shapely.box(*f.bounds))
    assert abs(g.area.sum() - g.union_all().area) < 1.0  # cells tile without overlap


def test_every_dwelling_has_a_toilet_by_road_except_the_planted(demo_layers, demo_truth):
    """Recompute the walking distance the generator guarantees: <= COVERED_M for every home."""
    roads = demo_layers["roads"]
    xy = shapely.get_coordinates(roads.geometry.values)
    ends = np.round(xy.reshape(-1, 2, 2), 3)
    nodes, inv = np.unique(ends.reshape(-1, 2), axis=0, return_inverse=True)
    inv = inv.reshape(-1, 2)
    from scipy.sparse import csr_matrix

    w = roads.geometry.length.to_numpy()
    n = len(nodes)
    m = csr_matrix((np.r_[w, w], (np.r_[inv[:, 0], inv[:, 1]], np.r_[inv[:, 1], inv[:, 0]])),
                   shape=(n, n))
    toilets = demo_layers["toilets"]
    tx = np.column_stack([toilets.geometry.x, toilets.geometry.y])
    near = np.argmin((nodes[None, :, 0] - tx[:, None, 0]) ** 2 +
                     (nodes[None, :, 1] - tx[:, None, 1]) ** 2, axis=1)
    dn = dijkstra(m, indices=np.unique(near), min_only=True, limit=600)
    b = demo_layers["buildings"]
    planted = set(demo_truth.loc[demo_truth["rule"] == "toilet_uncovered", "feature_id"])
    homes = b[(b["use"] == "住宅") & ~b["under_construction"].astype(bool)]
    pts = shapely.point_on_surface(homes.geometry.values)
    roads2 = roads.assign(node_u=inv[:, 0], node_v=inv[:, 1])
    snap, u, v, tu, tv = building_access(roads2, np.arange(n),
                                         np.column_stack([shapely.get_x(pts),
                                                          shapely.get_y(pts)]))
    d = snap + np.minimum(tu + dn[u], tv + dn[v])
    in_planted = homes["compound_id"].isin(planted).to_numpy()
    assert (d[~in_planted] <= COVERED_M + 10).all()
    assert (d[in_planted] > 300).all()


def test_transfer_gap_in_hexi(demo_layers, demo_truth):
    """The planted transfer gap lies in 河西, far from the running stations; a site is planned."""
    t = demo_truth[demo_truth["rule"] == "transfer_uncovered"]
    assert len(t) >= 1
    st = demo_layers["transfer_stations"]
    running = st[st["status"] == "运行"]
    comps = demo_layers["residential_compounds"].set_index("compound_id")
    for r in t.itertuples():
        g = comps.loc[r.feature_id]
        assert g["district"] == "河西"
        assert running.distance(g.geometry).min() > 4000
        assert float(r.value) > 5000
    assert (st["status"] == "规划").sum() == 1
