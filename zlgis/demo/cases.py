"""A year of cases (12345, 110, patrols) for the demo city, with planted patterns (issue 16).

The 600 existing 12345 work orders (May-June 2022) keep every value; they gain a channel, a
response time and a closing time consistent with their status. Around them, a year of cases
(2021-11-01 to 2022-10-31) follows the seasons (heating in winter, cooking fumes and ponding in
summer). Planted in the demo weekly run's week (2022-W35, ending 2022-09-04) and the weeks
before it, each with a near-miss that must not be flagged (``truth.csv``, check ``cases``):

* a hot spot of cooking-fume and barbecue complaints around one compound (near-miss: four such
  cases elsewhere, below the minimum count);
* a repeat address: four exposed-garbage cases at one address within 30 days (near-miss: three
  at another address, each 45 days apart);
* overdue cases still open past their deadline (near-miss: closed an hour before it, and one
  received late on the last day, not yet due);
* a case exactly on the border of two grid cells (it must go to exactly one, ``related_id``),
  one 3 m inside the neighbouring cell, and one outside every cell (flagged ``case_unlocated``);
* a mis-typed category the keywords catch (near-miss: a text naming a lamp whose category is
  right).

A separate random stream (seeded from the city seed and ``b"cases"``) leaves every other layer
and every existing truth row identical.
"""

from __future__ import annotations

import zlib
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from ._common import Truth
from .buildings import person_names, phones

__all__ = ["extend_cases", "add_truth", "YEAR_START", "YEAR_END", "AS_OF"]

YEAR_START = np.datetime64("2021-11-01T00:00")
YEAR_END = np.datetime64("2022-11-01T00:00")
#: End of the demo weekly run's week (2022-W35): the planted patterns are judged at this moment.
AS_OF = pd.Timestamp("2022-09-05 00:00")

# (category field, request type, text template, channel weights 12345/110/patrol, season)
_KINDS = [
    ("路灯照明", "投诉", ["{a}路灯不亮，晚上出行不安全。", "{a}一排路灯都黑着，请尽快维修。"], "all"),
    ("道路积水", "求助", ["{a}下雨后积水严重，无法通行。", "{a}雨水井堵了，路面积水。"], "summer"),
    ("渣土车", "举报", ["{a}渣土车未密闭运输，沿途遗撒。"], "building"),
    ("违章停车", "投诉", ["{a}车辆乱停乱放，堵住消防通道。", "{a}有车长期停放占道。"], "all"),
    ("占道经营", "投诉", ["{a}早市占道经营，垃圾无人清理。", "{a}流动摊贩摆摊占道。"], "warm"),
    ("油烟", "投诉", ["{a}饭店油烟直排，家里窗户都不敢开。", "{a}夜里露天烧烤，烟大又吵。"], "warm"),
    ("供热", "求助", ["{a}暖气不热，室温只有十几度。", "{a}供热不达标，家里太冷。"], "winter"),
    ("树木倒伏", "求助", ["{a}大风后树倒了，压在人行道上。", "{a}行道树断枝挂在电线上。"], "storm"),
    ("公厕", "建议", ["{a}附近没有公共厕所，建议增设。", "{a}公厕太脏，没人打扫。"], "all"),
    ("垃圾清运", "投诉", ["{a}垃圾收集点满溢，多日未清运。"], "all"),
    ("违法建设", "举报", ["{a}有人私搭乱建，占用绿地。", "{a}楼顶违建加盖一层。"], "building"),
    ("市容环境", "建议", ["{a}绿化带杂草多，建议修剪。"], "warm"),
]
_SEASON = {  # relative weight per month, Jan..Dec
    "all": [1] * 12,
    "summer": [0, 0, 0, 0, 0.5, 2, 3, 3, 1, 0, 0, 0],
    "warm": [0.2, 0.2, 0.3, 0.6, 1, 1.5, 2, 2, 1.5, 0.8, 0.3, 0.2],
    # heating complaints in the cold months only: none in the 180 days before 2022-W35 that the
    # heating check (issue 17) counts per station, so its demo findings stay as planted
    "winter": [3, 3, 0, 0, 0, 0, 0, 0, 0, 1, 3, 3],
    "storm": [0, 0, 0.5, 1, 1.5, 1.5, 1.5, 1, 0.5, 0.5, 0, 0],
    "building": [0.2, 0.2, 0.5, 1.5, 2, 2, 2, 2, 2, 1.5, 0.5, 0.2],
}
_HOURS = {"路灯照明": 24, "道路积水": 24, "渣土车": 24, "违章停车": 4, "占道经营": 48, "油烟": 72,
          "供热": 24, "树木倒伏": 4, "公厕": 72, "垃圾清运": 24, "违法建设": 360, "市容环境": 168}


def _times(rng: np.random.Generator, n: int, season: str) -> np.ndarray:
    month_w = np.asarray(_SEASON[season], dtype=float)
    days = np.arange(YEAR_START, YEAR_END, np.timedelta64(1, "D"))
    w = month_w[days.astype("datetime64[M]").astype(int) % 12]
    d = rng.choice(days, size=n, p=w / w.sum())
    minutes = rng.integers(7 * 60, 22 * 60, n).astype("timedelta64[m]")
    return d.astype("datetime64[m]") + minutes


def _closing(rng: np.random.Generator, received: np.ndarray, hours: np.ndarray,
             late_share: float = 0.08) -> tuple[np.ndarray, np.ndarray]:
    """Response (within about 2 h) and closing times (mostly within the deadline)."""
    n = len(received)
    resp = received + (rng.gamma(2.0, 30.0, n)).astype("timedelta64[m]")
    frac = np.where(rng.random(n) < late_share, rng.uniform(1.1, 2.5, n), rng.uniform(0.15, 0.95,
                                                                                       n))
    closed = received + (frac * hours * 60).astype("timedelta64[m]")
    return resp, closed


def _existing(cases: gpd.GeoDataFrame, rng: np.random.Generator) -> gpd.GeoDataFrame:
    """The 600 original work orders with channel, response and closing times added."""
    out = cases.copy()
    n = len(out)
    received = out["received_at"].to_numpy("datetime64[m]")
    hours = out["category"].map(lambda c: _HOURS.get(str(c), 72)).to_numpy(float)
    resp, closed = _closing(rng, received, hours)
    # 待办 / 办理中 at the end of the original period (2022-06-11): closed in the weeks after it
    later = np.datetime64("2022-06-12T08:00") + rng.integers(0, 30 * 24 * 60, n).astype(
        "timedelta64[m]")
    pending = out["status"].isin(["待办", "办理中"]).to_numpy()
    closed = np.where(pending, np.maximum(later, closed), closed)
    out["channel"] = "12345"
    out["responded_at"] = pd.to_datetime(resp)
    out["closed_at"] = pd.to_datetime(closed)
    return out


def _place(rng: np.random.Generator, anchors: np.ndarray, n: int, sd: float) -> np.ndarray:
    k = rng.integers(0, len(anchors), n)
    return anchors[k] + rng.normal(0, sd, (n, 2))


def _background(rng: np.random.Generator, anchors: np.ndarray, road_pts: np.ndarray,
                addresses: np.ndarray, n_per_year: int = 4200) -> pd.DataFrame:
    weights = np.array([1, 0.5, 0.4, 1.3, 0.8, 0.9, 1.2, 0.4, 0.4, 1.0, 0.5, 0.6])
    counts = rng.multinomial(n_per_year, weights / weights.sum())
    frames = []
    for (cat, req, texts, season), m in zip(_KINDS, counts):
        on_road = cat in ("违章停车", "占道经营", "树木倒伏", "渣土车", "道路积水", "路灯照明")
        src = road_pts if on_road else anchors
        xy = _place(rng, src, m, 25.0)
        a = addresses[rng.integers(0, len(addresses), m)]
        addr = np.array([f"{x}{rng.integers(1, 40)}号" for x in a], dtype=object)
        text = [texts[rng.integers(0, len(texts))].format(a=x) for x in addr]
        frames.append(pd.DataFrame({"category": cat, "request_type": req, "text": text,
                                    "address": addr, "x": xy[:, 0], "y": xy[:, 1],
                                    "received_at": _times(rng, m, season)}))
    df = pd.concat(frames, ignore_index=True)
    df["channel"] = rng.choice(np.array(["12345", "110", "巡查"], dtype=object), len(df),
                               p=[0.7, 0.1, 0.2])
    return df


def _far_point(rng: np.random.Generator, anchors: np.ndarray, busy: np.ndarray,
               min_d: float) -> np.ndarray:
    """A point next to an anchor with no case of ``busy`` within ``min_d``."""
    from scipy.spatial import cKDTree

    tree = cKDTree(busy) if len(busy) else None
    for _ in range(5000):
        p = anchors[rng.integers(0, len(anchors))]
        if tree is None or tree.query(p)[0] > min_d:
            return p
    raise RuntimeError("no free place for a planted case")


def add_truth(truth: Truth, rows: list[dict[str, Any]]) -> None:
    """Append the planted cases' truth rows (after every other check's, so their ids stay)."""
    for r in rows:
        truth.add(**r)


def _case_places(layers: dict[str, gpd.GeoDataFrame]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Compound anchors, mid-points of the main roads, and the addresses cases name."""
    comps = layers["residential_compounds"]
    anchors = shapely.get_coordinates(comps.geometry.representative_point().values)
    roads = layers["roads"]
    main = roads[roads["road_class"].isin(["主干路", "次干路", "支路"])]
    road_pts = shapely.get_coordinates(shapely.line_interpolate_point(
        main.geometry.values, 0.5, normalized=True))
    road_names = main["name"].fillna("").astype(str).to_numpy() if "name" in main else \
        np.array(["道路"], dtype=object)
    road_names = road_names[road_names != ""]
    addresses = np.concatenate([comps["name"].astype(str).to_numpy(), road_names])
    return anchors, road_pts, addresses


class _Plant(list):
    """The planted cases (one dict each)."""

    def __call__(self, cat: str, text: str, addr: str, x: float, y: float, t: str, *,
                 closed: str | None = "auto", channel: str = "12345", key: str) -> None:
        self.append({"category": cat, "request_type": "投诉", "text": text, "address": addr,
                     "x": x, "y": y, "received_at": np.datetime64(t, "m"), "channel": channel,
                     "closed": closed, "key": key})


def _plant_hot_spot(plant: _Plant, rng: np.random.Generator, anchors: np.ndarray,
                    bg: pd.DataFrame) -> None:
    """1. 30 cooking-fume / barbecue complaints around one compound, 2022-08-08 .. 09-04, and
    a near-miss of 4 at another place."""
    in_window = (bg["received_at"] >= np.datetime64("2022-07-01")) & \
        (bg["received_at"] < np.datetime64("2022-09-05"))
    fumes = bg[(bg["category"] == "油烟") & in_window][["x", "y"]].to_numpy()
    hx, hy = _far_point(rng, anchors, fumes, 400.0)
    for k in range(30):
        t = np.datetime64("2022-08-08T18:00") + np.timedelta64(int(k * 27 * 24 / 30), "h")
        plant("油烟", "小区楼下夜里露天烧烤，油烟和噪音扰民。", f"烧烤一条街{k % 6 + 1}号",
              hx + rng.normal(0, 40), hy + rng.normal(0, 40), str(t), key=f"hot{k}")
    busy = np.vstack([fumes, [[hx, hy]]])
    nx, ny = _far_point(rng, anchors, busy, 500.0)
    for k in range(4):
        plant("油烟", "饭店油烟直排，味道很大。", "和顺街9号", nx + rng.normal(0, 30),
              ny + rng.normal(0, 30), f"2022-08-{15 + k * 4:02d}T19:00", key=f"cold{k}")


def _plant_repeats(plant: _Plant, rng: np.random.Generator, anchors: np.ndarray,
                   bg: pd.DataFrame) -> None:
    """2. four exposed-garbage cases at one address within 30 days; near-miss: three cases
    at one address, each 45 days apart (never two within 30 days)."""
    garbage = bg[bg["category"] == "垃圾清运"][["x", "y"]].to_numpy()
    rx, ry = _far_point(rng, anchors, garbage, 300.0)
    for k, day in enumerate(["2022-08-10", "2022-08-18", "2022-08-26", "2022-09-01"]):
        plant("垃圾清运", "兴安路118号垃圾收集点满溢，又是好几天没人清运。", "兴安路118号",
              rx + rng.normal(0, 8), ry + rng.normal(0, 8), f"{day}T09:30",
              closed=None if k == 3 else "auto", key=f"rep{k}")
    busy = np.vstack([garbage, [[rx, ry]]])
    qx, qy = _far_point(rng, anchors, busy, 300.0)
    for k, day in enumerate(["2022-06-07", "2022-07-22", "2022-09-03"]):
        plant("垃圾清运", "雅鲁路166号垃圾箱满了没人清运。", "雅鲁路166号", qx, qy, f"{day}T10:00",
              key=f"norep{k}")


def _plant_overdue(plant: _Plant, rng: np.random.Generator, road_pts: np.ndarray) -> None:
    """3. cases open past their deadline at the end of 2022-W35, and two that are not."""
    ox, oy = road_pts[rng.integers(0, len(road_pts), 3)].T
    plant("路灯照明", "中央路路灯不亮已经三天。", "中央路21号", ox[0], oy[0], "2022-09-01T20:00",
          closed=None, key="od0")
    plant("树木倒伏", "大风后树倒在人行道上，行人绕行。", "铁东路8号", ox[1], oy[1],
          "2022-09-03T10:00", closed=None, key="od1")
    plant("违章停车", "车辆乱停放堵住消防通道。", "向阳路35号", ox[2], oy[2], "2022-09-02T15:00",
          closed=None, key="od2")
    px, py = road_pts[rng.integers(0, len(road_pts), 2)].T
    plant("路灯照明", "路灯不亮，请维修。", "兴华路17号", px[0], py[0], "2022-09-02T08:00",
          closed="2022-09-03T07:00", key="nod0")
    plant("路灯照明", "路灯闪烁不亮。", "正阳路3号", px[1], py[1], "2022-09-04T10:00", closed=None,
          key="nod1")


def _plant_grid_edges(plant: _Plant, grids: gpd.GeoDataFrame) -> tuple[str, str]:
    """4. a case exactly on the border of two grid cells, one 3 m inside the neighbour and one
    outside every cell; the ids of the border case's cell and the neighbour's."""
    g0 = grids.geometry.values
    for mid in range(len(grids) // 2, len(grids)):
        x0, y0, x1, y1 = shapely.bounds(g0[mid])
        bx, by = x0, (y0 + y1) / 2  # the west edge: shared with the cell to the west
        touching = np.flatnonzero(shapely.intersects(g0, shapely.Point(bx, by)))
        if len(touching) == 2:
            break
    first = int(touching.min())
    near_grid = int(touching.max())
    plant("公厕", "公厕门口下水堵了。", "文化路52号", bx, by, "2022-09-02T11:00", key="border")
    nbx = bx - 3.0 if shapely.contains(g0[near_grid], shapely.Point(bx - 3, by)) else bx + 3.0
    near_id = str(grids["grid_id"].iloc[int(np.flatnonzero(
        shapely.contains(g0, shapely.Point(nbx, by)))[0])])
    plant("公厕", "公厕没有手纸。", "文化路54号", nbx, by, "2022-09-02T11:30", key="noborder")
    # a case in the city but outside every grid cell (must be flagged: no grid to route it to)
    gx0, gy0, _, gy1 = shapely.total_bounds(g0)
    plant("道路积水", "村口道路积水。", "城郊村12号", gx0 - 1500.0, (gy0 + gy1) / 2,
          "2022-09-03T08:00", key="outside")
    return str(grids["grid_id"].iloc[first]), near_id


def _case_table(new: pd.DataFrame, rng: np.random.Generator, crs: Any) -> gpd.GeoDataFrame:
    """The hotline layer of the cases in ``new`` (ids, response and closing times, requester)."""
    n = len(new)
    received = new["received_at"].to_numpy("datetime64[m]")
    hours = new["category"].map(_HOURS).to_numpy(float)
    resp, closed = _closing(rng, received, hours)
    auto = new["closed"].eq("auto").to_numpy()
    planted_auto = auto & new["key"].ne("").to_numpy()
    # background cases close as drawn; planted ones judged in 2022-W35 close at half their time
    closing = np.where(planted_auto, received + (hours * 30).astype("timedelta64[m]"), closed)
    given = pd.to_datetime(new["closed"].where(~auto, None)).to_numpy("datetime64[m]")
    closed_at = pd.Series(pd.to_datetime(np.where(auto, closing, given)))
    resp_at = pd.Series(pd.to_datetime(resp))
    year = pd.Series(received).dt.year.astype(str)
    prefix = new["channel"].map({"12345": "12345", "110": "110", "巡查": "XC"})
    serial = new.groupby([prefix, year]).cumcount() + 1
    base = np.where(prefix == "12345", 100_000, 0)
    ids = [f"{p}-{y}-{b + s:06d}" for p, y, b, s in zip(prefix, year, base, serial)]
    status = np.where(closed_at.notna(), "已办结", "办理中")
    return gpd.GeoDataFrame({
        "case_id": ids, "received_at": pd.to_datetime(received),
        "category": new["category"].to_numpy(), "request_type": new["request_type"].to_numpy(),
        "text": new["text"].to_numpy(), "address": new["address"].to_numpy(),
        "requester_name": person_names(rng, n), "requester_phone": phones(rng, n),
        "status": status, "department": "", "channel": new["channel"].to_numpy(),
        "responded_at": resp_at, "closed_at": closed_at,
    }, geometry=shapely.points(new["x"].to_numpy(), new["y"].to_numpy()), crs=crs)


def _case_truth(key: dict[str, str], xy: dict[str, tuple[float, float]], border_grid: str,
                near_id: str) -> list[dict[str, Any]]:
    """Truth rows of the planted cases (by their keys)."""
    truth: list[dict[str, Any]] = []

    def add(rule: str, k: str, expect: str, note: str, related: str = "") -> None:
        x, y = xy[k]
        truth.append({"check": "cases", "rule": rule, "layer": "hotline_cases",
                      "feature_id": key[k], "related_id": related, "expect": expect,
                      "x": float(x), "y": float(y), "note": note})

    add("case_hot_spot", "hot0", "flag", "30 cooking-fume/barbecue complaints within about 40 m "
        "of one compound, 2022-08-08 to 09-04 (hot spot of cooking_fumes)")
    add("case_hot_spot", "cold0", "no_flag", "4 cooking-fume complaints at one place in the same "
        "weeks: below the minimum count, not a hot spot")
    add("case_repeat", "rep0", "flag", "4 exposed-garbage cases at 兴安路118号 within 22 days",
        related=";".join(key[f"rep{k}"] for k in range(1, 4)))
    add("case_escalation", "rep3", "flag", "4th repeat case, open: raised to the cooperating "
        "departments (repeat and overdue)")
    add("case_repeat", "norep0", "no_flag", "3 cases at 雅鲁路166号, each 45 days apart "
        "(window 30 days)")
    for k, note in (("od0", "lamp out since 2022-09-01 20:00, deadline 24 h, still open"),
                    ("od1", "fallen tree 2022-09-03 10:00, deadline 4 h, still open"),
                    ("od2", "fire lane blocked 2022-09-02 15:00, deadline 4 h, still open"),
                    ("rep3", "garbage 2022-09-01 09:30, deadline 24 h, still open")):
        add("case_overdue", k, "flag", note)
    add("case_overdue", "nod0", "no_flag", "lamp case closed one hour before its deadline")
    add("case_overdue", "nod1", "no_flag", "lamp case received 2022-09-04 10:00: not yet due")
    add("case_unlocated", "outside", "flag", "case 1.5 km west of every grid cell")
    add("case_unlocated", "border", "no_flag", "case exactly on the west edge of a grid cell: "
        "assigned to exactly one cell (related_id, the first listed)", related=border_grid)
    add("case_unlocated", "noborder", "no_flag", "case 3 m inside the neighbouring cell",
        related=near_id)
    add("case_category_mismatch", "mistyped", "flag", "category 路灯照明 but the text is about a "
        "barbecue: keywords give cooking_fumes")
    add("case_category_mismatch", "typed", "no_flag", "category 占道经营, text mentions a lamp "
        "but also the category's own keywords")
    return truth


def extend_cases(cases: gpd.GeoDataFrame, *, layers: dict[str, gpd.GeoDataFrame], seed: int
                 ) -> tuple[gpd.GeoDataFrame, list[dict[str, Any]]]:
    """The hotline layer extended to a year of cases with the planted patterns (see module).

    Returns the layer and the truth rows (for :func:`add_truth` once the other checks' rows
    are in).
    """
    rng = np.random.default_rng([int(seed), zlib.crc32(b"cases")])
    old = _existing(cases, rng)
    anchors, road_pts, addresses = _case_places(layers)
    bg = _background(rng, anchors, road_pts, addresses)
    # the original period (2022-05-01 .. 2022-06-11) already has its 600 work orders
    per = (bg["received_at"] >= np.datetime64("2022-05-01")) & \
        (bg["received_at"] < np.datetime64("2022-06-12")) & (bg["channel"] == "12345")
    bg = bg[~per].reset_index(drop=True)
    plant = _Plant()
    _plant_hot_spot(plant, rng, anchors, bg)
    _plant_repeats(plant, rng, anchors, bg)
    _plant_overdue(plant, rng, road_pts)
    border_grid, near_id = _plant_grid_edges(plant, layers["grids"])
    # 5. a mis-typed category the keywords catch; near-miss: a right category naming a lamp
    mx, my = anchors[rng.integers(0, len(anchors), 2)].T
    plant("路灯照明", "楼下夜里露天烧烤，油烟很大，吵到半夜。", "幸福小区3号", mx[0], my[0],
          "2022-09-02T22:00", key="mistyped")
    plant("占道经营", "路灯下有人摆摊卖菜，占道经营。", "建设路44号", mx[1], my[1],
          "2022-09-03T09:00", key="typed")

    new = pd.concat([bg.assign(closed="auto", key=""), pd.DataFrame(plant)], ignore_index=True)
    new = new.sort_values(["received_at", "key"], kind="stable").reset_index(drop=True)
    out = _case_table(new, rng, cases.crs)
    key = dict(zip(new["key"], out["case_id"]))
    xy = dict(zip(new["key"], zip(new["x"], new["y"])))
    truth = _case_truth(key, xy, border_grid, near_id)
    both = pd.concat([old, out], ignore_index=True).sort_values("received_at", kind="stable")
    both = both.reset_index(drop=True)
    return gpd.GeoDataFrame(both, geometry="geometry", crs=cases.crs), truth
