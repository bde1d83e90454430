"""Layers too big to draw one by one: hexagon counts, notes, and the map that carries both."""

from __future__ import annotations

import _publish_fixtures as _fx  # noqa: E402  (tests/ is on sys.path, see conftest)
import geopandas as gpd
import numpy as np
import pytest
import shapely

from zlgis.catalog import Catalog
from zlgis.publish.aggregate import fit_layers, hexagon_counts
from zlgis.publish.maps import build_map, save_map


def _points(n, seed=7):
    rng = np.random.default_rng(seed)
    xy = np.column_stack([_fx.X0 + rng.uniform(0, 3000, n), _fx.Y0 + rng.uniform(0, 2000, n)])
    return gpd.GeoSeries(shapely.points(xy), crs=_fx.CRS)


def test_hexagons_tile_the_plane_and_count_every_point():
    pts = _points(5000)
    hexes = hexagon_counts(pts, 200)
    assert hexes.crs == pts.crs and int(hexes["count"].sum()) == 5000
    # regular hexagons of side 200 m
    assert np.allclose(hexes.area, 1.5 * np.sqrt(3) * 200 ** 2)
    assert np.allclose(shapely.length(shapely.get_exterior_ring(hexes.geometry.values)), 1200)
    # they do not overlap, and each point lies in the hexagon that counts it
    assert shapely.union_all(hexes.geometry.values).area == pytest.approx(hexes.area.sum())
    hit = gpd.sjoin(gpd.GeoDataFrame(geometry=pts), hexes, predicate="within")
    assert len(hit) == 5000 and hit.index.is_unique
    assert hit.groupby("index_right").size().sort_index().tolist() == \
        hexes["count"].sort_index().tolist()


def test_polygons_count_once_and_empty_input():
    polys = gpd.GeoSeries([shapely.box(_fx.X0, _fx.Y0, _fx.X0 + 50, _fx.Y0 + 50), None],
                          crs=_fx.CRS)
    assert hexagon_counts(polys, 250)["count"].tolist() == [1]
    assert len(hexagon_counts(polys.iloc[1:], 250)) == 0


def test_fit_layers_aggregates_points_and_notes_what_is_left_off():
    cat = Catalog.load()
    layers = _fx.small_layers(cat)
    big = gpd.GeoDataFrame({"toilet_id": [f"T{i}" for i in range(300)]}, geometry=_points(300))
    layers["toilets"] = big
    kept, agg, notes = fit_layers({k: layers[k] for k in ("toilets", "roads", "green_islands")},
                                  cat, limit=1, hexagon_m=250)
    assert list(kept) == ["green_islands"]              # within the limit: drawn one by one
    assert list(agg) == ["公共厕所（按六边形汇总）"] and agg["公共厕所（按六边形汇总）"]["count"].sum() == 300
    assert notes == [
        "公共厕所共 300 个，超过逐个显示的上限 1 个，图上按边长 250 米的六边形汇总个数",
        "道路中心线共 2 个要素，超过逐个显示的上限 1 个，"
        "未在图上显示（见图层数据，可用 zlgis export qgis 在 QGIS 中查看）"]


@pytest.mark.parametrize("profile", ["internal", "public"])
def test_map_carries_counts_and_notes(tmp_path, profile):
    cat = Catalog.load()
    hexes = hexagon_counts(_points(400), 250)
    note = "公共厕所共 400 个，超过逐个显示的上限 <b>1</b> 个"
    m = build_map({}, None, catalog=cat, profile=profile, basemap="none",
                  aggregates={"公共厕所（按六边形汇总）": hexes}, notes=[note])
    html = save_map(m, tmp_path / "m.html").read_text(encoding="utf-8")
    # the legend is embedded as a JSON string: markup as \u003c, the note's own markup escaped
    assert "\\u003cb\\u003e未逐个显示的图层\\u003c/b\\u003e" in html
    assert ("公共厕所共 400 个，超过逐个显示的上限 \\u0026lt;b\\u0026gt;1\\u0026lt;/b\\u0026gt; 个"
            in html)
    assert "<b>1</b>" not in html and "\\u003cb\\u003e1" not in html
    for label in ("每格 1–4 个", "每格 5–19 个", "每格 20–99 个", "每格 100 个以上"):
        assert f"公共厕所（按六边形汇总）：{label}" in html            # legend classes
    assert html.count('"count"') >= len(hexes)                     # one feature per hexagon


@pytest.mark.browser
def test_counts_and_notes_in_chromium(tmp_path):
    """In headless Chromium (network blocked): no console error, the note readable in the
    legend, the hexagon layer listed in the layer control and toggling, one shape per hexagon."""
    import functools
    import http.server
    import threading

    from playwright.sync_api import sync_playwright

    from .test_browser import CHROMIUM_ARGS, Page, _Quiet

    cat = Catalog.load()
    hexes = hexagon_counts(_points(400), 250)
    note = "公共厕所共 400 个，超过逐个显示的上限 1 个，图上按边长 250 米的六边形汇总个数"
    layers = _fx.small_layers(cat)
    m = build_map({"parks": layers["parks"]}, None, catalog=cat, basemap="none",
                  aggregates={"公共厕所（按六边形汇总）": hexes}, notes=[note])
    save_map(m, tmp_path / "m.html", assets="local")
    server = http.server.ThreadingHTTPServer(
        ("127.0.0.1", 0), functools.partial(_Quiet, directory=str(tmp_path)))
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        with sync_playwright() as p:
            b = p.chromium.launch(executable_path="/usr/bin/chromium", args=CHROMIUM_ARGS)
            pg = Page(b, f"http://127.0.0.1:{server.server_address[1]}", "m.html",
                      viewport={"width": 1200, "height": 800})
            try:
                legend = pg.js("document.querySelector('.zlgis-legend').innerText")
                assert "未逐个显示的图层" in legend and note in legend
                key = "zlgis.layers.find(l => l.title === '公共厕所（按六边形汇总）')"
                assert pg.js(f"{key}.layer.getLayers().length") == len(hexes)
                on = f"zlgis.map.hasLayer({key}.layer)"
                assert pg.js(on) is True
                pg.page.hover(".leaflet-control-layers")
                box = pg.page.locator(".leaflet-control-layers-overlays label",
                                      has_text="公共厕所（按六边形汇总）").locator("input")
                box.click()
                assert pg.js(on) is False
                assert pg.errors == [] and pg.blocked == []
            finally:
                pg.close()
                b.close()
    finally:
        server.shutdown()
        server.server_close()


def test_weekly_map_context_fits_each_layer_once_for_both_profiles(monkeypatch):
    """The layers both weekly maps draw are fitted once: the public and internal contexts share
    the same hexagon counts, and each context is what fitting its own layers gives."""
    from zlgis import weekly
    from zlgis.config import load_config
    from zlgis.publish import aggregate
    from zlgis.publish.maps import map_layer_ids

    cat = Catalog.load()
    shared = sorted(set(map_layer_ids("internal", cat)) & set(map_layer_ids("public", cat)))
    assert shared
    layers = {lid: gpd.GeoDataFrame(geometry=_points(300 + 10 * k, seed=k))
              for k, lid in enumerate(map_layer_ids("internal", cat)
                                      + map_layer_ids("public", cat))}
    cfg = dict(load_config("ledger")["maps"], max_context_features=250)
    real = load_config

    def config(name):
        out = real(name)
        return dict(out, maps=cfg) if name == "ledger" else out

    monkeypatch.setattr("zlgis.config.load_config", config)
    calls = []
    fit = aggregate.fit_layers
    monkeypatch.setattr(aggregate, "fit_layers", lambda ly, *a, **k: calls.append(list(ly))
                        or fit(ly, *a, **k))
    ctx = weekly.map_context(layers, cat)
    assert sorted(sum(calls, [])) == sorted(set(sum(calls, [])))  # every layer fitted once
    for profile in ("internal", "public"):
        mine = {k: layers[k] for k in map_layer_ids(profile, cat) if k in layers}
        kept, agg, notes = fit(mine, cat, limit=250, hexagon_m=float(cfg["hexagon_m"]))
        c = ctx[profile]
        assert list(c) == list(kept) and c.notes == notes and list(c.aggregates) == list(agg)
        for title in agg:
            assert c.aggregates[title].equals(agg[title])
    both = set(ctx["internal"].aggregates) & set(ctx["public"].aggregates)
    assert both
    assert all(ctx["internal"].aggregates[t] is ctx["public"].aggregates[t] for t in both)
