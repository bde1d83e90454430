"""zlgis: GIS toolkit for the planning and city-management bureaus of Zhalantun (扎兰屯市).

``import zlgis as zl`` gives a flat namespace of typed functions that take and return
GeoDataFrames, Series and arrays with keyword-only options (the table :data:`API` below), the
rule registry (``zl.rules()``, ``zl.rule(id)``) and small bundled datasets
(:mod:`zlgis.datasets`). Names are imported on first use, so ``import zlgis`` stays cheap.

The package follows the pipeline: layers in (:mod:`zlgis.io`), validated (:mod:`zlgis.validate`),
analysed (:mod:`zlgis.analysis`), merged into the ledger (:mod:`zlgis.ledger`), published
(:mod:`zlgis.publish`). :mod:`zlgis.demo` makes the synthetic demo city.

Examples
--------
>>> import zlgis as zl
>>> layers = zl.datasets.load("district")
>>> zl.red_line_breaches(layers["buildings"], layers["red_lines"])["feature_id"].tolist()
['JZ0000569', 'JZ0000370']
"""

from __future__ import annotations

import importlib
import sys
import types
from typing import Any

__version__ = "0.1.0"

#: The public namespace: name -> "module:attribute". To publish a function, add ONE line here
#: (next to its topic); see DEVELOPERS.md "The public API".
API: dict[str, str] = {
    # reading
    "read_catalog": "zlgis.api.reading:read_catalog",
    "load_layers": "zlgis.api.reading:load_layers",
    "read_file": "zlgis.api.reading:read_file",
    "validate": "zlgis.api.reading:validate",
    "demo_city": "zlgis.api.checks:demo_city",
    # checks (the weekly run's, one at a time) and their numbers
    "check": "zlgis.api.checks:check",
    "settings": "zlgis.api.checks:settings",
    "write_findings": "zlgis.api.checks:write_findings",
    # control lines
    "red_line_breaches": "zlgis.api.controllines:red_line_breaches",
    "setback_breaches": "zlgis.api.controllines:setback_breaches",
    "zone_overlaps": "zlgis.api.controllines:zone_overlaps",
    "red_lines_from_roads": "zlgis.api.controllines:red_lines_from_roads",
    # networks and coverage
    "street_graph": "zlgis.api.networks:street_graph",
    "nearest_facility": "zlgis.api.networks:nearest_facility",
    "coverage": "zlgis.api.networks:coverage",
    "service_areas": "zlgis.api.networks:service_areas",
    "site_facilities": "zlgis.api.networks:site_facilities",
    "coverage_indicators": "zlgis.api.indicators:coverage_indicators",
    "toilet_density": "zlgis.api.indicators:toilet_density",
    "rank_transfer_sites": "zlgis.api.indicators:rank_transfer_sites",
    # terrain
    "read_dem": "zlgis.api.terrain:read_dem",
    "fill_depressions": "zlgis.api.terrain:fill_depressions",
    "find_depressions": "zlgis.api.terrain:find_depressions",
    "ponding": "zlgis.api.terrain:ponding",
    "rain_scenario": "zlgis.api.terrain:rain_scenario",
    # trucks
    "truck_stops": "zlgis.api.trucks:truck_stops",
    "zone_violations": "zlgis.api.trucks:zone_violations",
    "in_time_window": "zlgis.api.trucks:in_time_window",
    # municipal facilities and greening
    "dark_stretches": "zlgis.api.municipal:dark_stretches",
    "lamp_sites": "zlgis.api.municipal:lamp_sites",
    "lamp_on_rates": "zlgis.api.municipal:lamp_on_rates",
    "tree_protection_zones": "zlgis.api.municipal:tree_protection_zones",
    # residential compounds, heating, water sources and gas (issue 17)
    "compound_ledger": "zlgis.api.utilities:compound_ledger",
    "lifecircle_audit": "zlgis.api.utilities:lifecircle_audit",
    "heat_supply": "zlgis.api.utilities:heat_supply",
    "rebalance_heating": "zlgis.api.utilities:rebalance_heating",
    "gas_clearances": "zlgis.api.utilities:gas_clearances",
    "water_zone_buildings": "zlgis.api.utilities:water_zone_buildings",
    # sanitation
    "sweeping_shares": "zlgis.api.sanitation:sweeping_shares",
    "bin_gaps": "zlgis.api.sanitation:bin_gaps",
    "frontage_zones": "zlgis.api.sanitation:frontage_zones",
    # grids, road chiefs, cases, hot spots and the evaluation (issue 16)
    "communities": "zlgis.api.grids:communities",
    "unit_grids": "zlgis.api.grids:unit_grids",
    "road_chief_segments": "zlgis.api.grids:road_chief_segments",
    "audit_grids": "zlgis.api.grids:audit_grids",
    "classify_cases": "zlgis.api.grids:classify_cases",
    "prepare_cases": "zlgis.api.grids:prepare_cases",
    "case_hot_spots": "zlgis.api.grids:case_hot_spots",
    "evaluate_cases": "zlgis.api.grids:evaluate_cases",
    # findings
    "findings_frame": "zlgis.findings:findings_frame",
    "route": "zlgis.api.findings:route",
    "assign_grids": "zlgis.api.findings:assign_grids",
    # the weekly run and its ledger
    "run_weekly": "zlgis.api.ledger:run_weekly",
    "read_ledger": "zlgis.api.ledger:read_ledger",
    "ledger_status": "zlgis.api.ledger:ledger_status",
    "import_ledger": "zlgis.api.ledger:import_ledger",
    # rules (the registry)
    "rules": "zlgis.rules:rules",
    "rule": "zlgis.rules:rule",
    # maps
    "explore": "zlgis.api.maps:explore",
    "web_map": "zlgis.api.maps:web_map",
    "figure": "zlgis.api.maps:figure",
}

#: Submodules reachable as attributes without importing them first.
_SUBMODULES = ("datasets",)

__all__ = ["__version__", *API, *_SUBMODULES]


def __getattr__(name: str) -> Any:
    target = API.get(name)
    if target is not None:
        module, attr = target.split(":")
        value = getattr(importlib.import_module(module), attr)
    elif name in _SUBMODULES:
        value = importlib.import_module(f"{__name__}.{name}")
    else:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))


class _Namespace(types.ModuleType):
    """The package module: a submodule never shadows a public function of the same name.

    Importing ``zlgis.rules`` (the registry module) would otherwise set ``zlgis.rules`` to the
    module and hide the public function ``zl.rules()``. Import registry names with
    ``from zlgis.rules import ...``.
    """

    def __setattr__(self, name: str, value: Any) -> None:
        if name in API and isinstance(value, types.ModuleType):
            return
        super().__setattr__(name, value)


sys.modules[__name__].__class__ = _Namespace
