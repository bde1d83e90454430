"""``zlgis export qgis``: the week's layers as a QGIS project with QML and SLD styles.

Examples (shell)::

    zlgis weekly --demo --week 2022-W35 --out out
    zlgis export qgis --week 2022-W35 --findings out/2022-W35/findings_2022-W35.gpkg --out qgis
"""

from __future__ import annotations

import argparse
from typing import Any

from .._progress import Progress
from . import add_common_options, output_dir

__all__ = ["register", "run_qgis"]


def register(subparsers: Any, check_subparsers: Any) -> None:
    """Add ``export qgis`` to the ``zlgis`` command."""
    p = subparsers.add_parser("export", help="导出到其他软件（qgis：QGIS 工程和样式）")
    sub = p.add_subparsers(dest="target", required=True, metavar="TARGET")
    q = sub.add_parser("qgis", help="QGIS 工程（.qgs，打开本周 GeoPackage，样式和中文注记）及 "
                                    ".qml/.sld 样式文件")
    add_common_options(q)
    q.add_argument("--week", required=True, metavar="2022-W35", help="周次（工程名）")
    q.add_argument("--findings", default=None, metavar="FILE.gpkg",
                   help="本周问题 GeoPackage（每周输出的 findings_<周次>.gpkg）")
    q.add_argument("--out", required=True, metavar="DIR", help="输出目录")
    q.set_defaults(func=run_qgis)


def run_qgis(args: argparse.Namespace) -> int:
    from ..catalog import Catalog
    from ..errors import UnreadableInputError
    from ..publish.qgis import export_qgis, qgis_layer_ids
    from . import load_checked

    progress = Progress(getattr(args, "quiet", False))
    out = output_dir(args.out)
    if args.findings is not None:
        from pathlib import Path

        if not Path(args.findings).is_file():
            raise UnreadableInputError("问题文件不存在", path=str(args.findings))
    catalog = Catalog.load(args.catalog)
    ids = [i for i in qgis_layer_ids(catalog) if catalog[i].derived or catalog[i].readable]
    progress.step("读取图层")
    layers, notes = load_checked(catalog, ids, progress)
    for note in notes:
        progress.step(note)
    path = export_qgis(catalog, out, week=args.week, layers=layers, findings_gpkg=args.findings)
    progress.step(f"已写出 QGIS 工程 {path}（数据在 {path.parent / 'data'}，可整体移动）")
    return 0
