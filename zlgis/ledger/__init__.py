"""The ledger (台账): the history of every finding, its status and deadline, and the Excel round
trip with the staff who rectify them.

:mod:`zlgis.ledger.store` keeps the history in one SQLite file updated in one transaction per run;
:mod:`zlgis.ledger.excel` exports it as an Excel workbook (a sheet per department) and imports the
statuses, notes and photo references staff type into it.
"""

from __future__ import annotations

from .store import (
    LEDGER_COLUMNS,
    STATUSES,
    Ledger,
    MergeResult,
    deadline_for,
    parse_week,
    status_code,
    status_labels,
    week_end,
    week_of,
)

__all__ = [
    "STATUSES",
    "LEDGER_COLUMNS",
    "Ledger",
    "MergeResult",
    "deadline_for",
    "parse_week",
    "status_code",
    "status_labels",
    "week_end",
    "week_of",
    "export_excel",
    "import_excel",
]


def __getattr__(name: str):  # the Excel functions load openpyxl lazily
    if name in ("export_excel", "import_excel"):
        from . import excel

        return getattr(excel, name)
    raise AttributeError(name)
