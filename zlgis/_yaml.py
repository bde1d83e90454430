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

__all__ = ["safe_load", "StringSafeLoader", "MAX_NODES"]

#: Largest number of nodes a document may expand to, aliases counted as often as they are used.
#: A real catalog has a few thousand; a "billion laughs" document has billions.
MAX_NODES = 200_000


class StringSafeLoader(yaml.SafeLoader):
    """``yaml.SafeLoader`` with YAML 1.2 core booleans (``true``/``false`` only) and a bound on
    alias expansion: a document whose nodes, aliases expanded, exceed :data:`MAX_NODES` is
    refused while it is being read, before anything uses it."""

    def __init__(self, stream: Any) -> None:
        super().__init__(stream)
        self._sizes: dict[int, int] = {}

    def compose_node(self, parent: Any, index: Any) -> Any:  # noqa: D102 - PyYAML hook
        node = super().compose_node(parent, index)
        size = self._sizes.get(id(node))
        if size is None:
            if isinstance(node, yaml.MappingNode):
                children = [n for pair in node.value for n in pair]
            elif isinstance(node, yaml.SequenceNode):
                children = node.value
            else:
                children = []
            size = 1 + sum(self._sizes.get(id(c), 1) for c in children)
            self._sizes[id(node)] = size
        if size > MAX_NODES:
            raise yaml.YAMLError(f"文档展开后超过 {MAX_NODES} 个节点（别名 & / * 嵌套过深），拒绝读取")
        return node


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
