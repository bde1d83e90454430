"""Maps: a quick interactive look at findings, the publishable web map, and PNG figures.

Titles, colours, legends and the public subset come from the catalog, ``publish.yaml`` and the
rule registry (:mod:`zlgis.rules`); nothing here keeps its own label table. Every value from data
is escaped in the HTML.
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import folium
    import geopandas as gpd

    from ..catalog import Catalog

__all__ = ["explore", "web_map", "figure"]

#: Finding columns shown in the popups of :func:`explore`.
EXPLORE_FIELDS: tuple[str, ...] = ("title", "severity", "measure", "measure_unit", "feature_id",
                                   "related_ids", "rule_source", "task_id", "grid_id",
                                   "road_chief", "observed_at")


def _catalog(catalog: Catalog | str | os.PathLike[str] | None) -> Catalog:
    from ..catalog import Catalog

    return catalog if isinstance(catalog, Catalog) else Catalog.load(catalog)


def rule_label(rule_id: str, fallback: str = "") -> str:
    """Short Chinese label of a rule from the registry (``fallback`` for an unregistered id)."""
    from ..errors import ConfigError
    from ..rules import rule

    try:
        return rule(rule_id).label
    except ConfigError:
        return fallback or rule_id


def explore(findings: gpd.GeoDataFrame, layers: Mapping[str, gpd.GeoDataFrame] | None = None,
            *, catalog: Catalog | str | os.PathLike[str] | None = None, basemap: str = "osm",
            fields: Sequence[str] = EXPLORE_FIELDS, title: str | None = None) -> folium.Map:
    """Interactive map of findings, one layer per rule (labelled from the rule registry).

    For analysts in a notebook; the map staff and the public see is :func:`web_map`.

    Parameters
    ----------
    findings : GeoDataFrame
        A findings table (:data:`zlgis.findings.FINDING_COLUMNS`) or any frame with ``rule``.
    layers : mapping of layer id to GeoDataFrame, optional
        Catalog layers drawn underneath (titles and fields from the catalog).
    catalog : Catalog or path, optional
        Catalog of ``layers`` (default catalog when omitted).
    basemap : {"osm", "tianditu", "gaode", "none"}
        Background tiles.
    fields : sequence of str
        Finding columns shown in the popups (Chinese headers).
    title : str, optional
        Map title.

    Returns
    -------
    folium.Map
        Shown inline in Jupyter; save it with ``zlgis.publish.maps.save_map``.

    Examples
    --------
    >>> import zlgis as zl
    >>> d = zl.datasets.load("district")
    >>> f = zl.red_line_breaches(d["buildings"], d["red_lines"])
    >>> m = zl.explore(f, {"red_lines": d["red_lines"]}, catalog=zl.datasets.catalog())
    >>> html = m.get_root().render()
    >>> "JZ0000569" in html, "道路红线" in html
    (True, True)
    """
    from ..publish.maps import build_map

    extra = {}
    if findings is not None and len(findings):
        keep = [c for c in fields if c in findings.columns] + [findings.geometry.name]
        for rid, part in findings.groupby("rule", sort=False):
            first = str(part["title"].iloc[0]) if "title" in part.columns else ""
            extra[f"{rule_label(str(rid), first)}（{len(part)}）"] = part[keep]
    return build_map(dict(layers or {}), None, catalog=_catalog(catalog), profile="internal",
                     basemap=basemap, extra=extra, title=title, service_areas=False)


def web_map(layers: Mapping[str, gpd.GeoDataFrame], findings: gpd.GeoDataFrame | None = None,
            *, catalog: Catalog | str | os.PathLike[str] | None = None,
            profile: str = "internal", basemap: str | None = None,
            extra: Mapping[str, gpd.GeoDataFrame] | None = None, title: str | None = None,
            path: str | os.PathLike[str] | None = None, assets: str = "auto") -> folium.Map:
    """The web map staff (``internal``) or the city portal (``public``) see.

    The public profile keeps only the catalog's public fields and the findings whose rule is
    public, rounds coordinates and shows 12345 cases as counts per grid cell.

    Parameters
    ----------
    layers : mapping of layer id to GeoDataFrame
        Catalog layers (canonical field names).
    findings : GeoDataFrame, optional
        Findings, drawn by severity.
    catalog : Catalog or path, optional
        Titles, Chinese field labels and public fields (default catalog when omitted).
    profile : {"internal", "public"}
        Who the map is for.
    basemap : {"tianditu", "gaode", "osm", "none"}, optional
        Default: 天地图 when ``$ZLGIS_TIANDITU_KEY`` is set, else OpenStreetMap.
    extra : mapping of name to GeoDataFrame, optional
        Analysis layers (``toilet_service_areas``, ``uncovered_areas``, ``ponding`` ...).
    title : str, optional
        Map title.
    path : str or path-like, optional
        Also save the page there (atomically).
    assets : {"auto", "cdn", "local"}
        With ``local`` the saved page needs no internet for its scripts; ``auto`` is ``local``
        wherever the map assets are installed, else ``cdn`` (with integrity hashes).

    Returns
    -------
    folium.Map

    Examples
    --------
    >>> import zlgis as zl
    >>> d = zl.datasets.load("district")
    >>> m = zl.web_map({"toilets": d["toilets"]}, catalog=zl.datasets.catalog(),
    ...                profile="public", basemap="none")
    >>> html = m.get_root().render()
    >>> "公厕" in html, "keeper_phone" in html
    (True, False)
    """
    from ..publish.maps import build_map, save_map

    m = build_map(dict(layers), findings, catalog=_catalog(catalog), profile=profile,
                  basemap=basemap, extra=extra, title=title)
    if path is not None:
        save_map(m, path, assets=assets)
    return m


def figure(layers: Mapping[str, gpd.GeoDataFrame], findings: gpd.GeoDataFrame | None = None,
           *, path: str | os.PathLike[str], catalog: Catalog | str | os.PathLike[str] | None = None,
           title: str = "", extra: Mapping[str, gpd.GeoDataFrame] | None = None,
           dpi: int | None = None) -> Path:
    """A PNG figure of layers and findings, with legend, scale bar and north arrow.

    Parameters
    ----------
    layers : mapping of layer id to GeoDataFrame
        Drawn with the web map's colours.
    findings : GeoDataFrame, optional
        Drawn as points coloured by severity.
    path : str or path-like
        The PNG to write (atomically).
    catalog : Catalog or path, optional
        Layer titles (default catalog when omitted).
    title : str
        Figure title (Chinese).
    extra : mapping of name to GeoDataFrame, optional
        Analysis layers.
    dpi : int, optional
        Resolution (default ``figures.dpi`` in ``publish.yaml``).

    Returns
    -------
    pathlib.Path
        ``path``.

    Examples
    --------
    >>> import tempfile, zlgis as zl
    >>> d = zl.datasets.load("district")
    >>> short = zl.setback_breaches(d["buildings"], d["red_lines"])  # setbacks too short
    >>> with tempfile.TemporaryDirectory() as tmp:
    ...     png = zl.figure({"red_lines": d["red_lines"], "buildings": d["buildings"]}, short,
    ...                     path=f"{tmp}/setbacks.png", catalog=zl.datasets.catalog(), dpi=40)
    ...     png.read_bytes()[1:4]
    b'PNG'
    """
    from ..publish.figures import make_figure

    return make_figure(dict(layers), findings, catalog=_catalog(catalog), path=path,
                       title=title, extra=extra, dpi=dpi)
