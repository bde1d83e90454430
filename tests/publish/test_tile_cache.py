"""zlgis.publish.tile_cache: archives copied from the on-disk cache are those an encoding
gives, any change of what an archive is made of misses, damaged entries are written again."""

from __future__ import annotations

import os

import _tile_fixtures as _tf  # tests/ is on sys.path (conftest)
import pytest
import shapely

import zlgis as zl
import zlgis.publish.tiles as tiles
from zlgis.publish import tile_cache
from zlgis.publish.tile_maps import write_week_tiles
from zlgis.publish.tiles import write_pmtiles

FIELDS = ["road_id", "name", "road_class"]
OPTS = {"layer": "roads", "fields": FIELDS, "min_zoom": 13, "max_zoom": 15}


@pytest.fixture()
def cache(tmp_path, monkeypatch):
    monkeypatch.setenv("ZLGIS_CACHE_DIR", str(tmp_path / "cache"))
    return tmp_path / "cache" / "tiles"


@pytest.fixture(scope="module")
def roads():
    return zl.datasets.load("district")["roads"]


def _encodings(monkeypatch) -> list:
    """Calls of the encoder from now on."""
    calls = []
    real = tiles._write_archive

    def spy(*a, **k):
        calls.append(a[1])
        return real(*a, **k)

    monkeypatch.setattr(tiles, "_write_archive", spy)
    return calls


def test_a_second_write_copies_the_archive(roads, cache, tmp_path, monkeypatch):
    plain = write_pmtiles(roads, tmp_path / "plain.pmtiles", **OPTS)
    calls = _encodings(monkeypatch)
    first = write_pmtiles(roads, tmp_path / "a.pmtiles", **OPTS, cache=True)
    second = write_pmtiles(roads, tmp_path / "b.pmtiles", **OPTS, cache=True)
    assert calls == [tmp_path / "a.pmtiles"]           # the second came from the cache
    data = (tmp_path / "plain.pmtiles").read_bytes()
    assert (tmp_path / "a.pmtiles").read_bytes() == data
    assert (tmp_path / "b.pmtiles").read_bytes() == data
    for ts in (first, second):
        assert {**ts.__dict__, "path": None} == {**plain.__dict__, "path": None}
    assert second.path == tmp_path / "b.pmtiles"
    assert len(list(cache.glob("roads-*.pmtiles"))) == 1


def _moved(frame):
    g = frame.geometry.array.copy()
    g[7] = shapely.affinity.translate(g[7], 50.0)
    return frame.set_geometry(list(g))


@pytest.mark.parametrize("change", ["geometry", "value", "option", "crs", "fields"])
def test_any_change_of_the_input_misses(roads, cache, tmp_path, monkeypatch, change):
    write_pmtiles(roads, tmp_path / "a.pmtiles", **OPTS, cache=True)
    frame, opts = roads, dict(OPTS)
    if change == "geometry":
        frame = _moved(roads)
    elif change == "value":
        frame = roads.assign(name=roads["name"].where(roads.index != roads.index[3], "新名"))
    elif change == "option":
        opts["buffer"] = 256
    elif change == "crs":
        frame = roads.set_crs(4549, allow_override=True)     # the next zone west
    else:
        opts["fields"] = FIELDS[:2]
    calls = _encodings(monkeypatch)
    write_pmtiles(frame, tmp_path / "b.pmtiles", **opts, cache=True)
    assert calls == [tmp_path / "b.pmtiles"]
    write_pmtiles(frame, tmp_path / "plain.pmtiles", **opts)
    assert (tmp_path / "b.pmtiles").read_bytes() == (tmp_path / "plain.pmtiles").read_bytes()
    assert (tmp_path / "b.pmtiles").read_bytes() != (tmp_path / "a.pmtiles").read_bytes()


@pytest.mark.parametrize("damage", ["archive", "truncated", "json", "missing"])
def test_a_damaged_entry_is_ignored_and_written_again(roads, cache, tmp_path, monkeypatch,
                                                      damage):
    write_pmtiles(roads, tmp_path / "a.pmtiles", **OPTS, cache=True)
    (archive,) = cache.glob("roads-*.pmtiles")
    meta = archive.with_suffix(".json")
    if damage == "archive":
        data = bytearray(archive.read_bytes())
        data[len(data) // 2] ^= 0xFF
        archive.write_bytes(bytes(data))
    elif damage == "truncated":
        archive.write_bytes(archive.read_bytes()[:1000])
    elif damage == "json":
        meta.write_text('{"sha256": ', encoding="utf-8")
    else:
        archive.unlink()
    calls = _encodings(monkeypatch)
    write_pmtiles(roads, tmp_path / "b.pmtiles", **OPTS, cache=True)
    assert calls == [tmp_path / "b.pmtiles"]
    good = (tmp_path / "a.pmtiles").read_bytes()
    assert (tmp_path / "b.pmtiles").read_bytes() == good
    assert archive.read_bytes() == good                   # written again
    write_pmtiles(roads, tmp_path / "c.pmtiles", **OPTS, cache=True)
    assert len(calls) == 1 and (tmp_path / "c.pmtiles").read_bytes() == good


def test_an_unwritable_cache_still_writes_the_archive(roads, tmp_path, monkeypatch):
    (tmp_path / "file").write_text("not a folder")
    monkeypatch.setenv("ZLGIS_CACHE_DIR", str(tmp_path / "file"))
    write_pmtiles(roads, tmp_path / "a.pmtiles", **OPTS, cache=True)
    write_pmtiles(roads, tmp_path / "plain.pmtiles", **OPTS)
    assert (tmp_path / "a.pmtiles").read_bytes() == (tmp_path / "plain.pmtiles").read_bytes()


def test_only_the_most_recent_archives_of_a_layer_are_kept(roads, cache, tmp_path):
    frames = [_moved(roads.iloc[: 200 + 10 * i]) for i in range(tile_cache.KEEP + 2)]
    for i, f in enumerate(frames):
        before = set(cache.glob("roads-*.json"))
        write_pmtiles(f, tmp_path / f"{i}.pmtiles", **OPTS, cache=True)
        (new,) = set(cache.glob("roads-*.json")) - before
        os.utime(new, (1000.0 * (i + 1),) * 2)     # written one after the other, in order
    write_pmtiles(roads, tmp_path / "other.pmtiles", **{**OPTS, "layer": "roads2"}, cache=True)
    kept = sorted(cache.glob("roads-*.pmtiles"))
    assert len(kept) == tile_cache.KEEP
    assert len(list(cache.glob("roads2-*.pmtiles"))) == 1
    assert {p.read_bytes() for p in kept} == {
        (tmp_path / f"{i}.pmtiles").read_bytes() for i in range(2, len(frames))}


def test_the_week_caches_all_but_the_buildings_status(cache, tmp_path, monkeypatch):
    layers = zl.datasets.load("district")
    big = {"buildings": layers["buildings"], "roads": layers["roads"]}
    view = _tf.ledger_view(layers["buildings"])
    cat = zl.datasets.catalog()
    write_week_tiles(tmp_path / "w1", tmp_path / "p1", big, catalog=cat, ledger_view=view,
                     min_features=0)
    assert [p.name.split("-")[0] for p in cache.glob("*.pmtiles")] == ["roads"]
    calls = _encodings(monkeypatch)
    write_week_tiles(tmp_path / "w2", tmp_path / "p2", big, catalog=cat, ledger_view=view,
                     min_features=0)
    assert calls == [tmp_path / "w2" / "tiles" / "buildings.pmtiles"]
    for folder in ("w", "p"):
        for p in (tmp_path / f"{folder}1" / "tiles").iterdir():
            assert p.read_bytes() == (tmp_path / f"{folder}2" / "tiles" / p.name).read_bytes()
