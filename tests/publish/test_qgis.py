"""The QGIS export opened by QGIS itself (Debian's python3-qgis, headless)."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import textwrap
import xml.etree.ElementTree as ET
from pathlib import Path

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


def _open_in_qgis(project, tmp_path):
    """Open ``project`` in Debian's QGIS (headless) from another working directory."""
    (tmp_path / "check.py").write_text(_CHECK, encoding="utf-8")
    env = {**os.environ, "QT_QPA_PLATFORM": "offscreen", "PYTHONPATH": ""}
    res = subprocess.run(["/usr/bin/python3", str(tmp_path / "check.py"), str(project)],
                         capture_output=True, text=True, env=env, cwd=tmp_path, timeout=300)
    assert res.returncode == 0, res.stderr[-2000:]
    return json.loads(res.stdout.strip().splitlines()[-1])


def _export_and_move(catalog, findings, tmp_path):
    """Export, then move the whole folder elsewhere (and drop the originals): the project must
    still find its data through its relative paths."""
    out = tmp_path / "qgis"
    assert main(["export", "qgis", "--catalog", str(catalog), "--week", "2022-W35",
                 "--findings", str(findings), "--out", str(out), "--quiet"]) == 0
    text = (out / "zlgis_2022-W35.qgs").read_text(encoding="utf-8")
    assert str(tmp_path) not in text and str(Path(catalog).parent) not in text
    assert '<Absolute type="bool">false</Absolute>' in text
    moved = tmp_path / "elsewhere" / "qgis-moved"
    moved.parent.mkdir()
    shutil.move(out, moved)
    return moved


def test_qgis_opens_the_project_with_styles(demo_city, tmp_path):
    f = _fx.small_findings()
    f.to_file(tmp_path / "findings.gpkg", layer="findings")
    out = _export_and_move(demo_city / "catalog.yaml", tmp_path / "findings.gpkg", tmp_path)
    (tmp_path / "findings.gpkg").unlink()
    got = _open_in_qgis(out / "zlgis_2022-W35.qgs", tmp_path)
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
    assert layers["2022-W35 问题"]["n"] == len(f)
    # QML and SLD beside it, well-formed, one of each per layer
    for p in (out / "styles").iterdir():
        ET.parse(p)
    assert {p.stem for p in (out / "styles").glob("*.sld")} >= {"red_lines", "findings",
                                                                "toilets"}
    assert {p.stem for p in (out / "styles").glob("*.qml")} == \
        {p.stem for p in (out / "styles").glob("*.sld")}
    sld = ET.parse(out / "styles" / "red_lines.sld").getroot()
    assert sld.tag == "{http://www.opengis.net/sld}StyledLayerDescriptor"
    stroke = sld.find(".//{http://www.opengis.net/se}SvgParameter[@name='stroke']")
    assert stroke.text == CONTROL_LINE_COLORS["red_lines"]


def test_qgis_on_real_data_in_utm_after_moving(swellendam_week, tmp_path):
    """Swellendam (GeoPackage + Shapefiles, red lines derived from roads, UTM 34S) with the
    week's findings: the moved project opens in QGIS in EPSG:32734, every layer valid, the
    findings layer holding the week's findings."""
    import pyogrio

    proc, week, cat = swellendam_week
    assert proc.returncode in (0, 1), proc.stderr
    gpkg = week / "findings_2022-W35.gpkg"
    out = _export_and_move(cat.path, gpkg, tmp_path)
    got = _open_in_qgis(out / "zlgis_2022-W35.qgs", tmp_path)
    assert got["read"] is True and got["crs"] == "EPSG:32734"
    layers = got["layers"]
    assert all(v["valid"] and v["n"] > 0 for v in layers.values()), layers
    n = pyogrio.read_info(gpkg, layer="findings")["features"]
    assert layers["2022-W35 问题"]["n"] == n > 0
    # derived red lines, the roads (filtered, values mapped) and the Shapefile green lines
    assert {"道路红线（由道路中心线推算）", "道路中心线", "自然保护区（作绿线）"} <= set(layers)
    assert layers["道路红线（由道路中心线推算）"]["color"] == CONTROL_LINE_COLORS["red_lines"]
    roads = pyogrio.read_dataframe(out / "data" / "layers.gpkg", layer="roads",
                                   read_geometry=False)
    assert set(roads["道路等级"]) <= {"主干路", "次干路", "支路", "巷道", "人行道"}
    assert layers["道路中心线"]["label_field"] == "道路名称"
