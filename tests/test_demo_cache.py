"""The cached demo city of the tests is keyed on every file the generator reads."""

from __future__ import annotations

import json
import subprocess
import sys

from conftest import ROOT, _demo_inputs


def test_key_covers_every_module_the_generator_imports() -> None:
    code = ("import json, sys, zlgis.demo.city, zlgis.demo.dem; "
            "print(json.dumps(sorted(m.__file__ for n, m in sys.modules.items() "
            "if n.split('.')[0] == 'zlgis' and getattr(m, '__file__', None))))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True, cwd=ROOT, env={"PYTHONPATH": str(ROOT), "PATH": ""})
    imported = set(json.loads(out.stdout))
    keyed = {str(p) for p in _demo_inputs()}
    assert imported <= keyed, sorted(imported - keyed)


def test_key_covers_configuration_and_catalog() -> None:
    keyed = set(_demo_inputs())
    # the generator reads controllines.yaml (planted setbacks) and the catalog (layers, CRS)
    assert ROOT / "zlgis" / "config" / "controllines.yaml" in keyed
    assert ROOT / "layers" / "catalog.yaml" in keyed
    assert set((ROOT / "zlgis" / "config").rglob("*.yaml")) <= keyed
    # demo/dem.py fills its planted depressions with the analysis fill: that code counts too
    assert any(p.parent.name == "analysis" for p in keyed)
