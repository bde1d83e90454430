"""``zlgis db init``: prepare a PostgreSQL database for a shared ledger (schema, roles, grants).
``zlgis db load-layers``: copy a catalog's file layers into PostGIS and write the catalog that
reads them from there.

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
    """Add ``db`` (``db init``, ``db load-layers``) to the ``zlgis`` command."""
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
    load = sub.add_parser(
        "load-layers", help="把图层目录中的文件图层导入 PostGIS，并写出从数据库读取的新图层目录",
        description="把图层目录中每个文件图层（栅格、推算图层除外）按原样导入数据库模式 SCHEMA 的同名表"
                    "（COPY，建立 GiST 空间索引），并写出新的图层目录：其 source 指向这些表，"
                    "校验规则不变。密码用 PGPASSWORD 或 pgpass 文件提供，地址中不写密码。")
    add_common_options(load)
    load.add_argument("layers", nargs="*", metavar="LAYER", help="只导入这些图层（默认全部文件图层）")
    load.add_argument("--url", required=True, metavar="URL",
                      help="数据库地址 postgresql://用户名@服务器:端口/数据库名（需已安装 PostGIS）")
    load.add_argument("--schema", default="public", metavar="SCHEMA", help="目标模式（默认 public）")
    load.add_argument("--out", required=True, metavar="CATALOG.yaml",
                      help="写出的新图层目录（从数据库读取这些图层）")
    load.set_defaults(func=_load_layers)


def _load_layers(args: argparse.Namespace) -> int:
    import yaml

    from ..catalog import Catalog
    from ..errors import InputError, UnreadableInputError
    from ..io.atomic import atomic_path
    from ..io.pgconn import check_url, redact
    from ..io.postgis_write import load_catalog_layers

    try:
        url = check_url(args.url)
    except InputError as exc:  # a URL with a password, or not a server: unusable input (exit 2)
        raise UnreadableInputError(exc.message) from None
    catalog = Catalog.load(args.catalog)
    for lid in args.layers:
        catalog[lid]  # an unknown layer id: CatalogError (exit 2) before any work
    timings: dict[str, float] = {}
    raw = load_catalog_layers(catalog, url, schema=args.schema, ids=args.layers or None,
                              timings=timings)
    with atomic_path(args.out) as tmp:
        tmp.write_text(yaml.safe_dump(raw, allow_unicode=True, sort_keys=False),
                       encoding="utf-8")
    for lid, seconds in timings.items():
        print(f"已导入 {lid}（{catalog[lid].title}）→ {args.schema}.{lid}，{seconds:.1f} 秒")
    print(f"共导入 {len(timings)} 个图层到 {redact(url)}；新图层目录：{args.out}")
    return 0


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
