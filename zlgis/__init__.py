"""zlgis: GIS toolkit for the planning and city-management bureaus of Zhalantun (扎兰屯市).

The package follows the pipeline: layers in (:mod:`zlgis.io`), validated (:mod:`zlgis.validate`),
analysed (:mod:`zlgis.analysis`), merged into the ledger (:mod:`zlgis.ledger`), published
(:mod:`zlgis.publish`). :mod:`zlgis.demo` makes the synthetic demo city.
"""

__version__ = "0.1.0"
__all__ = ["__version__"]
