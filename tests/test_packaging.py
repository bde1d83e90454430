"""pyproject.toml and environment.yml list the same dependencies (names and version bounds)."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]


def _norm(req: str) -> tuple[str, str]:
    m = re.match(r"\s*([A-Za-z0-9_.\-]+)\s*(?:\[[^\]]*\])?\s*(.*)$", req)  # conda: no extras
    assert m, req
    return m.group(1).lower().replace("_", "-"), re.sub(r"\s+", "", m.group(2))


def test_dependencies_in_step() -> None:
    py = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    pip_deps = dict(_norm(r) for r in py["dependencies"])
    for extra in ("test", "docs"):  # what scripts/setup.sh installs
        pip_deps.update(_norm(r) for r in py["optional-dependencies"][extra])
    env = yaml.safe_load((ROOT / "environment.yml").read_text(encoding="utf-8"))
    conda = dict(_norm(d) for d in env["dependencies"] if isinstance(d, str))
    conda.pop("python", None)
    conda.pop("pip", None)
    assert conda == pip_deps


def test_python_and_entry_point() -> None:
    py = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    assert py["requires-python"] == ">=3.11"
    assert py["scripts"]["zlgis"] == "zlgis.cli:main"
    env = yaml.safe_load((ROOT / "environment.yml").read_text(encoding="utf-8"))
    assert "python=3.11" in env["dependencies"]
    assert "conda-forge" in env["channels"]
