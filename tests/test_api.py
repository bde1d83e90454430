"""The public namespace ``import zlgis as zl``: complete, documented, runnable and cheap to import."""

from __future__ import annotations

import doctest
import importlib
import inspect
import json
import re
import subprocess
import sys
from pathlib import Path

import pytest

import zlgis as zl

ROOT = Path(__file__).resolve().parents[1]
FUNCTIONS = sorted(zl.API)
SECTIONS = ("Parameters", "Returns", "Examples")


def _sections(doc: str) -> set[str]:
    return set(re.findall(r"^\s*(\w[\w ]*)\n\s*-{3,}\s*$", doc, flags=re.M))


def test_all_lists_every_table_name_and_dir_shows_them() -> None:
    assert set(FUNCTIONS) <= set(zl.__all__)
    assert "datasets" in zl.__all__
    assert set(zl.__all__) <= set(dir(zl))
    with pytest.raises(AttributeError):
        zl.no_such_function  # noqa: B018


@pytest.mark.parametrize("name", FUNCTIONS)
def test_public_function_is_typed_with_keyword_only_options(name: str) -> None:
    fn = getattr(zl, name)
    assert inspect.isfunction(fn), f"{name} is not a function"
    sig = inspect.signature(fn)
    assert sig.return_annotation is not inspect.Signature.empty, f"{name}: no return type"
    defaults = [p for p in sig.parameters.values()
                if p.default is not inspect.Parameter.empty
                and p.kind is p.POSITIONAL_OR_KEYWORD]
    # an option (a parameter with a default) is keyword-only, except an optional input
    # (catalog, layers, findings, path) that stands second or third like geopandas' ``other``
    allowed = {"catalog", "layers", "findings", "path", "source", "check", "folder"}
    assert all(p.name in allowed for p in defaults), (name, [p.name for p in defaults])


@pytest.mark.parametrize("name", FUNCTIONS)
def test_public_function_has_numpydoc_sections_and_a_collected_example(name: str) -> None:
    """The three sections are there, and the example is a doctest that ``pytest`` runs.

    ``--doctest-modules`` (pyproject.toml ``addopts``) with ``zlgis`` in ``testpaths`` runs
    every doctest found in the package's modules; this test checks that the example of each
    public name is one of them rather than running it a second time.
    """
    import tomllib

    fn = getattr(zl, name)
    doc = inspect.getdoc(fn) or ""
    missing = [s for s in SECTIONS if s not in _sections(doc)]
    assert not missing, f"zl.{name}: docstring lacks {missing}"
    examples = doctest.DocTestParser().get_examples(doc.split("Examples\n--------", 1)[1])
    assert examples, f"zl.{name}: Examples has no >>> example"
    opts = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    opts = opts["tool"]["pytest"]["ini_options"]
    assert "--doctest-modules" in opts["addopts"] and "zlgis" in opts["testpaths"]
    module = importlib.import_module(fn.__module__)
    found = doctest.DocTestFinder().find(module, module.__name__)
    assert any(t.name.endswith(f".{fn.__name__}") and t.examples for t in found), name


def test_table_points_at_the_api_modules_or_the_registry() -> None:
    for name, target in zl.API.items():
        module, attr = target.split(":")
        assert module.startswith("zlgis.api.") or module in ("zlgis.rules", "zlgis.findings"), target
        assert getattr(importlib.import_module(module), attr) is getattr(zl, name)


def test_a_submodule_never_shadows_a_public_function() -> None:
    import zlgis.rules  # noqa: F401  - the registry module of the same name as zl.rules

    assert inspect.isfunction(zl.rules)
    assert zl.rules() == importlib.import_module("zlgis.rules").rules()


def test_import_is_cheap() -> None:
    """``import zlgis`` loads no scientific stack: names resolve on first use."""
    code = ("import sys, json, zlgis; "
            "print(json.dumps(sorted(m for m in sys.modules if m.split('.')[0] in "
            "('numpy', 'pandas', 'geopandas', 'shapely', 'pyproj', 'folium', 'rasterio', "
            "'scipy', 'matplotlib', 'numba', 'yaml'))))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True, cwd=ROOT, env={"PYTHONPATH": str(ROOT), "PATH": ""})
    assert json.loads(out.stdout) == []


def test_dataset_is_small_shipped_and_declared_as_package_data() -> None:
    import tomllib

    files = sorted((ROOT / "zlgis" / "datasets").glob("district*"))
    assert {p.suffix for p in files} == {".gpkg", ".tif", ".yaml"}
    # small enough to ship in the wheel (< 1 MB in total)
    assert sum(p.stat().st_size for p in files) < 1_000_000
    data = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    patterns = data["tool"]["setuptools"]["package-data"]["zlgis"]
    for suffix in ("gpkg", "tif", "yaml"):
        assert f"datasets/*.{suffix}" in patterns


def test_dataset_holds_cases_of_every_check() -> None:
    """The district was cut so that every family of functions finds something in it."""
    d = zl.datasets.load("district")
    assert len(zl.red_line_breaches(d["buildings"], d["red_lines"])) >= 1
    assert len(zl.setback_breaches(d["buildings"], d["red_lines"])) >= 1
    assert len(zl.find_depressions(zl.datasets.dem("district"))) >= 1
    f = zl.zone_violations(d["truck_pings"], d["truck_no_parking_zones"], salt="Zl-2022-Test-Salt-9c2d")
    assert len(f) >= 1
    # no plate number leaves the trucks functions
    assert not set(d["truck_pings"]["plate"]) & set(f["feature_id"])
