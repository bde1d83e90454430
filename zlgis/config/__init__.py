"""Rule presets and defaults with their sources, read from YAML files in this folder.

Numbers that are not confirmed for Zhalantun live here, not in code. A bureau overrides any file
by pointing ``$ZLGIS_CONFIG_DIR`` at a folder holding its own copy of that file.

Examples
--------
>>> load_config("departments")["departments"]["natural_resources"]
'自然资源局'
"""

from __future__ import annotations

import os
from functools import lru_cache
from pathlib import Path
from typing import Any

import yaml

from ..errors import ConfigError

__all__ = ["load_config", "department_name", "task_routing", "read_yaml", "config_override_dir",
           "CONFIG_DIR"]

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
        data = yaml.safe_load(Path(path).read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as exc:
        raise ConfigError(f"配置文件无法读取：{exc}", path=path) from None
    if not isinstance(data, dict):
        raise ConfigError("配置文件内容应为映射", path=path)
    return data


def load_config(name: str) -> dict[str, Any]:
    """Return the configuration ``name`` (file ``<name>.yaml``), local override first."""
    override = os.environ.get("ZLGIS_CONFIG_DIR")
    if override and (Path(override) / f"{name}.yaml").exists():
        return _read(str(Path(override) / f"{name}.yaml"))
    path = CONFIG_DIR / f"{name}.yaml"
    if not path.exists():
        raise ConfigError("配置文件不存在", path=str(path))
    return _read(str(path))


def department_name(code: str) -> str:
    """Chinese name of a department code (the code itself when unknown)."""
    return load_config("departments")["departments"].get(code, code)


def task_routing(task_id: str) -> dict[str, Any]:
    """Lead and cooperating department codes (and deadline, if any) of a campaign task."""
    tasks = load_config("departments")["tasks"]
    if task_id not in tasks:
        raise ConfigError(f"任务 {task_id} 未在 departments.yaml 中定义")
    return tasks[task_id]
