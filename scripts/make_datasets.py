#!/usr/bin/env python
"""Build the small datasets shipped inside the package (``zlgis/datasets/``).

``district``: one district of the demo city (seed 2022, the smallest city the generator makes),
cut to a 3.2 km x 3.3 km rectangle across the 雅鲁河 that holds planted cases of every check: buildings,
roads, control lines, facilities, grids, a few truck pings and a 10 m DEM. The script generates
the demo city into a temporary folder, loads it through the catalog (canonical English fields,
working CRS EPSG:4550) and writes

- ``zlgis/datasets/district.gpkg``: every vector layer, one GeoPackage layer per catalog layer;
- ``zlgis/datasets/district_dem.tif``: the DEM window (float32, deflate);
- ``zlgis/datasets/district.yaml``: a catalog of both (data_dir ``.``), so the dataset reads
  through the same code as a bureau's data.

Everything is synthetic. Run it again after changing the demo generator or the catalog::

    PYTHONPATH=. .venv/bin/python scripts/make_datasets.py
"""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path

import numpy as np
import rasterio
import shapely
import yaml
from rasterio.windows import from_bounds

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from zlgis.catalog import Catalog  # noqa: E402
from zlgis.demo import DEFAULT_SEED, make_demo_city  # noqa: E402
from zlgis.io.atomic import atomic_path, write_text_atomic  # noqa: E402
from zlgis.validate import load_layers  # noqa: E402

OUT = ROOT / "zlgis" / "datasets"
#: The district: EPSG:4550 bounds of a 3.2 km x 3.3 km rectangle on both banks of the river.
DISTRICT = (479_500.0, 5_314_600.0, 482_700.0, 5_317_900.0)
#: The layers shipped (a check whose examples need another layer adds it here and reruns).
LAYERS = ("boundary", "grids", "roads", "red_lines", "green_lines", "blue_lines", "buildings",
          "residential_compounds", "construction_sites", "parks", "toilets", "garbage_points",
          "waterlogging_points", "truck_pings", "truck_no_parking_zones", "truck_restricted_roads")
#: At most this many truck pings (every ping of the first plates that drive through).
MAX_PINGS = 2_000


def _cut(gdf, box):
    gdf = gdf[gdf.intersects(box)]
    return gdf.reset_index(drop=True)


def _pings(gdf, box):
    gdf = gdf[gdf.intersects(box)].sort_values(["plate", "time"], kind="stable")
    keep, n = [], 0
    for plate, group in gdf.groupby("plate", sort=True):
        if n + len(group) > MAX_PINGS:
            continue
        keep.append(plate)
        n += len(group)
    return gdf[gdf["plate"].isin(keep)].reset_index(drop=True)


def main(out: Path = OUT) -> None:
    """Write the ``district`` dataset into ``out`` (default: the package's ``datasets`` folder)."""
    box = shapely.box(*DISTRICT)
    with tempfile.TemporaryDirectory() as tmp:
        cat = Catalog.load(make_demo_city(tmp, seed=DEFAULT_SEED, n_buildings=1000))
        ids = [lid for lid in LAYERS if lid in cat.layers]
        layers = load_layers(cat, ids)
        raw = cat.with_data_dir(".")
        out_layers = {}
        with atomic_path(out / "district.gpkg") as gpkg:
            for lid in ids:
                gdf = layers[lid]
                if lid == "boundary":
                    gdf = gdf.iloc[:1].copy()
                    gdf["name"] = "扎兰屯市演示城区（合成）"
                    gdf = gdf.set_geometry([box], crs=gdf.crs)
                elif lid == "truck_pings":
                    gdf = _pings(gdf, box)
                else:
                    gdf = _cut(gdf, box)
                if gdf.empty:
                    continue
                for col in gdf.columns:
                    if str(gdf[col].dtype).startswith("datetime64") and gdf[col].dt.tz is not None:
                        gdf[col] = gdf[col].dt.tz_convert("Asia/Shanghai").dt.tz_localize(None)
                gdf.to_file(gpkg, layer=lid, driver="GPKG", SPATIAL_INDEX="NO")
                spec = dict(raw["layers"][lid])
                spec["source"] = {"path": "district.gpkg", "layer": lid}
                spec["crs"] = cat.working_crs
                out_layers[lid] = spec
        with rasterio.open(cat["dem"].path) as src:
            win = from_bounds(*DISTRICT, transform=src.transform).round_offsets().round_lengths()
            dem = src.read(1, window=win)
            profile = src.profile | {"width": dem.shape[1], "height": dem.shape[0],
                                     "transform": src.window_transform(win), "tiled": False,
                                     "compress": "deflate", "predictor": 3, "zlevel": 9}
            for k in ("blockxsize", "blockysize"):
                profile.pop(k, None)
        with atomic_path(out / "district_dem.tif") as tif, rasterio.open(tif, "w", **profile) as dst:
            dst.write(dem.astype(np.float32), 1)
        spec = dict(raw["layers"]["dem"])
        spec["source"] = {"path": "district_dem.tif"}
        out_layers = {"dem": spec, **out_layers}
    raw["name"] = "扎兰屯演示城市的一个城区（合成示例数据，zlgis.datasets）"
    raw["layers"] = out_layers
    text = ("# zlgis.datasets district: one district of the synthetic demo city (not real data).\n"
            f"# Made by scripts/make_datasets.py from seed {DEFAULT_SEED}; do not edit by hand.\n"
            + yaml.safe_dump(raw, allow_unicode=True, sort_keys=False))
    write_text_atomic(out / "district.yaml", text)
    for p in sorted(out.glob("district*")):
        print(f"{p}  {p.stat().st_size / 1024:.0f} KiB")


if __name__ == "__main__":
    main()
