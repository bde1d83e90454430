"""A map figure of the demo city (matplotlib, without pyplot), for the README and notebooks."""

from __future__ import annotations

import os
from typing import Any

import matplotlib
import numpy as np
import pandas as pd
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.patches import Patch

from ..catalog import Catalog

__all__ = ["plot_demo_city"]

_CJK_FONTS = ["Noto Sans CJK SC", "Noto Sans CJK JP", "Noto Serif CJK SC", "WenQuanYi Zen Hei",
              "SimHei", "Microsoft YaHei"]


def _cjk() -> None:
    from matplotlib import font_manager

    have = {f.name for f in font_manager.fontManager.ttflist}
    for name in _CJK_FONTS:
        if name in have:
            if matplotlib.rcParams["font.sans-serif"][:1] != [name]:
                matplotlib.rcParams["font.sans-serif"] = [name,
                                                          *matplotlib.rcParams["font.sans-serif"]]
            break
    matplotlib.rcParams["axes.unicode_minus"] = False


def _draw_hillshade(ax: Any, dem_path: Any, extent: tuple[float, ...]) -> None:
    """The DEM (tinted) and a hillshade of it, read at most about 1200 cells across."""
    import rasterio
    from rasterio.windows import from_bounds

    x0, y0, x1, y1 = extent
    with rasterio.open(dem_path) as src:
        win = from_bounds(x0, y0, x1, y1, src.transform)
        step = max(1, int(max(win.width, win.height) // 1200))
        z = src.read(1, window=win, out_shape=(int(win.height // step), int(win.width // step)))
        res = src.res[0] * step
    gy, gx = np.gradient(z.astype(float), res)
    shade = np.clip(0.6 - 4.0 * (gx * 0.7 - gy * 0.7), 0, 1)
    ax.imshow(z, extent=(x0, x1, y0, y1), cmap="YlOrBr", alpha=0.35, zorder=0,
              vmin=float(np.percentile(z, 1)) - 20, vmax=float(np.percentile(z, 99)) + 30)
    ax.imshow(shade, extent=(x0, x1, y0, y1), cmap="gray", alpha=0.25, zorder=1)


def _draw_layers(ax: Any, L: dict[str, Any]) -> None:
    """Red lines, parks, water, control lines, buildings, roads, bridges and their names."""
    L["red_lines"].plot(ax=ax, color="#f4d3d0", edgecolor="none", zorder=2)
    L["parks"].plot(ax=ax, color="#8fd18b", edgecolor="#3c8d3a", linewidth=0.5, zorder=3)
    L["blue_lines"].plot(ax=ax, color="#7fb8e6", edgecolor="#2b6fb0", linewidth=0.6, zorder=3)
    L["yellow_lines"].plot(ax=ax, facecolor="none", edgecolor="#e0b000", linewidth=1.2, zorder=4)
    L["purple_lines"].plot(ax=ax, facecolor="none", edgecolor="#8a2be2", linewidth=1.2, zorder=4)
    b = L["buildings"]
    colors = np.where(b["use"] == "住宅", "#c98b5e", "#9a9a9a")
    b.plot(ax=ax, color=colors, linewidth=0, zorder=5)
    r = L["roads"]
    major = r["road_class"].isin(["主干路", "次干路"])
    r[~major].plot(ax=ax, color="#d8a0a0", linewidth=0.3, zorder=6)
    r[major].plot(ax=ax, color="#c0392b", linewidth=0.8, zorder=6)
    br = r[r["bridge"].astype(bool)]
    br.plot(ax=ax, color="black", linewidth=2.0, zorder=7)
    for _, row in br.iterrows():
        if row["name"] in ("南市大桥", "吊桥公园吊桥"):
            c = row.geometry.centroid
            ax.annotate(row["name"], (c.x, c.y), xytext=(8, 8), textcoords="offset points",
                        fontsize=8, zorder=9)
    for _, row in L["parks"].iterrows():
        if row["category"] in ("口袋公园", "综合公园", "湿地公园"):
            c = row.geometry.representative_point()
            ax.annotate(row["name"], (c.x, c.y), fontsize=6.5, ha="center", zorder=9,
                        color="#1f5e1d")


def _draw_truth(ax: Any, truth_path: Any) -> list[Any]:
    """The planted cases of ``truth.csv`` that should be flagged; their legend handles."""
    t = pd.read_csv(truth_path, dtype=str, keep_default_na=False)
    t = t[(t["x"] != "") & (t["y"] != "")]
    marks = {"controllines": ("X", "#d62728", "植入案例：五线管控"),
             "coverage": ("s", "#9467bd", "植入案例：公厕覆盖"),
             "waterlogging": ("v", "#1f77b4", "植入案例：积水洼地"),
             "trucks": ("^", "#ff7f0e", "植入案例：大车进城")}
    handles = []
    for check, (mk, col, label) in marks.items():
        s = t[(t["check"] == check) & (t["expect"] == "flag")]
        if len(s):
            ax.scatter(s["x"].astype(float), s["y"].astype(float), marker=mk, s=46,
                       color=col, edgecolor="white", linewidth=0.6, zorder=10)
            handles.append(Line2D([], [], marker=mk, color=col, linestyle="", label=label))
    return handles


def plot_demo_city(catalog: Catalog | str | os.PathLike[str], *, show_dem: bool = True,
                   show_truth: bool = True, figsize: tuple[float, float] = (9.0, 10.5),
                   extent: tuple[float, float, float, float] | None = None) -> Figure:
    """Map of the demo city: DEM hillshade, river, red lines, parks, buildings, planted cases.

    Parameters
    ----------
    catalog : Catalog or path
        The demo city's catalog (``DIR/catalog.yaml``).
    show_dem, show_truth : bool
        Draw the DEM as hillshade; mark the planted cases of ``truth.csv``.
    extent : (xmin, ymin, xmax, ymax), optional
        Window in EPSG:4550 (default: the street lattice).

    Returns
    -------
    matplotlib.figure.Figure
        Legend and title in Chinese.

    Examples
    --------
    Shown, not run (it needs a generated city)::

        from zlgis.demo import ensure_demo_city, plot_demo_city
        fig = plot_demo_city(ensure_demo_city())
        fig.savefig("demo_city.png", dpi=120)
    """
    from ..validate import load_layers

    cat = catalog if isinstance(catalog, Catalog) else Catalog.load(catalog)
    _cjk()
    ids = ["roads", "red_lines", "blue_lines", "parks", "buildings", "green_islands",
           "yellow_lines", "purple_lines"]
    L = load_layers(cat, ids)
    fig = Figure(figsize=figsize)  # no pyplot: nothing to close in cron jobs
    ax = fig.subplots()
    if extent is None:
        extent = tuple(L["roads"].total_bounds)
    x0, y0, x1, y1 = extent
    if show_dem and "dem" in cat.layers and cat["dem"].path is not None and cat["dem"].path.exists():
        _draw_hillshade(ax, cat["dem"].path, extent)
    _draw_layers(ax, L)
    handles: list[Any] = [
        Patch(color="#7fb8e6", label="雅鲁河（蓝线）"), Patch(color="#8fd18b", label="公园与广场（绿线）"),
        Patch(color="#f4d3d0", label="道路红线"), Patch(color="#c98b5e", label="住宅建筑"),
        Patch(color="#9a9a9a", label="其他建筑"),
        Patch(facecolor="none", edgecolor="#e0b000", label="黄线"),
        Patch(facecolor="none", edgecolor="#8a2be2", label="紫线"),
        Line2D([], [], color="black", linewidth=2, label="桥梁")]
    truth_path = cat.path.parent / "truth.csv"
    if show_truth and truth_path.exists():
        handles += _draw_truth(ax, truth_path)
    ax.set_xlim(x0, x1)
    ax.set_ylim(y0, y1)
    ax.set_aspect("equal")
    ax.set_title("扎兰屯演示城市（合成示例数据）", fontsize=13)
    ax.set_xlabel("X（米，CGCS2000 / 3度带 CM123E，EPSG:4550）", fontsize=8)
    ax.set_ylabel("Y（米）", fontsize=8)
    ax.tick_params(labelsize=7)
    ax.ticklabel_format(useOffset=False, style="plain")
    ax.legend(handles=handles, loc="lower right", fontsize=7, framealpha=0.85)
    fig.tight_layout()
    return fig
