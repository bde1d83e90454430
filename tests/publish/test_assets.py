"""Tests of zlgis.publish.assets and scripts/setup_assets.sh."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

import pytest

from zlgis.errors import ConfigError
from zlgis.publish.assets import (
    ASSET_PACKAGES,
    ASSETS,
    VENDOR_DIR,
    css_links,
    external_links,
    js_links,
    localize_html,
    vendor_ready,
)

ROOT = Path(__file__).resolve().parents[2]
SCRIPT = ROOT / "scripts" / "setup_assets.sh"


def test_script_pins_the_same_packages():
    text = SCRIPT.read_text(encoding="utf-8")
    pinned = dict(re.findall(r'^\s*"([@\w.\-]+)@([0-9][\w.\-]*)"\s*$', text, re.M))
    assert pinned == ASSET_PACKAGES


def test_setup_assets_is_idempotent_and_offline_when_done(tmp_path):
    assert vendor_ready()          # installed by scripts/setup.sh (CI runs it)
    stamps = {p: (VENDOR_DIR / p / ".zlgis-version").stat().st_mtime_ns for p in ASSET_PACKAGES}
    # a second run must not fetch anything: a PATH without npm (or tar) proves it
    import shutil

    for tool in ("bash", "dirname", "cat", "mkdir"):
        (tmp_path / tool).symlink_to(shutil.which(tool))
    res = subprocess.run([str(tmp_path / "bash"), str(SCRIPT)], env={"PATH": str(tmp_path)},
                         capture_output=True, text=True, timeout=60)
    assert res.returncode == 0, res.stderr
    assert stamps == {p: (VENDOR_DIR / p / ".zlgis-version").stat().st_mtime_ns
                      for p in ASSET_PACKAGES}


def test_every_asset_file_is_vendored():
    for name, asset in ASSETS.items():
        for rel in (*asset.js, *asset.css, *asset.extra):
            assert (VENDOR_DIR / asset.package / rel).exists(), (name, rel)


def test_links_are_per_call_lists():
    a = js_links(["leaflet", "search"])
    a.append(("x", "y"))
    assert ("x", "y") not in js_links(["leaflet", "search"])
    assert [u for _, u in css_links(["markercluster"])] == [
        "https://cdn.jsdelivr.net/npm/leaflet.markercluster@1.5.3/dist/MarkerCluster.css",
        "https://cdn.jsdelivr.net/npm/leaflet.markercluster@1.5.3/dist/MarkerCluster.Default.css"]
    with pytest.raises(ValueError):
        js_links(["jquery"])


def test_localize_rewrites_and_refuses_unknown_links(tmp_path):
    page = ('<script src="https://cdn.jsdelivr.net/npm/leaflet@1.9.4/dist/leaflet.js"></script>'
            '<link rel="stylesheet" href="https://cdn.jsdelivr.net/npm/leaflet@1.9.4/dist/'
            'leaflet.css"/>')
    out = localize_html(page, tmp_path)
    assert external_links(out) == []
    assert (tmp_path / "zlgis_assets/leaflet@1.9.4/dist/images/marker-icon.png").is_file()
    with pytest.raises(ConfigError, match="外部资源"):
        localize_html(page + '<script src="https://code.jquery.com/jquery.js"></script>',
                      tmp_path)


def test_integrity_hashes_match_the_pinned_files():
    import base64
    import hashlib

    from zlgis.publish.assets import INTEGRITY

    got = {}
    for a in ASSETS.values():
        for rel in (*a.js, *a.css):
            digest = hashlib.sha384((VENDOR_DIR / a.package / rel).read_bytes()).digest()
            got[f"{a.package}/{rel}"] = "sha384-" + base64.b64encode(digest).decode()
    assert got == INTEGRITY


def test_cdn_pages_carry_integrity_and_crossorigin(tmp_path):
    import folium

    from zlgis.publish.maps import save_map

    m = folium.Map(location=[48.0, 122.7], zoom_start=12, tiles=None)
    m.default_js = js_links(["leaflet", "markercluster", "fullscreen", "measure", "locate",
                             "search"])
    m.default_css = css_links(["leaflet", "markercluster", "fullscreen", "measure", "locate",
                               "search"])
    html = save_map(m, tmp_path / "m.html", assets="cdn").read_text(encoding="utf-8")
    tags = re.findall(r"<(?:script|link)\b[^>]*cdn\.jsdelivr\.net[^>]*>", html)
    assert len(tags) == 13
    assert all(re.search(r'integrity="sha384-[A-Za-z0-9+/=]{64}" crossorigin="anonymous"', t)
               for t in tags), tags


def test_local_assets_are_the_default_where_installed(demo_city, tmp_path, capsys):
    """`zlgis map` with no --assets makes a page that works offline (the assets are installed
    here); the CDN is only the fallback where they are not."""
    from zlgis.cli import main

    assert vendor_ready()
    out = tmp_path / "m.html"
    assert main(["map", "--catalog", str(demo_city / "catalog.yaml"), "--profile", "public",
                 "--basemap", "none", "--out", str(out)]) in (0, 1)
    html = out.read_text(encoding="utf-8")
    assert external_links(html) == [] and (tmp_path / "zlgis_assets").is_dir()
