"""``zlgis check sanitation``: city appearance and sanitation (市容环境卫生).

Writes into ``--out``: ``sanitation_findings.gpkg`` / ``.csv`` (every rule of
``config/rules/sanitation.yaml``), ``sanitation_tables.xlsx`` (swept shares per day and week,
track problems, the six-100 % inspection ledger, the street-furniture ledger, garbage-point and
bus-stop coverage; Chinese headers), ``track_problems.csv`` (every GPS fix repaired or set aside,
with file row and reason) and ``site_inspections_map.html`` (the sites coloured by their latest
six-100 % inspection, internal map).

Exit codes: 0 no findings, 1 findings, 2 unreadable input.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

from . import (
    add_common_options,
    load_present,
    print_rule_counts,
    start_check,
    write_check_findings,
)

__all__ = ["register", "run", "TABLE_SHEETS"]

#: table -> (sheet name, Chinese headers)
TABLE_SHEETS: dict[str, tuple[str, dict[str, str]]] = {
    "sweep_week": ("机扫率（周）", {"week_end": "周末日期", "group": "道路范围", "length_m": "道路长度_米",
                                 "swept_m": "机扫长度_米", "share_length": "机扫率（按长度）",
                                 "share_area": "机扫率（按面积）", "watered_share": "洒水覆盖率",
                                 "target": "目标"}),
    "sweep_daily": ("机扫率（日）", {"day": "日期", "group": "道路范围", "length_m": "道路长度_米",
                                  "swept_m": "机扫长度_米", "share_length": "机扫率（按长度）",
                                  "share_area": "机扫率（按面积）", "watered_share": "洒水覆盖率",
                                  "target": "目标"}),
    "track_problems": ("轨迹问题", {"layer": "图层", "row": "行号", "vehicle_id": "车辆编号",
                                  "time": "定位时间", "field": "字段", "problem": "问题",
                                  "action": "处理"}),
    "six_measures": ("六个百分百台账", {"site_id": "工地编号", "name": "项目名称",
                                     "inspection_id": "检查编号", "inspected_on": "最近检查日期",
                                     "hoarding": "工地周边围挡", "covered": "物料堆放覆盖",
                                     "washing": "出入车辆清洗", "hardened": "施工现场地面硬化",
                                     "wet_work": "拆迁工地湿法作业",
                                     "sealed_transport": "渣土车辆密闭运输", "failed": "未落实项",
                                     "days_since": "距今天数", "status": "状态"}),
    "furniture_ledger": ("道路设施台账", {"street": "道路", "type": "设施类型", "condition": "状况",
                                      "count": "数量"}),
    "garbage_coverage": ("垃圾收集覆盖", {}),
    "bus_stop_coverage": ("公交站点覆盖", {}),
}


def register(subparsers: Any, check_subparsers: Any) -> None:
    """Add ``zlgis check sanitation``."""
    p = check_subparsers.add_parser(
        "sanitation", help="市容环卫：机扫率、废物箱、门前五包、街面秩序、工地扬尘、乱倒、禽畜、水体",
        description="用环卫车辆GPS轨迹、废物箱、公交站点、沿街构筑物与摊点、市场区域、道路设施、"
                    "工地检查记录和市容巡查上报，检查机械化清扫率（主次干道60%，中央街单列）、"
                    "废物箱间隔与更换、门前五包责任区、街面秩序、工地扬尘与六个百分百、"
                    "乱倒建筑垃圾、建成区禽畜和河道水体问题。")
    add_common_options(p, json=True, out="输出文件夹",
                       as_of="检查周的最后一天（默认：轨迹或上报数据的最后一天），检查截至当天的 7 天")
    p.set_defaults(func=run)


def _write_tables(tables: dict[str, Any], path: Path) -> Path:
    import pandas as pd

    from ..io.tables import write_xlsx

    sheets = {}
    for key, (sheet, headers) in TABLE_SHEETS.items():
        if key in tables:
            df = tables[key]
            sheets[sheet] = df[[c for c in headers if c in df] or list(df.columns)].rename(
                columns=headers)
    if not sheets:
        sheets["说明"] = pd.DataFrame({"说明": ["本次检查没有生成统计表（缺少相关图层）"]})
    return write_xlsx(sheets, path)


def _site_map(layers: dict[str, Any], findings: Any, catalog: Any, path: Path) -> Path | None:
    sites = layers.get("construction_sites")
    if sites is None or not len(sites):
        return None
    from ..api.maps import web_map

    rel = findings[findings["rule"].isin(["site_six_measures", "site_not_inspected",
                                          "site_near_receptor"])]
    web_map({"construction_sites": sites}, rel, catalog=catalog, profile="internal",
            basemap="none", title="工地“六个百分百”检查台账", path=path)
    return path


def run(args: argparse.Namespace) -> int:
    """Run the check and write its outputs; return the exit code."""
    from ..analysis.sanitation import LAYERS, analyse
    from ..io.tables import write_csv
    progress, catalog, out, _ = start_check(args, "市容环卫检查", ["sanitation"])
    layers, load_notes = load_present(catalog, LAYERS, progress, "读取并校验图层")
    progress.step("匹配环卫车辆轨迹并检查市容环卫规则")
    res = analyse(layers, as_of=args.as_of)
    gpkg, csv, counts = write_check_findings(res.findings, out, "sanitation_findings", progress)
    xlsx = _write_tables(res.tables, out / "sanitation_tables.xlsx")
    problems = res.tables.get("track_problems")
    if problems is not None:
        write_csv(problems.rename(columns=TABLE_SHEETS["track_problems"][1]),
                  out / "track_problems.csv")
    site_map = _site_map(layers, res.findings, catalog, out / "site_inspections_map.html")
    f = res.findings
    notes = load_notes + res.notes
    week = res.tables.get("sweep_week")
    if getattr(args, "json", False):
        print(json.dumps({"as_of": res.as_of.isoformat(), "findings": len(f), "by_rule": counts,
                          "notes": notes, "track_problems": 0 if problems is None
                          else len(problems),
                          "sweeping": [] if week is None else week.round(4).to_dict("records"),
                          "out": str(out)}, ensure_ascii=False))
    else:
        print(f"市容环卫检查（截至 {res.as_of.isoformat()} 的 7 天）：共 {len(f)} 个问题")
        if week is not None:
            for w in week.itertuples():
                print(f"  机械化清扫率 {w.group}：{w.share_area:.1%}（目标 {w.target:.0%}）")
        if problems is not None and len(problems):
            print(f"  轨迹点问题 {len(problems)} 行（已修复或未使用），明细见 "
                  f"{out / 'track_problems.csv'}")
        print_rule_counts(f, "sanitation", notes=notes)
        print(f"结果已写入 {gpkg}、{csv} 和 {xlsx}" + (f"；工地地图 {site_map}" if site_map else ""))
    return 1 if len(f) else 0
