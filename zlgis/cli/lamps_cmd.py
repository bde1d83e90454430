"""``zlgis check lamps``: street-lamp on-rate, dark stretches, new lamp sites, overdue faults.

Writes into ``--out``: ``lamps_findings.gpkg/.csv`` (the findings), ``lamps_on_rate.xlsx``
(sheets 按道路 / 按片区 / 全市, Chinese headers), ``lamps_dark_stretches.gpkg`` (stretches and
proposed sites, layers ``stretches`` and ``proposed_sites``), ``lamps_named_spots.csv`` (the
plan's three dark spots) and ``lamps_problems.csv`` (input rows not used, with file, layer, row,
field and reason).

Exit codes: 0 nothing found (or nothing could run: without ``street_lamps`` every lamp rule is
skipped with its "未检查" line), 1 findings or unusable rows, 2 unreadable input.
"""

from __future__ import annotations

import argparse
import json
from typing import Any

from . import add_common_options, load_present, print_notes, start_check, write_check_findings

__all__ = ["register", "run"]

_RATE_HEADERS = {"road": "道路", "road_class": "道路等级",
                 "district": "片区", "in_service": "应亮灯数", "lit": "亮灯数", "dark": "不亮灯数",
                 "on_rate": "亮灯率", "target": "目标", "meets_target": "是否达标"}
_SPOT_HEADERS = {"spot": "盲区地点", "found": "已定位", "dark_stretches": "盲区路段数",
                 "dark_length_m": "盲区长度_米", "dark_lamps": "不亮路灯数",
                 "planned_lamps": "规划新增路灯数", "proposed_sites": "建议新增灯位数"}
_PROBLEM_HEADERS = {"file": "文件", "layer": "图层", "row": "行号", "id": "编号", "field": "字段",
                    "reason": "原因"}


def register(subparsers: Any, check_subparsers: Any) -> None:
    """Add ``zlgis check lamps``."""
    p = check_subparsers.add_parser(
        "lamps", help="路灯：亮灯率、照明盲区、建议新增灯位、故障超24小时未修",
        description="按道路、片区和全市统计亮灯率（目标：95%以上），找出无正常路灯覆盖的路段"
                    "（照明盲区，覆盖距离按道路等级，见 zlgis/config/lamps.yaml），在盲区内建议新增"
                    "灯位（含实施方案点名的兴华小学、民族西街、明月花园东墙外），并列出超过24小时"
                    "未修复的路灯故障。")
    add_common_options(p, json=True, out="输出文件夹",
                       as_of="检查日期（当天结束时的路灯状态；默认：最后一条故障记录的日期）")
    p.set_defaults(func=run)


def _as_of(layers: dict[str, Any]) -> Any:
    import pandas as pd

    for lid, col in (("lamp_faults", "reported_at"), ("street_lamps", "reported_at")):
        g = layers.get(lid)
        if g is not None and col in g and g[col].notna().any():
            return pd.to_datetime(g[col]).max().date()
    return pd.Timestamp.today().date()


def run(args: argparse.Namespace) -> int:
    """Run the lamp analyses and write their outputs; return the exit code."""

    from ..analysis.lamps import LAYERS, analyse, findings_from
    from ..io.atomic import atomic_path
    from ..io.tables import write_csv, write_xlsx
    from ..rules import rules

    progress, catalog, out, skipped = start_check(args, "路灯检查", ["lamps"])
    layers, notes = load_present(catalog, LAYERS, progress, "读取路灯、道路和故障记录")
    notes = skipped + notes
    as_of = args.as_of or _as_of(layers)
    progress.step("计算亮灯率、照明盲区和故障修复时间")
    result = analyse(layers, as_of=as_of)
    findings = findings_from(result, as_of=as_of, crs=catalog.working_crs)
    notes += result["notes"]
    problems = result["problems"].copy()
    problems.insert(0, "file", [str(catalog[lid].path) if lid in catalog.layers else ""
                                for lid in problems["layer"]])
    gpkg, csv, counts = write_check_findings(findings, out, "lamps_findings", progress)
    rates = result["rates"]
    write_xlsx({sheet: rates[key].rename(columns=_RATE_HEADERS)
                for sheet, key in (("全市", "city"), ("按片区", "district"), ("按道路", "road"))},
               out / "lamps_on_rate.xlsx")
    if result["stretches"] is not None:
        with atomic_path(out / "lamps_dark_stretches.gpkg") as tmp:
            result["stretches"].to_file(tmp, layer="stretches", driver="GPKG")
            result["sites"].to_file(tmp, layer="proposed_sites", driver="GPKG", mode="a")
        write_csv(result["spots"].rename(columns=_SPOT_HEADERS), out / "lamps_named_spots.csv")
    write_csv(problems.rename(columns=_PROBLEM_HEADERS), out / "lamps_problems.csv")
    city = rates["city"].iloc[0]
    if getattr(args, "json", False):
        print(json.dumps({"as_of": str(as_of), "on_rate": float(city["on_rate"]),
                          "findings": int(len(findings)), "by_rule": counts,
                          "problems": int(len(problems)), "notes": notes, "out": str(out)},
                         ensure_ascii=False))
    else:
        print(f"路灯检查（截至 {as_of} 当天结束）：全市亮灯率 {city['on_rate']:.2%}"
              f"（{int(city['lit'])}/{int(city['in_service'])}，目标 {city['target']:.0%} 以上，"
              f"{'达标' if city['meets_target'] else '未达标'}）")
        for d in rates["district"].itertuples():
            print(f"  {d.district}：{d.on_rate:.2%}（{d.lit}/{d.in_service}）")
        print(f"共 {len(findings)} 个问题")
        for r in rules("lamps"):
            if counts.get(r.id):
                print(f"  {r.title}：{counts[r.id]}")
        if result["sites"] is not None:
            print(f"  建议新增灯位：{len(result['sites'])} 处")
            for s in result["spots"].itertuples():
                print(f"  {s.spot}：盲区 {s.dark_stretches} 段 {s.dark_length_m:.0f} 米，"
                      f"规划新增 {s.planned_lamps} 盏，建议 {s.proposed_sites} 处")
        print(f"结果已写入 {gpkg}、{csv} 等（{out}）")
    print_notes(notes, problems, as_json=getattr(args, "json", False))
    return 1 if len(findings) or len(problems) else 0
