"""Facility coverage (zlgis/analysis/coverage.py) on a hand-built town and on the demo city."""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pytest
import shapely
from shapely.geometry import LineString, Point, box

from zlgis.analysis import coverage as cov
from zlgis.analysis.coverage import (
    facility_distances,
    land_samples,
    park_coverage,
    residential_buildings,
    run_check,
    service_areas,
    toilet_coverage,
    transfer_coverage,
    transfer_setbacks,
)
from zlgis.errors import InputError, LayerError
from zlgis.findings import FINDING_COLUMNS

CRS = "EPSG:4550"
X0, Y0 = 480_000.0, 5_319_000.0


def P(x, y):
    return Point(X0 + x, Y0 + y)


def B(x, y, s=10):
    return box(X0 + x - s / 2, Y0 + y - s / 2, X0 + x + s / 2, Y0 + y + s / 2)


def mini_town() -> dict[str, gpd.GeoDataFrame]:
    """A river (x 450-550) between 河东 (x 0-400) and 河西 (x 600-1000).

    Streets: a 100 m lattice on each bank; the only bridge is at y = 800. Houses stand 15 m
    off the streets. One toilet on the east bank at (390, 400), right across the river from
    the west-bank houses at x = 615.
    """
    lines, cls, bridge = [], [], []
    for x0, x1 in ((0, 400), (600, 1000)):
        for y in range(0, 801, 100):
            lines.append(LineString([(X0 + x0, Y0 + y), (X0 + x1, Y0 + y)]))
        for x in range(x0, x1 + 1, 100):
            lines.append(LineString([(X0 + x, Y0), (X0 + x, Y0 + 800)]))
    cls += ["支路"] * len(lines)
    bridge += [False] * len(lines)
    lines.append(LineString([(X0 + 400, Y0 + 800), (X0 + 600, Y0 + 800)]))
    cls.append("次干路")
    bridge.append(True)
    roads = gpd.GeoDataFrame({"road_id": [f"R{i}" for i in range(len(lines))],
                              "road_class": cls, "bridge": bridge, "width": 20.0},
                             geometry=lines, crs=CRS)
    houses, ids, pop, comp = [], [], [], []
    k = 0
    for side, xs in (("E", range(50, 400, 100)), ("W", range(650, 1000, 100))):
        for x in xs:
            for y in range(50, 800, 100):
                houses.append(B(x - 35, y))
                ids.append(f"B{k:03d}")
                pop.append(10 + (k % 7) * 5)
                comp.append(f"C{side}{(y // 200)}")
                k += 1
    # the houses on the west bank facing the toilet across the river
    for y in (390, 410):
        houses.append(B(615, y))
        ids.append(f"B{k:03d}")
        pop.append(40)
        comp.append("CW1")
        k += 1
    use = ["住宅"] * len(houses)
    # a public building and the transfer station's own building and a close neighbour
    houses += [B(150, 650, 20), B(205, 215, 8), B(212, 200, 6)]
    ids += ["PUB1", "TS-BLD", "NEAR1"]
    use += ["公共服务", "市政设施", "仓储"]
    pop += [0, 0, 0]
    comp += [None, None, None]
    buildings = gpd.GeoDataFrame({"building_id": ids, "use": use, "population": pop,
                                  "compound_id": comp, "floors": 3},
                                 geometry=houses, crs=CRS)
    comps, cids, cdist = [], [], []
    for side, x0, x1, d in (("E", 0, 400, "河东"), ("W", 600, 1000, "河西")):
        for j in range(4):
            comps.append(box(X0 + x0 + 5, Y0 + j * 200 + 5, X0 + x1 - 5, Y0 + j * 200 + 195))
            cids.append(f"C{side}{j}")
            cdist.append(d)
    compounds = gpd.GeoDataFrame({"compound_id": cids, "name": cids, "district": cdist,
                                  "under_construction": False,
                                  "population": 500}, geometry=comps, crs=CRS)
    toilets = gpd.GeoDataFrame({"toilet_id": ["WC1"], "name": ["东岸公厕"]},
                               geometry=[P(390, 400)], crs=CRS)
    parks = gpd.GeoDataFrame({
        "park_id": ["PK1", "PK2"], "name": ["东园", "西园"], "category": ["社区公园", "口袋公园"],
        "area_m2": [6400.0, 900.0]},
        geometry=[box(X0 + 110, Y0 + 110, X0 + 190, Y0 + 190),
                  box(X0 + 910, Y0 + 710, X0 + 940, Y0 + 740)], crs=CRS)
    stations = gpd.GeoDataFrame({
        "station_id": ["TS1", "TS2"], "name": ["东站", "西站规划"], "capacity_tpd": [100.0, 200.0],
        "status": ["运行", "规划"], "collection_mode": ["人力", "小型机动车"]},
        geometry=[P(205, 210), P(800, 420)], crs=CRS)
    grids = gpd.GeoDataFrame({
        "grid_id": ["150783001001001", "150783002001001"], "district": ["河东", "河西"],
        "road_chief": ["甲", "乙"]},
        geometry=[box(X0 - 50, Y0 - 50, X0 + 500, Y0 + 850),
                  box(X0 + 500, Y0 - 50, X0 + 1050, Y0 + 850)], crs=CRS)
    return {"roads": roads, "buildings": buildings, "residential_compounds": compounds,
            "toilets": toilets, "parks": parks, "transfer_stations": stations, "grids": grids}


@pytest.fixture()
def town():
    return mini_town()


# ----------------------------------------------------------------------------- distances

def test_river_makes_the_circle_lie(town):
    radius = toilet_coverage(town, method="radius")
    network = toilet_coverage(town, method="network")
    across = radius.demand["building_id"].isin(["B064", "B065"])
    assert across.sum() == 2
    assert radius.demand.loc[across, "covered"].all()
    assert not network.demand.loc[across, "covered"].any()
    # the honest distance goes round by the only bridge at y = 800
    d = network.demand.loc[across, "distance_network"]
    assert (d > 2 * (800 - 410)).all()
    assert (network.demand["distance_network"] >= network.demand["distance_straight"] - 1e-6).all()
    # fewer buildings covered by walking than by circle
    assert network.indicator("buildings") < radius.indicator("buildings")


def test_indicators_are_the_shares_of_the_distances(town):
    res = toilet_coverage(town, method="network")
    dem = res.demand
    cov_ = (dem["distance"] <= 300).to_numpy()
    assert (cov_ == dem["covered"].to_numpy()).all()
    assert res.indicator("buildings") == pytest.approx(cov_.mean())
    pop = dem["population"].to_numpy()
    assert res.indicator("population") == pytest.approx(pop[cov_].sum() / pop.sum())
    east = dem["district"] == "河东"
    assert res.indicator("buildings", "河东") == pytest.approx(cov_[east].mean())
    assert res.indicator("buildings", "河西") == 0.0
    land = res.land
    assert land["area_m2"].sum() == pytest.approx(town["residential_compounds"].area.sum())
    lc = land["covered"].to_numpy()
    assert res.indicator("land") == pytest.approx(land["area_m2"][lc].sum() / land["area_m2"].sum())
    row = res.indicators.iloc[0]
    assert row["source"].startswith("GB 55013-2021") and row["radius_m"] == 300
    # per grid cell table adds up
    g = res.by_grid.set_index("grid_id")
    assert g["buildings"].sum() == len(dem)
    assert g.loc["150783002001001", "buildings_covered"] == 0


def test_facility_distances_variable_radius_picks_most_slack(town):
    dem = gpd.GeoDataFrame(geometry=[P(0, 0)], crs=CRS)
    fac = gpd.GeoDataFrame(geometry=[P(100, 0), P(300, 0)], crs=CRS)
    r = facility_distances(dem, fac, radius=np.array([50.0, 400.0]), method="radius")
    assert r.loc[0, "covered"] and r.loc[0, "facility"] == 1
    assert r.loc[0, "distance"] == pytest.approx(300)
    g = cov.street_graph(town)
    r = facility_distances(dem, fac, radius=np.array([50.0, 400.0]), method="network", graph=g)
    assert r.loc[0, "covered"] and r.loc[0, "facility"] == 1
    assert r.loc[0, "distance_network"] == pytest.approx(300)
    r = facility_distances(dem, fac, radius=np.array([50.0, 250.0]), method="network", graph=g)
    assert not r.loc[0, "covered"]
    with pytest.raises(InputError):
        facility_distances(dem, fac, radius=1.0, method="bogus")


def test_service_areas_network_inside_circle(town):
    g = cov.street_graph(town)
    t = town["toilets"]
    net = service_areas(t, radius=300, method="network", graph=g, buffer=20)
    circ = service_areas(t, radius=300, method="radius")
    assert len(net) == 1 and len(circ) == 1
    assert net.area.iloc[0] < circ.area.iloc[0]
    assert shapely.within(net.geometry.iloc[0], circ.buffer(20.5).geometry.iloc[0])
    # no walking service area across the river
    west = box(X0 + 560, Y0, X0 + 1000, Y0 + 800)
    assert not net.geometry.iloc[0].intersects(west)
    assert circ.geometry.iloc[0].intersects(west)


def test_uncovered_clusters_become_findings(town):
    res = toilet_coverage(town, method="network")
    f = res.findings
    assert list(f.columns) == list(FINDING_COLUMNS) + ["geometry"]
    assert set(f["rule"]) == {"toilet_uncovered"}
    assert (f["task_id"] == "4.2.8").all()
    assert (f["lead_department"] == "housing_construction").all()
    assert f["rule_source"].str.contains("GB 55013-2021").all()
    # the west bank is one big uncovered cluster, including the houses facing the toilet
    across = res.demand.set_index("building_id").loc[["B064", "B065"], "geometry"]
    hit = [f.geometry.contains(p).any() for p in across]
    assert all(hit)
    assert (f["grid_id"] != "").all()
    assert (f["measure"] > 300).all()
    # findings name the residential compounds (the demo city's truth does too)
    assert set(f["layer"]) == {"residential_compounds"}
    named = set(f["feature_id"]) | {i for s in f["related_ids"] for i in s.split(";") if i}
    assert {"CW0", "CW1", "CW2", "CW3"} <= named
    import json
    m = [json.loads(x) for x in f["measures"]]
    assert sum(x["buildings"] for x in m) <= int((~res.demand["covered"]).sum())
    assert len(res.uncovered) >= len(f)


def test_density_by_land_use_class(town):
    res = toilet_coverage(town, method="radius")
    d = res.tables["density"]
    city = d[d["district"] == "全市"].set_index("class")
    assert set(city.index) == {"R", "ABS", "G"}
    # the toilet stands on the sidewalk between two compounds: it serves residential land
    assert city.loc["R", "toilets"] == 1 and city.loc["G", "toilets"] == 0
    assert city.loc["R", "density_per_km2"] == pytest.approx(1 / city.loc["R", "area_km2"])
    assert city.loc["R", "status"] == "偏低"  # 1.7 per km2, below GB/T 50337's 3-5
    parks = town["parks"].union_all()
    # areas are measured on a 10 m lattice: within a few per cent
    assert city.loc["R", "area_km2"] == pytest.approx(
        town["residential_compounds"].difference(parks).area.sum() / 1e6, rel=0.1)
    assert city.loc["G", "area_km2"] == pytest.approx(town["parks"].area.sum() / 1e6, rel=0.2)
    east = d[d["district"] == "河东"].set_index("class")
    west = d[d["district"] == "河西"].set_index("class")
    assert east.loc["R", "area_km2"] + west.loc["R", "area_km2"] == pytest.approx(
        city.loc["R", "area_km2"])
    assert city.loc["ABS", "toilets"] == 0 or city.loc["ABS", "area_km2"] > 0
    assert city.loc["G", "status"] == "偏低"
    assert (d["source"].str.contains("GB/T 50337-2018")).all()


# ----------------------------------------------------------------------------- transfer

def test_transfer_setbacks_and_modes(town):
    table, f = transfer_setbacks(town)
    t = table.set_index("station_id")
    # TS1 (100 t/d, class small: 10 m) has a warehouse 4 m away; its own building is ignored
    assert not t.loc["TS1", "ok"] and t.loc["TS1", "nearest_building"] == "NEAR1"
    assert t.loc["TS1", "required_m"] == 10
    assert t.loc["TS1", "distance_m"] == pytest.approx(
        town["buildings"].set_index("building_id").geometry["NEAR1"].distance(P(205, 210)))
    assert t.loc["TS2", "required_m"] == 15 and t.loc["TS2", "ok"]
    assert list(f["rule"]) == ["transfer_station_distance"]
    assert f["feature_id"].iloc[0] == "TS1" and f["related_ids"].iloc[0] == "NEAR1"
    res = transfer_coverage(town, method="network")
    ind = res.indicators
    manual = ind[ind["indicator"].str.startswith("人力") & (ind["district"] == "全市")]
    assert len(manual) == 1
    dem = res.demand
    # only the running manual station serves: 400 m by the roads, 1 km at most
    assert (dem.loc[dem["covered"], "distance"] <= 400 + 1e-6).all()
    assert (dem.loc[~dem["covered_max"], "distance_max_rule"] > 1000).all()
    assert {"transfer_uncovered", "transfer_station_distance"} <= set(res.findings["rule"])


# ----------------------------------------------------------------------------- parks

def test_park_presets(town):
    res = park_coverage(town, method="network", preset="gbt51346")
    pres = res.tables["presets"].set_index("preset")
    # the 900 m2 pocket park does not count for MOHURD 2021 (below 2000 m2), it does for GB/T
    assert pres.loc["mohurd2021", "parks_counted"] == 1
    assert pres.loc["gbt51346", "parks_counted"] == 2
    assert pres.loc["mohurd2021", "land_share"] <= pres.loc["gbt51346", "land_share"]
    assert res.indicator("land") == pytest.approx(pres.loc["gbt51346", "land_share"])
    # district targets of GB/T 51346-2019: old town 80 %, new district 100 %
    ind = res.indicators[res.indicators["measure"] == "land"].set_index("district")
    assert ind.loc["河东", "target"] == 0.8 and ind.loc["河西", "target"] == 1.0
    assert ind.loc["全市", "target"] == 0.9
    f = res.findings
    assert set(f["rule"]) <= {"park_uncovered"} and len(f)
    assert (f["task_id"] == "3.1.1").all()
    assert (f["layer"] == "residential_compounds").all()
    radius = park_coverage(town, method="radius", preset="mohurd2021")
    assert radius.indicator("land") >= res.tables["presets"].set_index("preset").loc[
        "mohurd2021", "land_share"] - 1e-9
    with pytest.raises(InputError):
        park_coverage(town, preset="nope")


# ----------------------------------------------------------------------------- the check

def test_run_check_stable_and_complete(town):
    f1 = run_check(None, dict(town))
    f2 = run_check(None, dict(town))
    assert list(f1["finding_id"]) == list(f2["finding_id"])
    assert f1["finding_id"].is_unique
    assert set(f1["rule"]) == {"toilet_uncovered", "transfer_uncovered",
                               "transfer_station_distance", "park_uncovered"}
    assert (f1["check"] == "coverage").all()
    assert f1.crs.to_epsg() == 4550


def test_missing_layer_and_bad_facility(town):
    del town["toilets"]
    with pytest.raises(LayerError):
        toilet_coverage(town)
    t = mini_town()
    t["toilets"] = gpd.GeoDataFrame({"toilet_id": ["a"]}, geometry=[None], crs=CRS)
    with pytest.raises(InputError, match="第 1 行"):
        toilet_coverage(t)


def test_land_samples_weights():
    comp = gpd.GeoDataFrame({"compound_id": ["a", "tiny"], "district": ["河东", "河西"]},
                            geometry=[box(0, 0, 95, 47), box(500, 500, 505, 503)], crs=CRS)
    s = land_samples({"residential_compounds": comp}, spacing=10)
    per = s.groupby("compound_id")["area_m2"].sum()
    assert per["a"] == pytest.approx(95 * 47) and per["tiny"] == pytest.approx(15)
    assert (s.groupby("compound_id").size()["tiny"]) == 1
    assert set(s["district"]) == {"河东", "河西"}


# ----------------------------------------------------------------------------- demo city

def test_demo_city_planted_unserved_areas_found(demo_catalog, demo_truth):
    from zlgis.findings import concat_findings
    from zlgis.validate import load_layers

    layers = load_layers(demo_catalog, ["roads", "buildings", "residential_compounds", "toilets",
                                        "transfer_stations", "parks", "grids", "red_lines"])
    truth = demo_truth[demo_truth["check"] == "coverage"]
    assert len(truth[truth["expect"] == "flag"]), "the demo city plants coverage cases"
    run = {"toilet_uncovered": cov.toilet_coverage, "park_uncovered": cov.park_coverage,
           "transfer_uncovered": cov.transfer_coverage,
           "transfer_station_distance": cov.transfer_coverage}
    results = {fn: fn(layers, method="network", detail=False)
               for fn in {run[r] for r in truth["rule"]}}
    found = concat_findings([r.findings for r in results.values()])
    for rule, rows in truth.groupby("rule"):
        got = found[found["rule"] == rule]
        named = set(got["feature_id"]) | {i for s in got["related_ids"] for i in s.split(";")}
        for r in rows.itertuples():
            hit = r.feature_id in named
            if r.x and r.y:
                p = Point(float(r.x), float(r.y))
                hit = hit or (len(got) and got.geometry.distance(p).min() <= 50)
            if r.expect == "flag":
                assert hit, f"planted case {r.case_id} ({rule}) not found"
            else:
                assert r.feature_id not in named, f"near-miss {r.case_id} ({rule}) flagged"
    # every other dwelling of the demo city is served by walking: no false alarms
    toilets = found[found["rule"] == "toilet_uncovered"]
    planted = set(truth.loc[(truth["rule"] == "toilet_uncovered") & (truth["expect"] == "flag"),
                            "feature_id"])
    assert set(toilets["feature_id"]) == planted
    # the riverside compound is a straight-line near case: by road it is far
    res = results[cov.toilet_coverage]
    across = truth[truth["related_id"] != ""]
    for r in across.itertuples():
        d = res.demand[res.demand["compound_id"] == r.feature_id]
        assert (d["distance_network"] > d["distance_straight"] + 300).all()
        t = layers["toilets"]
        # without detail the homes are given by their coordinates
        nearest = t.geometry.distance(Point(d["x"].iloc[0], d["y"].iloc[0])).idxmin()
        assert t.loc[nearest, "toilet_id"] == r.related_id  # just across the river
        assert d["facility"].iloc[0] != r.related_id  # ... but not the one you walk to


def test_uncovered_areas_grid_linking_for_big_gaps(monkeypatch):
    """City-wide gaps are linked through cells; same clusters as the exact footprint method."""
    rng = np.random.default_rng(0)
    pts = np.r_[rng.uniform(0, 500, (300, 2)), rng.uniform(3000, 3500, (300, 2))]
    g = gpd.GeoDataFrame({"building_id": [f"B{i:04d}" for i in range(600)]},
                         geometry=shapely.points(pts + [X0, Y0]), crs=CRS)
    exact = cov.uncovered_areas(g, np.zeros(600, bool), cluster_distance=100)
    from zlgis.analysis import coverage_clusters

    monkeypatch.setattr(coverage_clusters, "_EXACT_CLUSTER_MAX", 10)
    cells = cov.uncovered_areas(g, np.zeros(600, bool), cluster_distance=100)
    assert exact[["cluster", "n"]].values.tolist() == [["B0000", 300], ["B0300", 300]]
    assert cells[["cluster", "n"]].values.tolist() == exact[["cluster", "n"]].values.tolist()
    assert all(c.contains(p) for c, p in zip(cells.geometry, [Point(X0 + 250, Y0 + 250),
                                                              Point(X0 + 3250, Y0 + 3250)]))


def test_residential_buildings_made_once_per_run(town):
    """In a run the three topics share one demand frame, equal to the one made outside."""
    from zlgis.analysis.run_cache import run_cache

    alone = residential_buildings(town)
    with run_cache() as cache:
        a = residential_buildings(town)
        hits = cache.hits
        a["covered"] = True  # a caller's column stays its own
        b = residential_buildings(town)
        assert cache.hits == hits + 1
        other = dict(town, buildings=town["buildings"].iloc[:5])
        assert len(residential_buildings(other)) < len(alone)  # other layers: its own frame
    assert "covered" not in b
    for frame in (a.drop(columns="covered"), b):
        assert frame.columns.tolist() == alone.columns.tolist()
        for c in alone.columns:
            assert frame[c].equals(alone[c]), c


def test_residential_buildings_by_coordinates(town):
    """Without geometry the homes are the same points, ids, grids and districts, given by their
    coordinates; every topic finds the same without detail either way."""
    pts = residential_buildings(town)
    xy = residential_buildings(town, geometry=False)
    assert not isinstance(xy, gpd.GeoDataFrame) and "geometry" not in xy
    assert np.array_equal(xy[["x", "y"]].to_numpy(), shapely.get_coordinates(pts.geometry.values))
    for c in ("building_id", "population", "compound_id", "grid_id", "district"):
        assert xy[c].tolist() == pts[c].tolist(), c
    # the footprints by their rows in the buildings layer, the same objects, read when asked
    from zlgis.analysis.coverage_inputs import footprints_of
    fp = footprints_of(xy, town)
    assert "footprint" not in xy and fp.crs == pts.crs and len(fp) == len(pts)
    assert all(a is b for a, b in zip(fp.select(np.ones(len(fp), bool)), pts["footprint"].values))
    # the topics' demand without detail is this frame: same distances and findings
    for fn in (toilet_coverage, park_coverage, transfer_coverage):
        lean, full = fn(town, detail=False), fn(town)
        assert not isinstance(lean.demand, gpd.GeoDataFrame)
        for c in ("distance", "covered", "facility"):
            assert lean.demand[c].tolist() == full.demand[c].tolist(), (fn.__name__, c)
        assert lean.findings.crs == full.findings.crs
        assert lean.findings["finding_id"].tolist() == full.findings["finding_id"].tolist()
