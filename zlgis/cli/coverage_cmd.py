"""``zlgis coverage toilets|transfer|parks``: who is not served, and where to build next.

Writes into ``--out`` (each file atomically):

* ``coverage.xlsx``: sheets 指标 (indicators per district), 网格 (per grid cell) and a sheet per
  extra table (公厕密度, 转运站间距, 公园预设, 新增选址 / 转运站候选), Chinese headers;
* ``distances.gpkg``: layer ``demand`` (every residential building with its distances and
  serving facility) and ``land`` (residential-land sample points);
* ``areas.gpkg``: layers ``service_areas`` and ``uncovered_areas`` (and ``sites``);
* ``findings.gpkg`` and ``findings.csv`` (UTF-8 with BOM, Chinese headers, WKT geometry);
* ``map.html``: internal map of served and unserved areas (and proposed sites); with
  ``--public-map`` also ``map_public.html`` (catalog public fields only, no findings, no
  buildings);
* ``summary.json``.

Exit codes: 0 no findings (or a layer the topic needs is missing: "未检查：…（缺少图层 …）" and
nothing written), 1 findings, 2 unreadable input or configuration.
"""

from __future__ import annotations

import argparse
import json
from typing import Any

from .._progress import Progress
from ..errors import InputError
from . import add_common_options, load_checked, print_notes, print_rule_counts, start_check

__all__ = ["register", "run", "LAYERS"]

#: Catalog layers read (those absent from the catalog are skipped).
LAYERS = ("roads", "buildings", "residential_compounds", "grids", "red_lines", "blue_lines",
          "yellow_lines", "toilets", "transfer_stations", "parks")
_REQUIRED = {"toilets": ("toilets", "buildings"), "transfer": ("transfer_stations", "buildings"),
             "parks": ("parks", "residential_compounds")}
#: The registry's rules of each topic (all skipped when a required layer is missing).
_RULES = {"toilets": ("toilet_uncovered",),
          "transfer": ("transfer_uncovered", "transfer_station_distance"),
          "parks": ("park_uncovered",)}


def register(subparsers: Any, check_subparsers: Any) -> None:
    """Add ``zlgis coverage``."""
    p = subparsers.add_parser(
        "coverage", help="设施覆盖：公厕、垃圾转运站、公园的服务半径覆盖与新址建议",
        description="按直线半径或步行路网距离计算公共厕所（300米，GB 55013-2021）、垃圾转运站"
                    "（按收集方式，CJJ/T 47-2016）和公园绿地（GB/T 51346-2019、2021年城市体检）"
                    "的服务覆盖率，输出服务范围、服务盲区和问题清单，并可给出新增设施选址建议。")
    p.add_argument("topic", choices=["toilets", "transfer", "parks"],
                   help="toilets 公厕，transfer 垃圾转运站，parks 公园")
    add_common_options(p, json=True)
    p.add_argument("--method", choices=["radius", "network"], default="network",
                   help="radius 直线半径，network 路网距离（默认；公厕、公园按步行路网，转运站按车行路网）")
    p.add_argument("--out", metavar="DIR", required=True, help="输出文件夹")
    p.add_argument("--preset", choices=["gbt51346", "mohurd2021"], default=None,
                   help="公园覆盖预设（默认见 coverage.yaml）")
    p.add_argument("--site", action="store_true",
                   help="给出新增设施选址建议（公厕：最少新址达到目标覆盖率；转运站：河西新区候选点排名）")
    p.add_argument("--target", type=float, default=None, metavar="SHARE",
                   help="公厕选址的目标覆盖率（0-1，默认见 coverage.yaml）")
    p.add_argument("--k", type=int, default=None, metavar="N",
                   help="公厕选址：新增 N 座时覆盖最多（不指定则按目标覆盖率求最少新址）")
    p.add_argument("--no-map", action="store_true", help="不生成 map.html")
    p.add_argument("--public-map", action="store_true",
                   help="另生成面向公众的 map_public.html（仅公开字段，无问题清单和建筑）")
    p.set_defaults(func=run)


def _load(catalog: Any, topic: str, progress: Progress) -> tuple[dict[str, Any], list[str]]:
    layers, notes = load_checked(catalog, [lid for lid in LAYERS if lid in catalog.layers],
                                 progress)
    main = _REQUIRED[topic][0]
    if not len(layers.get(main, [])):
        spec = catalog[main]
        raise InputError(f"图层 {main}（{spec.title}）没有可用的记录，无法计算覆盖"
                         + (f"；{notes[-1]}" if notes else ""), layer=main,
                         path=str(spec.path) if spec.path else None)
    return layers, notes


def run(args: argparse.Namespace) -> int:
    """Run one coverage analysis and write its outputs; return the exit code."""

    from ..analysis import coverage as cov
    from ..analysis import siting
    from ..publish.coverage import METHOD_TITLES, TOPIC_TITLES, write_coverage_outputs

    if args.target is not None and not 0 < args.target <= 1:
        raise InputError(f"目标覆盖率 {args.target} 无效，应在 0 到 1 之间")
    if args.k is not None and args.k < 1:
        raise InputError(f"新增数量 {args.k} 无效，应为正整数")
    required = _REQUIRED[args.topic] + (("roads",) if args.method == "network" else ())
    progress, catalog, out, _ = start_check(args, f"{TOPIC_TITLES[args.topic]}覆盖分析",
                                            rule_ids=_RULES[args.topic], required=required)
    progress.step("读取图层")
    layers, notes = _load(catalog, args.topic, progress)
    progress.step(f"计算{TOPIC_TITLES[args.topic]}覆盖（{METHOD_TITLES[args.method]}）")
    sites = transfer_sites = None
    if args.topic == "toilets":
        result = cov.toilet_coverage(layers, method=args.method)
        if args.site:
            progress.step("求解新增公厕选址")
            sites = siting.site_toilets(layers, target=args.target, k=args.k,
                                        method=args.method, graph=result.graph)
    elif args.topic == "transfer":
        result = cov.transfer_coverage(layers, method=args.method)
        if args.site:
            progress.step("河西新区转运站候选点排名")
            transfer_sites = siting.rank_transfer_sites(layers, method=args.method,
                                                        graph=result.graph)
    else:
        result = cov.park_coverage(layers, method=args.method, preset=args.preset)
    progress.step(f"写出结果到 {out}")
    files = write_coverage_outputs(result, out, sites=sites, transfer_sites=transfer_sites,
                          catalog=catalog, layers=layers, make_map=not args.no_map,
                          public_map=args.public_map)
    if getattr(args, "json", False):
        s = result.summary()
        s["files"] = files
        s["notes"] = notes
        if sites is not None:
            s["siting"] = sites.summary()
        print(json.dumps(s, ensure_ascii=False))
    else:
        _print_summary(result, sites, transfer_sites)
        print(f"结果已写入 {out}")
        print_notes(notes)
    return 1 if len(result.findings) else 0


def _print_summary(result: Any, sites: Any, transfer_sites: Any) -> None:
    from ..analysis.coverage_inputs import ALL
    from ..config import load_config
    from ..publish.coverage import MEASURE_TITLES, METHOD_TITLES, TOPIC_TITLES

    print(f"{TOPIC_TITLES[result.topic]}服务覆盖（{METHOD_TITLES[result.method]}）："
          f"{len(result.facilities)} 处设施，{len(result.demand)} 栋住宅")
    ind = result.indicators
    if ind.empty or "indicator" not in ind:
        uses = "、".join(load_config("coverage")["demand"].get("residential_uses", ["住宅"]))
        print(f"  没有居住建筑（建筑用途为 {uses}），无法计算覆盖率：请检查图层目录中 buildings 的"
              "用途字段及其值映射（values）")
    for name in dict.fromkeys(ind["indicator"] if "indicator" in ind else []):
        sub = ind[(ind["indicator"] == name) & (ind["district"] == ALL)]
        parts = [f"{MEASURE_TITLES.get(r.measure, r.measure)} {r.share:.1%}"
                 for r in sub.itertuples() if r.share == r.share]
        print(f"  {name}：" + "，".join(parts))
    print_rule_counts(result.findings, "coverage", unit=" 处")
    if sites is not None:
        print(f"  新增选址建议：{len(sites.sites)} 处，覆盖率由 {sites.before:.1%} 提高到 "
              f"{sites.after:.1%}（{'整数规划' if sites.solver == 'cbc' else '贪心算法'}）")
    if transfer_sites is not None and len(transfer_sites):
        top = transfer_sites.iloc[0]
        print(f"  河西新区转运站首选候选点 {top['candidate_id']}：新增服务人口 "
              f"{top['new_population']:.0f}，间距{'满足' if top['feasible'] else '不满足'}要求")
        yl = transfer_sites[transfer_sites["in_yellow_line"]]
        if len(yl):
            r = yl.iloc[0]
            print(f"  环卫黄线内最佳站址 {r['candidate_id']}：排名第 {int(r['rank'])}，新增服务人口 "
                  f"{r['new_population']:.0f}（相当于首选的 {r['share_of_best']:.0%}）")
