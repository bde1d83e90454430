"""Cases from 12345, 110 and patrols: screening, classification, routing, times, repeats, 吹哨.

Campaign tasks 7.1.1 and 7.1.3 (grid workers report, 110 and 12345 connected to the grid
platform), 1.3.4 and 7.2.2 (“街道社区吹哨、执法部门报到”), 2.1.4, 2.2.6, 3.1.3, 4.3.5 and 6.2.3
(the case kinds the plan names). Classes, codes, deadlines and the keyword rules live in
``config/cases.yaml``; rules in ``config/rules/cases.yaml``.

The steps are pure functions on a case table (canonical fields of the catalog's
``hotline_cases`` layer: ``case_id``, ``received_at``, ``category``, ``text``, ``address`` and
optionally ``channel``, ``responded_at``, ``closed_at``; point geometry in the working CRS):

1. :func:`screen_cases` - bad rows listed with their reason, nothing lost;
2. :func:`classify_cases` - GB/T 30428.2 / GB/T 47678.5 class from the category field or keywords;
3. :func:`route_cases` - grid, community, road chief, lead department, deadline;
4. :func:`case_times` - response and closure times against the deadlines, overdue;
5. :func:`find_repeats` - the same place (radius or address) within N days;
6. :func:`escalate` - the 吹哨 chain of an overdue or repeated case.

:func:`run_check` runs them for the weekly run. Hot spots are in :mod:`zlgis.analysis.hotspots`.

Examples
--------
>>> import pandas as pd, geopandas as gpd, shapely
>>> cases = gpd.GeoDataFrame({
...     "case_id": ["A1", "A2"], "category": ["路灯照明", ""],
...     "text": ["小区门口路灯不亮", "楼下露天烧烤油烟扰民"], "address": ["幸福小区", "和谐苑"],
...     "received_at": pd.to_datetime(["2022-08-01 08:00", "2022-08-02 21:00"])},
...     geometry=shapely.points([0, 10], [0, 10]), crs="EPSG:4550")
>>> c = classify_cases(cases)
>>> c[["case_class", "code_new", "class_source"]].values.tolist()
[['lamp_fault', '01037', 'category'], ['cooking_fumes', '', 'keyword']]
"""

from __future__ import annotations

import datetime as _dt
import json
from collections.abc import Mapping
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import shapely
from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import connected_components
from scipy.spatial import cKDTree

from ..config import department_name, load_config, task_routing
from ..crs import to_wgs84, transformer
from ..findings import concat_findings, empty_findings
from ._ruled import rule_findings, run_rules

__all__ = [
    "case_settings",
    "cases_from_lonlat",
    "screen_cases",
    "classify_cases",
    "confusion_table",
    "locate",
    "route_cases",
    "case_times",
    "find_repeats",
    "escalate",
    "end_of",
    "prepare_cases",
    "case_findings",
    "run_check",
]

HOUR = np.timedelta64(1, "h")


def end_of(as_of: Any) -> pd.Timestamp:
    """The moment ``as_of`` stands for: a date (or "YYYY-MM-DD") is the end of that day.

    >>> str(end_of("2022-09-04")), str(end_of(pd.Timestamp("2022-09-04 10:00")))
    ('2022-09-05 00:00:00', '2022-09-04 10:00:00')
    """
    if isinstance(as_of, pd.Timestamp | _dt.datetime):
        return pd.Timestamp(as_of)
    return pd.Timestamp(str(as_of)[:10]) + pd.Timedelta(days=1)


def case_settings(config: Mapping[str, Any] | None = None) -> dict[str, Any]:
    """``config/cases.yaml`` with every ``{value, source, confidence}`` reduced to its value.

    >>> s = case_settings()
    >>> s["classes"]["lamp_fault"]["deadline_hours"], s["repeat"]["radius_m"]
    (24, 50)
    """
    raw = dict(config) if config is not None else load_config("cases")

    def walk(x: Any) -> Any:
        if isinstance(x, Mapping) and "value" in x and "source" in x:
            return x["value"]
        if isinstance(x, Mapping):
            return {k: walk(v) for k, v in x.items()}
        return x

    return walk(raw)


# ------------------------------------------------------------------------------- coordinates
def cases_from_lonlat(df: pd.DataFrame, *, lon: str = "lon", lat: str = "lat",
                      system: str = "gcj02", crs: Any = "EPSG:4550") -> gpd.GeoDataFrame:
    """Points from longitude/latitude columns in GCJ-02, BD-09 or WGS84, in ``crs``.

    Rows without both values get an empty geometry (they are located by address, or listed by
    :func:`screen_cases`). The conversion is :func:`zlgis.crs.to_wgs84`.

    >>> df = pd.DataFrame({"lon": [122.7453, None], "lat": [47.9893, None]})
    >>> g = cases_from_lonlat(df, system="bd09")
    >>> g.geometry.is_empty.tolist()
    [False, True]
    """
    x = pd.to_numeric(df[lon], errors="coerce").to_numpy(float)
    y = pd.to_numeric(df[lat], errors="coerce").to_numpy(float)
    ok = np.isfinite(x) & np.isfinite(y)
    wx, wy = to_wgs84(x[ok], y[ok], system)
    tx, ty = transformer("EPSG:4326", crs).transform(wx, wy)
    px = np.full(len(df), np.nan)
    py = np.full(len(df), np.nan)
    px[ok], py[ok] = tx, ty
    geom = np.where(ok, shapely.points(np.where(ok, px, 0), np.where(ok, py, 0)),
                    shapely.from_wkt("POINT EMPTY"))
    return gpd.GeoDataFrame(df.drop(columns=[lon, lat]), geometry=geom, crs=crs)


# ------------------------------------------------------------------------------- screening
def screen_cases(cases: gpd.GeoDataFrame, *, area: Any = None, layer: str = "hotline_cases",
                 path: str = "", config: Mapping[str, Any] | None = None
                 ) -> tuple[gpd.GeoDataFrame, pd.DataFrame]:
    """Split cases into those used and a report of every row with a problem.

    Rejected (not used, listed): no coordinates and no address; coordinates outside ``area``
    (the city); closed before received; a case number already used by an earlier row.
    Kept but listed: no coordinates with an address (not placed in a grid); a category that no
    class knows and whose text no keyword places (classed as 其他).

    Returns
    -------
    (GeoDataFrame, DataFrame)
        The cases used, and the report with ``file``, ``layer``, ``row`` (1-based data row),
        ``field``, ``value``, ``action`` (已剔除 / 已保留) and ``reason`` (Chinese).

    Examples
    --------
    >>> import shapely
    >>> df = gpd.GeoDataFrame({"case_id": ["A", "A", "B", "C"],
    ...     "received_at": pd.to_datetime(["2022-08-01"] * 4),
    ...     "closed_at": pd.to_datetime([None, None, "2022-07-01", None]),
    ...     "category": ["路灯照明"] * 4, "text": [""] * 4, "address": ["", "", "", ""]},
    ...     geometry=[shapely.Point(1, 1), shapely.Point(2, 2), shapely.Point(3, 3),
    ...               shapely.Point(99, 99)], crs="EPSG:4550")
    >>> ok, report = screen_cases(df, area=shapely.box(0, 0, 10, 10))
    >>> ok["case_id"].tolist(), report["reason"].tolist()
    (['A'], ['工单编号重复（与第 1 行相同）', '办结时间早于受理时间', '坐标不在市域范围内'])
    """
    s = case_settings(config)
    df = cases.reset_index(drop=True)
    n = len(df)
    rows: list[dict[str, Any]] = []
    drop = np.zeros(n, dtype=bool)

    def note(mask: np.ndarray, fld: str, values: Any, action: str, reason: Any) -> None:
        for i in np.flatnonzero(mask):
            rows.append({"file": path, "layer": layer, "row": int(i) + 1, "field": fld,
                         "value": "" if values is None else str(values[i]),
                         "action": action,
                         "reason": reason[i] if isinstance(reason, np.ndarray) else reason})

    ids = df["case_id"].fillna("").astype(str)
    first = pd.Series(np.arange(n), index=ids.to_numpy()).groupby(level=0).transform("min")
    dup = ids.duplicated().to_numpy() & (ids != "").to_numpy()
    note(dup, "case_id", ids.to_numpy(), "已剔除",
         np.array([f"工单编号重复（与第 {int(j) + 1} 行相同）" for j in first.to_numpy()],
                  dtype=object))
    drop |= dup
    empty_id = (ids == "").to_numpy() & ~drop
    note(empty_id, "case_id", None, "已剔除", "缺少工单编号")
    drop |= empty_id
    received = pd.to_datetime(df["received_at"], errors="coerce")
    no_time = received.isna().to_numpy() & ~drop
    note(no_time, "received_at", df["received_at"].astype(str).to_numpy(), "已剔除",
         "缺少受理时间或格式无效")
    drop |= no_time
    geom = df.geometry.values
    no_xy = (shapely.is_missing(geom) | shapely.is_empty(geom))
    addr = df["address"].fillna("").astype(str).str.strip() if "address" in df else \
        pd.Series("", index=df.index)
    nowhere = no_xy & (addr == "").to_numpy() & ~drop
    note(nowhere, "geometry", None, "已剔除", "无坐标且无地址，无法定位")
    drop |= nowhere
    if area is not None:
        outside = ~no_xy & ~shapely.intersects(area, geom) & ~drop
        xy = shapely.get_coordinates(geom[outside])
        vals = np.full(n, "", dtype=object)
        vals[outside] = [f"{x:.1f},{y:.1f}" for x, y in xy]
        note(outside, "geometry", vals, "已剔除", "坐标不在市域范围内")
        drop |= outside
    if "closed_at" in df:
        closed = pd.to_datetime(df["closed_at"], errors="coerce")
        before = (closed < received).to_numpy() & ~drop
        note(before, "closed_at", closed.astype(str).to_numpy(), "已剔除", "办结时间早于受理时间")
        drop |= before
    addr_only = no_xy & ~drop
    note(addr_only, "geometry", addr.to_numpy(), "已保留", "无坐标，仅有地址：不计入网格和热点")
    cls = classify_cases(df, config=config)
    cats = df["category"].fillna("").astype(str).to_numpy() if "category" in df else \
        np.full(n, "", dtype=object)
    unknown = (cls["case_class"] == s.get("unknown_class", "other")).to_numpy() & ~drop
    note(unknown, "category", cats, "已保留",
         np.array([f"诉求分类“{c}”未知，诉求内容也无法按关键词归类：按“其他”处理" for c in cats],
                  dtype=object))
    report = pd.DataFrame(rows, columns=["file", "layer", "row", "field", "value", "action",
                                         "reason"])
    report = report.sort_values(["row", "field"], kind="stable").reset_index(drop=True)
    return df.loc[~drop].reset_index(drop=True), report


# ------------------------------------------------------------------------------- classify
def _keyword_hits(text: pd.Series, classes: Mapping[str, Any]) -> np.ndarray:
    """Number of each class's keywords found in each text (n x classes), vectorised in Arrow.

    One RE2 pass per class finds the texts that name any of its keywords; only the texts that
    name two classes or more (the ambiguous ones, where the count decides) are counted keyword
    by keyword.
    """
    import re

    arr = pa.array(text.fillna("").astype(str).to_numpy(), type=pa.string())
    kws = [[str(k) for k in spec.get("keywords", [])] for spec in classes.values()]
    hits = np.zeros((len(text), len(classes)), dtype=np.int16)
    for j, words in enumerate(kws):
        if words:
            pattern = "|".join(re.escape(w) for w in words)
            hits[:, j] = pc.match_substring_regex(arr, pattern).to_numpy(zero_copy_only=False)
    amb = np.flatnonzero((hits > 0).sum(axis=1) > 1)
    if len(amb):
        sub = arr.take(pa.array(amb))
        for j, words in enumerate(kws):
            if len(words) > 1:
                hits[amb, j] = sum(pc.match_substring(sub, w).to_numpy(zero_copy_only=False)
                                   .astype(np.int16) for w in words)
    return hits


def classify_cases(cases: pd.DataFrame, *, config: Mapping[str, Any] | None = None
                   ) -> pd.DataFrame:
    """The class of each case from its category field, or from keywords in its text.

    A known category gives its class unless none of that class's keywords is in the text and
    another class's are: then the text wins and ``category_mismatch`` is set (a mis-typed
    category). Without a known category the class with most keyword hits wins (ties: the first
    in ``config/cases.yaml``); with none, ``other``.

    Returns
    -------
    DataFrame
        Same index: ``case_class``, ``class_name``, ``code_old``, ``code_new``,
        ``class_source`` (category / keyword / none) and ``category_mismatch``.
    """
    s = case_settings(config)
    classes = s["classes"]
    keys = list(classes)
    other = s.get("unknown_class", "other")
    cat_map = {str(c): k for k, spec in classes.items() for c in spec.get("categories", [])}
    n = len(cases)
    cat = cases["category"].fillna("").astype(str).str.strip() if "category" in cases else \
        pd.Series("", index=cases.index)
    text = cases["text"] if "text" in cases else pd.Series("", index=cases.index)
    cat_idx = cat.map({c: keys.index(k) for c, k in cat_map.items()}).fillna(-1).astype(
        int).to_numpy()
    hits = _keyword_hits(text, classes)
    best = hits.argmax(axis=1)
    any_hit = hits.max(axis=1) > 0
    own_hit = np.where(cat_idx >= 0, hits[np.arange(n), np.maximum(cat_idx, 0)] > 0, False)
    mismatch = (cat_idx >= 0) & ~own_hit & any_hit & (best != cat_idx)
    idx = np.where(cat_idx >= 0, np.where(mismatch, best, cat_idx),
                   np.where(any_hit, best, -1))
    source = np.where(mismatch | ((cat_idx < 0) & any_hit), "keyword",
                      np.where(cat_idx >= 0, "category", "none"))
    names = np.array([classes[k]["name"] for k in keys] + [s.get("other_name", "其他")],
                     dtype=object)
    old = np.array([str(classes[k].get("code_old", "")) for k in keys] + [""], dtype=object)
    new = np.array([str(classes[k].get("code_new", "")) for k in keys] + [""], dtype=object)
    key_arr = np.array(keys + [other], dtype=object)
    return pd.DataFrame({"case_class": key_arr[idx], "class_name": names[idx],
                         "code_old": old[idx], "code_new": new[idx], "class_source": source,
                         "category_mismatch": mismatch}, index=cases.index)


def confusion_table(truth: pd.Series, predicted: pd.Series) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Confusion table (rows: labelled class, columns: predicted) and precision/recall per class.

    >>> t = pd.Series(["a", "a", "b", "b"]); p = pd.Series(["a", "b", "b", "b"])
    >>> conf, scores = confusion_table(t, p)
    >>> scores.loc["b", ["precision", "recall"]].round(3).tolist()
    [0.667, 1.0]
    """
    conf = pd.crosstab(truth.rename("labelled"), predicted.rename("predicted"), dropna=False)
    labels = sorted(set(conf.index) | set(conf.columns))
    conf = conf.reindex(index=labels, columns=labels, fill_value=0)
    tp = np.diag(conf.to_numpy()).astype(float)
    col, row = conf.sum(axis=0).to_numpy(float), conf.sum(axis=1).to_numpy(float)
    with np.errstate(invalid="ignore", divide="ignore"):
        scores = pd.DataFrame({"precision": tp / col, "recall": tp / row, "support": row},
                              index=labels)
    return conf, scores


# ------------------------------------------------------------------------------- routing
def locate(points: Any, polygons: Any, *, tolerance: float = 0.05,
           raster_cells: int = 4_000_000) -> np.ndarray:
    """Index of the polygon holding each point (-1: none); a point on a shared border (within
    ``tolerance``, the noise of converted coordinates) goes to the polygon listed first, so
    every point is counted exactly once and the same way on every run.

    Exact and fast for many points: the polygons are burnt into a raster; points in a pixel
    that no polygon edge touches (nor any edge of its 8 neighbours) take the pixel's polygon,
    the few others are tested exactly with an STRtree.

    >>> import shapely
    >>> polys = shapely.box([0, 10], [0, 0], [10, 20], [10, 10])
    >>> locate(shapely.points([5, 10, 15, 30], [5, 5, 5, 5]), polys).tolist()
    [0, 0, 1, -1]
    """
    from rasterio.features import rasterize
    from rasterio.transform import from_origin
    from scipy.ndimage import binary_dilation

    pts = np.asarray(points, dtype=object)
    polys = np.asarray(polygons, dtype=object)
    out = np.full(len(pts), -1, dtype=np.int64)
    if not len(pts) or not len(polys):
        return out
    ok = ~(shapely.is_missing(pts) | shapely.is_empty(pts))
    xy = shapely.get_coordinates(pts[ok])
    x0, y0, x1, y1 = shapely.total_bounds(polys)
    res = max(np.sqrt((x1 - x0) * (y1 - y0) / raster_cells), 2 * tolerance, 1e-9)
    if len(pts) < 20_000:
        idx = np.flatnonzero(ok)
    else:
        w, h = int(np.ceil((x1 - x0) / res)) + 1, int(np.ceil((y1 - y0) / res)) + 1
        tr = from_origin(x0, y1, res, res)
        # polygons burnt in reverse order so that the first listed wins where centres tie
        order = np.arange(len(polys))[::-1]
        # GeoJSON dicts from GEOS are much faster for rasterio than __geo_interface__
        shapes = [json.loads(g) for g in shapely.to_geojson(polys[order])]
        label = rasterize(zip(shapes, order + 1), out_shape=(h, w), transform=tr,
                          fill=0, dtype="int32")
        rings = [json.loads(g) for g in shapely.to_geojson(shapely.boundary(polys))]
        edge = rasterize(((r, 1) for r in rings), out_shape=(h, w), transform=tr, fill=0,
                         all_touched=True, dtype="uint8")
        edge = binary_dilation(edge > 0, structure=np.ones((3, 3), dtype=bool))
        col = np.floor((xy[:, 0] - x0) / res).astype(np.int64)
        row = np.floor((y1 - xy[:, 1]) / res).astype(np.int64)
        inside = (col >= 0) & (col < w) & (row >= 0) & (row < h)
        pos = np.flatnonzero(ok)
        lab = np.zeros(len(xy), dtype=np.int64)
        amb = np.ones(len(xy), dtype=bool)
        lab[inside] = label[row[inside], col[inside]]
        amb[inside] = edge[row[inside], col[inside]] > 0
        out[pos[~amb]] = lab[~amb] - 1
        idx = pos[amb]
    if len(idx):
        pi, gi = shapely.STRtree(polys).query(pts[idx], predicate="dwithin",
                                              distance=tolerance)
        if len(pi):
            first = pd.Series(gi).groupby(pi).min()
            out[idx[first.index.to_numpy()]] = first.to_numpy()
    return out


def route_cases(cases: gpd.GeoDataFrame, classes: pd.DataFrame, *,
                grids: gpd.GeoDataFrame | None = None,
                segments: gpd.GeoDataFrame | None = None,
                config: Mapping[str, Any] | None = None) -> gpd.GeoDataFrame:
    """Grid, community, road chief, lead and cooperating departments and deadlines of each case.

    Parameters
    ----------
    classes : DataFrame
        From :func:`classify_cases` (same index as ``cases``).
    grids : GeoDataFrame, optional
        Grid polygons (``grid_id``, optional ``subdistrict``, ``community``, ``road_chief``);
        a case on the border of two grids goes to one (see :func:`locate`).
    segments : GeoDataFrame, optional
        Road-chief segments (:func:`zlgis.analysis.gridding.road_chief_segments`): the nearest
        within 100 m gives ``segment_id`` and the case's ``road_chief``.
    """
    s = case_settings(config)
    out = cases.join(classes)
    n = len(out)
    for col in ("grid_id", "subdistrict", "community", "road_chief", "segment_id"):
        out[col] = ""
    if grids is not None and len(grids):
        g = grids.to_crs(out.crs) if out.crs is not None and grids.crs != out.crs else grids
        k = locate(out.geometry.values, g.geometry.values)
        hit = k >= 0
        for col in ("grid_id", "subdistrict", "community", "road_chief"):
            if col in g:
                vals = np.full(n, "", dtype=object)
                vals[hit] = g[col].fillna("").astype(str).to_numpy()[k[hit]]
                out[col] = vals
    if segments is not None and len(segments):
        geom = out.geometry.values
        ok = np.flatnonzero(~(shapely.is_missing(geom) | shapely.is_empty(geom)))
        pi, si = shapely.STRtree(segments.geometry.values).query_nearest(
            geom[ok], max_distance=100.0, all_matches=False)
        seg_id = np.full(n, "", dtype=object)
        seg_id[ok[pi]] = segments["segment_id"].astype(str).to_numpy()[si]
        out["segment_id"] = seg_id
        if "road_chief" in segments:
            chief = segments["road_chief"].fillna("").astype(str).to_numpy()[si]
            cur = out["road_chief"].to_numpy(dtype=object).copy()
            cur[ok[pi]] = np.where(chief != "", chief, cur[ok[pi]])
            out["road_chief"] = cur
    classes_cfg = s["classes"]
    task = {k: str(v.get("task_id", "")) for k, v in classes_cfg.items()}
    hours = {k: float(v.get("deadline_hours", np.nan)) for k, v in classes_cfg.items()}
    other_task = "7.1.3"
    routing = {t: task_routing(t) for t in {*task.values(), other_task}}
    lead = {k: ";".join(routing[t].get("lead", [])) for k, t in task.items()}
    coop = {k: ";".join(routing[t].get("coop", [])) for k, t in task.items()}
    cls = out["case_class"]
    out["task_id"] = cls.map(task).fillna(other_task)
    out["lead_department"] = cls.map(lead).fillna(";".join(routing[other_task]["lead"]))
    out["coop_departments"] = cls.map(coop).fillna(";".join(routing[other_task]["coop"]))
    out["deadline_hours"] = cls.map(hours).fillna(float(s["other_deadline_hours"]))
    received = pd.to_datetime(out["received_at"])
    out["deadline"] = received + pd.to_timedelta(out["deadline_hours"], unit="h")
    out["response_deadline"] = received + pd.Timedelta(hours=float(s["response_hours"]))
    return out


# ------------------------------------------------------------------------------- times
def case_times(cases: pd.DataFrame, *, as_of: Any) -> pd.DataFrame:
    """Response and closure times against the deadlines, as the cases stood at ``as_of``.

    A closing time after ``as_of`` is not known yet: the case counts as open.

    Returns
    -------
    DataFrame
        ``cases`` plus ``closed`` (bool), ``response_h``, ``closure_h`` (hours, NaN if not yet),
        ``responded_on_time``, ``closed_on_time`` (bool), ``overdue`` (open past its deadline,
        or closed after it) and ``overdue_h`` (hours past the deadline, at closing or at
        ``as_of``).

    >>> df = pd.DataFrame({"received_at": pd.to_datetime(["2022-08-01 08:00"] * 2),
    ...                    "closed_at": pd.to_datetime(["2022-08-01 20:00", None]),
    ...                    "deadline": pd.to_datetime(["2022-08-02 08:00"] * 2)})
    >>> t = case_times(df, as_of="2022-08-03")
    >>> t[["closed", "closure_h", "overdue", "overdue_h"]].values.tolist()
    [[True, 12.0, False, 0.0], [False, nan, True, 40.0]]
    """
    out = cases.copy()
    now = end_of(as_of)
    received = pd.to_datetime(out["received_at"]).to_numpy("datetime64[ns]")
    closed_at = (pd.to_datetime(out["closed_at"]).to_numpy("datetime64[ns]") if "closed_at" in out
                 else np.full(len(out), np.datetime64("NaT"), dtype="datetime64[ns]"))
    resp = (pd.to_datetime(out["responded_at"]).to_numpy("datetime64[ns]")
            if "responded_at" in out else np.full(len(out), np.datetime64("NaT"),
                                                  dtype="datetime64[ns]"))
    deadline = pd.to_datetime(out["deadline"]).to_numpy("datetime64[ns]")
    nowv = np.datetime64(now.to_datetime64(), "ns")
    closed = ~np.isnat(closed_at) & (closed_at <= nowv)
    responded = ~np.isnat(resp) & (resp <= nowv)
    out["closed"] = closed
    out["response_h"] = np.where(responded, (resp - received) / HOUR, np.nan)
    out["closure_h"] = np.where(closed, (closed_at - received) / HOUR, np.nan)
    if "response_deadline" in out:
        rd = pd.to_datetime(out["response_deadline"]).to_numpy("datetime64[ns]")
        out["responded_on_time"] = responded & (resp <= rd)
    out["closed_on_time"] = closed & (closed_at <= deadline)
    end = np.where(closed, closed_at, nowv)
    late = (end - deadline) / HOUR
    out["overdue"] = late > 0
    out["overdue_h"] = np.maximum(late, 0.0)
    return out


# ------------------------------------------------------------------------------- repeats
def _normalise_address(a: pd.Series) -> pd.Series:
    return (a.fillna("").astype(str).str.replace(r"[\s，,。.（）()]", "", regex=True)
            .str.replace("号楼", "号", regex=False))


def find_repeats(cases: gpd.GeoDataFrame, *, radius_m: float | None = None,
                 days: float | None = None, same_class: bool | None = None,
                 config: Mapping[str, Any] | None = None) -> pd.DataFrame:
    """Repeat complaints: cases at the same place within ``days`` of each other.

    Two cases are linked when they are within ``radius_m`` of each other, or have the same
    address (spaces and punctuation ignored), received at most ``days`` apart and (by default)
    of the same class; linked cases form a group (single linkage).

    Returns
    -------
    DataFrame
        Same index: ``repeat_group`` (the group's first case id, empty if alone),
        ``repeat_count`` (cases in the group) and ``repeat_rank`` (1 for the first case).

    >>> import shapely
    >>> g = gpd.GeoDataFrame({"case_id": ["a", "b", "c"], "case_class": ["x", "x", "x"],
    ...     "address": ["", "", ""],
    ...     "received_at": pd.to_datetime(["2022-08-01", "2022-08-10", "2022-08-11"])},
    ...     geometry=shapely.points([0, 30, 500], [0, 0, 0]), crs="EPSG:4550")
    >>> find_repeats(g, radius_m=50, days=30)["repeat_count"].tolist()
    [2, 2, 1]
    """
    s = case_settings(config)["repeat"]
    radius = float(radius_m if radius_m is not None else s["radius_m"])
    days = float(days if days is not None else s["days"])
    same = bool(s["same_class"] if same_class is None else same_class)
    n = len(cases)
    t = pd.to_datetime(cases["received_at"]).to_numpy("datetime64[ns]")
    td = (t - t.min()) / np.timedelta64(1, "D") if n else np.zeros(0)
    cls = (pd.factorize(cases["case_class"])[0] if same and "case_class" in cases
           else np.zeros(n, dtype=int))
    geom = cases.geometry.values
    ok = np.flatnonzero(~(shapely.is_missing(geom) | shapely.is_empty(geom)))
    pairs = [np.empty((0, 2), dtype=np.int64)]
    if len(ok) > 1:
        xy = shapely.get_coordinates(geom[ok])
        # a time axis scaled so that `days` equals `radius`: one ball query bounds both
        # (pairs within radius in space AND days in time are inside a ball of radius*sqrt(2))
        pts = np.column_stack([xy, td[ok] * (radius / max(days, 1e-9))])
        p = cKDTree(pts).query_pairs(radius * np.sqrt(2.0), output_type="ndarray")
        if len(p):
            a, b = ok[p[:, 0]], ok[p[:, 1]]
            near = np.hypot(*(xy[p[:, 0]] - xy[p[:, 1]]).T) <= radius
            keep = near & (np.abs(td[a] - td[b]) <= days) & (cls[a] == cls[b])
            pairs.append(np.column_stack([a[keep], b[keep]]))
    if "address" in cases:
        addr = _normalise_address(cases["address"])
        df = pd.DataFrame({"addr": addr.to_numpy(), "cls": cls, "t": td, "i": np.arange(n)})
        df = df[df["addr"] != ""].sort_values(["addr", "cls", "t"], kind="stable")
        same_key = (df["addr"].to_numpy()[1:] == df["addr"].to_numpy()[:-1]) & \
            (df["cls"].to_numpy()[1:] == df["cls"].to_numpy()[:-1])
        close = np.diff(df["t"].to_numpy()) <= days
        k = np.flatnonzero(same_key & close)
        ii = df["i"].to_numpy()
        pairs.append(np.column_stack([ii[k], ii[k + 1]]))
    pr = np.concatenate(pairs)
    adj = coo_matrix((np.ones(len(pr)), (pr[:, 0], pr[:, 1])), shape=(n, n))
    _, label = connected_components(adj, directed=False)
    order = np.lexsort((cases["case_id"].astype(str).to_numpy(), t))
    rank = np.empty(n, dtype=np.int64)
    grp = pd.Series(label[order])
    rank[order] = grp.groupby(grp).cumcount().to_numpy() + 1
    size = np.bincount(label, minlength=n)[label]
    first_pos = pd.Series(order, index=label[order]).groupby(level=0).first()
    first_id = cases["case_id"].astype(str).to_numpy()[first_pos.reindex(label).to_numpy()]
    return pd.DataFrame({"repeat_group": np.where(size > 1, first_id, ""),
                         "repeat_count": size, "repeat_rank": rank}, index=cases.index)


# ------------------------------------------------------------------------------- escalation
def escalate(cases: pd.DataFrame, *, as_of: Any, config: Mapping[str, Any] | None = None
             ) -> pd.DataFrame:
    """The 吹哨 chain of each case: who was raised when, up to ``as_of`` (or the closing time).

    An overdue case is raised at its deadline; a case that makes its place a repeat
    (``repeat_rank`` reaches ``repeat.min_cases``) is raised when it is received. Each step of
    ``escalation.steps`` then follows after its fraction of the class deadline: the subdistrict
    blows the whistle (街道吹哨), the lead department reports in, the cooperating departments
    report in, the city command centre supervises.

    Returns
    -------
    DataFrame
        Same index: ``escalation_level`` (0: not raised), ``escalation_reason``,
        ``escalation_chain`` (JSON list of ``{level, at, who, step}``).
    """
    s = case_settings(config)
    steps = s["escalation"]["steps"]
    platform = department_name(str(s["escalation"]["platform_department"]))
    min_cases = int(s["repeat"]["min_cases"])
    now = end_of(as_of)
    received = pd.to_datetime(cases["received_at"])
    deadline = pd.to_datetime(cases["deadline"])
    hours = pd.to_numeric(cases["deadline_hours"]).to_numpy(float)
    closed_at = pd.to_datetime(cases["closed_at"]) if "closed_at" in cases else \
        pd.Series(pd.NaT, index=cases.index)
    stop = closed_at.where(closed_at <= now, now)
    rep = (cases["repeat_rank"].to_numpy() >= min_cases) if "repeat_rank" in cases else \
        np.zeros(len(cases), dtype=bool)
    late = (stop > deadline).to_numpy()
    trigger = pd.Series(np.where(late, deadline, np.where(rep, received, pd.NaT)),
                        index=cases.index, dtype="datetime64[ns]")
    if rep.any():
        both = rep & late
        trigger[both] = np.minimum(deadline[both], received[both])
    reason = np.where(late & rep, "超期且重复投诉", np.where(late, "超期未办结",
                                                        np.where(rep, "同一地点重复投诉", "")))
    level = np.zeros(len(cases), dtype=np.int64)
    chains = []
    sub = cases["subdistrict"].fillna("").astype(str).to_numpy() if "subdistrict" in cases \
        else np.full(len(cases), "", dtype=object)
    leads = cases["lead_department"].fillna("").astype(str).to_numpy()
    coops = cases["coop_departments"].fillna("").astype(str).to_numpy()
    trig = trigger.to_numpy()
    stopv = stop.to_numpy()
    for i in np.flatnonzero(~np.isnat(trig)):
        chain = []
        for st in steps:
            at = trig[i] + np.timedelta64(int(float(st["after"]) * hours[i] * 3600), "s")
            if at > stopv[i]:
                break
            who = {"subdistrict": sub[i] or "街道办事处",
                   "lead": "、".join(department_name(c) for c in leads[i].split(";") if c),
                   "coop": "、".join(department_name(c) for c in coops[i].split(";") if c)
                   or "（无配合部门）",
                   "platform": platform}[str(st["who"])]
            chain.append({"level": int(st["level"]), "at": str(pd.Timestamp(at))[:16],
                          "who": who, "step": str(st["text"])})
        level[i] = chain[-1]["level"] if chain else 0
        chains.append((i, json.dumps(chain, ensure_ascii=False)))
    chain_col = np.full(len(cases), "", dtype=object)
    for i, c in chains:
        chain_col[i] = c
    return pd.DataFrame({"escalation_level": level, "escalation_reason": reason,
                         "escalation_chain": chain_col}, index=cases.index)


# ------------------------------------------------------------------------------- pipeline
def prepare_cases(cases: gpd.GeoDataFrame, *, as_of: Any, grids: gpd.GeoDataFrame | None = None,
                  segments: gpd.GeoDataFrame | None = None,
                  config: Mapping[str, Any] | None = None) -> gpd.GeoDataFrame:
    """Classify, route, time, group repeats and escalate the cases received up to ``as_of``."""
    now = end_of(as_of)
    c = cases[pd.to_datetime(cases["received_at"]) < now].reset_index(drop=True)
    routed = route_cases(c, classify_cases(c, config=config), grids=grids, segments=segments,
                         config=config)
    timed = case_times(routed, as_of=now)
    timed = timed.join(find_repeats(timed, config=config))
    return timed.join(escalate(timed, as_of=now, config=config))


def _point_findings(rule_id: str, df: gpd.GeoDataFrame, **kw: Any) -> gpd.GeoDataFrame:
    """Findings on cases, routed to each case's own lead and cooperating departments."""
    f = rule_findings(rule_id, feature_ids=[[c] for c in df["case_id"].astype(str)],
                      layer="hotline_cases", geometry=df.geometry.values, crs=df.crs,
                      event_code_old=df["code_old"].to_numpy(),
                      event_code_new=df["code_new"].to_numpy(),
                      observed_at=[str(t)[:16] for t in df["received_at"]], **kw)
    if len(f):
        f["lead_department"] = df["lead_department"].to_numpy()
        f["coop_departments"] = df["coop_departments"].to_numpy()
    return f


def case_findings(prepared: gpd.GeoDataFrame, *, as_of: Any, located: bool = True,
                  config: Mapping[str, Any] | None = None) -> gpd.GeoDataFrame:
    """Findings of the case rules (not hot spots) for the week ending ``as_of``.

    ``case_overdue``: open past the deadline; ``case_escalation``: open and raised to the
    cooperating departments (level 3 or more); ``case_repeat``: a place with at least
    ``repeat.min_cases`` cases, the last within ``repeat.days`` of ``as_of`` (one finding per
    place, id from its first case); ``case_category_mismatch``: received in the last 7 days
    with a category the keywords contradict; ``case_unlocated`` (when ``located``: the cases
    were placed against grids): received in the last 7 days with coordinates in no grid.
    """
    s = case_settings(config)
    now = end_of(as_of)
    p = prepared
    geom = p.geometry.values
    placed = ~(shapely.is_missing(geom) | shapely.is_empty(geom))
    # cases without coordinates carry no point: the finding sits at no place but is kept
    p = p.assign(geometry=np.where(placed, geom, shapely.from_wkt("POINT EMPTY")))
    open_ = ~p["closed"].to_numpy(bool)
    out = []
    od = p[open_ & p["overdue"].to_numpy(bool)]
    out.append(_point_findings(
        "case_overdue", od, measures=[{"overdue_h": h, "deadline": str(d)[:16],
                                       "class": c, "chain": json.loads(ch) if ch else []}
                                      for h, d, c, ch in zip(od["overdue_h"], od["deadline"],
                                                             od["class_name"],
                                                             od["escalation_chain"])],
        measure_key="overdue_h", measure_unit="h",
        title=[f"{c}案件超期 {h:.0f} 小时未办结" for c, h in zip(od["class_name"],
                                                          od["overdue_h"])]))
    es = p[open_ & (p["escalation_level"].to_numpy() >= 3)]
    esc = _point_findings(
        "case_escalation", es,
        measures=[{"level": int(lv), "reason": r, "chain": json.loads(ch)}
                  for lv, r, ch in zip(es["escalation_level"], es["escalation_reason"],
                                       es["escalation_chain"])],
        measure_key="level", measure_unit="级",
        title=[f"{r}：已升级至第 {lv} 级（{json.loads(ch)[-1]['step']}）"
               for r, lv, ch in zip(es["escalation_reason"], es["escalation_level"],
                                    es["escalation_chain"])])
    # 部门报到: the escalation is the cooperating departments' to answer
    esc["lead_department"] = np.where(es["coop_departments"].to_numpy() != "",
                                      es["coop_departments"].to_numpy(),
                                      es["lead_department"].to_numpy())
    esc["coop_departments"] = es["lead_department"].to_numpy()
    out.append(esc)
    min_cases = int(s["repeat"]["min_cases"])
    grp = p[p["repeat_count"].to_numpy() >= min_cases]
    if len(grp):
        last = grp.groupby("repeat_group")["received_at"].transform("max")
        grp = grp[pd.to_datetime(last) >= now - pd.Timedelta(days=float(s["repeat"]["days"]))]
        firsts = grp[grp["case_id"] == grp["repeat_group"]]
        members = grp.groupby("repeat_group")["case_id"].agg(lambda x: sorted(x))
        out.append(rule_findings(
            "case_repeat", feature_ids=[[c] for c in firsts["case_id"]],
            layer="hotline_cases", geometry=firsts.geometry.values, crs=p.crs,
            event_code_old=firsts["code_old"].to_numpy(),
            event_code_new=firsts["code_new"].to_numpy(),
            observed_at=[str(t)[:16] for t in firsts["received_at"]],
            measures=[{"cases": len(members[c]), "case_ids": members[c], "class": n}
                      for c, n in zip(firsts["case_id"], firsts["class_name"])],
            measure_key="cases", measure_unit="件",
            title=[f"同一地点{n}重复投诉 {len(members[c])} 件" for c, n in
                   zip(firsts["case_id"], firsts["class_name"])]))
    week = pd.to_datetime(p["received_at"]) >= now - pd.Timedelta(days=7)
    if located:
        un = p[week.to_numpy() & placed & (p["grid_id"] == "").to_numpy()]
        out.append(_point_findings("case_unlocated", un,
                                   measures=[{"class": n} for n in un["class_name"]]))
    mm = p[week.to_numpy() & p["category_mismatch"].to_numpy(bool)]
    out.append(_point_findings(
        "case_category_mismatch", mm,
        measures=[{"category": c, "class": n} for c, n in zip(mm["category"], mm["class_name"])],
        title=[f"工单分类“{c}”与内容不符，应为“{n}”" for c, n in zip(mm["category"],
                                                              mm["class_name"])]))
    return concat_findings(out)


def run_check(catalog: Any, layers: Mapping[str, gpd.GeoDataFrame], *,
              as_of: _dt.date | None = None) -> gpd.GeoDataFrame:
    """Adapter for the weekly run: every case rule for the week ending ``as_of``.

    Rules whose needs are missing are skipped (``findings.attrs["notes"]`` lists them with
    :func:`zlgis.rules.skip_message`). ``as_of`` defaults to the day of the last case.
    """
    from .hotspots import hot_spot_findings

    crs = getattr(catalog, "working_crs", "EPSG:4550")
    runnable, notes = run_rules("cases", layers)
    cases = layers.get("hotline_cases")
    if cases is None or not runnable or not len(cases):
        out = empty_findings(crs)
        out.attrs["notes"] = notes
        return out
    if as_of is None:
        as_of = pd.to_datetime(cases["received_at"]).max().date()
    prepared = prepare_cases(cases, as_of=as_of, grids=layers.get("grids"))
    frames = [case_findings(prepared, as_of=as_of, located=layers.get("grids") is not None)]
    if "case_hot_spot" in runnable:
        frames.append(hot_spot_findings(prepared, as_of=as_of))
    out = concat_findings(frames)
    out = out[out["rule"].isin(runnable)].reset_index(drop=True)
    out.attrs["notes"] = notes
    return out if len(out) else empty_findings(crs)


