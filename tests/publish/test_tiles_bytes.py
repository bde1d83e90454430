"""The archives of zlgis.publish.tiles stay byte for byte those of the encoder of main 6dcc4bc
(round 5: geometry read as coordinates where a pair is one ring, tile ids computed with NumPy,
the weekly archives unchanged). The digests below are of archives written by that encoder on
the frames built here; a change of the encoding that is meant must update them, with the
reason in its commit."""

from __future__ import annotations

import functools
import hashlib

import _tile_fixtures as _tf  # tests/ is on sys.path (conftest)
import geopandas as gpd
import numpy as np
import pytest
import shapely
from shapely.geometry import LineString, MultiLineString, MultiPoint, Point, Polygon, box

import zlgis as zl
from zlgis.publish.tiles import building_status, write_pmtiles

#: sha256 (first 16 hex digits) of each archive written by main 6dcc4bc.
DIGESTS = {
    "buildings": "4ed5cb72af50f3ca",
    "roads": "904133c652cba032",
    "mixed_polygons": "7d61ad5c4c4a4835",
    "mixed_lines": "a0d2ae68feb7ab27",
    "points": "e1420a9033ebf53a",
    "raw_buildings": "13d1aa33582da0e8",
}


def _mixed_polygons() -> gpd.GeoDataFrame:
    """Polygons with holes, multipolygons, polygons crossing many tiles, slivers, repeated and
    collinear points, rings wound both ways, empty and missing geometries."""
    rng = np.random.default_rng(5)
    x0, y0 = 479500.0, 5314600.0
    geoms, names = [], []
    for i in range(400):
        x, y = x0 + rng.uniform(0, 3000), y0 + rng.uniform(0, 3200)
        w, h = rng.uniform(2, 300), rng.uniform(2, 300)
        k = i % 8
        if k == 0:
            g = box(x, y, x + w, y + h).difference(box(x + w / 4, y + h / 4, x + w / 2,
                                                       y + h / 2))
        elif k == 1:
            g = shapely.MultiPolygon([box(x, y, x + w, y + h),
                                      box(x + 2 * w, y, x + 3 * w, y + h / 3)])
        elif k == 2:
            g = Polygon([(x, y), (x + w, y), (x + w, y), (x + w, y + h), (x + w / 2, y + h),
                         (x, y + h), (x, y)])                     # repeated point
        elif k == 3:
            g = Polygon([(x, y), (x, y + h), (x + w, y + h), (x + w, y)])   # clockwise
        elif k == 4:
            t = np.linspace(0, 2 * np.pi, 40, endpoint=False)
            g = Polygon(np.column_stack([x + w * np.cos(t), y + h * np.sin(t)]))
        elif k == 5:
            g = box(x, y, x + 0.05, y + h)                        # a sliver
        elif k == 6:
            g = None if i % 16 == 6 else Polygon()
        else:
            g = box(x - 900, y - 900, x + 900, y + 900).difference(box(x - 10, y - 10,
                                                                       x + 10, y + 10))
        geoms.append(g)
        names.append(None if i % 5 == 0 else f"面{i % 37}")
    return gpd.GeoDataFrame({"pid": np.arange(len(geoms)), "name": names,
                             "area": [round(float(v), 1) if v == v else None
                                      for v in rng.uniform(0, 1e4, len(geoms))]},
                            geometry=geoms, crs="EPSG:4550")


def _mixed_lines() -> gpd.GeoDataFrame:
    rng = np.random.default_rng(7)
    x0, y0 = 479500.0, 5314600.0
    geoms = []
    for i in range(500):
        pts = np.cumsum(rng.normal(0, 60 if i % 4 else 700, (int(rng.integers(2, 30)), 2)),
                        axis=0) + [x0 + rng.uniform(0, 3000), y0 + rng.uniform(0, 3200)]
        k = i % 6
        if k == 0:
            geoms.append(MultiLineString([pts, pts[::-1] + 500]))
        elif k == 1:
            geoms.append(LineString(np.repeat(pts, 2, axis=0)))      # every point twice
        elif k == 2 and i % 12 == 2:
            geoms.append(None)
        else:
            geoms.append(LineString(pts))
    return gpd.GeoDataFrame({"lid": [f"L{i}" for i in range(len(geoms))],
                             "cls": rng.choice(["主干路", "次干路", "支路", ""], len(geoms))},
                            geometry=geoms, crs="EPSG:4550")


def _points() -> gpd.GeoDataFrame:
    rng = np.random.default_rng(9)
    xy = rng.uniform(0, 3000, (300, 2)) + [479500.0, 5314600.0]
    geoms = [MultiPoint([p, p + 5, p + 5000]) if i % 7 == 0 else Point(p)
             for i, p in enumerate(xy)]
    return gpd.GeoDataFrame({"n": rng.integers(0, 5, len(geoms))}, geometry=geoms,
                            crs="EPSG:4550")


@functools.lru_cache(maxsize=1)
def _district() -> tuple[gpd.GeoDataFrame, gpd.GeoDataFrame]:
    layers = zl.datasets.load("district")
    b = layers["buildings"]
    return b.assign(status=building_status(b, _tf.ledger_view(b))), layers["roads"]


_BF = ["building_id", "use", "floors", "status"]
#: name -> (frame, write_pmtiles options)
_FRAMES = {
    "buildings": (lambda: _district()[0], {"layer": "buildings", "fields": _BF,
                                           "min_zoom": 13, "max_zoom": 17}),
    "roads": (lambda: _district()[1], {"layer": "roads", "fields": ["road_id", "name",
                                                                     "road_class"],
                                       "min_zoom": 10, "max_zoom": 16}),
    "mixed_polygons": (_mixed_polygons, {"layer": "areas", "fields": ["pid", "name", "area"],
                                         "min_zoom": 11, "max_zoom": 16}),
    "mixed_lines": (_mixed_lines, {"layer": "lines", "fields": ["lid", "cls"],
                                   "min_zoom": 11, "max_zoom": 16}),
    "points": (_points, {"layer": "pts", "fields": ["n"], "min_zoom": 12, "max_zoom": 15}),
    "raw_buildings": (lambda: _district()[0], {"layer": "buildings", "fields": _BF,
                                               "min_zoom": 16, "max_zoom": 16,
                                               "compress": False}),
}


def _frames() -> dict[str, tuple[gpd.GeoDataFrame, dict]]:
    return {k: (make(), kw) for k, (make, kw) in _FRAMES.items()}


@pytest.mark.parametrize("name", sorted(DIGESTS))
def test_archive_bytes_are_those_of_the_previous_encoder(name, tmp_path):
    make, kw = _FRAMES[name]
    frame = make()
    out = tmp_path / f"{name}.pmtiles"
    info = write_pmtiles(frame, out, **kw)
    assert info.tiles > 3
    assert hashlib.sha256(out.read_bytes()).hexdigest()[:16] == DIGESTS[name]


@pytest.mark.parametrize("name", sorted(DIGESTS))
def test_archive_bytes_from_kept_tile_geometry(name, tmp_path, monkeypatch):
    """The tiles' geometry kept on disk (``cache_shapes``), then read back: the same bytes."""
    monkeypatch.setenv("ZLGIS_CACHE_DIR", str(tmp_path / "cache"))
    make, kw = _FRAMES[name]
    frame = make()
    for run in ("cold", "warm"):
        out = tmp_path / f"{name}-{run}.pmtiles"
        write_pmtiles(frame, out, **kw, cache_shapes=True)
        assert hashlib.sha256(out.read_bytes()).hexdigest()[:16] == DIGESTS[name], run
    assert len(list((tmp_path / "cache" / "tiles").glob("*.npz"))) == 1


def test_tile_ids_are_those_of_pmtiles():
    from pmtiles.tile import zxy_to_tileid

    from zlgis.publish.tiles import tile_ids

    rng = np.random.default_rng(3)
    for z in range(23):
        n = 1 << z
        x = np.r_[0, n - 1, 0, n - 1, rng.integers(0, n, 300)]
        y = np.r_[0, 0, n - 1, n - 1, rng.integers(0, n, 300)]
        got = tile_ids(z, x, y)
        assert got.tolist() == [zxy_to_tileid(z, int(a), int(b)) for a, b in zip(x, y)]


def _varints_python(values) -> tuple[list[int], list[int]]:
    out, counts = [], []
    for i in values:
        n = 0
        while True:
            b, i = i & 0x7F, i >> 7
            out.append(b | 0x80 if i else b)
            n += 1
            if not i:
                break
        counts.append(n)
    return out, counts


def test_varints_are_protobuf_varints():
    from zlgis.publish.tiles import _varints

    rng = np.random.default_rng(11)
    edges = [0, 1, 127, 128, 16383, 16384, 2**21 - 1, 2**21, 2**28 - 1, 2**28, 2**35 - 1]
    for v in [rng.integers(0, 2**35, 5000), rng.integers(0, 300, 999).astype(np.uint32),
              rng.integers(0, 16384, 999).astype(np.uint32), np.array(edges),
              np.zeros(0, dtype=np.int64), np.array([5])]:
        data, n = _varints(v)
        ref, counts = _varints_python(v.tolist())
        assert data.tolist() == ref and n.tolist() == counts


def test_arrow_strings_encode_as_python_strings():
    """Values of a pyarrow-backed string column read from the Arrow buffers give the codes and
    encoded values the per-string path gives (blank texts, as ``str.strip`` sees them, have no
    value)."""
    import pandas as pd

    from zlgis.publish.tiles import _columns

    texts = ["", " ", "\u3000", "\x1c", "\x85", "\xa0", "\u2028\u205f", " a", "a ", "\xa0x",
             "\u3001顿号", "路", "建筑 1", "🙂", "x" * 300, "道" * 200, None, "路"]
    rng = np.random.default_rng(2)
    values = [texts[i] for i in rng.integers(0, len(texts), 2000)] + texts
    arrow = pd.DataFrame({"f": pd.Series(values, dtype="string[pyarrow]")})
    plain = pd.DataFrame({"f": pd.Series(values, dtype=object)})
    sliced = pd.DataFrame({"f": pd.Series(values, dtype="string[pyarrow]").iloc[7:]})
    for a, b in ((arrow, plain), (sliced, plain.iloc[7:])):
        (_, ca, va), = _columns(a, ["f"])
        (_, cb, vb), = _columns(b, ["f"])
        assert ca.tolist() == cb.tolist()
        for k in ("data", "start", "length"):
            assert getattr(va, k).tolist() == getattr(vb, k).tolist()
    assert (ca == -1).sum() > 100      # the blank ones


@pytest.mark.parametrize("name", ["buildings", "roads", "mixed_polygons", "mixed_lines",
                                  "points", "3d"])
def test_mercator_geometries_are_those_of_shapely_transform(name):
    """Layers of plain lines or polygons are built from their projected coordinates at once;
    every layer gives the WKB shapely.transform gives."""
    from pyproj import Transformer

    from zlgis.publish.tiles import _mercator

    if name == "3d":
        frame = gpd.GeoDataFrame(geometry=[Polygon([(479600, 5314700, 1), (479700, 5314700, 2),
                                                    (479700, 5314800, 3)])], crs="EPSG:4550")
    else:
        frame = _FRAMES[name][0]()
    tr = Transformer.from_crs(frame.crs, "EPSG:3857", always_xy=True)
    ref = shapely.transform(np.asarray(frame.geometry.array, dtype=object),
                            lambda c: np.column_stack(tr.transform(c[:, 0], c[:, 1])))
    got = _mercator(frame.geometry)
    assert shapely.to_wkb(got).tolist() == shapely.to_wkb(ref).tolist()
