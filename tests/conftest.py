"""Shared fixtures: the demo city (generated once per code version) and the real data folder."""

from __future__ import annotations

import ast
import fcntl
import hashlib
import os
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
# shared test helpers (tests/_*.py) are imported as plain modules
sys.path.insert(0, str(Path(__file__).resolve().parent))
REALDATA = Path(os.environ.get("ZLGIS_REALDATA", ROOT.parent / "shared" / "realdata"))
DEMO_SEED = 2022
# the noding cache of the street graphs (zlgis.analysis.noding) stays inside the test cache
os.environ.setdefault("ZLGIS_CACHE_DIR", str(ROOT / ".pytest_cache" / "zlgis-cache"))


def _imported_modules(start: Path) -> set[Path]:
    """Every zlgis source file ``start`` imports, directly or not (lazy imports included)."""
    pkg = ROOT / "zlgis"
    seen: set[Path] = set()
    todo = [start]
    while todo:
        path = todo.pop()
        if path in seen or not path.exists():
            continue
        seen.add(path)
        here = path.parent.relative_to(ROOT).parts
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.ImportFrom):
                base = list(here[:len(here) - node.level + 1]) if node.level else []
                names = [*base, *(node.module or "").split(".")]
                targets = [names] + [[*names, a.name] for a in node.names]
            elif isinstance(node, ast.Import):
                targets = [a.name.split(".") for a in node.names]
            else:
                continue
            for parts in targets:
                parts = [p for p in parts if p]
                if not parts or parts[0] != "zlgis":
                    continue
                for k in range(1, len(parts) + 1):  # packages run their __init__ too
                    mod = ROOT.joinpath(*parts[:k])
                    todo += [mod / "__init__.py", mod.with_suffix(".py")]
    return {p for p in seen if pkg in p.parents}


def _demo_inputs() -> list[Path]:
    """Every file the demo generator reads: its code and all it imports, the configuration,
    the catalog, and the real boundary it outlines the city with (when present)."""
    from zlgis.demo.city import REALDATA_BOUNDARY

    files = _imported_modules(ROOT / "zlgis" / "demo" / "city.py")
    files |= set((ROOT / "zlgis" / "demo").rglob("*.py"))
    files |= set((ROOT / "zlgis" / "config").rglob("*.yaml"))
    files |= {ROOT / "layers" / "catalog.yaml"}
    if REALDATA_BOUNDARY.exists():
        files.add(REALDATA_BOUNDARY)
    return sorted(files)


def _demo_code_hash() -> str:
    h = hashlib.sha1()
    for p in _demo_inputs():
        h.update(str(p.relative_to(ROOT) if ROOT in p.parents else p.name).encode())
        h.update(p.read_bytes())
    return h.hexdigest()[:12]


@pytest.fixture(scope="session")
def realdata() -> Path:
    """The real public data folder. Missing data fails the test: it never skips."""
    if not REALDATA.is_dir():
        pytest.fail(f"real data folder missing: {REALDATA} (tests that use it must not skip)")
    return REALDATA


@pytest.fixture(scope="session")
def demo_city() -> Path:
    """Folder of the demo city (seed 2022, default size), generated once and cached.

    The cache is keyed by every file the generator reads (:func:`_demo_inputs`), so a change
    to the generator, anything it imports, the configuration or the catalog regenerates it.
    A file lock makes parallel test workers share one generation.
    """
    from zlgis.demo import make_demo_city

    cache = ROOT / ".pytest_cache" / f"demo-city-{DEMO_SEED}-{_demo_code_hash()}"
    cache.parent.mkdir(parents=True, exist_ok=True)
    with open(cache.parent / "demo-city.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not (cache / "catalog.yaml").exists():
            make_demo_city(cache, seed=DEMO_SEED)
    os.environ["ZLGIS_DEMO_DIR"] = str(cache)
    return cache


def _init_code_hash() -> str:
    h = hashlib.sha1()
    files = [ROOT / "zlgis" / "io" / n for n in ("osm_init.py", "mapping.py", "readers.py")]
    files += [ROOT / "zlgis" / "config" / "osm.yaml", ROOT / "zlgis" / "catalog.py",
              ROOT / "layers" / "catalog.yaml"]
    files += sorted((ROOT / "layers" / "examples").rglob("*.yaml"))
    for p in files:
        h.update(p.read_bytes())
    return h.hexdigest()[:12]


@pytest.fixture(scope="session")
def helsinki_catalog(realdata: Path) -> Path:
    """Catalog of the Helsinki example (``layers/examples/helsinki``): ``zlgis init`` run once on
    the real OSM extract into a cache folder (keyed by the init code), never into the repo.

    Working CRS EPSG:32635 (UTM 35N), city name 赫尔辛基, layers in ``osm_layers.gpkg``.
    """
    from zlgis.io.examples import build_example

    cache = ROOT / ".pytest_cache" / f"example-helsinki-{_init_code_hash()}"
    cache.parent.mkdir(parents=True, exist_ok=True)
    with open(cache.parent / "example-helsinki.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not (cache / "catalog.yaml").exists():
            build_example("helsinki", cache, realdata=realdata)
    return cache / "catalog.yaml"


@pytest.fixture(scope="session")
def demo_catalog(demo_city: Path):
    """The demo city's loaded :class:`zlgis.catalog.Catalog`."""
    from zlgis.catalog import Catalog

    return Catalog.load(demo_city / "catalog.yaml")


@pytest.fixture(scope="session")
def demo_truth(demo_city: Path):
    """The demo city's ground-truth table of planted cases and near-misses."""
    import pandas as pd

    return pd.read_csv(demo_city / "truth.csv", dtype=str, keep_default_na=False)


# ----------------------------------------------------------------------------- PostgreSQL
def _pg_cluster_env() -> dict[str, str]:
    """``ZLGIS_TEST_PG_URL`` / ``PGPASSFILE`` from the environment, else from the file
    ``scripts/pg_cluster.sh start`` wrote (``.pg-cluster/env``)."""
    env = {k: os.environ[k] for k in ("ZLGIS_TEST_PG_URL", "PGPASSFILE") if k in os.environ}
    state = Path(os.environ.get("ZLGIS_PG_STATE", ROOT / ".pg-cluster")) / "env"
    if "ZLGIS_TEST_PG_URL" not in env and state.is_file():
        for line in state.read_text(encoding="utf-8").splitlines():
            key, _, value = line.partition("=")
            if key in ("ZLGIS_TEST_PG_URL", "PGPASSFILE"):
                env.setdefault(key, value.strip())
    return env


@pytest.fixture(scope="session")
def pg_url() -> str:
    """URL of the test PostgreSQL database (PostGIS installed), without a password: libpq
    finds it in ``PGPASSFILE``, which this fixture exports for subprocesses too.

    The server is the throwaway cluster of ``scripts/pg_cluster.sh start`` (``.ci/run`` starts
    it). No server fails the test: it never skips.
    """
    env = _pg_cluster_env()
    if "ZLGIS_TEST_PG_URL" not in env:
        pytest.fail("no PostgreSQL test server: run `bash scripts/pg_cluster.sh start` "
                    "(or set ZLGIS_TEST_PG_URL); tests that need it must not skip")
    os.environ.update(env)
    import psycopg

    try:
        with psycopg.connect(env["ZLGIS_TEST_PG_URL"], connect_timeout=10) as con:
            con.execute("SELECT postgis_version()")
    except psycopg.Error as exc:
        pytest.fail(f"PostgreSQL test server not reachable at {env['ZLGIS_TEST_PG_URL']}: "
                    f"{exc} (run `bash scripts/pg_cluster.sh start`)")
    return env["ZLGIS_TEST_PG_URL"]


@pytest.fixture
def pg_database(pg_url: str):
    """URL of a fresh, empty database with PostGIS (cloned from ``zlgis_test_template`` when the
    cluster has it), dropped after the test; superuser as in :func:`pg_url`."""
    import uuid

    import psycopg
    from psycopg import sql

    name = f"zt_{uuid.uuid4().hex[:12]}"
    admin = pg_url.rsplit("/", 1)[0] + "/postgres"
    with psycopg.connect(admin, autocommit=True) as con:
        has_template = con.execute("SELECT 1 FROM pg_database WHERE datname = %s",
                                   (pg_url.rsplit("/", 1)[1] + "_template",)).fetchone()
        template = sql.Identifier(pg_url.rsplit("/", 1)[1] + "_template") if has_template \
            else sql.Identifier("template1")
        con.execute(sql.SQL("CREATE DATABASE {} TEMPLATE {}").format(sql.Identifier(name),
                                                                    template))
    url = pg_url.rsplit("/", 1)[0] + "/" + name
    if not has_template:
        with psycopg.connect(url, autocommit=True) as con:
            con.execute("CREATE EXTENSION IF NOT EXISTS postgis")
    yield url
    with psycopg.connect(admin, autocommit=True) as con:
        con.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(
            sql.Identifier(name)))


# --- the weekly run on the real-data examples, once per test session -----------------------------

def _session_dir(tmp_path_factory) -> Path:
    """A folder shared by every xdist worker of this test session (and by no other session)."""
    base = tmp_path_factory.getbasetemp()
    return base.parent if os.environ.get("PYTEST_XDIST_WORKER") else base


def _weekly_once(name: str, catalog: Path, tmp_path_factory):
    """``zlgis weekly`` (a subprocess, no plate salt, week 2022-W35) on an example catalog, run
    once per test session under a lock and shared read-only by every test and worker.

    Returns ``(proc, week_dir, Catalog)``; ``proc`` has ``returncode``, ``stdout``, ``stderr``.
    """
    import json
    import subprocess

    from zlgis.catalog import Catalog

    root = _session_dir(tmp_path_factory) / f"weekly-{name}"
    done = root / "proc.json"
    with open(_session_dir(tmp_path_factory) / f"weekly-{name}.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not done.exists():
            root.mkdir(parents=True, exist_ok=True)
            proc = subprocess.run(
                [sys.executable, "-m", "zlgis", "weekly", "--catalog", str(catalog), "--week",
                 "2022-W35", "--out", str(root / "out"), "--quiet"],
                capture_output=True, text=True, cwd=ROOT, timeout=900,
                env={"PYTHONPATH": str(ROOT), "PATH": "",
                     "ZLGIS_CACHE_DIR": os.environ["ZLGIS_CACHE_DIR"]})
            done.write_text(json.dumps({"returncode": proc.returncode, "stdout": proc.stdout,
                                        "stderr": proc.stderr}), encoding="utf-8")
    proc = subprocess.CompletedProcess(args=["zlgis", "weekly"],
                                       **json.loads(done.read_text(encoding="utf-8")))
    return proc, root / "out" / "2022-W35", Catalog.load(catalog)


#: Salt of the demo weekly runs of the tests (the weekly run refuses a weak one).
DEMO_SALT = "weekly-test-salt-2022"


@pytest.fixture(scope="session")
def demo_week(demo_catalog, tmp_path_factory):
    """The demo city's whole 2022-W35 weekly run (every check, SQLite ledger, salt
    :data:`DEMO_SALT`), made once per test session under a lock and shared by every worker:
    the snapshot test and the PostgreSQL ledger's equality test read the same run. Returns its
    :class:`zlgis.weekly.WeeklyResult`; read its outputs, never write into its folder."""
    import pickle

    from zlgis.weekly import run_weekly

    root = _session_dir(tmp_path_factory) / "weekly-demo"
    done = root / "result.pickle"
    with open(_session_dir(tmp_path_factory) / "weekly-demo.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not done.exists():
            with pytest.MonkeyPatch.context() as mp:
                mp.setenv("ZLGIS_PLATE_SALT", DEMO_SALT)
                result = run_weekly(demo_catalog, root / "out", week="2022-W35")
            done.write_bytes(pickle.dumps(result))
    return pickle.loads(done.read_bytes())


@pytest.fixture(scope="session")
def helsinki_week(helsinki_catalog: Path, tmp_path_factory):
    """The weekly run on the Helsinki example, once per session: ``(proc, week_dir, catalog)``.
    Read its outputs; copy them before changing anything."""
    return _weekly_once("helsinki", helsinki_catalog, tmp_path_factory)


@pytest.fixture(scope="session")
def swellendam_week(realdata: Path, tmp_path_factory):
    """The weekly run on the Swellendam example, once per session: ``(proc, week_dir,
    catalog)``. Read its outputs; copy them before changing anything."""
    from zlgis.io.examples import example_catalog

    return _weekly_once("swellendam", example_catalog("swellendam"), tmp_path_factory)
