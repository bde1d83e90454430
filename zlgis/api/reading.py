"""Reading: catalogs, layers and single files, with the validation report."""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import geopandas as gpd
    import pandas as pd

    from ..catalog import Catalog

__all__ = ["read_catalog", "load_layers", "read_file", "validate"]

PathLike = str | os.PathLike[str]


def read_catalog(path: PathLike | None = None) -> Catalog:
    """Read a layer catalog (``catalog.yaml``): which file holds which layer, its schema and CRS.

    Parameters
    ----------
    path : str or path-like, optional
        The catalog file. Default: ``$ZLGIS_CATALOG``, else the repository's
        ``layers/catalog.yaml``.

    Returns
    -------
    Catalog
        ``catalog.layers`` maps layer ids to their specs (title, fields, CRS, public fields);
        ``catalog.working_crs`` is the CRS every layer is loaded into.

    Examples
    --------
    >>> import zlgis as zl
    >>> cat = zl.read_catalog(zl.datasets.path("district"))
    >>> cat.working_crs, cat["buildings"].title
    ('EPSG:4550', '建筑物')
    """
    from ..catalog import Catalog

    return Catalog.load(path)


def _catalog(catalog: Catalog | PathLike | None) -> Catalog:
    from ..catalog import Catalog

    return catalog if isinstance(catalog, Catalog) else Catalog.load(catalog)


def load_layers(catalog: Catalog | PathLike | None = None, layers: Sequence[str] | None = None,
                *, quiet: bool = True) -> dict[str, gpd.GeoDataFrame]:
    """Load catalog layers as clean GeoDataFrames in the working CRS.

    Columns are renamed from the bureau's (Chinese) names to the catalog's canonical English
    field names; rows that fail validation are left out (see :func:`validate` for the report).

    Parameters
    ----------
    catalog : Catalog or path, optional
        A catalog, or the path of its file (default catalog when omitted).
    layers : sequence of str, optional
        Layer ids to load; default every vector layer (rasters such as ``dem`` are skipped).
    quiet : bool
        No progress messages.

    Returns
    -------
    dict of str to GeoDataFrame

    Raises
    ------
    zlgis.errors.LayerError
        Naming the first layer that cannot be read at all.

    Examples
    --------
    >>> import zlgis as zl
    >>> got = zl.load_layers(zl.datasets.path("district"), ["roads", "toilets"])
    >>> {k: len(v) for k, v in got.items()}
    {'roads': 1367, 'toilets': 42}
    """
    from ..validate import load_layers as _load

    return _load(_catalog(catalog), list(layers) if layers is not None else None, quiet=quiet)


def read_file(path: PathLike, *, layer: str | None = None, kind: str | None = None,
              crs: str | None = None, encoding: str | None = None,
              catalog: Catalog | PathLike | None = None) -> gpd.GeoDataFrame:
    """Read one layer of any file (GeoPackage, Shapefile, GeoJSON, DXF, CSV/XLSX points ...).

    The file is checked like a catalog layer (geometry repaired or rejected, CRS found or
    converted from GCJ-02 / BD-09, fields typed) and returned in the working CRS.

    Parameters
    ----------
    path : str or path-like
        The file.
    layer : str, optional
        Layer inside the file (default: its first layer).
    kind : str, optional
        Catalog layer id whose schema applies (``toilets``, ``buildings`` ...): Chinese column
        names are renamed to canonical ones and values checked against it.
    crs : str, optional
        Source coordinate system when the file does not say it: an EPSG code, ``gcj02``
        (Gaode) or ``bd09`` (Baidu).
    encoding : str, optional
        Text encoding of a Shapefile or CSV (default: ``.cpg`` or detected).
    catalog : Catalog or path, optional
        Catalog giving the schemas and the working CRS (default catalog when omitted).

    Returns
    -------
    GeoDataFrame
        The rows that passed; ``validate(path, ...)`` lists the others with their reasons.

    Examples
    --------
    >>> import zlgis as zl
    >>> from pathlib import Path
    >>> gpkg = Path(zl.datasets.path("district")).with_suffix(".gpkg")
    >>> toilets = zl.read_file(gpkg, layer="toilets", kind="toilets")
    >>> len(toilets), toilets.crs.to_epsg()
    (42, 4550)
    """
    return _read(path, layer=layer, kind=kind, crs=crs, encoding=encoding,
                 catalog=catalog)[0].gdf


def _read(path: PathLike, *, layer: str | None, kind: str | None, crs: str | None,
          encoding: str | None, catalog: Catalog | PathLike | None) -> list:
    from ..validate import read_file as _read_file

    cat = _catalog(catalog) if catalog is not None else None
    loaded = _read_file(Path(path), layer=layer, kind=kind, crs=crs, catalog=cat,
                        encoding=encoding)
    return loaded if layer is None else [x for x in loaded if x.layer_id == layer] or loaded


def validate(source: Catalog | PathLike | None = None, *, layers: Sequence[str] | None = None,
             layer: str | None = None, kind: str | None = None, crs: str | None = None,
             encoding: str | None = None) -> pd.DataFrame:
    """Check a catalog's layers, or one file, and list every row repaired or rejected.

    Parameters
    ----------
    source : Catalog or path, optional
        A catalog (or its ``.yaml`` file): its vector layers are checked, boundary included.
        Any other path is checked as a single file (``layer``, ``kind``, ``crs``, ``encoding``
        as in :func:`read_file`). Default: the default catalog.
    layers : sequence of str, optional
        Catalog layer ids to check (default: every vector layer).
    layer, kind, crs, encoding : str, optional
        For a single file, see :func:`read_file`.

    Returns
    -------
    DataFrame
        One row per problem: ``layer``, ``path``, ``row`` (1-based source row), ``field``,
        ``code``, ``message`` (Chinese) and ``action`` (``rejected``, ``repaired``,
        ``dropped_z``, ``warning``). Empty when everything is clean.

    Examples
    --------
    >>> import zlgis as zl
    >>> issues = zl.validate(zl.datasets.path("district"), layers=["buildings", "roads"])
    >>> list(issues.columns[:4]), len(issues)
    (['layer', 'path', 'row', 'field'], 0)
    """
    from ..catalog import Catalog
    from ..validate import concat_issues

    if isinstance(source, Catalog) or source is None or Path(source).suffix in (".yaml", ".yml"):
        from ..validate import read_layer

        cat = _catalog(source)
        ids = list(layers) if layers is not None else [
            lid for lid, s in cat.layers.items() if s.kind != "raster"]
        return concat_issues([read_layer(cat, lid).issues for lid in ids])
    return concat_issues([x.issues for x in _read(source, layer=layer, kind=kind, crs=crs,
                                                   encoding=encoding, catalog=None)])
