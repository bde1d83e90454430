"""The public functions behind ``import zlgis as zl``, one module per task.

Each function is a thin, typed wrapper over an engine in :mod:`zlgis.io`, :mod:`zlgis.validate`,
:mod:`zlgis.analysis`, :mod:`zlgis.findings` or :mod:`zlgis.publish`: GeoDataFrames, Series or
arrays in and out, options keyword-only, column names as parameters. Rules (numbers, sources,
titles) stay defined once, in the engines, the configuration and the rule registry. The names
are listed in :data:`zlgis.API`.
"""
