"""PNG charts of the ledger: counts by status and department, and the trend over the weeks.

Charts use a CJK font from fonts-noto-cjk (Noto Sans CJK SC) so Chinese labels render, and are
saved without a timestamp or software tag, so the same ledger gives the same PNG bytes.

Examples
--------
>>> import tempfile, pathlib
>>> import pandas as pd
>>> counts = pd.DataFrame({"new": [3, 1], "open": [0, 2], "reopened": [0, 0], "overdue": [0, 1],
...                        "rectified": [0, 1]}, index=["2022-W35", "2022-W36"])
>>> p = trend_chart(counts, pathlib.Path(tempfile.mkdtemp()) / "trend.png")
>>> p.read_bytes()[:4] == b"\\x89PNG"
True
"""

from __future__ import annotations

import os
from functools import lru_cache
from pathlib import Path

import geopandas as gpd
import pandas as pd

from ..config import department_name
from ..io.atomic import atomic_path

__all__ = ["STATUS_COLORS", "cjk_font", "status_department_chart", "trend_chart",
           "choropleth_chart"]

#: Colour of every status in charts (and maps).
STATUS_COLORS: dict[str, str] = {
    "new": "#e6550d", "open": "#fdae6b", "reopened": "#9e0142", "overdue": "#d7191c",
    "rectified": "#1a9641",
}
_STATUSES = ("overdue", "reopened", "new", "open", "rectified")
_CJK_FAMILIES = ("Noto Sans CJK SC", "Noto Sans CJK TC", "Noto Sans CJK JP", "Noto Serif CJK SC",
                 "WenQuanYi Zen Hei", "SimHei", "Microsoft YaHei")


@lru_cache(maxsize=1)
def cjk_font() -> str | None:
    """Name of an installed font family that covers Chinese, or None."""
    from matplotlib import font_manager

    names = {f.name for f in font_manager.fontManager.ttflist}
    return next((n for n in _CJK_FAMILIES if n in names), None)


def new_figure(width: float, height: float):  # type: ignore[no-untyped-def]
    from matplotlib.figure import Figure

    fig = Figure(figsize=(width, height), dpi=110)
    return fig


def save_figure(fig, path: str | os.PathLike[str]) -> Path:  # type: ignore[no-untyped-def]
    import matplotlib

    with matplotlib.rc_context(chart_rc()):
        with atomic_path(path) as tmp:
            fig.savefig(tmp, format="png", metadata={"Software": None})
    return Path(path)


def chart_rc() -> dict[str, object]:
    font = cjk_font()
    rc: dict[str, object] = {"svg.hashsalt": "zlgis", "axes.unicode_minus": False}
    if font:
        rc["font.family"] = [font, "DejaVu Sans"]
    return rc


def status_department_chart(view: pd.DataFrame, path: str | os.PathLike[str], *,
                            labels: dict[str, str], title: str = "") -> Path:
    """Horizontal stacked bars: findings per lead department, coloured by status.

    Parameters
    ----------
    view : DataFrame
        A ledger view (columns ``lead_department`` and ``status``).
    labels : dict
        Chinese label of each status code.
    """
    import matplotlib

    df = pd.DataFrame({"dept": view["lead_department"].fillna("").astype(str).str.split(";"),
                       "status": view["status"].astype(str)}).explode("dept")
    df["dept"] = df["dept"].fillna("").map(lambda c: department_name(c) if c else "未分派")
    table = (df.groupby(["dept", "status"]).size().unstack(fill_value=0)
             .reindex(columns=list(_STATUSES), fill_value=0))
    table = table.loc[table.sum(axis=1).sort_values(kind="stable").index] if len(table) else table
    with matplotlib.rc_context(chart_rc()):
        fig = new_figure(8, max(3.0, 0.45 * len(table) + 2.0))
        ax = fig.add_subplot()
        left = pd.Series(0, index=table.index, dtype=float)
        for s in _STATUSES:
            if len(table):
                ax.barh(table.index, table[s], left=left, color=STATUS_COLORS[s], height=0.6,
                        label=labels.get(s, s))
                left += table[s]
        if not len(table):
            ax.text(0.5, 0.5, "本周无问题", ha="center", va="center", transform=ax.transAxes)
        ax.set_xlabel("问题数")
        ax.set_title(title or "各部门问题数（按状态）")
        if len(table):
            ax.legend(loc="upper center", bbox_to_anchor=(0.5, -0.18), ncol=5, fontsize=8,
                      frameon=False)
        ax.xaxis.get_major_locator().set_params(integer=True)
        ax.spines[["top", "right"]].set_visible(False)
        fig.tight_layout()
        return save_figure(fig, path)


def trend_chart(counts: pd.DataFrame, path: str | os.PathLike[str], *,
                labels: dict[str, str] | None = None, title: str = "") -> Path:
    """Lines: findings per status and week (rows: weeks; columns: status codes)."""
    import matplotlib

    labels = labels or {}
    with matplotlib.rc_context(chart_rc()):
        fig = new_figure(8, 4.5)
        ax = fig.add_subplot()
        x = list(range(len(counts)))
        for s in _STATUSES:
            if s in counts:
                ax.plot(x, counts[s].to_numpy(), marker="o", color=STATUS_COLORS[s],
                        label=labels.get(s, s))
        ax.set_xticks(x, [str(w) for w in counts.index], rotation=45, ha="right", fontsize=8)
        ax.set_ylabel("问题数")
        ax.set_title(title or "各周问题数变化")
        ax.legend(fontsize=8, frameon=False, ncol=5, loc="upper center",
                  bbox_to_anchor=(0.5, -0.28))
        ax.yaxis.get_major_locator().set_params(integer=True)
        ax.spines[["top", "right"]].set_visible(False)
        ax.set_ylim(bottom=0)
        fig.tight_layout()
        return save_figure(fig, path)


def choropleth_chart(areas: gpd.GeoDataFrame, column: str, path: str | os.PathLike[str], *,
                     title: str, label: str = "name", goal: float | None = None) -> Path:
    """A choropleth of a share (0..1) per area, each area labelled with its name and percentage.

    Parameters
    ----------
    areas : GeoDataFrame
        Polygons (e.g. subdistricts) with ``column`` and ``label``.
    goal : float, optional
        The target share; areas below it are outlined in red.
    """
    import matplotlib
    from matplotlib import colormaps
    from matplotlib.colors import Normalize

    with matplotlib.rc_context(chart_rc()):
        fig = new_figure(7, 7)
        ax = fig.add_subplot()
        norm = Normalize(0.0, 1.0)
        cmap = colormaps["YlGn"]
        for geom, v, name in zip(areas.geometry, areas[column], areas[label]):
            if geom is None or geom.is_empty:
                continue
            below = goal is not None and pd.notna(v) and v < goal
            gpd.GeoSeries([geom]).plot(ax=ax, color=cmap(norm(v)) if pd.notna(v) else "#dddddd",
                                       edgecolor="#b2182b" if below else "#555555",
                                       linewidth=1.5 if below else 0.6)
            p = geom.representative_point()
            text = f"{name}\n{v:.0%}" if pd.notna(v) else f"{name}\n无数据"
            ax.annotate(text, (p.x, p.y), ha="center", va="center", fontsize=8)
        sm = matplotlib.cm.ScalarMappable(norm=norm, cmap=cmap)
        fig.colorbar(sm, ax=ax, shrink=0.6, format=matplotlib.ticker.PercentFormatter(1.0))
        ax.set_title(title)
        ax.set_axis_off()
        ax.set_aspect("equal")
        fig.tight_layout()
        return save_figure(fig, path)

