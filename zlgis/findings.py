"""The finding: the common output of every check.

A finding is one row of a GeoDataFrame in the working CRS with the columns of
:data:`FINDING_COLUMNS`. Its ``finding_id`` is derived from the check, the rule and the ids of the
features involved, so the same breach has the same id on every run and after unrelated edits.

Examples
--------
>>> from shapely.geometry import Point
>>> f = make_findings(
...     rule="red_line_encroachment", feature_ids=[["B1", "R7"]], layer="buildings",
...     geometry=[Point(0, 0)], measures=[{"area_m2": 12.5}], severity=["high"])
>>> f.loc[0, "finding_id"] == finding_id("controllines", "red_line_encroachment", ["R7", "B1"])
True
>>> list(f.columns) == list(FINDING_COLUMNS) + ["geometry"]
True

The CRS of a findings table is, in order: the ``crs`` given, the CRS of the geometries given
(a GeoSeries), the working CRS of the run (:func:`use_crs`, set by the weekly run and every
command from the catalog), EPSG:4550.

>>> with use_crs("EPSG:32635"):
...     str(empty_findings().crs)
'EPSG:32635'
"""

from __future__ import annotations

import contextlib
import contextvars
import hashlib
import json
from collections.abc import Iterable, Iterator, Sequence
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd

from .config import task_routing
from .crs import WORKING_CRS, geo_frame
from .errors import ConfigError
from .rules import find_rule

__all__ = [
    "use_crs",
    "set_run_crs",
    "default_crs",
    "FINDING_COLUMNS",
    "FINDING_LABELS",
    "SEVERITIES",
    "SEVERITY_LABELS",
    "finding_id",
    "make_findings",
    "empty_findings",
    "concat_findings",
    "assign_grids",
    "findings_frame",
]

_RUN_CRS: contextvars.ContextVar[Any] = contextvars.ContextVar("zlgis_run_crs", default=None)


def default_crs() -> Any:
    """The working CRS of the current run (:func:`use_crs`), else EPSG:4550."""
    return _RUN_CRS.get() or WORKING_CRS


def set_run_crs(crs: Any) -> None:
    """Set the working CRS of the current context (a CLI command; ``zlgis.cli.main`` runs each
    command in a context of its own)."""
    _RUN_CRS.set(crs)


@contextlib.contextmanager
def use_crs(crs: Any) -> Iterator[None]:
    """Within the block, findings built without an explicit CRS are labelled ``crs``."""
    token = _RUN_CRS.set(crs)
    try:
        yield
    finally:
        _RUN_CRS.reset(token)


#: Column order of every findings table (plus ``geometry`` last).
FINDING_COLUMNS: tuple[str, ...] = (
    "finding_id",     # stable id: check + rule + involved feature ids
    "check",          # controllines, coverage, waterlogging, trucks, ...
    "rule",           # rule id inside the check
    "rule_source",    # standard / regulation and clause the rule comes from
    "title",          # short Chinese description shown to staff
    "task_id",        # campaign task id (e.g. 1.3.3)
    "layer",          # layer of the main feature
    "feature_id",     # id of the main feature
    "related_ids",    # other feature ids involved, ";"-separated
    "measure",        # main measure (area, depth, distance ...), float
    "measure_unit",   # its unit (m2, m, cm, min ...)
    "measures",       # all measures as JSON text
    "severity",       # high / medium / low
    "lead_department",   # department codes, ";"-separated (some tasks have two leads)
    "coop_departments",  # department codes, ";"-separated
    "event_code_old",    # digital city-management code, CJ/T 214 / GB/T 30428.2 (configurable)
    "event_code_new",    # GB/T 47678.5
    "grid_id",
    "road_chief",
    "public",         # may appear on the public map (bool)
    "observed_at",    # when the breach was observed (ISO text), if time-dependent
)

SEVERITIES = ("high", "medium", "low")

#: What staff read for each severity.
SEVERITY_LABELS: dict[str, str] = {"high": "高", "medium": "中", "low": "低"}

#: Chinese names of the findings columns (CSV headers, map popups), in output order.
FINDING_LABELS: dict[str, str] = {
    "finding_id": "问题编号", "check": "检查", "rule": "规则", "title": "问题描述",
    "task_id": "任务编号", "layer": "图层", "feature_id": "要素编号", "related_ids": "关联要素",
    "measure": "主要量值", "measure_unit": "单位", "measures": "全部量值", "severity": "严重程度",
    "lead_department": "牵头部门", "coop_departments": "配合部门",
    "event_code_old": "事件编码（旧）", "event_code_new": "事件编码（新）", "grid_id": "网格编号",
    "road_chief": "路长", "public": "可公开", "observed_at": "发现时间", "rule_source": "依据",
    "geometry": "几何（WKT）",
}


def finding_id(check: str, rule: str, feature_ids: Iterable[Any]) -> str:
    """Stable id from check, rule and the (unordered) ids of the features involved.

    >>> finding_id("c", "r", ["b", "a"]) == finding_id("c", "r", ["a", "b"])
    True
    """
    ids = sorted({str(i) for i in feature_ids})
    digest = hashlib.sha1("|".join([check, rule, *ids]).encode("utf-8")).hexdigest()[:16]
    return f"{check}-{rule}-{digest}"


def _column(value: Any, n: int, default: Any) -> list[Any]:
    if value is None:
        return [default] * n
    if isinstance(value, (str, bytes, bool, int, float)) or np.isscalar(value):
        return [value] * n
    values = list(value)
    if len(values) != n:
        raise ValueError(f"expected {n} values, got {len(values)}")
    return values


def make_findings(*, rule: str, feature_ids: Sequence[Sequence[Any]], layer: str,
                  geometry: Sequence[Any] | gpd.GeoSeries,
                  measures: Sequence[dict[str, Any]] | None = None,
                  measure_key: str | None = None, measure_unit: str = "",
                  title: str | Sequence[str] | None = None,
                  severity: str | Sequence[str] | None = None,
                  public: bool | Sequence[bool] | None = None,
                  observed_at: Sequence[str] | str = "", id_extra: Sequence[Any] | None = None,
                  crs: Any = None, check: str | None = None,
                  rule_source: str | None = None, task_id: str | None = None,
                  event_code_old: str | None = None,
                  event_code_new: str | None = None) -> gpd.GeoDataFrame:
    """Build a findings table for one rule of the rule registry.

    The check, source, campaign task, default title, severity and ``public`` flag and the event
    codes come from the rule's entry in :mod:`zlgis.rules`; a check passes only what it
    measured.

    Parameters
    ----------
    rule : str
        Rule id, registered in ``zlgis/config/rules/<check>.yaml``.
    feature_ids : sequence of sequences
        Per finding, the ids of the features involved; the first is the main feature.
    layer : str
        Layer of the main features (also picks the rule's per-layer event codes).
    geometry : sequence of shapely geometries
        Per finding, the breach part.
    measures : sequence of dict, optional
        Per finding, all measures; ``measure_key`` names the main one, in ``measure_unit``.
    title : str or sequence of str, optional
        Per finding, the text staff read (default: the rule's title).
    severity, public : optional
        Per finding or one for all (default: the rule's).
    observed_at : str or sequence of str, optional
        When the breach was observed (ISO text).
    id_extra : sequence, optional
        Extra per-finding values that make the id unique (e.g. the day of a truck stop).
    crs : optional
        CRS of ``geometry`` (default: the geometry's own, else :func:`default_crs`).
    check, rule_source, task_id, event_code_old, event_code_new : str, optional
        Only for a rule that is not registered (ad-hoc analyses and tests), or to cite the
        source an option selected (a park-coverage preset); a registered rule's check must
        match.

    Returns
    -------
    GeoDataFrame
        Columns :data:`FINDING_COLUMNS` and ``geometry``. Routing (lead and cooperating
        departments) comes from the task in ``departments.yaml``.

    Examples
    --------
    >>> from shapely.geometry import Point
    >>> f = make_findings(rule="red_line_setback", feature_ids=[["B1", "R7"]], layer="buildings",
    ...                   geometry=[Point(0, 0)], measures=[{"shortfall_m": 1.5}],
    ...                   measure_key="shortfall_m", measure_unit="m")
    >>> f.loc[0, ["check", "title", "task_id", "event_code_new"]].tolist()
    ['controllines', '建筑退让道路红线不足', '1.3.3', '06001']
    """
    n = len(feature_ids)
    spec = find_rule(rule)
    if spec is not None:
        if check is not None and check != spec.check:
            raise ValueError(f"rule {rule} belongs to check {spec.check}, not {check}")
        codes = spec.event_codes(layer)
        check = spec.check
        rule_source = rule_source if rule_source is not None else spec.source
        task_id = task_id if task_id is not None else spec.task_id
        title = title if title is not None else spec.title
        severity = severity if severity is not None else spec.severity
        public = public if public is not None else spec.public
        event_code_old = event_code_old if event_code_old is not None else codes[0]
        event_code_new = event_code_new if event_code_new is not None else codes[1]
    elif None in (check, rule_source, task_id, title):
        raise ConfigError(f"规则 {rule} 未在 zlgis/config/rules/ 中登记（未登记的规则须给出 "
                          "check、rule_source、task_id 与 title）", field=rule)
    routing = task_routing(str(task_id))
    measures = list(measures) if measures is not None else [{} for _ in range(n)]
    main = [np.nan if not measure_key or m.get(measure_key) is None else float(m[measure_key])
            for m in measures]  # a measure that could not be computed is empty, not an error
    extra = _column(id_extra, n, None)
    ids = [finding_id(check, rule, [*map(str, fids)] + ([f"@{e}"] if e is not None else []))
           for fids, e in zip(feature_ids, extra)]
    data = {
        "finding_id": ids,
        "check": check,
        "rule": rule,
        "rule_source": rule_source,
        "title": _column(title, n, ""),
        "task_id": task_id,
        "layer": layer,
        "feature_id": [str(f[0]) if len(f) else "" for f in feature_ids],
        "related_ids": [";".join(map(str, f[1:])) for f in feature_ids],
        "measure": main,
        "measure_unit": measure_unit,
        "measures": [json.dumps(_plain(m), ensure_ascii=False, sort_keys=True) for m in measures],
        "severity": _column(severity, n, "medium"),
        "lead_department": ";".join(routing.get("lead", [])),
        "coop_departments": ";".join(routing.get("coop", [])),
        "event_code_old": event_code_old or "",
        "event_code_new": event_code_new or "",
        "grid_id": "",
        "road_chief": "",
        "public": _column(public if public is not None else False, n, False),
        "observed_at": _column(observed_at, n, ""),
    }
    df = _arrow_frame(data, n)
    if df is None:
        df = pd.DataFrame(data, columns=list(FINDING_COLUMNS), index=pd.RangeIndex(n))
    if crs is None:
        crs = getattr(geometry, "crs", None) or default_crs()
    return geo_frame(df, geometry, crs)


def _arrow_frame(data: dict[str, Any], n: int) -> pd.DataFrame | None:
    """The findings columns as ``pd.DataFrame(data, columns=FINDING_COLUMNS)`` builds them, made
    through one Arrow table: ~10x less fixed cost a table (pandas infers and converts each of the
    twenty columns on its own; a check builds a table per rule, ~90 a weekly run). None (the
    caller builds it with pandas) unless every text column holds only ``str``, ``measure`` only
    floats and ``public`` only booleans, the types pandas would infer as ``str``, ``float64``
    and ``bool`` (tests/test_findings.py holds both equal)."""
    import pyarrow as pa

    if n == 0:
        return None
    arrays = []
    for name in FINDING_COLUMNS:
        value = data[name]
        if name == "measure":
            if not all(type(v) is float for v in value):
                return None
            arrays.append(pa.array(value, pa.float64()))
        elif name == "public":
            if not all(isinstance(v, (bool, np.bool_)) for v in value):
                return None
            arrays.append(pa.array(np.asarray(value, dtype=bool)))
        elif type(value) is str:
            arrays.append(pa.array([value] * n, pa.large_string()))
        elif isinstance(value, list) and all(type(v) is str for v in value):
            arrays.append(pa.array(value, pa.large_string()))
        else:
            return None
    return pa.Table.from_arrays(arrays, names=list(FINDING_COLUMNS)).to_pandas()


def _plain(m: dict[str, Any]) -> dict[str, Any]:
    out = {}
    for k, v in m.items():
        if isinstance(v, (np.floating, float)):
            out[k] = None if not np.isfinite(v) else round(float(v), 3)
        elif isinstance(v, np.integer):
            out[k] = int(v)
        elif isinstance(v, np.bool_):
            out[k] = bool(v)
        else:
            out[k] = v
    return out


def empty_findings(crs: Any = None) -> gpd.GeoDataFrame:
    """An empty findings table with the right columns (CRS: ``crs``, else :func:`default_crs`)."""
    crs = crs if crs is not None else default_crs()
    return gpd.GeoDataFrame({c: pd.Series(dtype=object) for c in FINDING_COLUMNS},
                            geometry=gpd.GeoSeries([], crs=crs), crs=crs)


def concat_findings(frames: Iterable[gpd.GeoDataFrame], *, crs: Any = None) -> gpd.GeoDataFrame:
    """Concatenate findings tables, sorted by ``finding_id``; duplicate ids are an error.

    ``crs`` (default: the first table's) is the CRS of the result; tables in another CRS are
    converted to it, so checks in different CRSs never fail the concatenation.
    """
    frames = list(frames)
    crs = crs if crs is not None else next((f.crs for f in frames if f.crs is not None), None)
    frames = [f if f.crs is None or crs is None or f.crs == crs else f.to_crs(crs)
              for f in frames if len(f)]
    if not frames:
        return empty_findings(crs)
    out = pd.concat(frames, ignore_index=True)
    dup = out["finding_id"].duplicated()
    if dup.any():
        raise ValueError(f"duplicate finding ids: {out.loc[dup, 'finding_id'].head().tolist()}")
    out = out.sort_values("finding_id", kind="stable").reset_index(drop=True)
    return gpd.GeoDataFrame(out, geometry="geometry", crs=crs if crs is not None else frames[0].crs)


def assign_grids(findings: gpd.GeoDataFrame, grids: gpd.GeoDataFrame | None) -> gpd.GeoDataFrame:
    """Fill ``grid_id`` and ``road_chief`` from the grid cell holding each finding.

    A finding is placed by a representative point of its geometry; a point on the border of
    two cells goes to the one with the smaller ``grid_id`` (so it is never left without a cell).
    Grids need the canonical columns ``grid_id`` and ``road_chief``. Findings outside every grid
    keep empty values.
    """
    out = findings.copy()
    if grids is None or not len(grids) or not len(out):
        return out
    pts = gpd.GeoSeries(out.geometry.representative_point(), crs=out.crs).to_crs(grids.crs)
    idx_pt, idx_grid = grids.sindex.query(pts.values, predicate="intersects")
    gid = grids["grid_id"].astype(str).to_numpy()
    pairs = pd.DataFrame({"pt": idx_pt, "grid": idx_grid, "gid": gid[idx_grid]})
    first = pairs.sort_values(["pt", "gid"]).groupby("pt")["grid"].first()
    chief = (grids["road_chief"].fillna("").astype(str).to_numpy() if "road_chief" in grids
             else np.full(len(grids), "", dtype=object))
    grid_col = np.full(len(out), "", dtype=object)
    chief_col = np.full(len(out), "", dtype=object)
    grid_col[first.index.to_numpy()] = gid[first.to_numpy()]
    chief_col[first.index.to_numpy()] = chief[first.to_numpy()]
    out["grid_id"] = grid_col
    out["road_chief"] = chief_col
    return out


def _typed(values: pd.Series) -> pd.Series:
    """A measure column with its type: bool, int, float or text (missing values kept)."""
    present = values.dropna()
    if not len(present):
        return values.astype(float)
    kinds = {type(v) for v in present}
    if kinds <= {bool}:
        return values.astype("boolean")
    if kinds <= {int}:
        return values.astype("Int64") if len(present) < len(values) else values.astype("int64")
    if kinds <= {int, float}:
        return values.astype(float)
    return values


def findings_frame(findings: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """The findings with their measures as typed columns instead of JSON text.

    Every key of the ``measures`` JSON becomes a column (numbers as int or float, flags as
    boolean, text as text; a finding without that measure gets a missing value). A measure
    named like a findings column is prefixed ``measure_``. The ``measures`` column is dropped.

    Parameters
    ----------
    findings : GeoDataFrame
        A findings table (:data:`FINDING_COLUMNS`), e.g. from a check's ``run_check``.

    Returns
    -------
    GeoDataFrame
        The same rows, index and geometry; ``measures`` replaced by one column per measure.

    Examples
    --------
    >>> from shapely.geometry import Point
    >>> f = make_findings(rule="red_line_encroachment", feature_ids=[["B1", "R1"], ["B2", "R1"]],
    ...                   layer="buildings", geometry=[Point(0, 0), Point(1, 1)],
    ...                   measures=[{"area_m2": 12.5, "depth_m": 1.2, "entirely_inside": False},
    ...                             {"area_m2": 3.0, "depth_m": 0.4}])
    >>> t = findings_frame(f)
    >>> t[["feature_id", "area_m2", "depth_m", "entirely_inside"]].values.tolist()
    [['B1', 12.5, 1.2, False], ['B2', 3.0, 0.4, <NA>]]
    >>> str(t["area_m2"].dtype), "measures" in t.columns
    ('float64', False)
    """
    parsed = [json.loads(m) if isinstance(m, str) and m else {} for m in findings["measures"]]
    keys = list(dict.fromkeys(k for m in parsed for k in m))
    wide = pd.DataFrame({f"measure_{k}" if k in findings.columns else k:
                         _typed(pd.Series([m.get(k) for m in parsed], index=findings.index,
                                          dtype=object)) for k in keys}, index=findings.index)
    out = pd.concat([findings.drop(columns="measures"), wide], axis=1)
    return gpd.GeoDataFrame(out, geometry=findings.geometry.name, crs=findings.crs)
