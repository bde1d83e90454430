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

Exit codes: 0 no findings, 1 findings, 2 unreadable input or configuration.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

from . import add_common_options, load_checked, output_dir, print_rule_counts
from .._progress import Progress
from ..errors import InputError

__all__ = ["register", "run", "LAYERS", "write_outputs"]

TOPIC_TITLES = {"toilets": "公共厕所", "transfer": "垃圾转运站", "parks": "公园绿地"}

GRID_HEADERS = {
    "grid_id": "网格编码", "district": "片区", "buildings": "住宅建筑数",
    "buildings_covered": "覆盖住宅数", "buildings_share": "住宅覆盖率",
    "population": "人口", "population_covered": "覆盖人口", "population_share": "人口覆盖率",
    "land_m2": "居住用地面积_平方米", "land_covered_m2": "覆盖用地面积_平方米",
    "land_share": "用地覆盖率",
}
TABLE_HEADERS = {
    "density": ("公厕密度", {
        "district": "片区", "class": "用地类别", "title": "用地名称", "area_km2": "面积_平方公里",
        "toilets": "公厕数", "density_per_km2": "密度_座每平方公里", "min": "标准下限",
        "max": "标准上限", "status": "评价", "source": "依据"}),
    "setbacks": ("转运站间距", {
        "station_id": "转运站编号", "name": "名称", "status": "状态",
        "capacity_tpd": "设计规模_吨每日", "class": "规模类别", "required_m": "要求间距_米",
        "nearest_building": "最近建筑", "distance_m": "实际间距_米", "ok": "是否满足",
        "source": "依据"}),
    "presets": ("公园预设", {
        "preset": "预设", "title": "指标", "source": "依据", "parks_counted": "计入公园数",
        "land_share": "居住用地覆盖率", "target": "目标值", "meets": "是否达标",
        "method": "计算方法"}),
    "sites": ("新增选址", {
        "rank": "序号", "candidate_id": "候选点编号", "source": "用地来源", "ref_id": "所在要素",
        "gain_weight": "新增覆盖量", "gain_buildings": "新增覆盖住宅数", "x": "X坐标",
        "y": "Y坐标"}),
    "transfer_sites": ("转运站候选", {
        "rank": "排名", "candidate_id": "候选点编号", "source": "用地来源", "ref_id": "所在要素",
        "in_yellow_line": "位于环卫黄线内", "feasible": "间距是否满足",
        "nearest_building_m": "最近建筑距离_米", "required_m": "要求间距_米",
        "new_population": "新增服务人口", "population": "服务人口",
        "share_of_best": "相当于最优候选", "mean_distance_m": "平均距离_米", "x": "X坐标",
        "y": "Y坐标"}),
}

#: Catalog layers read (those absent from the catalog are skipped).
LAYERS = ("roads", "buildings", "residential_compounds", "grids", "red_lines", "blue_lines",
          "yellow_lines", "toilets", "transfer_stations", "parks")
_REQUIRED = {"toilets": ("toilets", "buildings"), "transfer": ("transfer_stations", "buildings"),
             "parks": ("parks", "residential_compounds")}


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
    missing = [lid for lid in _REQUIRED[topic] if lid not in catalog.layers]
    if missing:
        raise InputError(f"图层目录缺少{TOPIC_TITLES[topic]}覆盖分析所需的图层 "
                         f"{', '.join(missing)}", path=str(catalog.path))
    layers, notes = load_checked(catalog, [lid for lid in LAYERS if lid in catalog.layers],
                                 progress)
    main = _REQUIRED[topic][0]
    if not len(layers.get(main, [])):
        spec = catalog[main]
        raise InputError(f"图层 {main}（{spec.title}）没有可用的记录，无法计算覆盖"
                         + (f"；{notes[-1]}" if notes else ""), layer=main,
                         path=str(spec.path) if spec.path else None)
    return layers, notes


def _xy(frame: Any) -> Any:
    out = frame.drop(columns="geometry").copy()
    out["x"] = frame.geometry.x.round(2).to_numpy()
    out["y"] = frame.geometry.y.round(2).to_numpy()
    return out


def write_outputs(result: Any, out: Path, *, sites: Any = None, transfer_sites: Any = None,
                  catalog: Any = None, layers: dict[str, Any] | None = None,
                  make_map: bool = True, public_map: bool = False) -> dict[str, str]:
    """Write every output of a coverage run into ``out`` (atomically, file by file)."""
    from ..publish.tables import write_findings

    import pandas as pd

    from ..analysis.coverage_inputs import HEADERS, MEASURE_TITLES, METHOD_TITLES
    from ..io import atomic_path, write_text_atomic
    from ..io.tables import safe_frame

    out.mkdir(parents=True, exist_ok=True)
    files: dict[str, str] = {}
    # Excel
    ind = result.indicators.copy()
    if len(ind):
        ind["measure"] = ind["measure"].map(lambda m: MEASURE_TITLES.get(m, m))
        ind["method"] = ind["method"].map(lambda m: METHOD_TITLES.get(m, m))
        ind["meets"] = ind["meets"].map({True: "是", False: "否"}).fillna("—")
        ind = ind.rename(columns=HEADERS)
    grid = pd.DataFrame(result.by_grid.drop(columns="geometry")).rename(columns=GRID_HEADERS)
    sheets = [("指标", ind), ("网格", grid)]
    extra = dict(result.tables)
    if sites is not None:
        extra["sites"] = _xy(sites.sites)
    if transfer_sites is not None:
        extra["transfer_sites"] = _xy(transfer_sites)
    for key, table in extra.items():
        title, headers = TABLE_HEADERS.get(key, (key, {}))
        t = table.copy()
        for c in t.columns:
            if t[c].dtype == bool:
                t[c] = t[c].map({True: "是", False: "否"})
        sheets.append((title, t.rename(columns=headers)))
    xlsx = out / "coverage.xlsx"
    with atomic_path(xlsx) as tmp:
        with pd.ExcelWriter(tmp, engine="openpyxl") as xw:
            for name, frame in sheets:
                safe_frame(frame).to_excel(xw, sheet_name=name[:31], index=False)
    files["xlsx"] = str(xlsx)
    # distances
    gpkg = out / "distances.gpkg"
    demand = result.demand.drop(columns=[c for c in ("footprint",) if c in result.demand])
    with atomic_path(gpkg) as tmp:
        _clean(demand).to_file(tmp, layer="demand", driver="GPKG")
        if len(result.land):
            _clean(result.land).to_file(tmp, layer="land", driver="GPKG")
    files["distances"] = str(gpkg)
    areas = out / "areas.gpkg"
    with atomic_path(areas) as tmp:
        result.service_areas.to_file(tmp, layer="service_areas", driver="GPKG")
        if len(result.uncovered):
            _uncovered(result.uncovered).to_file(tmp, layer="uncovered_areas", driver="GPKG")
        if sites is not None and len(sites.sites):
            sites.sites.to_file(tmp, layer="sites", driver="GPKG")
        if transfer_sites is not None and len(transfer_sites):
            transfer_sites.to_file(tmp, layer="transfer_sites", driver="GPKG")
    files["areas"] = str(areas)
    # findings
    f = result.findings
    fg, fc = write_findings(f, out, stem="findings")
    files["findings"] = str(fg)
    files["findings_csv"] = str(fc)
    if make_map and catalog is not None:
        html = out / "map.html"
        m = coverage_map(result, catalog=catalog, layers=layers or {},
                         sites=sites.sites if sites is not None else transfer_sites)
        from ..publish.maps import save_map

        save_map(m, html)  # offline assets wherever installed (intranets often block CDNs)
        files["map"] = str(html)
        if public_map:
            pub = out / "map_public.html"
            save_map(coverage_map(result, catalog=catalog, layers=layers or {}, sites=None,
                                  profile="public"), pub)
            files["map_public"] = str(pub)
    summary = result.summary()
    if sites is not None:
        summary["siting"] = sites.summary()
    if transfer_sites is not None and len(transfer_sites):
        top = transfer_sites.iloc[0]
        summary["transfer_site"] = {"candidate_id": top["candidate_id"],
                                    "feasible": bool(top["feasible"]),
                                    "new_population": float(top["new_population"])}
    write_text_atomic(out / "summary.json", json.dumps(summary, ensure_ascii=False, indent=1))
    files["summary"] = str(out / "summary.json")
    return files


def _clean(gdf: Any) -> Any:
    """Infinite distances as empty values (GeoPackage and Excel users expect blanks)."""
    import numpy as np

    out = gdf.copy()
    for c in out.columns:
        if c != "geometry" and out[c].dtype.kind == "f":
            out[c] = out[c].where(np.isfinite(out[c]))
    return out


def _uncovered(clusters: Any) -> Any:
    out = clusters[["cluster", "n", "weight", "geometry"]].copy()
    out["area_m2"] = out.geometry.area.round(0)
    return out


def coverage_map(result: Any, *, catalog: Any, layers: dict[str, Any], sites: Any = None,
                 profile: str = "internal") -> Any:
    """Folium map of served areas (service areas), unserved areas and proposed sites."""
    from ..publish.maps import build_map

    key = {"toilets": "toilets", "transfer": "transfer_stations", "parks": "parks"}[result.topic]
    sa_key = {"toilets": "toilet_service_areas", "transfer": "transfer_service_areas",
              "parks": "service_areas"}[result.topic]
    sa = result.service_areas.copy()
    id_col = {"toilets": "toilet_id", "transfer": "station_id", "parks": "park_id"}[result.topic]
    sa[id_col] = sa["facility_id"]
    fac = result.facilities
    spec = catalog.layers.get(key) if catalog is not None else None
    if spec is not None:
        # personal fields (keepers, phones) add nothing to a coverage map
        fac = fac[[c for c in fac.columns if c in spec.public or c == "geometry"]]
    if "name" in fac and id_col in fac:
        names = dict(zip(fac[id_col].astype(str), fac["name"].astype(str)))
        sa["name"] = sa[id_col].map(names)
    extra = {sa_key: sa}
    if len(result.uncovered):
        extra["uncovered_areas"] = _uncovered(result.uncovered)
    if sites is not None and len(sites):
        extra["建议新址"] = sites  # unknown extras are titled by their key
    if profile == "public":
        # citizens see where the facilities serve and where they do not; nothing else
        extra = {k: v for k, v in extra.items() if k in (sa_key, "uncovered_areas")}
        return build_map({key: fac}, None, catalog=catalog, profile="public", basemap="none",
                         extra=extra, title=f"{TOPIC_TITLES[result.topic]}服务范围",
                         service_areas=False)
    show = {k: v for k, v in layers.items() if k in (key, "grids")}
    show[key] = fac
    return build_map(show, result.findings, catalog=catalog, profile=profile, basemap="none",
                     extra=extra, title=f"{TOPIC_TITLES[result.topic]}服务覆盖", service_areas=False)


def run(args: argparse.Namespace) -> int:
    """Run one coverage analysis and write its outputs; return the exit code."""
    import sys

    from ..analysis import coverage as cov
    from ..analysis import siting
    from ..analysis.coverage_inputs import METHOD_TITLES
    from ..catalog import Catalog

    progress = Progress(quiet=bool(getattr(args, "quiet", False)))
    catalog = Catalog.load(args.catalog)
    out = output_dir(args.out)
    if args.target is not None and not 0 < args.target <= 1:
        raise InputError(f"目标覆盖率 {args.target} 无效，应在 0 到 1 之间")
    if args.k is not None and args.k < 1:
        raise InputError(f"新增数量 {args.k} 无效，应为正整数")
    progress.step("读取图层")
    layers, notes = _load(catalog, args.topic, progress)
    if args.method == "network" and "roads" not in layers:
        raise InputError("按路网距离计算需要道路图层 roads", path=str(catalog.path))
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
    files = write_outputs(result, out, sites=sites, transfer_sites=transfer_sites,
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
        for note in notes:
            print(f"注意：{note}", file=sys.stderr)
    return 1 if len(result.findings) else 0


def _print_summary(result: Any, sites: Any, transfer_sites: Any) -> None:
    from ..analysis.coverage_inputs import ALL, MEASURE_TITLES, METHOD_TITLES
    from ..config import load_config

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
