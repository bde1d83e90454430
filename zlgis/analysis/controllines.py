"""Control-line checks (五线管控): road red lines and setbacks, green / blue / purple / yellow lines.

Pure functions, layers in, findings out (:mod:`zlgis.findings`). Rules, setback tables,
tolerances, exemptions and severities come from ``zlgis/config/controllines.yaml``; every shipped
setback is an example to be confirmed locally (standards.md §1.2).

Rules
-----
``red_line_encroachment``, ``red_line_setback``
    Road red lines (GB 50352-2019 §2.0.6; setback table: examples to confirm locally), see
    :mod:`zlgis.analysis.setbacks`, whose functions are re-exported here.
``green_line`` / ``blue_line`` / ``purple_line`` / ``yellow_line``
    Buildings and construction sites overlapping a zone (holes excluded) by more than the area
    tolerance, reported for review (疑似，待核查) with ``overlap_m2`` and ``share``. Features whose
    exemption field (``line_permit``) holds an approved value are not reported
    (建设部令第112 / 145 / 119 / 144号).
``unpermitted_construction``
    Buildings and construction sites without a planning permit, with the nearest control line
    and the distance to it (城乡规划法 第四十条、第六十四条; campaign task 1.3.1).

Performance: one STRtree over the footprints is queried with the (prepared) control-line
polygons; intersection geometry is computed only for the pairs that breach.

Examples
--------
>>> import geopandas as gpd
>>> from shapely.geometry import box
>>> red = gpd.GeoDataFrame({"line_id": ["R1"], "road_class": ["支路"]},
...                        geometry=[box(0, 0, 100, 16)], crs="EPSG:4550")
>>> bld = gpd.GeoDataFrame({"building_id": ["B1", "B2"], "height": [9.0, 9.0]},
...                        geometry=[box(10, 14, 20, 24), box(30, 18, 40, 28)], crs="EPSG:4550")
>>> f = check_control_lines({"buildings": bld, "red_lines": red})
>>> f[["feature_id", "rule", "measure"]].values.tolist()
[['B1', 'red_line_encroachment', 2.0], ['B2', 'red_line_setback', 1.0]]
"""

from __future__ import annotations

import datetime as _dt
import json  # noqa: F401  (the doctests read measures with it)
from collections.abc import Mapping, Sequence
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from ..errors import ConfigError
from ..findings import assign_grids, concat_findings, empty_findings, make_findings
from ..rules import rule as rule_spec
from . import linebase as lb
from . import setbacks as _setbacks
from .linebase import CHECK, LINE_RULES, LINE_TITLES, PreparedFeatures, load_rules
from .setbacks import *  # noqa: F403  (re-exports setbacks.__all__)
from .setbacks import red_line_findings

__all__ = [
    "CHECK",
    "LINE_RULES",
    "load_rules",
    *_setbacks.__all__,
    "zone_findings",
    "unpermitted_construction",
    "unpermitted_findings",
    "check_control_lines",
    "run_check",
]


# --------------------------------------------------------------------------------------------
# green, blue, purple, yellow lines
# --------------------------------------------------------------------------------------------
def _exempt_mask(features: gpd.GeoDataFrame, exempt: Sequence[Mapping[str, Any]]) -> np.ndarray:
    mask = np.zeros(len(features), dtype=bool)
    for rule in exempt or []:
        col = rule.get("field")
        if col in features.columns:
            mask |= features[col].isin(list(rule.get("values", []))).to_numpy()
    return mask


def zone_findings(features: gpd.GeoDataFrame, zone: gpd.GeoDataFrame, line_kind: str,
                  config: Mapping[str, Any] | None = None, *, layer: str = "buildings",
                  feature_id: str = "building_id", line_id: str = "line_id",
                  prepared: PreparedFeatures | None = None) -> gpd.GeoDataFrame:
    """Features inside a green, blue, purple or yellow line, for review (疑似，待核查).

    Parameters
    ----------
    features : GeoDataFrame
        Buildings or construction sites (polygons) with ``feature_id``; the exemption field of
        the config (``line_permit``) is read when present.
    zone : GeoDataFrame
        The control-line polygons (holes are not inside) with ``line_id``.
    line_kind : {"green_line", "blue_line", "purple_line", "yellow_line"}
        The rule; its source (建设部令第112 / 145 / 119 / 144号), title, exemptions and codes
        come from ``zones.lines`` in the config.

    Returns
    -------
    GeoDataFrame
        Findings, geometry = the overlap; measures ``overlap_m2`` and ``share`` of the footprint.
        Touching a zone (overlap <= area tolerance) is not reported.

    Examples
    --------
    >>> import geopandas as gpd
    >>> from shapely.geometry import box, Polygon
    >>> park = Polygon([(0, 0), (100, 0), (100, 100), (0, 100)],
    ...                [[(40, 40), (60, 40), (60, 60), (40, 60)]])
    >>> z = gpd.GeoDataFrame({"line_id": ["G1"]}, geometry=[park], crs="EPSG:4550")
    >>> b = gpd.GeoDataFrame({"building_id": ["in", "hole", "half"],
    ...                       "line_permit": [None, None, None]},
    ...                      geometry=[box(10, 10, 20, 20), box(45, 45, 55, 55),
    ...                                box(95, 10, 105, 20)], crs="EPSG:4550")
    >>> f = zone_findings(b, z, "green_line")
    >>> sorted(zip(f["feature_id"], f["measure"]))
    [('half', 0.5), ('in', 1.0)]
    """
    cfg = lb.load_rules(config)
    zcfg = cfg["zones"]
    if line_kind not in zcfg["lines"]:
        raise ConfigError(f"控制线配置中没有 {line_kind}", path="controllines.yaml")
    spec = zcfg["lines"][line_kind]
    zone_layer = spec.get("layer", LINE_RULES.get(line_kind, line_kind))
    crs = lb.check_crs(features, layer)
    if not len(features) or not len(zone):
        return empty_findings(crs)
    prep = prepared if prepared is not None else PreparedFeatures(features, feature_id, layer, crs)
    fid, geoms = prep.ids, prep.geoms
    zid = lb.ids_of(zone, line_id, zone_layer)
    zones = lb.valid_geoms(lb.geoms_of(zone, crs, zone_layer))
    zones = np.where(shapely.is_missing(zones), shapely.Polygon(), zones)
    shapely.prepare(zones)
    tree = prep.tree
    zi, fi = tree.query(zones, predicate="intersects")
    keep = ~_exempt_mask(features, spec.get("exempt", []))[fi]
    zi, fi = zi[keep], fi[keep]
    order = np.lexsort((zi, fi))
    zi, fi = zi[order], fi[order]
    inside = shapely.contains_properly(zones[zi], geoms[fi])
    parts = geoms[fi].copy()
    partial = ~inside
    if partial.any():
        small = lb.valid_geoms(geoms[fi[partial]])
        parts[partial] = lb.polygonal(shapely.intersection(
            small, lb.clip_each(zones[zi[partial]], small, 0.5)))
    overlap = shapely.area(parts)
    real = overlap > float(cfg["tolerance"]["area_m2"])
    zi, fi, parts, overlap = zi[real], fi[real], parts[real], overlap[real]
    if not len(zi):
        return empty_findings(crs)
    fp = shapely.area(geoms[fi])
    share = np.where(fp > 0, np.minimum(overlap / np.where(fp > 0, fp, 1), 1.0), np.nan)
    measures = {"overlap_m2": overlap, "share": share}
    sev = lb.severity_of(line_kind, measures, len(zi), cfg)
    names = lb.text_of(zone, "name")[zi]
    title = rule_spec(line_kind).title
    return concat_findings([make_findings(
        rule=line_kind,
        title=[f"{title}（{n or zid[j]}，重叠 {a:.1f} 平方米，占 {s:.0%}）"
               for n, j, a, s in zip(names, zi, overlap, share)],
        feature_ids=list(zip(fid[fi], zid[zi])), layer=layer, geometry=parts,
        measures=[{"overlap_m2": a, "share": s, "status": "疑似，待核查"}
                  for a, s in zip(overlap, share)],
        measure_key="share", measure_unit="ratio", severity=sev,
        id_extra=None if layer == "buildings" else [layer] * len(zi), crs=crs)])


# --------------------------------------------------------------------------------------------
# unpermitted construction
# --------------------------------------------------------------------------------------------
INVENTORY_COLUMNS = ("layer", "feature_id", "permit_status", "area_m2", "nearest_line_layer",
                     "nearest_line_title", "nearest_line_id", "nearest_line_m")


def unpermitted_construction(buildings: gpd.GeoDataFrame | None,
                             construction_sites: gpd.GeoDataFrame | None,
                             lines: Mapping[str, gpd.GeoDataFrame],
                             config: Mapping[str, Any] | None = None, *,
                             building_id: str = "building_id", site_id: str = "site_id",
                             line_id: str | Mapping[str, str] = "line_id") -> gpd.GeoDataFrame:
    """Inventory of buildings and construction sites without a permit (违法建设台账).

    Parameters
    ----------
    buildings, construction_sites : GeoDataFrame or None
        Features with ``permit_status``; values in ``unpermitted.unpermitted_values``
        (``未批``) are listed. Layers without the field are skipped.
    lines : mapping
        Control-line layers by catalog id (``red_lines``, ``green_lines`` ...), each with
        ``line_id`` (or the field named per layer in ``line_id``); the nearest one to each
        feature and the distance (0 inside or touching) are reported.

    Returns
    -------
    GeoDataFrame
        Columns :data:`INVENTORY_COLUMNS` + geometry (the footprint), sorted by layer and id.

    Examples
    --------
    >>> import geopandas as gpd
    >>> from shapely.geometry import box
    >>> b = gpd.GeoDataFrame({"building_id": ["B1", "B2"], "permit_status": ["未批", "已批"]},
    ...                      geometry=[box(0, 0, 10, 10), box(50, 0, 60, 10)], crs="EPSG:4550")
    >>> g = gpd.GeoDataFrame({"line_id": ["G1"]}, geometry=[box(15, 0, 30, 10)], crs="EPSG:4550")
    >>> inv = unpermitted_construction(b, None, {"green_lines": g})
    >>> inv[["feature_id", "nearest_line_id", "nearest_line_m"]].values.tolist()
    [['B1', 'G1', 5.0]]
    """
    cfg = lb.load_rules(config)
    ucfg = cfg["unpermitted"]
    field = ucfg.get("field", "permit_status")
    bad_values = list(ucfg.get("unpermitted_values", ["未批"]))
    rows: list[gpd.GeoDataFrame] = []
    crs = None
    for layer, gdf, idf in (("buildings", buildings, building_id),
                            ("construction_sites", construction_sites, site_id)):
        if gdf is None or not len(gdf) or field not in gdf.columns:
            continue
        crs = crs or lb.check_crs(gdf, layer)
        ids = lb.ids_of(gdf, idf, layer)
        status = gdf[field]
        mask = status.isin(bad_values).to_numpy()
        if ucfg.get("missing_is_unpermitted", False):
            mask |= status.isna().to_numpy()
        if not mask.any():
            continue
        geoms = lb.geoms_of(gdf, crs, layer)[mask]
        rows.append(gpd.GeoDataFrame({
            "layer": layer, "feature_id": ids[mask],
            "permit_status": status[mask].fillna("").astype(str).to_numpy(),
            "area_m2": shapely.area(geoms)}, geometry=gpd.GeoSeries(geoms, crs=crs), crs=crs))
    if not rows:
        return gpd.GeoDataFrame({c: pd.Series(dtype=object) for c in INVENTORY_COLUMNS},
                                geometry=gpd.GeoSeries([], crs=crs), crs=crs)
    inv = pd.concat(rows, ignore_index=True)
    # nearest control line over all five layers
    lgeoms, llayer, lids = [], [], []
    for lname, lgdf in lines.items():
        if lgdf is None or not len(lgdf):
            continue
        g = lb.geoms_of(lgdf, crs, lname)
        ok = ~shapely.is_missing(g) & ~shapely.is_empty(g)
        lgeoms.append(g[ok])
        llayer.extend([lname] * int(ok.sum()))
        lfield = line_id if isinstance(line_id, str) else line_id.get(lname, "line_id")
        lids.append(lb.ids_of(lgdf, lfield, lname)[ok])
    n = len(inv)
    near_layer = np.full(n, "", dtype=object)
    near_id = np.full(n, "", dtype=object)
    near_d = np.full(n, np.nan)
    geoms = np.asarray(inv.geometry.values, dtype=object)
    if lgeoms:
        lg = np.concatenate(lgeoms)
        llayer_a = np.asarray(llayer, dtype=object)
        lid_a = np.concatenate(lids).astype(object)
        valid = np.flatnonzero(~shapely.is_missing(geoms) & ~shapely.is_empty(geoms))
        qi, ti, dist = _nearest(geoms[valid], lg)
        # deterministic tie-break: smallest distance, then layer, then line id
        key = pd.DataFrame({"q": qi, "d": np.round(dist, 6), "l": llayer_a[ti], "i": lid_a[ti],
                            "dist": dist}).sort_values(["q", "d", "l", "i"]).drop_duplicates("q")
        tgt = valid[key["q"].to_numpy()]
        near_layer[tgt] = key["l"].to_numpy()
        near_id[tgt] = key["i"].to_numpy()
        near_d[tgt] = key["dist"].to_numpy()
    inv["nearest_line_layer"] = near_layer
    inv["nearest_line_title"] = [LINE_TITLES.get(v, v) for v in near_layer]
    inv["nearest_line_id"] = near_id
    inv["nearest_line_m"] = near_d
    inv = inv.sort_values(["layer", "feature_id"], kind="stable").reset_index(drop=True)
    return gpd.GeoDataFrame(inv[list(INVENTORY_COLUMNS) + ["geometry"]], geometry="geometry",
                            crs=crs)


def _nearest(geoms: np.ndarray, polys: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Nearest polygon(s) of every geometry: (query index, polygon index, distance), ties kept.

    Geometries overlapping a polygon are at distance 0. The others are matched against a tree of
    the polygons' boundary segments, whose tight boxes keep the exact-distance work small even
    for long roads and rivers (a tree of whole polygons would test every long road).
    """
    if not len(geoms) or not len(polys):
        return np.empty(0, int), np.empty(0, int), np.empty(0)
    shapely.prepare(polys)
    pi, gi = shapely.STRtree(geoms).query(polys, predicate="intersects")
    inside = np.zeros(len(geoms), dtype=bool)
    inside[gi] = True
    rest = np.flatnonzero(~inside)
    q_out, t_out, d_out = [gi], [pi], [np.zeros(len(gi))]
    if len(rest):
        parts, owner = shapely.get_parts(shapely.boundary(polys), return_index=True)
        coords, pidx = shapely.get_coordinates(parts, return_index=True)
        same = pidx[:-1] == pidx[1:]
        seg = np.stack([coords[:-1][same], coords[1:][same]], axis=1)
        seg_owner = owner[pidx[:-1][same]]
        segs = shapely.linestrings(seg)
        (qi, si), dist = shapely.STRtree(segs).query_nearest(geoms[rest], all_matches=True,
                                                             return_distance=True)
        q_out.append(rest[qi])
        t_out.append(seg_owner[si])
        d_out.append(dist)
    return np.concatenate(q_out), np.concatenate(t_out), np.concatenate(d_out)


def unpermitted_findings(inventory: gpd.GeoDataFrame,
                         config: Mapping[str, Any] | None = None) -> gpd.GeoDataFrame:
    """Findings (rule ``unpermitted_construction``, task 1.3.1) from an inventory.

    The nearest control line is a measure, not part of the id: the id stays the same when
    a line is redrawn. Event codes per layer come from ``unpermitted.layers`` (buildings:
    私搭乱建 01-01 / 06001; construction sites: 无证建设 08016).

    >>> import geopandas as gpd
    >>> from shapely.geometry import box
    >>> b = gpd.GeoDataFrame({"building_id": ["B1"], "permit_status": ["未批"]},
    ...                      geometry=[box(0, 0, 10, 10)], crs="EPSG:4550")
    >>> g = gpd.GeoDataFrame({"line_id": ["G1"]}, geometry=[box(5, 0, 30, 10)], crs="EPSG:4550")
    >>> f = unpermitted_findings(unpermitted_construction(b, None, {"green_lines": g}))
    >>> f.loc[0, ["task_id", "severity", "event_code_new"]].tolist()
    ['1.3.1', 'high', '06001']
    """
    cfg = lb.load_rules(config)
    ucfg = cfg["unpermitted"]
    frames = []
    base = rule_spec("unpermitted_construction").title
    for layer in ucfg.get("layers") or []:
        sub = inventory[inventory["layer"] == layer]
        if not len(sub):
            continue
        d = sub["nearest_line_m"].to_numpy(dtype=float)
        sev = lb.severity_of("unpermitted_construction", {"nearest_line_m": d}, len(sub), cfg)
        title = [f"{base}（最近控制线：{t or '无'} {i}，距离 {x:.1f} 米）" if np.isfinite(x)
                 else base for t, i, x in
                 zip(sub["nearest_line_title"], sub["nearest_line_id"], d)]
        frames.append(make_findings(
            rule="unpermitted_construction", title=title,
            feature_ids=[[f] for f in sub["feature_id"]], layer=layer,
            geometry=sub.geometry.values,
            measures=[{"area_m2": a, "nearest_line_layer": nl, "nearest_line_id": i,
                       "nearest_line_m": x, "permit_status": p}
                      for a, nl, i, x, p in zip(sub["area_m2"], sub["nearest_line_layer"],
                                               sub["nearest_line_id"], d, sub["permit_status"])],
            measure_key="nearest_line_m", measure_unit="m", severity=sev,
            id_extra=None if layer == "buildings" else [layer] * len(sub), crs=inventory.crs))
    return concat_findings(frames) if frames else empty_findings(inventory.crs)



# --------------------------------------------------------------------------------------------
# the whole check
# --------------------------------------------------------------------------------------------
def _near_subsets(bld: gpd.GeoDataFrame, lines: gpd.GeoDataFrame, lname: str,
                  near: Mapping[str, tuple[np.ndarray, np.ndarray]] | None,
                  building_id: str, line_id: str, prep: PreparedFeatures
                  ) -> tuple[gpd.GeoDataFrame, gpd.GeoDataFrame, PreparedFeatures | None]:
    """The buildings and lines of the candidate pairs found in SQL (all of them without)."""
    if near is None or lname not in near:
        return bld, lines, prep
    fids, lids = near[lname]
    keep_b = bld[building_id].astype(str).isin(set(fids)).to_numpy()
    keep_l = lines[line_id].astype(str).isin(set(lids)).to_numpy()
    return bld[keep_b].reset_index(drop=True), lines[keep_l].reset_index(drop=True), None


def check_control_lines(layers: Mapping[str, gpd.GeoDataFrame],
                        config: Mapping[str, Any] | None = None, *,
                        id_fields: Mapping[str, str] | None = None,
                        observed_at: str = "",
                        near: Mapping[str, tuple[np.ndarray, np.ndarray]] | None = None,
                        timings: dict[str, float] | None = None) -> gpd.GeoDataFrame:
    """Every control-line rule on a dict of layers (catalog ids), one findings table.

    Uses ``buildings``, ``construction_sites``, ``red_lines``, ``green_lines``, ``blue_lines``,
    ``purple_lines``, ``yellow_lines``; absent layers are skipped. One STRtree over the
    footprints serves every line layer. ``near`` (line layer -> building ids, line ids), from
    :func:`zlgis.analysis.controllines_pushdown.pushdown_pairs`, limits a line layer's rule to
    the candidate pairs a spatial join in PostGIS found; ``timings`` receives the seconds of
    the red-line and zone rules (``controllines:red_lines`` / ``controllines:zones``).

    >>> import geopandas as gpd
    >>> from shapely.geometry import box
    >>> b = gpd.GeoDataFrame({"building_id": ["B1", "B2"], "height": [6.0, 6.0],
    ...                       "permit_status": ["已批", "已批"]},
    ...                      geometry=[box(10, 14, 20, 24), box(10, 60, 20, 70)], crs="EPSG:4550")
    >>> red = gpd.GeoDataFrame({"line_id": ["R1"], "road_class": ["支路"]},
    ...                        geometry=[box(0, 0, 100, 16)], crs="EPSG:4550")
    >>> park = gpd.GeoDataFrame({"line_id": ["G1"]}, geometry=[box(0, 50, 100, 100)],
    ...                         crs="EPSG:4550")
    >>> f = check_control_lines({"buildings": b, "red_lines": red, "green_lines": park})
    >>> sorted(zip(f["rule"], f["feature_id"]))
    [('green_line', 'B2'), ('red_line_encroachment', 'B1')]
    """
    import time

    cfg = lb.load_rules(config)
    ids = {"buildings": "building_id", "construction_sites": "site_id", **(id_fields or {})}
    line_ids = {k: ids.get(k, "line_id") for k in ("red_lines", *LINE_RULES.values())}
    frames: list[gpd.GeoDataFrame] = []
    bld = layers.get("buildings")
    sites = layers.get("construction_sites")
    crs = None
    times = {"red_lines": 0.0, "zones": 0.0}
    if bld is not None and len(bld):
        crs = lb.check_crs(bld, "buildings")
        prep = PreparedFeatures(bld, ids["buildings"], "buildings", crs)
        red = layers.get("red_lines")
        if red is not None and len(red):
            t0 = time.perf_counter()
            b, r, p = _near_subsets(bld, red, "red_lines", near, ids["buildings"],
                                    line_ids["red_lines"], prep)
            frames.append(red_line_findings(b, r, cfg, building_id=ids["buildings"],
                                            line_id=line_ids["red_lines"], prepared=p))
            times["red_lines"] += time.perf_counter() - t0
        for rule, lname in LINE_RULES.items():
            zone = layers.get(lname)
            if zone is not None and len(zone) and "buildings" in cfg["zones"].get("layers", []):
                t0 = time.perf_counter()
                b, z, p = _near_subsets(bld, zone, lname, near, ids["buildings"],
                                        line_ids[lname], prep)
                frames.append(zone_findings(b, z, rule, cfg, layer="buildings",
                                            feature_id=ids["buildings"],
                                            line_id=line_ids[lname], prepared=p))
                times["zones"] += time.perf_counter() - t0
    if timings is not None:
        sql = "_sql" if near else ""
        timings.update({f"controllines:{k}{sql}": round(v, 3) for k, v in times.items()})
    if sites is not None and len(sites) and "construction_sites" in cfg["zones"].get("layers", []):
        crs = crs or lb.check_crs(sites, "construction_sites")
        sprep = PreparedFeatures(sites, ids["construction_sites"], "construction_sites", crs)
        for rule, lname in LINE_RULES.items():
            zone = layers.get(lname)
            if zone is not None and len(zone):
                frames.append(zone_findings(sites, zone, rule, cfg, layer="construction_sites",
                                            feature_id=ids["construction_sites"],
                                            line_id=line_ids[lname], prepared=sprep))
    lines = {k: layers[k] for k in ("red_lines", *LINE_RULES.values()) if layers.get(k) is not None}
    inv = unpermitted_construction(bld, sites, lines, cfg, building_id=ids["buildings"],
                                   site_id=ids["construction_sites"], line_id=line_ids)
    if len(inv):
        frames.append(unpermitted_findings(inv, cfg))
    out = concat_findings(frames)
    if observed_at and len(out):
        out["observed_at"] = observed_at
    return out


def run_check(catalog: Any, layers: Mapping[str, gpd.GeoDataFrame], *,
              as_of: _dt.date | None = None) -> gpd.GeoDataFrame:
    """The weekly-run entry point (``zlgis.analysis.CHECKS["controllines"]``).

    ``layers`` is the dict from :func:`zlgis.validate.load_layers`; id fields come from the
    catalog; findings get ``grid_id`` and ``road_chief`` from the ``grids`` layer when loaded.
    When the buildings and control lines live in PostGIS the spatial joins run there
    (:mod:`zlgis.analysis.controllines_pushdown`); the seconds of each part are in
    ``findings.attrs["timings"]``.
    """
    id_fields: dict[str, str] = {}
    for lid in ("buildings", "construction_sites", "red_lines", *LINE_RULES.values()):
        try:
            spec = catalog[lid]
        except Exception:  # noqa: BLE001 - a catalog without the layer: keep the default
            continue
        if getattr(spec, "id_field", None):
            id_fields[lid] = spec.id_field
    from .controllines_pushdown import pushdown_pairs

    timings: dict[str, float] = {}
    near = pushdown_pairs(catalog, layers, lb.load_rules(), {"buildings": "building_id",
                                                          **id_fields}, timings)
    findings = check_control_lines(layers, id_fields=id_fields, near=near, timings=timings,
                                   observed_at=as_of.isoformat() if as_of else "")
    grids = layers.get("grids")
    if grids is not None and len(findings):
        findings = assign_grids(findings, grids)
    findings.attrs["timings"] = timings  # the weekly run records them
    return findings
