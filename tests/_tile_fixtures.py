"""A small site with vector-tile layers (the bundled district: 194 buildings, 1,367 roads), for
tests/publish/test_tiles.py and test_browser_tiles.py. The tile threshold is set to 0 so that
these small layers go to PMTiles like a city's big ones."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

import zlgis as zl
from zlgis.publish.maps import build_map, save_map
from zlgis.publish.tile_maps import add_tile_layers, write_week_tiles

#: Status given to every fourth building (the rest: no finding).
STATUSES = ("open", "rectified", "overdue", "none")


def ledger_view(buildings: pd.DataFrame) -> pd.DataFrame:
    """A week's ledger rows for the buildings: open / rectified / overdue / none in turn; the
    open ones also carry a rectified finding (the open one wins)."""
    ids = buildings["building_id"].astype(str).tolist()
    rows = []
    for i, b in enumerate(ids):
        s = STATUSES[i % 4]
        if s == "none":
            continue
        rows.append({"layer": "buildings", "feature_id": b,
                     "status": "new" if s == "open" else s})
        if s == "open":
            rows.append({"layer": "buildings", "feature_id": b, "status": "rectified"})
    rows.append({"layer": "roads", "feature_id": ids[3], "status": "overdue"})  # another layer
    return pd.DataFrame(rows)


def expected_status(buildings: pd.DataFrame) -> dict[str, str]:
    return {str(b): STATUSES[i % 4] for i, b in enumerate(buildings["building_id"])}


def build_tile_site(root: Path) -> dict:
    """Write internal/ and public/ (map.html + tiles/) under ``root``; return what was made."""
    cat = zl.datasets.catalog()
    layers = zl.datasets.load("district")
    big = {"buildings": layers["buildings"], "roads": layers["roads"]}
    tiles = write_week_tiles(root / "internal", root / "public", big, catalog=cat,
                             ledger_view=ledger_view(layers["buildings"]), min_features=0)
    small = {k: layers[k] for k in ("toilets", "parks")}
    for profile in ("internal", "public"):
        m = build_map(small, None, catalog=cat, profile=profile, basemap="none",
                      service_areas=False)
        add_tile_layers(m, tiles[profile])
        save_map(m, root / profile / "map.html", assets="local")
    return {"catalog": cat, "layers": layers, "tiles": tiles}


# --- the weekly run with big layers as tiles (tests/test_weekly_tiles.py, test_browser_tiles.py)

#: A bureau's ``publish.yaml`` override: layers over 100 features go to tiles (the district's
#: 194 buildings and 1,367 roads), and the staff's road tiles also carry ``district`` (片区), a
#: field the catalog keeps internal, so the public archive has something to leave out.
TILE_OVERRIDE = {"tiles": {"min_features": 100, "layers": {"roads": {
    "fields": ["road_id", "name", "road_class", "district"]}}}}
#: Checks of the cheap weekly run (red-line findings on 3 buildings, overdue from 2022-11-01).
WEEKLY_CHECKS = ["controllines"]


def write_override(folder: Path, override: dict | None = None) -> Path:
    """Write ``publish.yaml`` (default :data:`TILE_OVERRIDE`) into ``folder``; return it."""
    import yaml

    folder.mkdir(parents=True, exist_ok=True)
    (folder / "publish.yaml").write_text(
        yaml.safe_dump(override or TILE_OVERRIDE, allow_unicode=True), encoding="utf-8")
    return folder


def tiled_weekly(out: Path, week: str = "2022-W35", *, jobs: int | None = None):
    """``run_weekly`` on the bundled district with :data:`TILE_OVERRIDE` in force (the caller
    sets ``ZLGIS_CONFIG_DIR``)."""
    from zlgis.weekly import run_weekly

    return run_weekly(zl.datasets.path("district"), out, week=week, checks=WEEKLY_CHECKS,
                      jobs=jobs)


#: Every layer over one feature goes to tiles (the district's two depressions).
DEPRESSION_OVERRIDE = {"tiles": {"min_features": 1}}


def waterlogging_command(out: Path, config_dir: Path):
    """``zlgis waterlogging`` on the district (2 depressions of about 3,850 m2), a subprocess with
    ``ZLGIS_CONFIG_DIR=config_dir``; returns the finished process."""
    import os
    import subprocess
    import sys

    root = Path(__file__).resolve().parents[1]
    return subprocess.run(
        [sys.executable, "-m", "zlgis", "--quiet", "waterlogging", "--catalog",
         str(zl.datasets.path()), "--out", str(out), "--assets", "local"],
        capture_output=True, text=True, timeout=600,
        env={**os.environ, "PYTHONPATH": str(root), "ZLGIS_CONFIG_DIR": str(config_dir)})
