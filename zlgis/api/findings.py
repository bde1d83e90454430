"""Findings: who acts on them (departments) and where (grid cells and road chiefs)."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import geopandas as gpd
    import pandas as pd

__all__ = ["route", "assign_grids"]


def route(findings: gpd.GeoDataFrame, *, roles: tuple[str, ...] = ("lead", "coop"),
          finding_id: str = "finding_id") -> pd.DataFrame:
    """Who acts on each finding: one row per finding and department, lead and cooperating.

    Departments come from the rule's campaign task in ``departments.yaml`` (the plan's
    division of work), as written into every finding.

    Parameters
    ----------
    findings : GeoDataFrame
        A findings table (:data:`zlgis.findings.FINDING_COLUMNS`).
    roles : tuple of {"lead", "coop"}
        Lead departments (牵头), cooperating departments (配合), or both.
    finding_id : str
        Name of the id column.

    Returns
    -------
    DataFrame
        ``finding_id``, ``rule``, ``task_id``, ``role`` (``lead``/``coop``), ``department``
        (code) and ``department_name`` (Chinese), lead departments first.

    Examples
    --------
    >>> import zlgis as zl
    >>> d = zl.datasets.load("district")
    >>> f = zl.red_line_breaches(d["buildings"], d["red_lines"])
    >>> r = zl.route(f, roles=("lead",))
    >>> sorted(r["department_name"].unique())
    ['自然资源局']
    """
    import pandas as pd

    from ..config import department_name

    columns = {"lead": "lead_department", "coop": "coop_departments"}
    parts = []
    for role in roles:
        codes = findings[columns[role]].fillna("").astype(str).str.split(";")
        part = pd.DataFrame({"finding_id": findings[finding_id].to_numpy(),
                             "rule": findings["rule"].to_numpy(),
                             "task_id": findings["task_id"].to_numpy(),
                             "role": role, "department": codes.to_numpy()})
        parts.append(part.explode("department"))
    out = pd.concat(parts, ignore_index=True) if parts else pd.DataFrame(
        columns=["finding_id", "rule", "task_id", "role", "department"])
    out = out[out["department"].astype(str).str.strip() != ""].reset_index(drop=True)
    out["department_name"] = out["department"].map(department_name)
    return out


def assign_grids(findings: gpd.GeoDataFrame, grids: gpd.GeoDataFrame, *,
                 grid_id: str = "grid_id", road_chief: str = "road_chief") -> gpd.GeoDataFrame:
    """Fill each finding's grid cell (网格) and road chief (路长) from the cell that holds it.

    Parameters
    ----------
    findings : GeoDataFrame
        A findings table; placed by a representative point of each geometry.
    grids : GeoDataFrame
        Grid cells (polygons) in any CRS.
    grid_id, road_chief : str
        Names of the cell id and road-chief columns of ``grids``.

    Returns
    -------
    GeoDataFrame
        A copy of ``findings`` with ``grid_id`` and ``road_chief`` filled (empty outside every
        cell).

    Examples
    --------
    >>> import zlgis as zl
    >>> d = zl.datasets.load("district")
    >>> f = zl.red_line_breaches(d["buildings"], d["red_lines"])
    >>> zl.assign_grids(f, d["grids"])["grid_id"].str.len().tolist()
    [15, 15]
    """
    from ..findings import assign_grids as _engine

    cells = grids.rename(columns={grid_id: "grid_id", road_chief: "road_chief"})
    return _engine(findings, cells)
