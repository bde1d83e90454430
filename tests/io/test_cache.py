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
