"""``zlgis weekly`` (the weekly violations run) and ``zlgis ledger`` (import / export / status).

Examples
--------
>>> import argparse
>>> p = argparse.ArgumentParser(); sub = p.add_subparsers()
>>> register(sub, None)
>>> a = p.parse_args(["weekly", "--demo", "--week", "2022-W35", "--out", "out"])
>>> a.demo, a.week, a.out
(True, '2022-W35', 'out')
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path
from typing import Any

from ..errors import InputError

__all__ = ["register", "DEMO_WEEK", "DEMO_PLATE_SALT"]

#: Week the demo run checks by default (inside the 2022 campaign's remediation phase).
DEMO_WEEK = "2022-W35"
#: Salt for hashing plate numbers in the demo run only (real runs must set $ZLGIS_PLATE_SALT).
DEMO_PLATE_SALT = "zlgis-demo-salt-not-for-real-data"


def register(subparsers: Any, check_subparsers: Any) -> None:
    """Add ``weekly`` and ``ledger`` to the ``zlgis`` command."""
    from . import add_common_options

    p = subparsers.add_parser(
        "weekly", help="每周违规检查：读取图层、运行全部检查、更新问题台账、输出地图和报表",
        description="每周违规检查：读取并校验全部图层，运行全部检查，把结果并入问题台账"
                    "（OUT/ledger.sqlite），在 OUT/<周次>/ 输出 Excel 台账、内部和公众地图、"
                    "统计图、周报摘要和 GeoPackage。可安全重复运行。")
    add_common_options(p)
    p.add_argument("--demo", action="store_true",
                   help="使用演示城市（不存在时先生成到 data/demo）")
    when = p.add_mutually_exclusive_group()
    when.add_argument("--week", metavar="2022-W35", help="检查的周次（ISO 周）")
    when.add_argument("--as-of", metavar="DATE", help="检查截止日期（YYYY-MM-DD）")
    p.add_argument("--out", metavar="DIR", required=True, help="输出目录（台账也保存在这里）")
    p.add_argument("--ledger", metavar="PATH|URL", default=None,
                   help="台账文件（默认 OUT/ledger.sqlite），或 PostgreSQL 数据库地址 "
                        "postgresql://用户名@服务器:端口/数据库名（密码用 PGPASSWORD 或 pgpass 文件）")
    p.add_argument("--checks", metavar="NAMES", default=None,
                   help="只运行这些检查（逗号分隔，默认全部）")
    p.add_argument("--jobs", metavar="N", type=_jobs, default=None,
                   help="检查和输出使用的进程数（默认 ledger.yaml 的 run.jobs；0 为按处理器数自动，"
                        "1 为单进程、占用内存最少）；结果与进程数无关")
    p.set_defaults(func=_weekly)

    led = subparsers.add_parser("ledger", help="问题台账：导入 Excel 修改、导出、查看各周统计")
    led.set_defaults(func=lambda a: (led.print_help(), 2)[1])
    lsub = led.add_subparsers(dest="ledger_command", metavar="ACTION")
    imp = lsub.add_parser("import", help="导入工作人员在 Excel 台账中填写的状态、整改说明、照片编号")
    add_common_options(imp, catalog=False)
    imp.add_argument("file", metavar="FILE", help="修改后的 Excel 台账")
    imp.add_argument("--ledger", metavar="PATH|URL", default="out/ledger.sqlite",
                     help="台账文件（默认 out/ledger.sqlite）或 postgresql:// 数据库地址")
    imp.set_defaults(func=_import)
    exp = lsub.add_parser("export", help="把台账导出为 Excel（每个牵头部门一个工作表）")
    add_common_options(exp, catalog=False)
    exp.add_argument("file", metavar="FILE", help="输出的 .xlsx 文件")
    exp.add_argument("--ledger", metavar="PATH|URL", default="out/ledger.sqlite",
                     help="台账文件（默认 out/ledger.sqlite）或 postgresql:// 数据库地址")
    exp.add_argument("--week", metavar="2022-W35", default=None, help="周次（默认最近一周）")
    exp.set_defaults(func=_export)
    st = lsub.add_parser("status", help="显示台账中各周各状态的问题数")
    add_common_options(st, catalog=False, json=True)
    st.add_argument("--ledger", metavar="PATH|URL", default="out/ledger.sqlite",
                    help="台账文件（默认 out/ledger.sqlite）或 postgresql:// 数据库地址")
    st.set_defaults(func=_status)


def _jobs(text: str) -> int:
    try:
        n = int(text)
    except ValueError:
        n = -1
    if n < 0:
        raise argparse.ArgumentTypeError(f"进程数 {text!r} 无效：应为 0 或正整数")
    return n


def _weekly(args: argparse.Namespace) -> int:
    import gc

    from ..weekly import run_weekly

    # the ~70,000 objects of the imported modules live as long as the run: kept out of the
    # garbage collector's full passes (a demo run makes ~10, each walking every object)
    gc.freeze()

    catalog = args.catalog
    week = args.week
    if args.demo:
        if catalog:
            raise InputError("--demo 与 --catalog 不能同时使用")
        from ..demo import ensure_demo_city

        catalog = ensure_demo_city()
        os.environ.setdefault("ZLGIS_PLATE_SALT", DEMO_PLATE_SALT)
        if not week and not args.as_of:
            week = DEMO_WEEK
    checks = [c.strip() for c in args.checks.split(",") if c.strip()] if args.checks else None
    quiet = bool(getattr(args, "quiet", False))
    result = run_weekly(catalog, args.out, week=week, as_of=args.as_of, ledger_path=args.ledger,
                        checks=checks, quiet=quiet, jobs=args.jobs)
    m = result.merge
    ev = m.events
    print(f"{result.week}（截至 {result.as_of}）：本周发现问题 {m.n_found} 个；"
          f"新发现 {ev.get('new', 0)}，整改 {ev.get('rectified', 0) + ev.get('staff_rectified', 0)}，"
          f"复发 {ev.get('reopened', 0)}，逾期 {m.statuses.get('overdue', 0)}。"
          f"输出：{result.folder}；台账：{result.ledger_path}")
    for line in result.skipped + result.tiled:
        print(line)
    return 0


def _ledger_path(args: argparse.Namespace, *, must_exist: bool = True) -> Path | str:
    from ..io.pgconn import check_url, is_pg_url

    if is_pg_url(args.ledger):
        return check_url(args.ledger, what="台账地址")
    path = Path(args.ledger)
    if must_exist and not path.exists():
        raise InputError("台账文件不存在（请先运行 zlgis weekly，或用 --ledger 指定）",
                         path=str(path))
    return path


def _import(args: argparse.Namespace) -> int:
    from ..ledger import Ledger
    from ..ledger.excel import apply_edits, read_edits
    from ..weekly import run_lock

    path = _ledger_path(args)
    week, edits = read_edits(args.file)  # parsed and checked before the lock is taken
    if isinstance(path, str):  # PostgreSQL: the database serialises concurrent imports
        n = apply_edits(args.file, week, edits, Ledger(path, create=False))
    else:
        with run_lock(path):
            n = apply_edits(args.file, week, edits, Ledger(path, create=False))
    print(f"已导入 {args.file}：{n} 个问题的状态、整改说明或照片编号已更新到台账 {path}")
    return 0


def _export(args: argparse.Namespace) -> int:
    from ..ledger import Ledger
    from ..ledger.excel import export_excel

    ledger = Ledger(_ledger_path(args), create=False)
    out = export_excel(ledger, args.file, week=args.week)
    print(f"已导出台账到 {out}")
    return 0


def _status(args: argparse.Namespace) -> int:
    import json

    from ..ledger import Ledger, status_labels

    ledger = Ledger(_ledger_path(args), create=False)
    counts = ledger.status_counts()
    if getattr(args, "json", False):
        print(json.dumps({w: {k: int(v) for k, v in row.items()} for w, row in counts.iterrows()},
                         ensure_ascii=False))
        return 0
    labels = status_labels()
    if not len(counts):
        print("台账为空")
        return 0
    print("周次\t" + "\t".join(labels[s] for s in counts.columns))
    for w, row in counts.iterrows():
        print(f"{w}\t" + "\t".join(str(int(v)) for v in row))
    sys.stdout.flush()
    return 0
