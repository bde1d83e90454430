"""Streets of the demo city: a jittered lattice cut by the Yalu River, bridges, red lines, islands.

Columns of the lattice run north-south and rows west-east, as in Zhalantun's old town. Every
segment between two intersections is one road feature (the road graph is ready to use), road land
(the red line) is the centreline buffered by half its width with flat caps, dissolved per street.
Streets touching the river stop at its bank except where a bridge crosses (南市大桥 among them);
the suspension footbridge of 吊桥公园 crosses as a 人行道.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from ._common import SPACING_X, SPACING_Y, Frame

__all__ = ["Lattice", "build_lattice", "drop_internal", "road_layers", "block_boxes",
           "ROAD_CLASSES"]

#: class -> (red-line width m, lanes)
ROAD_CLASSES = {"主干路": (40.0, 6), "次干路": (30.0, 4), "支路": (20.0, 2), "巷道": (12.0, 1),
                "人行道": (4.0, 0)}

_EAST_COLS = ["中央街", "兴华路", "正阳街", "繁荣路", "向阳街", "铁东街", "光明街", "胜利路",
              "团结路", "前进路", "建设街", "文化街", "育才路", "振兴路", "和平街", "友谊路"]
_WEST_COLS = ["河西大街", "新区一路", "滨河西路", "站前路", "雅鲁路", "新区二路", "西山路",
              "工业路", "物流路", "学府路"]
_EAST_ROWS = ["布特哈大街", "民族东街", "成吉思汗大街", "扎兰街", "秀水路", "吊桥路", "东山路",
              "人民路", "车站街", "长青路", "富强路", "安康路", "北环路", "南环路", "金龙路"]
_WEST_ROWS = ["民族西街", "新区大街", "客运站路", "河西一街", "河西二街", "西环路", "锦绣路",
              "明月路", "阳光大道", "幸福路", "兴安路", "金秋路"]
_CN_NUM = "一二三四五六七八九十"

#: margin (m) kept between a street and the river's blue line
RIVER_MARGIN = 30.0
#: local v (m) of named river crossings; others every 16 rows
NANSHI_BRIDGE_V = -2640.0
FOOTBRIDGE_V = -1210.0


def _cn(n: int) -> str:
    """Chinese numeral for 1..99 (``_cn(21) == '二十一'``); larger numbers stay Arabic."""
    if n <= 10:
        return _CN_NUM[n - 1]
    if n < 20:
        return "十" + _CN_NUM[n - 11]
    if n < 100:
        tens, units = divmod(n, 10)
        return _CN_NUM[tens - 1] + "十" + (_CN_NUM[units - 1] if units else "")
    return str(n)


@dataclass
class Lattice:
    """The street lattice: column/row positions and classes, segments, bridges."""

    frame: Frame
    xs: np.ndarray
    ys: np.ndarray
    col_class: np.ndarray
    row_class: np.ndarray
    col_k: np.ndarray
    row_k: np.ndarray
    seg: pd.DataFrame = field(default_factory=pd.DataFrame)

    @property
    def col_width(self) -> np.ndarray:
        return np.array([ROAD_CLASSES[c][0] for c in self.col_class])

    @property
    def row_width(self) -> np.ndarray:
        return np.array([ROAD_CLASSES[c][0] for c in self.row_class])

    def col_near(self, u: float) -> int:
        return int(np.argmin(np.abs(self.xs - (self.frame.cx + u))))

    def row_near(self, v: float) -> int:
        return int(np.argmin(np.abs(self.ys - (self.frame.cy + v))))

    def node_xy(self, i: np.ndarray, j: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        return self.xs[np.asarray(i)], self.ys[np.asarray(j)]


def _classes(k: np.ndarray, spacing: float, half: float) -> np.ndarray:
    out = np.full(k.shape, "支路", dtype=object)
    far = np.abs(k) * spacing > 0.72 * half
    out[(k % 2 == 1) & far] = "巷道"
    out[k % 4 == 0] = "次干路"
    out[k % 8 == 0] = "主干路"
    return out


def build_lattice(frame: Frame, rng: np.random.Generator) -> Lattice:
    """Columns, rows and all segments of the street lattice (vectorised).

    Examples
    --------
    >>> from zlgis.demo._common import make_frame, rng_for
    >>> lat = build_lattice(make_frame(2022, 25_000), rng_for(2022, 1))
    >>> roads, red = road_layers(lat)
    >>> {"南市大桥", "吊桥公园吊桥", "中央街"} <= set(roads["name"])
    True
    >>> bool(roads.loc[roads["name"] == "吊桥公园吊桥", "bridge"].all())
    True
    """
    ncols = int(2 * frame.half_w // SPACING_X) + 1
    nrows = int(2 * frame.half_h // SPACING_Y) + 1
    c0 = int(round(frame.half_w / SPACING_X))
    r0 = int(round(frame.half_h / SPACING_Y))
    col_k = np.arange(ncols) - c0
    row_k = np.arange(nrows) - r0
    # whole metres: planted distances (setback, touching) are then exact in floating point
    xs = np.round(frame.cx + col_k * SPACING_X + rng.uniform(-9, 9, ncols))
    ys = np.round(frame.cy + row_k * SPACING_Y + rng.uniform(-7, 7, nrows))
    xs[c0], ys[r0] = frame.cx, frame.cy
    lat = Lattice(frame, xs, ys, _classes(col_k, SPACING_X, frame.half_w),
                  _classes(row_k, SPACING_Y, frame.half_h), col_k, row_k)

    # vertical segments (i, j) -> (i, j+1)
    vi, vj = np.meshgrid(np.arange(ncols), np.arange(nrows - 1), indexing="ij")
    vi, vj = vi.ravel(), vj.ravel()
    x = xs[vi]
    ts = np.linspace(0, 1, 6)
    yy = ys[vj][:, None] + (ys[vj + 1] - ys[vj])[:, None] * ts[None, :]
    vd = frame.river_distance(x[:, None], yy).min(axis=1)
    vert = pd.DataFrame({"dir": "v", "i0": vi, "j0": vj, "i1": vi, "j1": vj + 1,
                         "cls": lat.col_class[vi], "line": vi, "keep": vd > RIVER_MARGIN,
                         "bridge": False})
    # horizontal segments (i, j) -> (i+1, j)
    hi, hj = np.meshgrid(np.arange(ncols - 1), np.arange(nrows), indexing="ij")
    hi, hj = hi.ravel(), hj.ravel()
    y = ys[hj]
    rx, hw = frame.river_x(y), frame.river_half_width(y) + RIVER_MARGIN
    in_zone = (xs[hi + 1] > rx - hw) & (xs[hi] < rx + hw)
    horz = pd.DataFrame({"dir": "h", "i0": hi, "j0": hj, "i1": hi + 1, "j1": hj,
                         "cls": lat.row_class[hj], "line": hj, "keep": ~in_zone,
                         "bridge": False})
    # bridges: every 16th row plus 南市大桥; the footbridge of 吊桥公园
    bridge_rows = set(np.flatnonzero(row_k % 16 == 0).tolist())
    nanshi = lat.row_near(NANSHI_BRIDGE_V)
    foot = lat.row_near(FOOTBRIDGE_V)
    bridge_rows.add(nanshi)
    extra: list[dict] = []
    nbridge = 0
    for j in sorted(bridge_rows | {foot}):
        yj = ys[j]
        rxj = float(frame.river_x(yj))
        hwj = float(frame.river_half_width(yj)) + RIVER_MARGIN
        west = np.flatnonzero(xs < rxj - hwj)
        east = np.flatnonzero(xs > rxj + hwj)
        if len(west) == 0 or len(east) == 0:
            continue
        iw, ie = int(west.max()), int(east.min())
        cls = "人行道" if j == foot else lat.row_class[j]
        if j != foot and j != nanshi:
            nbridge += 1
        extra.append({"dir": "h", "i0": iw, "j0": j, "i1": ie, "j1": j, "cls": cls,
                      "line": j, "keep": True, "bridge": True,
                      "bname": "吊桥公园吊桥" if j == foot else
                      ("南市大桥" if j == nanshi else f"雅鲁河{_cn(nbridge)}号桥")})
    seg = pd.concat([vert, horz, pd.DataFrame(extra)], ignore_index=True)
    seg["bname"] = seg.get("bname", pd.Series(index=seg.index, dtype=object))
    lat.seg = seg
    lat.nanshi_row, lat.foot_row = nanshi, foot  # type: ignore[attr-defined]
    return lat


def drop_internal(lat: Lattice, i0: int, j0: int, ni: int, nj: int) -> None:
    """Remove the streets inside a superblock of ``ni`` x ``nj`` blocks (for a park)."""
    s = lat.seg
    v = (s["dir"] == "v") & (s["i0"] > i0) & (s["i0"] < i0 + ni) & (s["j0"] >= j0) & \
        (s["j1"] <= j0 + nj)
    h = (s["dir"] == "h") & (s["j0"] > j0) & (s["j0"] < j0 + nj) & (s["i0"] >= i0) & \
        (s["i1"] <= i0 + ni) & ~s["bridge"]
    s.loc[v | h, "keep"] = False


def block_boxes(lat: Lattice, setback: float) -> pd.DataFrame:
    """Every block: its land between red lines and its buildable box ``setback`` further in."""
    ncols, nrows = len(lat.xs), len(lat.ys)
    bi, bj = np.meshgrid(np.arange(ncols - 1), np.arange(nrows - 1), indexing="ij")
    bi, bj = bi.ravel(), bj.ravel()
    cw, rw = lat.col_width / 2, lat.row_width / 2
    lx0 = lat.xs[bi] + cw[bi]
    lx1 = lat.xs[bi + 1] - cw[bi + 1]
    ly0 = lat.ys[bj] + rw[bj]
    ly1 = lat.ys[bj + 1] - rw[bj + 1]
    return pd.DataFrame({"i": bi, "j": bj, "lx0": lx0, "ly0": ly0, "lx1": lx1, "ly1": ly1,
                         "bx0": lx0 + setback, "by0": ly0 + setback, "bx1": lx1 - setback,
                         "by1": ly1 - setback})


def _names(lat: Lattice) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    f = lat.frame
    col_names = np.empty(len(lat.xs), dtype=object)
    ke = kw = 0
    east_major = west_major = 0
    for i in np.argsort(np.abs(lat.xs - f.cx)):
        east = lat.xs[i] > f.cx + f.river_u0
        major = lat.col_class[i] in ("主干路", "次干路")
        if major:
            lst = _EAST_COLS if east else _WEST_COLS
            n = east_major if east else west_major
            col_names[i] = lst[n] if n < len(lst) else f"{lst[n % len(lst)]}{n // len(lst) + 1}段"
            if east:
                east_major += 1
            else:
                west_major += 1
        else:
            if east:
                ke += 1
                col_names[i] = f"东{_cn(ke)}道街"
            else:
                kw += 1
                col_names[i] = f"西{_cn(kw)}道街"
    row_e = np.empty(len(lat.ys), dtype=object)
    row_w = np.empty(len(lat.ys), dtype=object)
    ne = nw = 0
    ke = kw = 0
    for j in np.argsort(np.abs(lat.ys - f.cy)):
        if lat.row_class[j] in ("主干路", "次干路"):
            row_e[j] = _EAST_ROWS[ne % len(_EAST_ROWS)] + ("" if ne < len(_EAST_ROWS)
                                                           else f"{ne // len(_EAST_ROWS) + 1}段")
            row_w[j] = _WEST_ROWS[nw % len(_WEST_ROWS)] + ("" if nw < len(_WEST_ROWS)
                                                           else f"{nw // len(_WEST_ROWS) + 1}段")
            ne += 1
            nw += 1
        else:
            ke += 1
            row_e[j] = f"东{_cn(ke)}横街"
            row_w[j] = f"西{_cn(ke)}横街"
    return col_names, row_e, row_w


def road_layers(lat: Lattice) -> tuple[gpd.GeoDataFrame, gpd.GeoDataFrame]:
    """The ``roads`` (segments) and ``red_lines`` (per street, flat caps) layers, canonical names.

    Returns GeoDataFrames in EPSG:4550 with extra helper columns ``street``, ``u``/``v`` node ids.
    """
    f = lat.frame
    s = lat.seg[lat.seg["keep"]].reset_index(drop=True)
    x0, y0 = lat.node_xy(s["i0"].to_numpy(), s["j0"].to_numpy())
    x1, y1 = lat.node_xy(s["i1"].to_numpy(), s["j1"].to_numpy())
    mx, my = (x0 + x1) / 2, (y0 + y1) / 2
    side = f.district(mx, my)
    col_names, row_e, row_w = _names(lat)
    is_v = (s["dir"] == "v").to_numpy()
    line = s["line"].to_numpy()
    names = np.where(is_v, col_names[np.where(is_v, line, 0)],
                     np.where(side == "河东", row_e[np.where(is_v, 0, line)],
                              row_w[np.where(is_v, 0, line)]))
    bridge = s["bridge"].to_numpy(dtype=bool)
    names = np.where(bridge, s["bname"].to_numpy(dtype=object), names)
    # the south entrance corridor on 中央街
    c0 = lat.col_near(0.0)
    south = is_v & (line == c0) & (my < f.cy - 2700) & (my > f.cy - 5300)
    names = np.where(south, "南入口大街", names)
    # street key: columns by index, rows by index and side, bridges on their own
    key = np.where(is_v, np.char.add("V", line.astype(str)),
                   np.where(bridge, np.char.add("B", line.astype(str)),
                            np.char.add(np.char.add("H", line.astype(str)),
                                        np.where(side == "河东", "E", "W"))))
    key = np.where(south, np.char.add(key, "S"), key)
    codes, street_idx = np.unique(key, return_inverse=True)
    order = np.lexsort((s["j0"].to_numpy(), s["i0"].to_numpy(), street_idx))
    s = s.iloc[order].reset_index(drop=True)
    x0, y0, x1, y1 = x0[order], y0[order], x1[order], y1[order]
    names, side, street_idx, bridge = names[order], side[order], street_idx[order], bridge[order]
    seq = pd.Series(np.ones(len(s), dtype=int)).groupby(street_idx).cumsum().to_numpy()
    street_code = np.char.add("DL", np.char.zfill((street_idx + 1).astype(str), 4))
    road_id = np.char.add(np.char.add(street_code, "-"), np.char.zfill(seq.astype(str), 3))
    cls = s["cls"].to_numpy(dtype=object)
    width = np.array([ROAD_CLASSES[c][0] for c in cls])
    lanes = np.array([ROAD_CLASSES[c][1] for c in cls])
    geom = shapely.linestrings(np.stack([np.column_stack([x0, y0]), np.column_stack([x1, y1])],
                                        axis=1))
    nx = len(lat.xs)
    roads = gpd.GeoDataFrame({
        "road_id": road_id, "name": names, "road_class": cls, "width": width,
        "lanes": lanes.astype(int), "bridge": bridge,
        "footway": np.isin(cls, ["主干路", "次干路", "人行道"]), "district": side,
        "street": street_code, "node_u": s["j0"].to_numpy() * nx + s["i0"].to_numpy(),
        "node_v": s["j1"].to_numpy() * nx + s["i1"].to_numpy(),
    }, geometry=geom, crs="EPSG:4550")

    # red lines: contiguous runs of a street as flat-capped boxes, dissolved per street
    is_v = (s["dir"] == "v").to_numpy()
    prev_end = np.r_[-1, np.where(is_v, s["j1"], s["i1"])[:-1]]
    start = np.where(is_v, s["j0"], s["i0"])
    new_run = (start != prev_end) | np.r_[True, street_idx[1:] != street_idx[:-1]]
    run = np.cumsum(new_run) - 1
    hw = width / 2
    bx0 = np.where(is_v, x0 - hw, np.minimum(x0, x1))
    bx1 = np.where(is_v, x0 + hw, np.maximum(x0, x1))
    by0 = np.where(is_v, np.minimum(y0, y1), y0 - hw)
    by1 = np.where(is_v, np.maximum(y0, y1), y0 + hw)
    runs = pd.DataFrame({"run": run, "street": street_idx, "bx0": bx0, "by0": by0, "bx1": bx1,
                         "by1": by1}).groupby("run").agg(
        street=("street", "first"), bx0=("bx0", "min"), by0=("by0", "min"), bx1=("bx1", "max"),
        by1=("by1", "max"))
    boxes = shapely.box(runs["bx0"], runs["by0"], runs["bx1"], runs["by1"])
    first = pd.DataFrame({"street": street_idx, "name": names, "cls": cls, "width": width}
                         ).groupby("street").first()
    counts = runs.groupby("street").size()
    polys = shapely.multipolygons(boxes, indices=runs["street"].to_numpy())
    single = counts.to_numpy() == 1
    polys = np.where(single, shapely.get_geometry(polys, 0), polys)
    sidx = counts.index.to_numpy()
    red = gpd.GeoDataFrame({
        "line_id": np.char.add("HX", np.char.zfill((sidx + 1).astype(str), 4)),
        "road_id": np.char.add("DL", np.char.zfill((sidx + 1).astype(str), 4)),
        "road_name": first.loc[sidx, "name"].to_numpy(),
        "road_class": first.loc[sidx, "cls"].to_numpy(),
        "width": first.loc[sidx, "width"].to_numpy(),
    }, geometry=polys, crs="EPSG:4550")
    return roads, red
