"""Everything a reader sees in an .xlsx, read back with openpyxl: to hold two writers identical."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import openpyxl


def _style(cell: Any) -> tuple:
    f, fill, a = cell.font, cell.fill, cell.alignment
    return (bool(f.b), f.color.rgb if f.color is not None and f.color.type == "rgb" else None,
            f.u, fill.fill_type, fill.fgColor.rgb if fill.fill_type else None,
            a.vertical, bool(a.wrap_text))


def workbook_content(path: str | Path) -> dict[str, Any]:
    """Sheets in order; per sheet its frozen pane, filter, validations, column widths and hidden
    columns, and every cell: value, type, style, hyperlink target; the defined names."""
    wb = openpyxl.load_workbook(path)
    out: dict[str, Any] = {"sheets": wb.sheetnames,
                           "props": (wb.properties.creator, wb.properties.lastModifiedBy,
                                     wb.properties.created, wb.properties.modified)}
    for ws in wb.worksheets:
        cells = {}
        for row in ws.iter_rows():
            for c in row:
                link = c.hyperlink.target if c.hyperlink is not None else None
                if c.value is None and not c.has_style and link is None:
                    continue
                cells[c.coordinate] = (c.value, c.data_type, _style(c), link)
        dims = {k: (d.width if d.customWidth else None, bool(d.hidden))
                for k, d in ws.column_dimensions.items() if d.customWidth or d.hidden}
        dvs = [(str(d.sqref), d.type, d.formula1, bool(d.allow_blank), bool(d.showErrorMessage),
                d.errorTitle, d.error) for d in ws.data_validations.dataValidation]
        out[ws.title] = {"freeze": ws.freeze_panes, "filter": ws.auto_filter.ref,
                         "validations": dvs, "dims": dims, "cells": cells,
                         "names": sorted((k, str(v.value)) for k, v in ws.defined_names.items())}
    return out
