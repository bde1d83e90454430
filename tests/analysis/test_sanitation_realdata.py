"""Sanitation checks on real data: central Helsinki from OpenStreetMap through ``zlgis init``
(layers/examples/helsinki): litter-bin gaps from ``amenity=waste_basket`` and bus-stop walking
coverage from ``highway=bus_stop``, in the city's own UTM CRS (EPSG:32635)."""

from __future__ import annotations

import numpy as np
import pytest

from zlgis.analysis.bins import bin_gaps, street_lines
from zlgis.analysis.streetorder import bus_stop_coverage
from zlgis.catalog import Catalog
from zlgis.validate import load_layers


@pytest.fixture(scope="module")
def helsinki(helsinki_catalog):
    cat = Catalog.load(helsinki_catalog)
    assert "32635" in str(cat.working_crs)      # the city's own UTM zone
    return load_layers(cat, ["roads", "garbage_points", "bus_stops", "residential_land"])


def test_litter_bin_gaps_from_osm_waste_baskets(helsinki):
    g = helsinki["garbage_points"]
    # zlgis init files amenity=waste_basket as garbage points of category 垃圾桶: the litter bins
    bins = g[g["category"] == "垃圾桶"]
    assert len(bins) == 36                       # the extract's 36 waste_basket nodes
    roads = helsinki["roads"]
    streets = street_lines(roads)
    judged = streets[streets["street_type"].isin(["主干路", "次干路", "支路", "巷道"])
                     & (streets["length_m"] >= 150)]
    # about 1 x 1.6 km of city centre: some 20 km of streets judged for bins
    assert 15_000 < judged["length_m"].sum() < 30_000
    gaps = bin_gaps(roads, bins, streets=streets)
    # 36 mapped bins cannot keep 20 km of streets within 100-400 m: dozens of gaps, each longer
    # than its street type allows, none longer than a street of the extract (< 1.2 km)
    assert 20 <= len(gaps) <= 45
    assert (gaps["gap_m"] > gaps["max_m"]).all()
    assert gaps["gap_m"].max() < 1_200
    assert set(gaps["street_type"]) <= {"主干路", "次干路", "支路", "巷道"}
    # a bin at one end of a gap is a real OSM node id
    ends = set(gaps["bins_before"]) | set(gaps["bins_after"])
    assert (ends - {""}) <= set(bins["point_id"])


def test_bus_stop_walking_coverage_from_osm(helsinki):
    stops = helsinki["bus_stops"]
    assert len(stops) == 92                      # the extract's 92 highway=bus_stop nodes
    homes = helsinki["residential_land"].rename(columns={"area_id": "compound_id"})
    walk = bus_stop_coverage(homes, stops, helsinki["roads"])
    straight = bus_stop_coverage(homes, stops, helsinki["roads"], method="radius")
    assert len(walk) == len(homes) >= 20
    # central Helsinki: a bus stop within a few hundred metres of every residential block;
    # every block is covered within 500 m on foot, the farthest about 350 m away
    assert walk["covered"].all()
    assert 250 < walk["distance_m"].max() < 500
    # walking is never shorter than the straight line (to its nearest stop by either measure)
    assert (walk["distance_m"].to_numpy() + 1e-6 >= straight["distance_m"].to_numpy()).all()
    assert np.median(walk["distance_m"]) < 200
