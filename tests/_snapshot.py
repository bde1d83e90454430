"""The reviewed snapshot of the demo city's weekly findings (tests/data/demo_2022-W35_findings.csv).

``test_demo_city_weekly_run`` compares the ledger of its 2022-W35 run with the file row by row.
To change the file on purpose (a deliberate change of a check, the demo generator or the ids):

    ZLGIS_UPDATE_SNAPSHOT=1 .venv/bin/python -m pytest tests/test_weekly.py -k demo_city_weekly

writes the file and then fails, asking for a review; commit it with a message explaining every
changed rule (DEVELOPERS.md, "The demo city's results").
"""

from __future__ import annotations

import csv
import os
from pathlib import Path

import pandas as pd

SNAPSHOT = Path(__file__).parent / "data" / "demo_2022-W35_findings.csv"
UPDATE_ENV = "ZLGIS_UPDATE_SNAPSHOT"
# the ledger columns pinned; `measure` (the rule's primary measure) is rounded to 0.01
COLUMNS = ["finding_id", "check", "rule", "layer", "feature_id", "related_ids", "severity",
           "lead_department", "deadline", "measure"]


def _measure(value: object) -> str:
    if value is None or pd.isna(value):
        return ""
    return f"{round(float(value), 2) + 0.0:.2f}"  # + 0.0: no "-0.00"


def snapshot_rows(view: pd.DataFrame) -> pd.DataFrame:
    """The pinned columns of a ledger view as text, one row per finding, sorted by id."""
    rows = view[COLUMNS[:-1]].fillna("").astype(str)
    rows["measure"] = view["measure"].map(_measure)
    return rows.sort_values("finding_id", kind="stable").reset_index(drop=True)


def read_snapshot(path: Path = SNAPSHOT) -> pd.DataFrame:
    return pd.read_csv(path, dtype=str, keep_default_na=False, encoding="utf-8")


def write_snapshot(rows: pd.DataFrame, path: Path = SNAPSHOT) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    rows.to_csv(path, index=False, encoding="utf-8", lineterminator="\n",
                quoting=csv.QUOTE_MINIMAL)


def snapshot_diff(old: pd.DataFrame, new: pd.DataFrame, limit: int = 20) -> str:
    """A readable difference between the snapshot (``old``) and a run (``new``): ids added and
    removed per rule, then the values that changed for ids in both. Empty when equal."""
    lines: list[str] = []
    if list(old.columns) != list(new.columns):
        lines.append(f"columns: snapshot {list(old.columns)} != run {list(new.columns)}")
        return "\n".join(lines)
    o, n = old.set_index("finding_id"), new.set_index("finding_id")
    for label, ids, frame in (("added", n.index.difference(o.index), n),
                              ("removed", o.index.difference(n.index), o)):
        for rule, group in frame.loc[ids].groupby("rule"):
            shown = ", ".join(group.index[:limit]) + (" ..." if len(group) > limit else "")
            lines.append(f"{label} {rule}: {len(group)} ({shown})")
    both = o.index.intersection(n.index)
    a, b = o.loc[both], n.loc[both]
    changed = a.ne(b)
    for column in a.columns:
        ids = changed.index[changed[column]]
        for fid in ids[:limit]:
            lines.append(f"changed {fid} {column}: {a.at[fid, column]!r} -> {b.at[fid, column]!r}")
        if len(ids) > limit:
            lines.append(f"changed {column}: {len(ids) - limit} more")
    if not lines and not old.equals(new):
        lines.append("same ids and values, different order or duplicate ids")
    return "\n".join(lines)


def check_snapshot(view: pd.DataFrame, path: Path = SNAPSHOT) -> None:
    """Assert the ledger view equals the snapshot; with ZLGIS_UPDATE_SNAPSHOT=1 write the file
    and fail, so a new snapshot is always reviewed and committed by hand."""
    rows = snapshot_rows(view)
    if os.environ.get(UPDATE_ENV) == "1":
        before = read_snapshot(path) if path.exists() else rows.iloc[:0]
        write_snapshot(rows, path)
        raise AssertionError(
            f"{path} written ({len(rows)} findings); review the difference below and `git diff`, "
            f"then commit it explaining every changed rule, and rerun without {UPDATE_ENV}:\n"
            + (snapshot_diff(before, rows) or "(no difference)"))
    assert path.exists(), f"{path} is missing: run with {UPDATE_ENV}=1 to write it"
    diff = snapshot_diff(read_snapshot(path), rows)
    assert not diff, (f"the demo city's 2022-W35 findings differ from {path.name} "
                      f"(snapshot -> run):\n{diff}\nIf the change is deliberate, regenerate with "
                      f"{UPDATE_ENV}=1 (tests/_snapshot.py) and explain it in the commit.")
