"""Facility coverage: who is NOT served by public toilets, transfer stations and parks.

Coverage is measured by straight-line radius or, honestly, by walking distance over the street
network (:mod:`zlgis.analysis.network`): a 300 m circle lies when a river lies in between.
Every radius and target comes from ``zlgis/config/coverage.yaml`` with its source:

* toilets: 300 m (GB 55013-2021 §5.0.1); density per km2 by land-use class against
  GB/T 50337-2018 表4.2.2;
* transfer stations: by collection mode, manual 0.4 km (at most 1 km), small vehicles 3 km (at
  most 5 km) (CJJ/T 47-2016 §2.2.7); distance to neighbouring buildings 10 / 15 / 30 m by
  capacity class (CJJ/T 47-2016);
* parks: MOHURD 2021 (>= 5000 m2: 500 m; 2000-5000 m2: 300 m) and GB/T 51346-2019 §4.3.4
  (500 m; > 90 % overall, old town 80 %, new district 100 %), measured on residential land.

Demand is residential buildings (count and population) and residential land (compounds,
sampled by a regular lattice of points so that covered *area* is measured). Results: per-demand
distances, coverage tables per district and grid cell, service-area and uncovered-area polygons
and findings for uncovered clusters (:func:`run_check`).

Examples
--------
>>> import geopandas as gpd
>>> from shapely.geometry import LineString, Point, box
>>> roads = gpd.GeoDataFrame({"road_id": ["r"], "road_class": ["支路"]},
...     geometry=[LineString([(0, 0), (1000, 0)])], crs="EPSG:4550")
>>> homes = gpd.GeoDataFrame({"building_id": ["b1", "b2"], "use": ["住宅", "住宅"],
...     "population": [30, 50]}, geometry=[box(90, 10, 110, 30), box(790, 10, 810, 30)],
...     crs="EPSG:4550")
>>> toilets = gpd.GeoDataFrame({"toilet_id": ["t1"]}, geometry=[Point(0, 5)], crs="EPSG:4550")
>>> res = toilet_coverage({"roads": roads, "buildings": homes, "toilets": toilets})
>>> res.demand["covered"].tolist()
[True, False]
>>> float(res.indicator("population"))
0.375
"""

from __future__ import annotations

from datetime import date
from typing import Any

import geopandas as gpd

from ..findings import concat_findings
from ..workers import release_memory
from .coverage_areas import facility_distances, service_areas, uncovered_areas
from .coverage_inputs import (
    ALL,
    METHODS,
    CoverageResult,
    coverage_config,
    land_samples,
    residential_buildings,
    street_graph,
)
from .coverage_parks import park_access_points, park_coverage
from .coverage_toilets import toilet_coverage, toilet_density
from .coverage_transfer import transfer_coverage, transfer_setbacks

__all__ = [
    "CoverageResult",
    "coverage_config",
    "street_graph",
    "residential_buildings",
    "land_samples",
    "facility_distances",
    "service_areas",
    "uncovered_areas",
    "toilet_coverage",
    "toilet_density",
    "transfer_coverage",
    "transfer_setbacks",
    "park_coverage",
    "park_access_points",
    "run_check",
    "LAYERS",
    "METHODS",
    "ALL",
]

CHECK = "coverage"


#: Layers the weekly coverage check reads (those the catalog lacks are skipped).
LAYERS = ["roads", "buildings", "residential_compounds", "toilets", "transfer_stations",
           "parks", "grids", "red_lines"]


def run_check(catalog: Any, layers: dict[str, gpd.GeoDataFrame], *,
              as_of: date | None = None, method: str = "network") -> gpd.GeoDataFrame:
    """Coverage findings for the weekly run: toilets, transfer stations and parks.

    Rules: ``toilet_uncovered`` (GB 55013-2021 §5.0.1, task 4.2.8), ``transfer_uncovered``
    (CJJ/T 47-2016 §2.2.7, task 4.2.6), ``transfer_station_distance`` (CJJ/T 47-2016, task
    4.2.6), ``park_uncovered`` (GB/T 51346-2019 §4.3.4 or MOHURD 2021, task 3.1.1); lead
    department 住建局. Coverage is a state, not an event: ``as_of`` is not used.
    ``layers`` holds the loaded layers (:data:`LAYERS` that the catalog has); a topic whose
    facility layer is absent is not checked.
    """
    frames = []
    # walking graph for toilets and parks, then the driving graph for transfer stations (in
    # the weekly run both are built before the checks and shared). What a topic freed is
    # handed back to the system before the next one's peak adds to it (on the 1M-building
    # city 135 MB before the parks, 650 MB before the transfer stations).
    walk = street_graph(layers) if method == "network" and (
        "toilets" in layers or "parks" in layers) else None
    if "toilets" in layers:
        frames.append(toilet_coverage(layers, method=method, graph=walk, detail=False).findings)
        release_memory()
    if "parks" in layers:
        frames.append(park_coverage(layers, method=method, graph=walk, detail=False).findings)
    if walk is not None:
        # the housing's snaps and the walking graph's indexes (segments, grids, CSR): nothing
        # else here walks (a later check that does makes them again), and they would lie under
        # the driving graph's
        walk.forget_snapped(indexes=True)
    del walk
    release_memory(collect=True)
    if "transfer_stations" in layers:
        frames.append(transfer_coverage(layers, method=method, detail=False).findings)
    return concat_findings(frames)
