"""Designated zones blocking carriageways (zlgis/analysis/streetorder.py: zones_blocking_roads)."""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import shapely
from shapely.geometry import box

from zlgis.analysis.frontage import carriageways
from zlgis.analysis.streetorder import zones_blocking_roads
from zlgis.analysis.sweeping import cfg_value, sanitation_config


def test_only_nearby_roads_buffered_gives_the_overlaps_of_every_carriageway():
    rng = np.random.default_rng(7)
    n = 400
    start = rng.uniform(0, 2000, (n, 2))
    end = start + rng.uniform(-150, 150, (n, 2))
    classes = rng.choice(["主干路", "次干路", "支路", "巷道"], n)
    width = np.where(rng.random(n) < 0.3, np.nan, rng.uniform(6, 60, n))
    roads = gpd.GeoDataFrame(
        {"road_id": [f"R{i}" for i in range(n)], "name": [f"路{i % 37}" for i in range(n)],
         "road_class": classes, "width": width},
        geometry=shapely.linestrings(np.stack([start, end], axis=1)), crs="EPSG:4550")
    zones = gpd.GeoDataFrame(
        {"zone_id": ["Z1", "Z2", "Z3", "Z4"]},
        geometry=[box(100, 100, 180, 160), box(900, 950, 1100, 990), box(1500, 300, 1530, 700),
                  box(5000, 5000, 5010, 5010)], crs="EPSG:4550")  # Z4 far from every road
    got = zones_blocking_roads(zones, roads).set_index("zone_id")
    # reference: every road's carriageway, grown by the clearance, against each zone
    cfg = sanitation_config()
    cw = carriageways(roads, config=cfg)
    grown = cw.geometry.buffer(float(cfg_value(cfg, "street_order", "zone_clearance_m")))
    for z, geom in zip(zones["zone_id"], zones.geometry):
        part = shapely.intersection(geom, np.asarray(grown.values))
        area = shapely.area(part)
        hit = area > 0.01
        if not hit.any():
            assert z not in got.index
            continue
        assert got.loc[z, "roads"] == ";".join(sorted(set(cw["label"].to_numpy()[hit])))
        assert got.loc[z, "overlap_m2"] == round(float(area[hit].sum()), 1)
        assert shapely.equals(got.loc[z, "geometry"], shapely.union_all(part[hit]))
    assert {"Z1", "Z2", "Z3"} <= set(got.index) and "Z4" not in got.index
