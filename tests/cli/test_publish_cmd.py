"""Tests for ``zlgis map`` and ``zlgis publish`` on a small city written in tmp_path."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import yaml

from zlgis.catalog import Catalog
from zlgis.cli import main
from zlgis.publish.assets import external_links


def _fx():
    import _publish_fixtures

    return _publish_fixtures


KEEP = ("red_lines", "parks", "toilets", "waterlogging_points", "truck_no_parking_zones",
        "grids", "hotline_cases", "roads")


@pytest.fixture(scope="module")
def city(tmp_path_factory) -> Path:
    tmp = tmp_path_factory.mktemp("city")
    raw = Catalog.load().raw
    raw = {**raw, "data_dir": ".", "layers": {k: raw["layers"][k] for k in KEEP}}
    cat_path = tmp / "catalog.yaml"
    cat_path.write_text(yaml.safe_dump(raw, allow_unicode=True), encoding="utf-8")
    layers = _fx().small_layers(Catalog.load())
    for lid in KEEP:
        spec = raw["layers"][lid]["source"]
        layers[lid].to_file(tmp / spec["path"], layer=spec["layer"])
    _fx().small_findings().to_file(tmp / "findings.gpkg", layer="findings")
    return cat_path


def test_map_public_local(city, tmp_path, capsys):
    out = tmp_path / "web" / "public.html"
    code = main(["--quiet", "map", "--catalog", str(city), "--findings",
                 str(city.parent / "findings.gpkg"), "--profile", "public", "--basemap", "none",
                 "--assets", "local", "--out", str(out)])
    assert code == 0
    html = out.read_text(encoding="utf-8")
    assert external_links(html) == []
    assert (out.parent / "zlgis_assets" / "leaflet@1.9.4" / "dist" / "leaflet.js").is_file()
    assert "吊桥公园公厕" in html and "道路积水超过15厘米" in html
    assert "建筑压占道路红线" not in html          # finding not marked public
    assert [v for v in _fx().SECRETS.values() if v in html] == []


def test_map_internal_with_findings(city, tmp_path):
    out = tmp_path / "internal.html"
    code = main(["map", "--catalog", str(city), "--findings", str(city.parent / "findings.gpkg"),
                 "--profile", "internal", "--basemap", "osm", "--out", str(out),
                 "--title", "五线管控周报"])
    assert code == 0
    html = out.read_text(encoding="utf-8")
    assert "建筑压占道路红线" in html and "五线管控周报" in html
    assert _fx().SECRETS["keeper_phone"] in html


def test_publish_writes_maps_figure_and_index(city, tmp_path):
    out = tmp_path / "portal"
    code = main(["publish", "--catalog", str(city), "--findings",
                 str(city.parent / "findings.gpkg"), "--profile", "public", "--basemap", "none",
                 "--assets", "local", "--out", str(out)])
    assert code == 0
    names = {p.name for p in out.iterdir()}
    assert {"map_public.html", "figure_public.png", "index.html", "zlgis_assets"} <= names
    assert not [n for n in names if n.startswith(".")]
    index = (out / "index.html").read_text(encoding="utf-8")
    assert 'href="map_public.html"' in index and 'href="figure_public.png"' in index
    assert re.search(r"生成于 \d{4}-\d{2}-\d{2} \d{2}:\d{2}", index)


def test_weekly_findings_file_is_read_from_its_findings_layer(city, tmp_path):
    """The weekly findings_<week>.gpkg holds the ledger first and the week's findings in layer
    ``findings``: map and print-maps read ``findings``, not the file's first layer."""
    from zlgis.cli.publish_cmd import read_findings

    f = _fx().small_findings()
    path = tmp_path / "findings_2022-W35.gpkg"
    ledger = f.iloc[:1].copy()
    ledger["title"] = "台账里的旧问题"
    ledger.to_file(path, layer="ledger")
    f.to_file(path, layer="findings")
    got = read_findings(path)
    assert sorted(got["title"]) == sorted(f["title"]) and "台账里的旧问题" not in set(got["title"])
    out = tmp_path / "internal.html"
    assert main(["--quiet", "map", "--catalog", str(city), "--findings", str(path), "--profile",
                 "internal", "--basemap", "none", "--out", str(out)]) == 0
    html = out.read_text(encoding="utf-8")
    assert "建筑压占道路红线" in html and "台账里的旧问题" not in html


def test_map_layers_over_the_limit_are_aggregated_with_notes(city, tmp_path, monkeypatch):
    """`zlgis map` and `zlgis publish` apply ledger.yaml's maps.max_context_features too: the
    toilets (3 points, limit 2) as hexagon counts, the parks' polygons left off, each noted."""
    (tmp_path / "cfg").mkdir()
    (tmp_path / "cfg" / "ledger.yaml").write_text("maps: {max_context_features: 2}\n",
                                                  encoding="utf-8")
    monkeypatch.setenv("ZLGIS_CONFIG_DIR", str(tmp_path / "cfg"))
    out = tmp_path / "internal.html"
    assert main(["--quiet", "map", "--catalog", str(city), "--profile", "internal",
                 "--basemap", "none", "--out", str(out)]) == 0
    html = out.read_text(encoding="utf-8")
    assert "公共厕所共 3 个，超过逐个显示的上限 2 个，图上按边长 250 米的六边形汇总个数" in html
    assert "公共厕所（按六边形汇总）：每格 1–4 个" in html
    assert "吊桥公园公厕" not in html                       # the points are not drawn one by one
    assert main(["--quiet", "publish", "--catalog", str(city), "--profile", "public",
                 "--basemap", "none", "--no-figure", "--out", str(tmp_path / "pub")]) == 0
    assert "公共厕所（按六边形汇总）" in (tmp_path / "pub" / "map_public.html").read_text(
        encoding="utf-8")


def test_bad_findings_file_is_one_chinese_line(city, tmp_path, capsys):
    bad = tmp_path / "broken.gpkg"
    bad.write_bytes(b"not a geopackage")
    code = main(["map", "--catalog", str(city), "--findings", str(bad), "--basemap", "none",
                 "--profile", "public", "--out", str(tmp_path / "x.html")])
    err = capsys.readouterr().err
    assert code == 2
    assert "问题清单无法读取" in err and str(bad) in err and "Traceback" not in err
    assert not (tmp_path / "x.html").exists()
    code = main(["map", "--catalog", str(city), "--findings", str(tmp_path / "none.gpkg"),
                 "--profile", "public", "--out", str(tmp_path / "x.html")])
    assert code == 2 and "不存在" in capsys.readouterr().err


def test_profile_is_required(city, tmp_path, capsys):
    with pytest.raises(SystemExit) as exc:
        main(["map", "--catalog", str(city), "--out", str(tmp_path / "x.html")])
    assert exc.value.code == 2 and "--profile" in capsys.readouterr().err
    assert not (tmp_path / "x.html").exists()


def test_tianditu_without_key(city, tmp_path, capsys, monkeypatch):
    monkeypatch.delenv("ZLGIS_TIANDITU_KEY", raising=False)
    code = main(["map", "--catalog", str(city), "--basemap", "tianditu", "--profile", "public",
                 "--out", str(tmp_path / "x.html")])
    assert code == 2
    assert "ZLGIS_TIANDITU_KEY" in capsys.readouterr().err
