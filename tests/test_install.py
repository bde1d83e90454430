"""``pip install .`` with no extras runs every command, ``demo-data`` and ``weekly --demo`` included.

The virtualenv is made with ``python -m venv`` and ``pip install .`` (no extras: no test tools,
no scikit-image). Installing the scientific stack takes about a minute, so the environment is
kept in ``.pytest_cache`` keyed on the declared dependencies and the Python version: when they
change (and on every fresh CI machine) it is built from scratch; otherwise only zlgis itself is
reinstalled (``--no-deps --force-reinstall``) and ``pip check`` confirms that the dependencies
present are exactly sufficient. The commands run outside the repository, so nothing of the
source tree (``layers/catalog.yaml``, ``data/``) can stand in for the installed package.
"""

from __future__ import annotations

import fcntl
import hashlib
import os
import shutil
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def _env() -> dict[str, str]:
    keep = ("HOME", "LANG", "LC_ALL", "TMPDIR", "PIP_CACHE_DIR", "PIP_CONFIG_FILE",
            "PIP_FIND_LINKS", "PIP_EXTRA_INDEX_URL", "PIP_INDEX_URL", "PIP_CERT",
            "REQUESTS_CA_BUNDLE", "SSL_CERT_FILE")
    env = {k: os.environ[k] for k in keep if k in os.environ}
    env["PATH"] = "/usr/bin:/bin"
    env["PIP_DISABLE_PIP_VERSION_CHECK"] = "1"
    return env


def _run(args: list[str | Path], cwd: Path, **env: str) -> subprocess.CompletedProcess:
    out = subprocess.run([str(a) for a in args], cwd=cwd, env={**_env(), **env},
                         capture_output=True, text=True, timeout=900)
    assert out.returncode == 0, f"{args}: exit {out.returncode}\n{out.stdout}\n{out.stderr}"
    return out


def _source_copy(dest: Path) -> Path:
    """The files a source distribution holds, copied (pip builds in the tree it is given)."""
    shutil.copytree(ROOT / "zlgis", dest / "zlgis", symlinks=True,
                    ignore=shutil.ignore_patterns("__pycache__", "vendor"))
    (dest / "layers").mkdir()
    for name in ("pyproject.toml", "README.md", "layers/catalog.yaml"):
        shutil.copy2(ROOT / name, dest / name)
    return dest


@pytest.fixture(scope="session")
def installed_venv(tmp_path_factory: pytest.TempPathFactory) -> Path:
    deps = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    key = hashlib.sha1(repr((sorted(deps["dependencies"]), sys.version)).encode()).hexdigest()
    venv = ROOT / ".pytest_cache" / f"install-venv-{key[:12]}"
    venv.parent.mkdir(parents=True, exist_ok=True)
    with open(venv.parent / "install-venv.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        py = venv / "bin" / "python"
        src = _source_copy(tmp_path_factory.mktemp("src"))
        if not (venv / "complete").exists():
            shutil.rmtree(venv, ignore_errors=True)
            _run([sys.executable, "-m", "venv", venv], src)
            # --no-compile: 50 s instead of 113 s here (2026-12-03); the modules the commands
            # import are compiled when first imported
            _run([py, "-m", "pip", "install", "-q", "--no-compile", "."], src)
            (venv / "complete").write_text("ok")
        else:
            _run([py, "-m", "pip", "install", "-q", "--no-compile", "--no-deps", "--force-reinstall",
                  "."], src)
        _run([py, "-m", "pip", "check"], src)
    return venv


def test_plain_install_runs_demo_data_and_weekly(installed_venv: Path, tmp_path: Path) -> None:
    py, zlgis = installed_venv / "bin" / "python", installed_venv / "bin" / "zlgis"
    # the installed package, not the source tree, and none of the test-only libraries
    where = _run([py, "-c", "import zlgis; print(zlgis.__file__)"], tmp_path).stdout
    assert str(installed_venv) in where
    probe = subprocess.run([py, "-c", "import skimage"], cwd=tmp_path, env=_env(),
                           capture_output=True, text=True)
    assert probe.returncode != 0, "scikit-image is a test dependency: it must not be installed"
    # the smallest city the generator makes keeps this test short
    _run([zlgis, "demo-data", "--out", "demo", "--buildings", "1000", "--quiet"], tmp_path)
    assert (tmp_path / "demo" / "catalog.yaml").exists()
    assert (tmp_path / "demo" / "dem.tif").exists()
    _run([zlgis, "weekly", "--demo", "--week", "2022-W35", "--out", "out", "--quiet"], tmp_path,
         ZLGIS_DEMO_DIR=str(tmp_path / "demo"))
    week = tmp_path / "out" / "2022-W35"
    for name in ("ledger_2022-W35.xlsx", "map_internal.html", "summary.html",
                 "findings_2022-W35.gpkg", "../public/2022-W35/map_public.html"):
        assert (week / name).stat().st_size > 0, name
    # the bundled dataset and the public API work from the installed package too
    code = ("import zlgis as zl; d = zl.datasets.load('district'); "
            "print(len(zl.red_line_breaches(d['buildings'], d['red_lines'])))")
    assert int(_run([py, "-c", code], tmp_path).stdout) >= 1
