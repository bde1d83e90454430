"""Vector-tile layers on the weekly maps: write the archives of a week and draw them.

:func:`write_week_tiles` writes, for each big layer (:func:`zlgis.publish.tiles.tile_layer_ids`),
``tiles/<layer>.pmtiles`` beside the internal map and, where the public map may show the layer,
beside the public map (public fields only). Buildings carry their finding status
(:func:`zlgis.publish.tiles.building_status`) on the internal map only.

:func:`add_tile_layers` adds them to a folium map built by :func:`zlgis.publish.maps.build_map`:
one entry each in the layer control (hidden at start where ``publish.yaml``
``hidden_by_default`` hides the layer), a legend box (building status colours), and the
``protomaps-leaflet`` script (local asset, SRI on the CDN). The layers are drawn on canvas from
their zoom on; clicking a building shows its fields (text only, never HTML). Opened from a file
(``file://``), the page shows a note instead: tiles need HTTP (``zlgis serve``); every embedded
layer still works.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import folium
import geopandas as gpd
import pandas as pd
from branca.element import Element, MacroElement
from jinja2 import Template

from .._arrowtext import geom_types
from ..catalog import Catalog
from ..config import load_config
from ..io.atomic import atomic_path
from . import assets as _assets
from .escape import escape_html, js_json
from .maps import layer_control_last
from .tiles import (
    TileSet,
    building_status,
    tile_config,
    tile_fields,
    tile_layer_ids,
    write_pmtiles,
)

__all__ = ["TileLayer", "tiled_layer_ids", "write_week_tiles", "add_tile_layers", "TILES_DIR"]

#: Folder of the archives beside a map page.
TILES_DIR = "tiles"

_JS = """
<script>
window.zlgis = window.zlgis || {layers: [], search: []};
// A big layer drawn from a PMTiles archive (protomaps-leaflet); needs HTTP with range requests.
zlgis.tiles = function (spec, map, group) {
  var entry = {title: spec.title, key: spec.key, n: spec.n, group: group, layer: null,
               tiles: true, minZoom: spec.minZoom};
  zlgis.layers.push(entry);
  if (location.protocol === 'file:' || typeof protomapsL === 'undefined') {
    entry.error = 'file';
    var note = document.querySelector('.zlgis-tiles-note');
    if (note) note.style.display = 'block';
    return entry;
  }
  var P = protomapsL, rules = [];
  spec.classes.forEach(function (c) {
    var sym = spec.kind === 'line'
      ? new P.LineSymbolizer({color: c.color, width: function (z) { return z >= 16 ? 2 : 1; }})
      : new P.PolygonSymbolizer({fill: c.color, opacity: spec.opacity, stroke: '#555555',
                                 width: function (z) { return z >= 17 ? 0.5 : 0; }});
    var rule = {dataLayer: spec.layer, symbolizer: sym};
    if (c.value !== null) {
      rule.filter = function (z, f) { return String(f.props[spec.classField]) === c.value; };
    }
    rules.push(rule);
  });
  var layer = P.leafletLayer({url: spec.url, paintRules: rules, labelRules: [],
    maxDataZoom: spec.maxZoom, levelDiff: 0, minZoom: spec.minZoom, maxZoom: 20,
    attribution: '', pane: spec.kind === 'line' ? 'zlgisLines' : 'zlgisPolygons'});
  entry.layer = layer;
  if (map && map.getPane && !map.getPane('zlgisPolygons') && zlgis.panes) zlgis.panes(map);
  group.addLayer(layer);
  if (spec.fields.length) {
    map.on('click', function (e) {
      if (!map.hasLayer(group) || map.getZoom() < spec.minZoom) return;
      var hits = layer.queryTileFeaturesDebug(e.latlng.lng, e.latlng.lat, 4).get('') || [];
      if (!hits.length) return;
      var p = L.extend({}, hits[0].feature.props);
      spec.classes.forEach(function (c) {     // the status as its legend label
        if (spec.classField && c.value !== null && String(p[spec.classField]) === c.value) {
          p[spec.classField] = c.label;
        }
      });
      L.popup({maxWidth: 320}).setLatLng(e.latlng)
        .setContent(zlgis.table(spec.title, p, spec.fields)).openOn(map);
    });
  }
  return entry;
};
</script>
"""

_NOTE = ('<div class="zlgis-tiles-note zlgis-box" style="display:none;position:absolute;'
         'z-index:1000;left:50%;top:10px;transform:translateX(-50%);max-width:80%">{text}</div>')


class _TilesLayer(MacroElement):
    _template = Template("""
        {% macro script(this, kwargs) %}
        zlgis.tiles({{ this.spec }}, {{ this.map_name }}, {{ this._parent.get_name() }});
        {% endmacro %}
    """)

    def __init__(self, spec: dict[str, Any], map_name: str) -> None:
        super().__init__()
        self._name = "ZlgisTiles"
        self.spec = js_json(spec)
        self.map_name = map_name


@dataclass(frozen=True)
class TileLayer:
    """A written archive and how a map draws it."""

    key: str
    title: str
    href: str                    # relative to the map page
    tileset: TileSet
    features: int                # features of the layer (the archive counts one per tile)
    kind: str                    # polygon / line
    classes: tuple[tuple[str | None, str, str], ...]   # (value, colour, Chinese label)
    class_field: str | None
    fields: tuple[tuple[str, str], ...]                # (field, Chinese label) for popups


def _kind(gdf: gpd.GeoDataFrame) -> str:
    types = geom_types(gdf.geometry.values)
    return "line" if types and types <= {"LineString", "MultiLineString"} else "polygon"


def tiled_layer_ids(layers: Mapping[str, gpd.GeoDataFrame], *, catalog: Catalog | None,
                    min_features: int | None = None,
                    profiles: Sequence[str] = ("internal", "public")) -> dict[str, list[str]]:
    """Per map profile, the ids of the ``layers`` :func:`write_week_tiles` writes as vector
    tiles (big layers the profile may show; the public map gets no layer without public
    fields)."""
    ids = tile_layer_ids(layers, min_features=min_features)
    return {p: [lid for lid in ids if p in profiles and tile_fields(lid, p, catalog) is not None]
            for p in ("internal", "public")}


def write_week_tiles(folder: str | os.PathLike[str], public_folder: str | os.PathLike[str],
                     layers: Mapping[str, gpd.GeoDataFrame], *, catalog: Catalog | None,
                     ledger_view: pd.DataFrame | None = None,
                     min_features: int | None = None,
                     profiles: Sequence[str] = ("internal", "public")
                     ) -> dict[str, list[TileLayer]]:
    """Write the archives of the big ``layers`` for the maps of ``profiles``; return them per
    profile.

    ``ledger_view`` (:meth:`zlgis.ledger.store.Ledger.view` of the week) gives the buildings'
    finding status on the internal map. Layers the public map may not show (or with no public
    field left) get no public archive.
    """
    cfg = tile_config()
    out: dict[str, list[TileLayer]] = {"internal": [], "public": []}
    written: dict[tuple[str, tuple[str, ...]], TileSet] = {}
    plan = tiled_layer_ids(layers, catalog=catalog, min_features=min_features, profiles=profiles)
    for lid in tile_layer_ids(layers, min_features=min_features):
        lcfg = cfg["layers"][lid]
        gdf = layers[lid]
        spec = catalog.layers.get(lid) if catalog is not None else None
        title = spec.title if spec is not None else str(
            (load_extras().get(lid) or {}).get("title", lid))
        kind = _kind(gdf)
        for profile, base in (("internal", Path(folder)), ("public", Path(public_folder))):
            if lid not in plan[profile]:
                continue
            fields = tile_fields(lid, profile, catalog)
            frame = gdf
            status = profile == "internal" and lid == "buildings" and "status" in fields
            if status:
                id_field = spec.id_field if spec is not None else "building_id"
                frame = gdf.assign(status=building_status(
                    gdf, ledger_view if ledger_view is not None else pd.DataFrame(),
                    id_field=id_field))
            else:
                fields = [f for f in fields if f != "status"]
            path = base / TILES_DIR / f"{lid}.pmtiles"
            path.parent.mkdir(parents=True, exist_ok=True)
            same = written.get((lid, tuple(fields)))
            if same is not None:
                # the public archive carries what the internal one does: copy it, not re-encode
                with atomic_path(path) as tmp:
                    shutil.copyfile(same.path, tmp)
                ts = replace(same, path=path)
            else:
                # an archive without the week's status is the same as last week's when the
                # layer is: kept on disk (tile_cache) and copied; with the status, its tiles'
                # geometry is kept and only the values are written again
                ts = write_pmtiles(frame, path, layer=lid, fields=fields,
                                   min_zoom=int(lcfg["min_zoom"]),
                                   max_zoom=int(lcfg["max_zoom"]), cache=not status,
                                   cache_shapes=status)
                written[(lid, tuple(fields))] = ts
            if status:
                classes = tuple((k, str(v["color"]), str(v["label"]))
                                for k, v in cfg["status_colors"].items())
            else:
                color = cfg["line_color"] if kind == "line" else cfg["depression_color"]
                classes = ((None, str(color), title),)
            labels = tuple((f, "状态" if f == "status" else
                            (spec.alias(f) if spec is not None else f)) for f in ts.fields)
            out[profile].append(TileLayer(key=lid, title=title,
                                          href=f"{TILES_DIR}/{lid}.pmtiles", tileset=ts,
                                          features=len(gdf), kind=kind, classes=classes,
                                          class_field="status" if status else None,
                                          fields=labels))
    return out


def load_extras() -> dict[str, Any]:
    return load_config("publish")["extras"]


def add_tile_layers(m: folium.Map, layers: Sequence[TileLayer]) -> None:
    """Draw ``layers`` on ``m`` (a map of :func:`zlgis.publish.maps.build_map`) from their
    archives; add the plugin script, the layer-control entries and a legend box."""
    if not layers:
        return
    m.default_js = list(m.default_js) + _assets.js_links(["vectortiles"])
    root = m.get_root()
    root.header.add_child(Element(_JS), name="zlgis_tiles_js")
    note = escape_html("部分大图层（建筑物、道路等）以矢量瓦片显示，需通过网页服务打开"
                       "（如 zlgis serve 文件夹），直接双击打开文件时不显示")
    root.html.add_child(Element(_NOTE.format(text=note)), name="zlgis_tiles_note")
    legend = ['<div style="font-weight:bold">矢量瓦片图层</div>']
    # hidden at start like the same layer embedded (publish.yaml hidden_by_default)
    profile = getattr(m, "zlgis_profile", "internal")
    hidden = set(load_config("publish")["hidden_by_default"][profile])
    for t in layers:
        fg = folium.FeatureGroup(name=escape_html(f"{t.title}（{t.tileset.min_zoom} 级起）"),
                                 show=t.key not in hidden)
        spec = {"key": t.key, "title": t.title, "url": t.href, "layer": t.tileset.layer,
                "kind": t.kind, "minZoom": t.tileset.min_zoom, "maxZoom": t.tileset.max_zoom,
                "classes": [{"value": v, "color": c, "label": lab} for v, c, lab in t.classes],
                "classField": t.class_field, "fields": [list(f) for f in t.fields],
                "opacity": 0.85, "n": t.features}
        _TilesLayer(spec, m.get_name()).add_to(fg)
        fg.add_to(m)
        for _, color, label in t.classes:
            shape = ("height:3px;border:0" if t.kind == "line" else "border:1px solid #555")
            legend.append(f'<div><i style="display:inline-block;width:14px;height:10px;'
                          f'margin-right:5px;vertical-align:middle;background:'
                          f'{escape_html(color)};{shape}"></i>{escape_html(label)}'
                          f'<span class="zlgis-z">（{t.tileset.min_zoom} 级起显示）</span></div>')
    _Legend("".join(legend)).add_to(m)
    layer_control_last(m)     # it lists the groups that exist when its script runs


class _Legend(MacroElement):
    _template = Template("""
        {% macro script(this, kwargs) %}
        (function () {
          var c = L.control({position: 'bottomright'});
          c.onAdd = function () {
            var d = L.DomUtil.create('div', 'zlgis-box zlgis-legend zlgis-tiles-legend');
            d.innerHTML = {{ this.html_js }};
            return d;
          };
          c.addTo({{ this._parent.get_name() }});
        })();
        {% endmacro %}
    """)

    def __init__(self, safe_html: str) -> None:
        super().__init__()
        self._name = "ZlgisTilesLegend"
        self.html_js = js_json(safe_html)
