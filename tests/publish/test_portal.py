"""The public portal: built from the weekly public tree only, escaped, archived, swapped in."""

from __future__ import annotations

import json
import re

import _publish_fixtures as _fx  # noqa: E402  (tests/ is on sys.path, see conftest)
import pytest

from zlgis.catalog import Catalog
from zlgis.errors import ConfigError, UnreadableInputError
from zlgis.publish.portal import PORTAL_DATA, build_portal, write_portal_data


def public_tree(root, weeks=("2022-W35",), payload=None):
    """OUT/public/<week>/portal_data.json for the small city, as the weekly run writes it."""
    cat = Catalog.load()
    layers = _fx.small_layers(cat, payload)
    f = _fx.small_findings(payload if isinstance(payload, str) else None)
    if payload is not None and not isinstance(payload, str):
        f["title"] = [payload[i % len(payload)] for i in range(len(f))]
        f["public"] = True
    f["grid_id"] = ["150783001001002"] * len(f)     # the findings lie east of x0
    f["status_label"] = "新发现"
    for w in weeks:
        (root / w).mkdir(parents=True)
        write_portal_data(root / w / PORTAL_DATA, f, layers, catalog=cat, week=w,
                          as_of="2022-09-04")
    return root


def pages(site):
    return sorted(site.rglob("*.html"))


def test_portal_data_is_public_only(tmp_path):
    tree = public_tree(tmp_path / "public")
    text = (tree / "2022-W35" / PORTAL_DATA).read_text(encoding="utf-8")
    data = json.loads(text)
    # only the public finding (the ponding one); the two red-line findings are internal
    assert [f["title"] for f in data["findings"]] == ["道路积水超过15厘米"]
    for secret in _fx.SECRETS.values():
        assert secret not in text
    assert {g["grid_id"] for g in data["grids"]} == {"150783001001001", "150783001001002"}
    # the north-south road 中央路 (x = x0) touches both grids; the east-west one both too
    road = next(p for p in data["places"] if p["name"] == "中央路")
    assert road["grids"] == ["150783001001001", "150783001001002"]
    assert next(p for p in data["places"] if p["name"] == "河西口袋公园")["grids"] == \
        ["150783001001001"]


def test_portal_pages_and_archive(tmp_path):
    tree = public_tree(tmp_path / "public", weeks=("2022-W35", "2022-W36"))
    site = build_portal(tree, tmp_path / "site")
    week = site / "weeks" / "2022-W36"
    assert (site / "index.html").is_file() and (site / "search.html").is_file()
    assert (week / "index.html").is_file()
    assert (week / "grids" / "150783001001002.html").is_file()
    assert len(list((week / "subdistricts").glob("*.html"))) == 1       # 兴华街道
    index = (site / "index.html").read_text(encoding="utf-8")
    assert index.index("2022-W36") < index.index("2022-W35")             # newest first
    grid = (week / "grids" / "150783001001002.html").read_text(encoding="utf-8")
    assert "道路积水超过15厘米" in grid and 'lang="zh-CN"' in grid and "viewport" in grid
    img = (week / "index.html").read_text(encoding="utf-8")
    assert 'alt="2022-W36 公开问题数按类型：' in img
    # a subdistrict page lists its grids, linked to their pages
    sub = next((week / "subdistricts").glob("*.html")).read_text(encoding="utf-8")
    assert 'href="../grids/150783001001001.html"' in sub and \
        'href="../grids/150783001001002.html"' in sub
    # every page is Chinese, UTF-8, phone-first (viewport), with a skip link and landmarks
    for page in pages(site):
        html = page.read_text(encoding="utf-8")
        for part in ('<html lang="zh-CN">', '<meta charset="utf-8">',
                     'content="width=device-width, initial-scale=1"',
                     '<a class="skip" href="#main">跳到正文</a>', '<main id="main">'):
            assert part in html, (page, part)
    # an archived week is kept byte for byte, even when its data changes afterwards
    before = {p: p.read_bytes() for p in (site / "weeks" / "2022-W35").rglob("*") if p.is_file()}
    (tree / "2022-W35" / PORTAL_DATA).write_text(json.dumps(
        {"week": "2022-W35", "city": "改", "findings": [], "grids": [], "places": []}),
        encoding="utf-8")
    build_portal(tree, site)
    after = {p: p.read_bytes() for p in (site / "weeks" / "2022-W35").rglob("*") if p.is_file()}
    assert before == after
    # swapped in: nothing left beside the site
    assert sorted(p.name for p in tmp_path.iterdir()) == ["public", "site"]


def test_portal_escapes_every_value(tmp_path):
    tree = public_tree(tmp_path / "public", payload=list(_fx.XSS_CORPUS))
    data = json.loads((tree / "2022-W35" / PORTAL_DATA).read_text(encoding="utf-8"))
    assert {p["name"] for p in data["places"]} & set(_fx.XSS_CORPUS)     # payloads are in
    site = build_portal(tree, tmp_path / "site")
    for page in pages(site):
        html = page.read_text(encoding="utf-8")
        for payload in _fx.XSS_CORPUS:
            if "<" in payload or "'" in payload or '"' in payload:
                assert payload not in html, (page, payload)       # markup only escaped
        assert not re.search(r"(href|src)=\"\s*javascript", html, re.IGNORECASE), page
        for secret in _fx.SECRETS.values():
            assert secret not in html, (page, secret)


def test_no_public_tree_is_a_clear_error(tmp_path):
    with pytest.raises(ConfigError, match="没有可公示的周次"):
        build_portal(tmp_path, tmp_path / "site")


def test_adding_a_week_keeps_earlier_weeks_byte_for_byte(tmp_path):
    tree = public_tree(tmp_path / "public", weeks=("2022-W35",))
    site = build_portal(tree, tmp_path / "site")
    before = {p.relative_to(site): p.read_bytes()
              for p in (site / "weeks" / "2022-W35").rglob("*") if p.is_file()}
    assert len(before) >= 5
    public_tree(tmp_path / "public", weeks=("2022-W36",))        # next week's run
    build_portal(tree, site)
    after = {p.relative_to(site): p.read_bytes()
             for p in (site / "weeks" / "2022-W35").rglob("*") if p.is_file()}
    assert after == before
    assert (site / "weeks" / "2022-W36" / "index.html").is_file()
    index = (site / "index.html").read_text(encoding="utf-8")
    assert 'href="weeks/2022-W36/index.html"' in index and 'href="weeks/2022-W35/index.html"' in index


def test_search_covers_every_week(tmp_path):
    """A street only in an earlier week is still found, linked to that week's grid pages; a
    street in both weeks lists both, newest first."""
    tree = public_tree(tmp_path / "public", weeks=("2022-W35", "2022-W36"))
    path = tree / "2022-W36" / PORTAL_DATA
    data = json.loads(path.read_text(encoding="utf-8"))
    data["places"] = [p for p in data["places"] if p["name"] != "河西口袋公园"]
    path.write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")
    site = build_portal(tree, tmp_path / "site")
    index = {e["name"]: e for e in json.loads((site / "search.json").read_text(encoding="utf-8"))}
    park = index["河西口袋公园"]
    assert [w["week"] for w in park["weeks"]] == ["2022-W35"]
    assert park["weeks"][0]["grids"] == [{"title": "一号网格",
                                          "link": "weeks/2022-W35/grids/150783001001001.html"}]
    road = index["中央路"]
    assert [w["week"] for w in road["weeks"]] == ["2022-W36", "2022-W35"]
    for e in index.values():                    # every link leads to a page of the site
        for w in e["weeks"]:
            assert all((site / g["link"]).is_file() for g in w["grids"]), e


def test_index_trend_chart_with_alt_text_and_table(tmp_path):
    tree = public_tree(tmp_path / "public", weeks=("2022-W35", "2022-W36"))
    path = tree / "2022-W36" / PORTAL_DATA
    data = json.loads(path.read_text(encoding="utf-8"))
    data["findings"] = data["findings"] * 3                      # 3 public findings in W36
    path.write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")
    site = build_portal(tree, tmp_path / "site")
    html = (site / "index.html").read_text(encoding="utf-8")
    assert '<img src="trend.png" alt="各周公开问题数：2022-W35 1 个；2022-W36 3 个">' in html
    assert (site / "trend.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    # the table fallback: the same figures, newest first, with the severities
    rows = re.findall(r"<tr><td>(2022-W3\d)</td><td>(\d+)</td><td>(\d+)</td>", html)
    assert rows == [("2022-W36", "3", "0"), ("2022-W35", "1", "0")]
    assert '<th scope="col">其中中</th>' in html


def test_failed_build_keeps_the_previous_site(tmp_path):
    tree = public_tree(tmp_path / "public", weeks=("2022-W35",))
    site = build_portal(tree, tmp_path / "site")
    before = {p: p.read_bytes() for p in site.rglob("*") if p.is_file()}
    (tree / "2022-W36").mkdir()
    (tree / "2022-W36" / PORTAL_DATA).write_text("{not json", encoding="utf-8")
    with pytest.raises(UnreadableInputError, match="公示数据无法读取"):
        build_portal(tree, site)
    assert {p: p.read_bytes() for p in site.rglob("*") if p.is_file()} == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["public", "site"]    # no half site


def test_portal_css_contrast(tmp_path):
    """Every text colour of the site's stylesheet on the page and table-header backgrounds:
    WCAG AA (4.5:1) at least (the browser test checks the rendered pages too)."""
    from zlgis.publish.colors import contrast_ratio

    site = build_portal(public_tree(tmp_path / "public"), tmp_path / "site")
    css = (site / "assets" / "portal.css").read_text(encoding="utf-8")

    def full(c):
        return "#" + "".join(ch * 2 for ch in c[1:]) if len(c) == 4 else c

    fgs = {full(c) for c in re.findall(r"(?<![-\w])color:(#[0-9a-fA-F]{3,6})\b", css)}
    bgs = {full(c) for c in re.findall(r"background:(#[0-9a-fA-F]{3,6})\b", css)}
    assert {"#1a1a1a", "#0b57a4", "#555555"} <= fgs and {"#ffffff", "#f3f3f3"} <= bgs
    for fg in fgs:
        for bg in bgs:
            assert contrast_ratio(fg, bg) >= 4.5, (fg, bg)
