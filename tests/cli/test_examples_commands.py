"""The commands besides ``weekly`` on both example catalogs of real data (issue 12 item 8):
each command a user runs after (or instead of) the weekly run ends with exit 0 or 1 and its
outputs, or says in one Chinese line which layer it lacks. ``weekly`` itself, ``init``,
``layers``, ``grids``, ``check trucks``, ``coverage`` (no residential buildings) and the
Helsinki print maps / Swellendam QGIS export have their own real-data tests; the checks run
inside ``weekly`` (tests/test_weekly_realdata.py). The week is the session fixtures'."""

from __future__ import annotations

import pyogrio
import pytest

from zlgis.cli import main


@pytest.fixture(params=["helsinki", "swellendam"])
def week(request):
    return request.getfixturevalue(f"{request.param}_week")


def _run(argv, capsys):
    code = main(["--quiet", *argv])
    out = capsys.readouterr()
    assert "Traceback" not in out.err + out.out
    return code, out


def test_validate_map_publish_portal_ledger_on_the_week(week, tmp_path, capsys):
    proc, wdir, cat = week
    catalog = str(cat.path)
    gpkg = str(wdir / "findings_2022-W35.gpkg")
    # validate: every layer readable (exit 0, or 1 with the rows it reports, each named)
    code, out = _run(["validate", "--catalog", catalog], capsys)
    assert code in (0, 1) and (code == 0 or "共发现" in out.out)
    # map and publish of the week's findings, in the catalog's name
    code, _ = _run(["map", "--catalog", catalog, "--findings", gpkg, "--profile", "public",
                    "--out", str(tmp_path / "map.html")], capsys)
    assert code == 0
    assert f"<title>{cat.city}" in (tmp_path / "map.html").read_text(encoding="utf-8")
    code, _ = _run(["publish", "--catalog", catalog, "--findings", gpkg, "--profile",
                    "internal", "--out", str(tmp_path / "pub")], capsys)
    assert code == 0 and (tmp_path / "pub" / "index.html").is_file()
    # the public portal site from the weekly run's public folder
    code, _ = _run(["portal", "--catalog", catalog, "--from", str(wdir.parent / "public"),
                    "--out", str(tmp_path / "site")], capsys)
    assert code == 0 and (tmp_path / "site" / "index.html").is_file()
    assert cat.city in (tmp_path / "site" / "index.html").read_text(encoding="utf-8")
    # the ledger's weekly table: the week's new findings are the GeoPackage's ledger rows
    code, out = _run(["ledger", "status", "--ledger", str(wdir.parent / "ledger.sqlite")],
                     capsys)
    n = pyogrio.read_info(gpkg, layer="ledger")["features"]
    assert code == 0 and f"2022-W35\t{n}\t" in out.out


def test_helsinki_qgis_and_swellendam_print_maps(helsinki_week, swellendam_week, tmp_path,
                                                 capsys):
    _, wdir, cat = helsinki_week
    code, _ = _run(["export", "qgis", "--catalog", str(cat.path), "--week", "2022-W35",
                    "--findings", str(wdir / "findings_2022-W35.gpkg"), "--out",
                    str(tmp_path / "qgis")], capsys)
    assert code == 0
    qgs = (tmp_path / "qgis" / "zlgis_2022-W35.qgs").read_text(encoding="utf-8")
    assert "EPSG:32635" in qgs
    _, wdir, cat = swellendam_week
    code, _ = _run(["print-maps", "--catalog", str(cat.path), "--findings",
                    str(wdir / "findings_2022-W35.gpkg"), "--week", "2022-W35", "--out",
                    str(tmp_path / "print")], capsys)
    assert code == 0
    pdf = (tmp_path / "print" / "print_city_2022-W35.pdf").read_bytes()
    assert pdf[:5] == b"%PDF-" and len(pdf) > 10_000


def test_commands_without_their_layer_say_which(helsinki_catalog, tmp_path, capsys):
    """Helsinki's OSM extract has no DEM and no 12345 cases: each command names, rule by rule,
    the layer it lacks, writes nothing and exits 0 like every check command that can run none
    of its rules (zlgis.cli.NOTHING_TO_CHECK; tests/cli/test_missing_layers.py)."""
    code, out = _run(["waterlogging", "--catalog", str(helsinki_catalog), "--out",
                      str(tmp_path / "wl")], capsys)
    assert code == 0 and out.err == ""
    assert out.out.splitlines()[0] == "未检查：洼地积水（缺少图层 dem）"
    assert out.out.splitlines()[-1] == "城区易涝点分析：图层目录缺少所需图层，没有可以运行的检查，未写出结果"
    code, out = _run(["cases", "--catalog", str(helsinki_catalog), "--out",
                      str(tmp_path / "cases")], capsys)
    assert code == 0 and out.err == ""
    assert out.out.splitlines()[0] == "未检查：案件超期（缺少图层 hotline_cases）"
    assert out.out.splitlines()[-1] == ("案件分析：图层目录缺少所需图层，没有可以运行的检查，未写出结果"
                                        "（可用 --input 指定 12345/110 导出文件）")
    assert not (tmp_path / "wl").exists() and not (tmp_path / "cases").exists()


def test_swellendam_waterlogging_map_is_offline_and_named(tmp_path, capsys):
    """The SRTM example through ``zlgis waterlogging``: its map uses the local assets (it was
    CDN-only and blank offline) and the catalog's city name."""
    import re

    from zlgis.catalog import Catalog
    from zlgis.io.examples import example_catalog

    cat = Catalog.load(example_catalog("swellendam"))
    code, _ = _run(["waterlogging", "--catalog", str(cat.path), "--out", str(tmp_path)], capsys)
    assert code in (0, 1)
    pages = list(tmp_path.glob("*.html"))
    assert len(pages) == 1
    html = pages[0].read_text(encoding="utf-8")
    srcs = re.findall(r'<script src="([^"]*)"', html)
    srcs += re.findall(r'<link rel="stylesheet" href="([^"]*)"', html)
    assert srcs and all(s.startswith("zlgis_assets/") for s in srcs), srcs
    assert all((tmp_path / s).is_file() for s in srcs)
    assert cat.city in re.search(r"<title>([^<]*)</title>", html).group(1)
    assert "扎兰屯" not in html
