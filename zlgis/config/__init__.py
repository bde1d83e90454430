"""Rule presets and defaults with their sources, read from YAML files in this folder.

Numbers that are not confirmed for Zhalantun live here, not in code. A bureau overrides values
by pointing ``$ZLGIS_CONFIG_DIR`` at a folder holding ``<name>.yaml`` files with only what it
changes: they are merged key by key over the shipped defaults (mappings merged, lists and
scalars replaced), so an override does not go stale when a new version adds keys. The merged
configuration is checked against the shipped file (:mod:`zlgis.config.schema`): a key the
defaults do not have (at any depth, outside the tables keyed by data), or a value whose kind
differs from the default's (a mapping for a number, text for a number), is refused with a
:class:`~zlgis.errors.ConfigError` naming the file and key. YAML is read with :func:`zlgis._yaml.safe_load` (``yes``/``no`` stay strings).

Examples
--------
>>> load_config("departments")["departments"]["natural_resources"]
'自然资源局'
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from functools import lru_cache
from pathlib import Path
from typing import Any

import yaml

from .._yaml import safe_load
from ..errors import ConfigError
from .schema import KIND_ZH, check_config, value_kind

__all__ = ["load_config", "department_name", "task_routing", "read_yaml", "config_override_dir",
           "merge_config", "unless_given", "CONFIG_DIR"]

CONFIG_DIR = Path(__file__).resolve().parent


def config_override_dir() -> Path | None:
    """The bureau's override folder (``$ZLGIS_CONFIG_DIR``), if set."""
    override = os.environ.get("ZLGIS_CONFIG_DIR")
    return Path(override) if override else None


def read_yaml(path: str | Path) -> dict[str, Any]:
    """Read a YAML mapping (cached by path)."""
    return _read(str(path))


@lru_cache(maxsize=None)
def _read(path: str) -> dict[str, Any]:
    try:
        data = safe_load(Path(path).read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as exc:
        raise ConfigError(f"配置文件无法读取：{exc}", path=path) from None
    if not isinstance(data, dict):
        raise ConfigError("配置文件内容应为映射", path=path)
    return data


def merge_config(base: dict[str, Any], over: dict[str, Any], *, path: str = "",
                 _prefix: str = "") -> dict[str, Any]:
    """``over`` merged key by key over ``base`` (a new dict; neither input is changed).

    Mappings are merged recursively; lists and scalars in ``over`` replace those in ``base``.
    A top-level key missing from ``base`` and a value of another kind than the default's
    (a ``null`` default accepts anything; numbers accept ``null`` to switch a value off) raise
    :class:`~zlgis.errors.ConfigError` naming ``path`` and the key.

    Examples
    --------
    >>> merge_config({"a": {"x": 1, "y": 2}, "b": [1]}, {"a": {"y": 3}})
    {'a': {'x': 1, 'y': 3}, 'b': [1]}
    >>> merge_config({"a": 1}, {"c": 2}, path="over.yaml")
    Traceback (most recent call last):
    ...
    zlgis.errors.ConfigError: 文件 over.yaml，字段 c：未知的配置项 c（默认配置中没有；可用：a）
    """
    out = dict(base)
    for key, value in over.items():
        name = f"{_prefix}{key}"
        if key not in base:
            if not _prefix:
                raise ConfigError(f"未知的配置项 {name}（默认配置中没有；可用："
                                  f"{'、'.join(map(str, base))}）", path=path, field=name)
            out[key] = value
            continue
        default = base[key]
        kd, kv = value_kind(default), value_kind(value)
        if isinstance(default, dict) and isinstance(value, dict):
            out[key] = merge_config(default, value, path=path, _prefix=f"{name}.")
        elif kd == kv or "null" in (kd, kv):
            out[key] = value
        else:
            raise ConfigError(f"配置项 {name} 应为{KIND_ZH[kd]}（默认值 {default!r}），"
                              f"实际为{KIND_ZH[kv]} {value!r}", path=path, field=name)
    return out


@lru_cache(maxsize=None)
def _merged(name: str, override: str | None, stamp: float) -> dict[str, Any]:
    path = CONFIG_DIR / f"{name}.yaml"
    if not path.exists():
        raise ConfigError("配置文件不存在", path=str(path))
    base = _read(str(path))
    if override is None:
        return base
    merged = merge_config(base, _read(override), path=override)
    check_config(name, merged, base, path=override)
    return merged


def load_config(name: str) -> dict[str, Any]:
    """The configuration ``name`` (file ``<name>.yaml``), with the bureau's override merged in.

    The override is ``$ZLGIS_CONFIG_DIR/<name>.yaml`` when it exists (see the module docstring).
    """
    folder = config_override_dir()
    over = folder / f"{name}.yaml" if folder else None
    if over is not None and over.exists():
        return _merged(name, str(over), over.stat().st_mtime)
    return _merged(name, None, 0.0)


def unless_given(section: Mapping[str, Any], **given: Any) -> list[Any]:
    """Each keyword's value, or ``section[keyword]`` where it is None, in keyword order.

    For keyword arguments that default to a config value::

        sigma, beta = map(float, unless_given(cfg, sigma_m=sigma, beta_m=beta))
    """
    return [section[key] if value is None else value for key, value in given.items()]


def department_name(code: str) -> str:
    """Chinese name of a department code (the code itself when unknown)."""
    return load_config("departments")["departments"].get(code, code)


def task_routing(task_id: str) -> dict[str, Any]:
    """Lead and cooperating department codes (and deadline, if any) of a campaign task."""
    tasks = load_config("departments")["tasks"]
    if task_id not in tasks:
        raise ConfigError(f"任务 {task_id} 未在 departments.yaml 中定义")
    return tasks[task_id]
