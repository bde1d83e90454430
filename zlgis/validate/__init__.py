"""Validation: per-row geometry and attribute checks, repair, and the issue report.

Layers are validated while they are loaded (:func:`read_layer`, :func:`load_layers`,
:func:`read_file`, module :mod:`zlgis.validate.load`, reading through :mod:`zlgis.io`); the
pieces are here:
:func:`check_geometries` (null, empty, NaN/inf, wrong or mixed types, Z/M, invalid -> make_valid),
:func:`check_attributes` (types, required, allowed values, ranges, patterns, duplicate ids),
:func:`validate_frame` (both, plus coordinate systems and the city boundary) and the report
helpers (:func:`write_issues`, :func:`format_issues`).
"""

from .attributes import AttributeCheck, check_attributes, coerce_series
from .geometry import GeometryCheck, check_geometries, closed_lines_to_polygons, reason_zh
from .load import (
                   LoadedLayer,
                   adhoc_spec,
                   city_boundary,
                   city_region,
                   load_layers,
                   read_file,
                   read_layer,
)
from .pipeline import ValidationResult, validate_frame
from .report import (
                   ACTIONS,
                   CODES,
                   ISSUE_COLUMNS,
                   concat_issues,
                   empty_issues,
                   format_issues,
                   issues_records,
                   make_issues,
                   summarize_issues,
                   write_issues,
)

__all__ = [
    "AttributeCheck", "check_attributes", "coerce_series",
    "GeometryCheck", "check_geometries", "closed_lines_to_polygons", "reason_zh",
    "ValidationResult", "validate_frame",
    "LoadedLayer", "read_layer", "load_layers", "read_file", "city_region", "city_boundary",
    "adhoc_spec",
    "ACTIONS", "CODES", "ISSUE_COLUMNS", "concat_issues", "empty_issues", "format_issues",
    "issues_records", "make_issues", "summarize_issues", "write_issues",
]
