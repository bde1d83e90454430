"""Load + validate 1M building polygons from a GeoPackage vs a bare pyogrio Arrow read (issue 2).

Baseline: ``pyogrio.read_dataframe(path, use_arrow=True)`` of the same file, in the same process.
zlgis: ``read_layer(catalog, "buildings")`` (read, rename Chinese aliases, coerce types, every
geometry and attribute check, duplicate ids, outside-the-boundary check). Both must give the same
rows and geometries. Target: ratio <= 1.5.

The GeoPackage (1M simple rectangles with the demo city's Chinese field names, EPSG:4550, and a
boundary polygon around them) is generated once in ``bench/_work/``; so is a second, "mixed" one
closer to real footprints (30 % concave L-shapes, 5 % with a courtyard hole, 5 % of two parts, so
the layer is written as MultiPolygon), reported under ``mixed_*``. Both sides are timed in
alternating rounds (five); ``ratio`` is best zlgis time over best baseline time, and the paired
per-round ratios are reported too (min, median, max), since on a shared machine single rounds
move with the load.
"""

from __future__ import annotations

import time
from pathlib import Path

import numpy as np

try:
    from bench._common import WORK, best_of
except ImportError:  # run as a script from bench/
    from _common import WORK, best_of  # type: ignore[no-redef]

USES = np.array(["住宅", "商业", "办公", "公共服务", "工业", "仓储", "其他"])


def make_gpkg(n: int, folder: Path, mixed: bool = False) -> Path:
    """Write ``n`` building rectangles (``mixed``: and other shapes), a boundary and a catalog."""
    import geopandas as gpd
    import pyogrio
    import shapely
    import yaml

    from zlgis.catalog import DEFAULT_CATALOG

    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "buildings.gpkg"
    if (folder / "catalog.yaml").exists() and path.exists():
        return folder / "catalog.yaml"
    rng = np.random.default_rng(2)
    side = int(np.ceil(np.sqrt(n)))
    i = np.arange(n)
    x0 = 470_000 + (i % side) * 18.0 + rng.uniform(0, 3, n)
    y0 = 5_310_000 + (i // side) * 18.0 + rng.uniform(0, 3, n)
    w, h = rng.uniform(6, 14, n), rng.uniform(6, 14, n)
    geoms = shapely.box(x0, y0, x0 + w, y0 + h)
    if mixed:
        kind = rng.random(n)
        sel = kind < 0.30  # L-shapes: a corner cut away
        geoms[sel] = shapely.difference(geoms[sel], shapely.box(
            x0[sel] + w[sel] / 2, y0[sel] + h[sel] / 2, x0[sel] + w[sel] + 1, y0[sel] + h[sel] + 1))
        sel = (kind >= 0.30) & (kind < 0.35)  # a courtyard
        geoms[sel] = shapely.difference(geoms[sel], shapely.box(x0[sel] + 2, y0[sel] + 2,
                                                                x0[sel] + 4, y0[sel] + 4))
        sel = (kind >= 0.35) & (kind < 0.40)  # two parts
        geoms[sel] = shapely.union(shapely.box(x0[sel], y0[sel], x0[sel] + 3, y0[sel] + 3),
                                   shapely.box(x0[sel] + 4, y0[sel], x0[sel] + 6, y0[sel] + 3))
    floors = rng.integers(1, 30, n)
    gdf = gpd.GeoDataFrame({
        "建筑编号": np.char.add("B", i.astype(str)),
        "建筑用途": USES[rng.integers(0, len(USES), n)],
        "层数": floors,
        "建筑高度": floors * 3.0,
        "审批状态": np.where(rng.random(n) < 0.9, "已批", "未批"),
    }, geometry=geoms, crs="EPSG:4550")
    pyogrio.write_dataframe(gdf, path, layer="buildings", use_arrow=True)
    ext = shapely.box(*gdf.total_bounds).buffer(500)
    pyogrio.write_dataframe(gpd.GeoDataFrame({"行政区划代码": ["150783"], "名称": ["扎兰屯市"]},
                                             geometry=[ext], crs="EPSG:4550"),
                            folder / "boundary.gpkg", layer="boundary")
    raw = yaml.safe_load(DEFAULT_CATALOG.read_text(encoding="utf-8"))
    raw["data_dir"] = "."
    raw["layers"] = {k: raw["layers"][k] for k in ("boundary", "buildings")}
    (folder / "catalog.yaml").write_text(yaml.safe_dump(raw, allow_unicode=True), encoding="utf-8")
    return folder / "catalog.yaml"


def _measure(cat_path: Path, rounds: int = 5) -> dict:
    """Alternate ``rounds`` bare reads and zlgis loads of the buildings layer; compare answers."""
    import pyogrio
    import shapely

    from zlgis.catalog import Catalog
    from zlgis.validate import read_layer

    catalog = Catalog.load(cat_path)
    gpkg = catalog["buildings"].path
    read_layer(catalog, "boundary")  # warm the boundary cache, as a run over all layers would
    # alternate the two, several rounds, so that both see the same page cache and machine load
    base_t, ours_t = [], []
    for _ in range(rounds):
        t, base = best_of(lambda: pyogrio.read_dataframe(gpkg, use_arrow=True), 1)
        base_t.append(t)
        t, ours = best_of(lambda: read_layer(catalog, "buildings"), 1)
        ours_t.append(t)
    t_base, t_ours = min(base_t), min(ours_t)
    paired = sorted(o / b for o, b in zip(ours_t, base_t))
    same_rows = len(base) == len(ours.gdf) + len(ours.rejected) and ours.rejected.empty
    same_geoms = bool(np.all(shapely.equals_exact(base.geometry.array, ours.gdf.geometry.array,
                                                  tolerance=0)))
    same_ids = bool((base["建筑编号"].to_numpy() == ours.gdf["building_id"].to_numpy()).all())
    return {"ratio": round(t_ours / t_base, 3),
            "ratio_min_of_rounds": round(paired[0], 3),
            "ratio_median_of_rounds": round(paired[len(paired) // 2], 3),
            "ratio_max_of_rounds": round(paired[-1], 3),
            "zlgis_s": round(t_ours, 3),
            "pyogrio_arrow_s": round(t_base, 3),
            "zlgis_median_s": round(float(np.median(ours_t)), 3),
            "pyogrio_arrow_median_s": round(float(np.median(base_t)), 3),
            "same_answer": same_rows and same_geoms and same_ids,
            "issues": int(len(ours.issues))}


def main(quick: bool = False) -> dict:
    n = 50_000 if quick else 1_000_000
    t0 = time.perf_counter()
    cat_path = make_gpkg(n, WORK / f"load-{n}")
    mixed_path = make_gpkg(n, WORK / f"load-mixed-{n}", mixed=True)
    gen_s = time.perf_counter() - t0
    out = _measure(cat_path)
    out.update({f"mixed_{k}": v for k, v in _measure(mixed_path).items()})
    out.update({"n": n, "generate_s": round(gen_s, 1)})
    return out


if __name__ == "__main__":
    import json
    import sys

    print(json.dumps(main(quick="--quick" in sys.argv), ensure_ascii=False))
