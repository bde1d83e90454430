"""Small datasets shipped inside the package, for examples, doctests and first steps.

``district`` is one district of the synthetic demo city (a 3.2 km x 3.3 km rectangle across the 雅鲁河 with
planted cases of every check), made by ``scripts/make_datasets.py`` from the demo generator's
seed: buildings, roads, road red lines, green and blue lines, grids, compounds, parks, toilets,
a few truck pings and no-parking zones, and a 10 m DEM. It is read through its own catalog
(``district.yaml``), like a bureau's data: canonical English field names, working CRS
EPSG:4550. Nothing is generated at import.

Examples
--------
>>> import zlgis as zl
>>> layers = zl.datasets.load("district")
>>> len(layers["buildings"]), layers["buildings"].crs.to_epsg()
(194, 4550)
>>> zl.datasets.dem("district").shape
(330, 320)
"""

from __future__ import annotations

import os
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import geopandas as gpd

    from ..analysis.terrain import DEM
    from ..catalog import Catalog
    from ..weekly import WeeklyResult

__all__ = ["NAMES", "path", "catalog", "load", "dem", "weekly"]

_HERE = Path(__file__).resolve().parent
#: Names of the shipped datasets.
NAMES: tuple[str, ...] = ("district",)


def path(name: str = "district") -> Path:
    """Path of a dataset's catalog file (``<name>.yaml`` next to its GeoPackage and GeoTIFF).

    Parameters
    ----------
    name : str
        One of :data:`NAMES`.

    Returns
    -------
    pathlib.Path

    Examples
    --------
    >>> path("district").name
    'district.yaml'
    """
    if name not in NAMES:
        from ..errors import InputError

        raise InputError(f"没有名为 {name!r} 的示例数据集（可用：{'、'.join(NAMES)}）")
    return _HERE / f"{name}.yaml"


def catalog(name: str = "district") -> Catalog:
    """The dataset's :class:`~zlgis.catalog.Catalog`.

    Parameters
    ----------
    name : str
        One of :data:`NAMES`.

    Returns
    -------
    Catalog

    Examples
    --------
    >>> catalog("district")["roads"].title
    '道路中心线'
    """
    from ..catalog import Catalog

    return Catalog.load(path(name))


@lru_cache(maxsize=4)
def _load(name: str) -> dict[str, gpd.GeoDataFrame]:
    from ..validate import load_layers

    cat = catalog(name)
    return load_layers(cat, [lid for lid, s in cat.layers.items() if s.kind != "raster"])


def load(name: str = "district") -> dict[str, gpd.GeoDataFrame]:
    """Every vector layer of a dataset, loaded and validated through its catalog.

    Parameters
    ----------
    name : str
        One of :data:`NAMES`.

    Returns
    -------
    dict of str to GeoDataFrame
        Layer id (``buildings``, ``roads``, ``red_lines``, ``green_lines``, ``blue_lines``,
        ``grids``, ``residential_compounds``, ``parks``, ``toilets``, ``truck_pings``,
        ``truck_no_parking_zones``, ...) to a fresh copy of the layer in EPSG:4550.

    Examples
    --------
    >>> layers = load("district")
    >>> sorted(layers)[:4]
    ['blue_lines', 'boundary', 'buildings', 'construction_sites']
    """
    return {k: v.copy() for k, v in _load(name).items()}


def dem(name: str = "district") -> DEM:
    """The dataset's digital elevation model.

    Parameters
    ----------
    name : str
        One of :data:`NAMES`.

    Returns
    -------
    zlgis.analysis.terrain.DEM
        Elevation array (m), transform and CRS.

    Examples
    --------
    >>> d = dem("district")
    >>> d.cell_size
    (10.0, 10.0)
    """
    from ..analysis.terrain import read_dem

    return read_dem(catalog(name)["dem"].path)


def weekly(out: str | os.PathLike[str], name: str = "district") -> WeeklyResult:
    """The dataset's weekly run of 2022-W35 (control lines only) into ``out``: a ready ledger.

    What the ledger examples start from: :func:`zlgis.run_weekly` with
    ``week="2022-W35"`` and ``checks=["controllines"]``, quietly.

    Parameters
    ----------
    out : str or path-like
        Output folder; the ledger is ``out/ledger.sqlite``, the week's files ``out/2022-W35/``.
    name : str
        One of :data:`NAMES`.

    Returns
    -------
    zlgis.weekly.WeeklyResult
        ``week``, ``folder``, ``ledger_path``, ``merge``, ``files`` and ``timings``.

    Examples
    --------
    >>> import tempfile
    >>> with tempfile.TemporaryDirectory() as tmp:
    ...     r = weekly(tmp)
    ...     r.week, r.ledger_path.name, r.merge.events["new"]
    ('2022-W35', 'ledger.sqlite', 4)
    """
    from ..weekly import run_weekly

    return run_weekly(path(name), out, week="2022-W35", checks=["controllines"], quiet=True)
