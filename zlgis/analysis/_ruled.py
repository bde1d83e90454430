"""Findings of registered rules, and config values with their sources.

The checks of issue 17 (compounds, heating, water, gas) build their findings through
:func:`rule_findings` (:func:`zlgis.findings.make_findings`, which reads title, source, task,
severity, public flag and event codes from the rule registry), and skip the rules whose layers
are missing with :func:`run_rules`.

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

__all__ = ["value", "rule_findings", "run_rules", "prepare"]


def value(entry: Any) -> Any:
    """The number of a config entry ``{value, source, confidence}`` (or the entry itself)."""
    return entry["value"] if isinstance(entry, Mapping) and "value" in entry else entry


def rule_findings(rule_id: str, *, feature_ids: Sequence[Sequence[Any]], layer: str,
                  geometry: Sequence[Any], crs: Any = None, **kw: Any) -> gpd.GeoDataFrame:
    """:func:`zlgis.findings.make_findings` for a registered rule; an empty table when none.

    ``event_code_old`` / ``event_code_new`` may also be one code per finding (a sequence), for
    rules whose code depends on the feature (the class of a 12345 case).

    >>> from shapely.geometry import Point
    >>> f = rule_findings("case_overdue", feature_ids=[["C1"]], layer="hotline_cases",
    ...                   geometry=[Point(0, 0)], crs="EPSG:4550", event_code_new=["01037"])
    >>> f.loc[0, ["title", "event_code_new"]].tolist()
    ['案件超过处置时限未办结', '01037']
    """
    if not len(feature_ids):
        return empty_findings(crs) if crs is not None else empty_findings()
    if crs is not None:
        kw["crs"] = crs
    per_row = {k: kw.pop(k) for k in ("event_code_old", "event_code_new")
               if k in kw and kw[k] is not None and not isinstance(kw[k], str)}
    f = make_findings(rule=rule_id, feature_ids=feature_ids, layer=layer, geometry=geometry,
                      **kw)
    for col, codes in per_row.items():
        f[col] = [str(c) for c in codes]
    return f


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


def prepare(check: str, layers: Mapping[str, Any] | None
            ) -> tuple[dict[str, Any], set[str], list[str]]:
    """An adapter's start: the layers passed (the caller loads the module's ``LAYERS``), the
    rules of ``check`` that can run with them and the skip lines of the others."""
    layers = dict(layers or {})
    ok, notes = run_rules(check, layers)
    return layers, ok, notes
