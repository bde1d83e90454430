"""The weekly run with big layers as vector tiles (issue 18): a bureau's ``publish.yaml``
override lowers ``tiles.min_features`` so that the bundled district's buildings (194) and roads
(1,367) go to PMTiles archives, as a real city's do above the shipped 50,000.

Two weeks of the red-line check: in 2022-W35 three buildings have open findings, in 2022-W45
(past the 2022-10-31 deadline) they are overdue. 2022-W45 runs through the ``zlgis weekly``
command, as cron runs it.
"""

from __future__ import annotations

import gzip
import json
import os
import re
import subprocess
import sys
from pathlib import Path

import _tile_fixtures as _tf  # tests/ is on sys.path (conftest)
import mapbox_vector_tile
import pytest
from pmtiles.reader import MmapSource, Reader, all_tiles
from test_weekly import hashes

import zlgis as zl
from zlgis.config import load_config
from zlgis.ledger import Ledger
from zlgis.publish.maps import public_fields
from zlgis.weekly import PUBLIC_DIR

ROOT = Path(__file__).resolve().parents[1]
WEEKS = ("2022-W35", "2022-W45")


@pytest.fixture(scope="module")
def weeks(tmp_path_factory):
    """Both weeks run with the override in force (kept for the module: the rerun needs it)."""
    root = tmp_path_factory.mktemp("weekly_tiles")
    out = root / "out"
    cfg = _tf.write_override(root / "cfg")
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("ZLGIS_CONFIG_DIR", str(cfg))
        r35 = _tf.tiled_weekly(out, WEEKS[0])
        proc = subprocess.run(
            [sys.executable, "-m", "zlgis", "weekly", "--catalog", str(zl.datasets.path()),
             "--out", str(out), "--week", WEEKS[1], "--checks", ",".join(_tf.WEEKLY_CHECKS),
             "--quiet"], capture_output=True, text=True, timeout=600,
            env={**os.environ, "PYTHONPATH": str(ROOT)})
        yield {"out": out, "r35": r35, "proc": proc}


def _decode(path: Path):
    """Every tile of an archive: (z, layer features)."""
    with open(path, "rb") as fh:
        for (z, _, _), data in all_tiles(Reader(MmapSource(fh)).get_bytes):
            d = mapbox_vector_tile.decode(gzip.decompress(data),
                                          default_options={"y_coord_down": True})
            yield z, d


def _tile_specs(html: str) -> dict[str, dict]:
    """The vector-tile layers a map page draws (``zlgis.tiles({...}, map, group)``)."""
    return {s["key"]: s for s in (json.loads(m) for m in
                                  re.findall(r"zlgis\.tiles\((\{.*?\}), map_", html))}


def _expected_status(view, buildings) -> dict[str, str]:
    """Each building's status from the ledger rows, by hand: overdue beats open (new, open,
    reopened), which beats rectified; no row: none."""
    rank = {"rectified": 1, "new": 2, "open": 2, "reopened": 2, "overdue": 3}
    best: dict[str, int] = {}
    for r in view[view["layer"] == "buildings"].itertuples():
        best[str(r.feature_id)] = max(best.get(str(r.feature_id), 0), rank[r.status])
    names = {0: "none", 1: "rectified", 2: "open", 3: "overdue"}
    return {str(b): names[best.get(str(b), 0)] for b in buildings["building_id"]}


def test_command_succeeds_and_says_which_layers_went_to_tiles(weeks):
    proc = weeks["proc"]
    assert proc.returncode == 0, proc.stderr
    lines = [ln for ln in proc.stdout.splitlines() if "矢量瓦片" in ln]
    assert lines == [
        "道路中心线（1,367 个要素，超过 100 个）未嵌入地图页面，以矢量瓦片显示："
        f"内部地图 {WEEKS[1]}/tiles/roads.pmtiles；公众地图 public/{WEEKS[1]}/tiles/roads.pmtiles",
        f"建筑物（194 个要素，超过 100 个）未嵌入地图页面，以矢量瓦片显示：内部地图 "
        f"{WEEKS[1]}/tiles/buildings.pmtiles"]
    r35 = weeks["r35"]
    assert r35.tiled == [ln.replace(WEEKS[1], WEEKS[0]) for ln in lines]
    summary = (weeks["out"] / WEEKS[1] / "summary.html").read_text(encoding="utf-8")
    assert "以矢量瓦片显示的大图层（2 个）" in summary and all(ln in summary for ln in lines)


def test_archives_in_the_internal_and_public_trees(weeks):
    out, r35 = weeks["out"], weeks["r35"]
    for week in WEEKS:
        internal, public = out / week / "tiles", out / PUBLIC_DIR / week / "tiles"
        assert sorted(p.name for p in internal.iterdir()) == ["buildings.pmtiles",
                                                              "roads.pmtiles"]
        # the public map may not show buildings: no archive of them in the public tree
        assert sorted(p.name for p in public.iterdir()) == ["roads.pmtiles"]
    assert r35.files["tiles:buildings"] == out / WEEKS[0] / "tiles" / "buildings.pmtiles"
    assert r35.files["tiles_public:roads"] == out / PUBLIC_DIR / WEEKS[0] / "tiles" / \
        "roads.pmtiles"
    assert all(p.is_file() for p in r35.files.values())


def test_maps_draw_the_archives_and_do_not_embed_the_buildings(weeks):
    out = weeks["out"]
    buildings = zl.datasets.load("district")["buildings"]
    view = Ledger(out / "ledger.sqlite").view(WEEKS[1])
    with_finding = set(view.loc[view["layer"] == "buildings", "feature_id"])
    assert len(with_finding) == 3
    internal = (out / WEEKS[1] / "map_internal.html").read_text(encoding="utf-8")
    public = (out / PUBLIC_DIR / WEEKS[1] / "map_public.html").read_text(encoding="utf-8")
    for html, keys in ((internal, {"buildings", "roads"}), (public, {"roads"})):
        specs = _tile_specs(html)
        assert set(specs) == keys
        assert 'src="zlgis_assets/protomaps-leaflet@' in html
        for k, s in specs.items():
            assert s["url"] == f"tiles/{k}.pmtiles"
        # each layer key once: drawn from tiles, never also embedded as GeoJSON
        assert all(html.count(f'"key":"{k}"') == 1 for k in keys)
        # no building without a finding is in the page (those with one are, as findings)
        assert not [b for b in buildings["building_id"] if b not in with_finding and b in html]
    assert _tile_specs(internal)["buildings"]["n"] == len(buildings)
    assert "buildings" not in _tile_specs(public) and not any(b in public for b in with_finding)


def test_road_names_stay_searchable_and_labelled(weeks):
    """The roads drawn from tiles keep their names on both pages: one search entry and one
    label per road name, as when the roads were embedded (they were lost)."""
    out = weeks["out"]
    roads = zl.datasets.load("district")["roads"]
    n = roads["name"].dropna().str.strip().replace("", None).dropna().nunique()
    assert n > 50
    for html in ((out / WEEKS[1] / "map_internal.html").read_text(encoding="utf-8"),
                 (out / PUBLIC_DIR / WEEKS[1] / "map_public.html").read_text(encoding="utf-8")):
        assert html.count("（道路中心线）") == n       # search entries
        assert html.count('"road"]') == n              # labels


def test_public_archive_carries_only_public_fields(weeks):
    cat = zl.datasets.catalog()
    allowed = set(public_fields(cat["roads"]))
    assert "district" not in allowed
    out = weeks["out"]
    n = 0
    for _, d in _decode(out / PUBLIC_DIR / WEEKS[1] / "tiles" / "roads.pmtiles"):
        for f in d["roads"]["features"]:
            assert set(f["properties"]) <= allowed and "status" not in f["properties"]
            n += 1
    assert n > 1000
    # the staff's archive has the internal field the public one leaves out
    props = {k for _, d in _decode(out / WEEKS[1] / "tiles" / "roads.pmtiles")
             for f in d["roads"]["features"] for k in f["properties"]}
    assert props == {"road_id", "name", "road_class", "district"}


@pytest.mark.parametrize("week,statuses", [(WEEKS[0], {"open", "none"}),
                                           (WEEKS[1], {"overdue", "none"})])
def test_building_colours_follow_the_ledger(weeks, week, statuses):
    """At the last zoom every building is in its tiles with the status the ledger gives it,
    and that status has its own colour in the legend the page draws."""
    out = weeks["out"]
    buildings = zl.datasets.load("district")["buildings"]
    want = _expected_status(Ledger(out / "ledger.sqlite").view(week), buildings)
    assert set(want.values()) == statuses
    cfg = load_config("publish")["tiles"]
    seen = {}
    for z, d in _decode(out / week / "tiles" / "buildings.pmtiles"):
        for f in d["buildings"]["features"]:
            if z == cfg["layers"]["buildings"]["max_zoom"]:
                seen[f["properties"]["building_id"]] = f["properties"]["status"]
    assert seen == want
    spec = _tile_specs((out / week / "map_internal.html").read_text(encoding="utf-8"))["buildings"]
    colours = {c["value"]: c["color"] for c in spec["classes"]}
    assert spec["classField"] == "status"
    assert colours == {k: v["color"] for k, v in cfg["status_colors"].items()}


@pytest.mark.parametrize("jobs", [1, 2])
def test_rerun_is_byte_identical(weeks, jobs):
    """The command's run (one process: the district is small, ``run.auto_min_mb``) and reruns
    in one process or with the checks, tiles and documents in two workers give the same
    files."""
    out = weeks["out"]
    before = hashes(out / WEEKS[1])
    assert any(k.endswith("tiles/buildings.pmtiles") for k in before)
    assert any(k.startswith("public/") and k.endswith("tiles/roads.pmtiles") for k in before)
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("ZLGIS_CONFIG_DIR", str(out.parent / "cfg"))
        r = _tf.tiled_weekly(out, WEEKS[1], jobs=jobs)
    assert r.tiled and hashes(out / WEEKS[1]) == before


@pytest.mark.parametrize("jobs", [1, 2])
def test_the_runs_tiled_layers_are_let_go_once_the_maps_are_built(weeks, tmp_path, jobs):
    """``keep_layers=False`` (the weekly run's): with workers, the layers written as vector
    tiles are dropped from ``layers`` once both map pages are built, while the tiles' worker
    writes them from its own copy; in one process the tiles are written first, so nothing is
    dropped. The files are those of the run either way."""
    from zlgis.catalog import Catalog
    from zlgis.weekly import load_inputs, publish_week

    out = weeks["out"]
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("ZLGIS_CONFIG_DIR", str(out.parent / "cfg"))
        catalog = Catalog.load(zl.datasets.path())
        layers, _ = load_inputs(catalog, ["buildings", "roads"])
        kept = dict(layers)
        files = publish_week(Ledger(out / "ledger.sqlite"), WEEKS[1], tmp_path / "week",
                             catalog=catalog, layers=layers, jobs=jobs, keep_layers=False)
        again = publish_week(Ledger(out / "ledger.sqlite"), WEEKS[1], tmp_path / "kept",
                             catalog=catalog, layers=kept, jobs=jobs)
    assert layers == ({} if jobs > 1 else kept)
    assert set(kept) == {"buildings", "roads"}
    assert {"tiles:buildings", "tiles:roads", "tiles_public:roads"} <= set(files)
    assert hashes(tmp_path / "week") == hashes(tmp_path / "kept")
    assert set(files) == set(again)
