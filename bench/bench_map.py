"""Public map of the demo city: HTML size and time until its overlays are drawn in Chromium.

Targets (issue 8): at most 5 MB, overlays rendered within 3 s of navigation in headless Debian
Chromium. Baseline, in the same process: the plain folium way (one ``folium.GeoJson`` per layer
with the catalog's public fields in a ``GeoJsonPopup``, full coordinate precision, folium's
default assets). Both pages are served from a loopback server; the baseline's Leaflet CDN link is
answered with the same local Leaflet file and its other CDN requests are aborted, so neither page
waits on the network. Both maps must carry the same features (same ids per layer).

Second part (issue 18: the demo public map at most 2 MB, overlays drawn within 1 s): the public
map of the demo city's weekly run (``zlgis weekly --demo``: 2022-W35, every check, the week's
public findings on it), timed the same way; its baseline is the plain folium page of the same
context layers plus the public findings as one ``GeoJson`` with their public columns.
"""

from __future__ import annotations

import functools
import http.server
import json
import re
import threading
import time
from pathlib import Path

from _common import WORK

CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run"]

# Wait until every overlay pane has settled: SVG paths or markers drawn and stable for 2 frames.
_READY = """
() => new Promise(resolve => {
  let last = -1, stable = 0;
  function tick() {
    const n = document.querySelectorAll(
      '.leaflet-map-pane path, .leaflet-marker-pane > *').length;
    if (n > 0 && n === last) { stable++; } else { stable = 0; }
    last = n;
    if (stable >= 2) { resolve([performance.now(), n]); } else { requestAnimationFrame(tick); }
  }
  tick();
})
"""


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args) -> None:
        pass


def _baseline_map(layers, catalog):
    import folium

    m = folium.Map(location=[48.0, 122.74], zoom_start=12, tiles=None)
    for lid, gdf in layers.items():
        spec = catalog[lid]
        fields = [f for f in spec.public if f in gdf.columns]
        if lid == "hotline_cases" or not fields:
            continue
        g = gdf[fields + ["geometry"]].to_crs("EPSG:4326")
        for c in fields:
            g[c] = g[c].astype(str)
        folium.GeoJson(g, name=spec.title,
                       popup=folium.GeoJsonPopup(fields=fields,
                                                 aliases=[spec.alias(f) for f in fields])
                       ).add_to(m)
    folium.LayerControl().add_to(m)
    return m


def _ids_in(html: str, id_field: str) -> set[str]:
    return set(re.findall(rf'"{re.escape(id_field)}":\s*"([^"]*)"', html))


def _render_ms(browser, url: str, leaflet_js: Path, base: str) -> tuple[float, int]:
    page = browser.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda e: errors.append(str(e)))

    def route(r):
        u = r.request.url
        if u.startswith(base):
            r.continue_()
        elif re.search(r"/leaflet@[0-9.]+/dist/leaflet\.js$", u):
            r.fulfill(path=str(leaflet_js), content_type="application/javascript")
        else:
            r.abort()

    page.route("**/*", route)
    page.goto(url, wait_until="commit")
    ms, n = page.evaluate(_READY)
    page.close()
    return ms, n


def _weekly_public(catalog, layers) -> tuple[Path, Path, int]:
    """The demo weekly run's public map and its plain folium baseline (same folder)."""
    import os

    import folium
    import geopandas as gpd

    from zlgis.cli.weekly_cmd import DEMO_PLATE_SALT, DEMO_WEEK
    from zlgis.weekly import run_weekly

    os.environ.setdefault("ZLGIS_PLATE_SALT", DEMO_PLATE_SALT)
    out = WORK / "map" / "weekly"
    r = run_weekly(catalog, out, week=DEMO_WEEK)
    page = r.files["map_public"]
    f = gpd.read_file(r.files["gpkg"], layer="findings")
    f = f[f["public"].astype(str).isin(["True", "true", "1"])]
    base_map = _baseline_map({k: v for k, v in layers.items() if k != "grids"}, catalog)
    cols = [c for c in ("finding_id", "title", "status_label", "grid_id", "deadline")
            if c in f.columns]
    g = f[cols + ["geometry"]].to_crs("EPSG:4326")
    folium.GeoJson(g, name="问题", popup=folium.GeoJsonPopup(fields=cols)).add_to(base_map)
    base = page.parent / "baseline.html"
    base_map.save(str(base))
    return page, base, len(f)


def main(quick: bool = False) -> dict:
    from playwright.sync_api import sync_playwright

    from zlgis.catalog import Catalog
    from zlgis.demo import ensure_demo_city
    from zlgis.publish.assets import VENDOR_DIR
    from zlgis.publish.maps import build_map, map_layer_ids, save_map
    from zlgis.validate import load_layers

    catalog = Catalog.load(ensure_demo_city())
    ids = map_layer_ids("public", catalog)
    layers = load_layers(catalog, ids)
    out = WORK / "map"
    out.mkdir(parents=True, exist_ok=True)

    t0 = time.perf_counter()
    m = build_map(layers, None, catalog=catalog, profile="public", basemap="none")
    ours = save_map(m, out / "public.html", assets="local")
    t_ours = time.perf_counter() - t0
    t0 = time.perf_counter()
    base_map = _baseline_map({k: v for k, v in layers.items() if k != "grids"}, catalog)
    base_path = out / "baseline.html"
    base_map.save(str(base_path))
    t_base = time.perf_counter() - t0

    html, bhtml = ours.read_text(encoding="utf-8"), base_path.read_text(encoding="utf-8")
    same = True
    for lid in ("toilets", "parks", "red_lines", "waterlogging_points", "truck_no_parking_zones"):
        idf = catalog[lid].id_field
        same &= _ids_in(html, idf) >= set(layers[lid][idf].astype(str)) <= _ids_in(bhtml, idf)

    handler = functools.partial(_QuietHandler, directory=str(out))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    base = f"http://127.0.0.1:{server.server_address[1]}"
    leaflet_js = VENDOR_DIR / "leaflet" / "dist" / "leaflet.js"
    repeat = 1 if quick else 3
    weekly, weekly_base, n_public = _weekly_public(catalog, layers)
    wroot = weekly.parent.relative_to(out)
    try:
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path="/usr/bin/chromium", args=CHROMIUM_ARGS)
            ours_ms, base_ms, w_ms, wb_ms = (
                min(_render_ms(browser, f"{base}/{page}", leaflet_js, base)[0]
                    for _ in range(repeat))
                for page in ("public.html", "baseline.html", f"{wroot}/{weekly.name}",
                             f"{wroot}/{weekly_base.name}"))
            browser.close()
    finally:
        server.shutdown()
        server.server_close()
    size_mb = ours.stat().st_size / 1e6
    base_mb = base_path.stat().st_size / 1e6
    return {
        "ratio_size": round(base_mb / size_mb, 2),
        "ratio_render": round(base_ms / ours_ms, 2),
        "public_mb": round(size_mb, 2), "baseline_mb": round(base_mb, 2),
        "render_s": round(ours_ms / 1000, 2), "baseline_render_s": round(base_ms / 1000, 2),
        "build_s": round(t_ours, 2), "baseline_build_s": round(t_base, 2),
        "within_5mb": size_mb <= 5.0, "within_3s": ours_ms <= 3000, "same_features": same,
        "features": {k: len(v) for k, v in layers.items()},
        "weekly_public_mb": round(weekly.stat().st_size / 1e6, 2),
        "weekly_baseline_mb": round(weekly_base.stat().st_size / 1e6, 2),
        "weekly_render_s": round(w_ms / 1000, 2),
        "weekly_baseline_render_s": round(wb_ms / 1000, 2),
        "weekly_public_findings": n_public,
        "weekly_within_2mb": weekly.stat().st_size / 1e6 <= 2.0, "weekly_within_1s": w_ms <= 1000,
    }


if __name__ == "__main__":
    print(json.dumps(main(quick=True), ensure_ascii=False))
