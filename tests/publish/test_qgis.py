"""The QGIS export opened by QGIS itself (Debian's python3-qgis, headless)."""

from __future__ import annotations

import json
import os
import subprocess
import textwrap
import xml.etree.ElementTree as ET

import _publish_fixtures as _fx  # noqa: E402  (tests/ is on sys.path, see conftest)

from zlgis.cli import main
from zlgis.publish.styles import CONTROL_LINE_COLORS
from zlgis.rules import rules

#: Run by Debian's python3 (QGIS's Python bindings live there, not in the venv).
_CHECK = textwrap.dedent("""
    import json, sys
    from qgis.core import QgsApplication, QgsProject
    app = QgsApplication([], False)
    app.initQgis()
    proj = QgsProject.instance()
    out = {"read": proj.read(sys.argv[1]), "crs": proj.crs().authid(), "layers": {}}
    for lyr in proj.mapLayers().values():
        r = lyr.renderer()
        out["layers"][lyr.name()] = {
            "valid": lyr.isValid(), "n": lyr.featureCount(), "renderer": r.type(),
            "color": r.symbol().color().name() if r.type() == "singleSymbol" else None,
            "rules": [c.label() for c in r.rootRule().children()]
                     if r.type() == "RuleRenderer" else [],
            "label_field": lyr.labeling().settings().fieldName
                           if lyr.labelsEnabled() and lyr.labeling() else None}
    print(json.dumps(out, ensure_ascii=False))
    app.exitQgis()
""")


def test_qgis_opens_the_project_with_styles(demo_city, tmp_path):
    f = _fx.small_findings()
    f.to_file(tmp_path / "findings.gpkg", layer="findings")
    out = tmp_path / "qgis"
    assert main(["export", "qgis", "--catalog", str(demo_city / "catalog.yaml"), "--week",
                 "2022-W35", "--findings", str(tmp_path / "findings.gpkg"), "--out", str(out),
                 "--quiet"]) == 0
    (tmp_path / "check.py").write_text(_CHECK, encoding="utf-8")
    env = {**os.environ, "QT_QPA_PLATFORM": "offscreen", "PYTHONPATH": ""}
    res = subprocess.run(["/usr/bin/python3", str(tmp_path / "check.py"),
                          str(out / "zlgis_2022-W35.qgs")], capture_output=True, text=True,
                         env=env, cwd=tmp_path, timeout=300)
    assert res.returncode == 0, res.stderr[-2000:]
    got = json.loads(res.stdout.strip().splitlines()[-1])
    assert got["read"] is True and got["crs"] == "EPSG:4550"
    layers = got["layers"]
    assert all(v["valid"] and v["n"] > 0 for v in layers.values()), layers
    # the five control lines in their statutory colours
    for lid, title in (("red_lines", "道路红线"), ("green_lines", "城市绿线"),
                       ("blue_lines", "城市蓝线"), ("purple_lines", "城市紫线"),
                       ("yellow_lines", "城市黄线")):
        assert layers[title]["color"] == CONTROL_LINE_COLORS[lid], title
    # findings by rule (registry labels) and severity; facilities with Chinese name labels
    fnd = layers["2022-W35 问题"]
    assert fnd["renderer"] == "RuleRenderer" and len(fnd["rules"]) == 3 * len(rules())
    assert {"压占红线（高）", "压占红线（低）"} <= set(fnd["rules"])
    assert layers["公共厕所"]["label_field"] == "公厕名称"     # the demo's Chinese column
    assert layers["城市管理单元网格"]["renderer"] == "singleSymbol"
    # QML and SLD beside it, well-formed
    for p in (out / "styles").iterdir():
        ET.parse(p)
    assert {p.stem for p in (out / "styles").glob("*.sld")} >= {"red_lines", "findings",
                                                                "toilets"}
