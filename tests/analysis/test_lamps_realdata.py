"""Street lamps on real OSM data: central Helsinki, 586 ``highway=street_lamp`` nodes.

Read directly from the PBF (tests/_helsinki.py) until ``zlgis init`` lands. OSM records no
lamp state, so every lamp is lit and the on-rate is 100 %; the interest is the dark-stretch
geometry on real, irregular streets (curved, unsplit OSM ways, lamps on spans over the street).
"""

from __future__ import annotations

import pytest

from _helsinki import helsinki
from zlgis.analysis import lamps as lm


@pytest.fixture(scope="module")
def result(realdata):
    return lm.analyse(helsinki(realdata))


def test_helsinki_lamps_are_tied_to_roads_or_listed(realdata, result):
    layers = helsinki(realdata)
    # 586 lamps as the README of the extract says; 960 car-road ways
    assert len(layers["street_lamps"]) == 586 and len(layers["roads"]) == 960
    # 162 lamps stand more than 30 m from any car road (they light footways, squares and parks):
    # listed with their reason, never dropped (they still count in the city on-rate)
    problems = result["problems"]
    assert len(problems) == 162 and set(problems["field"]) == {"geometry"}
    assert result["rates"]["city"][["in_service", "lit"]].values.tolist() == [[586, 586]]


def test_helsinki_dark_stretches(result):
    s = result["stretches"]
    # the centre is densely lit: 183 car-road ways have lamps of their own, and only 14
    # stretches (1.3 km) lack a lamp within their class reach, most of them service lanes
    # (courtyard and yard access, 巷道) whose lamps stand on the buildings, not in OSM
    assert result["lamps"]["road_id"].nunique() == 183
    assert len(s) == 14
    assert s["length_m"].sum() == pytest.approx(1295.4, abs=0.5)
    by_class = s.groupby("road_class")["length_m"].sum()
    assert by_class.idxmax() == "巷道"
    assert (s["length_m"] > 20).all() and (s["length_m"] < 400).all()
    # proposed sites: at most the class spacing apart along every stretch
    assert len(result["sites"]) == 56
