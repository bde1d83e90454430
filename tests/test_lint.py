"""``ruff check .`` passes (the rules are in pyproject.toml; .ci/run also runs it first)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_ruff_passes() -> None:
    ruff = Path(sys.executable).with_name("ruff")
    out = subprocess.run([str(ruff), "check", "--output-format", "concise", "."], cwd=ROOT,
                         capture_output=True, text=True)
    assert out.returncode == 0, out.stdout[-4000:] + out.stderr[-2000:]


#: Longest function body allowed in zlgis/ (lines from ``def`` to the end, the docstring not
#: counted: numpydoc Parameters / Returns / Examples are required of the public API and must
#: not push a function over). Split a longer function into well-named helpers or task modules.
MAX_FUNCTION_LINES = 80


def _long_functions(root: Path, limit: int) -> list[str]:
    import ast

    out = []
    for path in sorted(root.rglob("*.py")):
        if "vendor" in path.parts:
            continue
        tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
        for node in ast.walk(tree):
            if not isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
                continue
            lines = node.end_lineno - node.lineno + 1
            first = node.body[0]
            if (isinstance(first, ast.Expr) and isinstance(first.value, ast.Constant)
                    and isinstance(first.value.value, str)):
                lines -= first.end_lineno - first.lineno + 1
            if lines > limit:
                out.append(f"{path.relative_to(root.parent)}:{node.lineno} {node.name} "
                           f"({lines} lines)")
    return out


def test_function_length() -> None:
    long = _long_functions(ROOT / "zlgis", MAX_FUNCTION_LINES)
    assert not long, "functions over %d lines:\n%s" % (MAX_FUNCTION_LINES, "\n".join(long))


def test_function_length_counts_a_long_function(tmp_path: Path) -> None:
    pkg = tmp_path / "pkg"
    pkg.mkdir()
    body = "\n".join(f"    x{i} = {i}" for i in range(81))
    doc = '    """' + "\n".join(["Doc."] * 30) + '"""\n'
    (pkg / "m.py").write_text(f"def long():\n{body}\n\n\ndef short():\n{doc}    return 1\n",
                              encoding="utf-8")
    assert _long_functions(pkg, MAX_FUNCTION_LINES) == ["pkg/m.py:1 long (82 lines)"]
