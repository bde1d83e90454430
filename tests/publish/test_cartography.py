"""Cartography of the web maps: legible zooms, findings by rule, labels, opening view."""

from __future__ import annotations

import json
import re

import _publish_fixtures as _fx  # noqa: E402  (tests/ is on sys.path, see conftest)
import geopandas as gpd
import pytest
from shapely.geometry import Point

from zlgis.catalog import Catalog
from zlgis.config import load_config
from zlgis.findings import concat_findings, make_findings
from zlgis.publish.maps import build_map
from zlgis.publish.styles import SEVERITY_COLORS
from zlgis.rules import rule


@pytest.fixture(scope="module")
def catalog() -> Catalog:
    return Catalog.load()


def specs(html: str, fn: str = "layer") -> dict[str, dict]:
    """Every layer spec the page hands to zlgis.<fn>(...), by key."""
    dec = json.JSONDecoder()
    out = {}
    for m in re.finditer(rf"zlgis\.{fn}\(", html):
        spec, _ = dec.raw_decode(html, m.end())
        out[spec["key"]] = spec
    return out


def test_layers_drawn_from_their_legible_zoom(catalog):
    html = build_map(_fx.small_layers(catalog), None, catalog=catalog,
                     basemap="none").get_root().render()
    sp = specs(html)
    zooms = load_config("publish")["min_zoom"]
    # red-line corridors only where their two edges stay apart (zoom 15, ~3 m per pixel)
    assert sp["red_lines"]["minZoom"] == zooms["red_lines"] == 15
    assert sp["roads"]["minZoom"] == zooms["roads"]
    assert sp["toilets"]["minZoom"] == 0                     # facilities at every zoom
    assert "道路红线" in html and "15 级起显示" in html        # the legend says so


def test_findings_numbered_by_rule_with_a_legend_naming_rules(catalog):
    x, y = _fx.X0, _fx.Y0
    extra = make_findings(
        check="controllines", rule="green_line", rule_source="x", title="绿线内建设",
        task_id="1.3.3", feature_ids=[["B7"], ["B8"], ["B9"]], layer="buildings",
        geometry=[Point(x + 5, y + 5), Point(x + 9, y + 9), Point(x + 12, y + 1)],
        severity="medium", public=False)
    f = concat_findings([_fx.small_findings(), extra])
    m = build_map(_fx.small_layers(catalog), f, catalog=catalog, basemap="none")
    sp = specs(m.get_root().render())
    # numbers: the rule with a high finding first, then the rest by count
    glyph = {}
    for key in ("findings_high", "findings_medium", "findings_low"):
        for feat in sp[key]["data"]["features"]:
            glyph.setdefault(feat["properties"]["_g"], set()).add(sp[key]["glyph"])
    assert set(glyph) == {1, 2, 3}                # road_ponding: one medium, third
    assert glyph[1] == {"high", "low"}          # red_line_encroachment: one high, one low
    assert glyph[2] == {"medium"}               # green_line: three findings
    # the legend names each rule by its registry label, with severity and count, first
    legend = [json.loads(c.html_js) for c in m._children.values()
              if type(c).__name__ == "Control" and "图例" in c.html_js][0]
    assert f'>1</i>{rule("red_line_encroachment").label}（高，2 处）' in legend
    assert f'>2</i>{rule("green_line").label}（中，3 处）' in legend
    assert legend.index("问题类型（图上编号）") < legend.index("公共厕所")
    assert SEVERITY_COLORS["high"] in legend


def test_opening_view_fits_the_findings_not_the_city(catalog):
    layers = _fx.small_layers(catalog)        # a city 3 km across
    x, y = _fx.X0 + 900, _fx.Y0 + 900
    f = make_findings(check="controllines", rule="red_line_encroachment", rule_source="x",
                      title="压占", task_id="1.3.3", feature_ids=[["B1"], ["B2"]],
                      layer="buildings", geometry=[Point(x, y), Point(x + 60, y + 40)],
                      severity="high", public=False)
    m = build_map(layers, f, catalog=catalog, basemap="none")
    bounds = [c for c in m._children.values() if type(c).__name__ == "FitBounds"][0].bounds
    web = gpd.GeoSeries(f.geometry, crs=f.crs).to_crs("EPSG:4326")
    (s, w), (n, e) = bounds
    assert w == pytest.approx(web.x.min(), abs=1e-5) and e == pytest.approx(web.x.max(), abs=1e-5)
    assert s == pytest.approx(web.y.min(), abs=1e-5) and n == pytest.approx(web.y.max(), abs=1e-5)
    # without findings: the layers' extent
    m2 = build_map(layers, None, catalog=catalog, basemap="none")
    b2 = [c for c in m2._children.values() if type(c).__name__ == "FitBounds"][0].bounds
    assert b2[1][1] - b2[0][1] > 0.03                    # ~3 km of longitude at 48 N


def test_road_and_place_labels_at_street_zoom(catalog):
    html = build_map(_fx.small_layers(catalog), None, catalog=catalog,
                     basemap="none").get_root().render()
    lab = specs(html, "labels")["labels"]
    assert lab["minZoom"] == load_config("publish")["labels"]["min_zoom"] == 16
    rows = {r[0]: r for r in lab["data"]}
    # the east-west road reads horizontally, the north-south one turned a quarter
    assert rows["布特哈大街"][3] == pytest.approx(0, abs=1) and rows["布特哈大街"][4] == "road"
    assert abs(rows["中央路"][3]) == pytest.approx(90, abs=1)
    assert rows["吊桥公园"][4] == "place"


def test_public_labels_only_from_public_layers(catalog):
    layers = _fx.small_layers(catalog, _fx.XSS_CORPUS)
    html = build_map(layers, None, catalog=catalog, profile="public",
                     basemap="none").get_root().render()
    lab = specs(html, "labels")["labels"]
    allowed = set(load_config("publish")["public"]["layers"])
    assert set(load_config("publish")["labels"]["layers"]) <= allowed
    assert {r[0] for r in lab["data"]} & set(_fx.XSS_CORPUS)   # payload names are labels ...
    assert "<script>window.__xss" not in html                   # ... only inside JSON strings


def test_public_roads_only_as_names(catalog):
    """The basemap draws the streets: the public page carries their names (search, labels),
    not their geometry; the internal map keeps the layer."""
    layers = _fx.small_layers(catalog)
    pub = build_map(layers, None, catalog=catalog, profile="public", basemap="none")
    html = pub.get_root().render()
    assert "roads" not in specs(html)
    assert "布特哈大街" in {r[0] for r in specs(html, "labels")["labels"]["data"]}
    assert "布特哈大街（道路中心线）" in html.encode().decode("unicode_escape", "ignore") or \
        "布特哈大街（道路中心线）" in html
    internal = build_map(layers, None, catalog=catalog, basemap="none").get_root().render()
    assert "roads" in specs(internal)
