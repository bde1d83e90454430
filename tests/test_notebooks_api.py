"""The analysts' notebooks use only the public API: ``import zlgis as zl`` and its names.

No ``zlgis.<module>`` import (``zlgis.analysis``, ``zlgis.cli``, ``zlgis.io`` ...), no attribute of
``zl`` outside ``zl.__all__``, and no hand-built folium map with its own label table: maps come
from ``zl.explore`` / ``zl.web_map``, which take their labels from the rule registry and the
catalog. The notebooks themselves are executed by tests/test_notebooks.py.
"""

from __future__ import annotations

import ast
import json
from pathlib import Path

import pytest

import zlgis

NOTEBOOKS = sorted((Path(__file__).resolve().parents[1] / "notebooks").glob("*.ipynb"))


def _code(path: Path) -> str:
    nb = json.loads(path.read_text(encoding="utf-8"))
    cells = ["".join(c["source"]) for c in nb["cells"] if c["cell_type"] == "code"]
    # IPython magics and shell escapes are not Python
    return "\n".join(line for cell in cells for line in cell.splitlines()
                     if not line.lstrip().startswith(("%", "!")))


def violations(source: str) -> list[str]:
    """What in ``source`` reaches past the public API.

    >>> violations("import zlgis as zl\\nzl.coverage(a, b, radius=300)")
    []
    >>> violations("from zlgis.analysis import coverage\\nimport folium\\nzl.analysis.x")
    ['from zlgis.analysis import ...', 'import folium', 'zl.analysis']
    """
    tree = ast.parse(source)
    aliases = {"zl", "zlgis"}
    found: list[str] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for a in node.names:
                if a.name.startswith("zlgis."):
                    found.append(f"import {a.name}")
                elif a.name == "zlgis":
                    aliases.add(a.asname or "zlgis")
                elif a.name.split(".")[0] == "folium":
                    found.append(f"import {a.name}")
        elif isinstance(node, ast.ImportFrom) and node.module:
            root = node.module.split(".")[0]
            if root == "zlgis":
                found.append(f"from {node.module} import ...")
            elif root == "folium":
                found.append(f"from {node.module} import ...")
    for node in ast.walk(tree):
        if (isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name)
                and node.value.id in aliases and node.attr not in zlgis.__all__):
            found.append(f"{node.value.id}.{node.attr}")
    return found


@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.stem for p in NOTEBOOKS])
def test_notebook_uses_only_the_public_api(path: Path) -> None:
    found = violations(_code(path))
    assert "import zlgis as zl" in _code(path)
    assert not found, f"{path.name}: {found}"
