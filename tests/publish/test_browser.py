"""Maps in real headless Chromium (Debian's chromium driven by Playwright).

One browser and one loopback HTTP server per module. Every page is saved with local assets and
no basemap, and every request that does not go to the loopback server is blocked and recorded.
"""

from __future__ import annotations

import functools
import http.server
import threading

import pytest

from zlgis.catalog import Catalog
from zlgis.config import load_config
from zlgis.publish.maps import build_map, save_map

pytestmark = pytest.mark.browser

CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run"]


import _publish_fixtures as _fx  # noqa: E402  (tests/ is on sys.path, see conftest)


class _Quiet(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args) -> None:  # keep test output clean
        pass


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    """Folder of saved maps, served on 127.0.0.1; yields (folder, base URL)."""
    root = tmp_path_factory.mktemp("maps")
    cat = Catalog.load()
    for profile in ("internal", "public"):
        m = build_map(_fx.small_layers(cat), _fx.small_findings(), catalog=cat, profile=profile,
                      basemap="none")
        save_map(m, root / f"{profile}.html", assets="local")
        xss = build_map(_fx.small_layers(cat, _fx.XSS_CORPUS),
                        _fx.small_findings(_fx.XSS_CORPUS[1]), catalog=cat, profile=profile,
                        basemap="none", title=_fx.XSS_CORPUS[0])
        save_map(xss, root / f"xss_{profile}.html", assets="local")
    handler = functools.partial(_Quiet, directory=str(root))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield root, f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


@pytest.fixture(scope="module")
def browser():
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(executable_path="/usr/bin/chromium", args=CHROMIUM_ARGS)
        yield b
        b.close()


class Page:
    """A page with its console errors and blocked (non-loopback) requests."""

    def __init__(self, browser, base: str, name: str, **options) -> None:
        self.errors: list[str] = []
        self.blocked: list[str] = []
        options.setdefault("viewport", {"width": 412, "height": 800})
        self.page = browser.new_page(**options)
        self.page.on("console", lambda m: self.errors.append(m.text) if m.type == "error"
                     else None)
        self.page.on("pageerror", lambda e: self.errors.append(str(e)))

        def route(r):
            if r.request.url.startswith(base + "/"):
                r.continue_()
            else:
                self.blocked.append(r.request.url)
                r.abort()

        self.page.route("**/*", route)
        self.page.goto(f"{base}/{name}")
        self.page.wait_for_function("window.zlgis && zlgis.map && zlgis.layers.length > 0",
                                    timeout=15000)
        self.page.wait_for_load_state("load")

    def js(self, code: str):
        return self.page.evaluate(code)

    def close(self) -> None:
        self.page.close()


@pytest.mark.parametrize("profile", ["internal", "public"])
def test_map_renders_offline_without_console_errors(site, browser, profile):
    _, base = site
    pg = Page(browser, base, f"{profile}.html")
    try:
        assert pg.errors == []
        assert pg.blocked == []          # local assets: no request leaves the folder
        layers = pg.js("zlgis.layers.map(l => [l.key, l.n, zlgis.map.hasLayer(l.group)])")
        keys = {k for k, n, _ in layers if n > 0}
        shown = {k for k, n, on in layers if on}
        hidden = set(load_config("publish")["hidden_by_default"][profile])
        assert {"toilets", "parks"} <= shown and "roads" in hidden and not hidden & shown
        assert ("red_lines" in shown) == (profile == "internal")   # citizens: opt in to red lines
        assert {"red_lines", "toilets", "parks", "findings_medium"} <= keys
        # overlays are really drawn: SVG paths and clustered/point markers (at the street
        # zoom, where every layer is legible and drawn)
        pg.js("zlgis.map.setView([48.0100, 122.7400], 16, {animate: false})")
        assert pg.js("document.querySelectorAll('.leaflet-map-pane path').length") > 10
        assert pg.js("document.querySelectorAll('.leaflet-marker-pane > *').length") > 0
        # points are drawn above lines above polygons (clickable under a zone)
        z = pg.js("['zlgisPolygons', 'zlgisLines', 'zlgisPoints'].map("
                  "p => +getComputedStyle(zlgis.map.getPane(p)).zIndex)")
        assert z[0] < z[1] < z[2]
        assert pg.js("zlgis.map.getPane('zlgisPoints').querySelectorAll('path').length") >= 3
        # CSS images come from the local copy (Leaflet's layers icon)
        bg = pg.js("getComputedStyle(document.querySelector('.leaflet-control-layers-toggle'))"
                   ".backgroundImage")
        assert "zlgis_assets/leaflet@1.9.4/dist/images/layers" in bg
        tool = "leaflet-control-measure" if profile == "internal" else "leaflet-control-locate"
        assert pg.js(f"document.querySelectorAll('.{tool}').length") == 1
        assert pg.js("document.querySelectorAll('.leaflet-control-search').length") == 1
        assert pg.js("document.querySelector('meta[name=viewport]') !== null")
        # on a phone-sized screen the legend starts folded, the scale bar is metric only
        assert pg.js("document.querySelector('details.zlgis-legend-d').open") is False
        assert pg.js("document.querySelectorAll('.leaflet-control-scale-line').length") == 1
    finally:
        pg.close()


def test_layer_toggle_and_popup(site, browser):
    _, base = site
    pg = Page(browser, base, "internal.html")
    try:
        # red lines are drawn from zoom 15 (publish.yaml min_zoom): look at the street zoom
        pg.js("zlgis.map.setView([48.0100, 122.7400], 16, {animate: false})")
        on = "zlgis.map.hasLayer(zlgis.layers.find(l => l.key === 'red_lines').layer)"
        assert pg.js(on) is True
        pg.page.hover(".leaflet-control-layers")
        box = pg.page.locator(".leaflet-control-layers-overlays label",
                              has_text="道路红线").locator("input")
        box.click()
        assert pg.js(on) is False
        box.click()
        assert pg.js(on) is True
        # hidden layers (roads) are built only when first switched on
        roads = "zlgis.layers.find(l => l.key === 'roads')"
        assert pg.js(f"{roads}.layer === null")
        pg.page.locator(".leaflet-control-layers-overlays label",
                        has_text="道路中心线").locator("input").click()
        assert pg.js(f"zlgis.map.hasLayer({roads}.layer)") is True
        assert pg.js(f"{roads}.layer.getLayers().length") == 2
        # a real click on a toilet that lies inside a park opens the toilet's popup
        pg.page.mouse.move(200, 790)               # leave the layer list: it collapses
        pg.page.wait_for_selector(".leaflet-control-layers-expanded", state="detached")
        pg.js("zlgis.map.setView(zlgis.layers.find(l => l.key === 'toilets').layer"
              ".getLayers()[0].getLatLng(), 16, {animate: false})")
        # let the clusters settle at the new zoom: the toilet drawn as itself, not in a cluster
        pg.page.wait_for_function("""() => {
            const t = zlgis.layers.find(l => l.key === 'toilets').layer.getLayers()[0];
            const el = t._icon || t._path;         // a marker's icon, a circle marker's path
            return !!(el && el.isConnected); }""", timeout=20000)
        pg.page.wait_for_timeout(300)            # and the zoom animation of the clusters over
        x, y = pg.page.evaluate("""() => {
            const t = zlgis.layers.find(l => l.key === 'toilets').layer.getLayers()[0];
            const p = zlgis.map.latLngToContainerPoint(t.getLatLng());
            const r = zlgis.map.getContainer().getBoundingClientRect();
            return [r.left + p.x, r.top + p.y];
        }""")
        pg.page.mouse.click(x, y)
        pg.page.wait_for_selector(".leaflet-popup-content", timeout=15000)
        text = pg.js("document.querySelector('.leaflet-popup-content').textContent")
        assert "吊桥公园公厕" in text and "公厕名称" in text
        assert pg.errors == []
    finally:
        pg.close()


def test_measuring_on_the_internal_map(site, browser):
    _, base = site
    pg = Page(browser, base, "internal.html", viewport={"width": 1000, "height": 800})
    try:
        pg.page.hover(".leaflet-control-measure")
        pg.page.click(".leaflet-control-measure .js-start")
        for x, y in ((400, 400), (600, 450), (600, 600)):
            pg.page.mouse.click(x, y)
        pg.page.click(".leaflet-control-measure .js-finish")
        text = pg.page.wait_for_selector(".leaflet-popup-content").text_content()
        assert "面积测量" in text and "平方米" in text and "周长" in text
        assert pg.errors == []
    finally:
        pg.close()


def test_locate_me_on_the_public_map(site, browser):
    _, base = site
    here = {"latitude": 48.0059, "longitude": 122.7447}
    pg = Page(browser, base, "public.html", geolocation=here, permissions=["geolocation"])
    try:
        pg.page.click(".leaflet-control-locate a")
        pg.page.wait_for_function("zlgis.map.getCenter().distanceTo([48.0059, 122.7447]) < 50",
                                  timeout=15000)
        assert pg.js("document.querySelectorAll('.leaflet-control-locate-location').length") > 0
        assert pg.errors == []
    finally:
        pg.close()


def test_search_finds_a_park(site, browser):
    _, base = site
    pg = Page(browser, base, "public.html")
    try:
        pg.page.click(".leaflet-control-search .search-button")
        pg.page.fill(".leaflet-control-search input", "吊桥")
        # typed CJK text arrives as an input method commit, without keyup: send one
        pg.js("document.querySelector('.leaflet-control-search input')"
              ".dispatchEvent(new KeyboardEvent('keyup', {bubbles: true}))")
        pg.page.wait_for_selector(".search-tip", timeout=15000)
        tips = pg.js("Array.from(document.querySelectorAll('.search-tip')).map(t => t.textContent)")
        assert "吊桥公园（公园与广场）" in tips
        assert pg.errors == []
    finally:
        pg.close()


_OPEN_ALL = """
async () => {
  const sleep = ms => new Promise(r => setTimeout(r, ms));
  let opened = 0;
  for (const entry of zlgis.layers) {
    if (!zlgis.map.hasLayer(entry.group)) { zlgis.map.addLayer(entry.group); }
    for (const l of entry.layer.getLayers()) {
      if (l.getPopup && l.getPopup()) {
        // markers inside clusters may not be on the map: open on the map directly
        const ll = l.getLatLng ? l.getLatLng() : l.getBounds().getCenter();
        zlgis.map.openPopup(l.getPopup().getContent()(l), ll);
        opened++;
      }
      if (l.getTooltip && l.getTooltip()) {
        const t = l.getTooltip().getContent()(l);
        const ll = l.getLatLng ? l.getLatLng() : l.getBounds().getCenter();
        zlgis.map.openTooltip(t, ll);
      }
      if (l._path) { l._path.dispatchEvent(new MouseEvent('mouseover', {bubbles: true}));
                     l._path.dispatchEvent(new MouseEvent('click', {bubbles: true})); }
    }
    await sleep(0);
  }
  document.querySelectorAll('.zlgis-box, .leaflet-control-layers label').forEach(e =>
    e.dispatchEvent(new MouseEvent('mouseover', {bubbles: true})));
  await sleep(200);
  return opened;
}
"""


@pytest.mark.parametrize("profile", ["internal", "public"])
def test_xss_corpus_executes_nothing(site, browser, profile):
    _, base = site
    pg = Page(browser, base, f"xss_{profile}.html")
    try:
        opened = pg.page.evaluate(_OPEN_ALL)
        assert opened > 10
        # search tips built from payload names
        pg.page.click(".leaflet-control-search .search-button")
        pg.page.locator(".leaflet-control-search input").press_sequentially("img")
        pg.page.wait_for_timeout(300)
        assert pg.js("window.__xss") is None
        assert pg.js("document.querySelectorAll('.leaflet-popup-content img, "
                     ".leaflet-tooltip img, .zlgis-box img, .search-tip img, iframe, "
                     ".leaflet-control-layers svg').length") == 0
        assert pg.errors == []
        assert pg.blocked == []
    finally:
        pg.close()


def test_popup_shows_the_escaped_value(site, browser):
    _, base = site
    pg = Page(browser, base, "xss_internal.html")
    try:
        text, inner, name = pg.page.evaluate("""
          () => {
            const toilets = zlgis.layers.find(l => l.key === 'toilets').layer;
            const l = toilets.getLayers().find(x => x.feature.properties.name.includes('<'));
            l.openPopup();
            const c = document.querySelector('.leaflet-popup-content');
            return [c.textContent, c.innerHTML, l.feature.properties.name];
          }""")
        assert name in _fx.XSS_CORPUS
        assert name in text                      # shown exactly as typed
        assert name not in inner                 # ... but as text, not markup
        assert name.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;") in inner
        assert pg.js("window.__xss") is None
    finally:
        pg.close()


def test_demo_public_map_renders_offline(demo_catalog, browser, tmp_path):
    """The demo city's public map: local assets, no request leaves the loopback server."""
    from zlgis.publish.maps import map_layer_ids
    from zlgis.validate import load_layers

    layers = load_layers(demo_catalog, map_layer_ids("public", demo_catalog))
    m = build_map(layers, None, catalog=demo_catalog, profile="public", basemap="none")
    save_map(m, tmp_path / "demo_public.html", assets="local")
    handler = functools.partial(_Quiet, directory=str(tmp_path))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        base = f"http://127.0.0.1:{server.server_address[1]}"
        pg = Page(browser, base, "demo_public.html")
        try:
            assert pg.errors == [] and pg.blocked == []
            drawn = dict(pg.js("zlgis.layers.map(l => [l.key, l.n])"))
            for lid in ("red_lines", "parks", "toilets", "waterlogging_points",
                        "truck_no_parking_zones", "hotline_counts"):
                assert drawn.get(lid, 0) > 0, lid
            assert drawn["toilets"] == len(layers["toilets"])
            assert pg.js("document.querySelectorAll('.leaflet-map-pane path').length") > 100
            assert pg.js("window.__xss") is None
        finally:
            pg.close()
    finally:
        server.shutdown()
        server.server_close()
