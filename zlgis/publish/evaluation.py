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

__all__ = ["choropleth_classes", "choropleth_png", "evaluation_report_html", "write_evaluation_report"]

_RATES = ("rectification_rate", "on_time_rate", "repeat_rate", "closed_by_end")


def choropleth_classes(values: pd.Series, *, k: int = 5, scheme: str = "NaturalBreaks",
                       rate: bool = False) -> tuple[np.ndarray, list[str]]:
    """The mapclassify class of every value and the legend's label of every class.

    Parameters
    ----------
    values : Series
        One value per area; missing values get class -1 (drawn grey, legend 无案件).
    k : int
        Number of classes (at most the number of distinct values).
    scheme : str
        A mapclassify classifier by name (``NaturalBreaks``, ``Quantiles``, ``EqualInterval``...).
    rate : bool
        Labels as percentages (rates) rather than whole numbers.

    Returns
    -------
    classes : ndarray of int
        mapclassify's ``yb`` for the areas with a value, -1 for the others.
    labels : list of str
        ``lower – upper（count）`` per class, then 无案件 when some area has no value.

    Examples
    --------
    >>> classes, labels = choropleth_classes(pd.Series([1.0, 2.0, 9.0, None]), k=2,
    ...                                      scheme="Quantiles")
    >>> classes.tolist(), labels
    ([0, 0, 1, -1], ['1 – 2（2）', '2 – 9（1）', '无案件'])
    """
    from .._numba import compiled_on_first_call

    with compiled_on_first_call():  # mapclassify's import would compile a kernel: 3.3 s
        import mapclassify

    vals = pd.to_numeric(values, errors="coerce")
    ok = vals.notna().to_numpy()
    classes = np.full(len(vals), -1, dtype=np.int64)
    labels: list[str] = []
    if ok.any():
        k = int(max(1, min(k, len(np.unique(vals[ok])))))
        cls = getattr(mapclassify, scheme)(vals[ok].to_numpy(float), k=k)
        classes[ok] = cls.yb
        lo = [float(vals[ok].min())] + [float(b) for b in cls.bins[:-1]]
        fmt = "{:.0%}" if rate else "{:.0f}"
        labels = [f"{fmt.format(lo[i])} – {fmt.format(float(cls.bins[i]))}（{int(c)}）"
                  for i, c in enumerate(cls.counts)]
    if (~ok).any():
        labels.append("无案件")
    return classes, labels


def choropleth_png(areas: gpd.GeoDataFrame, column: str, path: str | os.PathLike[str], *,
                   title: str, k: int = 5, scheme: str = "NaturalBreaks",
                   cmap: str = "RdYlGn") -> Path:
    """A choropleth of ``column`` classified with mapclassify (``scheme``, ``k`` classes).

    Classes and legend come from :func:`choropleth_classes` (Natural Breaks by default;
    Quantiles, EqualInterval ... by name). Areas without a value are drawn grey and labelled
    无案件.
    """
    import matplotlib
    from matplotlib.patches import Patch

    from .charts import save_figure

    family = [f for f in (cjk_font(), "DejaVu Sans") if f]
    classes, labels = choropleth_classes(areas[column], k=k, scheme=scheme,
                                         rate=column in _RATES)
    ok = classes >= 0
    n = int(classes.max()) + 1 if ok.any() else 0
    colors = matplotlib.colormaps[cmap](np.linspace(0.1, 0.9, max(n, 1)))
    fig = new_figure(7.0, 6.0)
    ax = fig.add_subplot(111)
    with matplotlib.rc_context(chart_rc()):
        if (~ok).any():
            areas[~ok].plot(ax=ax, color="#d9d9d9", edgecolor="white", linewidth=0.4)
        if ok.any():
            areas[ok].plot(ax=ax, color=colors[classes[ok]], edgecolor="white", linewidth=0.4)
            handles = [Patch(color=colors[i] if i < n else "#d9d9d9", label=lab)
                       for i, lab in enumerate(labels)]
            leg = ax.legend(handles=handles, loc="upper left", bbox_to_anchor=(1.0, 1.0),
                            frameon=True, prop={"family": family, "size": 7},
                            title=f"{INDICATORS.get(column, column)}（{scheme}）")
            leg.get_title().set_fontfamily(family)
            leg.get_title().set_fontsize(7)
        ax.set_title(title, fontsize=11, fontfamily=family)
        ax.set_axis_off()
        fig.tight_layout()
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


