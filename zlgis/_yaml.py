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

__all__ = ["safe_load", "StringSafeLoader", "MAX_NODES", "document_size"]

#: Largest number of nodes a document may expand to, aliases counted as often as they are used.
#: A real catalog has a few thousand; a "billion laughs" document has billions.
MAX_NODES = 200_000


#: libyaml's parser when PyYAML was built with it (about 8x faster on the catalog), else PyYAML's.
_BASE = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


def document_size(node: Any) -> int:
    """Nodes of a composed document with every alias expanded (an alias counts as often as it
    is used; a node met again inside itself counts 1). Shared nodes are sized once, so a
    "billion laughs" document is measured in time proportional to its text."""
    sizes: dict[int, int] = {}
    stack: list[tuple[Any, bool]] = [(node, False)]
    while stack:
        current, done = stack.pop()
        key = id(current)
        if isinstance(current, yaml.MappingNode):
            children = [n for pair in current.value for n in pair]
        elif isinstance(current, yaml.SequenceNode):
            children = current.value
        else:
            sizes[key] = 1
            continue
        if done:
            sizes[key] = 1 + sum(sizes.get(id(c), 1) for c in children)
        elif key not in sizes:
            sizes[key] = 1  # in progress: a recursive reference counts 1
            stack.append((current, True))
            stack.extend((c, False) for c in children if id(c) not in sizes)
    return sizes[id(node)]


class StringSafeLoader(_BASE):  # type: ignore[misc, valid-type]
    """Safe loader with YAML 1.2 core booleans (``true``/``false`` only) and a bound on
    alias expansion: a document whose nodes, aliases expanded, exceed :data:`MAX_NODES` is
    refused after it is composed and before anything is constructed from it."""

    def get_single_node(self) -> Any:  # noqa: D102 - PyYAML hook
        node = super().get_single_node()
        if node is not None and document_size(node) > MAX_NODES:
            raise yaml.YAMLError(f"文档展开后超过 {MAX_NODES} 个节点（别名 & / * 嵌套过深），拒绝读取")
        return node


StringSafeLoader.yaml_implicit_resolvers = {
    first: [(tag, rx) for tag, rx in resolvers if tag != "tag:yaml.org,2002:bool"]
    for first, resolvers in _BASE.yaml_implicit_resolvers.items()
}
StringSafeLoader.add_implicit_resolver(
    "tag:yaml.org,2002:bool", re.compile(r"^(?:true|True|TRUE|false|False|FALSE)$"),
    list("tTfF"))


def safe_load(text: str) -> Any:
    """Parse YAML text with :class:`StringSafeLoader`."""
    return yaml.load(text, Loader=StringSafeLoader)  # noqa: S506 - a SafeLoader subclass
