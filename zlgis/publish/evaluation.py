"""Published evaluation (检查考评): choropleths (mapclassify) and the one-page report.

The report is one HTML page for the city's leaders: the headline figures, the subdistrict
ranking, the weakest communities, the departments, the choropleths and the sources of every
number. Every value from data is escaped.
"""

from __future__ import annotations

import base64
import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd

from ..analysis.evaluation import INDICATORS
from ..io.atomic import write_text_atomic
from .charts import chart_rc, cjk_font, new_figure
from .escape import escape_html

__all__ = ["choropleth_png", "evaluation_report_html", "write_evaluation_report"]

_RATES = ("rectification_rate", "on_time_rate", "repeat_rate", "closed_by_end")


def choropleth_png(areas: gpd.GeoDataFrame, column: str, path: str | os.PathLike[str], *,
                   title: str, k: int = 5, scheme: str = "NaturalBreaks",
                   cmap: str = "RdYlGn") -> Path:
    """A choropleth of ``column`` classified with mapclassify (``scheme``, ``k`` classes).

    Classes and legend come from ``mapclassify`` (Natural Breaks by default; Quantiles,
    EqualInterval ... by name). Areas without a value are drawn grey and labelled 无案件.
    """
    import mapclassify
    import matplotlib

    family = [f for f in (cjk_font(), "DejaVu Sans") if f]
    vals = pd.to_numeric(areas[column], errors="coerce")
    ok = vals.notna().to_numpy()
    k = int(max(1, min(k, len(np.unique(vals[ok])) if ok.any() else 1)))
    fig = new_figure(7.0, 6.0)
    ax = fig.add_subplot(111)
    with matplotlib.rc_context(chart_rc()):
        if (~ok).any():
            areas[~ok].plot(ax=ax, color="#d9d9d9", edgecolor="white", linewidth=0.4)
        if ok.any():
            cls = getattr(mapclassify, scheme)(vals[ok].to_numpy(float), k=k)
            colors = matplotlib.colormaps[cmap](np.linspace(0.1, 0.9, len(cls.bins)))
            areas[ok].plot(ax=ax, color=colors[cls.yb], edgecolor="white", linewidth=0.4)
            lo = [float(vals[ok].min())] + [float(b) for b in cls.bins[:-1]]
            from matplotlib.patches import Patch

            fmt = "{:.0%}" if column in _RATES else "{:.0f}"
            handles = [Patch(color=colors[i], label=f"{fmt.format(lo[i])} – "
                             f"{fmt.format(float(cls.bins[i]))}（{int(c)}）")
                       for i, c in enumerate(cls.counts)]
            if (~ok).any():
                handles.append(Patch(color="#d9d9d9", label="无案件"))
            leg = ax.legend(handles=handles, loc="upper left", bbox_to_anchor=(1.0, 1.0),
                            frameon=True,
                            prop={"family": family, "size": 7},
                            title=f"{INDICATORS.get(column, column)}（{scheme}）")
            leg.get_title().set_fontfamily(family)
            leg.get_title().set_fontsize(7)
        ax.set_title(title, fontsize=11, fontfamily=family)
        ax.set_axis_off()
        fig.tight_layout()
    from .charts import save_figure

    return save_figure(fig, path)


def _pct(v: Any) -> str:
    return "—" if v is None or (isinstance(v, float) and not np.isfinite(v)) else f"{v:.0%}"


def _table(df: pd.DataFrame, label: str, n: int | None = None) -> str:
    rows = df if n is None else df.head(n)
    head = "".join(f"<th>{escape_html(h)}</th>" for h in
                   [label, "案件", "结案率", "按期结案率", "重复投诉率", "台账问题", "期末台账整改",
                    "得分"])
    body = []
    for name, r in rows.iterrows():
        unit = " / ".join(map(str, name)) if isinstance(name, tuple) else str(name)
        body.append("<tr>" + "".join(f"<td>{escape_html(v)}</td>" for v in [
            unit, int(r["cases"]), _pct(r["rectification_rate"]), _pct(r["on_time_rate"]),
            _pct(r["repeat_rate"]), int(r.get("ledger_findings", 0)), _pct(r["closed_by_end"]),
            f"{r['score']:.1f}"]) + "</tr>")
    return f"<table><thead><tr>{head}</tr></thead><tbody>{''.join(body)}</tbody></table>"


def evaluation_report_html(*, scores: Mapping[str, pd.DataFrame], as_of: str,
                           totals: Mapping[str, Any], figures: Mapping[str, Path] | None = None,
                           sources: Mapping[str, str] | None = None) -> str:
    """The one-page report: headline figures, rankings, choropleths (embedded) and sources."""
    figs = ""
    for caption, p in (figures or {}).items():
        data = base64.b64encode(Path(p).read_bytes()).decode("ascii")
        figs += (f'<figure><img alt="{escape_html(caption)}" src="data:image/png;base64,{data}">'
                 f"<figcaption>{escape_html(caption)}</figcaption></figure>")
    head = "".join(f"<div class='kpi'><b>{escape_html(v)}</b><span>{escape_html(k)}</span></div>"
                   for k, v in totals.items())
    src = "".join(f"<li>{escape_html(k)}：{escape_html(v)}</li>" for k, v in
                  (sources or {}).items())
    sub = scores.get("subdistrict")
    comm = scores.get("community")
    dept = scores.get("department")
    weakest = comm.sort_values("score").head(5) if comm is not None else None
    return f"""<!DOCTYPE html>
<html lang="zh-CN"><head><meta charset="utf-8"><title>城市精细化管理检查考评</title>
<meta name="viewport" content="width=device-width, initial-scale=1">
<style>body{{font-family:"Noto Sans CJK SC",sans-serif;max-width:1100px;margin:auto;
font-size:13px}}h1{{font-size:20px}}h2{{font-size:15px;margin:10px 0 4px}}
.kpis{{display:flex;gap:12px}}.kpi{{border:1px solid #ccc;padding:6px 10px}}
.kpi b{{display:block;font-size:18px}}table{{border-collapse:collapse;margin:4px 0}}
td,th{{border:1px solid #ccc;padding:2px 6px;text-align:right}}td:first-child{{text-align:left}}
.cols{{display:flex;gap:16px;flex-wrap:wrap}}figure{{margin:0;width:48%}}img{{width:100%}}
@media print{{body{{font-size:10px}}}}</style></head><body>
<h1>城市精细化管理百日攻坚 检查考评（截至 {escape_html(as_of)}）</h1>
<div class="kpis">{head}</div>
<div class="cols"><div><h2>街道排名</h2>{_table(sub, "街道") if sub is not None else ""}</div>
<div><h2>部门</h2>{_table(dept, "部门") if dept is not None else ""}</div>
<div><h2>得分最低的社区</h2>{_table(weakest, "街道 / 社区") if weakest is not None else ""}
</div></div>
<div class="cols">{figs}</div>
<h2>口径与依据</h2><ul>{src}</ul>
</body></html>
"""


def write_evaluation_report(path: str | os.PathLike[str], **kwargs: Any) -> Path:
    """Write :func:`evaluation_report_html` atomically."""
    return write_text_atomic(Path(path), evaluation_report_html(**kwargs))


