"""Assemble the demo city: generate every layer, the DEM and the truth table, write a catalog."""

from __future__ import annotations

import json
import os
import time
from collections.abc import Callable
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
import yaml
from pyproj import Transformer

from .._progress import Progress
from ..catalog import DEFAULT_CATALOG, Catalog
from ..crs import gcj02_to_wgs84
from ..errors import CatalogError
from ..io.atomic import atomic_path, write_text_atomic
from . import buildings as _b
from . import cases as _cases
from . import compounds as _cmp
from . import dem as _dem
from . import facilities as _fac
from . import municipal as _mun
from ._common import SYNTHETIC_NOTE, Frame, Truth, make_frame, rng_for
from .places import Places, place_parks_and_lines
from .roads import Lattice, build_lattice, road_layers
from .sanitation import make_sanitation
from .trucks import TruckData, make_trucks
from .writer import write_points_table, write_vector

__all__ = ["generate", "boundary_layer", "REALDATA_BOUNDARY"]

_ROOT = Path(__file__).resolve().parents[2]
#: The real administrative boundary (GCJ-02 GeoJSON), read in place, never copied.
REALDATA_BOUNDARY = Path(os.environ.get("ZLGIS_REALDATA", _ROOT.parent / "shared" / "realdata")
                         ) / "zhalantun-boundary" / "150783.json"


def boundary_layer(frame: Frame) -> gpd.GeoDataFrame:
    """Zhalantun's boundary in EPSG:4550 (the real GCJ-02 outline converted to WGS84 first).

    Without the real-data folder, a clearly synthetic stand-in (the city frame buffered by
    20 km) is used.
    """
    if REALDATA_BOUNDARY.exists():
        raw = json.loads(REALDATA_BOUNDARY.read_text(encoding="utf-8"))
        geom = shapely.from_geojson(json.dumps(raw["features"][0]["geometry"]))
        t = Transformer.from_crs("EPSG:4326", "EPSG:4550", always_xy=True)

        def conv(c: np.ndarray) -> np.ndarray:
            lng, lat = gcj02_to_wgs84(c[:, 0], c[:, 1])
            x, y = t.transform(lng, lat)
            return np.column_stack([x, y])

        geom = shapely.make_valid(shapely.transform(geom, conv))
        name = "扎兰屯市"
    else:
        geom = shapely.box(*frame.bounds).buffer(20_000)
        name = "扎兰屯市（示意范围）"
    return gpd.GeoDataFrame({"code": ["150783"], "name": [name]}, geometry=[geom],
                            crs="EPSG:4550")


def _controllines_config() -> dict | None:
    try:
        from ..config import load_config
        return load_config("controllines")
    except Exception:  # noqa: BLE001 - the generator works without the control-line presets
        return None


def _facility_layers(layers: dict[str, gpd.GeoDataFrame], frame: Frame, lat: Lattice,
                     roads: gpd.GeoDataFrame, bs: _b.BuildingSet, places: Places, seed: int,
                     truth: Truth) -> None:
    """Green islands, trees, toilets, garbage, transfer stations, lamps, heat, grids, 12345."""
    layers["green_islands"] = green_islands(roads, rng_for(seed, 4))
    layers["trees"] = _fac.trees(roads, places.parks, places.purple_lines, rng_for(seed, 8))
    layers["toilets"] = _fac.toilets(lat, roads, bs, places.parks, rng_for(seed, 9), truth)
    layers["garbage_points"] = _fac.garbage_points(bs, rng_for(seed, 10))
    layers["transfer_stations"] = _fac.transfer_stations(places.yellow_lines)
    _fac.transfer_truth(lat, roads, layers["transfer_stations"], bs, truth)
    layers["street_lamps"] = _fac.street_lamps(lat, roads, bs, places.landmark_blocks,
                                               rng_for(seed, 11))
    layers["heat_stations"] = _fac.heat_stations(bs, rng_for(seed, 12))
    layers["grids"] = _fac.grids(frame, (lat.xs.min() - 100, lat.ys.min() - 100,
                                         lat.xs.max() + 100, lat.ys.max() + 100),
                                 rng_for(seed, 13))
    layers["hotline_cases"] = _fac.hotline_cases(bs, roads, rng_for(seed, 14))


def _municipal_layers(layers: dict[str, gpd.GeoDataFrame], roads: gpd.GeoDataFrame,
                      bs: _b.BuildingSet, places: Places, seed: int, mun_truth: Truth) -> None:
    """Lamp faults, ancient trees, tree incidents, maintenance, parks, road works, defects."""
    layers["lamp_faults"] = _mun.lamp_faults(layers["street_lamps"], roads, _mun.rng_lamps(seed),
                                             mun_truth)
    layers["ancient_trees"] = _mun.ancient_trees(layers["trees"], bs.buildings,
                                                 _mun.rng_lamps(seed, 1), mun_truth)
    layers["tree_incidents"] = _mun.tree_incidents(layers["trees"], _mun.rng_lamps(seed, 2),
                                                   mun_truth)
    layers["maintenance_zones"] = _mun.maintenance_zones(layers["green_islands"], places.parks,
                                                         mun_truth)
    layers["park_facilities"] = _mun.park_facilities(places.parks, _mun.rng_lamps(seed, 3),
                                                     mun_truth)
    layers["park_zones"] = _mun.park_zones(places.parks, places.blue_lines, mun_truth)
    busy = pd.concat([layers[k] for k in ("road_works_permits", "heating_works") if k in layers])
    permits, layers["road_works"] = _mun.road_works_and_permits(
        roads, _mun.rng_lamps(seed, 4), mun_truth, busy=busy.geometry if len(busy) else None)
    # one permit layer: the heating-renewal permits and the other road works' permits
    layers["road_works_permits"] = pd.concat([layers.get("road_works_permits"), permits],
                                             ignore_index=True)
    layers["facility_defects"] = _mun.facility_defects(roads, _mun.rng_lamps(seed, 5), mun_truth)


def _point_tables(td: TruckData, tracks: pd.DataFrame) -> dict[str, pd.DataFrame]:
    """The point tables written as CSV / Excel: truck pings, sweeper tracks, patrols."""
    pings = td.pings.rename(columns={"speed": "speed_kmh"}).copy()
    pings["ping_id"] = [f"P{k + 1:07d}" for k in range(len(pings))]
    pings["time"] = pd.to_datetime(pings.pop("t")).dt.floor("s")
    patrols = td.patrols.copy()
    patrols["time"] = pd.to_datetime(patrols["time"])
    return {"truck_pings": pings, "sweeper_tracks": tracks, "patrol_observations": patrols}


def _write_layers(catalog: Catalog, out: Path, layers: dict[str, gpd.GeoDataFrame],
                  tables: dict[str, pd.DataFrame], write_dem: Callable[[Path], None]) -> None:
    """Every catalog layer into ``out`` (the DEM through ``write_dem(path)``)."""
    for lid, spec in catalog.layers.items():
        if spec.kind == "raster":
            if lid == "dem" and spec.path is not None:
                with atomic_path(out / spec.path.name) as tmp:
                    write_dem(tmp)
            continue
        name = spec.path.name if spec.path is not None else f"{lid}.gpkg"
        if lid in tables:
            write_points_table(tables[lid], spec, out / name)
            continue
        if lid not in layers:
            raise CatalogError(f"演示数据生成器不认识图层 {lid}", path=str(catalog.path))
        write_vector(layers[lid], spec, out / name)


def _write_catalog(catalog: Catalog, out: Path, seed: int, n_buildings: int) -> None:
    raw = catalog.with_data_dir(".")
    raw["name"] = f"{raw.get('name', '')}（合成示例数据）"
    text = ("# 扎兰屯演示城市（合成示例数据，非真实数据）图层目录，由 zlgis demo-data 生成\n"
            f"# seed={seed} buildings={n_buildings}\n"
            + yaml.safe_dump(raw, allow_unicode=True, sort_keys=False))
    write_text_atomic(out / "catalog.yaml", text)


def generate(out_dir: str | os.PathLike[str], *, seed: int, n_buildings: int,
             quiet: bool = True, catalog_path: str | os.PathLike[str] | None = None) -> Path:
    """Generate the city into ``out_dir``; ``catalog.yaml`` is written last."""
    t_start = time.perf_counter()
    prog = _Timed(Progress(quiet))
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    # the catalog is written last: without it a half-written folder is never taken for a city
    (out / "catalog.yaml").unlink(missing_ok=True)
    catalog = Catalog.load(catalog_path or DEFAULT_CATALOG)
    cl_config = _controllines_config()

    prog.step("生成街道网络 …")
    frame = make_frame(seed, n_buildings)
    truth = Truth()
    lat = build_lattice(frame, rng_for(seed, 1))
    places = place_parks_and_lines(lat, rng_for(seed, 2))
    roads, red = road_layers(lat)
    prog.step(f"道路 {len(roads)} 段；生成建筑 …")
    bs = _b.make_buildings(lat, places, roads, rng_for(seed, 3), truth, cl_config)
    prog.step(f"建筑 {len(bs.buildings)} 栋；生成设施 …")
    layers: dict[str, gpd.GeoDataFrame] = {
        "boundary": boundary_layer(frame), "roads": roads, "red_lines": red,
        "green_lines": places.green_lines, "blue_lines": places.blue_lines,
        "purple_lines": places.purple_lines, "yellow_lines": places.yellow_lines,
        "buildings": bs.buildings, "residential_compounds": bs.compounds,
        "construction_sites": bs.sites, "parks": places.parks}
    _facility_layers(layers, frame, lat, roads, bs, places, seed, truth)
    prog.step("生成货车轨迹 …")
    td = make_trucks(lat, roads, places, bs.sites, rng_for(seed, 5), truth)
    layers.update({"truck_no_parking_zones": td.zones, "truck_restricted_roads": td.restricted,
                   "truck_parking": td.parking, "logistics_points": td.logistics,
                   "muck_routes": td.muck_routes, "dump_sites": td.dump_sites})
    prog.step("生成高程模型 …")
    deps = _dem.plant_depressions(frame, lat)
    wl, point_ids = _fac.waterlogging_points(frame, deps, truth, rng_for(seed, 15))
    layers["waterlogging_points"] = wl
    compounds_truth = Truth()
    _cmp.add_layers(layers, seed=seed, truth=compounds_truth)
    layers["hotline_cases"], case_truth = _cases.extend_cases(layers["hotline_cases"],
                                                              layers=layers, seed=seed)
    mun_truth = Truth()  # appended after every other truth row (their case ids stay put)
    _municipal_layers(layers, roads, bs, places, seed, mun_truth)
    prog.step("生成市容环卫图层 …")
    san_truth = Truth()
    san = make_sanitation(roads, red, places, bs, layers["garbage_points"],
                          layers["transfer_stations"], frame, seed, san_truth)
    layers.update(san.layers())

    prog.step("写出图层 …")
    _write_layers(catalog, out, layers, _point_tables(td, san.tracks),
                  lambda path: _dem.write_dem(frame, path, deps, truth, point_ids))
    _cmp.append_truth(truth, compounds_truth)
    _cases.add_truth(truth, case_truth)
    _mun.append_truth(truth, mun_truth)
    _cmp.append_truth(truth, san_truth)
    truth_df = pd.DataFrame(truth.rows, columns=list(Truth.COLUMNS))
    with atomic_path(out / "truth.csv") as tmp:
        truth_df.to_csv(tmp, index=False, encoding="utf-8")
    elapsed = time.perf_counter() - t_start
    prog.step("写出说明 …")
    write_text_atomic(out / "README.txt", _readme(seed, n_buildings, layers, truth_df, elapsed,
                                                  prog.timings))
    _write_catalog(catalog, out, seed, n_buildings)
    prog.step(f"完成：{out / 'catalog.yaml'}（{elapsed:.0f} 秒）")
    return out / "catalog.yaml"


def green_islands(roads: gpd.GeoDataFrame, rng: np.random.Generator, n: int = 476,
                  total_m2: float = 41_000.0, width: float = 2.5) -> gpd.GeoDataFrame:
    """The plan's 476 road green islands (4.1万 m2) in the medians of arterial segments."""
    main = roads[(roads["road_class"] == "主干路") & ~roads["bridge"]]
    c = main.geometry.centroid
    d = np.hypot(c.x - c.x.mean(), c.y - c.y.mean()).to_numpy()
    pick = main.iloc[np.argsort(d, kind="stable")[:n]]
    raw = rng.uniform(0.6, 1.4, len(pick))
    area = raw / raw.sum() * total_m2
    length = area / width
    g = pick.geometry.values
    L = shapely.length(g)
    length = np.minimum(length, L - 30)
    half = length / 2 / L
    sub = shapely.line_interpolate_point(g, 0.5 - half, normalized=True)
    sub2 = shapely.line_interpolate_point(g, 0.5 + half, normalized=True)
    lines = shapely.linestrings(np.stack([shapely.get_coordinates(sub),
                                          shapely.get_coordinates(sub2)], axis=1))
    polys = shapely.buffer(lines, width / 2, cap_style="flat")
    gdf = gpd.GeoDataFrame({"island_id": [f"LD{k + 1:04d}" for k in range(len(pick))],
                            "road_id": pick["road_id"].to_numpy()}, geometry=polys,
                           crs="EPSG:4550")
    gdf["area_m2"] = gdf.area.round(2)
    gdf["island_id"] = [f"FD{k + 1:04d}" for k in range(len(gdf))]
    return gdf


class _Timed:
    """Progress messages that also record how long each stage took (for README.txt)."""

    def __init__(self, prog: Progress) -> None:
        self.prog = prog
        self.timings: list[tuple[str, float]] = []
        self._t = time.perf_counter()
        self._label = "开始"

    def step(self, message: str) -> None:
        now = time.perf_counter()
        self.timings.append((self._label, now - self._t))
        self._t, self._label = now, message
        self.prog.step(message)


def _readme(seed: int, n: int, layers: dict, truth: pd.DataFrame, elapsed: float,
            timings: list[tuple[str, float]] | None = None) -> str:
    counts = "\n".join(f"  {k}: {len(v)}" for k, v in layers.items())
    stages = "\n".join(f"  {label.rstrip(' …')}: {sec:.1f} s" for label, sec in (timings or [])
                       if label != "开始")
    return f"""扎兰屯演示城市 —— 合成示例数据（非真实数据）
=====================================

本文件夹中的全部图层、高程模型和轨迹均由 zlgis demo-data 随机生成（seed={seed}，建筑 {n} 栋），
仅用于演示、培训和测试。地名取自《扎兰屯市城市精细化管理实施方案》（2022），位置均为虚构；
行政区界线取自公开数据（高德 GCJ-02 坐标，已转换）。人员姓名、电话、车牌均为虚构。

{SYNTHETIC_NOTE}

  catalog.yaml   图层目录（zlgis --catalog catalog.yaml ...）
  dem.tif        10 米数字高程模型（EPSG:4550）
  truth.csv      人工植入的违规案例与"不应报出"的近似案例（测试用基准答案）

图层要素数：
{counts}
  truth.csv: {len(truth)} 行

Everything here is SYNTHETIC demo data generated by `zlgis demo-data` (seed {seed}); place
names come from the 2022 Zhalantun campaign plan, positions are invented. Generated in
{elapsed:.1f} s.

生成各阶段用时（秒）：
{stages}
"""
