"""JavaScript and CSS assets of zlgis maps: pinned CDN links, or local copies from npm.

Two modes. ``cdn``: the page links the pinned npm versions on jsdelivr (what folium does, but
with one version for every plugin and no jQuery/Bootstrap/Font Awesome, which zlgis maps do not
need). ``local``: the same files, taken from the npm packages that ``scripts/setup_assets.sh``
unpacks into ``zlgis/publish/vendor/`` (not committed), are copied next to the HTML and every link
is rewritten to them, so the page makes no request outside the folder it was saved in: it works
on an intranet with no internet.

Folium's ``add_js_link``/``add_css_link`` change class-level lists shared by every later map;
zlgis never calls them. :func:`js_links`/:func:`css_links` give per-map lists that
:mod:`zlgis.publish.maps` assigns to the map *instance*.

Examples
--------
>>> [name for name, _ in js_links(["leaflet", "fullscreen"])]
['leaflet', 'fullscreen']
>>> js_links(["leaflet"])[0][1]
'https://cdn.jsdelivr.net/npm/leaflet@1.9.4/dist/leaflet.js'
"""

from __future__ import annotations

import os
import re
import shutil
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

from ..errors import ConfigError

__all__ = [
    "ASSET_PACKAGES",
    "ASSETS",
    "VENDOR_DIR",
    "LOCAL_ASSET_DIR",
    "js_links",
    "css_links",
    "vendor_ready",
    "localize_html",
    "external_links",
    "INTEGRITY",
    "with_integrity",
]

#: Pinned npm packages (must match scripts/setup_assets.sh).
ASSET_PACKAGES: dict[str, str] = {
    "leaflet": "1.9.4",
    "leaflet.markercluster": "1.5.3",
    "leaflet.fullscreen": "3.0.0",
    "leaflet-measure": "2.1.7",
    "leaflet.locatecontrol": "0.79.0",
    "leaflet-search": "2.9.7",
    # vector tiles (PMTiles) on canvas, issue 18: zlgis.publish.tile_maps
    "protomaps-leaflet": "5.1.0",
}

#: Subresource Integrity hashes of the pinned CDN files (``package/path`` -> ``sha384-...``), the
#: same bytes as the npm packages; a test recomputes them from ``vendor/``. A CDN that served
#: anything else would be refused by the browser.
INTEGRITY: dict[str, str] = {
    "leaflet/dist/leaflet.js":
        "sha384-cxOPjt7s7Iz04uaHJceBmS+qpjv2JkIHNVcuOrM+YHwZOmJGBXI00mdUXEq65HTH",
    "leaflet/dist/leaflet.css":
        "sha384-sHL9NAb7lN7rfvG5lfHpm643Xkcjzp4jFvuavGOndn6pjVqS6ny56CAt3nsEVT4H",
    "leaflet.markercluster/dist/leaflet.markercluster.js":
        "sha384-eXVCORTRlv4FUUgS/xmOyr66XBVraen8ATNLMESp92FKXLAMiKkerixTiBvXriZr",
    "leaflet.markercluster/dist/MarkerCluster.css":
        "sha384-pmjIAcz2bAn0xukfxADbZIb3t8oRT9Sv0rvO+BR5Csr6Dhqq+nZs59P0pPKQJkEV",
    "leaflet.markercluster/dist/MarkerCluster.Default.css":
        "sha384-wgw+aLYNQ7dlhK47ZPK7FRACiq7ROZwgFNg0m04avm4CaXS+Z9Y7nMu8yNjBKYC+",
    "leaflet.fullscreen/Control.FullScreen.js":
        "sha384-x7v1I62R/kj/KTKVdkOISydKyk8O5/CC0zFoK9TvDab7IYP7mBGOGxr4gAifMiZR",
    "leaflet.fullscreen/Control.FullScreen.css":
        "sha384-73+xhNp0ojkCt/iDWKlGxfuMbKCt8OcstZj1N30Eo3XQTMu13XLkURBo8SrsLqS4",
    "leaflet-measure/dist/leaflet-measure.js":
        "sha384-HAyEAkwXt3KFvyEP2NVwm0rOpcuir5TKowRVG/VTWt+ViPETqBU8MhYTnLQ+mlQp",
    "leaflet-measure/dist/leaflet-measure.css":
        "sha384-TF5oBEiVLaOySmJ1uqAGxo2Dc4lVQyklMKjI8feo+IvdVHnByhANagW+qnvoviM0",
    "leaflet.locatecontrol/dist/L.Control.Locate.min.js":
        "sha384-XF7O0sxpctKl96bCyBgbgdQbnHDg/ek0LdbWrVUmx/LPh4EDtdIsGculgF93z6wW",
    "leaflet.locatecontrol/dist/L.Control.Locate.min.css":
        "sha384-s1weW3rLvQEcQo1OenCYWESkNoaaT6C995dZ4jgUAt+qkjhTNQoN8mhu6ZwQzWNS",
    "leaflet-search/dist/leaflet-search.min.js":
        "sha384-C/UzSz5aXmLxJwe/b9I0CIv+cfLcGIXmfl40m9+kyJhlgNxvWT6+WRjCbA8Eflf/",
    "leaflet-search/dist/leaflet-search.min.css":
        "sha384-HwVdSdd+jBrK7nRfI6gOIy8rCaDkpIoKXiUMCj/YmwqM8GFSoPQ7Rud61DU/C2ry",
    "protomaps-leaflet/dist/protomaps-leaflet.js":
        "sha384-pAKrddYWxjFAIJwatOtmmtq9ebz3ZwluHCEg3pqOMpOporUofLqz/l5hs+0LAWaH",
}

#: Where setup_assets.sh unpacks the npm packages (``$ZLGIS_VENDOR_DIR`` overrides).
VENDOR_DIR = Path(os.environ.get("ZLGIS_VENDOR_DIR") or Path(__file__).resolve().parent / "vendor")
#: Folder written next to a map saved with local assets.
LOCAL_ASSET_DIR = "zlgis_assets"


@dataclass(frozen=True)
class Asset:
    """One asset: its npm package, the JS and CSS files, and files the CSS refers to."""

    package: str
    js: tuple[str, ...] = ()
    css: tuple[str, ...] = ()
    extra: tuple[str, ...] = ()   # files or folders the CSS loads (icons)

    @property
    def version(self) -> str:
        return ASSET_PACKAGES[self.package]

    def cdn(self, rel: str) -> str:
        return f"https://cdn.jsdelivr.net/npm/{self.package}@{self.version}/{rel}"


#: Assets by name.
ASSETS: dict[str, Asset] = {
    "leaflet": Asset("leaflet", ("dist/leaflet.js",), ("dist/leaflet.css",), ("dist/images",)),
    "markercluster": Asset("leaflet.markercluster", ("dist/leaflet.markercluster.js",),
                           ("dist/MarkerCluster.css", "dist/MarkerCluster.Default.css")),
    "fullscreen": Asset("leaflet.fullscreen", ("Control.FullScreen.js",),
                        ("Control.FullScreen.css",), ("icon-fullscreen.svg",)),
    "measure": Asset("leaflet-measure", ("dist/leaflet-measure.js",),
                     ("dist/leaflet-measure.css",), ("dist/images",)),
    "locate": Asset("leaflet.locatecontrol", ("dist/L.Control.Locate.min.js",),
                    ("dist/L.Control.Locate.min.css",)),
    "search": Asset("leaflet-search", ("dist/leaflet-search.min.js",),
                    ("dist/leaflet-search.min.css",), ("images",)),
    "vectortiles": Asset("protomaps-leaflet", ("dist/protomaps-leaflet.js",)),
}


def _check(names: Iterable[str]) -> list[str]:
    names = list(names)
    unknown = [n for n in names if n not in ASSETS]
    if unknown:
        raise ValueError(f"unknown map assets: {unknown}")
    return names


def js_links(names: Sequence[str]) -> list[tuple[str, str]]:
    """``(name, cdn_url)`` pairs of the JavaScript files of ``names``, in order."""
    out = []
    for n in _check(names):
        a = ASSETS[n]
        out += [(n if i == 0 else f"{n}_{i}", a.cdn(rel)) for i, rel in enumerate(a.js)]
    return out


def css_links(names: Sequence[str]) -> list[tuple[str, str]]:
    """``(name, cdn_url)`` pairs of the CSS files of ``names``, in order."""
    out = []
    for n in _check(names):
        a = ASSETS[n]
        out += [(f"{n}_css" if i == 0 else f"{n}_css{i}", a.cdn(rel))
                for i, rel in enumerate(a.css)]
    return out


def vendor_ready(vendor: Path | None = None) -> bool:
    """True when every pinned npm package is unpacked at its pinned version."""
    vendor = Path(vendor or VENDOR_DIR)
    for pkg, version in ASSET_PACKAGES.items():
        stamp = vendor / pkg / ".zlgis-version"
        if not stamp.is_file() or stamp.read_text().strip() != version:
            return False
    return True


def _copy(src: Path, dst: Path) -> None:
    if src.is_dir():
        for f in src.rglob("*"):
            if f.is_file():
                _copy(f, dst / f.relative_to(src))
        return
    if dst.exists() and dst.stat().st_size == src.stat().st_size:
        return
    dst.parent.mkdir(parents=True, exist_ok=True)
    tmp = dst.with_name(f".{dst.name}.tmp")
    shutil.copyfile(src, tmp)
    os.replace(tmp, dst)


def localize_html(html: str, out_dir: str | os.PathLike[str], *,
                  vendor: Path | None = None) -> str:
    """Copy the assets ``html`` links into ``out_dir/zlgis_assets`` and point the links there.

    Raises
    ------
    ConfigError
        When the npm assets are not installed, or the page links a script or stylesheet that
        zlgis has no local copy of (the page would not work offline).
    """
    vendor = Path(vendor or VENDOR_DIR)
    if not vendor_ready(vendor):
        raise ConfigError("离线地图资源未安装，请先运行 scripts/setup_assets.sh（需要 npm）",
                          path=str(vendor))
    out_dir = Path(out_dir)
    links: dict[str, str] = {}
    for asset in ASSETS.values():
        files = [*asset.js, *asset.css]
        if not any(asset.cdn(rel) in html for rel in files):
            continue
        local_root = f"{LOCAL_ASSET_DIR}/{asset.package}@{asset.version}"
        for rel in (*files, *asset.extra):
            src = vendor / asset.package / rel
            if not src.exists():
                raise ConfigError(f"离线地图资源缺少文件 {rel}，请重新运行 scripts/setup_assets.sh",
                                  path=str(src))
            _copy(src, out_dir / local_root / rel)
        for rel in files:
            links[asset.cdn(rel)] = f"{local_root}/{rel}"
    html = replace_all(html, links)
    left = external_links(html)
    if left:
        raise ConfigError(f"地图页面仍引用外部资源，无法离线使用：{left[:3]}")
    return html


def replace_all(text: str, pairs: dict[str, str]) -> str:
    """``text`` with each key of ``pairs`` replaced by its value, as ``str.replace`` one pair
    after the other in order, but in one pass over a page of megabytes (not one copy of it per
    link). The sequential replacements are kept where one pass could differ: a key inside
    another key or inside a value, or two keys that can overlap (an end of one the start of
    another)."""
    keys = list(pairs)
    if "" in pairs or any(k in v for k in keys for v in pairs.values()) \
            or any(k in other or any(other.startswith(k[i:]) for i in range(1, len(k)))
                   for k in keys for other in keys if other != k):
        for k, v in pairs.items():
            text = text.replace(k, v)
        return text
    if not keys:
        return text
    pattern = re.compile("|".join(map(re.escape, keys)))
    return pattern.sub(lambda m: pairs[m.group(0)], text)


def with_integrity(html: str) -> str:
    """Add ``integrity`` and ``crossorigin`` to every pinned CDN ``<script>`` and ``<link>``.

    >>> url = ASSETS["leaflet"].cdn("dist/leaflet.js")
    >>> with_integrity(f'<script src="{url}"></script>').startswith(
    ...     f'<script src="{url}" integrity="sha384-')
    True
    """
    for asset in ASSETS.values():
        for rel in (*asset.js, *asset.css):
            url = asset.cdn(rel)
            sri = INTEGRITY[f"{asset.package}/{rel}"]
            html = re.sub(rf'(<(?:script|link)\b[^>]*?\b(?:src|href)\s*=\s*"{re.escape(url)}")',
                          rf'\1 integrity="{sri}" crossorigin="anonymous"', html)
    return html


_LINK_RE = re.compile(r"<(?:script|link|img|iframe)\b[^>]*?\b(?:src|href)\s*=\s*[\"']?"
                      r"((?:https?:)?//[^\"'\s>]+)", re.IGNORECASE)


def external_links(html: str) -> list[str]:
    """Script, stylesheet, image and frame URLs of ``html`` that point outside the page's folder.

    Tile URL templates inside scripts are not counted (the basemap ``none`` makes no requests).

    >>> external_links('<script src="https://x.org/a.js"></script><link href="a.css">')
    ['https://x.org/a.js']
    """
    return _LINK_RE.findall(html)
