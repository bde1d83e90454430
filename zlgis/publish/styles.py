"""Colours, line styles and Chinese legend labels shared by web maps and static figures.

The five planning control lines keep their statutory colours (红线 red, 绿线 green, 蓝线 blue,
紫线 purple, 黄线 yellow; 城市紫线/绿线/蓝线/黄线管理办法, 建设部令第119/112/145/144号); findings
are coloured by severity. Every label a user sees is Chinese.

Examples
--------
>>> layer_style("red_lines")["color"]
'#e31a1c'
>>> severity_color("unknown") == SEVERITY_COLORS["medium"]
True
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ..config import load_config
from ..errors import ConfigError

if TYPE_CHECKING:
    from ..catalog import Catalog

#: map profiles and base maps (here, not in :mod:`.maps`, so that the CLI and the weekly run's
#: loading can list them without importing folium)
PROFILES = ("internal", "public")
BASEMAPS = ("tianditu", "gaode", "osm", "none")

__all__ = [
    "CONTROL_LINE_COLORS",
    "CONTROL_LINE_LABELS",
    "CONTROL_LINE_DASHES",
    "SEVERITY_COLORS",
    "PONDING_CLASSES",
    "LAYER_STYLES",
    "layer_style",
    "severity_color",
    "ponding_class",
    "check_profile",
    "map_layer_ids",
]


def check_profile(profile: str) -> None:
    """Refuse a map profile other than ``internal`` and ``public`` (ConfigError)."""
    if profile not in PROFILES:
        raise ConfigError(f"地图类型 {profile!r} 无效，应为 internal（内部）或 public（公开）")


def map_layer_ids(profile: str = "internal", catalog: Catalog | None = None) -> list[str]:
    """Catalog layer ids a map of ``profile`` draws by default (``publish.yaml``; with a
    :class:`~zlgis.catalog.Catalog`, those it has).

    >>> "toilets" in map_layer_ids("public"), "buildings" in map_layer_ids("public")
    (True, False)
    """
    check_profile(profile)
    ids = list(load_config("publish")["default_layers"][profile])
    if catalog is not None:
        ids = [i for i in ids if i in catalog.layers]
    return ids


#: Statutory colour of each control line layer.
CONTROL_LINE_COLORS: dict[str, str] = {
    "red_lines": "#e31a1c",
    "green_lines": "#33a02c",
    "blue_lines": "#1f78b4",
    "purple_lines": "#7b3294",
    "yellow_lines": "#f2c200",
}

#: Chinese legend label of each control line layer.
CONTROL_LINE_LABELS: dict[str, str] = {
    "red_lines": "道路红线",
    "green_lines": "城市绿线",
    "blue_lines": "城市蓝线",
    "purple_lines": "城市紫线",
    "yellow_lines": "城市黄线",
}

#: Dash pattern of each control line (Leaflet ``dashArray``; None is solid). The statutory
#: colours of red and green lines, and of blue and purple lines, fall within ΔE*76 20 of each
#: other for deuteranopic readers (:mod:`zlgis.publish.colors`): the green and purple lines are
#: dashed so that no reader depends on colour alone (WCAG 2.1 §1.4.1).
CONTROL_LINE_DASHES: dict[str, str | None] = {
    "red_lines": None,
    "green_lines": "8 4",
    "blue_lines": None,
    "purple_lines": "2 3",
    "yellow_lines": None,
}

#: Line weight (px) of each control line: the statutory green and yellow fall below WCAG 2.1
#: §1.4.11's 3:1 against a light basemap, so they are drawn heavier.
CONTROL_LINE_WEIGHTS: dict[str, float] = {
    "red_lines": 1.5, "green_lines": 2.5, "blue_lines": 1.5, "purple_lines": 1.5,
    "yellow_lines": 2.5,
}

#: Fill colour of findings by severity.
SEVERITY_COLORS: dict[str, str] = {"high": "#b2182b", "medium": "#ef8a62", "low": "#f7c948"}

#: Ponding depth classes (upper bound in cm, colour, label). 15 cm and 30 cm follow the usual
#: urban waterlogging thresholds (GB 51222-2017 城镇内涝防治技术标准 §3.2: road ponding deeper
#: than 15 cm counts as waterlogging); the 50 cm class is a display choice.
PONDING_CLASSES: tuple[tuple[float, str, str], ...] = (
    (15.0, "#c6dbef", "积水 <15 厘米"),
    (30.0, "#6baed6", "积水 15–30 厘米"),
    (50.0, "#2171b5", "积水 30–50 厘米"),
    (float("inf"), "#08306b", "积水 ≥50 厘米"),
)

_BASE: dict[str, Any] = {"color": "#555555", "weight": 1.5, "opacity": 0.9,
                         "fillColor": "#999999", "fillOpacity": 0.25, "radius": 5}

#: Style per layer id (Leaflet path options plus ``radius`` for points and a ``legend`` label).
LAYER_STYLES: dict[str, dict[str, Any]] = {
    **{lid: {"color": c, "weight": CONTROL_LINE_WEIGHTS[lid], "opacity": 1.0, "fillColor": c,
             "fillOpacity": 0.04,
             "dashArray": CONTROL_LINE_DASHES[lid], "legend": CONTROL_LINE_LABELS[lid]}
       for lid, c in CONTROL_LINE_COLORS.items()},
    "water_source_zones": {"color": "#08519c", "weight": 2, "fillColor": "#9ecae1",
                           "fillOpacity": 0.2, "dashArray": "6 3", "legend": "饮用水水源保护区"},
    "heat_stations": {"color": "#ffffff", "weight": 1, "fillColor": "#d7301f", "fillOpacity": 1.0,
                      "radius": 5, "legend": "换热站"},
    "gas_pipelines": {"color": "#fdae61", "weight": 2.5, "opacity": 0.9, "legend": "燃气管线"},
    "parks": {"color": "#1a9850", "weight": 1, "fillColor": "#66bd63", "fillOpacity": 0.45,
              "legend": "公园与广场"},
    "green_islands": {"color": "#4d9221", "weight": 1, "fillColor": "#a6d96a",
                      "fillOpacity": 0.6, "legend": "道路分车绿岛"},
    "toilets": {"color": "#ffffff", "weight": 1.5, "fillColor": "#0570b0", "fillOpacity": 1.0,
                "radius": 6, "legend": "公共厕所"},
    "transfer_stations": {"color": "#ffffff", "weight": 1.5, "fillColor": "#8c510a",
                          "fillOpacity": 1.0, "radius": 7, "legend": "垃圾转运站"},
    "garbage_points": {"color": "#ffffff", "weight": 1, "fillColor": "#bf812d",
                       "fillOpacity": 1.0, "radius": 4, "legend": "垃圾收集点"},
    "waterlogging_points": {"color": "#08306b", "weight": 1.5, "fillColor": "#4292c6",
                            "fillOpacity": 0.9, "radius": 7, "legend": "易涝积水点"},
    "truck_no_parking_zones": {"color": "#d94801", "weight": 2, "fillColor": "#fd8d3c",
                               "fillOpacity": 0.25, "dashArray": "6 4", "legend": "货车禁停区"},
    "truck_restricted_roads": {"color": "#d94801", "weight": 4, "opacity": 0.8,
                               "dashArray": "8 6", "legend": "货车限行路段"},
    "truck_parking": {"color": "#ffffff", "weight": 1.5, "fillColor": "#54278f",
                      "fillOpacity": 1.0, "radius": 6, "legend": "大货车停放点"},
    "muck_routes": {"color": "#8c6d31", "weight": 3, "dashArray": "4 4", "legend": "渣土车核准路线"},
    "roads": {"color": "#737373", "weight": 1.5, "opacity": 0.7, "legend": "道路中心线"},
    "buildings": {"color": "#636363", "weight": 0.5, "fillColor": "#bdbdbd", "fillOpacity": 0.5,
                  "legend": "建筑物"},
    "grids": {"color": "#969696", "weight": 1, "fillOpacity": 0.0, "dashArray": "2 4",
              "legend": "城市管理单元网格"},
    "unit_grids": {"color": "#6a51a3", "weight": 0.8, "fillColor": "#bcbddc", "fillOpacity": 0.08,
                   "legend": "万米单元网格"},
    "road_chief_segments": {"color": "#e6550d", "weight": 2.5, "opacity": 0.8,
                            "legend": "路长责任路段"},
    "hotline_cases": {"color": "#ffffff", "weight": 0.5, "fillColor": "#e7298a",
                      "fillOpacity": 0.35, "radius": 4, "legend": "12345热线工单"},
    "street_lamps": {"color": "#ffffff", "weight": 0.5, "fillColor": "#fec44f",
                     "fillOpacity": 1.0, "radius": 3, "legend": "路灯"},
    "service_area": {"color": "#2b8cbe", "weight": 1, "fillColor": "#a6bddb", "fillOpacity": 0.2,
                     "dashArray": "3 3", "legend": "服务范围"},
    "uncovered": {"color": "#cb181d", "weight": 1, "fillColor": "#fcbba1", "fillOpacity": 0.45,
                  "legend": "服务盲区"},
    "ponding": {"color": "#08519c", "weight": 0.5, "fillColor": "#6baed6", "fillOpacity": 0.6,
                "legend": "积水深度"},
}


def layer_style(key: str) -> dict[str, Any]:
    """Style of a layer id or style key; unknown keys get a neutral grey style."""
    return {**_BASE, **LAYER_STYLES.get(key, {})}


def severity_color(severity: str) -> str:
    """Colour of a severity (``high``/``medium``/``low``); unknown values count as medium."""
    return SEVERITY_COLORS.get(str(severity), SEVERITY_COLORS["medium"])


def ponding_class(depth_cm: float) -> int:
    """Index into :data:`PONDING_CLASSES` of a ponding depth in centimetres.

    >>> [ponding_class(d) for d in (5, 15, 40, 120)]
    [0, 1, 2, 3]
    """
    for i, (upper, _, _) in enumerate(PONDING_CLASSES):
        if depth_cm < upper:
            return i
    return len(PONDING_CLASSES) - 1
