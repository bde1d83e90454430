"""Street lamps (路灯): on-rate, dark stretches, proposed sites and fault repair times.

The plan's tasks 2.1.5 (faults repaired within 24 hours), 2.1.7 (overall on-rate above the
earlier 95 %) and 3.2.1 (new lamps in the dark spots at 兴华小学, 民族西街 and 明月花园东墙外),
lead 住建局. Numbers live in ``zlgis/config/lamps.yaml``; rules in ``config/rules/lamps.yaml``.

=======================  =====  ==============================================================
rule                     task   what is flagged
=======================  =====  ==============================================================
``lamp_dark_stretch``    2.1.7  a stretch of a lit road with no working lamp within the road
                                class's reach (照明盲区), CJJ 45-2015 §5.1 spacing
``lamp_on_rate``         2.1.7  a road or district whose on-rate is not above the target
``lamp_fault_overdue``   2.1.5  a fault not repaired within 24 hours of its report
=======================  =====  ==============================================================

Examples
--------
>>> import geopandas as gpd
>>> from shapely.geometry import LineString, Point
>>> roads = gpd.GeoDataFrame({"road_id": ["R1"], "road_class": ["支路"], "width": [20.0]},
...                          geometry=[LineString([(0, 0), (300, 0)])], crs="EPSG:4550")
>>> lamps = gpd.GeoDataFrame({"lamp_id": ["L1", "L2", "L3"], "road_id": ["R1"] * 3,
...                           "status": ["正常", "不亮", "正常"]},
...                          geometry=[Point(10, 8), Point(150, 8), Point(290, 8)], crs="EPSG:4550")
>>> s = dark_stretches(roads, lamp_states(lamps))
>>> s[["road_id", "start_m", "end_m"]].values.tolist()
[['R1', 38.914, 261.086]]
>>> city = on_rates(lamp_states(lamps), roads)["city"]
>>> city[["in_service", "lit"]].values.tolist(), city["on_rate"].tolist()
([[3, 2]], [0.6667])
"""

from __future__ import annotations

import datetime as _dt
from collections.abc import Mapping
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from ..catalog import Catalog
from ..config import load_config
from ..errors import ConfigError
from ..findings import concat_findings, empty_findings, make_findings
from ..rules import missing_needs, rule, skip_message
from .delays import PROBLEM_COLUMNS, repair_delays
from .delays import end_of_day as _end_of_day
from .stretches import unserved_stretches

LAYERS = ("street_lamps", "roads", "lamp_faults", "buildings", "residential_compounds")

__all__ = [
    "LAYERS",
    "CHECK",
    "load_lamp_config",
    "lamp_states",
    "match_roads",
    "on_rates",
    "dark_stretches",
    "propose_sites",
    "named_spots",
    "fault_delays",
    "run_check",
]

CHECK = "lamps"


def load_lamp_config(config: Mapping[str, Any] | None = None) -> dict[str, Any]:
    """The lamp configuration: ``config`` itself or ``lamps.yaml`` (checked).

    >>> load_lamp_config()["faults"]["max_hours"]
    24
    """
    cfg = dict(config) if config is not None else dict(load_config("lamps"))
    for key in ("status", "on_rate", "dark_stretch", "proposals", "faults"):
        if not isinstance(cfg.get(key), Mapping):
            raise ConfigError(f"路灯配置 lamps.yaml：缺少 {key} 部分", path="lamps.yaml")
    for cls, v in cfg["dark_stretch"]["reach_m"].items():
        if not isinstance(v, (int, float)) or v <= 0:
            raise ConfigError(f"路灯配置 lamps.yaml：dark_stretch.reach_m.{cls} 应为正数（米）",
                              path="lamps.yaml", field=f"dark_stretch.reach_m.{cls}")
    return cfg


# --------------------------------------------------------------------------------- lamp state
def lamp_states(lamps: gpd.GeoDataFrame, faults: pd.DataFrame | None = None, *,
                as_of: _dt.date | None = None, config: Mapping[str, Any] | None = None
                ) -> gpd.GeoDataFrame:
    """Lamps with ``in_service`` and ``lit`` at the end of ``as_of``.

    A lamp is in service unless its status is a planned one (规划新增); it is lit when its status
    is a lit one (正常) and no fault of it is open at the end of ``as_of``. Without a ``status``
    column every lamp counts as in service and lit.

    Parameters
    ----------
    lamps : GeoDataFrame
        ``lamp_id``, ``status``.
    faults : DataFrame, optional
        Checked faults from :func:`fault_delays` (``lamp_id``, ``reported_at``, ``repaired_at``).

    Returns
    -------
    GeoDataFrame
        ``lamps`` plus boolean ``in_service`` and ``lit``.

    Examples
    --------
    >>> import geopandas as gpd
    >>> from shapely.geometry import Point
    >>> l = gpd.GeoDataFrame({"lamp_id": ["A", "B"], "status": ["正常", "规划新增"]},
    ...                      geometry=[Point(0, 0), Point(1, 0)])
    >>> lamp_states(l)[["in_service", "lit"]].values.tolist()
    [[True, True], [False, False]]
    """
    cfg = load_lamp_config(config)["status"]
    out = lamps.copy()
    # a layer without status (an OSM extract) records lamps that exist: in service and lit
    status = (out["status"].astype(str) if "status" in out
              else pd.Series(cfg["lit"][0], index=out.index))
    out["in_service"] = ~status.isin(cfg["not_in_service"]).to_numpy()
    lit = status.isin(cfg["lit"]).to_numpy().copy()
    if faults is not None and len(faults):
        end = _end_of_day(as_of)
        f = faults
        if end is not None:
            f = f[f["reported_at"] < end]
            open_ = f["repaired_at"].isna() | (f["repaired_at"] >= end)
        else:
            open_ = f["repaired_at"].isna()
        dark_ids = set(f.loc[open_, "lamp_id"].astype(str))
        lit &= ~out["lamp_id"].astype(str).isin(dark_ids).to_numpy()
    out["lit"] = lit & out["in_service"].to_numpy()
    return out


def match_roads(lamps: gpd.GeoDataFrame, roads: gpd.GeoDataFrame, *,
                config: Mapping[str, Any] | None = None) -> tuple[gpd.GeoDataFrame, pd.DataFrame]:
    """Tie every lamp to its road; list lamps standing far from any road.

    A lamp keeps its ``road_id`` when that road exists and is within ``max_lamp_offset_m``;
    otherwise it takes the nearest road within that distance. Lamps with no road within it keep
    no road and are listed with their reason (they still count in the district and city
    on-rates).

    Returns
    -------
    (GeoDataFrame, DataFrame)
        The lamps with ``road_id`` (matched), ``road_offset_m`` and ``district`` (from the road
        when it has one), and the problem rows (``lamp_id``, ``field``, ``reason``).
    """
    cfg = load_lamp_config(config)["dark_stretch"]
    max_off = float(cfg["max_lamp_offset_m"])
    out = lamps.copy().reset_index(drop=True)
    rid = (out["road_id"].astype(object).where(out["road_id"].notna(), None).to_numpy()
           if "road_id" in out else np.full(len(out), None, dtype=object))
    r_index = pd.Index(roads["road_id"].astype(str))
    given = pd.Series(rid).astype(str)
    pos = r_index.get_indexer(given.where(pd.Series(rid).notna(), "\x00"))
    geoms = out.geometry.values
    d_given = np.full(len(out), np.inf)
    has = pos >= 0
    d_given[has] = shapely.distance(geoms[has], roads.geometry.values[pos[has]])
    li, ri = roads.sindex.nearest(geoms, max_distance=max_off, return_all=False)
    near = np.full(len(out), -1)
    near[li] = ri
    d_near = np.full(len(out), np.inf)
    d_near[li] = shapely.distance(geoms[li], roads.geometry.values[ri])
    use_given = has & (d_given <= max_off)
    match = np.where(use_given, pos, near)
    dist = np.where(use_given, d_given, d_near)
    problems = []
    ids = out["lamp_id"].astype(str).to_numpy()
    for k in np.flatnonzero(match < 0):
        problems.append({"lamp_id": ids[k], "row": int(k) + 1, "field": "geometry",
                         "reason": f"路灯距最近道路超过 {max_off:g} 米，无法归属道路（未计入分路亮灯率）"})
    for k in np.flatnonzero(has & ~use_given & (match >= 0)):
        problems.append({"lamp_id": ids[k], "row": int(k) + 1, "field": "road_id",
                         "reason": f"道路编号 {rid[k]} 距路灯 {d_given[k]:.0f} 米，已改归最近道路 "
                                   f"{roads['road_id'].iloc[match[k]]}"})
    for k in np.flatnonzero(~has & pd.Series(rid).notna().to_numpy()):
        problems.append({"lamp_id": ids[k], "row": int(k) + 1, "field": "road_id",
                         "reason": f"道路编号 {rid[k]} 不在道路图层中"})
    at = np.maximum(match, 0)   # the matched rows only, as objects (not the whole Arrow column)
    out["road_id"] = np.where(match >= 0, roads["road_id"].astype(str).iloc[at].to_numpy(), None)
    out["road_offset_m"] = np.where(match >= 0, np.round(dist, 1), np.nan)
    if "district" in roads:
        out["district"] = np.where(match >= 0, roads["district"].iloc[at].astype(object).to_numpy(),
                                   None)
    return out, pd.DataFrame(problems, columns=["lamp_id", "row", "field", "reason"])


# ------------------------------------------------------------------------------------ on-rate
def _road_key(frame: pd.DataFrame, roads: gpd.GeoDataFrame | None) -> pd.Series:
    """The road a lamp or segment belongs to: the road's name, else its segment id."""
    rid = frame["road_id"] if "road_id" in frame else pd.Series(None, index=frame.index,
                                                                 dtype=object)
    if roads is None or "name" not in roads:
        return rid
    names = roads[["road_id", "name"]].drop_duplicates("road_id").set_index("road_id")["name"]
    name = rid.map(names)
    return name.where(name.notna() & (name.astype(str) != ""), rid)


def on_rates(lamps: gpd.GeoDataFrame, roads: gpd.GeoDataFrame | None = None, *,
             config: Mapping[str, Any] | None = None) -> dict[str, pd.DataFrame]:
    """On-rate (亮灯率) per road, per district and for the whole city.

    Parameters
    ----------
    lamps : GeoDataFrame
        From :func:`lamp_states` (``in_service``, ``lit``), with ``road_id`` and optionally
        ``district`` (see :func:`match_roads`).
    roads : GeoDataFrame, optional
        Adds road name and class to the per-road table.

    Returns
    -------
    dict of DataFrame
        ``road`` (per road name, or segment id for unnamed roads), ``district`` and ``city``:
        ``in_service``, ``lit``, ``dark``, ``on_rate``
        (lit / in service, rounded to 4 places), ``target`` and ``meets_target``.
    """
    cfg = load_lamp_config(config)["on_rate"]
    target = float(cfg["target"])
    strict = bool(cfg.get("strictly_above", True))
    live = lamps[lamps["in_service"]]

    def table(keys: pd.Series | None) -> pd.DataFrame:
        grp = live.groupby(keys, dropna=True) if keys is not None else None
        if grp is None:
            t = pd.DataFrame({"in_service": [len(live)], "lit": [int(live["lit"].sum())]})
        else:
            t = grp["lit"].agg(in_service="size", lit="sum").astype(int)
        t["dark"] = t["in_service"] - t["lit"]
        t["on_rate"] = (t["lit"] / t["in_service"].where(t["in_service"] > 0)).round(4)
        t["target"] = target
        t["meets_target"] = (t["on_rate"] > target) if strict else (t["on_rate"] >= target)
        return t

    road = table(_road_key(live, roads))
    road.index.name = "road"
    road = road.reset_index()
    if roads is not None and len(road):
        info = roads.assign(road=_road_key(roads, roads)).drop_duplicates("road").set_index("road")
        for col in ("road_class", "district"):
            if col in info:
                road[col] = road["road"].map(info[col])
    if "district" in live and live["district"].notna().any():
        district = table(live["district"])
        district.index.name = "district"
        district = district.reset_index()
    else:
        district = pd.DataFrame(columns=["district", "in_service", "lit", "dark", "on_rate",
                                         "target", "meets_target"])
    city = table(None)
    return {"road": road, "district": district, "city": city}


# ------------------------------------------------------------------------------ dark stretches
def _reach(roads: gpd.GeoDataFrame, cfg: Mapping[str, Any]) -> np.ndarray:
    table = cfg["reach_m"]
    default = min(float(v) for v in table.values())
    return roads["road_class"].map(lambda c: float(table.get(c, default))).to_numpy(float)


def dark_stretches(roads: gpd.GeoDataFrame, lamps: gpd.GeoDataFrame, *,
                   config: Mapping[str, Any] | None = None) -> gpd.GeoDataFrame:
    """Dark stretches (照明盲区): road stretches with no lit lamp within the class's reach.

    Parameters
    ----------
    roads : GeoDataFrame
        ``road_id``, ``road_class`` (reach per class from ``lamps.yaml``).
    lamps : GeoDataFrame
        From :func:`lamp_states` (``in_service``, ``lit``).

    Returns
    -------
    GeoDataFrame
        One row per stretch: ``road_id``, ``road_class``, ``name`` (when roads have it),
        ``start_m``, ``end_m``, ``length_m``, ``reach_m``, ``dark_lamps`` (lamps in service but
        not lit within reach of the stretch) and the stretch LineString.
    """
    cfg = load_lamp_config(config)["dark_stretch"]
    sel = roads[roads["road_class"].isin(cfg["classes"])].reset_index(drop=True)
    reach = _reach(sel, cfg)
    service = lamps[lamps["in_service"]]
    if cfg.get("lamped_roads_only", True):
        if "road_id" in service and service["road_id"].notna().any():
            keep = sel["road_id"].astype(str).isin(set(service["road_id"].dropna().astype(str)))
            keep = keep.to_numpy()
        else:  # lamps not tied to roads: a road with a lamp in service within reach
            ri, _ = shapely.STRtree(service.geometry.values).query(
                sel.geometry.values, predicate="dwithin", distance=reach)
            keep = np.zeros(len(sel), dtype=bool)
            keep[ri] = True
        sel, reach = sel[keep].reset_index(drop=True), reach[keep]
    lit_pts = service.geometry.values[service["lit"].to_numpy(bool)]
    out = unserved_stretches(sel, lit_pts, reach=reach, min_length=float(cfg["min_length_m"]))
    rows = out.pop("_row").to_numpy()
    out.insert(1, "road_class", sel["road_class"].to_numpy()[rows])
    if "name" in sel:
        out.insert(2, "name", sel["name"].to_numpy()[rows])
    out["reach_m"] = reach[rows]
    dark = service[~service["lit"].to_numpy(bool)]
    counts = np.zeros(len(out), dtype=int)
    if len(out) and len(dark):
        si, _ = shapely.STRtree(dark.geometry.values).query(
            out.geometry.values, predicate="dwithin", distance=out["reach_m"].to_numpy())
        counts = np.bincount(si, minlength=len(out))
    out["dark_lamps"] = counts
    return out


def propose_sites(stretches: gpd.GeoDataFrame, *, config: Mapping[str, Any] | None = None
                  ) -> gpd.GeoDataFrame:
    """Proposed new lamp sites: evenly along each dark stretch, at most the design spacing apart.

    A stretch of length ``L`` gets ``ceil(L / spacing)`` sites at ``(k + 0.5) L / n``; every
    point of the stretch is then within half a spacing of a new lamp (sites are on the
    centreline: the pole position is set on site).

    Examples
    --------
    >>> import geopandas as gpd
    >>> from shapely.geometry import LineString
    >>> s = gpd.GeoDataFrame({"road_id": ["R1"], "road_class": ["支路"], "start_m": [0.0],
    ...                       "end_m": [60.0], "length_m": [60.0]},
    ...                      geometry=[LineString([(0, 0), (60, 0)])])
    >>> propose_sites(s).geometry.x.round(1).tolist()
    [10.0, 30.0, 50.0]
    """
    cfg = load_lamp_config(config)["proposals"]
    table = cfg["spacing_m"]
    default = min(float(v) for v in table.values())
    spacing = stretches["road_class"].map(lambda c: float(table.get(c, default))).to_numpy(float)
    L = stretches["length_m"].to_numpy(float)
    n = np.maximum(1, np.ceil(L / np.where(spacing > 0, spacing, 1.0) - 1e-9)).astype(int)
    which = np.repeat(np.arange(len(stretches)), n)
    k = np.arange(n.sum()) - np.repeat(np.cumsum(n) - n, n)
    d = (k + 0.5) * L[which] / n[which]
    pts = shapely.line_interpolate_point(stretches.geometry.values[which], d)
    out = gpd.GeoDataFrame({
        "site_id": [f"{r}-{int(s):05d}-{i + 1}" for r, s, i in
                    zip(stretches["road_id"].to_numpy()[which],
                        stretches["start_m"].to_numpy()[which], k)],
        "road_id": stretches["road_id"].to_numpy()[which],
        "road_class": stretches["road_class"].to_numpy()[which],
        "measure_m": np.round(stretches["start_m"].to_numpy()[which] + d, 1),
        "spacing_m": spacing[which],
    }, geometry=pts, crs=stretches.crs)
    return out


def _spot_geometry(layers: Mapping[str, gpd.GeoDataFrame], spot: Mapping[str, Any]
                   ) -> Any | None:
    g = layers.get(str(spot["layer"]))
    if g is None or str(spot["field"]) not in g:
        return None
    hit = g[g[str(spot["field"])].astype(str) == str(spot["value"])]
    if not len(hit):
        return None
    geom = shapely.union_all(hit.geometry.values)
    if spot.get("side") == "east":
        minx, miny, maxx, maxy = geom.bounds
        return shapely.LineString([(maxx, miny), (maxx, maxy)])
    return geom


def named_spots(layers: Mapping[str, gpd.GeoDataFrame], stretches: gpd.GeoDataFrame,
                lamps: gpd.GeoDataFrame, sites: gpd.GeoDataFrame, *,
                config: Mapping[str, Any] | None = None) -> pd.DataFrame:
    """The plan's named dark spots (3.2.1) against dark stretches, planned and proposed lamps.

    Returns
    -------
    DataFrame
        Per spot: ``spot``, ``found`` (located on the map), ``dark_stretches`` and
        ``dark_length_m`` within ``spot_radius_m``, ``dark_lamps``, ``planned_lamps``
        (status 规划新增) and ``proposed_sites`` within it.
    """
    cfg = load_lamp_config(config)["proposals"]
    radius = float(cfg["spot_radius_m"])
    rows = []
    for spot in cfg.get("named_spots", []):
        geom = _spot_geometry(layers, spot)
        row = {"spot": spot["name"], "found": geom is not None, "dark_stretches": 0,
               "dark_length_m": 0.0, "dark_lamps": 0, "planned_lamps": 0, "proposed_sites": 0}
        if geom is not None:
            zone = shapely.buffer(geom, radius)
            hit = stretches[shapely.intersects(stretches.geometry.values, zone)]
            row["dark_stretches"] = int(len(hit))
            row["dark_length_m"] = round(float(shapely.length(
                shapely.intersection(hit.geometry.values, zone)).sum()), 1)
            inside = shapely.intersects(lamps.geometry.values, zone)
            row["dark_lamps"] = int((inside & lamps["in_service"].to_numpy(bool)
                                     & ~lamps["lit"].to_numpy(bool)).sum())
            row["planned_lamps"] = int((inside & ~lamps["in_service"].to_numpy(bool)).sum())
            row["proposed_sites"] = int(shapely.intersects(sites.geometry.values, zone).sum())
        rows.append(row)
    return pd.DataFrame(rows, columns=["spot", "found", "dark_stretches", "dark_length_m",
                                       "dark_lamps", "planned_lamps", "proposed_sites"])


# ------------------------------------------------------------------------------------- faults
def fault_delays(faults: gpd.GeoDataFrame, *, as_of: _dt.date | None = None,
                 config: Mapping[str, Any] | None = None,
                 layer: str = "lamp_faults") -> tuple[gpd.GeoDataFrame, pd.DataFrame]:
    """Hours from report to repair of each fault, and the rows that cannot be used.

    A fault still open at the end of ``as_of`` is measured up to then. A fault repaired at
    exactly ``max_hours`` is on time; one minute later it is overdue. A row with its repair
    before its report, or with no report time, is not used and listed with its reason.

    Returns
    -------
    (GeoDataFrame, DataFrame)
        The usable faults with ``hours`` (float), ``open`` and ``overdue``; the rejected rows
        (``layer``, ``row``, ``id``, ``field``, ``reason``).

    Examples
    --------
    >>> import geopandas as gpd, pandas as pd
    >>> from shapely.geometry import Point
    >>> f = gpd.GeoDataFrame({"fault_id": ["F1", "F2", "F3"], "lamp_id": ["L1", "L2", "L3"],
    ...     "reported_at": pd.to_datetime(["2022-09-01 20:00"] * 3),
    ...     "repaired_at": pd.to_datetime(["2022-09-02 20:00", "2022-09-02 20:01",
    ...                                    "2022-09-01 19:00"])}, geometry=[Point(0, 0)] * 3)
    >>> ok, bad = fault_delays(f, as_of=pd.Timestamp("2022-09-04").date())
    >>> ok[["fault_id", "hours", "overdue"]].values.tolist()
    [['F1', 24.0, False], ['F2', 24.0167, True]]
    >>> bad["reason"].tolist()
    ['修复时间早于报告时间']
    """
    cfg = load_lamp_config(config)["faults"]
    return repair_delays(faults, id_field="fault_id", max_hours=float(cfg["max_hours"]),
                         as_of=as_of, layer=layer)


def faults_from_lamps(lamps: gpd.GeoDataFrame, *, config: Mapping[str, Any] | None = None
                      ) -> gpd.GeoDataFrame:
    """Open faults read from the lamp layer itself (dark status with a report time).

    Used when there is no ``lamp_faults`` layer: every dark lamp with ``reported_at`` is an open
    fault since then.
    """
    cfg = load_lamp_config(config)["status"]
    if "reported_at" not in lamps:
        return gpd.GeoDataFrame({"fault_id": [], "lamp_id": [], "reported_at": [],
                                 "repaired_at": []}, geometry=[], crs=lamps.crs)
    d = lamps[lamps["status"].isin(cfg["dark"]) & lamps["reported_at"].notna()]
    rep = pd.to_datetime(d["reported_at"])
    return gpd.GeoDataFrame({
        "fault_id": (d["lamp_id"].astype(str) + "@" + rep.dt.strftime("%Y%m%d%H%M")).to_numpy(),
        "lamp_id": d["lamp_id"].astype(str).to_numpy(), "reported_at": rep.to_numpy(),
        "repaired_at": pd.Series(pd.NaT, index=d.index).to_numpy()},
        geometry=d.geometry.values, crs=lamps.crs)


def _tie_faults(faults: gpd.GeoDataFrame, lamps: gpd.GeoDataFrame, match_m: float
                ) -> tuple[gpd.GeoDataFrame, pd.DataFrame]:
    """Fill missing ``lamp_id`` from the nearest lamp; list faults tied to no lamp."""
    f = faults.copy()
    known = set(lamps["lamp_id"].astype(str))
    lid = f["lamp_id"].astype(object).where(f["lamp_id"].notna(), None) if "lamp_id" in f else \
        pd.Series(None, index=f.index, dtype=object)
    need = ~lid.astype(str).isin(known).to_numpy()
    problems = []
    if need.any():
        g = f.geometry.values[need]
        has_geom = ~(shapely.is_missing(g) | shapely.is_empty(g))
        li, ri = lamps.sindex.nearest(g[has_geom], max_distance=match_m, return_all=False)
        fill = np.full(need.sum(), None, dtype=object)
        fill[np.flatnonzero(has_geom)[li]] = lamps["lamp_id"].astype(str).to_numpy()[ri]
        vals = lid.to_numpy(dtype=object).copy()
        vals[need] = fill
        lid = pd.Series(vals, index=f.index)
        for k in np.flatnonzero(need)[pd.isna(fill)]:
            problems.append({"layer": "lamp_faults", "row": int(k) + 1,
                             "id": str(f["fault_id"].iloc[k]), "field": "lamp_id",
                             "reason": f"路灯编号不存在，且 {match_m:g} 米内没有路灯"})
    f["lamp_id"] = lid.to_numpy()
    pos = pd.Index(lamps["lamp_id"].astype(str)).get_indexer(f["lamp_id"].astype(str))
    ok = pos >= 0
    geom = f.geometry.values.copy()
    geom[ok] = lamps.geometry.values[pos[ok]]
    f = f.set_geometry(gpd.GeoSeries(geom, crs=lamps.crs).values)
    return f[ok].reset_index(drop=True), pd.DataFrame(problems, columns=PROBLEM_COLUMNS)


# ----------------------------------------------------------------------------------- findings
def _week_start(as_of: _dt.date | None) -> pd.Timestamp | None:
    return None if as_of is None else pd.Timestamp(as_of) - pd.Timedelta(days=6)


def analyse(layers: Mapping[str, gpd.GeoDataFrame], *, as_of: _dt.date | None = None,
            config: Mapping[str, Any] | None = None) -> dict[str, Any]:
    """Every lamp analysis on loaded layers (what the command, the check and notebook show).

    Returns
    -------
    dict
        ``lamps`` (states and roads), ``rates`` (from :func:`on_rates`), ``stretches``,
        ``sites``, ``spots``, ``faults`` (with delays), ``problems`` (rows not used, with
        reasons), ``notes`` (skipped parts).
    """
    cfg = load_lamp_config(config)
    lamps_raw = layers["street_lamps"]
    roads = layers.get("roads")
    notes: list[str] = []
    problems = []
    raw_faults = layers.get("lamp_faults")
    if raw_faults is None:
        raw_faults = faults_from_lamps(lamps_raw, config=cfg)
        notes.append("没有路灯故障记录图层 lamp_faults：故障取自路灯图层的状态与报告时间")
    faults, bad = fault_delays(raw_faults, as_of=as_of, config=cfg)
    problems.append(bad)
    faults, bad = _tie_faults(faults, lamps_raw, float(cfg["faults"]["match_lamp_m"]))
    problems.append(bad)
    lamps = lamp_states(lamps_raw, faults, as_of=as_of, config=cfg)
    if roads is not None:
        lamps, bad = match_roads(lamps, roads, config=cfg)
        bad = bad.assign(layer="street_lamps").rename(columns={"lamp_id": "id"})
        problems.append(bad[PROBLEM_COLUMNS])
        stretches = dark_stretches(roads, lamps, config=cfg)
        sites = propose_sites(stretches, config=cfg)
        spots = named_spots(layers, stretches, lamps, sites, config=cfg)
    else:
        notes.append("没有道路图层 roads：未计算照明盲区与分路亮灯率")
        stretches = sites = spots = None
    rates = on_rates(lamps, roads, config=cfg)
    return {"lamps": lamps, "rates": rates, "stretches": stretches, "sites": sites,
            "road_key": _road_key(lamps[lamps["in_service"]], roads),
            "spots": spots, "faults": faults, "notes": notes,
            "problems": pd.concat([p for p in problems if len(p)] or [problems[0]],
                                  ignore_index=True)}


def findings_from(result: Mapping[str, Any], *, as_of: _dt.date | None = None,
                  crs: Any) -> gpd.GeoDataFrame:
    """The lamp findings (dark stretches, low on-rates, overdue faults) from :func:`analyse`."""
    frames = []
    s = result["stretches"]
    if s is not None and len(s):
        frames.append(make_findings(
            rule="lamp_dark_stretch", layer="roads", crs=crs, geometry=s.geometry.values,
            feature_ids=[[r, f"{a:.0f}-{b:.0f}"] for r, a, b in
                         zip(s["road_id"], s["start_m"], s["end_m"])],
            measures=[{"length_m": ln, "start_m": a, "end_m": b, "reach_m": rc,
                       "dark_lamps": int(dk)} for ln, a, b, rc, dk in
                      zip(s["length_m"], s["start_m"], s["end_m"], s["reach_m"],
                          s["dark_lamps"])],
            measure_key="length_m", measure_unit="m"))
    lamps = result["lamps"]
    road_t = result["rates"]["road"]
    if len(road_t):
        cfg = load_lamp_config()["on_rate"]
        low = road_t[~road_t["meets_target"] & (road_t["in_service"] >= int(cfg["min_lamps_per_road"]))]
        if len(low):
            live = lamps[lamps["in_service"]]
            hull = live.groupby(result["road_key"]).geometry.agg(
                lambda g: shapely.convex_hull(shapely.union_all(g.values)))
            frames.append(make_findings(
                rule="lamp_on_rate", layer="roads", crs=crs,
                geometry=[hull[r] for r in low["road"]],
                feature_ids=[[r] for r in low["road"]],
                measures=[{"on_rate": o, "lit": int(li), "in_service": int(n),
                           "target": t} for o, li, n, t in
                          zip(low["on_rate"], low["lit"], low["in_service"], low["target"])],
                measure_key="on_rate", measure_unit="ratio"))
    f = result["faults"]
    if len(f):
        start = _week_start(as_of)
        over = f[f["overdue"] & (f["open"] | (start is None)
                                 | (f["repaired_at"] >= start if start is not None else True))]
        if len(over):
            frames.append(make_findings(
                rule="lamp_fault_overdue", layer="lamp_faults", crs=crs,
                geometry=over.geometry.values,
                feature_ids=[[fid, lid] for fid, lid in zip(over["fault_id"], over["lamp_id"])],
                measures=[{"hours": h, "open": bool(o)} for h, o in
                          zip(over["hours"], over["open"])],
                measure_key="hours", measure_unit="h",
                observed_at=[t.strftime("%Y-%m-%dT%H:%M") for t in over["reported_at"]]))
    return concat_findings(frames) if frames else empty_findings(crs)


def run_check(catalog: Catalog, layers: Mapping[str, gpd.GeoDataFrame] | None = None, *,
              as_of: _dt.date | None = None) -> gpd.GeoDataFrame:
    """The lamp rules for the weekly run (skipping those whose layers are missing).

    Returns
    -------
    GeoDataFrame
        Findings; ``attrs["notes"]`` lists skipped rules and unused rows,
        ``attrs["problems"]`` the rows not used with their reasons.
    """
    layers = dict(layers or {})
    notes = []
    for r in (rule("lamp_dark_stretch"), rule("lamp_on_rate"), rule("lamp_fault_overdue")):
        miss = missing_needs(r, layers)
        if miss:
            notes.append(skip_message(r, miss))
    if "street_lamps" not in layers:
        out = empty_findings(catalog.working_crs)
        out.attrs["notes"] = notes
        return out
    result = analyse(layers, as_of=as_of)
    out = findings_from(result, as_of=as_of, crs=catalog.working_crs)
    out.attrs["notes"] = notes + result["notes"] + [
        f"{p.layer} 第 {p.row} 行（{p.id}）{p.field}：{p.reason}"
        for p in result["problems"].itertuples()]
    out.attrs["problems"] = result["problems"].to_dict("records")
    return out
