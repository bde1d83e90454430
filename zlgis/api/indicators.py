"""Coverage indicators by district, toilet density and transfer-station site ranking.

The tables a bureau analyst reads next to the coverage maps: shares covered per district
(片区 / subdistrict) against their targets, public-toilet density per land-use class against
GB/T 50337-2018 表4.2.2, and candidate sites for a new transfer station ranked by the population
they would newly serve (CJJ/T 47-2016). Radii, targets and classes live in
``config/coverage.yaml``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import geopandas as gpd
    import pandas as pd

    from ..analysis.network import StreetGraph

__all__ = ["coverage_indicators", "toilet_density", "rank_transfer_sites"]

_ENGINES = {"toilets": "coverage_toilets:toilet_coverage",
            "transfer_stations": "coverage_transfer:transfer_coverage",
            "parks": "coverage_parks:park_coverage"}


def coverage_indicators(layers: dict[str, gpd.GeoDataFrame], *, facility: str = "toilets",
                        method: str = "network", graph: StreetGraph | None = None
                        ) -> pd.DataFrame:
    """Shares of homes, people and residential land covered, city-wide and per district.

    Parameters
    ----------
    layers : dict of GeoDataFrame
        Catalog layers as :func:`load_layers` returns them: ``buildings``, ``roads`` (network
        method), the facility layer, and ``grids`` (with ``district``), ``residential_compounds``,
        ``parks``, ``red_lines`` where present.
    facility : {"toilets", "transfer_stations", "parks"}
        Public toilets (300 m, GB 55013-2021 §5.0.1), transfer stations (radius of their
        collection mode, CJJ/T 47-2016) or parks (the preset of ``coverage.yaml``).
    method : {"network", "radius"}
        Walking (driving for transfer stations) distance along the streets, or straight line.
    graph : StreetGraph, optional
        A graph already built (:func:`street_graph`) to reuse.

    Returns
    -------
    DataFrame
        One row per indicator, measure (``buildings``, ``population``, ``land``) and district
        (``全市`` first): ``covered``, ``total``, ``unit``, ``share``, ``target``, ``meets``,
        ``radius_m`` and the ``source`` clause.

    Examples
    --------
    >>> import zlgis as zl
    >>> t = zl.coverage_indicators(zl.datasets.load("district"), method="radius")
    >>> homes = t[(t["measure"] == "buildings")].set_index("district")["share"].round(3)
    >>> homes.index.tolist(), bool(homes.between(0, 1).all())
    (['全市', '河东'], True)
    """
    import importlib

    import pandas as pd

    try:
        module, name = _ENGINES[facility].split(":")
    except KeyError:
        from ..errors import InputError

        raise InputError(f"未知的设施类型 {facility}（可选：{'、'.join(_ENGINES)}）") from None
    engine = getattr(importlib.import_module(f"..analysis.{module}", __package__), name)
    res = engine(layers, method=method, graph=graph)
    cols = ["indicator", "measure", "district", "covered", "total", "unit", "share", "target",
            "meets", "radius_m", "source"]
    return pd.DataFrame(res.indicators)[cols].reset_index(drop=True)


def toilet_density(layers: dict[str, gpd.GeoDataFrame]) -> pd.DataFrame:
    """Public toilets per km2 of each land-use class against GB/T 50337-2018 表4.2.2.

    Parameters
    ----------
    layers : dict of GeoDataFrame
        ``toilets`` and the layers that stand for the land-use classes: ``parks`` (G),
        ``residential_compounds`` (R), ``red_lines`` and ``buildings`` (road land and public
        plots); ``grids`` with ``district`` for per-district rows.

    Returns
    -------
    DataFrame
        ``district``, ``class``, ``title``, ``area_km2``, ``toilets``, ``density_per_km2``,
        ``min``, ``max``, ``status`` (偏低 / 符合 / 偏高 / 无此类用地) and ``source``.

    Examples
    --------
    >>> import zlgis as zl
    >>> d = zl.toilet_density(zl.datasets.load("district"))
    >>> sorted(d["district"].unique()), bool(d["status"].isin(["偏低", "符合", "偏高", "无此类用地"]).all())
    (['全市', '河东', '河西'], True)
    """
    from ..analysis.coverage_toilets import toilet_density as _engine

    return _engine(layers)


def rank_transfer_sites(layers: dict[str, gpd.GeoDataFrame], *, district: str | None = None,
                        method: str = "network", graph: StreetGraph | None = None,
                        capacity_tpd: float | None = None, mode: str | None = None
                        ) -> gpd.GeoDataFrame:
    """Candidate sites on public land for a new transfer station in a district, ranked.

    Feasible sites keep the distance to neighbouring buildings their capacity class needs
    (CJJ/T 47-2016: < 150 t/d 10 m, 150-450 t/d 15 m, > 450 t/d 30 m); they are ranked by the
    district's residents within the collection mode's radius that no running station serves
    today, then by all residents served, then by mean distance.

    Parameters
    ----------
    layers : dict of GeoDataFrame
        ``buildings``, ``roads``, ``grids`` (with ``district``), ``parks``, ``red_lines``,
        ``transfer_stations`` and ``yellow_lines`` where present.
    district : str, optional
        The district (default ``coverage.yaml``: 河西, the new town).
    method : {"network", "radius"}
        Driving distance along the streets, or straight line.
    graph : StreetGraph, optional
        A driving graph already built (``street_graph(roads, walk=False)``).
    capacity_tpd, mode : optional
        Planned capacity (t/d) and collection mode (人力 / 小型机动车); defaults in
        ``coverage.yaml``.

    Returns
    -------
    GeoDataFrame
        ``rank``, ``candidate_id``, ``source``, ``ref_id``, ``in_yellow_line``, ``feasible``,
        ``nearest_building_m``, ``required_m``, ``new_population``, ``population``,
        ``share_of_best``, ``mean_distance_m`` and the site.

    Examples
    --------
    >>> import zlgis as zl
    >>> r = zl.rank_transfer_sites(zl.datasets.load("district"), district="河东",
    ...                            method="radius")
    >>> r["rank"].tolist()[:3], bool(r["feasible"].iloc[0])
    ([1, 2, 3], True)
    """
    from ..analysis.siting import rank_transfer_sites as _engine

    return _engine(layers, district=district, method=method, graph=graph,
                   capacity_tpd=capacity_tpd, mode=mode)
