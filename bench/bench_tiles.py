"""Vector tiles of the 1M-building demo city: PMTiles written, and a z16 tile served.

Targets (issue 18): the demo city's big layers written as vector tiles in under 60 s; a z16 tile
served within 50 ms by ``zlgis serve``. Layers: buildings (z15-16, with a finding status) and
the full street network (z12-16), as the weekly internal map writes them
(:func:`zlgis.publish.tiles.write_pmtiles`, zooms and fields from ``publish.yaml``).

Baselines, in the same process:

* the same buildings written as one GeoJSON file in EPSG:4326 (pyogrio, GDAL's writer): what a
  page embedding the layer would have to carry;
* ``mapbox_vector_tile.encode`` (the library's own Python encoder,
  :func:`zlgis.publish.tiles.encode_tile_reference`) on the busiest z16 tiles, against zlgis's
  vectorised encoder on the same tiles; both decode to the same features (checked here).

Serving: ``zlgis serve`` runs as a separate process (as staff run it); a PMTiles client (the
``pmtiles`` package's reader over HTTP range requests, one keep-alive connection) fetches random
non-empty z16 tiles: once cold (header, directories and tile: what the first view costs), and as
the single range request a browser makes once the directories are cached. The bytes must equal
the archive's.

The city is /work/bench-1m when it is there (read-only; waits for its DONE file), else the
benchmark city of bench/_common.py. Output goes to /tmp.
"""

from __future__ import annotations

import gzip
import http.client
import os
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
from _common import big_demo_city

BENCH_CITY = Path(os.environ.get("ZLGIS_BENCH_1M", "/work/bench-1m"))
ROOT = Path(__file__).resolve().parents[1]


def _city(quick: bool) -> tuple[Path, str]:
    if quick:
        return big_demo_city(25_000), "demo city, 25,000 buildings"
    if BENCH_CITY.exists():
        for _ in range(720):
            if (BENCH_CITY / "DONE").exists():
                break
            time.sleep(5)
        return BENCH_CITY, str(BENCH_CITY)
    return big_demo_city(), "demo city, 1M buildings"


def _read(city: Path, name: str, columns: list[str]):
    """The layer's ``columns`` (canonical names, read under whichever alias the file uses)."""
    import pyogrio

    from zlgis.catalog import Catalog

    spec = Catalog.load(city / "catalog.yaml")[name]
    have = set(pyogrio.read_info(spec.path)["fields"])
    src = {}
    for c in columns:
        names = [c, *spec.fields[c].aliases]
        src[next(n for n in names if n in have)] = c
    df = pyogrio.read_dataframe(spec.path, columns=list(src))
    return df.rename(columns=src)


def _serve(folder: Path) -> tuple[subprocess.Popen, int]:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    proc = subprocess.Popen([sys.executable, "-m", "zlgis", "serve", str(folder), "--port", "0",
                             "--quiet"], stdout=subprocess.PIPE, text=True, env=env)
    line = proc.stdout.readline()
    m = re.search(r":(\d+)/", line)
    if not m:
        proc.kill()
        raise RuntimeError(f"zlgis serve did not start: {line!r}")
    return proc, int(m.group(1))


def _time_serving(folder: Path, archive: Path, n: int) -> dict:
    from pmtiles.reader import MmapSource, Reader, all_tiles
    from pmtiles.tile import deserialize_directory, find_tile, zxy_to_tileid

    with open(archive, "rb") as fh:
        local = Reader(MmapSource(fh))
        z16 = [(x, y) for (z, x, y), _ in all_tiles(local.get_bytes) if z == 16]
    rng = np.random.default_rng(0)
    pick = [z16[i] for i in rng.choice(len(z16), size=min(n, len(z16)), replace=False)]
    proc, port = _serve(folder)
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    url = f"/{archive.relative_to(folder).as_posix()}"

    def get_bytes(offset: int, length: int) -> bytes:
        conn.request("GET", url, headers={"Range": f"bytes={offset}-{offset + length - 1}"})
        r = conn.getresponse()
        body = r.read()
        assert r.status == 206 and len(body) == length
        return body

    cold, warm = [], []
    try:
        with open(archive, "rb") as fh:
            local = Reader(MmapSource(fh))
            for x, y in pick:
                t0 = time.perf_counter()
                data = Reader(get_bytes).get(16, x, y)       # header + directories + tile
                cold.append(time.perf_counter() - t0)
                assert data == local.get(16, x, y) and data
            # the tile's own range request (directories cached by the browser)
            hdr = local.header()
            for x, y in pick:
                tid = zxy_to_tileid(16, x, y)
                d = deserialize_directory(local.get_bytes(hdr["root_offset"],
                                                          hdr["root_length"]))
                e = find_tile(d, tid)
                while e.run_length == 0:
                    d = deserialize_directory(local.get_bytes(
                        hdr["leaf_directory_offset"] + e.offset, e.length))
                    e = find_tile(d, tid)
                t0 = time.perf_counter()
                body = get_bytes(hdr["tile_data_offset"] + e.offset, e.length)
                warm.append(time.perf_counter() - t0)
                assert body == local.get(16, x, y)
                assert gzip.decompress(body)
    finally:
        conn.close()
        proc.terminate()
        proc.wait(10)
    ms = lambda a, q: round(float(np.quantile(np.array(a) * 1000, q)), 2)  # noqa: E731
    return {"z16_tiles_in_archive": len(z16), "requests": len(pick),
            "tile_request_ms_median": ms(warm, 0.5), "tile_request_ms_p95": ms(warm, 0.95),
            "tile_request_ms_max": ms(warm, 1.0),
            "cold_tile_ms_median": ms(cold, 0.5), "cold_tile_ms_p95": ms(cold, 0.95),
            "cold_tile_ms_max": ms(cold, 1.0)}


def main(quick: bool = False) -> dict:
    import mapbox_vector_tile
    import pandas as pd
    import pyogrio
    import shapely

    from zlgis.publish.tiles import (
        building_status,
        encode_tile_reference,
        encode_tiles,
        tile_bounds,
        tile_config,
        write_pmtiles,
    )

    city, label = _city(quick)
    cfg = tile_config()["layers"]
    out = Path(tempfile.mkdtemp(prefix="tiles-bench-"))
    (out / "tiles").mkdir()
    t0 = time.perf_counter()
    b = _read(city, "buildings", ["building_id", "use", "floors"])
    roads = _read(city, "roads", ["road_id", "name", "road_class"])
    load_s = time.perf_counter() - t0
    # a week's ledger: every 40th building open, rectified or overdue in turn
    ids = b["building_id"].astype(str).to_numpy()
    sel = ids[::40]
    view = pd.DataFrame({"layer": "buildings", "feature_id": sel,
                         "status": np.resize(["new", "rectified", "overdue"], len(sel))})
    t0 = time.perf_counter()
    b["status"] = building_status(b, view)
    status_s = time.perf_counter() - t0

    t0, c0 = time.perf_counter(), time.process_time()
    tb = write_pmtiles(b, out / "tiles" / "buildings.pmtiles", layer="buildings",
                       fields=cfg["buildings"]["fields"], min_zoom=cfg["buildings"]["min_zoom"],
                       max_zoom=cfg["buildings"]["max_zoom"])
    buildings_s, buildings_cpu = time.perf_counter() - t0, time.process_time() - c0
    t0, c0 = time.perf_counter(), time.process_time()
    tr = write_pmtiles(roads, out / "tiles" / "roads.pmtiles", layer="roads",
                       fields=cfg["roads"]["fields"], min_zoom=cfg["roads"]["min_zoom"],
                       max_zoom=cfg["roads"]["max_zoom"])
    roads_s, roads_cpu = time.perf_counter() - t0, time.process_time() - c0

    # baseline 1: the buildings as GeoJSON (EPSG:4326), the embedded way
    t0, c0 = time.perf_counter(), time.process_time()
    gj = b.to_crs("EPSG:4326")
    pyogrio.write_dataframe(gj, out / "buildings.geojson", driver="GeoJSON")
    geojson_s, geojson_cpu = time.perf_counter() - t0, time.process_time() - c0
    del gj

    # baseline 2: the library's encoder on the busiest z16 tiles, same tiles with zlgis
    fields = cfg["buildings"]["fields"]
    merc = np.asarray(b.to_crs("EPSG:3857").geometry.array, dtype=object)
    tiles = encode_tiles(b, 16, layer="buildings", fields=fields, mercator=merc)
    busiest = sorted(tiles, key=lambda t: -t[3])[: (3 if quick else 10)]
    nfeat = sum(t[3] for t in busiest)
    # the reference encodes from the whole layer each time: give it only the features near
    # the chosen tiles (its cost is then the encoding itself)
    t_lib = 0.0
    for x, y, data, n in busiest:
        minx, miny, maxx, maxy = tile_bounds(16, x, y)
        near = np.flatnonzero(shapely.intersects(merc, shapely.box(minx - 50, miny - 50,
                                                                   maxx + 50, maxy + 50)))
        part = b.iloc[near]
        t0 = time.perf_counter()
        ref = encode_tile_reference(part, 16, x, y, layer="buildings", fields=fields,
                                    mercator=merc[near])
        t_lib += time.perf_counter() - t0
        a = mapbox_vector_tile.decode(data)["buildings"]["features"]
        r = mapbox_vector_tile.decode(ref)["buildings"]["features"]
        assert len(a) == len(r) == n
        assert sorted(f["properties"]["building_id"] for f in a) == \
            sorted(f["properties"]["building_id"] for f in r)
    lib_us = t_lib / nfeat * 1e6
    # zlgis's per-feature cost on the whole z16 level (all tiles at once)
    t0 = time.perf_counter()
    z16 = encode_tiles(b, 16, layer="buildings", fields=fields, mercator=merc)
    t_z16 = time.perf_counter() - t0
    z16_feats = sum(t[3] for t in z16)
    zl_us = t_z16 / z16_feats * 1e6

    serving = _time_serving(out, out / "tiles" / "buildings.pmtiles", 50 if quick else 300)
    total = buildings_s + roads_s
    res = {
        "ratio_geojson_over_tiles_buildings": round(geojson_s / buildings_s, 2),
        "ratio_geojson_over_tiles_buildings_cpu": round(geojson_cpu / buildings_cpu, 2),
        "ratio_library_over_zlgis_encoder_per_feature": round(lib_us / zl_us, 1),
        "city": label, "buildings": len(b), "roads": len(roads),
        "tiles_written_s": round(total, 1), "target_s": 60,
        "buildings_s": round(buildings_s, 1), "roads_s": round(roads_s, 1),
        "tiles_written_cpu_s": round(buildings_cpu + roads_cpu, 1),
        "buildings_cpu_s": round(buildings_cpu, 1), "roads_cpu_s": round(roads_cpu, 1),
        "geojson_buildings_cpu_s": round(geojson_cpu, 1),
        "buildings_tiles": tb.tiles, "buildings_tile_features": tb.features,
        "buildings_mb": round(tb.path.stat().st_size / 1e6, 1),
        "roads_tiles": tr.tiles, "roads_tile_features": tr.features,
        "roads_mb": round(tr.path.stat().st_size / 1e6, 1),
        "geojson_buildings_s": round(geojson_s, 1),
        "geojson_mb": round((out / "buildings.geojson").stat().st_size / 1e6, 1),
        "library_us_per_feature": round(lib_us, 1), "zlgis_us_per_feature_z16": round(zl_us, 2),
        "library_tiles_checked": len(busiest), "library_features": nfeat,
        "read_layers_s": round(load_s, 1), "status_s": round(status_s, 2),
        **serving, "target_tile_ms": 50, "out": str(out),
        "load_average": os.getloadavg()[0],
    }
    return res


if __name__ == "__main__":
    import json

    print(json.dumps(main(quick="--quick" in sys.argv), ensure_ascii=False))
