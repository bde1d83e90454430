"""A QGIS project of the week's layers with the web map's styles, and the styles as QML and SLD.

:func:`export_qgis` writes a self-contained folder that can be moved or copied as a whole:

* ``DIR/zlgis_<week>.qgs``: QGIS 3 project XML with **relative** paths (``./data/...``), so it
  opens wherever the folder is;
* ``DIR/data/layers.gpkg``: the catalog layers as zlgis loaded them (validated, source values
  mapped, derived layers such as red lines from roads included, in the working CRS), one
  GeoPackage layer per catalog id, columns under the names a bureau user knows
  (:meth:`~zlgis.catalog.LayerSpec.alias`, Chinese);
* ``DIR/data/findings_<week>.gpkg``: a copy of the week's findings GeoPackage (layer
  ``findings``);
* for every layer ``DIR/styles/<id>.qml`` (QGIS layer style) and ``DIR/styles/<id>.sld``
  (OGC SLD 1.1, for other GIS).

Styles come from :mod:`zlgis.publish.styles`: the five control lines as outlines in their
statutory colours and dashes, facilities as points, findings by rule (registry label) in their
severity colour; layers with a name field get Chinese labels.

Examples
--------
>>> qml = qml_style("red_lines", "Polygon")
>>> "227,26,28,255" in qml and "SimpleFill" in qml
True
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Mapping
from pathlib import Path
from typing import Any
from xml.sax.saxutils import quoteattr

import pyproj

from ..catalog import Catalog
from ..config import load_config
from ..errors import ConfigError
from ..findings import SEVERITY_LABELS
from ..io.atomic import atomic_path
from ..rules import rules
from .styles import SEVERITY_COLORS, layer_style

__all__ = ["export_qgis", "qgis_layer_ids", "qml_style", "sld_style"]

_FONT = "Noto Sans CJK SC"
_MM_PER_PX = 0.26   # Leaflet pixel widths to millimetres on screen (96 dpi)


def _rgba(color: str | None, alpha: float = 1.0) -> str:
    h = (color or "#555555").lstrip("#")
    r, g, b = (int(h[i:i + 2], 16) for i in (0, 2, 4))
    return f"{r},{g},{b},{round(255 * alpha)}"


def _props(d: Mapping[str, Any]) -> str:
    return "".join(f"<prop k={quoteattr(k)} v={quoteattr(str(v))}/>" for k, v in d.items())


def _symbol(kind: str, s: Mapping[str, Any], name: str = "0") -> str:
    """A QGIS symbol (``fill``/``line``/``marker``) from a Leaflet style."""
    stroke = _rgba(s.get("color"), float(s.get("opacity", 1.0)))
    width = max(float(s.get("weight", 1.0)) * _MM_PER_PX, 0.1)
    dash = s.get("dashArray")
    line_style = "dash" if dash and " " in str(dash) and int(str(dash).split()[0]) > 3 else (
        "dot" if dash else "solid")
    if kind == "fill":
        layer = ("SimpleFill", {"color": _rgba(s.get("fillColor"), float(s.get("fillOpacity", 0))),
                                "style": "solid", "outline_color": stroke,
                                "outline_style": line_style, "outline_width": f"{width:.2f}",
                                "outline_width_unit": "MM"})
    elif kind == "line":
        layer = ("SimpleLine", {"line_color": stroke, "line_style": line_style,
                                "line_width": f"{width:.2f}", "line_width_unit": "MM"})
    else:
        layer = ("SimpleMarker", {"color": _rgba(s.get("fillColor"), 1.0), "name": "circle",
                                  "outline_color": _rgba(s.get("color") or "#ffffff"),
                                  "outline_width": "0.3", "size": f"{float(s.get('radius', 5)) * 0.7:.1f}",
                                  "size_unit": "MM"})
    return (f'<symbol type="{kind}" name={quoteattr(name)} alpha="1" clip_to_extent="1" '
            f'force_rhr="0"><layer class="{layer[0]}" enabled="1" locked="0" pass="0">'
            f'{_props(layer[1])}</layer></symbol>')


def _kind(geometry: str) -> str:
    g = geometry.lower()
    return "marker" if "point" in g else "line" if "line" in g else "fill"


def _renderer(lid: str, geometry: str) -> str:
    return ('<renderer-v2 type="singleSymbol" symbollevels="0" enableorderby="0" '
            f'forceraster="0"><symbols>{_symbol(_kind(geometry), layer_style(lid))}</symbols>'
            '</renderer-v2>')


def _findings_renderer() -> str:
    """One rule per registered rule and severity: the rule's label, the severity's colour
    (high: squares, so that severity is not told by colour alone)."""
    syms, items = [], []
    for r in rules():
        for sev, color in SEVERITY_COLORS.items():
            i = len(syms)
            s = {"fillColor": color, "color": "#000000", "radius": 6 if sev == "high" else 5}
            sym = _symbol("marker", s, str(i))
            syms.append(sym.replace('v="circle"', 'v="square"') if sev == "high" else sym)
            label = f"{r.label}（{SEVERITY_LABELS[sev]}）"
            flt = f"\"rule\" = '{r.id}' AND \"severity\" = '{sev}'"
            key = uuid.uuid5(uuid.NAMESPACE_URL, f"{r.id}/{sev}")
            items.append(f'<rule key="{{{key}}}" symbol="{i}" label={quoteattr(label)} '
                         f'filter={quoteattr(flt)}/>')
    root = uuid.uuid5(uuid.NAMESPACE_URL, "zlgis-findings")
    return ('<renderer-v2 type="RuleRenderer" symbollevels="0" enableorderby="0" forceraster="0">'
            f'<rules key="{{{root}}}">{"".join(items)}</rules><symbols>{"".join(syms)}</symbols>'
            '</renderer-v2>')


def _labeling(field: str | None, geometry: str) -> str:
    if not field:
        return ""
    placement = "2" if "line" in geometry.lower() else "0"    # 2: parallel to the line
    return ('<labeling type="simple"><settings calloutType="simple">'
            f'<text-style fieldName={quoteattr(field)} fontFamily="{_FONT}" fontSize="9" '
            'fontSizeUnit="Point" textColor="34,34,34,255" isExpression="0"/>'
            '<text-buffer bufferDraw="1" bufferSize="0.8" bufferSizeUnits="MM" '
            'bufferColor="255,255,255,255"/>'
            f'<placement placement="{placement}" dist="1"/>'
            '<rendering scaleVisibility="1" scaleMin="1" scaleMax="25000" obstacle="1"/>'
            '</settings></labeling>')


def qml_style(lid: str, geometry: str, label_field: str | None = None) -> str:
    """QGIS layer style (``.qml``) of layer ``lid`` (``findings``: by rule and severity)."""
    renderer = _findings_renderer() if lid == "findings" else _renderer(lid, geometry)
    on = "1" if label_field else "0"
    return ("<!DOCTYPE qgis PUBLIC 'http://mrcc.com/qgis.dtd' 'SYSTEM'>\n"
            f'<qgis version="3.22.0" styleCategories="AllStyleCategories" labelsEnabled="{on}">'
            f"{renderer}{_labeling(label_field, geometry)}</qgis>\n")


def sld_style(lid: str, geometry: str, title: str) -> str:
    """OGC SLD 1.1 style of layer ``lid`` (one symbolizer; findings: one rule per rule id)."""
    def sym(kind: str, s: Mapping[str, Any]) -> str:
        stroke = (f'<se:Stroke><se:SvgParameter name="stroke">{s.get("color") or "#555555"}'
                  f'</se:SvgParameter><se:SvgParameter name="stroke-width">'
                  f'{float(s.get("weight", 1)):g}</se:SvgParameter></se:Stroke>')
        if kind == "marker":
            return (f'<se:PointSymbolizer><se:Graphic><se:Mark><se:WellKnownName>circle'
                    f'</se:WellKnownName><se:Fill><se:SvgParameter name="fill">'
                    f'{s.get("fillColor")}</se:SvgParameter></se:Fill></se:Mark><se:Size>'
                    f'{2 * float(s.get("radius", 5)):g}</se:Size></se:Graphic>'
                    f'</se:PointSymbolizer>')
        if kind == "line":
            return f"<se:LineSymbolizer>{stroke}</se:LineSymbolizer>"
        return (f'<se:PolygonSymbolizer><se:Fill><se:SvgParameter name="fill">'
                f'{s.get("fillColor") or s.get("color")}</se:SvgParameter><se:SvgParameter '
                f'name="fill-opacity">{float(s.get("fillOpacity", 0)):g}</se:SvgParameter>'
                f'</se:Fill>{stroke}</se:PolygonSymbolizer>')

    if lid == "findings":
        body = "".join(
            f'<se:Rule><se:Name>{r.id}</se:Name><se:Description><se:Title>{_esc(r.label)}'
            f'</se:Title></se:Description><ogc:Filter><ogc:PropertyIsEqualTo><ogc:PropertyName>'
            f'rule</ogc:PropertyName><ogc:Literal>{r.id}</ogc:Literal></ogc:PropertyIsEqualTo>'
            f'</ogc:Filter>{sym("marker", {"fillColor": SEVERITY_COLORS.get(r.severity), "radius": 5})}'
            f'</se:Rule>' for r in rules())
    else:
        body = (f"<se:Rule><se:Name>{lid}</se:Name>"
                f"{sym(_kind(geometry), layer_style(lid))}</se:Rule>")
    return ('<?xml version="1.0" encoding="UTF-8"?>\n'
            '<StyledLayerDescriptor version="1.1.0" xmlns="http://www.opengis.net/sld" '
            'xmlns:se="http://www.opengis.net/se" xmlns:ogc="http://www.opengis.net/ogc">'
            f'<NamedLayer><se:Name>{lid}</se:Name><UserStyle><se:Name>{_esc(title)}</se:Name>'
            f'<se:FeatureTypeStyle>{body}</se:FeatureTypeStyle></UserStyle></NamedLayer>'
            '</StyledLayerDescriptor>\n')


def _esc(text: str) -> str:
    return quoteattr(str(text))[1:-1]


def _srs(crs: str) -> str:
    c = pyproj.CRS(crs)
    return (f"<srs><spatialrefsys><wkt>{_esc(c.to_wkt())}</wkt><authid>{_esc(crs)}</authid>"
            f"</spatialrefsys></srs>")


def _write_layers(layers: Mapping[str, Any], catalog: Catalog, path: Path
                  ) -> list[tuple[str, str, str, str | None]]:
    """Write ``layers`` into one GeoPackage (a layer per id, columns under their user names);
    returns (id, title, geometry type, label column) of each layer written."""
    import pyogrio

    written = []
    with atomic_path(path) as tmp:
        for lid, gdf in layers.items():
            spec = catalog.layers.get(lid)
            if gdf is None or not len(gdf) or spec is None:
                continue
            gdf = gdf.to_crs(catalog.working_crs)
            names: dict[str, str] = {}
            for c in gdf.columns:
                if c != gdf.geometry.name:
                    user = spec.alias(str(c))
                    names[c] = user if user not in names.values() else str(c)
            out = gdf.rename(columns=names)
            kinds = set(out.geom_type.dropna())
            geom = ("Point" if kinds <= {"Point", "MultiPoint"} else "LineString"
                    if kinds <= {"LineString", "MultiLineString"} else "Polygon")
            pyogrio.write_dataframe(out, tmp, layer=lid, driver="GPKG",
                                    promote_to_multi=geom != "Point",
                                    layer_options={"IDENTIFIER": spec.title})
            written.append((lid, spec.title, geom, names.get("name")))
    return written


def export_qgis(catalog: Catalog, out: str | os.PathLike[str], *, week: str,
                layers: Mapping[str, Any], findings_gpkg: str | os.PathLike[str] | None = None
                ) -> Path:
    """Write the week's QGIS project, its data and QML and SLD styles into ``out``.

    Parameters
    ----------
    catalog : Catalog
        Layer titles and the working CRS.
    out : path-like
        Folder; ``zlgis_<week>.qgs``, ``data/`` and ``styles/``. The project refers to its data
        by relative paths: the folder can be moved.
    week : str
    layers : mapping of catalog layer id to GeoDataFrame
        The layers as loaded (``publish.yaml`` ``qgis.layers``, see :func:`qgis_layer_ids`).
    findings_gpkg : path-like, optional
        The week's findings GeoPackage (layer ``findings``), copied into ``data/``.

    Returns
    -------
    Path
        The project file.

    Raises
    ------
    ConfigError
        No layer to add.
    """
    import shutil

    out = Path(out)
    (out / "styles").mkdir(parents=True, exist_ok=True)
    (out / "data").mkdir(exist_ok=True)
    entries = [(lid, title, f"./data/layers.gpkg|layername={lid}", geom, label)
               for lid, title, geom, label in _write_layers(
                   {k: layers[k] for k in qgis_layer_ids(catalog) if k in layers}, catalog,
                   out / "data" / "layers.gpkg")]
    if findings_gpkg is not None and Path(findings_gpkg).exists():
        name = f"findings_{week}.gpkg"
        with atomic_path(out / "data" / name) as tmp:
            shutil.copyfile(findings_gpkg, tmp)
        entries.append(("findings", f"{week} 问题", f"./data/{name}|layername=findings",
                        "Point", None))
    if not entries:
        raise ConfigError("没有可加入 QGIS 工程的图层（图层目录中的图层均无数据）")
    tree, maplayers = [], []
    for lid, title, source, geom, label in reversed(entries):     # points drawn on top
        lyr_id = f"{lid}_{uuid.uuid5(uuid.NAMESPACE_URL, source).hex[:12]}"
        qml = qml_style(lid, geom, label)
        with atomic_path(out / "styles" / f"{lid}.qml") as tmp:
            tmp.write_text(qml, encoding="utf-8")
        with atomic_path(out / "styles" / f"{lid}.sld") as tmp:
            tmp.write_text(sld_style(lid, geom, title), encoding="utf-8")
        renderer = qml[qml.index("<renderer-v2"):qml.rindex("</qgis>")]
        qgeom = "Point" if "point" in geom.lower() else "Line" if "line" in geom.lower() \
            else "Polygon"
        tree.append(f'<layer-tree-layer id="{lyr_id}" name={quoteattr(title)} '
                    f'source={quoteattr(source)} providerKey="ogr" checked="Qt::Checked" '
                    f'expanded="1"/>')
        maplayers.append(
            f'<maplayer type="vector" geometry="{qgeom}" labelsEnabled="{1 if label else 0}">'
            f"<id>{lyr_id}</id><datasource>{_esc(source)}</datasource>"
            f"<layername>{_esc(title)}</layername>{_srs(catalog.working_crs)}"
            f'<provider encoding="UTF-8">ogr</provider>{renderer}</maplayer>')
    doc = ("<!DOCTYPE qgis PUBLIC 'http://mrcc.com/qgis.dtd' 'SYSTEM'>\n"
           f'<qgis projectname={quoteattr(f"{catalog.city} {week}")} version="3.22.0">'
           f"<title>{_esc(catalog.city)} {week}</title>"
           f"<projectCrs>{_srs(catalog.working_crs)[5:-6]}</projectCrs>"
           # QGIS reads <projectCrs> only when the project says projections are enabled;
           # Paths/Absolute false: data sources are relative to the project file
           '<properties><SpatialRefSys><ProjectionsEnabled type="int">1</ProjectionsEnabled>'
           '</SpatialRefSys><Paths><Absolute type="bool">false</Absolute></Paths></properties>'
           f'<layer-tree-group>{"".join(tree)}</layer-tree-group>'
           f'<projectlayers>{"".join(maplayers)}</projectlayers></qgis>\n')
    path = out / f"zlgis_{week}.qgs"
    with atomic_path(path) as tmp:
        tmp.write_text(doc, encoding="utf-8")
    return path


def qgis_layer_ids(catalog: Catalog) -> list[str]:
    """Catalog layers of the QGIS project (``publish.yaml`` ``qgis.layers``) this catalog has."""
    return [lid for lid in load_config("publish")["qgis"]["layers"] if lid in catalog.layers]
