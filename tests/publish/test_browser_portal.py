"""The public portal in headless Chromium (network blocked, as in test_browser.py)."""

from __future__ import annotations

import functools
import http.server
import json
import threading

import _publish_fixtures as _fx  # noqa: E402  (tests/ is on sys.path, see conftest)
import pytest

from zlgis.catalog import Catalog
from zlgis.publish.maps import build_map, save_map
from zlgis.publish.portal import PORTAL_DATA, build_portal

from .test_browser import CHROMIUM_ARGS, _Quiet  # noqa: F401
from .test_portal import public_tree

pytestmark = pytest.mark.browser


def _serve(root):
    server = http.server.ThreadingHTTPServer(
        ("127.0.0.1", 0), functools.partial(_Quiet, directory=str(root)))
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server, f"http://127.0.0.1:{server.server_address[1]}"


def _site(root, payload):
    tree = public_tree(root / "public", weeks=("2022-W35", "2022-W36"), payload=payload)
    # 中央路 is not in the later week's data: the search must still find it in 2022-W35
    path = tree / "2022-W36" / PORTAL_DATA
    data = json.loads(path.read_text(encoding="utf-8"))
    data["places"] = [p for p in data["places"] if p["name"] != "中央路"]
    path.write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")
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


#: Text colour and the first opaque background behind it, for every element with its own text.
_TEXT_COLOURS = """() => {
  const out = [];
  const opaque = c => c && c !== 'transparent' && !/rgba\\(.*, 0\\)$/.test(c);
  for (const el of document.querySelectorAll('body *')) {
    const own = [...el.childNodes].some(n => n.nodeType === 3 && n.textContent.trim());
    const st = getComputedStyle(el);
    if (!own || st.display === 'none' || st.visibility === 'hidden' || el.closest('.skip')) continue;
    let bg = null;
    for (let a = el; a && !bg; a = a.parentElement) {
      const c = getComputedStyle(a).backgroundColor;
      if (opaque(c)) bg = c;
    }
    out.push([el.tagName, st.color, bg || 'rgb(255, 255, 255)']);
  }
  return out;
}"""


def _hex(rgb):
    return "#" + "".join(f"{int(v):02x}" for v in rgb.split("(")[1].split(")")[0].split(",")[:3])


@pytest.mark.parametrize("path", ["index.html", "search.html", "weeks/2022-W35/index.html",
                                  "weeks/2022-W35/grids/150783001001002.html",
                                  "weeks/2022-W35/subdistricts/*"])
def test_pages_load_without_console_errors(sites, browser, path):
    """Each kind of page: no console error, no outside request, Chinese, no sideways scrolling
    on a phone, a skip link first in keyboard order, alt text on every image (which loads),
    and every text at WCAG AA contrast (4.5:1) on its rendered background."""
    from zlgis.publish.colors import contrast_ratio

    site, base = sites["plain"]
    if path.endswith("*"):
        path = next(site.glob(path)).relative_to(site).as_posix()
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
        # every image has alt text and is drawn
        assert page.evaluate("[...document.images].every(i => i.alt.length > 0 && "
                             "i.naturalWidth > 0)")
        texts = page.evaluate(_TEXT_COLOURS)
        assert len(texts) > 5
        low = [(t, fg, bg) for t, fg, bg in texts if contrast_ratio(_hex(fg), _hex(bg)) < 4.5]
        assert low == [], low
        if path == "index.html":      # the trend chart and its table fallback
            assert page.evaluate("document.querySelector('img[src=\"trend.png\"]').alt"
                                 ).startswith("各周公开问题数：2022-W35 ")
            assert page.locator("table caption", has_text="各周公开问题数").count() == 1
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
        assert any(t.startswith("中央路（道路中心线）2022-W35：") for t in items), items
        road = next(t for t in items if t.startswith("中央路（道路中心线）"))
        assert "2022-W36" not in road                   # only in the week that has it
        park = next(t for t in items if t.startswith("中央路公厕（公共厕所）"))
        assert park.index("2022-W36：") < park.index("2022-W35：")      # newest week first
        # its grid links lead to the grid pages
        page.click("#results li a >> nth=0")
        page.wait_for_load_state("load")
        assert "/weeks/2022-W35/grids/" in page.url and "网格" in page.title()
        assert errors == []
    finally:
        page.close()


def test_search_by_keyboard_alone(sites, browser):
    """Tab to the search box, type, Tab to the first grid link, Enter: the grid page opens."""
    _, base = sites["plain"]
    page, errors, _ = _open(browser, base, "search.html")
    try:
        for _ in range(10):
            page.keyboard.press("Tab")
            if page.evaluate("document.activeElement.id") == "q":
                break
        assert page.evaluate("document.activeElement.id") == "q"
        page.keyboard.type("中央路")
        page.wait_for_selector("#results li a")
        assert page.locator("#status").text_content().startswith("找到")
        page.keyboard.press("Tab")
        assert page.evaluate("document.activeElement.tagName") == "A"
        page.keyboard.press("Enter")
        page.wait_for_url("**/weeks/2022-W35/grids/*.html")
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
