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
    # the buildings with their status: their tiles' geometry only
    assert [p.name.split("-")[0] for p in cache.glob("*.npz")] == ["buildings_shapes"]
    calls = _encodings(monkeypatch)
    write_week_tiles(tmp_path / "w2", tmp_path / "p2", big, catalog=cat, ledger_view=view,
                     min_features=0)
    assert calls == [tmp_path / "w2" / "tiles" / "buildings.pmtiles"]
    for folder in ("w", "p"):
        for p in (tmp_path / f"{folder}1" / "tiles").iterdir():
            assert p.read_bytes() == (tmp_path / f"{folder}2" / "tiles" / p.name).read_bytes()


# ------------------------------------------------------------------ the tiles' geometry kept


def _statuses(frame, seed):
    """The buildings with a status drawn at random (another week's ledger)."""
    import numpy as np

    rng = np.random.default_rng(seed)
    return frame.assign(status=rng.choice(["open", "overdue", "rectified", "none"], len(frame)))


BOPTS = {"layer": "buildings", "fields": ["building_id", "use", "status"], "min_zoom": 14,
         "max_zoom": 16}


def _shape_computations(monkeypatch) -> list:
    """Zooms whose tiles' geometry is computed from now on."""
    calls = []
    real = tiles._zoom_shapes

    def spy(geoms, z, **k):
        calls.append(z)
        return real(geoms, z, **k)

    monkeypatch.setattr(tiles, "_zoom_shapes", spy)
    return calls


def test_kept_geometry_gives_the_archive_of_a_full_encoding(cache, tmp_path, monkeypatch):
    """Week 1 keeps the tiles' geometry; week 2 (other statuses) writes only the values: its
    archive and TileSet are those of an encoding without any cache."""
    b = zl.datasets.load("district")["buildings"]
    w1, w2 = _statuses(b, 1), _statuses(b, 2)
    calls = _shape_computations(monkeypatch)
    write_pmtiles(w1, tmp_path / "w1.pmtiles", **BOPTS, cache_shapes=True)
    assert sorted(calls) == [14, 15, 16] and len(list(cache.glob("buildings_shapes-*.npz"))) == 1
    calls.clear()
    got = write_pmtiles(w2, tmp_path / "w2.pmtiles", **BOPTS, cache_shapes=True)
    assert calls == []                                  # the geometry came from the cache
    monkeypatch.undo()
    want = write_pmtiles(w2, tmp_path / "plain.pmtiles", **BOPTS)
    assert (tmp_path / "w2.pmtiles").read_bytes() == (tmp_path / "plain.pmtiles").read_bytes()
    assert {**got.__dict__, "path": None} == {**want.__dict__, "path": None}
    assert (tmp_path / "w1.pmtiles").read_bytes() != (tmp_path / "w2.pmtiles").read_bytes()


@pytest.mark.parametrize("change", ["geometry", "option", "damaged", "truncated"])
def test_kept_geometry_is_not_used_for_another_input_or_when_damaged(cache, tmp_path,
                                                                     monkeypatch, change):
    b = _statuses(zl.datasets.load("district")["buildings"], 1)
    write_pmtiles(b, tmp_path / "a.pmtiles", **BOPTS, cache_shapes=True)
    (entry,) = cache.glob("buildings_shapes-*.npz")
    frame, opts = b, dict(BOPTS)
    if change == "geometry":
        frame = _moved(b)
    elif change == "option":
        opts["min_size_px"] = 4.0
    elif change == "damaged":
        data = bytearray(entry.read_bytes())
        data[len(data) // 2] ^= 0xFF
        entry.write_bytes(bytes(data))
    else:
        entry.write_bytes(entry.read_bytes()[:5000])
    calls = _shape_computations(monkeypatch)
    write_pmtiles(frame, tmp_path / "b.pmtiles", **opts, cache_shapes=True)
    assert sorted(calls) == [14, 15, 16]
    monkeypatch.undo()
    write_pmtiles(frame, tmp_path / "plain.pmtiles", **opts)
    assert (tmp_path / "b.pmtiles").read_bytes() == (tmp_path / "plain.pmtiles").read_bytes()
    if change in ("damaged", "truncated"):    # written again, whole
        assert tile_cache.load_arrays("buildings.shapes", entry.stem.rsplit("-", 1)[1],
                                      folder=cache) is not None
