"""``zlgis waterlogging``: DEM depressions, roads at risk, rain scenario and the recorded points.

Writes into ``--out`` (every file atomically):

* ``ponding_depth.tif`` - water depth (m) when every depression is full, Cloud-Optimized GeoTIFF;
* ``scenario_depth.tif`` - water depth (m) of the rain scenario (``--rain-mm``, ``--runoff``);
* ``depressions.gpkg`` - layers ``depressions`` (ranked, with the scenario), ``roads_at_risk``
  and ``scenario_roads_at_risk``;
* ``waterlogging_findings.gpkg`` / ``.csv`` (Chinese headers, UTF-8 with BOM for Excel);
* ``waterlogging_points.csv`` - each recorded point's status and match;
* ``waterlogging_summary.json`` - counts, hit rate, density per km2 of built-up area;
* ``waterlogging_map.html`` - internal web map: ponding depth as an image overlay, depression
  polygons, findings and recorded points (``--no-map`` skips it; ``--assets local`` makes it
  work offline).

Rules whose layers the catalog lacks are listed "未检查：…（缺少图层 …）" (without a DEM none can
run: nothing is written). Exit codes: 0 no findings (or nothing could run), 1 findings,
2 unreadable input.
"""

from __future__ import annotations

import argparse
import json
from typing import Any

from . import add_common_options, iso_date, print_notes, start_check

__all__ = ["register", "run"]


def _positive(text: str) -> float:
    try:
        v = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"“{text}”不是数字") from None
    if v < 0:
        raise argparse.ArgumentTypeError(f"“{text}”不能为负数")
    return v


def _coef(text: str) -> float:
    v = _positive(text)
    if v > 1:
        raise argparse.ArgumentTypeError(f"径流系数“{text}”应在 0 到 1 之间")
    return v



def register(subparsers: Any, check_subparsers: Any) -> None:
    """Add ``zlgis waterlogging``."""
    p = subparsers.add_parser(
        "waterlogging", help="城区易涝点：地形洼地、道路积水风险、降雨情景、积水点核对",
        description="用数字高程模型（DEM）找出地形洼地，预测道路车道积水超过 15 厘米的路段"
                    "（GB 51222 / GB 50014 一条车道积水深度规定），按降雨量判断洼地是否蓄满外溢，"
                    "并与已记录的易涝积水点核对（命中率、无法由地形解释的积水点、建议排查的洼地）。")
    add_common_options(p, json=True, out="输出文件夹")
    p.add_argument("--rain-mm", metavar="N", type=_positive, default=None,
                   help="降雨情景的雨量（毫米，默认取 waterlogging.yaml）")
    p.add_argument("--runoff", metavar="C", type=_coef, default=None,
                   help="综合径流系数 0-1（默认取 waterlogging.yaml）")
    p.add_argument("--as-of", metavar="YYYY-MM-DD", type=iso_date, default=None,
                   help="只计入此日期之前记录的积水点")
    p.add_argument("--no-map", action="store_true", help="不生成网页地图")
    p.add_argument("--assets", choices=("auto", "cdn", "local"), default="auto",
                   help="地图脚本来源：auto（默认：已安装离线资源时用 local）、cdn 或 local")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    """Run the analysis and write its outputs; return the exit code."""
    import numpy as np

    from ..analysis.waterlogging import analyse_waterlogging, load_catalog_dem
    from ..publish.tiles import tile_config
    from ..publish.waterlogging import summary_record, write_waterlogging_outputs
    from ..validate import city_boundary, load_layers

    progress, catalog, out, skipped = start_check(args, "城区易涝点分析", ["waterlogging"])
    progress.step("读取数字高程模型")
    dem = load_catalog_dem(catalog)
    progress.step("读取道路、积水点、建筑和网格图层")
    ids = [i for i in ("roads", "waterlogging_points", "buildings", "grids") if i in catalog.layers]
    layers = load_layers(catalog, ids)
    progress.step("填洼并分析洼地、道路积水和降雨情景")
    res = analyse_waterlogging(dem, roads=layers.get("roads"),
                               points=layers.get("waterlogging_points"),
                               buildings=layers.get("buildings"), grids=layers.get("grids"),
                               rain_mm=args.rain_mm, runoff_coefficient=args.runoff,
                               as_of=args.as_of, boundary=city_boundary(catalog))
    progress.step(f"写出结果到 {out}")
    files = write_waterlogging_outputs(res, dem, out, catalog=catalog,
                                       points=layers.get("waterlogging_points"),
                                       make_map=not getattr(args, "no_map", False),
                                       assets=getattr(args, "assets", "auto"))
    findings = res.findings
    summary = summary_record(res)
    s = res.summary
    if getattr(args, "json", False):
        print(json.dumps({"findings": len(findings), "out": str(out), "skipped": skipped,
                          **summary},
                         ensure_ascii=False))
    else:
        print(f"城区易涝点分析：洼地 {s['depressions']} 处（总蓄水 {s['storage_m3']:.0f} 立方米），"
              f"道路积水风险路段 {s['road_segments']} 段（{s['roads_at_risk']} 条道路）")
        print(f"  降雨 {s['rain_mm']:g} 毫米、径流系数 {s['runoff_coefficient']:g}："
              f"{s['spilling']} 处洼地蓄满外溢，{s['scenario_road_segments']} 段道路积水超过标准")
        hit = "—" if not s["points"] else f"{s['hit_rate'] * 100:.0f}%"
        print(f"  积水点 {s['points']} 个（已消除 {s['points_eliminated']} 个），地形命中率 {hit}，"
              f"无法由地形解释 {s['unexplained']} 个，建议排查洼地 {s['survey_candidates']} 处")
        if np.isfinite(s["density_per_km2"]):
            print(f"  积水点密度：{s['density_per_km2']:.2f} 个/平方公里建成区"
                  f"（建成区 {s['built_up_km2']:.2f} 平方公里）")
        if s["voids_filled"]:
            print(f"  注意：DEM 中 {s['voids_filled']} 个空洞像元已插补")
        if "tiles:depressions" in files:
            print(f"  洼地 {len(res.depressions):,} 处超过 {tile_config()['min_features']:,} 处，"
                  f"未嵌入地图页面，以矢量瓦片显示：{files['tiles:depressions'].relative_to(out)}"
                  "（需通过网页服务查看地图，如 zlgis serve 输出文件夹）")
        print_notes(skipped)
        print(f"结果已写入 {out}")
    return 1 if len(findings) else 0
