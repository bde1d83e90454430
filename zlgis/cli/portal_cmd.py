"""``zlgis portal``: the citizens' portal, a static site built from the weekly public tree.

Examples (shell)::

    zlgis weekly --demo --out out
    zlgis portal --from out/public --out site
"""

from __future__ import annotations

import argparse
from typing import Any

from .._progress import Progress
from . import add_common_options, output_dir

__all__ = ["register", "run_portal"]


def register(subparsers: Any, check_subparsers: Any) -> None:
    """Add ``portal`` to the ``zlgis`` command."""
    p = subparsers.add_parser(
        "portal", help="生成公众公示网站（静态网页：各周索引、每周地图与统计、街道和网格页面、"
                       "按街道查找）")
    add_common_options(p)
    p.add_argument("--from", dest="source", default="out/public", metavar="DIR",
                   help="每周运行的公开目录（zlgis weekly 输出目录下的 public，默认 out/public）")
    p.add_argument("--out", required=True, metavar="DIR",
                   help="网站目录（已有的周次保持不变；新网站在旁边生成后整体替换）")
    p.set_defaults(func=run_portal)


def run_portal(args: argparse.Namespace) -> int:
    from ..publish.portal import build_portal

    progress = Progress(getattr(args, "quiet", False))
    out = output_dir(args.out)
    progress.step("生成公示网站")
    site = build_portal(args.source, out)
    progress.step(f"已写出 {site}")
    return 0
