"""The findings ledger as it stood on a given day, for the evaluation (检查考评).

The share of the ledger closed by the campaign end (2022-10-31) is judged on the ledger of the
last weekly run whose ``as_of`` is on or before that day (:func:`ledger_at`); the share itself
is computed by :func:`zlgis.analysis.evaluation.ledger_closure`.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import geopandas as gpd
import pandas as pd

__all__ = ["ledger_week_at", "ledger_at"]


def _day(value: Any) -> dt.date:
    return value if isinstance(value, dt.date) and not isinstance(value, dt.datetime) \
        else pd.Timestamp(value).date()


def ledger_week_at(ledger: Any, day: Any) -> str | None:
    """The last week merged into ``ledger`` whose run date (``as_of``) is on or before ``day``.

    Examples
    --------
    >>> import tempfile, pathlib, datetime as dt
    >>> from shapely.geometry import Point
    >>> from zlgis.findings import make_findings
    >>> from zlgis.ledger import Ledger
    >>> f = make_findings(rule="red_line_encroachment", feature_ids=[["B1", "R1"]],
    ...                   layer="buildings", geometry=[Point(0, 0)])
    >>> led = Ledger(pathlib.Path(tempfile.mkdtemp()) / "ledger.sqlite")
    >>> for w in ("2022-W42", "2022-W43", "2022-W44"):
    ...     _ = led.merge(f, week=w, checks_run=["controllines"])
    >>> ledger_week_at(led, "2022-10-31"), ledger_week_at(led, dt.date(2022, 10, 1))
    ('2022-W43', None)
    """
    day = _day(day)
    best = None
    for week in ledger.weeks():
        info = ledger.run_info(week)
        if info is not None and info["as_of"] <= day:
            best = week
    return best


def ledger_at(ledger: Any, day: Any) -> gpd.GeoDataFrame:
    """Every finding with its status at the last weekly run on or before ``day`` (empty when
    no run was that early): ``Ledger.view`` of :func:`ledger_week_at`."""
    week = ledger_week_at(ledger, day)
    if week is None:
        return ledger.view("0000-W00").iloc[:0]
    return ledger.view(week)
