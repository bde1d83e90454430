"""Vector-tile layers in headless Chromium (network blocked, local assets): the buildings drawn
in their finding-status colours from a PMTiles archive served by ``zlgis serve`` and by a plain
static server with range requests (busybox httpd, Debian); the page opened as a file still shows
its embedded layers and says why the tiles are missing."""

from __future__ import annotations

import contextlib
import os
import re
import shutil
import socket
import subprocess
import sys
import time
from pathlib import Path

import _tile_fixtures as _tf  # tests/ is on sys.path (conftest)
import pytest
import shapely

from zlgis.config import load_config

from .test_browser import Page, browser  # noqa: F401  (fixture)

pytestmark = pytest.mark.browser

ROOT = Path(__file__).resolve().parents[2]
COLORS = {k: v["color"] for k, v in load_config("publish")["tiles"]["status_colors"].items()}


@pytest.fixture(scope="module")
def tile_site(tmp_path_factory):
    root = tmp_path_factory.mktemp("tile_site")
    info = _tf.build_tile_site(root)
    return root, info


def _wait_port(port: int, proc: subprocess.Popen) -> None:
    for _ in range(200):
        if proc.poll() is not None:
            raise AssertionError(f"server exited: {proc.returncode}")
        with socket.socket() as s:
            if s.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.05)
    raise AssertionError("server did not start")


@contextlib.contextmanager
def _zlgis_serve(root: Path):
    """``zlgis serve ROOT --port 0`` as a user runs it; yields its base URL."""
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    proc = subprocess.Popen([sys.executable, "-m", "zlgis", "serve", str(root), "--port", "0"],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
    try:
        line = proc.stdout.readline()
        m = re.search(r"http://127\.0\.0\.1:(\d+)/", line)
        assert m, (line, proc.stderr.read() if proc.poll() is not None else "")
        _wait_port(int(m.group(1)), proc)
        yield f"http://127.0.0.1:{m.group(1)}"
    finally:
        proc.terminate()
        proc.wait(10)


@pytest.fixture(scope="module")
def zlgis_server(tile_site):
    with _zlgis_serve(tile_site[0]) as base:
        yield base


@pytest.fixture(scope="module")
def busybox_server(tile_site):
    """busybox httpd (Debian ``busybox``, scripts/setup.sh): any static server with ranges."""
    root, _ = tile_site
    exe = shutil.which("busybox")
    assert exe, "busybox is not installed (scripts/setup.sh installs it)"
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    proc = subprocess.Popen([exe, "httpd", "-f", "-p", f"127.0.0.1:{port}", "-h", str(root)])
    try:
        _wait_port(port, proc)
        yield f"http://127.0.0.1:{port}"
    finally:
        proc.terminate()
        proc.wait(10)


_PIXELS = """(colors, key) => {
  const e = zlgis.layers.find(l => l.key === (key || 'buildings'));
  const out = {}; Object.keys(colors).forEach(k => out[k] = 0);
  const rgb = Object.entries(colors).map(([k, c]) => [k, [1, 3, 5].map(i =>
    parseInt(c.slice(i, i + 2), 16))]);
  e.layer.getContainer().querySelectorAll('canvas').forEach(cv => {
    if (!cv.width) return;
    const d = cv.getContext('2d').getImageData(0, 0, cv.width, cv.height).data;
    for (let i = 0; i < d.length; i += 4) {
      if (d[i + 3] < 128) continue;
      for (const [k, c] of rgb) {
        if (Math.abs(d[i] - c[0]) < 6 && Math.abs(d[i + 1] - c[1]) < 6 &&
            Math.abs(d[i + 2] - c[2]) < 6) { out[k]++; break; }
      }
    }
  });
  return out;
}"""


_LOADED = """(key) => { const e = zlgis.layers.find(l => l.key === key);
  return e && e.layer && Object.keys(e.layer._tiles).length > 0 &&
    Object.values(e.layer._tiles).every(t => t.loaded); }"""


def tile_pixels(pg: Page, colors: dict[str, str], key: str = "buildings") -> dict[str, int]:
    """Pixels of each colour on the canvases of the tile layer ``key``, once its tiles are
    drawn (the page's view set by the caller)."""
    pg.page.wait_for_function(_LOADED, arg=key, timeout=20000)
    pg.page.wait_for_timeout(300)
    return pg.page.evaluate(f"([c, k]) => ({_PIXELS})(c, k)", [colors, key])


def centre(gdf) -> shapely.Point:
    return shapely.centroid(shapely.union_all(gdf.to_crs("EPSG:4326").geometry.values))


def _status_pixels(base: str, browser, info, page: str = "internal/map.html"  # noqa: F811
                   ) -> dict[str, int]:
    c = centre(info["layers"]["buildings"])
    pg = Page(browser, base, page, viewport={"width": 1400, "height": 1400})
    try:
        pg.js(f"zlgis.map.setView([{c.y}, {c.x}], 16, {{animate: false}})")
        counts = tile_pixels(pg, COLORS)
        assert pg.errors == [], pg.errors
        assert pg.blocked == []
        return counts
    finally:
        pg.close()


@pytest.mark.parametrize("server", ["zlgis_server", "busybox_server"])
def test_buildings_drawn_in_status_colours(server, tile_site, browser, request):  # noqa: F811
    base = request.getfixturevalue(server)
    counts = _status_pixels(base, browser, tile_site[1])
    # every status of the fixture's ledger is on screen, each in its own colour
    assert all(n > 200 for n in counts.values()), counts


def test_public_map_has_no_buildings_and_draws_roads(zlgis_server, tile_site, browser):  # noqa: F811
    pg = Page(browser, zlgis_server, "public/map.html", viewport={"width": 800, "height": 600})
    try:
        keys = pg.js("zlgis.layers.filter(l => l.tiles).map(l => l.key)")
        assert keys == ["roads"]
        # hidden at start like the embedded roads (publish.yaml hidden_by_default); toggled on
        roads = "zlgis.layers.find(l => l.key === 'roads')"
        assert pg.js(f"zlgis.map.hasLayer({roads}.group)") is False
        pg.js(f"zlgis.map.addLayer({roads}.group)")
        pg.page.wait_for_function(_LOADED, arg="roads", timeout=20000)
        assert pg.errors == [] and pg.blocked == []
    finally:
        pg.close()


def test_opened_as_a_file_keeps_embedded_layers(tile_site, browser):  # noqa: F811
    root, _ = tile_site
    page = browser.new_page(viewport={"width": 800, "height": 600})
    errors, requests = [], []
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.on("request", lambda r: requests.append(r.url))
    try:
        page.goto((root / "internal" / "map.html").as_uri())
        page.wait_for_function("window.zlgis && zlgis.map && zlgis.layers.length > 0")
        page.wait_for_load_state("load")
        # the embedded layers are drawn; the tile layers say why they are not
        drawn = page.evaluate("zlgis.layers.filter(l => !l.tiles && l.layer).map(l => l.key)")
        assert {"toilets", "parks"} <= set(drawn)
        assert page.evaluate("zlgis.layers.filter(l => l.tiles).map(l => l.error)") == \
            ["file", "file"]
        assert page.locator(".zlgis-tiles-note").is_visible()
        assert not [u for u in requests if u.endswith(".pmtiles")]
        assert errors == []
    finally:
        page.close()


def test_tile_layers_leave_the_map_zoom_alone(zlgis_server, browser):  # noqa: F811
    """The buildings drawn from zoom 15 neither zoom the page in on load nor stop a user zooming
    out (Leaflet takes a map's zoom range from its layers unless the map sets one: the page
    opened at 15, animated, and a view set during that animation was dropped)."""
    pg = Page(browser, zlgis_server, "internal/map.html", viewport={"width": 800, "height": 600})
    try:
        spec_min = pg.js("zlgis.layers.find(l => l.key === 'buildings').minZoom")
        assert spec_min == 15
        zoom, animating, lowest = pg.js("[zlgis.map.getZoom(), !!zlgis.map._animatingZoom,"
                                        " zlgis.map.getMinZoom()]")
        assert zoom < spec_min and not animating and lowest == 0   # the opening view: fitted
        pg.js("zlgis.map.setZoom(10, {animate: false})")
        assert pg.js("zlgis.map.getZoom()") == 10
        assert pg.errors == []
    finally:
        pg.close()


def test_clicking_a_building_shows_its_status(zlgis_server, tile_site, browser):  # noqa: F811
    """A click on an overdue building opens a popup (text only) with its id and the status as
    the legend names it."""
    _, info = tile_site
    b = info["layers"]["buildings"]
    want = _tf.expected_status(b)
    row = next(r for r in b.itertuples() if want[str(r.building_id)] == "overdue")
    p = shapely.get_coordinates(
        b.loc[[row.Index]].to_crs("EPSG:4326").geometry.representative_point())[0]
    pg = Page(browser, zlgis_server, "internal/map.html", viewport={"width": 800, "height": 600})
    try:
        pg.js(f"zlgis.map.setView([{p[1]}, {p[0]}], 18, {{animate: false}})")
        # Drawn tiles are not enough: the click handler asks the tile cache, so wait until the
        # building's tile is there to ask. Polled on a timer, not on animation frames, which a
        # starved headless page may not draw for long (upper bound only).
        pg.page.wait_for_function(
            f"""() => {{ const e = zlgis.layers.find(l => l.key === 'buildings');
                 return Object.values(e.layer._tiles).some(t => t.loaded) &&
                   (e.layer.queryTileFeaturesDebug({p[0]}, {p[1]}, 4).get('') || []).length > 0;
               }}""", polling=250, timeout=60000)
        xy = pg.js(f"(() => {{ const q = zlgis.map.latLngToContainerPoint([{p[1]}, {p[0]}]);"
                   " const r = zlgis.map.getContainer().getBoundingClientRect();"
                   " return [q.x + r.left, q.y + r.top]; })()")
        pg.page.mouse.click(xy[0], xy[1])
        pg.page.wait_for_selector(".leaflet-popup-content .zlgis-popup", timeout=15000)
        text = pg.page.locator(".leaflet-popup-content").inner_text()
        label = load_config("publish")["tiles"]["status_colors"]["overdue"]["label"]
        assert str(row.building_id) in text and label in text
        assert pg.errors == []
    finally:
        pg.close()


# --- the weekly run's maps with big layers as tiles (bureau override, tests/_tile_fixtures.py)

@pytest.fixture(scope="module")
def weekly_site(tmp_path_factory):
    """``run_weekly`` on the district with buildings and roads over the tile threshold."""
    root = tmp_path_factory.mktemp("weekly_tiles_browser")
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("ZLGIS_CONFIG_DIR", str(_tf.write_override(root / "cfg")))
        result = _tf.tiled_weekly(root / "out", "2022-W35")
    return root / "out", result


def test_weekly_internal_map_draws_building_tiles(weekly_site, browser):  # noqa: F811
    """Through ``zlgis serve OUT``: the week's internal map draws every building from its
    archive, the three with an open red-line finding in the open colour and no other status;
    the roads archive is hidden at start like the embedded roads and draws when switched on."""
    out, result = weekly_site
    assert len(result.tiled) == 2
    b = __import__("zlgis").datasets.load("district")["buildings"]
    c = centre(b)
    with _zlgis_serve(out) as base:
        pg = Page(browser, base, "2022-W35/map_internal.html",
                  viewport={"width": 1400, "height": 1400})
        try:
            pg.js(f"zlgis.map.setView([{c.y}, {c.x}], 15, {{animate: false}})")
            counts = tile_pixels(pg, COLORS)
            assert counts["open"] > 20 and counts["none"] > 1000, counts
            assert counts["overdue"] == 0 and counts["rectified"] == 0, counts
            assert pg.js("zlgis.layers.find(l => l.key === 'buildings').n") == len(b)
            roads = "zlgis.layers.find(l => l.key === 'roads')"
            assert pg.js(f"zlgis.map.hasLayer({roads}.group)") is False
            pg.js(f"zlgis.map.addLayer({roads}.group)")
            line = load_config("publish")["tiles"]["line_color"]
            assert tile_pixels(pg, {"road": line}, "roads")["road"] > 1000
            # the weekly map has the OSM basemap (no Tianditu key): its tiles are the only
            # requests that leave the server, blocked here, and their failures the only errors
            osm = load_config("publish")["basemaps"]["osm"]["url"].split("{")[0]
            assert pg.blocked and all(u.startswith(osm) for u in pg.blocked), pg.blocked
            assert set(pg.errors) == {"Failed to load resource: net::ERR_FAILED"}, pg.errors
        finally:
            pg.close()


def test_waterlogging_map_draws_depression_tiles(tmp_path, browser):  # noqa: F811
    """``zlgis waterlogging`` with the depressions over the tile threshold (a bureau override),
    served by ``zlgis serve``: the depressions are drawn from their archive in their colour."""
    import geopandas as gpd

    out = tmp_path / "out"
    proc = _tf.waterlogging_command(out, _tf.write_override(tmp_path / "cfg",
                                                            _tf.DEPRESSION_OVERRIDE))
    assert proc.returncode in (0, 1), proc.stderr
    dep = gpd.read_file(out / "depressions.gpkg", layer="depressions")
    c = centre(dep.iloc[[int(dep.area.argmax())]])
    colour = load_config("publish")["tiles"]["depression_color"]
    with _zlgis_serve(out) as base:
        pg = Page(browser, base, "waterlogging_map.html", viewport={"width": 800, "height": 600})
        try:
            assert pg.js("zlgis.layers.filter(l => l.tiles).map(l => [l.key, l.n])") == \
                [["depressions", 2]]
            pg.js(f"zlgis.map.setView([{c.y}, {c.x}], 16, {{animate: false}})")
            # a depression of about 3,900 m2 is about 1,500 px at zoom 16 (1.6 m per px)
            assert tile_pixels(pg, {"dep": colour}, "depressions")["dep"] > 500
            # the layer control lists the depth image and the tile layer (the image was added
            # after the control, whose script then stopped on it: no control, a page error)
            overlays = pg.js("Array.from(document.querySelectorAll("
                             "'.leaflet-control-layers-overlays label')).map(e => e.textContent)")
            assert any("积水深度（DEM 填洼）" in t for t in overlays), overlays
            assert any("地形洼地" in t for t in overlays), overlays
            osm = load_config("publish")["basemaps"]["osm"]["url"].split("{")[0]
            assert all(u.startswith(osm) for u in pg.blocked), pg.blocked
            assert set(pg.errors) <= {"Failed to load resource: net::ERR_FAILED"}, pg.errors
        finally:
            pg.close()
