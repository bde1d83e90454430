"""The weekly run end to end on the example cities of real data (layers/examples/), each in its
own UTM CRS: exit code, no traceback, outputs in the working CRS, findings inside the boundary,
counts with the reason for each figure. The runs are the session fixtures ``helsinki_week`` and
``swellendam_week`` (tests/conftest.py: one run per catalog per test session, shared)."""

from __future__ import annotations

import geopandas as gpd
import pyogrio
import shapely

from zlgis.validate import city_boundary


def test_helsinki_weekly_runs_without_salt_or_traceback(helsinki_week):
    proc, week, _ = helsinki_week
    # no truck data: no plate salt is needed (the run's environment has none, see conftest)
    assert proc.returncode in (0, 1), proc.stderr
    assert "Traceback" not in proc.stderr + proc.stdout
    assert "本周发现问题" in proc.stdout
    assert (week / "summary.html").exists()
    assert (week.parent / "public" / week.name / "map_public.html").exists()
    # what did not run, and why, is said in the output and on the summary page
    summary = (week / "summary.html").read_text(encoding="utf-8")
    for line in ("未检查：洼地积水（缺少图层 dem）",
                 "未检查：货车违停（缺少图层 truck_no_parking_zones、truck_pings）",
                 "未检查：无证建设（缺少字段 buildings.permit_status）"):
        assert line in proc.stdout.splitlines() and f"<li>{line}</li>" in summary
    assert "赫尔辛基城市管理问题周报" in summary
    _assert_cases_and_grids_skipped(proc.stdout, summary)


def _assert_cases_and_grids_skipped(stdout, summary):
    """A real city has no 12345 cases and no grids: every case and grid rule is skipped with the
    line naming the missing layer (printed and on the summary page)."""
    from zlgis.rules import rules

    lines = stdout.splitlines()
    for line in ("未检查：案件超期（缺少图层 hotline_cases）",
                 "未检查：未入网格（缺少图层 hotline_cases、grids）",
                 "未检查：网格空隙（缺少图层 grids）"):
        assert line in lines and f"<li>{line}</li>" in summary
    for check in ("cases", "grids"):
        for r in rules(check):
            assert [x for x in lines if x.startswith(f"未检查：{r.label}（缺少图层 ")], r.id


def _assert_in_crs_inside_boundary(week, cat, crs):
    """Both layers of the week's GeoPackage are in ``crs`` and every finding lies inside the
    catalog boundary (within 1 m)."""
    boundary = city_boundary(cat)
    for layer in ("ledger", "findings"):
        f = gpd.read_file(week / "findings_2022-W35.gpkg", layer=layer)
        assert str(f.crs) == crs
        inside = shapely.dwithin(f.geometry.values, boundary, 1.0)
        assert inside.all(), f[~inside][["rule", "feature_id"]]


def test_helsinki_outputs_in_working_crs_inside_boundary(helsinki_week):
    _, week, cat = helsinki_week
    _assert_in_crs_inside_boundary(week, cat, "EPSG:32635")  # the extract's extent


def test_helsinki_counts(helsinki_week):
    """Findings a person would believe for a dense European old town under Chinese rules."""
    _, week, _ = helsinki_week
    f = pyogrio.read_dataframe(week / "findings_2022-W35.gpkg", layer="findings",
                               read_geometry=False)
    n = f.groupby("rule").size().to_dict()
    # red lines from roads (tagged, lane or class width): facades stand at the street edge, so
    # a red line rarely reaches into a building: a few per cent of the 482 buildings at most
    assert 5 <= n.get("red_line_encroachment", 0) <= 50
    # the Chinese example setbacks (5 to 10 m from the red line) are unknown in a 19th-century
    # grid where buildings front the street: most buildings breach one, several along corners
    assert 300 <= n.get("red_line_setback", 0) <= 900
    # 18 public toilets in 1 x 1.6 km cover most homes within 300 m; a few blocks remain
    assert 1 <= n.get("toilet_uncovered", 0) <= 20
    # there is no DEM, no truck data and no waterlogging record: those checks find nothing
    assert not set(f["check"]) & {"waterlogging", "trucks"}


# --- Swellendam: GeoPackage + Shapefiles + SRTM tile, UTM 34S ------------------------------------

def test_swellendam_weekly_runs(swellendam_week):
    proc, week, cat = swellendam_week
    assert cat.working_crs == "EPSG:32734"  # 20.4E, 34S: UTM zone 34 south
    assert proc.returncode in (0, 1), proc.stderr
    assert "Traceback" not in proc.stderr + proc.stdout
    assert "未检查：公厕盲区（缺少图层 toilets）" in proc.stdout.splitlines()
    # no recorded waterlogging points: no survey list (it would be every depression)
    assert "未检查：建议排查（缺少图层 waterlogging_points）" in proc.stdout.splitlines()
    summary = (week / "summary.html").read_text(encoding="utf-8")
    assert "斯韦伦丹城市管理问题周报" in summary
    _assert_cases_and_grids_skipped(proc.stdout, summary)


def test_swellendam_outputs_in_working_crs_inside_boundary(swellendam_week):
    _, week, cat = swellendam_week
    _assert_in_crs_inside_boundary(week, cat, "EPSG:32734")  # the study area


def test_swellendam_counts(swellendam_week):
    _, week, _ = swellendam_week
    f = pyogrio.read_dataframe(week / "findings_2022-W35.gpkg", layer="findings",
                               read_geometry=False)
    n = f.groupby("rule").size().to_dict()
    # the buildings standing in Bontebok National Park and Marloth Nature Reserve (rest camps,
    # farm buildings) fall inside the protected areas used as green lines
    assert 10 <= n.get("green_line", 0) <= 40
    # 13 m reserves on residential streets: OSM centrelines traced from imagery are a few metres
    # off and outbuildings stand on the erf boundary, so about one building in ten of 4,708
    # reaches into a reserve
    assert 200 <= n.get("red_line_encroachment", 0) <= 700
    # SRTM 82 m cells: only depressions at least 2 m deep over 2 cells are reported (pits of
    # one cell and 1 m are the integer rounding of SRTM heights); a valley town has a few dozen
    assert 10 <= n.get("depression", 0) <= 60
    assert "survey_candidate" not in n


# --- map size on real data (issue 12 item 7) ------------------------------------------------------

def test_weekly_maps_within_their_size_budget(helsinki_week, swellendam_week):
    from zlgis.publish.maps import map_budget_mb

    for _, week, _ in (helsinki_week, swellendam_week):
        for profile, path in (("internal", week / "map_internal.html"),
                              ("public", week.parent / "public" / week.name / "map_public.html")):
            assert 0 < path.stat().st_size <= map_budget_mb(profile) * 1e6, (path, profile)


def test_layers_over_the_limits_are_aggregated_or_noted(helsinki_week, tmp_path, monkeypatch):
    """Helsinki's week published again with a bureau's lower limits (ledger.yaml override):
    the 18 toilets become hexagon counts, the road network is left off, the findings beyond the
    limit are counted per hexagon, and every one of these carries its Chinese note in the
    legend of both maps, which stay within their budgets."""
    import shutil

    from zlgis.ledger.store import Ledger
    from zlgis.publish.maps import map_budget_mb
    from zlgis.weekly import load_inputs, publish_week

    _, week, cat = helsinki_week
    (tmp_path / "cfg").mkdir()
    (tmp_path / "cfg" / "ledger.yaml").write_text(
        "maps: {max_context_features: 10, max_findings_features: 100}\n", encoding="utf-8")
    monkeypatch.setenv("ZLGIS_CONFIG_DIR", str(tmp_path / "cfg"))
    shutil.copy(week.parent / "ledger.sqlite", tmp_path / "ledger.sqlite")
    layers, _ = load_inputs(cat)
    files = publish_week(Ledger(tmp_path / "ledger.sqlite"), "2022-W35", tmp_path / "out",
                         catalog=cat, layers=layers, public_folder=tmp_path / "pub")
    n = pyogrio.read_info(week / "findings_2022-W35.gpkg", layer="findings")["features"]
    n_roads, n_toilets = len(layers["roads"]), len(layers["toilets"])
    assert n > 100 and n_roads > 10 and n_toilets > 10
    # the legend is a JSON string in the page (markup characters as \u escapes; the notes have
    # none, so they appear as written)
    internal = files["map_internal"].read_text(encoding="utf-8")
    for note in (f"公共厕所共 {n_toilets} 个，超过逐个显示的上限 10 个，图上按边长 250 米的六边形汇总个数",
                 f"道路中心线共 {n_roads:,} 个要素，超过逐个显示的上限 10 个，未在图上显示",
                 f"本周问题共 {n:,} 个，超过逐个显示的上限 100 个：图上逐个显示最严重的 100 个，"
                 f"其余 {n - 100:,} 个按边长 250 米的六边形汇总个数"):
        assert note in internal, note
    assert "未逐个显示的图层" in internal and f"其余 {n - 100:,} 个问题（按六边形汇总）" in internal
    assert "公共厕所（按六边形汇总）" in internal
    public = files["map_public"].read_text(encoding="utf-8")
    assert "公共厕所（按六边形汇总）" in public and "未逐个显示的图层" in public
    for profile in ("internal", "public"):
        assert files[f"map_{profile}"].stat().st_size <= map_budget_mb(profile) * 1e6
    # the portal's search still knows the streets the map left off
    import json

    places = json.loads(files["portal_data"].read_text(encoding="utf-8"))["places"]
    streets = {p["name"] for p in places if p["kind"] == cat["roads"].title}
    assert len(streets) > 10 and streets <= set(layers["roads"]["name"].dropna())


# --- names from the catalog, local assets (issue 12 item 6) ---------------------------------------

def _popup_fields(html: str) -> set[tuple[str, str]]:
    """Every ``[field, title]`` pair the page's layers show in their popups."""
    import json
    import re

    pairs = set()
    for m in re.finditer(r'"fields":(\[\[.*?\]\])', html):
        pairs |= {tuple(p) for p in json.loads(m.group(1))}
    return pairs


def test_maps_name_the_city_title_fields_and_use_local_assets(helsinki_week, swellendam_week):
    """Both examples' maps and summary: the catalog's city name (never 扎兰屯), popup fields of
    catalog layers under the catalog's Chinese titles (no raw OSM/source column names), and
    every script and style sheet from the local assets folder beside the page."""
    import re

    for _, week, cat in (helsinki_week, swellendam_week):
        titles = {}
        for spec in cat.layers.values():
            for name in spec.fields:
                titles.setdefault(name, set()).add(spec.alias(name))
        findings_cols = set(pyogrio.read_info(week / "findings_2022-W35.gpkg",
                                              layer="findings")["fields"])
        pages = {"internal": week / "map_internal.html",
                 "public": week.parent / "public" / week.name / "map_public.html"}
        summary = (week / "summary.html").read_text(encoding="utf-8")
        assert "扎兰屯" not in summary
        for profile, path in pages.items():
            html = path.read_text(encoding="utf-8")
            assert "扎兰屯" not in html, path
            title = re.search(r"<title>([^<]*)</title>", html).group(1)
            assert title.startswith(cat.city), title
            pairs = _popup_fields(html)
            assert len(pairs) >= 5, (path, pairs)
            for field, shown in pairs:
                # a Chinese title, never the raw column name
                assert shown != field and re.search("[\u4e00-\u9fff]", shown), (path, field)
                assert field in titles or field in findings_cols, (path, field)
                if field in titles and field not in findings_cols:
                    assert shown in titles[field], (path, field, shown)
            srcs = re.findall(r'<script src="([^"]*)"', html)
            srcs += re.findall(r'<link rel="stylesheet" href="([^"]*)"', html)
            assert srcs and all(s.startswith("zlgis_assets/") for s in srcs), (path, srcs)
            assert all((path.parent / s).is_file() for s in srcs), path
