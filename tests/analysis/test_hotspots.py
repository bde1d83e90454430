"""Gi* hot spots, FDR and emerging hot spots (zlgis/analysis/hotspots.py) against esda."""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest
import shapely
from scipy import sparse

from zlgis.analysis.hotspots import (
    emerging_hot_spots,
    fdr_mask,
    gi_star,
    h3_cells,
    h3_weights,
    hot_spots,
    polygon_weights,
)


def esda_zs(y: np.ndarray, W: sparse.spmatrix) -> np.ndarray:
    """A direct esda call on the same weights (binary, self included: Gi*)."""
    import esda
    from libpysal.weights import WSP

    w = WSP(sparse.csr_matrix(W)).to_W(silence_warnings=True)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        g = esda.G_Local(y, w, transform="B", star=True, permutations=0)
    return np.asarray(g.Zs)


def test_gi_star_equals_esda_on_h3_weights(demo_catalog):
    from zlgis.validate import load_layers

    cases = load_layers(demo_catalog, ["hotline_cases"])["hotline_cases"]
    cells = h3_cells(cases.geometry.values, crs=cases.crs, resolution=9)
    universe = np.unique(cells)
    W = h3_weights(universe)
    assert (W.diagonal() == 1).all() and W.sum() > 5 * len(universe)
    y = pd.Series(cells).value_counts().reindex(universe).to_numpy(float)
    z = gi_star(y, W)
    assert np.allclose(z, esda_zs(y, W), rtol=1e-10, atol=1e-10)
    # the same through hot_spots (counts built from one entry per case)
    hs = hot_spots(cells, universe=universe, W=W)
    assert np.allclose(hs["z"], z) and (hs["count"].to_numpy() == y).all()


def test_gi_star_equals_esda_on_grid_weights_and_many_periods():
    x, y = np.meshgrid(np.arange(12) * 100.0, np.arange(9) * 100.0)
    polys = shapely.box(x.ravel(), y.ravel(), x.ravel() + 100, y.ravel() + 100)
    W = polygon_weights(polys)
    assert W[0].sum() == 4  # a corner cell: itself and three queen neighbours
    rng = np.random.default_rng(1)
    Y = rng.poisson(2.0, (len(polys), 5)).astype(float)
    Y[50, :] += 20
    Z = gi_star(Y, W)
    for t in range(Y.shape[1]):
        assert np.allclose(Z[:, t], esda_zs(Y[:, t], W))


def test_fdr_equals_esda_threshold():
    import esda

    rng = np.random.default_rng(3)
    p = np.concatenate([rng.uniform(0, 0.002, 20), rng.uniform(0, 1, 300)])
    thr = esda.fdr(p, 0.05)
    assert (fdr_mask(p, 0.05) == (p <= thr)).all()
    assert fdr_mask(p, 0.05).sum() >= 20


def test_emerging_categories():
    n_weeks = 12
    x, y = np.meshgrid(np.arange(20) * 100.0, np.arange(20) * 100.0)
    polys = shapely.box(x.ravel(), y.ravel(), x.ravel() + 100, y.ravel() + 100)
    W = polygon_weights(polys)
    universe = np.arange(len(polys))
    rng = np.random.default_rng(2)
    base_cells, base_weeks = [], []
    for t in range(n_weeks):  # a thin background everywhere
        c = rng.integers(0, len(polys), 60)
        base_cells += c.tolist()
        base_weeks += [t] * 60

    def run(plants: dict[int, dict[int, int]]) -> pd.DataFrame:
        """``k`` cases a week in each planted cell and its 8 neighbours (3 x 3 clusters)."""
        cells, weeks = list(base_cells), list(base_weeks)
        for cell, per_week in plants.items():
            block = [cell + dr * 20 + dc for dr in (-1, 0, 1) for dc in (-1, 0, 1)]
            for t, k in per_week.items():
                for c in block:
                    cells.extend([c] * k)
                    weeks.extend([t] * k)
        return emerging_hot_spots(np.array(cells), np.array(weeks), universe=universe, W=W,
                                  n_weeks=n_weeks).set_index("cell")

    em = run({21: {11: 6},                                # new
              105: {t: 6 for t in range(n_weeks)},        # persistent
              273: {t: 6 for t in range(4)},              # historical
              357: {9: 6, 10: 6, 11: 6}})                 # consecutive
    assert em.loc[21, "category"] == "新热点"
    assert em.loc[105, "category"] == "持续热点"
    assert em.loc[273, "category"] == "历史热点"
    assert em.loc[357, "category"] == "连续热点"
    assert em.loc[189, "category"] == ""
    # a cluster growing every week, alone: intensifying
    em = run({189: {t: 1 + t for t in range(n_weeks)}})
    assert em.loc[189, "category"] == "加强热点"
    assert em.loc[105, "category"] == ""


def test_realdata_helsinki_trees_gi_star_equals_esda(realdata):
    import pyogrio

    pts = pyogrio.read_dataframe(realdata / "helsinki" / "Helsinki.osm.pbf", layer="points")
    trees = pts[pts["other_tags"].fillna("").str.contains('"natural"=>"tree"')]
    trees = trees.to_crs("EPSG:32635")
    # the README lists 649 natural=tree nodes in the extract
    assert len(trees) == 649
    cells = h3_cells(trees.geometry.values, crs=trees.crs, resolution=10)
    universe = np.unique(cells)
    W = h3_weights(universe)
    hs = hot_spots(cells, universe=universe, W=W)
    assert np.allclose(hs["z"], esda_zs(hs["count"].to_numpy(), W))
    # street trees line a few avenues and parks: some cells are significant hot spots
    assert 1 <= hs["hot"].sum() < len(universe) / 2
    assert hs["count"].sum() == pytest.approx(649)
