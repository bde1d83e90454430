"""``zlgis --help`` and ``zlgis layers`` start without the heavy libraries (issue 21).

Startup time is checked by what gets imported, not by a clock: a command module that imports
pandas, geopandas, shapely or folium at module level makes every command (and ``--help``) pay
for it, about 1-2 s on the project machine; numpy, pyproj and openpyxl cost 0.05-0.5 s
each, more than ``zlgis layers`` on the demo city takes without them.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
HEAVY = ["pandas", "geopandas", "numpy", "shapely", "folium", "pyogrio", "rasterio", "scipy",
         "matplotlib", "openpyxl", "numba", "pyproj"]


def _imported(code: str) -> list[str]:
    probe = (f"import sys, json\n{code}\n"
             f"print(json.dumps(sorted(m for m in {HEAVY!r} if m in sys.modules)))")
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True,
                         env=env, cwd=str(ROOT), check=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


def test_help_imports_no_heavy_library():
    # every sub-command registers its parser, none imports its analysis until it runs
    assert _imported("from zlgis.cli import build_parser\nbuild_parser().format_help()") == []



def test_layers_imports_no_heavy_library(demo_city):
    # the demo catalog: GeoPackages, a GeoTIFF and an .xlsx (counted with zipfile), the working
    # CRS EPSG:4550 accepted without pyproj; the listing is the command's whole output
    code = ("import contextlib, io\nfrom zlgis.cli import main\nout = io.StringIO()\n"
            "with contextlib.redirect_stdout(out):\n"
            f"    code = main(['layers', '--catalog', {str(demo_city / 'catalog.yaml')!r}])\n"
            "assert code == 0 and '巡查记录' in out.getvalue(), out.getvalue()")
    assert _imported(code) == []
