"""Waterlogging outputs: depth rasters, GeoPackages, findings, recorded points, summary, web map.

Publishing only: everything comes from a
:class:`~zlgis.analysis.waterlogging.WaterloggingResult`; nothing is analysed here. Used by
``zlgis waterlogging`` and the notebooks.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import folium
import numpy as np
import pandas as pd

from ..io.atomic import atomic_path, write_text_atomic
from ..io.tables import write_csv
from .maps import build_map, layer_control_last, save_map
from .rasters import ponding_overlay, write_cog
from .tables import write_findings
from .tile_maps import add_tile_layers, write_week_tiles

__all__ = ["write_waterlogging_outputs", "waterlogging_map", "summary_record", "POINT_HEADERS"]

#: Recorded-point CSV headers (canonical -> Chinese).
POINT_HEADERS = {
    "point_id": "积水点编号", "name": "积水点名称", "status": "整改状态", "eliminated": "已消除",
    "recorded_on": "记录日期", "max_depth_cm": "记录积水深度_厘米", "explained": "地形可解释",
    "depression_id": "对应洼地编号", "distance_m": "距洼地距离_米",
    "predicted_depth_cm": "预测最大积水深度_厘米",
}


def waterlogging_map(res: Any, catalog: Any, *, points: Any = None, basemap: str | None = None,
                     profile: str = "internal", tiles: Any = None) -> Any:
    """Web map of a :class:`~zlgis.analysis.waterlogging.WaterloggingResult`.

    Ponding depth (full depressions) as an image overlay, depression polygons coloured by their
    deepest water, the findings by severity and the recorded points; built with
    :func:`zlgis.publish.maps.build_map`, which escapes every value and keeps only public fields
    on the public profile. ``tiles`` (:func:`zlgis.publish.tile_maps.write_week_tiles`) draws
    the depressions from vector tiles instead of embedding them (a city with more depressions
    than ``publish.yaml`` ``tiles.min_features``).
    """
    dep = res.depressions
    ponding = dep.assign(max_depth_cm=(dep["max_depth_m"] * 100).round(1))[
        ["max_depth_cm", "area_m2", "geometry"]]
    layers = {"waterlogging_points": points} if points is not None and len(points) else {}
    tiled = (tiles or {}).get(profile, [])
    m = build_map(layers, res.findings, catalog=catalog, profile=profile, basemap=basemap,
                  extra={} if tiled else {"ponding": ponding},
                  title=f"{catalog.city}城区易涝点：地形积水深度与积水点", service_areas=False)
    img, bounds = ponding_overlay(res.analysis.depth, res.analysis.dem)
    folium.raster_layers.ImageOverlay(img, bounds=bounds, name="积水深度（DEM 填洼）",
                                      opacity=0.85, zindex=400).add_to(m)
    add_tile_layers(m, tiled)
    layer_control_last(m)     # the depth image is one of its entries
    return m


def summary_record(res: Any) -> dict[str, Any]:
    """The result's summary for JSON (non-finite numbers as null)."""
    return {k: (None if isinstance(v, float) and not np.isfinite(v) else v)
            for k, v in res.summary.items()}


def write_waterlogging_outputs(res: Any, dem: Any, out: Path, *, catalog: Any = None,
                               points: Any = None, make_map: bool = True,
                               assets: str = "auto") -> dict[str, Path]:
    """Write every output of a waterlogging run into ``out`` (atomically, file by file).

    ``ponding_depth.tif`` and ``scenario_depth.tif`` (Cloud-Optimized GeoTIFF, nodata -9999),
    ``depressions.gpkg``, ``waterlogging_findings.gpkg``/``.csv``, ``waterlogging_points.csv``,
    ``waterlogging_summary.json`` and (``make_map``) ``waterlogging_map.html`` with, when there
    are more depressions than ``publish.yaml`` ``tiles.min_features``, their vector tiles
    ``tiles/depressions.pmtiles`` (kind ``tiles:depressions``); returns the paths by kind.
    """
    out.mkdir(parents=True, exist_ok=True)
    files: dict[str, Path] = {}
    nodata = -9999.0
    for key, name, depth in (("ponding", "ponding_depth.tif", res.analysis.depth),
                             ("scenario", "scenario_depth.tif", res.scenario_depth)):
        arr = np.where(np.isfinite(dem.elevation), depth, nodata).astype("float32")
        files[key] = write_cog(out / name, arr, dem.transform, dem.crs, nodata=nodata)
    files["depressions"] = out / "depressions.gpkg"
    with atomic_path(files["depressions"]) as tmp:
        res.depressions.to_file(tmp, layer="depressions", driver="GPKG")
        res.roads.to_file(tmp, layer="roads_at_risk", driver="GPKG")
        res.scenario_roads.to_file(tmp, layer="scenario_roads_at_risk", driver="GPKG")
    files["findings"], files["findings_csv"] = write_findings(
        res.findings, out, stem="waterlogging_findings")
    pts = pd.DataFrame(res.points.drop(columns="geometry"))
    pts = pts[[c for c in POINT_HEADERS if c in pts.columns]]
    for col in ("eliminated", "explained"):
        if col in pts:
            pts[col] = pts[col].map({True: "是", False: "否"})
    files["points"] = out / "waterlogging_points.csv"
    write_csv(pts.rename(columns=POINT_HEADERS), files["points"])
    files["summary"] = out / "waterlogging_summary.json"
    write_text_atomic(files["summary"],
                      json.dumps(summary_record(res), ensure_ascii=False, indent=2))
    if make_map:
        files["map"] = out / "waterlogging_map.html"
        tiles = write_week_tiles(out, out, {"depressions": res.depressions}, catalog=catalog,
                                 profiles=("internal",))
        for t in tiles["internal"]:      # above tiles.min_features: drawn from an archive
            files[f"tiles:{t.key}"] = t.tileset.path
        save_map(waterlogging_map(res, catalog, points=points, tiles=tiles), files["map"],
                 assets=assets)
    return files
