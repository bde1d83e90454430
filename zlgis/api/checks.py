"""Checks: the demo city, the configuration, the registered checks, and writing findings."""

from __future__ import annotations

import datetime as dt
import os
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import geopandas as gpd

    from ..catalog import Catalog

__all__ = ["demo_city", "settings", "check", "write_findings"]


def demo_city(folder: str | os.PathLike[str] | None = None, *, seed: int = 2022,
              buildings: int = 25_000) -> Path:
    """The synthetic demo city's catalog, generated first when absent.

    Parameters
    ----------
    folder : str or path-like, optional
        Where the city lives (default ``$ZLGIS_DEMO_DIR``, else ``data/demo``).
    seed : int
        Random seed of a city generated now.
    buildings : int
        Number of ordinary buildings of a city generated now (at least 1000).

    Returns
    -------
    pathlib.Path
        The city's ``catalog.yaml``; read it with :func:`zlgis.read_catalog`.

    Examples
    --------
    The full city (``zl.demo_city()``) takes about 15 s to generate; a small one:

    >>> import tempfile, zlgis as zl
    >>> with tempfile.TemporaryDirectory() as tmp:
    ...     cat = zl.read_catalog(zl.demo_city(tmp, buildings=1000))
    ...     len(zl.load_layers(cat, ["buildings"])["buildings"]) > 1000
    True
    """
    from ..demo import ensure_demo_city

    return ensure_demo_city(folder, seed=seed, n_buildings=buildings)


def settings(topic: str) -> dict[str, Any]:
    """The rule numbers of a topic with their sources (``zlgis/config/<topic>.yaml``).

    A bureau overrides them in ``$ZLGIS_CONFIG_DIR/<topic>.yaml``; values marked
    ``confidence: example`` are to be confirmed locally.

    Parameters
    ----------
    topic : str
        ``controllines``, ``coverage``, ``waterlogging``, ``trucks``, ``ledger``, ``publish`` ...

    Returns
    -------
    dict

    Examples
    --------
    >>> import zlgis as zl
    >>> toilets = zl.settings("coverage")["toilets"]
    >>> toilets["radius_m"], toilets["source"]
    (300, 'GB 55013-2021 市容环卫工程项目规范 §5.0.1')
    """
    from ..config import load_config

    return load_config(topic)


def check(name: str, catalog: Catalog | str | os.PathLike[str] | None = None,
          layers: Mapping[str, gpd.GeoDataFrame] | None = None, *,
          as_of: dt.date | None = None) -> gpd.GeoDataFrame:
    """Run one registered check (as the weekly run does) and return its findings.

    Parameters
    ----------
    name : str
        A check of the rule registry: ``controllines``, ``coverage``, ``waterlogging``,
        ``trucks`` ... (``[c.name for c in zlgis.rules.checks()]``).
    catalog : Catalog or path, optional
        The catalog (default catalog when omitted).
    layers : mapping of layer id to GeoDataFrame, optional
        Loaded layers; by default every vector layer of the catalog. Rules whose layers are
        missing are skipped.
    as_of : datetime.date, optional
        End of the week checked (time-dependent rules).

    Returns
    -------
    GeoDataFrame
        Findings (:data:`zlgis.findings.FINDING_COLUMNS`).

    Examples
    --------
    >>> import zlgis as zl
    >>> f = zl.check("controllines", zl.datasets.path("district"))
    >>> sorted(f["rule"].unique())
    ['green_line', 'red_line_encroachment', 'red_line_setback']
    """
    from ..analysis import get_check
    from ..catalog import Catalog
    from ..validate import load_layers

    cat = catalog if isinstance(catalog, Catalog) else Catalog.load(catalog)
    if layers is None:
        layers = load_layers(cat)
    return get_check(name)(cat, dict(layers), as_of=as_of)


def write_findings(findings: gpd.GeoDataFrame, folder: str | os.PathLike[str], *,
                   stem: str = "findings") -> tuple[Path, Path]:
    """Write findings as a GeoPackage and a CSV with Chinese headers and values, atomically.

    Parameters
    ----------
    findings : GeoDataFrame
        A findings table.
    folder : str or path-like
        Output folder (created when absent).
    stem : str
        File name without suffix (also the GeoPackage layer).

    Returns
    -------
    tuple of pathlib.Path
        ``<stem>.gpkg`` and ``<stem>.csv`` (UTF-8 with BOM, opens in Excel).

    Examples
    --------
    >>> import tempfile, zlgis as zl
    >>> d = zl.datasets.load("district")
    >>> f = zl.red_line_breaches(d["buildings"], d["red_lines"])
    >>> with tempfile.TemporaryDirectory() as tmp:
    ...     gpkg, csv = zl.write_findings(f, tmp)
    ...     csv.read_text(encoding="utf-8-sig").splitlines()[0].split(",")[:2]
    ['问题编号', '检查']
    """
    from ..publish.tables import write_findings as _engine

    out = Path(folder)
    out.mkdir(parents=True, exist_ok=True)
    return _engine(findings, out, stem=stem)
