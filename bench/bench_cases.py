"""Benchmark: 1M cases classified, gridded, timed and hot-spotted (issue 16).

zlgis, the steps a user waits for in ``zlgis cases`` (timed end to end):
:func:`zlgis.analysis.cases.classify_cases` (category map, keyword rules matched per keyword
with Arrow's vectorised substring search), :func:`route_cases` (grid by
:func:`zlgis.analysis.cases.locate`: the grid burnt into a raster, exact STRtree tests only near
edges; lead department and deadline by class), :func:`case_times` (NumPy datetime arithmetic),
and per class Gi* on the grid (:func:`zlgis.analysis.hotspots.gi_star`, all classes at once with
sparse matrices, queen weights from an STRtree) with Benjamini-Hochberg FDR.

Baseline, the straightforward geopandas + pandas version of the same steps: the category by
``Series.map``, keywords by ``Series.str.contains`` per keyword, ``geopandas.sjoin``
(``dwithin`` 0.05 m, the first grid per case) for the grid, pandas arithmetic for the times,
``groupby`` counts and, per class, ``esda.G_Local`` on libpysal ``fuzzy_contiguity``
(intersecting cells) weights with ``esda.fdr``. Both must give the same classes, grids, overdue flags and hot cells.

Grids: the demo city's unit grids (``unit_grids`` on its communities and streets, 7,879 cells).
Cases: placed like the demo city's cases (around its compounds, with 40 m of noise), received
over a year, texts from templates with addresses; a tenth with no category (keywords decide).
"""

from __future__ import annotations

import sys
import time
import warnings
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from _common import WORK  # noqa: E402

from zlgis.analysis.cases import case_settings, case_times, classify_cases, route_cases  # noqa: E402
from zlgis.analysis.gridding import communities_from_grids, unit_grids  # noqa: E402
from zlgis.analysis.hotspots import fdr_mask, gi_star, polygon_weights  # noqa: E402

AS_OF = pd.Timestamp("2022-09-05")
_TEXTS = {
    "路灯照明": "{a}路灯不亮，晚上出行不安全。", "道路积水": "{a}下雨后积水严重。",
    "渣土车": "{a}渣土车沿途遗撒。", "违章停车": "{a}车辆乱停乱放，堵住消防通道。",
    "占道经营": "{a}流动摊贩摆摊占道。", "油烟": "{a}饭店油烟直排扰民。",
    "供热": "{a}暖气不热，室温很低。", "树木倒伏": "{a}大风后树倒在人行道上。",
    "公厕": "{a}公厕太脏没人打扫。", "垃圾清运": "{a}垃圾收集点满溢，多日未清运。",
    "违法建设": "{a}楼顶违建加盖一层。", "市容环境": "{a}绿化带杂草多，建议修剪。",
}


def _city() -> tuple[gpd.GeoDataFrame, gpd.GeoDataFrame]:
    from zlgis.catalog import Catalog
    from zlgis.demo import make_demo_city
    from zlgis.validate import load_layers

    out = WORK / "city-25000-2022"
    if not (out / "catalog.yaml").exists():
        make_demo_city(out, seed=2022)
    cat = Catalog.load(out / "catalog.yaml")
    L = load_layers(cat, ["grids", "roads", "blue_lines", "residential_compounds"])
    grids = unit_grids(communities_from_grids(L["grids"]), roads=L["roads"],
                       rivers=L["blue_lines"])
    return grids, L["residential_compounds"]


def _cases(n: int, compounds: gpd.GeoDataFrame, seed: int = 16) -> gpd.GeoDataFrame:
    rng = np.random.default_rng(seed)
    anchors = shapely.get_coordinates(compounds.geometry.representative_point().values)
    k = rng.integers(0, len(anchors), n)
    xy = anchors[k] + rng.normal(0, 40, (n, 2))
    cats = np.array(list(_TEXTS), dtype=object)
    c = rng.integers(0, len(cats), n)
    names = compounds["name"].astype(str).to_numpy()[k]
    addr = pd.Series(names) + pd.Series(rng.integers(1, 40, n)).astype(str) + "号楼"
    texts = np.array([_TEXTS[x] for x in cats], dtype=object)[c]
    text = pd.Series([t.replace("{a}", a) for t, a in zip(texts, addr)])
    category = pd.Series(cats[c]).where(rng.random(n) > 0.1, "")
    received = (np.datetime64("2021-11-01T00:00") +
                rng.integers(0, 365 * 24 * 60, n).astype("timedelta64[m]"))
    hours = rng.gamma(2.0, 20.0, n)
    closed = pd.Series(received + (hours * 60).astype("timedelta64[m]")).where(
        rng.random(n) > 0.05)
    return gpd.GeoDataFrame({
        "case_id": [f"B{i:07d}" for i in range(n)], "category": category.to_numpy(),
        "text": text.to_numpy(), "address": addr.to_numpy(),
        "received_at": pd.to_datetime(received), "closed_at": closed.to_numpy()},
        geometry=shapely.points(xy[:, 0], xy[:, 1]), crs="EPSG:4550")


def _hot(cls: np.ndarray, cell: np.ndarray, n_cells: int, keys: list[str], W: Any) -> set:
    ok = cell >= 0
    code = pd.Index(keys).get_indexer(cls[ok])
    Y = np.zeros((n_cells, len(keys)))
    np.add.at(Y, (cell[ok], code), 1.0)
    from scipy import stats

    Z = gi_star(Y, W)
    hot = set()
    for j, key in enumerate(keys):
        sig = fdr_mask(stats.norm.sf(Z[:, j]), 0.05) & (Z[:, j] > 0)
        hot |= {(key, int(i)) for i in np.flatnonzero(sig)}
    return hot


def _zlgis(cases: gpd.GeoDataFrame, grids: gpd.GeoDataFrame) -> dict[str, Any]:
    t: dict[str, float] = {}
    t0 = time.perf_counter()
    cls = classify_cases(cases)
    t["classify_s"] = time.perf_counter() - t0
    t1 = time.perf_counter()
    routed = route_cases(cases, cls, grids=grids)
    t["grid_route_s"] = time.perf_counter() - t1
    t1 = time.perf_counter()
    timed = case_times(routed, as_of=AS_OF)
    t["times_s"] = time.perf_counter() - t1
    t1 = time.perf_counter()
    W = polygon_weights(grids.geometry.values)
    cell = pd.Index(grids["grid_id"]).get_indexer(timed["grid_id"])
    keys = sorted(set(timed["case_class"]))
    hot = _hot(timed["case_class"].to_numpy(), cell, len(grids), keys, W)
    t["hotspots_s"] = time.perf_counter() - t1
    t["total_s"] = time.perf_counter() - t0
    return {"t": t, "cls": timed["case_class"].to_numpy(), "grid": timed["grid_id"].to_numpy(),
            "overdue": timed["overdue"].to_numpy(), "hot": hot}


def _baseline(cases: gpd.GeoDataFrame, grids: gpd.GeoDataFrame) -> dict[str, Any]:
    import esda
    from libpysal.weights import fuzzy_contiguity
    from scipy import stats

    s = case_settings()
    classes = s["classes"]
    t: dict[str, float] = {}
    t0 = time.perf_counter()
    df = pd.DataFrame(cases.drop(columns="geometry"))
    cat_map = {c: k for k, v in classes.items() for c in v["categories"]}
    cat_cls = df["category"].map(cat_map)
    hits = pd.DataFrame({k: sum(df["text"].str.contains(w, regex=False).astype(int)
                                for w in v["keywords"]) for k, v in classes.items()})
    best = hits.idxmax(axis=1).where(hits.max(axis=1) > 0)
    own = pd.Series([hits.at[i, c] if isinstance(c, str) else 0
                     for i, c in zip(hits.index, cat_cls)], index=df.index)
    mism = cat_cls.notna() & (own == 0) & best.notna() & (best != cat_cls)
    df["case_class"] = np.where(mism, best, cat_cls.fillna(best).fillna("other"))
    t["classify_s"] = time.perf_counter() - t0
    t1 = time.perf_counter()
    pts = gpd.GeoDataFrame(df[["case_id"]], geometry=cases.geometry.values, crs=cases.crs)
    j = gpd.sjoin(pts, grids[["grid_id", "geometry"]], how="left", predicate="dwithin",
                  distance=0.05)
    j = j.reset_index().sort_values(["index", "index_right"]).drop_duplicates("index")
    df["grid_id"] = j.set_index("index")["grid_id"].reindex(df.index).fillna("").to_numpy()
    hours = {k: float(v["deadline_hours"]) for k, v in classes.items()}
    df["deadline"] = df["received_at"] + pd.to_timedelta(
        df["case_class"].map(hours).fillna(120.0), unit="h")
    t["grid_route_s"] = time.perf_counter() - t1
    t1 = time.perf_counter()
    closed = df["closed_at"].notna() & (df["closed_at"] <= AS_OF)
    end = df["closed_at"].where(closed, AS_OF)
    df["overdue"] = end > df["deadline"]
    t["times_s"] = time.perf_counter() - t1
    t1 = time.perf_counter()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        w = fuzzy_contiguity(grids.reset_index(drop=True), predicate="intersects")
        w.transform = "B"
        counts = df[df["grid_id"] != ""].groupby(["case_class", "grid_id"]).size()
        hot = set()
        pos = {g: i for i, g in enumerate(grids["grid_id"])}
        for key in sorted(set(df["case_class"])):
            y = np.zeros(len(grids))
            if key in counts.index.get_level_values(0):
                c = counts.loc[key]
                y[[pos[g] for g in c.index]] = c.to_numpy()
            g = esda.G_Local(y, w, transform="B", star=True, permutations=0)
            p = stats.norm.sf(g.Zs)
            thr = esda.fdr(p, 0.05)
            hot |= {(key, int(i)) for i in np.flatnonzero((p <= thr) & (g.Zs > 0))}
    t["hotspots_s"] = time.perf_counter() - t1
    t["total_s"] = time.perf_counter() - t0
    return {"t": t, "cls": df["case_class"].to_numpy(), "grid": df["grid_id"].to_numpy(),
            "overdue": df["overdue"].to_numpy(), "hot": hot}


def main(quick: bool = False) -> dict[str, Any]:
    grids, compounds = _city()
    n = 50_000 if quick else 1_000_000
    cases = _cases(n, compounds)
    z = _zlgis(cases, grids)
    b = _baseline(cases, grids)
    same = {"classes": bool((z["cls"] == b["cls"]).all()),
            "grids": bool((z["grid"] == b["grid"]).all()),
            "overdue": bool((z["overdue"] == b["overdue"]).all()),
            "hot_cells": z["hot"] == b["hot"]}
    return {"ratio": round(b["t"]["total_s"] / z["t"]["total_s"], 1), "cases": n,
            "grids": len(grids), "hot_cells": len(z["hot"]), "same_answer": same,
            "zlgis": {k: round(v, 2) for k, v in z["t"].items()},
            "baseline": {k: round(v, 2) for k, v in b["t"].items()}}


if __name__ == "__main__":
    import json

    print(json.dumps(main(quick="--quick" in sys.argv), ensure_ascii=False))
