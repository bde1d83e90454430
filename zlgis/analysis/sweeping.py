"""Mechanical sweeping (机械化清扫, plan tasks 4.2.1 and 4.2.4) from sweeper and sprinkler tracks.

The plan asks for mechanical sweeping of at least 60 % of main and secondary roads (4.2.4), with
中央街 first (4.2.1). 机械化清扫率 is the mechanically swept road area over the road area under
cleaning (城市建设统计年鉴 columns 机械化清扫面积 / 道路清扫保洁面积); zlgis measures it from the
vehicles' GPS tracks:

1. :func:`prepare_tracks` checks the fixes (missing values, times out of order, duplicates, two
   places at one time, position jumps) and lists every row it repairs or sets aside;
2. :func:`zlgis.analysis.mapmatch.match` puts the fixes on the street edges;
3. a step between two matched fixes at a sweeping speed, by a sweeping vehicle with its brush
   down, sweeps the stretch between them; stretches are merged per edge and day (a road swept
   twice counts once);
4. :func:`sweeping_coverage` gives the share per day and for the week, by length and by area
   (length x road width), for the main and secondary roads and for 中央街 apart, the watered share
   from sprinklers, and the roads never swept.

Examples
--------
>>> import geopandas as gpd
>>> from shapely.geometry import LineString, Point
>>> roads = gpd.GeoDataFrame({"road_id": ["A", "B"], "name": ["中央街", "兴华路"],
...     "road_class": ["主干路", "次干路"], "width": [40.0, 30.0]},
...     geometry=[LineString([(0, 0), (1000, 0)]), LineString([(0, 300), (1000, 300)])],
...     crs="EPSG:4550")
>>> x = np.arange(0.0, 601.0, 20.0)
>>> tracks = gpd.GeoDataFrame({"vehicle_id": "SX01", "vehicle_type": "扫路车",
...     "time": pd.Timestamp("2022-08-29 05:00") + pd.to_timedelta(np.arange(len(x)) * 8, "s")},
...     geometry=[Point(v, 3.0) for v in x], crs="EPSG:4550")
>>> res = sweeping_coverage(roads, tracks)
>>> res.week.set_index("group")["share_length"].round(2).to_dict()
{'主次干道': 0.3, '中央街': 0.6}
>>> res.never_swept["road_id"].tolist()
['B']
"""

from __future__ import annotations

import datetime as _dt
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd

from ..config import load_config
from ..errors import ConfigError, InputError
from .mapmatch import EdgeIndex, match, swept_intervals, union_length
from .network import StreetGraph, xy_of_points
from .timewindows import TZ_OFFSET_S

__all__ = [
    "SweepResult",
    "TrackProblems",
    "cfg_value",
    "prepare_tracks",
    "sanitation_config",
    "sweeping_coverage",
    "working_speed",
]

GROUP_ALL = "主次干道"


def sanitation_config() -> dict[str, Any]:
    """The ``sanitation.yaml`` configuration."""
    return load_config("sanitation")


def cfg_value(cfg: Mapping[str, Any], section: str, key: str) -> Any:
    """``cfg[section][key]['value']`` (or the bare value) of ``sanitation.yaml``.

    There is no default in code: the number lives in the configuration only, and a key missing
    there is a :class:`~zlgis.errors.ConfigError`.
    """
    try:
        v = cfg[section][key]
    except (KeyError, TypeError):
        raise ConfigError(f"配置 sanitation.yaml 缺少 {section}.{key}",
                          field=f"{section}.{key}") from None
    return v["value"] if isinstance(v, Mapping) and "value" in v else v


# --------------------------------------------------------------------------------------------
# track preparation
# --------------------------------------------------------------------------------------------

@dataclass
class TrackProblems:
    """Rows of a track layer that were repaired or set aside, one row each, with the reason.

    The rows are kept as columns, one block per :meth:`add` (the weekly run on the 1M city
    lists 650 000 fixes: one dict per row cost 4 s); :attr:`rows` gives them as dicts.
    """

    blocks: list[dict[str, Any]] = field(default_factory=list)

    COLUMNS = ("layer", "row", "vehicle_id", "time", "field", "problem", "action")

    def add(self, layer: str, rows: np.ndarray, vehicle: Any, time: Any,
            fld: str, problem: str | list[str], action: str) -> None:
        """List ``rows`` (1-based rows of ``layer``) with their vehicle and time texts.

        ``time`` may be the layer's :class:`_TimeText`: the rows' times are then written only
        when the list is read (:meth:`frame`, :attr:`rows`), as is the vehicles' text: the
        weekly run never reads it, and the 1M city's 650 000 listed fixes held 200 MB of
        strings and took 1.2 s to write.
        """
        rows = np.asarray(rows).astype(np.int64)
        if len(rows):
            self.blocks.append({"layer": layer, "row": rows, "vehicle_id": vehicle,
                                "time": time, "field": fld, "problem": problem,
                                "action": action})

    def _columns(self, b: dict[str, Any]) -> dict[str, np.ndarray]:
        n = len(b["row"])
        time = b["time"][b["row"] - 1] if isinstance(b["time"], _TimeText) else b["time"]
        probs = b["problem"] if isinstance(b["problem"], list) else [b["problem"]] * n
        return {"layer": np.full(n, b["layer"], dtype=object), "row": b["row"],
                "vehicle_id": np.array([str(v) for v in b["vehicle_id"]], dtype=object),
                "time": np.array([str(t) for t in time], dtype=object),
                "field": np.full(n, b["field"], dtype=object),
                "problem": np.array(probs, dtype=object),
                "action": np.full(n, b["action"], dtype=object)}

    @property
    def rows(self) -> list[dict[str, Any]]:
        """The rows as dicts, in the order they were added."""
        out = []
        for b in map(self._columns, self.blocks):
            out.extend({c: (int(b[c][i]) if c == "row" else b[c][i]) for c in self.COLUMNS}
                       for i in range(len(b["row"])))
        return out

    def frame(self) -> pd.DataFrame:
        if not self.blocks:
            df = pd.DataFrame([], columns=list(self.COLUMNS))
        else:
            cols = [self._columns(b) for b in self.blocks]
            df = pd.DataFrame({c: np.concatenate([b[c] for b in cols]) for c in self.COLUMNS})
        return df.sort_values(["row", "problem"], kind="stable").reset_index(drop=True)


_LABELS = {"layer": "图层", "row": "行号", "vehicle_id": "车辆编号", "time": "定位时间",
           "field": "字段", "problem": "问题", "action": "处理"}


def _epoch(values: pd.Series) -> tuple[np.ndarray, np.ndarray]:
    """Epoch seconds (naive times are Asia/Shanghai) and a validity mask."""
    ts = pd.to_datetime(values, errors="coerce")
    if getattr(ts.dt, "tz", None) is not None:
        ts = ts.dt.tz_convert("UTC").dt.tz_localize(None)
        shift = 0
    else:
        shift = TZ_OFFSET_S
    ok = ts.notna().to_numpy()
    sec = np.zeros(len(ts), np.int64)
    sec[ok] = ts[ok].to_numpy().astype("datetime64[s]").astype(np.int64) - shift
    return sec, ok


def _text(col: pd.Series) -> pd.Series:
    """The column as stripped text, "" where missing (``astype(object)`` first only when it
    is not text already: the same values without a Python string per row and back)."""
    if isinstance(col.dtype, pd.StringDtype):
        return col.fillna("").str.strip().astype(str)
    return col.astype(object).where(col.notna(), "").astype(str).str.strip()


class _TimeText:
    """``col.astype(str).to_numpy(dtype=object)[rows]``, formatting only the rows asked.

    pandas writes a datetime column in one format chosen from all its values (dates only
    when every value is a midnight, else seconds with the finest fraction any value has):
    the rows asked are written together with the first value of each finer resolution and
    the first one not at midnight, so they get the column's format. Other columns (text,
    times with a zone) are written whole, once.
    """

    def __init__(self, col: pd.Series) -> None:
        self.col = col
        self.text: np.ndarray | None = None
        self.triggers = np.zeros(0, np.int64)
        if not (isinstance(col.dtype, np.dtype) and col.dtype.kind == "M"):
            self.text = col.astype(str).to_numpy(dtype=object)
            return
        values = col.to_numpy()
        i8, ok = values.view(np.int64), ~np.isnat(values)
        ns_per = {"s": 10**9, "ms": 10**6, "us": 10**3, "ns": 1}[np.datetime_data(col.dtype)[0]]
        first = []
        for size_ns in (10**3, 10**6, 10**9, 86400 * 10**9):   # ns, us, ms, a whole day
            if size_ns > ns_per:
                hit = np.flatnonzero(ok & (i8 % (size_ns // ns_per) != 0))
                first += [hit[0]] if len(hit) else []
        self.triggers = np.asarray(first, np.int64)

    def __getitem__(self, rows: np.ndarray) -> np.ndarray:
        if self.text is not None:
            return self.text[rows]
        pos = np.arange(len(self.col))[rows]
        want = np.unique(np.r_[pos, self.triggers])
        text = self.col.iloc[want].astype(str).to_numpy(dtype=object)
        return text[np.searchsorted(want, pos)]


def _sorted_unique(df: pd.DataFrame, raw_time: _TimeText, probs: TrackProblems,
                   layer: str) -> pd.DataFrame:
    """Fixes sorted by vehicle and time (rows out of order listed as repaired), duplicates and
    second positions at the same second dropped (listed)."""
    prev = df.groupby("vehicle_id", sort=False)["t"].cummax().shift()
    same_v = df["vehicle_id"].eq(df["vehicle_id"].shift())
    back = (same_v & (df["t"] < prev)).to_numpy()
    if back.any():
        d = df[back]
        probs.add(layer, d["row"].to_numpy(), d["vehicle_id"].array, raw_time, "time",
                  "定位时间早于前一行（时间倒序）",
                  "已按时间重排")
    df = df.sort_values(["vehicle_id", "t", "row"], kind="stable").reset_index(drop=True)
    key = df[["vehicle_id", "t"]]
    dup_t = key.duplicated().to_numpy()
    same_xy = (np.abs(df["x"].diff()) < 0.5) & (np.abs(df["y"].diff()) < 0.5)
    exact = dup_t & same_xy.to_numpy()
    other = dup_t & ~exact
    for mask, msg in ((exact, "重复定位点（同一车辆、同一时刻、同一位置）"),
                      (other, "同一时刻出现两个位置")):
        if mask.any():
            d = df[mask]
            probs.add(layer, d["row"].to_numpy(), d["vehicle_id"].array, raw_time, "time",
                      msg, "已去除")
    return df[~dup_t].reset_index(drop=True)


def _drop_jumps(df: pd.DataFrame, vmax: float, raw_time: _TimeText, probs: TrackProblems,
                layer: str) -> pd.DataFrame:
    """Position jumps: too fast (``vmax`` m/s) from both neighbours, set aside (listed); three
    passes, as a jump can hide another."""
    for _ in range(3):
        if len(df) < 2:
            break
        xv, yv, tv = df["x"].to_numpy(), df["y"].to_numpy(), df["t"].to_numpy()
        sv = df["vehicle_id"].to_numpy()
        d = np.hypot(np.diff(xv), np.diff(yv))
        dt = np.maximum(np.diff(tv), 1)
        fast = (d / dt > vmax) & (sv[1:] == sv[:-1])
        before = np.r_[False, fast]
        after = np.r_[fast, False]
        first = np.r_[True, sv[1:] != sv[:-1]]
        last = np.r_[sv[1:] != sv[:-1], True]
        jump = (before & (after | last)) | (after & first)
        if not jump.any():
            break
        dist_prev = np.r_[0.0, d]
        dd = df[jump]
        probs.add(layer, dd["row"].to_numpy(), dd["vehicle_id"].array, raw_time, "geometry",
                  [f"位置跳变（距前一点 {v / 1000:.1f} km）" for v in dist_prev[jump]], "未使用")
        df = df[~jump].reset_index(drop=True)
    return df


def _fix_xy(gdf: pd.DataFrame, layer: str) -> tuple[np.ndarray, np.ndarray]:
    """The fixes' coordinates (NaN where a fix has none), from the points or the ``x``, ``y``
    columns of a frame without geometry."""
    if not isinstance(gdf, gpd.GeoDataFrame):
        if not {"x", "y"} <= set(gdf.columns):
            raise InputError("轨迹表缺少坐标（几何或 x、y 字段）", layer=layer, field="geometry")
        return (pd.to_numeric(gdf["x"], errors="coerce").to_numpy(float),
                pd.to_numeric(gdf["y"], errors="coerce").to_numpy(float))
    return xy_of_points(gdf.geometry.values)


def prepare_tracks(gdf: pd.DataFrame, *, crs: Any = None, layer: str = "sweeper_tracks",
                   config: Mapping[str, Any] | None = None
                   ) -> tuple[pd.DataFrame, TrackProblems]:
    """Fixes sorted by vehicle and time, and the list of rows repaired or set aside.

    ``gdf`` is a GeoDataFrame of points, or a frame with the fixes' coordinates in columns
    ``x`` and ``y`` (missing ones NaN), taken to be in ``crs`` (the weekly run hands the
    tracks so, :attr:`zlgis.rules.Check.coordinates`).

    Rows without a vehicle, a readable time or a position are set aside; a file out of time
    order is sorted (the rows are listed as repaired); exact duplicates and a second position at
    the same second are dropped; a fix that needs more than ``tracks.max_speed_kmh`` to reach
    from both its neighbours (e.g. a point 50 km away) is a position jump and set aside. Nothing
    is lost: every input row is either in the result or in the problems list.

    Returns
    -------
    fixes : DataFrame
        ``row`` (1-based input row), ``vehicle_id``, ``vcode``, ``vehicle_type``, ``kind``
        (``sweep``, ``water`` or ``other``), ``working``, ``t`` (epoch s), ``x``, ``y``.
    problems : TrackProblems

    Raises
    ------
    InputError
        When the layer lacks the ``vehicle_id`` or ``time`` field.
    """
    cfg = config or sanitation_config()
    for col in ("vehicle_id", "time"):
        if col not in gdf.columns:
            raise InputError(f"缺少字段 {col}（车辆编号/定位时间）", layer=layer, field=col)
    if (isinstance(gdf, gpd.GeoDataFrame) and crs is not None and gdf.crs is not None
            and len(gdf) and not gdf.crs.equals(crs)):
        gdf = gdf.to_crs(crs)
    probs = TrackProblems()
    n = len(gdf)
    rows = np.arange(1, n + 1)
    veh_s = _text(gdf["vehicle_id"])
    raw_time = _TimeText(gdf["time"])    # the input's text of a time, for listed rows only
    t, t_ok = _epoch(gdf["time"])
    x, y = _fix_xy(gdf, layer)
    g_ok = np.isfinite(x) & np.isfinite(y)
    v_ok = (veh_s != "").to_numpy(dtype=bool)
    for mask, fld, msg in ((~v_ok, "vehicle_id", "缺少车辆编号"),
                           (v_ok & ~t_ok, "time", "定位时间为空或无法识别"),
                           (v_ok & t_ok & ~g_ok, "geometry", "缺少坐标")):
        if mask.any():
            probs.add(layer, rows[mask], veh_s[mask].array, raw_time, fld, msg, "未使用")
    keep = v_ok & t_ok & g_ok
    vtype = (gdf["vehicle_type"].fillna("").astype(str).str.strip().array
             if "vehicle_type" in gdf.columns else np.full(n, "", dtype=object))
    working = (gdf["working"].astype(object).where(gdf["working"].notna(), True)
               .astype(bool).to_numpy() if "working" in gdf.columns else np.ones(n, bool))
    df = pd.DataFrame({"row": rows, "vehicle_id": veh_s.array, "vehicle_type": vtype,
                       "working": working, "t": t, "x": x, "y": y})[keep]
    df = _sorted_unique(df, raw_time, probs, layer)
    vmax = float(cfg_value(cfg, "tracks", "max_speed_kmh")) / 3.6
    df = _drop_jumps(df, vmax, raw_time, probs, layer)
    sweep_t = set(cfg_value(cfg, "tracks", "sweeping_types"))
    water_t = set(cfg_value(cfg, "tracks", "watering_types"))
    df["kind"] = np.where(df["vehicle_type"].isin(sweep_t), "sweep",
                          np.where(df["vehicle_type"].isin(water_t), "water", "other"))
    df["vcode"] = pd.factorize(df["vehicle_id"])[0]
    return df, probs


# --------------------------------------------------------------------------------------------
# coverage
# --------------------------------------------------------------------------------------------

@dataclass
class SweepResult:
    """What :func:`sweeping_coverage` measured.

    Attributes
    ----------
    fixes : DataFrame
        The prepared fixes with ``edge``, ``road_row`` and ``match_dist`` (-1 / NaN unmatched).
    problems : DataFrame
        Rows repaired or set aside (:class:`TrackProblems`, attribute ``track_problems``), plus
        fixes farther than the match radius from every street (kept, unmatched).
    roads : GeoDataFrame
        The judged roads (main and secondary) with ``swept_m``, ``watered_m``, ``share``.
    daily, week : DataFrame
        Shares per day and for the week: ``group`` (主次干道, 中央街), ``share_length``,
        ``share_area``, ``watered_share``, ``length_m``, ``swept_m``, ``target``.
    never_swept : GeoDataFrame
        Judged roads not swept at all in the week.
    """

    fixes: pd.DataFrame
    track_problems: TrackProblems
    roads: gpd.GeoDataFrame
    daily: pd.DataFrame
    week: pd.DataFrame
    never_swept: gpd.GeoDataFrame
    days: tuple[str, ...] = ()

    @cached_property
    def problems(self) -> pd.DataFrame:
        """The listed rows as a table (:meth:`TrackProblems.frame`), written when first read."""
        return self.track_problems.frame()


def working_speed(fixes: pd.DataFrame, window_s: float) -> np.ndarray:
    """Speed (m/s) of each fix: straight distance over the fixes within +-window/2 seconds.

    Single steps between fixes a few seconds apart are dominated by GPS noise; over a minute
    the noise is small against the distance driven.

    >>> f = pd.DataFrame({"vcode": [0] * 5, "t": [0, 10, 20, 30, 40],
    ...                   "x": [0.0, 25.0, 50.0, 75.0, 100.0], "y": 0.0})
    >>> working_speed(f, 20).tolist()
    [2.5, 2.5, 2.5, 2.5, 2.5]
    """
    t = fixes["t"].to_numpy(np.int64)
    key = fixes["vcode"].to_numpy(np.int64) * (1 << 34) + t
    half = int(window_s // 2)
    j = np.searchsorted(key, key - half, "left")
    k = np.searchsorted(key, key + half, "right") - 1
    x, y = fixes["x"].to_numpy(), fixes["y"].to_numpy()
    return np.hypot(x[k] - x[j], y[k] - y[j]) / np.maximum(t[k] - t[j], 1)


def _day(t: np.ndarray) -> np.ndarray:
    return (np.asarray(t, np.int64) + TZ_OFFSET_S) // 86400


def _shares(roads: pd.DataFrame, swept: np.ndarray, watered: np.ndarray, target: float,
            focus: str) -> list[dict[str, Any]]:
    out = []
    w = roads["_w"].to_numpy()
    L = roads["_len"].to_numpy()
    groups = [(GROUP_ALL, np.ones(len(roads), bool))]
    if "name" in roads:
        groups.append((focus, (roads["name"] == focus).to_numpy()))
    for g, m in groups:
        tot, area = L[m].sum(), (L[m] * w[m]).sum()
        out.append({"group": g, "length_m": round(float(tot), 1),
                    "swept_m": round(float(swept[m].sum()), 1),
                    "share_length": float(swept[m].sum() / tot) if tot else np.nan,
                    "share_area": float((swept[m] * w[m]).sum() / area) if area else np.nan,
                    "watered_share": float(watered[m].sum() / tot) if tot else np.nan,
                    "target": target})
    return out


def sweeping_coverage(roads: gpd.GeoDataFrame, tracks: pd.DataFrame, *,
                      as_of: _dt.date | None = None, graph: StreetGraph | None = None,
                      index: EdgeIndex | None = None, layer: str = "sweeper_tracks",
                      config: Mapping[str, Any] | None = None) -> SweepResult:
    """Swept and watered shares of the main and secondary roads per day and for the week.

    Parameters
    ----------
    roads : GeoDataFrame
        Road centrelines with ``road_class`` (and ``name``, ``width``, ``road_id`` when present).
    tracks : GeoDataFrame or DataFrame
        GPS fixes with ``vehicle_id``, ``time`` and optionally ``vehicle_type``, ``working``:
        points, or their coordinates in columns ``x``, ``y`` in the CRS of ``roads``.
    as_of : datetime.date, optional
        Last day of the week (default: the day of the last fix).
    graph, index : optional
        A driving :class:`StreetGraph` of ``roads`` / its :class:`EdgeIndex`, when already built.

    Returns
    -------
    SweepResult
    """
    cfg = config or sanitation_config()
    classes = list(cfg_value(cfg, "sweeping", "road_classes"))
    focus = str(cfg_value(cfg, "sweeping", "focus_street"))
    target = float(cfg_value(cfg, "sweeping", "target_share"))
    vsweep = float(cfg_value(cfg, "tracks", "max_sweep_speed_kmh")) / 3.6
    fixes, probs = prepare_tracks(tracks, crs=roads.crs, layer=layer, config=cfg)
    if index is None:  # from the frame given: the run's graph of that layer (its key is kept)
        graph = graph or StreetGraph.from_roads(roads, walk=False)
        index = EdgeIndex.from_graph(graph)
    roads = roads.reset_index(drop=True)
    m = match(index, fixes["x"].to_numpy(), fixes["y"].to_numpy(), fixes["t"].to_numpy(),
              fixes["vcode"].to_numpy())
    fixes["edge"] = m.edge
    fixes["road_row"] = np.where(m.edge >= 0, index.edge_row[np.maximum(m.edge, 0)], -1)
    fixes["match_dist"] = m.dist
    far = m.edge < 0
    if far.any():
        d = fixes[far]
        probs.add(layer, d["row"].to_numpy(), d["vehicle_id"].to_numpy(),
                  pd.to_datetime(d["t"] + TZ_OFFSET_S, unit="s").astype(str).to_numpy(),
                  "geometry", f"距道路超过 {index.radius:.0f} 米，未匹配到道路", "保留，未计入")
    day = _day(fixes["t"].to_numpy())
    if as_of is None:
        last = int(day.max()) if len(day) else int(_day(np.array([0]))[0])
        as_of = (_dt.date(1970, 1, 1) + _dt.timedelta(days=last))
    end = (as_of - _dt.date(1970, 1, 1)).days
    days = np.arange(end - 6, end + 1)
    slow = working_speed(fixes, float(cfg_value(cfg, "tracks", "speed_window_s"))) <= vsweep
    kind = fixes["kind"].to_numpy()
    working = fixes["working"].to_numpy()
    ok_sweep = slow & (kind == "sweep") & working
    ok_water = (kind == "water") & working
    n_edges = len(index.edge_len)

    intervals = {"sweep": swept_intervals(index, m, ok_sweep),
                 "water": swept_intervals(index, m, ok_water)}
    iv_day = {k: day[v["fix"].to_numpy()] for k, v in intervals.items()}

    def per_road(kind: str, day_sel: int | None) -> np.ndarray:
        iv, dd = intervals[kind], iv_day[kind]
        keep = np.isin(dd, days) if day_sel is None else dd == day_sel
        g, L = union_length(iv["edge"].to_numpy()[keep], iv["lo"].to_numpy()[keep],
                            iv["hi"].to_numpy()[keep])
        per_edge = np.zeros(n_edges)
        per_edge[g] = L
        return np.bincount(index.edge_row, weights=per_edge, minlength=len(roads))

    judged = roads["road_class"].isin(classes).to_numpy() if "road_class" in roads else \
        np.ones(len(roads), bool)
    base = roads[judged].copy()
    base["_len"] = base.geometry.length
    base["_w"] = (pd.to_numeric(base["width"], errors="coerce").fillna(1.0).to_numpy()
                  if "width" in base else 1.0)
    if str(cfg_value(cfg, "sweeping", "share_basis")) != "area":
        base["_w"] = 1.0
    swept_w = np.minimum(per_road("sweep", None)[judged], base["_len"].to_numpy())
    water_w = np.minimum(per_road("water", None)[judged], base["_len"].to_numpy())
    week = pd.DataFrame(_shares(base, swept_w, water_w, target, focus))
    week.insert(0, "week_end", as_of.isoformat())
    daily = []
    for dnum in days:
        s = np.minimum(per_road("sweep", int(dnum))[judged], base["_len"].to_numpy())
        w = np.minimum(per_road("water", int(dnum))[judged], base["_len"].to_numpy())
        dname = (_dt.date(1970, 1, 1) + _dt.timedelta(days=int(dnum))).isoformat()
        for r in _shares(base, s, w, target, focus):
            daily.append({"day": dname, **r})
    base["swept_m"] = swept_w.round(1)
    base["watered_m"] = water_w.round(1)
    base["share"] = (swept_w / base["_len"].to_numpy()).round(3)
    min_share = float(cfg_value(cfg, "sweeping", "min_swept_share_road"))
    never = base[base["share"] <= min_share].drop(columns=["_w"]).rename(columns={"_len": "length_m"})
    out_roads = base.drop(columns=["_w"]).rename(columns={"_len": "length_m"})
    return SweepResult(fixes=fixes, track_problems=probs, roads=out_roads,
                       daily=pd.DataFrame(daily), week=week, never_swept=never,
                       days=tuple((_dt.date(1970, 1, 1) + _dt.timedelta(days=int(d))).isoformat()
                                  for d in days))
