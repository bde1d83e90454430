"""Typed configuration: every ``zlgis/config/<name>.yaml`` is checked when it is loaded.

The shipped file is the schema: each mapping is a record whose keys and value types are those of
the shipped defaults (numbers, text, true/false, lists, mappings; a ``null`` default accepts any
value). A bureau's override (``$ZLGIS_CONFIG_DIR/<name>.yaml``) is merged over the defaults
(:func:`zlgis.config.merge_config`) and the result is checked here, at every depth: a key the
defaults do not have, or a value of another type, is a :class:`~zlgis.errors.ConfigError` naming
the file and the key (exit code 2), so a misspelt ``radius_m`` never silently falls back to the
default.

Some mappings are tables keyed by data, not records: road classes in a setback table, OSM tags,
department codes, park presets. :data:`OPEN` lists them per file; their keys are free and a new
entry is checked against the shape of the existing entries.

Examples
--------
>>> check_config("demo", {"radius_m": 300, "table": {"A": {"min": 1}}},
...              {"radius_m": 300, "table": {"B": {"min": 2}}}, open_paths=("table",))
>>> check_config("demo", {"radus_m": 300}, {"radius_m": 300}, path="over.yaml")
Traceback (most recent call last):
...
zlgis.errors.ConfigError: 文件 over.yaml，字段 radus_m：未知的配置项 radus_m（可用：radius_m）
>>> check_config("demo", {"radius_m": "300米"}, {"radius_m": 300}, path="over.yaml")
Traceback (most recent call last):
...
zlgis.errors.ConfigError: 文件 over.yaml，字段 radius_m：配置项 radius_m 应为数值（默认值 300），实际为文字 '300米'
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from ..errors import ConfigError

__all__ = ["OPEN", "KIND_ZH", "value_kind", "check_config"]

#: Mappings keyed by data (``*`` matches any one key), per configuration file.
OPEN: dict[str, tuple[str, ...]] = {
    "controllines": ("setbacks.table_m", "red_lines_from_roads.osm_highway",
                     "red_lines_from_roads.road_class", "zones.lines", "severity"),
    "coverage": ("toilets.density.classes", "transfer.collection_modes", "parks.presets",
                 "parks.district_targets"),
    "departments": ("departments", "tasks"),
    "compounds": ("service_modes", "life_circles.levels", "life_circles.levels.*.facilities"),
    "gas": ("clearance_m",),
    "ledger": ("status_aliases",),
    "osm": ("roads.road_class", "roads.default_width_m", "buildings.use", "facilities",
            "facilities.*.filter", "facilities.*.category", "areas", "areas.*.filter",
            "areas.*.category", "waterway_width_m"),
    "publish": ("search", "service_radius_m", "extras", "basemaps", "tiles.layers"),
    "trucks": ("vehicle_classes.groups",),
    "water": ("levels",),
}

#: What a user reads for each kind of value.
KIND_ZH = {"mapping": "映射", "list": "列表", "bool": "true/false", "number": "数值",
           "text": "文字", "null": "空值"}


def value_kind(value: Any) -> str:
    """``mapping``, ``list``, ``bool``, ``number``, ``null`` or ``text`` (the key of
    :data:`KIND_ZH`)."""
    if isinstance(value, Mapping):
        return "mapping"
    if isinstance(value, list):
        return "list"
    if isinstance(value, bool):
        return "bool"
    if isinstance(value, (int, float)):
        return "number"
    if value is None:
        return "null"
    return "text"


def _is_open(keypath: str, open_paths: Sequence[str]) -> bool:
    parts = keypath.split(".")
    return any(len(p.split(".")) == len(parts)
               and all(a in ("*", b) for a, b in zip(p.split("."), parts)) for p in open_paths)


def _union(templates: Sequence[Any]) -> Any:
    """One template for the entries of a table or list: mappings merged (at every depth), else
    the first kind."""
    if not templates:
        return None
    if all(isinstance(t, Mapping) for t in templates):
        out: dict[str, Any] = {}
        for t in templates:
            for k, v in t.items():
                if k not in out or out[k] is None:
                    out[k] = v
                elif isinstance(out[k], Mapping) and isinstance(v, Mapping):
                    out[k] = _union([out[k], v])
        return out
    kinds = {value_kind(t) for t in templates} - {"null"}
    return templates[0] if len(kinds) == 1 else None


def _check(value: Any, template: Any, keypath: str, open_paths: Sequence[str], path: str) -> None:
    kt, kv = value_kind(template), value_kind(value)
    if "null" in (kt, kv):
        return
    if kt != kv:
        raise ConfigError(f"配置项 {keypath} 应为{KIND_ZH[kt]}（默认值 {template!r}），"
                          f"实际为{KIND_ZH[kv]} {value!r}", path=path, field=keypath)
    if kt == "list":
        element = _union(list(template))
        for i, v in enumerate(value):
            _check(v, element, f"{keypath}[{i}]", open_paths, path)
    elif kt == "mapping":
        _check_mapping(value, template, keypath, open_paths, path)


def _check_mapping(value: Mapping[str, Any], template: Mapping[str, Any], keypath: str,
                   open_paths: Sequence[str], path: str) -> None:
    table = bool(keypath) and _is_open(keypath, open_paths)
    entry = _union(list(template.values())) if table else None
    for key, v in value.items():
        name = f"{keypath}.{key}" if keypath else str(key)
        if key in template:
            _check(v, template[key], name, open_paths, path)
        elif table:
            _check(v, entry, name, open_paths, path)
        else:
            raise ConfigError(f"未知的配置项 {name}（可用：{'、'.join(map(str, template))}）",
                              path=path, field=name)


def check_config(name: str, data: Mapping[str, Any], defaults: Mapping[str, Any], *,
                 path: str = "", open_paths: Sequence[str] | None = None) -> None:
    """Check ``data`` (configuration ``name``, read from ``path``) against its ``defaults``.

    Raises :class:`~zlgis.errors.ConfigError` naming ``path`` and the first unknown key or
    mistyped value; tables of :data:`OPEN` (or ``open_paths``) accept new keys.
    """
    _check_mapping(data, defaults, "", OPEN.get(name, ()) if open_paths is None else open_paths,
                   path or f"{name}.yaml")
