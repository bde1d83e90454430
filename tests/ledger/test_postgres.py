"""The ledger in PostgreSQL, against the real server of ``scripts/pg_cluster.sh`` (``.ci/run``):
same rows as SQLite, migrations, roles (department row-level security, portal views), concurrent
department imports, injection strings, a wrong password and a server that goes away.

Each test gets a fresh database (``pg_database``); role names carry a per-test prefix because
roles are shared by the whole cluster.
"""

from __future__ import annotations

import os
import subprocess
import sys
import uuid
from pathlib import Path

import openpyxl
import pandas as pd
import psycopg
import pytest
from shapely.geometry import Point

from zlgis.cli import main as cli_main
from zlgis.errors import DatabaseError
from zlgis.findings import FINDING_COLUMNS, concat_findings, make_findings
from zlgis.ledger import Ledger
from zlgis.ledger.db_postgres import latest_version, migrations
from zlgis.ledger.excel import export_excel

ROOT = Path(__file__).resolve().parents[2]
PHONE = "13912345678"
NAME = "王建国"


def _findings(extra_note: str = ""):
    a = make_findings(rule="red_line_encroachment", feature_ids=[["B1", "R1"], ["B2", "R1"]],
                      layer="buildings", geometry=[Point(480000, 5316000), Point(480050, 5316000)],
                      measures=[{"area_m2": 12.5}, {"area_m2": 3.0}])
    b = make_findings(rule="lamp_fault_overdue", feature_ids=[["F1"]], layer="lamp_faults",
                      geometry=[Point(480100, 5316100)], observed_at=["2022-09-01T08:30"],
                      measures=[{"reporter": NAME, "phone": PHONE, "hotline_text": "路灯不亮"}])
    return concat_findings([a, b])


def _ids(ledger: Ledger) -> dict[str, str]:
    v = ledger.view()
    return dict(zip(v["rule"] + ":" + v["feature_id"], v["finding_id"]))


def _role_url(url: str, role: str) -> str:
    return url.replace("//zlgis@", f"//{role}@", 1)


def _set_password(url: str, role: str, password: str) -> None:
    with psycopg.connect(url, autocommit=True) as con:
        con.execute(psycopg.sql.SQL("ALTER ROLE {} PASSWORD {}").format(
            psycopg.sql.Identifier(role), psycopg.sql.Literal(password)))


@pytest.fixture
def prefix() -> str:
    return f"t{uuid.uuid4().hex[:8]}_"


# ------------------------------------------------------------------- same ledger as SQLite
def test_same_rows_as_sqlite_over_weeks(pg_database, tmp_path):
    """Four weeks (new, open, rectified, reopened, overdue, a staff claim) give the same
    statuses, events, deadlines and geometries in both backends."""
    lite, pg = Ledger(tmp_path / "ledger.sqlite"), Ledger(pg_database)
    f = _findings()
    weeks = [("2022-W35", f), ("2022-W36", f.iloc[[0, 2]]), ("2022-W37", f),
             ("2022-W45", f.iloc[[1]])]
    for week, found in weeks:
        results = [led.merge(found, week=week, checks_run=["controllines", "lamps"])
                   for led in (lite, pg)]
        assert results[0] == results[1]
        if week == "2022-W36":
            for led in (lite, pg):
                fid = _ids(led)["red_line_encroachment:B1"]
                led.apply_edits(pd.DataFrame([{"finding_id": fid, "status": "rectified",
                                               "note": "已拆除", "photo": "P1"}]),
                                export_week=week)
    for week, _ in weeks:
        a, b = pd.DataFrame(lite.view(week)), pd.DataFrame(pg.view(week))
        pd.testing.assert_frame_equal(a.drop(columns="geometry"), b.drop(columns="geometry"))
        assert a["geometry"].equals(b["geometry"])
    assert set(pg.view("2022-W45")["status"]) == {"overdue", "rectified"}
    assert set(pg.view("2022-W37")["event"]) >= {"reopened"}
    assert pg.view("2022-W36").set_index("feature_id").loc["B1", "note"] == "已拆除"
    pd.testing.assert_frame_equal(lite.status_counts(), pg.status_counts())
    assert lite.weeks() == pg.weeks() and lite.crs == pg.crs == "EPSG:4550"


def test_demo_weekly_run_same_as_sqlite(demo_catalog, demo_week, pg_database, tmp_path,
                                        monkeypatch):
    """The demo city's weekly run with the ledger in PostgreSQL: the same findings, ledger rows
    (ids, statuses, deadlines) and Excel ledger as with the SQLite file (``demo_week``)."""
    from conftest import DEMO_SALT

    from zlgis.weekly import run_weekly

    monkeypatch.setenv("ZLGIS_PLATE_SALT", DEMO_SALT)
    lite = demo_week
    pg = run_weekly(demo_catalog, tmp_path / "pg", week="2022-W35", ledger_path=pg_database)
    assert pg.ledger_path == pg_database
    assert lite.merge == pg.merge and pg.merge.n_found > 100
    a = pd.DataFrame(Ledger(lite.ledger_path).view())
    b = pd.DataFrame(Ledger(pg_database).view())
    pd.testing.assert_frame_equal(a.drop(columns="geometry"), b.drop(columns="geometry"))
    assert a["geometry"].equals(b["geometry"])
    wa, wb = (openpyxl.load_workbook(r.files["excel"]) for r in (lite, pg))
    assert wa.sheetnames == wb.sheetnames
    for name in wa.sheetnames:
        assert [list(r) for r in wa[name].iter_rows(values_only=True)] == \
            [list(r) for r in wb[name].iter_rows(values_only=True)], name
    for key in ("gpkg", "portal_data"):
        assert lite.files[key].read_bytes() == pg.files[key].read_bytes(), key


# ------------------------------------------------------------------------------ migrations
def test_migrations_versioned_and_idempotent(pg_database):
    Ledger(pg_database)
    Ledger(pg_database)  # second open: nothing applied again
    with psycopg.connect(pg_database) as con:
        rows = con.execute("SELECT version, name FROM zlgis.schema_version ORDER BY 1").fetchall()
        cols = [r[0] for r in con.execute(
            "SELECT column_name FROM information_schema.columns WHERE table_schema='zlgis' "
            "AND table_name='findings' ORDER BY ordinal_position")]
    assert rows == [(v, n) for v, n, _ in migrations()]
    assert rows[-1][0] == latest_version()
    assert cols == [*FINDING_COLUMNS, "geometry"]
    # an empty database opened read-only is an error, not a silent new ledger
    with pytest.raises(Exception, match="还没有台账"):
        Ledger(pg_database.rsplit("/", 1)[0] + "/zlgis_test_template", create=False)


# ----------------------------------------------------------------------------------- roles
@pytest.fixture
def shared(pg_database, prefix, tmp_path):
    """A database prepared by ``zlgis db init`` (CLI), one merged week, and its Excel export."""
    assert cli_main(["db", "init", "--url", pg_database, "--prefix", prefix]) == 0
    owner = prefix + "owner"
    _set_password(pg_database, owner, "owner-pw")
    os.environ["PGPASSWORD"] = "owner-pw"
    try:
        led = Ledger(_role_url(pg_database, owner))
        led.merge(_findings(), week="2022-W35", checks_run=["controllines", "lamps"])
    finally:
        del os.environ["PGPASSWORD"]
    xlsx = export_excel(Ledger(pg_database), tmp_path / "ledger_2022-W35.xlsx")
    return pg_database, prefix, xlsx


def test_db_init_roles_and_owner(shared):
    url, prefix, _ = shared
    with psycopg.connect(url) as con:
        owners = {r[0] for r in con.execute(
            "SELECT tableowner FROM pg_tables WHERE schemaname='zlgis'")}
        roles = {r[0] for r in con.execute("SELECT rolname FROM pg_roles WHERE rolname LIKE %s",
                                           (prefix + "%",))}
    assert owners == {prefix + "owner"}
    assert {prefix + "portal", prefix + "dept_natural_resources", prefix + "dept_urban_enforcement",
            prefix + "dept_housing_construction", prefix + "dept_public_security"} <= roles
    # running it again is safe
    assert cli_main(["db", "init", "--url", url, "--prefix", prefix]) == 0


def test_portal_role_reads_public_views_only(shared):
    url, prefix, _ = shared
    with psycopg.connect(url, autocommit=True) as con:
        con.execute("UPDATE zlgis.staff SET note = note")  # (no rows: a note with a phone below)
        con.execute("INSERT INTO zlgis.staff VALUES ((SELECT min(finding_id) FROM zlgis.findings),"
                    " 'open', %s, 'IMG_1', '2022-W35')", (f"联系人 {NAME} 电话 {PHONE}",))
        con.execute(psycopg.sql.SQL("SET ROLE {}").format(psycopg.sql.Identifier(prefix + "portal")))
        for sql in ("SELECT note FROM zlgis.staff", "SELECT measures FROM zlgis.findings",
                    "SELECT feature_id FROM zlgis.findings", "SELECT * FROM zlgis.history"):
            with pytest.raises(psycopg.errors.InsufficientPrivilege, match="permission denied"):
                con.execute(sql)
        rows = con.execute("SELECT * FROM zlgis.public_findings").fetchall()
        counts = con.execute("SELECT sum(n) FROM zlgis.public_status_counts").fetchone()[0]
    assert rows and counts == len(rows)
    text = repr(rows)
    assert PHONE not in text and NAME not in text and "F1" not in text and "B1" not in text


def test_department_role_changes_only_its_own_rows(shared, tmp_path):
    url, prefix, xlsx = shared
    ids = _ids(Ledger(url))
    red, lamp = ids["red_line_encroachment:B1"], ids["lamp_fault_overdue:F1"]
    role = prefix + "dept_housing_construction"  # leads the lamp faults (task 2.1.5)
    with psycopg.connect(url, autocommit=True) as con:
        con.execute(psycopg.sql.SQL("SET ROLE {}").format(psycopg.sql.Identifier(role)))
        with pytest.raises(psycopg.errors.InsufficientPrivilege, match="row-level security"):
            con.execute("INSERT INTO zlgis.staff VALUES (%s, 'rectified', 'x', '', '2022-W35')",
                        (red,))
        con.execute("UPDATE zlgis.history SET status = 'rectified' WHERE finding_id = %s", (red,))
        with pytest.raises(psycopg.errors.InsufficientPrivilege, match="permission denied"):
            con.execute("UPDATE zlgis.history SET deadline = '2030-01-01'")
        with pytest.raises(psycopg.errors.InsufficientPrivilege, match="permission denied"):
            con.execute("UPDATE zlgis.findings SET title = 'x'")
        con.execute("INSERT INTO zlgis.staff VALUES (%s, 'rectified', '已修复', '', '2022-W35')",
                    (lamp,))
    v = Ledger(url).view().set_index("finding_id")
    assert v.loc[red, "status"] == "new"  # the other department's row is untouched
    assert v.loc[lamp, "note"] == "已修复"
    # through the CLI: an import that touches another department's finding is refused whole
    fp = Ledger(url).fingerprint()
    edited = _edit(xlsx, tmp_path / "other.xlsx", "自然资源局", {red: ("已整改", "越权修改", "")})
    _set_password(url, role, "dept-pw")
    proc = _import(edited, _role_url(url, role), "dept-pw")
    assert proc.returncode == 2, proc.stderr
    assert "没有权限" in proc.stderr and "Traceback" not in proc.stderr
    assert "dept-pw" not in proc.stderr + proc.stdout
    assert Ledger(url).fingerprint() == fp


def _edit(src: Path, dst: Path, sheet: str,
          fid_values: dict[str, tuple[str | None, str | None, str | None]]) -> Path:
    wb = openpyxl.load_workbook(src)
    ws = wb[sheet]
    header = [c.value for c in ws[1]]
    for r in range(2, ws.max_row + 1):
        fid = ws.cell(r, header.index("问题编号") + 1).value
        if fid in fid_values:
            for col, value in zip(("状态", "整改说明", "照片编号"), fid_values[fid]):
                if value is not None:  # None: left as exported
                    ws.cell(r, header.index(col) + 1).value = value
    wb.save(dst)
    return dst


def _import(xlsx: Path, url: str, password: str, *, wait: bool = True):
    env = {**os.environ, "PGPASSWORD": password}
    cmd = [sys.executable, "-m", "zlgis", "ledger", "import", str(xlsx), "--ledger", url]
    if not wait:
        return subprocess.Popen(cmd, env=env, cwd=ROOT, stdout=subprocess.PIPE,
                                stderr=subprocess.PIPE, text=True)
    return subprocess.run(cmd, env=env, cwd=ROOT, capture_output=True, text=True, timeout=120)


def test_two_department_imports_at_once(shared, tmp_path):
    """Two departments import their sheets at the same moment (two processes, each logged in as
    its department's role): both take effect, once each."""
    from zlgis.ledger.db_postgres import LOCK_KEY

    url, prefix, xlsx = shared
    ids = _ids(Ledger(url))
    red1, red2, lamp = (ids["red_line_encroachment:B1"], ids["red_line_encroachment:B2"],
                        ids["lamp_fault_overdue:F1"])
    a = _edit(xlsx, tmp_path / "nr.xlsx", "自然资源局",
              {red1: ("已整改", "已拆除 '); DROP TABLE zlgis.history; --", "IMG_7"),
               red2: (None, "拆除中", None)})
    b = _edit(xlsx, tmp_path / "hc.xlsx", "住建局", {lamp: ("已整改", "已更换灯泡", "IMG_9")})
    jobs = []
    for dept, path in (("natural_resources", a), ("housing_construction", b)):
        role = f"{prefix}dept_{dept}"
        _set_password(url, role, f"{dept}-pw")
        jobs.append((path, _role_url(url, role), f"{dept}-pw"))
    # hold the writers' lock so that both imports are waiting for it when it is released
    with psycopg.connect(url) as holder:
        holder.execute("SELECT pg_advisory_xact_lock(%s)", (LOCK_KEY,))
        procs = [_import(*job, wait=False) for job in jobs]
        with psycopg.connect(url, autocommit=True) as watch:
            for _ in range(600):
                waiting = watch.execute(
                    "SELECT count(*) FROM pg_stat_activity WHERE application_name='zlgis' "
                    "AND wait_event_type='Lock' AND datname=current_database()").fetchone()[0]
                if waiting == 2:
                    break
                import time

                time.sleep(0.1)
        assert waiting == 2, [p.poll() for p in procs] + [
            p.communicate() for p in procs if p.poll() is not None]
        holder.rollback()
    outs = [p.communicate(timeout=120) for p in procs]
    assert [p.returncode for p in procs] == [0, 0], outs
    v = Ledger(url).view().set_index("finding_id")
    assert v.loc[red1, ["status", "note", "photo"]].tolist() == [
        "rectified", "已拆除 '); DROP TABLE zlgis.history; --", "IMG_7"]
    assert v.loc[red2, ["status", "note"]].tolist() == ["new", "拆除中"]
    assert v.loc[lamp, ["status", "note", "photo"]].tolist() == ["rectified", "已更换灯泡", "IMG_9"]
    with psycopg.connect(url) as con:
        done = con.execute("SELECT by_role, n_changed FROM zlgis.imports ORDER BY seq").fetchall()
    assert sorted(done) == sorted([(prefix + "dept_natural_resources", 2),
                                   (prefix + "dept_housing_construction", 1)])


# ------------------------------------------------------------------------- text, injection
INJECTIONS = ["'; DROP TABLE zlgis.findings; --", "\" OR 1=1 --", "x\\'y", "%s %(a)s ?",
              "a\nb\r\tc", "\\N", "", "$$; SELECT 1; $$", "Robert'); DELETE FROM staff;--"]


def test_injection_strings_stored_as_text(pg_database):
    f = _findings()
    text_cols = [c for c in FINDING_COLUMNS if c not in ("finding_id", "measure", "public")]
    rows = []
    for k, s in enumerate(INJECTIONS):
        row = f.iloc[0].copy()
        for c in text_cols:
            row[c] = s
        row["finding_id"] = f"inj-{k}-{s}"
        rows.append(row)
    bad = f.__class__(rows, crs=f.crs, geometry="geometry").reset_index(drop=True)
    led = Ledger(pg_database)
    led.merge(bad, week="2022-W35", checks_run=[])
    v = led.view().set_index("finding_id")
    for k, s in enumerate(INJECTIONS):
        got = v.loc[f"inj-{k}-{s}"]
        assert all(got[c] == s for c in text_cols), s
    edits = pd.DataFrame([{"finding_id": f"inj-{k}-{s}", "status": "", "note": s, "photo": s}
                          for k, s in enumerate(INJECTIONS) if s])
    led.apply_edits(edits, export_week="2022-W35", source="'; DROP TABLE x; --.xlsx")
    v = led.view().set_index("finding_id")
    for r in edits.itertuples():
        assert (v.loc[r.finding_id, "note"], v.loc[r.finding_id, "photo"]) == (r.note, r.photo)
    with psycopg.connect(pg_database) as con:
        tables = {r[0] for r in con.execute(
            "SELECT tablename FROM pg_tables WHERE schemaname='zlgis'")}
    assert {"findings", "history", "staff", "runs", "meta", "imports"} <= tables


# ---------------------------------------------------------------------- bad connections
def test_wrong_password_clear_message(pg_database, tmp_path):
    Ledger(pg_database)
    env = {**os.environ, "PGPASSWORD": "wrong-secret-123", "PGPASSFILE": "/nonexistent"}
    proc = subprocess.run([sys.executable, "-m", "zlgis", "ledger", "status", "--ledger",
                           pg_database], env=env, cwd=ROOT, capture_output=True, text=True,
                          timeout=60)
    assert proc.returncode == 2
    assert "Traceback" not in proc.stderr
    assert "密码不对" in proc.stderr and "PGPASSWORD" in proc.stderr
    assert "wrong-secret-123" not in proc.stderr + proc.stdout
    # a password inside the URL is refused before anything is sent
    with pytest.raises(DatabaseError, match="不要写密码"):
        Ledger(pg_database.replace("//zlgis@", "//zlgis:hunter2@"))
    code = cli_main(["ledger", "status", "--ledger",
                     pg_database.replace("//zlgis@", "//zlgis:hunter2@")])
    assert code == 2


def test_server_unreachable_exit_2(tmp_path, capsys):
    code = cli_main(["ledger", "status", "--ledger", "postgresql://zlgis@127.0.0.1:1/zlgis"])
    err = capsys.readouterr().err
    assert code == 2 and "无法连接数据库服务器" in err and "127.0.0.1:1/zlgis" in err


def test_server_going_away_mid_merge_leaves_ledger(pg_database):
    """The connection is terminated by the server (pg_terminate_backend) inside the merge: the
    run stops with a Chinese message (exit 2) and the ledger is as it was."""
    led = Ledger(pg_database)
    f = _findings()
    led.merge(f, week="2022-W35", checks_run=["controllines", "lamps"])
    fp = led.fingerprint()

    def terminate(stage: str) -> None:
        if stage == "ledger":
            with psycopg.connect(pg_database, autocommit=True) as admin:
                n = admin.execute(
                    "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity WHERE "
                    "application_name='zlgis' AND datname=current_database() AND "
                    "pid <> pg_backend_pid()").fetchone()[0]
            assert n == 1

    with pytest.raises(DatabaseError) as err:
        led.merge(f.iloc[:1], week="2022-W36", checks_run=["controllines", "lamps"],
                  hook=terminate)
    assert err.value.exit_code == 2
    assert "数据库连接中断" in str(err.value) and "台账未改变" in str(err.value)
    assert led.fingerprint() == fp and led.weeks() == ["2022-W35"]


def test_sigkill_mid_merge_leaves_ledger(pg_database, tmp_path):
    """``zlgis weekly --ledger postgresql://...`` killed (SIGKILL) inside the ledger transaction,
    and just before its commit: the ledger is still the previous week's."""
    import signal

    from _small_city import write_city

    from zlgis.weekly import KILL_ENV, run_weekly

    cat = write_city(tmp_path / "city", ["B1", "B2"])
    run_weekly(cat, tmp_path / "out", week="2022-W35", checks=["controllines"],
               ledger_path=pg_database)
    write_city(tmp_path / "city", ["B2", "B3"])
    fp = Ledger(pg_database).fingerprint()
    for stage in ("ledger", "commit"):
        proc = subprocess.run([sys.executable, "-m", "zlgis", "weekly", "--catalog", str(cat),
                               "--out", str(tmp_path / "out"), "--week", "2022-W36", "--checks",
                               "controllines", "--quiet", "--ledger", pg_database],
                              env={**os.environ, KILL_ENV: stage}, capture_output=True,
                              timeout=180, cwd=ROOT)
        assert proc.returncode == -signal.SIGKILL, (stage, proc.stderr)
        assert Ledger(pg_database).fingerprint() == fp, stage
        assert Ledger(pg_database).weeks() == ["2022-W35"]
    r = run_weekly(cat, tmp_path / "out", week="2022-W36", checks=["controllines"],
                   ledger_path=pg_database)
    assert r.merge.events == {"new": 1, "rectified": 1}


def test_server_going_away_during_weekly_cli(pg_database, tmp_path):
    """``zlgis weekly --ledger postgresql://...``: while the run waits to write the ledger, its
    connection is terminated by the server: exit 2, one Chinese line, the ledger unchanged."""
    import time

    from _small_city import write_city

    from zlgis.ledger.db_postgres import LOCK_KEY
    from zlgis.weekly import run_weekly

    cat = write_city(tmp_path / "city", ["B1", "B2"])
    run_weekly(cat, tmp_path / "out", week="2022-W35", checks=["controllines"],
               ledger_path=pg_database)
    write_city(tmp_path / "city", ["B2", "B3"])
    fp = Ledger(pg_database).fingerprint()
    with psycopg.connect(pg_database) as holder:  # the run will wait for the writers' lock
        holder.execute("SELECT pg_advisory_xact_lock(%s)", (LOCK_KEY,))
        proc = subprocess.Popen(
            [sys.executable, "-m", "zlgis", "weekly", "--catalog", str(cat), "--out",
             str(tmp_path / "out"), "--week", "2022-W36", "--checks", "controllines", "--quiet",
             "--ledger", pg_database], cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
            text=True)
        killed = 0
        watch = psycopg.connect(pg_database, autocommit=True)  # fresh activity snapshots
        for _ in range(1200):
            killed = watch.execute(
                "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity WHERE "
                "application_name='zlgis' AND wait_event_type='Lock' AND "
                "datname=current_database()").fetchone()[0]
            if killed or proc.poll() is not None:
                break
            time.sleep(0.1)
        watch.close()
        assert killed == 1
        holder.rollback()
    out, err = proc.communicate(timeout=120)
    assert proc.returncode == 2, err
    assert err.startswith("错误：") and "数据库连接中断" in err and "台账未改变" in err
    assert "Traceback" not in err and len(err.strip().splitlines()) == 1
    assert Ledger(pg_database).fingerprint() == fp
    assert Ledger(pg_database).weeks() == ["2022-W35"]
    assert not (tmp_path / "out" / "2022-W36").exists()
