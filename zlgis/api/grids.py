"""Grid management: unit grids, road chiefs, cases, hot spots and the evaluation (issue 16).

Thin wrappers over :mod:`zlgis.analysis.gridding`, :mod:`zlgis.analysis.cases`,
:mod:`zlgis.analysis.hotspots` and :mod:`zlgis.analysis.evaluation`; the numbers live in
``config/grids.yaml`` and ``config/cases.yaml``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import geopandas as gpd
    import pandas as pd

__all__ = ["communities", "unit_grids", "road_chief_segments", "audit_grids", "classify_cases",
           "prepare_cases", "case_hot_spots", "evaluate_cases"]


def communities(grids: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """Community boundaries dissolved from a grid layer, with their subdistrict/community codes.

    Parameters
    ----------
    grids : GeoDataFrame
        The bureau's grid layer (``grid_id``, ``subdistrict``, ``community``).

    Returns
    -------
    GeoDataFrame
        ``subdistrict``, ``community``, ``subdistrict_code``, ``community_code``,
        ``admin_code`` (from the 15-character grid ids) and the polygons.

    Examples
    --------
    >>> import zlgis as zl
    >>> comm = zl.communities(zl.datasets.load("district")["grids"])
    >>> len(comm), comm["community_code"].str.len().unique().tolist()
    (16, [3])
    """
    from ..analysis.gridding import communities_from_grids

    return communities_from_grids(grids)


def unit_grids(communities: gpd.GeoDataFrame, roads: gpd.GeoDataFrame, *,
               rivers: gpd.GeoDataFrame | None = None, admin_code: str | None = None,
               target_area_m2: float | None = None, min_area_m2: float | None = None,
               max_area_m2: float | None = None) -> gpd.GeoDataFrame:
    """Unit grids (万米单元网格, GB/T 30428.1) inside communities, cut by streets and rivers.

    Parameters
    ----------
    communities : GeoDataFrame
        Community polygons (``subdistrict``, ``community``; codes optional).
    roads : GeoDataFrame
        Street centrelines bounding grids.
    rivers : GeoDataFrame, optional
        River (blue-line) polygons or lines bounding grids.
    admin_code, target_area_m2, min_area_m2, max_area_m2 : optional
        County code and sizes (defaults in ``config/grids.yaml``).

    Returns
    -------
    GeoDataFrame
        ``grid_id`` (15 characters), ``grid_name``, ``subdistrict``, ``community``,
        ``area_m2``, ``start_date``, ``end_date``, ``note``: no gap, no overlap, no grid
        across a community boundary.

    Examples
    --------
    >>> import zlgis as zl
    >>> d = zl.datasets.load("district")
    >>> g = zl.unit_grids(zl.communities(d["grids"]), d["roads"], rivers=d["blue_lines"])
    >>> bool(g["grid_id"].is_unique), bool(g.area.between(2500, 40000).all())
    (True, True)
    >>> float(round(g.area.sum() / d["grids"].area.sum(), 6))
    1.0
    """
    from ..analysis.gridding import unit_grids as _unit_grids

    return _unit_grids(communities, roads=roads, rivers=rivers, admin_code=admin_code,
                       target_area_m2=target_area_m2, min_area_m2=min_area_m2,
                       max_area_m2=max_area_m2)


def road_chief_segments(roads: gpd.GeoDataFrame, areas: gpd.GeoDataFrame, *,
                        chiefs: gpd.GeoDataFrame | None = None) -> gpd.GeoDataFrame:
    """Road-chief segments (路长制): every road cut at community boundaries, each piece once.

    Parameters
    ----------
    roads : GeoDataFrame
        Street centrelines (``road_id``, optional ``name``).
    areas : GeoDataFrame
        Community polygons (``subdistrict``, ``community``).
    chiefs : GeoDataFrame, optional
        Polygons with ``road_chief`` (the bureau's grids): the chief at each segment's middle.

    Returns
    -------
    GeoDataFrame
        ``segment_id``, ``road_name``, ``road_ids``, ``subdistrict``, ``community``,
        ``length_m``, ``road_chief``; the lengths add up to the roads' length.

    Examples
    --------
    >>> import zlgis as zl
    >>> d = zl.datasets.load("district")
    >>> seg = zl.road_chief_segments(d["roads"], zl.communities(d["grids"]), chiefs=d["grids"])
    >>> float(round(seg.length.sum() / d["roads"].length.sum(), 9))
    1.0
    """
    from ..analysis.gridding import road_chief_segments as _segments

    return _segments(roads, areas, chiefs=chiefs)


def audit_grids(grids: gpd.GeoDataFrame, *, built_up: Any = None,
                communities: gpd.GeoDataFrame | None = None,
                admin_code: str | None = None) -> gpd.GeoDataFrame:
    """Check a grid layer: gaps, overlaps, sizes, codes and community crossings (findings).

    Parameters
    ----------
    grids : GeoDataFrame
        Grid polygons with ``grid_id`` (and ``community`` for the crossing rule).
    built_up : shapely geometry, optional
        The area the grids must cover (default: the grids' outline; holes are gaps).
    communities : GeoDataFrame, optional
        Community polygons.
    admin_code : str, optional
        County code the grid ids start with (default ``config/grids.yaml``).

    Returns
    -------
    GeoDataFrame
        Findings of the registry rules of ``config/rules/grids.yaml``.

    Examples
    --------
    >>> import zlgis as zl
    >>> f = zl.audit_grids(zl.datasets.load("district")["grids"])
    >>> f["rule"].value_counts().to_dict()
    {'grid_size': 36}
    """
    from ..analysis.gridding import audit_grids as _audit

    return _audit(grids, built_up=built_up, communities=communities, admin_code=admin_code)


def classify_cases(cases: pd.DataFrame) -> pd.DataFrame:
    """GB/T 30428.2 / GB/T 47678.5 class of each case from its category, or keywords in its text.

    Parameters
    ----------
    cases : DataFrame
        ``category`` (the 12345 system's 诉求分类, may be empty) and ``text`` (诉求内容).

    Returns
    -------
    DataFrame
        ``case_class``, ``class_name``, ``code_old``, ``code_new``, ``class_source`` and
        ``category_mismatch`` (a category the text contradicts).

    Examples
    --------
    >>> import pandas as pd, zlgis as zl
    >>> c = zl.classify_cases(pd.DataFrame({"category": ["路灯照明", ""],
    ...                                     "text": ["楼下露天烧烤油烟大", "暖气不热"]}))
    >>> c[["case_class", "category_mismatch"]].values.tolist()
    [['cooking_fumes', True], ['heating', False]]
    """
    from ..analysis.cases import classify_cases as _classify

    return _classify(cases)


def prepare_cases(cases: gpd.GeoDataFrame, *, as_of: Any,
                  grids: gpd.GeoDataFrame | None = None) -> gpd.GeoDataFrame:
    """Cases classified, placed in grids, routed, timed, grouped as repeats and escalated.

    Parameters
    ----------
    cases : GeoDataFrame
        ``case_id``, ``received_at``, ``category``, ``text``, ``address`` and optionally
        ``closed_at``, ``responded_at``; points in the working CRS.
    as_of : date or str
        The moment judged (a date is the end of that day); later cases are left out.
    grids : GeoDataFrame, optional
        Grid polygons (``grid_id``, ``subdistrict``, ``community``, ``road_chief``).

    Returns
    -------
    GeoDataFrame
        The cases with class, grid, road chief, departments, deadline, ``closed``,
        ``overdue``, ``overdue_h``, repeat group and the 吹哨 chain.

    Examples
    --------
    >>> import pandas as pd, shapely, geopandas as gpd, zlgis as zl
    >>> grids = zl.datasets.load("district")["grids"]
    >>> p = grids.geometry.iloc[0].representative_point()
    >>> cases = gpd.GeoDataFrame({"case_id": ["A"], "category": ["路灯照明"], "text": ["路灯不亮"],
    ...     "address": [""], "received_at": pd.to_datetime(["2022-09-01 20:00"])},
    ...     geometry=[p], crs=grids.crs)
    >>> r = zl.prepare_cases(cases, as_of="2022-09-04", grids=grids)
    >>> r.loc[0, ["grid_id", "lead_department"]].tolist()
    ['150783001023004', 'housing_construction']
    >>> bool(r.loc[0, "overdue"]), int(r.loc[0, "escalation_level"])
    (True, 4)
    """
    from ..analysis.cases import prepare_cases as _prepare

    return _prepare(cases, as_of=as_of, grids=grids)


def case_hot_spots(cases: gpd.GeoDataFrame, *, as_of: Any) -> gpd.GeoDataFrame:
    """Hot spots of each case class: Gi* on H3 hexagons, FDR-significant, with their trend.

    Parameters
    ----------
    cases : GeoDataFrame
        Prepared cases (:func:`prepare_cases`).
    as_of : date or str
        End of the window (``hotspots.window_weeks`` in ``config/cases.yaml``).

    Returns
    -------
    GeoDataFrame
        ``case_hot_spot`` findings: one hexagon per hot cell and class, with z, p, the count
        and the emerging hot-spot category.

    Examples
    --------
    >>> import numpy as np, pandas as pd, shapely, geopandas as gpd, zlgis as zl
    >>> grids = zl.datasets.load("district")["grids"]
    >>> rng = np.random.default_rng(0)
    >>> x0, y0, x1, y1 = grids.total_bounds
    >>> xy = np.vstack([rng.uniform([x0, y0], [x1, y1], (200, 2)),
    ...                 rng.normal([x0 + 900, y0 + 900], 30, (40, 2))])
    >>> cases = gpd.GeoDataFrame({"case_id": [f"C{i}" for i in range(240)],
    ...     "category": "油烟", "text": "油烟扰民", "address": "",
    ...     "received_at": pd.Timestamp("2022-08-20")}, geometry=shapely.points(xy), crs=grids.crs)
    >>> hot = zl.case_hot_spots(zl.prepare_cases(cases, as_of="2022-09-04"), as_of="2022-09-04")
    >>> len(hot) >= 1, bool(hot["feature_id"].str.startswith("cooking_fumes@").all())
    (True, True)
    """
    from ..analysis.hotspots import hot_spot_findings

    return hot_spot_findings(cases, as_of=as_of)


def evaluate_cases(cases: pd.DataFrame, *, by: str, as_of: Any = None,
                   ledger: Any = None, grids: gpd.GeoDataFrame | None = None) -> pd.DataFrame:
    """检查考评 scores per ``subdistrict``, ``community`` or ``department``.

    The case rates come from the prepared cases; the share of the findings ledger closed by
    the campaign end (2022-10-31) from the ledger of the weekly runs, as it stood at the last
    run on or before that day (or ``as_of`` if earlier).

    Parameters
    ----------
    cases : DataFrame
        Prepared cases (:func:`prepare_cases`).
    by : {"subdistrict", "community", "department"}
        The unit scored.
    as_of : date or str, optional
        The moment judged (default: the campaign end, 2022-10-31).
    ledger : path, Ledger or DataFrame, optional
        The weekly runs' ledger (``ledger.sqlite`` or a ``Ledger``), or a ledger view already
        taken (:func:`read_ledger`); without it the score leaves the closure share out.
    grids : GeoDataFrame, optional
        Grid cells (``grid_id``, ``subdistrict``, ``community``): the unit of each finding.

    Returns
    -------
    DataFrame
        ``cases``, ``due``, ``rectification_rate``, ``on_time_rate``, ``repeat_rate``,
        ``ledger_findings``, ``closed_by_end``, ``score`` (0-100) and ``rank``, best first.

    Examples
    --------
    >>> import pandas as pd, geopandas as gpd, zlgis as zl
    >>> grids = zl.datasets.load("district")["grids"]
    >>> pts = grids.geometry.iloc[:2].representative_point().to_numpy()
    >>> cases = gpd.GeoDataFrame({"case_id": ["A", "B"], "category": ["路灯照明", "供热"],
    ...     "text": ["", ""], "address": ["", ""],
    ...     "received_at": pd.to_datetime(["2022-09-01 08:00", "2022-09-01 08:00"]),
    ...     "closed_at": pd.to_datetime(["2022-09-01 12:00", None])},
    ...     geometry=pts, crs=grids.crs)
    >>> p = zl.prepare_cases(cases, as_of="2022-09-04", grids=grids)
    >>> zl.evaluate_cases(p, by="subdistrict", as_of="2022-09-04")["score"].tolist()
    [100.0, 25.0]
    >>> led = pd.DataFrame({"finding_id": ["F1", "F2"], "status": ["rectified", "open"],
    ...     "grid_id": grids["grid_id"].iloc[:2].tolist(), "lead_department": ["", ""]})
    >>> s = zl.evaluate_cases(p, by="subdistrict", as_of="2022-09-04", ledger=led, grids=grids)
    >>> s["closed_by_end"].tolist(), s["score"].tolist()
    ([1.0, 0.0], [100.0, 20.0])
    """
    import pandas as pd

    from ..analysis.evaluation import evaluate

    if ledger is not None and not isinstance(ledger, pd.DataFrame):
        from ..analysis.cases import case_settings
        from ..ledger import Ledger
        from ..ledger.evaluation import ledger_at

        end = pd.Timestamp(case_settings()["evaluation"]["campaign_end"]).date()
        day = end if as_of is None else min(end, pd.Timestamp(as_of).date())
        led = ledger if isinstance(ledger, Ledger) else Ledger(ledger, create=False)
        ledger = ledger_at(led, day)
    return evaluate(cases, by=by, as_of=as_of, ledger=ledger, grids=grids)
