"""Vector-tile layers in headless Chromium (network blocked, local assets): the buildings drawn
in their finding-status colours from a PMTiles archive served by ``zlgis serve`` and by a plain
static server with range requests (busybox httpd, Debian); the page opened as a file still shows
its embedded layers and says why the tiles are missing."""

from __future__ import annotations

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


@pytest.fixture(scope="module")
def zlgis_server(tile_site):
    """``zlgis serve ROOT --port 0`` as a user runs it; yields its base URL."""
    root, _ = tile_site
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


_PIXELS = """(colors) => {
  const e = zlgis.layers.find(l => l.key === 'buildings');
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


def _status_pixels(base: str, browser, info) -> dict[str, int]:  # noqa: F811
    b = info["layers"]["buildings"].to_crs("EPSG:4326")
    c = shapely.centroid(shapely.union_all(b.geometry.values))
    pg = Page(browser, base, "internal/map.html", viewport={"width": 1400, "height": 1400})
    try:
        pg.js(f"zlgis.map.setView([{c.y}, {c.x}], 16, {{animate: false}})")
        pg.page.wait_for_function(
            """() => { const e = zlgis.layers.find(l => l.key === 'buildings');
                 return e && e.layer && Object.keys(e.layer._tiles).length > 0 &&
                   Object.values(e.layer._tiles).every(t => t.loaded); }""", timeout=20000)
        pg.page.wait_for_timeout(300)
        counts = pg.js(f"({_PIXELS})({COLORS!r})".replace("'", '"'))
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
        pg.page.wait_for_function(
            """() => { const e = zlgis.layers.find(l => l.key === 'roads');
                 return Object.keys(e.layer._tiles).length > 0 &&
                   Object.values(e.layer._tiles).every(t => t.loaded); }""", timeout=20000)
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
        pg.page.wait_for_function(
            """() => { const e = zlgis.layers.find(l => l.key === 'buildings');
                 return Object.keys(e.layer._tiles).length > 0 &&
                   Object.values(e.layer._tiles).every(t => t.loaded); }""", timeout=20000)
        pg.page.wait_for_timeout(300)
        xy = pg.js(f"(() => {{ const q = zlgis.map.latLngToContainerPoint([{p[1]}, {p[0]}]);"
                   " const r = zlgis.map.getContainer().getBoundingClientRect();"
                   " return [q.x + r.left, q.y + r.top]; })()")
        pg.page.mouse.click(xy[0], xy[1])
        pg.page.wait_for_selector(".leaflet-popup-content .zlgis-popup", timeout=5000)
        text = pg.page.locator(".leaflet-popup-content").inner_text()
        label = load_config("publish")["tiles"]["status_colors"]["overdue"]["label"]
        assert str(row.building_id) in text and label in text
        assert pg.errors == []
    finally:
        pg.close()
