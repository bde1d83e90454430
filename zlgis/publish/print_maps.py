"""A3 print maps for the weekly meeting: one for the city and one per lead department.

Each sheet is A3 landscape (420 x 297 mm) at a true, stated scale (1:N from ``publish.yaml``
``print.scales``, the largest that fits the findings or the layers), with a title, a legend
(layers, and findings by rule and severity with the rule labels of the registry), a scale bar,
a north arrow and a source line with the date, the coordinate system and the 审图号
(``print.review_number``). Drawing uses the web map's colours (:mod:`zlgis.publish.styles`)
through :mod:`zlgis.publish.figures`; sheets are written as PDF and PNG, atomically.

Examples
--------
>>> import tempfile, pathlib, geopandas as gpd
>>> from shapely.geometry import box
>>> from zlgis.catalog import Catalog
>>> parks = gpd.GeoDataFrame({"name": ["人民公园"]}, geometry=[box(0, 0, 800, 500)],
...                          crs="EPSG:4550")
>>> out = pathlib.Path(tempfile.mkdtemp())
>>> sheet = print_map({"parks": parks}, None, catalog=Catalog.load(), out=out / "city",
...                   title="公园分布", date="2022-09-04")
>>> sorted(p.name for p in out.iterdir()), sheet.scale
(['city.pdf', 'city.png'], 5000)
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import pyproj

from ..catalog import Catalog
from ..config import department_name, load_config
from ..errors import ConfigError
from ..findings import SEVERITY_LABELS
from ..io.atomic import atomic_path
from ..rules import find_rule
from .figures import cjk_font, draw_layer, nice_scale_length
from .styles import SEVERITY_COLORS, layer_style

__all__ = ["A3_MM", "PrintSheet", "print_map", "print_department_maps"]

#: A3 landscape, millimetres (ISO 216).
A3_MM = (420.0, 297.0)
_MM = 1 / 25.4
# map frame on the sheet (mm): left, bottom, width, height; the right column holds the legend
_FRAME = (12.0, 22.0, 300.0, 255.0)


@dataclass(frozen=True)
class PrintSheet:
    """A written sheet: its files, scale denominator and scale bar (length in metres, left end
    in sheet millimetres from the lower left corner), the CRS it is drawn in (the catalog's
    working CRS) and the map frame's extent in it (xmin, ymin, xmax, ymax, metres)."""

    pdf: Path
    png: Path
    scale: int
    bar_m: float
    bar_mm: tuple[float, float]
    crs: str = ""
    extent: tuple[float, float, float, float] = (0.0, 0.0, 0.0, 0.0)


def _cfg() -> dict:
    return load_config("publish")["print"]


def _pick_scale(bounds: np.ndarray, scales: Sequence[int]) -> int:
    """The largest scale (smallest 1:N) at which ``bounds`` (with 5 % margin) fits the frame."""
    w, h = (bounds[2] - bounds[0]) * 1.1, (bounds[3] - bounds[1]) * 1.1
    for n in sorted(scales):
        if w <= _FRAME[2] / 1000 * n and h <= _FRAME[3] / 1000 * n:
            return int(n)
    return int(max(scales))


def _draw_layers(ax: Any, drawn: Mapping[str, gpd.GeoDataFrame], catalog: Catalog) -> list:
    """Draw the layers in their web-map styles; their legend handles."""
    from matplotlib.lines import Line2D
    from matplotlib.patches import Patch

    handles: list = []
    for lid, g in drawn.items():
        draw_layer(ax, g, lid)
        s = layer_style(lid)
        label = catalog.layers[lid].title if lid in catalog.layers else lid
        kinds = set(g.geom_type.dropna())
        if kinds <= {"Point", "MultiPoint"}:
            handles.append(Line2D([], [], marker="o", linestyle="", label=label,
                                  markerfacecolor=s.get("fillColor", "#555"),
                                  markeredgecolor="#333"))
        elif kinds <= {"LineString", "MultiLineString"}:
            handles.append(Line2D([], [], color=s.get("color", "#555"), label=label))
        else:
            handles.append(Patch(facecolor="none", edgecolor=s.get("color", "#555"),
                                 label=label,
                                 linestyle="--" if s.get("dashArray") else "-"))
    return handles


def _draw_findings(ax: Any, f: gpd.GeoDataFrame | None) -> list:
    """Findings as points by severity; their legend handles."""
    from matplotlib.lines import Line2D

    if f is None:
        return []
    handles = []
    sev = f["severity"].astype(str) if "severity" in f else pd.Series("medium", index=f.index)
    pts = f.geometry.representative_point()
    for key, color in SEVERITY_COLORS.items():
        part = pts[sev == key]
        if len(part):
            ax.scatter(part.x, part.y, s=36 if key == "high" else 24, c=color,
                       edgecolors="k", linewidths=0.5, zorder=8,
                       marker="s" if key == "high" else "o")
            handles.append(Line2D([], [], marker="s" if key == "high" else "o",
                                  linestyle="", markerfacecolor=color,
                                  markeredgecolor="k",
                                  label=f"问题（{SEVERITY_LABELS[key]}）"))
    return handles


def _draw_scale_bar(ax: Any, frame: tuple[float, float, float, float],
                    n: int) -> tuple[float, float, float]:
    """A round length drawn in metres, so it is exact at 1:n; (length, x, y) of its start."""
    from matplotlib.patches import Rectangle

    cx, cy, half_w, half_h = frame
    bar = nice_scale_length(2 * half_w)
    bx, by = cx - half_w + 0.04 * 2 * half_w, cy - half_h + 0.04 * 2 * half_h
    bh = 0.008 * 2 * half_h
    for i in range(2):
        ax.add_patch(Rectangle((bx + i * bar / 2, by), bar / 2, bh,
                               facecolor="k" if i == 0 else "w", edgecolor="k",
                               linewidth=0.8, zorder=12))
    label = f"{bar / 1000:g} 千米" if bar >= 1000 else f"{bar:g} 米"
    ax.text(bx, by + bh * 1.5, "0", ha="center", va="bottom", fontsize=9, zorder=12)
    ax.text(bx + bar, by + bh * 1.5, label, ha="center", va="bottom", fontsize=9,
            zorder=12)
    ax.text(bx, by - bh * 0.8, f"比例尺 1:{n:,}", ha="left", va="top", fontsize=10,
            zorder=12)
    return bar, bx, by


def _draw_north_arrow(ax: Any, frame: tuple[float, float, float, float]) -> None:
    """North arrow (grid north of the working CRS) at the upper right of the map frame."""
    from matplotlib.patches import FancyArrow

    cx, cy, half_w, half_h = frame
    nx, ny, dy = cx + half_w * 0.9, cy + half_h * 0.78, half_h * 0.12
    ax.add_patch(FancyArrow(nx, ny, 0, dy, width=half_w * 0.008,
                            head_width=half_w * 0.035, head_length=dy * 0.45,
                            length_includes_head=True, color="k", zorder=12))
    ax.text(nx, ny + dy * 1.05, "北", ha="center", va="bottom", fontsize=13,
            fontweight="bold", zorder=12)


def _draw_margins(fig: Any, title: str, handles: list, source_line: str) -> None:
    """Title and legend right of the map, source line below it."""
    right = (_FRAME[0] + _FRAME[2] + 6) / A3_MM[0]
    fig.text(right, 1 - 14 / A3_MM[1], title, fontsize=20, fontweight="bold",
             va="top", wrap=True)
    lax = fig.add_axes([right, 0.12, 1 - right - 0.01, 0.72])
    lax.axis("off")
    if handles:
        lax.legend(handles=handles, loc="upper left", fontsize=9, title="图例",
                   title_fontsize=12, frameon=False)
    fig.text(_FRAME[0] / A3_MM[0], 10 / A3_MM[1], source_line, fontsize=9, color="#333",
             va="center")


def print_map(layers: Mapping[str, gpd.GeoDataFrame], findings: gpd.GeoDataFrame | None, *,
              catalog: Catalog, out: str | os.PathLike[str], title: str, date: str,
              source: str | None = None, dpi: int | None = None) -> PrintSheet:
    """Draw one A3 sheet to ``out`` + ``.pdf`` and ``.png``.

    Parameters
    ----------
    layers : mapping of catalog layer id to GeoDataFrame
    findings : GeoDataFrame, optional
        Drawn as points by severity; the legend names each rule (registry label).
    catalog : Catalog
        Working CRS (metres) and layer titles.
    out : path-like
        File stem; ``.pdf`` and ``.png`` are added.
    title, date : str
        Sheet title; date of the data (source line).
    source : str, optional
        Source line text (default ``print.source`` of ``publish.yaml`` with the catalog's city,
        followed by the catalog's ``attribution``, e.g. © OpenStreetMap contributors).
    dpi : int, optional
        PNG resolution (default ``print.dpi``).

    Returns
    -------
    PrintSheet

    Raises
    ------
    ConfigError
        Nothing to draw.
    """
    import matplotlib
    from matplotlib.figure import Figure

    cfg = _cfg()
    dpi = int(dpi or cfg["dpi"])
    crs = catalog.working_crs
    drawn = {k: g.to_crs(crs) for k, g in layers.items() if g is not None and len(g)}
    f = findings.to_crs(crs) if findings is not None and len(findings) else None
    if not drawn and f is None:
        raise ConfigError("没有可绘制的图层，无法生成打印图件", path=str(out))
    focus = f if f is not None else pd.concat([g.geometry for g in drawn.values()])
    bounds = np.asarray(gpd.GeoSeries(getattr(focus, "geometry", focus), crs=crs).total_bounds)
    n = _pick_scale(bounds, cfg["scales"])
    cx, cy = (bounds[0] + bounds[2]) / 2, (bounds[1] + bounds[3]) / 2
    half_w, half_h = _FRAME[2] / 2000 * n, _FRAME[3] / 2000 * n
    out = Path(out)
    font = cjk_font()
    with matplotlib.rc_context({"font.family": [font], "axes.unicode_minus": False}):
        # not pyplot's figure: on its canvas (Agg) each layer geopandas plots ends with a
        # draw of the whole figure (``draw_idle``), nine draws before the two that are saved
        fig = Figure(figsize=(A3_MM[0] * _MM, A3_MM[1] * _MM))
        ax = fig.add_axes([_FRAME[0] / A3_MM[0], _FRAME[1] / A3_MM[1],
                           _FRAME[2] / A3_MM[0], _FRAME[3] / A3_MM[1]])
        handles = _draw_layers(ax, drawn, catalog) + _draw_findings(ax, f)
        ax.set_xlim(cx - half_w, cx + half_w)
        ax.set_ylim(cy - half_h, cy + half_h)
        ax.set_xticks([])
        ax.set_yticks([])
        ax.set_xlabel("")
        ax.set_ylabel("")
        bar, bx, by = _draw_scale_bar(ax, (cx, cy, half_w, half_h), n)
        _draw_north_arrow(ax, (cx, cy, half_w, half_h))
        src = source or " ".join(x for x in (
            str(cfg["source"]).replace("{city}", catalog.city),
            str(catalog.raw.get("attribution") or "")) if x)
        _draw_margins(fig, title, handles + _rule_handles(f),
                      f"{src}　数据日期：{date}　坐标系：{pyproj.CRS(crs).name}（{crs}）"
                      f"　{str(cfg.get('review_number') or '')}")
        for ext in ("pdf", "png"):
            with atomic_path(out.with_suffix(f".{ext}")) as tmp:
                fig.savefig(tmp, format=ext, dpi=dpi, metadata={"CreationDate": None}
                            if ext == "pdf" else {"Software": None})
    left_mm = _FRAME[0] + (bx - (cx - half_w)) / n * 1000
    bottom_mm = _FRAME[1] + (by - (cy - half_h)) / n * 1000
    return PrintSheet(out.with_suffix(".pdf"), out.with_suffix(".png"), n, bar,
                      (float(left_mm), float(bottom_mm)), crs,
                      (float(cx - half_w), float(cy - half_h), float(cx + half_w),
                       float(cy + half_h)))


def _rule_handles(f: gpd.GeoDataFrame | None) -> list:
    """Legend lines naming the rules of ``f`` (registry labels), most findings first."""
    from matplotlib.lines import Line2D

    if f is None or "rule" not in f.columns:
        return []
    counts = f["rule"].astype(str).value_counts()
    out = []
    for rid, k in counts.head(int(_cfg()["legend_rules"])).items():
        r = find_rule(rid)
        out.append(Line2D([], [], linestyle="", label=f"{r.label if r else rid}：{k} 处"))
    if len(counts) > len(out):
        out.append(Line2D([], [], linestyle="", label=f"其他 {len(counts) - len(out)} 类问题"))
    return out


def print_department_maps(layers: Mapping[str, gpd.GeoDataFrame], findings: gpd.GeoDataFrame,
                          *, catalog: Catalog, out_dir: str | os.PathLike[str], week: str,
                          date: str) -> list[PrintSheet]:
    """The city sheet and one sheet per lead department with findings (``lead_department``).

    Returns
    -------
    list of PrintSheet
        City first, then departments in code order.
    """
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    sheets = [print_map(layers, findings, catalog=catalog, out=out_dir / f"print_city_{week}",
                        title=f"{catalog.city} {week} 城市管理问题分布图", date=date)]
    if findings is None or "lead_department" not in findings.columns:
        return sheets
    lead = findings["lead_department"].fillna("").astype(str)
    for code in sorted({c for v in lead for c in v.split(";") if c}):
        part = findings[lead.str.split(";").apply(lambda cs, c=code: c in cs)]
        name = department_name(code)
        sheets.append(print_map(layers, part, catalog=catalog,
                                out=out_dir / f"print_{code}_{week}",
                                title=f"{name} {week} 牵头问题分布图", date=date))
    return sheets
