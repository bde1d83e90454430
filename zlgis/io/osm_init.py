"""``zlgis init``: a ready catalog and layers for a place, from an OpenStreetMap extract.

:func:`init_from_osm` reads an OSM PBF (GDAL's OSM driver), optionally a boundary file and DEM
tiles, and writes into a folder:

* ``osm_layers.gpkg`` in the working CRS (the GK or UTM zone of the place unless given), with
  the shared layers ``roads`` (every ``highway`` line, with width), ``buildings`` (with floors
  and height), ``points`` (tagged nodes and the centres of tagged areas), ``areas`` (land use,
  leisure and natural areas), ``water`` (water areas and waterways as polygons) and, without a
  boundary file, ``boundary`` (the extract's extent);
* ``catalog.yaml``: every catalog layer as a ``filter`` on a shared layer with ``values`` maps
  from OSM values to the catalog's classes (``zlgis/config/osm.yaml``), the road red lines
  derived from the roads, the boundary and DEM files referenced in place (never copied), the
  city name and working CRS.

Road width: the tagged ``width``, else ``lanes`` x lane width, else a default by class. Building
height: the tagged ``height``, else ``building:levels`` x storey height, else a default.

Examples
--------
>>> parse_number(["7 m", "3;4", "2.5", None, "wide"])
array([7. , 3. , 2.5, nan, nan])
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
import yaml

from .._progress import Progress
from .._yaml import safe_load
from ..catalog import DEFAULT_CATALOG, Catalog
from ..config import load_config
from ..crs import check_crs_covers, check_working_crs, infer_crs, local_crs
from ..errors import InputError, UnreadableInputError
from .atomic import atomic_path, write_text_atomic
from .mapping import filter_mask, osm_tags
from .readers import read_source

__all__ = ["InitResult", "init_from_osm", "parse_number", "GPKG_NAME"]

GPKG_NAME = "osm_layers.gpkg"
#: Chinese titles of fields the default catalog does not name for that layer.
_TITLES = {"name": "名称", "category": "类别", "species": "树种", "bridge": "桥梁",
           "road_class": "道路等级", "width": "宽度", "road_id": "道路编号", "road_name": "道路名称"}
ATTRIBUTION = "© OpenStreetMap contributors (ODbL)"

_POINT_TAGS = ("amenity", "natural", "highway", "recycling_type", "operator", "species",
               "leaf_type", "lamp_type", "shelter", "wheelchair", "opening_hours", "fee")
_AREA_TAGS = ("landuse", "leisure", "natural", "amenity", "place", "water", "highway")


@dataclass
class InitResult:
    """What :func:`init_from_osm` wrote and found."""

    catalog_path: Path
    gpkg: Path
    working_crs: str
    city: str
    #: catalog layer id -> features found
    counts: dict[str, int] = field(default_factory=dict)
    #: campaign layer ids (``REQUIRED_LAYER_IDS``) the extract has nothing for
    missing: list[str] = field(default_factory=list)


def parse_number(values: Sequence[Any] | pd.Series) -> np.ndarray:
    """The first number in each OSM value (``"7 m"``, ``"3;4"``), NaN when there is none."""
    s = pd.Series(values, dtype=object).astype("string")
    return pd.to_numeric(s.str.extract(r"(-?\d+(?:\.\d+)?)", expand=False),
                         errors="coerce").to_numpy(dtype=float)


def _osm_id(prefix: str, ids: pd.Series) -> pd.Series:
    return prefix + ids.astype("string").fillna("")


def _read(pbf: Path, layer: str, tags: Sequence[str]) -> gpd.GeoDataFrame:
    gdf = osm_tags(read_source(pbf, layer).gdf, tags)
    gdf = gdf[~gdf.geometry.isna() & ~gdf.geometry.is_empty].reset_index(drop=True)
    if gdf.crs is None:
        gdf = gdf.set_crs("EPSG:4326")
    return gdf


def _roads(lines: gpd.GeoDataFrame, cfg: Mapping[str, Any]) -> gpd.GeoDataFrame:
    r = lines[lines["highway"].notna()].reset_index(drop=True)
    lanes = parse_number(r["lanes"]) if "lanes" in r else np.full(len(r), np.nan)
    tagged = parse_number(r["width"]) if "width" in r else np.full(len(r), np.nan)
    default = r["highway"].map(cfg["default_width_m"]).astype(float).to_numpy()
    width = np.where(np.isfinite(tagged) & (tagged > 0), tagged,
                     np.where(np.isfinite(lanes) & (lanes > 0), lanes * float(cfg["lane_width_m"]),
                              default))
    source = np.where(np.isfinite(tagged) & (tagged > 0), "width",
                      np.where(np.isfinite(lanes) & (lanes > 0), "lanes", "default"))
    bridge = r["bridge"].astype("string").isin(["yes", "viaduct", "boardwalk"]).fillna(False) \
        if "bridge" in r else pd.Series(False, index=r.index)
    return gpd.GeoDataFrame({
        "osm_id": _osm_id("w", r["osm_id"]), "name": r["name"], "highway": r["highway"],
        "lanes": pd.array(np.where(np.isfinite(lanes), np.round(lanes), np.nan), dtype="Int64"),
        "width_m": np.round(width, 2), "width_source": source,
        "bridge": bridge.to_numpy(dtype=bool)}, geometry=r.geometry.values, crs=r.crs)


def _buildings(polys: gpd.GeoDataFrame, cfg: Mapping[str, Any]) -> gpd.GeoDataFrame:
    b = polys[polys["building"].notna()].reset_index(drop=True)
    levels = parse_number(b["building:levels"]) if "building:levels" in b else np.full(len(b),
                                                                                       np.nan)
    tagged = parse_number(b["height"]) if "height" in b else np.full(len(b), np.nan)
    fh, df = float(cfg["floor_height_m"]), int(cfg["default_floors"])
    floors = np.where(np.isfinite(levels) & (levels >= 1), np.ceil(levels),
                      np.where(np.isfinite(tagged) & (tagged > 0),
                               np.maximum(1, np.round(tagged / fh)), df))
    height = np.where(np.isfinite(tagged) & (tagged > 0), tagged, floors * fh)
    return gpd.GeoDataFrame({
        "osm_id": _area_ids(b), "name": b["name"], "building": b["building"],
        "floors": floors.astype(np.int64), "height_m": np.round(height, 2),
        "height_source": np.where(np.isfinite(tagged) & (tagged > 0), "height",
                                  np.where(np.isfinite(levels), "building:levels", "default")),
        "amenity": b.get("amenity")}, geometry=b.geometry.values, crs=b.crs)


def _area_ids(p: gpd.GeoDataFrame) -> pd.Series:
    way = p["osm_way_id"].astype("string") if "osm_way_id" in p else pd.Series(pd.NA, index=p.index)
    rel = p["osm_id"].astype("string")
    return pd.Series(np.where(way.notna(), "w" + way.fillna(""), "r" + rel.fillna("")),
                     index=p.index, dtype=object)


def _points(points: gpd.GeoDataFrame, polys: gpd.GeoDataFrame, working: str,
            facilities: Mapping[str, Any]) -> gpd.GeoDataFrame:
    """Tagged nodes, plus the centre of every area a facility filter selects."""
    cols = ["osm_id", "name", *_POINT_TAGS]
    pts = points.assign(osm_id=_osm_id("n", points["osm_id"]))
    area_hit = np.zeros(len(polys), dtype=bool)
    for spec in facilities.values():
        f = {k: v for k, v in spec["filter"].items()}
        if all(k in polys for k in f):
            area_hit |= filter_mask(polys, f).to_numpy()
    areas = polys[area_hit].copy()
    if len(areas):
        centres = areas.geometry.to_crs(working).representative_point().to_crs(points.crs)
        areas = areas.assign(osm_id=_area_ids(areas)).set_geometry(centres.values)
    frames = [f.reindex(columns=[*cols, "geometry"]) for f in (pts, areas) if len(f)]
    out = pd.concat(frames, ignore_index=True) if frames else pts.reindex(
        columns=[*cols, "geometry"])
    return gpd.GeoDataFrame(out, geometry="geometry", crs=points.crs)


def _areas(polys: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    keep = np.zeros(len(polys), dtype=bool)
    for t in ("landuse", "leisure", "natural"):
        if t in polys:
            keep |= polys[t].notna().to_numpy()
    if "building" in polys:
        keep &= polys["building"].isna().to_numpy()
    a = polys[keep]
    return gpd.GeoDataFrame({"osm_id": _area_ids(a).to_numpy(), "name": a["name"].to_numpy(),
                             **{t: a[t].to_numpy() if t in a else None
                                for t in ("landuse", "leisure", "natural")}},
                            geometry=a.geometry.values, crs=polys.crs)


def _water(polys: gpd.GeoDataFrame, lines: gpd.GeoDataFrame, working: str,
           widths: Mapping[str, float]) -> gpd.GeoDataFrame:
    """Water areas (``natural=water``) and waterway lines buffered to polygons."""
    areas = polys[polys["natural"].astype("string").eq("water").fillna(False).to_numpy()] \
        if "natural" in polys else polys.iloc[:0]
    w = lines[lines["waterway"].notna()] if "waterway" in lines else lines.iloc[:0]
    tagged = parse_number(w["width"]) if "width" in w else np.full(len(w), np.nan)
    width = np.where(np.isfinite(tagged) & (tagged > 0), tagged,
                     w["waterway"].map(widths).astype(float).to_numpy())
    ok = np.isfinite(width)
    wl = w[ok].to_crs(working)
    buffered = gpd.GeoDataFrame(
        {"osm_id": _osm_id("w", wl["osm_id"]).to_numpy(), "name": wl["name"].to_numpy(),
         "natural": "water", "waterway": wl["waterway"].to_numpy()},
        geometry=wl.geometry.buffer(width[ok] / 2.0, cap_style="flat").values, crs=working)
    a = areas.to_crs(working)
    ar = gpd.GeoDataFrame({"osm_id": _area_ids(a).to_numpy(), "name": a["name"].to_numpy(),
                           "natural": "water", "waterway": None},
                          geometry=a.geometry.values, crs=working)
    return gpd.GeoDataFrame(pd.concat([ar, buffered], ignore_index=True), geometry="geometry",
                            crs=working)


def _boundary_lonlat(path: Path | None, extent: tuple[float, float, float, float]
                     ) -> tuple[gpd.GeoDataFrame, bool]:
    """The boundary in EPSG:4326 (from the file, else the extract's extent) and whether it came
    from a file."""
    if path is None:
        return gpd.GeoDataFrame({"code": ["extent"], "name": ["OSM 数据范围"]},
                                geometry=[shapely.box(*extent)], crs="EPSG:4326"), False
    src = read_source(path).gdf
    if src.crs is None:
        src = src.set_crs(infer_crs(src.total_bounds, what=str(path)).crs)
    return src.to_crs("EPSG:4326"), True


def _field(base: Mapping[str, Any], layer: str, name: str, **over: Any) -> dict[str, Any]:
    """A field spec from the default catalog (type, allowed values, min/max), with changes."""
    spec = dict(((base.get(layer) or {}).get("fields") or {}).get(name) or {})
    spec.pop("pattern", None)
    spec.update(over)
    return {k: v for k, v in spec.items() if v is not None}


class _Layers:
    """What every generated layer entry needs: the shipped catalog and the shared GeoPackage."""

    def __init__(self, base: Mapping[str, Any], rel_gpkg: str) -> None:
        self.base = base
        self.rel_gpkg = rel_gpkg

    def shared(self, layer: str, filt: Mapping[str, Any] | None = None) -> dict[str, Any]:
        out: dict[str, Any] = {"path": self.rel_gpkg, "layer": layer}
        if filt:
            out["filter"] = {k: list(v) if isinstance(v, (list, tuple)) else v
                             for k, v in filt.items()}
        return out

    def title(self, lid: str, default: str) -> str:
        return str((self.base.get(lid) or {}).get("title") or default)

    def category(self, lid: str, spec: Mapping[str, Any]) -> dict[str, Any]:
        """The ``category`` field of a facility or area layer (values from its OSM key)."""
        key = next(iter(spec["filter"]))
        return _field(self.base, lid, "category", aliases=[key], values=dict(spec["category"]))


def _boundary_and_dem(boundary: str | None, dem: list[str],
                      lay: _Layers) -> dict[str, Any]:
    layers: dict[str, Any] = {}
    layers["boundary"] = {
        "title": "行政区界线" if boundary else "城市范围（OSM 数据范围）", "kind": "boundary",
        "source": {"path": boundary} if boundary else lay.shared("boundary"),
        "geometry": "Polygon", "id_field": "code",
        "fields": {"code": {"type": "str", "aliases": ["code", "adcode", "id", "osm_id"]},
                   "name": {"type": "str", "aliases": ["name", "名称"]}},
        "public": ["name"]}
    if dem:
        layers["dem"] = {"title": "数字高程模型", "kind": "raster",
                         "source": {"path": dem[0], **({"tiles": dem} if len(dem) > 1 else {})},
                         "geometry": None, "fields": {}, "public": []}
    return layers


def _street_layers(cfg: Mapping[str, Any], lay: _Layers) -> dict[str, Any]:
    """Roads, the red lines derived from them, and buildings."""
    base, roads_cfg, b_cfg = lay.base, cfg["roads"], cfg["buildings"]
    layers: dict[str, Any] = {}
    layers["roads"] = {
        "title": lay.title("roads", "道路中心线"), "kind": "road",
        "source": lay.shared("roads", {"highway": list(roads_cfg["road_class"])}),
        "geometry": "LineString", "id_field": "road_id",
        "fields": {
            "road_id": {"type": "str", "required": True, "aliases": ["osm_id"]},
            "name": {"type": "str", "aliases": ["name"]},
            "road_class": _field(base, "roads", "road_class", required=True, aliases=["highway"],
                                 values=dict(roads_cfg["road_class"])),
            "width": _field(base, "roads", "width", required=True, aliases=["width_m"], min=1,
                            title="道路宽度"),
            "lanes": _field(base, "roads", "lanes", aliases=["lanes"]),
            "bridge": {"type": "bool", "aliases": ["bridge"]}},
        "public": ["road_id", "name", "road_class", "width"]}
    layers["red_lines"] = {
        "title": "道路红线（由道路中心线推算）", "kind": "control_line",
        "source": {"derive": "red_lines_from_roads", "from": "roads",
                   "classes": list(cfg["red_line_classes"])},
        "geometry": "Polygon", "id_field": "line_id",
        "fields": {"line_id": {"type": "str"}, "road_id": {"type": "str"},
                   "road_name": {"type": "str"}, "road_class": {"type": "str"},
                   "width": {"type": "float"}},
        "public": ["line_id", "road_name", "road_class", "width"]}
    layers["buildings"] = {
        "title": lay.title("buildings", "建筑物"), "kind": "building",
        "source": lay.shared("buildings"), "geometry": "Polygon", "id_field": "building_id",
        "fields": {
            "building_id": {"type": "str", "required": True, "aliases": ["osm_id"]},
            "name": {"type": "str", "aliases": ["name"]},
            "use": _field(base, "buildings", "use", required=True, aliases=["building"],
                          values=dict(b_cfg["use"])),
            "floors": _field(base, "buildings", "floors", required=True, aliases=["floors"]),
            "height": _field(base, "buildings", "height", required=True, aliases=["height_m"],
                             max=1000)},
        "public": ["building_id", "use", "floors"]}
    return layers


_POINT_FIELDS = {
    "toilets": ("toilet_id", {"name": {"type": "str", "aliases": ["name"]}},
                ["toilet_id", "name"]),
    "garbage_points": ("point_id", {"name": {"type": "str", "aliases": ["name"]}},
                       ["point_id", "name", "category"]),
    "street_lamps": ("lamp_id", {}, ["lamp_id"]),
    "trees": ("tree_id", {"species": {"type": "str", "aliases": ["species"]}},
              ["tree_id", "species"]),
    "bus_stops": ("stop_id", {"name": {"type": "str", "aliases": ["name"]}},
                  ["stop_id", "name"]),
}


def _facility_layers(cfg: Mapping[str, Any], lay: _Layers) -> dict[str, Any]:
    """Point layers picked out of the shared OSM points."""
    layers: dict[str, Any] = {}
    for lid, spec in cfg["facilities"].items():
        id_field, extra, public = _POINT_FIELDS.get(lid, (f"{lid}_id", {}, []))
        fields: dict[str, Any] = {id_field: {"type": "str", "required": True,
                                             "aliases": ["osm_id"]}, **extra}
        if spec.get("category"):
            fields["category"] = lay.category(lid, spec)
            if "category" not in public:
                public = [*public, "category"]
        layers[lid] = {"title": lay.title(lid, {"bus_stops": "公交站点"}.get(lid, lid)),
                       "kind": "facility", "source": lay.shared("points", spec["filter"]),
                       "geometry": "Point", "id_field": id_field, "fields": fields,
                       "public": public}
    return layers


def _area_layers(cfg: Mapping[str, Any], lay: _Layers) -> dict[str, Any]:
    """Polygon layers picked out of the shared OSM areas (blue lines from the water)."""
    area_titles = {"green_areas": "绿地", "residential_land": "居住用地"}
    layers: dict[str, Any] = {}
    for lid, spec in cfg["areas"].items():
        id_field = {"parks": "park_id", "blue_lines": "line_id",
                    "construction_sites": "site_id"}.get(lid, "area_id")
        fields = {id_field: {"type": "str", "required": True, "aliases": ["osm_id"]},
                  "name": {"type": "str", "aliases": ["name"]}}
        if spec.get("category"):
            fields["category"] = lay.category(lid, spec)
        source = lay.shared("water" if lid == "blue_lines" else "areas",
                            None if lid == "blue_lines" else spec["filter"])
        kind = {"blue_lines": "control_line", "construction_sites": "construction",
                "parks": "park"}.get(lid, "green" if lid == "green_areas" else "landuse")
        layers[lid] = {"title": lay.title(lid, area_titles.get(lid, lid)), "kind": kind,
                       "source": source, "geometry": "Polygon", "id_field": id_field,
                       "fields": fields, "public": [id_field, "name"]}
    return layers


def _catalog(*, city: str, working: str, rel_gpkg: str, boundary: str | None,
             dem: list[str], cfg: Mapping[str, Any], found: Mapping[str, int]
             ) -> dict[str, Any]:
    base = (safe_load(DEFAULT_CATALOG.read_text(encoding="utf-8")) or {}).get("layers", {})
    lay = _Layers(base, rel_gpkg)
    layers = {**_boundary_and_dem(boundary, dem, lay), **_street_layers(cfg, lay),
              **_facility_layers(cfg, lay), **_area_layers(cfg, lay)}
    layers = {k: v for k, v in layers.items()
              if k in ("boundary", "dem", "red_lines") or found.get(k, 0) > 0}
    for lid, spec in layers.items():  # Chinese field titles for popups and tables
        known = (base.get(lid) or {}).get("fields") or {}
        for name, f in (spec.get("fields") or {}).items():
            aliases = (known.get(name) or {}).get("aliases") or []
            f.setdefault("title", str(aliases[0]) if aliases else _TITLES.get(
                name, "编号" if name == spec.get("id_field") else name))
    return {
        "version": 1,
        "name": f"{city}图层目录（由 zlgis init 从 OpenStreetMap 生成）",
        "city": city,
        "data_dir": ".",
        "working_crs": working,
        "boundary_layer": "boundary",
        "attribution": ATTRIBUTION,
        "layers": layers,
    }


def _city_name(points: gpd.GeoDataFrame, default: str) -> str:
    if "place" in points:
        for kind in ("city", "town", "village"):
            hit = points[points["place"].astype("string").eq(kind).fillna(False).to_numpy()]
            names = hit["name"].dropna().astype(str)
            if len(names):
                return names.iloc[0]
    return default


def _found_counts(shared: Mapping[str, gpd.GeoDataFrame],
                  cfg: Mapping[str, Any]) -> dict[str, int]:
    """Features each catalog layer would pick out of the shared OSM layers."""
    found: dict[str, int] = {
        "roads": int(filter_mask(shared["roads"], {"highway": list(cfg["roads"]["road_class"])}
                                 ).sum()),
        "buildings": len(shared["buildings"]),
        "blue_lines": len(shared["water"])}
    for group, layer in (("facilities", "points"), ("areas", "areas")):
        for lid, spec in cfg[group].items():
            if lid == "blue_lines":
                continue
            frame = shared[layer]
            ok = all(k in frame for k in spec["filter"])
            found[lid] = int(filter_mask(frame, spec["filter"]).sum()) if ok else 0
    return found


def _write_shared(gpkg: Path, shared: Mapping[str, gpd.GeoDataFrame]) -> None:
    """The shared OSM layers into one GeoPackage (text columns as strings), atomically."""
    with atomic_path(gpkg) as tmp:
        for i, (name, frame) in enumerate(shared.items()):
            frame = frame.copy()
            for c in frame.columns:
                if c != "geometry" and frame[c].dtype == object:
                    frame[c] = frame[c].astype("string")
            frame.to_file(tmp, layer=name, driver="GPKG", mode="w" if i == 0 else "a")


def init_from_osm(pbf: str | os.PathLike[str], out_dir: str | os.PathLike[str], *,
                  boundary: str | os.PathLike[str] | None = None,
                  dem: Sequence[str | os.PathLike[str]] = (), crs: str | None = None,
                  city: str | None = None, progress: Progress | None = None) -> InitResult:
    """Write ``catalog.yaml`` and ``osm_layers.gpkg`` for the place an OSM extract covers.

    Parameters
    ----------
    pbf : path-like
        OpenStreetMap extract (``.osm.pbf`` or ``.osm``).
    out_dir : path-like
        Folder to write into (created); the catalog refers to the boundary and DEM files where
        they are, by relative path.
    boundary : path-like, optional
        City boundary (any vector format); default the extract's extent.
    dem : sequence of path-like
        DEM tiles (GeoTIFF, SRTM ``.hgt``/``.hgt.zip``), mosaicked when read.
    crs : str, optional
        Working CRS (default: the Gauss-Kruger zone in China, else the UTM zone, of the centre).
    city : str, optional
        City name for titles (default: the extract's ``place=city|town|village`` node).

    Returns
    -------
    InitResult

    Raises
    ------
    UnreadableInputError
        The extract cannot be read.
    CRSError
        ``crs`` is unreadable, geographic, or its area of use does not cover the place.
    """
    progress = progress or Progress(quiet=True)
    pbf, out = Path(pbf), Path(out_dir)
    if pbf.suffix.lower() not in (".pbf", ".osm"):
        raise UnreadableInputError("zlgis init 需要 OpenStreetMap 文件（.osm.pbf 或 .osm）",
                                   path=str(pbf))
    cfg = load_config("osm")
    progress.step(f"读取 {pbf.name}")
    points = _read(pbf, "points", _POINT_TAGS)
    lines = _read(pbf, "lines", ("width", "lanes", "bridge", "waterway", "highway"))
    polys = _read(pbf, "multipolygons", ("building:levels", "height", *_AREA_TAGS))
    frames = [f for f in (points, lines, polys) if len(f)]
    if not frames:
        raise InputError("OSM 文件中没有任何要素", path=str(pbf))
    bounds = np.array([f.total_bounds for f in frames])
    extent = (bounds[:, 0].min(), bounds[:, 1].min(), bounds[:, 2].max(), bounds[:, 3].max())
    bnd, from_file = _boundary_lonlat(Path(boundary) if boundary else None, extent)
    w, s, e, n = bnd.total_bounds
    working = check_working_crs(crs or local_crs((w + e) / 2, (s + n) / 2), path=str(pbf))
    margin = float(load_config("validation")["working_crs"]["area_margin_deg"])
    check_crs_covers(working, (w, s, e, n), margin_deg=margin)
    city = city or _city_name(points, pbf.name.split(".")[0])

    progress.step("整理道路、建筑、设施与绿地水体")
    shared = {
        "roads": _roads(lines, cfg["roads"]).to_crs(working),
        "buildings": _buildings(polys, cfg["buildings"]).to_crs(working),
        "points": _points(points, polys, working, cfg["facilities"]).to_crs(working),
        "areas": _areas(polys).to_crs(working),
        "water": _water(polys, lines, working, cfg["waterway_width_m"]),
    }
    if not from_file:
        shared["boundary"] = bnd.to_crs(working)
    found = _found_counts(shared, cfg)

    out.mkdir(parents=True, exist_ok=True)
    gpkg = out / GPKG_NAME
    progress.step(f"写出 {gpkg.name}")
    _write_shared(gpkg, shared)

    def rel(p: str | os.PathLike[str]) -> str:
        return os.path.relpath(Path(p).resolve(), out.resolve())

    raw = _catalog(city=city, working=working, rel_gpkg=GPKG_NAME,
                   boundary=rel(boundary) if boundary else None, dem=[rel(d) for d in dem],
                   cfg=cfg, found=found)
    header = (f"# {city}: layer catalog written by `zlgis init` from {pbf.name}.\n"
              "# Edit it like layers/catalog.yaml: the `values:` maps turn OSM values into the\n"
              "# catalog's classes, `filter:` picks each layer out of the shared OSM layers.\n"
              f"# Data {ATTRIBUTION}.\n")
    cat_path = out / "catalog.yaml"
    write_text_atomic(cat_path, header + yaml.safe_dump(raw, allow_unicode=True,
                                                        sort_keys=False, width=100,
                                                        default_flow_style=None))
    Catalog.load(cat_path)  # what was written must read back
    from ..catalog import REQUIRED_LAYER_IDS

    written = set(raw["layers"])
    counts = {lid: found.get(lid, 0) for lid in written if lid in found}
    return InitResult(catalog_path=cat_path, gpkg=gpkg, working_crs=working, city=city,
                      counts=counts,
                      missing=[lid for lid in REQUIRED_LAYER_IDS if lid not in written])
