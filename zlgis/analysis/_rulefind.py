"""Findings whose title, source, task, severity, codes and ``public`` come from the rule registry."""

from __future__ import annotations

from typing import Any

import geopandas as gpd

from ..findings import empty_findings, make_findings
from ..rules import rule

__all__ = ["rule_findings"]


def rule_findings(rule_id: str, *, feature_ids: Any, layer: str, geometry: Any, crs: Any,
                  **kw: Any) -> gpd.GeoDataFrame:
    """:func:`zlgis.findings.make_findings` for the registered rule ``rule_id``.

    Examples
    --------
    >>> from shapely.geometry import Point
    >>> f = rule_findings("case_overdue", feature_ids=[["C1"]], layer="hotline_cases",
    ...                   geometry=[Point(0, 0)], crs="EPSG:4550")
    >>> f.loc[0, "title"], f.loc[0, "lead_department"]
    ('案件超过处置时限未办结', 'urban_enforcement')
    """
    r = rule(rule_id)
    if not len(feature_ids):
        return empty_findings(crs)
    kw.setdefault("title", r.title)
    kw.setdefault("severity", r.severity)
    kw.setdefault("public", r.public)
    return make_findings(check=r.check, rule=r.id, rule_source=r.source, task_id=r.task_id,
                         feature_ids=feature_ids, layer=layer, geometry=geometry,
                         event_code_old=kw.pop("event_code_old", r.event_code_old),
                         event_code_new=kw.pop("event_code_new", r.event_code_new), crs=crs, **kw)
