"""Buildings, residential compounds and construction sites of the demo city, with planted cases.

Ordinary footprints are generated block by block, vectorised: each block between red lines gets a
3 x 3 lattice of candidate footprints inside its buildable box (the block land shrunk by the
largest setback the configured table can require), candidates touching the river, parks or
control lines are dropped, and ``n_buildings`` are drawn, denser towards the centre. Planted
cases (red-line encroachment with known depth, setback breaches, buildings inside green, blue,
purple and yellow lines, unpermitted construction) and near-misses are added on top and written
to the truth table.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from shapely.geometry import box

from ._common import Frame, Truth
from .places import YELLOW_FACILITIES, Places, block_land, free_block
from .roads import Lattice, block_boxes

__all__ = ["BuildingSet", "make_buildings", "ordinary_setback", "setback_required",
           "candidate_footprints", "candidate_bounds", "l_shapes", "excluded", "person_names", "phones", "UNCOVERED_UV"]

#: Residential compounds planted without a toilet within 300 m: local (u, v) and description.
#: The first sits on the west bank with the only nearby toilet across the river.
UNCOVERED_UV = [(None, 880.0), (-3300.0, -700.0), (3500.0, 3700.0)]
#: No other compound within this distance (m) of a planted uncovered compound.
UNCOVERED_CLEAR_M = 950.0

_SURNAMES = list("王李张刘陈杨赵黄周吴徐孙胡朱高林何郭马罗梁宋郑谢韩唐冯于董萧程曹袁邓许傅沈曾彭吕苏卢蒋蔡贾丁魏薛叶阎")
_GIVEN = list("伟芳娜秀英敏静丽强磊军洋勇艳杰娟涛明超秀兰霞平刚桂英华玉兰萍红鹏辉建国志强海燕宝山巴特尔其木格")
_COMPOUND_A = ["阳光", "幸福", "兴华", "雅鲁", "锦绣", "金色", "华苑", "翠湖", "龙城", "东方", "盛世",
               "和谐", "怡景", "绿洲", "秀水", "吉祥", "富源", "福康", "安居", "碧桂", "水岸", "山水",
               "御景", "名都", "丽景", "康乐", "民安", "铁路", "电业", "教师"]
_COMPOUND_B = ["小区", "花园", "家园", "嘉园", "雅苑", "名苑", "佳苑", "新城", "公寓", "丽都", "华庭",
               "苑"]


def person_names(rng: np.random.Generator, n: int) -> np.ndarray:
    """Synthetic Chinese personal names."""
    s = np.array(_SURNAMES, dtype=object)[rng.integers(0, len(_SURNAMES), n)]
    g1 = np.array(_GIVEN, dtype=object)[rng.integers(0, len(_GIVEN), n)]
    g2 = np.array(_GIVEN, dtype=object)[rng.integers(0, len(_GIVEN), n)]
    two = rng.random(n) < 0.6
    return np.where(two, s + g1 + g2, s + g1)


def phones(rng: np.random.Generator, n: int) -> np.ndarray:
    """Synthetic mobile numbers (11 digits)."""
    pre = np.array(["139", "138", "135", "150", "152", "158", "187", "133", "189", "177"])
    return np.char.add(pre[rng.integers(0, len(pre), n)],
                       np.char.zfill(rng.integers(0, 10**8, n).astype(str), 8)).astype(object)


def ordinary_setback(config: dict | None) -> float:
    """The largest setback (m) the configured table can require of the generated buildings.

    Generated buildings are at most 60 m high, so the high-rise factor is taken up to 75 m.
    Falls back to 12 m when the control-line configuration is not available.
    """
    try:
        table = config["setbacks"]["table_m"]
        steps = config["setbacks"]["high_rise_factor"]["steps"]
        factor = max(float(s["factor"]) for s in steps
                     if s.get("max_height_m") is not None and float(s["max_height_m"]) <= 75)
        vals = [float(v) * (factor if k == "high" else 1.0)
                for cls, row in table.items() if cls != "公路" for k, v in row.items()]
        return float(np.ceil(max(vals)))
    except (KeyError, TypeError, ValueError):
        return 12.0


def candidate_footprints(boxes: np.ndarray, rw: np.ndarray, rh: np.ndarray, rx: np.ndarray,
                         ry: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Candidate footprints: a 3 x 3 lattice of rectangles inside each buildable box.

    ``boxes`` is (n, 4) (xmin, ymin, xmax, ymax); ``rw``, ``rh`` (n, 9) are the width and depth
    as a share of the cell, ``rx``, ``ry`` (n, 9) the position of the footprint inside the room
    the cell leaves. Footprints keep 2.5 m from the cell edges (5 m between neighbours).
    Returns the (n * 9) rectangles and a mask of those at least 6 x 6 m.

    >>> g, ok = candidate_footprints(np.array([[0.0, 0.0, 90.0, 60.0]]), np.full((1, 9), 0.7),
    ...                              np.full((1, 9), 0.7), np.zeros((1, 9)), np.zeros((1, 9)))
    >>> len(g), int(ok.sum()), [round(v, 1) for v in g[0].bounds]
    (9, 9, [2.5, 2.5, 23.5, 16.5])
    """
    x0, y0, x1, y1, ok = candidate_bounds(boxes, rw, rh, rx, ry)
    return shapely.box(x0, y0, x1, y1), ok


def candidate_bounds(boxes: np.ndarray, rw: np.ndarray, rh: np.ndarray, rx: np.ndarray,
                     ry: np.ndarray) -> tuple[np.ndarray, ...]:
    """The rectangles of :func:`candidate_footprints` as coordinate arrays (and the size mask)."""
    bx0, by0, bx1, by1 = boxes.T
    a, b = np.meshgrid(np.arange(3), np.arange(3), indexing="ij")
    a, b = a.ravel(), b.ravel()
    cw = (bx1 - bx0) / 3
    ch = (by1 - by0) / 3
    cx0 = bx0[:, None] + cw[:, None] * a[None, :]
    cy0 = by0[:, None] + ch[:, None] * b[None, :]
    fw = np.minimum(np.clip(cw[:, None] * rw, 6, None), cw[:, None] - 5)
    fh = np.minimum(np.clip(ch[:, None] * rh, 6, None), ch[:, None] - 5)
    ox = cx0 + 2.5 + rx * np.clip(cw[:, None] - 5 - fw, 0, None)
    oy = cy0 + 2.5 + ry * np.clip(ch[:, None] - 5 - fh, 0, None)
    return (ox.ravel(), oy.ravel(), (ox + fw).ravel(), (oy + fh).ravel(),
            (fw.ravel() >= 6) & (fh.ravel() >= 6))


def l_shapes(bounds: np.ndarray, rng: np.random.Generator, share: float = 0.3) -> np.ndarray:
    """Rectangles from ``bounds`` (n, 4), a ``share`` of the larger ones cut to an L shape.

    The cut removes one corner, so every footprint stays inside its rectangle (setbacks and
    clearances computed on the rectangles still hold).

    >>> g = l_shapes(np.array([[0.0, 0.0, 20.0, 20.0]]), np.random.default_rng(0), share=1.0)
    >>> g[0].geom_type, 200 < g[0].area < 400, g[0].bounds
    ('Polygon', True, (0.0, 0.0, 20.0, 20.0))
    """
    x0, y0, x1, y1 = bounds.T
    g = shapely.box(x0, y0, x1, y1)
    w, h = x1 - x0, y1 - y0
    cut = (rng.random(len(g)) < share) & (w >= 14) & (h >= 14)
    k = np.flatnonzero(cut)
    if not len(k):
        return g
    fx = rng.uniform(0.35, 0.55, len(k)) * w[k]
    fy = rng.uniform(0.35, 0.55, len(k)) * h[k]
    corner = rng.integers(0, 4, len(k))
    cx0 = np.where(corner % 2 == 0, x0[k], x1[k] - fx)
    cy0 = np.where(corner < 2, y0[k], y1[k] - fy)
    g[k] = shapely.difference(g[k], shapely.box(cx0, cy0, cx0 + fx, cy0 + fy))
    return g


def excluded(geoms: np.ndarray, zones: list[np.ndarray]) -> np.ndarray:
    """Mask of ``geoms`` intersecting any geometry of ``zones`` (one STRtree, vectorised)."""
    out = np.zeros(len(geoms), dtype=bool)
    tree = shapely.STRtree(geoms)
    for arr in zones:
        out[tree.query(np.asarray(arr), predicate="intersects")[1]] = True
    return out


def setback_required(config: dict | None, road_class: str, height: float) -> float:
    """Required setback (m) for one building height next to one road class (config table)."""
    try:
        sb = config["setbacks"]
        hc = "high"
        for c in sb["height_classes"]:
            if c["max_height_m"] is None or height <= float(c["max_height_m"]):
                hc = c["id"]
                break
        val = float(sb["table_m"][road_class][hc])
        if hc in sb["high_rise_factor"]["applies_to"]:
            for s in sb["high_rise_factor"]["steps"]:
                if s["max_height_m"] is None or height <= float(s["max_height_m"]):
                    val *= float(s["factor"])
                    break
        return val
    except (KeyError, TypeError, ValueError):
        return 10.0


@dataclass
class BuildingSet:
    buildings: gpd.GeoDataFrame
    compounds: gpd.GeoDataFrame
    sites: gpd.GeoDataFrame
    uncovered: list[dict]


def _segment_ok(lat: Lattice, i: int, j: int) -> bool:
    s = lat.seg
    m = (s["dir"] == "v") & (s["i0"] == i) & (s["j0"] == j) & s["keep"]
    return bool(m.any())


def _red_line_of(roads: gpd.GeoDataFrame, nx: int, i: int, j: int) -> tuple[str, str]:
    m = (roads["node_u"] == j * nx + i) & (roads["node_v"] == (j + 1) * nx + i)
    r = roads[m].iloc[0]
    return "HX" + str(r["street"])[2:], str(r["road_class"])


#: Planted red-line cases: (u, v, offset from the red line (negative = depth into it), kind).
_RED_CASES = [
    (500, 500, -1.5, "enc"), (1300, -1300, -3.0, "enc"), (-1900, -800, -5.0, "enc"),
    (2300, 2900, -8.0, "enc"), (700, -2100, 4.0, "setback"), (-2300, 2700, 2.5, "setback"),
    (1900, -1900, None, "exact"), (-1500, 1900, 0.0, "touch"),
]
#: Construction sites: local (u, v) and project names.
_SITE_UV = [(1700, 3300), (-2800, 3300), (2900, -2000), (-1400, -2600), (3600, 1200),
            (-3200, 1000), (600, -3900), (-2000, 3900)]
_SITE_NAMES = ["商住楼项目", "物流仓储项目", "综合楼项目", "农贸市场改造", "学校扩建", "厂房项目",
               "加油站改造", "商业综合体"]
_BUILDING_COLUMNS = ["building_id", "name", "use", "floors", "height", "year", "permit_status",
                     "permit_no", "line_permit", "under_construction", "population",
                     "compound_id", "owner_name", "owner_phone", "geometry"]
_PROPERTY_COMPANIES = ["扎兰屯市宜居物业服务有限公司", "扎兰屯市兴安物业管理有限公司",
                       "呼伦贝尔市金盾物业有限公司", "扎兰屯市雅鲁物业服务中心", "无物业（社区代管）"]


class _Planter:
    """The planted buildings and the blocks taken so far (shared by the planting steps)."""

    def __init__(self, lat: Lattice, places: Places) -> None:
        self.lat = lat
        self.places = places
        self.used = set(places.reserved) | set(places.landmark_blocks.values())
        self.rows: list[dict] = []

    def block(self, u: float, v: float) -> tuple[int, int]:
        """A free block near (u, v) on a kept street, not a landmark's."""
        for _ in range(30):
            i, j = free_block(self.lat, u, v, self.used)
            self.used.add((i, j))
            if (_segment_ok(self.lat, i, j)
                    and (i, j) not in self.places.landmark_blocks.values()):
                return i, j
        raise RuntimeError("no block for a planted building")

    def add(self, geom: shapely.Geometry, **attrs: object) -> int:
        """Plant one building (defaults: a 3-floor approved shop of 2020); its index."""
        attrs.setdefault("use", "商业")
        attrs.setdefault("floors", 3)
        attrs.setdefault("height", 10.5)
        attrs.setdefault("year", 2020)
        attrs.setdefault("permit_status", "已批")
        attrs.setdefault("under_construction", False)
        attrs["geometry"] = geom
        self.rows.append(attrs)
        return len(self.rows) - 1

    def xy(self, k: int) -> tuple[float, float]:
        """Centroid of planted building ``k``."""
        c = self.rows[k]["geometry"].centroid
        return c.x, c.y


@dataclass
class _LineCases:
    """Indexes of the buildings planted in and near green, blue, purple and yellow lines."""

    green: int
    service: int
    blue: int
    purple: int
    historic: list[int]
    facility: dict[str, int]
    yellow: int


def _plant_red_line_cases(pl: _Planter, roads: gpd.GeoDataFrame,
                          config: dict | None) -> list[tuple]:
    """Buildings on the west edge of a block, at a known offset from its red line."""
    lat = pl.lat
    nx = len(lat.xs)
    pending = []
    for u, v, off, kind in _RED_CASES:
        i, j = pl.block(u, v)
        line_id, rcls = _red_line_of(roads, nx, i, j)
        lx0 = lat.xs[i] + lat.col_width[i] / 2
        ly0 = lat.ys[j] + lat.row_width[j] / 2
        ly1 = lat.ys[j + 1] - lat.row_width[j + 1] / 2
        my = np.floor((ly0 + ly1) / 2)
        height = 10.5
        if kind == "exact":
            off = setback_required(config, rcls, height)
        geom = box(lx0 + off, my - 12, lx0 + off + 18, my + 12)
        k = pl.add(geom, height=height, floors=3)
        pending.append((k, kind, off, line_id, rcls))
    return pending


def _plant_line_cases(pl: _Planter, f: Frame, rng: np.random.Generator) -> _LineCases:
    """Buildings inside green, blue, purple and yellow lines, and their permitted near-misses."""
    places = pl.places
    parks = places.parks.set_index("name")
    que = parks.loc["雀园广场", "geometry"].centroid
    k_green = pl.add(box(que.x + 20, que.y + 10, que.x + 35, que.y + 20), floors=1, height=4.0)
    pt = parks.loc["吊桥公园", "geometry"].representative_point()
    k_service = pl.add(box(pt.x - 6, pt.y - 4, pt.x + 6, pt.y + 4), use="公园服务", floors=1,
                       height=4.5, line_permit="绿线内配套服务", name="吊桥公园游客服务中心")
    y_b = f.cy + 2500
    rx, hw = float(f.river_x(y_b)), float(f.river_half_width(y_b))
    k_blue = pl.add(box(rx - hw + 6, y_b - 6, rx - hw + 18, y_b + 6), floors=1, height=3.5,
                    use="其他", name="河道内简易房")
    pz = places.purple_lines.iloc[0].geometry.bounds
    pcx, pcy = (pz[0] + pz[2]) / 2, (pz[1] + pz[3]) / 2
    k_purple = pl.add(box(pcx - 6, pcy - 5, pcx + 6, pcy + 5), floors=2, height=7.0, year=2021)
    historic = []
    for name, fp in places.historic_footprints:
        historic.append(pl.add(fp, use="公共服务", floors=2, height=9.0,
                               year=int(rng.integers(1903, 1908)), name=name,
                               line_permit="紫线内修缮批准"))
    yl = places.yellow_lines.set_index("name")
    facility = {}
    for name, _cat, _uv, has_bldg in YELLOW_FACILITIES:
        if not has_bldg:
            continue
        c = yl.loc[name, "geometry"].centroid
        facility[name] = pl.add(box(c.x - 15, c.y - 10, c.x + 15, c.y + 10), use="市政设施",
                                floors=2, height=8.0, year=int(rng.integers(1995, 2020)),
                                name=name, line_permit="黄线内批准设施")
    sub = yl.loc["城东110千伏变电站", "geometry"].bounds
    k_yellow = pl.add(box(sub[0] + 12, sub[1] + 12, sub[0] + 24, sub[1] + 22), floors=1,
                      height=3.8, name="变电站内商铺")
    return _LineCases(k_green, k_service, k_blue, k_purple, historic, facility, k_yellow)


def _riverside_compound(pl: _Planter, f: Frame, v: float) -> dict:
    """A compound on the west bank reaching 40 m from the blue line (near local v)."""
    lat = pl.lat
    for dv in (0, 110, -110, 220, -220, 330, -330):
        j = lat.row_near(v + dv)
        ly0 = lat.ys[j] + lat.row_width[j] / 2
        ly1 = lat.ys[j + 1] - lat.row_width[j + 1] / 2
        yy = np.linspace(ly0, ly1, 8)
        west_edge = float((f.river_x(yy) - f.river_half_width(yy)).min())
        s = lat.seg
        kept = s[(s["dir"] == "v") & (s["j0"] == j) & s["keep"]]["i0"].to_numpy()
        cand = kept[lat.xs[kept] < west_edge]
        if not len(cand):
            continue
        i = int(cand.max())
        x0 = lat.xs[i] + lat.col_width[i] / 2
        x1 = west_edge - 40
        if 60 <= x1 - x0 <= 200 and _segment_ok(lat, i, j) and (i, j) not in pl.used:
            pl.used.add((i, j))
            pl.used.add((i + 1, j))
            ym = (ly0 + ly1) / 2
            across = (float(f.river_x(ym) + f.river_half_width(ym)) + 40.0, float(ym))
            return {"geometry": box(x0, ly0, x1, ly1), "across": across, "block": (i, j)}
    raise RuntimeError("no riverside block for the uncovered compound")


def _compound_buildings(pl: _Planter, uc: dict, setback: float) -> list[int]:
    """Four residential buildings (a 2 x 2 lattice) inside the buildable part of a compound."""
    x0, y0, x1, y1 = uc["geometry"].bounds
    ix0, iy0, ix1, iy1 = x0 + setback, y0 + setback, x1 - setback, y1 - setback
    if uc["across"] is not None:
        ix1 = x1  # the east side faces the river (already 40 m from the blue line)
    ks = []
    bw = min(18.0, (ix1 - ix0 - 6) / 2)
    bh = min(12.0, (iy1 - iy0 - 6) / 2)
    for a in range(2):
        for b in range(2):
            bx, by = ix0 + a * (bw + 6), iy0 + b * (bh + 6)
            ks.append(pl.add(box(bx, by, bx + bw, by + bh), use="住宅", floors=6, height=18.5,
                             year=2005))
    return ks


def _plant_uncovered(pl: _Planter, f: Frame, setback: float) -> list[dict]:
    """Residential compounds without a toilet within 300 m, with their buildings."""
    uncovered = []
    for u, v in UNCOVERED_UV:
        if u is None:
            uncovered.append(_riverside_compound(pl, f, v))
        else:
            i, j = free_block(pl.lat, u, v, pl.used, river_clear=400)
            pl.used.add((i, j))
            uncovered.append({"geometry": block_land(pl.lat, i, j, 1.0), "across": None,
                              "block": (i, j)})
    for uc in uncovered:
        uc["buildings"] = _compound_buildings(pl, uc, setback)
    return uncovered


def _plant_sites(pl: _Planter, setback: float) -> tuple[list[dict], int, int]:
    """Construction sites (two unpermitted), one reaching into a green line, a site office.

    Returns the site rows, the index of the site in the green line and the site office's
    planted index.
    """
    site_rows = []
    for n, (u, v) in enumerate(_SITE_UV):
        i, j = free_block(pl.lat, u, v, pl.used)
        pl.used.add((i, j))
        geom = block_land(pl.lat, i, j, 2.0)
        ok = n not in (2, 5)
        site_rows.append({"site_id": f"GD{n + 1:03d}", "name": _SITE_NAMES[n],
                          "permit_status": "已批" if ok else "未批",
                          "permit_no": f"建字第150783202200{n + 1:03d}号" if ok else "",
                          "builder": f"扎兰屯市{['宏达', '兴业', '鑫源', '恒通'][n % 4]}建筑工程有限公司",
                          "start_date": f"2022-0{3 + n % 4}-1{n % 9}", "geometry": geom})
    # an approved site whose hoarding reaches 8 m into the green line of 知青广场
    zq = pl.places.parks.set_index("name").loc["知青广场", "geometry"].bounds
    zy = (zq[1] + zq[3]) / 2
    site_in_green = len(site_rows)
    site_rows.append({"site_id": f"GD{len(site_rows) + 1:03d}", "name": "知青广场东侧商业楼项目",
                      "permit_status": "已批", "permit_no": "建字第1507832022000901号",
                      "builder": "扎兰屯市恒通建筑工程有限公司", "start_date": "2022-05-20",
                      "geometry": box(zq[2] - 8, zy - 15, zq[2] + 20, zy + 15)})
    # a temporary site office inside an approved site (a near-miss for unpermitted construction)
    so = site_rows[0]["geometry"].bounds
    k_temp = pl.add(box(so[0] + setback + 2, so[1] + setback + 2, so[0] + setback + 14,
                        so[1] + setback + 8), use="其他", floors=1, height=3.0, year=2022,
                    permit_status="临时", name="工地临时用房")
    return site_rows, site_in_green, k_temp


def _candidate_boxes(boxes: np.ndarray, rand: tuple[np.ndarray, ...],
                     excl: list[np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
    """Bounds (n * 9, 4) of the candidates and a mask of those usable (in bounded chunks)."""
    nb = len(boxes)
    cb = np.empty((nb * 9, 4))
    ok = np.empty(nb * 9, dtype=bool)
    chunk = 50_000
    for s0 in range(0, nb, chunk):
        s1 = min(nb, s0 + chunk)
        x0_, y0_, x1_, y1_, ok_ = candidate_bounds(boxes[s0:s1], *(r[s0:s1] for r in rand))
        g_ = shapely.box(x0_, y0_, x1_, y1_)
        ok[s0 * 9:s1 * 9] = ok_ & ~excluded(g_, excl)
        cb[s0 * 9:s1 * 9] = np.column_stack([x0_, y0_, x1_, y1_])
        del g_
    return cb, ok


def _ordinary_footprints(blocks: pd.DataFrame, pl: _Planter, f: Frame,
                         rng: np.random.Generator) -> tuple[pd.DataFrame, np.ndarray, np.ndarray]:
    """Blocks for ordinary buildings, the footprints drawn in them and each one's block."""
    places = pl.places
    lm = set(places.landmark_blocks.values())
    free = ~np.array([(i, j) in pl.used and (i, j) not in lm
                      for i, j in zip(blocks["i"], blocks["j"])])
    bl = blocks[free & ((blocks["bx1"] - blocks["bx0"]) > 24) &
                ((blocks["by1"] - blocks["by0"]) > 18)].reset_index(drop=True)
    nb = len(bl)
    rand = rng.uniform(0.55, 0.85, (nb, 9)), rng.uniform(0.5, 0.85, (nb, 9)), \
        rng.random((nb, 9)), rng.random((nb, 9))
    boxes = bl[["bx0", "by0", "bx1", "by1"]].to_numpy()
    # drop candidates near the river, parks and control lines
    excl = [places.blue_lines.geometry.buffer(40.0).values,
            places.green_lines.geometry.buffer(5.0).values,
            places.parks.geometry.buffer(5.0).values,
            places.purple_lines.geometry.buffer(5.0).values,
            places.yellow_lines.geometry.buffer(5.0).values,
            shapely.buffer(np.array([p["geometry"] for p in pl.rows], dtype=object), 6.0)]
    cb, ok = _candidate_boxes(boxes, rand, excl)
    cand_block = np.repeat(np.arange(nb), 9)
    idx = np.flatnonzero(ok)
    px = (cb[idx, 0] + cb[idx, 2]) / 2
    py = (cb[idx, 1] + cb[idx, 3]) / 2
    r = np.hypot((px - f.cx) / f.half_w, (py - f.cy) / f.half_h)
    w = np.exp(-(r / 0.75) ** 2) + 0.15
    n_take = min(f.n_buildings, len(idx))
    key = np.log(rng.random(len(idx))) / w
    take = np.sort(idx[np.argpartition(-key, n_take - 1)[:n_take]])
    return bl, l_shapes(cb[take], rng), cand_block[take]


def _block_centres(bl: pd.DataFrame) -> tuple[np.ndarray, np.ndarray]:
    return ((bl["lx0"] + bl["lx1"]) / 2).to_numpy(), ((bl["ly0"] + bl["ly1"]) / 2).to_numpy()


def _compound_blocks(bl: pd.DataFrame, blk: np.ndarray, uncovered: list[dict],
                     places: Places, f: Frame,
                     rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """Blocks made compounds (a quarter, none near the planted uncovered ones) and 明月花园's."""
    nb = len(bl)
    bl_has = np.unique(blk)
    bcx, bcy = _block_centres(bl)
    far = np.ones(nb, dtype=bool)
    for uc in uncovered:
        cc = uc["geometry"].centroid
        far &= np.hypot(bcx - cc.x, bcy - cc.y) > UNCOVERED_CLEAR_M
    landmark = {v: k for k, v in places.landmark_blocks.items()}
    is_mingyue = np.array([landmark.get((i, j)) == "明月花园" for i, j in zip(bl["i"], bl["j"])])
    is_landmark = np.array([(i, j) in landmark for i, j in zip(bl["i"], bl["j"])])
    pick = np.zeros(nb, dtype=bool)
    pick[bl_has] = rng.random(len(bl_has)) < 0.27
    # compounds keep clear of the river's blue line and its green belt
    corners_x = np.stack([bl["lx0"], bl["lx1"], bl["lx0"], bl["lx1"], bcx, bcx], axis=1)
    corners_y = np.stack([bl["ly0"], bl["ly0"], bl["ly1"], bl["ly1"], bl["ly0"], bl["ly1"]],
                         axis=1)
    dry = f.river_distance(corners_x, corners_y).min(axis=1) > 45.0
    land = shapely.box(bl["lx0"], bl["ly0"], bl["lx1"], bl["ly1"])
    touched = excluded(land, [places.green_lines.geometry.values,
                              places.yellow_lines.geometry.values,
                              places.purple_lines.geometry.values])
    pick &= far & ~is_landmark & dry & ~touched
    pick |= is_mingyue
    return np.flatnonzero(pick), is_mingyue


def _compounds_under_construction(bl: pd.DataFrame, comp_blocks: np.ndarray,
                                  is_mingyue: np.ndarray, f: Frame,
                                  rng: np.random.Generator) -> np.ndarray:
    """13 compound blocks under construction, preferably in 河西."""
    district = f.district(*_block_centres(bl))
    west = comp_blocks[(district[comp_blocks] == "河西") & ~is_mingyue[comp_blocks]]
    uc_blocks = rng.choice(west, size=min(13, len(west)), replace=False)
    if len(uc_blocks) < 13:
        rest = np.setdiff1d(comp_blocks[~is_mingyue[comp_blocks]], uc_blocks)
        uc_blocks = np.r_[uc_blocks, rng.choice(rest, 13 - len(uc_blocks), replace=False)]
    return uc_blocks


def _ordinary_attributes(g: np.ndarray, cb: np.ndarray, under: np.ndarray, f: Frame,
                         rng: np.random.Generator) -> pd.DataFrame:
    """Use, floors, height, year, permit, population and owner of the ordinary buildings.

    ``cb`` is each building's compound index (-1 outside compounds), ``under`` marks those
    in compounds under construction.
    """
    n = len(g)
    area = shapely.area(g)
    in_comp = cb >= 0
    gx, gy = shapely.get_x(shapely.centroid(g)), shapely.get_y(shapely.centroid(g))
    dist_b = f.district(gx, gy)
    rr = np.hypot((gx - f.cx) / f.half_w, (gy - f.cy) / f.half_h)
    use = rng.choice(np.array(["商业", "办公", "公共服务", "工业", "仓储", "其他"], dtype=object), n,
                     p=[0.42, 0.14, 0.1, 0.14, 0.1, 0.1])
    use = np.where(in_comp, "住宅", use)
    old = dist_b == "河东"
    year = np.where(old, rng.integers(1965, 2021, n), rng.integers(2004, 2022, n))
    floors = np.where(in_comp,
                      np.where(year >= 2008, rng.choice([6, 6, 7, 11, 11, 18], n), rng.integers(4, 8, n)),
                      np.where(np.isin(use, ["工业", "仓储"]), rng.integers(1, 3, n),
                               np.where(use == "办公", rng.integers(3, 10, n), rng.integers(1, 6, n))))
    floors = np.where((rr > 0.8) & ~in_comp, np.minimum(floors, 2), floors)
    per = np.where(np.isin(use, ["工业", "仓储"]), 5.5,
                   np.where(use == "住宅", 2.9, 3.6))
    height = np.round(floors * per + rng.uniform(0.3, 1.5, n), 1)
    pop = np.where(use == "住宅", np.clip(np.round(area * floors * 0.8 / 33), 0, 5000), 0)
    year = np.where(under, 2023, year)
    pop = np.where(under, 0, pop)
    permit_no = np.char.add(np.char.add("建字第150783", year.astype(str)),
                            np.char.add(np.char.zfill(np.arange(n).astype(str), 6), "号"))
    blds = pd.DataFrame({
        "name": "", "use": use, "floors": floors.astype(int), "height": height,
        "year": year.astype(int), "permit_status": "已批", "permit_no": permit_no.astype(object),
        "line_permit": "", "under_construction": under, "population": pop.astype(int),
        "compound_id": "", "owner_name": "", "owner_phone": ""})
    priv = (~in_comp) & np.isin(use, ["商业", "仓储", "其他"])
    blds.loc[priv, "owner_name"] = person_names(rng, int(priv.sum()))
    blds.loc[priv, "owner_phone"] = phones(rng, int(priv.sum()))
    return blds


def _name_landmarks(blds: pd.DataFrame, bl: pd.DataFrame, blk: np.ndarray,
                    places: Places) -> None:
    """Give the buildings of the landmark blocks their name and use (no private owner)."""
    for name, use_l in (("兴华小学", "公共服务"), ("河西新区新客运站", "公共服务"), ("交通局", "办公")):
        if name not in places.landmark_blocks:
            continue
        bi = np.flatnonzero((bl["i"] == places.landmark_blocks[name][0]) &
                            (bl["j"] == places.landmark_blocks[name][1]))
        m = np.isin(blk, bi)
        blds.loc[m, "use"] = use_l
        blds.loc[m, "name"] = name
        blds.loc[m, "owner_name"] = ""
        blds.loc[m, "owner_phone"] = ""


def _planted_frame(planted: list[dict], columns: pd.DataFrame) -> pd.DataFrame:
    """The planted buildings with every column of the ordinary ones (and their geometry)."""
    pl = pd.DataFrame(planted)
    for col in columns.columns:
        if col not in pl.columns:
            pl[col] = "" if columns[col].dtype == object else 0
    pl["name"] = pl["name"].fillna("")
    pl["line_permit"] = pl["line_permit"].fillna("")
    pl["permit_no"] = np.where(pl["permit_status"] == "已批",
                               [f"建字第150783{int(y)}9{k:05d}号" for k, y in
                                enumerate(pl["year"])], "")
    pl["under_construction"] = pl["under_construction"].astype(bool)
    pl["population"] = 0
    return pl


def _spatial_ids(geoms: np.ndarray, prefix: str, width: int) -> tuple[np.ndarray, np.ndarray]:
    """Ids numbered in spatial order (by 500 m row band, then x) and that order."""
    cen = shapely.centroid(geoms)
    order = np.lexsort((shapely.get_x(cen), np.floor(shapely.get_y(cen) / 500)))
    rank = np.empty(len(order), dtype=int)
    rank[order] = np.arange(len(order))
    return np.char.add(prefix, np.char.zfill((rank + 1).astype(str), width)), order


def _compound_names(rng: np.random.Generator, m: int) -> np.ndarray:
    """``m`` compound names, a repeated name numbered as a later phase (二期 ...)."""
    base = (np.array(_COMPOUND_A, dtype=object)[rng.integers(0, len(_COMPOUND_A), m)] +
            np.array(_COMPOUND_B, dtype=object)[rng.integers(0, len(_COMPOUND_B), m)])
    dup = pd.Series(base).groupby(base).cumcount().to_numpy()
    return np.where(dup == 0, base, base + (dup + 1).astype(str).astype(object) + "期")


def _compounds_frame(bl: pd.DataFrame, comp_blocks: np.ndarray, uc_blocks: np.ndarray,
                     is_mingyue: np.ndarray, uncovered: list[dict], f: Frame,
                     rng: np.random.Generator) -> gpd.GeoDataFrame:
    """The compounds (ordinary ones, then the planted uncovered ones) with ids and district."""
    names = np.where(is_mingyue[comp_blocks], "明月花园", _compound_names(rng, len(comp_blocks)))
    cbl = bl.iloc[comp_blocks]
    comp_rows = pd.DataFrame({
        "name": names,
        "geometry": shapely.box(cbl["lx0"] + 1, cbl["ly0"] + 1, cbl["lx1"] - 1, cbl["ly1"] - 1),
        "under_construction": np.isin(comp_blocks, uc_blocks)})
    extra_c = pd.DataFrame({"name": ["滨河雅居", "西山家园", "东岭小区"][:len(uncovered)],
                            "geometry": [uc["geometry"] for uc in uncovered],
                            "under_construction": False})
    comp_rows = pd.concat([comp_rows, extra_c], ignore_index=True)
    comps = gpd.GeoDataFrame(comp_rows, geometry="geometry", crs="EPSG:4550")
    comps["compound_id"] = _spatial_ids(comps.geometry.values, "XQ", 5)[0]
    cc = comps.geometry.centroid
    comps["district"] = f.district(cc.x.to_numpy(), cc.y.to_numpy())
    return comps


def _link_compounds(all_b: pd.DataFrame, comps: gpd.GeoDataFrame, cb: np.ndarray, n: int,
                    n_comp_std: int, uncovered: list[dict]) -> None:
    """Write each building's compound id (``n`` ordinary buildings, then the planted ones)."""
    in_comp = cb >= 0
    comp_ids = comps["compound_id"].to_numpy()
    all_b.loc[np.flatnonzero(in_comp), "compound_id"] = comp_ids[cb[in_comp]]
    for n_u, uc in enumerate(uncovered):
        for kb in uc["buildings"]:
            all_b.loc[n + kb, "compound_id"] = comp_ids[n_comp_std + n_u]
        uc["compound_id"] = comp_ids[n_comp_std + n_u]
    all_b.loc[n + np.array([kb for uc in uncovered for kb in uc["buildings"]]), "population"] = 120


def _compound_attributes(comps: gpd.GeoDataFrame, all_b: pd.DataFrame,
                         rng: np.random.Generator) -> gpd.GeoDataFrame:
    """Population and households (from the buildings), property company, committee, year."""
    popc = all_b.groupby("compound_id")["population"].sum()
    comps["population"] = comps["compound_id"].map(popc).fillna(0).astype(int)
    comps["households"] = (comps["population"] / 2.6).round().astype(int)
    comps.loc[comps["under_construction"], ["population", "households"]] = 0
    comps["property_company"] = rng.choice(np.array(_PROPERTY_COMPANIES, dtype=object),
                                           len(comps))
    comps["owners_committee"] = rng.random(len(comps)) < 0.35
    yrs = all_b[all_b["compound_id"] != ""].groupby("compound_id")["year"].max()
    comps["completion_year"] = comps["compound_id"].map(yrs).fillna(2005).astype(int)
    return comps[["compound_id", "name", "district", "under_construction", "households",
                  "population", "property_company", "owners_committee", "completion_year",
                  "geometry"]]


def _sites_frame(site_rows: list[dict], comps: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """The construction sites, plus one for each compound under construction."""
    for k, ci in enumerate(np.flatnonzero(comps["under_construction"].to_numpy())):
        row = comps.iloc[ci]
        site_rows.append({"site_id": f"GD{len(site_rows) + 1:03d}", "name": f"{row['name']}建设项目",
                          "permit_status": "已批", "permit_no": f"建字第1507832022{k + 1:04d}号",
                          "builder": "扎兰屯市城投建设有限公司",
                          "start_date": f"2022-04-{k + 1:02d}", "geometry": row.geometry})
    sites = gpd.GeoDataFrame(site_rows, crs="EPSG:4550")
    sites["line_permit"] = ""
    return sites


def _red_line_truth(truth: Truth, pending: list[tuple], pl: _Planter, bid: Callable[[int], str],
                    config: dict | None) -> None:
    """Truth rows of the planted red-line cases (breaches and near-misses)."""
    for k, kind, off, line_id, rcls in pending:
        x, y = pl.xy(k)
        if kind == "enc":
            truth.add("controllines", "red_line_encroachment", "buildings", bid(k),
                      related_id=line_id, value=-off, x=x, y=y,
                      note=f"building crosses the red line of a {rcls} by {-off:g} m "
                           "(value = depth; it is inside the setback by construction)")
        elif kind == "setback":
            req = setback_required(config, rcls, 10.5)
            truth.add("controllines", "red_line_setback", "buildings", bid(k), related_id=line_id,
                      value=off, x=x, y=y,
                      note=f"building {off:g} m from the red line of a {rcls}, required "
                           f"{req:g} m (value = actual distance)")
        elif kind == "exact":
            truth.add("controllines", "red_line_setback", "buildings", bid(k), related_id=line_id,
                      expect="no_flag", value=off, x=x, y=y,
                      note=f"near-miss: building exactly at the required setback ({off:g} m) "
                           f"from the red line of a {rcls}")
            truth.add("controllines", "red_line_encroachment", "buildings", bid(k),
                      related_id=line_id, expect="no_flag", value=0.0, x=x, y=y,
                      note="near-miss: building at the setback distance does not cross")
        else:
            truth.add("controllines", "red_line_encroachment", "buildings", bid(k),
                      related_id=line_id, expect="no_flag", value=0.0, x=x, y=y,
                      note=f"near-miss: building touches the red line of a {rcls} without "
                           "crossing it")
            truth.add("controllines", "red_line_setback", "buildings", bid(k), related_id=line_id,
                      value=0.0, x=x, y=y,
                      note="building touching the red line is inside the setback "
                           "(value = actual distance 0 m)")


def _line_truth(truth: Truth, lc: _LineCases, pl: _Planter, bid: Callable[[int], str]) -> None:
    """Truth rows of the buildings in green, blue, purple and yellow lines."""
    places = pl.places
    gl = places.green_lines.set_index("name")["line_id"]
    yid = places.yellow_lines.set_index("name")["line_id"]
    rows = [
        (lc.green, "green_line", gl["雀园广场"], "flag",
         "shop built inside the green line of 雀园广场"),
        (lc.service, "green_line", gl["吊桥公园"], "no_flag",
         "near-miss: park service building with line_permit 绿线内配套服务"),
        (lc.blue, "blue_line", "LANX001", "flag",
         "shed built inside the blue line of the Yalu River (雅鲁河)"),
        (lc.purple, "purple_line", str(places.purple_lines.iloc[0]["line_id"]), "flag",
         "new building (2021) inside the Chinese Eastern Railway historic block"),
        (lc.historic[0], "purple_line", str(places.purple_lines.iloc[1]["line_id"]), "no_flag",
         "near-miss: protected historic building with line_permit 紫线内修缮批准"),
        (lc.yellow, "yellow_line", yid["城东110千伏变电站"], "flag",
         "shop built inside the yellow line of a substation"),
        (lc.facility["城东110千伏变电站"], "yellow_line", yid["城东110千伏变电站"], "no_flag",
         "near-miss: approved substation building (line_permit 黄线内批准设施)"),
    ]
    for k, rule, related, expect, note in rows:
        x, y = pl.xy(k)
        truth.add("controllines", rule, "buildings", bid(k), related_id=related, expect=expect,
                  x=x, y=y, note=note)


def _construction_truth(truth: Truth, pl: _Planter, bid: Callable[[int], str],
                        unpermitted: list[tuple[str, shapely.Geometry]], k_temp: int,
                        site_rows: list[dict], site_in_green: int) -> None:
    """Truth rows of unpermitted buildings and sites, the site office and the green-line site."""
    for building_id, geom in unpermitted:
        c = geom.centroid
        truth.add("controllines", "unpermitted_construction", "buildings", building_id,
                  x=c.x, y=c.y,
                  note="building under construction without a planning permit (未批)")
    x, y = pl.xy(k_temp)
    truth.add("controllines", "unpermitted_construction", "buildings", bid(k_temp),
              expect="no_flag", x=x, y=y,
              note="near-miss: site office with a temporary permit (临时)")
    gs = site_rows[site_in_green]
    c = gs["geometry"].centroid
    gl = pl.places.green_lines.set_index("name")["line_id"]
    truth.add("controllines", "green_line", "construction_sites", gs["site_id"],
              related_id=gl["知青广场"], x=c.x, y=c.y,
              note="approved construction site whose hoarding reaches 8 m into the green line "
                   "of 知青广场")
    for s in site_rows:
        if s["permit_status"] == "未批":
            c = s["geometry"].centroid
            truth.add("controllines", "unpermitted_construction", "construction_sites",
                      s["site_id"], x=c.x, y=c.y, note="construction site without a permit (未批)")


def make_buildings(lat: Lattice, places: Places, roads: gpd.GeoDataFrame,
                   rng: np.random.Generator, truth: Truth, config: dict | None) -> BuildingSet:
    """Buildings, compounds and construction sites, planted cases first; truth rows added."""
    f: Frame = lat.frame
    setback = ordinary_setback(config)
    blocks = block_boxes(lat, setback)
    pl = _Planter(lat, places)
    pending_red = _plant_red_line_cases(pl, roads, config)
    line_cases = _plant_line_cases(pl, f, rng)
    uncovered = _plant_uncovered(pl, f, setback)
    site_rows, site_in_green, k_temp = _plant_sites(pl, setback)

    bl, g, blk = _ordinary_footprints(blocks, pl, f, rng)
    comp_blocks, is_mingyue = _compound_blocks(bl, blk, uncovered, places, f, rng)
    uc_blocks = _compounds_under_construction(bl, comp_blocks, is_mingyue, f, rng)
    comp_index = -np.ones(len(bl), dtype=int)
    comp_index[comp_blocks] = np.arange(len(comp_blocks))
    cb = comp_index[blk]
    in_comp = cb >= 0
    blds = _ordinary_attributes(g, cb, np.isin(cb, comp_index[uc_blocks]) & in_comp, f, rng)
    _name_landmarks(blds, bl, blk, places)
    # three unpermitted buildings under construction among the ordinary ones
    cand_unp = np.flatnonzero((~in_comp) & (blds["use"] == "商业").to_numpy())
    unp = rng.choice(cand_unp, 3, replace=False)
    blds.loc[unp, ["permit_status", "permit_no", "under_construction", "year"]] = \
        ["未批", "", True, 2022]

    planted = _planted_frame(pl.rows, blds)
    n = len(g)
    all_b = pd.concat([blds, planted.drop(columns="geometry")], ignore_index=True)
    geom_all = np.r_[g, planted["geometry"].to_numpy()]
    all_b["building_id"], order = _spatial_ids(geom_all, "JZ", 7)
    planted_ids = all_b["building_id"].to_numpy()[n:]

    comps = _compounds_frame(bl, comp_blocks, uc_blocks, is_mingyue, uncovered, f, rng)
    _link_compounds(all_b, comps, cb, n, len(comp_blocks), uncovered)
    comps = _compound_attributes(comps, all_b, rng)
    sites = _sites_frame(site_rows, comps)
    blds_gdf = gpd.GeoDataFrame(all_b, geometry=geom_all, crs="EPSG:4550")
    blds_gdf = blds_gdf.iloc[order].reset_index(drop=True)[_BUILDING_COLUMNS]

    def bid(k: int) -> str:
        return str(planted_ids[k])

    _red_line_truth(truth, pending_red, pl, bid, config)
    _line_truth(truth, line_cases, pl, bid)
    unpermitted = [(str(all_b.loc[b_i, "building_id"]), g[b_i]) for b_i in unp]
    _construction_truth(truth, pl, bid, unpermitted, k_temp, site_rows, site_in_green)
    return BuildingSet(blds_gdf, comps, sites, uncovered)
