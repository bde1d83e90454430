"""Roles of a shared PostgreSQL ledger, created by ``zlgis db init``.

====================== =====================================================================
role                   may
====================== =====================================================================
``<p>owner``           own the schema ``zlgis`` and its tables: the weekly run logs in as it
``<p>dept_<code>``     one per department of ``departments.yaml``: read the internal ledger,
                       and change only the staff status, note and photo of the findings its
                       department leads (row-level security on ``staff`` and ``history``);
                       the Excel import (``zlgis ledger import``) logs in as it
``<p>portal``          read the public views only (``public_findings``,
                       ``public_status_counts``): public findings, no feature ids, measures,
                       notes, photos, names, phone numbers, plates or hotline text
====================== =====================================================================

``<p>`` is the prefix (default ``zlgis_``). The roles can log in but get no password here: the
database administrator sets one (``ALTER ROLE ... PASSWORD``) and each user keeps it in a pgpass
file. Running ``zlgis db init`` again is safe (roles, grants and policies are brought up to date).
"""

from __future__ import annotations

import contextlib
from typing import Any

from ..config import load_config
from ..errors import DatabaseError, InputError
from ..io.pgconn import check_url, connect, pg_error, redact
from .db_postgres import SCHEMA, PostgresDB

__all__ = ["init_database", "role_names"]

_PREFIX_CHARS = set("abcdefghijklmnopqrstuvwxyz0123456789_")


def role_names(prefix: str = "zlgis_") -> dict[str, Any]:
    """The role names: ``{"owner": ..., "portal": ..., "departments": {code: role}}``."""
    if not prefix or not set(prefix) <= _PREFIX_CHARS or prefix[0].isdigit():
        raise InputError(f"角色前缀 {prefix!r} 只能包含小写字母、数字和下划线，且不能以数字开头")
    codes = sorted(load_config("departments")["departments"])
    return {"owner": f"{prefix}owner", "portal": f"{prefix}portal",
            "departments": {c: f"{prefix}dept_{c}" for c in codes}}


def _ident(name: str) -> Any:
    from psycopg import sql

    return sql.Identifier(name)


def _create_roles(con: Any, names: dict[str, Any]) -> list[str]:
    from psycopg import sql

    created = []
    for role in [names["owner"], names["portal"], *names["departments"].values()]:
        if not con.execute("SELECT 1 FROM pg_roles WHERE rolname = %s", (role,)).fetchone():
            con.execute(sql.SQL("CREATE ROLE {} LOGIN").format(_ident(role)))
            created.append(role)
    is_super = con.execute("SELECT rolsuper FROM pg_roles WHERE rolname = current_user"
                           ).fetchone()[0]
    if not is_super:  # the administrator must be able to SET ROLE to the owner
        con.execute(sql.SQL("GRANT {} TO current_user").format(_ident(names["owner"])))
    con.execute(sql.SQL("GRANT CREATE, CONNECT ON DATABASE {} TO {}").format(
        _ident(con.execute("SELECT current_database()").fetchone()[0]), _ident(names["owner"])))
    return created


_LEAD_OF = f"""
CREATE OR REPLACE FUNCTION {SCHEMA}.lead_of(fid text, dept text) RETURNS boolean
LANGUAGE sql STABLE AS $$
    SELECT EXISTS (SELECT 1 FROM {SCHEMA}.findings f WHERE f.finding_id = fid
                   AND position(';' || dept || ';' in ';' || f.lead_department || ';') > 0)
$$"""


def _grant(con: Any, names: dict[str, Any]) -> None:
    from psycopg import sql

    s = _ident(SCHEMA)
    depts = names["departments"]
    everyone = [names["portal"], *depts.values()]
    con.execute(sql.SQL("REVOKE ALL ON SCHEMA {} FROM PUBLIC").format(s))
    con.execute(sql.SQL("GRANT USAGE ON SCHEMA {} TO {}").format(
        s, sql.SQL(", ").join(map(_ident, everyone))))
    con.execute(_LEAD_OF)
    con.execute(sql.SQL("REVOKE ALL ON ALL TABLES IN SCHEMA {} FROM {}").format(
        s, sql.SQL(", ").join(map(_ident, everyone))))
    con.execute(sql.SQL("GRANT SELECT ON {}.public_findings, {}.public_status_counts TO {}")
                .format(s, s, _ident(names["portal"])))
    for table in ("staff", "history"):
        con.execute(sql.SQL("ALTER TABLE {}.{} ENABLE ROW LEVEL SECURITY").format(
            s, _ident(table)))
    for code, role in depts.items():
        r = _ident(role)
        con.execute(sql.SQL("GRANT SELECT ON {}.findings, {}.history, {}.runs, {}.staff, {}.meta, "
                            "{}.schema_version TO {}").format(s, s, s, s, s, s, r))
        con.execute(sql.SQL("GRANT INSERT (finding_id, staff_status, note, photo, edited_week), "
                            "UPDATE (staff_status, note, photo, edited_week) ON {}.staff TO {}")
                    .format(s, r))
        con.execute(sql.SQL("GRANT UPDATE (status, event) ON {}.history TO {}").format(s, r))
        con.execute(sql.SQL("GRANT INSERT (week, file, sha1, n_changed) ON {}.imports TO {}")
                    .format(s, r))
        own = sql.SQL("{}.lead_of(finding_id, {})").format(s, sql.Literal(code))
        for table in ("staff", "history"):
            t = sql.SQL("{}.{}").format(s, _ident(table))
            for verb, clause in (("SELECT", "USING (true)"),
                                 ("INSERT", "WITH CHECK ({own})"),
                                 ("UPDATE", "USING ({own}) WITH CHECK ({own})")):
                if table == "history" and verb == "INSERT":
                    continue
                name = _ident(f"{role}_{verb.lower()}")
                con.execute(sql.SQL("DROP POLICY IF EXISTS {} ON {}").format(name, t))
                con.execute(sql.SQL("CREATE POLICY {} ON {} FOR " + verb + " TO {} "
                                    + clause).format(name, t, r, own=own))


def _hand_over(con: Any, owner: str) -> None:
    """Make the owner role own the schema and everything in it (a ledger created before
    ``zlgis db init``, by another role, is handed over)."""
    from psycopg import sql

    con.execute(sql.SQL("ALTER SCHEMA {} OWNER TO {}").format(_ident(SCHEMA), _ident(owner)))
    rows = con.execute("SELECT c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = "
                       "c.relnamespace WHERE n.nspname = %s AND c.relkind IN ('r', 'v') AND "
                       "pg_get_userbyid(c.relowner) <> %s", (SCHEMA, owner)).fetchall()
    for (name,) in rows:
        con.execute(sql.SQL("ALTER TABLE {}.{} OWNER TO {}").format(
            _ident(SCHEMA), _ident(name), _ident(owner)))
    for (sig,) in con.execute("SELECT p.oid::regprocedure::text FROM pg_proc p JOIN "
                              "pg_namespace n ON n.oid = p.pronamespace WHERE n.nspname = %s",
                              (SCHEMA,)).fetchall():
        con.execute(sql.SQL("ALTER FUNCTION {} OWNER TO {}").format(sql.SQL(sig), _ident(owner)))


def init_database(url: str, *, prefix: str = "zlgis_") -> dict[str, Any]:
    """Create the roles, the ledger schema (migrations, owned by the owner role) and the grants.

    Run by a database administrator (a superuser, or a role with ``CREATEROLE`` that owns the
    database). Returns the role names, the roles created and the migrations applied.
    """
    url = check_url(url, what="数据库地址")
    names = role_names(prefix)
    import psycopg

    con = connect(url)
    try:
        with con.transaction():
            created = _create_roles(con, names)
    except psycopg.Error as exc:
        raise pg_error(exc, url, doing="创建角色") from None
    finally:
        with contextlib.suppress(Exception):
            con.close()
    db = PostgresDB.__new__(PostgresDB)
    db.url, db.target, db.path = url, redact(url), redact(url)
    applied = db.migrate(owner=names["owner"])
    con = connect(url)
    try:
        with con.transaction():
            _hand_over(con, names["owner"])
            con.execute(psycopg.sql.SQL("SET LOCAL ROLE {}").format(_ident(names["owner"])))
            _grant(con, names)
    except psycopg.Error as exc:
        raise pg_error(exc, url, doing="授权") from None
    except DatabaseError:
        raise
    finally:
        with contextlib.suppress(Exception):
            con.close()
    return {**names, "created": created, "applied": applied}
