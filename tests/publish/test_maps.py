"""Tests of zlgis.publish.maps: profiles, escaping, basemaps, assets, saving."""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
import re

import _publish_fixtures as _fx  # noqa: E402  (tests/ is on sys.path, see conftest)
import folium
import geopandas as gpd
import numpy as np
import pytest
from pyproj import Geod
from shapely.geometry import Point, box

from zlgis.catalog import Catalog
from zlgis.crs import wgs84_to_gcj02
from zlgis.errors import ConfigError
from zlgis.publish import assets as assets_mod
from zlgis.publish.assets import external_links
from zlgis.publish.html import FOCUS_JS, HEX_ID
from zlgis.publish.maps import (
    build_map,
    default_basemap,
    hotline_counts,
    map_layer_ids,
    public_fields,
    save_map,
)

CRS, SECRETS, X0, Y0 = _fx.CRS, _fx.SECRETS, _fx.X0, _fx.Y0
small_findings, small_layers = _fx.small_findings, _fx.small_layers


@pytest.fixture(scope="module")
def catalog() -> Catalog:
    return Catalog.load()


def layer_specs(html: str) -> list[dict]:
    """Every layer spec the page hands to zlgis.layer(...)."""
    dec = json.JSONDecoder()
    out = []
    for m in re.finditer(r"zlgis\.layer\(", html):
        spec, _ = dec.raw_decode(html, m.end())
        out.append(spec)
    return out


def coords(geom: dict) -> np.ndarray:
    return np.asarray(_flat(geom["coordinates"]), dtype=float).reshape(-1, 2)


def _flat(c):
    if isinstance(c[0], (int, float)):
        return list(c)
    return [v for x in c for v in _flat(x)]


def test_public_map_carries_no_personal_value(catalog):
    layers = small_layers(catalog)
    m = build_map(layers, small_findings(), catalog=catalog, profile="public", basemap="none")
    html = m.get_root().render()
    leaked = [v for v in SECRETS.values() if v in html]
    assert leaked == []
    assert "吊桥公园公厕" in html and "中心城区禁停区" in html
    # buildings are never drawn on the public map
    assert not any(s["key"] == "buildings" for s in layer_specs(html))
    # only public fields of each layer are sent
    for s in layer_specs(html):
        spec = catalog.layers.get(s["key"])
        if spec is not None:
            sent = {k for f in s["data"]["features"] for k in f["properties"] if k[0] != "_"}
            assert sent <= set(spec.public), s["key"]


def test_internal_map_shows_every_field(catalog):
    layers = small_layers(catalog)
    m = build_map(layers, small_findings(), catalog=catalog, profile="internal", basemap="none")
    html = m.get_root().render()
    assert SECRETS["keeper_phone"] in html and SECRETS["owner_phone"] in html
    toilets = next(s for s in layer_specs(html) if s["key"] == "toilets")
    assert ["keeper_phone", "保洁员电话"] in toilets["fields"]
    # 12345 cases are points with their text internally, clustered
    cases = next(s for s in layer_specs(html) if s["key"] == "hotline_cases")
    assert cases["cluster"] and len(cases["data"]["features"]) == 12


def test_public_findings_only_rows_marked_public(catalog):
    f = small_findings()
    f.loc[f["rule"] == "red_line_encroachment", "title"] = "内部问题标题"
    m = build_map({}, f, catalog=catalog, profile="public", basemap="none")
    html = m.get_root().render()
    assert "内部问题标题" not in html
    specs = [s for s in layer_specs(html) if s["key"].startswith("findings")]
    assert specs and all(len(s["data"]["features"]) == 1 for s in specs)
    props = specs[0]["data"]["features"][0]["properties"]
    assert props["severity"] == "中" and props["measure"] == "45 cm"
    assert "road_chief" not in props and "finding_id" not in props
    internal = build_map({}, f, catalog=catalog, profile="internal", basemap="none")
    ihtml = internal.get_root().render()
    assert "内部问题标题" in ihtml and SECRETS["road_chief"] in ihtml


def test_findings_grouped_by_severity_and_clustered(catalog):
    html = build_map({}, small_findings(), catalog=catalog, basemap="none").get_root().render()
    specs = {s["key"]: s for s in layer_specs(html)}
    assert {"findings_high", "findings_medium", "findings_low"} <= set(specs)
    assert all(specs[k]["cluster"] for k in ("findings_high", "findings_medium", "findings_low"))
    # the polygon breach is drawn as an area too
    assert specs["findings_high_areas"]["data"]["features"][0]["geometry"]["type"] == "Polygon"
    assert "问题（高）" in html and "markercluster" in html


def test_public_coordinates_are_rounded(catalog):
    html = build_map(small_layers(catalog), None, catalog=catalog, profile="public",
                     basemap="none").get_root().render()
    decimals = catalog and 4
    for s in layer_specs(html):
        for f in s["data"]["features"]:
            c = coords(f["geometry"])
            assert np.allclose(c, np.round(c, decimals), atol=1e-12), s["key"]
    ihtml = build_map(small_layers(catalog), None, catalog=catalog, profile="internal",
                      basemap="none").get_root().render()
    c = coords(next(s for s in layer_specs(ihtml) if s["key"] == "toilets")["data"]
               ["features"][0]["geometry"])
    assert np.any(c != np.round(c, 4))


def test_public_hotline_only_counts_per_grid(catalog):
    html = build_map(small_layers(catalog), None, catalog=catalog, profile="public",
                     basemap="none").get_root().render()
    specs = [s for s in layer_specs(html) if "hotline" in s["key"]]
    assert [s["key"] for s in specs] == ["hotline_counts"]
    feats = specs[0]["data"]["features"]
    assert all(f["geometry"]["type"] == "Polygon" for f in feats)
    assert sorted(f["properties"]["count_text"] for f in feats) == ["10", "<3"]
    assert set(feats[0]["properties"]) <= {"grid_name", "community", "count_text", "_c"}


def test_hotline_counts_without_grids_use_square_cells():
    cases = gpd.GeoDataFrame(geometry=[Point(10, 10), Point(20, 20), Point(900, 10)], crs=CRS)
    out = hotline_counts(cases, cell_m=500)
    assert sorted(out["count"]) == [1, 2]
    assert list(out.columns) == ["count", "geometry"]


def test_gaode_overlays_shifted_to_gcj02(catalog):
    landmark = gpd.GeoDataFrame({"toilet_id": ["T1"], "name": ["吊桥公园公厕"]},
                                geometry=[Point(X0, Y0)], crs=CRS)
    def toilet_xy(basemap):
        html = build_map({"toilets": landmark}, None, catalog=catalog, basemap=basemap,
                         service_areas=False).get_root().render()
        spec = next(s for s in layer_specs(html) if s["key"] == "toilets")
        return coords(spec["data"]["features"][0]["geometry"])[0]
    wgs = toilet_xy("osm")
    gcj = toilet_xy("gaode")
    exp = np.array(wgs84_to_gcj02(wgs[0], wgs[1]))
    assert np.allclose(gcj, exp, atol=2e-6)
    _, _, dist = Geod(ellps="WGS84").inv(wgs[0], wgs[1], gcj[0], gcj[1])
    assert 300 < dist < 800


def test_tianditu_basemap(catalog, monkeypatch):
    monkeypatch.delenv("ZLGIS_TIANDITU_KEY", raising=False)
    assert default_basemap() == "osm"
    with pytest.raises(ConfigError, match="ZLGIS_TIANDITU_KEY"):
        build_map({}, None, catalog=catalog, basemap="tianditu")
    monkeypatch.setenv("ZLGIS_TIANDITU_KEY", "abc123def")
    assert default_basemap() == "tianditu"
    html = build_map(small_layers(catalog), None, catalog=catalog).get_root().render()
    assert "vec_w/wmts" in html and "cva_w/wmts" in html and "tk=abc123def" in html
    assert '"subdomains": "01234567"' in html
    from zlgis.config import load_config
    review = load_config("publish")["basemaps"]["tianditu"]["review_number"]
    # 审图号 in a control at the lower left
    m = re.search(r'position: "bottomleft"\}\);(.{0,600})', html, re.S)
    assert m and review in json.loads(re.search(r"d\.innerHTML = (\".*?\");", m.group(1))
                                      .group(1))
    monkeypatch.setenv("ZLGIS_TIANDITU_KEY", "bad key\"><script>")
    with pytest.raises(ConfigError):
        build_map({}, None, catalog=catalog)


def test_osm_attribution_and_bad_options(catalog):
    html = build_map({}, None, catalog=catalog, basemap="osm").get_root().render()
    assert "\\u00a9 OpenStreetMap contributors" in html
    with pytest.raises(ConfigError):
        build_map({}, None, catalog=catalog, basemap="baidu")
    with pytest.raises(ConfigError):
        build_map({}, None, catalog=catalog, profile="secret")


def test_layer_titles_and_legend_escaped(catalog):
    payload = '<img src=x onerror="window.__xss=1">'
    spec = dataclasses.replace(catalog["parks"], title=payload)
    cat = dataclasses.replace(catalog, layers={**catalog.layers, "parks": spec})
    html = build_map(small_layers(catalog), None, catalog=cat, basemap="none",
                     title=payload).get_root().render()
    assert payload not in html and "onerror=\"" not in html
    # escaped once for HTML, then written as a JSON string inside the script
    assert "\\u0026lt;img src=x onerror=\\u0026quot;window.__xss=1\\u0026quot;\\u0026gt;" in html


def test_controls_for_each_profile(catalog):
    ihtml = build_map(small_layers(catalog), None, catalog=catalog, basemap="none"
                      ).get_root().render()
    phtml = build_map(small_layers(catalog), None, catalog=catalog, profile="public",
                      basemap="none").get_root().render()
    for html in (ihtml, phtml):
        assert "L.control.layers" in html and "L.control.fullscreen" in html
        assert "L.Control.Search" in html and "control.scale" in html.replace("L.", "")
        assert 'name="viewport"' in html and "imperial: false" in html
        assert '<details class="zlgis-legend-d"' not in html     # written by a script ...
        assert "zlgis-legend-d" in html                          # ... as escaped JSON text
    assert "L.Control.Measure" in ihtml and "L.control.locate" not in ihtml
    assert "L.control.locate" in phtml and "L.Control.Measure" not in phtml
    # search records: roads, parks, toilets by name
    rec = json.loads(re.search(r"var records = (\[.*?\]);", phtml).group(1))
    titles = {r["title"] for r in rec}
    assert {"布特哈大街（道路中心线）", "吊桥公园（公园与广场）", "中央路公厕（公共厕所）"} <= titles


def test_extra_layers_profiles(catalog):
    ponding = gpd.GeoDataFrame({"depth_cm": [10.0, 60.0], "area_m2": [50.0, 800.0],
                                "note": ["内部备注", "内部备注"]},
                               geometry=[box(X0, Y0, X0 + 20, Y0 + 20),
                                         box(X0 + 100, Y0, X0 + 150, Y0 + 40)], crs=CRS)
    extra = {"ponding": ponding}
    phtml = build_map({}, None, catalog=catalog, profile="public", basemap="none",
                      extra=extra).get_root().render()
    spec = next(s for s in layer_specs(phtml) if s["key"] == "ponding")
    assert [f["properties"]["_c"] for f in spec["data"]["features"]] == [0, 3]
    assert "内部备注" not in phtml and "积水 ≥50 厘米" in phtml
    assert ["depth_cm", "积水深度（厘米）"] in spec["fields"]
    ihtml = build_map({}, None, catalog=catalog, basemap="none", extra=extra).get_root().render()
    assert "内部备注" in ihtml


def test_truck_zone_popup_has_hours(catalog):
    html = build_map(small_layers(catalog), None, catalog=catalog, profile="public",
                     basemap="none").get_root().render()
    zone = next(s for s in layer_specs(html) if s["key"] == "truck_no_parking_zones")
    assert ["weekday_hours", "工作日禁停时段"] in zone["fields"]
    assert zone["data"]["features"][0]["properties"]["weekday_hours"] == "07:00-09:00;17:00-19:00"
    road = next(s for s in layer_specs(html) if s["key"] == "truck_restricted_roads")
    assert road["data"]["features"][0]["properties"]["hours"] == "07:00-20:00"


def test_map_layer_ids(catalog):
    assert "buildings" not in map_layer_ids("public", catalog)
    assert public_fields(catalog["buildings"]) == ["building_id", "use", "floors"]
    spec = dataclasses.replace(catalog["toilets"], public=("name", "keeper_phone"))
    assert public_fields(spec) == ["name"]


def test_save_map_local_assets_offline(catalog, tmp_path):
    before_js = list(folium.Map.default_js)
    before_css = list(folium.Map.default_css)
    m = build_map(small_layers(catalog), small_findings(), catalog=catalog, basemap="none")
    out = save_map(m, tmp_path / "sub" / "map.html", assets="local")
    html = out.read_text(encoding="utf-8")
    assert external_links(html) == []
    for ref in re.findall(r'(?:src|href)="(zlgis_assets/[^"]+)"', html):
        assert (out.parent / ref).is_file(), ref
    assert (out.parent / "zlgis_assets" / "leaflet@1.9.4" / "dist" / "images" /
            "layers.png").is_file()
    assert not [p for p in out.parent.iterdir() if p.name.startswith(".")]
    # folium's shared class-level asset lists are untouched
    assert folium.Map.default_js == before_js and folium.Map.default_css == before_css
    plain = folium.Map().get_root().render()
    assert "code.jquery.com" in plain


def test_save_map_cdn_pins_versions(catalog, tmp_path):
    m = build_map(small_layers(catalog), small_findings(), catalog=catalog, basemap="none")
    html = save_map(m, tmp_path / "map.html", assets="cdn").read_text(encoding="utf-8")
    links = external_links(html)
    assert links and all(u.startswith("https://cdn.jsdelivr.net/npm/") for u in links)
    assert "leaflet@1.9.4" in html and "jquery" not in html
    with pytest.raises(ConfigError):
        save_map(m, tmp_path / "x.html", assets="ftp")


def test_save_map_stable_ids_and_scripts(catalog, tmp_path):
    """Two builds of the same map save the same file (folium's random ids numbered in order);
    the scripts passed go before ``</body>``."""
    pages = []
    for name in ("a.html", "b.html"):
        m = build_map(small_layers(catalog), small_findings(), catalog=catalog, basemap="none")
        pages.append(save_map(m, tmp_path / name, assets="cdn",
                              scripts=[FOCUS_JS]).read_text(encoding="utf-8"))
    assert pages[0] == pages[1]
    ids = set(HEX_ID.findall(pages[0]))
    assert ids and {int(i, 16) for i in ids} == set(range(len(ids)))
    assert pages[0].index(FOCUS_JS) < pages[0].rindex("</body>")
    assert pages[0].count(FOCUS_JS) == 1


def test_local_assets_missing_vendor_is_clear_error(catalog, tmp_path):
    m = build_map({}, None, catalog=catalog, basemap="none")
    with pytest.raises(ConfigError, match="setup_assets"):
        assets_mod.localize_html(m.get_root().render(), tmp_path, vendor=tmp_path / "nowhere")
    assert not (tmp_path / "map.html").exists()


# --- the demo city -------------------------------------------------------------------------------

#: Fields whose values identify people or vehicles (scanned for in the public page).
PERSONAL_FIELDS = {
    "buildings": ["owner_name", "owner_phone", "permit_no"],
    "toilets": ["keeper_name", "keeper_phone"],
    "grids": ["road_chief", "road_chief_phone", "grid_worker"],
    "hotline_cases": ["case_id", "text", "address", "requester_name", "requester_phone"],
    "truck_pings": ["plate"],
    "patrol_observations": ["plate", "inspector", "note"],
    "muck_routes": ["plate_hash"],
    "construction_sites": ["builder", "permit_no"],
    "logistics_points": ["company"],
}


@pytest.fixture(scope="module")
def demo_layers(demo_catalog):
    from zlgis.validate import load_layers

    ids = [lid for lid, s in demo_catalog.layers.items() if s.kind != "raster"]
    return load_layers(demo_catalog, ids)


@pytest.fixture(scope="module")
def demo_public(demo_catalog, demo_layers, tmp_path_factory):
    ids = map_layer_ids("public", demo_catalog)
    m = build_map({k: demo_layers[k] for k in ids}, None, catalog=demo_catalog,
                  profile="public", basemap="none")
    path = save_map(m, tmp_path_factory.mktemp("demo") / "public.html", assets="local")
    return path


def test_demo_public_map_has_no_personal_value(demo_catalog, demo_layers, demo_public):
    html = demo_public.read_text(encoding="utf-8")
    # every string literal of the page (JSON values, attributes, text), decoded
    strings = {json.loads(f'"{m}"') for m in re.findall(r'"((?:[^"\\\n]|\\.)*)"', html)}
    strings |= set(re.findall(r">([^<>]+)<", html))
    # phone numbers and plates anywhere in the page, whatever surrounds them
    embedded = set(re.findall(r"(?<!\d)1\d{10}(?!\d)", html))
    embedded |= set(re.findall(r"[\u4e00-\u9fa5][A-Z][A-Z0-9]{5,6}", html))
    scanned, leaked = 0, []
    for lid, fields in PERSONAL_FIELDS.items():
        gdf = demo_layers.get(lid)
        if gdf is None:
            continue
        for f in fields:
            if f not in gdf.columns:
                continue
            for v in set(gdf[f].dropna().astype(str)):
                if len(v) < 2:
                    continue
                scanned += 1
                if v in strings or v in embedded:
                    leaked.append((lid, f, v))
    assert scanned > 1000          # the demo really has names, phones and plates to leak
    assert leaked == []
    # and no field outside the catalog's public list is sent for any layer
    for s in layer_specs(html):
        spec = demo_catalog.layers.get(s["key"])
        if spec is not None:
            sent = {k for f in s["data"]["features"] for k in f["properties"] if k[0] != "_"}
            assert sent <= set(spec.public), s["key"]


def test_demo_public_map_size_and_content(demo_catalog, demo_layers, demo_public):
    size = demo_public.stat().st_size
    assert size <= 5 * 1024 * 1024
    specs = {s["key"]: s for s in layer_specs(demo_public.read_text(encoding="utf-8"))}
    assert "buildings" not in specs
    assert specs["toilets"]["cluster"] is True          # > cluster_min_points: clustered
    assert specs["parks"]["cluster"] is False
    for lid in ("toilets", "parks", "red_lines", "waterlogging_points", "truck_no_parking_zones"):
        assert len(specs[lid]["data"]["features"]) == len(demo_layers[lid]), lid
    counts = specs["hotline_counts"]["data"]["features"]
    k = 3
    shown = [f["properties"]["count_text"] for f in counts]
    total = sum(int(t) for t in shown if not t.startswith("<"))
    small = sum(1 for t in shown if t.startswith("<"))
    assert total + small <= len(demo_layers["hotline_cases"]) <= total + small * (k - 1)


def test_page_title_language_and_config_urls(catalog, tmp_path, monkeypatch):
    import yaml

    m = build_map({}, None, catalog=catalog, basemap="none", title="周报<地图>")
    html = save_map(m, tmp_path / "m.html").read_text(encoding="utf-8")
    assert "<title>周报&lt;地图&gt;</title>" in html and '<html lang="zh-CN">' in html
    # a bureau's edited publish.yaml with a javascript: tile URL is refused
    from zlgis.config import CONFIG_DIR

    cfg = yaml.safe_load((CONFIG_DIR / "publish.yaml").read_text(encoding="utf-8"))
    cfg["basemaps"]["osm"]["url"] = "javascript:alert(1)//{z}/{x}/{y}"
    (tmp_path / "publish.yaml").write_text(yaml.safe_dump(cfg, allow_unicode=True),
                                           encoding="utf-8")
    monkeypatch.setenv("ZLGIS_CONFIG_DIR", str(tmp_path))
    with pytest.raises(ConfigError, match="瓦片地址"):
        build_map({}, None, catalog=catalog, basemap="osm")


# --- real data -------------------------------------------------------------------------------------


@pytest.mark.realdata
def test_gaode_realdata_boundary_lines_up_with_gcj02_source(catalog, realdata):
    """The Zhalantun boundary file is GCJ-02 (as scraped from a Chinese web map). Loaded as WGS84
    and drawn in Gaode mode, its overlay must fall back on the file's own coordinates; in OSM
    mode it must sit about 0.5 km away from them."""
    import shapely

    from zlgis.crs import gcj02_to_wgs84

    src = gpd.read_file(realdata / "zhalantun-boundary" / "150783.json")
    ring0 = np.asarray(src.geometry.iloc[0].geoms[0].exterior.coords)[0]

    def to_wgs(c):
        lng, lat = gcj02_to_wgs84(c[:, 0], c[:, 1])
        return np.column_stack([lng, lat])

    wgs = src.set_geometry(shapely.transform(src.geometry.values, to_wgs)).to_crs(CRS)
    boundary = gpd.GeoDataFrame({"code": ["150783"], "name": ["扎兰屯市"]},
                                geometry=wgs.geometry.values, crs=CRS)

    def first_vertex(basemap):
        html = build_map({"boundary": boundary}, None, catalog=catalog, basemap=basemap,
                         service_areas=False).get_root().render()
        spec = next(s for s in layer_specs(html) if s["key"] == "boundary")
        return coords(spec["data"]["features"][0]["geometry"])[0]

    gaode, osm = first_vertex("gaode"), first_vertex("osm")
    assert np.allclose(gaode, ring0, atol=2e-6)           # back on the GCJ-02 source
    _, _, shift = Geod(ellps="WGS84").inv(osm[0], osm[1], gaode[0], gaode[1])
    assert 400 < shift < 700                                # the GCJ-02 offset at Zhalantun


@pytest.mark.realdata
def test_osm_realdata_gets_attribution_and_no_shift_abroad(catalog, realdata):
    import pyogrio

    pbf = realdata / "helsinki" / "Helsinki.osm.pbf"
    pts = pyogrio.read_dataframe(pbf, layer="points")
    toilets = pts[pts["other_tags"].fillna("").str.contains('"amenity"=>"toilets"')]
    toilets = gpd.GeoDataFrame({"toilet_id": toilets["osm_id"].astype(str),
                                "name": toilets["name"].fillna("公厕")},
                               geometry=toilets.geometry.values, crs=pts.crs)
    assert len(toilets) == 17
    spec = dataclasses.replace(catalog["toilets"], path=pbf)
    cat = dataclasses.replace(catalog, layers={**catalog.layers, "toilets": spec})
    html = build_map({"toilets": toilets}, None, catalog=cat, basemap="gaode",
                     service_areas=False).get_root().render()
    assert "addAttribution" in html and "OpenStreetMap contributors" in html
    drawn = coords({"coordinates": [f["geometry"]["coordinates"] for f in next(
        s for s in layer_specs(html) if s["key"] == "toilets")["data"]["features"]]})
    src = shapely_xy(toilets)
    # outside China no GCJ-02 shift applies, only rounding to 6 decimals
    assert np.allclose(np.sort(drawn, axis=0), np.sort(src, axis=0), atol=1e-6)


def shapely_xy(gdf):
    import shapely

    return shapely.get_coordinates(gdf.to_crs("EPSG:4326").geometry.values)


@pytest.mark.parametrize("tz", [None, "Asia/Shanghai", "UTC"])
def test_datetime_columns_show_what_display_value_shows(tz):
    import pandas as pd
    from hypothesis import given, settings
    from hypothesis import strategies as st

    from zlgis.publish.escape import display_value
    from zlgis.publish.maps import _datetime_texts

    stamps = st.one_of(st.none(), st.datetimes(min_value=dt.datetime(1990, 1, 1),
                                               max_value=dt.datetime(2040, 1, 1)),
                       st.dates(min_value=dt.date(1990, 1, 1), max_value=dt.date(2040, 1, 1))
                       .map(lambda d: dt.datetime(d.year, d.month, d.day)))

    @settings(max_examples=100, deadline=None)
    @given(st.lists(stamps, max_size=20))
    def check(values):
        s = pd.Series(pd.to_datetime(pd.Series(values, dtype=object)), dtype="datetime64[ns]")
        if tz:
            s = s.dt.tz_localize(tz)
        assert _datetime_texts(s) == [display_value(v) for v in s.tolist()]

    check()


def test_service_circles_are_computed_once_for_both_maps_and_follow_the_features():
    from zlgis.publish import maps

    a = gpd.GeoDataFrame(geometry=[Point(0, 0), Point(500, 0)], crs="EPSG:4550")
    b = gpd.GeoDataFrame(geometry=[Point(0, 0), Point(900, 0)], crs="EPSG:4550")
    first = maps._circles(a, 300.0)
    assert maps._circles(a.copy(), 300.0) is first  # the second map reuses the union
    assert first.wkb == a.geometry.buffer(300.0, 16).union_all().wkb
    assert maps._circles(b, 300.0).wkb == b.geometry.buffer(300.0, 16).union_all().wkb
    assert maps._circles(a, 200.0).wkb == a.geometry.buffer(200.0, 16).union_all().wkb
