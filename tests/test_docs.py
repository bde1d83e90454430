"""The documentation site (mkdocs.yml) builds with warnings as errors.

Notebooks are rendered without executing them (tests/test_notebooks.py executes them).
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import zlgis

ROOT = Path(__file__).resolve().parents[1]


def test_site_builds_strict_with_every_public_name_and_notebook(tmp_path: Path) -> None:
    site = tmp_path / "site"
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    out = subprocess.run([sys.executable, "-m", "mkdocs", "build", "--strict", "--site-dir",
                          str(site)], cwd=ROOT, env=env, capture_output=True, text=True)
    assert out.returncode == 0, out.stderr[-3000:]
    api = (site / "api" / "index.html").read_text(encoding="utf-8")
    missing = [n for n in zlgis.API if not re.search(rf'id="[\w.]*\.{n}"', api)]
    assert not missing, missing
    # the numpydoc sections are parsed (Parameters and Returns of every name), not raw text
    assert api.count('class="doc-section-title"') >= 2 * len(zlgis.API)
    assert "----------" not in api
    for nb in sorted((ROOT / "notebooks").glob("*.ipynb")):
        page = site / "notebooks" / nb.stem / "index.html"
        assert page.exists(), nb.name
