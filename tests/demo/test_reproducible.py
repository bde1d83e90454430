"""Reproducibility of the generator, the CLI ``zlgis demo-data`` and the thin script."""

from __future__ import annotations

import hashlib
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest
import shapely

from zlgis.catalog import Catalog
from zlgis.cli import main
from zlgis.demo import ensure_demo_city, make_demo_city
from zlgis.errors import InputError
from zlgis.validate import load_layers

ROOT = Path(__file__).resolve().parents[2]


def layer_hashes(catalog_path: Path, ids: list[str] | None = None) -> dict[str, str]:
    """Hash of every loaded layer's geometries (WKB) and attributes."""
    cat = Catalog.load(catalog_path)
    ids = ids or [lid for lid, s in cat.layers.items() if s.kind != "raster"]
    out = {}
    for lid, gdf in load_layers(cat, ids).items():
        h = hashlib.sha1()
        h.update(b"".join(shapely.to_wkb(gdf.geometry.values, output_dimension=2)))
        h.update(pd.util.hash_pandas_object(gdf.drop(columns="geometry").astype(str),
                                            index=False).to_numpy().tobytes())
        out[lid] = h.hexdigest()
    out["dem"] = hashlib.sha1(cat["dem"].path.read_bytes()).hexdigest()
    out["truth"] = hashlib.sha1((catalog_path.parent / "truth.csv").read_bytes()).hexdigest()
    return out


@pytest.fixture(scope="module")
def small_cities(tmp_path_factory):
    """Two small cities with seed 7 and one with seed 8.

    The first comes from the CLI in another process with another string-hash seed, the others
    from the API in this process: the same seed must not depend on either.
    """
    import os

    base = tmp_path_factory.mktemp("demo")
    env = {**os.environ, "PYTHONHASHSEED": "12345"}
    r = subprocess.run([sys.executable, "-m", "zlgis", "demo-data", "--out", str(base / "a"),
                        "--seed", "7", "--buildings", "2000", "--quiet"],
                       capture_output=True, text=True, timeout=600, env=env, cwd=ROOT)
    assert r.returncode == 0, r.stderr
    assert r.stdout.strip().endswith("catalog.yaml")
    b = make_demo_city(base / "b", seed=7, n_buildings=2000)
    c = make_demo_city(base / "c", seed=8, n_buildings=2000)
    return base / "a" / "catalog.yaml", b, c


def test_same_seed_same_features(small_cities):
    a, b, _ = small_cities
    ha, hb = layer_hashes(a), layer_hashes(b)
    assert ha == hb


def test_other_seed_other_features(small_cities):
    a, _, c = small_cities
    ha, hc = layer_hashes(a), layer_hashes(c)
    assert ha["buildings"] != hc["buildings"] and ha["truck_pings"] != hc["truck_pings"]
    assert len(load_layers(Catalog.load(c), ["buildings"])["buildings"]) >= 2000


def test_catalog_of_the_generated_city_works_everywhere(small_cities):
    a, _, _ = small_cities
    cat = Catalog.load(a)
    assert cat.data_dir == a.parent.resolve()
    assert not cat.missing_required()
    text = a.read_text(encoding="utf-8")
    assert "合成示例数据" in text.splitlines()[0]
    readme = (a.parent / "README.txt").read_text(encoding="utf-8")
    assert "合成示例数据" in readme and "SYNTHETIC" in readme


def test_cli_rejects_bad_arguments(tmp_path, capsys):
    with pytest.raises(SystemExit) as exc:
        main(["demo-data", "--out", str(tmp_path / "x"), "--buildings", "12"])
    assert exc.value.code == 2
    assert "建筑数量至少为 1000" in capsys.readouterr().err
    (tmp_path / "file").write_text("x")
    rc = main(["demo-data", "--out", str(tmp_path / "file"), "--buildings", "1000"])
    assert rc == 2
    err = capsys.readouterr().err
    assert "不是文件夹" in err and "Traceback" not in err
    with pytest.raises(InputError):
        make_demo_city(tmp_path / "y", n_buildings=10)


def test_script_is_a_thin_wrapper():
    r = subprocess.run([sys.executable, str(ROOT / "scripts" / "make_demo_city.py"), "--help"],
                       capture_output=True, text=True, timeout=120)
    assert r.returncode == 0 and "--buildings" in r.stdout


def test_ensure_demo_city_uses_the_existing_folder(demo_city, monkeypatch):
    monkeypatch.setenv("ZLGIS_DEMO_DIR", str(demo_city))
    before = (demo_city / "catalog.yaml").stat().st_mtime_ns
    assert ensure_demo_city() == demo_city / "catalog.yaml"
    assert (demo_city / "catalog.yaml").stat().st_mtime_ns == before


def test_benchmark_size_has_a_big_road_graph():
    """``--buildings 1000000`` lays out a street lattice of more than 200,000 crossings."""
    import numpy as np

    from zlgis.demo._common import make_frame, rng_for
    from zlgis.demo.roads import build_lattice

    lat = build_lattice(make_frame(2022, 1_000_000), rng_for(2022, 1))
    s = lat.seg[lat.seg["keep"]]
    nodes = np.unique(np.r_[s["j0"] * len(lat.xs) + s["i0"], s["j1"] * len(lat.xs) + s["i1"]])
    assert len(nodes) >= 200_000
