"""The one-page weekly summary (HTML): new, rectified, overdue and reopened against last week.

Everything taken from data is HTML-escaped; the page has no script and no external resource, so
it opens offline and on a phone. It holds no personal data (no names or phone numbers).

Examples
--------
>>> html = summary_html(week="2022-W36", as_of="2022-09-11",
...     metrics={"new": 2, "rectified": 1, "reopened": 0, "overdue": 1, "active": 5},
...     previous={"new": 4, "rectified": 0, "reopened": 0, "overdue": 0, "active": 4},
...     departments=[("自然资源局", {"overdue": 1, "open": 3}, 4)],
...     overdue=[{"finding_id": "x<script>", "title": "建筑压占道路红线"}])
>>> "<script>" in html, "x&lt;script&gt;" in html
(False, True)
"""

from __future__ import annotations

import html as _html
import os
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from ..io.atomic import write_text_atomic

__all__ = ["METRICS", "summary_html", "write_summary"]

#: The headline numbers, in order, with their Chinese labels.
METRICS: tuple[tuple[str, str], ...] = (
    ("new", "本周新发现"),
    ("rectified", "本周整改"),
    ("reopened", "本周复发"),
    ("overdue", "逾期未整改"),
    ("active", "未销号问题合计"),
)

_CSS = """
body{font-family:"Noto Sans CJK SC","Microsoft YaHei",sans-serif;margin:1.2em auto;max-width:60em;
color:#222;padding:0 1em}h1{font-size:1.4em;margin-bottom:.2em}.sub{color:#666;margin-top:0}
.cards{display:flex;flex-wrap:wrap;gap:.6em}.card{flex:1 1 9em;border:1px solid #ddd;
border-radius:6px;padding:.6em}.card .n{font-size:1.8em;font-weight:bold}.up{color:#c00}
.down{color:#080}.card .l{color:#555}table{border-collapse:collapse;width:100%;margin:.6em 0;
font-size:.9em}th,td{border:1px solid #ddd;padding:.25em .4em;text-align:left}
th{background:#f3f3f3}td.n{text-align:right}img{max-width:100%}ul.links li{margin:.2em 0}
"""


def _e(value: Any) -> str:
    return _html.escape("" if value is None else str(value), quote=True)


def _delta(now: int, before: int | None, *, good_when_down: bool) -> str:
    if before is None:
        return '<span class="l">（无上周数据）</span>'
    d = now - before
    if d == 0:
        return '<span class="l">与上周持平</span>'
    cls = ("down" if d < 0 else "up") if good_when_down else ("up" if d < 0 else "down")
    return f'<span class="{cls}">比上周{"增加" if d > 0 else "减少"} {abs(d)}</span>'


def summary_html(*, week: str, as_of: str, metrics: Mapping[str, int],
                 previous: Mapping[str, int] | None,
                 departments: Sequence[tuple[str, Mapping[str, int], int]],
                 overdue: Sequence[Mapping[str, Any]],
                 status_labels: Mapping[str, str] | None = None,
                 charts: Sequence[tuple[str, str]] = (), links: Sequence[tuple[str, str]] = (),
                 by_type: Sequence[tuple[str, Mapping[str, int], int]] = (),
                 max_rows: int = 30, city: str = "扎兰屯市", skipped: Sequence[str] = (),
                 tiled: Sequence[str] = ()) -> str:
    """Build the summary page.

    Parameters
    ----------
    metrics, previous : mapping
        This week's and last week's numbers (keys of :data:`METRICS`); ``previous`` None for the
        first week.
    departments : sequence of (name, counts by status, total)
    by_type : sequence of (problem type, counts by status, total), optional
    overdue : sequence of mapping
        Overdue findings to list (``finding_id``, ``title``, ``lead``, ``grid_id``,
        ``deadline``); the first ``max_rows`` are shown.
    charts, links : sequence of (relative path, caption)
    city : str
        The city's name for the heading (the catalog's ``city``).
    skipped : sequence of str
        Rules not checked this week and why (:func:`zlgis.rules.skip_message`).
    tiled : sequence of str
        The big layers drawn on the maps from vector tiles, one line each (the weekly run's
        ``WeeklyResult.tiled``).
    """
    labels = dict(status_labels or {"overdue": "已逾期", "reopened": "复发", "new": "新发现",
                                     "open": "未整改", "rectified": "已整改"})
    order = ["overdue", "reopened", "new", "open", "rectified"]
    parts = [
        "<!DOCTYPE html>", '<html lang="zh-CN"><head><meta charset="utf-8">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        f"<title>城市管理问题周报 {_e(week)}</title><style>{_CSS}</style></head><body>",
        f"<h1>{_e(city)}城市管理问题周报 · {_e(week)}</h1>",
        f'<p class="sub">统计截止 {_e(as_of)}；数据来自每周自动检查与问题台账。</p>',
        '<div class="cards">',
    ]
    for key, label in METRICS:
        now = int(metrics.get(key, 0))
        before = None if previous is None else int(previous.get(key, 0))
        good_down = key != "rectified"
        parts.append(f'<div class="card"><div class="l">{_e(label)}</div>'
                     f'<div class="n">{now}</div>{_delta(now, before, good_when_down=good_down)}'
                     "</div>")
    parts.append("</div>")
    if skipped:
        parts.append(f"<h2>本周未检查的项目（{len(skipped)} 项）</h2><ul>"
                     + "".join(f"<li>{_e(s)}</li>" for s in skipped) + "</ul>")
    if tiled:
        parts.append(f"<h2>以矢量瓦片显示的大图层（{len(tiled)} 个）</h2><ul>"
                     + "".join(f"<li>{_e(s)}</li>" for s in tiled) + "</ul><p>矢量瓦片需通过"
                     "网页服务查看地图（如 zlgis serve 输出文件夹，或任一支持分段请求的静态网站"
                     "服务器）；直接双击打开地图文件时不显示这些图层。</p>")
    for heading, first, table in (("各部门问题", "牵头部门", departments),
                                  ("各类问题", "问题类型", by_type)):
        if not table:
            continue
        parts.append(f"<h2>{heading}</h2><table><tr><th>{first}</th>"
                     + "".join(f"<th>{_e(labels.get(s, s))}</th>" for s in order)
                     + "<th>合计</th></tr>")
        for name, counts, total in table:
            parts.append(f"<tr><td>{_e(name)}</td>"
                         + "".join(f'<td class="n">{int(counts.get(s, 0))}</td>' for s in order)
                         + f'<td class="n">{int(total)}</td></tr>')
        parts.append("</table>")
    parts.append(f"<h2>逾期未整改问题（{len(overdue)} 个）</h2>")
    if overdue:
        parts.append("<table><tr><th>问题编号</th><th>问题</th><th>牵头部门</th><th>网格</th>"
                     "<th>整改期限</th></tr>")
        for row in list(overdue)[:max_rows]:
            parts.append("<tr>" + "".join(f"<td>{_e(row.get(k, ''))}</td>" for k in
                                          ("finding_id", "title", "lead", "grid_id", "deadline"))
                         + "</tr>")
        parts.append("</table>")
        if len(overdue) > max_rows:
            parts.append(f"<p>其余 {len(overdue) - max_rows} 个见 Excel 台账。</p>")
    else:
        parts.append("<p>本周没有逾期问题。</p>")
    for src, caption in charts:
        parts.append(f'<figure><img src="{_e(src)}" alt="{_e(caption)}">'
                     f"<figcaption>{_e(caption)}</figcaption></figure>")
    if links:
        parts.append('<h2>本周成果</h2><ul class="links">')
        for href, caption in links:
            parts.append(f'<li><a href="{_e(href)}">{_e(caption)}</a></li>')
        parts.append("</ul>")
    parts.append("</body></html>")
    return "\n".join(parts) + "\n"


def write_summary(path: str | os.PathLike[str], **kwargs: Any) -> Path:
    """Write :func:`summary_html` to ``path`` atomically."""
    return write_text_atomic(path, summary_html(**kwargs))
