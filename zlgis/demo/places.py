"""Named places of the demo city: parks, control lines (green, blue, purple, yellow), landmarks.

Place names follow the 2022 campaign plan of Zhalantun (天拜山广场, 雀园广场, 知青广场, 乌兰夫广场,
南市大桥口袋公园, 市民口袋公园, 吊桥公园, 兴华小学, 明月花园, 老一中涵洞, 河西新区新客运站, 南入口,
交通局道口). Positions are invented; only the names are the city's.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from shapely.geometry import Point, box

from ._common import Frame
from .roads import FOOTBRIDGE_V, NANSHI_BRIDGE_V, Lattice, drop_internal

__all__ = ["Places", "POCKET_PARKS", "YELLOW_FACILITIES", "HISTORIC", "LANDMARKS", "DUMP_UV",
           "place_parks_and_lines", "free_block", "block_land"]

#: The 10 pocket parks of the plan (the first six are named in it): name, local (u, v), area m2.
#: The areas add up to the plan's 292,000 m2.
POCKET_PARKS = [
    ("天拜山广场", (2600, 700), 52_000),
    ("雀园广场", (900, 1500), 41_000),
    ("知青广场", (1500, -700), 36_000),
    ("乌兰夫广场", (300, -1700), 33_000),
    ("南市大桥口袋公园", (None, NANSHI_BRIDGE_V), 30_000),
    ("市民口袋公园", (300, 400), 27_000),
    ("中央街口袋公园", (200, 2700), 24_000),
    ("河西新区口袋公园", (-2300, 600), 20_000),
    ("站前口袋公园", (1900, 2300), 16_000),
    ("兴安口袋公园", (-2600, -1500), 13_000),
]

#: Yellow-line facilities: name, category, local (u, v), has an approved facility building.
YELLOW_FACILITIES = [
    ("扎兰屯市自来水厂", "供水", (3300, 3000), True),
    ("城东110千伏变电站", "供电", (3000, -900), True),
    ("河西35千伏变电站", "供电", (-2500, 2000), True),
    ("集中供热热源厂", "供热", (2800, -3000), True),
    ("天然气门站", "燃气", (-3000, -3000), True),
    ("河东垃圾转运站", "环卫", (1200, -3500), True),
    ("城北垃圾转运站", "环卫", (800, 4200), True),
    ("河西新区二级垃圾转运站（规划）", "环卫", (-1600, -300), False),
]

#: Chinese Eastern Railway era buildings (历史建筑) in the historic block near the old station.
HISTORIC = ["中东铁路俱乐部旧址", "中东铁路避暑旅馆旧址", "中东铁路扎兰屯站站舍旧址", "沙俄监狱旧址"]
HISTORIC_UV = (1900, 1250)

_GARDEN_NAMES = ["松林", "白桦", "杏花", "丁香", "樟松", "映山红", "柳荫", "榆钱", "金莲", "山丁子",
                 "稠李", "玫瑰", "芍药", "百合", "兴安", "秀水", "雅鲁", "鹿鸣", "晨曦", "夕照",
                 "团结", "和平", "育才", "铁路", "河滨", "东山", "西岭", "北苑", "南苑", "中心"]

#: Construction-waste dump sites (建筑垃圾消纳场), local (u, v), at the edge of town.
DUMP_UV = [(-3600, -4600), (3600, -4700)]

#: Landmarks: name -> local (u, v)
LANDMARKS = {
    "兴华小学": (700, 900),
    "明月花园": (-1900, 1200),
    "河西新区新客运站": (-2100, -300),
    "交通局": (100, -2850),
    "南入口": (0, -4900),
    "老一中涵洞": (1100, -300),
}


@dataclass
class Places:
    """Everything placed before the buildings: polygons to keep free and blocks reserved."""

    parks: gpd.GeoDataFrame
    green_lines: gpd.GeoDataFrame
    blue_lines: gpd.GeoDataFrame
    purple_lines: gpd.GeoDataFrame
    yellow_lines: gpd.GeoDataFrame
    reserved: set[tuple[int, int]] = field(default_factory=set)
    landmark_blocks: dict[str, tuple[int, int]] = field(default_factory=dict)
    historic_footprints: list[tuple[str, shapely.Geometry]] = field(default_factory=list)
    dump_sites: list[shapely.Geometry] = field(default_factory=list)


def _river_polygon(frame: Frame, y0: float, y1: float, extra: float = 0.0) -> shapely.Geometry:
    yy = np.arange(y0, y1 + 20.0, 20.0)
    rx, hw = frame.river_x(yy), frame.river_half_width(yy) + extra
    ring = np.r_[np.column_stack([rx - hw, yy]), np.column_stack([rx + hw, yy])[::-1]]
    return shapely.Polygon(ring)


def free_block(lat: Lattice, u: float, v: float, reserved: set[tuple[int, int]],
               river_clear: float = 120.0) -> tuple[int, int]:
    """The block containing local (u, v), or the nearest free one away from the river."""
    f = lat.frame
    x, y = f.xy(u, v)
    ic = np.clip(np.searchsorted(lat.xs, x) - 1, 0, len(lat.xs) - 2)
    jc = np.clip(np.searchsorted(lat.ys, y) - 1, 0, len(lat.ys) - 2)
    best = None
    for r in range(0, 8):
        for di in range(-r, r + 1):
            for dj in range(-r, r + 1):
                if max(abs(di), abs(dj)) != r:
                    continue
                i, j = int(ic + di), int(jc + dj)
                if not (0 <= i < len(lat.xs) - 1 and 0 <= j < len(lat.ys) - 1):
                    continue
                if (i, j) in reserved:
                    continue
                bx = np.array([lat.xs[i], lat.xs[i + 1], lat.xs[i], lat.xs[i + 1]])
                by = np.array([lat.ys[j], lat.ys[j], lat.ys[j + 1], lat.ys[j + 1]])
                if f.river_distance(bx, by).min() < river_clear:
                    continue
                best = (i, j)
                break
            if best:
                break
        if best:
            break
    if best is None:
        raise RuntimeError(f"no free block near {(u, v)}")
    return best


def block_land(lat: Lattice, i: int, j: int, inset: float = 0.0) -> shapely.Geometry:
    cw, rw = lat.col_width / 2, lat.row_width / 2
    return box(lat.xs[i] + cw[i] + inset, lat.ys[j] + rw[j] + inset,
               lat.xs[i + 1] - cw[i + 1] - inset, lat.ys[j + 1] - rw[j + 1] - inset)


def _pocket_park(lat: Lattice, n: int, name: str, u: float | None, v: float, area: float,
                 reserved: set[tuple[int, int]]) -> dict:
    """A pocket park on a 3 x 2 superblock whose inner streets are removed."""
    f = lat.frame
    if u is None:  # east end of 南市大桥
        y = f.cy + v
        u = float(f.river_x(y) + f.river_half_width(y)) - f.cx + 420
        v = v + 60
    x, y = f.xy(u, v)
    i0 = int(np.argmin(np.abs(lat.xs - x) + 1e6 * (lat.col_k % 4 != 0)))
    j0 = int(np.argmin(np.abs(lat.ys - y) + 1e6 * (lat.row_k % 4 != 0)))
    i0 = min(i0, len(lat.xs) - 4)
    j0 = min(j0, len(lat.ys) - 3)
    cells = {(i0 + a, j0 + b) for a in range(3) for b in range(2)}
    if cells & reserved:
        raise RuntimeError(f"pocket park {name} overlaps another place")
    reserved |= cells
    drop_internal(lat, i0, j0, 3, 2)
    cw, rw = lat.col_width / 2, lat.row_width / 2
    lx0, lx1 = lat.xs[i0] + cw[i0] + 5, lat.xs[i0 + 3] - cw[i0 + 3] - 5
    ly0, ly1 = lat.ys[j0] + rw[j0] + 5, lat.ys[j0 + 2] - rw[j0 + 2] - 5
    s = np.sqrt(area / ((lx1 - lx0) * (ly1 - ly0)))
    if s > 1:
        raise RuntimeError(f"pocket park {name} does not fit its superblock")
    mx, my = (lx0 + lx1) / 2, (ly0 + ly1) / 2
    hx, hy = (lx1 - lx0) * s / 2, (ly1 - ly0) * s / 2
    return {"park_id": f"GY{n + 1:04d}", "name": name, "category": "口袋公园",
            "geometry": box(mx - hx, my - hy, mx + hx, my + hy)}


def _river_and_parks(lat: Lattice) -> tuple[list[dict], list[dict], shapely.Geometry]:
    """Blue lines (the river, a lake, a wetland), the two riverside parks and the river."""
    f = lat.frame
    x0, y0, x1, y1 = f.bounds
    river = _river_polygon(f, y0 - 600, y1 + 600)
    blues = [{"line_id": "LANX001", "name": "雅鲁河", "category": "河流", "geometry": river}]
    yfb = f.cy + FOOTBRIDGE_V
    rxfb = float(f.river_x(yfb))
    diaoqiao = box(rxfb - 420, yfb - 320, rxfb + 420, yfb + 300).difference(river)
    wet_y = f.cy - 3900
    rxw = float(f.river_x(wet_y))
    wetland = box(rxw - 650, wet_y - 450, rxw + 550, wet_y + 420).difference(river)
    lake_dq = Point(rxfb + 250, yfb + 120).buffer(45).simplify(0.5)
    lake_wet = shapely.Polygon(
        np.column_stack([rxw - 380 + 160 * np.cos(np.linspace(0, 2 * np.pi, 40)),
                         wet_y + 70 * np.sin(np.linspace(0, 2 * np.pi, 40))]))
    blues.append({"line_id": "LANX002", "name": "吊桥公园湖", "category": "湖泊",
                  "geometry": lake_dq})
    blues.append({"line_id": "LANX003", "name": "雅鲁河湿地", "category": "湿地",
                  "geometry": lake_wet})
    # the riverside parks must not cover road land
    road_cut = _road_land(lat, [diaoqiao.bounds, wetland.bounds])
    parks = [{"park_id": "GY0011", "name": "吊桥公园", "category": "综合公园",
              "geometry": diaoqiao.difference(road_cut)},
             {"park_id": "GY0012", "name": "雅鲁河国家湿地公园", "category": "湿地公园",
              "geometry": wetland.difference(road_cut)}]
    return blues, parks, river


def _purple_lines(lat: Lattice, reserved: set[tuple[int, int]]
                  ) -> tuple[list[dict], list[tuple[str, shapely.Geometry]]]:
    """The Chinese Eastern Railway block and its historic buildings (and their footprints)."""
    hi, hj = free_block(lat, *HISTORIC_UV, reserved)
    reserved.add((hi, hj))
    land = block_land(lat, hi, hj, 2.0)
    purples = [{"line_id": "ZX001", "name": "中东铁路历史文化街区", "category": "历史文化街区",
                "geometry": land}]
    bx0, by0, bx1, by1 = land.bounds
    foot = []
    w, h = (bx1 - bx0), (by1 - by0)
    slots = [(0.25, 0.3), (0.72, 0.3), (0.25, 0.74), (0.72, 0.74)]
    for k, (name, (sx, sy)) in enumerate(zip(HISTORIC, slots)):
        cx, cy = bx0 + sx * w, by0 + sy * h
        fp = box(cx - 11, cy - 7, cx + 11, cy + 7)
        foot.append((name, fp))
        purples.append({"line_id": f"ZX{k + 2:03d}", "name": name, "category": "历史建筑",
                        "geometry": fp.buffer(6.0, join_style="mitre")})
    return purples, foot


def _yellow_lines(lat: Lattice, reserved: set[tuple[int, int]],
                  landmark_blocks: dict[str, tuple[int, int]]) -> list[dict]:
    yellows = []
    for k, (name, cat, (u, v), _) in enumerate(YELLOW_FACILITIES):
        bi, bj = free_block(lat, u, v, reserved)
        reserved.add((bi, bj))
        landmark_blocks[name] = (bi, bj)
        yellows.append({"line_id": f"HUANGX{k + 1:03d}", "name": name, "category": cat,
                        "geometry": block_land(lat, bi, bj, 4.0)})
    return yellows


def _small_parks(lat: Lattice, taken: set[tuple[int, int]], reserved: set[tuple[int, int]],
                 n_parks: int, greens: list[dict]) -> list[dict]:
    """Neighbourhood parks and gardens (社区公园, 游园) on a staggered lattice of blocks."""
    f = lat.frame
    n_small = 0
    small: list[dict] = []
    for j in range(3, len(lat.ys) - 2, 6):
        for i in range(2 + 3 * ((j // 6) % 2), len(lat.xs) - 2, 6):
            if (i, j) in taken:
                continue
            bx = np.array([lat.xs[i], lat.xs[i + 1], lat.xs[i], lat.xs[i + 1]])
            by = np.array([lat.ys[j], lat.ys[j], lat.ys[j + 1], lat.ys[j + 1]])
            if f.river_distance(bx, by).min() < 150:
                continue
            taken.add((i, j))
            reserved.add((i, j))
            n_small += 1
            cat = "社区公园" if n_small % 3 == 0 else "游园"
            name = f"{_GARDEN_NAMES[n_small % len(_GARDEN_NAMES)]}{cat}"
            if n_small > len(_GARDEN_NAMES):
                name = f"{_GARDEN_NAMES[n_small % len(_GARDEN_NAMES)]}{n_small // len(_GARDEN_NAMES) + 1}号{cat}"
            geom = block_land(lat, i, j, 3.0)
            small.append({
                "park_id": f"GY{n_parks + len(small) + 1:04d}", "name": name,
                "category": cat, "geometry": geom, "area_m2": round(geom.area, 1),
                "district": str(f.district(geom.centroid.x, geom.centroid.y))})
            greens.append({"line_id": f"LX{len(greens) + 1:04d}", "name": name,
                           "category": "公园绿地", "geometry": geom})
    return small


def _gdf(rows: list[dict]) -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame(rows, crs="EPSG:4550")


def place_parks_and_lines(lat: Lattice, rng: np.random.Generator) -> Places:
    """Parks (with green lines), the river and lakes (blue lines), purple and yellow lines.

    Pocket parks take 3 x 2 superblocks whose inner streets are removed from the lattice.
    """
    f = lat.frame
    reserved: set[tuple[int, int]] = set()
    greens: list[dict] = []
    parks = [_pocket_park(lat, n, name, u, v, area, reserved)
             for n, (name, (u, v), area) in enumerate(POCKET_PARKS)]
    blues, riverside, river = _river_and_parks(lat)
    parks_gdf = _gdf(parks + riverside)
    parks_gdf["geometry"] = shapely.make_valid(parks_gdf.geometry.values)
    parks_gdf["area_m2"] = parks_gdf.area.round(1)
    c = parks_gdf.geometry.representative_point()
    parks_gdf["district"] = f.district(c.x.to_numpy(), c.y.to_numpy())
    for _, p in parks_gdf.iterrows():
        greens.append({"line_id": f"LX{len(greens) + 1:04d}", "name": p["name"],
                       "category": "公园绿地", "geometry": p.geometry})
    belt = river.buffer(25.0).difference(river).intersection(box(*f.bounds))
    greens.append({"line_id": f"LX{len(greens) + 1:04d}", "name": "雅鲁河滨河绿带",
                   "category": "防护绿地", "geometry": belt.difference(road_cut_all(lat))})

    purples, foot = _purple_lines(lat, reserved)
    landmark_blocks: dict[str, tuple[int, int]] = {}
    yellows = _yellow_lines(lat, reserved, landmark_blocks)
    dumps = []
    for u, v in DUMP_UV:
        bi, bj = free_block(lat, u, v, reserved, river_clear=300)
        reserved.add((bi, bj))
        dumps.append(block_land(lat, bi, bj, 3.0))
    taken = set(reserved)
    for name, (u, v) in LANDMARKS.items():
        if name in ("南入口", "老一中涵洞"):
            continue
        bi, bj = free_block(lat, u, v, taken)
        taken.add((bi, bj))
        landmark_blocks[name] = (bi, bj)  # not reserved: these blocks get buildings
    small = _small_parks(lat, taken, reserved, len(parks_gdf), greens)
    if small:
        parks_gdf = pd.concat([parks_gdf, _gdf(small)], ignore_index=True)
    return Places(parks=parks_gdf, green_lines=_gdf(greens), blue_lines=_gdf(blues),
                  purple_lines=_gdf(purples), yellow_lines=_gdf(yellows), reserved=reserved,
                  landmark_blocks=landmark_blocks, historic_footprints=foot, dump_sites=dumps)


def _road_land(lat: Lattice, bounds: list[tuple[float, float, float, float]]) -> shapely.Geometry:
    """Road land (centrelines buffered by half width, flat caps) of kept segments near bounds."""
    s = lat.seg[lat.seg["keep"]]
    x0, y0 = lat.node_xy(s["i0"].to_numpy(), s["j0"].to_numpy())
    x1, y1 = lat.node_xy(s["i1"].to_numpy(), s["j1"].to_numpy())
    w = np.array([{"主干路": 40.0, "次干路": 30.0, "支路": 20.0, "巷道": 12.0, "人行道": 4.0}[c]
                  for c in s["cls"]])
    sel = np.zeros(len(s), dtype=bool)
    for bx0, by0, bx1, by1 in bounds:
        sel |= (np.maximum(x0, x1) >= bx0 - 50) & (np.minimum(x0, x1) <= bx1 + 50) & \
               (np.maximum(y0, y1) >= by0 - 50) & (np.minimum(y0, y1) <= by1 + 50)
    lines = shapely.linestrings(np.stack([np.column_stack([x0[sel], y0[sel]]),
                                          np.column_stack([x1[sel], y1[sel]])], axis=1))
    return shapely.union_all(shapely.buffer(lines, w[sel] / 2, cap_style="flat"))


def road_cut_all(lat: Lattice) -> shapely.Geometry:
    """Road land of the segments near the river (for the riverside green belt)."""
    f = lat.frame
    s = lat.seg[lat.seg["keep"]]
    x0, y0 = lat.node_xy(s["i0"].to_numpy(), s["j0"].to_numpy())
    x1, y1 = lat.node_xy(s["i1"].to_numpy(), s["j1"].to_numpy())
    near = (np.minimum(f.river_distance(x0, y0), f.river_distance(x1, y1)) < 200) | \
        s["bridge"].to_numpy(dtype=bool)
    w = np.array([{"主干路": 40.0, "次干路": 30.0, "支路": 20.0, "巷道": 12.0, "人行道": 4.0}[c]
                  for c in s["cls"]])
    lines = shapely.linestrings(np.stack([np.column_stack([x0[near], y0[near]]),
                                          np.column_stack([x1[near], y1[near]])], axis=1))
    return shapely.union_all(shapely.buffer(lines, w[near] / 2, cap_style="flat"))
