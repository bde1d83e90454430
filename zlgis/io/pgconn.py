"""Connections to a PostgreSQL server: URLs, credentials and the user's messages.

A server is named by a URL without a password, ``postgresql://user@host:5432/dbname``. The
password comes from where libpq looks for it: the ``PGPASSWORD`` environment variable or a
password file (``~/.pgpass``, or the file ``PGPASSFILE`` names, mode 600). A URL that holds a
password is refused (it would be seen in the process list, shell history and logs), and no
message ever shows one: :func:`redact` is applied to every URL zlgis prints.

Errors from the driver become typed errors with a Chinese message (:func:`pg_error`): a wrong
password, an unreachable server, a missing database or role, a connection that the server
dropped in the middle of a run. They are ``DatabaseError`` (exit 2, no traceback).

Examples
--------
>>> is_pg_url("postgresql://planner@db.example:5432/zlgis"), is_pg_url("out/ledger.sqlite")
(True, False)
>>> redact("postgresql://planner:secret@db.example/zlgis")
'postgresql://planner:***@db.example/zlgis'
>>> check_url("postgresql://planner@db.example/zlgis")
'postgresql://planner@db.example/zlgis'
"""

from __future__ import annotations

import os
import re
from typing import Any
from urllib.parse import urlsplit, urlunsplit

from ..errors import DatabaseError

__all__ = ["is_pg_url", "redact", "check_url", "connect", "pg_error", "PG_SCHEMES"]

#: URL schemes taken as a PostgreSQL server (SQLAlchemy's driver suffix is accepted too).
PG_SCHEMES = ("postgresql", "postgres", "postgresql+psycopg", "postgresql+psycopg2")


def is_pg_url(text: Any) -> bool:
    """True when ``text`` is a ``postgresql://`` URL (not a file path)."""
    if not isinstance(text, str):
        return False
    return bool(re.match(r"^(postgresql|postgres)(\+\w+)?://", text.strip(), re.IGNORECASE))


def redact(url: str) -> str:
    """The URL with any password replaced by ``***`` (for messages and logs)."""
    parts = urlsplit(str(url))
    if parts.password is None:
        return str(url)
    user = parts.username or ""
    host = parts.hostname or ""
    if ":" in host:  # IPv6 literal
        host = f"[{host}]"
    port = f":{parts.port}" if parts.port else ""
    return urlunsplit((parts.scheme, f"{user}:***@{host}{port}", parts.path, parts.query,
                       parts.fragment))


def check_url(url: str, *, what: str = "数据库地址") -> str:
    """Check a server URL and return it in the form libpq reads (``postgresql://``).

    Refuses (``DatabaseError``, exit 2) a URL with a password, a scheme other than
    PostgreSQL's, or no database name.
    """
    text = str(url).strip()
    if not is_pg_url(text):
        raise DatabaseError(f"{what} {redact(text)!r} 不是 postgresql:// 地址")
    try:
        parts = urlsplit(text)
        parts.port  # noqa: B018 (raises on a bad port)
    except ValueError:
        raise DatabaseError(f"{what} {redact(text)} 格式不对，应写成 "
                         "postgresql://用户名@服务器:端口/数据库名") from None
    if parts.password is not None:
        raise DatabaseError(f"{what}中不要写密码（{redact(text)}）：密码请放在 PGPASSWORD 环境变量"
                         "或 pgpass 文件（~/.pgpass，权限 600）中")
    if not parts.path.strip("/") and "dbname=" not in parts.query:
        raise DatabaseError(f"{what} {text} 缺少数据库名，应写成 postgresql://用户名@服务器:端口/数据库名")
    return urlunsplit(("postgresql", parts.netloc, parts.path, parts.query, parts.fragment))


def _where(url: str) -> str:
    parts = urlsplit(str(url))
    host = parts.hostname or "本机"
    port = parts.port or 5432
    db = parts.path.strip("/") or "?"
    return f"数据库 {parts.username + '@' if parts.username else ''}{host}:{port}/{db}"


def pg_error(exc: BaseException, url: str, *, doing: str = "") -> DatabaseError:
    """The user's message for a psycopg error (``doing``: what was under way, in Chinese).

    >>> import psycopg
    >>> e = pg_error(psycopg.OperationalError('connection failed: FATAL:  password '
    ...              'authentication failed for user "planner"'), "postgresql://planner@h/db")
    >>> str(e)
    '数据库 planner@h:5432/db：登录被拒绝：用户 planner 的密码不对（请检查 PGPASSWORD 环境变量或 pgpass 文件）'
    """
    text = str(exc)
    sqlstate = getattr(exc, "sqlstate", None) or ""
    user = urlsplit(str(url)).username or os.environ.get("PGUSER", "")
    tail = f"（{doing}未完成，台账未改变）" if doing else ""
    if "password authentication failed" in text:
        msg = f"登录被拒绝：用户 {user} 的密码不对（请检查 PGPASSWORD 环境变量或 pgpass 文件）"
    elif "no password supplied" in text:
        msg = "服务器要求密码，但没有提供（请设置 PGPASSWORD 环境变量或 pgpass 文件，权限 600）"
    elif re.search(r'database ".*" does not exist', text):
        msg = "数据库不存在（请检查地址中的数据库名）"
    elif re.search(r'role ".*" does not exist', text):
        msg = f"数据库用户 {user} 不存在"
    elif sqlstate in ("57P01", "57P02", "57P03") or "terminating connection" in text \
            or "server closed the connection" in text or "connection is lost" in text \
            or "consuming input failed" in text or "the connection is closed" in text:
        msg = "数据库连接中断（服务器已停止或连接被终止）" + (tail or "，操作未完成")
        tail = ""
    elif "Connection refused" in text or "could not connect" in text or "timeout expired" in text \
            or "could not translate host name" in text or "No route to host" in text:
        msg = "无法连接数据库服务器（服务器未启动、地址或端口不对，或网络不通）"
    elif sqlstate == "42501" or "permission denied" in text or "row-level security" in text:
        msg = f"用户 {user} 没有权限执行此操作：{_first_line(text)}"
    elif sqlstate == "3D000":
        msg = "数据库不存在（请检查地址中的数据库名）"
    else:
        msg = f"数据库操作失败：{_first_line(text)}"
    return DatabaseError(msg + tail, where=_where(url))


def _first_line(text: str) -> str:
    line = text.strip().splitlines()[0] if text.strip() else ""
    return re.sub(r"password=\S+", "password=***", line)


def connect(url: str, *, autocommit: bool = False, timeout: int = 15, **kwargs: Any) -> Any:
    """Open a psycopg connection to ``url`` (checked by :func:`check_url`).

    The password comes from ``PGPASSWORD`` or the pgpass file (libpq). Errors become a
    :class:`~zlgis.errors.DatabaseError` with a Chinese message (:func:`pg_error`).
    """
    try:
        import psycopg
    except ImportError:
        raise DatabaseError("未安装 PostgreSQL 驱动：pip install 'zlgis[postgis]'",
                            where=_where(url)) from None
    conninfo = check_url(url)
    try:
        return psycopg.connect(conninfo, autocommit=autocommit, connect_timeout=timeout,
                               application_name="zlgis", **kwargs)
    except psycopg.Error as exc:
        raise pg_error(exc, conninfo) from None
