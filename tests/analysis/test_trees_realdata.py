"""Street-tree gaps on real OSM data: central Helsinki, 649 ``natural=tree`` nodes.

Read directly from the PBF (tests/_helsinki.py) until ``zlgis init`` lands. Every OSM tree is
taken as a street tree; a car road is planted when at least 3 trees have it as their nearest
road within 25 m.
"""

from __future__ import annotations

import pytest

from _helsinki import helsinki
from zlgis.analysis import trees as tr


def test_helsinki_street_tree_gaps(realdata):
    layers = helsinki(realdata)
    assert len(layers["trees"]) == 649  # as the README of the extract says
    g = tr.street_tree_gaps(layers["roads"], layers["trees"])
    # tree rows in central Helsinki line the esplanades and a few streets: 14 planted ways have
    # gaps where at least two trees are missing in a row (0.8 km in all), none longer than a
    # block, each on a way with its own row of 4 to 17 trees
    assert len(g) == 14 and g["road_id"].nunique() == 14
    assert g["length_m"].sum() == pytest.approx(835.2, abs=0.5)
    assert g["trees"].min() >= 3 and g["trees"].max() == 17
    assert set(g["road_class"]) == {"主干路", "次干路", "支路"}
    # as protected trees (graded 三级古树 for the test) every tree gets a zone of the default
    # crown (12 m) plus 5 m
    t = layers["trees"].assign(grade="三级古树")
    z = tr.protection_zones(t)
    assert len(z) == 649 and set(z["radius_m"]) == {11.0}
