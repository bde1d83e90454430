"""``zlgis check compounds|heating|water|gas``: residential compounds and city utilities (issue 17).

Each verb loads the layers its rules need (those absent from the catalog are skipped, and the
rules that need them are listed as not checked), runs the check's adapter and writes into
``--out``: ``<check>_findings.gpkg`` / ``.csv`` (Chinese headers) and the check's own tables:

* compounds: ``compound_ledger.csv`` (one row per compound), ``compound_targets.csv`` (the plan's
  targets as shares), ``subdistrict_shares.gpkg`` and the choropleths
  ``subdistrict_property_service.png`` / ``subdistrict_fee_disclosure.png`` (per subdistrict) and
  ``lifecircle_audit.csv`` (the 13 compounds under construction, one row per facility);
* heating: ``heat_station_loads.csv`` (supply area, load, capacity, margin per station),
  ``heat_station_hazards.csv``, ``heating_complaints.csv`` (per station) and, when the
  companies layer is there, ``heating_rebalance.csv`` (per station) and
  ``heating_changed_buildings.csv``.

Exit codes: 0 no findings (or no rule could run: each is listed "未检查：…（缺少图层 …）"),
1 findings (or problems in the data), 2 unreadable input.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import TYPE_CHECKING, Any

from . import (
    add_common_options,
    load_checked,
    print_notes,
    print_rule_counts,
    start_check,
    write_check_findings,
)

if TYPE_CHECKING:
    import pandas as pd

__all__ = ["register", "run"]

#: check -> (module with run_check and LAYERS, help text, Chinese name)
VERBS = {
    "compounds": ("zlgis.analysis.compounds", "住宅小区：业委会/物管会、物业服务、收费公开、充电桩、"
                  "消防通道、小区绿地；在建小区生活圈配套审计（GB 50180-2018）", "住宅小区检查"),
    "heating": ("zlgis.analysis.heating", "供热：换热站供热范围与能力、供热隐患、检修逾期、"
                "供热投诉、管网改造占掘路许可、两家热力公司区域调配", "供热检查"),
    "water": ("zlgis.analysis.watersource", "饮用水水源保护区内的建筑、工地、倾倒和畜禽举报",
              "水源保护区检查"),
    "gas": ("zlgis.analysis.gas", "燃气管道与建筑物水平净距、中压管线二期路由、燃气设施标识",
            "燃气检查"),
}


def register(subparsers: Any, check_subparsers: Any) -> None:
    """Add ``zlgis check compounds``, ``heating``, ``water`` and ``gas``."""
    for name, (_mod, text, _title) in VERBS.items():
        p = check_subparsers.add_parser(name, help=text, description=text + "。")
        add_common_options(p, json=True, out="输出文件夹",
                           as_of="检查日期（检修是否逾期、统计哪段时间的投诉）")
        p.set_defaults(func=run, verb=name)


#: Chinese headers of the tables staff open in Excel.
HEADERS = {
    "compound_id": "小区编号", "name": "名称", "subdistrict": "街道", "under_construction": "在建",
    "households": "户数", "governance": "业主组织", "service": "物业服务", "fee_disclosed": "收费公开",
    "charging_points": "充电桩数", "charging_per_100_households": "每百户充电桩",
    "fire_lanes_blocked": "消防通道被占处数", "green_encroached": "绿地被占处数",
    "target": "指标", "title": "指标名称", "compounds": "小区数", "met": "达标数", "share": "比例",
    "goal": "目标", "property_service_share": "物业服务覆盖率", "fee_disclosure_share": "收费公开率",
    "governance_share": "业委会或物管会覆盖率", "charging_share": "充电设施覆盖率",
    "level": "生活圈", "level_title": "生活圈名称", "category": "设施类别", "clause": "依据条款",
    "limit_m": "步行距离标准_米", "distance_m": "步行距离_米", "facility_id": "最近设施编号",
    "ok": "达标", "station_id": "换热站编号", "company": "供热企业", "buildings": "供热建筑数",
    "load_m2": "供热面积_平方米", "capacity_m2": "设计供热能力_平方米", "margin_m2": "能力余量_平方米",
    "margin_share": "余量比例", "overloaded": "超负荷", "tight": "余量紧张", "status": "状态",
    "hazards": "供热隐患", "hazards_open": "未整改隐患数", "overhaul_done": "检修完成日期",
    "overhaul_due": "检修期限", "overhaul_overdue": "检修逾期", "new_company": "调配后供热企业",
    "changed": "调整企业", "source_distance_m": "距热源管网距离_米", "root": "热源首站",
    "load_before_m2": "调配前供热面积_平方米", "load_after_m2": "调配后供热面积_平方米",
    "building_id": "建筑编号", "heated_m2": "供热面积_平方米", "complaints": "供热投诉数",
    "case_ids": "工单编号", "stations": "换热站数",
}


def _csv(frame: pd.DataFrame, path: Path) -> None:
    import pandas as pd

    from ..io.tables import write_csv

    t = pd.DataFrame(frame.drop(columns="geometry", errors="ignore"))
    write_csv(t.rename(columns=HEADERS), path)


def _compound_tables(layers: dict[str, Any], out: Path) -> None:
    from ..analysis.compounds import compound_ledger, subdistrict_shares, target_shares
    from ..analysis.coverage import street_graph
    from ..analysis.lifecircle import lifecircle_audit
    from ..io.atomic import atomic_path

    led = compound_ledger(layers["residential_compounds"],
                          facilities=layers.get("compound_facilities"), grids=layers.get("grids"))
    _csv(led, out / "compound_ledger.csv")
    _csv(target_shares(led), out / "compound_targets.csv")
    shares = subdistrict_shares(led, layers.get("grids"))
    with atomic_path(out / "subdistrict_shares.gpkg") as tmp:
        shares.to_file(tmp, layer="subdistrict_shares", driver="GPKG")
    from ..publish.charts import choropleth_chart

    goals = target_shares(led).set_index("target")["goal"]
    for key, title in (("property_service", "各街道物业服务覆盖率（目标100%）"),
                       ("fee_disclosure", "各街道物业收费信息公开率（目标100%）")):
        choropleth_chart(shares, f"{key}_share", out / f"subdistrict_{key}.png", title=title,
                         label="subdistrict", goal=float(goals[key]))
    if "compound_facilities" in layers and "roads" in layers:
        a = lifecircle_audit(layers["residential_compounds"], layers["compound_facilities"],
                             graph=street_graph(layers))
        _csv(a, out / "lifecircle_audit.csv")


def _heating_tables(layers: dict[str, Any], out: Path, as_of: Any) -> None:
    from ..analysis.heatbalance import changed_buildings, rebalance
    from ..analysis.heating import (
        complaints_by_station,
        heated_buildings,
        station_hazards,
        station_loads,
        supply_areas,
    )
    from ..analysis.network import StreetGraph

    st = layers["heat_stations"]
    _csv(station_hazards(st, as_of=as_of), out / "heat_station_hazards.csv")
    if "roads" not in layers or "buildings" not in layers:
        return
    g = StreetGraph.from_roads(layers["roads"])
    sup = supply_areas(heated_buildings(layers["buildings"]), st, graph=g)
    if "capacity_m2" in st:
        loads = station_loads(st, sup)
        _csv(loads, out / "heat_station_loads.csv")
        if "heating_companies" in layers:
            per, comp = rebalance(g, st, layers["heating_companies"], loads)
            _csv(per, out / "heating_rebalance.csv")
            _csv(comp, out / "heating_companies.csv")
            _csv(changed_buildings(per, sup), out / "heating_changed_buildings.csv")
    if "hotline_cases" in layers:
        per, comp = complaints_by_station(layers["hotline_cases"], st, graph=g)
        _csv(per, out / "heating_complaints.csv")
        _csv(comp, out / "heating_complaints_by_company.csv")


def run(args: argparse.Namespace) -> int:
    """Run one check and write its outputs; return the exit code."""
    import importlib

    name = args.verb
    module = importlib.import_module(VERBS[name][0])
    title = VERBS[name][2]
    progress, catalog, out, _ = start_check(args, title, [name])  # the adapter notes skips
    ids = [lid for lid in module.LAYERS if lid in catalog.layers]
    progress.step("读取图层")
    layers, notes = load_checked(catalog, ids, progress)
    progress.step(f"运行{title}")
    findings = module.run_check(catalog, layers, as_of=args.as_of)
    notes += list(findings.attrs.get("notes", []))
    gpkg, csv, counts = write_check_findings(findings, out, f"{name}_findings", progress)
    if name == "compounds" and "residential_compounds" in layers:
        _compound_tables(layers, out)
    if name == "heating" and "heat_stations" in layers:
        _heating_tables(layers, out, args.as_of)
    if getattr(args, "json", False):
        print(json.dumps({"findings": int(len(findings)), "by_rule": counts, "notes": notes,
                          "out": str(out)}, ensure_ascii=False))
    else:
        print(f"{title}：共 {len(findings)} 个问题")
        print_rule_counts(findings, name)
        print(f"结果已写入 {gpkg} 和 {csv}")
        print_notes(notes)
    return 1 if len(findings) else 0
