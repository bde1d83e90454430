"""``zlgis init``: a ready catalog and layers for a place, from an OpenStreetMap extract.

``zlgis init FILE.osm.pbf --out DIR [--boundary F] [--dem TILE ...] [--crs EPSG:n] [--name N]``
writes ``DIR/catalog.yaml`` and ``DIR/osm_layers.gpkg`` (:mod:`zlgis.io.osm_init`) and says what
was found, what is missing and which checks the missing layers disable.

Exit codes: 0 written, 2 unreadable input or an unusable working CRS.
"""

from __future__ import annotations

import argparse
from typing import Any

from . import add_common_options, output_dir

__all__ = ["register", "run"]


def register(subparsers: Any, check_subparsers: Any) -> None:
    """Add ``zlgis init``."""
    p = subparsers.add_parser(
        "init", help="由 OpenStreetMap 数据生成图层目录和图层（新城市起步）",
        description="读取 OpenStreetMap 文件（.osm.pbf），生成该地的图层目录 catalog.yaml 和图层文件 "
                    "osm_layers.gpkg：道路（等级、宽度）、建筑（用途、层数、高度）、公厕、垃圾桶与收集点、"
                    "路灯、树木、公交站、公园、绿地、水体（蓝线）等，并说明缺少哪些图层。")
    add_common_options(p, catalog=False, out="输出文件夹")
    p.add_argument("pbf", metavar="FILE", help="OpenStreetMap 文件（.osm.pbf 或 .osm）")
    p.add_argument("--boundary", metavar="FILE", help="城市边界文件（默认取 OSM 数据范围）")
    p.add_argument("--dem", metavar="TILE", nargs="+", default=[],
                   help="高程模型瓦片（GeoTIFF、SRTM .hgt/.hgt.zip，可多个，读取时拼接）")
    p.add_argument("--crs", metavar="EPSG", help="工作坐标系（默认按城市中心取高斯-克吕格或 UTM 分带）")
    p.add_argument("--name", metavar="NAME", help="城市名称（用于标题；默认取 OSM 中的地名）")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from .._progress import Progress
    from ..catalog import Catalog
    from ..io.osm_init import init_from_osm
    from ..skips import disabled_checks

    out = output_dir(args.out)
    progress = Progress(quiet=bool(getattr(args, "quiet", False)))
    res = init_from_osm(args.pbf, out, boundary=args.boundary, dem=args.dem, crs=args.crs,
                        city=args.name, progress=progress)
    catalog = Catalog.load(res.catalog_path)
    print(f"已生成 {res.city} 的图层目录 {res.catalog_path}（工作坐标系 {res.working_crs}）")
    print("找到：" + "，".join(f"{catalog.layers[k].title} {n}"
                              for k, n in sorted(res.counts.items(), key=lambda kv: -kv[1])))
    if "dem" not in catalog.layers:
        res.missing.append("dem")
    for line in disabled_checks(catalog, res.missing):
        print(line)
    print(f"下一步：zlgis validate --catalog {res.catalog_path}；"
          f"zlgis weekly --catalog {res.catalog_path} --out 输出文件夹")
    return 0
