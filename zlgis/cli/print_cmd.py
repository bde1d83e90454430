"""``zlgis print-maps``: A3 PDF and PNG sheets for the city and per lead department.

Examples (shell)::

    zlgis weekly --demo --week 2022-W35 --out out
    zlgis print-maps --findings out/2022-W35/findings_2022-W35.gpkg --week 2022-W35 --out print
"""

from __future__ import annotations

import argparse
import datetime as dt
from typing import Any

from .._progress import Progress
from . import add_common_options, output_dir

__all__ = ["register", "run_print"]


def register(subparsers: Any, check_subparsers: Any) -> None:
    """Add ``print-maps`` to the ``zlgis`` command."""
    p = subparsers.add_parser("print-maps", help="生成 A3 打印图（PDF 和 PNG）：全市一张，各牵头部门各一张")
    add_common_options(p)
    p.add_argument("--findings", required=True, metavar="FILE",
                   help="问题清单（每周输出的 findings_<周次>.gpkg 等）")
    p.add_argument("--week", required=True, metavar="2022-W35", help="周次（用于标题和文件名）")
    p.add_argument("--date", default=None, metavar="YYYY-MM-DD", help="数据日期（默认今天）")
    p.add_argument("--out", required=True, metavar="DIR", help="输出目录")
    p.set_defaults(func=run_print)


def run_print(args: argparse.Namespace) -> int:
    from ..catalog import Catalog
    from ..publish.print_maps import print_department_maps
    from . import load_checked
    from .publish_cmd import read_findings

    progress = Progress(getattr(args, "quiet", False))
    out = output_dir(args.out)
    catalog = Catalog.load(args.catalog)
    # layers on disk or in a database, and derived ones (red lines from roads) when their source is
    ids = [i for i in load_config_layers() if i in catalog.layers and (
        catalog[i].derived or catalog[i].readable)]
    progress.step("读取图层")
    loaded, notes = load_checked(catalog, ids, progress)
    layers = {k: loaded[k] for k in ids if k in loaded}      # not the sources of derived ones
    for note in notes:
        progress.step(note)
    findings = read_findings(args.findings)
    progress.step("绘制打印图")
    sheets = print_department_maps(layers, findings, catalog=catalog, out_dir=out,
                                   week=args.week, date=args.date or dt.date.today().isoformat())
    progress.step(f"已写出 {len(sheets)} 张 A3 图（{out}）")
    return 0


def load_config_layers() -> list[str]:
    """Context layers of the print sheets (``publish.yaml`` ``print.layers``)."""
    from ..config import load_config

    return list(load_config("publish")["print"]["layers"])
