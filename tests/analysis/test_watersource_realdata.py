"""Water-source zones on real data: the rivers and 4,708 buildings of Swellendam (South Africa).

No protection zone is published for Swellendam, so the land zones are drawn from the real river
lines with HJ 338-2018's land widths (:func:`river_zones`: 50 m level 1, 1000 m level 2), in the
town's own UTM CRS, and the real buildings are checked against them. ``rivers.shp`` has 19
records of which 7 have no geometry (a real bad input): they are counted, not fatal.
"""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import shapely

from zlgis.analysis.watersource import river_zones, run_check, zone_buildings

UTM_34S = "EPSG:32734"
# OSM building tags read as zlgis uses: sheds, garages and hangars store goods (仓储)
USE = {"shed": "仓储", "garage": "仓储", "hangar": "仓储", "house": "住宅", "yes": "其他"}


def _swellendam(realdata):
    rivers = gpd.read_file(realdata / "swellendam" / "rivers.shp").to_crs(UTM_34S)
    b = gpd.read_file(realdata / "swellendam" / "training_data.gpkg", layer="buildings")
    b = b.to_crs(UTM_34S).rename(columns={"full_id": "building_id"})
    b["use"] = b["building"].map(USE).fillna("其他")
    return rivers, b


def test_river_zones_from_real_rivers(realdata):
    rivers, b = _swellendam(realdata)
    zones = river_zones(rivers, name="Swellendam")
    assert len(rivers) == 19 and zones.attrs["skipped"] == 7     # 7 records without geometry
    t = zone_buildings(zones, b)
    # independent count: buildings whose footprint comes within 50 m of a river line
    d = shapely.distance(np.asarray(b.geometry.values),
                         shapely.union_all(np.asarray(rivers.geometry.dropna().values)))
    assert (t["rule"] == "water_zone1_building").sum() == (d < 50).sum() == 80
    # 80 of 4,708: the town lies on the Koornlands river; a handful of farmsteads sit on the banks
    lvl2 = t[t["rule"] == "water_zone2_polluting"]
    want = b.loc[(d >= 50) & (d < 1000) & b["use"].isin(["仓储"]).to_numpy(), "building_id"]
    assert set(lvl2["building_id"]) == set(want) and len(lvl2) == len(want)


def test_weekly_adapter_on_real_zones_and_buildings(realdata):
    rivers, b = _swellendam(realdata)
    f = run_check(None, {"water_source_zones": river_zones(rivers), "buildings": b})
    assert set(f["rule"]) <= {"water_zone1_building", "water_zone2_polluting"}
    assert (f["rule"] == "water_zone1_building").sum() == 80
    assert f.crs == b.crs                        # the city's own CRS, not EPSG:4550
    assert any("construction_sites" in n for n in f.attrs["notes"])
