"""``zlgis serve``: a weekly output folder (or the portal) over HTTP for staff.

Weekly maps with vector-tile layers (big layers, ``tiles/*.pmtiles``) need HTTP with range
requests; this server answers them (:mod:`zlgis.publish.serve`). It listens on 127.0.0.1 unless
``--host`` says otherwise.

Examples (shell)::

    zlgis weekly --demo --out out
    zlgis serve out --port 8000        # then open http://127.0.0.1:8000/2022-W35/map_internal.html
"""

from __future__ import annotations

import argparse
from typing import Any

from . import add_common_options

__all__ = ["register", "run_serve"]


def register(subparsers: Any, check_subparsers: Any) -> None:
    """Add ``serve`` to the ``zlgis`` command."""
    p = subparsers.add_parser(
        "serve", help="在本机以网页方式发布一个文件夹（每周输出或公示网站；支持矢量瓦片所需的"
                      "分段请求），默认只允许本机访问")
    add_common_options(p, catalog=False)
    p.add_argument("directory", metavar="DIR", help="要发布的文件夹（如 out 或 out/public）")
    p.add_argument("--port", type=int, default=8000, help="端口（默认 8000；0 为任一空闲端口）")
    p.add_argument("--host", default="127.0.0.1",
                   help="监听地址（默认 127.0.0.1 只允许本机；局域网内共享时填本机地址）")
    p.set_defaults(func=run_serve)


def run_serve(args: argparse.Namespace) -> int:
    from ..publish.serve import make_server

    srv = make_server(args.directory, host=args.host, port=args.port,
                      quiet=getattr(args, "quiet", False))
    host, port = srv.server_address[:2]
    # the address line is printed even with --quiet: it is what the user needs
    print(f"正在发布 {args.directory}：http://{host}:{port}/ （按 Ctrl+C 停止）", flush=True)
    try:
        srv.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        srv.server_close()
    return 0
