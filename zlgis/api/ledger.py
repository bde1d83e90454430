"""The weekly run and its ledger (台账): statuses over the weeks and the Excel round trip."""

from __future__ import annotations

import os
from collections.abc import Sequence
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import geopandas as gpd
    import pandas as pd

    from ..catalog import Catalog
    from ..weekly import WeeklyResult

__all__ = ["run_weekly", "read_ledger", "ledger_status", "import_ledger"]

PathLike = str | os.PathLike[str]


def run_weekly(catalog: Catalog | PathLike | None, out: PathLike, *, week: str | None = None,
               checks: Sequence[str] | None = None, quiet: bool = True) -> WeeklyResult:
    """Run the weekly job: load, check, merge into the ledger, publish ``out/<week>/``.

    Parameters
    ----------
    catalog : Catalog or path, optional
        The layer catalog (default catalog when None).
    out : str or path-like
        Output folder; the ledger is ``out/ledger.sqlite``.
    week : str, optional
        ISO week (``2022-W35``); default the week that ended last Sunday.
    checks : sequence of str, optional
        Registered checks to run (default all).
    quiet : bool
        No progress messages.

    Returns
    -------
    WeeklyResult
        ``week``, ``folder`` (``out/<week>``), ``ledger_path``, ``merge`` (events counted),
        ``files`` (Excel, maps, summary, charts, findings) and ``timings``.

    Examples
    --------
    >>> import tempfile, zlgis as zl
    >>> with tempfile.TemporaryDirectory() as tmp:
    ...     r = zl.run_weekly(zl.datasets.path("district"), tmp, week="2022-W35",
    ...                       checks=["controllines"])
    ...     r.merge.events["new"], [p.name for p in r.folder.glob("*.xlsx")]
    (4, ['ledger_2022-W35.xlsx'])
    """
    from ..weekly import run_weekly as _engine

    return _engine(catalog, out, week=week, checks=list(checks) if checks else None,
                   quiet=quiet)


def read_ledger(path: PathLike, *, week: str | None = None) -> gpd.GeoDataFrame:
    """Every finding in the ledger with its status in a week (default the latest).

    Parameters
    ----------
    path : str or path-like
        The ledger file (``out/ledger.sqlite``).
    week : str, optional
        ISO week.

    Returns
    -------
    GeoDataFrame
        The finding columns, ``status`` (``new``, ``open``, ``rectified``, ``reopened``,
        ``overdue``), ``status_label`` (Chinese), ``first_seen``, ``last_seen``, ``deadline``,
        ``reopen_count`` and staff edits (``staff_status``, ``note``, ``photo``).

    Examples
    --------
    >>> import tempfile, zlgis as zl
    >>> with tempfile.TemporaryDirectory() as tmp:
    ...     r = zl.datasets.weekly(tmp)   # the district's 2022-W35, control lines only
    ...     sorted(zl.read_ledger(r.ledger_path)["status_label"].unique())
    ['新发现']
    """
    from ..ledger import Ledger, status_labels

    view = Ledger(path, create=False).view(week)
    view.insert(view.columns.get_loc("status") + 1, "status_label",
                view["status"].map(status_labels()))
    return view


def ledger_status(path: PathLike, *, until: str | None = None) -> pd.DataFrame:
    """Findings per week and status, for trend tables and charts.

    Parameters
    ----------
    path : str or path-like
        The ledger file.
    until : str, optional
        Last ISO week counted.

    Returns
    -------
    DataFrame
        One row per week, one column per status (Chinese labels).

    Examples
    --------
    >>> import tempfile, zlgis as zl
    >>> with tempfile.TemporaryDirectory() as tmp:
    ...     r = zl.datasets.weekly(tmp)   # the district's 2022-W35, control lines only
    ...     int(zl.ledger_status(r.ledger_path).loc["2022-W35", "新发现"])
    4
    """
    from ..ledger import Ledger, status_labels

    return Ledger(path, create=False).status_counts(until).rename(columns=status_labels())


def import_ledger(xlsx: PathLike, path: PathLike) -> int:
    """Take back the staff's edits (状态 / 整改说明 / 照片编号) from a ledger workbook.

    A bad sheet is refused with one Chinese message and the ledger is left untouched.

    Parameters
    ----------
    xlsx : str or path-like
        The workbook the weekly run wrote (``ledger_<week>.xlsx``), edited by staff.
    path : str or path-like
        The ledger file.

    Returns
    -------
    int
        Rows whose edits were taken.

    Examples
    --------
    >>> import tempfile, zlgis as zl
    >>> with tempfile.TemporaryDirectory() as tmp:
    ...     r = zl.datasets.weekly(tmp)   # the district's 2022-W35, control lines only
    ...     zl.import_ledger(r.files["excel"], r.ledger_path)   # nothing edited yet
    0
    """
    from ..ledger import Ledger
    from ..ledger.excel import import_excel

    return import_excel(xlsx, Ledger(path, create=False))
