"""The public portal in headless Chromium (network blocked, as in test_browser.py)."""

from __future__ import annotations

import functools
import http.server
import threading

import _publish_fixtures as _fx  # noqa: E402  (tests/ is on sys.path, see conftest)
import pytest

from zlgis.catalog import Catalog
from zlgis.publish.maps import build_map, save_map
from zlgis.publish.portal import build_portal

from .test_browser import CHROMIUM_ARGS, _Quiet  # noqa: F401
from .test_portal import public_tree

pytestmark = pytest.mark.browser


def _serve(root):
    server = http.server.ThreadingHTTPServer(
        ("127.0.0.1", 0), functools.partial(_Quiet, directory=str(root)))
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server, f"http://127.0.0.1:{server.server_address[1]}"


def _site(root, payload):
    tree = public_tree(root / "public", payload=payload)
    cat = Catalog.load()
    m = build_map(_fx.small_layers(cat, payload), _fx.small_findings(), catalog=cat,
                  profile="public", basemap="none")
    save_map(m, tree / "2022-W35" / "map_public.html", assets="local")
    return build_portal(tree, root / "site")


@pytest.fixture(scope="module")
def sites(tmp_path_factory):
    root = tmp_path_factory.mktemp("portal")
    plain, xss = _site(root / "plain", None), _site(root / "xss", list(_fx.XSS_CORPUS))
    out = {}
    servers = []
    for name, site in (("plain", plain), ("xss", xss)):
        server, base = _serve(site)
        servers.append(server)
        out[name] = (site, base)
    yield out
    for s in servers:
        s.shutdown()
        s.server_close()


@pytest.fixture(scope="module")
def browser():
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(executable_path="/usr/bin/chromium", args=CHROMIUM_ARGS)
        yield b
        b.close()


def _open(browser, base, path):
    errors, blocked = [], []
    page = browser.new_page(viewport={"width": 390, "height": 844})     # a phone
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.route("**/*", lambda r: r.continue_() if r.request.url.startswith(base + "/")
               else (blocked.append(r.request.url), r.abort()))
    page.goto(f"{base}/{path}")
    page.wait_for_load_state("load")
    return page, errors, blocked


@pytest.mark.parametrize("path", ["index.html", "weeks/2022-W35/index.html",
                                  "weeks/2022-W35/grids/150783001001002.html"])
def test_pages_load_without_console_errors(sites, browser, path):
    _, base = sites["plain"]
    page, errors, blocked = _open(browser, base, path)
    try:
        page.wait_for_timeout(300)
        assert errors == [] and blocked == []
        assert page.evaluate("document.documentElement.lang") == "zh-CN"
        # phone-first: nothing wider than the screen
        assert page.evaluate("document.documentElement.scrollWidth") <= 390
        # keyboard: the first Tab reaches the skip link
        page.keyboard.press("Tab")
        assert page.evaluate("document.activeElement.textContent") == "跳到正文"
        # every image has alt text
        assert page.evaluate("[...document.images].every(i => i.alt.length > 0)")
        if path.startswith("weeks/2022-W35/index"):
            frame = page.frame_locator("iframe.map")
            frame.locator(".leaflet-container").wait_for(timeout=10000)
    finally:
        page.close()


def test_search_finds_a_street(sites, browser):
    _, base = sites["plain"]
    page, errors, _ = _open(browser, base, "search.html")
    try:
        page.fill("#q", "中央")
        page.wait_for_selector("#results li")
        items = page.evaluate("[...document.querySelectorAll('#results li')]"
                              ".map(li => li.textContent)")
        assert any(t.startswith("中央路（道路中心线）") for t in items), items
        # its grid links lead to the grid pages
        page.click("#results li a >> nth=0")
        page.wait_for_load_state("load")
        assert "/weeks/2022-W35/grids/" in page.url and "网格" in page.title()
        assert errors == []
    finally:
        page.close()


def test_xss_corpus_and_personal_data_on_every_page(sites, browser):
    site, base = sites["xss"]
    paths = [p.relative_to(site).as_posix() for p in sorted(site.rglob("*.html"))
             if "zlgis_assets" not in p.parts]
    assert len(paths) >= 6
    for path in paths:
        page, errors, blocked = _open(browser, base, path)
        try:
            if path == "search.html":
                page.fill("#q", "<")
                page.wait_for_timeout(200)
                assert page.evaluate("document.querySelectorAll('#results li').length") > 0
            page.wait_for_timeout(100)
            assert page.evaluate("window.__xss") is None, path
            assert page.evaluate("document.querySelectorAll('main img:not([src$=\".png\"]), "
                                 "main iframe:not(.map), main svg').length") == 0, path
            text = page.evaluate("document.body.innerText")
            for secret in _fx.SECRETS.values():
                assert secret not in text, (path, secret)
            assert errors == [] and blocked == [], path
        finally:
            page.close()
