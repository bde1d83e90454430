"""Findings of a registered rule whose event codes differ per finding (one per case class)."""

from __future__ import annotations

from typing import Any

import geopandas as gpd
import numpy as np

from ..findings import make_findings

__all__ = ["rule_findings"]


def rule_findings(rule_id: str, *, event_code_old: Any = None, event_code_new: Any = None,
                  **kw: Any) -> gpd.GeoDataFrame:
    """:func:`zlgis.findings.make_findings` with per-finding event codes (sequences) allowed.

    Examples
    --------
    >>> from shapely.geometry import Point
    >>> f = rule_findings("case_overdue", feature_ids=[["C1"]], layer="hotline_cases",
    ...                   geometry=[Point(0, 0)], crs="EPSG:4550", event_code_new=["01037"])
    >>> f.loc[0, ["title", "lead_department", "event_code_new"]].tolist()
    ['案件超过处置时限未办结', 'urban_enforcement', '01037']
    """
    per_row = {k: v for k, v in (("event_code_old", event_code_old),
                                 ("event_code_new", event_code_new))
               if v is not None and not isinstance(v, str)}
    scalar = {k: v for k, v in (("event_code_old", event_code_old),
                                ("event_code_new", event_code_new)) if isinstance(v, str)}
    f = make_findings(rule=rule_id, **scalar, **kw)
    for col, values in per_row.items():
        f[col] = np.asarray(values, dtype=object) if len(f) else f[col]
    return f
