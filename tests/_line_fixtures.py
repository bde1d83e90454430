"""Hand-made layers for the control-line tests (imported by tests/analysis/test_*.py)."""

from __future__ import annotations

import json

import geopandas as gpd
from shapely.geometry import box

CRS = "EPSG:4550"
X0, Y0 = 480_000.0, 5_300_000.0


def B(x0, y0, x1, y1):
    """A box in local metres, placed at a realistic EPSG:4550 position."""
    return box(X0 + x0, Y0 + y0, X0 + x1, Y0 + y1)


def buildings(rows):
    """rows: (id, geometry, height[, extra dict])"""
    data = {"building_id": [r[0] for r in rows], "height": [r[2] for r in rows],
            "permit_status": [(r[3] if len(r) > 3 else {}).get("permit_status", "已批") for r in rows],
            "line_permit": [(r[3] if len(r) > 3 else {}).get("line_permit") for r in rows]}
    return gpd.GeoDataFrame(data, geometry=[r[1] for r in rows], crs=CRS)


def red_lines(rows):
    """rows: (id, geometry, road_class)"""
    return gpd.GeoDataFrame({"line_id": [r[0] for r in rows], "road_class": [r[2] for r in rows],
                             "road_name": [f"路{r[0]}" for r in rows]},
                            geometry=[r[1] for r in rows], crs=CRS)


def zone(rows):
    return gpd.GeoDataFrame({"line_id": [r[0] for r in rows], "name": [r[0] for r in rows]},
                            geometry=[r[1] for r in rows], crs=CRS)


def by_key(f):
    return {(r.rule, r.feature_id, r.related_ids): r for r in f.itertuples()}


def measures(row):
    return json.loads(row.measures)


# a straight 支路 along y in [0, 16] (low-rise setback 3 m, multi-storey 5 m)
STREET = ("R1", B(0, 0, 400, 16), "支路")
