"""Benchmark: the control-line check (issue 4) against a straightforward geopandas implementation.

zlgis: :func:`zlgis.analysis.controllines.check_control_lines` (one STRtree over the footprints,
prepared control-line polygons, overlay geometry only for the pairs that breach).
Baseline: the same rules written the obvious way with ``geopandas.overlay`` (encroachment and
zone overlaps), ``geopandas.sjoin(predicate="dwithin")`` + ``GeoSeries.distance`` (setbacks) and
``geopandas.sjoin_nearest`` (unpermitted inventory), run in the same process on the same layers.
Both must give identical findings: the same (rule, feature, line) keys and the same measures
(to 1 mm / 0.01 m2).

Data: the 1M-building demo city (``bench/_common.big_demo_city``) when the generator can build
it; otherwise (``make_demo_city`` not implemented yet) a synthetic 1M-building city built here
(street grid with red lines, a meandering river blue line, parks with holes, historic blocks,
utility yards), which the returned figures say.
"""

from __future__ import annotations

import gc
import sys
import time
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from zlgis.analysis import controllines as cl  # noqa: E402

CRS = "EPSG:4550"
LINE_LAYERS = ("red_lines", "green_lines", "blue_lines", "purple_lines", "yellow_lines")


# --------------------------------------------------------------------------------------------
# data
# --------------------------------------------------------------------------------------------
def synthetic_city(n_buildings: int, seed: int = 2022) -> dict[str, gpd.GeoDataFrame]:
    """A synthetic city of about ``n_buildings`` footprints on a street grid (EPSG:4550)."""
    rng = np.random.default_rng(seed)
    spacing, per_block = 150.0, 36           # 6 x 6 footprints per block
    nb = int(np.ceil(np.sqrt(n_buildings / per_block)))
    x0, y0 = 480_000.0, 5_300_000.0
    classes = np.array(["主干路", "次干路", "支路", "支路"])
    widths = {"主干路": 40.0, "次干路": 30.0, "支路": 16.0}
    red_geoms, red_cls, red_w = [], [], []
    for i in range(nb + 1):
        c = classes[i % 4]
        w = widths[c]
        x = x0 + i * spacing
        red_geoms.append(shapely.box(x - w / 2, y0 - 20, x + w / 2, y0 + nb * spacing + 20))
        red_cls.append(c)
        red_w.append(w)
        y = y0 + i * spacing
        c2 = classes[(i + 1) % 4]
        w2 = widths[c2]
        red_geoms.append(shapely.box(x0 - 20, y - w2 / 2, x0 + nb * spacing + 20, y + w2 / 2))
        red_cls.append(c2)
        red_w.append(w2)
    # a few curved roads (buffered sine curves)
    for k in range(max(1, nb // 20)):
        t = np.linspace(0, nb * spacing, 400)
        line = shapely.linestrings(x0 + t, y0 + spacing * (20 * k + 10.5) + 25 * np.sin(t / 90))
        red_geoms.append(shapely.buffer(line, 6.0, quad_segs=8))
        red_cls.append("巷道")
        red_w.append(12.0)
    red = gpd.GeoDataFrame({"line_id": [f"R{i:05d}" for i in range(len(red_geoms))],
                            "road_class": red_cls, "width": red_w,
                            "road_name": [f"道路{i}" for i in range(len(red_geoms))]},
                           geometry=red_geoms, crs=CRS)

    # footprints: 6 x 6 per block, jittered; some press on the red lines
    bi, bj = np.meshgrid(np.arange(nb), np.arange(nb), indexing="ij")
    bi, bj = bi.ravel(), bj.ravel()
    gi, gj = np.meshgrid(np.arange(6), np.arange(6), indexing="ij")
    gi, gj = gi.ravel(), gj.ravel()
    bx = (x0 + bi[:, None] * spacing + 32 + gi[None, :] * 15.0).ravel()
    by = (y0 + bj[:, None] * spacing + 32 + gj[None, :] * 15.0).ravel()
    n = len(bx)
    w = rng.uniform(7, 12, n)
    h = rng.uniform(7, 12, n)
    # most footprints keep their setback; about 2 % press towards (or over) the red line
    press = rng.random(n) < 0.02
    dx = np.where(press, rng.uniform(-16, 0, n), rng.uniform(0, 2, n))
    dy = np.where(press, rng.uniform(-16, 0, n), rng.uniform(0, 2, n))
    geoms = shapely.box(bx + dx, by + dy, bx + dx + w, by + dy + h)
    floors = rng.choice([1, 2, 3, 5, 6, 8, 12, 18, 25, 33], n,
                        p=[.2, .2, .2, .15, .1, .05, .04, .03, .02, .01])
    perm = rng.choice(["已批", "未批", "临时"], n, p=[.96, .02, .02])
    line_permit = np.full(n, None, dtype=object)
    bld = gpd.GeoDataFrame({"building_id": [f"B{i:07d}" for i in range(n)], "floors": floors,
                            "height": floors * 3.0 + 1.0, "permit_status": perm,
                            "line_permit": line_permit}, geometry=geoms, crs=CRS)

    # zones
    t = np.linspace(-50, nb * spacing + 50, 3000)
    river = shapely.buffer(shapely.linestrings(x0 + nb * spacing * 0.4 + 200 * np.sin(t / 700)
                                               + 60 * np.sin(t / 170), y0 + t), 70.0, quad_segs=8)
    blue = gpd.GeoDataFrame({"line_id": ["L001"], "name": ["雅鲁河"], "category": ["河流"]},
                            geometry=[river], crs=CRS)
    pick = rng.choice(len(bi), size=max(4, len(bi) // 60), replace=False)
    parks = []
    for k in pick:
        xa, ya = x0 + bi[k] * spacing + 10, y0 + bj[k] * spacing + 10
        outer = [(xa, ya), (xa + 100, ya), (xa + 100, ya + 100), (xa, ya + 100)]
        hole = [(xa + 40, ya + 40), (xa + 60, ya + 40), (xa + 60, ya + 60), (xa + 40, ya + 60)]
        parks.append(shapely.Polygon(outer, [hole]))
    green = gpd.GeoDataFrame({"line_id": [f"G{i:05d}" for i in range(len(parks))]},
                             geometry=parks, crs=CRS)
    pick2 = rng.choice(len(bi), size=max(2, len(bi) // 200), replace=False)
    purple = gpd.GeoDataFrame(
        {"line_id": [f"P{i:05d}" for i in range(len(pick2))]},
        geometry=shapely.box(x0 + bi[pick2] * spacing + 25, y0 + bj[pick2] * spacing + 25,
                             x0 + bi[pick2] * spacing + 75, y0 + bj[pick2] * spacing + 75), crs=CRS)
    pick3 = rng.choice(len(bi), size=max(2, len(bi) // 150), replace=False)
    yellow = gpd.GeoDataFrame(
        {"line_id": [f"Y{i:05d}" for i in range(len(pick3))]},
        geometry=shapely.box(x0 + bi[pick3] * spacing + 50, y0 + bj[pick3] * spacing + 50,
                             x0 + bi[pick3] * spacing + 95, y0 + bj[pick3] * spacing + 95), crs=CRS)
    # rivers and parks are (almost) free of buildings: keep 2 % of those inside as planted cases
    tree = shapely.STRtree(geoms)
    drop = np.unique(tree.query(np.concatenate([blue.geometry.values, green.geometry.values]),
                                predicate="intersects")[1])
    drop = drop[rng.random(len(drop)) > 0.02]
    bld = bld.drop(index=drop).reset_index(drop=True)
    geoms = bld.geometry.values
    # approved facilities inside yellow lines are exempt
    inside_y = shapely.STRtree(geoms).query(yellow.geometry.values, predicate="contains")[1]
    bld.loc[inside_y[::2], "line_permit"] = "黄线内批准设施"
    ns = max(10, n // 1000)
    k = rng.choice(len(bi), size=ns, replace=True)
    sx, sy = x0 + bi[k] * spacing + rng.uniform(10, 60, ns), y0 + bj[k] * spacing + rng.uniform(10, 60, ns)
    sites = gpd.GeoDataFrame({"site_id": [f"S{i:05d}" for i in range(ns)],
                              "permit_status": rng.choice(["已批", "未批"], ns, p=[.8, .2]),
                              "line_permit": None},
                             geometry=shapely.box(sx, sy, sx + 40, sy + 30), crs=CRS)
    return {"buildings": bld, "construction_sites": sites, "red_lines": red, "green_lines": green,
            "blue_lines": blue, "purple_lines": purple, "yellow_lines": yellow}


def load_city(n_buildings: int) -> tuple[dict[str, gpd.GeoDataFrame], str, float, float]:
    """The layers, where they came from, generation time and loading time (s)."""
    t0 = time.perf_counter()
    try:
        from _common import big_demo_city

        from zlgis.catalog import Catalog
        from zlgis.validate import load_layers

        folder = big_demo_city(n_buildings)
        t_gen = time.perf_counter() - t0
        t0 = time.perf_counter()
        cat = Catalog.load(folder / "catalog.yaml")
        layers = load_layers(cat, ["buildings", "construction_sites", *LINE_LAYERS])
        source = f"demo city ({n_buildings:,} buildings, zlgis.demo.make_demo_city)"
    except NotImplementedError:
        t_gen = 0.0
        t0 = time.perf_counter()
        layers = synthetic_city(n_buildings)
        source = (f"synthetic city built in bench_controllines.py ({len(layers['buildings']):,} "
                  "buildings): make_demo_city was not implemented when this ran")
    return layers, source, t_gen, time.perf_counter() - t0


# --------------------------------------------------------------------------------------------
# baseline: the same rules, the obvious geopandas way
# --------------------------------------------------------------------------------------------
def baseline(layers: dict[str, gpd.GeoDataFrame], cfg: dict[str, Any]) -> pd.DataFrame:
    """(rule, feature_id, related_id, measure) rows computed with overlay / sjoin."""
    tol_d = cfg["tolerance"]["distance_m"]
    tol_a = cfg["tolerance"]["area_m2"]
    bld = layers["buildings"][["building_id", "height", "floors", "line_permit", "permit_status",
                               "geometry"]].copy()
    red = layers["red_lines"][["line_id", "road_class", "geometry"]]
    rows = []
    # encroachment
    ov = gpd.overlay(bld[["building_id", "geometry"]], red, how="intersection",
                     keep_geom_type=True)
    ov = ov[ov.area > tol_a].reset_index(drop=True)
    # depth: the outline of each overlap sampled every 0.5 m, distance to the red-line boundary
    bnd = red.set_index("line_id").boundary
    outline = ov.geometry.segmentize(cfg["tolerance"].get("depth_sample_m", 0.5))
    pts = outline.get_coordinates(index_parts=False)
    d = gpd.GeoSeries(gpd.points_from_xy(pts["x"], pts["y"]), crs=CRS).distance(
        bnd.loc[ov["line_id"].to_numpy()[pts.index.to_numpy()]].reset_index(drop=True),
        align=False)
    depth = pd.Series(d.to_numpy(), index=pts.index).groupby(level=0).max().reindex(
        ov.index).to_numpy()
    rows.append(pd.DataFrame({"rule": "red_line_encroachment", "feature_id": ov["building_id"],
                              "related_id": ov["line_id"], "measure": depth}))
    enc_keys = set(zip(ov["building_id"], ov["line_id"]))
    # setback
    h = cl.building_heights(bld, cfg)
    bld["_h"] = h
    maxreq = max(max(v.values()) for v in cfg["setbacks"]["table_m"].values()) * 1.8
    sj = gpd.sjoin(bld[["building_id", "_h", "geometry"]], red, predicate="dwithin",
                   distance=maxreq)
    req = cl.required_setbacks(sj["road_class"].to_numpy(), sj["_h"].to_numpy(), cfg)
    dist = sj.geometry.distance(red.geometry.iloc[sj["index_right"].to_numpy()], align=False)
    keep = (dist.to_numpy() < req - tol_d)
    keep &= [(b, ln) not in enc_keys for b, ln in zip(sj["building_id"], sj["line_id"])]
    rows.append(pd.DataFrame({"rule": "red_line_setback", "feature_id": sj["building_id"][keep],
                              "related_id": sj["line_id"][keep],
                              "measure": (req - dist.to_numpy())[keep]}))
    # zones
    for rule, lname in cl.LINE_RULES.items():
        exempt = cfg["zones"]["lines"][rule]["exempt"][0]["values"]
        for layer, idf in (("buildings", "building_id"), ("construction_sites", "site_id")):
            feats = layers[layer]
            feats = feats[~feats["line_permit"].isin(exempt)][[idf, "geometry"]]
            feats = feats.assign(_fa=feats.area)
            ov = gpd.overlay(feats, layers[lname][["line_id", "geometry"]], how="intersection",
                             keep_geom_type=True)
            ov = ov[ov.area > tol_a]
            rows.append(pd.DataFrame({"rule": rule, "feature_id": ov[idf],
                                      "related_id": ov["line_id"],
                                      "measure": np.minimum(ov.area / ov["_fa"], 1.0)}))
    # unpermitted, nearest control line
    lines = pd.concat([layers[k][["line_id", "geometry"]] for k in LINE_LAYERS], ignore_index=True)
    lines = gpd.GeoDataFrame(lines, geometry="geometry", crs=CRS)
    for layer, idf in (("buildings", "building_id"), ("construction_sites", "site_id")):
        feats = layers[layer]
        feats = feats[feats["permit_status"] == "未批"][[idf, "geometry"]]
        nn = gpd.sjoin_nearest(feats, lines, distance_col="_d").drop_duplicates(idf)
        rows.append(pd.DataFrame({"rule": "unpermitted_construction", "feature_id": nn[idf],
                                  "related_id": "", "measure": nn["_d"]}))
    return pd.concat(rows, ignore_index=True)


def _keys(df: pd.DataFrame) -> pd.DataFrame:
    out = df[["rule", "feature_id", "related_id", "measure"]].copy()
    out["related_id"] = out["related_id"].fillna("").astype(str)
    out["measure"] = out["measure"].astype(float).round(3)
    return out.sort_values(["rule", "feature_id", "related_id"]).reset_index(drop=True)


def _compare(layers: dict[str, gpd.GeoDataFrame], cfg: dict[str, Any]) -> dict[str, Any]:
    """Time zlgis and the baseline on the same layers; fail unless the findings are identical."""
    gc.collect()
    t0, c0 = time.perf_counter(), time.process_time()
    found = cl.check_control_lines(layers, cfg)
    t_zlgis, c_zlgis = time.perf_counter() - t0, time.process_time() - c0
    gc.collect()
    t0, c0 = time.perf_counter(), time.process_time()
    base = baseline(layers, cfg)
    t_base, c_base = time.perf_counter() - t0, time.process_time() - c0
    a = _keys(pd.DataFrame({"rule": found["rule"], "feature_id": found["feature_id"],
                            "related_id": np.where(found["rule"] == "unpermitted_construction",
                                                   "", found["related_ids"]),
                            "measure": found["measure"]}))
    b = _keys(base)
    same_keys = a[["rule", "feature_id", "related_id"]].equals(b[["rule", "feature_id", "related_id"]])
    same = bool(same_keys and np.allclose(a["measure"], b["measure"], atol=2e-3, equal_nan=True))
    if not same:
        raise AssertionError(f"zlgis and baseline disagree: {len(a)} vs {len(b)} findings")
    # wall-clock ratio first; CPU times too, because the 2-core machine is shared and busy
    return {"ratio": round(t_base / t_zlgis, 2), "zlgis_s": round(t_zlgis, 2),
            "baseline_s": round(t_base, 2), "cpu_ratio": round(c_base / c_zlgis, 2),
            "zlgis_cpu_s": round(c_zlgis, 2), "baseline_cpu_s": round(c_base, 2),
            "buildings": int(len(layers["buildings"])),
            "findings": int(len(found)), "by_rule": found["rule"].value_counts().to_dict(),
            "identical": same}


def main(quick: bool = False) -> dict[str, Any]:
    """The demo city (ratio first), then a synthetic stress city with many breaches."""
    n = 40_000 if quick else 1_000_000
    cfg = cl.load_rules()
    layers, source, t_gen, t_load = load_city(n)
    result = _compare(layers, cfg)
    result.update({"generate_s": round(t_gen, 1), "load_s": round(t_load, 1), "data": source})
    del layers
    gc.collect()
    # stress: the same comparison on a synthetic city where about 5 % of buildings breach
    stress = synthetic_city(n)
    result["stress"] = {**_compare(stress, cfg),
                        "data": "synthetic street-grid city with curved roads (bench_controllines.py)"}
    return result


if __name__ == "__main__":
    import json

    print(json.dumps(main(quick="--quick" in sys.argv), ensure_ascii=False, indent=1))
