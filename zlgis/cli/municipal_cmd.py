"""``zlgis check municipal``: road works, pavement and drain defects, trees, green space.

Runs the checks ``roadworks``, ``defects``, ``trees`` and ``greenspace`` (rules whose layers the
catalog lacks are skipped with a note) and writes into ``--out``: ``municipal_findings.gpkg/.csv``,
``reinspection_sample.csv`` (repaired defects to re-inspect, task 2.1.2),
``green_inventory.csv`` (islands and pocket parks against the plan's figures),
``park_checklist.csv`` (吊桥公园) and ``municipal_problems.csv`` (input rows not used, with file,
layer, row, field and reason).

Exit codes: 0 nothing found, 1 findings or unusable rows, 2 unreadable input.
"""

from __future__ import annotations

import argparse
import json
from typing import Any

from . import add_common_options, load_checked, print_notes, start_check, write_check_findings

__all__ = ["register", "run"]

_PROBLEM_HEADERS = {"file": "文件", "layer": "图层", "row": "行号", "id": "编号", "field": "字段",
                    "reason": "原因"}
_SAMPLE_HEADERS = {"defect_id": "病害编号", "kind": "病害类型", "road_id": "道路编号",
                   "name": "道路名称", "road_class": "道路等级", "repaired_at": "修复时间",
                   "cell": "抽样网格", "round": "抽样轮次", "x": "X", "y": "Y"}


def register(subparsers: Any, check_subparsers: Any) -> None:
    """Add ``zlgis check municipal``."""
    p = check_subparsers.add_parser(
        "municipal", help="市政设施与园林绿化：占道施工、路面排水病害、古树名木、绿岛公园",
        description="检查占道挖掘施工（无许可、超期、超范围、未恢复）、路面与排水设施病害（超期未修、"
                    "修复后复发，并抽取复查样本）、古树名木保护范围、行道树缺株、倒伏树木清理、绿岛与"
                    "口袋公园台账、养护责任区、吊桥公园配套设施和湿地公园科普宣教区。")
    add_common_options(p, json=True, out="输出文件夹",
                       as_of="检查日期（默认：今天）")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    """Run the municipal checks and write their outputs; return the exit code."""
    import datetime as dt

    import pandas as pd

    from ..analysis import defects, greenspace, roadworks, trees
    from ..analysis.delays import PROBLEM_COLUMNS
    from ..findings import concat_findings
    from ..io.tables import write_csv
    from ..rules import is_skip_line

    progress, catalog, out, _ = start_check(args, "市政设施与园林绿化检查",
                                            ["roadworks", "defects", "trees", "greenspace"])
    ids = sorted({lid for m in (defects, greenspace, roadworks, trees) for lid in m.LAYERS
                  if lid in catalog.layers})
    progress.step("读取图层")
    layers, notes = load_checked(catalog, ids, progress)
    as_of = args.as_of or dt.date.today()
    progress.step("检查占道施工、病害、树木和绿地")
    frames, problems = [], []
    for module in (roadworks, defects, trees, greenspace):
        f = module.run_check(catalog, layers, as_of=as_of)
        frames.append(f)
        notes += [n for n in f.attrs.get("notes", []) if is_skip_line(n)]
        problems.append(pd.DataFrame(f.attrs.get("problems") or [], columns=PROBLEM_COLUMNS))
    findings = concat_findings(frames)
    probs = pd.concat([p for p in problems if len(p)] or [problems[0]], ignore_index=True)
    probs.insert(0, "file", [str(catalog[lid].path) if lid in catalog.layers else ""
                             for lid in probs["layer"]])
    d = defects.analyse(layers, as_of=as_of)
    g = greenspace.analyse(layers)
    gpkg, csv, counts = write_check_findings(findings, out, "municipal_findings", progress)
    if d["sample"] is not None:
        s = d["sample"].assign(x=lambda t: t.geometry.x.round(1), y=lambda t: t.geometry.y.round(1))
        cols = [c for c in _SAMPLE_HEADERS if c in s]
        write_csv(s[cols].rename(columns=_SAMPLE_HEADERS), out / "reinspection_sample.csv")
    write_csv(g["inventory"], out / "green_inventory.csv")
    write_csv(g["checklist"], out / "park_checklist.csv")
    write_csv(probs.rename(columns=_PROBLEM_HEADERS), out / "municipal_problems.csv")
    n_sample = 0 if d["sample"] is None else len(d["sample"])
    if getattr(args, "json", False):
        print(json.dumps({"as_of": str(as_of), "findings": int(len(findings)), "by_rule": counts,
                          "reinspection_sample": n_sample, "problems": int(len(probs)),
                          "notes": notes, "out": str(out)}, ensure_ascii=False))
    else:
        from ..rules import rule

        print(f"市政设施与园林绿化检查（截至 {as_of}）：共 {len(findings)} 个问题")
        for rid, n in sorted(counts.items()):
            print(f"  {rule(rid).title}：{n}")
        print(f"  复查抽样：{n_sample} 处")
        print(f"结果已写入 {gpkg}、{csv} 等（{out}）")
    print_notes(notes, probs, as_json=getattr(args, "json", False))
    return 1 if len(findings) or len(probs) else 0
