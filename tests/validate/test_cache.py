"""zlgis.validate.cache: validated layers kept between runs, read again whenever an input changed."""

from __future__ import annotations

import dataclasses
import importlib
import json
import os
import shutil
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pyogrio
import pytest
import shapely
import yaml
from geopandas.testing import assert_geodataframe_equal

from zlgis.catalog import DEFAULT_CATALOG, Catalog
from zlgis.errors import UnreadableInputError
from zlgis.validate import read_layer
from zlgis.validate.cache import KEEP, fingerprint_files, layer_key

load_module = importlib.import_module("zlgis.validate.load")
cache_module = importlib.import_module("zlgis.validate.cache")


@pytest.fixture
def cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    folder = tmp_path / "cache"
    monkeypatch.setenv("ZLGIS_CACHE_DIR", str(folder))
    return folder / "layers"


@pytest.fixture
def no_validation(monkeypatch: pytest.MonkeyPatch):
    """Makes reading a layer from its file fail: what is still returned came from the cache."""
    def refuse() -> None:
        def fail(*args, **kwargs):
            raise AssertionError("read from the file, not from the cache")
        monkeypatch.setattr(load_module, "validate_frame", fail)
    return refuse


def _same(a, b) -> None:
    assert_geodataframe_equal(a.gdf, b.gdf, check_less_precise=False)
    assert a.gdf.dtypes.to_dict() == b.gdf.dtypes.to_dict()
    assert a.gdf.crs == b.gdf.crs
    assert shapely.to_wkb(a.gdf.geometry.array).tolist() == \
        shapely.to_wkb(b.gdf.geometry.array).tolist()  # vertex order and types too
    pd.testing.assert_frame_equal(a.issues, b.issues)
    pd.testing.assert_frame_equal(a.rejected, b.rejected)
    assert a.rows_in == b.rows_in and np.array_equal(a.rows, b.rows)
    assert (a.source_crs, a.driver, a.encoding, a.title) == \
        (b.source_crs, b.driver, b.encoding, b.title)


def test_every_demo_layer_comes_back_as_validated(demo_catalog: Catalog, cache: Path,
                                                  no_validation) -> None:
    ids = [lid for lid, s in demo_catalog.layers.items()
           if s.kind != "raster" and not s.derived and s.readable]
    fresh = {lid: read_layer(demo_catalog, lid, cache=True) for lid in ids}  # read, kept
    assert len(list(cache.glob("*/*.pickle"))) == len(ids)
    no_validation()
    for lid in ids:
        _same(read_layer(demo_catalog, lid, cache=True), fresh[lid])  # from the cache


def _city(folder: Path) -> Catalog:
    """A boundary and three public toilets (one a duplicate id) in EPSG:4550."""
    x, y = 480_601.0, 5_319_572.0
    raw = yaml.safe_load(DEFAULT_CATALOG.read_text(encoding="utf-8"))
    raw["data_dir"] = "."
    raw["layers"] = {lid: {**raw["layers"][lid], "path": f"{lid}.gpkg", "layer": lid}
                     for lid in ("boundary", "toilets")}
    pyogrio.write_dataframe(gpd.GeoDataFrame(
        {"行政区划代码": ["150783"], "名称": ["扎兰屯市"]},
        geometry=[shapely.box(x - 5000, y - 5000, x + 5000, y + 5000)], crs="EPSG:4550"),
        folder / "boundary.gpkg", layer="boundary")
    pyogrio.write_dataframe(gpd.GeoDataFrame(
        {"公厕编号": ["T1", "T2", "T2"], "名称": ["北门", "南门", "重复"]},
        geometry=shapely.points([x, x + 100, x + 200], [y, y, y]), crs="EPSG:4550"),
        folder / "toilets.gpkg", layer="toilets")
    (folder / "catalog.yaml").write_text(yaml.safe_dump(raw, allow_unicode=True), "utf-8")
    return Catalog.load(folder / "catalog.yaml")


def test_a_changed_file_is_read_again(tmp_path: Path, cache: Path) -> None:
    cat = _city(tmp_path)
    first = read_layer(cat, "toilets", cache=True)
    assert (first.rows_in, len(first.gdf)) == (3, 2)  # the duplicate id is rejected, and kept
    assert read_layer(cat, "toilets", cache=True).rejected["reject_code"].tolist() == \
        ["duplicate_id"]
    gdf = gpd.read_file(tmp_path / "toilets.gpkg")
    gdf.loc[2, "公厕编号"] = "T3"
    pyogrio.write_dataframe(gdf, tmp_path / "toilets.gpkg", layer="toilets")
    again = read_layer(cat, "toilets", cache=True)
    assert (again.rows_in, len(again.gdf), len(again.rejected)) == (3, 3, 0)
    _same(again, read_layer(cat, "toilets"))


@pytest.mark.parametrize("change", ["file", "sidecar", "entry", "boundary", "config", "crs",
                                    "boundary check"])
def test_the_key_follows_every_input(tmp_path: Path, cache: Path, monkeypatch, change) -> None:
    cat = _city(tmp_path)
    before = layer_key(cat, "toilets")
    assert before is not None and before == layer_key(cat, "toilets")
    kwargs = {}
    if change == "file":
        with open(tmp_path / "toilets.gpkg", "r+b") as fh:  # one byte, same size
            fh.seek(200)
            b = fh.read(1)
            fh.seek(200)
            fh.write(bytes([b[0] ^ 1]))
    elif change == "sidecar":
        (tmp_path / "toilets.gpkg-wal").write_bytes(b"\0" * 32)
    elif change == "entry":
        cat.layers["toilets"] = dataclasses.replace(cat.layers["toilets"], title="厕所")
    elif change == "boundary":
        b = gpd.read_file(tmp_path / "boundary.gpkg")
        b.geometry = b.geometry.buffer(-10)
        pyogrio.write_dataframe(b, tmp_path / "boundary.gpkg", layer="boundary")
    elif change == "config":
        (tmp_path / "over").mkdir()
        (tmp_path / "over" / "validation.yaml").write_text("{}\n", encoding="utf-8")
        monkeypatch.setenv("ZLGIS_CONFIG_DIR", str(tmp_path / "over"))
    elif change == "crs":
        kwargs = {"crs": "EPSG:4326"}
    else:
        kwargs = {"check_boundary": False}
    assert layer_key(cat, "toilets", **kwargs) != before


def test_a_damaged_entry_is_read_again(tmp_path: Path, cache: Path) -> None:
    cat = _city(tmp_path)
    fresh = read_layer(cat, "toilets", cache=True)
    [entry] = cache.glob("*/*.pickle")
    entry.write_bytes(entry.read_bytes()[:200])
    _same(read_layer(cat, "toilets", cache=True), fresh)
    assert entry.stat().st_size > 200  # written again
    entry.write_bytes(b"not a pickle")
    _same(read_layer(cat, "toilets", cache=True), fresh)


def test_an_entry_others_may_write_is_not_trusted(tmp_path: Path, cache: Path,
                                                  no_validation) -> None:
    cat = _city(tmp_path)
    fresh = read_layer(cat, "toilets", cache=True)
    [entry] = cache.glob("*/*.pickle")
    assert entry.stat().st_mode & 0o077 == 0  # written for the user only
    entry.chmod(0o666)
    with pytest.raises(AssertionError, match="not from the cache"):
        no_validation()
        read_layer(cat, "toilets", cache=True)
    entry.chmod(0o600)
    _same(read_layer(cat, "toilets", cache=True), fresh)


@pytest.mark.parametrize("read_apart", [False, True])
def test_a_file_changed_while_it_is_read_is_not_kept(tmp_path: Path, cache: Path, monkeypatch,
                                                    request, read_apart: bool) -> None:
    if read_apart:
        request.getfixturevalue("apart")
    cat = _city(tmp_path)
    validate = load_module.validate_frame

    def meanwhile(*args, **kwargs):  # the file is replaced while the layer is validated
        (tmp_path / "toilets.gpkg-wal").write_bytes(b"\0" * 32)
        return validate(*args, **kwargs)

    monkeypatch.setattr(load_module, "validate_frame", meanwhile)
    assert len(read_layer(cat, "toilets", cache=True).gdf) == 2
    assert not list(cache.glob("*/*.pickle"))


def _read_apart(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Every layer is read and validated in a process of its own (``run.validate_apart_mb``)."""
    (tmp_path / "apart").mkdir()
    (tmp_path / "apart" / "ledger.yaml").write_text("run:\n  validate_apart_mb: 0\n")
    monkeypatch.setenv("ZLGIS_CONFIG_DIR", str(tmp_path / "apart"))


@pytest.fixture
def apart(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    _read_apart(tmp_path, monkeypatch)


@pytest.fixture
def validated_in(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    """Notes the process of each validation; call it for the process ids so far."""
    validate, pids = load_module.validate_frame, tmp_path / "pids"

    def noted(*args, **kwargs):
        with open(pids, "a") as fh:
            fh.write(f"{os.getpid()}\n")
        return validate(*args, **kwargs)

    monkeypatch.setattr(load_module, "validate_frame", noted)
    return lambda: set(pids.read_text().split())


def test_a_large_layer_is_validated_in_a_process_of_its_own(tmp_path: Path, cache: Path, apart,
                                                           validated_in, no_validation) -> None:
    cat = _city(tmp_path)
    got = read_layer(cat, "toilets", cache=True)
    pids = validated_in()  # the layer and the city boundary
    assert len(pids) == 1 and str(os.getpid()) not in pids
    [entry] = cache.glob("*/*.pickle")
    _same(got, read_layer(cat, "toilets"))
    no_validation()
    _same(read_layer(cat, "toilets", cache=True), got)


def test_a_large_layer_that_cannot_be_kept_comes_back_from_its_process(
        tmp_path: Path, cache: Path, apart, validated_in, monkeypatch) -> None:
    cat = _city(tmp_path)
    monkeypatch.setattr(cache_module, "_store", lambda *args: False)  # a cache not writable
    got = read_layer(cat, "toilets", cache=True)
    assert str(os.getpid()) not in validated_in()  # validated once, over there
    _same(got, read_layer(cat, "toilets"))


def test_a_large_layer_that_cannot_be_read_raises_the_same_error(tmp_path: Path, cache: Path,
                                                                  monkeypatch) -> None:
    cat = _city(tmp_path)
    (tmp_path / "toilets.gpkg").write_bytes(b"SQLite format 3\0" + b"\1" * 4000)
    with pytest.raises(UnreadableInputError) as here:
        read_layer(cat, "toilets", cache=True)
    _read_apart(tmp_path, monkeypatch)
    with pytest.raises(UnreadableInputError) as apart:
        read_layer(cat, "toilets", cache=True)
    assert (str(apart.value), apart.value.path, apart.value.layer) == \
        (str(here.value), here.value.path, here.value.layer)
    assert "toilets.gpkg" in str(here.value.path) and not list(cache.glob("*/*.pickle"))


def test_each_layer_keeps_its_newest_entries(tmp_path: Path, cache: Path) -> None:
    cat = _city(tmp_path)
    src = tmp_path / "toilets.gpkg"
    keep = src.with_suffix(".orig")
    shutil.copy(src, keep)
    for n in range(KEEP + 2):
        gdf = gpd.read_file(keep)
        gdf.loc[0, "名称"] = f"北门{n}"
        pyogrio.write_dataframe(gdf, src, layer="toilets")
        assert read_layer(cat, "toilets", cache=True).gdf["name"].iloc[0] == f"北门{n}"
    assert len(list(cache.glob("*/*.pickle"))) == KEEP


def test_database_layers_and_missing_files_are_not_cached(tmp_path: Path, cache: Path) -> None:
    cat = _city(tmp_path)
    spec = cat.layers["toilets"]
    cat.layers["toilets"] = dataclasses.replace(spec, database={"url": "postgresql:///x"})
    assert layer_key(cat, "toilets") is None
    cat.layers["toilets"] = spec
    (tmp_path / "toilets.gpkg").unlink()
    assert layer_key(cat, "toilets") is None
    assert fingerprint_files(tmp_path / "boundary.gpkg") != fingerprint_files(tmp_path)


def _digest_calls(monkeypatch) -> list[str]:
    """The files hashed from here on."""
    calls: list[str] = []
    real = cache_module.hashlib.file_digest

    def counted(fh, name):
        calls.append(fh.name)
        return real(fh, name)
    monkeypatch.setattr(cache_module.hashlib, "file_digest", counted)
    return calls


def test_a_files_digest_is_remembered_until_the_file_changes(tmp_path: Path, cache: Path,
                                                              monkeypatch) -> None:
    monkeypatch.setattr(cache_module, "RACY_SECONDS", 0.0)
    cat = _city(tmp_path)
    key = layer_key(cat, "toilets")
    calls = _digest_calls(monkeypatch)
    cache_module._DIGESTS.clear()  # as a new process: from digests.json
    assert layer_key(cat, "toilets") == key and calls == []
    with open(tmp_path / "toilets.gpkg", "r+b") as fh:  # one byte, same size
        fh.seek(200)
        b = fh.read(1)
        fh.seek(200)
        fh.write(bytes([b[0] ^ 1]))
    assert layer_key(cat, "toilets") != key
    assert calls == [str(tmp_path / "toilets.gpkg")]


def test_a_digest_taken_just_after_a_change_is_not_remembered(tmp_path: Path, cache: Path,
                                                              monkeypatch) -> None:
    monkeypatch.setattr(cache_module, "RACY_SECONDS", 3600.0)  # however slow the machine
    cat = _city(tmp_path)  # the files were written just now
    key = layer_key(cat, "toilets")
    calls = _digest_calls(monkeypatch)
    assert layer_key(cat, "toilets") == key
    assert sorted(calls) == [str(tmp_path / "boundary.gpkg"), str(tmp_path / "toilets.gpkg")]
    assert not (cache / "digests.json").exists()


@pytest.mark.parametrize("mode", [0o600, 0o666])
def test_remembered_digests_others_may_write_are_not_trusted(tmp_path: Path, cache: Path,
                                                             monkeypatch, mode) -> None:
    monkeypatch.setattr(cache_module, "RACY_SECONDS", 0.0)
    path = tmp_path / "toilets.gpkg"
    path.write_bytes(b"layer")
    truth = fingerprint_files(path)
    memo = cache / "digests.json"
    known = json.loads(memo.read_text())
    known[str(path.resolve())][-1] = "0" * 64  # a forged digest for the same file
    memo.write_text(json.dumps(known))
    memo.chmod(mode)
    cache_module._DIGESTS.clear()
    assert (fingerprint_files(path) == truth) == (mode == 0o666)
