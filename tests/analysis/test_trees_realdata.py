"""Street-tree gaps on real OSM data: central Helsinki through ``zlgis init``, 649 trees.

OSM trees carry no protection grade, so every tree is taken as a street tree; a road is planted
when at least 3 trees have it as their nearest road within 25 m.
"""

from __future__ import annotations

import pytest

from zlgis.analysis import trees as tr
from zlgis.catalog import Catalog
from zlgis.validate import load_layers


def test_helsinki_street_tree_gaps_and_zones(helsinki_catalog):
    layers = load_layers(Catalog.load(helsinki_catalog), ["roads", "trees"])
    assert len(layers["trees"]) == 649  # as the README of the extract says
    g = tr.street_tree_gaps(layers["roads"], layers["trees"])
    # tree rows in central Helsinki line the esplanades and a few streets: 14 planted ways have
    # gaps where at least two trees are missing in a row (0.8 km in all), each on a way with
    # its own row of 4 to 17 trees
    assert len(g) == 14 and g["road_id"].nunique() == 14
    assert g["length_m"].sum() == pytest.approx(835.2, abs=0.5)
    assert g["trees"].min() == 4 and g["trees"].max() == 17
    assert g["road_class"].value_counts().to_dict() == {"支路": 5, "次干路": 5, "主干路": 4}
    # graded as 三级古树 for the test, every tree gets the default crown (12 m) plus 5 m
    z = tr.protection_zones(layers["trees"].assign(grade="三级古树"))
    assert len(z) == 649 and set(z["radius_m"]) == {11.0}
