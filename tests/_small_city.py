"""A small custom city for weekly-run tests: one road red line, a handful of buildings, two grid
cells (in EPSG:4550, inside Zhalantun)."""

from __future__ import annotations

from pathlib import Path

import geopandas as gpd
import yaml
from shapely.geometry import box

from zlgis.catalog import DEFAULT_CATALOG

X0, Y0 = 480000.0, 5316000.0
CRS = "EPSG:4550"
GRID_A, GRID_B = "150783001001001", "150783001001002"


def write_city(folder: Path, present: list[str]) -> Path:
    """Write the small city with the encroaching buildings ``present`` (B1..B5); return the
    catalog path. B0 stands well away from the road and is never a breach."""
    folder.mkdir(parents=True, exist_ok=True)
    red = gpd.GeoDataFrame({"line_id": ["R1"], "road_class": ["主干路"], "width": [20.0]},
                           geometry=[box(X0, Y0, X0 + 400, Y0 + 20)], crs=CRS)
    red.to_file(folder / "red_lines.gpkg", layer="red_lines")
    spots = {"B0": box(X0 + 10, Y0 + 150, X0 + 30, Y0 + 170)}
    for i, b in enumerate(["B1", "B2", "B3", "B4", "B5"]):
        x = X0 + 30 + 70 * i
        spots[b] = box(x, Y0 + 15, x + 12, Y0 + 30)  # 5 m into the road land
    ids = ["B0", *sorted(present)]
    bld = gpd.GeoDataFrame({"building_id": ids, "use": "住宅", "floors": 3, "height": 9.0,
                            "permit_status": "已批"}, geometry=[spots[i] for i in ids], crs=CRS)
    bld.to_file(folder / "buildings.gpkg", layer="buildings")
    grids = gpd.GeoDataFrame({"grid_id": [GRID_A, GRID_B], "subdistrict": ["兴华街道"] * 2,
                              "community": ["一社区", "二社区"], "road_chief": ["张路长", "李路长"]},
                             geometry=[box(X0 - 50, Y0 - 50, X0 + 200, Y0 + 250),
                                       box(X0 + 200, Y0 - 50, X0 + 450, Y0 + 250)], crs=CRS)
    grids.to_file(folder / "grids.gpkg", layer="grids")
    cat = yaml.safe_load(DEFAULT_CATALOG.read_text(encoding="utf-8"))
    cat["layers"] = {k: cat["layers"][k] for k in ("red_lines", "buildings", "grids")}
    cat["data_dir"] = "."
    path = folder / "catalog.yaml"
    path.write_text(yaml.safe_dump(cat, allow_unicode=True), encoding="utf-8")
    return path
