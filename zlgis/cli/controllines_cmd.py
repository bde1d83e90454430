"""``zlgis check controllines``: road red lines and setbacks, green / blue / purple / yellow lines.

Writes into ``--out``: ``findings.gpkg`` (layer ``findings``, working CRS, every finding column)
and ``findings.csv`` (UTF-8 with BOM for Excel, Chinese headers, geometry as WKT), both
atomically, and prints a short Chinese summary. Rules whose layers the catalog lacks are listed
"未检查：…（缺少图层 …）" and the others run. Exit codes: 0 no findings (or no rule could run),
1 findings, 2 unreadable input or configuration.
"""

from __future__ import annotations

import argparse
import json
from typing import Any

from . import (
    add_common_options,
    check_skips,
    load_checked,
    output_dir,
    print_notes,
    print_rule_counts,
    start_command,
    write_check_findings,
)

__all__ = ["register", "run", "LAYERS"]

#: Catalog layers the check reads (those absent from the catalog are skipped).
LAYERS = ("buildings", "construction_sites", "red_lines", "green_lines", "blue_lines",
          "purple_lines", "yellow_lines", "grids")


def register(subparsers: Any, check_subparsers: Any) -> None:
    """Add ``zlgis check controllines``."""
    p = check_subparsers.add_parser(
        "controllines", help="五线管控：压红线、退让红线、绿线/蓝线/紫线/黄线、未批建设",
        description="检查建筑压占道路红线和退让不足，建筑与工地位于绿线、蓝线、紫线、黄线内"
                    "（疑似，待核查），以及未取得规划许可的建设。退让距离表为示例值，"
                    "须按本地规划管理技术规定确认（zlgis/config/controllines.yaml）。")
    add_common_options(p, json=True, out="输出文件夹",
                       as_of="检查日期（写入结果的检查日期一栏）")
    p.add_argument("--red-lines-from-roads", action="store_true",
                   help="没有道路红线图层时，由道路中心线按红线宽度（或按道路等级的默认宽度）生成红线")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    """Run the check and write its outputs; return the exit code."""
    from ..analysis.controllines import run_check

    progress, catalog = start_command(args)
    out = output_dir(args.out)
    derive = bool(getattr(args, "red_lines_from_roads", False))
    hint = ""
    if derive and "roads" not in catalog.layers:
        derive, hint = False, "--red-lines-from-roads 需要道路图层 roads，图层目录中没有"
    elif not derive and "red_lines" not in catalog.layers:
        hint = "没有道路红线图层 red_lines：可加 --red-lines-from-roads 由道路中心线生成"
    check_skips(args, catalog, "五线管控检查", ["controllines"],
                extra=["red_lines"] if derive else [], hint=hint)  # the lines: print_rule_counts
    ids = [lid for lid in LAYERS if lid in catalog.layers and not (derive and lid == "red_lines")]
    if derive:
        ids.append("roads")
    progress.step("读取建筑、工地和五线图层")
    layers, notes = load_checked(catalog, ids, progress)
    if derive:
        from ..analysis.controllines import red_lines_from_roads

        progress.step("由道路中心线生成道路红线")
        layers["red_lines"] = red_lines_from_roads(layers.pop("roads"))
        notes.append(f"道路红线由道路中心线生成（{len(layers['red_lines'])} 条），"
                     "宽度取道路的红线宽度字段，缺失时按 controllines.yaml 的默认宽度")
    progress.step("检查压红线、退让红线和绿线、蓝线、紫线、黄线")
    findings = run_check(catalog, layers, as_of=args.as_of)
    gpkg, csv, counts = write_check_findings(findings, out, "findings", progress)
    if getattr(args, "json", False):
        print(json.dumps({"findings": int(len(findings)), "by_rule": counts,
                          "buildings": int(len(layers.get("buildings", []))),
                          "notes": notes, "out": str(out)}, ensure_ascii=False))
    else:
        nb = len(layers.get("buildings", []))
        print(f"五线管控检查：{nb} 栋建筑，共 {len(findings)} 个问题")
        print_rule_counts(findings, "controllines", layers=layers)
        if len(findings):
            sev = findings["severity"].value_counts().to_dict()
            print(f"  严重程度：高 {sev.get('high', 0)}，中 {sev.get('medium', 0)}，"
                  f"低 {sev.get('low', 0)}")
        print("  注：绿线、蓝线、紫线、黄线内的建设为疑似问题，须现场核查；退让距离为示例值，须按本地规定确认。")
        print(f"结果已写入 {gpkg} 和 {csv}")
        print_notes(notes + ([hint] if hint else []))
    return 1 if len(findings) else 0
