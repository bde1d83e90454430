"""Hot spots of cases: Getis-Ord Gi* on H3 hexagons or on the grid, FDR, emerging hot spots.

Gi* (Getis & Ord 1992; Ord & Getis 1995) with binary weights that include the cell itself, and
its analytical z-score, computed for many cells and weeks at once with sparse matrices; the
values equal ``esda.G_Local(y, w, transform="B", star=True).Zs`` on the same weights (tested).
Significance: Benjamini-Hochberg false discovery rate over the cells (one-sided, hot spots
only). Emerging hot spots classify each cell from its weekly Gi* series (a simplified version
of the space-time categories of ESRI's Emerging Hot Spot Analysis: new, consecutive,
intensifying, persistent, diminishing, sporadic, historical) with a Mann-Kendall trend test.

Examples
--------
>>> import numpy as np
>>> y = np.array([0, 0, 9, 8, 0, 1.0])
>>> W = binary_chain(6)
>>> np.round(gi_star(y, W), 2).tolist()
[-1.21, 0.0, 1.52, 1.52, 0.0, -1.01]
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from scipy import sparse, special

from ..crs import transformer
from ._ruled import rule_findings

__all__ = [
    "gi_star",
    "fdr_mask",
    "h3_cells",
    "h3_weights",
    "h3_polygons",
    "polygon_weights",
    "hot_spots",
    "emerging_hot_spots",
    "hot_spot_findings",
    "binary_chain",
]


def binary_chain(n: int) -> sparse.csr_matrix:
    """Binary weights of ``n`` cells in a row, each its own neighbour (for examples and tests)."""
    d = np.ones(n - 1)
    return sparse.diags([d, np.ones(n), d], [-1, 0, 1], format="csr")


def gi_star(y: np.ndarray, W: sparse.spmatrix) -> np.ndarray:
    """Gi* z-scores of ``y`` (cells, or cells x periods) for binary weights ``W`` with self.

    ``W`` must hold 1 on its diagonal (the cell counts for itself: Gi*). The moments are the
    analytical ones of Ord & Getis (1995), as in ``esda.G_Local`` with ``star=True``.
    A column with no variance gives NaN.
    """
    y = np.asarray(y, dtype=float)
    one = y.ndim == 1
    Y = y[:, None] if one else y
    n = Y.shape[0]
    W = sparse.csr_matrix(W, dtype=float)
    total = Y.sum(axis=0)
    with np.errstate(invalid="ignore", divide="ignore"):
        G = (W @ Y) / total
        mean = total / n
        var = (Y ** 2).sum(axis=0) / n - mean ** 2
        card = np.asarray(W.sum(axis=1)).ravel()[:, None]
        E = card / n
        V = card * (n - card) / (n - 1) / n ** 2 * (var / mean ** 2)
        Z = (G - E) / np.sqrt(V)
    return Z[:, 0] if one else Z


def _upper_tail(z: np.ndarray) -> np.ndarray:
    """One-sided upper-tail p of standard normal scores: ``scipy.stats.norm.sf(z)``, which is
    ``special.ndtr(-z)`` (bit for bit), without importing ``scipy.stats`` (about 1 s)."""
    return special.ndtr(-np.asarray(z, dtype=float))


def fdr_mask(p: np.ndarray, alpha: float) -> np.ndarray:
    """Benjamini-Hochberg: True where ``p`` is significant at false discovery rate ``alpha``.

    >>> fdr_mask(np.array([0.001, 0.02, 0.04, 0.5]), 0.05).tolist()
    [True, True, False, False]
    """
    p = np.asarray(p, dtype=float)
    ok = np.isfinite(p)
    out = np.zeros(p.shape, dtype=bool)
    if not ok.any():
        return out
    q = p[ok]
    order = np.argsort(q, kind="stable")
    m = len(q)
    passed = q[order] <= alpha * np.arange(1, m + 1) / m
    if passed.any():
        k = np.flatnonzero(passed).max()
        sig = np.zeros(m, dtype=bool)
        sig[order[: k + 1]] = True
        out[np.flatnonzero(ok)] = sig
    return out


def h3_cells(points: Any, *, crs: Any, resolution: int = 9) -> np.ndarray:
    """H3 cell (as int64) of each point; -1 for empty points."""
    import h3

    geom = np.asarray(points, dtype=object)
    ok = ~(shapely.is_missing(geom) | shapely.is_empty(geom))
    xy = shapely.get_coordinates(geom[ok])
    lon, lat = transformer(crs).transform(xy[:, 0], xy[:, 1])
    out = np.full(len(geom), -1, dtype=np.int64)
    to_cell = h3.api.basic_int.latlng_to_cell
    out[ok] = np.fromiter((to_cell(a, b, resolution) for a, b in zip(lat, lon)),
                          dtype=np.int64, count=len(lat))
    return out


def h3_weights(cells: Sequence[int], *, k: int = 1) -> sparse.csr_matrix:
    """Binary weights of H3 cells: neighbours within ``k`` rings, the cell itself included."""
    import h3

    cells = np.asarray(cells, dtype=np.int64)
    pos = {int(c): i for i, c in enumerate(cells)}
    rows, cols = [], []
    for i, c in enumerate(cells):
        for nb in h3.api.basic_int.grid_disk(int(c), k):
            j = pos.get(int(nb))
            if j is not None:
                rows.append(i)
                cols.append(j)
    n = len(cells)
    return sparse.csr_matrix((np.ones(len(rows)), (rows, cols)), shape=(n, n))


def h3_polygons(cells: Sequence[int], *, crs: Any) -> np.ndarray:
    """Hexagon polygons of H3 cells in ``crs``."""
    import h3

    t = transformer("EPSG:4326", crs)
    out = []
    for c in cells:
        ring = np.asarray(h3.api.basic_int.cell_to_boundary(int(c)))  # (lat, lng)
        x, y = t.transform(ring[:, 1], ring[:, 0])
        out.append(shapely.Polygon(np.column_stack([x, y])))
    return np.asarray(out, dtype=object)


def polygon_weights(polygons: Any) -> sparse.csr_matrix:
    """Binary queen-contiguity weights of polygons (sharing a point), the polygon itself included."""
    g = np.asarray(polygons, dtype=object)
    a, b = shapely.STRtree(g).query(g, predicate="intersects")
    n = len(g)
    W = sparse.csr_matrix((np.ones(len(a)), (a, b)), shape=(n, n))
    W.data[:] = 1.0
    return W


def _study_cells(all_cells: np.ndarray, k: int = 1) -> np.ndarray:
    """Cells with any case, and their neighbours (the area in which counts of 0 are real)."""
    import h3

    seen = np.unique(all_cells[all_cells >= 0])
    ring = {int(nb) for c in seen for nb in h3.api.basic_int.grid_disk(int(c), k)}
    return np.array(sorted(ring), dtype=np.int64)


def _alpha(alpha: float | None) -> float:
    """``alpha``, or the false discovery rate of ``cases.yaml`` (``hotspots.alpha``)."""
    if alpha is not None:
        return float(alpha)
    from .cases import case_settings

    return float(case_settings()["hotspots"]["alpha"])


def hot_spots(cells: np.ndarray, values: np.ndarray | None = None, *, universe: np.ndarray,
              W: sparse.spmatrix, alpha: float | None = None) -> pd.DataFrame:
    """Gi* of the counts of ``cells`` (one entry per case) over ``universe`` with FDR.

    Returns
    -------
    DataFrame
        One row per cell of ``universe``: ``cell``, ``count``, ``z``, ``p`` (one-sided, upper
        tail), ``hot`` (z > 0 and significant at FDR ``alpha``; default ``hotspots.alpha`` of
        ``cases.yaml``).
    """
    alpha = _alpha(alpha)
    pos = pd.Index(universe)
    k = pos.get_indexer(cells)
    w = np.ones(len(k)) if values is None else np.asarray(values, dtype=float)
    y = np.bincount(k[k >= 0], weights=w[k >= 0], minlength=len(pos))
    z = gi_star(y, W)
    p = _upper_tail(z)
    return pd.DataFrame({"cell": universe, "count": y, "z": z, "p": p,
                         "hot": fdr_mask(p, alpha) & (z > 0)})


def _mann_kendall(Z: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Mann-Kendall S statistic and two-sided p of each row of ``Z`` (cells x periods)."""
    n = Z.shape[1]
    i, j = np.triu_indices(n, 1)
    S = np.sign(np.nan_to_num(Z[:, j]) - np.nan_to_num(Z[:, i])).sum(axis=1)
    var = n * (n - 1) * (2 * n + 5) / 18.0
    zs = (S - np.sign(S)) / np.sqrt(var)
    return S, 2 * _upper_tail(np.abs(zs))


def emerging_hot_spots(cells: np.ndarray, weeks: np.ndarray, *, universe: np.ndarray,
                       W: sparse.spmatrix, n_weeks: int, alpha: float | None = None
                       ) -> pd.DataFrame:
    """Week-by-week Gi* of each cell and its emerging hot-spot category.

    ``weeks`` gives each case's week index (0 = oldest, ``n_weeks - 1`` = the last week).
    Categories: 新热点 (hot only in the last week), 连续热点 (hot in an unbroken run of the last
    weeks, never before), 加强热点 / 持续热点 / 减弱热点 (hot in at least 90 % of the weeks
    and the last, with a rising / no / falling Mann-Kendall trend of z at ``alpha``),
    零星热点 (hot in the last week, on and off before), 历史热点 (hot before, not in the last week).
    """
    alpha = _alpha(alpha)
    pos = pd.Index(universe)
    k = pos.get_indexer(cells)
    ok = (k >= 0) & (weeks >= 0) & (weeks < n_weeks)
    Y = np.zeros((len(pos), n_weeks))
    np.add.at(Y, (k[ok], weeks[ok]), 1.0)
    Z = gi_star(Y, W)
    P = _upper_tail(Z)
    H = np.column_stack([fdr_mask(P[:, t], alpha) & (Z[:, t] > 0) for t in range(n_weeks)])
    S, pmk = _mann_kendall(Z)
    share = H.mean(axis=1)
    last = H[:, -1]
    before = H[:, :-1].any(axis=1)
    # length of the unbroken run of hot weeks ending at the last week
    run = np.argmin(np.concatenate([H[:, ::-1], np.zeros((len(H), 1), bool)], axis=1), axis=1)
    earlier = np.array([H[i, : n_weeks - r].any() for i, r in enumerate(run)])
    cat = np.full(len(pos), "", dtype=object)
    cat[last & ~before] = "新热点"
    cat[last & (run >= 2) & ~earlier & (share < 0.9)] = "连续热点"
    strong = last & (share >= 0.9)
    cat[strong & (pmk < alpha) & (S > 0)] = "加强热点"
    cat[strong & ~(pmk < alpha)] = "持续热点"
    cat[strong & (pmk < alpha) & (S < 0)] = "减弱热点"
    cat[last & before & (cat == "")] = "零星热点"
    cat[~last & before] = "历史热点"
    return pd.DataFrame({"cell": universe, "weeks_hot": H.sum(axis=1), "trend_s": S,
                         "trend_p": pmk, "z_last": Z[:, -1], "category": cat})


def hot_spot_findings(prepared: gpd.GeoDataFrame, *, as_of: Any,
                      config: Mapping[str, Any] | None = None) -> gpd.GeoDataFrame:
    """``case_hot_spot`` findings: per class, H3 cells hot over the last weeks before ``as_of``.

    A cell is a hot spot of a class when its Gi* over ``hotspots.window_weeks`` is significant
    at FDR ``hotspots.alpha`` (one-sided), z > 0, and it holds at least ``hotspots.min_cases``
    cases of the class. The finding carries z, p, the count and the cell's emerging hot-spot
    category over ``hotspots.emerging_weeks``; its geometry is the hexagon (no case details:
    the rule is public).
    """
    from .cases import case_settings, end_of

    s = case_settings(config)
    hs = s["hotspots"]
    res, alpha = int(hs["h3_resolution"]), float(hs["alpha"])
    end = end_of(as_of)
    t = pd.to_datetime(prepared["received_at"])
    span = int(hs["emerging_weeks"])
    recent = prepared[(t >= end - pd.Timedelta(weeks=span)) & (t < end)]
    crs = prepared.crs
    if not len(recent):
        return rule_findings("case_hot_spot", feature_ids=[], layer="hotline_cases",
                             geometry=[], crs=crs)
    cells = h3_cells(recent.geometry.values, crs=crs, resolution=res)
    universe = _study_cells(cells)
    W = h3_weights(universe)
    week = ((end - pd.to_datetime(recent["received_at"])) // pd.Timedelta(weeks=1)).to_numpy()
    week = span - 1 - week.astype(int)
    window = week >= span - int(hs["window_weeks"])
    cls = recent["case_class"].to_numpy()
    rows = []
    for c in hs["categories"]:
        m = cls == c
        if m.sum() < int(hs["min_cases"]):
            continue
        hot = hot_spots(cells[m & window], universe=universe, W=W, alpha=alpha)
        hot = hot[hot["hot"] & (hot["count"] >= int(hs["min_cases"]))]
        if not len(hot):
            continue
        em = emerging_hot_spots(cells[m], week[m], universe=universe, W=W, n_weeks=span,
                                alpha=alpha).set_index("cell")
        for r in hot.itertuples():
            rows.append({"cls": c, "cell": int(r.cell), "z": r.z, "p": r.p,
                         "count": int(r.count), "emerging": em.loc[r.cell, "category"]})
    if not rows:
        return rule_findings("case_hot_spot", feature_ids=[], layer="hotline_cases",
                             geometry=[], crs=crs)
    df = pd.DataFrame(rows)
    spec = s["classes"]
    import h3

    return rule_findings(
        "case_hot_spot", feature_ids=[[f"{c}@{h3.int_to_str(int(h))}"] for c, h in
                                      zip(df["cls"], df["cell"])],
        layer="hotline_cases", geometry=h3_polygons(df["cell"], crs=crs), crs=crs,
        event_code_old=[str(spec[c].get("code_old", "")) for c in df["cls"]],
        event_code_new=[str(spec[c].get("code_new", "")) for c in df["cls"]],
        measures=[{"z": z, "p": p, "cases": n, "emerging": e, "class": spec[c]["name"],
                   "h3": h3.int_to_str(int(h))}
                  for z, p, n, e, c, h in zip(df["z"], df["p"], df["count"], df["emerging"],
                                              df["cls"], df["cell"])],
        measure_key="z", measure_unit="z",
        title=[f"{spec[c]['name']}案件热点（近{int(hs['window_weeks'])}周 {n} 件，z={z:.1f}"
               f"{'，' + e if e else ''}）"
               for c, n, z, e in zip(df["cls"], df["count"], df["z"], df["emerging"])])
