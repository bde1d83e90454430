"""zlgis.io.cache: the cache folders, arrays written and read back, damaged entries absent."""

from __future__ import annotations

import numpy as np
import pytest

from zlgis.io import cache


def test_folders_follow_zlgis_cache_dir(tmp_path, monkeypatch):
    monkeypatch.setenv("ZLGIS_CACHE_DIR", str(tmp_path))
    assert cache.cache_dir("noding") == tmp_path / "noding"
    monkeypatch.delenv("ZLGIS_CACHE_DIR")
    assert cache.cache_dir("tiles").parts[-3:] == (".cache", "zlgis", "tiles")


@pytest.mark.parametrize("damage", ["missing", "not an archive", "cut short", "byte changed"])
def test_damaged_entries_read_as_absent(tmp_path, damage):
    path = tmp_path / "sub" / "k.npz"
    arrays = {"a": np.arange(50_000), "b": np.array([1.5, -2.0])}
    cache.store_arrays(path, arrays)
    back = cache.load_arrays(path)
    assert set(back) == {"a", "b"} and all((back[k] == arrays[k]).all() for k in arrays)
    good = path.read_bytes()
    if damage == "missing":
        path.unlink()
    elif damage == "not an archive":
        path.write_bytes(b"not a cache file")
    elif damage == "cut short":
        path.write_bytes(good[:len(good) // 2])
    else:
        flipped = bytearray(good)
        flipped[len(good) // 2] ^= 0xFF
        path.write_bytes(bytes(flipped))
    assert cache.load_arrays(path) is None


def test_an_unwritable_cache_is_left_alone(tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("x")
    cache.store_arrays(blocker / "k.npz", {"a": np.arange(3)})   # parent is a file: no error
    assert cache.load_arrays(blocker / "k.npz") is None


def test_geometry_hash_tells_apart_what_coordinates_alone_do_not():
    import hashlib

    import shapely

    def digest(geoms):
        h = hashlib.blake2b(digest_size=20)
        cache.hash_geometries(h, np.asarray(geoms, dtype=object))
        return h.hexdigest()

    ring = [(0, 0), (10, 0), (10, 10), (0, 10), (0, 0)]
    hole = [(2, 2), (4, 2), (4, 4), (2, 4), (2, 2)]
    lines = [shapely.LineString([(0, 0), (1, 0)]), shapely.LineString([(1, 0), (2, 0)])]
    cases = [
        [shapely.Polygon(ring, [hole])],
        [shapely.MultiPolygon([shapely.Polygon(ring), shapely.Polygon(hole)])],
        [shapely.MultiLineString([[(0, 0), (1, 0)], [(1, 0), (2, 0)]])],
        [shapely.MultiLineString([[(0, 0), (1, 0), (1, 0)], [(2, 0)] * 2])],
        lines, lines[::-1], [lines[0], None],
    ]
    digests = [digest(c) for c in cases]
    assert len(set(digests)) == len(cases)
    assert digest([shapely.Polygon(ring, [hole])]) == digests[0]      # the same: the same


def test_prune_keeps_the_most_recently_used(tmp_path):
    import os

    entries = []
    for i in range(5):
        entries.append(tmp_path / f"e{i}.json")
        entries[-1].write_text("{}")
        entries[-1].with_suffix(".bin").write_bytes(b"x")
        os.utime(entries[-1], ns=(i * 10**9, i * 10**9))
    os.utime(entries[0], ns=(10 * 10**9, 10 * 10**9))  # read last: recently used
    cache.prune([*entries, tmp_path / "gone.json"], 2, companions=(".bin",))
    assert sorted(p.name for p in tmp_path.iterdir()) == ["e0.bin", "e0.json", "e4.bin",
                                                          "e4.json"]
