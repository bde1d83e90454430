"""Uncovered areas (zlgis/analysis/coverage_clusters.py) against the per-cluster overlay path they
replace, on the demo city's buildings: the same clusters, members, weights and polygons."""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import scipy.sparse as sp
import shapely
from scipy.sparse.csgraph import connected_components

from zlgis.analysis.coverage_clusters import uncovered_areas
from zlgis.validate import load_layers


def _previous(points, covered, *, footprints=None, weight=None, cluster_distance,
              min_count=1, id_col="building_id", group=None, polygon_buffer=None):
    """The previous implementation: Python loops over cells and groups, one ``union_all`` of the
    grown shapes per cluster."""
    cd = cluster_distance
    sel = ~np.asarray(covered, bool)
    geoms = (np.asarray(footprints, dtype=object)[sel] if footprints is not None
             else np.asarray(points.geometry.values, dtype=object)[sel])
    w = np.ones(sel.sum()) if weight is None else np.asarray(weight, float)[sel]
    ids = points[id_col].astype(str).to_numpy()[sel]
    m = len(geoms)
    exact = m <= 20_000 and cd <= 120
    if exact:
        buf = shapely.buffer(geoms, cd / 2, quad_segs=4)
        i, j = shapely.STRtree(buf).query(buf, predicate="intersects")
    else:
        rep = shapely.point_on_surface(geoms)
        cell_x = np.floor(shapely.get_x(rep) / cd).astype(np.int64)
        cell_y = np.floor(shapely.get_y(rep) / cd).astype(np.int64)
        cells, cell_of = np.unique(np.c_[cell_x, cell_y], axis=0, return_inverse=True)
        cell_of = cell_of.ravel()
        key = {(int(a), int(b)): k for k, (a, b) in enumerate(cells)}
        ci, cj = [], []
        for k, (a, b) in enumerate(cells):
            for da, db in ((1, 0), (0, 1), (1, 1), (1, -1)):
                nb = key.get((int(a) + da, int(b) + db))
                if nb is not None:
                    ci.append(k)
                    cj.append(nb)
        first = np.full(len(cells), -1, np.int64)
        first[cell_of[::-1]] = np.arange(m)[::-1]
        i = np.r_[np.arange(m), first[np.asarray(ci, np.int64)]]
        j = np.r_[first[cell_of], first[np.asarray(cj, np.int64)]]
    if group is not None:
        gl = pd.Series(np.asarray(group, dtype=object)[sel])
        has = gl.notna() & (gl.astype(str) != "")
        firsts = gl[has].groupby(gl[has].astype(str)).transform(lambda x: x.index[0])
        i = np.r_[i, firsts.index.to_numpy()]
        j = np.r_[j, firsts.to_numpy()]
    adj = sp.coo_matrix((np.ones(len(i)), (i, j)), shape=(m, m))
    _, lab = connected_components(adj, directed=False)
    df = pd.DataFrame({"lab": lab, "id": ids, "w": w})
    g = df.groupby("lab")
    n = g.size()
    keep = n[n >= min_count].index.to_numpy()
    pb = cd / 2 if polygon_buffer is None else polygon_buffer
    if exact:
        pbuf = buf if pb == cd / 2 else shapely.buffer(geoms, pb, quad_segs=4)
        item_lab = lab
    else:
        x0, y0 = cells[:, 0] * cd, cells[:, 1] * cd
        pbuf = shapely.buffer(shapely.box(x0, y0, x0 + cd, y0 + cd), min(pb, cd / 2),
                              join_style="mitre")
        item_lab = lab[first]
    order = np.argsort(item_lab, kind="stable")
    starts = np.searchsorted(item_lab[order], keep)
    ends = np.searchsorted(item_lab[order], keep, side="right")
    polys = [shapely.union_all(pbuf[order[a_:b_]]) for a_, b_ in zip(starts, ends)]
    members = g["id"].agg(lambda s: ";".join(sorted(s)))
    out = gpd.GeoDataFrame({
        "cluster": [min(members[k].split(";")) for k in keep],
        "n": n.loc[keep].to_numpy(),
        "weight": g["w"].sum().loc[keep].to_numpy(),
        "members": members.loc[keep].to_numpy(),
    }, geometry=polys, crs=points.crs)
    return out.sort_values("cluster").reset_index(drop=True)


@pytest.fixture(scope="module")
def houses(demo_catalog):
    b = load_layers(demo_catalog, ["buildings"])["buildings"].reset_index(drop=True)
    rng = np.random.default_rng(11)
    b = b.iloc[np.sort(rng.choice(len(b), 6000, replace=False))].reset_index(drop=True)
    # blind areas: everything farther than 900 m from a few random "facilities"
    c = b.geometry.representative_point()
    fac = rng.choice(len(b), 12, replace=False)
    d = np.min([c.distance(c.iloc[k]) for k in fac], axis=0)
    group = np.where(rng.random(len(b)) < 0.5, b.index.to_numpy() // 7, None)
    return b, d > 900, rng.uniform(1, 30, len(b)), group


@pytest.mark.parametrize("case", ["exact", "exact_groups", "cells", "cells_groups",
                                  "cells_small_buffer"])
def test_same_clusters_and_polygons_as_the_previous_path(houses, case):
    b, uncovered, weight, group = houses
    kw = {"footprints": b.geometry.to_numpy(), "weight": weight, "min_count": 3,
          "group": group if case.endswith("groups") else None}
    if case.startswith("exact"):
        kw["cluster_distance"] = 60.0
    else:
        kw["cluster_distance"] = 150.0  # beyond 120 m: linked through cells
        kw["polygon_buffer"] = 5.0 if case == "cells_small_buffer" else 30.0
    assert uncovered.sum() > 3000
    new = uncovered_areas(b, ~uncovered, **kw)
    old = _previous(b, ~uncovered, **kw)
    assert len(new) > 3
    pd.testing.assert_frame_equal(pd.DataFrame(new.drop(columns="geometry")),
                                  pd.DataFrame(old.drop(columns="geometry")))
    if case.startswith("exact"):  # the same union: the same vertices
        assert shapely.equals_exact(new.geometry.values, old.geometry.values, 0).all()
    else:  # the same region (the cells' union grown once instead of every cell grown)
        assert shapely.equals(new.geometry.values, old.geometry.values).all()
        sym = shapely.symmetric_difference(new.geometry.values, old.geometry.values)
        assert shapely.area(sym).max() < 1e-6
        assert np.allclose(new.area, old.area, rtol=1e-12)
