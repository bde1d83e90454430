"""Static PNG maps for reports: matplotlib, a CJK font, legend, scale bar and north arrow.

Figures are drawn in the catalog's working CRS (metres: EPSG:4550 for Zhalantun, the UTM zone
of a city elsewhere), so the scale bar is exact. The CJK
font comes from Debian's ``fonts-noto-cjk`` (installed by ``scripts/setup.sh``); the families
tried are listed in ``publish.yaml`` (``figures.fonts``).

Examples
--------
>>> import tempfile, pathlib, geopandas as gpd
>>> from shapely.geometry import Point, box
>>> from zlgis.catalog import Catalog
>>> parks = gpd.GeoDataFrame({"name": ["人民公园"]}, geometry=[box(0, 0, 800, 500)],
...                          crs="EPSG:4550")
>>> out = pathlib.Path(tempfile.mkdtemp()) / "parks.png"
>>> p = make_figure({"parks": parks}, catalog=Catalog.load(), path=out, title="公园分布")
>>> p.read_bytes()[:4] == b"\\x89PNG"
True
"""

from __future__ import annotations

import math
import os
from collections.abc import Mapping
from functools import lru_cache
from pathlib import Path

import geopandas as gpd
import matplotlib
import pyproj
from matplotlib import font_manager
from matplotlib.colors import to_rgba
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.patches import FancyArrow, Patch, Rectangle

from ..catalog import Catalog
from ..config import load_config
from ..errors import ConfigError
from ..findings import SEVERITY_LABELS
from ..io.atomic import atomic_path
from .styles import SEVERITY_COLORS, layer_style

__all__ = ["cjk_font", "draw_layer", "make_figure", "nice_scale_length"]


@lru_cache(maxsize=1)
def cjk_font() -> str:
    """Family name of an installed CJK font (first of ``publish.yaml`` ``figures.fonts``).

    Raises
    ------
    ConfigError
        No CJK font installed (Chinese text would print as boxes).
    """
    wanted = load_config("publish")["figures"]["fonts"]
    names = {f.name for f in font_manager.fontManager.ttflist}
    for fam in wanted:
        if fam in names:
            return fam
    for f in font_manager.findSystemFonts():
        if "NotoSansCJK" in f or "wqy" in f.lower():
            font_manager.fontManager.addfont(f)
            return font_manager.FontProperties(fname=f).get_name()
    raise ConfigError("未找到中文字体，请安装 fonts-noto-cjk（scripts/setup.sh 会安装）")


def nice_scale_length(width_m: float) -> float:
    """A round scale-bar length (1, 2 or 5 x 10^n m) near a fifth of the map width.

    >>> nice_scale_length(10_000), nice_scale_length(2_300), nice_scale_length(80)
    (2000.0, 200.0, 10.0)
    """
    target = max(width_m / 5.0, 1e-9)
    exp = 10 ** math.floor(math.log10(target))
    for step in (5, 2, 1):
        if step * exp <= target:
            return float(step * exp)
    return float(exp)


def draw_layer(ax, gdf: gpd.GeoDataFrame, key: str) -> None:
    """Draw ``gdf`` on ``ax`` in the web map style of ``key`` (points, lines or polygons)."""
    s = layer_style(key)
    kinds = set(gdf.geom_type.dropna())
    if kinds <= {"Point", "MultiPoint"}:
        gdf.plot(ax=ax, color=s.get("fillColor", "#555"), edgecolor=s.get("color", "#fff"),
                 markersize=(s.get("radius", 5) * 2.2) ** 2 / 4, linewidth=0.5, zorder=5)
    elif kinds <= {"LineString", "MultiLineString"}:
        gdf.plot(ax=ax, color=s.get("color", "#555"), linewidth=max(s.get("weight", 1) * 0.5, 0.4),
                 zorder=3)
    else:
        face = to_rgba(s.get("fillColor", "#999999"), float(s.get("fillOpacity", 0) or 0))
        gdf.plot(ax=ax, facecolor=face, edgecolor=s.get("color", "#555"),
                 linewidth=max(s.get("weight", 1) * 0.4, 0.3), zorder=2)


def _scale_bar(ax) -> None:
    x0, x1 = ax.get_xlim()
    y0, y1 = ax.get_ylim()
    length = nice_scale_length(x1 - x0)
    h = (y1 - y0) * 0.012
    bx, by = x0 + (x1 - x0) * 0.04, y0 + (y1 - y0) * 0.05
    for i in range(2):
        ax.add_patch(Rectangle((bx + i * length / 2, by), length / 2, h, facecolor="k" if i == 0
                               else "w", edgecolor="k", linewidth=0.8, zorder=10))
    label = f"{length / 1000:g} 千米" if length >= 1000 else f"{length:g} 米"
    for x, t in ((bx, "0"), (bx + length, label)):
        ax.text(x, by + h * 1.6, t, ha="center", va="bottom", fontsize=8, zorder=10)


def _north_arrow(ax) -> None:
    x0, x1 = ax.get_xlim()
    y0, y1 = ax.get_ylim()
    x, y = x1 - (x1 - x0) * 0.06, y1 - (y1 - y0) * 0.16
    dy = (y1 - y0) * 0.08
    ax.add_patch(FancyArrow(x, y, 0, dy, width=(x1 - x0) * 0.008, head_width=(x1 - x0) * 0.03,
                            head_length=dy * 0.45, length_includes_head=True, color="k",
                            zorder=10))
    ax.text(x, y + dy * 1.08, "北", ha="center", va="bottom", fontsize=11, fontweight="bold",
            zorder=10)


def make_figure(layers: Mapping[str, gpd.GeoDataFrame],
                findings: gpd.GeoDataFrame | None = None, *, catalog: Catalog,
                path: str | os.PathLike[str], title: str = "",
                extra: Mapping[str, gpd.GeoDataFrame] | None = None,
                dpi: int | None = None, size_in: tuple[float, float] = (10.0, 8.0)) -> Path:
    """Draw ``layers`` (and findings by severity) to a PNG at ``path`` (written atomically).

    Parameters
    ----------
    layers : mapping of catalog layer id to GeoDataFrame
        Drawn with the web map's colours (:mod:`zlgis.publish.styles`), in the working CRS.
    findings : GeoDataFrame, optional
        Drawn as points coloured by severity.
    extra : mapping, optional
        Analysis layers (titles from ``publish.yaml`` ``extras``).
    """
    cfg = load_config("publish")
    dpi = int(dpi or cfg["figures"]["dpi"])
    font = cjk_font()
    handles: list = []
    with matplotlib.rc_context({"font.family": [font], "axes.unicode_minus": False}):
        fig = Figure(figsize=size_in)  # not pyplot's: see print_maps.print_map
        ax = fig.add_subplot()
        drawn = 0
        for lid, gdf in list(layers.items()) + [(k, v) for k, v in (extra or {}).items()]:
            if gdf is None or not len(gdf):
                continue
            gdf = gdf.to_crs(catalog.working_crs)
            spec = catalog.layers.get(lid)
            ecfg = cfg.get("extras", {}).get(lid, {})
            key = lid if spec is not None else str(ecfg.get("style", lid))
            label = spec.title if spec is not None else str(ecfg.get("title", lid))
            draw_layer(ax, gdf, key)
            drawn += 1
            s = layer_style(key)
            if set(gdf.geom_type.dropna()) <= {"Point", "MultiPoint"}:
                handles.append(Line2D([], [], marker="o", linestyle="", label=label,
                                      markerfacecolor=s.get("fillColor", "#555"),
                                      markeredgecolor=s.get("color", "#fff")))
            elif set(gdf.geom_type.dropna()) <= {"LineString", "MultiLineString"}:
                handles.append(Line2D([], [], color=s.get("color", "#555"), label=label))
            else:
                handles.append(Patch(facecolor=to_rgba(s.get("fillColor", "#999999"),
                                                       float(s.get("fillOpacity", 0) or 0)),
                                     edgecolor=s.get("color", "#555"), label=label))
        if findings is not None and len(findings):
            f = findings.to_crs(catalog.working_crs)
            sev = f["severity"].astype(str) if "severity" in f else None
            for s_key, color in SEVERITY_COLORS.items():
                part = f[sev == s_key] if sev is not None else f.iloc[:0]
                if not len(part):
                    continue
                gpd.GeoSeries(part.geometry.representative_point(), crs=f.crs).plot(
                    ax=ax, color=color, edgecolor="k", linewidth=0.4, markersize=28,
                    zorder=8)
                handles.append(Line2D([], [], marker="o", linestyle="", markersize=7,
                                      markerfacecolor=color, markeredgecolor="k",
                                      label=f"问题（{SEVERITY_LABELS[s_key]}）"))
                drawn += 1
        if not drawn:
            raise ConfigError("没有可绘制的图层，无法生成图件", path=str(path))
        ax.set_aspect("equal")
        ax.set_xticks([])
        ax.set_yticks([])
        ax.set_xlabel("")
        ax.set_ylabel("")
        x0, x1 = ax.get_xlim()
        y0, y1 = ax.get_ylim()
        pad = 0.04 * max(x1 - x0, y1 - y0)
        ax.set_xlim(x0 - pad, x1 + pad)
        ax.set_ylim(y0 - pad, y1 + pad)
        _scale_bar(ax)
        _north_arrow(ax)
        if handles:
            ax.legend(handles=handles, loc="lower right", fontsize=8, title="图例",
                      framealpha=0.9)
        if title:
            ax.set_title(title, fontsize=14)
        ax.text(1.0, -0.01, f"坐标系：{pyproj.CRS(catalog.working_crs).name}"
                f"（{catalog.working_crs}）",
                transform=ax.transAxes, ha="right", va="top", fontsize=7, color="#555")
        with atomic_path(path) as tmp:
            fig.savefig(tmp, dpi=dpi, bbox_inches="tight", format="png")
    return Path(path)
