"""The control-line overlays pushed down into PostGIS, when buildings and lines live there.

Opt-in: a catalog with ``sql_overlays: true`` (top level) and the layers below in PostgreSQL.
On the 1M-building city the SQL joins are slower than the Python path on the same machine
(BENCHMARKS.md, "PostGIS"), so the default stays the Python path. When the catalog reads ``buildings`` and a control-line layer (``red_lines``, ``green_lines``,
``blue_lines``, ``purple_lines``, ``yellow_lines``) from the same PostgreSQL database in the
working CRS, the spatial join runs in SQL (:func:`zlgis.io.postgis_overlay.near_pairs`, GiST
indexes): for each red line the buildings within the largest setback its road class can
require (``setbacks.table_m`` times the largest high-rise factor, plus 1 m), for each zone
the buildings within 1 m of it. The rules (:func:`zlgis.analysis.setbacks.red_line_findings`,
:func:`zlgis.analysis.controllines.zone_findings`) then measure only those pairs, on the loaded
(validated) rows, with the same code as the file path: every pair they would report is among
the candidates, and each finding depends only on its own building and line, so the findings
(ids, measures, titles, geometry) are the same as without the database; ``tests/io/
test_postgis_demo.py`` holds them equal on the demo city.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import geopandas as gpd
import numpy as np

from ..crs import recognise_crs
from .linebase import LINE_RULES, text_of

__all__ = ["setback_reach", "pushdown_pairs", "PUSHDOWN_MARGIN_M"]

#: Metres added to every SQL search distance (buffers' chords, repaired geometries).
PUSHDOWN_MARGIN_M = 1.0


def setback_reach(cfg: Mapping[str, Any]) -> dict[str, float]:
    """Per road class, the largest setback any building could need from its red line, plus
    :data:`PUSHDOWN_MARGIN_M` (the SQL search distance).

    >>> from zlgis.analysis.linebase import load_rules
    >>> setback_reach(load_rules())["支路"]
    10.0
    """
    st = cfg["setbacks"]
    steps = (st.get("high_rise_factor") or {}).get("steps") or []
    qmax = max([1.0] + [float(s["factor"]) for s in steps])
    return {str(k): max(float(v) for v in row.values()) * qmax + PUSHDOWN_MARGIN_M
            for k, row in st["table_m"].items()}


def _in_working_crs(spec: Any, working: str) -> bool:
    return bool(spec is not None and spec.crs and recognise_crs(spec.crs) == working)


def pushdown_pairs(catalog: Any, layers: Mapping[str, gpd.GeoDataFrame],
                   cfg: Mapping[str, Any], ids: Mapping[str, str],
                   timings: dict[str, float] | None = None
                   ) -> dict[str, tuple[np.ndarray, np.ndarray]] | None:
    """Candidate (building id, line id) pairs per line layer, from SQL; ``None`` when the
    catalog does not ask for it (``sql_overlays: true``) or the buildings are not in a database
    (or not in the working CRS).

    Only line layers in the buildings' database and CRS are pushed down; a red-line layer with
    a road class the setback table does not know is left to the Python path (which names it).
    """
    from ..io.postgis_overlay import near_pairs, same_database

    if not (getattr(catalog, "raw", None) or {}).get("sql_overlays"):
        return None
    specs = getattr(catalog, "layers", {}) or {}
    working = getattr(catalog, "working_crs", None)
    bspec = specs.get("buildings")
    bld = layers.get("buildings")
    if bld is None or not len(bld) or not _in_working_crs(bspec, working) or \
            not (bspec and bspec.database):
        return None
    out: dict[str, tuple[np.ndarray, np.ndarray]] = {}
    reach = setback_reach(cfg)
    for lname in ("red_lines", *LINE_RULES.values()):
        lspec = specs.get(lname)
        lines = layers.get(lname)
        if lines is None or not len(lines) or not same_database(bspec, lspec) or \
                not _in_working_crs(lspec, working):
            continue
        if lname == "red_lines":
            if not set(text_of(lines, "road_class")) <= set(reach):
                continue
            dist: float | dict[str, float] = reach
        else:
            dist = PUSHDOWN_MARGIN_M
        sql_t: dict[str, float] = {}
        out[lname] = near_pairs(bspec, lspec, feature_id=ids["buildings"],
                                line_id=ids.get(lname, "line_id"), distance=dist,
                                class_field="road_class", timings=sql_t)
        if timings is not None:
            timings[f"controllines:{lname}_sql_join"] = round(sql_t.get("sql", 0.0), 3)
    return out or None
