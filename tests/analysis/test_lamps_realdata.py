"""Street lamps on real OSM data: central Helsinki through ``zlgis init`` (the example catalog).

586 ``highway=street_lamp`` nodes. OSM records no lamp state, so every lamp counts as lit and
the on-rate is 100 %; the interest is the dark-stretch geometry on real, irregular streets
(curved, unsplit OSM ways, lamps hung on spans over the street, footways with their own lamps).
"""

from __future__ import annotations

import pytest

from zlgis.analysis import lamps as lm
from zlgis.catalog import Catalog
from zlgis.validate import load_layers


@pytest.fixture(scope="module")
def layers(helsinki_catalog):
    return load_layers(Catalog.load(helsinki_catalog), ["roads", "street_lamps"])


@pytest.fixture(scope="module")
def result(layers):
    return lm.analyse(layers)


def test_helsinki_lamps_are_tied_to_roads_or_listed(layers, result):
    # 586 lamps as the README of the extract says; 2,459 ways (footways included, 人行道)
    assert len(layers["street_lamps"]) == 586 and len(layers["roads"]) == 2459
    # 13 lamps stand more than 30 m from every way (inside squares and parks): listed with
    # their reason, never dropped (they still count in the city on-rate)
    problems = result["problems"]
    assert len(problems) == 13 and set(problems["field"]) == {"geometry"}
    assert result["rates"]["city"][["in_service", "lit"]].values.tolist() == [[586, 586]]


def test_helsinki_dark_stretches(result):
    s = result["stretches"]
    # the centre is densely lit: 233 ways have lamps of their own, and only 4 stretches
    # (401 m) of car roads lack a lit lamp within their class reach: three service lanes
    # (courtyard access, 巷道) whose lamps hang on the walls, not in OSM, and one street
    assert result["lamps"]["road_id"].nunique() == 233
    assert len(s) == 4
    assert s["length_m"].sum() == pytest.approx(401.1, abs=0.5)
    assert s["road_class"].value_counts().to_dict() == {"巷道": 3, "支路": 1}
    assert (s["length_m"] > 20).all() and (s["length_m"] < 250).all()
    # proposed sites: at most the class spacing apart along every stretch
    assert len(result["sites"]) == 18
