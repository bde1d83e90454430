"""zlgis.publish.template_cache: compiled Jinja templates kept on disk, pages unchanged."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

#: A map page (folium's templates and ours) and a template of our own, in a fresh process.
PAGE = """
import sys, tempfile, pathlib, jinja2
calls = []
original = jinja2.Environment._compile
def counted(self, source, filename):
    calls.append(filename)
    return original(self, source, filename)
jinja2.Environment._compile = counted  # before folium compiles its templates
import geopandas as gpd
from shapely.geometry import Point
from zlgis.catalog import Catalog
from zlgis.publish.maps import build_map, save_map
toilets = gpd.GeoDataFrame({"toilet_id": ["T1"], "name": ["中央街公厕"]},
                           geometry=[Point(612000, 5320000)], crs="EPSG:4550")
m = build_map({"toilets": toilets}, None, catalog=Catalog.load(), basemap="none", title="示例")
p = save_map(m, pathlib.Path(tempfile.mkdtemp()) / "map.html", assets="cdn")
own = jinja2.Template("{% for i in xs %}<{{ i }}>{% endfor %}").render(xs=[1, 2])
sys.stdout.write(f"{len(calls)}\\n{own}\\n" + p.read_text(encoding="utf-8"))
"""


def _page(cache: Path) -> tuple[int, str]:
    env = {**os.environ, "ZLGIS_CACHE_DIR": str(cache), "PYTHONPATH": str(ROOT)}
    out = subprocess.run([sys.executable, "-c", PAGE], env=env, capture_output=True,
                         text=True, check=True, cwd=ROOT).stdout
    compiled, rest = out.split("\n", 1)
    return int(compiled), rest


def test_templates_are_compiled_once_and_pages_stay_the_same(tmp_path):
    cold_compiles, cold = _page(tmp_path)
    files = sorted((tmp_path / "jinja").glob("*.bin"))
    assert cold_compiles >= 50 and len(files) >= 50      # folium's templates and ours
    warm_compiles, warm = _page(tmp_path)
    assert warm_compiles == 0                            # every template came from the cache
    assert warm == cold and cold.startswith("<1><2>\n") and "中央街公厕" in cold
    assert sorted((tmp_path / "jinja").glob("*.bin")) == files


def test_unreadable_cache_files_are_compiled_again(tmp_path):
    _, first = _page(tmp_path)
    for f in (tmp_path / "jinja").glob("*.bin"):
        f.write_bytes(b"not marshal data")
    compiles, again = _page(tmp_path)
    assert compiles >= 50 and again == first
    _, third = _page(tmp_path)                           # rewritten by the run before
    assert third == first

