"""``zlgis db init``: prepare a PostgreSQL database for a shared ledger (schema, roles, grants).

Examples
--------
>>> import argparse
>>> p = argparse.ArgumentParser(); sub = p.add_subparsers()
>>> register(sub, None)
>>> a = p.parse_args(["db", "init", "--url", "postgresql://admin@db/zlgis"])
>>> a.url, a.prefix
('postgresql://admin@db/zlgis', 'zlgis_')
"""

from __future__ import annotations

import argparse
from typing import Any

__all__ = ["register"]


def register(subparsers: Any, check_subparsers: Any) -> None:
    """Add ``db`` (``db init``) to the ``zlgis`` command."""
    from . import add_common_options

    db = subparsers.add_parser("db", help="PostgreSQL 共享台账：建表、升级、创建角色")
    db.set_defaults(func=lambda a: (db.print_help(), 2)[1])
    sub = db.add_subparsers(dest="db_command", metavar="ACTION")
    init = sub.add_parser(
        "init", help="在数据库中建立台账（版本化升级）并创建角色：负责人、各部门、门户（只读公开视图）",
        description="由数据库管理员运行：创建或升级 zlgis 模式中的台账表（schema_version 记录版本），"
                    "创建角色 <前缀>owner（每周检查）、<前缀>dept_<部门代码>（各部门导入 Excel，"
                    "只能修改本部门牵头问题的状态、说明和照片）、<前缀>portal（只能读取公开视图）。"
                    "密码不在这里设置：请管理员用 ALTER ROLE ... PASSWORD 设置，用户保存在 pgpass 文件中。")
    add_common_options(init, catalog=False)
    init.add_argument("--url", required=True, metavar="URL",
                      help="管理员连接地址 postgresql://用户名@服务器:端口/数据库名（密码用 PGPASSWORD 或 pgpass）")
    init.add_argument("--prefix", default="zlgis_", metavar="PREFIX",
                      help="角色名前缀（默认 zlgis_）")
    init.set_defaults(func=_init)


def _init(args: argparse.Namespace) -> int:
    from ..config import department_name
    from ..io.pgconn import redact
    from ..ledger.roles import init_database

    info = init_database(args.url, prefix=args.prefix)
    applied = info["applied"]
    print(f"台账数据库 {redact(args.url)}：" + (f"已应用升级 {', '.join(map(str, applied))}"
                                              if applied else "表结构已是最新版本"))
    created = set(info["created"])
    mark = lambda role: "（新建）" if role in created else ""  # noqa: E731
    print(f"每周检查角色：{info['owner']}{mark(info['owner'])}")
    print(f"门户只读角色：{info['portal']}{mark(info['portal'])}（只能读取 public_findings、"
          "public_status_counts 视图）")
    for code, role in info["departments"].items():
        print(f"部门角色：{role}{mark(role)}（{department_name(code)}）")
    print("请为需要登录的角色设置密码：ALTER ROLE 角色名 PASSWORD '…'，并写入各自的 pgpass 文件")
    return 0
