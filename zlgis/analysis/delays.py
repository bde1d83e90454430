"""Time from a report to its repair (or clearing), against a limit in hours.

Shared by lamp faults (2.1.5), fallen trees (3.1.3) and pavement and drain defects (2.1.1).

Examples
--------
>>> import pandas as pd
>>> df = pd.DataFrame({"id": ["A", "B", "C"],
...     "reported_at": pd.to_datetime(["2022-09-01 08:00"] * 3),
...     "repaired_at": pd.to_datetime(["2022-09-02 08:00", None, "2022-09-01 07:00"])})
>>> ok, bad = repair_delays(df, id_field="id", as_of=pd.Timestamp("2022-09-02").date(),
...                         max_hours=24, layer="x")
>>> ok[["id", "hours", "open", "overdue"]].values.tolist()
[['A', 24.0, False, False], ['B', 40.0, True, True]]
>>> bad[["row", "field", "reason"]].values.tolist()
[[3, 'repaired_at', '修复时间早于报告时间']]
"""

from __future__ import annotations

import datetime as _dt

import numpy as np
import pandas as pd

__all__ = ["end_of_day", "repair_delays", "PROBLEM_COLUMNS"]

#: Columns of a table of input rows not used, with their reason.
PROBLEM_COLUMNS = ["layer", "row", "id", "field", "reason"]


def end_of_day(as_of: _dt.date | None) -> pd.Timestamp | None:
    """Midnight after ``as_of`` (local time), or None."""
    return None if as_of is None else pd.Timestamp(as_of) + pd.Timedelta(days=1)


def repair_delays(frame: pd.DataFrame, *, id_field: str, max_hours: float,
                  as_of: _dt.date | None = None, start: str = "reported_at",
                  end: str = "repaired_at", layer: str = "",
                  end_label: str = "修复") -> tuple[pd.DataFrame, pd.DataFrame]:
    """Hours from ``start`` to ``end`` per row, open rows measured to the end of ``as_of``.

    A row ending at exactly ``max_hours`` is on time. A row without its start time, or ending
    before it starts, is not used and listed (``layer``, ``row`` (1-based), ``id``, ``field``,
    ``reason``). Rows starting after ``as_of`` are left out (not yet reported).

    Returns
    -------
    (DataFrame, DataFrame)
        The usable rows with ``hours``, ``open`` and ``overdue``, and the rejected rows.
    """
    f = frame.copy().reset_index(drop=True)
    rep = pd.to_datetime(f[start], errors="coerce")
    fix = (pd.to_datetime(f[end], errors="coerce") if end in f
           else pd.Series(pd.NaT, index=f.index))
    ids = f[id_field].astype(str) if id_field in f else pd.Series(f.index.astype(str))
    no_rep = rep.isna()
    before = fix.notna() & rep.notna() & (fix < rep)
    bad = [{"layer": layer, "row": int(k) + 1, "id": ids.iloc[k], "field": start,
            "reason": "缺少报告时间"} for k in np.flatnonzero(no_rep.to_numpy())]
    bad += [{"layer": layer, "row": int(k) + 1, "id": ids.iloc[k], "field": end,
             "reason": f"{end_label}时间早于报告时间"} for k in np.flatnonzero(before.to_numpy())]
    bad.sort(key=lambda r: r["row"])
    stop_at = end_of_day(as_of)
    keep = ~(no_rep | before)
    if stop_at is not None:
        keep &= rep < stop_at
    f, rep, fix = f[keep.to_numpy()].copy(), rep[keep], fix[keep]
    open_ = fix.isna() | (fix >= stop_at if stop_at is not None else False)
    stop = fix.where(~open_, stop_at if stop_at is not None else pd.NaT)
    f[start] = rep
    f[end] = fix.where(~open_)
    f["open"] = open_.to_numpy(bool)
    f["hours"] = ((stop - rep).dt.total_seconds() / 3600).round(4).to_numpy()
    f["overdue"] = (f["hours"] > float(max_hours)).to_numpy(bool)
    return f.reset_index(drop=True), pd.DataFrame(bad, columns=PROBLEM_COLUMNS)
