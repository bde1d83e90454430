"""Findings of registered rules, and config values with their sources.

The checks of issue 17 (compounds, heating, water, gas) build their findings through
:func:`rule_findings`: title, source, task, severity, public flag and event codes come from the
rule registry (:mod:`zlgis.rules`), never from copies in code.

Examples
--------
>>> value({"value": 4.0, "source": "GB 50016-2014 §7.1.8", "confidence": "secondary"})
4.0
>>> value(300)
300
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import geopandas as gpd

from ..findings import empty_findings, make_findings
from ..rules import rule as _rule

__all__ = ["value", "rule_findings", "run_rules"]


def value(entry: Any) -> Any:
    """The number of a config entry ``{value, source, confidence}`` (or the entry itself)."""
    return entry["value"] if isinstance(entry, Mapping) and "value" in entry else entry


def rule_findings(rule_id: str, *, feature_ids: Sequence[Sequence[Any]], layer: str,
                  geometry: Sequence[Any], measures: Sequence[dict[str, Any]] | None = None,
                  measure_key: str | None = None, measure_unit: str = "",
                  title: str | Sequence[str] | None = None,
                  severity: str | Sequence[str] | None = None, observed_at: Any = "",
                  crs: Any = None) -> gpd.GeoDataFrame:
    """Findings of registered rule ``rule_id`` (empty table when there are none)."""
    r = _rule(rule_id)
    if not len(feature_ids):
        return empty_findings(crs) if crs is not None else empty_findings()
    kw = {} if crs is None else {"crs": crs}
    return make_findings(check=r.check, rule=r.id, rule_source=r.source,
                         title=r.title if title is None else title, task_id=r.task_id,
                         feature_ids=feature_ids, layer=layer, geometry=geometry,
                         measures=measures, measure_key=measure_key, measure_unit=measure_unit,
                         severity=r.severity if severity is None else severity,
                         public=r.public, event_code_old=r.event_code_old,
                         event_code_new=r.event_code_new, observed_at=observed_at, **kw)


def run_rules(check: str, layers: Mapping[str, Any]) -> tuple[set[str], list[str]]:
    """Rules of ``check`` whose needs ``layers`` meets, and skip lines for the others."""
    from ..rules import missing_needs, rules, skip_message

    ok, notes = set(), []
    for r in rules(check):
        missing = missing_needs(r, layers)
        if missing:
            notes.append(skip_message(r, missing))
        else:
            ok.add(r.id)
    return ok, notes
