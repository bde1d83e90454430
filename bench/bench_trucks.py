"""Benchmark: GPS pings against truck no-parking zones and restricted roads (issues 7, 21).

zlgis: :func:`zlgis.analysis.trucks.pings_in_zones` and :func:`pings_on_restricted_roads`: pings
in zones by a bounding-box filter + ``shapely.intersects_xy`` per zone, pings near roads by one
``STRtree`` ``dwithin`` query (the library path: the hand-written ping grid did not make the
whole command 1.5x faster, see ``bench_kernels.py``), time windows as a minute-of-week mask
lookup, vehicle classes as a matrix lookup.

Baseline, what a competent numpy/geopandas user writes, per chunk of 1M pings: the same
bounding-box filter + ``shapely.intersects_xy`` per zone (issue 21: the fair zone baseline),
``geopandas.sjoin(predicate="dwithin")`` for roads, then pandas: local time via
``tz_convert("Asia/Shanghai")``, per zone and window boolean masks on weekday and minute of day
(windows crossing midnight belong to the day they start), vehicle classes by a merge. So the
ratio measures the time-window and class logic; the end-to-end ``zlgis check trucks`` time is in
``bench_kernels.py``.

Both must return the identical set of (ping, zone) and (ping, segment) pairs. The zones and roads
come from the large demo city (``big_demo_city()``) when it can be built, else from a synthetic
city of the same extent (reported in ``layers``). Pings: half along roads, half anywhere, times
uniform over one week, five vehicle types.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from shapely.geometry import LineString, box

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from _common import big_demo_city  # noqa: E402

from zlgis.analysis.timewindows import parse_windows, to_epoch_seconds  # noqa: E402
from zlgis.analysis.trucks import (  # noqa: E402
    pings_in_zones,
    pings_on_restricted_roads,
    vehicle_class_matches,
    zone_schedules,
)
from zlgis.crs import WORKING_CRS  # noqa: E402

VTYPES = np.array(["重型货车", "中型货车", "轻型货车", "渣土车", "重型半挂牵引车"], dtype=object)
TOL = 15.0
CHUNK = 1_000_000


# ----------------------------------------------------------------------------- layers

def _synthetic_layers(seed: int = 7) -> tuple[gpd.GeoDataFrame, gpd.GeoDataFrame]:
    rng = np.random.default_rng(seed)
    x0, y0, size = 470_000.0, 5_310_000.0, 16_000.0
    hours = ["07:00-09:00;17:00-19:00", "22:00-06:00", "07:00-20:00", "全天", "06:30-09:30"]
    weekend = ["", "09:00-18:00", "22:00-06:00", None]
    classes = ["", "重型货车;中型货车", "渣土车", "全部", "大货车"]
    geoms = []
    for i in range(40):
        cx, cy = x0 + rng.uniform(0, size), y0 + rng.uniform(0, size)
        if i % 2:
            geoms.append(box(cx, cy, cx + rng.uniform(300, 1500), cy + rng.uniform(300, 1500)))
        else:
            geoms.append(shapely.Point(cx, cy).buffer(rng.uniform(200, 700), quad_segs=32))
    zones = gpd.GeoDataFrame({
        "zone_id": [f"ZT{i + 1:03d}" for i in range(40)],
        "weekday_hours": [hours[i % len(hours)] for i in range(40)],
        "weekend_hours": [weekend[i % len(weekend)] for i in range(40)],
        "vehicle_classes": [classes[i % len(classes)] for i in range(40)]},
        geometry=geoms, crs=WORKING_CRS)
    segs = []
    for _ in range(80):
        n = int(rng.integers(2, 8))
        start = np.array([x0 + rng.uniform(0, size), y0 + rng.uniform(0, size)])
        steps = rng.normal(0, 400, (n, 2))
        segs.append(LineString(np.vstack([start, start + np.cumsum(steps, axis=0)])))
    roads = gpd.GeoDataFrame({
        "segment_id": [f"ST{i + 1:03d}" for i in range(80)],
        "hours": [hours[i % len(hours)] for i in range(80)],
        "vehicle_classes": [classes[i % len(classes)] or "货车" for i in range(80)]},
        geometry=segs, crs=WORKING_CRS)
    return zones, roads


def _layers(quick: bool) -> tuple[gpd.GeoDataFrame, gpd.GeoDataFrame, str]:
    if not quick:
        try:
            from zlgis.catalog import Catalog
            from zlgis.validate import load_layers

            cat = Catalog.load(big_demo_city() / "catalog.yaml")
            ls = load_layers(cat, ["truck_no_parking_zones", "truck_restricted_roads"])
            return ls["truck_no_parking_zones"], ls["truck_restricted_roads"], "big demo city"
        except Exception as exc:  # the demo generator may be unavailable: say so in the result
            zones, roads = _synthetic_layers()
            return zones, roads, f"synthetic ({type(exc).__name__})"
    zones, roads = _synthetic_layers()
    return zones, roads, "synthetic"


def _pings(n: int, zones: gpd.GeoDataFrame, roads: gpd.GeoDataFrame, seed: int = 11
           ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    minx, miny, maxx, maxy = pd.concat([zones.geometry, roads.geometry]).total_bounds
    half = n // 2
    x = np.empty(n)
    y = np.empty(n)
    x[:half] = rng.uniform(minx - 500, maxx + 500, half)
    y[:half] = rng.uniform(miny - 500, maxy + 500, half)
    lines = np.asarray(roads.geometry.values)
    which = rng.integers(0, len(lines), n - half)
    frac = rng.uniform(0, 1, n - half)
    pts = shapely.line_interpolate_point(lines[which], frac, normalized=True)
    x[half:] = shapely.get_x(pts) + rng.normal(0, 12, n - half)
    y[half:] = shapely.get_y(pts) + rng.normal(0, 12, n - half)
    t0 = int(to_epoch_seconds(["2022-08-01 00:00"])[0])
    t = t0 + rng.integers(0, 7 * 86400, n)
    vt = rng.integers(0, len(VTYPES), n).astype(np.intp)
    return x, y, t.astype(np.int64), vt


# ----------------------------------------------------------------------------- zlgis

def _zlgis(x, y, t, vt, zones, roads, scheds_z, scheds_r, mat_z, mat_r, which: str):
    out = {}
    if which in ("zones", "both"):
        out["zones"] = pings_in_zones(x, y, t, list(zones.geometry.values), scheds_z,
                                      vtype_codes=vt, class_matrix=mat_z)
    if which in ("roads", "both"):
        out["roads"] = pings_on_restricted_roads(x, y, t, list(roads.geometry.values), scheds_r,
                                                 TOL, vtype_codes=vt, class_matrix=mat_r)
    return out


# ----------------------------------------------------------------------------- baseline

_ALL_WEEK = object()


def _in_windows(mod: pd.Series, dow: pd.Series, weekday: Any, weekend: Any) -> pd.Series:
    """Plain pandas window test (weekend None repeats weekday; midnight windows start-day)."""
    wd = parse_windows(weekday)
    # the catalog's weekend column: an empty value means no weekend restriction;
    # no weekend column at all (restricted roads) repeats the weekday hours
    we = wd if weekend is _ALL_WEEK else parse_windows(weekend)
    is_wd = dow < 5
    prev_wd = ((dow - 1) % 7) < 5
    hit = pd.Series(False, index=mod.index)
    for windows, today, yesterday in ((wd, is_wd, prev_wd), (we, ~is_wd, ~prev_wd)):
        for w in windows:
            if w.end > w.start:
                hit |= today & (mod >= w.start) & (mod < w.end)
            else:
                hit |= today & (mod >= w.start)
                hit |= yesterday & (mod < w.end)
    return hit


def _bbox_zone_pairs(pts: gpd.GeoDataFrame, zl: gpd.GeoDataFrame) -> pd.DataFrame:
    """(ping, zone) rows: the pings in each zone's bounding box, ``shapely.intersects_xy``."""
    px, py = shapely.get_x(pts.geometry.values), shapely.get_y(pts.geometry.values)
    rows = []
    for f, poly in zip(zl["fidx"].to_numpy(), zl.geometry.values):
        x0, y0, x1, y1 = poly.bounds
        cand = np.flatnonzero((px >= x0) & (px <= x1) & (py >= y0) & (py <= y1))
        shapely.prepare(poly)
        hit = cand[shapely.intersects_xy(poly, px[cand], py[cand])]
        rows.append(pts.iloc[hit].assign(fidx=f))
    return pd.concat(rows) if rows else pts.iloc[:0].assign(fidx=0)


def _baseline(x, y, t, vt, zones, roads, which: str):
    zl = zones.reset_index(drop=True).assign(fidx=np.arange(len(zones)))
    rl = roads.reset_index(drop=True).assign(fidx=np.arange(len(roads)))
    allowed_z = pd.DataFrame([(v, j) for j, c in enumerate(zl["vehicle_classes"])
                              for v, ok in zip(range(len(VTYPES)),
                                               vehicle_class_matches(list(VTYPES), c)) if ok],
                             columns=["vt", "fidx"])
    allowed_r = pd.DataFrame([(v, j) for j, c in enumerate(rl["vehicle_classes"])
                              for v, ok in zip(range(len(VTYPES)),
                                               vehicle_class_matches(list(VTYPES), c)) if ok],
                             columns=["vt", "fidx"])
    res: dict[str, list] = {"zones": [], "roads": []}
    for s in range(0, len(x), CHUNK):
        e = min(s + CHUNK, len(x))
        pts = gpd.GeoDataFrame({"pid": np.arange(s, e), "t": t[s:e], "vt": vt[s:e]},
                               geometry=gpd.points_from_xy(x[s:e], y[s:e]), crs=WORKING_CRS)
        jobs = []
        if which in ("zones", "both"):
            jobs.append(("zones", _bbox_zone_pairs(pts, zl), zl, allowed_z, "weekday_hours",
                         "weekend_hours"))
        if which in ("roads", "both"):
            jobs.append(("roads", gpd.sjoin(pts, rl[["fidx", "geometry"]], predicate="dwithin",
                                            distance=TOL), rl, allowed_r, "hours", None))
        for key, j, layer, allowed, wd_field, we_field in jobs:
            j = pd.DataFrame(j.drop(columns="geometry")).merge(allowed, on=["vt", "fidx"])
            local = pd.to_datetime(j["t"], unit="s", utc=True).dt.tz_convert("Asia/Shanghai")
            j["mod"] = local.dt.hour * 60 + local.dt.minute
            j["dow"] = local.dt.day_of_week
            keep = pd.Series(False, index=j.index)
            for f, g in j.groupby("fidx"):
                we = layer[we_field].iloc[f] if we_field else _ALL_WEEK
                keep.loc[g.index] = _in_windows(g["mod"], g["dow"], layer[wd_field].iloc[f], we)
            j = j[keep]
            res[key].append(j[["pid", "fidx"]].to_numpy())
    return {k: (np.concatenate(v)[:, 0], np.concatenate(v)[:, 1]) for k, v in res.items() if v}


def _pairs(p: tuple[np.ndarray, np.ndarray]) -> np.ndarray:
    a = np.column_stack([np.asarray(p[0], np.int64), np.asarray(p[1], np.int64)])
    return a[np.lexsort((a[:, 1], a[:, 0]))]


# ----------------------------------------------------------------------------- main

def main(quick: bool = False) -> dict:
    n = 200_000 if quick else 10_000_000
    zones, roads, source = _layers(quick)
    x, y, t, vt = _pings(n, zones, roads)
    scheds_z = zone_schedules(zones)
    scheds_r = zone_schedules(roads, layer="truck_restricted_roads", weekday_field="hours",
                              weekend_field=None)
    mat_z = np.stack([vehicle_class_matches(list(VTYPES), c) for c in zones["vehicle_classes"]], 1)
    mat_r = np.stack([vehicle_class_matches(list(VTYPES), c) for c in roads["vehicle_classes"]], 1)
    figures: dict[str, Any] = {}
    repeat = 3 if quick else 2
    for which in ("zones", "roads"):
        best_z, best_b = float("inf"), float("inf")
        rz = rb = None
        for _ in range(repeat):
            t0 = time.perf_counter()
            rz = _zlgis(x, y, t, vt, zones, roads, scheds_z, scheds_r, mat_z, mat_r, which)
            best_z = min(best_z, time.perf_counter() - t0)
        for _ in range(1 if not quick else repeat):
            t0 = time.perf_counter()
            rb = _baseline(x, y, t, vt, zones, roads, which)
            best_b = min(best_b, time.perf_counter() - t0)
        same = np.array_equal(_pairs(rz[which]), _pairs(rb[which]))
        if not same:
            raise AssertionError(f"{which}: zlgis and baseline disagree")
        figures[which] = {"zlgis_s": round(best_z, 3), "baseline_s": round(best_b, 3),
                          "ratio": round(best_b / best_z, 2),
                          "pings_per_s": int(n / best_z), "matches": int(len(rz[which][0])),
                          "identical": same}
    return {"ratio": figures["zones"]["ratio"], "zone_pings_per_s": figures["zones"]["pings_per_s"],
            "roads_ratio": figures["roads"]["ratio"], "n_pings": n, "n_zones": len(zones),
            "n_segments": len(roads), "layers": source, **figures}


if __name__ == "__main__":
    import json

    print(json.dumps(main(quick="--quick" in sys.argv), ensure_ascii=False, indent=1))
