"""The control-line joins pushed down into PostGIS (zlgis/io/postgis_overlay.py,
zlgis/analysis/controllines_pushdown.py) on hand-made layers: the candidate pairs hold every
breach, and the findings equal the Python path's."""

from __future__ import annotations

from pathlib import Path

import yaml
from _line_fixtures import B, buildings, red_lines, zone

from zlgis.analysis.controllines import check_control_lines, run_check
from zlgis.analysis.controllines_pushdown import setback_reach
from zlgis.analysis.linebase import load_rules
from zlgis.catalog import Catalog
from zlgis.io.postgis_overlay import near_pairs
from zlgis.io.postgis_write import write_table
from zlgis.validate import load_layers

LINE = {"line_id": {"type": "str", "required": True}, "road_class": {"type": "str"},
        "road_name": {"type": "str"}, "name": {"type": "str"}}
BLD = {"building_id": {"type": "str", "required": True, "aliases": ["建筑编号"]},
       "height": {"type": "float"}, "permit_status": {"type": "str"},
       "line_permit": {"type": "str"}}


def _layers():
    bld = buildings([
        ("enc", B(10, 12, 20, 22), 9.0),          # 4 m into the 支路's road land
        ("near", B(30, 17, 40, 27), 9.0),         # 1 m from it: setback 3 m not kept
        ("tall", B(60, 20, 70, 30), 60.0),        # 4 m from it: high-rise setback not kept
        ("ok", B(90, 40, 100, 50), 9.0),          # 24 m away
        ("park", B(10, 110, 20, 120), 6.0),       # inside the green line
        ("edge", B(45, 95, 55, 105), 6.0),        # half in it
        ("far", B(300, 300, 310, 310), 6.0)])
    return {"buildings": bld.rename(columns={"building_id": "建筑编号"}),
            "red_lines": red_lines([("R1", B(0, 0, 400, 16), "支路"),
                                    ("R2", B(0, 200, 400, 240), "主干路")]),
            "green_lines": zone([("G1", B(0, 100, 50, 150))])}


def _catalog(tmp_path: Path, url: str) -> Path:
    layers = {}
    for lid, frame in _layers().items():
        write_table(frame, url, f"city.{lid}")
        layers[lid] = {"title": lid, "kind": "x", "geometry": "Polygon", "crs": "EPSG:4550",
                       "id_field": "building_id" if lid == "buildings" else "line_id",
                       "fields": BLD if lid == "buildings" else LINE,
                       "source": {"url": url, "table": f"city.{lid}"}}
    path = tmp_path / "catalog.yaml"
    path.write_text(yaml.safe_dump({"working_crs": "EPSG:4550", "boundary_layer": None,
                                    "sql_overlays": True, "layers": layers},
                                   allow_unicode=True), encoding="utf-8")
    return path


def test_sql_joins_give_the_python_findings(pg_database: str, tmp_path: Path) -> None:
    cat = Catalog.load(_catalog(tmp_path, pg_database))
    layers = load_layers(cat)
    # the SQL candidates: every building near a red line within its road class's reach
    reach = setback_reach(load_rules())
    f, ln = near_pairs(cat["buildings"], cat["red_lines"], feature_id="building_id",
                       line_id="line_id", distance=reach, class_field="road_class")
    assert sorted(zip(f, ln)) == [("enc", "R1"), ("near", "R1"), ("tall", "R1")]
    f, ln = near_pairs(cat["buildings"], cat["green_lines"], feature_id="building_id",
                       line_id="line_id", distance=1.0)
    assert sorted(f) == ["edge", "park"] and set(ln) == {"G1"}
    # the weekly adapter pushes the joins down and reports the same findings as Python
    pushed = run_check(cat, layers)
    python = check_control_lines(layers, id_fields={"buildings": "building_id"})
    assert sorted(pushed["finding_id"]) == sorted(python["finding_id"])
    assert sorted(zip(pushed["rule"], pushed["feature_id"])) == [
        ("green_line", "edge"), ("green_line", "park"), ("red_line_encroachment", "enc"),
        ("red_line_setback", "near"), ("red_line_setback", "tall")]
    p = pushed.set_index("finding_id").sort_index()
    q = python.set_index("finding_id").sort_index()
    assert p["measures"].tolist() == q["measures"].tolist()
    assert p["title"].tolist() == q["title"].tolist()
    times = pushed.attrs["timings"]
    assert {"controllines:red_lines_sql_join", "controllines:green_lines_sql_join",
            "controllines:red_lines_sql", "controllines:zones_sql"} <= set(times)
    assert all(v >= 0 for v in times.values())
    # without sql_overlays the adapter keeps the Python path
    cat.raw["sql_overlays"] = False
    assert not any(k.endswith("_sql") for k in run_check(cat, layers).attrs["timings"])
