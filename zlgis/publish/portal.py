"""The public portal: a static site of the weekly public maps for citizens.

Two steps keep internal data out of the portal:

1. The weekly run writes, beside the public map in ``OUT/public/<week>/``, the week's public data
   :data:`PORTAL_DATA` (:func:`write_portal_data`): only findings whose ``public`` column is true
   with the public findings fields, the grids' public fields, and road and place names with the
   grids they cross. Personal fields (names, phones, plates) never enter it, whatever a catalog
   marks public, and coordinates are rounded as on the public map.
2. ``zlgis portal`` (:func:`build_portal`) builds the site from that public tree alone: an index
   of the weeks with a trend chart (public findings per week; alt text and a table with the same
   figures), a page per week (public map, summary, chart with alt text), per subdistrict and per
   grid, and a search page (streets and places of every week, each with the grid pages of each
   week it appears in). Weeks already in the previous site are kept byte for byte (an archive
   does not change: each week keeps its own index entry and place list, ``week.json`` and
   ``places.json``, for the index and the search); the site is built in a folder beside the
   target and swapped in (a failed build leaves the previous site as it was).

Every page is Chinese, phone-first (one column, 16 px text, viewport meta), accessible (skip
link, landmarks, focus outlines, alt text, WCAG AA contrast) and escapes every value
(:func:`zlgis.publish.escape.escape_html`); the search page builds results with
``textContent``.

Examples
--------
>>> import tempfile, pathlib
>>> pub = pathlib.Path(tempfile.mkdtemp())
>>> (pub / "2022-W35").mkdir()
>>> _ = (pub / "2022-W35" / PORTAL_DATA).write_text(
...     '{"week": "2022-W35", "city": "示例市", "findings": [], "grids": [], "places": []}',
...     encoding="utf-8")
>>> site = build_portal(pub, pathlib.Path(tempfile.mkdtemp()) / "site")
>>> sorted(p.name for p in site.iterdir())
['assets', 'index.html', 'search.html', 'search.json', 'trend.png', 'weeks']
"""

from __future__ import annotations

import json
import os
import re
import shutil
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd

from ..catalog import Catalog
from ..config import load_config
from ..errors import ConfigError, UnreadableInputError
from ..findings import SEVERITY_LABELS
from ..io.atomic import atomic_path
from ..rules import find_rule
from .escape import PERSONAL_FIELD, display_value, escape_html

__all__ = ["PORTAL_DATA", "write_portal_data", "build_portal"]

#: File of the week's public data in ``OUT/public/<week>/``.
PORTAL_DATA = "portal_data.json"

_WEEK = re.compile(r"^\d{4}-W\d{2}$")
_PERSONAL = PERSONAL_FIELD


# ------------------------------------------------------------------------------ weekly side


def _lonlat(geoms: gpd.GeoSeries, decimals: int) -> np.ndarray:
    pts = geoms.representative_point().to_crs("EPSG:4326")
    return np.round(np.column_stack([pts.x.to_numpy(), pts.y.to_numpy()]), decimals)


def _records(frame: pd.DataFrame, columns: Sequence[str]) -> list[dict[str, Any]]:
    """Rows of ``frame`` as dicts of ``columns`` (those present): ``iterrows`` without a Series
    per row (the values as ``tolist`` gives them: Python scalars, :func:`display_value` shows
    them the same)."""
    cols = {c: frame[c].tolist() for c in dict.fromkeys(columns) if c in frame.columns}
    return [dict(zip(cols, vals)) for vals in zip(*cols.values())] if cols else \
        [{} for _ in range(len(frame))]


def _grids_by_name(names: np.ndarray, grids: np.ndarray) -> dict[str, list[str]]:
    """Name -> sorted distinct grids of the (name, grid) pairs (``groupby(name)`` and
    ``sorted(set(...))`` of each group, without a pandas group per name)."""
    out: dict[str, list[str]] = {}
    for name, grid in set(zip(names.tolist(), grids.tolist())):
        out.setdefault(name, []).append(grid)
    for v in out.values():
        v.sort()
    return out


def write_portal_data(path: str | os.PathLike[str], findings: gpd.GeoDataFrame,
                      layers: Mapping[str, gpd.GeoDataFrame], *, catalog: Catalog, week: str,
                      as_of: str = "") -> Path:
    """Write the week's public data (:data:`PORTAL_DATA`) into the public tree.

    Parameters
    ----------
    path : path-like
        ``OUT/public/<week>/portal_data.json`` (:data:`PORTAL_DATA`).
    findings : GeoDataFrame
        The week's findings (ledger view); only rows whose ``public`` column is true are kept,
        with ``publish.yaml`` ``public.findings_fields`` plus rule label, status and grid.
    layers : mapping
        Public map context layers; ``grids`` (public fields only) and the named layers of
        ``publish.yaml`` ``search`` give the grid pages and the search index.
    catalog : Catalog
    week, as_of : str

    Returns
    -------
    Path
    """
    cfg = load_config("publish")
    dec = int(cfg["public"]["coordinate_decimals"])
    pub = findings[findings["public"].fillna(False).astype(bool)] if "public" in findings \
        else findings.iloc[:0]
    pub = pub[pub.geometry.notna() & ~pub.geometry.is_empty]
    keep = [c for c in cfg["public"]["findings_fields"] if c in pub.columns
            and not _PERSONAL.search(c)]
    xy = _lonlat(pub.geometry, dec) if len(pub) else np.empty((0, 2))
    rows = []
    for r, (lon, lat) in zip(_records(pub, [*keep, "rule", "severity", "status_label",
                                            "grid_id"]), xy.tolist()):
        rule = find_rule(str(r.get("rule", "")))
        row = {c: display_value(r[c]) for c in keep}
        row.update(rule=rule.label if rule is not None else str(r.get("rule", "")),
                   severity=SEVERITY_LABELS.get(str(r.get("severity")), "中"),
                   status=display_value(r.get("status_label")), grid_id=display_value(
                       r.get("grid_id")), lon=float(lon), lat=float(lat))
        rows.append(row)
    grids = layers.get("grids")
    grid_rows: list[dict[str, Any]] = []
    places: list[dict[str, Any]] = []
    if grids is not None and len(grids) and "grid_id" in grids.columns:
        gfields = [f for f in catalog["grids"].public if f in grids.columns
                   and not _PERSONAL.search(f)] if "grids" in catalog.layers else ["grid_id"]
        gxy = _lonlat(grids.geometry, dec)
        for r, (lon, lat) in zip(_records(grids, gfields), gxy.tolist()):
            grid_rows.append({**{f: display_value(r[f]) for f in gfields},
                              "lon": float(lon), "lat": float(lat)})
    allowed = set(cfg["public"]["layers"])
    for lid, field in (cfg.get("search") or {}).items():
        gdf = layers.get(lid)
        if gdf is None or lid not in allowed or field not in gdf.columns or not len(gdf):
            continue
        keep = (gdf[field].notna() & gdf.geometry.notna() & ~gdf.geometry.is_empty).to_numpy()
        gdf = gdf[[field, gdf.geometry.name]][keep]   # a row filter of these columns only
        if grids is not None and len(grids) and "grid_id" in grids.columns:
            li, gi = grids.sindex.query(gdf.geometry.to_crs(grids.crs).values,
                                        predicate="intersects")
            by_name = _grids_by_name(gdf[field].astype(str).iloc[li].to_numpy(),
                                     grids["grid_id"].astype(str).to_numpy()[gi])
        else:
            by_name = {}
        first = gdf.drop_duplicates(field)
        for value, (lon, lat) in zip(first[field].tolist(),
                                     _lonlat(first.geometry, dec).tolist()):
            name = str(value).strip()
            if name:
                places.append({"name": name, "kind": catalog[lid].title,
                               "grids": by_name.get(str(value), []),
                               "lon": float(lon), "lat": float(lat)})
    data = {"week": week, "as_of": as_of, "city": catalog.city, "findings": rows,
            "grids": grid_rows, "places": places}
    path = Path(path)
    with atomic_path(path) as tmp:
        tmp.write_text(json.dumps(data, ensure_ascii=False, sort_keys=True), encoding="utf-8")
    return path


# ------------------------------------------------------------------------------ the site

_CSS = """
*{box-sizing:border-box}
body{margin:0;font:16px/1.6 "Noto Sans CJK SC","Microsoft YaHei",sans-serif;color:#1a1a1a;
 background:#fff}
a{color:#0b57a4}
a:focus,button:focus,input:focus{outline:3px solid #f2a900;outline-offset:2px}
.skip{position:absolute;left:-999px}.skip:focus{left:8px;top:8px;background:#fff;padding:4px}
header,main,footer{max-width:960px;margin:0 auto;padding:12px 16px}
header{border-bottom:1px solid #ccc}
header .site{font-weight:bold;font-size:18px;text-decoration:none;color:#1a1a1a}
nav a{margin-right:12px}
h1{font-size:22px;line-height:1.3}
h2{font-size:18px;margin-top:24px}
table{border-collapse:collapse;width:100%;font-size:15px}
th,td{border-bottom:1px solid #ddd;padding:6px 4px;text-align:left;vertical-align:top}
th{background:#f3f3f3}
ul.cards{list-style:none;padding:0}
ul.cards li{padding:8px 0;border-bottom:1px solid #eee}
.map{width:100%;height:70vh;border:1px solid #ccc}
img{max-width:100%;height:auto}
.muted{color:#555;font-size:14px}
input[type=search]{width:100%;font-size:16px;padding:8px;border:1px solid #767676}
footer{border-top:1px solid #ccc;color:#555;font-size:14px}
@media (min-width:720px){.map{height:560px}}
"""

_SEARCH_JS = """
(function () {
  var box = document.getElementById('q'), out = document.getElementById('results');
  var status = document.getElementById('status'), data = [];
  function show() {
    var q = box.value.trim(); out.textContent = '';
    if (!q) { status.textContent = ''; return; }
    var hits = data.filter(function (r) { return r.name.indexOf(q) >= 0; }).slice(0, 50);
    status.textContent = hits.length ? ('找到 ' + hits.length + ' 条') : '未找到';
    hits.forEach(function (r) {
      var li = document.createElement('li'), name = document.createElement('strong');
      name.textContent = r.name; li.appendChild(name);
      li.appendChild(document.createTextNode('（' + r.kind + '）'));
      var weeks = document.createElement('ul');
      r.weeks.forEach(function (w) {
        var item = document.createElement('li');
        item.appendChild(document.createTextNode(w.week + '：'));
        w.grids.forEach(function (g) {
          var a = document.createElement('a'); a.href = g.link; a.textContent = g.title;
          item.appendChild(a); item.appendChild(document.createTextNode(' '));
        });
        weeks.appendChild(item);
      });
      li.appendChild(weeks);
      out.appendChild(li);
    });
  }
  fetch('search.json').then(function (r) { return r.json(); }).then(function (d) {
    data = d; box.addEventListener('input', show); show();
  });
})();
"""


def _slug(value: Any) -> str:
    """A file name for a grid or subdistrict: its id when safe, else a hash."""
    s = str(value)
    if re.fullmatch(r"[0-9A-Za-z_-]{1,64}", s):
        return s
    import hashlib

    return "x" + hashlib.sha1(s.encode()).hexdigest()[:12]


def _page(title: str, body: str, *, city: str, root: str, footer: str = "") -> str:
    t = escape_html(title)
    return (f'<!DOCTYPE html>\n<html lang="zh-CN"><head><meta charset="utf-8">'
            f'<meta name="viewport" content="width=device-width, initial-scale=1">'
            f'<title>{t}</title><link rel="icon" href="data:,">'
            f'<link rel="stylesheet" href="{root}assets/portal.css"></head><body>'
            f'<a class="skip" href="#main">跳到正文</a>'
            f'<header><a class="site" href="{root}index.html">{escape_html(city)}城市管理公示</a>'
            f'<nav aria-label="站点导航"><a href="{root}index.html">各周公示</a>'
            f'<a href="{root}search.html">查找街道</a></nav></header>'
            f'<main id="main"><h1>{t}</h1>{body}</main>'
            f'<footer>{escape_html(footer)}<p>本站只公开可公开的问题和统计，不含个人信息。</p>'
            f'</footer></body></html>\n')


def _table(headers: Sequence[str], rows: Sequence[Sequence[Any]], caption: str) -> str:
    if not rows:
        return '<p class="muted">本周没有公开的问题。</p>'
    head = "".join(f'<th scope="col">{escape_html(h)}</th>' for h in headers)
    body = "".join("<tr>" + "".join(
        f"<td>{c if isinstance(c, _Html) else escape_html(display_value(c) or '')}</td>"
        for c in r) + "</tr>" for r in rows)
    return (f"<table><caption class=\"muted\">{escape_html(caption)}</caption>"
            f"<thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>")


class _Html(str):
    """Markup built here from escaped parts (a link), placed in a table cell as is."""


def _link(href: str, text: Any) -> _Html:
    return _Html(f'<a href="{escape_html(href)}">{escape_html(text)}</a>')


def _finding_rows(findings: Sequence[Mapping[str, Any]]) -> list[list[Any]]:
    return [[f.get("title"), f.get("rule"), f.get("severity"), f.get("status"),
             " ".join(x for x in (display_value(f.get("measure")), f.get("measure_unit"))
                      if x)] for f in findings]


_FHEAD = ("问题", "类型", "严重程度", "状态", "量值")


def _rule_chart(findings: Sequence[Mapping[str, Any]], path: Path, week: str) -> str | None:
    """Bar chart of public findings by rule; returns its alt text (None when nothing to draw)."""
    if not findings:
        return None
    import matplotlib

    from .charts import chart_rc, new_figure, save_figure

    counts = pd.Series([f["rule"] for f in findings]).value_counts().sort_values()
    with matplotlib.rc_context(chart_rc()):
        fig = new_figure(7, 0.4 * len(counts) + 1.2)
        ax = fig.add_subplot()
        ax.barh(counts.index, counts.to_numpy(), color="#0b57a4")
        ax.set_xlabel("问题数")
        ax.set_title(f"{week} 公开问题（按类型）")
        fig.tight_layout()
    save_figure(fig, path)
    return f"{week} 公开问题数按类型：" + "；".join(
        f"{k} {v} 个" for k, v in counts.sort_values(ascending=False).items())


def _week_site(src: Path, dst: Path, data: Mapping[str, Any]) -> dict[str, Any]:
    """Pages of one week under ``dst`` (``weeks/<week>/``); returns its index entry."""
    week, city = str(data["week"]), str(data.get("city") or "")
    findings = list(data.get("findings") or [])
    grids = {str(g.get("grid_id")): g for g in data.get("grids") or []}
    dst.mkdir(parents=True)
    if (src / "map_public.html").is_file():
        shutil.copy2(src / "map_public.html", dst / "map.html")
        if (src / "zlgis_assets").is_dir():
            shutil.copytree(src / "zlgis_assets", dst / "zlgis_assets")
    root = "../../"
    by_grid: dict[str, list[Mapping[str, Any]]] = {}
    for f in findings:
        by_grid.setdefault(str(f.get("grid_id")), []).append(f)
    by_sub: dict[str, list[str]] = {}
    for gid, g in grids.items():
        by_sub.setdefault(str(g.get("subdistrict") or "未注明街道"), []).append(gid)
    (dst / "grids").mkdir()
    (dst / "subdistricts").mkdir()
    for gid, g in grids.items():
        title = f"{week} {g.get('grid_name') or gid}"
        meta = _table(("网格编码", "网格名称", "街道", "社区"),
                      [[gid, g.get("grid_name"), g.get("subdistrict"), g.get("community")]],
                      "网格")
        body = (f"{meta}<h2>本周公开问题</h2>"
                + _table(_FHEAD, _finding_rows(by_grid.get(gid, [])), f"{len(by_grid.get(gid, []))} 个")
                + f'<p><a href="../index.html">返回 {escape_html(week)}</a></p>')
        (dst / "grids" / f"{_slug(gid)}.html").write_text(
            _page(title, body, city=city, root="../" + root), encoding="utf-8")
    for sub, gids in by_sub.items():
        rows = [[_link(f"../grids/{_slug(g)}.html", grids[g].get("grid_name") or g),
                 grids[g].get("community"), len(by_grid.get(g, []))] for g in sorted(gids)]
        body = _table(("网格", "社区", "本周公开问题"), rows, f"{len(gids)} 个网格")
        (dst / "subdistricts" / f"{_slug(sub)}.html").write_text(
            _page(f"{week} {sub}", body, city=city, root="../" + root), encoding="utf-8")
    alt = _rule_chart(findings, dst / "chart_rules.png", week)
    subs = "".join(f'<li><a href="subdistricts/{_slug(s)}.html">{escape_html(s)}</a>'
                   f'（{len(g)} 个网格，{sum(len(by_grid.get(x, [])) for x in g)} 个问题）</li>'
                   for s, g in sorted(by_sub.items()))
    body = (f'<p class="muted">截至 {escape_html(data.get("as_of") or week)}，'
            f'本周公开问题 {len(findings)} 个。</p>')
    if (dst / "map.html").is_file():
        body += ('<h2>公众地图</h2><iframe class="map" src="map.html" title="本周公众地图"></iframe>'
                 '<p><a href="map.html">全屏打开地图</a></p>')
    if alt:
        body += (f'<h2>问题类型</h2><figure><img src="chart_rules.png" alt="{escape_html(alt)}">'
                 f'</figure>')
    body += f'<h2>各街道</h2><ul class="cards">{subs}</ul>' if subs else ""
    body += "<h2>公开问题清单</h2>" + _table(_FHEAD, _finding_rows(findings), "")
    (dst / "index.html").write_text(_page(f"{city} {week} 城市管理问题公示", body, city=city,
                                          root=root), encoding="utf-8")
    entry = _entry(data)
    # the week's own index entry and search index, archived with its pages
    (dst / _WEEK_JSON).write_text(json.dumps(entry, ensure_ascii=False, sort_keys=True),
                                  encoding="utf-8")
    (dst / _PLACES_JSON).write_text(json.dumps(_places(data), ensure_ascii=False),
                                    encoding="utf-8")
    return entry


#: Per-week files kept with the week's pages: its index entry and its street/place index.
_WEEK_JSON, _PLACES_JSON = "week.json", "places.json"


def _entry(data: Mapping[str, Any]) -> dict[str, Any]:
    """Index entry of a week: public findings in all and per severity label."""
    findings = list(data.get("findings") or [])
    sev = pd.Series([str(f.get("severity") or "") for f in findings], dtype=object)
    return {"week": str(data["week"]), "n": len(findings), "city": str(data.get("city") or ""),
            "severity": {lab: int((sev == lab).sum()) for lab in SEVERITY_LABELS.values()}}


def _places(data: Mapping[str, Any]) -> list[dict[str, Any]]:
    """Streets and places of one week, each with the grid pages it crosses (links from the site
    root)."""
    week = str(data["week"])
    grids = {str(g.get("grid_id")): g for g in data.get("grids") or []}
    out = []
    for p in data.get("places") or []:
        gs = [g for g in p.get("grids") or [] if g in grids]
        out.append({"name": str(p["name"]), "kind": str(p.get("kind") or ""),
                    "grids": [{"title": str(grids[g].get("grid_name") or g),
                               "link": f"weeks/{week}/grids/{_slug(g)}.html"} for g in gs]})
    return out


def _archived(folder: Path, data: Mapping[str, Any]) -> tuple[dict[str, Any], list[dict]]:
    """Index entry and places of a week kept from the previous site (its own files when it has
    them: what its pages show, even if the public tree changed since)."""
    try:
        entry = json.loads((folder / _WEEK_JSON).read_text(encoding="utf-8"))
        places = json.loads((folder / _PLACES_JSON).read_text(encoding="utf-8"))
        return entry, places
    except (OSError, ValueError):
        return _entry(data), _places(data)


def _search_index(weeks: Sequence[tuple[str, list[dict[str, Any]]]]) -> list[dict[str, Any]]:
    """One entry per street or place over every week (newest week first), each week with the
    grid pages the name crosses in that week."""
    merged: dict[tuple[str, str], dict[str, Any]] = {}
    for week, places in sorted(weeks, key=lambda w: w[0], reverse=True):
        for p in places:
            key = (p["name"], p["kind"])
            e = merged.setdefault(key, {"name": p["name"], "kind": p["kind"], "weeks": []})
            e["weeks"].append({"week": week, "grids": p["grids"]})
    return sorted(merged.values(), key=lambda e: (e["name"], e["kind"]))


def _trend(entries: Sequence[Mapping[str, Any]], path: Path) -> str:
    """The index's trend: chart of public findings per week (alt text naming every figure) and
    the same figures as a table (the chart's text alternative)."""
    import matplotlib

    from .charts import chart_rc, new_figure, save_figure

    weeks = [str(e["week"]) for e in entries]
    counts = [int(e["n"]) for e in entries]
    with matplotlib.rc_context(chart_rc()):
        fig = new_figure(max(4.0, 0.5 * len(weeks) + 2), 3.2)
        ax = fig.add_subplot()
        ax.plot(range(len(weeks)), counts, marker="o", color="#0b57a4")
        ax.set_xticks(range(len(weeks)), weeks, rotation=45, ha="right", fontsize=8)
        ax.set_ylabel("公开问题数")
        ax.set_ylim(bottom=0)
        ax.yaxis.get_major_locator().set_params(integer=True)
        ax.spines[["top", "right"]].set_visible(False)
        ax.set_title("各周公开问题数")
        fig.tight_layout()
    save_figure(fig, path)
    alt = "各周公开问题数：" + "；".join(f"{w} {n} 个" for w, n in zip(weeks, counts))
    sevs = list(SEVERITY_LABELS.values())
    rows = [[e["week"], int(e["n"]), *[int((e.get("severity") or {}).get(s, 0)) for s in sevs]]
            for e in reversed(entries)]
    table = _table(("周次", "公开问题", *[f"其中{s}" for s in sevs]), rows, "各周公开问题数（数据表）")
    return (f'<h2>变化趋势</h2><figure><img src="{path.name}" alt="{escape_html(alt)}">'
            f'<figcaption class="muted">下表列出图中各周的数字。</figcaption></figure>{table}')


def _read_week(folder: Path) -> dict[str, Any]:
    path = folder / PORTAL_DATA
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise UnreadableInputError(f"公示数据无法读取：{exc}", path=str(path)) from None
    if str(data.get("week")) != folder.name:
        raise UnreadableInputError(f"公示数据的周次 {data.get('week')!r} 与文件夹 {folder.name} 不一致",
                        path=str(path), field="week")
    return data


def build_portal(public: str | os.PathLike[str], out: str | os.PathLike[str]) -> Path:
    """Build the portal in ``out`` from the weekly public tree ``public`` (``OUT/public``).

    Parameters
    ----------
    public : path-like
        Folder of week folders (``2022-W35/``), each with :data:`PORTAL_DATA` and its map.
    out : path-like
        The site. Weeks already in it are kept unchanged; the new site is built beside it and
        swapped in (a reader never sees half a site).

    Returns
    -------
    Path
        ``out``.

    Raises
    ------
    ConfigError
        No week with public data in ``public``.
    """
    public, out = Path(public), Path(out)
    weeks = sorted(p for p in public.iterdir() if p.is_dir() and _WEEK.match(p.name)
                   and (p / PORTAL_DATA).is_file()) if public.is_dir() else []
    if not weeks:
        raise ConfigError(f"{public} 中没有可公示的周次（缺少 {PORTAL_DATA}，请先运行 zlgis weekly）")
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.parent / f".{out.name}.tmp"
    shutil.rmtree(tmp, ignore_errors=True)
    try:
        _build(weeks, out, tmp)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)      # the previous site stays as it was
        raise
    old = out.parent / f".{out.name}.old"
    shutil.rmtree(old, ignore_errors=True)
    if out.exists():
        os.replace(out, old)
    os.replace(tmp, out)
    shutil.rmtree(old, ignore_errors=True)
    return out


def _build(weeks: Sequence[Path], out: Path, tmp: Path) -> None:
    """Every page of the site into ``tmp`` (weeks already in ``out`` copied unchanged)."""
    (tmp / "weeks").mkdir(parents=True)
    (tmp / "assets").mkdir()
    (tmp / "assets" / "portal.css").write_text(_CSS, encoding="utf-8")
    (tmp / "assets" / "search.js").write_text(_SEARCH_JS, encoding="utf-8")
    entries, places, city = [], [], ""
    for folder in weeks:
        data = _read_week(folder)
        old = out / "weeks" / folder.name
        if old.is_dir() and (old / "index.html").is_file():
            shutil.copytree(old, tmp / "weeks" / folder.name)     # the archive stays as it was
            entry, week_places = _archived(old, data)
        else:
            entry = _week_site(folder, tmp / "weeks" / folder.name, data)
            week_places = _places(data)
        entries.append(entry)
        places.append((folder.name, week_places))
        city = str(entry.get("city") or city)
    items = "".join(f'<li><a href="weeks/{e["week"]}/index.html">{escape_html(e["week"])}</a>'
                    f'：公开问题 {int(e["n"])} 个</li>' for e in reversed(entries))
    body = (f'<p>每周公布城市管理检查发现的问题及整改情况。最新：'
            f'<a href="weeks/{entries[-1]["week"]}/index.html">{escape_html(entries[-1]["week"])}'
            f'</a></p><p><a href="search.html">按街道或地名查找所在网格（各周）</a></p>'
            f'{_trend(entries, tmp / "trend.png")}'
            f'<h2>各周公示</h2><ul class="cards">{items}</ul>')
    (tmp / "index.html").write_text(_page(f"{city}城市管理问题公示", body, city=city, root=""),
                                    encoding="utf-8")
    (tmp / "search.json").write_text(json.dumps(_search_index(places), ensure_ascii=False),
                                     encoding="utf-8")
    search = ('<label for="q">街道或地名</label>'
              '<input id="q" type="search" autocomplete="off" placeholder="例如：布特哈大街">'
              '<p id="status" role="status" aria-live="polite"></p>'
              '<ul id="results" class="cards"></ul>'
              '<script src="assets/search.js"></script>')
    (tmp / "search.html").write_text(_page("查找街道和地名", search, city=city, root=""),
                                     encoding="utf-8")
