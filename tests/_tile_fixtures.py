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
