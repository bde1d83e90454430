"""``zlgis check trucks``: trucks in the city (大车进城) from GPS pings and patrol records.

Writes into ``--out``: ``trucks_findings.gpkg`` (layer ``trucks_findings``, working CRS) and
``trucks_findings.csv`` (UTF-8 with BOM for Excel, Chinese headers). Plates never appear: the
findings carry the salted plate digest only. The salt comes from ``$ZLGIS_PLATE_SALT``.

Exit codes: 0 no findings, 1 findings, 2 unreadable input or missing configuration.
"""

from __future__ import annotations

import argparse
import json
from typing import Any

from . import (
    add_common_options,
    load_present,
    print_rule_counts,
    start_check,
    write_check_findings,
)

__all__ = ["register", "run"]





def register(subparsers: Any, check_subparsers: Any) -> None:
    """Add ``zlgis check trucks``."""
    p = check_subparsers.add_parser(
        "trucks", help="大车进城：禁停区、限行路段、渣土车、僵尸车、停放点",
        description="用货车GPS轨迹和巡查记录检查禁停区、限行路段、渣土车路线与消纳场、"
                    "南出口僵尸车和大货车停放点。车牌只以加盐摘要输出（环境变量 ZLGIS_PLATE_SALT）。")
    add_common_options(p, json=True, out="输出文件夹",
                       as_of="检查周的最后一天（默认：轨迹数据的最后一天），检查截至当天的 7 天")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    """Run the check and write its outputs; return the exit code."""
    from ..analysis.trucks import LAYERS, run_check
    progress, catalog, out, _ = start_check(args, "大车进城检查", ["trucks"])
    layers, load_notes = load_present(catalog, LAYERS, progress)
    progress.step("检查货车轨迹与巡查记录")
    findings = run_check(catalog, layers, as_of=args.as_of)
    gpkg, csv, counts = write_check_findings(findings, out, "trucks_findings", progress)
    notes = load_notes + list(findings.attrs.get("notes", []))
    if getattr(args, "json", False):
        print(json.dumps({"as_of": findings.attrs.get("as_of"), "findings": len(findings),
                          "by_rule": counts, "notes": notes, "out": str(out)},
                         ensure_ascii=False))
    else:
        print(f"大车进城检查（截至 {findings.attrs.get('as_of')} 的 7 天）：共 {len(findings)} 个问题")
        print_rule_counts(findings, "trucks", layers=dict.fromkeys(catalog.layers), notes=notes)
        print(f"结果已写入 {gpkg} 和 {csv}")
    return 1 if len(findings) else 0
