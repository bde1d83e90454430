"""Trucks of the demo city (zlgis/demo/trucks.py): planted cases in a week of pings."""

from __future__ import annotations

import pandas as pd
import shapely
from shapely.geometry import Point


def test_truck_cases_are_in_the_pings(demo_truth, demo_layers):
    from zlgis.analysis.timewindows import WeeklySchedule, to_epoch_seconds

    pings = demo_layers["truck_pings"]
    zones = demo_layers["truck_no_parking_zones"].set_index("zone_id")
    t = demo_truth[(demo_truth["rule"] == "no_parking_zone") &
                   (demo_truth["layer"] == "truck_pings")]
    assert len(t) >= 3
    for r in t.itertuples():
        z = zones.loc[r.related_id]
        p = pings[(pings["plate"] == r.feature_id) & (pings["speed_kmh"] == 0)]
        inside = p[p.within(z.geometry)]
        assert len(inside) >= 5, r.case_id
        sched = WeeklySchedule.from_text(z["weekday_hours"], weekend=z["weekend_hours"] or "")
        secs = to_epoch_seconds(inside["time"].astype(str).tolist())
        assert bool(sched.contains(secs).any()) == (r.expect == "flag"), r.case_id
    zombie = demo_truth[demo_truth["rule"] == "zombie_vehicle"].iloc[0]
    z = pings[pings["plate"] == zombie.feature_id]
    assert (z["speed_kmh"] == 0).all()
    assert z.geometry.distance(Point(float(zombie.x), float(zombie.y))).max() < 30
    patrol = demo_layers["patrol_observations"]
    zp = patrol[patrol["plate"] == zombie.feature_id]
    days = (pd.to_datetime(zp["time"]).max() - pd.to_datetime(zp["time"]).min()).days
    assert days > 7
    # GCJ-02 patrol positions land where the truck stands once converted
    assert zp.geometry.distance(Point(float(zombie.x), float(zombie.y))).max() < 15
    roads = demo_layers["roads"]
    corridor = roads[roads["name"] == "南入口大街"].union_all()
    assert corridor.distance(Point(float(zombie.x), float(zombie.y))) < 20


def test_week_of_pings(demo_layers):
    p = demo_layers["truck_pings"]
    t = pd.to_datetime(p["time"])
    assert t.min() >= pd.Timestamp("2022-08-29") and t.max() < pd.Timestamp("2022-09-05")
    assert p["plate"].nunique() >= 30
    assert {"渣土车", "重型货车"} <= set(p["vehicle_type"])
    moving = p[p["speed_kmh"] > 5]
    tree = shapely.STRtree(demo_layers["roads"].geometry.values)
    _, d = tree.query_nearest(moving.geometry.values, return_distance=True, all_matches=False)
    # on the streets, or in the yard of a depot or a site next to one
    assert len(d) == len(moving) and (d < 80.0).all()
    assert (d < 1.0).mean() > 0.75
