"""The map page around :func:`zlgis.publish.maps.build_map`'s content: its CSS and script
(text-only popups, labels, legend), the Leaflet elements zlgis adds (layers, controls, scripts,
search), the size budget of a page and :func:`save_map` (atomic, CDN or local assets, fast
rendering of large pages).
"""

from __future__ import annotations

import contextlib
import logging
import os
import re
import threading
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import folium
from branca.element import Element, MacroElement
from jinja2 import Template

from ..config import load_config
from ..errors import ConfigError
from ..io.atomic import atomic_path
from . import assets as _assets
from .escape import js_json
from .html import stable_ids
from .styles import PROFILES, check_profile

__all__ = ["PAGE_CSS", "PAGE_JS", "GeoLayer", "Control", "Script", "search_js", "check_profile",
           "map_budget_mb", "save_map"]

log = logging.getLogger("zlgis.publish.maps")
_RENDER_LOCK = threading.Lock()

PAGE_CSS = """
<link rel="icon" href="data:,">
<style>
.zlgis-popup{font:13px/1.4 "Noto Sans CJK SC","Microsoft YaHei",sans-serif;max-width:300px}
.zlgis-popup-title{font-weight:bold;margin-bottom:4px}
.zlgis-popup table{border-collapse:collapse}
.zlgis-popup th{text-align:left;padding:1px 8px 1px 0;color:#555;white-space:nowrap;
 vertical-align:top}
.zlgis-popup td{padding:1px 0;word-break:break-all}
.zlgis-dot{border-radius:50%;border:1.5px solid #fff;box-shadow:0 0 2px #333}
.zlgis-cluster{width:30px;height:30px;border-radius:50%;border:2px solid #fff;opacity:.92;
 box-sizing:border-box;color:#fff;font:bold 12px/26px sans-serif;text-align:center;
 text-shadow:0 0 2px #000;box-shadow:0 0 3px #333}
.zlgis-box{background:rgba(255,255,255,.92);padding:6px 8px;border-radius:4px;
 box-shadow:0 1px 4px rgba(0,0,0,.3);font:12px/1.5 "Noto Sans CJK SC","Microsoft YaHei",sans-serif}
.zlgis-title{font-size:15px;font-weight:bold}
.zlgis-legend{max-height:45vh;overflow-y:auto}
.zlgis-legend i{display:inline-block;width:14px;height:10px;margin-right:5px;
 vertical-align:middle;border:2px solid}
.zlgis-legend i.pt{border-radius:50%;width:10px}
.zlgis-review{font-size:11px;color:#333}
.zlgis-glyph{border-radius:4px;border:1.5px solid #fff;box-shadow:0 0 0 1px #333;
 box-sizing:border-box;font:bold 11px/1 sans-serif;display:flex;align-items:center;
 justify-content:center}
.zlgis-glyph.sev-high{box-shadow:0 0 0 2px #000}
.zlgis-cluster.fac{width:24px;height:24px;font-size:11px;line-height:20px;opacity:.8}
.zlgis-legend i.gl{width:16px;height:16px;border:1px solid #333;border-radius:3px;
 font:bold 10px/14px sans-serif;text-align:center;font-style:normal}
.zlgis-legend .zlgis-z{color:#555;font-size:11px}
.zlgis-label{white-space:nowrap;font:12px/1 "Noto Sans CJK SC","Microsoft YaHei",sans-serif;
 color:#222;text-shadow:0 0 2px #fff,0 0 2px #fff,0 0 3px #fff;pointer-events:none}
.zlgis-label span{display:inline-block;transform:translate(-50%,-50%)}
.zlgis-label.place{font-weight:bold;color:#1a5e20}
@media (max-width:600px){.zlgis-legend{max-height:25vh;font-size:11px}.zlgis-title{font-size:13px}}
</style>
"""

# Shared helpers: popups and tooltips are built with textContent (never innerHTML).
PAGE_JS = """
<script>
window.zlgis = window.zlgis || {layers: [], search: []};
zlgis.table = function (title, props, fields) {
  var div = document.createElement('div'); div.className = 'zlgis-popup';
  if (title) { var h = document.createElement('div'); h.className = 'zlgis-popup-title';
    h.textContent = String(title); div.appendChild(h); }
  var t = document.createElement('table');
  for (var i = 0; i < fields.length; i++) {
    var v = props[fields[i][0]];
    if (v === undefined || v === null || v === '') continue;
    var tr = document.createElement('tr'), th = document.createElement('th'),
        td = document.createElement('td');
    th.textContent = String(fields[i][1]); td.textContent = String(v);
    tr.appendChild(th); tr.appendChild(td); t.appendChild(tr);
  }
  div.appendChild(t); return div;
};
zlgis.text = function (s) { var e = document.createElement('span'); e.textContent = String(s);
  return e; };
zlgis.panes = function (map) {
  // polygons under lines under points, whatever order the layers are added or toggled in
  if (!map || map.getPane('zlgisPoints')) return;
  [['zlgisPolygons', 405], ['zlgisLines', 410], ['zlgisPoints', 415], ['zlgisLabels', 420]
  ].forEach(function (p) { map.createPane(p[0]).style.zIndex = p[1]; });
  map.getPane('zlgisLabels').style.pointerEvents = 'none';
};
zlgis.build = function (spec, map) {
  zlgis.panes(map);
  var styles = spec.styles;
  var pane = {polygon: 'zlgisPolygons', line: 'zlgisLines', point: 'zlgisPoints'}[spec.kind];
  function st(f) { var c = f.properties._c; return styles[c === undefined ? 0 : c]; }
  var gj = L.geoJSON(spec.data, {
    pane: map ? pane : 'overlayPane',
    style: st,
    pointToLayer: function (f, ll) {
      var s = st(f);
      if (spec.glyph) {   // findings: the rule's number on the severity colour
        var g = document.createElement('div'), sz = 2 * s.radius + 4;
        g.className = 'zlgis-glyph sev-' + spec.glyph;
        g.style.width = g.style.height = sz + 'px'; g.style.background = s.fillColor;
        g.style.color = s.textColor || '#000';
        g.textContent = f.properties._g === undefined ? '' : String(f.properties._g);
        return L.marker(ll, {icon: L.divIcon({className: '', html: g, iconSize: [sz, sz]})});
      }
      if (spec.cluster) {
        var d = document.createElement('div'); d.className = 'zlgis-dot';
        d.style.width = d.style.height = (2 * s.radius) + 'px'; d.style.background = s.fillColor;
        return L.marker(ll, {icon: L.divIcon({className: '', html: d,
          iconSize: [2 * s.radius + 3, 2 * s.radius + 3]})});
      }
      return L.circleMarker(ll, L.extend({pane: map ? pane : 'overlayPane'}, s));
    },
    onEachFeature: function (f, l) {
      var p = f.properties;
      if (spec.fields.length) {
        l.bindPopup(function () { return zlgis.table(p._t || spec.title, p, spec.fields); },
                    {maxWidth: 320});
      }
      var tip = p._t || (spec.tip ? p[spec.tip] : null);
      if (tip !== undefined && tip !== null && tip !== '') {
        l.bindTooltip(function () { return zlgis.text(tip); }, {sticky: true});
      }
    }
  });
  var out = gj;
  if (spec.cluster) {
    var color = styles[0].fillColor || styles[0].color || '#555';
    // markers added in one pass: with chunkedLoading, a layer switched off while its chunks
    // were still being added threw on the removed map (Leaflet.markercluster#1017)
    out = L.markerClusterGroup({maxClusterRadius: 50,
                                showCoverageOnHover: false,
                                iconCreateFunction: function (c) {
      // findings: full-size severity clusters; facilities: smaller, lighter ones
      var d = document.createElement('div'), sz = spec.glyph ? 30 : 24;
      d.className = 'zlgis-cluster' + (spec.glyph ? '' : ' fac');
      d.style.background = color; d.textContent = String(c.getChildCount());
      return L.divIcon({html: d, className: '', iconSize: [sz, sz]});
    }});
    out.addLayer(gj);
  }
  return [gj, out];
};
// Register a layer; build its Leaflet objects now if its group is on the map, else the first
// time the group is switched on (hidden layers cost nothing while the page loads).
zlgis.layer = function (spec, map, group) {
  var entry = {title: spec.title, key: spec.key, n: spec.data.features.length, group: group,
               layer: null};
  entry.minZoom = spec.minZoom || 0;
  entry.cluster = !!spec.cluster;
  entry.build = function () {
    if (entry.layer) return;
    var built = zlgis.build(spec, map);
    entry.layer = built[0]; entry.out = built[1];
    entry.gate();
    if (map && entry.minZoom) map.on('zoomend', entry.gate);
  };
  // drawn only from the zoom where it is legible (the group stays in the layer control)
  entry.gate = function () {
    var ok = !map || !entry.minZoom || map.getZoom() >= entry.minZoom;
    if (ok && !group.hasLayer(entry.out)) group.addLayer(entry.out);
    if (!ok && group.hasLayer(entry.out)) group.removeLayer(entry.out);
  };
  zlgis.layers.push(entry);
  if (!map || map.hasLayer(group)) { entry.build(); } else { group.once('add', entry.build); }
  return entry;
};
// Road and place names (text only), drawn from spec.minZoom; road names along their road.
zlgis.labels = function (spec, map, group) {
  zlgis.panes(map);
  var layer = L.layerGroup();
  spec.data.forEach(function (r) {
    var d = document.createElement('span'); d.textContent = String(r[0]);
    if (r[3]) d.style.transform = 'translate(-50%,-50%) rotate(' + (+r[3]) + 'deg)';
    var wrap = document.createElement('div'); wrap.appendChild(d);
    layer.addLayer(L.marker([r[1], r[2]], {pane: 'zlgisLabels', interactive: false,
      keyboard: false, icon: L.divIcon({className: 'zlgis-label ' + (r[4] || ''), html: wrap,
                                        iconSize: [0, 0]})}));
  });
  var entry = {title: spec.title, key: spec.key, n: spec.data.length, group: group,
               layer: layer, out: layer, minZoom: spec.minZoom};
  entry.gate = function () {
    var ok = map.getZoom() >= entry.minZoom;
    if (ok && !group.hasLayer(layer)) group.addLayer(layer);
    if (!ok && group.hasLayer(layer)) group.removeLayer(layer);
  };
  entry.gate(); map.on('zoomend', entry.gate);
  zlgis.layers.push(entry);
  return entry;
};
</script>
"""


class GeoLayer(MacroElement):
    """A layer drawn by ``zlgis.<fn>`` (``layer``: GeoJSON with text-only popups; ``labels``:
    names as text), added to its parent group."""

    _template = Template("""
        {% macro script(this, kwargs) %}
        zlgis.{{ this.fn }}({{ this.spec }}, {{ this.map_name }}, {{ this._parent.get_name() }});
        {% endmacro %}
    """)

    def __init__(self, spec: dict[str, Any] | str, map_name: str, fn: str = "layer") -> None:
        super().__init__()
        self._name = "ZlgisLayer"
        self.spec = spec if isinstance(spec, str) else js_json(spec)  # str: js_json text
        self.map_name = map_name
        self.fn = fn


class Control(MacroElement):
    """A Leaflet control holding escaped HTML built in Python (title, legend, 审图号)."""

    _template = Template("""
        {% macro script(this, kwargs) %}
        (function () {
          var c = L.control({position: {{ this.position_js }}});
          c.onAdd = function () {
            var d = L.DomUtil.create('div', {{ this.css_js }});
            d.innerHTML = {{ this.html_js }};
            L.DomEvent.disableClickPropagation(d); L.DomEvent.disableScrollPropagation(d);
            return d;
          };
          c.addTo({{ this._parent.get_name() }});
        })();
        {% endmacro %}
    """)

    def __init__(self, safe_html: str, *, position: str, css: str) -> None:
        super().__init__()
        self._name = "ZlgisControl"
        self.position_js = js_json(position)
        self.css_js = js_json(css)
        self.html_js = js_json(safe_html)


class Script(MacroElement):
    """Raw script body run after the map exists (``{map}`` replaced by the map's JS name)."""

    _template = Template("""
        {% macro script(this, kwargs) %}
        {{ this.code }}
        {% endmacro %}
    """)

    def __init__(self, code: str) -> None:
        super().__init__()
        self._name = "ZlgisScript"
        self.code = code


def map_budget_mb(profile: str) -> float:
    """Size budget (MB) of one map page of ``profile`` (``publish.yaml`` ``<profile>.max_mb``).

    >>> map_budget_mb("public")
    5.0
    """
    check_profile(profile)
    return float(load_config("publish")[profile]["max_mb"])


def search_js(map_name: str, records: list[dict[str, Any]]) -> str:
    return f"""
    (function () {{
      var records = {js_json(records)};
      zlgis.search = records;
      var ctl = new L.Control.Search({{
        sourceData: function (text, cb) {{ cb(records); return {{abort: function () {{}}}}; }},
        propertyName: 'title', propertyLoc: 'loc', position: 'topleft', initial: false,
        marker: false, zoom: 17, autoCollapse: true, textPlaceholder: '搜索道路、公园、公厕…',
        textErr: '未找到', textCancel: '取消',
        buildTip: function (text) {{ var a = document.createElement('a'); a.href = '#';
          a.textContent = text; return a; }}
      }});
      {map_name}.addControl(ctl);
    }})();
    """


# ---------------------------------------------------------------------------------------------
# saving


#: ``'<meta charset' in html.lower()`` without lowering a page of megabytes (only ASCII letters
#: lower to these letters, so an ASCII-only case-insensitive search finds the same).
_META_CHARSET = re.compile("<meta charset", re.IGNORECASE | re.ASCII)


class _Text(Element):
    """A rendered snippet kept as text: rendering it returns it (see :func:`_snippets_as_text`)."""

    def __init__(self, text: str) -> None:
        super().__init__()
        # what jinja2 would give back for a template without tags (one trailing newline off)
        self._text = text[:-1] if text.endswith("\n") else text

    def render(self, **kwargs: Any) -> str:
        return self._text


@contextlib.contextmanager
def _snippets_as_text() -> Iterator[None]:
    """Render folium elements without compiling their output as templates.

    ``branca.element.MacroElement.render`` wraps each rendered header, html and script snippet
    (GeoJSON data included, megabytes for a city) in ``Element(snippet)``, which compiles the
    snippet as a Jinja template only to render it back unchanged: most of a map's save time.
    Inside this block those snippets are kept as text (:class:`_Text`); each element's own
    template is still compiled once, at import. The page is the same.
    """
    original = MacroElement.render

    def render(self: MacroElement, **kwargs: Any) -> None:
        figure = self.get_root()
        module = self._template.module.__dict__
        for part in ("header", "html", "script"):
            macro = module.get(part)
            if macro is not None:
                getattr(figure, part).add_child(_Text(macro(self, kwargs)), name=self.get_name())
        for element in self._children.values():
            element.render(**kwargs)

    with _RENDER_LOCK:
        MacroElement.render = render
        try:
            yield
        finally:
            MacroElement.render = original


def save_map(m: folium.Map, path: str | os.PathLike[str], *, assets: str = "auto",
             scripts: Sequence[str] = ()) -> Path:
    """Write ``m`` to ``path`` atomically; with ``assets="local"`` copy the JS/CSS beside it.

    folium's random element ids are numbered in order instead (:func:`~zlgis.publish.html.
    stable_ids`): saving the same map twice writes the same file. ``scripts`` (HTML text,
    e.g. :data:`~zlgis.publish.html.FOCUS_JS`) go before ``</body>``.

    ``assets="auto"`` (the default) is ``local`` wherever the npm assets are installed, else
    ``cdn``, whose links carry Subresource Integrity hashes.

    In local mode the files come from the npm packages unpacked by ``scripts/setup_assets.sh``
    (folder ``zlgis_assets/`` next to the HTML) and the page makes no request outside its
    folder (the basemap tiles excepted: use ``basemap="none"`` or an intranet tile server).

    Raises
    ------
    ConfigError
        Unknown ``assets`` mode, or local assets not installed.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> from zlgis.catalog import Catalog
    >>> from zlgis.publish.maps import build_map
    >>> m = build_map({}, None, catalog=Catalog.load(), basemap="none", title="示例")
    >>> p = save_map(m, pathlib.Path(tempfile.mkdtemp()) / "map.html")
    >>> "<title>示例</title>" in p.read_text(encoding="utf-8")
    True
    """
    if assets not in ("auto", "cdn", "local"):
        raise ConfigError(f"资源模式 {assets!r} 无效，应为 auto、cdn 或 local")
    if assets == "auto":
        assets = "local" if _assets.vendor_ready() else "cdn"
    path = Path(path)
    with _snippets_as_text():
        html = m.get_root().render()
    html = html.replace("<head>", '<head>\n<meta charset="utf-8">', 1) \
        if not _META_CHARSET.search(html) else html
    if '<html lang=' not in html:
        html = html.replace("<html>", '<html lang="zh-CN">', 1)
    if assets == "local":
        html = _assets.localize_html(html, path.parent)
    else:
        html = _assets.with_integrity(html)
    if scripts:
        at = html.rfind("</body>")
        at = len(html) if at < 0 else at
        html = html[:at] + "".join(scripts) + html[at:]
    html = stable_ids(html)
    profile = getattr(m, "zlgis_profile", None)
    if profile in PROFILES:
        max_mb = map_budget_mb(profile)
        size = len(html.encode())
        if size > max_mb * 1e6:
            log.warning("%s %s 大小为 %.1f MB，超过 %.0f MB 的上限，手机上可能打开缓慢",
                        "公众地图" if profile == "public" else "内部地图", path.name,
                        size / 1e6, max_mb)
    with atomic_path(path) as tmp:
        tmp.write_text(html, encoding="utf-8")
    return path
