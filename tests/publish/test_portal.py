"""The public portal: built from the weekly public tree only, escaped, archived, swapped in."""

from __future__ import annotations

import json
import re

import _publish_fixtures as _fx  # noqa: E402  (tests/ is on sys.path, see conftest)
import pytest

from zlgis.catalog import Catalog
from zlgis.errors import ConfigError
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
