"""The package's layers hold: io -> validate -> analysis -> ledger -> publish -> cli.

A module never imports a higher layer (lazy imports inside functions count too), and never
imports another module's private (``_``) names. The base modules (errors, config, rules, crs,
catalog, findings, skips and the private helpers ``_progress``/``_numba``/``_yaml``/
``_arrowtext``) may be used by every layer and import no layer themselves. Analysis neither loads layers nor renders.
"""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1] / "zlgis"

#: rank of each top-level part of the package; a module may import equal or lower ranks
RANKS = {
    "errors": 0, "config": 0, "rules": 0, "crs": 0, "catalog": 0, "findings": 0,
    "_progress": 0, "_numba": 0, "_yaml": 0, "_arrowtext": 0, "skips": 0, "workers": 0,
    "io": 1, "validate": 2, "analysis": 3, "ledger": 4, "publish": 5,
    "demo": 6, "weekly": 6, "api": 6, "datasets": 6, "cli": 7, "__main__": 7, "__init__": 7,
}
BASE = {k for k, v in RANKS.items() if v == 0}


def _module(path: Path, root: Path = ROOT) -> list[str]:
    parts = list(path.relative_to(root.parent).with_suffix("").parts)
    return parts[:-1] if parts[-1] == "__init__" else parts


def _imports(path: Path, root: Path = ROOT) -> list[tuple[int, list[str], list[str]]]:
    """(line, imported module as parts, imported names) of every zlgis import in ``path``."""
    mod = _module(path, root)
    package = mod if path.name == "__init__.py" else mod[:-1]
    out = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom):
            if node.level:
                base = package[:len(package) - (node.level - 1)]
                target = base + (node.module.split(".") if node.module else [])
            else:
                target = (node.module or "").split(".")
            if target[0] == "zlgis":
                out.append((node.lineno, target, [a.name for a in node.names]))
        elif isinstance(node, ast.Import):
            out += [(node.lineno, a.name.split("."), []) for a in node.names
                    if a.name.split(".")[0] == "zlgis"]
    return out


def _part(parts: list[str], names: list[str] | None = None) -> str:
    """Top-level part of a module; ``from zlgis import x`` / ``from .. import x`` names ``x``."""
    if len(parts) > 1:
        return parts[1]
    return names[0] if names and names[0] in RANKS else "__init__"


def _modules(root: Path = ROOT) -> list[Path]:
    return sorted(root.rglob("*.py"))


def _upward_imports(root: Path = ROOT) -> list[str]:
    bad = []
    for path in _modules(root):
        here = _part(_module(path, root))
        for line, target, names in _imports(path, root):
            there = _part(target, names)
            if there != here and RANKS[there] > RANKS[here]:
                bad.append(f"{path.relative_to(root.parent)}:{line} imports {'.'.join(target)}")
    return bad


def _private_imports(root: Path = ROOT) -> list[str]:
    bad = []
    for path in _modules(root):
        mod = _module(path, root)
        for line, target, names in _imports(path, root):
            private = [n for n in names if n.startswith("_") and not n.startswith("__")]
            if target != mod and private:
                bad.append(f"{path.relative_to(root.parent)}:{line} {'.'.join(target)}: {private}")
    return bad


def test_every_top_level_part_has_a_rank():
    parts = {p.relative_to(ROOT).parts[0].removesuffix(".py") for p in _modules()}
    assert parts - set(RANKS) == set()


def test_lower_layers_never_import_higher_ones():
    assert _upward_imports() == []


def test_base_modules_import_only_base_modules():
    bad = [f"{path.name} imports {'.'.join(t)}" for path in _modules()
           if _part(_module(path)) in BASE
           for _, t, names in _imports(path) if _part(t, names) not in BASE]
    assert bad == []


#: What analysis must not import: loaders (the caller passes the layers) and renderers.
LOADERS = {"load_layers", "read_layer", "read_file"}
RENDERERS = ("folium", "matplotlib", "branca", "openpyxl")


def _analysis_loads_or_renders(root: Path = ROOT) -> list[str]:
    bad = []
    for path in sorted((root / "analysis").rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.ImportFrom):
                names = {a.name for a in node.names}
                mod = node.module or ""
                if names & LOADERS or mod.split(".")[0] in RENDERERS:
                    bad.append(f"{path.name}:{node.lineno} {mod} {sorted(names)}")
            elif isinstance(node, ast.Import):
                bad += [f"{path.name}:{node.lineno} {a.name}" for a in node.names
                        if a.name.split(".")[0] in RENDERERS]
    return bad


def test_analysis_neither_loads_layers_nor_renders():
    assert _analysis_loads_or_renders() == []


def test_no_module_imports_private_names_of_another():
    assert _private_imports() == []


def test_the_checks_catch_violations(tmp_path):
    """An analysis module that imports publish lazily, and a private name, are both caught."""
    pkg = tmp_path / "zlgis"
    (pkg / "analysis").mkdir(parents=True)
    (pkg / "publish").mkdir()
    for init in (pkg / "__init__.py", pkg / "analysis" / "__init__.py",
                 pkg / "publish" / "__init__.py"):
        init.write_text("", encoding="utf-8")
    (pkg / "publish" / "maps.py").write_text("def _colour():\n    pass\n", encoding="utf-8")
    (pkg / "analysis" / "bad.py").write_text(
        "from ..findings import make_findings\n\n\ndef f():\n"
        "    from ..publish.maps import _colour\n", encoding="utf-8")
    (pkg / "analysis" / "loads.py").write_text(
        "def g(catalog):\n    from ..validate import load_layers\n    import matplotlib.pyplot\n",
        encoding="utf-8")
    assert _upward_imports(pkg) == ["zlgis/analysis/bad.py:5 imports zlgis.publish.maps"]
    assert _analysis_loads_or_renders(pkg) == ["loads.py:2 validate ['load_layers']",
                                               "loads.py:3 matplotlib.pyplot"]
    assert _private_imports(pkg) == ["zlgis/analysis/bad.py:5 zlgis.publish.maps: ['_colour']"]
