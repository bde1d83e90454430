"""Heat-station supply areas, loads, hazards, complaints and works (zlgis/analysis/heating.py)."""

from __future__ import annotations

from datetime import date

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
from shapely.geometry import LineString, Point, box

from zlgis.analysis.heating import (
    check_stations,
    complaints_by_station,
    heated_buildings,
    station_hazards,
    station_loads,
    supply_areas,
    supply_areas_networkx,
    works_against_permits,
)
from zlgis.analysis.network import StreetGraph
from zlgis.errors import InputError


def _town(seed=0, nx_=9, ny_=8, step=120.0):
    """A street grid with buildings in the blocks and stations on some of them."""
    rng = np.random.default_rng(seed)
    lines = [LineString([(0, j * step), ((nx_ - 1) * step, j * step)]) for j in range(ny_)]
    lines += [LineString([(i * step, 0), (i * step, (ny_ - 1) * step)]) for i in range(nx_)]
    roads = gpd.GeoDataFrame({"road_id": [f"R{k}" for k in range(len(lines))],
                              "road_class": "支路"}, geometry=lines, crs="EPSG:4550")
    xy = rng.uniform(10, (nx_ - 1) * step - 10, (400, 2))
    b = gpd.GeoDataFrame({"building_id": [f"B{k}" for k in range(len(xy))],
                          "use": rng.choice(["住宅", "商业", "工业"], len(xy)),
                          "floors": rng.integers(1, 8, len(xy))},
                         geometry=[box(x - 6, y - 5, x + 6, y + 5) for x, y in xy], crs="EPSG:4550")
    sxy = rng.uniform(0, (nx_ - 1) * step, (9, 2))
    st = gpd.GeoDataFrame({"station_id": [f"S{k}" for k in range(len(sxy))],
                           "company": rng.choice(["甲", "乙"], len(sxy)),
                           "capacity_m2": rng.uniform(5e3, 2e4, len(sxy))},
                          geometry=[Point(x, y) for x, y in sxy], crs="EPSG:4550")
    return StreetGraph.from_roads(roads), b, st


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_supply_areas_same_as_networkx(seed):
    g, b, st = _town(seed)
    hb = heated_buildings(b)
    assert set(b.loc[b["use"] == "工业", "building_id"]).isdisjoint(hb["building_id"])
    ours = supply_areas(hb, st, graph=g)
    ref = supply_areas_networkx(hb, st, graph=g)
    np.testing.assert_allclose(ours["distance_m"], ref["distance_m"], rtol=0, atol=1e-6)
    # identical areas (a building exactly half-way between two stations may go either way)
    differ = ours["station_id"] != ref["station_id"]
    assert not differ.any(), ours[differ]


def test_heated_area_is_footprint_times_floors():
    b = gpd.GeoDataFrame({"building_id": ["a", "b"], "use": ["住宅", "住宅"], "floors": [3, None],
                          "under_construction": [False, True]},
                         geometry=[box(0, 0, 10, 20), box(0, 0, 5, 5)], crs="EPSG:4550")
    hb = heated_buildings(b)
    assert hb["heated_m2"].tolist() == [600.0]   # 10 x 20 x 3; the building under construction is out


def test_loads_margins_and_exact_capacity():
    st = gpd.GeoDataFrame({"station_id": ["A", "B", "C"], "company": ["甲"] * 3,
                           "capacity_m2": [1000.0, 500.0, 1000.0]},
                          geometry=[Point(0, 0)] * 3, crs="EPSG:4550")
    sup = pd.DataFrame({"building_id": ["1", "2", "3", "4"], "heated_m2": [600.0, 400.0, 501.0, 980.0],
                        "station_id": ["A", "A", "B", "C"]})
    t = station_loads(st, sup, tight_margin=0.05).set_index("station_id")
    assert not t.loc["A", "overloaded"] and t.loc["A", "margin_m2"] == 0 and t.loc["A", "tight"]
    assert t.loc["B", "overloaded"] and t.loc["B", "margin_m2"] == -1
    assert not t.loc["C", "overloaded"] and t.loc["C", "tight"] and t.loc["C", "buildings"] == 1


def test_station_without_capacity_names_row_and_field():
    st = gpd.GeoDataFrame({"station_id": ["HR001", "HR002"], "capacity_m2": [5e4, None]},
                          geometry=[Point(0, 0), Point(1, 1)], crs="EPSG:4550")
    with pytest.raises(InputError) as e:
        check_stations(st)
    assert (e.value.layer, e.value.row, e.value.field) == ("heat_stations", 2, "capacity_m2")
    assert "HR002" in str(e.value) and "设计供热能力" in str(e.value)


def test_hazard_ledger_and_overhaul_due_date():
    st = gpd.GeoDataFrame({"station_id": ["A", "B", "C", "D"], "company": ["甲"] * 4,
                           "hazards": ["阀门内漏；循环泵异响", "板式换热器结垢", None, None],
                           "hazards_open": [None, 0, None, None],
                           "overhaul_done": [date(2022, 8, 1), date(2022, 8, 31), None,
                                             date(2022, 9, 1)]},
                          geometry=[Point(0, 0)] * 4, crs="EPSG:4550")
    before = station_hazards(st, as_of=date(2022, 8, 31))
    after = station_hazards(st, as_of=date(2022, 9, 1)).set_index("station_id")
    assert before["hazards_open"].tolist() == [2, 0, 0, 0]   # A counts its two listed items
    assert before["overhaul_overdue"].tolist() == [False, False, False, True]   # D finished late
    assert after["overhaul_overdue"].tolist() == [False, False, True, True]     # C now overdue


def test_complaints_per_station_and_company():
    g, b, st = _town(0)
    cases = gpd.GeoDataFrame({"case_id": ["c1", "c2", "c3"], "category": ["供热", "路灯照明", "其他"],
                              "text": ["暖气不热", "路灯不亮", "家里室温只有12度"],
                              "received_at": pd.to_datetime(["2022-01-05"] * 3)},
                             geometry=[st.geometry.iloc[0], st.geometry.iloc[0],
                                       st.geometry.iloc[1]], crs="EPSG:4550")
    per, comp = complaints_by_station(cases, st, graph=g)
    assert per["complaints"].sum() == 2                  # the street-lamp case is not heating
    assert per.set_index("station_id").loc["S0", "case_ids"] == "c1"
    assert comp["complaints"].sum() == 2 and comp["stations"].sum() == len(st)


def test_works_against_permits_dates_and_length():
    works = gpd.GeoDataFrame({"work_id": ["w1", "w2", "w3", "w4"], "station_id": ["S"] * 4,
                              "start_date": [date(2022, 8, 1)] * 4,
                              "end_date": [date(2022, 8, 20)] * 4},
                             geometry=[LineString([(0, 0), (100, 0)]),
                                       LineString([(0, 50), (100, 50)]),
                                       LineString([(0, 100), (100, 100)]),
                                       LineString([(0, 150), (100, 150)])], crs="EPSG:4550")
    permits = gpd.GeoDataFrame({"permit_id": ["p1", "p2", "p3"],
                                "start_date": [date(2022, 8, 1), date(2022, 8, 1), date(2022, 8, 1)],
                                "end_date": [date(2022, 8, 20), date(2022, 8, 19), date(2022, 8, 31)]},
                               geometry=[box(-1, -3, 101, 3), box(-1, 47, 101, 53),
                                         box(-1, 97, 94, 103)], crs="EPSG:4550")
    t = works_against_permits(works, permits).set_index("work_id")
    assert t.loc["w1", "permitted"] and t.loc["w1", "permit_ids"] == "p1"   # dates exactly equal
    assert not t.loc["w2", "permitted"]          # permit ends a day before the works
    assert not t.loc["w3", "permitted"] and t.loc["w3", "permitted_share"] == pytest.approx(0.94)
    assert not t.loc["w4", "permitted"] and t.loc["w4", "permitted_m"] == 0
