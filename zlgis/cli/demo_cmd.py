"""``zlgis demo-data``: generate the synthetic demo city (合成演示城市).

Writes every catalog layer as GeoPackage, ``dem.tif``, ``truth.csv``, ``README.txt`` and a
``catalog.yaml`` into ``--out``, so that ``--catalog DIR/catalog.yaml`` works with every other
command. The same ``--seed`` gives the same features.

Exit codes: 0 written, 2 invalid arguments or the folder cannot be written.
"""

from __future__ import annotations

import argparse
import sys
import time
from typing import Any

from ..errors import InputError, UnreadableInputError
from . import add_common_options, output_dir

__all__ = ["register", "run"]


def _positive(text: str) -> int:
    try:
        n = int(text.replace("_", "").replace(",", ""))
    except ValueError:
        raise argparse.ArgumentTypeError(f"“{text}”不是整数") from None
    if n < 1000:
        raise argparse.ArgumentTypeError(f"建筑数量至少为 1000（收到 {n}）")
    return n


def register(subparsers: Any, check_subparsers: Any) -> None:
    """Add ``zlgis demo-data``."""
    p = subparsers.add_parser(
        "demo-data", help="生成合成演示城市（扎兰屯示例图层、高程模型、植入案例）",
        description="生成合成的扎兰屯演示城市：全部图层（GeoPackage，中文字段名）、dem.tif、"
                    "truth.csv（植入的违规案例）和 catalog.yaml。数据为虚构，仅供演示和测试。")
    add_common_options(p, catalog=False, out="输出文件夹")
    p.add_argument("--seed", type=int, default=2022, help="随机种子（默认 2022，相同种子生成相同数据）")
    p.add_argument("--buildings", type=_positive, default=25_000, metavar="N",
                   help="普通建筑数量（默认 25000；基准测试可用 1000000）")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from ..demo import make_demo_city

    out = output_dir(args.out)
    quiet = bool(getattr(args, "quiet", False))
    t0 = time.perf_counter()
    try:
        catalog = make_demo_city(out, seed=args.seed, n_buildings=args.buildings, quiet=quiet)
    except PermissionError:
        raise UnreadableInputError("没有写入权限", path=str(out)) from None
    except OSError as exc:
        raise InputError(f"写出演示数据失败：{exc.strerror or exc}", path=str(out)) from None
    if not quiet:
        print(f"已生成演示城市（合成数据，种子 {args.seed}，建筑 {args.buildings} 栋，"
              f"用时 {time.perf_counter() - t0:.0f} 秒）：{catalog}", file=sys.stderr)
    print(catalog)
    return 0
