"""YAML reading shared by the catalog and the configuration: strings stay strings.

PyYAML follows YAML 1.1, where unquoted ``yes``, ``no``, ``on``, ``off``, ``y`` and ``n`` are
booleans. In a catalog that maps OSM values (``building: yes``) or a bureau's codes this silently
turns values into ``True``/``False``. :func:`safe_load` reads YAML 1.2 core booleans only
(``true``/``false`` in any case); everything else that looks like a word is a string.

Examples
--------
>>> safe_load("a: yes\\nb: no\\nc: true\\nd: On\\ne: 3\\n")
{'a': 'yes', 'b': 'no', 'c': True, 'd': 'On', 'e': 3}
"""

from __future__ import annotations

import re
from typing import Any

import yaml

__all__ = ["safe_load", "StringSafeLoader"]


class StringSafeLoader(yaml.SafeLoader):
    """``yaml.SafeLoader`` with YAML 1.2 core booleans (``true``/``false`` only)."""


StringSafeLoader.yaml_implicit_resolvers = {
    first: [(tag, rx) for tag, rx in resolvers if tag != "tag:yaml.org,2002:bool"]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}
StringSafeLoader.add_implicit_resolver(
    "tag:yaml.org,2002:bool", re.compile(r"^(?:true|True|TRUE|false|False|FALSE)$"),
    list("tTfF"))


def safe_load(text: str) -> Any:
    """Parse YAML text with :class:`StringSafeLoader`."""
    return yaml.load(text, Loader=StringSafeLoader)  # noqa: S506 - a SafeLoader subclass
