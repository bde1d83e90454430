"""zlgis.io.wkb: the numpy decoder of simple polygons gives exactly what GEOS would."""

from __future__ import annotations

import struct

import numpy as np
import pyarrow as pa
import shapely
from hypothesis import given, settings
from hypothesis import strategies as st

from zlgis.io.wkb import decode_simple_polygons


def tricky() -> list[object]:
    """WKB records of every kind a polygon layer may hold (None = null)."""
    nan_ring = shapely.polygons([[0, 0], [np.nan, 1], [1, 1], [0, 0]])
    geoms = [
        "POLYGON((0 0,4 0,4 3,0 3,0 0))",                       # rectangle (convex)
        "POLYGON((0 0,4 0,0 3,0 0))",                           # triangle
        "POLYGON((0 0,4 0,4 1,1 1,1 4,0 4,0 0))",               # L-shape (concave)
        "POLYGON((0 0,2 2,2 0,0 2,0 0))",                       # bow-tie (invalid)
        "POLYGON((0 0,2 6,4 0,-1 4,5 4,0 0))",                  # pentagram (winds twice)
        "POLYGON((0 0,2 0,2 0,2 2,0 2,0 0))",                   # repeated vertex
        "MULTIPOLYGON(((0 0,4 0,4 3,0 3,0 0)))",                # one part, convex
        "MULTIPOLYGON(((0 0,4 0,4 1,1 1,1 4,0 4,0 0)))",        # one part, concave
        "POLYGON((0 0,10 0,10 10,0 10,0 0),(1 1,2 1,2 2,1 1))",  # hole
        "MULTIPOLYGON(((0 0,1 0,1 1,0 0)),((5 5,6 5,6 6,5 5)))",
        "POLYGON Z((0 0 1,1 0 1,1 1 1,0 1 1,0 0 1))",
        "POINT(1 2)", "LINESTRING(0 0,1 1,2 0,3 3)", "POLYGON EMPTY",
    ]
    out: list[object] = [shapely.to_wkb(shapely.from_wkt(w)) for w in geoms]
    out.append(shapely.to_wkb(shapely.Point(3, 4).buffer(2)))        # 33-point ring
    out.append(shapely.to_wkb(shapely.box(0, 0, 1, 1), byte_order=0))  # big-endian
    out.append(shapely.to_wkb(nan_ring))
    out.append(None)
    return out


def test_decoded_rows_are_identical_to_geos() -> None:
    rng = np.random.default_rng(3)
    base = tricky()
    # many record lengths, interleaved: groups are scattered and more than eight
    extra = [shapely.to_wkb(shapely.Point(i, i).buffer(1, quad_segs=q))
             for i, q in enumerate(range(1, 12))]
    recs = [base[i] for i in rng.integers(0, len(base), 600)] + extra * 20
    recs = [recs[i] for i in rng.permutation(len(recs))]
    arr = pa.array(recs, type=pa.binary())
    ref = shapely.from_wkb(np.array(recs, dtype=object))
    res = decode_simple_polygons(arr)
    d = res.decoded
    assert d.any() and (~d).any()
    assert len({len(r) for r, ok in zip(recs, d) if ok}) > 8  # many groups, sorted apart
    assert all(shapely.to_wkb(a) == shapely.to_wkb(b) for a, b in zip(res.geoms[d], ref[d]))
    assert all(g is None for g in res.geoms[~d])
    # only 2-D single closed rings (alone or as the one part of a multi-polygon) are decoded
    assert np.isin(shapely.get_type_id(ref[d]), [3, 6]).all()
    assert (shapely.get_num_geometries(ref[d]) == 1).all()
    assert (shapely.get_num_interior_rings(shapely.get_geometry(ref[d], 0)) == 0).all()
    assert not shapely.has_z(ref[d]).any()
    # convex rows are valid; bounds are GEOS's wherever they are finite
    assert shapely.is_valid(ref[res.convex]).all() and not res.convex[~d].any()
    fin = d & np.isfinite(res.bounds).all(axis=1)
    assert np.array_equal(res.bounds[fin], shapely.bounds(ref[fin]))
    assert np.isnan(res.bounds[~fin]).all()
    nan_rows = [i for i, r in enumerate(recs) if r == base[-2]]
    assert nan_rows and d[nan_rows].all() and not res.convex[nan_rows].any()


def test_not_decoded_kinds() -> None:
    res = decode_simple_polygons(pa.array(tricky(), type=pa.binary()))
    assert res.decoded.tolist() == [True] * 8 + [False] * 6 + [True, False, True, False]
    assert res.convex.tolist()[:8] == [True, True, False, False, False, False, True, False]
    assert [g.geom_type for g in res.geoms[6:8]] == ["MultiPolygon"] * 2


def test_unclosed_ring_left_to_geos() -> None:
    # little-endian Polygon, 1 ring, 4 points, last point differs from the first
    pts = [(0.0, 0.0), (1.0, 0.0), (1.0, 1.0), (0.0, 1.0)]
    rec = struct.pack("<BIII", 1, 3, 1, 4) + b"".join(struct.pack("<dd", *p) for p in pts)
    res = decode_simple_polygons(pa.array([rec, shapely.to_wkb(shapely.box(0, 0, 1, 1))]))
    assert res.decoded.tolist() == [False, True]


def test_sliced_and_large_binary_arrays() -> None:
    recs = tricky()
    ref = decode_simple_polygons(pa.array(recs, type=pa.binary()))
    for arr in (pa.array(recs, type=pa.binary()).slice(2),
                pa.array(recs, type=pa.large_binary()).slice(2)):
        res = decode_simple_polygons(arr)
        assert np.array_equal(res.decoded, ref.decoded[2:])
        assert np.array_equal(res.convex, ref.convex[2:])
        assert np.array_equal(res.bounds, ref.bounds[2:], equal_nan=True)
        assert [None if g is None else shapely.to_wkb(g) for g in res.geoms] == [
            None if g is None else shapely.to_wkb(g) for g in ref.geoms[2:]]
    assert decode_simple_polygons(None).decoded.tolist() == []
    assert not decode_simple_polygons(pa.array(["x"])).decoded.any()  # not binary


def test_rare_lengths_among_many_left_to_geos() -> None:
    """With many distinct record lengths, lengths of fewer than 16 rows are not decoded."""
    rings = [shapely.Point(0, 0).buffer(1, quad_segs=q) for q in range(2, 41)]
    recs = [shapely.to_wkb(g) for g in rings] + [shapely.to_wkb(shapely.box(0, 0, 1, 1))] * 20
    res = decode_simple_polygons(pa.array(recs))
    assert res.decoded.tolist() == [False] * 39 + [True] * 20


@settings(max_examples=200, deadline=None)
@given(st.lists(st.lists(st.tuples(st.integers(-4, 4), st.integers(-4, 4)), min_size=3,
                         max_size=12), min_size=1, max_size=6))
def test_convex_proof_never_contradicts_geos(rings) -> None:
    """Random small rings (collinear, repeated, crossing, winding twice): a ring proved convex
    is valid for GEOS, and every decoded polygon is the one GEOS parses."""
    recs = [shapely.to_wkb(shapely.polygons(r + [r[0]])) for r in rings]
    res = decode_simple_polygons(pa.array(recs))
    ref = shapely.from_wkb(np.array(recs, dtype=object))
    assert res.decoded.all()
    assert shapely.is_valid(ref[res.convex]).all()
    assert [shapely.to_wkb(g) for g in res.geoms] == [shapely.to_wkb(g) for g in ref]
